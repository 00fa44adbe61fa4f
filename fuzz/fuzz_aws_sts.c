/*
 * STS AssumeRoleWithWebIdentity answers (XML): the same calls as
 * ngx_http_livekit_aws_web_identity() makes on them, namely
 * ngx_http_livekit_aws_xml() for AccessKeyId, SecretAccessKey,
 * SessionToken and Expiration, ngx_http_livekit_aws_parse_time(), and on
 * an error status ngx_http_livekit_aws_error_code() (XML <Code>/<Message>
 * or JSON) and ngx_http_livekit_aws_retryable(); then
 * ngx_http_livekit_aws_sts_credentials() as the provider calls it.
 * Input: the body.
 * Checks: every extracted value terminated within its buffer, non-empty
 * and without surrounding blanks; code and message printable ASCII;
 * credentials taken hold no control byte and expire, refused ones are
 * wiped.
 */

#include "fuzz_aws.h"


static void
fuzz_xml(ngx_http_livekit_aws_http_t *h, const char *tag, char *out,
    size_t size)
{
    size_t     n;
    ngx_int_t  rc;

    rc = ngx_http_livekit_aws_xml(h->resp, h->resp_len, tag, out, size);
    FUZZ_CHECK(rc == NGX_OK || rc == NGX_DECLINED || rc == NGX_ERROR,
               "xml return code");

    if (rc == NGX_OK) {
        fuzz_aws_cstr(out, size, tag);
        n = strlen(out);
        FUZZ_CHECK(n <= h->resp_len, "value longer than the answer");
        /* a NUL inside the value shortens it; otherwise it is trimmed */
        if (n > 0) {
            FUZZ_CHECK(out[0] != ' ' && out[0] != '\n' && out[0] != '\t'
                       && out[0] != '\r', "leading blank");
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                           code[64], msg[256], expires[64];
    size_t                         i;
    ngx_http_livekit_aws_http_t   *h;
    ngx_http_livekit_aws_creds_t  *c;

    fuzz_init_core();

    c = calloc(1, sizeof(ngx_http_livekit_aws_creds_t));
    FUZZ_CHECK(c != NULL, "calloc");

    h = fuzz_aws_response(data, size, 200);

    fuzz_xml(h, "AccessKeyId", c->key_id, sizeof(c->key_id));
    fuzz_xml(h, "SecretAccessKey", c->secret, sizeof(c->secret));
    fuzz_xml(h, "SessionToken", c->token, sizeof(c->token));

    if (ngx_http_livekit_aws_xml(h->resp, h->resp_len, "Expiration",
                                 expires, sizeof(expires)) == NGX_OK)
    {
        fuzz_aws_cstr(expires, sizeof(expires), "expires");
        c->expires = ngx_http_livekit_aws_parse_time(expires);
    }

    h->status = 403;
    ngx_http_livekit_aws_error_code(h, code, sizeof(code), msg, sizeof(msg));
    fuzz_aws_cstr(code, sizeof(code), "code not terminated");
    fuzz_aws_cstr(msg, sizeof(msg), "message not terminated");

    for (i = 0; code[i]; i++) {
        FUZZ_CHECK(code[i] >= ' ' && code[i] <= '~', "code not printable");
    }

    for (i = 0; msg[i]; i++) {
        FUZZ_CHECK(msg[i] >= ' ' && msg[i] <= '~', "msg not printable");
    }

    (void) ngx_http_livekit_aws_retryable(h->status, code);

    h->status = 200;

    if (ngx_http_livekit_aws_sts_credentials(c, h) == NGX_OK) {
        FUZZ_CHECK(c->valid && c->expires && c->key_id[0] && c->secret[0],
                   "credentials taken incomplete");

        for (i = 0; c->token[i]; i++) {
            FUZZ_CHECK((u_char) c->token[i] >= 0x20 && c->token[i] != 0x7f,
                       "a control byte in the session token");
        }

        for (i = 0; c->key_id[i]; i++) {
            FUZZ_CHECK((u_char) c->key_id[i] >= 0x20
                       && c->key_id[i] != 0x7f,
                       "a control byte in the key id");
        }

    } else {
        FUZZ_CHECK(!c->valid && c->key_id[0] == '\0' && c->token[0] == '\0',
                   "refused credentials kept");
    }

    fuzz_aws_free(h);
    OPENSSL_cleanse(c, sizeof(*c));
    free(c);

    return 0;
}
