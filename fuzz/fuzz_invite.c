/*
 * An invitation a client brings (livekit_token_invitation required):
 * ngx_http_livekit_invite_parse() with the fuzzing key, with the checks:
 *
 *   - it returns NGX_OK, or NGX_DECLINED with invitation_invalid, never
 *     anything else;
 *   - an accepted invitation is really signed with the key: the MAC over
 *     "livekit-invitation." and its first part, recomputed here with
 *     OpenSSL's one-shot HMAC(), is its second part;
 *   - its fields are bounded text (id 1-64 bytes, room 1-256, role 1-64,
 *     identity and name 0-256, no control characters), exp within
 *     (0, year 2100];
 *   - signed again with ngx_http_livekit_invite_sign() and read back, it
 *     is the same invitation.
 *
 * Input: one byte, then the rest.  Bit 0 clear: the rest is the
 * invitation's text as a client sends it (the fuzzer cannot forge the
 * MAC, so this covers the splitting, decoding and verifying).  Bit 0 set:
 * the rest is the JSON inside, which the harness signs with the key
 * first, so that the checks of a validly signed invitation's fields are
 * fuzzed too.
 */

#include "fuzz_claims.h"

#include <openssl/hmac.h>


static const char  fuzz_invite_secret[] =
    "fuzzing-secret-of-at-least-32-bytes!";

static ngx_http_livekit_keyset_t   fuzz_invite_keyset;
static ngx_http_livekit_keyset_t  *fuzz_invite_ks[1];
static ngx_array_t                 fuzz_invite_keys;


static void
fuzz_invite_init(void)
{
    static int  done;

    if (done) {
        return;
    }

    done = 1;
    fuzz_claims_init();

    fuzz_invite_keyset.key = &fuzz_key;
    fuzz_invite_ks[0] = &fuzz_invite_keyset;
    fuzz_invite_keys.elts = fuzz_invite_ks;
    fuzz_invite_keys.nelts = 1;
}


static void
fuzz_invite_text(ngx_str_t *s, size_t min, size_t max)
{
    size_t  i;

    FUZZ_CHECK(s->len >= min && s->len <= max, "a field's length");

    for (i = 0; i < s->len; i++) {
        FUZZ_CHECK(s->data[i] >= 0x20 && s->data[i] != 0x7f,
                   "a control character in a field");
    }
}


/* the MAC of an accepted invitation, recomputed without the module */

static void
fuzz_invite_mac(ngx_str_t *text)
{
    u_char        *dot, mac[EVP_MAX_MD_SIZE], *buf;
    size_t         len;
    unsigned int   maclen;
    ngx_str_t      src, dst;
    u_char         b64[64];

    dot = memchr(text->data, '.', text->len);
    FUZZ_CHECK(dot != NULL, "an accepted invitation without a dot");

    len = sizeof("livekit-invitation.") - 1 + (dot - text->data);
    buf = malloc(len);
    FUZZ_CHECK(buf != NULL, "malloc");
    memcpy(buf, "livekit-invitation.", sizeof("livekit-invitation.") - 1);
    memcpy(buf + sizeof("livekit-invitation.") - 1, text->data,
           dot - text->data);

    FUZZ_CHECK(HMAC(EVP_sha256(), fuzz_invite_secret,
                    sizeof(fuzz_invite_secret) - 1, buf, len, mac, &maclen)
               != NULL, "HMAC");
    free(buf);

    src.data = mac;
    src.len = maclen;
    dst.data = b64;
    ngx_encode_base64url(&dst, &src);

    FUZZ_CHECK((size_t) (text->data + text->len - dot - 1) == dst.len
               && memcmp(dot + 1, dst.data, dst.len) == 0,
               "an invitation accepted with a signature that is not the MAC");
}


static void
fuzz_invite_accepted(ngx_pool_t *pool, ngx_str_t *text,
    ngx_http_livekit_invitation_t *inv)
{
    ngx_str_t                      again;
    ngx_http_livekit_error_t       err;
    ngx_http_livekit_invitation_t  inv2;

    fuzz_invite_mac(text);

    fuzz_invite_text(&inv->id, 1, 64);
    fuzz_invite_text(&inv->room, 1, NGX_HTTP_LIVEKIT_MAX_NAME);
    fuzz_invite_text(&inv->role, 1, 64);
    fuzz_invite_text(&inv->identity, 0, NGX_HTTP_LIVEKIT_MAX_NAME);
    fuzz_invite_text(&inv->name, 0, NGX_HTTP_LIVEKIT_MAX_NAME);
    FUZZ_CHECK(inv->expires > 0 && inv->expires <= 4102444800LL, "exp");
    FUZZ_CHECK(inv->single_use <= 1, "single_use");

    FUZZ_CHECK(ngx_http_livekit_invite_sign(pool, &fuzz_log, &fuzz_key, inv,
                                            &again) == NGX_OK,
               "an accepted invitation cannot be signed again");
    FUZZ_CHECK(ngx_http_livekit_invite_parse(pool, &fuzz_log,
                                             &fuzz_invite_keys, &again,
                                             &inv2, &err) == NGX_OK,
               "an invitation signed here is refused");

#define fuzz_same(f)                                                          \
    FUZZ_CHECK(inv->f.len == inv2.f.len                                       \
               && (inv->f.len == 0                                            \
                   || memcmp(inv->f.data, inv2.f.data, inv->f.len) == 0),    \
               "the round trip changes " #f)

    fuzz_same(id);
    fuzz_same(room);
    fuzz_same(role);
    fuzz_same(identity);
    fuzz_same(name);
    FUZZ_CHECK(inv->expires == inv2.expires
               && inv->single_use == inv2.single_use,
               "the round trip changes exp or single_use");
}


/* the JSON of the input, signed with the key as the admin would */

static ngx_int_t
fuzz_invite_signed(ngx_pool_t *pool, const uint8_t *data, size_t size,
    ngx_str_t *text)
{
    u_char     mac[EVP_MAX_MD_SIZE];
    size_t     maclen;
    ngx_str_t  src, sig, prefix = ngx_string("livekit-invitation.");

    if (size > 4096) {
        return NGX_DECLINED;
    }

    src.data = (u_char *) data;
    src.len = size;

    text->data = ngx_pnalloc(pool, ngx_base64_encoded_length(size) + 1 + 64);
    FUZZ_CHECK(text->data != NULL, "pnalloc");
    ngx_encode_base64url(text, &src);

    FUZZ_CHECK(ngx_http_livekit_hmac(&fuzz_log, &fuzz_key, &prefix,
                                     text->data, text->len, mac, &maclen)
               == NGX_OK, "hmac");

    text->data[text->len] = '.';
    src.data = mac;
    src.len = maclen;
    sig.data = text->data + text->len + 1;
    ngx_encode_base64url(&sig, &src);
    text->len += 1 + sig.len;

    return NGX_OK;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ngx_int_t                      rc;
    ngx_str_t                      text;
    ngx_pool_t                    *pool;
    ngx_http_livekit_error_t       err;
    ngx_http_livekit_invitation_t  inv;

    if (size < 1) {
        return 0;
    }

    fuzz_invite_init();
    pool = fuzz_pool();

    if (data[0] & 1) {
        if (fuzz_invite_signed(pool, data + 1, size - 1, &text) != NGX_OK) {
            ngx_destroy_pool(pool);
            return 0;
        }

    } else {
        text.data = fuzz_dup(data + 1, size - 1);
        text.len = size - 1;
    }

    ngx_memzero(&err, sizeof(err));

    rc = ngx_http_livekit_invite_parse(pool, &fuzz_log, &fuzz_invite_keys,
                                       &text, &inv, &err);

    FUZZ_CHECK(rc == NGX_OK
               || (rc == NGX_DECLINED
                   && err.code == NGX_HTTP_LIVEKIT_INVITATION_INVALID
                   && err.message != NULL),
               "parse returns something other than OK or invitation_invalid");

    if (rc == NGX_OK) {
        fuzz_invite_accepted(pool, &text, &inv);
    }

    if (!(data[0] & 1)) {
        free(text.data);
    }

    ngx_destroy_pool(pool);

    return 0;
}
