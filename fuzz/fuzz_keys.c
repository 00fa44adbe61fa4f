/*
 * The key file (livekit_keys_file): ngx_http_livekit_keys_yaml_parse() in
 * src/ngx_http_livekit_keys_yaml.c, reached by including that file; libyaml
 * is the real library.  Input: the file's contents.  Checks on NGX_OK: at
 * least one key and at most 1024; every name 1 to 128 safe characters
 * (A-Z a-z 0-9 _ - . : @ + / =), unique; every secret non-empty and no
 * longer than the input allows (1.5 times it: UTF-16 read as UTF-8).  On
 * any outcome: no leak (libyaml's events and parser freed on every path),
 * no overflow.
 */

#include "fuzz_common.h"
#include "../src/ngx_http_livekit_keys_yaml.c"


static int
fuzz_name_safe(ngx_str_t *name)
{
    size_t  i;

    for (i = 0; i < name->len; i++) {
        if (!ngx_http_livekit_key_name_char(name->data[i])) {
            return 0;
        }
    }

    return name->len > 0 && name->len <= NGX_HTTP_LIVEKIT_KEY_NAME_MAX;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                     *buf;
    ngx_int_t                   rc;
    ngx_str_t                   file = ngx_string("/etc/nginx/keys.yaml");
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

    rc = ngx_http_livekit_keys_yaml_parse(&cf, &file, buf, size, secrets);
    FUZZ_CHECK(rc == NGX_OK || rc == NGX_ERROR, "keys_yaml_parse return code");

    s = secrets->elts;

    if (rc == NGX_OK) {
        FUZZ_CHECK(secrets->nelts > 0, "no keys but NGX_OK");
        FUZZ_CHECK(secrets->nelts <= NGX_HTTP_LIVEKIT_KEYS_PAIRS,
                   "more keys than the limit");

        for (i = 0; i < secrets->nelts; i++) {
            FUZZ_CHECK(fuzz_name_safe(&s[i].name), "unsafe key name");
            FUZZ_CHECK(s[i].secret.len > 0, "empty secret");
            /* UTF-16 input: 2 bytes become at most 3 of UTF-8 */
            FUZZ_CHECK(s[i].secret.len <= size / 2 * 3 + 1,
                       "longer than the file allows");

            for (j = 0; j < i; j++) {
                FUZZ_CHECK(s[i].name.len != s[j].name.len
                           || memcmp(s[i].name.data, s[j].name.data,
                                     s[i].name.len) != 0, "duplicate name");
            }
        }
    }

    for (i = 0; i < secrets->nelts; i++) {
        if (s[i].secret.len) {
            OPENSSL_cleanse(s[i].secret.data, s[i].secret.len);
        }
    }

    ngx_destroy_pool(pool);
    free(buf);

    return 0;
}
