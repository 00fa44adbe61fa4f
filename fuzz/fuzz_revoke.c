/*
 * One revocation as JSON, as the admin location's body and each entry of
 * the state file are read: ngx_http_livekit_revocation_from_json(), with
 * the checks:
 *
 *   - it returns NGX_OK or NGX_DECLINED with a message, nothing else;
 *   - an accepted revocation has a kind of the table, a first name of 1 to
 *     256 bytes of text without control characters (and a second one only
 *     for a participant), "before" only for a room;
 *   - written back with ngx_http_livekit_revocation_json() and read again,
 *     it is the same revocation.
 *
 * Input: the JSON text.
 */

#include "fuzz_common.h"
#include <ngx_http.h>
#include "ngx_http_livekit_token.h"


static void
fuzz_revoke_name(ngx_str_t *s, ngx_uint_t may_be_empty)
{
    size_t  i;

    FUZZ_CHECK(s->len <= NGX_HTTP_LIVEKIT_MAX_NAME, "a name over 256");
    FUZZ_CHECK(may_be_empty || s->len > 0, "an empty name");

    for (i = 0; i < s->len; i++) {
        FUZZ_CHECK(s->data[i] >= 0x20 && s->data[i] != 0x7f,
                   "a control character in a name");
    }
}


static ngx_uint_t
fuzz_revoke_same(ngx_http_livekit_revocation_t *a,
    ngx_http_livekit_revocation_t *b)
{
    return a->kind == b->kind && a->before == b->before
           && a->created == b->created && a->expires == b->expires
           && a->a.len == b->a.len && a->b.len == b->b.len
           && (a->a.len == 0 || memcmp(a->a.data, b->a.data, a->a.len) == 0)
           && (a->b.len == 0 || memcmp(a->b.data, b->b.data, a->b.len) == 0);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t                         *root, *again;
    ngx_int_t                       rc;
    const char                     *error;
    ngx_http_livekit_revocation_t   rv, rv2;

    fuzz_init_core();

    root = json_loadb((const char *) data, size, JSON_REJECT_DUPLICATES,
                      NULL);
    if (root == NULL) {
        return 0;
    }

    error = NULL;
    rc = ngx_http_livekit_revocation_from_json(root, &rv, &error);
    FUZZ_CHECK(rc == NGX_OK || (rc == NGX_DECLINED && error != NULL),
               "from_json return code");

    if (rc == NGX_OK) {
        FUZZ_CHECK(rv.kind < NGX_HTTP_LIVEKIT_REVOKE_NKINDS, "kind");
        fuzz_revoke_name(&rv.a, 0);
        fuzz_revoke_name(&rv.b,
                         rv.kind != NGX_HTTP_LIVEKIT_REVOKE_PARTICIPANT);
        FUZZ_CHECK(rv.kind == NGX_HTTP_LIVEKIT_REVOKE_PARTICIPANT
                   || rv.b.len == 0, "a second name");
        FUZZ_CHECK(rv.kind == NGX_HTTP_LIVEKIT_REVOKE_ROOM || rv.before == 0,
                   "before on another kind");
        FUZZ_CHECK(rv.before >= 0 && rv.created >= 0 && rv.expires >= 0,
                   "a negative time");

        /* created and expires go out only together, as a kept one has */
        if (rv.created == 0) {
            rv.expires = 0;
        }

        again = ngx_http_livekit_revocation_json(&rv);
        FUZZ_CHECK(again != NULL, "revocation_json");
        FUZZ_CHECK(ngx_http_livekit_revocation_from_json(again, &rv2, &error)
                   == NGX_OK, "its own JSON is refused");
        FUZZ_CHECK(fuzz_revoke_same(&rv, &rv2), "the round trip differs");
        json_decref(again);
    }

    json_decref(root);

    return 0;
}
