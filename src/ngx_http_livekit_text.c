
/*
 * Outside text made safe to show (see ngx_http_livekit_text.h).
 *
 * Owns: what counts as a printable character, and its escaping for log
 * lines, JSON strings and Prometheus label values.
 * Does not own: where the text comes from or how long it may be; callers
 * bound their input and pass the size of their buffer.
 */

#include "ngx_http_livekit_text.h"


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
