
/*
 * ngx_http_livekit_token_module: answers a location with a LiveKit access
 * token.
 *
 * Owns: the directives and their configuration, the content handler that
 * chooses the contract by method (GET: today's product, POST: LiveKit's
 * standard token endpoint), reading the POST body, and every reply,
 * including JSON errors.
 * Does not own: checking input (_request.c), signing (_jwt.c), or where
 * keys come from (_keys.c).
 */

#include "ngx_http_livekit_token.h"
#include "ngx_http_livekit_compat.h"


#define NGX_HTTP_LIVEKIT_RETRY_AFTER  "5"


static ngx_int_t ngx_http_livekit_token_handler(ngx_http_request_t *r);
static void ngx_http_livekit_token_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_livekit_token_post(ngx_http_request_t *r);
static ngx_int_t ngx_http_livekit_token_issue(ngx_http_request_t *r,
    ngx_http_livekit_claims_t *c);
static ngx_int_t ngx_http_livekit_token_body(ngx_http_request_t *r,
    ngx_str_t *body);
static ngx_int_t ngx_http_livekit_token_is_json(ngx_http_request_t *r);
static ngx_int_t ngx_http_livekit_token_error(ngx_http_request_t *r,
    ngx_http_livekit_error_t *err);
static ngx_int_t ngx_http_livekit_token_send(ngx_http_request_t *r,
    ngx_uint_t status, ngx_buf_t *b);
static ngx_int_t ngx_http_livekit_token_header(ngx_http_request_t *r,
    const char *name, const char *value);

static void *ngx_http_livekit_token_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_livekit_token_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static char *ngx_http_livekit_token_grants(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_livekit_token_attribute(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_livekit_token_room_pattern(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_livekit_token_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_livekit_token_init(ngx_conf_t *cf);


typedef struct {
    ngx_str_t    name;
    ngx_uint_t   flag;
} ngx_http_livekit_grant_word_t;


static ngx_http_livekit_grant_word_t  ngx_http_livekit_grant_words[] = {
    { ngx_string("roomJoin"), NGX_HTTP_LIVEKIT_ROOM_JOIN },
    { ngx_string("canPublish"), NGX_HTTP_LIVEKIT_CAN_PUBLISH },
    { ngx_string("canSubscribe"), NGX_HTTP_LIVEKIT_CAN_SUBSCRIBE },
    { ngx_string("canPublishData"), NGX_HTTP_LIVEKIT_CAN_PUBLISH_DATA },
    { ngx_string("canUpdateOwnMetadata"),
      NGX_HTTP_LIVEKIT_CAN_UPDATE_METADATA },
    { ngx_string("hidden"), NGX_HTTP_LIVEKIT_HIDDEN },
    { ngx_string("roomAdmin"), NGX_HTTP_LIVEKIT_ROOM_ADMIN },
    { ngx_string("roomCreate"), NGX_HTTP_LIVEKIT_ROOM_CREATE },
    { ngx_string("roomList"), NGX_HTTP_LIVEKIT_ROOM_LIST },
    { ngx_string("roomRecord"), NGX_HTTP_LIVEKIT_ROOM_RECORD },
    { ngx_string("agent"), NGX_HTTP_LIVEKIT_AGENT },
    { ngx_null_string, 0 }
};


static ngx_str_t  ngx_http_livekit_sources[] = {
    ngx_string("camera"),
    ngx_string("microphone"),
    ngx_string("screen_share"),
    ngx_string("screen_share_audio"),
    ngx_null_string
};


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

      ngx_null_command
};


static ngx_http_module_t  ngx_http_livekit_token_module_ctx = {
    ngx_http_livekit_token_preconfiguration, /* preconfiguration */
    ngx_http_livekit_token_init,           /* postconfiguration */

    NULL,                                  /* create main configuration */
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
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_int_t
ngx_http_livekit_token_handler(ngx_http_request_t *r)
{
    ngx_int_t                   rc;
    ngx_http_livekit_error_t    err;
    ngx_http_livekit_claims_t   c;

    if (r->method == NGX_HTTP_POST) {
        if (!ngx_http_livekit_token_is_json(r)) {
            err.status = NGX_HTTP_UNSUPPORTED_MEDIA_TYPE;
            err.code = "unsupported_media_type";
            err.message = "POST a JSON body with "
                          "\"Content-Type: application/json\"";

            rc = ngx_http_discard_request_body(r);
            if (rc != NGX_OK) {
                return rc;
            }

            return ngx_http_livekit_token_error(r, &err);
        }

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

    if (r->method != NGX_HTTP_GET) {
        if (ngx_http_livekit_token_header(r, "Allow", "GET, POST") != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        err.status = NGX_HTTP_NOT_ALLOWED;
        err.code = "method_not_allowed";
        err.message = "use GET /token?room=...&participant=... or POST a "
                      "JSON token request";

        return ngx_http_livekit_token_error(r, &err);
    }

    ngx_memzero(&c, sizeof(ngx_http_livekit_claims_t));

    if (ngx_http_livekit_claims_from_args(r, &c, &err) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_livekit_token_issue(r, &c);
}


static void
ngx_http_livekit_token_body_handler(ngx_http_request_t *r)
{
    ngx_http_finalize_request(r, ngx_http_livekit_token_post(r));
}


static ngx_int_t
ngx_http_livekit_token_post(ngx_http_request_t *r)
{
    ngx_int_t                   rc;
    ngx_str_t                   body;
    ngx_http_livekit_error_t    err;
    ngx_http_livekit_claims_t   c;

    if (ngx_http_livekit_token_body(r, &body) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memzero(&c, sizeof(ngx_http_livekit_claims_t));

    rc = ngx_http_livekit_claims_from_json(r, body.data, body.len, &c, &err);

    if (rc == NGX_DECLINED) {
        return ngx_http_livekit_token_error(r, &err);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_livekit_token_issue(r, &c);
}


/* checks what was asked, signs, and answers in the contract's shape */

static ngx_int_t
ngx_http_livekit_token_issue(ngx_http_request_t *r,
    ngx_http_livekit_claims_t *c)
{
    u_char                             *p;
    size_t                              len;
    ngx_int_t                           rc;
    ngx_buf_t                          *b;
    ngx_str_t                           claims, url;
    ngx_http_livekit_key_t             *key;
    ngx_http_livekit_error_t            err;
    ngx_http_livekit_token_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_livekit_token_module);

    rc = ngx_http_livekit_claims_finish(r, lcf, c, &err);

    if (rc == NGX_DECLINED) {
        return ngx_http_livekit_token_error(r, &err);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    key = ngx_http_livekit_keyset_current(lcf->keyset);

    if (key == NULL) {
        if (ngx_http_livekit_token_header(r, "Retry-After",
                                          NGX_HTTP_LIVEKIT_RETRY_AFTER)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        err.status = NGX_HTTP_SERVICE_UNAVAILABLE;
        err.code = "keys_not_loaded";
        err.message = "the token service has no signing key yet; "
                      "retry after a few seconds";

        return ngx_http_livekit_token_error(r, &err);
    }

    if (lcf->url) {
        if (ngx_http_complex_value(r, lcf->url, &url) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        /* variables such as $host come from the client */

        if (ngx_http_livekit_check_text(&url, 0, &err) != NGX_OK) {
            return ngx_http_livekit_token_error(r, &err);
        }

    } else {
        url = lcf->keyset->url;
    }

    /* from here on room and identity are JSON-escaped */

    if (ngx_http_livekit_jwt_claims(r, lcf, key, c, &claims) != NGX_OK
        || ngx_http_livekit_json_escape(r->pool, &url) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the reply is written in one buffer, the token signed in place */

    len = ngx_http_livekit_jwt_len(claims.len) + url.len;

    if (r->method == NGX_HTTP_GET) {
        len += sizeof("{\"token\":\"\",\"url\":\"\",\"room\":\"\","
                      "\"participant\":\"\"}\n") - 1
               + c->room.len + c->identity.len;

    } else {
        len += sizeof("{\"server_url\":\"\",\"participant_token\":\"\"}\n")
               - 1;
    }

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = b->last;

    if (r->method == NGX_HTTP_GET) {
        p = ngx_cpymem(p, "{\"token\":\"", sizeof("{\"token\":\"") - 1);

        p = ngx_http_livekit_jwt_sign(r, key, &claims, p);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        p = ngx_cpymem(p, "\",\"url\":\"", sizeof("\",\"url\":\"") - 1);
        p = ngx_cpymem(p, url.data, url.len);
        p = ngx_cpymem(p, "\",\"room\":\"", sizeof("\",\"room\":\"") - 1);
        p = ngx_cpymem(p, c->room.data, c->room.len);
        p = ngx_cpymem(p, "\",\"participant\":\"",
                       sizeof("\",\"participant\":\"") - 1);
        p = ngx_cpymem(p, c->identity.data, c->identity.len);

        rc = NGX_HTTP_OK;

    } else {
        p = ngx_cpymem(p, "{\"server_url\":\"",
                       sizeof("{\"server_url\":\"") - 1);
        p = ngx_cpymem(p, url.data, url.len);
        p = ngx_cpymem(p, "\",\"participant_token\":\"",
                       sizeof("\",\"participant_token\":\"") - 1);

        p = ngx_http_livekit_jwt_sign(r, key, &claims, p);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        rc = NGX_HTTP_CREATED;
    }

    p = ngx_cpymem(p, "\"}\n", sizeof("\"}\n") - 1);
    b->last = p;

    ngx_http_livekit_stats_issued(rc == NGX_HTTP_CREATED);

    return ngx_http_livekit_token_send(r, rc, b);
}


/* the request body in one piece, whether in memory or buffered to disk */

static ngx_int_t
ngx_http_livekit_token_body(ngx_http_request_t *r, ngx_str_t *body)
{
    u_char       *p;
    off_t         len;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    ngx_str_null(body);

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        len += ngx_buf_size(cl->buf);
    }

    if (len == 0) {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (!b->in_file) {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
            continue;
        }

        n = ngx_read_file(b->file, p, b->file_last - b->file_pos,
                          b->file_pos);

        if (n != b->file_last - b->file_pos) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "livekit token: cannot read the buffered body");
            return NGX_ERROR;
        }

        p += n;
    }

    body->len = p - body->data;

    return NGX_OK;
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


static ngx_int_t
ngx_http_livekit_token_error(ngx_http_request_t *r,
    ngx_http_livekit_error_t *err)
{
    size_t       len;
    json_t      *body;
    ngx_buf_t   *b;

    /*
     * Client errors, and the 503 while no key is loaded: the key source
     * logs its own failures once per change, so each request is only info.
     */

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "livekit token: %ui %s", err->status, err->code);

    ngx_http_livekit_stats_error(err->code);

    body = json_pack("{s:s,s:s}", "error", err->code,
                     "message", err->message);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = json_dumpb(body, NULL, 0, JSON_COMPACT);

    b = ngx_create_temp_buf(r->pool, len + 1);
    if (b == NULL || len == 0) {
        json_decref(body);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last += json_dumpb(body, (char *) b->pos, len, JSON_COMPACT);
    *b->last++ = '\n';
    json_decref(body);

    return ngx_http_livekit_token_send(r, err->status, b);
}


/* sends "b" as the whole JSON response */

static ngx_int_t
ngx_http_livekit_token_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_buf_t *b)
{
    ngx_int_t     rc;
    ngx_chain_t   out;

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    if (ngx_http_livekit_token_header(r, "Cache-Control", "no-store")
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = status;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static ngx_int_t
ngx_http_livekit_token_header(ngx_http_request_t *r, const char *name,
    const char *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_http_livekit_header_init(h);
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value.data = (u_char *) value;
    h->value.len = ngx_strlen(value);

    return NGX_OK;
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
     */

    conf->enable = NGX_CONF_UNSET;
    conf->secrets = NGX_CONF_UNSET_PTR;
    conf->url = NGX_CONF_UNSET_PTR;
    conf->ttl = NGX_CONF_UNSET;
    conf->identity = NGX_CONF_UNSET_PTR;
    conf->room = NGX_CONF_UNSET_PTR;
    conf->name = NGX_CONF_UNSET_PTR;
    conf->metadata = NGX_CONF_UNSET_PTR;
    conf->grants = NGX_CONF_UNSET_UINT;
    conf->sources = NGX_CONF_UNSET_PTR;
    conf->attributes = NGX_CONF_UNSET_PTR;
#if (NGX_PCRE)
    conf->room_pattern = NGX_CONF_UNSET_PTR;
#endif
    conf->metadata_max = NGX_CONF_UNSET_SIZE;

    return conf;
}


static char *
ngx_http_livekit_token_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_livekit_token_loc_conf_t *prev = parent;
    ngx_http_livekit_token_loc_conf_t *conf = child;

    ngx_http_core_loc_conf_t  *clcf;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);

    if (conf->secrets == NGX_CONF_UNSET_PTR) {
        conf->secrets = prev->secrets;
        conf->keys_file = prev->keys_file;
    }

    ngx_conf_merge_ptr_value(conf->secrets, NULL, NULL);
    ngx_conf_merge_str_value(conf->api_key, prev->api_key, "");
    ngx_conf_merge_ptr_value(conf->url, prev->url, NULL);
    ngx_conf_merge_sec_value(conf->ttl, prev->ttl, 6 * 60 * 60);
    ngx_conf_merge_ptr_value(conf->identity, prev->identity, NULL);
    ngx_conf_merge_ptr_value(conf->room, prev->room, NULL);
    ngx_conf_merge_ptr_value(conf->name, prev->name, NULL);
    ngx_conf_merge_ptr_value(conf->metadata, prev->metadata, NULL);

    if (conf->grants == NGX_CONF_UNSET_UINT) {
        conf->grants = prev->grants;
        conf->sources = prev->sources;
    }

    ngx_conf_merge_uint_value(conf->grants, prev->grants,
                              NGX_HTTP_LIVEKIT_DEFAULT_GRANTS);
    ngx_conf_merge_ptr_value(conf->sources, prev->sources, NULL);
    ngx_conf_merge_ptr_value(conf->attributes, prev->attributes, NULL);

#if (NGX_PCRE)
    ngx_conf_merge_ptr_value(conf->room_pattern, prev->room_pattern, NULL);
#endif

    ngx_conf_merge_size_value(conf->metadata_max, prev->metadata_max, 4096);

    if (conf->status && !conf->enable) {

        /* the status shows the key source this scope would sign with */

        if ((conf->secrets || ngx_http_livekit_ssm_configured(cf))
            && ngx_http_livekit_keyset_resolve(cf, conf) != NGX_CONF_OK)
        {
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    if (!conf->enable) {
        return NGX_CONF_OK;
    }

    if (conf->ttl <= 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"livekit_token_ttl\" must be positive");
        return NGX_CONF_ERROR;
    }

    if (conf->url == NULL && !ngx_http_livekit_ssm_gives_url(cf)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"livekit_token\" needs \"livekit_url\", the "
                           "ws:// or wss:// URL of the LiveKit server");
        return NGX_CONF_ERROR;
    }

    if (ngx_http_livekit_keyset_resolve(cf, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_livekit_jwt_grant_init(cf, conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_livekit_token_handler;

    return NGX_CONF_OK;
}


/* livekit_token_grants roomJoin canSubscribe canPublishSources=camera ...; */

static char *
ngx_http_livekit_token_grants(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_livekit_token_loc_conf_t *lcf = conf;

    u_char                         *p, *last, *comma;
    ngx_str_t                      *value, word, *src, *s;
    ngx_uint_t                      i;
    ngx_http_livekit_grant_word_t  *g;

    static ngx_str_t  sources_eq = ngx_string("canPublishSources=");

    if (lcf->grants != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    lcf->grants = 0;
    lcf->sources = NULL;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (value[i].len > sources_eq.len
            && ngx_strncmp(value[i].data, sources_eq.data, sources_eq.len)
               == 0)
        {
            if (lcf->sources) {
                return "has \"canPublishSources=\" twice";
            }

            lcf->sources = ngx_array_create(cf->pool, 4, sizeof(ngx_str_t));
            if (lcf->sources == NULL) {
                return NGX_CONF_ERROR;
            }

            p = value[i].data + sources_eq.len;
            last = value[i].data + value[i].len;

            for ( /* void */ ; p < last; p = comma + 1) {
                comma = ngx_strlchr(p, last, ',');
                if (comma == NULL) {
                    comma = last;
                }

                word.data = p;
                word.len = comma - p;

                for (src = ngx_http_livekit_sources; src->len; src++) {
                    if (src->len == word.len
                        && ngx_strncmp(src->data, word.data, word.len) == 0)
                    {
                        break;
                    }
                }

                if (src->len == 0) {
                    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                       "unknown publish source \"%V\" in "
                                       "\"%V\": use camera, microphone, "
                                       "screen_share, screen_share_audio",
                                       &word, &value[i]);
                    return NGX_CONF_ERROR;
                }

                s = ngx_array_push(lcf->sources);
                if (s == NULL) {
                    return NGX_CONF_ERROR;
                }

                *s = *src;
            }

            continue;
        }

        for (g = ngx_http_livekit_grant_words; g->name.len; g++) {
            if (g->name.len == value[i].len
                && ngx_strncmp(g->name.data, value[i].data, value[i].len)
                   == 0)
            {
                break;
            }
        }

        if (g->name.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown grant \"%V\" in \"%V\"",
                               &value[i], &cmd->name);
            return NGX_CONF_ERROR;
        }

        lcf->grants |= g->flag;
    }

    /* livekit-server ignores canPublishSources unless canPublish is true */

    if (lcf->sources && !(lcf->grants & NGX_HTTP_LIVEKIT_CAN_PUBLISH)) {
        return "has \"canPublishSources=\" without \"canPublish\": "
               "livekit-server would allow no source at all";
    }

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
    return ngx_http_livekit_jwt_init(cf);
}


static ngx_int_t
ngx_http_livekit_token_preconfiguration(ngx_conf_t *cf)
{
    ngx_http_livekit_stats_reset();

    return NGX_OK;
}
