
/*
 * ngx_http_livekit_token_module: outside text made safe to show.
 *
 * _text.c owns one rule for every string that comes from outside (an AWS
 * answer, an environment variable, a key file) and reaches an error log
 * line, the status JSON or a Prometheus label: printable ASCII and whole,
 * valid, printable UTF-8 characters are kept; every other byte is written
 * as the four characters \xNN; a cut falls between characters, never
 * inside one.  The output is valid UTF-8 and holds no control character,
 * so it can neither forge a log line nor make jansson refuse it.
 * Plain C, no nginx pool or log: the fetch thread uses it too.
 */

#ifndef _NGX_HTTP_LIVEKIT_TEXT_H_INCLUDED_
#define _NGX_HTTP_LIVEKIT_TEXT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* a Prometheus label value: \ and " escaped as \\ and \" besides */
#define NGX_HTTP_LIVEKIT_TEXT_LABEL   1

/* the longest output for "len" bytes of input, without the NUL */
#define ngx_http_livekit_text_max(len)  (5 * (len))


size_t ngx_http_livekit_text_char(const u_char *s, size_t n);
size_t ngx_http_livekit_text_escape(u_char *dst, size_t size,
    const u_char *src, size_t len, ngx_uint_t flags);
ngx_uint_t ngx_http_livekit_text_printable(const u_char *s, size_t len);


#endif /* _NGX_HTTP_LIVEKIT_TEXT_H_INCLUDED_ */
