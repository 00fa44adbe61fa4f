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
 *   0x80 every grant, canPublishSources, kind, roomPreset,
 *   destinationRoom and livekit_token_agents *; with 0x40 also
 *   livekit_token_room_config; 0x20 without 0x80: agents notes and
 *   summarizer.
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


/* 0x80: any agent, the whole vocabulary, and with 0x40 a roomConfig */

static void
fuzz_room_config(ngx_http_livekit_token_loc_conf_t *lcf, ngx_uint_t config)
{
    size_t  len;

    lcf->agents = ngx_array_create(fuzz_cf_pool, 1, sizeof(ngx_str_t));
    FUZZ_CHECK(lcf->agents != NULL, "array");
    ngx_str_null((ngx_str_t *) ngx_array_push(lcf->agents));
    lcf->agents_any = 1;

    ngx_str_set(&lcf->kind, "agent");
    ngx_str_set(&lcf->room_preset, "pre\"set");
    ngx_str_set(&lcf->destination_room, "dest\\room");

    if (!config) {
        return;
    }

    lcf->room_config = json_pack("{s:i,s:[{s:s}]}", "maxParticipants", 3,
                                 "agents", "agentName", "greeter");
    FUZZ_CHECK(lcf->room_config != NULL, "json_pack");

    len = json_dumpb(lcf->room_config, NULL, 0, JSON_COMPACT);
    lcf->room_config_json.data = ngx_pnalloc(fuzz_cf_pool, len);
    FUZZ_CHECK(lcf->room_config_json.data != NULL, "pnalloc");
    lcf->room_config_json.len = json_dumpb(lcf->room_config,
                                     (char *) lcf->room_config_json.data,
                                     len, JSON_COMPACT);
}


/*
 * Whatever roomConfig a token carries holds only the configuration's
 * fields and "agents", and only agents the location allows.
 */

static void
fuzz_check_room_config(ngx_http_livekit_token_loc_conf_t *lcf, json_t *rc)
{
    size_t       n;
    json_t      *v, *a, *name;
    ngx_str_t    s;
    const char  *k;

    if (rc == NULL) {
        FUZZ_CHECK(lcf->room_config == NULL, "configured roomConfig lost");
        return;
    }

    FUZZ_CHECK(json_is_object(rc), "roomConfig is not an object");

    json_object_foreach(rc, k, v) {
        FUZZ_CHECK(strcmp(k, "agents") == 0
                   || (lcf->room_config
                       && json_equal(v, json_object_get(lcf->room_config, k))),
                   "roomConfig holds a field the location did not set");
    }

    json_array_foreach(json_object_get(rc, "agents"), n, a) {
        name = json_object_get(a, "agentName");

        if (lcf->room_config && n == 0) {
            continue;                       /* the configuration's own */
        }

        FUZZ_CHECK(json_object_size(a) <= 2, "agent entry with more fields");
        FUZZ_CHECK(lcf->agents != NULL, "agents where none are allowed");

        if (lcf->agents_any) {
            continue;
        }

        FUZZ_CHECK(json_is_string(name), "agent without a name");
        s.data = (u_char *) json_string_value(name);
        s.len = json_string_length(name);
        FUZZ_CHECK(ngx_http_livekit_vocab_find(lcf->agents->elts, &s) != NULL,
                   "an agent the location does not allow");
    }
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

        if ((i & 0xa0) == 0x20) {
            lcf->agents = ngx_array_create(fuzz_cf_pool, 2, sizeof(ngx_str_t));
            FUZZ_CHECK(lcf->agents != NULL, "array");
            s = ngx_array_push(lcf->agents);
            ngx_str_set(s, "notes");
            s = ngx_array_push(lcf->agents);
            ngx_str_set(s, "summarizer");
            s = ngx_array_push(lcf->agents);
            ngx_str_null(s);                /* as the directive ends it */
        }

        if (i & 0x80) {
            fuzz_room_config(lcf, i & 0x40);
            lcf->grants = 0x1fffff;
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

    } else if (lcf->room_config) {
        FUZZ_CHECK(json_equal(json_object_get(root, "roomConfig"),
                              lcf->room_config), "roomConfig not the config");

    } else {
        FUZZ_CHECK(json_object_get(root, "roomConfig") == NULL,
                   "roomConfig nobody allowed");
    }

    fuzz_check_room_config(lcf, json_object_get(root, "roomConfig"));

    json_decref(root);

    /* the token in a buffer of exactly the announced size */

    tlen = ngx_http_livekit_jwt_len(json.len);
    tok = malloc(tlen);
    FUZZ_CHECK(tok != NULL, "malloc");

    end = ngx_http_livekit_jwt_sign(r->connection->log, &fuzz_key, &json, tok);
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
