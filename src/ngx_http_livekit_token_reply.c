
/*
 * Replies.
 *
 * Owns: the JSON reply of a token, webhook or status location (status,
 * Content-Type, Cache-Control: no-store), JSON errors with their code from
 * the code table, the module's log line for each, and adding a response
 * header.  A client error is logged at info without nginx's request
 * context, whose request line holds the client's values.
 * Does not own: what a reply says (_module.c, _webhook.c).
 */

#include "ngx_http_livekit_token.h"
#include "ngx_http_livekit_compat.h"


static ngx_str_t  ngx_http_livekit_no_store = ngx_string("no-store");


/*
 * The connection's log without nginx's request context, which would add
 * the request line (the client's room and identity) to the module's lines.
 */

void
ngx_http_livekit_reply_log(ngx_http_request_t *r, ngx_log_t *log)
{
    *log = *r->connection->log;
    log->handler = NULL;
}


ngx_int_t
ngx_http_livekit_reply_error(ngx_http_request_t *r,
    ngx_http_livekit_error_t *err)
{
    ngx_buf_t                      *b;
    ngx_log_t                       log;
    const ngx_http_livekit_code_t  *code;

    code = &ngx_http_livekit_codes[err->code];

    /*
     * Client errors, and the 503 while no key is loaded: the key source
     * logs its own failures once per change, so each request is only info.
     */

    ngx_http_livekit_reply_log(r, &log);
    ngx_log_error(NGX_LOG_INFO, &log, 0, "livekit token: %ui %s, client: %V",
                  code->status, code->name, &r->connection->addr_text);

    ngx_http_livekit_stats_error(err->code);

    b = ngx_http_livekit_json_buf(r->pool,
                                  json_pack("{s:s,s:s}", "error", code->name,
                                            "message", err->message));
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_livekit_reply(r, code->status, b);
}


/* "body" as one line of compact JSON in a pool buffer; takes its reference */

ngx_buf_t *
ngx_http_livekit_json_buf(ngx_pool_t *pool, json_t *body)
{
    size_t      len;
    ngx_buf_t  *b;

    if (body == NULL) {
        return NULL;
    }

    len = json_dumpb(body, NULL, 0, JSON_COMPACT);

    b = (len == 0) ? NULL : ngx_create_temp_buf(pool, len + 1);

    if (b) {
        b->last += json_dumpb(body, (char *) b->pos, len, JSON_COMPACT);
        *b->last++ = '\n';
    }

    json_decref(body);

    return b;
}


/* a pool cleanup handler that drops a jansson value (data: json_t *) */

void
ngx_http_livekit_json_cleanup(void *data)
{
    json_decref(data);
}


/* sends "b" as the whole JSON response, never to be stored */

ngx_int_t
ngx_http_livekit_reply(ngx_http_request_t *r, ngx_uint_t status,
    ngx_buf_t *b)
{
    static ngx_str_t  json = ngx_string("application/json");

    if (ngx_http_livekit_header_out(r, "Cache-Control",
                                    &ngx_http_livekit_no_store)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_livekit_send(r, status, &json, b);
}


/* sends "b" as the whole response; "type" must outlive the request */

ngx_int_t
ngx_http_livekit_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, ngx_buf_t *b)
{
    ngx_int_t     rc;
    ngx_chain_t   out;

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = status;
    r->headers_out.content_length_n = b->last - b->pos;
    r->headers_out.content_type = *type;
    r->headers_out.content_type_len = type->len;
    r->headers_out.content_type_lowcase = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/* adds a response header; "name" and "value" must outlive the request */

ngx_int_t
ngx_http_livekit_header_out(ngx_http_request_t *r, const char *name,
    ngx_str_t *value)
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
    h->value = *value;

    return NGX_OK;
}
