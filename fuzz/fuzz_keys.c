/*
 * The key file (livekit_keys_file): ngx_http_livekit_keys_parse(), static
 * in src/ngx_http_livekit_token_keys.c, reached by including that file.
 * Input: the file's contents.  Checks on NGX_OK: at least one key; every
 * name and secret non-empty, inside the input, on one line; names unique.
 */

#include "fuzz_common.h"
#include "../src/ngx_http_livekit_token_keys.c"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                     *buf;
    ngx_int_t                   rc;
    ngx_str_t                   file = ngx_string("/etc/nginx/livekit-keys.yaml");
    ngx_uint_t                  i, j;
    ngx_conf_t                  cf;
    ngx_pool_t                 *pool;
    ngx_array_t                *secrets;
    ngx_http_livekit_secret_t  *s;

    fuzz_init_core();

    pool = fuzz_pool();

    ngx_memzero(&cf, sizeof(ngx_conf_t));
    cf.pool = pool;
    cf.temp_pool = pool;
    cf.log = &fuzz_log;

    buf = fuzz_dup(data, size);

    secrets = ngx_array_create(pool, 2, sizeof(ngx_http_livekit_secret_t));
    FUZZ_CHECK(secrets != NULL, "array");

    rc = ngx_http_livekit_keys_parse(&cf, &file, buf, buf + size, secrets);
    FUZZ_CHECK(rc == NGX_OK || rc == NGX_ERROR, "keys_parse return code");

    if (rc == NGX_OK) {
        FUZZ_CHECK(secrets->nelts > 0, "no keys but NGX_OK");

        s = secrets->elts;

        for (i = 0; i < secrets->nelts; i++) {
            FUZZ_CHECK(s[i].name.len > 0 && s[i].secret.len > 0,
                       "empty name or secret");
            FUZZ_CHECK(s[i].name.len <= size && s[i].secret.len <= size,
                       "longer than the file");
            FUZZ_CHECK(memchr(s[i].name.data, '\n', s[i].name.len) == NULL
                       && memchr(s[i].secret.data, '\n', s[i].secret.len)
                          == NULL, "spans lines");

            for (j = 0; j < i; j++) {
                FUZZ_CHECK(s[i].name.len != s[j].name.len
                           || memcmp(s[i].name.data, s[j].name.data,
                                     s[i].name.len) != 0, "duplicate name");
            }
        }
    }

    ngx_http_livekit_secret_wipe(secrets);

    ngx_destroy_pool(pool);
    free(buf);

    return 0;
}
