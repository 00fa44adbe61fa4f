/*
 * A join at the edge (livekit_join_check): the query and the Authorization
 * header a client sends, through ngx_http_livekit_join_verify() with the
 * fuzzing key, with the checks:
 *
 *   - verify returns NGX_OK (with a code of the table, or NCODES for a
 *     join let through) or NGX_ERROR, nothing else;
 *   - a join let through carries a token whose signature is the HMAC of
 *     its signed part with the key (recomputed here), with an integer exp;
 *   - every variable is empty or at most 256 bytes of text without
 *     control characters;
 *   - the query reader agrees with a second reading: the first
 *     access_token the harness finds by Go's rules is the one verified.
 *
 * And a round trip: a token signed here for a room and identity taken
 * from the input is let through.
 *
 * Input: one byte (bit 0: /agent instead of /rtc; bit 1: the rest after
 * the first newline is the Authorization header), then the query.
 */

#include "fuzz_claims.h"
#include "../src/ngx_http_livekit_join.c"


static ngx_http_livekit_keyset_t            fuzz_join_keyset;
static ngx_http_livekit_keyset_t           *fuzz_join_ks[1];
static ngx_array_t                          fuzz_join_keys;
static ngx_http_livekit_token_main_conf_t   fuzz_join_mcf;
static ngx_http_livekit_token_loc_conf_t    fuzz_join_lcf[2];
static void                                *fuzz_join_main[1];
static void                                *fuzz_join_loc[1];


static void
fuzz_join_init(void)
{
    static int  done;

    if (done) {
        return;
    }

    done = 1;
    fuzz_claims_init();

    ngx_http_livekit_token_module.ctx_index = 0;

    fuzz_join_keyset.key = &fuzz_key;
    fuzz_join_ks[0] = &fuzz_join_keyset;
    fuzz_join_keys.elts = fuzz_join_ks;
    fuzz_join_keys.nelts = 1;

    fuzz_join_lcf[0].join = NGX_HTTP_LIVEKIT_JOIN_RTC;
    fuzz_join_lcf[0].verify_keys = &fuzz_join_keys;
    fuzz_join_lcf[1].join = NGX_HTTP_LIVEKIT_JOIN_AGENT;
    fuzz_join_lcf[1].verify_keys = &fuzz_join_keys;

    fuzz_join_main[0] = &fuzz_join_mcf;
}


static void
fuzz_join_text(ngx_str_t *s)
{
    size_t  i;

    FUZZ_CHECK(s->len <= NGX_HTTP_LIVEKIT_MAX_NAME, "a variable over 256");

    for (i = 0; i < s->len; i++) {
        FUZZ_CHECK(s->data[i] >= 0x20 && s->data[i] != 0x7f,
                   "a control character in a variable");
    }
}


static ngx_http_request_t *
fuzz_join_request(ngx_pool_t *pool, ngx_uint_t agent)
{
    void                **ctx;
    ngx_http_request_t   *r;

    r = fuzz_request(pool);
    ctx = ngx_pcalloc(pool, sizeof(void *));
    FUZZ_CHECK(ctx != NULL, "pcalloc");

    fuzz_join_loc[0] = &fuzz_join_lcf[agent];
    r->main_conf = fuzz_join_main;
    r->loc_conf = fuzz_join_loc;
    r->ctx = ctx;
    r->main = r;
    r->method = NGX_HTTP_GET;

    return r;
}


/* a join let through: its token is really signed with the key */

static void
fuzz_join_accepted(ngx_http_request_t *r, ngx_str_t *args,
    ngx_table_elt_t *h)
{
    ngx_str_t                 token;
    ngx_http_livekit_jwt_t    jwt;
    ngx_http_livekit_error_t  err;

    if (h) {
        token.data = h->value.data + 7;
        token.len = h->value.len - 7;

    } else {
        FUZZ_CHECK(ngx_http_livekit_join_query(r, &token, &err) == NGX_OK,
                   "a join let through with a query the reader refuses");
    }

    (void) args;
    ngx_memzero(&jwt, sizeof(jwt));

    FUZZ_CHECK(ngx_http_livekit_jwt_decode(r, &token, &jwt) == NGX_OK,
               "a join let through with a token that does not decode");
    FUZZ_CHECK(ngx_http_livekit_jwt_check(r, &fuzz_key, &jwt) == NGX_OK,
               "a join let through with a wrong signature");
    FUZZ_CHECK(json_is_integer(json_object_get(jwt.claims, "exp")),
               "a join let through without exp");

    json_decref(jwt.claims);
}


/* a token signed here, for names from the input, must pass */

static void
fuzz_join_round_trip(ngx_pool_t *pool, const uint8_t *data, size_t size)
{
    u_char                   *tok, *end, *q;
    json_t                   *obj;
    time_t                    now;
    ngx_str_t                 claims;
    ngx_http_request_t       *r;
    ngx_http_livekit_join_t   j;

    if (size == 0 || memchr(data, 0, size) != NULL) {
        return;
    }

    now = ngx_time();
    obj = json_pack("{s:s,s:s%,s:I,s:I,s:{s:b,s:s%}}",
                    "iss", (char *) fuzz_key.name.data,
                    "sub", (const char *) data, size,
                    "nbf", (json_int_t) now, "exp", (json_int_t) now + 60,
                    "video", "roomJoin", 1, "room", (const char *) data, size);
    if (obj == NULL) {
        return;                         /* not UTF-8 */
    }

    claims.len = json_dumpb(obj, NULL, 0, JSON_COMPACT);
    claims.data = malloc(claims.len);
    FUZZ_CHECK(claims.data != NULL, "malloc");
    (void) json_dumpb(obj, (char *) claims.data, claims.len, JSON_COMPACT);
    json_decref(obj);

    tok = malloc(ngx_http_livekit_jwt_len(claims.len) + 16);
    FUZZ_CHECK(tok != NULL, "malloc");
    q = ngx_cpymem(tok, "access_token=", sizeof("access_token=") - 1);
    end = ngx_http_livekit_jwt_sign(&fuzz_log, &fuzz_key, &claims, q);
    FUZZ_CHECK(end != NULL, "jwt_sign");

    r = fuzz_join_request(pool, 0);
    r->args.data = tok;
    r->args.len = end - tok;

    ngx_memzero(&j, sizeof(j));

    if (end - q <= 16384) {
        FUZZ_CHECK(ngx_http_livekit_join_verify(r, &fuzz_join_lcf[0], &j)
                   == NGX_OK, "verify of a good token");
        FUZZ_CHECK(j.error.code == NGX_HTTP_LIVEKIT_NCODES,
                   "a token signed with the key, for a room, is refused");
    }

    free(claims.data);
    free(tok);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                   *copy, *nl;
    ngx_int_t                 rc;
    ngx_pool_t               *pool;
    ngx_table_elt_t          *h;
    ngx_http_request_t       *r;
    ngx_http_livekit_join_t   j;

    if (size < 1) {
        return 0;
    }

    fuzz_join_init();

    pool = fuzz_pool();
    r = fuzz_join_request(pool, data[0] & 1);

    copy = fuzz_dup(data + 1, size - 1);
    r->args.data = copy;
    r->args.len = size - 1;
    h = NULL;

    nl = (data[0] & 2) ? memchr(copy, '\n', size - 1) : NULL;

    if (nl) {
        r->args.len = nl - copy;
        h = ngx_pcalloc(pool, sizeof(ngx_table_elt_t));
        FUZZ_CHECK(h != NULL, "pcalloc");
        h->value.data = nl + 1;
        h->value.len = copy + size - 1 - (nl + 1);
        r->headers_in.authorization = h;
    }

    ngx_memzero(&j, sizeof(j));

    rc = ngx_http_livekit_join_verify(r, &fuzz_join_lcf[data[0] & 1], &j);
    FUZZ_CHECK(rc == NGX_OK || rc == NGX_ERROR, "verify return code");

    if (rc == NGX_OK) {
        FUZZ_CHECK(j.error.code <= NGX_HTTP_LIVEKIT_NCODES, "code");
        FUZZ_CHECK(j.error.code == NGX_HTTP_LIVEKIT_NCODES
                   || j.error.message != NULL, "a refusal without message");

        fuzz_join_text(&j.identity);
        fuzz_join_text(&j.room);
        fuzz_join_text(&j.token_id);
        fuzz_join_text(&j.invitation);

        if (j.error.code == NGX_HTTP_LIVEKIT_NCODES) {
            fuzz_join_accepted(r, &r->args,
                               (h && h->value.len) ? h : NULL);
        }
    }

    fuzz_join_round_trip(pool, data + 1, size - 1);

    ngx_destroy_pool(pool);
    free(copy);

    return 0;
}
