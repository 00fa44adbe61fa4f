
/*
 * ngx_http_livekit_compat.h: what differs between the nginx versions the
 * module is built against (make test-matrix: nginx 1.22.1 to 1.31.4 and
 * Angie 1.12.1).  Every nginx_version check of the module is here and
 * nowhere else; the other files call what this header defines.
 *
 * Angie defines angie_version (its own release, which its module
 * signature carries) and nginx_version (the nginx release it follows);
 * nginx API differences follow nginx_version in both.
 */

#ifndef _NGX_HTTP_LIVEKIT_COMPAT_H_INCLUDED_
#define _NGX_HTTP_LIVEKIT_COMPAT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <nginx.h>


/*
 * nginx 1.23.0 linked headers of the same name through ngx_table_elt_t's
 * "next"; a header pushed by a module ends such a list.
 */
#if (nginx_version >= 1023000)
#define ngx_http_livekit_header_init(h)  (h)->next = NULL
#else
#define ngx_http_livekit_header_init(h)
#endif


#endif /* _NGX_HTTP_LIVEKIT_COMPAT_H_INCLUDED_ */
