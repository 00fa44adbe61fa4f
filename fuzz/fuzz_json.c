/*
 * POST /token with LiveKit's JSON token request:
 * ngx_http_livekit_claims_from_json(), then claims_finish(), the claims
 * JSON and the signature (fuzz_claims.h).  Input: one configuration byte
 * (see fuzz_claims.h), then the request body.
 */

#include "fuzz_claims.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                     *body;
    ngx_int_t                   rc;
    ngx_pool_t                 *pool;
    ngx_http_request_t         *r;
    ngx_http_livekit_claims_t   c;
    ngx_http_livekit_error_t    err;

    if (size < 1) {
        return 0;
    }

    fuzz_claims_init();

    pool = fuzz_pool();
    r = fuzz_request(pool);

    body = fuzz_dup(data + 1, size - 1);

    ngx_memzero(&c, sizeof(c));
    ngx_memzero(&err, sizeof(err));

    rc = ngx_http_livekit_claims_from_json(r, body, size - 1, &c, &err);
    FUZZ_CHECK(rc == NGX_OK || rc == NGX_DECLINED || rc == NGX_ERROR,
               "from_json return code");

    if (rc == NGX_DECLINED) {
        FUZZ_CHECK(ngx_http_livekit_codes[err.code].status == 400
                   && err.message,
                   "from_json declined without an error");
    }

    if (rc == NGX_OK) {
        fuzz_claims_run(r, data[0], &c);
    }

    /* the pool cleanup releases the parsed JSON the claims point into */
    ngx_destroy_pool(pool);
    free(body);

    return 0;
}
