
/*
 * Joins checked at the edge.
 *
 * Owns: livekit_join_check, a handler in the preaccess phase that reads
 * the token livekit-server would read (the Authorization header's
 * "Bearer " token, else the first access_token value of the query, read
 * as Go's net/url reads it) and checks it as livekit-server does before
 * any connection to it: HS256 with the key its "iss" names, exp required,
 * exp, nbf and iat with one minute of leeway, then the grant the endpoint
 * needs (rtc: video.roomJoin with a room and an identity; agent:
 * video.agent) and the revocation list.  A refusal is the module's JSON
 * error, 401 or 403, before the WebSocket upgrade; livekit-server never
 * sees the connection.  Also the variables of the verified token:
 * $livekit_identity, $livekit_room, $livekit_key, $livekit_token_id and
 * $livekit_join (the result), and the module's request context.
 * Does not own: the key sets (_keys.c), decoding and HMAC (_jwt.c), the
 * revocation list (_revoke.c), replies (_reply.c).
 */

#include "ngx_http_livekit_token.h"


#define NGX_HTTP_LIVEKIT_JOIN_LEEWAY  60


ngx_conf_enum_t  ngx_http_livekit_join_modes[] = {
    { ngx_string("off"), NGX_HTTP_LIVEKIT_JOIN_OFF },
    { ngx_string("rtc"), NGX_HTTP_LIVEKIT_JOIN_RTC },
    { ngx_string("agent"), NGX_HTTP_LIVEKIT_JOIN_AGENT },
    { ngx_null_string, 0 }
};


static ngx_str_t  ngx_http_livekit_join_ok = ngx_string("ok");


static ngx_int_t ngx_http_livekit_join_handler(ngx_http_request_t *r);
static ngx_http_livekit_join_t *ngx_http_livekit_join_get(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_livekit_join_verify(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf, ngx_http_livekit_join_t *j);
static ngx_int_t ngx_http_livekit_join_token(ngx_http_request_t *r,
    ngx_str_t *token, ngx_http_livekit_error_t *err);
static ngx_int_t ngx_http_livekit_join_query(ngx_http_request_t *r,
    ngx_str_t *token, ngx_http_livekit_error_t *err);
static ngx_int_t ngx_http_livekit_query_unescape(ngx_pool_t *pool,
    u_char *start, u_char *end, ngx_str_t *out);
static ngx_int_t ngx_http_livekit_join_signed(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf, ngx_http_livekit_jwt_t *jwt,
    ngx_http_livekit_join_t *j);
static ngx_int_t ngx_http_livekit_join_times(ngx_http_request_t *r,
    json_t *claims, ngx_http_livekit_join_t *j);
static ngx_int_t ngx_http_livekit_join_grants(
    ngx_http_livekit_token_loc_conf_t *lcf, json_t *claims,
    ngx_http_livekit_join_t *j);
static void ngx_http_livekit_join_text(ngx_pool_t *pool, json_t *v,
    ngx_str_t *out);
static ngx_int_t ngx_http_livekit_join_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_livekit_join_result(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_http_variable_t  ngx_http_livekit_join_vars[] = {

    { ngx_string("livekit_identity"), NULL, ngx_http_livekit_join_variable,
      offsetof(ngx_http_livekit_join_t, identity), 0, 0 },

    { ngx_string("livekit_room"), NULL, ngx_http_livekit_join_variable,
      offsetof(ngx_http_livekit_join_t, room), 0, 0 },

    { ngx_string("livekit_key"), NULL, ngx_http_livekit_join_variable,
      offsetof(ngx_http_livekit_join_t, key), 0, 0 },

    { ngx_string("livekit_token_id"), NULL, ngx_http_livekit_join_variable,
      offsetof(ngx_http_livekit_join_t, token_id), 0, 0 },

    { ngx_string("livekit_invitation"), NULL, ngx_http_livekit_join_variable,
      offsetof(ngx_http_livekit_join_t, invitation), 0, 0 },

    { ngx_string("livekit_join"), NULL, ngx_http_livekit_join_result, 0, 0,
      0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_livekit_join_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_livekit_join_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


/*
 * Preaccess, not access: "satisfy any" with an allow rule must not skip
 * it.  Pushed after limit_req and limit_conn (a dynamic module's
 * postconfiguration runs later), so it runs before them and a bogus
 * token is refused before it is counted.
 */

ngx_int_t
ngx_http_livekit_join_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PREACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_livekit_join_handler;

    return NGX_OK;
}


/* the module's context of "r", made on first use; NULL: no memory */

ngx_http_livekit_ctx_t *
ngx_http_livekit_ctx(ngx_http_request_t *r)
{
    ngx_http_livekit_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_livekit_token_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_livekit_ctx_t));
        if (ctx == NULL) {
            return NULL;
        }

        ngx_http_set_ctx(r, ctx, ngx_http_livekit_token_module);
    }

    return ctx;
}


static ngx_int_t
ngx_http_livekit_join_handler(ngx_http_request_t *r)
{
    ngx_int_t                           rc;
    ngx_http_livekit_join_t            *j;
    ngx_http_livekit_token_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_livekit_token_module);

    if (lcf->join == NGX_HTTP_LIVEKIT_JOIN_OFF) {
        return NGX_DECLINED;
    }

    j = ngx_http_livekit_join_get(r);
    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (j->error.code == NGX_HTTP_LIVEKIT_NCODES) {
        return NGX_DECLINED;
    }

    if (r != r->main) {
        return ngx_http_livekit_codes[j->error.code].status;
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_livekit_reply_error(r, &j->error);

    ngx_http_finalize_request(r, rc);

    return NGX_DONE;
}


/* the check, once per request: the handler and the variables share it */

static ngx_http_livekit_join_t *
ngx_http_livekit_join_get(ngx_http_request_t *r)
{
    ngx_http_livekit_ctx_t             *ctx;
    ngx_http_livekit_token_loc_conf_t  *lcf;

    ctx = ngx_http_livekit_ctx(r);
    if (ctx == NULL) {
        return NULL;
    }

    if (ctx->join) {
        return ctx->join;
    }

    ctx->join = ngx_pcalloc(r->pool, sizeof(ngx_http_livekit_join_t));
    if (ctx->join == NULL) {
        return NULL;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_livekit_token_module);

    if (ngx_http_livekit_join_verify(r, lcf, ctx->join) == NGX_ERROR) {
        ctx->join = NULL;
        return NULL;
    }

    if (ctx->join->error.code == NGX_HTTP_LIVEKIT_NCODES) {
        ngx_http_livekit_stats_join();
    }

    return ctx->join;
}


/* NGX_OK with j->error.code set (NCODES: let through), or NGX_ERROR */

static ngx_int_t
ngx_http_livekit_join_verify(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf, ngx_http_livekit_join_t *j)
{
    ngx_int_t               rc;
    ngx_str_t               token;
    ngx_http_livekit_jwt_t  jwt;

    j->error.code = NGX_HTTP_LIVEKIT_NCODES;

    rc = ngx_http_livekit_join_token(r, &token, &j->error);

    if (rc != NGX_OK) {
        return (rc == NGX_DECLINED) ? NGX_OK : rc;
    }

    ngx_memzero(&jwt, sizeof(ngx_http_livekit_jwt_t));

    rc = ngx_http_livekit_jwt_decode(r, &token, &jwt);

    if (rc == NGX_DECLINED) {
        json_decref(jwt.claims);
        (void) ngx_http_livekit_fail(&j->error,
                   NGX_HTTP_LIVEKIT_TOKEN_MALFORMED,
                   "the token is not an HS256 JWT with a JSON claim set");
        return NGX_OK;
    }

    if (rc == NGX_OK) {
        rc = ngx_http_livekit_join_signed(r, lcf, &jwt, j);
    }

    if (rc == NGX_OK && j->error.code == NGX_HTTP_LIVEKIT_NCODES) {
        rc = ngx_http_livekit_join_times(r, jwt.claims, j);
    }

    if (rc == NGX_OK && j->error.code == NGX_HTTP_LIVEKIT_NCODES) {
        rc = ngx_http_livekit_join_grants(lcf, jwt.claims, j);
    }

    json_decref(jwt.claims);

    if (rc == NGX_OK && j->error.code == NGX_HTTP_LIVEKIT_NCODES
        && ngx_http_livekit_revoked(r, j) == NGX_DECLINED)
    {
        (void) ngx_http_livekit_fail(&j->error,
                   NGX_HTTP_LIVEKIT_TOKEN_REVOKED,
                   "this token, its participant or its room has been "
                   "revoked: ask for a new invitation");
    }

    return rc;
}


/*
 * The token livekit-server's auth middleware reads: a non-empty
 * Authorization header must be "Bearer <token>"; without one, the first
 * access_token of the query.  Only GET and HEAD: Go would read a POST's
 * form body as well, which this check does not see.  NGX_OK with the
 * token; NGX_DECLINED with j->error set.
 */

static ngx_int_t
ngx_http_livekit_join_token(ngx_http_request_t *r, ngx_str_t *token,
    ngx_http_livekit_error_t *err)
{
    ngx_int_t         rc;
    ngx_str_t         header, query;
    ngx_table_elt_t  *h;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_METHOD_NOT_ALLOWED,
                   "LiveKit's signalling endpoints take GET only");
    }

    rc = ngx_http_livekit_join_query(r, &query, err);
    if (rc != NGX_OK) {
        return rc;
    }

    h = r->headers_in.authorization;
    ngx_str_null(&header);

    if (h && h->value.len) {
        if (h->value.len <= sizeof("Bearer ") - 1
            || ngx_strncmp(h->value.data, "Bearer ", sizeof("Bearer ") - 1)
               != 0)
        {
            return ngx_http_livekit_fail(err,
                       NGX_HTTP_LIVEKIT_TOKEN_MALFORMED,
                       "the Authorization header must be "
                       "\"Bearer <token>\"");
        }

        header.data = h->value.data + sizeof("Bearer ") - 1;
        header.len = h->value.len - (sizeof("Bearer ") - 1);
    }

    if (header.len && query.data
        && (header.len != query.len
            || ngx_strncmp(header.data, query.data, query.len) != 0))
    {
        return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_TOKEN_AMBIGUOUS,
                   "the request carries two different tokens "
                   "(Authorization and access_token): send one");
    }

    *token = header.len ? header : query;

    if (token->len == 0) {
        return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_TOKEN_MISSING,
                   "a join needs a token: \"Authorization: Bearer <token>\" "
                   "or ?access_token=<token>");
    }

    return NGX_OK;
}


/*
 * The query as Go's url.ParseQuery reads it: pairs split at "&", names
 * and values unescaped ("+" is a space, "%" needs two hex digits).  Go
 * skips a pair with ";" or a bad escape; here a pair with ";", a name
 * that cannot be unescaped, or an access_token whose value cannot be, is
 * refused, as are two different access_token values, so that no reading
 * of the query finds a token this check did not see.
 */

static ngx_int_t
ngx_http_livekit_join_query(ngx_http_request_t *r, ngx_str_t *token,
    ngx_http_livekit_error_t *err)
{
    u_char     *p, *last, *amp, *eq;
    ngx_int_t   rc;
    ngx_str_t   name, value;

    ngx_str_null(token);

    p = r->args.data;
    last = p + r->args.len;

    while (p < last) {

        amp = ngx_strlchr(p, last, '&');
        if (amp == NULL) {
            amp = last;
        }

        if (amp == p) {
            p++;
            continue;
        }

        if (ngx_strlchr(p, amp, ';')) {
            goto ambiguous;
        }

        eq = ngx_strlchr(p, amp, '=');
        if (eq == NULL) {
            eq = amp;
        }

        rc = ngx_http_livekit_query_unescape(r->pool, p, eq, &name);

        if (rc == NGX_OK
            && name.len == sizeof("access_token") - 1
            && ngx_strncmp(name.data, "access_token", name.len) == 0)
        {
            rc = ngx_http_livekit_query_unescape(r->pool,
                                                 eq < amp ? eq + 1 : amp,
                                                 amp, &value);

            if (rc == NGX_OK && token->data
                && (token->len != value.len
                    || ngx_strncmp(token->data, value.data, value.len) != 0))
            {
                goto ambiguous;
            }

            if (rc == NGX_OK && token->data == NULL) {
                *token = value;
            }
        }

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_DECLINED) {
            goto ambiguous;
        }

        p = (amp < last) ? amp + 1 : last;
    }

    return NGX_OK;

ambiguous:

    return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_TOKEN_AMBIGUOUS,
               "the query has two different access_token values, a \";\" "
               "or a bad %-escape, which livekit-server would read "
               "differently: send one token, URL-encoded");
}


/* Go's QueryUnescape: NGX_DECLINED on a bad escape */

static ngx_int_t
ngx_http_livekit_query_unescape(ngx_pool_t *pool, u_char *start, u_char *end,
    ngx_str_t *out)
{
    u_char    *p, *d;
    ngx_int_t  hi, lo;

    out->data = ngx_pnalloc(pool, (end - start) + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    d = out->data;

    for (p = start; p < end; p++) {

        if (*p == '+') {
            *d++ = ' ';
            continue;
        }

        if (*p != '%') {
            *d++ = *p;
            continue;
        }

        if (end - p < 3) {
            return NGX_DECLINED;
        }

        hi = ngx_hextoi(p + 1, 1);
        lo = ngx_hextoi(p + 2, 1);

        if (hi == NGX_ERROR || lo == NGX_ERROR) {
            return NGX_DECLINED;
        }

        *d++ = (u_char) (hi << 4 | lo);
        p += 2;
    }

    out->len = d - out->data;

    return NGX_OK;
}


/*
 * The key "iss" names, among every key of the location, and the
 * signature; then the token is authentic, and its names are kept for the
 * variables whatever is checked next.
 */

static ngx_int_t
ngx_http_livekit_join_signed(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf, ngx_http_livekit_jwt_t *jwt,
    ngx_http_livekit_join_t *j)
{
    json_t                  *video, *sub;
    ngx_int_t                rc;
    ngx_str_t                iss;
    ngx_http_livekit_key_t  *key;

    iss.data = (u_char *) json_string_value(json_object_get(jwt->claims,
                                                            "iss"));
    iss.len = iss.data ? json_string_length(json_object_get(jwt->claims,
                                                            "iss")) : 0;

    key = iss.len ? ngx_http_livekit_keyset_find(lcf->verify_keys, &iss)
                  : NULL;

    if (key == NULL) {
        (void) ngx_http_livekit_fail(&j->error,
                   NGX_HTTP_LIVEKIT_TOKEN_UNKNOWN_KEY,
                   "the token is signed with an API key this server does "
                   "not hold");
        return NGX_OK;
    }

    rc = ngx_http_livekit_jwt_check(r, key, jwt);

    if (rc == NGX_DECLINED) {
        (void) ngx_http_livekit_fail(&j->error,
                   NGX_HTTP_LIVEKIT_TOKEN_BAD_SIGNATURE,
                   "the token's signature does not match its API key");
        return NGX_OK;
    }

    if (rc != NGX_OK) {
        return rc;
    }

    /* livekit-server: the identity is "sub", else "jti" */

    sub = json_object_get(jwt->claims, "sub");

    if (!json_is_string(sub) || json_string_length(sub) == 0) {
        sub = json_object_get(jwt->claims, "jti");
    }

    video = json_object_get(jwt->claims, "video");

    ngx_http_livekit_join_text(r->pool, sub, &j->identity);
    ngx_http_livekit_join_text(r->pool, json_object_get(video, "room"),
                               &j->room);
    ngx_http_livekit_join_text(r->pool, json_object_get(jwt->claims, "jti"),
                               &j->token_id);
    ngx_http_livekit_join_text(r->pool, json_object_get(jwt->claims, "inv"),
                               &j->invitation);
    j->key = key->name;

    return NGX_OK;
}


/*
 * exp required; exp, nbf and iat with livekit-server's leeway (go-jose's
 * one minute); with a revocation list, no later than max_ttl from now.
 * The comparisons subtract from "now", never add to a client's number.
 */

static ngx_int_t
ngx_http_livekit_join_times(ngx_http_request_t *r, json_t *claims,
    ngx_http_livekit_join_t *j)
{
    json_t                              *exp, *nbf, *iat;
    time_t                               now;
    ngx_http_livekit_token_main_conf_t  *tmcf;

    now = ngx_time();
    exp = json_object_get(claims, "exp");
    nbf = json_object_get(claims, "nbf");
    iat = json_object_get(claims, "iat");

    if ((nbf && !json_is_integer(nbf)) || (iat && !json_is_integer(iat))) {
        return ngx_http_livekit_fail(&j->error,
                   NGX_HTTP_LIVEKIT_TOKEN_MALFORMED,
                   "nbf and iat are times in whole seconds");
    }

    j->issued = iat ? (time_t) json_integer_value(iat)
                    : nbf ? (time_t) json_integer_value(nbf) : 0;

    if (!json_is_integer(exp)
        || json_integer_value(exp) < now - NGX_HTTP_LIVEKIT_JOIN_LEEWAY)
    {
        return ngx_http_livekit_fail(&j->error, NGX_HTTP_LIVEKIT_TOKEN_EXPIRED,
                   "the token has expired (or has no exp): ask for a new "
                   "one");
    }

    if ((nbf && json_integer_value(nbf) > now + NGX_HTTP_LIVEKIT_JOIN_LEEWAY)
        || (iat
            && json_integer_value(iat) > now + NGX_HTTP_LIVEKIT_JOIN_LEEWAY))
    {
        return ngx_http_livekit_fail(&j->error,
                   NGX_HTTP_LIVEKIT_TOKEN_NOT_YET_VALID,
                   "the token is not valid yet (check the clocks of the "
                   "token's signer and the front door)");
    }

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_livekit_token_module);

    if (tmcf->revocations
        && json_integer_value(exp) - now
           > tmcf->revocation_ttl + NGX_HTTP_LIVEKIT_JOIN_LEEWAY)
    {
        return ngx_http_livekit_fail(&j->error,
                   NGX_HTTP_LIVEKIT_TOKEN_TOO_LONG_LIVED,
                   "the token is valid for longer than revocations are "
                   "kept (livekit_revocation_zone max_ttl): sign shorter "
                   "tokens");
    }

    return NGX_OK;
}


/* the grant the endpoint needs, as livekit-server's handler checks it */

static ngx_int_t
ngx_http_livekit_join_grants(ngx_http_livekit_token_loc_conf_t *lcf,
    json_t *claims, ngx_http_livekit_join_t *j)
{
    json_t  *video, *room, *sub, *jti;

    video = json_object_get(claims, "video");

    if (lcf->join == NGX_HTTP_LIVEKIT_JOIN_AGENT) {
        if (!json_is_true(json_object_get(video, "agent"))) {
            return ngx_http_livekit_fail(&j->error,
                       NGX_HTTP_LIVEKIT_JOIN_NOT_ALLOWED,
                       "an agent worker's token needs the video grant "
                       "agent");
        }

        return NGX_OK;
    }

    /* the claims themselves: a variable is empty for unsafe text too */

    room = json_object_get(video, "room");
    sub = json_object_get(claims, "sub");
    jti = json_object_get(claims, "jti");

    if (!json_is_true(json_object_get(video, "roomJoin"))
        || !json_is_string(room) || json_string_length(room) == 0
        || ((!json_is_string(sub) || json_string_length(sub) == 0)
            && (!json_is_string(jti) || json_string_length(jti) == 0)))
    {
        return ngx_http_livekit_fail(&j->error,
                   NGX_HTTP_LIVEKIT_JOIN_NOT_ALLOWED,
                   "a join token needs the video grants roomJoin and room, "
                   "and an identity");
    }

    return NGX_OK;
}


/*
 * A variable may reach a header, a log line, a limit_conn key or a map:
 * only a string of at most 256 bytes of text without control characters,
 * copied to the request pool; otherwise it stays empty.
 */

static void
ngx_http_livekit_join_text(ngx_pool_t *pool, json_t *v, ngx_str_t *out)
{
    ngx_str_t                 s;
    ngx_http_livekit_error_t  err;

    ngx_str_null(out);

    if (!json_is_string(v)) {
        return;
    }

    s.data = (u_char *) json_string_value(v);
    s.len = json_string_length(v);

    if (s.len == 0 || s.len > NGX_HTTP_LIVEKIT_MAX_NAME
        || ngx_http_livekit_check_text(&s, 0, &err) != NGX_OK)
    {
        return;
    }

    out->data = ngx_pstrdup(pool, &s);
    out->len = out->data ? s.len : 0;
}


static ngx_int_t
ngx_http_livekit_join_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                          *s;
    ngx_http_livekit_join_t            *j;
    ngx_http_livekit_token_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_livekit_token_module);

    if (lcf->join == NGX_HTTP_LIVEKIT_JOIN_OFF) {
        v->not_found = 1;
        return NGX_OK;
    }

    j = ngx_http_livekit_join_get(r);
    if (j == NULL) {
        return NGX_ERROR;
    }

    s = (ngx_str_t *) ((char *) j + data);

    if (s->len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = s->len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = s->data;

    return NGX_OK;
}


/* "ok", or the code of the refusal */

static ngx_int_t
ngx_http_livekit_join_result(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_livekit_join_t            *j;
    ngx_http_livekit_token_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_livekit_token_module);

    if (lcf->join == NGX_HTTP_LIVEKIT_JOIN_OFF) {
        v->not_found = 1;
        return NGX_OK;
    }

    j = ngx_http_livekit_join_get(r);
    if (j == NULL) {
        return NGX_ERROR;
    }

    if (j->error.code == NGX_HTTP_LIVEKIT_NCODES) {
        v->data = ngx_http_livekit_join_ok.data;
        v->len = ngx_http_livekit_join_ok.len;

    } else {
        v->data = (u_char *) ngx_http_livekit_codes[j->error.code].name;
        v->len = ngx_strlen(v->data);
    }

    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}
