
/*
 * ngx_http_livekit_token_module: answers a location with a LiveKit access
 * token.
 *
 * Owns: the directives and their configuration, the content handler that
 * chooses the contract by method (GET: today's product, POST: LiveKit's
 * standard token endpoint), the POST body's limits, and the token reply in
 * each contract's shape.
 * Does not own: checking input (_request.c, _room_config.c), signing
 * (_jwt.c), where keys come from (_keys.c), or sending replies and errors
 * (_reply.c).
 */

#include "ngx_http_livekit_token.h"


/*
 * The default livekit_token_max_size: a token that still fits in the
 * request line of /rtc?access_token=... with the other parameters, within
 * nginx's default large_client_header_buffers of 8k.
 */
#define NGX_HTTP_LIVEKIT_TOKEN_MAX  6144


static ngx_str_t  ngx_http_livekit_allow = ngx_string("GET, POST");
static ngx_str_t  ngx_http_livekit_retry_after = ngx_string("5");

static const char  ngx_http_livekit_body_message[] =
    "the request body is larger than the location allows "
    "(livekit_token_body_max_size)";


static ngx_int_t ngx_http_livekit_token_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_livekit_token_post(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf);
static void ngx_http_livekit_token_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_livekit_token_json(ngx_http_request_t *r);
static ngx_int_t ngx_http_livekit_token_issue(ngx_http_request_t *r,
    ngx_http_livekit_claims_t *c);
static ngx_int_t ngx_http_livekit_token_is_json(ngx_http_request_t *r);
static ngx_int_t ngx_http_livekit_token_preflight(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf);
static ngx_int_t ngx_http_livekit_token_reply(ngx_http_request_t *r,
    ngx_http_livekit_key_t *key, ngx_http_livekit_claims_t *c,
    ngx_str_t *claims, ngx_str_t *url);
static ngx_int_t ngx_http_livekit_token_url(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf, ngx_str_t *url,
    ngx_http_livekit_error_t *err);

static void *ngx_http_livekit_token_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_livekit_token_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_livekit_token_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static void ngx_http_livekit_token_merge_claims(
    ngx_http_livekit_token_loc_conf_t *prev,
    ngx_http_livekit_token_loc_conf_t *conf);
static void ngx_http_livekit_token_merge_edge(
    ngx_http_livekit_token_loc_conf_t *prev,
    ngx_http_livekit_token_loc_conf_t *conf);
static char *ngx_http_livekit_token_location(ngx_conf_t *cf,
    ngx_http_livekit_token_loc_conf_t *conf);
static char *ngx_http_livekit_token_grants(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_livekit_token_grant_value(ngx_conf_t *cf,
    ngx_http_livekit_token_loc_conf_t *lcf, ngx_str_t *word);
static char *ngx_http_livekit_token_sources(ngx_conf_t *cf,
    ngx_http_livekit_token_loc_conf_t *lcf, ngx_str_t *word, ngx_str_t *list);
static char *ngx_http_livekit_token_kind(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_livekit_token_text(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_livekit_token_attribute(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_livekit_token_room_pattern(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_livekit_token_keysets(ngx_conf_t *cf);
static ngx_int_t ngx_http_livekit_token_admin(ngx_conf_t *cf,
    ngx_http_livekit_token_main_conf_t *tmcf,
    ngx_http_livekit_token_loc_conf_t *conf);
static ngx_int_t ngx_http_livekit_token_signs(ngx_conf_t *cf,
    ngx_http_livekit_token_loc_conf_t *conf);
static ngx_int_t ngx_http_livekit_token_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_livekit_token_preconfiguration(ngx_conf_t *cf);


static ngx_command_t  ngx_http_livekit_token_commands[] = {

    { ngx_string("livekit_token"),
      NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_livekit_token_loc_conf_t, enable),
      NULL },

    { ngx_string("livekit_token_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_livekit_token_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("livekit_keys_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_livekit_keys_file,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("livekit_api_key"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_livekit_token_loc_conf_t, api_key),
      NULL },

    { ngx_string("livekit_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_livekit_token_loc_conf_t, url),
      NULL },

    { ngx_string("livekit_token_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_livekit_token_loc_conf_t, ttl),
      NULL },

    { ngx_string("livekit_token_identity"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_livekit_token_loc_conf_t, identity),
      NULL },

    { ngx_string("livekit_token_room"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_livekit_token_loc_conf_t, room),
      NULL },

    { ngx_string("livekit_token_name"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_livekit_token_loc_conf_t, name),
      NULL },

    { ngx_string("livekit_token_metadata"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_livekit_token_loc_conf_t, metadata),
      NULL },

    { ngx_string("livekit_token_grants"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_livekit_token_grants,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("livekit_token_attribute"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_livekit_token_attribute,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("livekit_token_room_pattern"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_livekit_token_room_pattern,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("livekit_token_metadata_max_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_livekit_token_loc_conf_t, metadata_max),
      NULL },

    { ngx_string("livekit_token_identity_default"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_livekit_token_loc_conf_t, identity_default),
      NULL },

    { ngx_string("livekit_token_room_default"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_livekit_token_loc_conf_t, room_default),
      NULL },

    { ngx_string("livekit_token_agents"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_livekit_agents_set,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("livekit_token_room_config"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_livekit_room_config_set,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("livekit_token_kind"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_livekit_token_kind,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_livekit_token_loc_conf_t, kind),
      NULL },

    { ngx_string("livekit_token_room_preset"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_livekit_token_text,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_livekit_token_loc_conf_t, room_preset),
      NULL },

    { ngx_string("livekit_token_max_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_livekit_token_loc_conf_t, token_max),
      NULL },

    { ngx_string("livekit_token_body_max_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_livekit_token_loc_conf_t, body_max),
      NULL },

    { ngx_string("livekit_token_upstream_check"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_livekit_probe_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("livekit_webhook"),
      NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_livekit_token_loc_conf_t, webhook),
      NULL },

    { ngx_string("livekit_join_check"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_livekit_token_loc_conf_t, join),
      &ngx_http_livekit_join_modes },

    { ngx_string("livekit_revocation_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE123,
      ngx_http_livekit_revocation_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("livekit_revocation_admin"),
      NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_livekit_token_loc_conf_t, revocation_admin),
      NULL },

    { ngx_string("livekit_revocation_remove"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_livekit_token_loc_conf_t, revocation_remove),
      NULL },

    { ngx_string("livekit_invitation_role"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_livekit_invitation_role,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("livekit_token_invitation"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_livekit_token_invitation,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("livekit_invitation_admin"),
      NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_livekit_token_loc_conf_t, invitation_admin),
      NULL },

    { ngx_string("livekit_invitation_link"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_livekit_token_loc_conf_t, invitation_link),
      NULL },

    { ngx_string("livekit_token_cors_origins"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_livekit_cors_origins,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_livekit_token_module_ctx = {
    ngx_http_livekit_token_preconfiguration, /* preconfiguration */
    ngx_http_livekit_token_init,           /* postconfiguration */

    ngx_http_livekit_token_create_main_conf, /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_livekit_token_create_loc_conf, /* create location configuration */
    ngx_http_livekit_token_merge_loc_conf  /* merge location configuration */
};


ngx_module_t  ngx_http_livekit_token_module = {
    NGX_MODULE_V1,
    &ngx_http_livekit_token_module_ctx,    /* module context */
    ngx_http_livekit_token_commands,       /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_http_livekit_probe_init_module,    /* init module */
    ngx_http_livekit_probe_init_process,   /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_int_t
ngx_http_livekit_token_handler(ngx_http_request_t *r)
{
    ngx_int_t                           rc;
    ngx_http_livekit_error_t            err;
    ngx_http_livekit_claims_t           c;
    ngx_http_livekit_token_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_livekit_token_module);

    if (ngx_http_livekit_cors_headers(r, lcf) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (r->method == NGX_HTTP_POST) {
        return ngx_http_livekit_token_post(r, lcf);
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (r->method == NGX_HTTP_OPTIONS && lcf->cors_origins) {
        return ngx_http_livekit_token_preflight(r, lcf);
    }

    if (r->method != NGX_HTTP_GET) {
        if (ngx_http_livekit_header_out(r, "Allow", &ngx_http_livekit_allow)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        (void) ngx_http_livekit_fail(&err,
                   NGX_HTTP_LIVEKIT_METHOD_NOT_ALLOWED,
                   "use GET /token?room=...&participant=... or POST a "
                   "JSON token request");

        return ngx_http_livekit_reply_error(r, &err);
    }

    ngx_memzero(&c, sizeof(ngx_http_livekit_claims_t));

    if (ngx_http_livekit_claims_from_args(r, &c, &err) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_livekit_token_issue(r, &c);
}


/*
 * POST: a JSON body of at most livekit_token_body_max_size, refused
 * before it is read when Content-Length says it is larger.
 */

static ngx_int_t
ngx_http_livekit_token_post(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf)
{
    ngx_int_t                 rc;
    ngx_http_livekit_error_t  err;

    if (!ngx_http_livekit_token_is_json(r)) {
        (void) ngx_http_livekit_fail(&err,
                   NGX_HTTP_LIVEKIT_UNSUPPORTED_MEDIA_TYPE,
                   "POST a JSON body with \"Content-Type: application/json\"");

    } else if (r->headers_in.content_length_n > (off_t) lcf->body_max) {
        (void) ngx_http_livekit_fail(&err, NGX_HTTP_LIVEKIT_BODY_TOO_LARGE,
                   ngx_http_livekit_body_message);

    } else {
        rc = ngx_http_read_client_request_body(r,
                                          ngx_http_livekit_token_body_handler);

        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            return rc;
        }

        return NGX_DONE;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_livekit_reply_error(r, &err);
}


static void
ngx_http_livekit_token_body_handler(ngx_http_request_t *r)
{
    ngx_http_finalize_request(r, ngx_http_livekit_token_json(r));
}


static ngx_int_t
ngx_http_livekit_token_json(ngx_http_request_t *r)
{
    ngx_int_t                           rc;
    ngx_str_t                           body;
    ngx_http_livekit_error_t            err;
    ngx_http_livekit_claims_t           c;
    ngx_http_livekit_token_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_livekit_token_module);

    rc = ngx_http_livekit_request_body(r, lcf->body_max, &body);

    if (rc == NGX_DECLINED) {
        (void) ngx_http_livekit_fail(&err, NGX_HTTP_LIVEKIT_BODY_TOO_LARGE,
                                     ngx_http_livekit_body_message);
        return ngx_http_livekit_reply_error(r, &err);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memzero(&c, sizeof(ngx_http_livekit_claims_t));

    rc = ngx_http_livekit_claims_from_json(r, body.data, body.len, &c, &err);

    if (rc == NGX_DECLINED) {
        return ngx_http_livekit_reply_error(r, &err);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_livekit_token_issue(r, &c);
}


/* OPTIONS from a browser: 204 with the CORS headers, or 403 */

static ngx_int_t
ngx_http_livekit_token_preflight(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf)
{
    ngx_int_t                 rc;
    ngx_http_livekit_error_t  err;

    rc = ngx_http_livekit_cors_preflight(r, lcf, &err);

    if (rc == NGX_DECLINED) {
        return ngx_http_livekit_reply_error(r, &err);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = NGX_HTTP_NO_CONTENT;
    r->header_only = 1;

    return ngx_http_send_header(r);
}


/* checks what was asked, signs, and answers in the contract's shape */

static ngx_int_t
ngx_http_livekit_token_issue(ngx_http_request_t *r,
    ngx_http_livekit_claims_t *c)
{
    ngx_int_t                           rc;
    ngx_str_t                           claims, url;
    ngx_http_livekit_key_t             *key;
    ngx_http_livekit_error_t            err;
    ngx_http_livekit_token_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_livekit_token_module);

    rc = NGX_OK;

    if (lcf->invitation == NGX_HTTP_LIVEKIT_INVITE_REQUIRED) {
        rc = ngx_http_livekit_invite_apply(r, lcf, c, &err);
    }

    if (rc == NGX_OK) {
        rc = ngx_http_livekit_claims_finish(r, lcf, c, &err);
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_livekit_reply_error(r, &err);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a run-time source brings the key, and the URL it gives, up to date */

    key = ngx_http_livekit_keyset_current(lcf->keyset);

    if (key == NULL) {
        if (ngx_http_livekit_header_out(r, "Retry-After",
                                        &ngx_http_livekit_retry_after)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        (void) ngx_http_livekit_fail(&err, NGX_HTTP_LIVEKIT_KEYS_NOT_LOADED,
                   "the token service has no signing key yet; "
                   "retry after a few seconds");

        return ngx_http_livekit_reply_error(r, &err);
    }

    rc = ngx_http_livekit_token_url(r, lcf, &url, &err);

    if (rc == NGX_DECLINED) {
        return ngx_http_livekit_reply_error(r, &err);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* from here on room, identity, name and url are JSON-escaped */

    if (ngx_http_livekit_jwt_claims(r, lcf, key, c, &claims) != NGX_OK
        || ngx_http_livekit_json_escape(r->pool, &url) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_livekit_jwt_len(claims.len) > lcf->token_max) {
        (void) ngx_http_livekit_fail(&err, NGX_HTTP_LIVEKIT_TOKEN_TOO_LARGE,
                   "the token would be larger than the location allows "
                   "(livekit_token_max_size): send less metadata or fewer "
                   "attributes");

        return ngx_http_livekit_reply_error(r, &err);
    }

    /* the last check: a single-use invitation is spent by this token */

    rc = ngx_http_livekit_invite_use(r, c, &err);

    if (rc == NGX_DECLINED) {
        return ngx_http_livekit_reply_error(r, &err);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_livekit_token_reply(r, key, c, &claims, &url);
}


/* livekit_url, or the key source's URL; variables such as $host are
 * the client's, so checked like its own values */

static ngx_int_t
ngx_http_livekit_token_url(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf, ngx_str_t *url,
    ngx_http_livekit_error_t *err)
{
    if (lcf->url == NULL) {
        *url = lcf->keyset->url;
        return NGX_OK;
    }

    if (ngx_http_complex_value(r, lcf->url, url) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_livekit_check_text(url, 0, err);
}


/* appends ","name":"value, the value JSON text already (no ngx_sprintf:
 * this is every token's path) */

#define ngx_http_livekit_field(p, name, value)                                \
    ngx_http_livekit_append(p, "\",\"" name "\":\"",                          \
                            sizeof("\",\"" name "\":\"") - 1, value)

static ngx_inline u_char *
ngx_http_livekit_append(u_char *p, const char *sep, size_t len,
    ngx_str_t *value)
{
    p = ngx_cpymem(p, sep, len);

    return ngx_cpymem(p, value->data, value->len);
}


/*
 * The reply in one buffer, the token signed in place:
 * GET   {"token","url","room","participant"}, 200;
 * POST  {"server_url","participant_token","room_name"[,"participant_name"]},
 *       201, as LiveKit's token endpoint answers.
 */

static ngx_int_t
ngx_http_livekit_token_reply(ngx_http_request_t *r,
    ngx_http_livekit_key_t *key, ngx_http_livekit_claims_t *c,
    ngx_str_t *claims, ngx_str_t *url)
{
    u_char     *p;
    size_t      len;
    ngx_int_t   get;
    ngx_buf_t  *b;
    ngx_log_t   log;

    get = (r->method == NGX_HTTP_GET);

    len = ngx_http_livekit_jwt_len(claims->len) + url->len + c->room.len;

    if (get) {
        len += sizeof("{\"token\":\"\",\"url\":\"\",\"room\":\"\","
                      "\"participant\":\"\"}\n") - 1 + c->identity.len;

    } else {
        len += sizeof("{\"server_url\":\"\",\"participant_token\":\"\","
                      "\"room_name\":\"\",\"participant_name\":\"\"}\n") - 1
               + c->name.len;
    }

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(b->last, get ? "{\"token\":\"" : "{\"server_url\":\"",
                   get ? sizeof("{\"token\":\"") - 1
                       : sizeof("{\"server_url\":\"") - 1);

    if (!get) {
        p = ngx_cpymem(p, url->data, url->len);
        p = ngx_cpymem(p, "\",\"participant_token\":\"",
                       sizeof("\",\"participant_token\":\"") - 1);
    }

    ngx_http_livekit_reply_log(r, &log);

    p = ngx_http_livekit_jwt_sign(&log, key, claims, p);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (get) {
        p = ngx_http_livekit_field(p, "url", url);
        p = ngx_http_livekit_field(p, "room", &c->room);
        p = ngx_http_livekit_field(p, "participant", &c->identity);

    } else {
        p = ngx_http_livekit_field(p, "room_name", &c->room);

        if (c->name.len) {
            p = ngx_http_livekit_field(p, "participant_name", &c->name);
        }
    }

    p = ngx_cpymem(p, "\"}\n", sizeof("\"}\n") - 1);
    b->last = p;

    ngx_http_livekit_stats_issued(!get);

    return ngx_http_livekit_reply(r, get ? NGX_HTTP_OK
                                              : NGX_HTTP_CREATED, b);
}


/* "application/json", any case, optionally with parameters */

static ngx_int_t
ngx_http_livekit_token_is_json(ngx_http_request_t *r)
{
    u_char     *p, *last;
    ngx_str_t   json = ngx_string("application/json");

    if (r->headers_in.content_type == NULL) {
        return 0;
    }

    p = r->headers_in.content_type->value.data;
    last = p + r->headers_in.content_type->value.len;

    if ((size_t) (last - p) < json.len
        || ngx_strncasecmp(p, json.data, json.len) != 0)
    {
        return 0;
    }

    p += json.len;

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    return p == last || *p == ';';
}


static void *
ngx_http_livekit_token_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_livekit_token_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_livekit_token_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->keys_file = { 0, NULL };
     *     conf->api_key = { 0, NULL };
     *     conf->keyset = NULL;
     *     conf->destination_room = { 0, NULL };
     *     conf->kind = { 0, NULL };
     *     conf->room_preset = { 0, NULL };
     *     conf->agents_any = 0;
     *     conf->room_config_json = { 0, NULL };
     *     conf->cors_any = 0;
     *     conf->revocation_remove = { 0, NULL };
     *     conf->role_grants = NULL;
     */

    conf->enable = NGX_CONF_UNSET;
    conf->secrets = NGX_CONF_UNSET_PTR;
    conf->url = NGX_CONF_UNSET_PTR;
    conf->ttl = NGX_CONF_UNSET;
    conf->identity = NGX_CONF_UNSET_PTR;
    conf->room = NGX_CONF_UNSET_PTR;
    conf->name = NGX_CONF_UNSET_PTR;
    conf->metadata = NGX_CONF_UNSET_PTR;
    conf->identity_default = NGX_CONF_UNSET_PTR;
    conf->room_default = NGX_CONF_UNSET_PTR;
    conf->grants = NGX_CONF_UNSET_UINT;
    conf->sources = NGX_CONF_UNSET_PTR;
    conf->attributes = NGX_CONF_UNSET_PTR;
    conf->agents = NGX_CONF_UNSET_PTR;
    conf->room_config = NGX_CONF_UNSET_PTR;
    conf->cors_origins = NGX_CONF_UNSET_PTR;
#if (NGX_PCRE)
    conf->room_pattern = NGX_CONF_UNSET_PTR;
#endif
    conf->metadata_max = NGX_CONF_UNSET_SIZE;
    conf->token_max = NGX_CONF_UNSET_SIZE;
    conf->body_max = NGX_CONF_UNSET_SIZE;
    conf->webhook = NGX_CONF_UNSET;
    conf->join = NGX_CONF_UNSET_UINT;
    conf->revocation_admin = NGX_CONF_UNSET;
    conf->probe_url = NGX_CONF_UNSET_PTR;
    conf->invitation = NGX_CONF_UNSET_UINT;
    conf->invitation_ttl = NGX_CONF_UNSET;
    conf->invitation_admin = NGX_CONF_UNSET;
    conf->invitation_link = NGX_CONF_UNSET_PTR;

    return conf;
}


static char *
ngx_http_livekit_token_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_livekit_token_loc_conf_t *prev = parent;
    ngx_http_livekit_token_loc_conf_t *conf = child;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);

    if (conf->secrets == NGX_CONF_UNSET_PTR) {
        conf->secrets = prev->secrets;
        conf->keys_file = prev->keys_file;
    }

    ngx_conf_merge_ptr_value(conf->secrets, NULL, NULL);
    ngx_conf_merge_str_value(conf->api_key, prev->api_key, "");
    ngx_conf_merge_ptr_value(conf->url, prev->url, NULL);

    ngx_http_livekit_token_merge_claims(prev, conf);
    ngx_http_livekit_token_merge_edge(prev, conf);

    if (!conf->webhook && !conf->status && !conf->enable && !conf->join
        && !conf->revocation_admin && !conf->invitation_admin)
    {
        return NGX_CONF_OK;
    }

    return ngx_http_livekit_token_location(cf, conf);
}


/* what a token carries: the claims, the grants, their limits */

static void
ngx_http_livekit_token_merge_claims(ngx_http_livekit_token_loc_conf_t *prev,
    ngx_http_livekit_token_loc_conf_t *conf)
{
    ngx_conf_merge_sec_value(conf->ttl, prev->ttl, 6 * 60 * 60);
    ngx_conf_merge_ptr_value(conf->identity, prev->identity, NULL);
    ngx_conf_merge_ptr_value(conf->room, prev->room, NULL);
    ngx_conf_merge_ptr_value(conf->name, prev->name, NULL);
    ngx_conf_merge_ptr_value(conf->metadata, prev->metadata, NULL);
    ngx_conf_merge_ptr_value(conf->identity_default, prev->identity_default,
                             NULL);
    ngx_conf_merge_ptr_value(conf->room_default, prev->room_default, NULL);

    if (conf->grants == NGX_CONF_UNSET_UINT) {
        conf->grants = prev->grants;
        conf->sources = prev->sources;
        conf->destination_room = prev->destination_room;
    }

    ngx_conf_merge_uint_value(conf->grants, prev->grants,
                              NGX_HTTP_LIVEKIT_DEFAULT_GRANTS);
    ngx_conf_merge_ptr_value(conf->sources, prev->sources, NULL);
    ngx_conf_merge_str_value(conf->kind, prev->kind, "");
    ngx_conf_merge_str_value(conf->room_preset, prev->room_preset, "");
    ngx_conf_merge_ptr_value(conf->attributes, prev->attributes, NULL);

    if (conf->agents == NGX_CONF_UNSET_PTR) {
        conf->agents = prev->agents;
        conf->agents_any = prev->agents_any;
    }

    ngx_conf_merge_ptr_value(conf->agents, NULL, NULL);

    if (conf->room_config == NGX_CONF_UNSET_PTR) {
        conf->room_config = prev->room_config;
        conf->room_config_json = prev->room_config_json;
    }

    ngx_conf_merge_ptr_value(conf->room_config, NULL, NULL);

#if (NGX_PCRE)
    ngx_conf_merge_ptr_value(conf->room_pattern, prev->room_pattern, NULL);
#endif

    ngx_conf_merge_size_value(conf->metadata_max, prev->metadata_max, 4096);
    ngx_conf_merge_size_value(conf->token_max, prev->token_max,
                              NGX_HTTP_LIVEKIT_TOKEN_MAX);

    if (conf->invitation == NGX_CONF_UNSET_UINT) {
        conf->invitation = prev->invitation;
        conf->invitation_ttl = prev->invitation_ttl;
    }

    ngx_conf_merge_uint_value(conf->invitation, NGX_CONF_UNSET_UINT,
                              NGX_HTTP_LIVEKIT_INVITE_OFF);
    ngx_conf_merge_value(conf->invitation_ttl, NGX_CONF_UNSET, 0);
}


/* the rest: requests, webhooks, joins, the admin locations, the probe */

static void
ngx_http_livekit_token_merge_edge(ngx_http_livekit_token_loc_conf_t *prev,
    ngx_http_livekit_token_loc_conf_t *conf)
{
    if (conf->cors_origins == NGX_CONF_UNSET_PTR) {
        conf->cors_origins = prev->cors_origins;
        conf->cors_any = prev->cors_any;
    }

    ngx_conf_merge_ptr_value(conf->cors_origins, NULL, NULL);
    ngx_conf_merge_size_value(conf->body_max, prev->body_max, 16384);

    ngx_conf_merge_value(conf->webhook, prev->webhook, 0);
    ngx_conf_merge_uint_value(conf->join, prev->join,
                              NGX_HTTP_LIVEKIT_JOIN_OFF);
    ngx_conf_merge_value(conf->revocation_admin, prev->revocation_admin, 0);
    ngx_conf_merge_str_value(conf->revocation_remove,
                             prev->revocation_remove, "");
    ngx_conf_merge_value(conf->invitation_admin, prev->invitation_admin, 0);
    ngx_conf_merge_ptr_value(conf->invitation_link, prev->invitation_link,
                             NULL);

    if (conf->probe_url == NGX_CONF_UNSET_PTR) {
        conf->probe_url = prev->probe_url;
        conf->probe_interval = prev->probe_interval;
    }

    ngx_conf_merge_ptr_value(conf->probe_url, NULL, NULL);
}


/*
 * A location the module serves or checks: one role each, a handler, and
 * a place in the list whose key sets postconfiguration resolves.
 */

static char *
ngx_http_livekit_token_location(ngx_conf_t *cf,
    ngx_http_livekit_token_loc_conf_t *conf)
{
    ngx_http_core_loc_conf_t             *clcf;
    ngx_http_livekit_token_main_conf_t   *tmcf;
    ngx_http_livekit_token_loc_conf_t   **lcfp;

    if (conf->revocation_admin + conf->invitation_admin + conf->enable
        + conf->status > 1)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"livekit_token\", \"livekit_token_status\", "
                           "\"livekit_revocation_admin\" and "
                           "\"livekit_invitation_admin\" each need a "
                           "location of their own");
        return NGX_CONF_ERROR;
    }

    if (conf->enable && conf->ttl <= 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"livekit_token_ttl\" must be positive");
        return NGX_CONF_ERROR;
    }

    /* its key set is resolved in postconfiguration, see _keys.c */

    tmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_livekit_token_module);

    lcfp = ngx_array_push(&tmcf->locations);
    if (lcfp == NULL) {
        return NGX_CONF_ERROR;
    }

    *lcfp = conf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (conf->enable) {
        clcf->handler = ngx_http_livekit_token_handler;
    }

    if (conf->revocation_admin) {
        clcf->handler = ngx_http_livekit_revoke_admin_handler;
    }

    if (conf->invitation_admin) {
        clcf->handler = ngx_http_livekit_invite_admin_handler;
    }

    return NGX_CONF_OK;
}


/*
 * Postconfiguration: every module's main configuration is initialized, so
 * each key source knows whether it is configured.  The key set of each
 * location that signs, verifies webhooks or shows the status.
 */

static ngx_int_t
ngx_http_livekit_token_keysets(ngx_conf_t *cf)
{
    ngx_int_t                            rc;
    ngx_uint_t                           i;
    ngx_http_livekit_token_loc_conf_t  **lcfp, *conf;
    ngx_http_livekit_token_main_conf_t  *tmcf;

    tmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_livekit_token_module);
    lcfp = tmcf->locations.elts;

    for (i = 0; i < tmcf->locations.nelts; i++) {
        conf = lcfp[i];

        if ((conf->webhook || conf->join)
            && ngx_http_livekit_keyset_all(cf, conf,
                   conf->webhook ? "livekit_webhook" : "livekit_join_check",
                   &conf->verify_keys)
               != NGX_CONF_OK)
        {
            return NGX_ERROR;
        }

        if (conf->revocation_admin) {
            if (ngx_http_livekit_token_admin(cf, tmcf, conf) != NGX_OK) {
                return NGX_ERROR;
            }

            continue;
        }

        if (conf->invitation_admin) {
            if (ngx_http_livekit_invite_admin_init(cf, conf) != NGX_OK) {
                return NGX_ERROR;
            }

            continue;
        }

        if (conf->status && !conf->enable) {

            /* the status shows the key source this scope would sign with */

            rc = ngx_http_livekit_keyset_source(cf, conf);

            if (rc == NGX_ERROR
                || (rc == NGX_DECLINED && conf->secrets
                    && ngx_http_livekit_keyset_resolve(cf, conf,
                                                       "livekit_token_status")
                       != NGX_CONF_OK)
                || ngx_http_livekit_probe_add(cf, conf) != NGX_OK)
            {
                return NGX_ERROR;
            }

            continue;
        }

        if (conf->enable && ngx_http_livekit_token_signs(cf, conf) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * The revocation admin needs the zone, and a key to sign the token that
 * asks livekit-server to remove a participant.
 */

static ngx_int_t
ngx_http_livekit_token_admin(ngx_conf_t *cf,
    ngx_http_livekit_token_main_conf_t *tmcf,
    ngx_http_livekit_token_loc_conf_t *conf)
{
    if (tmcf->revocations == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"livekit_revocation_admin\" needs "
                           "\"livekit_revocation_zone\" in http {}");
        return NGX_ERROR;
    }

    if (conf->revocation_remove.len == 0) {
        return NGX_OK;
    }

    return (ngx_http_livekit_keyset_resolve(cf, conf,
                                            "livekit_revocation_remove")
            == NGX_CONF_OK) ? NGX_OK : NGX_ERROR;
}


static ngx_int_t
ngx_http_livekit_token_signs(ngx_conf_t *cf,
    ngx_http_livekit_token_loc_conf_t *conf)
{
    ngx_http_livekit_token_main_conf_t  *tmcf;

    tmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_livekit_token_module);

    if (conf->url == NULL && !ngx_http_livekit_keyset_gives_url(cf)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"livekit_token\" needs \"livekit_url\", the "
                           "ws:// or wss:// URL of the LiveKit server");
        return NGX_ERROR;
    }

    if (tmcf->revocations && conf->ttl > tmcf->revocation_ttl) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"livekit_token_ttl\" %T is longer than "
                           "\"livekit_revocation_zone\" max_ttl=%T: a "
                           "revocation must outlive every token it matches",
                           conf->ttl, tmcf->revocation_ttl);
        return NGX_ERROR;
    }

    if (ngx_http_livekit_keyset_resolve(cf, conf, "livekit_token")
        != NGX_CONF_OK
        || ngx_http_livekit_jwt_grant_init(cf, conf) != NGX_OK
        || ngx_http_livekit_probe_add(cf, conf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (conf->invitation == NGX_HTTP_LIVEKIT_INVITE_REQUIRED
        && ngx_http_livekit_invite_init(cf, conf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void *
ngx_http_livekit_token_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_livekit_token_main_conf_t  *tmcf;

    tmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_livekit_token_main_conf_t));
    if (tmcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&tmcf->sources, cf->pool, 1,
                       sizeof(ngx_http_livekit_key_source_t *))
        != NGX_OK
        || ngx_array_init(&tmcf->locations, cf->pool, 8,
                          sizeof(ngx_http_livekit_token_loc_conf_t *))
           != NGX_OK)
    {
        return NULL;
    }

    return tmcf;
}


static char *
ngx_http_livekit_token_grants(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_livekit_token_loc_conf_t *lcf = conf;

    char        *rv;
    ngx_str_t   *value;
    ngx_uint_t   i;

    if (lcf->grants != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    lcf->grants = 0;
    lcf->sources = NULL;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strlchr(value[i].data, value[i].data + value[i].len, '=')) {
            rv = ngx_http_livekit_token_grant_value(cf, lcf, &value[i]);
            if (rv != NGX_CONF_OK) {
                return rv;
            }

            continue;
        }

        rv = ngx_http_livekit_grant_word(cf, cmd, &value[i], &lcf->grants);
        if (rv != NGX_CONF_OK) {
            return rv;
        }
    }

    /* livekit-server ignores canPublishSources unless canPublish is true */

    if (lcf->sources && !(lcf->grants & NGX_HTTP_LIVEKIT_CAN_PUBLISH)) {
        return "has \"canPublishSources=\" without \"canPublish\": "
               "livekit-server would allow no source at all";
    }

    return NGX_CONF_OK;
}


/* canPublishSources=camera,microphone or destinationRoom=name */

static char *
ngx_http_livekit_token_grant_value(ngx_conf_t *cf,
    ngx_http_livekit_token_loc_conf_t *lcf, ngx_str_t *word)
{
    u_char                    *eq;
    ngx_str_t                  name, arg;
    ngx_http_livekit_error_t   err;

    eq = ngx_strlchr(word->data, word->data + word->len, '=');

    name.data = word->data;
    name.len = eq - word->data;
    arg.data = eq + 1;
    arg.len = word->data + word->len - arg.data;

    if (name.len == sizeof("canPublishSources") - 1
        && ngx_strncmp(name.data, "canPublishSources", name.len) == 0)
    {
        return ngx_http_livekit_token_sources(cf, lcf, word, &arg);
    }

    if (name.len != sizeof("destinationRoom") - 1
        || ngx_strncmp(name.data, "destinationRoom", name.len) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown grant \"%V\": only canPublishSources= "
                           "and destinationRoom= take a value", word);
        return NGX_CONF_ERROR;
    }

    if (lcf->destination_room.len) {
        return "has \"destinationRoom=\" twice";
    }

    if (arg.len == 0 || arg.len > NGX_HTTP_LIVEKIT_MAX_NAME
        || ngx_http_livekit_check_text(&arg, 0, &err) != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid room in \"%V\": 1 to 256 bytes of "
                           "UTF-8 text", word);
        return NGX_CONF_ERROR;
    }

    lcf->destination_room = arg;

    return NGX_CONF_OK;
}


static char *
ngx_http_livekit_token_sources(ngx_conf_t *cf,
    ngx_http_livekit_token_loc_conf_t *lcf, ngx_str_t *word, ngx_str_t *list)
{
    u_char     *p, *last, *comma;
    ngx_str_t   source, *src, *s;

    if (lcf->sources) {
        return "has \"canPublishSources=\" twice";
    }

    lcf->sources = ngx_array_create(cf->pool, 4, sizeof(ngx_str_t));
    if (lcf->sources == NULL) {
        return NGX_CONF_ERROR;
    }

    p = list->data;
    last = p + list->len;

    for ( /* void */ ; p < last; p = comma + 1) {
        comma = ngx_strlchr(p, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        source.data = p;
        source.len = comma - p;

        src = ngx_http_livekit_vocab_find(ngx_http_livekit_sources, &source);

        if (src == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown publish source \"%V\" in \"%V\": "
                               "use camera, microphone, screen_share, "
                               "screen_share_audio", &source, word);
            return NGX_CONF_ERROR;
        }

        s = ngx_array_push(lcf->sources);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        *s = *src;
    }

    if (lcf->sources->nelts == 0) {
        return "has an empty \"canPublishSources=\"";
    }

    return NGX_CONF_OK;
}


/* livekit_token_kind standard | ingress | egress | sip | agent; */

static char *
ngx_http_livekit_token_kind(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t  *field, *value;

    field = (ngx_str_t *) (p + cmd->offset);

    if (field->data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_livekit_vocab_find(ngx_http_livekit_kinds, &value[1])
        == NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown participant kind \"%V\" in \"%V\": use "
                           "standard, ingress, egress, sip or agent",
                           &value[1], &cmd->name);
        return NGX_CONF_ERROR;
    }

    *field = value[1];

    return NGX_CONF_OK;
}


/* a claim string fixed by configuration: 1 to 256 bytes of text */

static char *
ngx_http_livekit_token_text(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t                 *field, *value;
    ngx_http_livekit_error_t   err;

    field = (ngx_str_t *) (p + cmd->offset);

    if (field->data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0 || value[1].len > NGX_HTTP_LIVEKIT_MAX_NAME
        || ngx_http_livekit_check_text(&value[1], 0, &err) != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"%V\": 1 to 256 bytes "
                           "of UTF-8 text", &value[1], &cmd->name);
        return NGX_CONF_ERROR;
    }

    *field = value[1];

    return NGX_CONF_OK;
}


/* livekit_token_attribute name value; */

static char *
ngx_http_livekit_token_attribute(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_livekit_token_loc_conf_t *lcf = conf;

    ngx_str_t                          *value;
    ngx_uint_t                          i;
    ngx_http_livekit_attribute_t       *a;
    ngx_http_compile_complex_value_t    ccv;

    value = cf->args->elts;

    if (lcf->attributes == NGX_CONF_UNSET_PTR) {
        lcf->attributes = ngx_array_create(cf->pool, 4,
                                         sizeof(ngx_http_livekit_attribute_t));
        if (lcf->attributes == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    a = lcf->attributes->elts;
    for (i = 0; i < lcf->attributes->nelts; i++) {
        if (a[i].name.len == value[1].len
            && ngx_strncmp(a[i].name.data, value[1].data, value[1].len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate attribute \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    if (value[1].len == 0
        || ngx_strlen(value[1].data) != value[1].len)
    {
        return "has an empty or invalid attribute name";
    }

    a = ngx_array_push(lcf->attributes);
    if (a == NULL) {
        return NGX_CONF_ERROR;
    }

    a->name = value[1];

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[2];
    ccv.complex_value = &a->value;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* livekit_token_room_pattern regex; the whole room name must match */

static char *
ngx_http_livekit_token_room_pattern(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
#if (NGX_PCRE)
    ngx_http_livekit_token_loc_conf_t *lcf = conf;

    u_char               errstr[NGX_MAX_CONF_ERRSTR];
    ngx_str_t           *value;
    ngx_regex_compile_t  rc;

    if (lcf->room_pattern != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    ngx_memzero(&rc, sizeof(ngx_regex_compile_t));

    rc.pattern.len = value[1].len + sizeof("^(?:)$") - 1;
    rc.pattern.data = ngx_pnalloc(cf->pool, rc.pattern.len);
    if (rc.pattern.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_sprintf(rc.pattern.data, "^(?:%V)$", &value[1]);

    rc.pool = cf->pool;
    rc.err.len = NGX_MAX_CONF_ERRSTR;
    rc.err.data = errstr;

    if (ngx_regex_compile(&rc) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%V", &rc.err);
        return NGX_CONF_ERROR;
    }

    lcf->room_pattern = rc.regex;

    return NGX_CONF_OK;

#else

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"livekit_token_room_pattern\" needs nginx built "
                       "with PCRE");
    return NGX_CONF_ERROR;

#endif
}


static ngx_int_t
ngx_http_livekit_token_init(ngx_conf_t *cf)
{
    if (ngx_http_livekit_token_keysets(cf) != NGX_OK
        || ngx_http_livekit_webhook_init(cf) != NGX_OK
        || ngx_http_livekit_join_init(cf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_livekit_jwt_init(cf);
}


static ngx_int_t
ngx_http_livekit_token_preconfiguration(ngx_conf_t *cf)
{
    if (ngx_http_livekit_join_add_variables(cf) != NGX_OK
        || ngx_http_livekit_revoke_add_variables(cf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_livekit_webhook_add_variables(cf);
}
