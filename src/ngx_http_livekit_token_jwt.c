
/*
 * Claims and the HS256 signature.
 *
 * Owns: the LiveKit claim set (iss, sub, nbf, exp, name, metadata,
 * attributes, video grant, roomConfig) built with jansson, its base64url
 * encoding and the HMAC-SHA256 signature with the key's pre-keyed context.
 * Does not own: where the claims come from or whether they are allowed
 * (_request.c), nor where the key comes from (_keys.c).
 */

#include "ngx_http_livekit_token.h"


typedef struct {
    const char   *name;
    ngx_uint_t    flag;
} ngx_http_livekit_grant_name_t;


/* booleans emitted only when granted; LiveKit treats them as false */
static ngx_http_livekit_grant_name_t  ngx_http_livekit_optional_grants[] = {
    { "canUpdateOwnMetadata", NGX_HTTP_LIVEKIT_CAN_UPDATE_METADATA },
    { "hidden", NGX_HTTP_LIVEKIT_HIDDEN },
    { "roomAdmin", NGX_HTTP_LIVEKIT_ROOM_ADMIN },
    { "roomCreate", NGX_HTTP_LIVEKIT_ROOM_CREATE },
    { "roomList", NGX_HTTP_LIVEKIT_ROOM_LIST },
    { "roomRecord", NGX_HTTP_LIVEKIT_ROOM_RECORD },
    { "agent", NGX_HTTP_LIVEKIT_AGENT },
    { NULL, 0 }
};


/*
 * Always emitted: livekit-server treats an absent canPublish, canSubscribe
 * or canPublishData as true, so a grant that is not given must say false.
 */
static ngx_http_livekit_grant_name_t  ngx_http_livekit_explicit_grants[] = {
    { "canPublish", NGX_HTTP_LIVEKIT_CAN_PUBLISH },
    { "canSubscribe", NGX_HTTP_LIVEKIT_CAN_SUBSCRIBE },
    { "canPublishData", NGX_HTTP_LIVEKIT_CAN_PUBLISH_DATA },
    { NULL, 0 }
};


static u_char     ngx_http_livekit_jwt_header_buf[64];
static ngx_str_t  ngx_http_livekit_jwt_header;


static json_t *ngx_http_livekit_jwt_video(
    ngx_http_livekit_token_loc_conf_t *lcf, ngx_http_livekit_claims_t *c);
static ngx_int_t ngx_http_livekit_json_set_str(json_t *o, const char *name,
    ngx_str_t *s);


ngx_int_t
ngx_http_livekit_jwt_init(ngx_conf_t *cf)
{
    ngx_str_t  header = ngx_string("{\"alg\":\"HS256\",\"typ\":\"JWT\"}");

    ngx_http_livekit_jwt_header.data = ngx_http_livekit_jwt_header_buf;
    ngx_encode_base64url(&ngx_http_livekit_jwt_header, &header);

    return NGX_OK;
}


/*
 * Returns NGX_OK with the token, NGX_DECLINED when a claim is not valid
 * UTF-8 (jansson refuses it), NGX_ERROR when out of memory.
 */

ngx_int_t
ngx_http_livekit_jwt_sign(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf, ngx_http_livekit_key_t *key,
    ngx_http_livekit_claims_t *c, ngx_str_t *token)
{
    u_char      *p, sig[EVP_MAX_MD_SIZE];
    size_t       len, siglen;
    json_t      *claims, *video;
    time_t       now;
    ngx_int_t    rc;
    ngx_str_t    payload, src;

    claims = json_object();
    if (claims == NULL) {
        return NGX_ERROR;
    }

    rc = NGX_DECLINED;
    now = ngx_time();

    if (ngx_http_livekit_json_set_str(claims, "iss", &key->name) != NGX_OK
        || ngx_http_livekit_json_set_str(claims, "sub", &c->identity)
           != NGX_OK
        || json_object_set_new(claims, "nbf", json_integer(now)) != 0
        || json_object_set_new(claims, "exp", json_integer(now + lcf->ttl))
           != 0)
    {
        goto done;
    }

    if (c->name.len
        && ngx_http_livekit_json_set_str(claims, "name", &c->name) != NGX_OK)
    {
        goto done;
    }

    if (c->metadata.len
        && ngx_http_livekit_json_set_str(claims, "metadata", &c->metadata)
           != NGX_OK)
    {
        goto done;
    }

    if (c->attributes && json_object_size(c->attributes)
        && json_object_set(claims, "attributes", c->attributes) != 0)
    {
        goto done;
    }

    video = ngx_http_livekit_jwt_video(lcf, c);

    if (json_object_set_new(claims, "video", video) != 0) {
        goto done;
    }

    if (c->room_config
        && json_object_set(claims, "roomConfig", c->room_config) != 0)
    {
        goto done;
    }

    rc = NGX_ERROR;

    len = json_dumpb(claims, NULL, 0, JSON_COMPACT);
    if (len == 0) {
        goto done;
    }

    payload.data = ngx_pnalloc(r->pool, len);
    if (payload.data == NULL) {
        goto done;
    }

    payload.len = json_dumpb(claims, (char *) payload.data, len, JSON_COMPACT);

    token->len = ngx_http_livekit_jwt_header.len + 1
                 + ngx_base64_encoded_length(payload.len) + 1
                 + ngx_base64_encoded_length(NGX_HTTP_LIVEKIT_HS256_LEN);

    token->data = ngx_pnalloc(r->pool, token->len);
    if (token->data == NULL) {
        goto done;
    }

    p = ngx_cpymem(token->data, ngx_http_livekit_jwt_header.data,
                   ngx_http_livekit_jwt_header.len);
    *p++ = '.';

    src.data = p;
    ngx_encode_base64url(&src, &payload);
    p += src.len;

    if (EVP_MAC_init(key->mac, NULL, 0, NULL) != 1
        || EVP_MAC_update(key->mac, token->data, p - token->data) != 1
        || EVP_MAC_final(key->mac, sig, &siglen, sizeof(sig)) != 1)
    {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "livekit token: HMAC-SHA256 failed");
        goto done;
    }

    *p++ = '.';

    payload.data = sig;
    payload.len = siglen;
    src.data = p;
    ngx_encode_base64url(&src, &payload);
    p += src.len;

    token->len = p - token->data;
    rc = NGX_OK;

done:

    json_decref(claims);

    return rc;
}


static json_t *
ngx_http_livekit_jwt_video(ngx_http_livekit_token_loc_conf_t *lcf,
    ngx_http_livekit_claims_t *c)
{
    json_t                         *video, *sources, *s;
    ngx_str_t                      *src;
    ngx_uint_t                      i;
    ngx_http_livekit_grant_name_t  *g;

    video = json_object();
    if (video == NULL) {
        return NULL;
    }

    if ((lcf->grants & NGX_HTTP_LIVEKIT_ROOM_JOIN)
        && json_object_set_new(video, "roomJoin", json_true()) != 0)
    {
        goto failed;
    }

    if (c->room.len
        && ngx_http_livekit_json_set_str(video, "room", &c->room) != NGX_OK)
    {
        goto failed;
    }

    for (g = ngx_http_livekit_explicit_grants; g->name; g++) {
        if (json_object_set_new(video, g->name,
                                json_boolean(lcf->grants & g->flag))
            != 0)
        {
            goto failed;
        }
    }

    if (lcf->sources) {
        sources = json_array();
        if (json_object_set_new(video, "canPublishSources", sources) != 0) {
            goto failed;
        }

        src = lcf->sources->elts;
        for (i = 0; i < lcf->sources->nelts; i++) {
            s = json_stringn((char *) src[i].data, src[i].len);
            if (json_array_append_new(sources, s) != 0) {
                goto failed;
            }
        }
    }

    for (g = ngx_http_livekit_optional_grants; g->name; g++) {
        if ((lcf->grants & g->flag)
            && json_object_set_new(video, g->name, json_true()) != 0)
        {
            goto failed;
        }
    }

    return video;

failed:

    json_decref(video);

    return NULL;
}


static ngx_int_t
ngx_http_livekit_json_set_str(json_t *o, const char *name, ngx_str_t *s)
{
    /* json_stringn() refuses invalid UTF-8; json_object_set_new() NULL */

    if (json_object_set_new(o, name, json_stringn((char *) s->data, s->len))
        != 0)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}
