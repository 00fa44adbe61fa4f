
/*
 * The AWS client, in the fetch thread: the SSM GetParameters call.
 *
 * Owns: one fetch with its retries (AWS "standard" mode: jittered
 * exponential backoff on throttling, 5xx and transport errors, none on
 * access or signature errors), the signed request (libcurl's
 * CURLOPT_AWS_SIGV4, service "ssm"), reading the answer and AWS error
 * codes.  Failures are described in f->error with the credential source
 * and the parameter name, never a value.
 * Does not own: credentials (_aws_creds.c), HTTP (_aws_http.c), when to
 * fetch (_ssm.c).
 */

#include "ngx_http_livekit_aws_thread.h"
#include "ngx_http_livekit_text.h"

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>


/* the values fetched, in livekit_ssm_names order */

typedef struct {
    const char                     *what;
    size_t                          offset;
    size_t                          size;
    size_t                          len_offset;
} ngx_http_livekit_aws_value_t;


static ngx_http_livekit_aws_value_t  ngx_http_livekit_aws_values[] = {
    { "API key", offsetof(ngx_http_livekit_ssm_values_t, key),
      NGX_HTTP_LIVEKIT_SSM_KEY_MAX,
      offsetof(ngx_http_livekit_ssm_values_t, key_len) },
    { "API secret", offsetof(ngx_http_livekit_ssm_values_t, secret),
      NGX_HTTP_LIVEKIT_SSM_SECRET_MAX,
      offsetof(ngx_http_livekit_ssm_values_t, secret_len) },
    { "URL", offsetof(ngx_http_livekit_ssm_values_t, url),
      NGX_HTTP_LIVEKIT_SSM_URL_MAX,
      offsetof(ngx_http_livekit_ssm_values_t, url_len) }
};


static ngx_int_t ngx_http_livekit_aws_ssm_call(
    ngx_http_livekit_ssm_fetch_t *f, const char *region, const char *url);
static char *ngx_http_livekit_aws_ssm_body(ngx_http_livekit_aws_conf_t *ac);
static ngx_int_t ngx_http_livekit_aws_ssm_answer(
    ngx_http_livekit_ssm_fetch_t *f, ngx_http_livekit_aws_http_t *h,
    const char *url);
static ngx_int_t ngx_http_livekit_aws_ssm_parse(
    ngx_http_livekit_ssm_fetch_t *f, ngx_http_livekit_aws_http_t *h);
static ngx_int_t ngx_http_livekit_aws_ssm_value(
    ngx_http_livekit_ssm_fetch_t *f, ngx_uint_t k, const char *name,
    const char *value);
static ngx_int_t ngx_http_livekit_aws_ssm_check(
    ngx_http_livekit_ssm_fetch_t *f);
static void ngx_http_livekit_aws_sleep(ngx_uint_t attempt);


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

        rc = ngx_http_livekit_aws_credentials(ac, &f->creds, f->error);
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
                ngx_http_livekit_aws_fail(f->error,
                                          "the region from %s is too long",
                                          ac->region_from);
                return;
            }

        } else if (ac->imds_disabled) {
            ngx_http_livekit_aws_fail(f->error, "no AWS region: set "
                                      "livekit_ssm_region or AWS_REGION");
            return;

        } else {
            rc = ngx_http_livekit_aws_imds_region(ac, f->error, region,
                                                  sizeof(region));
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
            ngx_http_livekit_aws_fail(f->error,
                                      "the region \"%s\" is not valid",
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


/* one GetParameters request: NGX_OK, NGX_AGAIN (retry) or NGX_ERROR */

static ngx_int_t
ngx_http_livekit_aws_ssm_call(ngx_http_livekit_ssm_fetch_t *f,
    const char *region, const char *url)
{
    char                          *body, sigv4[96];
    ngx_int_t                      rc;
    ngx_http_livekit_aws_http_t   *h;
    ngx_http_livekit_aws_conf_t   *ac;
    ngx_http_livekit_aws_creds_t  *c;

    ac = f->conf;
    c = &f->creds;
    rc = NGX_ERROR;

    body = ngx_http_livekit_aws_ssm_body(ac);
    h = ngx_http_livekit_aws_http_create(ac, "POST", url, ac->timeout);

    if (body == NULL || h == NULL) {
        ngx_http_livekit_aws_fail(f->error, "out of memory");
        goto done;
    }

    ngx_snprintf((u_char *) sigv4, sizeof(sigv4) - 1, "aws:amz:%s:ssm%Z",
                 region);

    h->body = body;
    h->body_len = ngx_strlen(body);

    if (ngx_http_livekit_aws_http_header(h, "Content-Type: "
                                         "application/x-amz-json-1.1")
        != NGX_OK
        || ngx_http_livekit_aws_http_header(h, "X-Amz-Target: "
                                            "AmazonSSM.GetParameters")
           != NGX_OK
        || ngx_http_livekit_aws_http_sign(h, sigv4, c) != NGX_OK)
    {
        ngx_http_livekit_aws_fail(f->error, "out of memory");
        goto done;
    }

    f->calls++;

    if (ngx_http_livekit_aws_http(h) != NGX_OK) {
        ngx_http_livekit_aws_fail(f->error, "GetParameters at %s failed: %s "
                                  "(credentials from %s)",
                                  url, h->curl_error, c->source);
        rc = NGX_AGAIN;
        goto done;
    }

    rc = ngx_http_livekit_aws_ssm_answer(f, h, url);

done:

    ngx_http_livekit_aws_http_destroy(h);

    free(body);

    return rc;
}


/* GetParameters' request body, malloc()ed; NULL: out of memory */

static char *
ngx_http_livekit_aws_ssm_body(ngx_http_livekit_aws_conf_t *ac)
{
    char        *body;
    json_t      *req, *names;
    ngx_uint_t   i;

    names = json_array();
    req = json_pack("{s:o,s:b}", "Names", names, "WithDecryption", 1);

    if (req == NULL) {
        return NULL;
    }

    for (i = 0; i < ac->nnames; i++) {
        if (json_array_append_new(names, json_string(ac->names[i])) != 0) {
            json_decref(req);
            return NULL;
        }
    }

    body = json_dumps(req, JSON_COMPACT);
    json_decref(req);

    return body;
}


/*
 * What an answer means: the parameters (NGX_OK), a failure worth another
 * try (NGX_AGAIN: throttled, a server error, temporary keys that ran out
 * early), or one that is not (NGX_ERROR); f->error says which.
 */

static ngx_int_t
ngx_http_livekit_aws_ssm_answer(ngx_http_livekit_ssm_fetch_t *f,
    ngx_http_livekit_aws_http_t *h, const char *url)
{
    char                          code[64], msg[256];
    ngx_http_livekit_aws_creds_t  *c;

    if (h->status == 200) {
        return ngx_http_livekit_aws_ssm_parse(f, h);
    }

    c = &f->creds;

    ngx_http_livekit_aws_error_code(h, code, sizeof(code), msg, sizeof(msg));

    ngx_http_livekit_aws_fail(f->error, "GetParameters at %s answered %s "
                              "(HTTP %l) with credentials from %s: %s",
                              url, code, h->status, c->source, msg);

    if (ngx_strstr(code, "ExpiredToken") != NULL && c->expires) {
        /* temporary keys ran out early: get new ones, then try again */
        c->valid = 0;
        return NGX_AGAIN;
    }

    return ngx_http_livekit_aws_retryable(h->status, code) ? NGX_AGAIN
                                                           : NGX_ERROR;
}


static ngx_int_t
ngx_http_livekit_aws_ssm_parse(ngx_http_livekit_ssm_fetch_t *f,
    ngx_http_livekit_aws_http_t *h)
{
    json_t                        *root, *params, *invalid, *p;
    ngx_int_t                      rc;
    ngx_uint_t                     i, k, got;
    const char                    *name, *value;
    ngx_http_livekit_aws_conf_t   *ac;

    ac = f->conf;
    rc = NGX_ERROR;
    got = 0;

    root = json_loadb((char *) h->resp, h->resp_len, 0, NULL);

    if (root == NULL || !json_is_object(root)) {
        ngx_http_livekit_aws_fail(f->error, "GetParameters answered HTTP 200 "
                                  "with a body that is not a JSON object "
                                  "(credentials from %s)", f->creds.source);
        goto done;
    }

    invalid = json_object_get(root, "InvalidParameters");

    if (json_is_array(invalid) && json_array_size(invalid)) {
        name = json_string_value(json_array_get(invalid, 0));
        ngx_http_livekit_aws_fail(f->error, "parameter \"%s\" not found "
                                  "(InvalidParameters; %uz missing) with "
                                  "credentials from %s",
                                  name ? name : "?",
                                  json_array_size(invalid), f->creds.source);
        goto done;
    }

    params = json_object_get(root, "Parameters");

    if (!json_is_array(params)) {
        ngx_http_livekit_aws_fail(f->error, "GetParameters answered HTTP 200 "
                                  "without \"Parameters\"");
        goto done;
    }

    json_array_foreach(params, i, p) {
        name = json_string_value(json_object_get(p, "Name"));

        for (k = 0; name && k < ac->nnames; k++) {
            if (ngx_strcmp(name, ac->names[k]) == 0) {
                break;
            }
        }

        if (name == NULL || k == ac->nnames) {
            continue;
        }

        value = json_string_value(json_object_get(p, "Value"));

        if (ngx_http_livekit_aws_ssm_value(f, k, name, value) != NGX_OK) {
            goto done;
        }

        got |= 1 << k;
    }

    for (k = 0; k < ac->nnames; k++) {
        if (!(got & (1 << k))) {
            ngx_http_livekit_aws_fail(f->error, "parameter \"%s\" (the %s) is "
                                      "not in the answer", ac->names[k],
                                      ngx_http_livekit_aws_values[k].what);
            goto done;
        }
    }

    rc = ngx_http_livekit_aws_ssm_check(f);

done:

    if (rc != NGX_OK) {
        OPENSSL_cleanse(&f->values, sizeof(ngx_http_livekit_ssm_values_t));
    }

    json_decref(root);

    return rc;
}


/* the k-th value of the answer into its buffer, bounded */

static ngx_int_t
ngx_http_livekit_aws_ssm_value(ngx_http_livekit_ssm_fetch_t *f, ngx_uint_t k,
    const char *name, const char *value)
{
    size_t                          n;
    ngx_http_livekit_aws_value_t   *d;

    d = &ngx_http_livekit_aws_values[k];
    n = value ? ngx_strlen(value) : 0;

    if (n == 0) {
        ngx_http_livekit_aws_fail(f->error, "parameter \"%s\" (the %s) is "
                                  "empty", name, d->what);
        return NGX_ERROR;
    }

    if (n > d->size) {
        ngx_http_livekit_aws_fail(f->error, "parameter \"%s\" (the %s) is "
                                  "longer than %uz bytes", name, d->what,
                                  d->size);
        return NGX_ERROR;
    }

    ngx_memcpy((u_char *) &f->values + d->offset, value, n);
    *(size_t *) ((u_char *) &f->values + d->len_offset) = n;

    return NGX_OK;
}


/*
 * The key name is logged, shown and signed as "iss", the URL is sent to
 * clients: both printable, without blanks; the URL a ws(s) or http(s) one.
 */

static ngx_int_t
ngx_http_livekit_aws_ssm_check(ngx_http_livekit_ssm_fetch_t *f)
{
    ngx_uint_t                      i;
    ngx_http_livekit_aws_conf_t    *ac;
    ngx_http_livekit_ssm_values_t  *v;

    static const char  *schemes[] = {
        "ws://", "wss://", "http://", "https://", NULL
    };

    ac = f->conf;
    v = &f->values;

    if (!ngx_http_livekit_text_printable(v->key, v->key_len)
        || ngx_strlchr(v->key, v->key + v->key_len, ' ') != NULL)
    {
        ngx_http_livekit_aws_fail(f->error, "parameter \"%s\" (the API key) "
                                  "has blanks or control characters",
                                  ac->names[NGX_HTTP_LIVEKIT_SSM_NAME_KEY]);
        return NGX_ERROR;
    }

    if (ac->nnames <= NGX_HTTP_LIVEKIT_SSM_NAME_URL) {
        return NGX_OK;
    }

    if (!ngx_http_livekit_text_printable(v->url, v->url_len)
        || ngx_strlchr(v->url, v->url + v->url_len, ' ') != NULL)
    {
        ngx_http_livekit_aws_fail(f->error, "parameter \"%s\" (the URL) has "
                                  "blanks or control characters",
                                  ac->names[NGX_HTTP_LIVEKIT_SSM_NAME_URL]);
        return NGX_ERROR;
    }

    for (i = 0; schemes[i]; i++) {
        if (v->url_len > ngx_strlen(schemes[i])
            && ngx_strncasecmp(v->url, (u_char *) schemes[i],
                               ngx_strlen(schemes[i])) == 0)
        {
            return NGX_OK;
        }
    }

    ngx_http_livekit_aws_fail(f->error, "parameter \"%s\" (the URL) is not a "
                              "ws://, wss://, http:// or https:// URL",
                              ac->names[NGX_HTTP_LIVEKIT_SSM_NAME_URL]);
    return NGX_ERROR;
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
