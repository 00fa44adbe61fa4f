
/*
 * Outside text made safe to show (see ngx_http_livekit_text.h).
 *
 * Owns: what counts as a printable character, and its escaping for log
 * lines, JSON strings and Prometheus label values; and what text a client
 * may send at all (ngx_http_livekit_check_text(): valid UTF-8 without
 * control characters), which every reader of outside values calls.
 * Does not own: where the text comes from or how long it may be; callers
 * bound their input and pass the size of their buffer.
 */

#include "ngx_http_livekit_token.h"
#include "ngx_http_livekit_text.h"


static const char  ngx_http_livekit_utf8_message[] =
    "text must be valid UTF-8 without C1 control characters "
    "(percent-encode UTF-8 bytes in query strings)";


/*
 * The length of the printable character that starts at "s", 0 if none
 * does: not ASCII control or DEL, not an invalid, overlong, surrogate or
 * cut UTF-8 sequence, not a C1 control, line or paragraph separator,
 * bidirectional override or isolate, or byte order mark.
 */

size_t
ngx_http_livekit_text_char(const u_char *s, size_t n)
{
    size_t    len, i;
    uint32_t  u;

    static const uint32_t  min[] = { 0, 0, 0x80, 0x800, 0x10000 };

    if (n == 0) {
        return 0;
    }

    if (s[0] < 0x80) {
        return (s[0] >= 0x20 && s[0] != 0x7f) ? 1 : 0;
    }

    if (s[0] < 0xc2 || s[0] > 0xf4) {
        return 0;
    }

    len = (s[0] >= 0xf0) ? 4 : (s[0] >= 0xe0) ? 3 : 2;

    if (n < len) {
        return 0;
    }

    u = s[0] & (0x7f >> len);

    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }

        u = (u << 6) | (s[i] & 0x3f);
    }

    if (u < min[len] || u > 0x10ffff || (u >= 0xd800 && u <= 0xdfff)) {
        return 0;
    }

    if (u < 0xa0 || u == 0x2028 || u == 0x2029
        || (u >= 0x202a && u <= 0x202e) || (u >= 0x2066 && u <= 0x2069)
        || u == 0xfeff)
    {
        return 0;
    }

    return len;
}


/*
 * "src" into "dst" of "size" bytes (at least 1), NUL-terminated; returns
 * the length written.  A character that does not fit whole ends the copy.
 */

size_t
ngx_http_livekit_text_escape(u_char *dst, size_t size, const u_char *src,
    size_t len, ngx_uint_t flags)
{
    u_char        *p, *last;
    size_t         n;
    const u_char  *s, *end;

    static const u_char  hex[] = "0123456789abcdef";

    p = dst;
    last = dst + size - 1;
    s = src;
    end = src + len;

    while (s < end) {
        n = ngx_http_livekit_text_char(s, end - s);

        if (n && (flags & NGX_HTTP_LIVEKIT_TEXT_LABEL)
            && (*s == '\\' || *s == '"'))
        {
            if (last - p < 2) {
                break;
            }

            *p++ = '\\';
            *p++ = *s++;
            continue;
        }

        if (n) {
            if ((size_t) (last - p) < n) {
                break;
            }

            p = ngx_cpymem(p, s, n);
            s += n;
            continue;
        }

        n = (flags & NGX_HTTP_LIVEKIT_TEXT_LABEL) ? 5 : 4;

        if ((size_t) (last - p) < n) {
            break;
        }

        *p++ = '\\';

        if (flags & NGX_HTTP_LIVEKIT_TEXT_LABEL) {
            *p++ = '\\';
        }

        *p++ = 'x';
        *p++ = hex[*s >> 4];
        *p++ = hex[*s & 0xf];
        s++;
    }

    *p = '\0';

    return p - dst;
}


/* whether every byte belongs to a printable character */

ngx_uint_t
ngx_http_livekit_text_printable(const u_char *s, size_t len)
{
    size_t         n;
    const u_char  *end;

    end = s + len;

    while (s < end) {
        n = ngx_http_livekit_text_char(s, end - s);
        if (n == 0) {
            return 0;
        }

        s += n;
    }

    return 1;
}


/*
 * Valid UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF: what JSON and livekit-server accept) and no control
 * characters; "multiline" text (metadata) may hold tabs and newlines.
 */

ngx_int_t
ngx_http_livekit_check_text(ngx_str_t *s, ngx_uint_t multiline,
    ngx_http_livekit_error_t *err)
{
    u_char    *p, *last, *q;
    uint32_t   u;

    if (s->len == 0) {
        return NGX_OK;          /* s->data may be NULL */
    }

    p = s->data;
    last = p + s->len;

    while (p < last) {

        if (*p < 0x80) {
            if (*p < 0x20 || *p == 0x7f) {
                if (!multiline
                    || (*p != '\t' && *p != '\n' && *p != '\r'))
                {
                    return ngx_http_livekit_fail(err,
                        NGX_HTTP_LIVEKIT_CONTROL_CHARACTER,
                        "room, identity, name and attribute names must not "
                        "contain control characters; metadata and "
                        "attribute values only tabs and newlines");
                }
            }

            p++;
            continue;
        }

        if (*p >= 0xf5) {
            return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_INVALID_UTF8,
                                         ngx_http_livekit_utf8_message);
        }

        for (q = p + 1; q < last && q < p + 4; q++) {
            if ((*q & 0xc0) != 0x80) {
                break;
            }
        }

        u = ngx_utf8_decode(&p, last - p);

        if (u > 0x10ffff || (u >= 0xd800 && u <= 0xdfff) || p > q
            || (u >= 0x80 && u < 0xa0))
        {
            return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_INVALID_UTF8,
                                         ngx_http_livekit_utf8_message);
        }
    }

    return NGX_OK;
}
