
/*
 * livekit_token_status.
 *
 * Owns: the status location that shows the counters with the state of
 * the location's key source, as JSON or in the Prometheus text format.
 * Never a secret or a token: the key's name only.
 * Does not own: the counters (_stats.c), the key sources themselves
 * (_keys.c, _ssm.c).
 */

#include "ngx_http_livekit_token.h"
#include "ngx_http_livekit_text.h"


/* the two formats of the status page */
static ngx_str_t  ngx_http_livekit_status_json_type =
    ngx_string("application/json");
static ngx_str_t  ngx_http_livekit_status_text_type =
    ngx_string("text/plain; version=0.0.4; charset=utf-8");

static ngx_int_t ngx_http_livekit_status_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_livekit_status_prometheus(ngx_http_request_t *r);
static json_t *ngx_http_livekit_status_json(ngx_http_request_t *r,
    ngx_http_livekit_source_status_t *st, ngx_str_t *key);
static ngx_int_t ngx_http_livekit_status_source(ngx_http_request_t *r,
    ngx_http_livekit_source_status_t *st, ngx_str_t *key);
static ngx_int_t ngx_http_livekit_status_text(ngx_pool_t *pool,
    ngx_str_t *s, ngx_uint_t flags);


char *
ngx_http_livekit_token_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_livekit_token_loc_conf_t *lcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    if (lcf->status) {
        return "is duplicate";
    }

    lcf->status = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_livekit_status_handler;

    if (ngx_http_livekit_stats_zone(cf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_livekit_status_handler(ngx_http_request_t *r)
{
    ngx_int_t                          rc;
    ngx_str_t                          format, key;
    ngx_buf_t                         *b;
    ngx_table_elt_t                   *accept;
    ngx_http_livekit_source_status_t   st;

    if (r->method != NGX_HTTP_GET && r->method != NGX_HTTP_HEAD) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    accept = r->headers_in.accept;

    if ((ngx_http_arg(r, (u_char *) "format", 6, &format) == NGX_OK
         && format.len == 10
         && ngx_strncmp(format.data, "prometheus", 10) == 0)
        || (accept
            && ngx_strlcasestrn(accept->value.data,
                                accept->value.data + accept->value.len,
                                (u_char *) "text/plain", 10 - 1)
               != NULL))
    {
        return ngx_http_livekit_status_prometheus(r);
    }

    if (ngx_http_livekit_status_source(r, &st, &key) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b = ngx_http_livekit_json_buf(r->pool,
                                  ngx_http_livekit_status_json(r, &st, &key));
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_livekit_send(r, NGX_HTTP_OK,
                                 &ngx_http_livekit_status_json_type, b);
}


/* the key source of this location's scope, as livekit_token would use it */

static ngx_int_t
ngx_http_livekit_status_source(ngx_http_request_t *r,
    ngx_http_livekit_source_status_t *st, ngx_str_t *key)
{
    ngx_http_livekit_key_t             *k;
    ngx_http_livekit_keyset_t          *ks;
    ngx_http_livekit_token_loc_conf_t  *lcf;

    ngx_memzero(st, sizeof(ngx_http_livekit_source_status_t));
    ngx_str_null(key);

    st->source = "none";
    st->state = "none";

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_livekit_token_module);
    ks = lcf->keyset;

    if (ks == NULL) {
        return NGX_OK;
    }

    k = ngx_http_livekit_keyset_current(ks);
    if (k) {
        *key = k->name;
    }

    ngx_http_livekit_probe_state(ks, st);

    if (ks->status) {
        return ks->status(ks, r->pool, st);
    }

    st->source = "file";
    st->state = "ready";
    st->loaded = ks->loaded;

    return NGX_OK;
}


static json_t *
ngx_http_livekit_status_json(ngx_http_request_t *r,
    ngx_http_livekit_source_status_t *st, ngx_str_t *key)
{
    json_t                    *root, *errors, *source;
    ngx_uint_t                 i;
    ngx_http_livekit_stats_t  *s;

    s = ngx_http_livekit_stats_get();

    /* key names and SSM texts are outside text: valid UTF-8 for jansson */

    if (ngx_http_livekit_status_text(r->pool, key, 0) != NGX_OK
        || ngx_http_livekit_status_text(r->pool, &st->last_error, 0) != NGX_OK
        || ngx_http_livekit_status_text(r->pool, &st->credentials, 0)
           != NGX_OK)
    {
        return NULL;
    }

    root = json_pack("{s:{s:I,s:I},s:{s:I},s:{s:I}}", "tokens",
                     "get", (json_int_t) (s ? s->issued_get : 0),
                     "post", (json_int_t) (s ? s->issued_post : 0),
                     "webhooks",
                     "verified", (json_int_t) (s ? s->webhooks : 0),
                     "joins",
                     "verified", (json_int_t) (s ? s->joins : 0));
    errors = json_object();

    if (root == NULL || errors == NULL
        || json_object_set_new(root, "errors", errors) != 0)
    {
        json_decref(root);
        return NULL;
    }

    for (i = 0; i < NGX_HTTP_LIVEKIT_NCODES; i++) {
        if (json_object_set_new(errors, ngx_http_livekit_codes[i].name,
                                json_integer(s ? s->errors[i] : 0))
            != 0)
        {
            json_decref(root);
            return NULL;
        }
    }

    source = json_pack("{s:s,s:s,s:s%,s:I}",
                       "source", st->source,
                       "state", st->state,
                       "key", key->data ? (char *) key->data : "", key->len,
                       "age", (json_int_t) (st->loaded
                                            ? ngx_time() - st->loaded : -1));

    if (source == NULL || json_object_set_new(root, "keys", source) != 0) {
        json_decref(root);
        return NULL;
    }

    if (st->upstream
        && json_object_set_new(source, "upstream",
               json_pack("{s:s,s:I}", "state", st->upstream,
                         "age", (json_int_t) (st->upstream_checked
                                     ? ngx_time() - st->upstream_checked
                                     : -1)))
           != 0)
    {
        json_decref(root);
        return NULL;
    }

    if (ngx_strcmp(st->source, "ssm") == 0
        && json_object_set_new(source, "ssm",
               json_pack("{s:I,s:I,s:s%,s:s%}",
                         "calls", (json_int_t) st->calls,
                         "failures", (json_int_t) st->failures,
                         "last_error", st->last_error.data,
                         st->last_error.len,
                         "credentials", st->credentials.data,
                         st->credentials.len))
           != 0)
    {
        json_decref(root);
        return NULL;
    }

    return root;
}


/* the Prometheus text exposition format, version 0.0.4 */

static ngx_int_t
ngx_http_livekit_status_prometheus(ngx_http_request_t *r)
{
    u_char                            *p;
    size_t                             len;
    ngx_str_t                          key;
    ngx_buf_t                         *b;
    ngx_uint_t                         i;
    ngx_http_livekit_stats_t          *s;
    ngx_http_livekit_source_status_t   st;

    if (ngx_http_livekit_status_source(r, &st, &key) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_livekit_status_text(r->pool, &key,
                                     NGX_HTTP_LIVEKIT_TEXT_LABEL)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    s = ngx_http_livekit_stats_get();

    len = 1536 + NGX_HTTP_LIVEKIT_NCODES * (64 + NGX_ATOMIC_T_LEN) + key.len;

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(b->last,
            "# HELP livekit_token_issued_total Tokens issued, by contract.\n"
            "# TYPE livekit_token_issued_total counter\n"
            "livekit_token_issued_total{contract=\"get\"} %uA\n"
            "livekit_token_issued_total{contract=\"post\"} %uA\n"
            "# HELP livekit_token_webhooks_verified_total Webhooks passed on.\n"
            "# TYPE livekit_token_webhooks_verified_total counter\n"
            "livekit_token_webhooks_verified_total %uA\n"
            "# HELP livekit_token_joins_verified_total Joins let through "
            "by livekit_join_check.\n"
            "# TYPE livekit_token_joins_verified_total counter\n"
            "livekit_token_joins_verified_total %uA\n"
            "# HELP livekit_token_errors_total Error replies, by code.\n"
            "# TYPE livekit_token_errors_total counter\n",
            s ? s->issued_get : 0, s ? s->issued_post : 0,
            s ? s->webhooks : 0, s ? s->joins : 0);

    for (i = 0; i < NGX_HTTP_LIVEKIT_NCODES; i++) {
        p = ngx_sprintf(p, "livekit_token_errors_total{code=\"%s\"} %uA\n",
                        ngx_http_livekit_codes[i].name, s ? s->errors[i] : 0);
    }

    p = ngx_sprintf(p,
            "# HELP livekit_token_key_info The signing key in use.\n"
            "# TYPE livekit_token_key_info gauge\n"
            "livekit_token_key_info{key=\"");

    p = ngx_cpymem(p, key.data, key.len);

    p = ngx_sprintf(p, "\",source=\"%s\",state=\"%s\"} 1\n"
            "# HELP livekit_token_key_age_seconds Age of the key set.\n"
            "# TYPE livekit_token_key_age_seconds gauge\n"
            "livekit_token_key_age_seconds %T\n",
            st.source, st.state, st.loaded ? ngx_time() - st.loaded : -1);

    if (ngx_strcmp(st.source, "ssm") == 0) {
        p = ngx_sprintf(p,
                "# HELP livekit_token_ssm_calls_total GetParameters calls.\n"
                "# TYPE livekit_token_ssm_calls_total counter\n"
                "livekit_token_ssm_calls_total %ui\n"
                "# HELP livekit_token_ssm_failures_total Failed fetches.\n"
                "# TYPE livekit_token_ssm_failures_total counter\n"
                "livekit_token_ssm_failures_total %ui\n",
                st.calls, st.failures);
    }

    if (st.upstream) {
        p = ngx_sprintf(p,
                "# HELP livekit_token_upstream_check Does livekit-server "
                "accept the key.\n"
                "# TYPE livekit_token_upstream_check gauge\n"
                "livekit_token_upstream_check{state=\"%s\"} 1\n"
                "# HELP livekit_token_upstream_check_age_seconds Age of "
                "the last check.\n"
                "# TYPE livekit_token_upstream_check_age_seconds gauge\n"
                "livekit_token_upstream_check_age_seconds %T\n",
                st.upstream, st.upstream_checked
                             ? ngx_time() - st.upstream_checked : -1);
    }

    b->last = p;

    return ngx_http_livekit_send(r, NGX_HTTP_OK,
                                 &ngx_http_livekit_status_text_type, b);
}


/* "s" made showable in place (a pool copy): see ngx_http_livekit_text.h */

static ngx_int_t
ngx_http_livekit_status_text(ngx_pool_t *pool, ngx_str_t *s, ngx_uint_t flags)
{
    u_char  *p;
    size_t   size;

    if (s->len == 0) {
        ngx_str_set(s, "");
        return NGX_OK;
    }

    size = ngx_http_livekit_text_max(s->len) + 1;

    p = ngx_pnalloc(pool, size);
    if (p == NULL) {
        return NGX_ERROR;
    }

    s->len = ngx_http_livekit_text_escape(p, size, s->data, s->len, flags);
    s->data = p;

    return NGX_OK;
}
