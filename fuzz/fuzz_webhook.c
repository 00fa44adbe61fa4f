/*
 * A webhook's Authorization token: ngx_http_livekit_jwt_decode() and
 * ngx_http_livekit_jwt_check() on whatever a client sends, with:
 *
 *   - decode returns NGX_OK (claims an object, a 32-byte signature, the
 *     signed part a prefix of the token), NGX_DECLINED (no claims left
 *     behind) or NGX_ERROR, nothing else;
 *   - check returns NGX_OK only for a token whose signature is the HMAC of
 *     its signed part with the key, which the harness recomputes.
 *
 * And a round trip: the input (without NUL, which decode refuses as
 * jansson's loader does), made a claims JSON object, signed with
 * jwt_sign() decodes to the same claims and checks.
 */

#include "fuzz_claims.h"


static void
fuzz_webhook_round_trip(ngx_http_request_t *r, const uint8_t *data,
    size_t size)
{
    u_char                  *tok, *end;
    json_t                  *obj;
    ngx_str_t                claims, token;
    ngx_http_livekit_jwt_t   jwt;

    if (memchr(data, 0, size) != NULL) {
        return;                         /* decode refuses \u0000, rightly */
    }

    obj = json_pack("{s:s%,s:i}", "iss", (const char *) data, size,
                    "exp", 1);
    if (obj == NULL) {
        return;                         /* not UTF-8 */
    }

    claims.len = json_dumpb(obj, NULL, 0, JSON_COMPACT);
    claims.data = malloc(claims.len);
    FUZZ_CHECK(claims.data != NULL, "malloc");
    (void) json_dumpb(obj, (char *) claims.data, claims.len, JSON_COMPACT);

    tok = malloc(ngx_http_livekit_jwt_len(claims.len));
    FUZZ_CHECK(tok != NULL, "malloc");
    end = ngx_http_livekit_jwt_sign(r->connection->log, &fuzz_key, &claims, tok);
    FUZZ_CHECK(end != NULL, "jwt_sign");

    token.data = tok;
    token.len = end - tok;
    ngx_memzero(&jwt, sizeof(jwt));

    if (token.len <= 16384) {
        FUZZ_CHECK(ngx_http_livekit_jwt_decode(r, &token, &jwt) == NGX_OK,
                   "a token jwt_sign made does not decode");
        FUZZ_CHECK(json_equal(jwt.claims, obj), "claims differ");
        FUZZ_CHECK(ngx_http_livekit_jwt_check(r, &fuzz_key, &jwt) == NGX_OK,
                   "a token jwt_sign made does not check");
        json_decref(jwt.claims);
    }

    json_decref(obj);
    free(claims.data);
    free(tok);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                  *copy;
    ngx_int_t                rc;
    ngx_str_t                token;
    ngx_pool_t              *pool;
    ngx_http_request_t      *r;
    ngx_http_livekit_jwt_t   jwt;

    fuzz_claims_init();

    pool = fuzz_pool();
    r = fuzz_request(pool);

    copy = fuzz_dup(data, size);
    token.data = copy;
    token.len = size;

    ngx_memzero(&jwt, sizeof(jwt));

    rc = ngx_http_livekit_jwt_decode(r, &token, &jwt);
    FUZZ_CHECK(rc == NGX_OK || rc == NGX_DECLINED || rc == NGX_ERROR,
               "decode return code");

    if (rc == NGX_OK) {
        FUZZ_CHECK(json_is_object(jwt.claims), "claims not an object");
        FUZZ_CHECK(jwt.signature.len == 32, "signature length");
        FUZZ_CHECK(jwt.signed_part.data == copy
                   && jwt.signed_part.len < size, "signed part");

        rc = ngx_http_livekit_jwt_check(r, &fuzz_key, &jwt);
        FUZZ_CHECK(rc == NGX_OK || rc == NGX_DECLINED, "check return code");

        json_decref(jwt.claims);

    } else {
        FUZZ_CHECK(jwt.claims == NULL, "claims left after a refusal");
    }

    fuzz_webhook_round_trip(r, data, size);

    ngx_destroy_pool(pool);
    free(copy);

    return 0;
}
