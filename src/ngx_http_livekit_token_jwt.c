
/*
 * Claims and the HS256 signature.
 *
 * Owns: the LiveKit claim set (iss, sub, nbf, exp, name, metadata,
 * attributes, the grants of the grant table, kind, roomPreset and
 * roomConfig), its base64url encoding and the HMAC-SHA256 signature with
 * the key's pre-keyed context; and reading and checking an HS256 token
 * someone else signed (a webhook's).
 * Does not own: where the claims come from or whether they are allowed
 * (_request.c), nor where the key comes from (_keys.c).
 *
 * This is the per-request hot path, so the claims are written straight
 * into one pool buffer: strings escaped once with nginx's ngx_escape_json()
 * (they were checked to be valid UTF-8 before they get here), the JWT
 * header, the grants and the configuration's roomConfig precomputed at
 * configuration time.  Only the objects a POST body brings (attributes,
 * the client's agents) go through jansson, which built them.
 */

#include "ngx_http_livekit_token.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>


/* a token's id: 12 random bytes, 16 characters of base64url */
#define NGX_HTTP_LIVEKIT_JTI_BYTES  12
#define NGX_HTTP_LIVEKIT_JTI_LEN    16

/* a token a client sends us (a webhook's) is at most this long */
#define NGX_HTTP_LIVEKIT_JWT_MAX  16384


static u_char     ngx_http_livekit_jwt_header_buf[64];
static ngx_str_t  ngx_http_livekit_jwt_header;


#define ngx_http_livekit_b64url_len(n)   (((n) * 4 + 2) / 3)


static ngx_int_t ngx_http_livekit_jwt_mac(ngx_log_t *log,
    ngx_http_livekit_key_t *key, u_char *data, size_t len, u_char *sig,
    size_t *siglen);
static ngx_int_t ngx_http_livekit_jwt_part(ngx_pool_t *pool, u_char *start,
    u_char *end, ngx_str_t *out);
static u_char *ngx_http_livekit_jwt_video(u_char *p,
    ngx_http_livekit_token_loc_conf_t *lcf);
static u_char *ngx_http_livekit_jwt_objects(u_char *p,
    ngx_http_livekit_token_loc_conf_t *lcf);
static u_char *ngx_http_livekit_json_str(u_char *p, const char *name,
    size_t len, ngx_str_t *value);
static ngx_int_t ngx_http_livekit_jwt_escape(ngx_pool_t *pool,
    ngx_http_livekit_claims_t *c, ngx_str_t *iss);
static ngx_int_t ngx_http_livekit_jwt_optional_len(
    ngx_http_livekit_token_loc_conf_t *lcf, ngx_http_livekit_claims_t *c,
    size_t *attr_len, size_t *config_len, size_t *len);
static u_char *ngx_http_livekit_jwt_id(ngx_http_request_t *r, u_char *p);
static u_char *ngx_http_livekit_json_obj(u_char *p, const char *name,
    size_t len, json_t *value, size_t vlen);


ngx_int_t
ngx_http_livekit_jwt_init(ngx_conf_t *cf)
{
    ngx_str_t  header = ngx_string("{\"alg\":\"HS256\",\"typ\":\"JWT\"}");

    ngx_http_livekit_jwt_header.data = ngx_http_livekit_jwt_header_buf;
    ngx_encode_base64url(&ngx_http_livekit_jwt_header, &header);

    return NGX_OK;
}


/*
 * The grants around the room, fixed per location:
 * video[0] is ,"video":{"roomJoin":true,"room":"
 * video[1] is ","canPublish":true,...},"sip":{...},"kind":"agent"
 * with every grant of the grant table in its claim object.
 */

ngx_int_t
ngx_http_livekit_jwt_grant_init(ngx_conf_t *cf,
    ngx_http_livekit_token_loc_conf_t *lcf)
{
    u_char                    *p;
    size_t                     len;
    ngx_str_t                 *src;
    ngx_uint_t                 i;
    ngx_http_livekit_grant_t  *g;

    if (lcf->grants & NGX_HTTP_LIVEKIT_ROOM_JOIN) {
        ngx_str_set(&lcf->video[0],
                    ",\"video\":{\"roomJoin\":true,\"room\":\"");

    } else {
        ngx_str_set(&lcf->video[0], ",\"video\":{\"room\":\"");
    }

    len = sizeof("\"}") - 1 + sizeof(",\"canPublishSources\":[]") - 1
          + sizeof(",\"destinationRoom\":\"\",\"kind\":\"\"") - 1
          + sizeof(",\"roomPreset\":\"\"") - 1
          + 6 * (lcf->destination_room.len + lcf->kind.len
                 + lcf->room_preset.len);

    for (g = ngx_http_livekit_grants; g->word.len; g++) {
        len += sizeof(",\"\":{\"\":false}") - 1 + ngx_strlen(g->object)
               + ngx_strlen(g->claim);
    }

    src = lcf->sources ? lcf->sources->elts : NULL;

    for (i = 0; lcf->sources && i < lcf->sources->nelts; i++) {
        len += src[i].len + sizeof(",\"\"") - 1;
    }

    p = ngx_pnalloc(cf->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    lcf->video[1].data = p;

    *p++ = '"';
    p = ngx_http_livekit_jwt_video(p, lcf);
    *p++ = '}';
    p = ngx_http_livekit_jwt_objects(p, lcf);

    if (lcf->kind.len) {
        p = ngx_cpymem(p, ",\"kind\":\"", sizeof(",\"kind\":\"") - 1);
        p = ngx_cpymem(p, lcf->kind.data, lcf->kind.len);
        *p++ = '"';
    }

    if (lcf->room_preset.len) {
        p = ngx_cpymem(p, ",\"roomPreset\":\"",
                       sizeof(",\"roomPreset\":\"") - 1);
        p = (u_char *) ngx_escape_json(p, lcf->room_preset.data,
                                       lcf->room_preset.len);
        *p++ = '"';
    }

    lcf->video[1].len = p - lcf->video[1].data;

    return NGX_OK;
}


/* the video grant after the room, up to its closing brace */

static u_char *
ngx_http_livekit_jwt_video(u_char *p, ngx_http_livekit_token_loc_conf_t *lcf)
{
    ngx_str_t                 *src;
    ngx_uint_t                 i;
    ngx_http_livekit_grant_t  *g;

    for (g = ngx_http_livekit_grants; g->word.len; g++) {

        if (ngx_strcmp(g->object, "video") != 0
            || g->flag == NGX_HTTP_LIVEKIT_ROOM_JOIN)
        {
            continue;
        }

        if (g->explicit || (lcf->grants & g->flag)) {
            p = ngx_sprintf(p, ",\"%s\":%s", g->claim,
                            (lcf->grants & g->flag) ? "true" : "false");
        }
    }

    if (lcf->sources) {
        p = ngx_cpymem(p, ",\"canPublishSources\":[",
                       sizeof(",\"canPublishSources\":[") - 1);

        src = lcf->sources->elts;
        for (i = 0; i < lcf->sources->nelts; i++) {
            p = ngx_sprintf(p, "%s\"%V\"", i ? "," : "", &src[i]);
        }

        *p++ = ']';
    }

    if (lcf->destination_room.len) {
        p = ngx_cpymem(p, ",\"destinationRoom\":\"",
                       sizeof(",\"destinationRoom\":\"") - 1);
        p = (u_char *) ngx_escape_json(p, lcf->destination_room.data,
                                       lcf->destination_room.len);
        *p++ = '"';
    }

    return p;
}


/* the other grant objects (sip, agent, ...), each only when granted */

static u_char *
ngx_http_livekit_jwt_objects(u_char *p,
    ngx_http_livekit_token_loc_conf_t *lcf)
{
    const char                *open;
    ngx_http_livekit_grant_t  *g;

    open = NULL;

    for (g = ngx_http_livekit_grants; g->word.len; g++) {

        if (open && ngx_strcmp(open, g->object) != 0) {
            *p++ = '}';
            open = NULL;
        }

        if (ngx_strcmp(g->object, "video") == 0
            || !(lcf->grants & g->flag))
        {
            continue;
        }

        if (open == NULL) {
            p = ngx_sprintf(p, ",\"%s\":{\"%s\":true", g->object, g->claim);
            open = g->object;

        } else {
            p = ngx_sprintf(p, ",\"%s\":true", g->claim);
        }
    }

    if (open) {
        *p++ = '}';
    }

    return p;
}


/*
 * The claims JSON, in one allocation from the request pool.  The strings
 * of "c" are replaced by their JSON-escaped forms, which the reply reuses.
 */

ngx_int_t
ngx_http_livekit_jwt_claims(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf, ngx_http_livekit_key_t *key,
    ngx_http_livekit_claims_t *c, ngx_str_t *json)
{
    u_char     *p;
    size_t      len, attr_len, config_len;
    time_t      now, exp;
    ngx_str_t   iss, *video;

    iss = key->name;
    video = c->video ? c->video : lcf->video;

    if (ngx_http_livekit_jwt_escape(r->pool, c, &iss) != NGX_OK) {
        return NGX_ERROR;
    }

    len = sizeof("{\"iss\":\"\",\"sub\":\"\",\"nbf\":,\"exp\":}") - 1
          + sizeof(",\"jti\":\"\"") - 1 + NGX_HTTP_LIVEKIT_JTI_LEN
          + iss.len + c->identity.len + 2 * NGX_TIME_T_LEN
          + video[0].len + c->room.len + video[1].len
          + sizeof(",\"inv\":\"\"") - 1 + c->invitation.len;

    if (ngx_http_livekit_jwt_optional_len(lcf, c, &attr_len, &config_len,
                                          &len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    json->data = p;
    now = ngx_time();

    p = ngx_http_livekit_json_str(p, "{\"iss\":\"", sizeof("{\"iss\":\"") - 1,
                                  &iss);
    p = ngx_http_livekit_json_str(p, ",\"sub\":\"", sizeof(",\"sub\":\"") - 1,
                                  &c->identity);
    p = ngx_http_livekit_jwt_id(r, p);
    if (p == NULL) {
        return NGX_ERROR;
    }

    exp = now + lcf->ttl;

    if (c->expires && c->expires < exp) {
        exp = c->expires;
    }

    p = ngx_sprintf(p, ",\"nbf\":%T,\"exp\":%T", now, exp);

    if (c->invitation.len) {
        p = ngx_http_livekit_json_str(p, ",\"inv\":\"",
                                      sizeof(",\"inv\":\"") - 1,
                                      &c->invitation);
    }

    if (c->name.len) {
        p = ngx_http_livekit_json_str(p, ",\"name\":\"",
                                      sizeof(",\"name\":\"") - 1, &c->name);
    }

    if (c->metadata.len) {
        p = ngx_http_livekit_json_str(p, ",\"metadata\":\"",
                                      sizeof(",\"metadata\":\"") - 1,
                                      &c->metadata);
    }

    if (attr_len) {
        p = ngx_http_livekit_json_obj(p, ",\"attributes\":",
                                      sizeof(",\"attributes\":") - 1,
                                      c->attributes, attr_len);
    }

    p = ngx_cpymem(p, video[0].data, video[0].len);
    p = ngx_cpymem(p, c->room.data, c->room.len);
    p = ngx_cpymem(p, video[1].data, video[1].len);

    if (config_len) {
        p = ngx_http_livekit_json_obj(p, ",\"roomConfig\":",
                                      sizeof(",\"roomConfig\":") - 1,
                                      c->room_config, config_len);

    } else if (lcf->room_config_json.len) {
        p = ngx_cpymem(p, ",\"roomConfig\":", sizeof(",\"roomConfig\":") - 1);
        p = ngx_cpymem(p, lcf->room_config_json.data,
                       lcf->room_config_json.len);
    }

    *p++ = '}';

    json->len = p - json->data;

    return NGX_OK;
}


/* the strings of the claims, JSON-escaped in place */

static ngx_int_t
ngx_http_livekit_jwt_escape(ngx_pool_t *pool, ngx_http_livekit_claims_t *c,
    ngx_str_t *iss)
{
    ngx_uint_t   i;
    ngx_str_t   *s[] = { iss, &c->identity, &c->room, &c->name, &c->metadata };

    for (i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
        if (ngx_http_livekit_json_escape(pool, s[i]) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * Adds to "len" the size of the claims a token has only sometimes: name,
 * metadata, attributes and roomConfig, the objects measured by the same
 * jansson call that will write them.
 */

static ngx_int_t
ngx_http_livekit_jwt_optional_len(ngx_http_livekit_token_loc_conf_t *lcf,
    ngx_http_livekit_claims_t *c, size_t *attr_len, size_t *config_len,
    size_t *len)
{
    *attr_len = 0;
    *config_len = 0;

    if (c->name.len) {
        *len += sizeof(",\"name\":\"\"") - 1 + c->name.len;
    }

    if (c->metadata.len) {
        *len += sizeof(",\"metadata\":\"\"") - 1 + c->metadata.len;
    }

    if (c->attributes && json_object_size(c->attributes)) {
        *attr_len = json_dumpb(c->attributes, NULL, 0, JSON_COMPACT);
        if (*attr_len == 0) {
            return NGX_ERROR;
        }

        *len += sizeof(",\"attributes\":") - 1 + *attr_len;
    }

    if (c->room_config) {
        *config_len = json_dumpb(c->room_config, NULL, 0, JSON_COMPACT);
        if (*config_len == 0) {
            return NGX_ERROR;
        }

        *len += sizeof(",\"roomConfig\":") - 1 + *config_len;

    } else if (lcf->room_config_json.len) {
        *len += sizeof(",\"roomConfig\":") - 1 + lcf->room_config_json.len;
    }

    return NGX_OK;
}


/*
 * ,"jti":"<id>": the token's own id, for the audit trail
 * ($livekit_token_id) and revocation; random, so that it says nothing.
 */

static u_char *
ngx_http_livekit_jwt_id(ngx_http_request_t *r, u_char *p)
{
    ngx_log_t  log;

    ngx_http_livekit_reply_log(r, &log);

    p = ngx_cpymem(p, ",\"jti\":\"", sizeof(",\"jti\":\"") - 1);

    p = ngx_http_livekit_random_id(&log, p, NGX_HTTP_LIVEKIT_JTI_BYTES);
    if (p == NULL) {
        return NULL;
    }

    *p++ = '"';

    return p;
}


/*
 * "bytes" random bytes (at most 32) in base64url at "p": ids of tokens
 * and invitations, and made-up identities.  Returns the end, or NULL.
 */

u_char *
ngx_http_livekit_random_id(ngx_log_t *log, u_char *p, size_t bytes)
{
    u_char     rnd[32];
    ngx_str_t  src, dst;

    if (bytes > sizeof(rnd) || RAND_bytes(rnd, (int) bytes) != 1) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "livekit token: RAND_bytes() failed");
        return NULL;
    }

    src.data = rnd;
    src.len = bytes;
    dst.data = p;
    ngx_encode_base64url(&dst, &src);

    return p + dst.len;
}


/* replaces "s" by its JSON-escaped form, copying only when it must */

ngx_int_t
ngx_http_livekit_json_escape(ngx_pool_t *pool, ngx_str_t *s)
{
    u_char  *p;
    size_t   extra;

    extra = ngx_escape_json(NULL, s->data, s->len);

    if (extra == 0) {
        return NGX_OK;
    }

    p = ngx_pnalloc(pool, s->len + extra);
    if (p == NULL) {
        return NGX_ERROR;
    }

    (void) ngx_escape_json(p, s->data, s->len);

    s->data = p;
    s->len += extra;

    return NGX_OK;
}


/* "name" and an escaped string value, closed */

static u_char *
ngx_http_livekit_json_str(u_char *p, const char *name, size_t len,
    ngx_str_t *value)
{
    p = ngx_cpymem(p, name, len);
    p = ngx_cpymem(p, value->data, value->len);
    *p++ = '"';

    return p;
}


static u_char *
ngx_http_livekit_json_obj(u_char *p, const char *name, size_t len,
    json_t *value, size_t vlen)
{
    p = ngx_cpymem(p, name, len);

    /* the size was measured with the same call on the same object */
    (void) json_dumpb(value, (char *) p, vlen, JSON_COMPACT);

    return p + vlen;
}


size_t
ngx_http_livekit_jwt_len(size_t claims_len)
{
    return ngx_http_livekit_jwt_header.len + 1
           + ngx_http_livekit_b64url_len(claims_len) + 1
           + ngx_http_livekit_b64url_len(NGX_HTTP_LIVEKIT_HS256_LEN);
}


/*
 * Writes header.payload.signature at "p" (ngx_http_livekit_jwt_len()
 * bytes at most) and returns its end, or NULL if HMAC fails.
 */

u_char *
ngx_http_livekit_jwt_sign(ngx_log_t *log, ngx_http_livekit_key_t *key,
    ngx_str_t *claims, u_char *p)
{
    u_char     *start, sig[EVP_MAX_MD_SIZE];
    size_t      siglen;
    ngx_str_t   dst, src;

    start = p;

    p = ngx_cpymem(p, ngx_http_livekit_jwt_header.data,
                   ngx_http_livekit_jwt_header.len);
    *p++ = '.';

    dst.data = p;
    ngx_encode_base64url(&dst, claims);
    p += dst.len;

    if (ngx_http_livekit_jwt_mac(log, key, start, p - start, sig, &siglen)
        != NGX_OK)
    {
        return NULL;
    }

    *p++ = '.';

    src.data = sig;
    src.len = siglen;
    dst.data = p;
    ngx_encode_base64url(&dst, &src);

    return p + dst.len;
}


/* HMAC-SHA256 with the key's context, restored to its keyed state */

static ngx_int_t
ngx_http_livekit_jwt_mac(ngx_log_t *log, ngx_http_livekit_key_t *key,
    u_char *data, size_t len, u_char *sig, size_t *siglen)
{
    return ngx_http_livekit_hmac(log, key, NULL, data, len, sig, siglen);
}


/*
 * The same over "prefix" and "data": another kind of signed text (an
 * invitation) starts with a prefix of its own, so that no signature of
 * one kind is ever a valid signature of another.
 */

ngx_int_t
ngx_http_livekit_hmac(ngx_log_t *log, ngx_http_livekit_key_t *key,
    ngx_str_t *prefix, u_char *data, size_t len, u_char *sig, size_t *siglen)
{
    if (EVP_MAC_init(key->mac, NULL, 0, NULL) != 1
        || (prefix
            && EVP_MAC_update(key->mac, prefix->data, prefix->len) != 1)
        || EVP_MAC_update(key->mac, data, len) != 1
        || EVP_MAC_final(key->mac, sig, siglen, EVP_MAX_MD_SIZE) != 1)
    {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "livekit token: HMAC-SHA256 failed");
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Splits a compact HS256 token a client sent: NGX_OK with the claims
 * object in "claims" (the caller json_decref()s it), NGX_DECLINED when it
 * is not a well-formed HS256 JWT.  The signature is checked separately,
 * once the claims name the key.
 */

ngx_int_t
ngx_http_livekit_jwt_decode(ngx_http_request_t *r, ngx_str_t *token,
    ngx_http_livekit_jwt_t *jwt)
{
    u_char      *p, *last, *dot1, *dot2;
    json_t      *header;
    ngx_str_t    part;
    const char  *alg;

    p = token->data;
    last = p + token->len;

    dot1 = (token->len <= NGX_HTTP_LIVEKIT_JWT_MAX)
           ? ngx_strlchr(p, last, '.') : NULL;
    dot2 = dot1 ? ngx_strlchr(dot1 + 1, last, '.') : NULL;

    if (dot2 == NULL || ngx_strlchr(dot2 + 1, last, '.') != NULL) {
        return NGX_DECLINED;
    }

    if (ngx_http_livekit_jwt_part(r->pool, p, dot1, &part) != NGX_OK) {
        return NGX_DECLINED;
    }

    header = json_loadb((char *) part.data, part.len, 0, NULL);
    alg = json_string_value(json_object_get(header, "alg"));

    if (alg == NULL || ngx_strcmp(alg, "HS256") != 0) {
        json_decref(header);
        return NGX_DECLINED;
    }

    json_decref(header);

    if (ngx_http_livekit_jwt_part(r->pool, dot2 + 1, last, &jwt->signature)
        != NGX_OK
        || jwt->signature.len != NGX_HTTP_LIVEKIT_HS256_LEN
        || ngx_http_livekit_jwt_part(r->pool, dot1 + 1, dot2, &part)
           != NGX_OK)
    {
        return NGX_DECLINED;
    }

    jwt->claims = json_loadb((char *) part.data, part.len,
                             JSON_REJECT_DUPLICATES, NULL);

    if (!json_is_object(jwt->claims)) {
        json_decref(jwt->claims);
        jwt->claims = NULL;
        return NGX_DECLINED;
    }

    jwt->signed_part.data = p;
    jwt->signed_part.len = dot2 - p;

    return NGX_OK;
}


static ngx_int_t
ngx_http_livekit_jwt_part(ngx_pool_t *pool, u_char *start, u_char *end,
    ngx_str_t *out)
{
    ngx_str_t  src;

    src.data = start;
    src.len = end - start;

    out->data = ngx_pnalloc(pool, ngx_base64_decoded_length(src.len) + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    return ngx_decode_base64url(out, &src);
}


/* NGX_OK when "key" made the token's signature */

ngx_int_t
ngx_http_livekit_jwt_check(ngx_http_request_t *r, ngx_http_livekit_key_t *key,
    ngx_http_livekit_jwt_t *jwt)
{
    u_char     sig[EVP_MAX_MD_SIZE];
    size_t     siglen;
    ngx_log_t  log;

    ngx_http_livekit_reply_log(r, &log);

    if (ngx_http_livekit_jwt_mac(&log, key, jwt->signed_part.data,
                                 jwt->signed_part.len, sig, &siglen)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return (siglen == jwt->signature.len
            && CRYPTO_memcmp(sig, jwt->signature.data, siglen) == 0)
           ? NGX_OK : NGX_DECLINED;
}
