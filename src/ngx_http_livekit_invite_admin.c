
/*
 * The invitation admin location.
 *
 * Owns: livekit_invitation_admin's handler: POST with one invitation
 * request as JSON
 *
 *   {"room":"consult-42","role":"client","identity":"jane",
 *    "name":"Jane","expires_in":86400,"single_use":true}
 *
 * (room and role required) answers 201 with the signed invitation, its
 * id (what the revocation admin revokes) and the link of
 * livekit_invitation_link with the invitation appended.  Who may call
 * this location is nginx's own access control's business (allow/deny,
 * auth_basic, ...).
 * Does not own: the invitation's form (_invite.c), revoking it
 * (_revoke_admin.c).
 */

#include "ngx_http_livekit_token.h"


/* 16 characters of base64url, as a token's jti */
#define NGX_HTTP_LIVEKIT_INVITE_ID_BYTES  12
#define NGX_HTTP_LIVEKIT_INVITE_ID_LEN                                        \
    ngx_base64_encoded_length(NGX_HTTP_LIVEKIT_INVITE_ID_BYTES)

#define NGX_HTTP_LIVEKIT_INVITE_DEFAULT   (24 * 60 * 60)
#define NGX_HTTP_LIVEKIT_INVITE_MIN       60


static ngx_str_t  ngx_http_livekit_invite_allow = ngx_string("POST");
static ngx_str_t  ngx_http_livekit_invite_link =
    ngx_string("$scheme://$host/?invite=");


static void ngx_http_livekit_invite_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_livekit_invite_create(ngx_http_request_t *r);
static ngx_int_t ngx_http_livekit_invite_read(ngx_http_request_t *r,
    json_t *root, ngx_http_livekit_invitation_t *inv,
    ngx_http_livekit_error_t *err);
static ngx_int_t ngx_http_livekit_invite_field(json_t *root,
    const char *name, ngx_uint_t required, size_t max, ngx_str_t *s,
    ngx_http_livekit_error_t *err);
static ngx_int_t ngx_http_livekit_invite_reply(ngx_http_request_t *r,
    ngx_http_livekit_invitation_t *inv, ngx_str_t *text);


/*
 * Postconfiguration: the zone (an invitation is revoked there, and a
 * single-use one remembered), a role, a key to sign with, and the link.
 */

ngx_int_t
ngx_http_livekit_invite_admin_init(ngx_conf_t *cf,
    ngx_http_livekit_token_loc_conf_t *lcf)
{
    ngx_http_compile_complex_value_t  ccv;

    if (ngx_http_livekit_invite_conf(cf, "livekit_invitation_admin")
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_livekit_keyset_resolve(cf, lcf, "livekit_invitation_admin")
        != NGX_CONF_OK)
    {
        return NGX_ERROR;
    }

    if (lcf->invitation_link) {
        return NGX_OK;
    }

    lcf->invitation_link = ngx_palloc(cf->pool,
                                      sizeof(ngx_http_complex_value_t));
    if (lcf->invitation_link == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &ngx_http_livekit_invite_link;
    ccv.complex_value = lcf->invitation_link;

    return ngx_http_compile_complex_value(&ccv);
}


ngx_int_t
ngx_http_livekit_invite_admin_handler(ngx_http_request_t *r)
{
    ngx_int_t                           rc;
    ngx_http_livekit_error_t            err;
    ngx_http_livekit_token_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_livekit_token_module);

    if (r->method != NGX_HTTP_POST) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        if (ngx_http_livekit_header_out(r, "Allow",
                                        &ngx_http_livekit_invite_allow)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        (void) ngx_http_livekit_fail(&err, NGX_HTTP_LIVEKIT_METHOD_NOT_ALLOWED,
                   "POST an invitation request: {\"room\":\"...\","
                   "\"role\":\"...\"}");
        return ngx_http_livekit_reply_error(r, &err);
    }

    if (r->headers_in.content_length_n > (off_t) lcf->body_max) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        (void) ngx_http_livekit_fail(&err, NGX_HTTP_LIVEKIT_BODY_TOO_LARGE,
                   "an invitation request is a small JSON object");
        return ngx_http_livekit_reply_error(r, &err);
    }

    rc = ngx_http_read_client_request_body(r, ngx_http_livekit_invite_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_livekit_invite_body(ngx_http_request_t *r)
{
    ngx_http_finalize_request(r, ngx_http_livekit_invite_create(r));
}


static ngx_int_t
ngx_http_livekit_invite_create(ngx_http_request_t *r)
{
    u_char                             *p;
    json_t                             *root;
    ngx_int_t                           rc;
    ngx_str_t                           body, text;
    ngx_log_t                           log;
    ngx_pool_cleanup_t                 *cln;
    ngx_http_livekit_key_t             *key;
    ngx_http_livekit_error_t            err;
    ngx_http_livekit_invitation_t       inv;
    ngx_http_livekit_token_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_livekit_token_module);

    rc = ngx_http_livekit_request_body(r, lcf->body_max, &body);

    if (rc == NGX_DECLINED) {
        (void) ngx_http_livekit_fail(&err, NGX_HTTP_LIVEKIT_BODY_TOO_LARGE,
                   "an invitation request is a small JSON object");
        return ngx_http_livekit_reply_error(r, &err);
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (rc != NGX_OK || cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    root = json_loadb((char *) body.data, body.len, JSON_REJECT_DUPLICATES,
                      NULL);

    cln->handler = ngx_http_livekit_json_cleanup;
    cln->data = root;

    rc = ngx_http_livekit_invite_read(r, root, &inv, &err);

    if (rc == NGX_DECLINED) {
        return ngx_http_livekit_reply_error(r, &err);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    key = ngx_http_livekit_keyset_current(lcf->keyset);

    if (key == NULL) {
        (void) ngx_http_livekit_fail(&err, NGX_HTTP_LIVEKIT_KEYS_NOT_LOADED,
                   "the server has no signing key yet; retry after a few "
                   "seconds");
        return ngx_http_livekit_reply_error(r, &err);
    }

    ngx_http_livekit_reply_log(r, &log);

    p = ngx_pnalloc(r->pool, NGX_HTTP_LIVEKIT_INVITE_ID_LEN);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    inv.id.data = p;
    p = ngx_http_livekit_random_id(&log, p, NGX_HTTP_LIVEKIT_INVITE_ID_BYTES);

    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    inv.id.len = p - inv.id.data;

    if (ngx_http_livekit_invite_sign(r->pool, &log, key, &inv, &text)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_livekit_invite_reply(r, &inv, &text);
}


/* the request's fields, checked as a token request's are */

static ngx_int_t
ngx_http_livekit_invite_read(ngx_http_request_t *r, json_t *root,
    ngx_http_livekit_invitation_t *inv, ngx_http_livekit_error_t *err)
{
    json_t                              *v;
    time_t                               max_ttl, ttl;
    const char                          *key;
    ngx_http_livekit_token_main_conf_t  *tmcf;

    ngx_memzero(inv, sizeof(ngx_http_livekit_invitation_t));

    if (!json_is_object(root)) {
        return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_INVALID_JSON,
                   "the body must be one JSON object, e.g. "
                   "{\"room\":\"consult-42\",\"role\":\"client\"}");
    }

    json_object_foreach(root, key, v) {
        if (ngx_strcmp(key, "room") != 0 && ngx_strcmp(key, "role") != 0
            && ngx_strcmp(key, "identity") != 0
            && ngx_strcmp(key, "name") != 0
            && ngx_strcmp(key, "expires_in") != 0
            && ngx_strcmp(key, "single_use") != 0)
        {
            return ngx_http_livekit_fail(err,
                       NGX_HTTP_LIVEKIT_INVALID_INVITATION_REQUEST,
                       "unknown field: use room, role, identity, name, "
                       "expires_in, single_use");
        }
    }

    if (ngx_http_livekit_invite_field(root, "room", 1,
                                      NGX_HTTP_LIVEKIT_MAX_NAME, &inv->room,
                                      err) != NGX_OK
        || ngx_http_livekit_invite_field(root, "role", 1,
                                         NGX_HTTP_LIVEKIT_MAX_NAME,
                                         &inv->role, err) != NGX_OK
        || ngx_http_livekit_invite_field(root, "identity", 0,
                                         NGX_HTTP_LIVEKIT_MAX_NAME,
                                         &inv->identity, err) != NGX_OK
        || ngx_http_livekit_invite_field(root, "name", 0,
                                         NGX_HTTP_LIVEKIT_MAX_NAME,
                                         &inv->name, err) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_livekit_token_module);

    if (ngx_http_livekit_role_find(tmcf->roles, &inv->role) == NULL) {
        return ngx_http_livekit_fail(err,
                   NGX_HTTP_LIVEKIT_INVALID_INVITATION_REQUEST,
                   "role is not one of this server's livekit_invitation_role "
                   "names");
    }

    v = json_object_get(root, "single_use");

    if (v && !json_is_boolean(v)) {
        return ngx_http_livekit_fail(err,
                   NGX_HTTP_LIVEKIT_INVALID_INVITATION_REQUEST,
                   "single_use is true or false");
    }

    inv->single_use = json_is_true(v);

    max_ttl = ngx_http_livekit_revoke_max_ttl(r);
    ttl = ngx_min(NGX_HTTP_LIVEKIT_INVITE_DEFAULT, max_ttl);

    v = json_object_get(root, "expires_in");

    if (v) {
        if (!json_is_integer(v)
            || json_integer_value(v) < NGX_HTTP_LIVEKIT_INVITE_MIN
            || json_integer_value(v) > max_ttl)
        {
            return ngx_http_livekit_fail(err,
                       NGX_HTTP_LIVEKIT_INVALID_INVITATION_REQUEST,
                       "expires_in is a number of seconds from 60 to the "
                       "revocation zone's max_ttl (GET the revocation "
                       "admin for it)");
        }

        ttl = (time_t) json_integer_value(v);
    }

    inv->expires = ngx_time() + ttl;

    return NGX_OK;
}


static ngx_int_t
ngx_http_livekit_invite_field(json_t *root, const char *name,
    ngx_uint_t required, size_t max, ngx_str_t *s,
    ngx_http_livekit_error_t *err)
{
    json_t  *v;

    ngx_str_null(s);

    v = json_object_get(root, name);

    if (v == NULL && !required) {
        return NGX_OK;
    }

    if (!json_is_string(v) || json_string_length(v) == 0
        || json_string_length(v) > max)
    {
        return ngx_http_livekit_fail(err,
                   NGX_HTTP_LIVEKIT_INVALID_INVITATION_REQUEST,
                   "room and role are required; room, role, identity and "
                   "name are strings of 1 to 256 bytes");
    }

    s->data = (u_char *) json_string_value(v);
    s->len = json_string_length(v);

    return ngx_http_livekit_check_text(s, 0, err);
}


/* 201 {"invitation","id","link","room","role",...,"expires"} */

static ngx_int_t
ngx_http_livekit_invite_reply(ngx_http_request_t *r,
    ngx_http_livekit_invitation_t *inv, ngx_str_t *text)
{
    u_char                             *p;
    json_t                             *o;
    ngx_str_t                           link, base;
    ngx_buf_t                          *b;
    ngx_http_livekit_error_t            err;
    ngx_http_livekit_token_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_livekit_token_module);

    if (ngx_http_complex_value(r, lcf->invitation_link, &base) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* $host and the like are the client's: text, like its own values */

    if (ngx_http_livekit_check_text(&base, 0, &err) != NGX_OK) {
        return ngx_http_livekit_reply_error(r, &err);
    }

    link.len = base.len + text->len;
    link.data = ngx_pnalloc(r->pool, link.len);
    if (link.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(link.data, base.data, base.len);
    (void) ngx_cpymem(p, text->data, text->len);

    o = json_pack("{s:s%,s:s%,s:s%,s:s%,s:s%,s:I,s:b}",
                  "invitation", text->data, text->len,
                  "id", inv->id.data, inv->id.len,
                  "link", link.data, link.len,
                  "room", inv->room.data, inv->room.len,
                  "role", inv->role.data, inv->role.len,
                  "expires", (json_int_t) inv->expires,
                  "single_use", (int) inv->single_use);

    if (o
        && ((inv->identity.len
             && json_object_set_new(o, "identity",
                    json_stringn((char *) inv->identity.data,
                                 inv->identity.len)) != 0)
            || (inv->name.len
                && json_object_set_new(o, "name",
                       json_stringn((char *) inv->name.data, inv->name.len))
                   != 0)))
    {
        json_decref(o);
        o = NULL;
    }

    b = ngx_http_livekit_json_buf(r->pool, o);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_livekit_reply(r, NGX_HTTP_CREATED, b);
}

