
/*
 * ngx_http_livekit_token_module: shared types.
 *
 * The module's parts, one file each:
 *   _module.c   directives, configuration, the content handler and replies;
 *   _vocab.c    the vocabularies: grants, sources, kinds, reply codes;
 *   _keys.c     key sources and the "current key set" the handler reads;
 *   _keys_yaml.c  the key file's YAML, read as livekit-server reads it;
 *   _request.c  what the client asked for (GET query / POST JSON), checked;
 *   _room_config.c  which roomConfig a token may carry;
 *   _cors.c     cross-origin requests (livekit_token_cors_origins);
 *   _reply.c    JSON replies and errors, response headers;
 *   _jwt.c      claims and the HS256 signature;
 *   _stats.c    counters in shared memory;
 *   _status.c   livekit_token_status, which shows them;
 *   _webhook.c  LiveKit webhooks verified before they are passed on;
 *   _probe.c    does livekit-server accept our key (key-drift probe);
 *   _join.c     join tokens verified at the edge (livekit_join_check) and
 *               the variables of the verified token;
 *   _revoke.c   the revocation list in shared memory and its state file;
 *   _revoke_admin.c  the admin location that revokes, lists and forgets,
 *               and removes a participant from livekit-server;
 *   _invite.c   invitations: their signed form, the roles, and /token
 *               minting only within one (livekit_token_invitation);
 *   _invite_admin.c  the admin location that creates invitations;
 *   _ssm.c      the SSM Parameter Store key source: its own module
 *               (ngx_http_livekit_ssm_module.so, with libcurl), which
 *               registers itself as a key source; _aws_*.c its AWS client;
 *   _text.c     outside text made safe for logs, JSON and labels, and
 *               what text a client may send at all.
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


/*
 * Grant flags (livekit_token_grants): one bit per entry of the grant table
 * in _vocab.c, which holds the words, the claim objects and the names.
 */
#define NGX_HTTP_LIVEKIT_ROOM_JOIN            0x00000001
#define NGX_HTTP_LIVEKIT_CAN_PUBLISH          0x00000002
#define NGX_HTTP_LIVEKIT_CAN_SUBSCRIBE        0x00000004
#define NGX_HTTP_LIVEKIT_CAN_PUBLISH_DATA     0x00000008
#define NGX_HTTP_LIVEKIT_CAN_UPDATE_METADATA  0x00000010
#define NGX_HTTP_LIVEKIT_HIDDEN               0x00000020
#define NGX_HTTP_LIVEKIT_ROOM_ADMIN           0x00000040
#define NGX_HTTP_LIVEKIT_ROOM_CREATE          0x00000080
#define NGX_HTTP_LIVEKIT_ROOM_LIST            0x00000100
#define NGX_HTTP_LIVEKIT_ROOM_RECORD          0x00000200
#define NGX_HTTP_LIVEKIT_AGENT                0x00000400
#define NGX_HTTP_LIVEKIT_INGRESS_ADMIN        0x00000800
#define NGX_HTTP_LIVEKIT_RECORDER             0x00001000
#define NGX_HTTP_LIVEKIT_CAN_SUBSCRIBE_METRICS 0x00002000
#define NGX_HTTP_LIVEKIT_CAN_MANAGE_AGENT_SESSION 0x00004000
#define NGX_HTTP_LIVEKIT_SIP_ADMIN            0x00008000
#define NGX_HTTP_LIVEKIT_SIP_CALL             0x00010000
#define NGX_HTTP_LIVEKIT_AGENT_ADMIN          0x00020000
#define NGX_HTTP_LIVEKIT_AGENT_SIMULATION     0x00040000
#define NGX_HTTP_LIVEKIT_INFERENCE_PERFORM    0x00080000
#define NGX_HTTP_LIVEKIT_OBSERVABILITY_WRITE  0x00100000

/*
 * The product's grants: roomJoin, canPublish, canSubscribe.  livekit-server
 * reads an absent canPublishData as canPublish, and this module always
 * writes it out, so the default says true to keep data messages working.
 */
#define NGX_HTTP_LIVEKIT_DEFAULT_GRANTS                                       \
    (NGX_HTTP_LIVEKIT_ROOM_JOIN|NGX_HTTP_LIVEKIT_CAN_PUBLISH                  \
     |NGX_HTTP_LIVEKIT_CAN_SUBSCRIBE|NGX_HTTP_LIVEKIT_CAN_PUBLISH_DATA)


/* one entry of the grant vocabulary */
typedef struct {
    ngx_str_t                   word;         /* in livekit_token_grants */
    const char                 *object;       /* "video", "sip", ... */
    const char                 *claim;        /* the name inside it */
    ngx_uint_t                  flag;
    ngx_uint_t                  explicit;     /* false is written too */
} ngx_http_livekit_grant_t;


/* every reply code of a token location, in the order of the code table */
typedef enum {
    NGX_HTTP_LIVEKIT_MISSING_ROOM = 0,
    NGX_HTTP_LIVEKIT_MISSING_IDENTITY,
    NGX_HTTP_LIVEKIT_ROOM_TOO_LONG,
    NGX_HTTP_LIVEKIT_IDENTITY_TOO_LONG,
    NGX_HTTP_LIVEKIT_NAME_TOO_LONG,
    NGX_HTTP_LIVEKIT_INVALID_UTF8,
    NGX_HTTP_LIVEKIT_CONTROL_CHARACTER,
    NGX_HTTP_LIVEKIT_METADATA_TOO_LARGE,
    NGX_HTTP_LIVEKIT_ATTRIBUTES_TOO_LARGE,
    NGX_HTTP_LIVEKIT_INVALID_JSON,
    NGX_HTTP_LIVEKIT_INVALID_TYPE,
    NGX_HTTP_LIVEKIT_ROOM_NOT_ALLOWED,
    NGX_HTTP_LIVEKIT_ROOM_CONFIG_NOT_ALLOWED,
    NGX_HTTP_LIVEKIT_IDENTITY_PINNED,
    NGX_HTTP_LIVEKIT_ROOM_PINNED,
    NGX_HTTP_LIVEKIT_NAME_PINNED,
    NGX_HTTP_LIVEKIT_METADATA_PINNED,
    NGX_HTTP_LIVEKIT_ATTRIBUTE_PINNED,
    NGX_HTTP_LIVEKIT_IDENTITY_UNAVAILABLE,
    NGX_HTTP_LIVEKIT_ROOM_UNAVAILABLE,
    NGX_HTTP_LIVEKIT_TOKEN_TOO_LARGE,
    NGX_HTTP_LIVEKIT_BODY_TOO_LARGE,
    NGX_HTTP_LIVEKIT_ORIGIN_NOT_ALLOWED,
    NGX_HTTP_LIVEKIT_WEBHOOK_UNSIGNED,
    NGX_HTTP_LIVEKIT_WEBHOOK_BAD_SIGNATURE,
    NGX_HTTP_LIVEKIT_WEBHOOK_EXPIRED,
    NGX_HTTP_LIVEKIT_WEBHOOK_BODY_MISMATCH,
    NGX_HTTP_LIVEKIT_WEBHOOK_UNKNOWN_KEY,
    NGX_HTTP_LIVEKIT_TOKEN_MISSING,
    NGX_HTTP_LIVEKIT_TOKEN_MALFORMED,
    NGX_HTTP_LIVEKIT_TOKEN_AMBIGUOUS,
    NGX_HTTP_LIVEKIT_TOKEN_UNKNOWN_KEY,
    NGX_HTTP_LIVEKIT_TOKEN_BAD_SIGNATURE,
    NGX_HTTP_LIVEKIT_TOKEN_EXPIRED,
    NGX_HTTP_LIVEKIT_TOKEN_NOT_YET_VALID,
    NGX_HTTP_LIVEKIT_TOKEN_TOO_LONG_LIVED,
    NGX_HTTP_LIVEKIT_JOIN_NOT_ALLOWED,
    NGX_HTTP_LIVEKIT_TOKEN_REVOKED,
    NGX_HTTP_LIVEKIT_INVALID_REVOCATION,
    NGX_HTTP_LIVEKIT_REVOCATION_NOT_FOUND,
    NGX_HTTP_LIVEKIT_REVOCATIONS_FULL,
    NGX_HTTP_LIVEKIT_INVITATION_MISSING,
    NGX_HTTP_LIVEKIT_INVITATION_INVALID,
    NGX_HTTP_LIVEKIT_INVITATION_EXPIRED,
    NGX_HTTP_LIVEKIT_INVITATION_USED,
    NGX_HTTP_LIVEKIT_INVITATION_REVOKED,
    NGX_HTTP_LIVEKIT_INVALID_INVITATION_REQUEST,
    NGX_HTTP_LIVEKIT_METHOD_NOT_ALLOWED,
    NGX_HTTP_LIVEKIT_UNSUPPORTED_MEDIA_TYPE,
    NGX_HTTP_LIVEKIT_KEYS_NOT_LOADED,
    NGX_HTTP_LIVEKIT_NCODES
} ngx_http_livekit_code_e;


/* one entry of the code table: the HTTP status and the machine code */
typedef struct {
    ngx_uint_t                  status;
    const char                 *name;
} ngx_http_livekit_code_t;


/* one signing key: the API key name and an HMAC keyed once with its secret */
typedef struct {
    ngx_str_t                   name;
    EVP_MAC_CTX                *mac;
} ngx_http_livekit_key_t;


typedef struct ngx_http_livekit_keyset_s  ngx_http_livekit_keyset_t;
typedef struct ngx_http_livekit_probe_s   ngx_http_livekit_probe_t;

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
    const char                        *upstream;    /* NULL: no probe */
    time_t                             upstream_checked;
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
    ngx_http_livekit_probe_t          *probe;     /* NULL: none */
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


/* livekit_join_check */
#define NGX_HTTP_LIVEKIT_JOIN_OFF      0
#define NGX_HTTP_LIVEKIT_JOIN_RTC      1
#define NGX_HTTP_LIVEKIT_JOIN_AGENT    2


/* a client error: an entry of the code table and what to fix */
typedef struct {
    ngx_http_livekit_code_e     code;
    const char                 *message;      /* NUL-terminated */
} ngx_http_livekit_error_t;


/*
 * A join token as the edge check read it (_join.c): error.code is NCODES
 * when the join was let through; the strings are set once the signature is
 * good (so that a refused but authentic token is still logged by name),
 * each at most 256 bytes of text without control characters, else empty.
 */
typedef struct {
    ngx_http_livekit_error_t    error;
    ngx_str_t                   identity;
    ngx_str_t                   room;
    ngx_str_t                   key;
    ngx_str_t                   token_id;
    ngx_str_t                   invitation;   /* the "inv" claim */
    time_t                      issued;       /* iat, else nbf, else 0 */
} ngx_http_livekit_join_t;


/* what a revocation matches (_revoke.c's kind table names them) */
typedef enum {
    NGX_HTTP_LIVEKIT_REVOKE_TOKEN = 0,        /* a = token id */
    NGX_HTTP_LIVEKIT_REVOKE_IDENTITY,         /* a = identity, any room */
    NGX_HTTP_LIVEKIT_REVOKE_PARTICIPANT,      /* a = room, b = identity */
    NGX_HTTP_LIVEKIT_REVOKE_ROOM,             /* a = room; "before" */
    NGX_HTTP_LIVEKIT_REVOKE_INVITATION,       /* a = invitation id */
    NGX_HTTP_LIVEKIT_REVOKE_USED,             /* a = single-use invitation
                                                 id, used once already */
    NGX_HTTP_LIVEKIT_REVOKE_NKINDS
} ngx_http_livekit_revoke_kind_e;


/*
 * One revocation.  A room's applies to the tokens issued before "before"
 * (0: every token of the room, whenever issued).  It is kept until
 * "expires", when no token it can match is valid any more.
 */
typedef struct {
    ngx_http_livekit_revoke_kind_e  kind;
    ngx_str_t                   a;
    ngx_str_t                   b;
    time_t                      before;
    time_t                      created;
    time_t                      expires;
} ngx_http_livekit_revocation_t;


/*
 * The module's request context: each part is set by the file that owns
 * it, so that a variable read in any location (a log_format shared by
 * all of them) never takes one part for another.
 */
typedef struct {
    ngx_http_livekit_join_t    *join;         /* _join.c */
    void                       *webhook;      /* _webhook.c */
    void                       *admin;        /* _revoke_admin.c */
} ngx_http_livekit_ctx_t;


/* livekit_invitation_role: a name and the grants it gives */
typedef struct {
    ngx_str_t                   name;
    ngx_uint_t                  grants;
} ngx_http_livekit_role_t;


/* a role's grant JSON in one location (as the location's video[2]) */
typedef struct {
    ngx_str_t                   name;
    ngx_str_t                   video[2];     /* head, tail */
} ngx_http_livekit_role_grants_t;


/* livekit_token_invitation */
#define NGX_HTTP_LIVEKIT_INVITE_OFF       0
#define NGX_HTTP_LIVEKIT_INVITE_REQUIRED  1


/*
 * An invitation, as signed (_invite.c): the strings are at most 256 bytes
 * of text (the id at most 64), checked once the signature is good.
 */
typedef struct {
    ngx_str_t                   id;
    ngx_str_t                   room;
    ngx_str_t                   role;
    ngx_str_t                   identity;     /* empty: generated */
    ngx_str_t                   name;         /* empty: the client's */
    time_t                      expires;
    ngx_uint_t                  single_use;
} ngx_http_livekit_invitation_t;


typedef struct {
    ngx_array_t                 sources;      /* of key source pointers */
    ngx_array_t                 locations;    /* of loc conf pointers whose
                                                 key set postconfiguration
                                                 resolves */
    ngx_array_t                *probes;       /* of probe pointers, or NULL */

    ngx_shm_zone_t             *revocations;  /* livekit_revocation_zone */
    ngx_str_t                   revocation_state;   /* its file, or empty */
    time_t                      revocation_ttl;     /* max_ttl= */

    ngx_array_t                *roles;        /* livekit_invitation_role */
} ngx_http_livekit_token_main_conf_t;


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
    ngx_http_complex_value_t   *identity_default;
    ngx_http_complex_value_t   *room_default;

    ngx_uint_t                  grants;
    ngx_array_t                *sources;      /* of ngx_str_t */
    ngx_str_t                   destination_room;
    ngx_str_t                   kind;         /* livekit_token_kind */
    ngx_str_t                   room_preset;
    ngx_array_t                *attributes;   /* livekit_token_attribute */

    ngx_array_t                *agents;       /* of ngx_str_t; NULL: none */
    ngx_flag_t                  agents_any;   /* livekit_token_agents * */
    json_t                     *room_config;  /* livekit_token_room_config */
    ngx_str_t                   room_config_json;

    ngx_array_t                *cors_origins; /* of ngx_str_t */
    ngx_flag_t                  cors_any;

    ngx_url_t                  *probe_url;    /* upstream_check */
    time_t                      probe_interval;

    ngx_flag_t                  webhook;      /* livekit_webhook */
    ngx_uint_t                  join;         /* livekit_join_check */
    ngx_array_t                *verify_keys;  /* of keyset pointers: every
                                                 key a webhook or a join
                                                 token may be signed with */
    ngx_flag_t                  revocation_admin;
    ngx_str_t                   revocation_remove;  /* URI, or empty */

    ngx_uint_t                  invitation;   /* livekit_token_invitation */
    ngx_flag_t                  invitation_ttl;     /* ttl=location */
    ngx_array_t                *role_grants;  /* of ..._role_grants_t */
    ngx_flag_t                  invitation_admin;
    ngx_http_complex_value_t   *invitation_link;

    ngx_str_t                   video[2];     /* precomputed grant JSON
                                                 around the room, and the
                                                 claims after it */

#if (NGX_PCRE)
    ngx_regex_t                *room_pattern;
#endif

    size_t                      metadata_max;
    size_t                      token_max;
    size_t                      body_max;
} ngx_http_livekit_token_loc_conf_t;


/*
 * A key source other than the key file registers itself with
 * ngx_http_livekit_key_source_add() in its module's preconfiguration; the
 * token side knows it only through this table.  Key sets are resolved in
 * the token module's postconfiguration, when every module's main
 * configuration is initialized.
 *   keyset     NGX_DECLINED: not configured; NGX_OK: lcf->keyset set;
 *              NGX_ERROR after an EMERG message;
 *   gives_url  whether it provides the LiveKit URL (livekit_url may go).
 */
typedef struct {
    const char                 *directive;    /* what configures it */
    ngx_int_t                 (*keyset)(ngx_conf_t *cf,
        ngx_http_livekit_token_loc_conf_t *lcf);
    ngx_uint_t                (*gives_url)(ngx_conf_t *cf);
} ngx_http_livekit_key_source_t;


/* the claims of one token: checked, then JSON-escaped in place to sign */
typedef struct {
    ngx_str_t                   room;
    ngx_str_t                   identity;
    ngx_str_t                   name;
    ngx_str_t                   metadata;
    json_t                     *attributes;   /* object or NULL */
    json_t                     *room_config;  /* the client's, then what
                                                 is signed; NULL: none */
    ngx_str_t                   invite;       /* the client's invitation */
    ngx_str_t                   invitation;   /* its id: the "inv" claim */
    time_t                      expires;      /* 0, or the latest exp */
    time_t                      single_use;   /* 0, or until when a
                                                 single-use invitation is
                                                 remembered as used */
    ngx_str_t                  *video;        /* the role's grant JSON,
                                                 or NULL: the location's */
} ngx_http_livekit_claims_t;


/* a token someone else signed, split (_jwt.c) */
typedef struct {
    ngx_str_t                   signed_part;  /* header.payload */
    ngx_str_t                   signature;    /* decoded */
    json_t                     *claims;
} ngx_http_livekit_jwt_t;


extern ngx_module_t  ngx_http_livekit_token_module;


/* _vocab.c: the grant, source, kind and code tables */
extern ngx_http_livekit_grant_t       ngx_http_livekit_grants[];
extern ngx_str_t                      ngx_http_livekit_sources[];
extern ngx_str_t                      ngx_http_livekit_kinds[];
extern const ngx_http_livekit_code_t  ngx_http_livekit_codes[];

typedef ngx_int_t (*ngx_http_livekit_valid_pt)(ngx_str_t *name);

ngx_str_t *ngx_http_livekit_vocab_find(ngx_str_t *words, ngx_str_t *word);
char *ngx_http_livekit_conf_names(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_array_t **names, ngx_flag_t *any, ngx_http_livekit_valid_pt valid,
    const char *rule);
char *ngx_http_livekit_grant_word(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *word, ngx_uint_t *flags);
ngx_int_t ngx_http_livekit_fail(ngx_http_livekit_error_t *err,
    ngx_http_livekit_code_e code, const char *message);

/* _room_config.c: what roomConfig a token may carry */
char *ngx_http_livekit_room_config_set(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_livekit_agents_set(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_livekit_room_config_check(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf, ngx_http_livekit_claims_t *c,
    ngx_http_livekit_error_t *err);

/* _cors.c */
char *ngx_http_livekit_cors_origins(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_livekit_cors_preflight(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf, ngx_http_livekit_error_t *err);
ngx_int_t ngx_http_livekit_cors_headers(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf);

/* _reply.c */
ngx_int_t ngx_http_livekit_reply(ngx_http_request_t *r, ngx_uint_t status,
    ngx_buf_t *b);
ngx_int_t ngx_http_livekit_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, ngx_buf_t *b);
ngx_int_t ngx_http_livekit_reply_error(ngx_http_request_t *r,
    ngx_http_livekit_error_t *err);
ngx_buf_t *ngx_http_livekit_json_buf(ngx_pool_t *pool, json_t *body);
void ngx_http_livekit_json_cleanup(void *data);
void ngx_http_livekit_reply_log(ngx_http_request_t *r, ngx_log_t *log);
ngx_int_t ngx_http_livekit_header_out(ngx_http_request_t *r,
    const char *name, ngx_str_t *value);

/* _keys.c */
char *ngx_http_livekit_keys_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_livekit_keyset_resolve(ngx_conf_t *cf,
    ngx_http_livekit_token_loc_conf_t *lcf, const char *directive);
char *ngx_http_livekit_keyset_all(ngx_conf_t *cf,
    ngx_http_livekit_token_loc_conf_t *lcf, const char *directive,
    ngx_array_t **keysets);
ngx_http_livekit_key_t *ngx_http_livekit_keyset_find(ngx_array_t *keysets,
    ngx_str_t *name);
ngx_http_livekit_key_t *ngx_http_livekit_keyset_current(
    ngx_http_livekit_keyset_t *ks);
ngx_int_t ngx_http_livekit_key_source_add(ngx_conf_t *cf,
    ngx_http_livekit_key_source_t *source);
ngx_int_t ngx_http_livekit_keyset_source(ngx_conf_t *cf,
    ngx_http_livekit_token_loc_conf_t *lcf);
ngx_uint_t ngx_http_livekit_keyset_gives_url(ngx_conf_t *cf);

/* _keys_yaml.c: the key file's YAML into ngx_http_livekit_secret_t */
ngx_int_t ngx_http_livekit_keys_yaml_parse(ngx_conf_t *cf, ngx_str_t *file,
    u_char *buf, size_t len, ngx_array_t *secrets);

/* _request.c */
ngx_int_t ngx_http_livekit_request_body(ngx_http_request_t *r, size_t max,
    ngx_str_t *body);
ngx_int_t ngx_http_livekit_claims_from_args(ngx_http_request_t *r,
    ngx_http_livekit_claims_t *c, ngx_http_livekit_error_t *err);
ngx_int_t ngx_http_livekit_claims_from_json(ngx_http_request_t *r,
    u_char *body, size_t len, ngx_http_livekit_claims_t *c,
    ngx_http_livekit_error_t *err);
ngx_int_t ngx_http_livekit_claims_finish(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf, ngx_http_livekit_claims_t *c,
    ngx_http_livekit_error_t *err);

/* _text.c: what text a client may send */
ngx_int_t ngx_http_livekit_check_text(ngx_str_t *s, ngx_uint_t multiline,
    ngx_http_livekit_error_t *err);


/* _status.c */
char *ngx_http_livekit_token_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* _stats.c: the counters in shared memory */
typedef struct {
    ngx_atomic_t   issued_get;
    ngx_atomic_t   issued_post;
    ngx_atomic_t   webhooks;
    ngx_atomic_t   joins;
    ngx_atomic_t   errors[NGX_HTTP_LIVEKIT_NCODES];
} ngx_http_livekit_stats_t;

ngx_int_t ngx_http_livekit_stats_zone(ngx_conf_t *cf);
ngx_http_livekit_stats_t *ngx_http_livekit_stats_get(void);
void ngx_http_livekit_stats_issued(ngx_uint_t post);
void ngx_http_livekit_stats_error(ngx_http_livekit_code_e code);
void ngx_http_livekit_stats_webhook(void);
void ngx_http_livekit_stats_join(void);

/* _probe.c */
char *ngx_http_livekit_probe_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_livekit_probe_add(ngx_conf_t *cf,
    ngx_http_livekit_token_loc_conf_t *lcf);
ngx_int_t ngx_http_livekit_probe_init_module(ngx_cycle_t *cycle);
ngx_int_t ngx_http_livekit_probe_init_process(ngx_cycle_t *cycle);
void ngx_http_livekit_probe_state(ngx_http_livekit_keyset_t *ks,
    ngx_http_livekit_source_status_t *st);

/* _webhook.c */
ngx_int_t ngx_http_livekit_webhook_add_variables(ngx_conf_t *cf);
ngx_int_t ngx_http_livekit_webhook_init(ngx_conf_t *cf);

/* _join.c */
extern ngx_conf_enum_t  ngx_http_livekit_join_modes[];
ngx_int_t ngx_http_livekit_join_add_variables(ngx_conf_t *cf);
ngx_int_t ngx_http_livekit_join_init(ngx_conf_t *cf);
ngx_http_livekit_ctx_t *ngx_http_livekit_ctx(ngx_http_request_t *r);

/* _revoke.c */
char *ngx_http_livekit_revocation_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
extern const char  *ngx_http_livekit_revoke_kinds[];
ngx_int_t ngx_http_livekit_revoked(ngx_http_request_t *r,
    ngx_http_livekit_join_t *j);
ngx_int_t ngx_http_livekit_revoke_add(ngx_http_request_t *r,
    ngx_http_livekit_revocation_t *rv, ngx_uint_t *saved);
ngx_int_t ngx_http_livekit_revoke_delete(ngx_http_request_t *r,
    ngx_http_livekit_revocation_t *rv, ngx_uint_t *saved);
json_t *ngx_http_livekit_revoke_list(ngx_http_request_t *r);
json_t *ngx_http_livekit_revocation_json(ngx_http_livekit_revocation_t *rv);
ngx_int_t ngx_http_livekit_revocation_from_json(json_t *o,
    ngx_http_livekit_revocation_t *rv, const char **error);
ngx_int_t ngx_http_livekit_invitation_state(ngx_http_request_t *r,
    ngx_str_t *id, ngx_uint_t use, time_t expires);
time_t ngx_http_livekit_revoke_max_ttl(ngx_http_request_t *r);

/* _revoke_admin.c */
ngx_int_t ngx_http_livekit_revoke_admin_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_livekit_revoke_add_variables(ngx_conf_t *cf);

/* _invite.c */
char *ngx_http_livekit_invitation_role(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_livekit_token_invitation(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_livekit_invite_conf(ngx_conf_t *cf, const char *directive);
ngx_int_t ngx_http_livekit_invite_init(ngx_conf_t *cf,
    ngx_http_livekit_token_loc_conf_t *lcf);
ngx_http_livekit_role_t *ngx_http_livekit_role_find(ngx_array_t *roles,
    ngx_str_t *name);
ngx_int_t ngx_http_livekit_invite_sign(ngx_pool_t *pool, ngx_log_t *log,
    ngx_http_livekit_key_t *key, ngx_http_livekit_invitation_t *inv,
    ngx_str_t *out);
ngx_int_t ngx_http_livekit_invite_parse(ngx_pool_t *pool, ngx_log_t *log,
    ngx_array_t *keysets, ngx_str_t *text,
    ngx_http_livekit_invitation_t *inv, ngx_http_livekit_error_t *err);
ngx_int_t ngx_http_livekit_invite_apply(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf, ngx_http_livekit_claims_t *c,
    ngx_http_livekit_error_t *err);
ngx_int_t ngx_http_livekit_invite_use(ngx_http_request_t *r,
    ngx_http_livekit_claims_t *c, ngx_http_livekit_error_t *err);

/* _invite_admin.c */
ngx_int_t ngx_http_livekit_invite_admin_init(ngx_conf_t *cf,
    ngx_http_livekit_token_loc_conf_t *lcf);
ngx_int_t ngx_http_livekit_invite_admin_handler(ngx_http_request_t *r);

/* _jwt.c */
ngx_int_t ngx_http_livekit_jwt_init(ngx_conf_t *cf);
ngx_int_t ngx_http_livekit_jwt_grant_init(ngx_conf_t *cf,
    ngx_http_livekit_token_loc_conf_t *lcf);
ngx_int_t ngx_http_livekit_jwt_claims(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf, ngx_http_livekit_key_t *key,
    ngx_http_livekit_claims_t *c, ngx_str_t *json);
size_t ngx_http_livekit_jwt_len(size_t claims_len);
ngx_int_t ngx_http_livekit_json_escape(ngx_pool_t *pool, ngx_str_t *s);
u_char *ngx_http_livekit_jwt_sign(ngx_log_t *log,
    ngx_http_livekit_key_t *key, ngx_str_t *claims, u_char *p);
ngx_int_t ngx_http_livekit_jwt_decode(ngx_http_request_t *r,
    ngx_str_t *token, ngx_http_livekit_jwt_t *jwt);
ngx_int_t ngx_http_livekit_jwt_check(ngx_http_request_t *r,
    ngx_http_livekit_key_t *key, ngx_http_livekit_jwt_t *jwt);
u_char *ngx_http_livekit_random_id(ngx_log_t *log, u_char *p, size_t bytes);
ngx_int_t ngx_http_livekit_hmac(ngx_log_t *log, ngx_http_livekit_key_t *key,
    ngx_str_t *prefix, u_char *data, size_t len, u_char *sig,
    size_t *siglen);


#endif /* _NGX_HTTP_LIVEKIT_TOKEN_H_INCLUDED_ */
