
/*
 * ngx_http_livekit_token_module: shared types.
 *
 * The module has four parts, one file each:
 *   _module.c   directives, configuration, the content handler and replies;
 *   _keys.c     key sources and the "current key set" the handler reads;
 *   _request.c  what the client asked for (GET query / POST JSON), checked;
 *   _jwt.c      claims and the HS256 signature;
 *   _status.c   counters in shared memory and livekit_token_status;
 *   _ssm.c      the SSM Parameter Store key source (a second module, for
 *               its http-level directives), _aws_*.c its AWS client;
 *   _text.c     outside text made safe for logs, JSON and labels.
 */

#ifndef _NGX_HTTP_LIVEKIT_TOKEN_H_INCLUDED_
#define _NGX_HTTP_LIVEKIT_TOKEN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/evp.h>
#include <jansson.h>


/* livekit-server's limit for identity, room and name */
#define NGX_HTTP_LIVEKIT_MAX_NAME      256

#define NGX_HTTP_LIVEKIT_HS256_LEN     32


/* video grant flags (livekit_token_grants) */
#define NGX_HTTP_LIVEKIT_ROOM_JOIN            0x0001
#define NGX_HTTP_LIVEKIT_CAN_PUBLISH          0x0002
#define NGX_HTTP_LIVEKIT_CAN_SUBSCRIBE        0x0004
#define NGX_HTTP_LIVEKIT_CAN_PUBLISH_DATA     0x0008
#define NGX_HTTP_LIVEKIT_CAN_UPDATE_METADATA  0x0010
#define NGX_HTTP_LIVEKIT_HIDDEN               0x0020
#define NGX_HTTP_LIVEKIT_ROOM_ADMIN           0x0040
#define NGX_HTTP_LIVEKIT_ROOM_CREATE          0x0080
#define NGX_HTTP_LIVEKIT_ROOM_LIST            0x0100
#define NGX_HTTP_LIVEKIT_ROOM_RECORD          0x0200
#define NGX_HTTP_LIVEKIT_AGENT                0x0400

/*
 * The product's grants: roomJoin, canPublish, canSubscribe.  livekit-server
 * reads an absent canPublishData as canPublish, and this module always
 * writes it out, so the default says true to keep data messages working.
 */
#define NGX_HTTP_LIVEKIT_DEFAULT_GRANTS                                       \
    (NGX_HTTP_LIVEKIT_ROOM_JOIN|NGX_HTTP_LIVEKIT_CAN_PUBLISH                  \
     |NGX_HTTP_LIVEKIT_CAN_SUBSCRIBE|NGX_HTTP_LIVEKIT_CAN_PUBLISH_DATA)


/* one signing key: the API key name and an HMAC keyed once with its secret */
typedef struct {
    ngx_str_t                   name;
    EVP_MAC_CTX                *mac;
} ngx_http_livekit_key_t;


typedef struct ngx_http_livekit_keyset_s  ngx_http_livekit_keyset_t;

typedef void (*ngx_http_livekit_keyset_sync_pt)(ngx_http_livekit_keyset_t *ks);


/* what livekit_token_status says of a key source; strings from "pool" */
typedef struct {
    const char                        *source;      /* "file", "ssm" */
    const char                        *state;       /* loading, ready,
                                                       stale, failed */
    time_t                             loaded;      /* 0: never */
    ngx_uint_t                         calls;
    ngx_uint_t                         failures;
    ngx_str_t                          last_error;
    ngx_str_t                          credentials;
} ngx_http_livekit_source_status_t;

typedef ngx_int_t (*ngx_http_livekit_keyset_status_pt)(
    ngx_http_livekit_keyset_t *ks, ngx_pool_t *pool,
    ngx_http_livekit_source_status_t *st);

/*
 * The current key set.  A source fills it: the key file once at
 * configuration time; a run-time source (SSM) sets "sync", which
 * ngx_http_livekit_keyset_current() calls first so the source can bring
 * "key" and "url" up to date (cheaply: it compares a generation number).
 * The handler only reads the set, and answers 503 while "key" is NULL.
 * "url" is the URL a source provides, used where livekit_url is not set.
 */
struct ngx_http_livekit_keyset_s {
    ngx_http_livekit_key_t            *key;
    ngx_str_t                          url;
    ngx_http_livekit_keyset_sync_pt    sync;
    ngx_http_livekit_keyset_status_pt  status;    /* NULL: a key file */
    void                              *data;
    time_t                             loaded;    /* a key file: when read */
};


/* a secret as read from a key file; wiped when the cycle's pool goes */
typedef struct {
    ngx_str_t                   name;
    ngx_str_t                   secret;
    ngx_http_livekit_keyset_t  *keyset;       /* once a location signs */
} ngx_http_livekit_secret_t;


typedef struct {
    ngx_str_t                   name;
    ngx_http_complex_value_t    value;
} ngx_http_livekit_attribute_t;


typedef struct {
    ngx_flag_t                  enable;
    ngx_flag_t                  status;       /* livekit_token_status */

    ngx_array_t                *secrets;      /* livekit_keys_file */
    ngx_str_t                   keys_file;
    ngx_str_t                   api_key;
    ngx_http_livekit_keyset_t  *keyset;

    ngx_http_complex_value_t   *url;
    time_t                      ttl;

    ngx_http_complex_value_t   *identity;
    ngx_http_complex_value_t   *room;
    ngx_http_complex_value_t   *name;
    ngx_http_complex_value_t   *metadata;

    ngx_uint_t                  grants;
    ngx_array_t                *sources;      /* of ngx_str_t */
    ngx_array_t                *attributes;   /* livekit_token_attribute */

    ngx_str_t                   video_head;   /* precomputed grant JSON */
    ngx_str_t                   video_tail;

#if (NGX_PCRE)
    ngx_regex_t                *room_pattern;
#endif

    size_t                      metadata_max;
} ngx_http_livekit_token_loc_conf_t;


/* the claims of one token: checked, then JSON-escaped in place to sign */
typedef struct {
    ngx_str_t                   room;
    ngx_str_t                   identity;
    ngx_str_t                   name;
    ngx_str_t                   metadata;
    json_t                     *attributes;   /* object or NULL */
    json_t                     *room_config;  /* object or NULL */
} ngx_http_livekit_claims_t;


/* a client error: status, machine code, what to fix */
typedef struct {
    ngx_uint_t                  status;
    const char                 *code;
    const char                 *message;
} ngx_http_livekit_error_t;


extern ngx_module_t  ngx_http_livekit_token_module;


/* _keys.c */
char *ngx_http_livekit_keys_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_livekit_keyset_resolve(ngx_conf_t *cf,
    ngx_http_livekit_token_loc_conf_t *lcf);
ngx_http_livekit_key_t *ngx_http_livekit_keyset_current(
    ngx_http_livekit_keyset_t *ks);

/* _request.c */
ngx_int_t ngx_http_livekit_claims_from_args(ngx_http_request_t *r,
    ngx_http_livekit_claims_t *c, ngx_http_livekit_error_t *err);
ngx_int_t ngx_http_livekit_claims_from_json(ngx_http_request_t *r,
    u_char *body, size_t len, ngx_http_livekit_claims_t *c,
    ngx_http_livekit_error_t *err);
ngx_int_t ngx_http_livekit_claims_finish(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf, ngx_http_livekit_claims_t *c,
    ngx_http_livekit_error_t *err);

ngx_int_t ngx_http_livekit_check_text(ngx_str_t *s, ngx_uint_t multiline,
    ngx_http_livekit_error_t *err);

/* _ssm.c: NGX_OK when SSM signs for this location, NGX_DECLINED if not */
ngx_int_t ngx_http_livekit_ssm_keyset(ngx_conf_t *cf,
    ngx_http_livekit_token_loc_conf_t *lcf);
ngx_uint_t ngx_http_livekit_ssm_gives_url(ngx_conf_t *cf);
ngx_uint_t ngx_http_livekit_ssm_configured(ngx_conf_t *cf);

/* _status.c */
char *ngx_http_livekit_token_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
void ngx_http_livekit_stats_issued(ngx_uint_t post);
void ngx_http_livekit_stats_error(const char *code);

/* _jwt.c */
ngx_int_t ngx_http_livekit_jwt_init(ngx_conf_t *cf);
ngx_int_t ngx_http_livekit_jwt_grant_init(ngx_conf_t *cf,
    ngx_http_livekit_token_loc_conf_t *lcf);
ngx_int_t ngx_http_livekit_jwt_claims(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf, ngx_http_livekit_key_t *key,
    ngx_http_livekit_claims_t *c, ngx_str_t *json);
size_t ngx_http_livekit_jwt_len(size_t claims_len);
ngx_int_t ngx_http_livekit_json_escape(ngx_pool_t *pool, ngx_str_t *s);
u_char *ngx_http_livekit_jwt_sign(ngx_http_request_t *r,
    ngx_http_livekit_key_t *key, ngx_str_t *claims, u_char *p);


#endif /* _NGX_HTTP_LIVEKIT_TOKEN_H_INCLUDED_ */
