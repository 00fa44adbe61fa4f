/*
 * Outside text made safe to show: ngx_http_livekit_text_escape()
 * (src/ngx_http_livekit_text.c).  Input: one byte (0x01: a Prometheus
 * label; the rest of the byte, the output buffer size), then the text.
 * Checks: the output fits, is NUL-terminated, is valid UTF-8 (jansson
 * accepts it as a JSON string), holds no control byte; in log mode,
 * escaping it again changes nothing; as a label, every backslash starts
 * \\ or \" and every quote is escaped; a full-size buffer keeps every
 * printable input unchanged.
 */

#include "fuzz_common.h"
#include "ngx_http_livekit_text.h"

#include <jansson.h>


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char      *out, *again;
    size_t       n, osize, i;
    json_t      *j;
    ngx_uint_t   flags;

    if (size < 1 || size > 8192) {
        return 0;
    }

    fuzz_init_core();

    flags = (data[0] & 0x01) ? NGX_HTTP_LIVEKIT_TEXT_LABEL : 0;
    osize = (data[0] & 0x80) ? ngx_http_livekit_text_max(size - 1) + 1
                             : (size_t) (data[0] >> 1) + 1;

    out = malloc(osize);
    FUZZ_CHECK(out != NULL, "malloc");

    n = ngx_http_livekit_text_escape(out, osize, data + 1, size - 1, flags);

    FUZZ_CHECK(n < osize && out[n] == '\0', "not NUL-terminated in size");
    FUZZ_CHECK(strlen((char *) out) == n, "a NUL inside");

    for (i = 0; i < n; i++) {
        FUZZ_CHECK(out[i] >= 0x20 && out[i] != 0x7f, "a control byte");
    }

    j = json_stringn((char *) out, n);
    FUZZ_CHECK(j != NULL, "not valid UTF-8");
    json_decref(j);

    if (flags) {
        for (i = 0; i < n; i++) {
            if (out[i] == '"') {
                FUZZ_CHECK(i > 0 && out[i - 1] == '\\', "a bare quote");
            }

            if (out[i] == '\\') {
                FUZZ_CHECK(i + 1 < n
                           && (out[i + 1] == '\\' || out[i + 1] == '"'),
                           "a backslash that starts no label escape");
                i++;
            }
        }

    } else {
        again = malloc(ngx_http_livekit_text_max(n) + 1);
        FUZZ_CHECK(again != NULL, "malloc");
        FUZZ_CHECK(ngx_http_livekit_text_escape(again,
                                                ngx_http_livekit_text_max(n)
                                                + 1, out, n, 0) == n
                   && memcmp(again, out, n) == 0, "escaping is not stable");
        free(again);
    }

    if ((data[0] & 0x80) && !flags
        && ngx_http_livekit_text_printable(data + 1, size - 1))
    {
        FUZZ_CHECK(n == size - 1 && memcmp(out, data + 1, n) == 0,
                   "printable text changed");
    }

    free(out);

    return 0;
}
