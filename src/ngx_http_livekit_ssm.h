
/*
 * ngx_http_livekit_ssm_module: the SSM Parameter Store key source.
 *
 * The token module does not call it: it registers itself in its
 * preconfiguration as a key source (ngx_http_livekit_key_source_t in
 * ngx_http_livekit_token.h).
 */

#ifndef _NGX_HTTP_LIVEKIT_SSM_H_INCLUDED_
#define _NGX_HTTP_LIVEKIT_SSM_H_INCLUDED_


#include "ngx_http_livekit_token.h"


extern ngx_module_t  ngx_http_livekit_ssm_module;



#endif /* _NGX_HTTP_LIVEKIT_SSM_H_INCLUDED_ */
