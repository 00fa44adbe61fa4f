
/*
 * Cross-origin requests to a token location.
 *
 * Owns: livekit_token_cors_origins, the answer to a preflight (OPTIONS
 * with Origin) and the Access-Control-Allow-Origin and Vary headers of
 * every reply.  The origin a reply names is the configuration's copy, never
 * the client's bytes.  Without the directive nothing here runs and the
 * location stays same-origin (OPTIONS is 405 like any other method).
 * Does not own: the replies themselves (_module.c).
 */

#include "ngx_http_livekit_token.h"


#define NGX_HTTP_LIVEKIT_CORS_MAX_AGE  "7200"


static ngx_int_t ngx_http_livekit_cors_valid(ngx_str_t *origin);
static ngx_str_t *ngx_http_livekit_cors_match(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf);


/* livekit_token_cors_origins https://app.example.com ... | *; */

char *
ngx_http_livekit_cors_origins(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_livekit_token_loc_conf_t *lcf = conf;

    return ngx_http_livekit_conf_names(cf, cmd, &lcf->cors_origins,
                                       &lcf->cors_any,
                                       ngx_http_livekit_cors_valid,
                                       "write an origin as a browser sends "
                                       "it, scheme://host[:port] in lower "
                                       "case with no path, or \"*\" alone");
}


/* http(s)://host[:port] as the Origin header serializes it */

static ngx_int_t
ngx_http_livekit_cors_valid(ngx_str_t *origin)
{
    u_char  *p, *last;

    p = origin->data;
    last = p + origin->len;

    if (origin->len > sizeof("https://") - 1
        && ngx_strncmp(p, "https://", sizeof("https://") - 1) == 0)
    {
        p += sizeof("https://") - 1;

    } else if (origin->len > sizeof("http://") - 1
               && ngx_strncmp(p, "http://", sizeof("http://") - 1) == 0)
    {
        p += sizeof("http://") - 1;

    } else {
        return NGX_DECLINED;
    }

    if (*p == '[') {
        for (p++; p < last && *p != ']'; p++) {
            if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')
                  || *p == ':' || *p == '.'))
            {
                return NGX_DECLINED;
            }
        }

        if (p++ == last) {
            return NGX_DECLINED;
        }

    } else {
        for ( /* void */ ; p < last && *p != ':'; p++) {
            if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
                  || *p == '-' || *p == '.'))
            {
                return NGX_DECLINED;
            }
        }
    }

    if (p == last) {
        return NGX_OK;
    }

    if (*p++ != ':' || p == last || last - p > 5) {
        return NGX_DECLINED;
    }

    for ( /* void */ ; p < last; p++) {
        if (*p < '0' || *p > '9') {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/*
 * Every reply of a location with origins: Vary: Origin, and the allowed
 * origin when the request's Origin is one.
 */

ngx_int_t
ngx_http_livekit_cors_headers(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf)
{
    ngx_str_t  *origin;

    static ngx_str_t  vary = ngx_string("Origin");

    if (lcf->cors_origins == NULL) {
        return NGX_OK;
    }

    if (ngx_http_livekit_header_out(r, "Vary", &vary) != NGX_OK) {
        return NGX_ERROR;
    }

    origin = ngx_http_livekit_cors_match(r, lcf);

    if (origin == NULL) {
        return NGX_OK;
    }

    return ngx_http_livekit_header_out(r, "Access-Control-Allow-Origin",
                                        origin);
}


/*
 * OPTIONS: NGX_OK after the preflight headers for an allowed origin (the
 * caller answers 204), NGX_DECLINED with origin_not_allowed otherwise.
 */

ngx_int_t
ngx_http_livekit_cors_preflight(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf, ngx_http_livekit_error_t *err)
{
    static ngx_str_t  methods = ngx_string("GET, POST");
    static ngx_str_t  headers = ngx_string("Content-Type, Authorization");
    static ngx_str_t  max_age = ngx_string(NGX_HTTP_LIVEKIT_CORS_MAX_AGE);

    if (ngx_http_livekit_cors_match(r, lcf) == NULL) {
        return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_ORIGIN_NOT_ALLOWED,
            "this origin may not ask for tokens here "
            "(livekit_token_cors_origins)");
    }

    if (ngx_http_livekit_header_out(r, "Access-Control-Allow-Methods",
                                     &methods)
        != NGX_OK
        || ngx_http_livekit_header_out(r, "Access-Control-Allow-Headers",
                                        &headers)
           != NGX_OK
        || ngx_http_livekit_header_out(r, "Access-Control-Max-Age",
                                        &max_age)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the configured origin equal to the request's Origin, or NULL */

static ngx_str_t *
ngx_http_livekit_cors_match(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *sent;

    static ngx_str_t  any = ngx_string("*");

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == sizeof("Origin") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Origin",
                               sizeof("Origin") - 1) == 0)
        {
            sent = &h[i];
            break;
        }
    }

    if (lcf->cors_any) {
        return &any;
    }

    return ngx_http_livekit_vocab_find(lcf->cors_origins->elts, &sent->value);
}
