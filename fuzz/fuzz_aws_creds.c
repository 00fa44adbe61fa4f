/*
 * Credentials as JSON, from the container endpoint (ECS / EKS Pod
 * Identity) or instance metadata (IMDSv2):
 * ngx_http_livekit_aws_creds_json() with ngx_http_livekit_aws_parse_time()
 * (static in src/ngx_http_livekit_aws_creds.c).  Input: the body.
 * Checks: on NGX_OK key id and secret non-empty, every field terminated
 * within its buffer, an expiry set; on failure the credentials wiped.
 */

#include "fuzz_aws.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ngx_int_t                      rc;
    ngx_http_livekit_aws_conf_t    ac;
    ngx_http_livekit_aws_http_t   *h;
    ngx_http_livekit_ssm_fetch_t  *f;
    ngx_http_livekit_aws_creds_t  *c;

    fuzz_init_core();

    ngx_memzero(&ac, sizeof(ac));

    f = calloc(1, sizeof(ngx_http_livekit_ssm_fetch_t));
    FUZZ_CHECK(f != NULL, "calloc");
    f->conf = &ac;
    c = &f->creds;

    h = fuzz_aws_response(data, size, 200);

    rc = ngx_http_livekit_aws_creds_json(c, f->error, h,
                                         "container credentials");
    FUZZ_CHECK(rc == NGX_OK || rc == NGX_ERROR, "creds_json return code");
    fuzz_aws_cstr(f->error, sizeof(f->error), "error not terminated");

    if (rc == NGX_OK) {
        FUZZ_CHECK(c->valid == 1 && c->expires != 0, "valid/expires");
        fuzz_aws_cstr(c->key_id, sizeof(c->key_id), "key_id");
        fuzz_aws_cstr(c->secret, sizeof(c->secret), "secret");
        fuzz_aws_cstr(c->token, sizeof(c->token), "token");

    } else {
        FUZZ_CHECK(c->valid == 0 && c->key_id[0] == '\0'
                   && c->secret[0] == '\0', "credentials kept on failure");
    }

    fuzz_aws_free(h);
    free(f);

    return 0;
}
