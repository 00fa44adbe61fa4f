/*
 * GET /token?<query>: ngx_http_livekit_claims_from_args(), then
 * claims_finish(), the claims JSON and the signature (fuzz_claims.h).
 * Input: one configuration byte (see fuzz_claims.h), then the query
 * string as nginx hands it over in r->args (no leading "?").
 */

#include "fuzz_claims.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                     *args;
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

    args = fuzz_dup(data + 1, size - 1);
    r->args.data = args;
    r->args.len = size - 1;

    ngx_memzero(&c, sizeof(c));
    ngx_memzero(&err, sizeof(err));

    rc = ngx_http_livekit_claims_from_args(r, &c, &err);
    FUZZ_CHECK(rc == NGX_OK || rc == NGX_ERROR, "from_args return code");

    if (rc == NGX_OK) {
        fuzz_claims_run(r, data[0], &c);
    }

    ngx_destroy_pool(pool);
    free(args);

    return 0;
}
