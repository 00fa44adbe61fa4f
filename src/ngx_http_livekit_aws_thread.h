
/*
 * ngx_http_livekit_token_module: what the AWS client's files share in the
 * fetch thread (_aws_creds.c, _aws_ssm.c, _aws_http.c): the HTTP exchange
 * and its helpers, the credential chain's entry points.  Not for the nginx
 * side (_ssm.c uses ngx_http_livekit_aws.h only).
 */

#ifndef _NGX_HTTP_LIVEKIT_AWS_THREAD_H_INCLUDED_
#define _NGX_HTTP_LIVEKIT_AWS_THREAD_H_INCLUDED_


#include "ngx_http_livekit_aws.h"

#include <curl/curl.h>


#define NGX_HTTP_LIVEKIT_AWS_RESPONSE_MAX   65536
#define NGX_HTTP_LIVEKIT_AWS_FILE_MAX       65536
#define NGX_HTTP_LIVEKIT_AWS_BACKOFF_MAX    20000   /* ms, standard mode */
#define NGX_HTTP_LIVEKIT_AWS_IMDS_TIMEOUT   1000    /* ms */
#define NGX_HTTP_LIVEKIT_AWS_EXPIRY_MARGIN  300     /* s, refresh before */
#define NGX_HTTP_LIVEKIT_AWS_MESSAGE_MAX    200
#define NGX_HTTP_LIVEKIT_AWS_ROLE_MAX       64      /* IAM role name */


/* one HTTP request and its answer; made by _http_create(), one per use */

typedef struct {
    const char                     *method;
    const char                     *url;
    struct curl_slist              *headers;
    const char                     *body;
    size_t                          body_len;
    const char                     *sigv4;     /* "aws:amz:region:ssm" */
    ngx_http_livekit_aws_creds_t   *creds;
    long                            timeout;   /* ms */
    const char                     *proxy;     /* "": none */
    const char                     *no_proxy;  /* "": no exceptions */

    long                            status;
    u_char                          resp[NGX_HTTP_LIVEKIT_AWS_RESPONSE_MAX];
    size_t                          resp_len;
    ngx_uint_t                      overflow;
    char                            curl_error[CURL_ERROR_SIZE];
} ngx_http_livekit_aws_http_t;


/* _aws_creds.c: "error" is NGX_HTTP_LIVEKIT_AWS_ERROR_MAX bytes */
ngx_int_t ngx_http_livekit_aws_credentials(ngx_http_livekit_aws_conf_t *ac,
    ngx_http_livekit_aws_creds_t *c, char *error);
ngx_int_t ngx_http_livekit_aws_imds_region(ngx_http_livekit_aws_conf_t *ac,
    char *error, char *region, size_t size);

/* _aws_http.c */
ngx_int_t ngx_http_livekit_aws_retryable(long status, const char *code);
void ngx_http_livekit_aws_error_code(ngx_http_livekit_aws_http_t *h,
    char *code, size_t code_size, char *msg, size_t msg_size);
ngx_http_livekit_aws_http_t *ngx_http_livekit_aws_http_create(
    ngx_http_livekit_aws_conf_t *ac, const char *method, const char *url,
    long timeout);
ngx_int_t ngx_http_livekit_aws_http_header(ngx_http_livekit_aws_http_t *h,
    const char *line);
ngx_int_t ngx_http_livekit_aws_http_sign(ngx_http_livekit_aws_http_t *h,
    const char *scope, ngx_http_livekit_aws_creds_t *creds);
ngx_int_t ngx_http_livekit_aws_http(ngx_http_livekit_aws_http_t *h);
void ngx_http_livekit_aws_http_wipe(ngx_http_livekit_aws_http_t *h);
void ngx_http_livekit_aws_http_destroy(ngx_http_livekit_aws_http_t *h);
ngx_int_t ngx_http_livekit_aws_stopping(void);
ngx_int_t ngx_http_livekit_aws_xml(u_char *p, size_t len, const char *tag,
    char *out, size_t size);
ngx_int_t ngx_http_livekit_aws_xml_find(u_char *p, size_t len,
    const char *tag, u_char **text, size_t *text_len);
ngx_int_t ngx_http_livekit_aws_copy(char *out, size_t size, const char *s,
    size_t len);
ngx_int_t ngx_http_livekit_aws_read_file(const char *path, char *out,
    size_t size);
char *ngx_http_livekit_aws_form(char *p, char *last, const char *name,
    const char *value);
time_t ngx_http_livekit_aws_parse_time(const char *s);
void ngx_http_livekit_aws_fail(char *error, const char *fmt, ...);
void ngx_http_livekit_aws_source(ngx_http_livekit_aws_creds_t *c,
    const char *fmt, ...);


#endif /* _NGX_HTTP_LIVEKIT_AWS_THREAD_H_INCLUDED_ */
