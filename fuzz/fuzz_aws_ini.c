/*
 * The shared AWS files (~/.aws/credentials and ~/.aws/config, INI):
 * ngx_http_livekit_aws_profile_file() (static in
 * src/ngx_http_livekit_aws_conf.c), which reads a path, so each input is
 * written to a private temporary file first.
 * Input: one byte (0x01: the config file, "[profile NAME]" sections;
 * 0x02: profile "prod" instead of "default"; 0x04: keys already found in
 * an earlier file), then the file.
 * Checks: NGX_OK; every value taken is non-empty, one line, without
 * leading blanks or trailing blanks / CR.
 */

#include "fuzz_aws.h"


static char  fuzz_ini_path[] = "/tmp/livekit-fuzz-ini-XXXXXX";
static int   fuzz_ini_fd = -1;


static void
fuzz_ini_value(const char *v)
{
    size_t  n;

    if (v == NULL) {
        return;
    }

    n = strlen(v);
    FUZZ_CHECK(n > 0, "empty value taken");
    FUZZ_CHECK(strchr(v, '\n') == NULL, "value spans lines");
    FUZZ_CHECK(v[0] != ' ' && v[0] != '\t', "leading blank");
    FUZZ_CHECK(v[n - 1] != ' ' && v[n - 1] != '\t' && v[n - 1] != '\r',
               "trailing blank");
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ngx_int_t                     rc;
    ngx_uint_t                    found;
    ngx_conf_t                    cf;
    ngx_pool_t                   *pool;
    ngx_http_livekit_aws_conf_t   ac;

    if (size < 1) {
        return 0;
    }

    fuzz_init_core();

    if (fuzz_ini_fd == -1) {
        fuzz_ini_fd = mkstemp(fuzz_ini_path);
        FUZZ_CHECK(fuzz_ini_fd != -1, "mkstemp");
        (void) unlink(fuzz_ini_path);    /* read back via /proc/self/fd */
        snprintf(fuzz_ini_path, sizeof(fuzz_ini_path), "/proc/self/fd/%d",
                 fuzz_ini_fd);
    }

    FUZZ_CHECK(ftruncate(fuzz_ini_fd, 0) == 0, "ftruncate");
    FUZZ_CHECK(pwrite(fuzz_ini_fd, data + 1, size - 1, 0)
               == (ssize_t) (size - 1), "pwrite");

    pool = fuzz_pool();

    ngx_memzero(&cf, sizeof(ngx_conf_t));
    cf.pool = pool;
    cf.temp_pool = pool;
    cf.log = &fuzz_log;

    ngx_memzero(&ac, sizeof(ac));
    ac.profile = (data[0] & 0x02) ? "prod" : "default";

    if (data[0] & 0x04) {
        ac.profile_key_id = "AKIDEXAMPLE";
    }

    found = 0;

    rc = ngx_http_livekit_aws_profile_file(&cf, &ac, fuzz_ini_path,
                                           data[0] & 0x01, &found);
    FUZZ_CHECK(rc == NGX_OK, "profile_file failed");

    if (data[0] & 0x04) {
        FUZZ_CHECK(ac.profile_secret == NULL && ac.profile_token == NULL,
                   "keys mixed from two files");
    } else {
        fuzz_ini_value(ac.profile_key_id);
    }

    fuzz_ini_value(ac.profile_secret);
    fuzz_ini_value(ac.profile_token);
    fuzz_ini_value(ac.region);

    if (!(data[0] & 0x04)
        && (ac.profile_key_id || ac.profile_secret || ac.profile_token))
    {
        FUZZ_CHECK(found, "keys taken outside the profile");
    }

    ngx_destroy_pool(pool);

    return 0;
}
