
/*
 * The revocation admin location.
 *
 * Owns: livekit_revocation_admin's handler (GET lists the revocations,
 * POST adds one, DELETE forgets one; the body is one revocation as JSON),
 * and, for a POST with "remove": true and a participant (room and
 * identity), livekit_revocation_remove: a subrequest to that internal
 * location, which proxies RoomService/RemoveParticipant to livekit-server
 * with $livekit_remove_token (a one-minute roomAdmin token for that room,
 * minted here) and $livekit_remove_body.  Who may call this location is
 * nginx's own access control's business (allow/deny, auth_basic, ...).
 * Does not own: the list itself (_revoke.c).
 */

#include "ngx_http_livekit_token.h"


#define NGX_HTTP_LIVEKIT_ADMIN_TOKEN_TTL  60


typedef struct {
    ngx_http_livekit_revocation_t   rv;
    ngx_uint_t                      saved;
    ngx_uint_t                      done;      /* the subrequest is over */
    ngx_uint_t                      status;    /* RemoveParticipant's */
    ngx_str_t                       token;     /* $livekit_remove_token */
    ngx_str_t                       twirp;     /* $livekit_remove_body */
} ngx_http_livekit_admin_t;


static ngx_str_t  ngx_http_livekit_admin_allow = ngx_string("GET, POST, DELETE");


static ngx_int_t ngx_http_livekit_admin_list(ngx_http_request_t *r);
static void ngx_http_livekit_admin_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_livekit_admin_change(ngx_http_request_t *r,
    ngx_http_livekit_admin_t *a);
static ngx_int_t ngx_http_livekit_admin_read(ngx_http_request_t *r,
    ngx_http_livekit_admin_t *a, ngx_uint_t *remove,
    ngx_http_livekit_error_t *err);
static ngx_int_t ngx_http_livekit_admin_remove(ngx_http_request_t *r,
    ngx_http_livekit_admin_t *a);
static ngx_int_t ngx_http_livekit_admin_mint(ngx_http_request_t *r,
    ngx_http_livekit_key_t *key, ngx_http_livekit_admin_t *a);
static ngx_int_t ngx_http_livekit_admin_removed(ngx_http_request_t *r,
    void *data, ngx_int_t rc);
static void ngx_http_livekit_admin_finish(ngx_http_request_t *r);
static ngx_int_t ngx_http_livekit_admin_reply(ngx_http_request_t *r,
    ngx_http_livekit_admin_t *a, ngx_uint_t status, const char *name);
static ngx_str_t *ngx_http_livekit_admin_dump(ngx_pool_t *pool,
    json_t *value, ngx_str_t *out);
static ngx_int_t ngx_http_livekit_admin_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_http_variable_t  ngx_http_livekit_admin_vars[] = {

    { ngx_string("livekit_remove_token"), NULL,
      ngx_http_livekit_admin_variable,
      offsetof(ngx_http_livekit_admin_t, token), NGX_HTTP_VAR_NOHASH, 0 },

    { ngx_string("livekit_remove_body"), NULL,
      ngx_http_livekit_admin_variable,
      offsetof(ngx_http_livekit_admin_t, twirp), NGX_HTTP_VAR_NOHASH, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_livekit_revoke_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_livekit_admin_vars; v->name.len; v++) {
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
ngx_http_livekit_revoke_admin_handler(ngx_http_request_t *r)
{
    ngx_int_t                           rc;
    ngx_http_livekit_error_t            err;
    ngx_http_livekit_token_loc_conf_t  *lcf;

    if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
        rc = ngx_http_discard_request_body(r);
        return (rc == NGX_OK) ? ngx_http_livekit_admin_list(r) : rc;
    }

    if (!(r->method & (NGX_HTTP_POST|NGX_HTTP_DELETE))) {
        if (ngx_http_livekit_header_out(r, "Allow",
                                        &ngx_http_livekit_admin_allow)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        (void) ngx_http_livekit_fail(&err, NGX_HTTP_LIVEKIT_METHOD_NOT_ALLOWED,
                   "GET lists the revocations, POST revokes, DELETE "
                   "forgets a revocation");
        return ngx_http_livekit_reply_error(r, &err);
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_livekit_token_module);

    if (r->headers_in.content_length_n > (off_t) lcf->body_max) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        (void) ngx_http_livekit_fail(&err, NGX_HTTP_LIVEKIT_BODY_TOO_LARGE,
                   "a revocation is a small JSON object");
        return ngx_http_livekit_reply_error(r, &err);
    }

    rc = ngx_http_read_client_request_body(r, ngx_http_livekit_admin_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static ngx_int_t
ngx_http_livekit_admin_list(ngx_http_request_t *r)
{
    json_t                              *list;
    ngx_buf_t                           *b;
    ngx_http_livekit_token_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_livekit_token_module);

    list = ngx_http_livekit_revoke_list(r);
    if (list == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b = ngx_http_livekit_json_buf(r->pool,
                                  json_pack("{s:o,s:I}", "revocations", list,
                                            "max_ttl",
                                            (json_int_t) tmcf->revocation_ttl));
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_livekit_reply(r, NGX_HTTP_OK, b);
}


static void
ngx_http_livekit_admin_body(ngx_http_request_t *r)
{
    ngx_int_t                  rc;
    ngx_http_livekit_ctx_t    *ctx;
    ngx_http_livekit_admin_t  *a;

    ctx = ngx_http_livekit_ctx(r);
    a = ngx_pcalloc(r->pool, sizeof(ngx_http_livekit_admin_t));

    if (ctx == NULL || a == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ctx->admin = a;

    rc = ngx_http_livekit_admin_change(r, a);

    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
    }
}


/* POST or DELETE; NGX_DONE while livekit-server removes the participant */

static ngx_int_t
ngx_http_livekit_admin_change(ngx_http_request_t *r,
    ngx_http_livekit_admin_t *a)
{
    ngx_int_t                           rc;
    ngx_uint_t                          remove;
    ngx_http_livekit_error_t            err;
    ngx_http_livekit_token_loc_conf_t  *lcf;

    rc = ngx_http_livekit_admin_read(r, a, &remove, &err);

    if (rc == NGX_DECLINED) {
        return ngx_http_livekit_reply_error(r, &err);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (r->method == NGX_HTTP_DELETE) {
        rc = ngx_http_livekit_revoke_delete(r, &a->rv, &a->saved);

        if (rc == NGX_DECLINED) {
            (void) ngx_http_livekit_fail(&err,
                       NGX_HTTP_LIVEKIT_REVOCATION_NOT_FOUND,
                       "there is no such revocation (GET lists them)");
            return ngx_http_livekit_reply_error(r, &err);
        }

        return (rc == NGX_OK)
               ? ngx_http_livekit_admin_reply(r, a, NGX_HTTP_OK, "deleted")
               : NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_livekit_token_module);

    if (remove && (a->rv.kind != NGX_HTTP_LIVEKIT_REVOKE_PARTICIPANT
                   || lcf->revocation_remove.len == 0))
    {
        (void) ngx_http_livekit_fail(&err, NGX_HTTP_LIVEKIT_INVALID_REVOCATION,
                   "\"remove\" needs room and identity, and a location "
                   "with livekit_revocation_remove");
        return ngx_http_livekit_reply_error(r, &err);
    }

    rc = ngx_http_livekit_revoke_add(r, &a->rv, &a->saved);

    if (rc == NGX_DECLINED) {
        (void) ngx_http_livekit_fail(&err, NGX_HTTP_LIVEKIT_REVOCATIONS_FULL,
                   "the revocation zone is full: make it larger "
                   "(livekit_revocation_zone zone=name:size)");
        return ngx_http_livekit_reply_error(r, &err);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (remove) {
        return ngx_http_livekit_admin_remove(r, a);
    }

    return ngx_http_livekit_admin_reply(r, a, NGX_HTTP_CREATED, "revoked");
}


/* the body: one revocation, and "remove" */

static ngx_int_t
ngx_http_livekit_admin_read(ngx_http_request_t *r,
    ngx_http_livekit_admin_t *a, ngx_uint_t *remove,
    ngx_http_livekit_error_t *err)
{
    json_t                             *root, *v;
    ngx_int_t                           rc;
    ngx_str_t                           body;
    const char                         *error;
    ngx_pool_cleanup_t                 *cln;
    ngx_http_livekit_token_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_livekit_token_module);

    *remove = 0;

    rc = ngx_http_livekit_request_body(r, lcf->body_max, &body);

    if (rc == NGX_DECLINED) {
        return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_BODY_TOO_LARGE,
                   "a revocation is a small JSON object");
    }

    if (rc != NGX_OK) {
        return rc;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    root = json_loadb((char *) body.data, body.len, JSON_REJECT_DUPLICATES,
                      NULL);

    cln->handler = ngx_http_livekit_json_cleanup;
    cln->data = root;

    if (root == NULL) {
        return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_INVALID_JSON,
                   "the body must be one JSON object, e.g. "
                   "{\"room\":\"r1\",\"identity\":\"jane\"}");
    }

    if (ngx_http_livekit_revocation_from_json(root, &a->rv, &error)
        != NGX_OK)
    {
        return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_INVALID_REVOCATION,
                                     error);
    }

    v = json_object_get(root, "remove");

    if (v && !json_is_boolean(v)) {
        return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_INVALID_REVOCATION,
                   "\"remove\" is true or false");
    }

    *remove = json_is_true(v);

    return NGX_OK;
}


/*
 * RemoveParticipant through the livekit_revocation_remove location; the
 * reply waits for it.  Without a key (SSM not loaded yet) the revocation
 * stands and the reply says the removal failed.
 */

static ngx_int_t
ngx_http_livekit_admin_remove(ngx_http_request_t *r,
    ngx_http_livekit_admin_t *a)
{
    ngx_http_request_t                 *sr;
    ngx_http_livekit_key_t             *key;
    ngx_http_post_subrequest_t         *ps;
    ngx_http_livekit_token_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_livekit_token_module);

    key = ngx_http_livekit_keyset_current(lcf->keyset);

    if (key == NULL) {
        a->done = 1;
        a->status = NGX_HTTP_SERVICE_UNAVAILABLE;
        return ngx_http_livekit_admin_reply(r, a, NGX_HTTP_CREATED,
                                            "revoked");
    }

    if (ngx_http_livekit_admin_mint(r, key, a) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    if (ps == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ps->handler = ngx_http_livekit_admin_removed;
    ps->data = a;

    if (ngx_http_subrequest(r, &lcf->revocation_remove, NULL, &sr, ps,
                            NGX_HTTP_SUBREQUEST_IN_MEMORY
                            |NGX_HTTP_SUBREQUEST_WAITED)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->write_event_handler = ngx_http_livekit_admin_finish;

    return NGX_DONE;
}


/* the admin token (roomAdmin for the room, a minute) and Twirp's body */

static ngx_int_t
ngx_http_livekit_admin_mint(ngx_http_request_t *r,
    ngx_http_livekit_key_t *key, ngx_http_livekit_admin_t *a)
{
    u_char     *p;
    time_t      now;
    ngx_str_t   claims;
    ngx_log_t   log;

    now = ngx_time();

    if (ngx_http_livekit_admin_dump(r->pool,
            json_pack("{s:s%,s:s,s:I,s:I,s:{s:b,s:s%}}",
                      "iss", key->name.data, key->name.len,
                      "sub", "livekit-front-door",
                      "nbf", (json_int_t) now,
                      "exp", (json_int_t) now
                             + NGX_HTTP_LIVEKIT_ADMIN_TOKEN_TTL,
                      "video", "roomAdmin", 1,
                      "room", a->rv.a.data, a->rv.a.len),
            &claims) == NULL
        || ngx_http_livekit_admin_dump(r->pool,
               json_pack("{s:s%,s:s%}",
                         "room", a->rv.a.data, a->rv.a.len,
                         "identity", a->rv.b.data, a->rv.b.len),
               &a->twirp) == NULL)
    {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(r->pool, ngx_http_livekit_jwt_len(claims.len));
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_http_livekit_reply_log(r, &log);

    a->token.data = p;
    p = ngx_http_livekit_jwt_sign(&log, key, &claims, p);

    if (p == NULL) {
        return NGX_ERROR;
    }

    a->token.len = p - a->token.data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_livekit_admin_removed(ngx_http_request_t *r, void *data,
    ngx_int_t rc)
{
    ngx_http_livekit_admin_t *a = data;

    a->done = 1;
    a->status = r->headers_out.status;

    if (a->status == 0) {
        a->status = (rc >= NGX_HTTP_SPECIAL_RESPONSE)
                    ? (ngx_uint_t) rc : NGX_HTTP_BAD_GATEWAY;
    }

    return rc;
}


/* the parent, woken when the subrequest is over */

static void
ngx_http_livekit_admin_finish(ngx_http_request_t *r)
{
    ngx_http_livekit_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_livekit_token_module);

    if (ctx == NULL || ctx->admin == NULL
        || !((ngx_http_livekit_admin_t *) ctx->admin)->done)
    {
        return;
    }

    ngx_http_finalize_request(r,
        ngx_http_livekit_admin_reply(r, ctx->admin, NGX_HTTP_CREATED,
                                     "revoked"));
}


/*
 * {"revoked"|"deleted": {...}, "saved": true|false[, "removed": "yes" |
 * "not_connected" | "failed", "livekit_status": N]}
 */

static ngx_int_t
ngx_http_livekit_admin_reply(ngx_http_request_t *r,
    ngx_http_livekit_admin_t *a, ngx_uint_t status, const char *name)
{
    json_t      *root;
    ngx_buf_t   *b;
    const char  *removed;

    root = json_pack("{s:o,s:b}", name,
                     ngx_http_livekit_revocation_json(&a->rv),
                     "saved", (int) a->saved);

    if (root && a->done) {
        removed = (a->status == NGX_HTTP_OK) ? "yes"
                  : (a->status == NGX_HTTP_NOT_FOUND) ? "not_connected"
                  : "failed";

        if (json_object_set_new(root, "removed", json_string(removed)) != 0
            || json_object_set_new(root, "livekit_status",
                                   json_integer(a->status))
               != 0)
        {
            json_decref(root);
            root = NULL;
        }
    }

    b = ngx_http_livekit_json_buf(r->pool, root);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_livekit_reply(r, status, b);
}


/* "value" as compact JSON in the pool; takes its reference */

static ngx_str_t *
ngx_http_livekit_admin_dump(ngx_pool_t *pool, json_t *value, ngx_str_t *out)
{
    if (value == NULL) {
        return NULL;
    }

    out->len = json_dumpb(value, NULL, 0, JSON_COMPACT);
    out->data = out->len ? ngx_pnalloc(pool, out->len) : NULL;

    if (out->data) {
        (void) json_dumpb(value, (char *) out->data, out->len, JSON_COMPACT);
    }

    json_decref(value);

    return out->data ? out : NULL;
}


/* the admin request's values, read by its subrequest's proxy_set_* */

static ngx_int_t
ngx_http_livekit_admin_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                 *s;
    ngx_http_livekit_ctx_t    *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_livekit_token_module);

    if (r == r->main || ctx == NULL || ctx->admin == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    s = (ngx_str_t *) ((char *) ctx->admin + data);

    v->len = s->len;
    v->data = s->data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}
