
/*
 * The AWS client, configuration time: the snapshot the master takes.
 *
 * Owns: reading the AWS environment variables and the shared credentials
 * and config files while the configuration is parsed, and checking what
 * becomes part of a host name or URL (region, endpoints) so that nginx -t
 * refuses it with where it came from.  Workers need neither the
 * environment (nginx clears it) nor the right to read root's ~/.aws.
 * Does not own: anything that runs in the fetch thread.
 */

#include "ngx_http_livekit_aws_thread.h"
#include "ngx_http_livekit_text.h"

#include <curl/curl.h>
#include <openssl/crypto.h>


#define NGX_HTTP_LIVEKIT_AWS_SHOWN          (5 * 200 + 1)
#define NGX_HTTP_LIVEKIT_AWS_ENDPOINT_MAX   256


/* an environment variable and where its snapshot goes */

typedef struct {
    const char                     *name;
    size_t                          offset;
} ngx_http_livekit_aws_env_t;


static ngx_int_t ngx_http_livekit_aws_conf_places(ngx_conf_t *cf,
    ngx_http_livekit_aws_conf_t *ac, ngx_str_t *region, ngx_str_t *endpoint);
static ngx_int_t ngx_http_livekit_aws_conf_metadata(ngx_conf_t *cf,
    ngx_http_livekit_aws_conf_t *ac);
static ngx_int_t ngx_http_livekit_aws_conf_check(ngx_conf_t *cf,
    ngx_http_livekit_aws_conf_t *ac);
static ngx_int_t ngx_http_livekit_aws_setting(ngx_conf_t *cf,
    ngx_str_t *directive, const char *directive_name, const char *env1,
    const char *env2, char **value, const char **from);
static ngx_int_t ngx_http_livekit_aws_profiles(ngx_conf_t *cf,
    ngx_http_livekit_aws_conf_t *ac);
static ngx_int_t ngx_http_livekit_aws_profile_file(ngx_conf_t *cf,
    ngx_http_livekit_aws_conf_t *ac, char *file, ngx_uint_t config,
    ngx_uint_t *found);
static ngx_int_t ngx_http_livekit_aws_getenv(ngx_conf_t *cf,
    const char *name, char **value);
static char *ngx_http_livekit_aws_strdup(ngx_pool_t *pool, u_char *s,
    size_t len);
static void ngx_http_livekit_aws_shown(u_char *shown, const char *v);
static ngx_int_t ngx_http_livekit_aws_home_path(ngx_conf_t *cf,
    const char *env, const char *rel, char **path);
static void ngx_http_livekit_aws_conf_wipe(void *data);
static void ngx_http_livekit_aws_trim(u_char **s, u_char **e, ngx_uint_t cr);
static ngx_uint_t ngx_http_livekit_aws_profile_section(
    ngx_http_livekit_aws_conf_t *ac, u_char *s, u_char *e, ngx_uint_t config);
static ngx_int_t ngx_http_livekit_aws_profile_value(ngx_conf_t *cf,
    ngx_http_livekit_aws_conf_t *ac, u_char *s, u_char *e, ngx_uint_t config,
    ngx_uint_t had_keys);
static ngx_int_t ngx_http_livekit_aws_role(ngx_conf_t *cf,
    ngx_http_livekit_aws_conf_t *ac, char *creds_file, char *config_file);
static ngx_int_t ngx_http_livekit_aws_role_source(ngx_conf_t *cf,
    ngx_http_livekit_aws_conf_t *ac);
static ngx_int_t ngx_http_livekit_aws_proxy_check(ngx_conf_t *cf,
    char **proxy, const char *from);
static ngx_int_t ngx_http_livekit_aws_no_proxy_check(ngx_conf_t *cf,
    char **no_proxy, const char *from);


/* the variables read as they are; those with a fallback are read below */
static ngx_http_livekit_aws_env_t  ngx_http_livekit_aws_env[] = {
    { "AWS_ACCESS_KEY_ID",
      offsetof(ngx_http_livekit_aws_conf_t, env_key_id) },
    { "AWS_SECRET_ACCESS_KEY",
      offsetof(ngx_http_livekit_aws_conf_t, env_secret) },
    { "AWS_SESSION_TOKEN",
      offsetof(ngx_http_livekit_aws_conf_t, env_token) },
    { "AWS_WEB_IDENTITY_TOKEN_FILE",
      offsetof(ngx_http_livekit_aws_conf_t, web_token_file) },
    { "AWS_ROLE_ARN",
      offsetof(ngx_http_livekit_aws_conf_t, role_arn) },
    { "AWS_ROLE_SESSION_NAME",
      offsetof(ngx_http_livekit_aws_conf_t, role_session_name) },
    { "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
      offsetof(ngx_http_livekit_aws_conf_t, container_token_file) },
    { "AWS_CONTAINER_AUTHORIZATION_TOKEN",
      offsetof(ngx_http_livekit_aws_conf_t, container_token) },
    { "AWS_CONTAINER_CREDENTIALS_FULL_URI",
      offsetof(ngx_http_livekit_aws_conf_t, container_uri) },
    { "AWS_EC2_METADATA_SERVICE_ENDPOINT",
      offsetof(ngx_http_livekit_aws_conf_t, imds_endpoint) },
    { NULL, 0 }
};


ngx_int_t
ngx_http_livekit_aws_conf_init(ngx_conf_t *cf, ngx_http_livekit_aws_conf_t *ac,
    ngx_str_t *region, ngx_str_t *endpoint, ngx_str_t *profile)
{
    char                        **dst;
    const char                   *from;
    ngx_pool_cleanup_t           *cln;
    ngx_http_livekit_aws_env_t   *e;

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_livekit_aws_conf_wipe;
    cln->data = ac;

    for (e = ngx_http_livekit_aws_env; e->name; e++) {
        dst = (char **) ((u_char *) ac + e->offset);

        if (ngx_http_livekit_aws_getenv(cf, e->name, dst) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (ngx_http_livekit_aws_conf_places(cf, ac, region, endpoint) != NGX_OK) {
        return NGX_ERROR;
    }

    if ((ac->env_key_id == NULL) != (ac->env_secret == NULL)) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "livekit_ssm_path: only one of AWS_ACCESS_KEY_ID "
                           "and AWS_SECRET_ACCESS_KEY is set; the "
                           "environment gives no credentials");
        ac->env_key_id = NULL;
        ac->env_secret = NULL;
    }

    /* shared files, read now: workers may not be allowed to */

    if (ngx_http_livekit_aws_setting(cf, profile, "livekit_ssm_profile",
                                     "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
                                     &ac->profile, &from)
        != NGX_OK
        || ngx_http_livekit_aws_profiles(cf, ac) != NGX_OK
        || ngx_http_livekit_aws_conf_metadata(cf, ac) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_livekit_aws_conf_check(cf, ac);
}


/* where requests go: the region, the endpoints, FIPS, the proxies */

static ngx_int_t
ngx_http_livekit_aws_conf_places(ngx_conf_t *cf,
    ngx_http_livekit_aws_conf_t *ac, ngx_str_t *region, ngx_str_t *endpoint)
{
    char  *v;

    /* region: directive, AWS_REGION, AWS_DEFAULT_REGION, profile, IMDS */

    if (ngx_http_livekit_aws_setting(cf, region, "livekit_ssm_region",
                                     "AWS_REGION", "AWS_DEFAULT_REGION",
                                     &ac->region, &ac->region_from)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* endpoint: directive, AWS_ENDPOINT_URL_SSM, AWS_ENDPOINT_URL */

    if (ngx_http_livekit_aws_setting(cf, endpoint, "livekit_ssm_endpoint",
                                     "AWS_ENDPOINT_URL_SSM",
                                     "AWS_ENDPOINT_URL",
                                     &ac->endpoint, &ac->endpoint_from)
        != NGX_OK
        || ngx_http_livekit_aws_setting(cf, NULL, NULL,
                                        "AWS_ENDPOINT_URL_STS",
                                        "AWS_ENDPOINT_URL",
                                        &ac->sts_endpoint,
                                        &ac->sts_endpoint_from)
           != NGX_OK
        || ngx_http_livekit_aws_getenv(cf, "AWS_USE_FIPS_ENDPOINT", &v)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ac->fips == NGX_CONF_UNSET) {
        ac->fips = (v && ngx_strcasecmp((u_char *) v, (u_char *) "true") == 0);
    }

    /* proxies: the upper-case name, then the lower-case one */

    if (ngx_http_livekit_aws_setting(cf, NULL, NULL, "HTTPS_PROXY",
                                     "https_proxy", &ac->https_proxy,
                                     &ac->https_proxy_from)
        != NGX_OK
        || ngx_http_livekit_aws_setting(cf, NULL, NULL, "HTTP_PROXY",
                                        "http_proxy", &ac->http_proxy,
                                        &ac->http_proxy_from)
           != NGX_OK
        || ngx_http_livekit_aws_setting(cf, NULL, NULL, "NO_PROXY",
                                        "no_proxy", &ac->no_proxy,
                                        &ac->no_proxy_from)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the credential sources of the machine: a container's, the instance's */

static ngx_int_t
ngx_http_livekit_aws_conf_metadata(ngx_conf_t *cf,
    ngx_http_livekit_aws_conf_t *ac)
{
    char  *v;

    /* container: a relative URI is on the ECS agent's address */

    if (ngx_http_livekit_aws_getenv(cf,
                                    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                                    &v)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (v) {
        ac->container_uri = ngx_pnalloc(cf->pool,
                                        sizeof("http://169.254.170.2")
                                        + ngx_strlen(v));
        if (ac->container_uri == NULL) {
            return NGX_ERROR;
        }

        ngx_sprintf((u_char *) ac->container_uri, "http://169.254.170.2%s%Z",
                    v);
    }

    /* instance metadata */

    if (ngx_http_livekit_aws_getenv(cf, "AWS_EC2_METADATA_DISABLED", &v)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ac->imds_disabled = (v && ngx_strcasecmp((u_char *) v,
                                             (u_char *) "true") == 0);

    if (ac->imds_endpoint == NULL) {
        ac->imds_endpoint = "http://169.254.169.254";
    }

    return NGX_OK;
}


/*
 * What becomes part of a host name or URL is checked before any request:
 * a bad value fails nginx -t, named with where it came from.
 */

static ngx_int_t
ngx_http_livekit_aws_conf_check(ngx_conf_t *cf,
    ngx_http_livekit_aws_conf_t *ac)
{
    char     why[128];
    u_char   shown[NGX_HTTP_LIVEKIT_AWS_SHOWN];

    if (ac->region
        && !ngx_http_livekit_aws_region_valid((u_char *) ac->region,
                                              ngx_strlen(ac->region)))
    {
        ngx_http_livekit_aws_shown(shown, ac->region);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "livekit_ssm_path: invalid AWS region \"%s\" "
                           "from %s: lowercase letters, digits and "
                           "hyphens only", shown, ac->region_from);
        return NGX_ERROR;
    }

    if (ac->endpoint
        && ngx_http_livekit_aws_url_check(ac->endpoint, why, sizeof(why))
           != NGX_OK)
    {
        ngx_http_livekit_aws_shown(shown, ac->endpoint);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "livekit_ssm_path: SSM endpoint \"%s\" from %s "
                           "%s", shown, ac->endpoint_from, why);
        return NGX_ERROR;
    }

    if (ac->sts_endpoint
        && ngx_http_livekit_aws_url_check(ac->sts_endpoint, why, sizeof(why))
           != NGX_OK)
    {
        ngx_http_livekit_aws_shown(shown, ac->sts_endpoint);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "livekit_ssm_path: STS endpoint \"%s\" from %s "
                           "%s", shown, ac->sts_endpoint_from, why);
        return NGX_ERROR;
    }

    if (ngx_http_livekit_aws_url_check(ac->imds_endpoint, why, sizeof(why))
        != NGX_OK)
    {
        ngx_http_livekit_aws_shown(shown, ac->imds_endpoint);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "livekit_ssm_path: instance metadata endpoint "
                           "\"%s\" from AWS_EC2_METADATA_SERVICE_ENDPOINT "
                           "%s", shown, why);
        return NGX_ERROR;
    }

    if (ngx_http_livekit_aws_proxy_check(cf, &ac->https_proxy,
                                         ac->https_proxy_from) != NGX_OK
        || ngx_http_livekit_aws_proxy_check(cf, &ac->http_proxy,
                                            ac->http_proxy_from) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_livekit_aws_no_proxy_check(cf, &ac->no_proxy,
                                               ac->no_proxy_from);
}


/*
 * A proxy: an http:// or https:// URL with a host, parsed by libcurl's
 * URL API; a user and password are allowed, so the value is never shown.
 * An empty value means no proxy, as in the SDKs.
 */

static ngx_int_t
ngx_http_livekit_aws_proxy_check(ngx_conf_t *cf, char **proxy,
    const char *from)
{
    CURLU       *u;
    char        *scheme, *host, *extra;
    ngx_int_t    rc;

    if (*proxy == NULL || **proxy == '\0') {
        *proxy = NULL;
        return NGX_OK;
    }

    if (ngx_strlen(*proxy) > NGX_HTTP_LIVEKIT_AWS_ENDPOINT_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "livekit_ssm_path: the proxy in %s is longer "
                           "than %d bytes", from,
                           NGX_HTTP_LIVEKIT_AWS_ENDPOINT_MAX);
        return NGX_ERROR;
    }

    u = curl_url();
    if (u == NULL) {
        return NGX_ERROR;
    }

    scheme = NULL;
    host = NULL;
    extra = NULL;
    rc = NGX_ERROR;

    if (curl_url_set(u, CURLUPART_URL, *proxy, 0) != CURLUE_OK
        || curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK
        || (ngx_strcmp(scheme, "http") != 0
            && ngx_strcmp(scheme, "https") != 0)
        || curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK
        || *host == '\0'
        || curl_url_get(u, CURLUPART_QUERY, &extra, 0) == CURLUE_OK
        || curl_url_get(u, CURLUPART_FRAGMENT, &extra, 0) == CURLUE_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "livekit_ssm_path: the proxy in %s is not an "
                           "http:// or https:// URL with a host and "
                           "nothing after the path (its value is not shown: "
                           "it may hold a password)", from);
        goto done;
    }

    rc = NGX_OK;

done:

    curl_free(scheme);
    curl_free(host);
    curl_free(extra);
    curl_url_cleanup(u);

    return rc;
}


/* NO_PROXY: host names, addresses and "*", separated by commas */

static ngx_int_t
ngx_http_livekit_aws_no_proxy_check(ngx_conf_t *cf, char **no_proxy,
    const char *from)
{
    u_char  *p;
    u_char   shown[NGX_HTTP_LIVEKIT_AWS_SHOWN];

    if (*no_proxy == NULL || **no_proxy == '\0') {
        *no_proxy = NULL;
        return NGX_OK;
    }

    for (p = (u_char *) *no_proxy; *p; p++) {
        if (*p > 0x20 && *p < 0x7f) {
            continue;
        }

        if (*p == ' ' && p - (u_char *) *no_proxy < 1024) {
            continue;
        }

        ngx_http_livekit_aws_shown(shown, *no_proxy);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "livekit_ssm_path: invalid %s \"%s\": host "
                           "names and addresses separated by commas, "
                           "printable ASCII, at most 1024 bytes",
                           from, shown);
        return NGX_ERROR;
    }

    if (p - (u_char *) *no_proxy > 1024) {
        ngx_http_livekit_aws_shown(shown, *no_proxy);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "livekit_ssm_path: invalid %s \"%s\": longer "
                           "than 1024 bytes", from, shown);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* a setting from a directive, else the first of two variables set */

static ngx_int_t
ngx_http_livekit_aws_setting(ngx_conf_t *cf, ngx_str_t *directive,
    const char *directive_name, const char *env1, const char *env2,
    char **value, const char **from)
{
    if (directive && directive->len) {
        *value = ngx_http_livekit_aws_strdup(cf->pool, directive->data,
                                             directive->len);
        *from = directive_name;
        return (*value == NULL) ? NGX_ERROR : NGX_OK;
    }

    *from = env1;

    if (ngx_http_livekit_aws_getenv(cf, env1, value) != NGX_OK) {
        return NGX_ERROR;
    }

    if (*value) {
        return NGX_OK;
    }

    *from = env2;

    return ngx_http_livekit_aws_getenv(cf, env2, value);
}


/* the credentials and config files, for the profile asked for or default */

static ngx_int_t
ngx_http_livekit_aws_profiles(ngx_conf_t *cf, ngx_http_livekit_aws_conf_t *ac)
{
    char        *named, *creds_file, *config_file;
    size_t       len;
    ngx_uint_t   found;

    named = ac->profile;

    if (ac->profile == NULL) {
        ac->profile = "default";
    }

    if (ngx_http_livekit_aws_home_path(cf, "AWS_SHARED_CREDENTIALS_FILE",
                                       ".aws/credentials", &creds_file)
        != NGX_OK
        || ngx_http_livekit_aws_home_path(cf, "AWS_CONFIG_FILE",
                                          ".aws/config", &config_file)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    found = 0;

    if (creds_file
        && ngx_http_livekit_aws_profile_file(cf, ac, creds_file, 0, &found)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (config_file
        && ngx_http_livekit_aws_profile_file(cf, ac, config_file, 1, &found)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    len = (creds_file ? ngx_strlen(creds_file) : 0)
          + (config_file ? ngx_strlen(config_file) : 0) + sizeof(" and ");

    ac->profile_files = ngx_pcalloc(cf->pool, len);
    if (ac->profile_files == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf((u_char *) ac->profile_files, "%s%s%s",
                creds_file ? creds_file : "",
                (creds_file && config_file) ? " and " : "",
                config_file ? config_file : "");

    if (ac->role_profile_arn) {
        return ngx_http_livekit_aws_role(cf, ac, creds_file, config_file);
    }

    if ((ac->profile_key_id == NULL) != (ac->profile_secret == NULL)) {
        ac->profile_key_id = NULL;
        ac->profile_secret = NULL;
    }

    if (named == NULL || ac->profile_key_id) {
        return NGX_OK;
    }

    /* a profile asked for by name must give keys, as in the SDKs */

    ac->profile_error = ngx_pcalloc(cf->pool, 256 + ngx_strlen(named) + len);
    if (ac->profile_error == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf((u_char *) ac->profile_error,
                found ? "profile \"%s\" in %s has no aws_access_key_id "
                        "and aws_secret_access_key, nor role_arn (sso and "
                        "credential_process are not supported)"
                      : "profile \"%s\" is not in %s",
                named, ac->profile_files);

    return NGX_OK;
}


/*
 * One INI file: [name] in the credentials file, [profile name] (or
 * [default]) in the config file.  The credentials file, read first, wins.
 */

static ngx_int_t
ngx_http_livekit_aws_profile_file(ngx_conf_t *cf,
    ngx_http_livekit_aws_conf_t *ac, char *file, ngx_uint_t config,
    ngx_uint_t *found)
{
    u_char      *p, *last, *eol, *s, *e;
    ngx_int_t    rc;
    ngx_uint_t   in, had_keys;
    char        *buf;

    buf = ngx_alloc(NGX_HTTP_LIVEKIT_AWS_FILE_MAX, cf->log);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_http_livekit_aws_read_file(file, buf,
                                        NGX_HTTP_LIVEKIT_AWS_FILE_MAX);

    if (rc != NGX_OK) {
        if (rc == NGX_ERROR && ngx_errno != NGX_ENOENT) {
            ngx_conf_log_error(NGX_LOG_WARN, cf, ngx_errno,
                               "livekit_ssm_path: cannot read \"%s\"", file);
        }

        ngx_free(buf);
        return NGX_OK;
    }

    had_keys = (ac->profile_key_id != NULL);
    in = 0;
    rc = NGX_OK;
    p = (u_char *) buf;
    last = p + ngx_strlen(buf);

    for ( /* void */ ; p < last && rc == NGX_OK; p = eol + 1) {
        eol = ngx_strlchr(p, last, '\n');
        if (eol == NULL) {
            eol = last;
        }

        s = p;
        e = eol;
        ngx_http_livekit_aws_trim(&s, &e, 1);

        if (s == e || *s == '#' || *s == ';') {
            continue;
        }

        if (*s == '[') {
            in = ngx_http_livekit_aws_profile_section(ac, s, e, config);
            *found |= in;
            continue;
        }

        if (in) {
            rc = ngx_http_livekit_aws_profile_value(cf, ac, s, e, config,
                                                    had_keys);
        }
    }

    OPENSSL_cleanse(buf, NGX_HTTP_LIVEKIT_AWS_FILE_MAX);
    ngx_free(buf);

    return rc;
}


/* spaces and tabs off both ends of s..e, and with "cr" carriage returns
 * off its end too */

static void
ngx_http_livekit_aws_trim(u_char **s, u_char **e, ngx_uint_t cr)
{
    while (*s < *e && (**s == ' ' || **s == '\t')) {
        (*s)++;
    }

    while (*e > *s) {
        if ((*e)[-1] != ' ' && (*e)[-1] != '\t' && !(cr && (*e)[-1] == '\r')) {
            break;
        }

        (*e)--;
    }
}


/* a "[...]" line: whether it opens the section of ac->profile */

static ngx_uint_t
ngx_http_livekit_aws_profile_section(ngx_http_livekit_aws_conf_t *ac,
    u_char *s, u_char *e, ngx_uint_t config)
{
    size_t  n;

    if (e[-1] != ']') {
        return 0;
    }

    s++;
    e--;
    ngx_http_livekit_aws_trim(&s, &e, 0);

    if (config && (size_t) (e - s) > 8
        && ngx_strncmp(s, "profile", 7) == 0
        && (s[7] == ' ' || s[7] == '\t'))
    {
        s += 8;
        ngx_http_livekit_aws_trim(&s, &e, 0);

    } else if (config && !((size_t) (e - s) == 7
                           && ngx_strncmp(s, "default", 7) == 0))
    {
        return 0;
    }

    n = ngx_strlen(ac->profile);

    return (size_t) (e - s) == n && ngx_strncmp(s, ac->profile, n) == 0;
}


/* the settings a profile may give, one table */

#define NGX_HTTP_LIVEKIT_AWS_KEYS   0    /* static keys: the last one wins,
                                           unless an earlier file gave keys */
#define NGX_HTTP_LIVEKIT_AWS_FIRST  1    /* the first one wins */

typedef struct {
    ngx_str_t    name;
    size_t       offset;     /* of a char * in ngx_http_livekit_aws_conf_t */
    ngx_uint_t   kind;
} ngx_http_livekit_aws_profile_setting_t;

static ngx_http_livekit_aws_profile_setting_t
    ngx_http_livekit_aws_profile_settings[] = {
    { ngx_string("aws_access_key_id"),
      offsetof(ngx_http_livekit_aws_conf_t, profile_key_id),
      NGX_HTTP_LIVEKIT_AWS_KEYS },
    { ngx_string("aws_secret_access_key"),
      offsetof(ngx_http_livekit_aws_conf_t, profile_secret),
      NGX_HTTP_LIVEKIT_AWS_KEYS },
    { ngx_string("aws_session_token"),
      offsetof(ngx_http_livekit_aws_conf_t, profile_token),
      NGX_HTTP_LIVEKIT_AWS_KEYS },
    { ngx_string("role_arn"),
      offsetof(ngx_http_livekit_aws_conf_t, role_profile_arn),
      NGX_HTTP_LIVEKIT_AWS_FIRST },
    { ngx_string("source_profile"),
      offsetof(ngx_http_livekit_aws_conf_t, role_source_profile),
      NGX_HTTP_LIVEKIT_AWS_FIRST },
    { ngx_string("credential_source"),
      offsetof(ngx_http_livekit_aws_conf_t, role_credential_source),
      NGX_HTTP_LIVEKIT_AWS_FIRST },
    { ngx_string("external_id"),
      offsetof(ngx_http_livekit_aws_conf_t, role_external_id),
      NGX_HTTP_LIVEKIT_AWS_FIRST },
    { ngx_string("role_session_name"),
      offsetof(ngx_http_livekit_aws_conf_t, role_session),
      NGX_HTTP_LIVEKIT_AWS_FIRST },
    { ngx_string("region"),
      offsetof(ngx_http_livekit_aws_conf_t, region),
      NGX_HTTP_LIVEKIT_AWS_FIRST },
    { ngx_null_string, 0, 0 }
};


/* a "key = value" line of the profile's section; other keys are ignored */

static ngx_int_t
ngx_http_livekit_aws_profile_value(ngx_conf_t *cf,
    ngx_http_livekit_aws_conf_t *ac, u_char *s, u_char *e, ngx_uint_t config,
    ngx_uint_t had_keys)
{
    u_char                                  *k, *ke, *v;
    char                                   **dst;
    ngx_http_livekit_aws_profile_setting_t  *set;

    v = ngx_strlchr(s, e, '=');
    if (v == NULL) {
        return NGX_OK;
    }

    k = s;
    ke = v++;
    ngx_http_livekit_aws_trim(&k, &ke, 0);
    ngx_http_livekit_aws_trim(&v, &e, 0);

    if (v == e) {
        return NGX_OK;
    }

    for (set = ngx_http_livekit_aws_profile_settings; set->name.len; set++) {
        if ((size_t) (ke - k) == set->name.len
            && ngx_strncmp(k, set->name.data, set->name.len) == 0)
        {
            break;
        }
    }

    if (set->name.len == 0) {
        return NGX_OK;
    }

    dst = (char **) ((u_char *) ac + set->offset);

    if (set->kind == NGX_HTTP_LIVEKIT_AWS_KEYS ? had_keys : *dst != NULL) {
        return NGX_OK;
    }

    *dst = ngx_http_livekit_aws_strdup(cf->pool, v, e - v);
    if (*dst == NULL) {
        return NGX_ERROR;
    }

    if (dst == &ac->region) {
        ac->region_from = config ? "the config file profile"
                                 : "the credentials file profile";
    }

    return NGX_OK;
}


/*
 * A profile with role_arn: its source_profile's static keys are read now
 * (one level: a source profile with a role of its own is refused), or
 * credential_source names where the fetch takes them.  Errors fail nginx -t
 * naming the profile and the value.
 */

static ngx_int_t
ngx_http_livekit_aws_role(ngx_conf_t *cf, ngx_http_livekit_aws_conf_t *ac,
    char *creds_file, char *config_file)
{
    char        *profile, *arn, *source, *cred, *ext, *session;
    ngx_uint_t   found;

    profile = ac->profile;

    if ((ac->role_source_profile == NULL)
        == (ac->role_credential_source == NULL))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "livekit_ssm_path: profile \"%s\" in %s has "
                           "role_arn and needs exactly one of "
                           "source_profile and credential_source",
                           profile, ac->profile_files);
        return NGX_ERROR;
    }

    if (ac->role_credential_source) {
        return ngx_http_livekit_aws_role_source(cf, ac);
    }

    /* the source profile's keys, its own role settings put aside */

    arn = ac->role_profile_arn;
    source = ac->role_source_profile;
    cred = ac->role_credential_source;
    ext = ac->role_external_id;
    session = ac->role_session;

    ac->role_profile_arn = NULL;
    ac->role_source_profile = NULL;
    ac->role_credential_source = NULL;

    if (ngx_strcmp(source, profile) != 0) {
        ac->profile_key_id = NULL;
        ac->profile_secret = NULL;
        ac->profile_token = NULL;
        ac->profile = source;
        found = 0;

        if ((creds_file
             && ngx_http_livekit_aws_profile_file(cf, ac, creds_file, 0,
                                                  &found) != NGX_OK)
            || (config_file
                && ngx_http_livekit_aws_profile_file(cf, ac, config_file, 1,
                                                     &found) != NGX_OK))
        {
            return NGX_ERROR;
        }

        ac->profile = profile;

        if (ac->role_profile_arn) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "livekit_ssm_path: source_profile \"%s\" of "
                               "profile \"%s\" has a role_arn of its own: "
                               "chained roles are not supported",
                               source, profile);
            return NGX_ERROR;
        }
    }

    if (ac->profile_key_id == NULL || ac->profile_secret == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "livekit_ssm_path: source_profile \"%s\" of "
                           "profile \"%s\" has no aws_access_key_id and "
                           "aws_secret_access_key in %s",
                           source, profile, ac->profile_files);
        return NGX_ERROR;
    }

    ac->role_profile_arn = arn;
    ac->role_source_profile = source;
    ac->role_credential_source = cred;
    ac->role_external_id = ext;
    ac->role_session = session;
    ac->role_source = NGX_HTTP_LIVEKIT_AWS_SOURCE_PROFILE;

    return NGX_OK;
}


/* credential_source: where the fetch takes the credentials for the role */

static ngx_int_t
ngx_http_livekit_aws_role_source(ngx_conf_t *cf,
    ngx_http_livekit_aws_conf_t *ac)
{
    u_char      shown[NGX_HTTP_LIVEKIT_AWS_SHOWN];
    ngx_uint_t  i;

    static const struct {
        const char  *name;
        ngx_uint_t   source;
    }  sources[] = {
        { "Environment", NGX_HTTP_LIVEKIT_AWS_SOURCE_ENV },
        { "Ec2InstanceMetadata", NGX_HTTP_LIVEKIT_AWS_SOURCE_IMDS },
        { "EcsContainer", NGX_HTTP_LIVEKIT_AWS_SOURCE_CONTAINER }
    };

    for (i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
        if (ngx_strcmp(ac->role_credential_source, sources[i].name) == 0) {
            ac->role_source = sources[i].source;
            break;
        }
    }

    if (ac->role_source == 0) {
        ngx_http_livekit_aws_shown(shown, ac->role_credential_source);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "livekit_ssm_path: profile \"%s\" has "
                           "credential_source \"%s\": Environment, "
                           "Ec2InstanceMetadata or EcsContainer",
                           ac->profile, shown);
        return NGX_ERROR;
    }

    ac->profile_key_id = NULL;
    ac->profile_secret = NULL;
    ac->profile_token = NULL;

    return NGX_OK;
}


/* NGX_OK with *value NULL when unset or empty; NGX_ERROR: out of memory */

static ngx_int_t
ngx_http_livekit_aws_getenv(ngx_conf_t *cf, const char *name, char **value)
{
    char  *v;

    *value = NULL;

    v = getenv(name);

    if (v == NULL || *v == '\0') {
        return NGX_OK;
    }

    *value = ngx_http_livekit_aws_strdup(cf->pool, (u_char *) v,
                                         ngx_strlen(v));

    return (*value == NULL) ? NGX_ERROR : NGX_OK;
}


static char *
ngx_http_livekit_aws_strdup(ngx_pool_t *pool, u_char *s, size_t len)
{
    char  *p;

    p = ngx_pnalloc(pool, len + 1);
    if (p == NULL) {
        return NULL;
    }

    ngx_memcpy(p, s, len);
    p[len] = '\0';

    return p;
}


/* an outside value in a configuration message: escaped, cut short */

static void
ngx_http_livekit_aws_shown(u_char *shown, const char *v)
{
    (void) ngx_http_livekit_text_escape(shown, NGX_HTTP_LIVEKIT_AWS_SHOWN,
                                        (u_char *) v,
                                        ngx_min(ngx_strlen(v), 200), 0);
}


/*
 * A region is part of host names (ssm.REGION.amazonaws.com) and of the
 * signature scope: 1 to 63 lowercase letters, digits and hyphens, a letter
 * or digit at both ends, as a DNS label.
 */

ngx_uint_t
ngx_http_livekit_aws_region_valid(const u_char *s, size_t len)
{
    size_t  i;

    if (len == 0 || len > 63 || s[0] == '-' || s[len - 1] == '-') {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')
              || s[i] == '-'))
        {
            return 0;
        }
    }

    return 1;
}


/*
 * An endpoint: an http or https URL as libcurl parses it, with a host, no
 * user name or password, query or fragment (paths are appended to it),
 * at most 256 bytes (the thread builds URLs from it in fixed buffers).
 */

ngx_int_t
ngx_http_livekit_aws_url_check(const char *url, char *why, size_t size)
{
    CURLU       *u;
    char        *scheme, *part;
    ngx_int_t    rc;
    ngx_uint_t   i;

    /* the host must be there, the other parts must not */

    static const struct {
        CURLUPart    part;
        const char  *why;
    }  parts[] = {
        { CURLUPART_HOST, "has no host" },
        { CURLUPART_USER, "has a user name" },
        { CURLUPART_PASSWORD, "has a password" },
        { CURLUPART_QUERY, "has a query" },
        { CURLUPART_FRAGMENT, "has a fragment" }
    };

    if (ngx_strlen(url) > NGX_HTTP_LIVEKIT_AWS_ENDPOINT_MAX) {
        ngx_snprintf((u_char *) why, size, "is longer than %d bytes%Z",
                     NGX_HTTP_LIVEKIT_AWS_ENDPOINT_MAX);
        return NGX_ERROR;
    }

    u = curl_url();
    if (u == NULL) {
        ngx_cpystrn((u_char *) why, (u_char *) "out of memory", size);
        return NGX_ERROR;
    }

    scheme = NULL;
    rc = NGX_ERROR;

    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK
        || curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK
        || (ngx_strcmp(scheme, "http") != 0
            && ngx_strcmp(scheme, "https") != 0))
    {
        ngx_cpystrn((u_char *) why, (u_char *) "is not an http:// or "
                    "https:// URL", size);
        goto done;
    }

    for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        part = NULL;

        if ((curl_url_get(u, parts[i].part, &part, 0) == CURLUE_OK
             && part && *part)
            != (i == 0))
        {
            curl_free(part);
            ngx_cpystrn((u_char *) why, (u_char *) parts[i].why, size);
            goto done;
        }

        curl_free(part);
    }

    rc = NGX_OK;

done:

    curl_free(scheme);
    curl_url_cleanup(u);

    return rc;
}


/*
 * $ENV, else ~/rel; a leading "~/" in $ENV is the home directory too.
 * NGX_OK with *path NULL when there is no home directory.
 */

static ngx_int_t
ngx_http_livekit_aws_home_path(ngx_conf_t *cf, const char *env,
    const char *rel, char **path)
{
    char    *v, *home;
    size_t   len;

    *path = NULL;

    v = getenv(env);
    home = getenv("HOME");

    if (v && *v) {
        if (v[0] != '~' || v[1] != '/') {
            *path = ngx_http_livekit_aws_strdup(cf->pool, (u_char *) v,
                                                ngx_strlen(v));
            return (*path == NULL) ? NGX_ERROR : NGX_OK;
        }

        rel = v + 2;
    }

    if (home == NULL || *home == '\0') {
        return NGX_OK;
    }

    len = ngx_strlen(home) + 1 + ngx_strlen(rel) + 1;

    *path = ngx_pnalloc(cf->pool, len);
    if (*path == NULL) {
        return NGX_ERROR;
    }

    *ngx_sprintf((u_char *) *path, "%s/%s", home, rel) = '\0';

    return NGX_OK;
}


static void
ngx_http_livekit_aws_conf_wipe(void *data)
{
    ngx_http_livekit_aws_conf_t *ac = data;

    char  **s, *secrets[7];

    secrets[0] = ac->env_secret;
    secrets[1] = ac->env_token;
    secrets[2] = ac->profile_secret;
    secrets[3] = ac->profile_token;
    secrets[4] = ac->container_token;
    secrets[5] = ac->https_proxy;          /* may hold a password */
    secrets[6] = ac->http_proxy;

    for (s = secrets; s < secrets + 7; s++) {
        if (*s) {
            OPENSSL_cleanse(*s, ngx_strlen(*s));
        }
    }
}
