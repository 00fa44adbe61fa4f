/*
 * Shared by fuzz_args.c and fuzz_json.c: a location configuration chosen
 * by the first input byte, then claims_finish(), the claims JSON and the
 * signature, with the checks:
 *
 *   - finish() returns NGX_OK, NGX_DECLINED (with an error code and
 *     message) or NGX_ERROR, nothing else;
 *   - on NGX_OK the claims JSON parses with jansson (duplicate keys
 *     rejected) and gives back exactly the identity, room, name, metadata,
 *     attributes and roomConfig that finish() accepted;
 *   - the token fits in ngx_http_livekit_jwt_len() bytes and its payload
 *     decodes to the claims JSON.
 *
 * First byte, bit by bit (the rest of the input is the query / body):
 *   0x01 identity pinned ("pinned-user"), 0x02 room pinned ("pinned-room"),
 *   0x04 name pinned, 0x08 metadata pinned, 0x10 livekit_token_room_pattern
 *   ^[a-z0-9_-]{1,64}$, 0x20 location attributes (role, team),
 *   0x40 livekit_token_metadata_max_size 64 (else 64k),
 *   0x80 every grant and canPublishSources.
 */

#ifndef _FUZZ_CLAIMS_H_INCLUDED_
#define _FUZZ_CLAIMS_H_INCLUDED_

#include "fuzz_common.h"
#include <ngx_http.h>
#include "ngx_http_livekit_token.h"

#include <openssl/core_names.h>
#include <openssl/params.h>


static ngx_conf_t              fuzz_cf;
static ngx_pool_t             *fuzz_cf_pool;
static ngx_http_livekit_key_t  fuzz_key;

static ngx_http_livekit_token_loc_conf_t  fuzz_lcf[256];


static void
fuzz_cv(ngx_http_complex_value_t **cv, const char *value)
{
    *cv = ngx_pcalloc(fuzz_cf_pool, sizeof(ngx_http_complex_value_t));
    FUZZ_CHECK(*cv != NULL, "pcalloc");

    /* no lengths: a constant, as ngx_http_compile_complex_value() makes */
    (*cv)->value.data = (u_char *) value;
    (*cv)->value.len = strlen(value);
}


static void
fuzz_claims_init(void)
{
    static int                     done;
    ngx_uint_t                     i;
    ngx_str_t                     *s;
    EVP_MAC                       *mac;
    OSSL_PARAM                     params[2];
    ngx_http_livekit_attribute_t  *a;
    ngx_http_livekit_token_loc_conf_t  *lcf;

#if (NGX_PCRE)
    u_char                         errstr[NGX_MAX_CONF_ERRSTR];
    ngx_regex_compile_t            rc;
#endif

    static const char  secret[] = "fuzzing-secret-of-at-least-32-bytes!";

    if (done) {
        return;
    }

    done = 1;
    fuzz_init_core();

    fuzz_cf_pool = ngx_create_pool(16384, &fuzz_log);
    FUZZ_CHECK(fuzz_cf_pool != NULL, "pool");

    fuzz_cf.pool = fuzz_cf_pool;
    fuzz_cf.temp_pool = fuzz_cf_pool;
    fuzz_cf.log = &fuzz_log;

    FUZZ_CHECK(ngx_http_livekit_jwt_init(&fuzz_cf) == NGX_OK, "jwt_init");

    ngx_str_set(&fuzz_key.name, "APIfuzz\"key");   /* escaped as iss */

    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    FUZZ_CHECK(mac != NULL, "EVP_MAC_fetch");
    fuzz_key.mac = EVP_MAC_CTX_new(mac);
    FUZZ_CHECK(fuzz_key.mac != NULL, "EVP_MAC_CTX_new");
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *) "SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    FUZZ_CHECK(EVP_MAC_init(fuzz_key.mac, (u_char *) secret,
                            sizeof(secret) - 1, params) == 1, "EVP_MAC_init");

    for (i = 0; i < 256; i++) {
        lcf = &fuzz_lcf[i];
        ngx_memzero(lcf, sizeof(*lcf));

        lcf->ttl = 600;
        lcf->grants = NGX_HTTP_LIVEKIT_DEFAULT_GRANTS;
        lcf->metadata_max = (i & 0x40) ? 64 : 65536;

        if (i & 0x01) {
            fuzz_cv(&lcf->identity, "pinned-user");
        }

        if (i & 0x02) {
            fuzz_cv(&lcf->room, "pinned-room");
        }

        if (i & 0x04) {
            fuzz_cv(&lcf->name, "Pinned \"Name\" \xc3\xa9");
        }

        if (i & 0x08) {
            fuzz_cv(&lcf->metadata, "{\"plan\":\"pro\"}\n");
        }

#if (NGX_PCRE)
        if (i & 0x10) {
            ngx_memzero(&rc, sizeof(ngx_regex_compile_t));
            ngx_str_set(&rc.pattern, "^[a-z0-9_-]{1,64}$");
            rc.pool = fuzz_cf_pool;
            rc.err.len = NGX_MAX_CONF_ERRSTR;
            rc.err.data = errstr;
            FUZZ_CHECK(ngx_regex_compile(&rc) == NGX_OK, "regex");
            lcf->room_pattern = rc.regex;
        }
#endif

        if (i & 0x20) {
            lcf->attributes = ngx_array_create(fuzz_cf_pool, 2,
                                        sizeof(ngx_http_livekit_attribute_t));
            FUZZ_CHECK(lcf->attributes != NULL, "array");

            a = ngx_array_push(lcf->attributes);
            ngx_memzero(a, sizeof(*a));
            ngx_str_set(&a->name, "role");          /* NUL-terminated */
            a->value.value.data = (u_char *) "guest";
            a->value.value.len = 5;

            a = ngx_array_push(lcf->attributes);
            ngx_memzero(a, sizeof(*a));
            ngx_str_set(&a->name, "team");
            a->value.value.data = (u_char *) "\xc3\xbc\tx";
            a->value.value.len = 4;
        }

        if (i & 0x80) {
            lcf->grants = 0x07ff;
            lcf->sources = ngx_array_create(fuzz_cf_pool, 2, sizeof(ngx_str_t));
            FUZZ_CHECK(lcf->sources != NULL, "array");
            s = ngx_array_push(lcf->sources);
            ngx_str_set(s, "camera");
            s = ngx_array_push(lcf->sources);
            ngx_str_set(s, "microphone");
        }

        FUZZ_CHECK(ngx_http_livekit_jwt_grant_init(&fuzz_cf, lcf) == NGX_OK,
                   "grant_init");
    }
}


static void
fuzz_check_str(json_t *obj, const char *key, ngx_str_t *want)
{
    json_t  *v;

    v = json_object_get(obj, key);

    if (want->len == 0) {
        FUZZ_CHECK(v == NULL || json_string_length(v) == 0,
                   "claim present though empty");
        return;
    }

    FUZZ_CHECK(json_is_string(v), key);
    FUZZ_CHECK(json_string_length(v) == want->len
               && memcmp(json_string_value(v), want->data, want->len) == 0,
               key);
}


/* after the caller parsed the query / body into "c" */

static void
fuzz_claims_run(ngx_http_request_t *r, ngx_uint_t conf,
    ngx_http_livekit_claims_t *c)
{
    u_char                    *tok, *end, *dot1, *dot2;
    size_t                     tlen;
    json_t                    *root, *video;
    ngx_int_t                  rc;
    ngx_str_t                  json, identity, room, name, metadata, iss;
    ngx_str_t                  b64, dec;
    json_error_t               jerr;
    ngx_http_livekit_error_t   err;
    ngx_http_livekit_token_loc_conf_t  *lcf;

    lcf = &fuzz_lcf[conf & 0xff];
    ngx_memzero(&err, sizeof(err));

    rc = ngx_http_livekit_claims_finish(r, lcf, c, &err);

    FUZZ_CHECK(rc == NGX_OK || rc == NGX_DECLINED || rc == NGX_ERROR,
               "finish: unexpected return code");

    if (rc == NGX_DECLINED) {
        FUZZ_CHECK(ngx_http_livekit_codes[err.code].status >= 400
                   && ngx_http_livekit_codes[err.code].status < 500
                   && err.message, "finish declined without an error");
    }

    if (rc != NGX_OK) {
        return;
    }

    FUZZ_CHECK(c->identity.len > 0 && c->identity.len <= 256, "identity len");
    FUZZ_CHECK(c->room.len > 0 && c->room.len <= 256, "room len");

    identity = c->identity;
    room = c->room;
    name = c->name;
    metadata = c->metadata;
    iss = fuzz_key.name;

    rc = ngx_http_livekit_jwt_claims(r, lcf, &fuzz_key, c, &json);
    FUZZ_CHECK(rc == NGX_OK, "jwt_claims failed on accepted claims");

    root = json_loadb((char *) json.data, json.len, JSON_REJECT_DUPLICATES,
                      &jerr);
    if (root == NULL) {
        fprintf(stderr, "claims JSON does not parse: %s: %.*s\n", jerr.text,
                (int) json.len, json.data);
    }
    FUZZ_CHECK(root != NULL, "claims JSON does not parse");
    FUZZ_CHECK(json_is_object(root), "claims JSON is not an object");

    fuzz_check_str(root, "iss", &iss);
    fuzz_check_str(root, "sub", &identity);
    fuzz_check_str(root, "name", &name);
    fuzz_check_str(root, "metadata", &metadata);

    FUZZ_CHECK(json_is_integer(json_object_get(root, "nbf")), "nbf");
    FUZZ_CHECK(json_is_integer(json_object_get(root, "exp")), "exp");

    video = json_object_get(root, "video");
    FUZZ_CHECK(json_is_object(video), "video");
    fuzz_check_str(video, "room", &room);

    if (c->attributes && json_object_size(c->attributes)) {
        FUZZ_CHECK(json_equal(json_object_get(root, "attributes"),
                              c->attributes), "attributes differ");
    } else {
        FUZZ_CHECK(json_object_get(root, "attributes") == NULL,
                   "empty attributes written");
    }

    if (c->room_config) {
        FUZZ_CHECK(json_equal(json_object_get(root, "roomConfig"),
                              c->room_config), "roomConfig differs");
    }

    json_decref(root);

    /* the token in a buffer of exactly the announced size */

    tlen = ngx_http_livekit_jwt_len(json.len);
    tok = malloc(tlen);
    FUZZ_CHECK(tok != NULL, "malloc");

    end = ngx_http_livekit_jwt_sign(r, &fuzz_key, &json, tok);
    FUZZ_CHECK(end != NULL, "jwt_sign");
    FUZZ_CHECK(end <= tok + tlen, "token longer than jwt_len");

    dot1 = memchr(tok, '.', end - tok);
    FUZZ_CHECK(dot1 != NULL, "no first dot");
    dot2 = memchr(dot1 + 1, '.', end - dot1 - 1);
    FUZZ_CHECK(dot2 != NULL, "no second dot");

    b64.data = dot1 + 1;
    b64.len = dot2 - dot1 - 1;
    dec.data = malloc(ngx_base64_decoded_length(b64.len) + 1);
    FUZZ_CHECK(dec.data != NULL, "malloc");
    FUZZ_CHECK(ngx_decode_base64url(&dec, &b64) == NGX_OK, "payload b64");
    FUZZ_CHECK(dec.len == json.len
               && memcmp(dec.data, json.data, json.len) == 0,
               "payload is not the claims JSON");

    free(dec.data);
    free(tok);
}


static ngx_http_request_t *
fuzz_request(ngx_pool_t *pool)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = ngx_pcalloc(pool, sizeof(ngx_http_request_t));
    c = ngx_pcalloc(pool, sizeof(ngx_connection_t));
    FUZZ_CHECK(r != NULL && c != NULL, "pcalloc");

    c->log = &fuzz_log;
    c->pool = pool;
    r->connection = c;
    r->pool = pool;

    return r;
}

#endif /* _FUZZ_CLAIMS_H_INCLUDED_ */
