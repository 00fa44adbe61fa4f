
/*
 * What the client asked for, checked.
 *
 * Owns: reading room, identity, name, metadata, attributes and roomConfig
 * from the GET query (read like URLSearchParams) or the POST JSON body
 * (LiveKit's standard token endpoint), then applying the location's
 * configuration: pinned values, defaults, the room pattern and every
 * limit.  Any problem becomes a 4xx with a code from the code table and a
 * message saying what to fix; nothing here logs a client value.
 * Also reads a request body into one piece.
 * Does not own: writing replies (_module.c, _reply.c), or which
 * roomConfig is allowed (_room_config.c).
 */

#include "ngx_http_livekit_token.h"


/* how one claim is set by configuration and checked */
typedef struct {
    ngx_http_livekit_code_e     pinned;
    const char                 *pinned_msg;
    ngx_http_livekit_code_e     unavailable;  /* NCODES: may be empty */
} ngx_http_livekit_pin_t;


static ngx_http_livekit_pin_t  ngx_http_livekit_pin_identity = {
    NGX_HTTP_LIVEKIT_IDENTITY_PINNED,
    "this location sets the participant identity itself: "
    "do not send participant / participant_identity",
    NGX_HTTP_LIVEKIT_IDENTITY_UNAVAILABLE
};

static ngx_http_livekit_pin_t  ngx_http_livekit_pin_room = {
    NGX_HTTP_LIVEKIT_ROOM_PINNED,
    "this location sets the room itself: do not send room / room_name",
    NGX_HTTP_LIVEKIT_ROOM_UNAVAILABLE
};

static ngx_http_livekit_pin_t  ngx_http_livekit_pin_name = {
    NGX_HTTP_LIVEKIT_NAME_PINNED,
    "this location sets the participant name itself: "
    "do not send name / participant_name",
    NGX_HTTP_LIVEKIT_NCODES
};

static ngx_http_livekit_pin_t  ngx_http_livekit_pin_metadata = {
    NGX_HTTP_LIVEKIT_METADATA_PINNED,
    "this location sets the participant metadata itself: "
    "do not send metadata / participant_metadata",
    NGX_HTTP_LIVEKIT_NCODES
};


static ngx_int_t ngx_http_livekit_arg(ngx_http_request_t *r, u_char *raw,
    size_t len, ngx_str_t *value);
static ngx_int_t ngx_http_livekit_json_fields(json_t *root,
    ngx_http_livekit_claims_t *c, ngx_http_livekit_error_t *err);
static ngx_int_t ngx_http_livekit_json_str(json_t *root, const char *name,
    ngx_str_t *value);
static ngx_int_t ngx_http_livekit_claims_set(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf, ngx_http_livekit_claims_t *c,
    ngx_http_livekit_error_t *err);
static ngx_int_t ngx_http_livekit_pin(ngx_http_request_t *r,
    ngx_http_complex_value_t *cv, ngx_http_complex_value_t *dflt,
    ngx_str_t *value, ngx_http_livekit_pin_t *pin,
    ngx_http_livekit_error_t *err);
static ngx_int_t ngx_http_livekit_check_name(ngx_str_t *s,
    ngx_http_livekit_error_t *err, ngx_http_livekit_code_e missing,
    ngx_http_livekit_code_e too_long, const char *msg_missing,
    const char *msg_too_long);
static ngx_int_t ngx_http_livekit_room_pattern(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf, ngx_http_livekit_claims_t *c,
    ngx_http_livekit_error_t *err);
static ngx_int_t ngx_http_livekit_attributes(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf, ngx_http_livekit_claims_t *c,
    ngx_http_livekit_error_t *err);
static ngx_int_t ngx_http_livekit_attributes_check(
    ngx_http_livekit_token_loc_conf_t *lcf, json_t *attributes,
    ngx_http_livekit_error_t *err);


/*
 * GET /token?room=xyz&participant=Jane[&name=..][&metadata=..][&invite=..]
 *
 * One pass over the query, as URLSearchParams reads it: names match
 * exactly (case-sensitive), the first value of a name wins, "+" and
 * percent escapes are decoded in the value.
 */

ngx_int_t
ngx_http_livekit_claims_from_args(ngx_http_request_t *r,
    ngx_http_livekit_claims_t *c, ngx_http_livekit_error_t *err)
{
    u_char      *p, *last, *amp, *eq;
    ngx_str_t   *value;
    ngx_uint_t   seen, bit;

    seen = 0;
    p = r->args.data;
    last = p + r->args.len;

    for ( /* void */ ; p < last; p = amp + 1) {

        amp = ngx_strlchr(p, last, '&');
        if (amp == NULL) {
            amp = last;
        }

        eq = ngx_strlchr(p, amp, '=');
        if (eq == NULL) {
            eq = amp;
        }

        switch (eq - p) {

        case 6:
            if (ngx_strncmp(p, "invite", 6) != 0) {
                continue;
            }

            value = &c->invite;
            bit = 16;
            break;

        case 4:
            if (ngx_strncmp(p, "room", 4) == 0) {
                value = &c->room;
                bit = 1;

            } else if (ngx_strncmp(p, "name", 4) == 0) {
                value = &c->name;
                bit = 2;

            } else {
                continue;
            }

            break;

        case 8:
            if (ngx_strncmp(p, "metadata", 8) != 0) {
                continue;
            }

            value = &c->metadata;
            bit = 4;
            break;

        case 11:
            if (ngx_strncmp(p, "participant", 11) != 0) {
                continue;
            }

            value = &c->identity;
            bit = 8;
            break;

        default:
            continue;
        }

        if (seen & bit) {
            continue;
        }

        seen |= bit;

        if (eq < amp
            && ngx_http_livekit_arg(r, eq + 1, amp - eq - 1, value) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * An argument's value decoded as URLSearchParams does: "+" is a space,
 * "%" and two hex digits a byte, and any other "%" stays as it is
 * ("50%off" is "50%off", "J%4" is "J%4").
 */

static ngx_int_t
ngx_http_livekit_arg(ngx_http_request_t *r, u_char *raw, size_t len,
    ngx_str_t *value)
{
    u_char     *p, *last, *d;
    ngx_int_t   byte;

    last = raw + len;

    if (ngx_strlchr(raw, last, '%') == NULL
        && ngx_strlchr(raw, last, '+') == NULL)
    {
        value->data = raw;
        value->len = len;
        return NGX_OK;
    }

    value->data = ngx_pnalloc(r->pool, len);
    if (value->data == NULL) {
        return NGX_ERROR;
    }

    d = value->data;

    for (p = raw; p < last; p++) {

        if (*p == '+') {
            *d++ = ' ';
            continue;
        }

        if (*p == '%' && last - p >= 3) {
            byte = ngx_hextoi(p + 1, 2);

            if (byte != NGX_ERROR) {
                *d++ = (u_char) byte;
                p += 2;
                continue;
            }
        }

        *d++ = *p;
    }

    value->len = d - value->data;

    return NGX_OK;
}


/*
 * The request body in one piece, whether in memory or buffered to disk;
 * NGX_DECLINED, before any copy, when it is larger than "max" (a body
 * without Content-Length).
 */

ngx_int_t
ngx_http_livekit_request_body(ngx_http_request_t *r, size_t max,
    ngx_str_t *body)
{
    u_char       *p;
    off_t         len;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_log_t     log;
    ngx_chain_t  *cl;

    ngx_str_null(body);

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        len += ngx_buf_size(cl->buf);
    }

    if ((size_t) len > max) {
        return NGX_DECLINED;
    }

    if (len == 0) {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (!b->in_file) {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
            continue;
        }

        n = ngx_read_file(b->file, p, b->file_last - b->file_pos,
                          b->file_pos);

        if (n != b->file_last - b->file_pos) {
            ngx_http_livekit_reply_log(r, &log);
            ngx_log_error(NGX_LOG_ERR, &log, 0,
                          "livekit token: cannot read the buffered body");
            return NGX_ERROR;
        }

        p += n;
    }

    body->len = p - body->data;

    return NGX_OK;
}


/*
 * POST with LiveKit's token request: room_name, participant_identity,
 * participant_name, participant_metadata, participant_attributes,
 * room_config, and our "invite"; every field optional, unknown fields
 * ignored.
 */

ngx_int_t
ngx_http_livekit_claims_from_json(ngx_http_request_t *r, u_char *body,
    size_t len, ngx_http_livekit_claims_t *c, ngx_http_livekit_error_t *err)
{
    json_t              *root;
    json_error_t         jerr;
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    root = json_loadb((char *) body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_INVALID_JSON,
            "the request body must be a JSON object (UTF-8, no duplicate "
            "keys), as in {\"room_name\":\"...\","
            "\"participant_identity\":\"...\"}");
    }

    cln->handler = ngx_http_livekit_json_cleanup;
    cln->data = root;

    if (!json_is_object(root)) {
        return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_INVALID_JSON,
            "the request body must be a JSON object, as in "
            "{\"room_name\":\"...\",\"participant_identity\":\"...\"}");
    }

    return ngx_http_livekit_json_fields(root, c, err);
}


static ngx_int_t
ngx_http_livekit_json_fields(json_t *root, ngx_http_livekit_claims_t *c,
    ngx_http_livekit_error_t *err)
{
    json_t  *v;

    if (ngx_http_livekit_json_str(root, "room_name", &c->room) != NGX_OK) {
        return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_INVALID_TYPE,
                                     "room_name must be a string");
    }

    if (ngx_http_livekit_json_str(root, "participant_identity", &c->identity)
        != NGX_OK)
    {
        return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_INVALID_TYPE,
                                     "participant_identity must be a string");
    }

    if (ngx_http_livekit_json_str(root, "participant_name", &c->name)
        != NGX_OK)
    {
        return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_INVALID_TYPE,
                                     "participant_name must be a string");
    }

    if (ngx_http_livekit_json_str(root, "participant_metadata", &c->metadata)
        != NGX_OK)
    {
        return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_INVALID_TYPE,
                                     "participant_metadata must be a string");
    }

    if (ngx_http_livekit_json_str(root, "invite", &c->invite) != NGX_OK) {
        return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_INVALID_TYPE,
                                     "invite must be a string");
    }

    v = json_object_get(root, "participant_attributes");

    if (v && !json_is_null(v)) {
        if (!json_is_object(v)) {
            return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_INVALID_TYPE,
                "participant_attributes must be an object of strings");
        }

        c->attributes = v;
    }

    v = json_object_get(root, "room_config");

    if (v && !json_is_null(v)) {
        if (!json_is_object(v)) {
            return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_INVALID_TYPE,
                                         "room_config must be an object");
        }

        c->room_config = v;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_livekit_json_str(json_t *root, const char *name, ngx_str_t *value)
{
    json_t  *v;

    v = json_object_get(root, name);

    if (v == NULL || json_is_null(v)) {
        ngx_str_null(value);
        return NGX_OK;
    }

    if (!json_is_string(v)) {
        return NGX_DECLINED;
    }

    value->data = (u_char *) json_string_value(v);
    value->len = json_string_length(v);

    return NGX_OK;
}


/*
 * Both contracts end here: pinned values replace what the client sent
 * (a different value is refused), defaults fill what it did not send, then
 * every limit is checked.
 */

ngx_int_t
ngx_http_livekit_claims_finish(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf, ngx_http_livekit_claims_t *c,
    ngx_http_livekit_error_t *err)
{
    ngx_int_t  rc;

    rc = ngx_http_livekit_claims_set(r, lcf, c, err);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_livekit_check_name(&c->room, err,
             NGX_HTTP_LIVEKIT_MISSING_ROOM, NGX_HTTP_LIVEKIT_ROOM_TOO_LONG,
             "room is required: send ?room=<name> or \"room_name\"",
             "room must be at most 256 bytes");
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_livekit_check_name(&c->identity, err,
             NGX_HTTP_LIVEKIT_MISSING_IDENTITY,
             NGX_HTTP_LIVEKIT_IDENTITY_TOO_LONG,
             "the participant identity is required: send "
             "?participant=<identity> or \"participant_identity\"",
             "the participant identity must be at most 256 bytes");
    if (rc != NGX_OK) {
        return rc;
    }

    if (c->name.len) {
        rc = ngx_http_livekit_check_name(&c->name, err, NGX_HTTP_LIVEKIT_NCODES,
                 NGX_HTTP_LIVEKIT_NAME_TOO_LONG, NULL,
                 "the participant name must be at most 256 bytes");
        if (rc != NGX_OK) {
            return rc;
        }
    }

    if (c->metadata.len > lcf->metadata_max) {
        return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_METADATA_TOO_LARGE,
            "participant metadata is larger than the location allows "
            "(livekit_token_metadata_max_size)");
    }

    if (ngx_http_livekit_check_text(&c->metadata, 1, err) != NGX_OK) {
        return NGX_DECLINED;
    }

    rc = ngx_http_livekit_room_pattern(r, lcf, c, err);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_livekit_attributes(r, lcf, c, err);
    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_livekit_room_config_check(r, lcf, c, err);
}


static ngx_int_t
ngx_http_livekit_claims_set(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf, ngx_http_livekit_claims_t *c,
    ngx_http_livekit_error_t *err)
{
    ngx_int_t  rc;

    rc = ngx_http_livekit_pin(r, lcf->identity, lcf->identity_default,
                              &c->identity, &ngx_http_livekit_pin_identity,
                              err);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_livekit_pin(r, lcf->room, lcf->room_default, &c->room,
                              &ngx_http_livekit_pin_room, err);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_livekit_pin(r, lcf->name, NULL, &c->name,
                              &ngx_http_livekit_pin_name, err);
    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_livekit_pin(r, lcf->metadata, NULL, &c->metadata,
                                &ngx_http_livekit_pin_metadata, err);
}


/*
 * A pinned value ("cv") replaces the client's and refuses a different
 * one; a default ("dflt") is used only when the client sent nothing.
 */

static ngx_int_t
ngx_http_livekit_pin(ngx_http_request_t *r, ngx_http_complex_value_t *cv,
    ngx_http_complex_value_t *dflt, ngx_str_t *value,
    ngx_http_livekit_pin_t *pin, ngx_http_livekit_error_t *err)
{
    ngx_str_t  v;

    if (cv == NULL) {
        if (value->len == 0 && dflt) {
            return ngx_http_complex_value(r, dflt, value);
        }

        return NGX_OK;
    }

    if (ngx_http_complex_value(r, cv, &v) != NGX_OK) {
        return NGX_ERROR;
    }

    if (v.len == 0 && pin->unavailable != NGX_HTTP_LIVEKIT_NCODES) {
        return ngx_http_livekit_fail(err, pin->unavailable,
            "the server could not establish this value for you "
            "(are you signed in?)");
    }

    if (value->len
        && (value->len != v.len
            || ngx_memcmp(value->data, v.data, v.len) != 0))
    {
        return ngx_http_livekit_fail(err, pin->pinned, pin->pinned_msg);
    }

    *value = v;

    return NGX_OK;
}


static ngx_int_t
ngx_http_livekit_check_name(ngx_str_t *s, ngx_http_livekit_error_t *err,
    ngx_http_livekit_code_e missing, ngx_http_livekit_code_e too_long,
    const char *msg_missing, const char *msg_too_long)
{
    if (s->len == 0) {
        return ngx_http_livekit_fail(err, missing, msg_missing);
    }

    if (s->len > NGX_HTTP_LIVEKIT_MAX_NAME) {
        return ngx_http_livekit_fail(err, too_long, msg_too_long);
    }

    return ngx_http_livekit_check_text(s, 0, err);
}


static ngx_int_t
ngx_http_livekit_room_pattern(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf, ngx_http_livekit_claims_t *c,
    ngx_http_livekit_error_t *err)
{
#if (NGX_PCRE)
    ngx_int_t  rc;
    ngx_log_t  log;

    if (lcf->room_pattern == NULL) {
        return NGX_OK;
    }

    rc = ngx_regex_exec(lcf->room_pattern, &c->room, NULL, 0);

    if (rc == NGX_REGEX_NO_MATCHED) {
        return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_ROOM_NOT_ALLOWED,
            "this room name is not allowed here; ask for a room that "
            "matches the service's naming rules");
    }

    if (rc < 0) {
        ngx_http_livekit_reply_log(r, &log);
        ngx_log_error(NGX_LOG_ALERT, &log, 0,
                      ngx_regex_exec_n " failed: %i on room", rc);
        return NGX_ERROR;
    }
#endif

    return NGX_OK;
}


/*
 * Attributes: those the location sets (livekit_token_attribute) win; a
 * client may add others (POST participant_attributes) but not change
 * these.  Names and values are checked like metadata, and the total size
 * is bounded like metadata.
 */

static ngx_int_t
ngx_http_livekit_attributes(ngx_http_request_t *r,
    ngx_http_livekit_token_loc_conf_t *lcf, ngx_http_livekit_claims_t *c,
    ngx_http_livekit_error_t *err)
{
    json_t                        *cur;
    ngx_str_t                      s;
    ngx_uint_t                     i;
    ngx_pool_cleanup_t            *cln;
    ngx_http_livekit_attribute_t  *attr;

    if (lcf->attributes == NULL) {
        return c->attributes
               ? ngx_http_livekit_attributes_check(lcf, c->attributes, err)
               : NGX_OK;
    }

    if (c->attributes == NULL) {
        cln = ngx_pool_cleanup_add(r->pool, 0);
        if (cln == NULL) {
            return NGX_ERROR;
        }

        c->attributes = json_object();
        if (c->attributes == NULL) {
            return NGX_ERROR;
        }

        cln->handler = ngx_http_livekit_json_cleanup;
        cln->data = c->attributes;
    }

    attr = lcf->attributes->elts;

    for (i = 0; i < lcf->attributes->nelts; i++) {

        if (ngx_http_complex_value(r, &attr[i].value, &s) != NGX_OK) {
            return NGX_ERROR;
        }

        cur = json_object_get(c->attributes, (char *) attr[i].name.data);

        /* a value that is not a string is a mismatch too (and has no text) */

        if (cur
            && (!json_is_string(cur)
                || json_string_length(cur) != s.len
                || ngx_memcmp(json_string_value(cur), s.data, s.len) != 0))
        {
            return ngx_http_livekit_fail(err,
                NGX_HTTP_LIVEKIT_ATTRIBUTE_PINNED,
                "this location sets one of the participant_attributes "
                "itself: leave that attribute out");
        }

        /* json_stringn() takes only valid UTF-8 */

        if (ngx_http_livekit_check_text(&s, 1, err) != NGX_OK) {
            return NGX_DECLINED;
        }

        if (json_object_set_new(c->attributes, (char *) attr[i].name.data,
                                json_stringn((char *) s.data, s.len))
            != 0)
        {
            return NGX_ERROR;
        }
    }

    return ngx_http_livekit_attributes_check(lcf, c->attributes, err);
}


/* names and values: strings checked like metadata, bounded in total */

static ngx_int_t
ngx_http_livekit_attributes_check(ngx_http_livekit_token_loc_conf_t *lcf,
    json_t *attributes, ngx_http_livekit_error_t *err)
{
    size_t       size;
    json_t      *v;
    ngx_str_t    s;
    const char  *k;

    size = 0;

    json_object_foreach(attributes, k, v) {

        if (!json_is_string(v)) {
            return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_INVALID_TYPE,
                "participant_attributes must be an object of strings");
        }

        s.data = (u_char *) k;
        s.len = ngx_strlen(k);

        if (s.len == 0) {
            return ngx_http_livekit_fail(err, NGX_HTTP_LIVEKIT_INVALID_TYPE,
                "participant_attributes names must not be empty");
        }

        size += s.len;

        if (ngx_http_livekit_check_text(&s, 0, err) != NGX_OK) {
            return NGX_DECLINED;
        }

        s.data = (u_char *) json_string_value(v);
        s.len = json_string_length(v);
        size += s.len;

        if (ngx_http_livekit_check_text(&s, 1, err) != NGX_OK) {
            return NGX_DECLINED;
        }
    }

    if (size > lcf->metadata_max) {
        return ngx_http_livekit_fail(err,
            NGX_HTTP_LIVEKIT_ATTRIBUTES_TOO_LARGE,
            "participant attributes are larger than the location allows "
            "(livekit_token_metadata_max_size)");
    }

    return NGX_OK;
}
