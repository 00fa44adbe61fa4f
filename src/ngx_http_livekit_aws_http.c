
/*
 * The AWS client, in the fetch thread: HTTP and small parsers.
 *
 * Owns: one request's lifecycle (a fresh libcurl easy handle, bounded
 * answer, stop when nginx stops, answer wiped), reading token files,
 * form encoding, the XML and time formats of AWS answers, the error code
 * of an AWS answer and whether it is retried (AWS standard mode), and
 * the error and credential-source texts, escaped as outside text.
 * Blocks freely, allocates nothing from nginx pools, logs nothing.
 */

#include "ngx_http_livekit_aws_thread.h"
#include "ngx_http_livekit_text.h"

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>


static size_t ngx_http_livekit_aws_write(char *ptr, size_t size,
    size_t nmemb, void *userdata);
static int ngx_http_livekit_aws_progress(void *clientp, curl_off_t dltotal,
    curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);
static void ngx_http_livekit_aws_vtext(char *dst, size_t size,
    const char *fmt, va_list args);


/*
 * The one request lifecycle: _create() (calloc), _header() for each
 * header, _http() to perform it (again after _wipe() if need be), then
 * _destroy(): headers freed, the answer wiped, the memory freed.
 */

ngx_http_livekit_aws_http_t *
ngx_http_livekit_aws_http_create(ngx_http_livekit_aws_conf_t *ac,
    const char *method, const char *url, long timeout)
{
    char                         *proxy;
    ngx_http_livekit_aws_http_t  *h;

    h = calloc(1, sizeof(ngx_http_livekit_aws_http_t));
    if (h == NULL) {
        return NULL;
    }

    h->method = method;
    h->url = url;
    h->timeout = timeout;

    /* the proxy for this URL's scheme, as the SDKs choose it */

    proxy = (ngx_strncasecmp((u_char *) url, (u_char *) "https://", 8) == 0)
            ? ac->https_proxy : ac->http_proxy;

    h->proxy = proxy ? proxy : "";
    h->no_proxy = ac->no_proxy ? ac->no_proxy : "";

    return h;
}


ngx_int_t
ngx_http_livekit_aws_http_header(ngx_http_livekit_aws_http_t *h,
    const char *line)
{
    struct curl_slist  *l;

    l = curl_slist_append(h->headers, line);
    if (l == NULL) {
        return NGX_ERROR;
    }

    h->headers = l;

    return NGX_OK;
}


/*
 * SigV4 with "creds" for "scope" (aws:amz:<region>:<service>); temporary
 * keys add their session token as a header, wiped with the others
 */

ngx_int_t
ngx_http_livekit_aws_http_sign(ngx_http_livekit_aws_http_t *h,
    const char *scope, ngx_http_livekit_aws_creds_t *creds)
{
    char       *line;
    size_t      size;
    ngx_int_t   rc;

    h->sigv4 = scope;
    h->creds = creds;

    if (creds->token[0] == '\0') {
        return NGX_OK;
    }

    size = sizeof("X-Amz-Security-Token: ") + ngx_strlen(creds->token);

    line = malloc(size);
    if (line == NULL) {
        return NGX_ERROR;
    }

    *ngx_sprintf((u_char *) line, "X-Amz-Security-Token: %s", creds->token)
        = '\0';

    rc = ngx_http_livekit_aws_http_header(h, line);

    OPENSSL_cleanse(line, size);
    free(line);

    return rc;
}


void
ngx_http_livekit_aws_http_destroy(ngx_http_livekit_aws_http_t *h)
{
    struct curl_slist  *l;

    if (h == NULL) {
        return;
    }

    /* libcurl's copies of the lines: one may hold a session token */

    for (l = h->headers; l; l = l->next) {
        OPENSSL_cleanse(l->data, ngx_strlen(l->data));
    }

    curl_slist_free_all(h->headers);
    ngx_http_livekit_aws_http_wipe(h);
    free(h);
}


/* a blocking request with a fresh easy handle: nothing shared between calls */

ngx_int_t
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

    /* set even when empty: libcurl must not read a proxy of its own */
    ngx_http_livekit_aws_setopt(CURLOPT_PROXY, h->proxy);
    ngx_http_livekit_aws_setopt(CURLOPT_NOPROXY, h->no_proxy);
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


ngx_int_t
ngx_http_livekit_aws_stopping(void)
{
    return ngx_quit || ngx_terminate || ngx_exiting;
}


void
ngx_http_livekit_aws_http_wipe(ngx_http_livekit_aws_http_t *h)
{
    OPENSSL_cleanse(h->resp, h->resp_len + 1 < sizeof(h->resp)
                             ? h->resp_len + 1 : sizeof(h->resp));
    h->resp_len = 0;
}


/* the text of the first <tag>...</tag>; STS answers hold no entities here */

ngx_int_t
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


ngx_int_t
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


ngx_int_t
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

ngx_int_t
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

char *
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

time_t
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


/*
 * What the thread reports (f->error) and the credential source (shown in
 * log lines and the status page) hold outside text: both are escaped.
 */

void
ngx_http_livekit_aws_fail(char *error, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    ngx_http_livekit_aws_vtext(error, NGX_HTTP_LIVEKIT_AWS_ERROR_MAX, fmt,
                               args);
    va_end(args);
}


void
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


/* AWS standard retry mode: throttling, transient errors and 5xx */

ngx_int_t
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


/*
 * The error code of an AWS answer: JSON "__type" (the part after "#"),
 * "code", the x-amzn-ErrorType header is not kept; XML <Code>; else
 * "HTTP <status>".  The message, cut short, printable ASCII only.
 */

void
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
