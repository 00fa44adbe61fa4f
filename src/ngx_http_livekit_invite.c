
/*
 * Invitations.
 *
 * Owns: livekit_invitation_role (a role's name and grants), the signed
 * form of an invitation, and a token location that mints only within
 * one (livekit_token_invitation required): the room, the identity and
 * the name pinned from it, the grants of its role, the token's life
 * bounded by the invitation's, and a single-use invitation used once.
 * Does not own: creating invitations (_invite_admin.c), the list that
 * remembers revoked and used ones (_revoke.c), the claims (_jwt.c).
 *
 * An invitation is base64url(JSON) "." base64url(HMAC-SHA256), the MAC
 * over "livekit-invitation." and the encoded JSON, with the secret of a
 * key of the location's key set: no token is ever a valid invitation, nor
 * the other way round.  Its signature is checked against each key before
 * a byte of its JSON is parsed:
 *
 *   {"v":1,"id":"<16 random>","room":"r","role":"client",
 *    "identity":"jane","name":"Jane","exp":1765000000,"single_use":true}
 *
 * identity and name optional, single_use absent when false.
 */

#include "ngx_http_livekit_token.h"

#include <openssl/crypto.h>


#define NGX_HTTP_LIVEKIT_INVITE_MAX       4096
#define NGX_HTTP_LIVEKIT_INVITE_ID_MAX    64
#define NGX_HTTP_LIVEKIT_ROLE_MAX         64

/* made-up identities: <role>-<12 characters> */
#define NGX_HTTP_LIVEKIT_GUEST_BYTES      9

/* times read from an invitation: at most the year 2100 */
#define NGX_HTTP_LIVEKIT_INVITE_TIME_MAX  4102444800LL


static ngx_str_t  ngx_http_livekit_invite_prefix =
    ngx_string("livekit-invitation.");


static ngx_int_t ngx_http_livekit_invite_role_name(ngx_str_t *name);
static ngx_int_t ngx_http_livekit_invite_canonical(ngx_str_t *sig,
    ngx_str_t *text);
static ngx_int_t ngx_http_livekit_invite_verify(ngx_log_t *log,
    ngx_array_t *keysets, u_char *payload, size_t len, ngx_str_t *sig);
static ngx_int_t ngx_http_livekit_invite_fields(json_t *o,
    ngx_http_livekit_invitation_t *inv);
static ngx_int_t ngx_http_livekit_invite_text(json_t *o, const char *name,
    size_t max, ngx_uint_t required, ngx_str_t *s);
static ngx_int_t ngx_http_livekit_invite_pin(ngx_http_request_t *r,
    ngx_http_livekit_invitation_t *inv, ngx_http_livekit_claims_t *c,
    ngx_http_livekit_error_t *err);
static ngx_int_t ngx_http_livekit_invite_state(ngx_http_request_t *r,
    ngx_str_t *id, ngx_uint_t use, time_t expires,
    ngx_http_livekit_error_t *err);


/*
 * livekit_invitation_role name grant ...;   (http)
 * The grant words are livekit_token_grants' (roomJoin, canPublish, ...).
 */

char *
ngx_http_livekit_invitation_role(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_livekit_token_main_conf_t *tmcf = conf;

    ngx_str_t                *value;
    ngx_uint_t                i;
    ngx_http_livekit_role_t  *role;

    value = cf->args->elts;

    if (ngx_http_livekit_invite_role_name(&value[1]) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid role name \"%V\" in \"%V\" (1 to 64 "
                           "letters, digits, \"-\" or \"_\")",
                           &value[1], &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (tmcf->roles == NULL) {
        tmcf->roles = ngx_array_create(cf->pool, 4,
                                       sizeof(ngx_http_livekit_role_t));
        if (tmcf->roles == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_http_livekit_role_find(tmcf->roles, &value[1])) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "role \"%V\" is defined twice", &value[1]);
        return NGX_CONF_ERROR;
    }

    role = ngx_array_push(tmcf->roles);
    if (role == NULL) {
        return NGX_CONF_ERROR;
    }

    role->name = value[1];
    role->grants = 0;

    for (i = 2; i < cf->args->nelts; i++) {
        if (ngx_http_livekit_grant_word(cf, cmd, &value[i], &role->grants)
            != NGX_CONF_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_livekit_invite_role_name(ngx_str_t *name)
{
    size_t  i;

    if (name->len == 0 || name->len > NGX_HTTP_LIVEKIT_ROLE_MAX) {
        return NGX_DECLINED;
    }

    for (i = 0; i < name->len; i++) {
        if (!isalnum(name->data[i])
            && name->data[i] != '-' && name->data[i] != '_')
        {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


ngx_http_livekit_role_t *
ngx_http_livekit_role_find(ngx_array_t *roles, ngx_str_t *name)
{
    ngx_uint_t                i;
    ngx_http_livekit_role_t  *role;

    if (roles == NULL) {
        return NULL;
    }

    role = roles->elts;

    for (i = 0; i < roles->nelts; i++) {
        if (role[i].name.len == name->len
            && ngx_strncmp(role[i].name.data, name->data, name->len) == 0)
        {
            return &role[i];
        }
    }

    return NULL;
}


/* livekit_token_invitation off | required [ttl=invitation|location]; */

char *
ngx_http_livekit_token_invitation(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_livekit_token_loc_conf_t *lcf = conf;

    ngx_str_t  *value;

    if (lcf->invitation != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    lcf->invitation_ttl = 0;

    if (ngx_strcmp(value[1].data, "off") == 0 && cf->args->nelts == 2) {
        lcf->invitation = NGX_HTTP_LIVEKIT_INVITE_OFF;
        return NGX_CONF_OK;
    }

    if (ngx_strcmp(value[1].data, "required") != 0) {
        goto invalid;
    }

    lcf->invitation = NGX_HTTP_LIVEKIT_INVITE_REQUIRED;

    if (cf->args->nelts == 2
        || ngx_strcmp(value[2].data, "ttl=invitation") == 0)
    {
        return NGX_CONF_OK;
    }

    if (ngx_strcmp(value[2].data, "ttl=location") == 0) {
        lcf->invitation_ttl = 1;
        return NGX_CONF_OK;
    }

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid value in \"%V\" (off, or required with "
                       "ttl=invitation or ttl=location)", &cmd->name);
    return NGX_CONF_ERROR;
}


/* what invitations need in http {}: the zone and a role */

ngx_int_t
ngx_http_livekit_invite_conf(ngx_conf_t *cf, const char *directive)
{
    ngx_http_livekit_token_main_conf_t  *tmcf;

    tmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_livekit_token_module);

    if (tmcf->revocations && tmcf->roles) {
        return NGX_OK;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"%s\" needs \"livekit_revocation_zone\" and at "
                       "least one \"livekit_invitation_role\" in http {}",
                       directive);
    return NGX_ERROR;
}


/*
 * Postconfiguration, for a token location that requires invitations:
 * the revocation zone (revoked and used invitations), every key an
 * invitation may be signed with, and each role's grant JSON here.
 */

ngx_int_t
ngx_http_livekit_invite_init(ngx_conf_t *cf,
    ngx_http_livekit_token_loc_conf_t *lcf)
{
    ngx_uint_t                           i;
    ngx_http_livekit_role_t             *role;
    ngx_http_livekit_role_grants_t      *rg;
    ngx_http_livekit_token_loc_conf_t    tmp;
    ngx_http_livekit_token_main_conf_t  *tmcf;

    if (ngx_http_livekit_invite_conf(cf, "livekit_token_invitation required")
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    tmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_livekit_token_module);

    if (lcf->room || lcf->identity) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"livekit_token_invitation required\" sets the "
                           "room and identity from the invitation: remove "
                           "\"livekit_token_room\" and "
                           "\"livekit_token_identity\"");
        return NGX_ERROR;
    }

    if (ngx_http_livekit_keyset_all(cf, lcf, "livekit_token_invitation",
                                    &lcf->verify_keys)
        != NGX_CONF_OK)
    {
        return NGX_ERROR;
    }

    lcf->role_grants = ngx_array_create(cf->pool, tmcf->roles->nelts,
                                        sizeof(ngx_http_livekit_role_grants_t));
    if (lcf->role_grants == NULL) {
        return NGX_ERROR;
    }

    role = tmcf->roles->elts;

    for (i = 0; i < tmcf->roles->nelts; i++) {
        tmp = *lcf;
        tmp.grants = role[i].grants;

        if (ngx_http_livekit_jwt_grant_init(cf, &tmp) != NGX_OK) {
            return NGX_ERROR;
        }

        rg = ngx_array_push(lcf->role_grants);
        if (rg == NULL) {
            return NGX_ERROR;
        }

        rg->name = role[i].name;
        rg->video[0] = tmp.video[0];
        rg->video[1] = tmp.video[1];
    }

    return NGX_OK;
}


/* the signed text of "inv", in "out" from "pool" */

ngx_int_t
ngx_http_livekit_invite_sign(ngx_pool_t *pool, ngx_log_t *log,
    ngx_http_livekit_key_t *key, ngx_http_livekit_invitation_t *inv,
    ngx_str_t *out)
{
    u_char      sig[EVP_MAX_MD_SIZE];
    size_t      siglen, len;
    json_t     *o;
    ngx_str_t   src, dst;

    o = json_pack("{s:i,s:s%,s:s%,s:s%,s:I}", "v", 1,
                  "id", inv->id.data, inv->id.len,
                  "room", inv->room.data, inv->room.len,
                  "role", inv->role.data, inv->role.len,
                  "exp", (json_int_t) inv->expires);
    if (o == NULL) {
        return NGX_ERROR;
    }

    if ((inv->identity.len
         && json_object_set_new(o, "identity",
                json_stringn((char *) inv->identity.data, inv->identity.len))
            != 0)
        || (inv->name.len
            && json_object_set_new(o, "name",
                   json_stringn((char *) inv->name.data, inv->name.len))
               != 0)
        || (inv->single_use
            && json_object_set_new(o, "single_use", json_true()) != 0))
    {
        json_decref(o);
        return NGX_ERROR;
    }

    len = json_dumpb(o, NULL, 0, JSON_COMPACT);

    src.data = (len && len <= NGX_HTTP_LIVEKIT_INVITE_MAX)
               ? ngx_pnalloc(pool, len) : NULL;

    if (src.data == NULL) {
        json_decref(o);
        return NGX_ERROR;
    }

    src.len = json_dumpb(o, (char *) src.data, len, JSON_COMPACT);
    json_decref(o);

    out->data = ngx_pnalloc(pool, ngx_base64_encoded_length(len) + 1
                                  + ngx_base64_encoded_length(sizeof(sig)));
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    ngx_encode_base64url(out, &src);

    if (ngx_http_livekit_hmac(log, key, &ngx_http_livekit_invite_prefix,
                              out->data, out->len, sig, &siglen)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    out->data[out->len] = '.';

    src.data = sig;
    src.len = siglen;
    dst.data = out->data + out->len + 1;
    ngx_encode_base64url(&dst, &src);

    out->len += 1 + dst.len;

    return NGX_OK;
}


/*
 * Reads an invitation a client brought: NGX_OK with "inv" (its strings
 * from "pool"), NGX_DECLINED with invitation_invalid, NGX_ERROR.  Its
 * expiry and state are the caller's business.
 */

ngx_int_t
ngx_http_livekit_invite_parse(ngx_pool_t *pool, ngx_log_t *log,
    ngx_array_t *keysets, ngx_str_t *text,
    ngx_http_livekit_invitation_t *inv, ngx_http_livekit_error_t *err)
{
    u_char              *dot, *last;
    json_t              *o;
    ngx_int_t            rc;
    ngx_str_t            src, payload, sig;
    ngx_pool_cleanup_t  *cln;

    ngx_memzero(inv, sizeof(ngx_http_livekit_invitation_t));

    last = text->data + text->len;
    dot = (text->len <= NGX_HTTP_LIVEKIT_INVITE_MAX)
          ? ngx_strlchr(text->data, last, '.') : NULL;

    if (dot == NULL || ngx_strlchr(dot + 1, last, '.') != NULL) {
        goto invalid;
    }

    src.data = dot + 1;
    src.len = last - src.data;

    sig.data = ngx_pnalloc(pool, ngx_base64_decoded_length(src.len) + 1);
    if (sig.data == NULL) {
        return NGX_ERROR;
    }

    if (ngx_decode_base64url(&sig, &src) != NGX_OK
        || sig.len != NGX_HTTP_LIVEKIT_HS256_LEN
        || ngx_http_livekit_invite_canonical(&sig, &src) != NGX_OK)
    {
        goto invalid;
    }

    rc = ngx_http_livekit_invite_verify(log, keysets, text->data,
                                        dot - text->data, &sig);
    if (rc != NGX_OK) {
        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_INVITATION_INVALID,
                   "this invitation was not signed by this server's keys "
                   "(altered, or signed with a key it no longer has): "
                   "ask for a new one");
    }

    /* signed by us: now its JSON */

    src.data = text->data;
    src.len = dot - text->data;

    payload.data = ngx_pnalloc(pool, ngx_base64_decoded_length(src.len) + 1);
    cln = ngx_pool_cleanup_add(pool, 0);

    if (payload.data == NULL || cln == NULL) {
        return NGX_ERROR;
    }

    if (ngx_decode_base64url(&payload, &src) != NGX_OK) {
        goto invalid;
    }

    o = json_loadb((char *) payload.data, payload.len,
                   JSON_REJECT_DUPLICATES, NULL);
    if (o == NULL) {
        goto invalid;
    }

    cln->handler = ngx_http_livekit_json_cleanup;
    cln->data = o;

    if (ngx_http_livekit_invite_fields(o, inv) == NGX_OK) {
        return NGX_OK;
    }

invalid:

    return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_INVITATION_INVALID,
               "this is not an invitation of this server: open the link "
               "exactly as you received it");
}


/*
 * The signature's text must be the one encoding of its bytes: no padding,
 * no stray low bits in the last character, so that an invitation has one
 * spelling only (fuzz/regressions/invite-padded-signature).
 */

static ngx_int_t
ngx_http_livekit_invite_canonical(ngx_str_t *sig, ngx_str_t *text)
{
    u_char     buf[ngx_base64_encoded_length(NGX_HTTP_LIVEKIT_HS256_LEN)];
    ngx_str_t  again;

    again.data = buf;
    ngx_encode_base64url(&again, sig);

    return (again.len == text->len
            && ngx_memcmp(again.data, text->data, text->len) == 0)
           ? NGX_OK : NGX_DECLINED;
}


/* NGX_OK when a key of the set made "sig" over the payload */

static ngx_int_t
ngx_http_livekit_invite_verify(ngx_log_t *log, ngx_array_t *keysets,
    u_char *payload, size_t len, ngx_str_t *sig)
{
    u_char                       mac[EVP_MAX_MD_SIZE];
    size_t                       maclen;
    ngx_uint_t                   i;
    ngx_http_livekit_key_t      *key;
    ngx_http_livekit_keyset_t  **ks;

    ks = keysets->elts;

    for (i = 0; i < keysets->nelts; i++) {
        key = ngx_http_livekit_keyset_current(ks[i]);

        if (key == NULL) {
            continue;
        }

        if (ngx_http_livekit_hmac(log, key, &ngx_http_livekit_invite_prefix,
                                  payload, len, mac, &maclen)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (maclen == sig->len && CRYPTO_memcmp(mac, sig->data, maclen) == 0)
        {
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


/* the fields of a signed invitation, each checked again */

static ngx_int_t
ngx_http_livekit_invite_fields(json_t *o, ngx_http_livekit_invitation_t *inv)
{
    json_t      *v;
    const char  *key;

    if (!json_is_object(o)) {
        return NGX_DECLINED;
    }

    json_object_foreach(o, key, v) {
        if (ngx_strcmp(key, "v") != 0 && ngx_strcmp(key, "id") != 0
            && ngx_strcmp(key, "room") != 0 && ngx_strcmp(key, "role") != 0
            && ngx_strcmp(key, "identity") != 0
            && ngx_strcmp(key, "name") != 0 && ngx_strcmp(key, "exp") != 0
            && ngx_strcmp(key, "single_use") != 0)
        {
            return NGX_DECLINED;
        }
    }

    v = json_object_get(o, "v");

    if (!json_is_integer(v) || json_integer_value(v) != 1) {
        return NGX_DECLINED;
    }

    v = json_object_get(o, "exp");

    if (!json_is_integer(v) || json_integer_value(v) <= 0
        || json_integer_value(v) > NGX_HTTP_LIVEKIT_INVITE_TIME_MAX)
    {
        return NGX_DECLINED;
    }

    inv->expires = (time_t) json_integer_value(v);

    v = json_object_get(o, "single_use");

    if (v && !json_is_boolean(v)) {
        return NGX_DECLINED;
    }

    inv->single_use = json_is_true(v);

    if (ngx_http_livekit_invite_text(o, "id", NGX_HTTP_LIVEKIT_INVITE_ID_MAX,
                                     1, &inv->id)
        != NGX_OK
        || ngx_http_livekit_invite_text(o, "room", NGX_HTTP_LIVEKIT_MAX_NAME,
                                        1, &inv->room)
           != NGX_OK
        || ngx_http_livekit_invite_text(o, "role", NGX_HTTP_LIVEKIT_ROLE_MAX,
                                        1, &inv->role)
           != NGX_OK
        || ngx_http_livekit_invite_text(o, "identity",
                                        NGX_HTTP_LIVEKIT_MAX_NAME, 0,
                                        &inv->identity)
           != NGX_OK
        || ngx_http_livekit_invite_text(o, "name", NGX_HTTP_LIVEKIT_MAX_NAME,
                                        0, &inv->name)
           != NGX_OK)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* a string field: 1 to "max" bytes of text, or absent when not required */

static ngx_int_t
ngx_http_livekit_invite_text(json_t *o, const char *name, size_t max,
    ngx_uint_t required, ngx_str_t *s)
{
    json_t                    *v;
    ngx_http_livekit_error_t   err;

    ngx_str_null(s);

    v = json_object_get(o, name);

    if (v == NULL) {
        return required ? NGX_DECLINED : NGX_OK;
    }

    if (!json_is_string(v) || json_string_length(v) == 0
        || json_string_length(v) > max)
    {
        return NGX_DECLINED;
    }

    s->data = (u_char *) json_string_value(v);
    s->len = json_string_length(v);

    return ngx_http_livekit_check_text(s, 0, &err);
}


/*
 * /token with livekit_token_invitation required: before the location's
 * policy, the client's invitation decides the room, the identity, the
 * name when it has one, the grants and the latest expiry.  A revoked or
 * used invitation is refused here already; a single-use one is marked
 * used only when the token is about to be signed
 * (ngx_http_livekit_invite_use()), so that a request the policy refuses
 * does not spend it.
 */

ngx_int_t
ngx_http_livekit_invite_apply(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf, ngx_http_livekit_claims_t *c,
    ngx_http_livekit_error_t *err)
{
    time_t                           now;
    ngx_int_t                        rc;
    ngx_log_t                        log;
    ngx_uint_t                       i;
    ngx_http_livekit_invitation_t    inv;
    ngx_http_livekit_role_grants_t  *rg;

    if (c->invite.len == 0) {
        return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_INVITATION_MISSING,
                   "this service issues tokens by invitation only: open the "
                   "link you were sent (it carries ?invite=...)");
    }

    ngx_http_livekit_reply_log(r, &log);

    rc = ngx_http_livekit_invite_parse(r->pool, &log, lcf->verify_keys,
                                       &c->invite, &inv, err);
    if (rc != NGX_OK) {
        return rc;
    }

    now = ngx_time();

    if (inv.expires <= now) {
        return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_INVITATION_EXPIRED,
                   "this invitation has expired: ask for a new one");
    }

    if (inv.expires - now > ngx_http_livekit_revoke_max_ttl(r)) {
        return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_INVITATION_INVALID,
                   "this invitation lives longer than this server keeps "
                   "revocations (livekit_revocation_zone max_ttl)");
    }

    rg = lcf->role_grants->elts;

    for (i = 0; i < lcf->role_grants->nelts; i++) {
        if (rg[i].name.len == inv.role.len
            && ngx_strncmp(rg[i].name.data, inv.role.data, inv.role.len) == 0)
        {
            break;
        }
    }

    if (i == lcf->role_grants->nelts) {
        return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_INVITATION_INVALID,
                   "this invitation's role is not defined here any more "
                   "(livekit_invitation_role): ask for a new one");
    }

    rc = ngx_http_livekit_invite_state(r, &inv.id, 0,
                                       inv.single_use ? inv.expires : 0, err);
    if (rc != NGX_OK) {
        return rc;
    }

    c->video = rg[i].video;
    c->invitation = inv.id;
    c->expires = lcf->invitation_ttl ? 0 : inv.expires;
    c->single_use = inv.single_use ? inv.expires : 0;

    return ngx_http_livekit_invite_pin(r, &inv, c, err);
}


/* the invitation's room, identity and name replace what the client sent */

static ngx_int_t
ngx_http_livekit_invite_pin(ngx_http_request_t *r,
    ngx_http_livekit_invitation_t *inv, ngx_http_livekit_claims_t *c,
    ngx_http_livekit_error_t *err)
{
    u_char     *p;
    ngx_log_t   log;

    if (c->room.len
        && (c->room.len != inv->room.len
            || ngx_memcmp(c->room.data, inv->room.data, inv->room.len) != 0))
    {
        return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_ROOM_PINNED,
                   "the invitation names the room: do not send room / "
                   "room_name");
    }

    if (c->identity.len
        && (c->identity.len != inv->identity.len
            || ngx_memcmp(c->identity.data, inv->identity.data,
                          inv->identity.len) != 0))
    {
        return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_IDENTITY_PINNED,
                   "the invitation sets the participant identity: do not "
                   "send participant / participant_identity");
    }

    if (c->name.len && inv->name.len
        && (c->name.len != inv->name.len
            || ngx_memcmp(c->name.data, inv->name.data, inv->name.len) != 0))
    {
        return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_NAME_PINNED,
                   "the invitation sets the participant name: do not send "
                   "name / participant_name");
    }

    c->room = inv->room;

    if (inv->name.len) {
        c->name = inv->name;
    }

    if (inv->identity.len) {
        c->identity = inv->identity;
        return NGX_OK;
    }

    /* none: the role and a random suffix, new for each token */

    p = ngx_pnalloc(r->pool, inv->role.len + 1
                    + ngx_base64_encoded_length(NGX_HTTP_LIVEKIT_GUEST_BYTES));
    if (p == NULL) {
        return NGX_ERROR;
    }

    c->identity.data = p;
    p = ngx_cpymem(p, inv->role.data, inv->role.len);
    *p++ = '-';

    ngx_http_livekit_reply_log(r, &log);

    p = ngx_http_livekit_random_id(&log, p, NGX_HTTP_LIVEKIT_GUEST_BYTES);
    if (p == NULL) {
        return NGX_ERROR;
    }

    c->identity.len = p - c->identity.data;

    return NGX_OK;
}


/* the token is about to be signed: a single-use invitation is spent */

ngx_int_t
ngx_http_livekit_invite_use(ngx_http_request_t *r,
    ngx_http_livekit_claims_t *c, ngx_http_livekit_error_t *err)
{
    if (c->single_use == 0) {
        return NGX_OK;
    }

    return ngx_http_livekit_invite_state(r, &c->invitation, 1,
                                         c->single_use, err);
}


static ngx_int_t
ngx_http_livekit_invite_state(ngx_http_request_t *r, ngx_str_t *id,
    ngx_uint_t use, time_t expires, ngx_http_livekit_error_t *err)
{
    switch (ngx_http_livekit_invitation_state(r, id, use, expires)) {

    case NGX_OK:
        return NGX_OK;

    case NGX_DECLINED:
        return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_INVITATION_REVOKED,
                   "this invitation has been revoked: ask for a new one");

    case NGX_BUSY:
        return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_INVITATION_USED,
                   "this invitation was for one use and has been used: "
                   "ask for a new one");

    case NGX_AGAIN:
        return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_REVOCATIONS_FULL,
                   "the server cannot record one more used invitation "
                   "(livekit_revocation_zone is full)");

    default:
        return NGX_ERROR;
    }
}
