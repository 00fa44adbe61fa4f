/*
 * The container credentials URL check: ngx_http_livekit_aws_container_url()
 * (static in src/ngx_http_livekit_aws_creds.c), which parses the URI with
 * libcurl's URL API and allows plain http only to the loopback or the
 * ECS / EKS agent.  Input: AWS_CONTAINER_CREDENTIALS_FULL_URI (inputs
 * holding a NUL are skipped: an environment variable cannot).
 * Checks, on NGX_OK, re-parsing the URL handed to libcurl: http or https,
 * no user name or password, and for http a host that an independent
 * check finds local; the result always NUL-terminated, "why" set on
 * failure.
 */

#include "fuzz_aws.h"


/* written apart from the module's check, on the URL it hands to libcurl */

static int
fuzz_local(const char *host)
{
    unsigned char  a[16];
    char           in6[64];
    size_t         n;

    static const unsigned char  agent6[16] = {
        0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x23
    };
    static const unsigned char  loop6[16] = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1
    };

    if (strcasecmp(host, "localhost") == 0) {
        return 1;
    }

    if (inet_pton(AF_INET, host, a) == 1) {
        return a[0] == 127
               || (a[0] == 169 && a[1] == 254 && a[2] == 170
                   && (a[3] == 2 || a[3] == 23));
    }

    n = strlen(host);
    if (n < 3 || n - 2 >= sizeof(in6) || host[0] != '['
        || host[n - 1] != ']')
    {
        return 0;
    }

    memcpy(in6, host + 1, n - 2);
    in6[n - 2] = '\0';

    return inet_pton(AF_INET6, in6, a) == 1
           && (memcmp(a, agent6, 16) == 0 || memcmp(a, loop6, 16) == 0);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char       *uri, url[1024], why[160], *scheme, *host, *user, *pass;
    CURLU      *u;
    ngx_int_t   rc;

    if (size > 4096 || memchr(data, '\0', size) != NULL) {
        return 0;
    }

    fuzz_init_core();

    uri = malloc(size + 1);
    FUZZ_CHECK(uri != NULL, "malloc");
    memcpy(uri, data, size);
    uri[size] = '\0';

    why[0] = '\0';
    rc = ngx_http_livekit_aws_container_url(uri, url, sizeof(url), why,
                                            sizeof(why));

    if (rc != NGX_OK) {
        FUZZ_CHECK(rc == NGX_ERROR, "neither NGX_OK nor NGX_ERROR");
        fuzz_aws_cstr(why, sizeof(why), "why");
        FUZZ_CHECK(why[0] != '\0', "refused without a reason");
        free(uri);
        return 0;
    }

    fuzz_aws_cstr(url, sizeof(url), "url");

    u = curl_url();
    FUZZ_CHECK(u != NULL, "curl_url");

    scheme = host = user = pass = NULL;

    FUZZ_CHECK(curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK,
               "the URL handed to libcurl does not parse");
    FUZZ_CHECK(curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK,
               "no scheme");
    FUZZ_CHECK(curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK,
               "no host");
    FUZZ_CHECK(curl_url_get(u, CURLUPART_USER, &user, 0) != CURLUE_OK,
               "a user name passed");
    FUZZ_CHECK(curl_url_get(u, CURLUPART_PASSWORD, &pass, 0) != CURLUE_OK,
               "a password passed");

    if (strcmp(scheme, "https") != 0) {
        FUZZ_CHECK(strcmp(scheme, "http") == 0, "neither http nor https");
        FUZZ_CHECK(fuzz_local(host), "plain http to a host not local");
    }

    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    free(uri);

    return 0;
}
