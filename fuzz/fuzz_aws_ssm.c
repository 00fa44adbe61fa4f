/*
 * The SSM GetParameters answer: ngx_http_livekit_aws_ssm_parse() on a
 * 200 answer, and ngx_http_livekit_aws_error_code() +
 * ngx_http_livekit_aws_retryable() as for any other status (static in
 * src/ngx_http_livekit_aws_ssm.c).
 * Input: one byte (0x01: two parameter names, no URL; 0x02: also run the
 * error path), then the response body.
 * Checks on NGX_OK: every configured value present, within its buffer,
 * the key without blanks or controls, the URL ws(s):// or http(s)://.
 */

#include "fuzz_aws.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                           code[64], msg[256];
    size_t                         i;
    ngx_int_t                      rc;
    ngx_http_livekit_aws_conf_t    ac;
    ngx_http_livekit_aws_http_t   *h;
    ngx_http_livekit_ssm_fetch_t  *f;

    if (size < 1) {
        return 0;
    }

    fuzz_init_core();

    ngx_memzero(&ac, sizeof(ac));
    ac.names[0] = "/livekit/prod/api-key";
    ac.names[1] = "/livekit/prod/api-secret";
    ac.names[2] = "/livekit/prod/url";
    ac.nnames = (data[0] & 0x01) ? 2 : 3;

    f = calloc(1, sizeof(ngx_http_livekit_ssm_fetch_t));
    FUZZ_CHECK(f != NULL, "calloc");
    f->conf = &ac;
    strcpy(f->creds.source, "environment");

    h = fuzz_aws_response(data + 1, size - 1, 200);

    rc = ngx_http_livekit_aws_ssm_parse(f, h);
    FUZZ_CHECK(rc == NGX_OK || rc == NGX_ERROR, "ssm_parse return code");
    fuzz_aws_cstr(f->error, sizeof(f->error), "error not terminated");

    if (rc == NGX_OK) {
        FUZZ_CHECK(f->values.key_len > 0
                   && f->values.key_len <= sizeof(f->values.key), "key len");
        FUZZ_CHECK(f->values.secret_len > 0
                   && f->values.secret_len <= sizeof(f->values.secret),
                   "secret len");
        FUZZ_CHECK(f->values.url_len <= sizeof(f->values.url), "url len");

        if (ac.nnames == 3) {
            FUZZ_CHECK(f->values.url_len > 5, "url missing");
        }

        for (i = 0; i < f->values.key_len; i++) {
            FUZZ_CHECK(f->values.key[i] > ' ' && f->values.key[i] != 0x7f,
                       "blank or control in key");
        }

    } else {
        FUZZ_CHECK(f->error[0] != '\0', "failure without a message");
        FUZZ_CHECK(f->values.key_len == 0 && f->values.secret_len == 0
                   && f->values.url_len == 0, "values kept on failure");
    }

    if (data[0] & 0x02) {
        h->status = 400;
        ngx_http_livekit_aws_error_code(h, code, sizeof(code), msg,
                                        sizeof(msg));
        fuzz_aws_cstr(code, sizeof(code), "code not terminated");
        fuzz_aws_cstr(msg, sizeof(msg), "message not terminated");
        FUZZ_CHECK(strlen(msg) <= NGX_HTTP_LIVEKIT_AWS_MESSAGE_MAX,
                   "message too long");

        for (i = 0; code[i]; i++) {
            FUZZ_CHECK(code[i] >= ' ' && code[i] <= '~', "code not printable");
        }

        for (i = 0; msg[i]; i++) {
            FUZZ_CHECK(msg[i] >= ' ' && msg[i] <= '~', "msg not printable");
        }

        (void) ngx_http_livekit_aws_retryable(h->status, code);
    }

    fuzz_aws_free(h);
    free(f);

    return 0;
}
