/*
 * Instance metadata answers: the role name listing
 * (ngx_http_livekit_aws_imds_role(), in src/ngx_http_livekit_aws_creds.c)
 * and the region (ngx_http_livekit_aws_region_valid()).
 * Input: the answer body.
 * Checks: a role taken is the answer's first line, 1 to 64 characters of
 * an IAM role name, NUL-terminated; a region accepted is 1 to 63 of
 * [a-z0-9-] with no hyphen at either end, whatever its bytes.
 */

#include "fuzz_aws.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char       role[NGX_HTTP_LIVEKIT_AWS_ROLE_MAX + 1];
    size_t     i, n;
    ngx_int_t  rc;

    fuzz_init_core();

    rc = ngx_http_livekit_aws_imds_role(data, size, role, sizeof(role));

    if (rc == NGX_OK) {
        fuzz_aws_cstr(role, sizeof(role), "role");
        n = strlen(role);
        FUZZ_CHECK(n >= 1 && n <= 64, "role length");
        FUZZ_CHECK(memcmp(role, data, n) == 0, "not the answer's start");
        FUZZ_CHECK(n == size || data[n] == '\n' || data[n] == '\r',
                   "not the whole first line");

        for (i = 0; i < n; i++) {
            FUZZ_CHECK(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                              "abcdefghijklmnopqrstuvwxyz"
                              "0123456789+=,.@_-", role[i]) != NULL
                       && role[i] != '\0', "a character outside IAM's");
        }

    } else {
        FUZZ_CHECK(rc == NGX_ERROR, "neither NGX_OK nor NGX_ERROR");
    }

    if (ngx_http_livekit_aws_region_valid(data, size)) {
        FUZZ_CHECK(size >= 1 && size <= 63, "region length");
        FUZZ_CHECK(data[0] != '-' && data[size - 1] != '-', "hyphen at an end");

        for (i = 0; i < size; i++) {
            FUZZ_CHECK((data[i] >= 'a' && data[i] <= 'z')
                       || (data[i] >= '0' && data[i] <= '9')
                       || data[i] == '-', "a region byte outside [a-z0-9-]");
        }
    }

    return 0;
}
