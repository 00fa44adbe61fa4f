
/*
 * ngx_http_livekit_token_module: the AWS client behind livekit_ssm_path,
 * as the nginx side (_ssm.c) sees it.
 *
 * The client is split by when its code runs: _aws_conf.c while the master
 * parses the configuration (the snapshot of environment and shared
 * profile files, checks of what becomes a host name or URL); in a thread
 * of nginx's pool, _aws_ssm.c (the GetParameters call and its retries),
 * _aws_creds.c (the credential chain) and _aws_http.c (HTTP and small
 * parsers), which share ngx_http_livekit_aws_thread.h.
 * _ssm.c owns the nginx side: directives, shared memory, scheduling, the
 * key set.
 *
 * Nothing in the thread logs: it reports what failed in "error", escaped,
 * and the nginx side decides whether and how to log it.  No secret value
 * is ever copied into "error".
 */

#ifndef _NGX_HTTP_LIVEKIT_AWS_H_INCLUDED_
#define _NGX_HTTP_LIVEKIT_AWS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#define NGX_HTTP_LIVEKIT_AWS_KEY_ID_MAX    128
#define NGX_HTTP_LIVEKIT_AWS_SECRET_MAX    128
#define NGX_HTTP_LIVEKIT_AWS_TOKEN_MAX     8192
#define NGX_HTTP_LIVEKIT_AWS_SOURCE_MAX    160
#define NGX_HTTP_LIVEKIT_AWS_ERROR_MAX     512

/* SSM values: an API key name, a secret (8 KB: an advanced parameter), a URL */
#define NGX_HTTP_LIVEKIT_SSM_KEY_MAX       256
#define NGX_HTTP_LIVEKIT_SSM_SECRET_MAX    8192
#define NGX_HTTP_LIVEKIT_SSM_URL_MAX       2048

#define NGX_HTTP_LIVEKIT_SSM_NAME_KEY      0
#define NGX_HTTP_LIVEKIT_SSM_NAME_SECRET   1
#define NGX_HTTP_LIVEKIT_SSM_NAME_URL      2


/* where a profile's role_arn gets the credentials that assume it */
#define NGX_HTTP_LIVEKIT_AWS_SOURCE_PROFILE     1
#define NGX_HTTP_LIVEKIT_AWS_SOURCE_ENV         2
#define NGX_HTTP_LIVEKIT_AWS_SOURCE_IMDS        3
#define NGX_HTTP_LIVEKIT_AWS_SOURCE_CONTAINER   4


/* AWS credentials, NUL-terminated; "expires" is 0 for long-term keys */
typedef struct {
    char                     key_id[NGX_HTTP_LIVEKIT_AWS_KEY_ID_MAX];
    char                     secret[NGX_HTTP_LIVEKIT_AWS_SECRET_MAX];
    char                     token[NGX_HTTP_LIVEKIT_AWS_TOKEN_MAX];
    char                     source[NGX_HTTP_LIVEKIT_AWS_SOURCE_MAX];
    time_t                   expires;
    ngx_uint_t               valid;
} ngx_http_livekit_aws_creds_t;


/*
 * What the master read at configuration time, immutable afterwards, so
 * worker threads need neither the environment (nginx clears it in
 * workers) nor the right to read root's ~/.aws files.  NULL: not set.
 */
typedef struct {
    char                    *region;
    const char              *region_from;
    char                    *endpoint;
    const char              *endpoint_from;
    ngx_flag_t               fips;

    char                    *names[3];
    ngx_uint_t               nnames;

    ngx_msec_t               timeout;
    ngx_uint_t               attempts;

    /* 1: environment */
    char                    *env_key_id;
    char                    *env_secret;
    char                    *env_token;

    /* 2: web identity */
    char                    *web_token_file;
    char                    *role_arn;
    char                    *role_session_name;
    char                    *sts_endpoint;
    const char              *sts_endpoint_from;

    /* 3: shared credentials and config files */
    char                    *profile;
    char                    *profile_key_id;
    char                    *profile_secret;
    char                    *profile_token;
    char                    *profile_error;
    char                    *profile_files;

    /*
     * 3b: the profile's role_arn, assumed with STS AssumeRole using the
     * keys of source_profile (read above into profile_key_id...) or the
     * credentials of credential_source
     */
    char                    *role_profile_arn;
    char                    *role_source_profile;
    char                    *role_credential_source;
    char                    *role_external_id;
    char                    *role_session;
    ngx_uint_t               role_source;   /* NGX_HTTP_LIVEKIT_AWS_SOURCE_* */

    /* 4: container credentials */
    char                    *container_uri;
    char                    *container_token;
    char                    *container_token_file;

    /* 5: instance metadata, IMDSv2 */
    char                    *imds_endpoint;
    ngx_flag_t               imds_disabled;

    /*
     * proxies for every request above, read as the SDKs read them:
     * HTTPS_PROXY for https:// URLs, HTTP_PROXY for http://, then the
     * lower-case names; NO_PROXY the hosts that bypass them.  Never
     * logged: a proxy URL may hold a password.
     */
    char                    *https_proxy;
    const char              *https_proxy_from;
    char                    *http_proxy;
    const char              *http_proxy_from;
    char                    *no_proxy;
    const char              *no_proxy_from;
} ngx_http_livekit_aws_conf_t;


/* the three values fetched; lengths 0 when absent */
typedef struct {
    u_char                   key[NGX_HTTP_LIVEKIT_SSM_KEY_MAX];
    size_t                   key_len;
    u_char                   secret[NGX_HTTP_LIVEKIT_SSM_SECRET_MAX];
    size_t                   secret_len;
    u_char                   url[NGX_HTTP_LIVEKIT_SSM_URL_MAX];
    size_t                   url_len;
} ngx_http_livekit_ssm_values_t;


/* one fetch: filled by the event loop, run by a thread, read back */
typedef struct {
    ngx_http_livekit_aws_conf_t    *conf;
    ngx_http_livekit_aws_creds_t    creds;     /* in: cached; out: used */
    ngx_http_livekit_ssm_values_t   values;    /* out, on NGX_OK */
    ngx_int_t                       rc;        /* NGX_OK, NGX_ERROR,
                                                  NGX_ABORT: stopping */
    ngx_uint_t                      calls;     /* GetParameters sent */
    ngx_uint_t                      fingerprint;
    uint64_t                        creds_fingerprint;
    char                            error[NGX_HTTP_LIVEKIT_AWS_ERROR_MAX];
} ngx_http_livekit_ssm_fetch_t;


ngx_uint_t ngx_http_livekit_aws_region_valid(const u_char *s, size_t len);
ngx_int_t ngx_http_livekit_aws_url_check(const char *url, char *why,
    size_t size);
ngx_int_t ngx_http_livekit_aws_conf_init(ngx_conf_t *cf,
    ngx_http_livekit_aws_conf_t *ac, ngx_str_t *region, ngx_str_t *endpoint,
    ngx_str_t *profile);
void ngx_http_livekit_aws_get_parameters(ngx_http_livekit_ssm_fetch_t *f);


#endif /* _NGX_HTTP_LIVEKIT_AWS_H_INCLUDED_ */
