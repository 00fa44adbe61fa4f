
/*
 * The AWS client behind livekit_ssm_path.
 *
 * Owns: the snapshot of AWS settings the master takes at configuration time
 * (environment variables, the shared credentials and config files), the
 * credential chain (environment, web identity through STS, shared files,
 * container credentials, IMDSv2), and the SSM GetParameters exchange with
 * its retries (AWS "standard" mode: jittered exponential backoff on
 * throttling, 5xx and transport errors, none on access or signature
 * errors).
 * Does not own: when to fetch, shared memory or the key set (_ssm.c).
 *
 * Everything after the snapshot runs in a thread of nginx's pool, so it
 * blocks freely (libcurl easy handles), allocates nothing from nginx pools,
 * and logs nothing: failures are described in f->error, with the source of
 * the credentials and the parameter name, never a value.  Requests are
 * signed by libcurl (CURLOPT_AWS_SIGV4, service "ssm").
 */

#include "ngx_http_livekit_aws.h"
#include "ngx_http_livekit_text.h"

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>


#define NGX_HTTP_LIVEKIT_AWS_RESPONSE_MAX   65536
#define NGX_HTTP_LIVEKIT_AWS_FILE_MAX       65536
#define NGX_HTTP_LIVEKIT_AWS_BACKOFF_MAX    20000   /* ms, standard mode */
#define NGX_HTTP_LIVEKIT_AWS_IMDS_TIMEOUT   1000    /* ms */
#define NGX_HTTP_LIVEKIT_AWS_EXPIRY_MARGIN  300     /* s, refresh before */
#define NGX_HTTP_LIVEKIT_AWS_MESSAGE_MAX    200
#define NGX_HTTP_LIVEKIT_AWS_SHOWN          (5 * 200 + 1)
#define NGX_HTTP_LIVEKIT_AWS_ROLE_MAX       64      /* IAM role name */


/* an environment variable and where its snapshot goes */

typedef struct {
    const char                     *name;
    size_t                          offset;
} ngx_http_livekit_aws_env_t;


typedef struct {
    const char                     *method;
    const char                     *url;
    struct curl_slist              *headers;
    const char                     *body;
    size_t                          body_len;
    const char                     *sigv4;     /* "aws:amz:region:ssm" */
    ngx_http_livekit_aws_creds_t   *creds;
    long                            timeout;   /* ms */

    long                            status;
    u_char                          resp[NGX_HTTP_LIVEKIT_AWS_RESPONSE_MAX];
    size_t                          resp_len;
    ngx_uint_t                      overflow;
    char                            curl_error[CURL_ERROR_SIZE];
} ngx_http_livekit_aws_http_t;


/* an IMDSv2 GET: the session token, then requests that carry it */

typedef struct {
    char                          token[1024];
    char                          hdr[1100];
    char                          url[768];
    ngx_http_livekit_aws_http_t  *h;
} ngx_http_livekit_aws_imds_t;


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
static ngx_int_t ngx_http_livekit_aws_home_path(ngx_conf_t *cf,
    const char *env, const char *rel, char **path);
static void ngx_http_livekit_aws_shown(u_char *shown, const char *v);
static void ngx_http_livekit_aws_conf_wipe(void *data);

static ngx_int_t ngx_http_livekit_aws_credentials(
    ngx_http_livekit_ssm_fetch_t *f);
static ngx_int_t ngx_http_livekit_aws_web_identity(
    ngx_http_livekit_ssm_fetch_t *f);
static ngx_int_t ngx_http_livekit_aws_container(
    ngx_http_livekit_ssm_fetch_t *f);
static ngx_int_t ngx_http_livekit_aws_imds_token(
    ngx_http_livekit_ssm_fetch_t *f, char *token, size_t size);
static ngx_int_t ngx_http_livekit_aws_imds_open(
    ngx_http_livekit_ssm_fetch_t *f, ngx_http_livekit_aws_imds_t *m);
static void ngx_http_livekit_aws_imds_close(ngx_http_livekit_aws_imds_t *m);
static ngx_int_t ngx_http_livekit_aws_imds(ngx_http_livekit_ssm_fetch_t *f);
static ngx_int_t ngx_http_livekit_aws_imds_region(
    ngx_http_livekit_ssm_fetch_t *f, char *region, size_t size);
static ngx_int_t ngx_http_livekit_aws_creds_json(
    ngx_http_livekit_ssm_fetch_t *f, ngx_http_livekit_aws_http_t *h,
    const char *source);
static ngx_int_t ngx_http_livekit_aws_creds_set(
    ngx_http_livekit_aws_creds_t *c, const char *id, size_t id_len,
    const char *secret, size_t secret_len, const char *token,
    size_t token_len);
static ngx_int_t ngx_http_livekit_aws_container_url(const char *uri,
    char *url, size_t size, char *why, size_t why_size);
static ngx_uint_t ngx_http_livekit_aws_local_host(const char *host);
static ngx_int_t ngx_http_livekit_aws_imds_role(const u_char *p, size_t len,
    char *role, size_t size);
static ngx_uint_t ngx_http_livekit_aws_header_safe(const char *s,
    size_t len);
static ngx_int_t ngx_http_livekit_aws_ssm_call(
    ngx_http_livekit_ssm_fetch_t *f, const char *region, const char *url);
static ngx_int_t ngx_http_livekit_aws_ssm_parse(
    ngx_http_livekit_ssm_fetch_t *f, ngx_http_livekit_aws_http_t *h);
static ngx_int_t ngx_http_livekit_aws_retryable(long status,
    const char *code);

static ngx_int_t ngx_http_livekit_aws_http(ngx_http_livekit_aws_http_t *h);
static size_t ngx_http_livekit_aws_write(char *ptr, size_t size,
    size_t nmemb, void *userdata);
static int ngx_http_livekit_aws_progress(void *clientp, curl_off_t dltotal,
    curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);
static ngx_int_t ngx_http_livekit_aws_stopping(void);
static void ngx_http_livekit_aws_http_wipe(ngx_http_livekit_aws_http_t *h);
static void ngx_http_livekit_aws_error_code(ngx_http_livekit_aws_http_t *h,
    char *code, size_t code_size, char *msg, size_t msg_size);
static ngx_int_t ngx_http_livekit_aws_xml(u_char *p, size_t len,
    const char *tag, char *out, size_t size);
static ngx_int_t ngx_http_livekit_aws_xml_find(u_char *p, size_t len,
    const char *tag, u_char **text, size_t *text_len);
static ngx_int_t ngx_http_livekit_aws_copy(char *out, size_t size,
    const char *s, size_t len);
static ngx_int_t ngx_http_livekit_aws_read_file(const char *path,
    char *out, size_t size);
static char *ngx_http_livekit_aws_form(char *p, char *last,
    const char *name, const char *value);
static time_t ngx_http_livekit_aws_parse_time(const char *s);
static void ngx_http_livekit_aws_sleep(ngx_uint_t attempt);
static void ngx_http_livekit_aws_fail(ngx_http_livekit_ssm_fetch_t *f,
    const char *fmt, ...);
static void ngx_http_livekit_aws_source(ngx_http_livekit_aws_creds_t *c,
    const char *fmt, ...);
static void ngx_http_livekit_aws_vtext(char *dst, size_t size,
    const char *fmt, va_list args);


/* configuration time, in the master */

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
    char                        *v, **dst;
    const char                  *from;
    ngx_pool_cleanup_t          *cln;
    ngx_http_livekit_aws_env_t  *e;

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
        || ngx_http_livekit_aws_profiles(cf, ac) != NGX_OK)
    {
        return NGX_ERROR;
    }

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

    return ngx_http_livekit_aws_conf_check(cf, ac);
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
                           "livekit_ssm_path: invalid SSM endpoint \"%s\" "
                           "from %s: %s", shown, ac->endpoint_from, why);
        return NGX_ERROR;
    }

    if (ac->sts_endpoint
        && ngx_http_livekit_aws_url_check(ac->sts_endpoint, why, sizeof(why))
           != NGX_OK)
    {
        ngx_http_livekit_aws_shown(shown, ac->sts_endpoint);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "livekit_ssm_path: invalid STS endpoint \"%s\" "
                           "from %s: %s", shown, ac->sts_endpoint_from, why);
        return NGX_ERROR;
    }

    if (ngx_http_livekit_aws_url_check(ac->imds_endpoint, why, sizeof(why))
        != NGX_OK)
    {
        ngx_http_livekit_aws_shown(shown, ac->imds_endpoint);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "livekit_ssm_path: invalid instance metadata "
                           "endpoint \"%s\" from "
                           "AWS_EC2_METADATA_SERVICE_ENDPOINT: %s",
                           shown, why);
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
                        "and aws_secret_access_key (role_arn, sso and "
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
    u_char      *p, *last, *eol, *s, *e, *k, *ke, *v, *ve;
    size_t       n;
    ngx_int_t    rc;
    ngx_uint_t   in, had_keys;
    char        *buf, **dst;

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
    p = (u_char *) buf;
    last = p + ngx_strlen(buf);

    for ( /* void */ ; p < last; p = eol + 1) {
        eol = ngx_strlchr(p, last, '\n');
        if (eol == NULL) {
            eol = last;
        }

        s = p;
        e = eol;

        while (s < e && (*s == ' ' || *s == '\t')) {
            s++;
        }

        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) {
            e--;
        }

        if (s == e || *s == '#' || *s == ';') {
            continue;
        }

        if (*s == '[') {
            if (e[-1] != ']') {
                in = 0;
                continue;
            }

            s++;
            e--;

            while (s < e && (*s == ' ' || *s == '\t')) {
                s++;
            }

            while (e > s && (e[-1] == ' ' || e[-1] == '\t')) {
                e--;
            }

            if (config && (size_t) (e - s) > 8
                && ngx_strncmp(s, "profile", 7) == 0
                && (s[7] == ' ' || s[7] == '\t'))
            {
                s += 8;
                while (s < e && (*s == ' ' || *s == '\t')) {
                    s++;
                }

            } else if (config && !((size_t) (e - s) == 7
                                   && ngx_strncmp(s, "default", 7) == 0))
            {
                in = 0;
                continue;
            }

            n = ngx_strlen(ac->profile);
            in = ((size_t) (e - s) == n
                  && ngx_strncmp(s, ac->profile, n) == 0);

            if (in) {
                *found = 1;
            }

            continue;
        }

        if (!in) {
            continue;
        }

        k = s;
        v = ngx_strlchr(s, e, '=');
        if (v == NULL) {
            continue;
        }

        ke = v;
        while (ke > k && (ke[-1] == ' ' || ke[-1] == '\t')) {
            ke--;
        }

        v++;
        ve = e;
        while (v < ve && (*v == ' ' || *v == '\t')) {
            v++;
        }

        dst = NULL;
        n = ke - k;

        if (n == sizeof("aws_access_key_id") - 1
            && ngx_strncmp(k, "aws_access_key_id", n) == 0)
        {
            dst = &ac->profile_key_id;

        } else if (n == sizeof("aws_secret_access_key") - 1
                   && ngx_strncmp(k, "aws_secret_access_key", n) == 0)
        {
            dst = &ac->profile_secret;

        } else if (n == sizeof("aws_session_token") - 1
                   && ngx_strncmp(k, "aws_session_token", n) == 0)
        {
            dst = &ac->profile_token;

        } else if (n == sizeof("region") - 1
                   && ngx_strncmp(k, "region", n) == 0
                   && ac->region == NULL && v < ve)
        {
            ac->region = ngx_http_livekit_aws_strdup(cf->pool, v, ve - v);
            if (ac->region == NULL) {
                goto failed;
            }

            ac->region_from = config ? "the config file profile"
                                     : "the credentials file profile";
            continue;
        }

        if (dst == NULL || had_keys || v == ve) {
            continue;
        }

        *dst = ngx_http_livekit_aws_strdup(cf->pool, v, ve - v);
        if (*dst == NULL) {
            goto failed;
        }
    }

    OPENSSL_cleanse(buf, NGX_HTTP_LIVEKIT_AWS_FILE_MAX);
    ngx_free(buf);

    return NGX_OK;

failed:

    OPENSSL_cleanse(buf, NGX_HTTP_LIVEKIT_AWS_FILE_MAX);
    ngx_free(buf);

    return NGX_ERROR;
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
 * user name or password, query or fragment (paths are appended to it).
 */

ngx_int_t
ngx_http_livekit_aws_url_check(const char *url, char *why, size_t size)
{
    CURLU       *u;
    char        *scheme, *part;
    ngx_int_t    rc;
    CURLUPart    parts[5];
    ngx_uint_t   i;

    static const char  *names[] = {
        "a host", "no user name", "no password", "no query", "no fragment"
    };

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
        ngx_cpystrn((u_char *) why, (u_char *) "not an http:// or https:// "
                    "URL", size);
        goto done;
    }

    parts[0] = CURLUPART_HOST;
    parts[1] = CURLUPART_USER;
    parts[2] = CURLUPART_PASSWORD;
    parts[3] = CURLUPART_QUERY;
    parts[4] = CURLUPART_FRAGMENT;

    for (i = 0; i < 5; i++) {
        part = NULL;

        if ((curl_url_get(u, parts[i], &part, 0) == CURLUE_OK
             && part && *part)
            != (i == 0))
        {
            curl_free(part);
            ngx_snprintf((u_char *) why, size, "the URL must have %s%Z",
                         names[i]);
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

    char  **s, *secrets[5];

    secrets[0] = ac->env_secret;
    secrets[1] = ac->env_token;
    secrets[2] = ac->profile_secret;
    secrets[3] = ac->profile_token;
    secrets[4] = ac->container_token;

    for (s = secrets; s < secrets + 5; s++) {
        if (*s) {
            OPENSSL_cleanse(*s, ngx_strlen(*s));
        }
    }
}


/* in a thread: the whole fetch, with retries */

void
ngx_http_livekit_aws_get_parameters(ngx_http_livekit_ssm_fetch_t *f)
{
    char                          region[64], *url, buf[512];
    ngx_int_t                     rc;
    ngx_uint_t                    attempt;
    ngx_http_livekit_aws_conf_t  *ac;

    ac = f->conf;
    f->rc = NGX_ERROR;
    f->calls = 0;
    f->error[0] = '\0';

    for (attempt = 0; attempt < ac->attempts; attempt++) {

        if (attempt) {
            ngx_http_livekit_aws_sleep(attempt - 1);
        }

        if (ngx_http_livekit_aws_stopping()) {
            f->rc = NGX_ABORT;
            return;
        }

        /* credentials first: a missing profile says so before the region */

        rc = ngx_http_livekit_aws_credentials(f);
        if (rc == NGX_AGAIN) {
            continue;
        }

        if (rc != NGX_OK) {
            return;
        }

        /* region: configuration, else the instance's */

        if (ac->region) {
            if (ngx_http_livekit_aws_copy(region, sizeof(region), ac->region,
                                          ngx_strlen(ac->region))
                != NGX_OK)
            {
                ngx_http_livekit_aws_fail(f, "the region from %s is too long",
                                          ac->region_from);
                return;
            }

        } else if (ac->imds_disabled) {
            ngx_http_livekit_aws_fail(f, "no AWS region: set "
                                      "livekit_ssm_region or AWS_REGION");
            return;

        } else {
            rc = ngx_http_livekit_aws_imds_region(f, region, sizeof(region));
            if (rc == NGX_AGAIN) {
                continue;
            }

            if (rc != NGX_OK) {
                return;
            }
        }

        if (!ngx_http_livekit_aws_region_valid((u_char *) region,
                                               ngx_strlen(region)))
        {
            ngx_http_livekit_aws_fail(f, "the region \"%s\" is not valid",
                                      region);
            return;
        }

        if (ac->endpoint) {
            url = ac->endpoint;

        } else {
            ngx_sprintf((u_char *) buf, "https://ssm%s.%s.amazonaws.com/%Z",
                        ac->fips ? "-fips" : "", region);
            url = buf;
        }

        rc = ngx_http_livekit_aws_ssm_call(f, region, url);

        if (rc == NGX_OK) {
            f->rc = NGX_OK;
            return;
        }

        if (rc != NGX_AGAIN) {
            break;
        }
    }

    if (ngx_http_livekit_aws_stopping()) {
        f->rc = NGX_ABORT;
    }
}


/* the credential chain, in the SDKs' order; cached temporary keys first */

static ngx_int_t
ngx_http_livekit_aws_credentials(ngx_http_livekit_ssm_fetch_t *f)
{
    ngx_http_livekit_aws_conf_t   *ac;
    ngx_http_livekit_aws_creds_t  *c;

    ac = f->conf;
    c = &f->creds;

    if (c->valid && c->expires
        && time(NULL) + NGX_HTTP_LIVEKIT_AWS_EXPIRY_MARGIN < c->expires)
    {
        return NGX_OK;
    }

    OPENSSL_cleanse(c, sizeof(ngx_http_livekit_aws_creds_t));

    if (ac->env_key_id) {
        if (ngx_http_livekit_aws_creds_set(c, ac->env_key_id,
                                           ngx_strlen(ac->env_key_id),
                                           ac->env_secret,
                                           ngx_strlen(ac->env_secret),
                                           ac->env_token,
                                           ac->env_token
                                           ? ngx_strlen(ac->env_token) : 0)
            != NGX_OK)
        {
            ngx_http_livekit_aws_fail(f, "the credentials in the "
                                      "environment are too long or hold "
                                      "control characters");
            return NGX_ERROR;
        }

        ngx_http_livekit_aws_source(c, "environment (AWS_ACCESS_KEY_ID)");
        return NGX_OK;
    }

    if (ac->web_token_file && ac->role_arn) {
        return ngx_http_livekit_aws_web_identity(f);
    }

    if (ac->profile_key_id) {
        if (ngx_http_livekit_aws_creds_set(c, ac->profile_key_id,
                                           ngx_strlen(ac->profile_key_id),
                                           ac->profile_secret,
                                           ngx_strlen(ac->profile_secret),
                                           ac->profile_token,
                                           ac->profile_token
                                           ? ngx_strlen(ac->profile_token)
                                           : 0)
            != NGX_OK)
        {
            ngx_http_livekit_aws_fail(f, "the credentials of profile \"%s\" "
                                      "are too long or hold control "
                                      "characters", ac->profile);
            return NGX_ERROR;
        }

        ngx_http_livekit_aws_source(c, "shared files (profile \"%s\")",
                                    ac->profile);
        return NGX_OK;
    }

    if (ac->profile_error) {
        ngx_http_livekit_aws_fail(f, "no credentials: %s", ac->profile_error);
        return NGX_ERROR;
    }

    if (ac->container_uri) {
        return ngx_http_livekit_aws_container(f);
    }

    if (!ac->imds_disabled) {
        return ngx_http_livekit_aws_imds(f);
    }

    ngx_http_livekit_aws_fail(f, "no AWS credentials: none in the "
                              "environment, no web identity, no keys for "
                              "profile \"%s\" in %s, no container "
                              "credentials, instance metadata disabled",
                              ac->profile, ac->profile_files);
    return NGX_ERROR;
}


/* AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN: STS AssumeRoleWithWebIdentity */

static ngx_int_t
ngx_http_livekit_aws_web_identity(ngx_http_livekit_ssm_fetch_t *f)
{
    char                          *token, *body, *p, *last, url[512];
    char                           session[80], code[64], msg[256];
    char                           expires[64];
    u_char                        *id, *secret, *token_text;
    size_t                         size, id_len, secret_len, token_len;
    ngx_int_t                      rc;
    ngx_http_livekit_aws_http_t   *h;
    ngx_http_livekit_aws_conf_t   *ac;
    ngx_http_livekit_aws_creds_t  *c;

    ac = f->conf;
    c = &f->creds;
    rc = NGX_ERROR;

    size = NGX_HTTP_LIVEKIT_AWS_FILE_MAX;
    token = malloc(size);
    body = malloc(3 * size + 1024);
    h = calloc(1, sizeof(ngx_http_livekit_aws_http_t));

    if (token == NULL || body == NULL || h == NULL) {
        ngx_http_livekit_aws_fail(f, "web identity: out of memory");
        goto done;
    }

    if (ngx_http_livekit_aws_read_file(ac->web_token_file, token, size)
        != NGX_OK)
    {
        ngx_http_livekit_aws_fail(f, "web identity: cannot read "
                                  "AWS_WEB_IDENTITY_TOKEN_FILE \"%s\" (%s)",
                                  ac->web_token_file,
                                  strerror(ngx_errno));
        goto done;
    }

    p = token + ngx_strlen(token);
    while (p > token && (p[-1] == '\n' || p[-1] == '\r' || p[-1] == ' ')) {
        *--p = '\0';
    }

    if (ac->role_session_name) {
        (void) ngx_http_livekit_aws_copy(session, sizeof(session),
                                         ac->role_session_name,
                                         ngx_strlen(ac->role_session_name));

    } else {
        ngx_sprintf((u_char *) session, "nginx-livekit-%T%Z", time(NULL));
    }

    p = body;
    last = body + 3 * size + 1024 - 1;

    p = ngx_http_livekit_aws_form(p, last, "Action",
                                  "AssumeRoleWithWebIdentity");
    p = ngx_http_livekit_aws_form(p, last, "&Version", "2011-06-15");
    p = ngx_http_livekit_aws_form(p, last, "&RoleArn", ac->role_arn);
    p = ngx_http_livekit_aws_form(p, last, "&RoleSessionName", session);
    p = ngx_http_livekit_aws_form(p, last, "&WebIdentityToken", token);
    *p = '\0';

    if (ac->sts_endpoint) {
        (void) ngx_http_livekit_aws_copy(url, sizeof(url), ac->sts_endpoint,
                                         ngx_strlen(ac->sts_endpoint));

    } else if (ac->region) {
        ngx_snprintf((u_char *) url, sizeof(url) - 1,
                     "https://sts.%s.amazonaws.com/%Z", ac->region);

    } else {
        ngx_sprintf((u_char *) url, "https://sts.amazonaws.com/%Z");
    }

    h->method = "POST";
    h->url = url;
    h->body = body;
    h->body_len = p - body;
    h->timeout = ac->timeout;
    h->headers = curl_slist_append(NULL, "Content-Type: "
                               "application/x-www-form-urlencoded; "
                               "charset=utf-8");
    h->headers = curl_slist_append(h->headers, "Accept: text/xml");

    if (h->headers == NULL) {
        ngx_http_livekit_aws_fail(f, "web identity: out of memory");
        goto done;
    }

    if (ngx_http_livekit_aws_http(h) != NGX_OK) {
        ngx_http_livekit_aws_fail(f, "web identity: STS "
                                  "AssumeRoleWithWebIdentity at %s for "
                                  "role %s failed: %s",
                                  url, ac->role_arn, h->curl_error);
        rc = NGX_AGAIN;
        goto done;
    }

    if (h->status != 200) {
        ngx_http_livekit_aws_error_code(h, code, sizeof(code), msg,
                                        sizeof(msg));
        ngx_http_livekit_aws_fail(f, "web identity: STS "
                                  "AssumeRoleWithWebIdentity for role %s "
                                  "answered %s (HTTP %l): %s",
                                  ac->role_arn, code, h->status, msg);
        rc = ngx_http_livekit_aws_retryable(h->status, code) ? NGX_AGAIN
                                                             : NGX_ERROR;
        goto done;
    }

    if (ngx_http_livekit_aws_xml_find(h->resp, h->resp_len, "AccessKeyId",
                                      &id, &id_len) != NGX_OK
        || ngx_http_livekit_aws_xml_find(h->resp, h->resp_len,
                                         "SecretAccessKey", &secret,
                                         &secret_len) != NGX_OK
        || ngx_http_livekit_aws_xml_find(h->resp, h->resp_len,
                                         "SessionToken", &token_text,
                                         &token_len) != NGX_OK
        || ngx_http_livekit_aws_creds_set(c, (char *) id, id_len,
                                          (char *) secret, secret_len,
                                          (char *) token_text, token_len)
           != NGX_OK)
    {
        ngx_http_livekit_aws_fail(f, "web identity: STS "
                                  "AssumeRoleWithWebIdentity for role %s "
                                  "answered without usable credentials",
                                  ac->role_arn);
        goto done;
    }

    c->expires = 0;

    if (ngx_http_livekit_aws_xml(h->resp, h->resp_len, "Expiration",
                                 expires, sizeof(expires)) == NGX_OK)
    {
        c->expires = ngx_http_livekit_aws_parse_time(expires);
    }

    if (c->expires == 0) {
        c->expires = time(NULL) + 900;
    }

    ngx_http_livekit_aws_source(c, "web identity (role %s)", ac->role_arn);
    rc = NGX_OK;

done:

    if (h) {
        curl_slist_free_all(h->headers);
        ngx_http_livekit_aws_http_wipe(h);
        free(h);
    }

    if (body) {
        OPENSSL_cleanse(body, 3 * size + 1024);
        free(body);
    }

    if (token) {
        OPENSSL_cleanse(token, size);
        free(token);
    }

    return rc;
}


/* ECS / EKS Pod Identity: GET the URI, with the authorization token */

static ngx_int_t
ngx_http_livekit_aws_container(ngx_http_livekit_ssm_fetch_t *f)
{
    char                         *auth, *p, u[1024], why[160];
    size_t                        n;
    ngx_int_t                     rc;
    ngx_http_livekit_aws_http_t  *h;
    ngx_http_livekit_aws_conf_t  *ac;

    ac = f->conf;
    rc = NGX_ERROR;
    auth = NULL;

    if (ngx_http_livekit_aws_container_url(ac->container_uri, u, sizeof(u),
                                           why, sizeof(why))
        != NGX_OK)
    {
        ngx_http_livekit_aws_fail(f, "container credentials: \"%s\" %s",
                                  ac->container_uri, why);
        return NGX_ERROR;
    }

    h = calloc(1, sizeof(ngx_http_livekit_aws_http_t));
    auth = malloc(NGX_HTTP_LIVEKIT_AWS_FILE_MAX + sizeof("Authorization: "));

    if (h == NULL || auth == NULL) {
        ngx_http_livekit_aws_fail(f, "container credentials: out of memory");
        goto done;
    }

    p = auth + sizeof("Authorization: ") - 1;
    ngx_memcpy(auth, "Authorization: ", sizeof("Authorization: ") - 1);
    *p = '\0';

    if (ac->container_token_file) {
        if (ngx_http_livekit_aws_read_file(ac->container_token_file, p,
                                           NGX_HTTP_LIVEKIT_AWS_FILE_MAX)
            != NGX_OK)
        {
            ngx_http_livekit_aws_fail(f, "container credentials: cannot read "
                                      "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
                                      " \"%s\" (%s)",
                                      ac->container_token_file,
                                      strerror(ngx_errno));
            goto done;
        }

    } else if (ac->container_token) {
        (void) ngx_http_livekit_aws_copy(p, NGX_HTTP_LIVEKIT_AWS_FILE_MAX,
                                         ac->container_token,
                                         ngx_strlen(ac->container_token));
    }

    n = ngx_strlen(p);
    while (n && (p[n - 1] == '\n' || p[n - 1] == '\r' || p[n - 1] == ' ')) {
        p[--n] = '\0';
    }

    if (!ngx_http_livekit_aws_header_safe(p, n)) {
        ngx_http_livekit_aws_fail(f, "container credentials: the "
                                  "authorization token holds a control "
                                  "character");
        goto done;
    }

    h->method = "GET";
    h->url = u;
    h->timeout = ngx_min(ac->timeout, 5000);
    h->headers = curl_slist_append(NULL, "Accept: application/json");
    if (n) {
        h->headers = curl_slist_append(h->headers, auth);
    }

    if (h->headers == NULL) {
        ngx_http_livekit_aws_fail(f, "container credentials: out of memory");
        goto done;
    }

    if (ngx_http_livekit_aws_http(h) != NGX_OK) {
        ngx_http_livekit_aws_fail(f, "container credentials: GET %s "
                                  "failed: %s", u, h->curl_error);
        rc = NGX_AGAIN;
        goto done;
    }

    if (h->status != 200) {
        ngx_http_livekit_aws_fail(f, "container credentials: GET %s "
                                  "answered HTTP %l", u, h->status);
        rc = (h->status >= 500 || h->status == 429) ? NGX_AGAIN : NGX_ERROR;
        goto done;
    }

    rc = ngx_http_livekit_aws_creds_json(f, h, "container credentials");

    if (rc == NGX_OK) {
        ngx_http_livekit_aws_source(&f->creds, "container credentials (%s)",
                     ac->container_token_file
                     ? "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
                     : ac->container_token
                       ? "AWS_CONTAINER_AUTHORIZATION_TOKEN"
                       : "no authorization token");
    }

done:

    if (h) {
        curl_slist_free_all(h->headers);
        ngx_http_livekit_aws_http_wipe(h);
        free(h);
    }

    if (auth) {
        OPENSSL_cleanse(auth, NGX_HTTP_LIVEKIT_AWS_FILE_MAX
                              + sizeof("Authorization: "));
        free(auth);
    }

    return rc;
}


/* IMDSv2 only: a session token first, refused answers are not retried v1 */

static ngx_int_t
ngx_http_livekit_aws_imds_token(ngx_http_livekit_ssm_fetch_t *f, char *token,
    size_t size)
{
    char                          url[512];
    ngx_int_t                     rc;
    ngx_http_livekit_aws_http_t  *h;

    h = calloc(1, sizeof(ngx_http_livekit_aws_http_t));
    if (h == NULL) {
        ngx_http_livekit_aws_fail(f, "instance metadata: out of memory");
        return NGX_ERROR;
    }

    ngx_snprintf((u_char *) url, sizeof(url) - 1, "%s/latest/api/token%Z",
                 f->conf->imds_endpoint);

    h->method = "PUT";
    h->url = url;
    h->body = "";
    h->body_len = 0;
    h->timeout = NGX_HTTP_LIVEKIT_AWS_IMDS_TIMEOUT;
    h->headers = curl_slist_append(NULL,
                              "X-aws-ec2-metadata-token-ttl-seconds: 21600");

    rc = NGX_ERROR;

    if (h->headers == NULL) {
        ngx_http_livekit_aws_fail(f, "instance metadata: out of memory");

    } else if (ngx_http_livekit_aws_http(h) != NGX_OK) {
        ngx_http_livekit_aws_fail(f, "instance metadata: PUT %s failed: %s",
                                  url, h->curl_error);
        rc = NGX_AGAIN;

    } else if (h->status != 200) {
        ngx_http_livekit_aws_fail(f, "instance metadata: PUT %s answered "
                                  "HTTP %l (IMDSv2 session token refused)",
                                  url, h->status);
        rc = (h->status >= 500) ? NGX_AGAIN : NGX_ERROR;

    } else if (h->resp_len == 0
               || !ngx_http_livekit_aws_header_safe((char *) h->resp,
                                                    h->resp_len)
               || ngx_http_livekit_aws_copy(token, size, (char *) h->resp,
                                            h->resp_len) != NGX_OK)
    {
        ngx_http_livekit_aws_fail(f, "instance metadata: PUT %s answered "
                                  "an unusable token", url);

    } else {
        rc = NGX_OK;
    }

    curl_slist_free_all(h->headers);
    ngx_http_livekit_aws_http_wipe(h);
    free(h);

    return rc;
}


static ngx_int_t
ngx_http_livekit_aws_imds_open(ngx_http_livekit_ssm_fetch_t *f,
    ngx_http_livekit_aws_imds_t *m)
{
    ngx_int_t  rc;

    rc = ngx_http_livekit_aws_imds_token(f, m->token, sizeof(m->token));
    if (rc != NGX_OK) {
        return rc;
    }

    m->h = calloc(1, sizeof(ngx_http_livekit_aws_http_t));
    if (m->h == NULL) {
        OPENSSL_cleanse(m->token, sizeof(m->token));
        ngx_http_livekit_aws_fail(f, "instance metadata: out of memory");
        return NGX_ERROR;
    }

    ngx_snprintf((u_char *) m->hdr, sizeof(m->hdr) - 1,
                 "X-aws-ec2-metadata-token: %s%Z", m->token);

    m->h->method = "GET";
    m->h->url = m->url;
    m->h->timeout = NGX_HTTP_LIVEKIT_AWS_IMDS_TIMEOUT;
    m->h->headers = curl_slist_append(NULL, m->hdr);

    if (m->h->headers == NULL) {
        ngx_http_livekit_aws_imds_close(m);
        ngx_http_livekit_aws_fail(f, "instance metadata: out of memory");
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_livekit_aws_imds_close(ngx_http_livekit_aws_imds_t *m)
{
    OPENSSL_cleanse(m->token, sizeof(m->token));
    OPENSSL_cleanse(m->hdr, sizeof(m->hdr));
    curl_slist_free_all(m->h->headers);
    ngx_http_livekit_aws_http_wipe(m->h);
    free(m->h);
}


static ngx_int_t
ngx_http_livekit_aws_imds(ngx_http_livekit_ssm_fetch_t *f)
{
    char                          role[NGX_HTTP_LIVEKIT_AWS_ROLE_MAX + 1];
    char                         *url;
    ngx_int_t                     rc;
    ngx_http_livekit_aws_http_t  *h;
    ngx_http_livekit_aws_imds_t   m;

    rc = ngx_http_livekit_aws_imds_open(f, &m);
    if (rc != NGX_OK) {
        return rc;
    }

    h = m.h;
    url = m.url;

    ngx_snprintf((u_char *) url, sizeof(m.url) - 1,
                 "%s/latest/meta-data/iam/security-credentials/%Z",
                 f->conf->imds_endpoint);

    rc = NGX_ERROR;

    if (ngx_http_livekit_aws_http(h) != NGX_OK) {
        ngx_http_livekit_aws_fail(f, "instance metadata: GET %s failed: %s",
                                  url, h->curl_error);
        rc = NGX_AGAIN;
        goto done;
    }

    if (h->status != 200 || h->resp_len == 0) {
        ngx_http_livekit_aws_fail(f, "instance metadata: GET %s answered "
                                  "HTTP %l: no instance profile role?",
                                  url, h->status);
        rc = (h->status >= 500) ? NGX_AGAIN : NGX_ERROR;
        goto done;
    }

    if (ngx_http_livekit_aws_imds_role(h->resp, h->resp_len, role,
                                       sizeof(role))
        != NGX_OK)
    {
        ngx_http_livekit_aws_fail(f, "instance metadata: unusable role name");
        goto done;
    }

    ngx_snprintf((u_char *) url, sizeof(m.url) - 1,
                 "%s/latest/meta-data/iam/security-credentials/%s%Z",
                 f->conf->imds_endpoint, role);

    ngx_http_livekit_aws_http_wipe(h);

    if (ngx_http_livekit_aws_http(h) != NGX_OK) {
        ngx_http_livekit_aws_fail(f, "instance metadata: GET %s failed: %s",
                                  url, h->curl_error);
        rc = NGX_AGAIN;
        goto done;
    }

    if (h->status != 200) {
        ngx_http_livekit_aws_fail(f, "instance metadata: GET %s answered "
                                  "HTTP %l", url, h->status);
        rc = (h->status >= 500) ? NGX_AGAIN : NGX_ERROR;
        goto done;
    }

    rc = ngx_http_livekit_aws_creds_json(f, h, "instance metadata");

    if (rc == NGX_OK) {
        ngx_http_livekit_aws_source(&f->creds,
                                    "instance metadata (IMDSv2, role %s)",
                                    role);
    }

done:

    ngx_http_livekit_aws_imds_close(&m);

    return rc;
}


static ngx_int_t
ngx_http_livekit_aws_imds_region(ngx_http_livekit_ssm_fetch_t *f,
    char *region, size_t size)
{
    ngx_int_t                     rc;
    ngx_http_livekit_aws_http_t  *h;
    ngx_http_livekit_aws_imds_t   m;

    rc = ngx_http_livekit_aws_imds_open(f, &m);
    if (rc != NGX_OK) {
        ngx_http_livekit_aws_fail(f, "no AWS region: not configured, and "
                                  "instance metadata gave no session token");
        return rc;
    }

    h = m.h;

    ngx_snprintf((u_char *) m.url, sizeof(m.url) - 1,
                 "%s/latest/meta-data/placement/region%Z",
                 f->conf->imds_endpoint);

    rc = NGX_ERROR;

    if (ngx_http_livekit_aws_http(h) != NGX_OK) {
        ngx_http_livekit_aws_fail(f, "no AWS region: GET %s failed: %s",
                                  m.url, h->curl_error);
        rc = NGX_AGAIN;

    } else if (h->status != 200 || h->resp_len == 0) {
        ngx_http_livekit_aws_fail(f, "no AWS region: GET %s answered "
                                  "HTTP %l", m.url, h->status);

    } else if (ngx_http_livekit_aws_copy(region, size, (char *) h->resp,
                                         strcspn((char *) h->resp, "\r\n"))
               != NGX_OK
               || !ngx_http_livekit_aws_region_valid((u_char *) region,
                                                     ngx_strlen(region)))
    {
        ngx_http_livekit_aws_fail(f, "no AWS region: GET %s answered "
                                  "\"%*s\", not a region", m.url,
                                  ngx_min(h->resp_len, 64), h->resp);

    } else {
        rc = NGX_OK;
    }

    ngx_http_livekit_aws_imds_close(&m);

    return rc;
}


/* {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"} */

static ngx_int_t
ngx_http_livekit_aws_creds_json(ngx_http_livekit_ssm_fetch_t *f,
    ngx_http_livekit_aws_http_t *h, const char *source)
{
    json_t                        *root;
    const char                    *id, *secret, *token, *expires;
    ngx_int_t                      rc;
    ngx_http_livekit_aws_creds_t  *c;

    c = &f->creds;

    root = json_loadb((char *) h->resp, h->resp_len, 0, NULL);
    if (root == NULL || !json_is_object(root)) {
        ngx_http_livekit_aws_fail(f, "%s: the answer is not JSON", source);
        json_decref(root);
        return NGX_ERROR;
    }

    id = json_string_value(json_object_get(root, "AccessKeyId"));
    secret = json_string_value(json_object_get(root, "SecretAccessKey"));
    token = json_string_value(json_object_get(root, "Token"));
    expires = json_string_value(json_object_get(root, "Expiration"));

    rc = NGX_ERROR;

    if (id == NULL || secret == NULL) {
        ngx_http_livekit_aws_fail(f, "%s: the answer has no AccessKeyId and "
                                  "SecretAccessKey", source);

    } else if (ngx_http_livekit_aws_creds_set(c, id, ngx_strlen(id), secret,
                                              ngx_strlen(secret), token,
                                              token ? ngx_strlen(token) : 0)
               != NGX_OK)
    {
        ngx_http_livekit_aws_fail(f, "%s: the credentials are too long or "
                                  "hold control characters", source);

    } else {
        c->expires = expires ? ngx_http_livekit_aws_parse_time(expires) : 0;
        if (c->expires == 0) {
            c->expires = time(NULL) + 900;
        }

        rc = NGX_OK;
    }

    if (rc != NGX_OK) {
        OPENSSL_cleanse(c, sizeof(ngx_http_livekit_aws_creds_t));
    }

    json_decref(root);

    return rc;
}


/*
 * The one copy of a credential triplet, from whichever source: each part
 * bounded, none empty but the token, none with a control character (the
 * key id and the token become header values, CR or LF would add headers).
 * On failure the credentials are wiped.
 */

static ngx_int_t
ngx_http_livekit_aws_creds_set(ngx_http_livekit_aws_creds_t *c,
    const char *id, size_t id_len, const char *secret, size_t secret_len,
    const char *token, size_t token_len)
{
    OPENSSL_cleanse(c, sizeof(ngx_http_livekit_aws_creds_t));

    if (id_len == 0 || secret_len == 0
        || !ngx_http_livekit_aws_header_safe(id, id_len)
        || !ngx_http_livekit_aws_header_safe(secret, secret_len)
        || (token_len && !ngx_http_livekit_aws_header_safe(token, token_len))
        || ngx_http_livekit_aws_copy(c->key_id, sizeof(c->key_id), id, id_len)
           != NGX_OK
        || ngx_http_livekit_aws_copy(c->secret, sizeof(c->secret), secret,
                                     secret_len) != NGX_OK
        || (token_len
            && ngx_http_livekit_aws_copy(c->token, sizeof(c->token), token,
                                         token_len) != NGX_OK))
    {
        OPENSSL_cleanse(c, sizeof(ngx_http_livekit_aws_creds_t));
        return NGX_ERROR;
    }

    c->valid = 1;

    return NGX_OK;
}


/* no byte below 0x20 (CR, LF, NUL among them) and no DEL */

static ngx_uint_t
ngx_http_livekit_aws_header_safe(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if ((u_char) s[i] < 0x20 || s[i] == 0x7f) {
            return 0;
        }
    }

    return 1;
}


/*
 * The container credentials URL, as the SDKs allow it: https to any host;
 * plain http only to the loopback (localhost, 127.0.0.0/8, ::1) or the
 * ECS / EKS agent (169.254.170.2, 169.254.170.23, fd00:ec2::23).  The host
 * checked is the one libcurl connects to: the URL is parsed by libcurl,
 * and "url" receives libcurl's own rendering of it, which is what is
 * fetched.  A user name or password is refused: "http://localhost@evil/"
 * is a trick, never a configuration.  NGX_ERROR with "why" set otherwise.
 */

static ngx_int_t
ngx_http_livekit_aws_container_url(const char *uri, char *url, size_t size,
    char *why, size_t why_size)
{
    char       *scheme, *host, *user, *password, *full;
    CURLU      *u;
    ngx_int_t   rc;

    u = curl_url();
    if (u == NULL) {
        ngx_cpystrn((u_char *) why, (u_char *) "cannot be parsed: out of "
                    "memory", why_size);
        return NGX_ERROR;
    }

    scheme = NULL;
    host = NULL;
    user = NULL;
    password = NULL;
    full = NULL;
    rc = NGX_ERROR;

    if (curl_url_set(u, CURLUPART_URL, uri, 0) != CURLUE_OK
        || curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK
        || curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK
        || (ngx_strcmp(scheme, "http") != 0
            && ngx_strcmp(scheme, "https") != 0))
    {
        ngx_cpystrn((u_char *) why, (u_char *) "is not an http(s) URL",
                    why_size);
        goto done;
    }

    (void) curl_url_get(u, CURLUPART_USER, &user, 0);
    (void) curl_url_get(u, CURLUPART_PASSWORD, &password, 0);

    if (user || password) {
        ngx_cpystrn((u_char *) why, (u_char *) "has a user name or password",
                    why_size);
        goto done;
    }

    if (ngx_strcmp(scheme, "http") == 0
        && !ngx_http_livekit_aws_local_host(host))
    {
        ngx_cpystrn((u_char *) why, (u_char *) "is neither https nor a "
                    "loopback or container agent address", why_size);
        goto done;
    }

    if (curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK
        || ngx_http_livekit_aws_copy(url, size, full, ngx_strlen(full))
           != NGX_OK)
    {
        ngx_cpystrn((u_char *) why, (u_char *) "is too long", why_size);
        goto done;
    }

    rc = NGX_OK;

done:

    curl_free(scheme);
    curl_free(host);
    curl_free(user);
    curl_free(password);
    curl_free(full);
    curl_url_cleanup(u);

    return rc;
}


/* a host as libcurl gives it: an IPv6 address is in brackets */

static ngx_uint_t
ngx_http_livekit_aws_local_host(const char *host)
{
    char             a6[INET6_ADDRSTRLEN + 2];
    size_t           n;
    struct in_addr   in;
    struct in6_addr  in6, agent;

    if (ngx_strcasecmp((u_char *) host, (u_char *) "localhost") == 0) {
        return 1;
    }

    if (inet_pton(AF_INET, host, &in) == 1) {
        return (ntohl(in.s_addr) >> 24) == 127
               || ntohl(in.s_addr) == 0xa9feaa02        /* 169.254.170.2 */
               || ntohl(in.s_addr) == 0xa9feaa17;       /* 169.254.170.23 */
    }

    n = ngx_strlen(host);

    if (n < 3 || n > sizeof(a6) || host[0] != '[' || host[n - 1] != ']') {
        return 0;
    }

    ngx_memcpy(a6, host + 1, n - 2);
    a6[n - 2] = '\0';

    if (inet_pton(AF_INET6, a6, &in6) != 1
        || inet_pton(AF_INET6, "fd00:ec2::23", &agent) != 1)
    {
        return 0;
    }

    return IN6_IS_ADDR_LOOPBACK(&in6)
           || ngx_memcmp(&in6, &agent, sizeof(struct in6_addr)) == 0;
}


/*
 * The role name in an IMDS security-credentials listing: its first line,
 * an IAM role name (1 to 64 of A-Z a-z 0-9 + = , . @ _ -), since it
 * becomes a path segment of the next URL and part of log lines.
 */

static ngx_int_t
ngx_http_livekit_aws_imds_role(const u_char *p, size_t len, char *role,
    size_t size)
{
    size_t  n;

    for (n = 0; n < len && p[n] != '\n' && p[n] != '\r'; n++) {
        if (!((p[n] >= 'A' && p[n] <= 'Z') || (p[n] >= 'a' && p[n] <= 'z')
              || (p[n] >= '0' && p[n] <= '9') || p[n] == '+' || p[n] == '='
              || p[n] == ',' || p[n] == '.' || p[n] == '@' || p[n] == '_'
              || p[n] == '-'))
        {
            return NGX_ERROR;
        }
    }

    if (n == 0 || n > NGX_HTTP_LIVEKIT_AWS_ROLE_MAX) {
        return NGX_ERROR;
    }

    return ngx_http_livekit_aws_copy(role, size, (char *) p, n);
}


/* one GetParameters request: NGX_OK, NGX_AGAIN (retry) or NGX_ERROR */

static ngx_int_t
ngx_http_livekit_aws_ssm_call(ngx_http_livekit_ssm_fetch_t *f,
    const char *region, const char *url)
{
    char                          *body, sigv4[96], code[64], msg[256];
    char                          *tokhdr;
    json_t                        *req, *names;
    ngx_int_t                      rc;
    ngx_uint_t                     i;
    ngx_http_livekit_aws_http_t   *h;
    ngx_http_livekit_aws_conf_t   *ac;
    ngx_http_livekit_aws_creds_t  *c;

    ac = f->conf;
    c = &f->creds;
    rc = NGX_ERROR;
    body = NULL;
    tokhdr = NULL;

    names = json_array();
    req = json_pack("{s:o,s:b}", "Names", names, "WithDecryption", 1);

    if (req == NULL) {
        ngx_http_livekit_aws_fail(f, "out of memory");
        return NGX_ERROR;
    }

    for (i = 0; i < ac->nnames; i++) {
        if (json_array_append_new(names, json_string(ac->names[i])) != 0) {
            json_decref(req);
            ngx_http_livekit_aws_fail(f, "out of memory");
            return NGX_ERROR;
        }
    }

    body = json_dumps(req, JSON_COMPACT);
    json_decref(req);

    h = calloc(1, sizeof(ngx_http_livekit_aws_http_t));

    if (body == NULL || h == NULL) {
        ngx_http_livekit_aws_fail(f, "out of memory");
        goto done;
    }

    ngx_snprintf((u_char *) sigv4, sizeof(sigv4) - 1, "aws:amz:%s:ssm%Z",
                 region);

    h->method = "POST";
    h->url = url;
    h->body = body;
    h->body_len = ngx_strlen(body);
    h->sigv4 = sigv4;
    h->creds = c;
    h->timeout = ac->timeout;
    h->headers = curl_slist_append(NULL,
                                 "Content-Type: application/x-amz-json-1.1");
    h->headers = curl_slist_append(h->headers,
                                   "X-Amz-Target: AmazonSSM.GetParameters");

    if (c->token[0]) {
        tokhdr = malloc(sizeof("X-Amz-Security-Token: ")
                        + NGX_HTTP_LIVEKIT_AWS_TOKEN_MAX);
        if (tokhdr == NULL) {
            ngx_http_livekit_aws_fail(f, "out of memory");
            goto done;
        }

        *ngx_sprintf((u_char *) tokhdr, "X-Amz-Security-Token: %s",
                     c->token) = '\0';
        h->headers = curl_slist_append(h->headers, tokhdr);
    }

    if (h->headers == NULL) {
        ngx_http_livekit_aws_fail(f, "out of memory");
        goto done;
    }

    f->calls++;

    if (ngx_http_livekit_aws_http(h) != NGX_OK) {
        ngx_http_livekit_aws_fail(f, "GetParameters at %s failed: %s "
                                  "(credentials from %s)",
                                  url, h->curl_error, c->source);
        rc = NGX_AGAIN;
        goto done;
    }

    if (h->status == 200) {
        rc = ngx_http_livekit_aws_ssm_parse(f, h);
        goto done;
    }

    ngx_http_livekit_aws_error_code(h, code, sizeof(code), msg, sizeof(msg));

    ngx_http_livekit_aws_fail(f, "GetParameters at %s answered %s "
                              "(HTTP %l) with credentials from %s: %s",
                              url, code, h->status, c->source, msg);

    if (ngx_strstr(code, "ExpiredToken") != NULL && c->expires) {
        /* temporary keys ran out early: get new ones, then try again */
        c->valid = 0;
        rc = NGX_AGAIN;
        goto done;
    }

    rc = ngx_http_livekit_aws_retryable(h->status, code) ? NGX_AGAIN
                                                         : NGX_ERROR;

done:

    if (h) {
        curl_slist_free_all(h->headers);
        ngx_http_livekit_aws_http_wipe(h);
        free(h);
    }

    if (tokhdr) {
        OPENSSL_cleanse(tokhdr, sizeof("X-Amz-Security-Token: ")
                                + NGX_HTTP_LIVEKIT_AWS_TOKEN_MAX);
        free(tokhdr);
    }

    free(body);

    return rc;
}


static ngx_int_t
ngx_http_livekit_aws_ssm_parse(ngx_http_livekit_ssm_fetch_t *f,
    ngx_http_livekit_aws_http_t *h)
{
    u_char                         *dst;
    size_t                          size, *len, n;
    json_t                         *root, *params, *invalid, *p;
    ngx_int_t                       rc;
    ngx_uint_t                      i, k, got;
    const char                     *name, *value;
    ngx_http_livekit_aws_conf_t    *ac;
    ngx_http_livekit_ssm_values_t  *v;

    static const char  *what[] = { "API key", "API secret", "URL" };

    ac = f->conf;
    v = &f->values;
    rc = NGX_ERROR;
    got = 0;

    root = json_loadb((char *) h->resp, h->resp_len, 0, NULL);

    if (root == NULL || !json_is_object(root)) {
        ngx_http_livekit_aws_fail(f, "GetParameters answered HTTP 200 with "
                                  "a body that is not a JSON object "
                                  "(credentials from %s)", f->creds.source);
        goto done;
    }

    invalid = json_object_get(root, "InvalidParameters");

    if (json_is_array(invalid) && json_array_size(invalid)) {
        name = json_string_value(json_array_get(invalid, 0));
        ngx_http_livekit_aws_fail(f, "parameter \"%s\" not found "
                                  "(InvalidParameters; %uz missing) with "
                                  "credentials from %s",
                                  name ? name : "?",
                                  json_array_size(invalid), f->creds.source);
        goto done;
    }

    params = json_object_get(root, "Parameters");

    if (!json_is_array(params)) {
        ngx_http_livekit_aws_fail(f, "GetParameters answered HTTP 200 "
                                  "without \"Parameters\"");
        goto done;
    }

    json_array_foreach(params, i, p) {
        name = json_string_value(json_object_get(p, "Name"));
        value = json_string_value(json_object_get(p, "Value"));

        if (name == NULL) {
            continue;
        }

        for (k = 0; k < ac->nnames; k++) {
            if (ngx_strcmp(name, ac->names[k]) == 0) {
                break;
            }
        }

        if (k == ac->nnames) {
            continue;
        }

        switch (k) {
        case NGX_HTTP_LIVEKIT_SSM_NAME_KEY:
            dst = v->key;
            size = sizeof(v->key);
            len = &v->key_len;
            break;

        case NGX_HTTP_LIVEKIT_SSM_NAME_SECRET:
            dst = v->secret;
            size = sizeof(v->secret);
            len = &v->secret_len;
            break;

        default: /* NGX_HTTP_LIVEKIT_SSM_NAME_URL */
            dst = v->url;
            size = sizeof(v->url);
            len = &v->url_len;
            break;
        }

        n = value ? ngx_strlen(value) : 0;

        if (n == 0) {
            ngx_http_livekit_aws_fail(f, "parameter \"%s\" (the %s) is "
                                      "empty", name, what[k]);
            goto done;
        }

        if (n > size) {
            ngx_http_livekit_aws_fail(f, "parameter \"%s\" (the %s) is "
                                      "longer than %uz bytes",
                                      name, what[k], size);
            goto done;
        }

        ngx_memcpy(dst, value, n);
        *len = n;
        got |= 1 << k;
    }

    for (k = 0; k < ac->nnames; k++) {
        if (!(got & (1 << k))) {
            ngx_http_livekit_aws_fail(f, "parameter \"%s\" (the %s) is not "
                                      "in the answer", ac->names[k], what[k]);
            goto done;
        }
    }

    /* the key name is logged, shown and signed as "iss": printable only */

    if (!ngx_http_livekit_text_printable(v->key, v->key_len)
        || ngx_strlchr(v->key, v->key + v->key_len, ' ') != NULL)
    {
        ngx_http_livekit_aws_fail(f, "parameter \"%s\" (the API key) "
                                  "has blanks or control characters",
                                  ac->names[0]);
        goto done;
    }

    if (!ngx_http_livekit_text_printable(v->url, v->url_len)
        || ngx_strlchr(v->url, v->url + v->url_len, ' ') != NULL)
    {
        ngx_http_livekit_aws_fail(f, "parameter \"%s\" (the URL) has "
                                  "blanks or control characters",
                                  ac->names[NGX_HTTP_LIVEKIT_SSM_NAME_URL]);
        goto done;
    }

    if (ac->nnames > NGX_HTTP_LIVEKIT_SSM_NAME_URL
        && !(v->url_len > 5 && ngx_strncasecmp(v->url, (u_char *) "ws://", 5)
                               == 0)
        && !(v->url_len > 6 && ngx_strncasecmp(v->url, (u_char *) "wss://", 6)
                               == 0)
        && !(v->url_len > 7
             && ngx_strncasecmp(v->url, (u_char *) "http://", 7) == 0)
        && !(v->url_len > 8
             && ngx_strncasecmp(v->url, (u_char *) "https://", 8) == 0))
    {
        ngx_http_livekit_aws_fail(f, "parameter \"%s\" (the URL) is not a "
                                  "ws://, wss://, http:// or https:// URL",
                                  ac->names[NGX_HTTP_LIVEKIT_SSM_NAME_URL]);
        goto done;
    }

    rc = NGX_OK;

done:

    if (rc != NGX_OK) {
        OPENSSL_cleanse(v, sizeof(ngx_http_livekit_ssm_values_t));
    }

    json_decref(root);

    return rc;
}


/* AWS standard retry mode: throttling, transient errors and 5xx */

static ngx_int_t
ngx_http_livekit_aws_retryable(long status, const char *code)
{
    const char  **c;

    static const char  *codes[] = {
        "Throttling", "ThrottlingException", "ThrottledException",
        "RequestThrottledException", "TooManyRequestsException",
        "ProvisionedThroughputExceededException", "TransactionInProgress",
        "RequestLimitExceeded", "BandwidthLimitExceeded",
        "LimitExceededException", "RequestThrottled", "SlowDown",
        "PriorRequestNotComplete", "EC2ThrottledException",
        "RequestTimeout", "RequestTimeoutException", "InternalError",
        "InternalFailure", "InternalServerError", "ServiceUnavailable",
        NULL
    };

    if (status == 500 || status == 502 || status == 503 || status == 504
        || status == 429)
    {
        return 1;
    }

    for (c = codes; *c; c++) {
        if (ngx_strcmp(code, *c) == 0) {
            return 1;
        }
    }

    return 0;
}


/* a blocking request with a fresh easy handle: nothing shared between calls */

static ngx_int_t
ngx_http_livekit_aws_http(ngx_http_livekit_aws_http_t *h)
{
    CURL      *curl;
    CURLcode   cc;

    h->status = 0;
    h->resp_len = 0;
    h->overflow = 0;
    h->curl_error[0] = '\0';

    curl = curl_easy_init();
    if (curl == NULL) {
        ngx_sprintf((u_char *) h->curl_error, "curl_easy_init() failed%Z");
        return NGX_ERROR;
    }

    cc = CURLE_OK;

#define ngx_http_livekit_aws_setopt(opt, val)                                 \
    if (cc == CURLE_OK) {                                                     \
        cc = curl_easy_setopt(curl, opt, val);                                \
    }

    ngx_http_livekit_aws_setopt(CURLOPT_URL, h->url);
    ngx_http_livekit_aws_setopt(CURLOPT_NOSIGNAL, 1L);
    ngx_http_livekit_aws_setopt(CURLOPT_TIMEOUT_MS, h->timeout);
    ngx_http_livekit_aws_setopt(CURLOPT_CONNECTTIMEOUT_MS, h->timeout);
    ngx_http_livekit_aws_setopt(CURLOPT_FOLLOWLOCATION, 0L);
    ngx_http_livekit_aws_setopt(CURLOPT_PROTOCOLS_STR, "http,https");
    ngx_http_livekit_aws_setopt(CURLOPT_WRITEFUNCTION,
                                ngx_http_livekit_aws_write);
    ngx_http_livekit_aws_setopt(CURLOPT_WRITEDATA, h);
    ngx_http_livekit_aws_setopt(CURLOPT_ERRORBUFFER, h->curl_error);
    ngx_http_livekit_aws_setopt(CURLOPT_HTTPHEADER, h->headers);
    ngx_http_livekit_aws_setopt(CURLOPT_USERAGENT,
                                "nginx-livekit-token/" NGINX_VERSION);
    ngx_http_livekit_aws_setopt(CURLOPT_NOPROGRESS, 0L);
    ngx_http_livekit_aws_setopt(CURLOPT_XFERINFOFUNCTION,
                                ngx_http_livekit_aws_progress);

    if (h->body) {
        ngx_http_livekit_aws_setopt(CURLOPT_POSTFIELDSIZE,
                                    (long) h->body_len);
        ngx_http_livekit_aws_setopt(CURLOPT_POSTFIELDS, h->body);
    }

    if (ngx_strcmp(h->method, "PUT") == 0) {
        ngx_http_livekit_aws_setopt(CURLOPT_CUSTOMREQUEST, "PUT");
    }

    if (h->sigv4) {
        ngx_http_livekit_aws_setopt(CURLOPT_AWS_SIGV4, h->sigv4);
        ngx_http_livekit_aws_setopt(CURLOPT_USERNAME, h->creds->key_id);
        ngx_http_livekit_aws_setopt(CURLOPT_PASSWORD, h->creds->secret);
    }

#undef ngx_http_livekit_aws_setopt

    if (cc == CURLE_OK) {
        cc = curl_easy_perform(curl);
    }

    if (cc == CURLE_OK) {
        (void) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &h->status);

    } else if (h->curl_error[0] == '\0') {
        ngx_cpystrn((u_char *) h->curl_error,
                    (u_char *) curl_easy_strerror(cc), CURL_ERROR_SIZE);
    }

    curl_easy_cleanup(curl);

    if (h->overflow) {
        ngx_sprintf((u_char *) h->curl_error, "the answer is larger than "
                    "%d bytes%Z", NGX_HTTP_LIVEKIT_AWS_RESPONSE_MAX - 1);
        return NGX_ERROR;
    }

    if (cc != CURLE_OK) {
        return NGX_ERROR;
    }

    h->resp[h->resp_len] = '\0';

    return NGX_OK;
}


static size_t
ngx_http_livekit_aws_write(char *ptr, size_t size, size_t nmemb,
    void *userdata)
{
    ngx_http_livekit_aws_http_t *h = userdata;

    size_t  n;

    n = size * nmemb;

    if (n >= sizeof(h->resp) - h->resp_len) {
        h->overflow = 1;
        return 0;
    }

    ngx_memcpy(h->resp + h->resp_len, ptr, n);
    h->resp_len += n;

    return n;
}


/* a worker told to stop (reload, shutdown) does not wait for AWS */

static int
ngx_http_livekit_aws_progress(void *clientp, curl_off_t dltotal,
    curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    return ngx_http_livekit_aws_stopping();
}


static ngx_int_t
ngx_http_livekit_aws_stopping(void)
{
    return ngx_quit || ngx_terminate || ngx_exiting;
}


static void
ngx_http_livekit_aws_http_wipe(ngx_http_livekit_aws_http_t *h)
{
    OPENSSL_cleanse(h->resp, h->resp_len + 1 < sizeof(h->resp)
                             ? h->resp_len + 1 : sizeof(h->resp));
    h->resp_len = 0;
}


/*
 * The error code of an AWS answer: JSON "__type" (the part after "#"),
 * "code", the x-amzn-ErrorType header is not kept; XML <Code>; else
 * "HTTP <status>".  The message, cut short, printable ASCII only.
 */

static void
ngx_http_livekit_aws_error_code(ngx_http_livekit_aws_http_t *h, char *code,
    size_t code_size, char *msg, size_t msg_size)
{
    char        *p;
    json_t      *root;
    size_t       n;
    const char  *c, *m;

    ngx_snprintf((u_char *) code, code_size - 1, "HTTP %l%Z", h->status);
    msg[0] = '\0';

    root = json_loadb((char *) h->resp, h->resp_len, 0, NULL);

    if (json_is_object(root)) {
        c = json_string_value(json_object_get(root, "__type"));
        if (c == NULL) {
            c = json_string_value(json_object_get(root, "code"));
        }

        m = json_string_value(json_object_get(root, "message"));
        if (m == NULL) {
            m = json_string_value(json_object_get(root, "Message"));
        }

        if (c) {
            p = strrchr(c, '#');
            c = p ? p + 1 : c;
            n = strcspn(c, ":");
            (void) ngx_http_livekit_aws_copy(code, code_size, c,
                                             ngx_min(n, code_size - 1));
        }

        if (m) {
            (void) ngx_http_livekit_aws_copy(msg, msg_size, m,
                                             ngx_min(ngx_strlen(m),
                                                     msg_size - 1));
        }

    } else {
        (void) ngx_http_livekit_aws_xml(h->resp, h->resp_len, "Code", code,
                                        code_size);
        (void) ngx_http_livekit_aws_xml(h->resp, h->resp_len, "Message", msg,
                                        msg_size);
    }

    json_decref(root);

    for (p = msg; *p; p++) {
        if (*p < ' ' || *p > '~') {
            *p = '?';
        }
    }

    for (p = code; *p; p++) {
        if (*p < ' ' || *p > '~') {
            *p = '?';
        }
    }

    if (ngx_strlen(msg) > NGX_HTTP_LIVEKIT_AWS_MESSAGE_MAX) {
        msg[NGX_HTTP_LIVEKIT_AWS_MESSAGE_MAX] = '\0';
    }
}


/* the text of the first <tag>...</tag>; STS answers hold no entities here */

static ngx_int_t
ngx_http_livekit_aws_xml(u_char *p, size_t len, const char *tag, char *out,
    size_t size)
{
    u_char  *s;
    size_t   n;

    if (ngx_http_livekit_aws_xml_find(p, len, tag, &s, &n) != NGX_OK) {
        return NGX_DECLINED;
    }

    return ngx_http_livekit_aws_copy(out, size, (char *) s, n);
}


static ngx_int_t
ngx_http_livekit_aws_xml_find(u_char *p, size_t len, const char *tag,
    u_char **text, size_t *text_len)
{
    u_char  *s, *e, *last;
    u_char   open[64], close[64];
    size_t   olen, clen;

    olen = ngx_sprintf(open, "<%s>", tag) - open;
    clen = ngx_sprintf(close, "</%s>", tag) - close;
    last = p + len;

    s = ngx_strlcasestrn(p, last, open, olen - 1);
    if (s == NULL) {
        return NGX_DECLINED;
    }

    s += olen;

    e = ngx_strlcasestrn(s, last, close, clen - 1);
    if (e == NULL) {
        return NGX_DECLINED;
    }

    while (s < e && (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')) {
        s++;
    }

    while (e > s && (e[-1] == ' ' || e[-1] == '\n' || e[-1] == '\r'
                     || e[-1] == '\t'))
    {
        e--;
    }

    if (s == e) {
        return NGX_DECLINED;
    }

    *text = s;
    *text_len = e - s;

    return NGX_OK;
}


static ngx_int_t
ngx_http_livekit_aws_copy(char *out, size_t size, const char *s, size_t len)
{
    if (len >= size) {
        out[0] = '\0';
        return NGX_ERROR;
    }

    ngx_memcpy(out, s, len);
    out[len] = '\0';

    return NGX_OK;
}


/* the whole file as a C string; NGX_DECLINED if it does not fit */

static ngx_int_t
ngx_http_livekit_aws_read_file(const char *path, char *out, size_t size)
{
    int      fd;
    ssize_t  n;
    size_t   len;

    out[0] = '\0';

    fd = open(path, O_RDONLY);
    if (fd == -1) {
        return NGX_ERROR;
    }

    len = 0;

    for ( ;; ) {
        n = read(fd, out + len, size - 1 - len);

        if (n == -1) {
            if (ngx_errno == NGX_EINTR) {
                continue;
            }

            close(fd);
            return NGX_ERROR;
        }

        if (n == 0) {
            break;
        }

        len += n;

        if (len == size - 1) {
            close(fd);
            OPENSSL_cleanse(out, size);
            ngx_set_errno(EFBIG);
            return NGX_DECLINED;
        }
    }

    close(fd);
    out[len] = '\0';

    return NGX_OK;
}


/* appends name=value, the value form-encoded (RFC 3986 unreserved kept) */

static char *
ngx_http_livekit_aws_form(char *p, char *last, const char *name,
    const char *value)
{
    u_char       c;
    const char  *s;

    static const char  hex[] = "0123456789ABCDEF";

    for (s = name; *s && p + 1 < last; s++) {
        *p++ = *s;
    }

    if (p + 1 < last) {
        *p++ = '=';
    }

    for (s = value; *s && p + 3 < last; s++) {
        c = (u_char) *s;

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
            || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'
            || c == '~')
        {
            *p++ = c;
            continue;
        }

        *p++ = '%';
        *p++ = hex[c >> 4];
        *p++ = hex[c & 0xf];
    }

    return p;
}


/* ISO 8601 UTC, as AWS writes Expiration: 2026-11-25T12:00:00Z */

static time_t
ngx_http_livekit_aws_parse_time(const char *s)
{
    int        n;
    struct tm  tm;

    ngx_memzero(&tm, sizeof(struct tm));

    n = sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon,
               &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec);

    if (n != 6) {
        return 0;
    }

    tm.tm_year -= 1900;
    tm.tm_mon -= 1;

    return timegm(&tm);
}


/* full jitter: a random delay below min(2^attempt s, 20 s) */

static void
ngx_http_livekit_aws_sleep(ngx_uint_t attempt)
{
    uint32_t         r;
    ngx_msec_t       cap, ms;
    struct timespec  ts;

    cap = (attempt < 5) ? (1000 << attempt) : NGX_HTTP_LIVEKIT_AWS_BACKOFF_MAX;
    cap = ngx_min(cap, NGX_HTTP_LIVEKIT_AWS_BACKOFF_MAX);

    if (RAND_bytes((u_char *) &r, sizeof(r)) != 1) {
        r = (uint32_t) time(NULL);
    }

    ms = r % cap;

    while (ms && !ngx_http_livekit_aws_stopping()) {
        ts.tv_sec = 0;
        ts.tv_nsec = ngx_min(ms, 100) * 1000000;
        ms -= ngx_min(ms, 100);

        while (nanosleep(&ts, &ts) == -1 && ngx_errno == NGX_EINTR) {
            /* void */
        }
    }
}


/*
 * What the thread reports (f->error) and the credential source (shown in
 * log lines and the status page) hold outside text: both are escaped.
 */

static void
ngx_http_livekit_aws_fail(ngx_http_livekit_ssm_fetch_t *f, const char *fmt,
    ...)
{
    va_list  args;

    va_start(args, fmt);
    ngx_http_livekit_aws_vtext(f->error, sizeof(f->error), fmt, args);
    va_end(args);
}


static void
ngx_http_livekit_aws_source(ngx_http_livekit_aws_creds_t *c,
    const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    ngx_http_livekit_aws_vtext(c->source, sizeof(c->source), fmt, args);
    va_end(args);
}


static void
ngx_http_livekit_aws_vtext(char *dst, size_t size, const char *fmt,
    va_list args)
{
    u_char  *p, raw[2 * NGX_HTTP_LIVEKIT_AWS_ERROR_MAX];

    p = ngx_vslprintf(raw, raw + sizeof(raw), fmt, args);

    (void) ngx_http_livekit_text_escape((u_char *) dst, size, raw, p - raw,
                                        0);
}
