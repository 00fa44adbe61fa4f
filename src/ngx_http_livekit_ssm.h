
/*
 * ngx_http_livekit_token_module: the SSM Parameter Store key source.
 *
 * What _keys.c and _module.c call (whether SSM gives a configuration its
 * key and URL) is declared in ngx_http_livekit_token.h.
 */

#ifndef _NGX_HTTP_LIVEKIT_SSM_H_INCLUDED_
#define _NGX_HTTP_LIVEKIT_SSM_H_INCLUDED_


#include "ngx_http_livekit_token.h"


extern ngx_module_t  ngx_http_livekit_ssm_module;



#endif /* _NGX_HTTP_LIVEKIT_SSM_H_INCLUDED_ */
