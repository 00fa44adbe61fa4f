
/*
 * LiveKit webhooks, verified before the application sees them.
 *
 * Owns: livekit_webhook, a handler in the precontent phase that verifies
 * the Authorization token as LiveKit's WebhookReceiver does, in two steps:
 * first from the header alone (HS256 with the key its "iss" names, exp and
 * nbf with one minute of leeway), so that an unsigned or badly signed
 * sender gets its 401 before its body is read; only then reads the body
 * the nginx way (memory or temporary file, client_max_body_size) and checks
 * that "sha256" is the base64 SHA-256 of the exact body.  It either lets
 * the request go on to the location's content handler (proxy_pass) with the
 * body untouched, or answers 401 with a JSON error; and the variables
 * $livekit_webhook_event, $livekit_webhook_id, $livekit_webhook_room, read
 * from the verified body.
 * Does not own: keys (_keys.c), token parsing and HMAC (_jwt.c), replies
 * (_reply.c).
 */

#include "ngx_http_livekit_token.h"

#include <openssl/evp.h>


#define NGX_HTTP_LIVEKIT_WEBHOOK_LEEWAY  60


typedef struct {
    ngx_uint_t                  verified;
    ngx_str_t                   sha256;
    ngx_str_t                   event;
    ngx_str_t                   id;
    ngx_str_t                   room;
} ngx_http_livekit_webhook_ctx_t;


static ngx_http_livekit_webhook_ctx_t *ngx_http_livekit_webhook_ctx(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_livekit_webhook_handler(ngx_http_request_t *r);
static void ngx_http_livekit_webhook_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_livekit_webhook_verify(ngx_http_request_t *r,
    ngx_http_livekit_webhook_ctx_t *ctx, ngx_http_livekit_error_t *err);
static ngx_int_t ngx_http_livekit_webhook_token(ngx_http_request_t *r,
    ngx_http_livekit_jwt_t *jwt, ngx_http_livekit_error_t *err);
static ngx_int_t ngx_http_livekit_webhook_claims(ngx_http_request_t *r,
    json_t *claims, ngx_http_livekit_webhook_ctx_t *ctx,
    ngx_http_livekit_error_t *err);
static ngx_int_t ngx_http_livekit_webhook_digest(ngx_str_t *body,
    ngx_http_livekit_webhook_ctx_t *ctx, ngx_http_livekit_error_t *err);
static void ngx_http_livekit_webhook_fields(ngx_http_request_t *r,
    ngx_str_t *body, ngx_http_livekit_webhook_ctx_t *ctx);
static void ngx_http_livekit_webhook_field(ngx_pool_t *pool, json_t *v,
    ngx_str_t *out);
static ngx_int_t ngx_http_livekit_webhook_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_http_variable_t  ngx_http_livekit_webhook_vars[] = {

    { ngx_string("livekit_webhook_event"), NULL,
      ngx_http_livekit_webhook_variable,
      offsetof(ngx_http_livekit_webhook_ctx_t, event),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("livekit_webhook_id"), NULL,
      ngx_http_livekit_webhook_variable,
      offsetof(ngx_http_livekit_webhook_ctx_t, id),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("livekit_webhook_room"), NULL,
      ngx_http_livekit_webhook_variable,
      offsetof(ngx_http_livekit_webhook_ctx_t, room),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_livekit_webhook_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_livekit_webhook_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_livekit_webhook_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PRECONTENT_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_livekit_webhook_handler;

    return NGX_OK;
}


/* this file's part of the module's request context, or NULL */

static ngx_http_livekit_webhook_ctx_t *
ngx_http_livekit_webhook_ctx(ngx_http_request_t *r)
{
    ngx_http_livekit_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_livekit_token_module);

    return ctx ? ctx->webhook : NULL;
}


/*
 * Verifies the token from the header first: a sender without a valid
 * signature gets its 401 while its body is discarded, never buffered.
 * Then reads the body, as ngx_http_mirror_module does in this phase; the
 * body handler checks its digest and runs the phases again, and this
 * handler then lets the request go on.
 */

static ngx_int_t
ngx_http_livekit_webhook_handler(ngx_http_request_t *r)
{
    ngx_int_t                           rc;
    ngx_http_livekit_ctx_t             *lctx;
    ngx_http_livekit_error_t            err;
    ngx_http_livekit_webhook_ctx_t     *ctx;
    ngx_http_livekit_token_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_livekit_token_module);

    /*
     * A subrequest (mirror, SSI, auth_request) is verified as well, with
     * the headers it carries (copied from its parent) and the body it
     * shares with it (none for auth_request): it would pass that body on.
     */

    if (!lcf->webhook) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_livekit_webhook_ctx(r);

    if (ctx) {
        return ctx->verified ? NGX_DECLINED : NGX_HTTP_UNAUTHORIZED;
    }

    lctx = ngx_http_livekit_ctx(r);
    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_livekit_webhook_ctx_t));

    if (lctx == NULL || ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    lctx->webhook = ctx;

    rc = ngx_http_livekit_webhook_verify(r, ctx, &err);

    if (rc == NGX_DECLINED) {
        rc = ngx_http_discard_request_body(r);

        if (rc != NGX_OK) {
            return rc;
        }

        ngx_http_finalize_request(r, ngx_http_livekit_reply_error(r, &err));

        return NGX_DONE;
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_read_client_request_body(r, ngx_http_livekit_webhook_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    ngx_http_finalize_request(r, NGX_DONE);

    return NGX_DONE;
}


static void
ngx_http_livekit_webhook_body(ngx_http_request_t *r)
{
    ngx_int_t                        rc;
    ngx_str_t                        body;
    ngx_http_livekit_error_t         err;
    ngx_http_livekit_webhook_ctx_t  *ctx;

    ctx = ngx_http_livekit_webhook_ctx(r);

    rc = ngx_http_livekit_request_body(r, NGX_MAX_SIZE_T_VALUE, &body);

    if (rc == NGX_OK) {
        rc = ngx_http_livekit_webhook_digest(&body, ctx, &err);
    }

    if (rc == NGX_DECLINED) {
        ngx_http_finalize_request(r, ngx_http_livekit_reply_error(r, &err));
        return;
    }

    if (rc != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_livekit_webhook_fields(r, &body, ctx);
    ngx_http_livekit_stats_webhook();

    ctx->verified = 1;

    r->preserve_body = 1;
    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);
}


/*
 * The token of the Authorization header: its key, signature, exp and nbf;
 * its "sha256" claim kept in "ctx" for the body, once it is read
 */

static ngx_int_t
ngx_http_livekit_webhook_verify(ngx_http_request_t *r,
    ngx_http_livekit_webhook_ctx_t *ctx, ngx_http_livekit_error_t *err)
{
    ngx_int_t               rc;
    ngx_str_t               token;
    ngx_table_elt_t        *h;
    ngx_http_livekit_jwt_t  jwt;

    h = r->headers_in.authorization;

    if (h == NULL || h->value.len == 0) {
        return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_WEBHOOK_UNSIGNED,
            "a webhook needs the Authorization header livekit-server signs");
    }

    token = h->value;

    if (token.len > sizeof("Bearer ") - 1
        && ngx_strncasecmp(token.data, (u_char *) "Bearer ",
                           sizeof("Bearer ") - 1) == 0)
    {
        token.data += sizeof("Bearer ") - 1;
        token.len -= sizeof("Bearer ") - 1;
    }

    ngx_memzero(&jwt, sizeof(ngx_http_livekit_jwt_t));

    rc = ngx_http_livekit_jwt_decode(r, &token, &jwt);

    if (rc == NGX_OK) {
        rc = ngx_http_livekit_webhook_token(r, &jwt, err);
    }

    if (rc == NGX_OK) {
        rc = ngx_http_livekit_webhook_claims(r, jwt.claims, ctx, err);

    } else if (rc == NGX_DECLINED && jwt.claims == NULL) {
        rc = ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_WEBHOOK_BAD_SIGNATURE,
                 "the Authorization header is not an HS256 token");
    }

    json_decref(jwt.claims);

    return rc;
}


/* the key "iss" names, from any key set the location verifies with */

static ngx_int_t
ngx_http_livekit_webhook_token(ngx_http_request_t *r,
    ngx_http_livekit_jwt_t *jwt, ngx_http_livekit_error_t *err)
{
    ngx_int_t                           rc;
    ngx_str_t                           iss;
    ngx_http_livekit_key_t             *key;
    ngx_http_livekit_token_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_livekit_token_module);

    iss.data = (u_char *) json_string_value(json_object_get(jwt->claims,
                                                            "iss"));
    iss.len = iss.data ? ngx_strlen(iss.data) : 0;

    key = iss.len ? ngx_http_livekit_keyset_find(lcf->verify_keys, &iss)
                  : NULL;

    if (key == NULL) {
        return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_WEBHOOK_UNKNOWN_KEY,
            "the webhook is signed with an API key this location does not "
            "hold (check livekit-server's webhook.api_key)");
    }

    rc = ngx_http_livekit_jwt_check(r, key, jwt);

    if (rc == NGX_DECLINED) {
        return ngx_http_livekit_fail(err,
                   NGX_HTTP_LIVEKIT_WEBHOOK_BAD_SIGNATURE,
                   "the webhook's signature does not match its API key");
    }

    return rc;
}


/*
 * exp and nbf with livekit-server's leeway; the leeway is subtracted from
 * or added to "now", never added to the token's number (an exp near
 * INT64_MAX must not overflow); and the sha256 claim, copied for the body
 */

static ngx_int_t
ngx_http_livekit_webhook_claims(ngx_http_request_t *r, json_t *claims,
    ngx_http_livekit_webhook_ctx_t *ctx, ngx_http_livekit_error_t *err)
{
    time_t      now;
    json_t     *exp, *nbf, *sha;
    ngx_str_t   s;

    now = ngx_time();
    exp = json_object_get(claims, "exp");
    nbf = json_object_get(claims, "nbf");

    if (!json_is_integer(exp)
        || json_integer_value(exp) < now - NGX_HTTP_LIVEKIT_WEBHOOK_LEEWAY
        || (nbf && (!json_is_integer(nbf)
                    || json_integer_value(nbf)
                       > now + NGX_HTTP_LIVEKIT_WEBHOOK_LEEWAY)))
    {
        return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_WEBHOOK_EXPIRED,
            "the webhook's token has expired or is not valid yet "
            "(check the clocks of livekit-server and the front door)");
    }

    sha = json_object_get(claims, "sha256");

    if (!json_is_string(sha)) {
        ngx_str_null(&ctx->sha256);
        return NGX_OK;
    }

    s.data = (u_char *) json_string_value(sha);
    s.len = json_string_length(sha);

    ctx->sha256.data = ngx_pstrdup(r->pool, &s);
    if (ctx->sha256.data == NULL) {
        return NGX_ERROR;
    }

    ctx->sha256.len = s.len;

    return NGX_OK;
}


/* the base64 SHA-256 of the exact body against the token's sha256 claim */

static ngx_int_t
ngx_http_livekit_webhook_digest(ngx_str_t *body,
    ngx_http_livekit_webhook_ctx_t *ctx, ngx_http_livekit_error_t *err)
{
    u_char        hash[EVP_MAX_MD_SIZE], b64[64];
    ngx_str_t     src, dst;
    unsigned int  len;

    if (EVP_Digest(body->len ? body->data : (u_char *) "", body->len, hash,
                   &len, EVP_sha256(), NULL)
        != 1)
    {
        return NGX_ERROR;
    }

    src.data = hash;
    src.len = len;
    dst.data = b64;
    ngx_encode_base64(&dst, &src);

    if (ctx->sha256.len != dst.len
        || ngx_strncmp(ctx->sha256.data, dst.data, dst.len) != 0)
    {
        return ngx_http_livekit_fail(err,
                   NGX_HTTP_LIVEKIT_WEBHOOK_BODY_MISMATCH,
                   "the body is not the one livekit-server signed (sha256 "
                   "checksum of body does not match)");
    }

    return NGX_OK;
}


/* event, id and room name of the verified body, for the variables */

static void
ngx_http_livekit_webhook_fields(ngx_http_request_t *r, ngx_str_t *body,
    ngx_http_livekit_webhook_ctx_t *ctx)
{
    json_t  *root;

    root = json_loadb((char *) body->data, body->len, 0, NULL);

    if (!json_is_object(root)) {
        json_decref(root);
        return;
    }

    ngx_http_livekit_webhook_field(r->pool, json_object_get(root, "event"),
                                   &ctx->event);
    ngx_http_livekit_webhook_field(r->pool, json_object_get(root, "id"),
                                   &ctx->id);
    ngx_http_livekit_webhook_field(r->pool,
        json_object_get(json_object_get(root, "room"), "name"), &ctx->room);

    json_decref(root);
}


/*
 * A variable may reach a header or a log line: only a string of at most
 * 256 bytes of text without control characters, copied to the request
 * pool; otherwise it stays empty.
 */

static void
ngx_http_livekit_webhook_field(ngx_pool_t *pool, json_t *v, ngx_str_t *out)
{
    ngx_str_t                 s;
    ngx_http_livekit_error_t  err;

    ngx_str_null(out);

    if (!json_is_string(v)) {
        return;
    }

    s.data = (u_char *) json_string_value(v);
    s.len = json_string_length(v);

    if (s.len > NGX_HTTP_LIVEKIT_MAX_NAME
        || ngx_http_livekit_check_text(&s, 0, &err) != NGX_OK)
    {
        return;
    }

    out->data = ngx_pstrdup(pool, &s);
    out->len = out->data ? s.len : 0;
}


static ngx_int_t
ngx_http_livekit_webhook_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                       *s;
    ngx_http_livekit_webhook_ctx_t  *ctx;

    ctx = ngx_http_livekit_webhook_ctx(r);

    if (ctx == NULL || !ctx->verified) {
        v->not_found = 1;
        return NGX_OK;
    }

    s = (ngx_str_t *) ((char *) ctx + data);

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
