/*
 * Shared by the fuzz_aws_*.c harnesses: the AWS client's files
 * (src/ngx_http_livekit_aws_*.c) are included so their static parsers are
 * reachable; the HTTP exchange itself
 * (libcurl) is not run: the input is put where ngx_http_livekit_aws_write()
 * leaves an answer, in a calloc()ed ngx_http_livekit_aws_http_t.
 */

#ifndef _FUZZ_AWS_H_INCLUDED_
#define _FUZZ_AWS_H_INCLUDED_

#include "fuzz_common.h"
#include "../src/ngx_http_livekit_aws_conf.c"
#include "../src/ngx_http_livekit_aws_creds.c"
#include "../src/ngx_http_livekit_aws_ssm.c"
#include "../src/ngx_http_livekit_aws_http.c"


/* a response body as libcurl's write callback stores it */

static ngx_http_livekit_aws_http_t *
fuzz_aws_response(const uint8_t *data, size_t size, long status)
{
    ngx_http_livekit_aws_http_t  *h;

    h = calloc(1, sizeof(ngx_http_livekit_aws_http_t));
    FUZZ_CHECK(h != NULL, "calloc");

    h->status = status;

    if (ngx_http_livekit_aws_write((char *) data, 1, size, h) != size) {
        FUZZ_CHECK(h->overflow, "short write without overflow");
    }

    return h;
}


static void
fuzz_aws_free(ngx_http_livekit_aws_http_t *h)
{
    ngx_http_livekit_aws_http_wipe(h);
    free(h);
}


/* NUL-terminated within its buffer */

static void
fuzz_aws_cstr(const char *s, size_t size, const char *what)
{
    FUZZ_CHECK(memchr(s, '\0', size) != NULL, what);
}

#endif /* _FUZZ_AWS_H_INCLUDED_ */
