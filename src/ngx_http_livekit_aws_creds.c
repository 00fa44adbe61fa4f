
/*
 * The AWS client, in the fetch thread: the credential chain.
 *
 * Owns: the providers in the SDKs' order (environment, web identity
 * through STS, shared files, container credentials, IMDSv2) and the
 * checks on what each returns: the container URL as libcurl parses it,
 * the IMDS role name and region, and one copy of a credential triplet
 * that refuses control characters.  A provider receives its settings, the
 * credentials to fill and an error buffer, never the whole fetch.
 * Does not own: the SSM call (_aws_ssm.c), HTTP (_aws_http.c).
 */

#include "ngx_http_livekit_aws_thread.h"

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>


/* an IMDSv2 GET: the session token, then requests that carry it */

typedef struct {
    char                          token[1024];
    char                          hdr[1100];
    char                          url[768];
    ngx_http_livekit_aws_http_t  *h;
} ngx_http_livekit_aws_imds_t;


static ngx_int_t ngx_http_livekit_aws_assume_role(
    ngx_http_livekit_aws_conf_t *ac, ngx_http_livekit_aws_creds_t *c,
    char *error);
static ngx_int_t ngx_http_livekit_aws_role_base(
    ngx_http_livekit_aws_conf_t *ac, ngx_http_livekit_aws_creds_t *base,
    char *error);
static ngx_int_t ngx_http_livekit_aws_sts_call(ngx_http_livekit_aws_http_t *h,
    ngx_http_livekit_aws_creds_t *c, const char *action, const char *role,
    char *error);
static void ngx_http_livekit_aws_sts_url(ngx_http_livekit_aws_conf_t *ac,
    char *url, size_t size);
static ngx_int_t ngx_http_livekit_aws_web_identity(
    ngx_http_livekit_aws_conf_t *ac, ngx_http_livekit_aws_creds_t *c,
    char *error);
static ngx_int_t ngx_http_livekit_aws_sts_credentials(
    ngx_http_livekit_aws_creds_t *c, ngx_http_livekit_aws_http_t *h);
static ngx_int_t ngx_http_livekit_aws_container(ngx_http_livekit_aws_conf_t *ac,
    ngx_http_livekit_aws_creds_t *c, char *error);
static ngx_int_t ngx_http_livekit_aws_container_token(
    ngx_http_livekit_aws_conf_t *ac, char *error, char *p, size_t *n);
static ngx_int_t ngx_http_livekit_aws_container_url(const char *uri,
    char *url, size_t size, char *why, size_t why_size);
static ngx_uint_t ngx_http_livekit_aws_local_host(const char *host);
static ngx_int_t ngx_http_livekit_aws_imds_token(
    ngx_http_livekit_aws_conf_t *ac, char *error, char *token, size_t size);
static ngx_int_t ngx_http_livekit_aws_imds_open(ngx_http_livekit_aws_conf_t *ac,
    char *error, ngx_http_livekit_aws_imds_t *m);
static void ngx_http_livekit_aws_imds_close(ngx_http_livekit_aws_imds_t *m);
static ngx_int_t ngx_http_livekit_aws_imds(ngx_http_livekit_aws_conf_t *ac,
    ngx_http_livekit_aws_creds_t *c, char *error);
static ngx_int_t ngx_http_livekit_aws_imds_role(const u_char *p, size_t len,
    char *role, size_t size);
static ngx_int_t ngx_http_livekit_aws_creds_json(
    ngx_http_livekit_aws_creds_t *c, char *error,
    ngx_http_livekit_aws_http_t *h, const char *source);
static ngx_int_t ngx_http_livekit_aws_creds_set(
    ngx_http_livekit_aws_creds_t *c, const char *id, size_t id_len,
    const char *secret, size_t secret_len, const char *token,
    size_t token_len);
static ngx_uint_t ngx_http_livekit_aws_header_safe(const char *s,
    size_t len);


/* the credential chain, in the SDKs' order; cached temporary keys first */

ngx_int_t
ngx_http_livekit_aws_credentials(ngx_http_livekit_aws_conf_t *ac,
    ngx_http_livekit_aws_creds_t *c, char *error)
{


    if (c->valid && c->expires
        && time(NULL) + NGX_HTTP_LIVEKIT_AWS_EXPIRY_MARGIN < c->expires)
    {
        return NGX_OK;
    }

    OPENSSL_cleanse(c, sizeof(ngx_http_livekit_aws_creds_t));

    /* a role whose credential_source is the environment comes first */

    if (ac->role_profile_arn
        && ac->role_source == NGX_HTTP_LIVEKIT_AWS_SOURCE_ENV)
    {
        return ngx_http_livekit_aws_assume_role(ac, c, error);
    }

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
            ngx_http_livekit_aws_fail(error, "the credentials in the "
                                      "environment are too long or hold "
                                      "control characters");
            return NGX_ERROR;
        }

        ngx_http_livekit_aws_source(c, "environment (AWS_ACCESS_KEY_ID)");
        return NGX_OK;
    }

    if (ac->web_token_file && ac->role_arn) {
        return ngx_http_livekit_aws_web_identity(ac, c, error);
    }

    if (ac->role_profile_arn) {
        return ngx_http_livekit_aws_assume_role(ac, c, error);
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
            ngx_http_livekit_aws_fail(error,
                                      "the credentials of profile \"%s\" "
                                      "are too long or hold control "
                                      "characters", ac->profile);
            return NGX_ERROR;
        }

        ngx_http_livekit_aws_source(c, "shared files (profile \"%s\")",
                                    ac->profile);
        return NGX_OK;
    }

    if (ac->profile_error) {
        ngx_http_livekit_aws_fail(error,
                                  "no credentials: %s", ac->profile_error);
        return NGX_ERROR;
    }

    if (ac->container_uri) {
        return ngx_http_livekit_aws_container(ac, c, error);
    }

    if (!ac->imds_disabled) {
        return ngx_http_livekit_aws_imds(ac, c, error);
    }

    ngx_http_livekit_aws_fail(error, "no AWS credentials: none in the "
                              "environment, no web identity, no keys for "
                              "profile \"%s\" in %s, no container "
                              "credentials, instance metadata disabled",
                              ac->profile, ac->profile_files);
    return NGX_ERROR;
}


/*
 * A profile's role_arn: STS AssumeRole, signed with the source's
 * credentials (source_profile's keys, or credential_source's).
 */

static ngx_int_t
ngx_http_livekit_aws_assume_role(ngx_http_livekit_aws_conf_t *ac,
    ngx_http_livekit_aws_creds_t *c, char *error)
{
    char                          *body, *p, *last;
    char                           url[512], session[80], sigv4[96];
    size_t                         size;
    ngx_int_t                      rc;
    ngx_http_livekit_aws_http_t   *h;
    ngx_http_livekit_aws_creds_t  *base;

    size = 4096;
    base = calloc(1, sizeof(ngx_http_livekit_aws_creds_t));
    body = malloc(size);
    h = NULL;

    if (base == NULL || body == NULL) {
        ngx_http_livekit_aws_fail(error, "assume role: out of memory");
        rc = NGX_ERROR;
        goto done;
    }

    rc = ngx_http_livekit_aws_role_base(ac, base, error);
    if (rc != NGX_OK) {
        goto done;
    }

    if (ac->role_session) {
        (void) ngx_http_livekit_aws_copy(session, sizeof(session),
                                         ac->role_session,
                                         ngx_strlen(ac->role_session));

    } else {
        ngx_sprintf((u_char *) session, "nginx-livekit-%T%Z", time(NULL));
    }

    p = body;
    last = body + size - 1;

    p = ngx_http_livekit_aws_form(p, last, "Action", "AssumeRole");
    p = ngx_http_livekit_aws_form(p, last, "&Version", "2011-06-15");
    p = ngx_http_livekit_aws_form(p, last, "&RoleArn", ac->role_profile_arn);
    p = ngx_http_livekit_aws_form(p, last, "&RoleSessionName", session);

    if (ac->role_external_id) {
        p = ngx_http_livekit_aws_form(p, last, "&ExternalId",
                                      ac->role_external_id);
    }

    *p = '\0';

    ngx_http_livekit_aws_sts_url(ac, url, sizeof(url));

    ngx_snprintf((u_char *) sigv4, sizeof(sigv4) - 1, "aws:amz:%s:sts%Z",
                 ac->region ? ac->region : "us-east-1");

    h = ngx_http_livekit_aws_http_create(ac, "POST", url, ac->timeout);
    rc = NGX_ERROR;

    if (h == NULL) {
        ngx_http_livekit_aws_fail(error, "assume role: out of memory");
        goto done;
    }

    h->body = body;
    h->body_len = p - body;

    if (ngx_http_livekit_aws_http_sign(h, sigv4, base) != NGX_OK) {
        ngx_http_livekit_aws_fail(error, "assume role: out of memory");
        goto done;
    }

    rc = ngx_http_livekit_aws_sts_call(h, c, "AssumeRole",
                                       ac->role_profile_arn, error);

    if (rc == NGX_OK) {
        ngx_http_livekit_aws_source(c, "assume role (role %s, profile "
                                    "\"%s\", from %s)",
                                    ac->role_profile_arn, ac->profile,
                                    base->source);
    }

done:

    ngx_http_livekit_aws_http_destroy(h);

    if (body) {
        OPENSSL_cleanse(body, size);
        free(body);
    }

    if (base) {
        OPENSSL_cleanse(base, sizeof(ngx_http_livekit_aws_creds_t));
        free(base);
    }

    return rc;
}


/* the credentials that sign AssumeRole */

static ngx_int_t
ngx_http_livekit_aws_role_base(ngx_http_livekit_aws_conf_t *ac,
    ngx_http_livekit_aws_creds_t *base, char *error)
{
    char  *id, *secret, *token;

    switch (ac->role_source) {

    case NGX_HTTP_LIVEKIT_AWS_SOURCE_IMDS:
        return ngx_http_livekit_aws_imds(ac, base, error);

    case NGX_HTTP_LIVEKIT_AWS_SOURCE_CONTAINER:
        if (ac->container_uri == NULL) {
            ngx_http_livekit_aws_fail(error, "assume role: credential_source "
                                      "EcsContainer, but no "
                                      "AWS_CONTAINER_CREDENTIALS_*_URI");
            return NGX_ERROR;
        }

        return ngx_http_livekit_aws_container(ac, base, error);

    case NGX_HTTP_LIVEKIT_AWS_SOURCE_ENV:
        id = ac->env_key_id;
        secret = ac->env_secret;
        token = ac->env_token;
        break;

    default: /* NGX_HTTP_LIVEKIT_AWS_SOURCE_PROFILE */
        id = ac->profile_key_id;
        secret = ac->profile_secret;
        token = ac->profile_token;
        break;
    }

    if (id == NULL || secret == NULL) {
        ngx_http_livekit_aws_fail(error, "assume role: no source "
                                  "credentials (AWS_ACCESS_KEY_ID and "
                                  "AWS_SECRET_ACCESS_KEY for "
                                  "credential_source Environment)");
        return NGX_ERROR;
    }

    if (ngx_http_livekit_aws_creds_set(base, id, ngx_strlen(id), secret,
                                       ngx_strlen(secret), token,
                                       token ? ngx_strlen(token) : 0)
        != NGX_OK)
    {
        ngx_http_livekit_aws_fail(error, "assume role: the source "
                                  "credentials are too long or hold "
                                  "control characters");
        return NGX_ERROR;
    }

    if (ac->role_source == NGX_HTTP_LIVEKIT_AWS_SOURCE_ENV) {
        ngx_http_livekit_aws_source(base, "the environment");

    } else {
        ngx_http_livekit_aws_source(base, "profile \"%s\"",
                                    ac->role_source_profile);
    }

    return NGX_OK;
}


/* one STS call whose answer holds <Credentials>; NGX_AGAIN: retry later */

static ngx_int_t
ngx_http_livekit_aws_sts_call(ngx_http_livekit_aws_http_t *h,
    ngx_http_livekit_aws_creds_t *c, const char *action, const char *role,
    char *error)
{
    char  code[64], msg[256];

    if (ngx_http_livekit_aws_http_header(h, "Content-Type: "
                                         "application/x-www-form-urlencoded; "
                                         "charset=utf-8") != NGX_OK
        || ngx_http_livekit_aws_http_header(h, "Accept: text/xml") != NGX_OK)
    {
        ngx_http_livekit_aws_fail(error, "STS %s: out of memory", action);
        return NGX_ERROR;
    }

    if (ngx_http_livekit_aws_http(h) != NGX_OK) {
        ngx_http_livekit_aws_fail(error, "STS %s at %s for role %s "
                                  "failed: %s", action, h->url, role,
                                  h->curl_error);
        return NGX_AGAIN;
    }

    if (h->status != 200) {
        ngx_http_livekit_aws_error_code(h, code, sizeof(code), msg,
                                        sizeof(msg));
        ngx_http_livekit_aws_fail(error, "STS %s for role %s answered %s "
                                  "(HTTP %l): %s", action, role, code,
                                  h->status, msg);
        return ngx_http_livekit_aws_retryable(h->status, code) ? NGX_AGAIN
                                                               : NGX_ERROR;
    }

    if (ngx_http_livekit_aws_sts_credentials(c, h) != NGX_OK) {
        ngx_http_livekit_aws_fail(error, "STS %s for role %s answered "
                                  "without usable credentials", action,
                                  role);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_livekit_aws_sts_url(ngx_http_livekit_aws_conf_t *ac, char *url,
    size_t size)
{
    if (ac->sts_endpoint) {
        (void) ngx_http_livekit_aws_copy(url, size, ac->sts_endpoint,
                                         ngx_strlen(ac->sts_endpoint));

    } else if (ac->region) {
        ngx_snprintf((u_char *) url, size - 1,
                     "https://sts.%s.amazonaws.com/%Z", ac->region);

    } else {
        ngx_snprintf((u_char *) url, size - 1,
                     "https://sts.amazonaws.com/%Z");
    }
}


/* AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN: STS AssumeRoleWithWebIdentity */

static ngx_int_t
ngx_http_livekit_aws_web_identity(ngx_http_livekit_aws_conf_t *ac,
    ngx_http_livekit_aws_creds_t *c, char *error)
{
    char                          *token, *body, *p, *last, url[512];
    char                           session[80];
    size_t                         size;
    ngx_int_t                      rc;
    ngx_http_livekit_aws_http_t   *h;

    rc = NGX_ERROR;

    size = NGX_HTTP_LIVEKIT_AWS_FILE_MAX;
    token = malloc(size);
    body = malloc(3 * size + 1024);
    h = NULL;

    if (token == NULL || body == NULL) {
        ngx_http_livekit_aws_fail(error, "web identity: out of memory");
        goto done;
    }

    if (ngx_http_livekit_aws_read_file(ac->web_token_file, token, size)
        != NGX_OK)
    {
        ngx_http_livekit_aws_fail(error, "web identity: cannot read "
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

    ngx_http_livekit_aws_sts_url(ac, url, sizeof(url));

    h = ngx_http_livekit_aws_http_create(ac, "POST", url, ac->timeout);

    if (h == NULL) {
        ngx_http_livekit_aws_fail(error, "web identity: out of memory");
        goto done;
    }

    h->body = body;
    h->body_len = p - body;

    rc = ngx_http_livekit_aws_sts_call(h, c, "AssumeRoleWithWebIdentity",
                                       ac->role_arn, error);
    if (rc != NGX_OK) {
        goto done;
    }

    ngx_http_livekit_aws_source(c, "web identity (role %s)", ac->role_arn);
    rc = NGX_OK;

done:

    ngx_http_livekit_aws_http_destroy(h);

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


/* <Credentials> of an STS answer: the triplet and its Expiration */

static ngx_int_t
ngx_http_livekit_aws_sts_credentials(ngx_http_livekit_aws_creds_t *c,
    ngx_http_livekit_aws_http_t *h)
{
    char     expires[64];
    u_char  *id, *secret, *token;
    size_t   id_len, secret_len, token_len;

    OPENSSL_cleanse(c, sizeof(ngx_http_livekit_aws_creds_t));

    if (ngx_http_livekit_aws_xml_find(h->resp, h->resp_len, "AccessKeyId",
                                      &id, &id_len) != NGX_OK
        || ngx_http_livekit_aws_xml_find(h->resp, h->resp_len,
                                         "SecretAccessKey", &secret,
                                         &secret_len) != NGX_OK
        || ngx_http_livekit_aws_xml_find(h->resp, h->resp_len,
                                         "SessionToken", &token,
                                         &token_len) != NGX_OK
        || ngx_http_livekit_aws_creds_set(c, (char *) id, id_len,
                                          (char *) secret, secret_len,
                                          (char *) token, token_len)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_livekit_aws_xml(h->resp, h->resp_len, "Expiration",
                                 expires, sizeof(expires)) == NGX_OK)
    {
        c->expires = ngx_http_livekit_aws_parse_time(expires);
    }

    if (c->expires == 0) {
        c->expires = time(NULL) + 900;
    }

    return NGX_OK;
}


/* ECS / EKS Pod Identity: GET the URI, with the authorization token */

static ngx_int_t
ngx_http_livekit_aws_container(ngx_http_livekit_aws_conf_t *ac,
    ngx_http_livekit_aws_creds_t *c, char *error)
{
    char                         *auth, u[1024], why[160];
    size_t                        n;
    ngx_int_t                     rc;
    ngx_http_livekit_aws_http_t  *h;

    rc = NGX_ERROR;

    if (ngx_http_livekit_aws_container_url(ac->container_uri, u, sizeof(u),
                                           why, sizeof(why))
        != NGX_OK)
    {
        ngx_http_livekit_aws_fail(error, "container credentials: \"%s\" %s",
                                  ac->container_uri, why);
        return NGX_ERROR;
    }

    h = ngx_http_livekit_aws_http_create(ac, "GET", u,
                                         ngx_min(ac->timeout, 5000));
    auth = malloc(NGX_HTTP_LIVEKIT_AWS_FILE_MAX + sizeof("Authorization: "));

    if (h == NULL || auth == NULL) {
        ngx_http_livekit_aws_fail(error,
                                  "container credentials: out of memory");
        goto done;
    }

    ngx_memcpy(auth, "Authorization: ", sizeof("Authorization: ") - 1);

    if (ngx_http_livekit_aws_container_token(ac, error,
                                             auth + sizeof("Authorization: ")
                                             - 1, &n)
        != NGX_OK)
    {
        goto done;
    }

    if (ngx_http_livekit_aws_http_header(h, "Accept: application/json")
        != NGX_OK
        || (n && ngx_http_livekit_aws_http_header(h, auth) != NGX_OK))
    {
        ngx_http_livekit_aws_fail(error,
                                  "container credentials: out of memory");
        goto done;
    }

    if (ngx_http_livekit_aws_http(h) != NGX_OK) {
        ngx_http_livekit_aws_fail(error, "container credentials: GET %s "
                                  "failed: %s", u, h->curl_error);
        rc = NGX_AGAIN;
        goto done;
    }

    if (h->status != 200) {
        ngx_http_livekit_aws_fail(error, "container credentials: GET %s "
                                  "answered HTTP %l", u, h->status);
        rc = (h->status >= 500 || h->status == 429) ? NGX_AGAIN : NGX_ERROR;
        goto done;
    }

    rc = ngx_http_livekit_aws_creds_json(c, error, h, "container credentials");

    if (rc == NGX_OK) {
        ngx_http_livekit_aws_source(c, "container credentials (%s)",
                     ac->container_token_file
                     ? "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
                     : ac->container_token
                       ? "AWS_CONTAINER_AUTHORIZATION_TOKEN"
                       : "no authorization token");
    }

done:

    ngx_http_livekit_aws_http_destroy(h);

    if (auth) {
        OPENSSL_cleanse(auth, NGX_HTTP_LIVEKIT_AWS_FILE_MAX
                              + sizeof("Authorization: "));
        free(auth);
    }

    return rc;
}


/*
 * The authorization token, from its file (read at each fetch: it rotates)
 * or the variable, trailing line breaks and blanks cut, into "p" of
 * NGX_HTTP_LIVEKIT_AWS_FILE_MAX bytes; a header value, so no control
 * character.  *n: its length, 0 when there is none.
 */

static ngx_int_t
ngx_http_livekit_aws_container_token(ngx_http_livekit_aws_conf_t *ac,
    char *error, char *p, size_t *n)
{
    p[0] = '\0';

    if (ac->container_token_file) {
        if (ngx_http_livekit_aws_read_file(ac->container_token_file, p,
                                           NGX_HTTP_LIVEKIT_AWS_FILE_MAX)
            != NGX_OK)
        {
            ngx_http_livekit_aws_fail(error,
                                      "container credentials: cannot read "
                                      "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
                                      " \"%s\" (%s)",
                                      ac->container_token_file,
                                      strerror(ngx_errno));
            return NGX_ERROR;
        }

    } else if (ac->container_token) {
        (void) ngx_http_livekit_aws_copy(p, NGX_HTTP_LIVEKIT_AWS_FILE_MAX,
                                         ac->container_token,
                                         ngx_strlen(ac->container_token));
    }

    *n = ngx_strlen(p);

    while (*n && (p[*n - 1] == '\n' || p[*n - 1] == '\r'
                  || p[*n - 1] == ' '))
    {
        p[--*n] = '\0';
    }

    if (!ngx_http_livekit_aws_header_safe(p, *n)) {
        ngx_http_livekit_aws_fail(error, "container credentials: the "
                                  "authorization token holds a control "
                                  "character");
        return NGX_ERROR;
    }

    return NGX_OK;
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


/* IMDSv2 only: a session token first, refused answers are not retried v1 */

static ngx_int_t
ngx_http_livekit_aws_imds_token(ngx_http_livekit_aws_conf_t *ac, char *error,
    char *token, size_t size)
{
    char                          url[512];
    ngx_int_t                     rc;
    ngx_http_livekit_aws_http_t  *h;

    ngx_snprintf((u_char *) url, sizeof(url) - 1, "%s/latest/api/token%Z",
                 ac->imds_endpoint);

    h = ngx_http_livekit_aws_http_create(ac, "PUT", url,
                                        NGX_HTTP_LIVEKIT_AWS_IMDS_TIMEOUT);
    rc = NGX_ERROR;

    if (h == NULL
        || ngx_http_livekit_aws_http_header(h,
                              "X-aws-ec2-metadata-token-ttl-seconds: 21600")
           != NGX_OK)
    {
        ngx_http_livekit_aws_fail(error, "instance metadata: out of memory");

    } else if (ngx_http_livekit_aws_http(h) != NGX_OK) {
        ngx_http_livekit_aws_fail(error, "instance metadata: PUT %s failed: %s",
                                  url, h->curl_error);
        rc = NGX_AGAIN;

    } else if (h->status != 200) {
        ngx_http_livekit_aws_fail(error, "instance metadata: PUT %s answered "
                                  "HTTP %l (IMDSv2 session token refused)",
                                  url, h->status);
        rc = (h->status >= 500) ? NGX_AGAIN : NGX_ERROR;

    } else if (h->resp_len == 0
               || !ngx_http_livekit_aws_header_safe((char *) h->resp,
                                                    h->resp_len)
               || ngx_http_livekit_aws_copy(token, size, (char *) h->resp,
                                            h->resp_len) != NGX_OK)
    {
        ngx_http_livekit_aws_fail(error, "instance metadata: PUT %s answered "
                                  "an unusable token", url);

    } else {
        rc = NGX_OK;
    }

    ngx_http_livekit_aws_http_destroy(h);

    return rc;
}


static ngx_int_t
ngx_http_livekit_aws_imds_open(ngx_http_livekit_aws_conf_t *ac, char *error,
    ngx_http_livekit_aws_imds_t *m)
{
    ngx_int_t  rc;

    rc = ngx_http_livekit_aws_imds_token(ac, error, m->token, sizeof(m->token));
    if (rc != NGX_OK) {
        return rc;
    }

    ngx_snprintf((u_char *) m->hdr, sizeof(m->hdr) - 1,
                 "X-aws-ec2-metadata-token: %s%Z", m->token);

    m->h = ngx_http_livekit_aws_http_create(ac, "GET", m->url,
                                        NGX_HTTP_LIVEKIT_AWS_IMDS_TIMEOUT);

    if (m->h == NULL
        || ngx_http_livekit_aws_http_header(m->h, m->hdr) != NGX_OK)
    {
        ngx_http_livekit_aws_imds_close(m);
        ngx_http_livekit_aws_fail(error, "instance metadata: out of memory");
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_livekit_aws_imds_close(ngx_http_livekit_aws_imds_t *m)
{
    OPENSSL_cleanse(m->token, sizeof(m->token));
    OPENSSL_cleanse(m->hdr, sizeof(m->hdr));
    ngx_http_livekit_aws_http_destroy(m->h);
}


static ngx_int_t
ngx_http_livekit_aws_imds(ngx_http_livekit_aws_conf_t *ac,
    ngx_http_livekit_aws_creds_t *c, char *error)
{
    char                          role[NGX_HTTP_LIVEKIT_AWS_ROLE_MAX + 1];
    char                         *url;
    ngx_int_t                     rc;
    ngx_http_livekit_aws_http_t  *h;
    ngx_http_livekit_aws_imds_t   m;

    rc = ngx_http_livekit_aws_imds_open(ac, error, &m);
    if (rc != NGX_OK) {
        return rc;
    }

    h = m.h;
    url = m.url;

    ngx_snprintf((u_char *) url, sizeof(m.url) - 1,
                 "%s/latest/meta-data/iam/security-credentials/%Z",
                 ac->imds_endpoint);

    rc = NGX_ERROR;

    if (ngx_http_livekit_aws_http(h) != NGX_OK) {
        ngx_http_livekit_aws_fail(error, "instance metadata: GET %s failed: %s",
                                  url, h->curl_error);
        rc = NGX_AGAIN;
        goto done;
    }

    if (h->status != 200 || h->resp_len == 0) {
        ngx_http_livekit_aws_fail(error, "instance metadata: GET %s answered "
                                  "HTTP %l: no instance profile role?",
                                  url, h->status);
        rc = (h->status >= 500) ? NGX_AGAIN : NGX_ERROR;
        goto done;
    }

    if (ngx_http_livekit_aws_imds_role(h->resp, h->resp_len, role,
                                       sizeof(role))
        != NGX_OK)
    {
        ngx_http_livekit_aws_fail(error,
                                  "instance metadata: unusable role name");
        goto done;
    }

    ngx_snprintf((u_char *) url, sizeof(m.url) - 1,
                 "%s/latest/meta-data/iam/security-credentials/%s%Z",
                 ac->imds_endpoint, role);

    ngx_http_livekit_aws_http_wipe(h);

    if (ngx_http_livekit_aws_http(h) != NGX_OK) {
        ngx_http_livekit_aws_fail(error, "instance metadata: GET %s failed: %s",
                                  url, h->curl_error);
        rc = NGX_AGAIN;
        goto done;
    }

    if (h->status != 200) {
        ngx_http_livekit_aws_fail(error, "instance metadata: GET %s answered "
                                  "HTTP %l", url, h->status);
        rc = (h->status >= 500) ? NGX_AGAIN : NGX_ERROR;
        goto done;
    }

    rc = ngx_http_livekit_aws_creds_json(c, error, h, "instance metadata");

    if (rc == NGX_OK) {
        ngx_http_livekit_aws_source(c,
                                    "instance metadata (IMDSv2, role %s)",
                                    role);
    }

done:

    ngx_http_livekit_aws_imds_close(&m);

    return rc;
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


ngx_int_t
ngx_http_livekit_aws_imds_region(ngx_http_livekit_aws_conf_t *ac, char *error,
    char *region, size_t size)
{
    ngx_int_t                     rc;
    ngx_http_livekit_aws_http_t  *h;
    ngx_http_livekit_aws_imds_t   m;

    rc = ngx_http_livekit_aws_imds_open(ac, error, &m);
    if (rc != NGX_OK) {
        ngx_http_livekit_aws_fail(error, "no AWS region: not configured, and "
                                  "instance metadata gave no session token");
        return rc;
    }

    h = m.h;

    ngx_snprintf((u_char *) m.url, sizeof(m.url) - 1,
                 "%s/latest/meta-data/placement/region%Z",
                 ac->imds_endpoint);

    rc = NGX_ERROR;

    if (ngx_http_livekit_aws_http(h) != NGX_OK) {
        ngx_http_livekit_aws_fail(error, "no AWS region: GET %s failed: %s",
                                  m.url, h->curl_error);
        rc = NGX_AGAIN;

    } else if (h->status != 200 || h->resp_len == 0) {
        ngx_http_livekit_aws_fail(error, "no AWS region: GET %s answered "
                                  "HTTP %l", m.url, h->status);

    } else if (ngx_http_livekit_aws_copy(region, size, (char *) h->resp,
                                         strcspn((char *) h->resp, "\r\n"))
               != NGX_OK
               || !ngx_http_livekit_aws_region_valid((u_char *) region,
                                                     ngx_strlen(region)))
    {
        ngx_http_livekit_aws_fail(error, "no AWS region: GET %s answered "
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
ngx_http_livekit_aws_creds_json(ngx_http_livekit_aws_creds_t *c, char *error,
    ngx_http_livekit_aws_http_t *h, const char *source)
{
    json_t                        *root;
    const char                    *id, *secret, *token, *expires;
    ngx_int_t                      rc;


    root = json_loadb((char *) h->resp, h->resp_len, 0, NULL);
    if (root == NULL || !json_is_object(root)) {
        ngx_http_livekit_aws_fail(error, "%s: the answer is not JSON", source);
        json_decref(root);
        return NGX_ERROR;
    }

    id = json_string_value(json_object_get(root, "AccessKeyId"));
    secret = json_string_value(json_object_get(root, "SecretAccessKey"));
    token = json_string_value(json_object_get(root, "Token"));
    expires = json_string_value(json_object_get(root, "Expiration"));

    rc = NGX_ERROR;

    if (id == NULL || secret == NULL) {
        ngx_http_livekit_aws_fail(error,
                                  "%s: the answer has no AccessKeyId and "
                                  "SecretAccessKey", source);

    } else if (ngx_http_livekit_aws_creds_set(c, id, ngx_strlen(id), secret,
                                              ngx_strlen(secret), token,
                                              token ? ngx_strlen(token) : 0)
               != NGX_OK)
    {
        ngx_http_livekit_aws_fail(error, "%s: the credentials are too long or "
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
