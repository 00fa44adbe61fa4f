
/*
 * The key file read as YAML, the way livekit-server reads it.
 *
 * Owns: turning the bytes of a LiveKit key file into name/secret pairs
 * exactly as livekit-server v1.13.5 does (gopkg.in/yaml.v3 decoding the
 * first document into a map[string]string), with libyaml's event parser,
 * the scanner yaml.v3 was ported from; refusing what livekit-server
 * refuses, and the few things this module refuses on top: unsafe key
 * names, empty secrets, merge keys and the !!bool/!!int/!!float/
 * !!timestamp tags (README, livekit_keys_file).
 * Does not own: opening the file, keying HMACs (_keys.c).
 *
 * Messages name the file and the line, never a secret.  Secret bytes
 * copied here are wiped before returning; libyaml's own buffers are wiped
 * as far as its public structures reach.
 */

#include "ngx_http_livekit_token.h"

#include <openssl/crypto.h>
#include <yaml.h>


#define NGX_HTTP_LIVEKIT_SECRET_MIN     32  /* livekit-server warns below */
#define NGX_HTTP_LIVEKIT_KEYS_PAIRS     1024
#define NGX_HTTP_LIVEKIT_KEYS_ANCHORS   1024
#define NGX_HTTP_LIVEKIT_KEY_NAME_MAX   128
#define NGX_HTTP_LIVEKIT_KEYS_DEPTH     64  /* libyaml slows down as square */

#define NGX_HTTP_LIVEKIT_YAML_TAG       "tag:yaml.org,2002:"


/* a node of the document, as far as decoding into strings needs it */
typedef struct {
    yaml_event_type_t           kind;       /* SCALAR, ALIAS, *_START */
    ngx_str_t                   anchor;     /* its own, or the aliased */
    ngx_str_t                   tag;        /* empty: none */
    ngx_uint_t                  plain;
    ngx_uint_t                  alias;      /* reached through an alias */
    ngx_str_t                   value;
    ngx_uint_t                  line;
} ngx_http_livekit_yaml_node_t;


typedef struct {
    ngx_http_livekit_yaml_node_t  key;
    ngx_http_livekit_yaml_node_t  value;
} ngx_http_livekit_yaml_pair_t;


typedef struct {
    ngx_conf_t                 *cf;
    ngx_str_t                  *file;
    u_char                     *buf;
    size_t                      len;
    yaml_parser_t               parser;
    yaml_event_t                event;
    ngx_uint_t                  have_event;
    ngx_array_t                 anchors;    /* ngx_http_livekit_yaml_node_t */
    ngx_array_t                 pairs;      /* ngx_http_livekit_yaml_pair_t */
    ngx_array_t                 copies;     /* ngx_str_t: wiped at the end */
    ngx_array_t                *secrets;
} ngx_http_livekit_yaml_t;


typedef enum {
    NGX_HTTP_LIVEKIT_TAG_STR = 0,           /* the text as it is */
    NGX_HTTP_LIVEKIT_TAG_BINARY,            /* base64-decoded */
    NGX_HTTP_LIVEKIT_TAG_NULL,              /* null, or refused */
    NGX_HTTP_LIVEKIT_TAG_REFUSED            /* checked by yaml.v3, not here */
} ngx_http_livekit_tag_e;


typedef struct {
    ngx_str_t                   name;       /* after "tag:yaml.org,2002:" */
    ngx_http_livekit_tag_e      use;
} ngx_http_livekit_yaml_tag_t;


/* the tags yaml.v3 treats specially when it decodes into a string */
static ngx_http_livekit_yaml_tag_t  ngx_http_livekit_yaml_tags[] = {
    { ngx_string("str"),        NGX_HTTP_LIVEKIT_TAG_STR },
    { ngx_string("binary"),     NGX_HTTP_LIVEKIT_TAG_BINARY },
    { ngx_string("null"),       NGX_HTTP_LIVEKIT_TAG_NULL },
    { ngx_string("bool"),       NGX_HTTP_LIVEKIT_TAG_REFUSED },
    { ngx_string("int"),        NGX_HTTP_LIVEKIT_TAG_REFUSED },
    { ngx_string("float"),      NGX_HTTP_LIVEKIT_TAG_REFUSED },
    { ngx_string("timestamp"),  NGX_HTTP_LIVEKIT_TAG_REFUSED },
    { ngx_null_string,          NGX_HTTP_LIVEKIT_TAG_STR }
};


/* plain scalars yaml.v3 resolves to null */
static ngx_str_t  ngx_http_livekit_yaml_nulls[] = {
    ngx_string(""),
    ngx_string("~"),
    ngx_string("null"),
    ngx_string("Null"),
    ngx_string("NULL"),
    ngx_null_string
};


static ngx_int_t ngx_http_livekit_yaml_next(ngx_http_livekit_yaml_t *y);
static ngx_int_t ngx_http_livekit_yaml_root(ngx_http_livekit_yaml_t *y);
static ngx_int_t ngx_http_livekit_yaml_mapping(ngx_http_livekit_yaml_t *y);
static ngx_int_t ngx_http_livekit_yaml_node(ngx_http_livekit_yaml_t *y,
    ngx_http_livekit_yaml_node_t *n);
static ngx_int_t ngx_http_livekit_yaml_anchor(ngx_http_livekit_yaml_t *y,
    ngx_http_livekit_yaml_node_t *n);
static ngx_int_t ngx_http_livekit_yaml_alias(ngx_http_livekit_yaml_t *y,
    ngx_http_livekit_yaml_node_t *n);
static ngx_int_t ngx_http_livekit_yaml_skip(ngx_http_livekit_yaml_t *y);
static ngx_int_t ngx_http_livekit_yaml_duplicates(ngx_http_livekit_yaml_t *y);
static ngx_int_t ngx_http_livekit_yaml_decode(ngx_http_livekit_yaml_t *y);
static ngx_int_t ngx_http_livekit_yaml_string(ngx_http_livekit_yaml_t *y,
    ngx_http_livekit_yaml_node_t *n, const char *what, ngx_str_t *s);
static ngx_uint_t ngx_http_livekit_yaml_null(ngx_str_t *value);
static ngx_int_t ngx_http_livekit_yaml_base64(ngx_http_livekit_yaml_t *y,
    ngx_http_livekit_yaml_node_t *n, const char *what, ngx_str_t *s);
static ngx_int_t ngx_http_livekit_yaml_add(ngx_http_livekit_yaml_t *y,
    ngx_str_t *name, ngx_str_t *secret, ngx_uint_t line);
static ngx_int_t ngx_http_livekit_yaml_check(ngx_http_livekit_yaml_t *y);
static ngx_int_t ngx_http_livekit_yaml_keep(ngx_http_livekit_yaml_t *y,
    ngx_str_t *dst, u_char *src, size_t len);
static ngx_int_t ngx_http_livekit_yaml_copy(ngx_pool_t *pool, ngx_str_t *dst,
    u_char *src, size_t len);
static ngx_uint_t ngx_http_livekit_key_name_char(u_char c);
static ngx_uint_t ngx_http_livekit_base64_char(u_char c);
static void ngx_http_livekit_yaml_free(ngx_http_livekit_yaml_t *y);


/*
 * Fills "secrets" (ngx_http_livekit_secret_t, names and secrets from
 * cf->pool) from the file's contents; NGX_ERROR after logging why.
 */

ngx_int_t
ngx_http_livekit_keys_yaml_parse(ngx_conf_t *cf, ngx_str_t *file, u_char *buf,
    size_t len, ngx_array_t *secrets)
{
    ngx_int_t                 rc;
    ngx_http_livekit_yaml_t   y;

    ngx_memzero(&y, sizeof(ngx_http_livekit_yaml_t));

    y.cf = cf;
    y.file = file;
    y.buf = buf;
    y.len = len;
    y.secrets = secrets;

    if (ngx_array_init(&y.anchors, cf->temp_pool, 4,
                       sizeof(ngx_http_livekit_yaml_node_t))
        != NGX_OK
        || ngx_array_init(&y.pairs, cf->temp_pool, 4,
                          sizeof(ngx_http_livekit_yaml_pair_t))
           != NGX_OK
        || ngx_array_init(&y.copies, cf->temp_pool, 8, sizeof(ngx_str_t))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (yaml_parser_initialize(&y.parser) == 0) {
        return NGX_ERROR;
    }

    yaml_parser_set_input_string(&y.parser, buf, len);

    rc = ngx_http_livekit_yaml_root(&y);

    if (rc == NGX_OK) {
        rc = ngx_http_livekit_yaml_check(&y);
    }

    ngx_http_livekit_yaml_free(&y);

    return rc;
}


/* the next event; a parse error is logged with libyaml's reason */

static ngx_int_t
ngx_http_livekit_yaml_next(ngx_http_livekit_yaml_t *y)
{
    size_t          line;
    u_char         *p, *last;
    yaml_event_t   *ev;
    yaml_parser_t  *yp;

    ev = &y->event;

    if (y->have_event) {
        if (ev->type == YAML_SCALAR_EVENT && ev->data.scalar.value) {
            OPENSSL_cleanse(ev->data.scalar.value, ev->data.scalar.length);
        }

        yaml_event_delete(ev);
        y->have_event = 0;
    }

    if (yaml_parser_parse(&y->parser, ev) == 0) {
        yp = &y->parser;
        line = yp->problem_mark.line + 1;

        if (yp->error == YAML_READER_ERROR) {
            /* an encoding error has an offset, not a mark */
            line = 1;
            last = y->buf + ngx_min(yp->problem_offset, y->len);
            for (p = y->buf; p < last; p++) {
                line += (*p == '\n');
            }
        }

        /* libyaml's texts are its own constants, never the file's bytes */

        if (yp->context == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, y->cf, 0,
                               "livekit_keys_file: \"%V\" line %uz is not "
                               "valid YAML: %s", y->file, line,
                               yp->problem ? yp->problem : "error");
            return NGX_ERROR;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, y->cf, 0,
                           "livekit_keys_file: \"%V\" line %uz is not "
                           "valid YAML: %s (%s at line %uz)", y->file, line,
                           yp->problem ? yp->problem : "error",
                           yp->context, yp->context_mark.line + 1);
        return NGX_ERROR;
    }

    y->have_event = 1;

    return NGX_OK;
}


/*
 * The first document only, as yaml.v3's Decoder.Decode() reads it: no
 * document or a null one is no keys, anything but a mapping is refused.
 */

static ngx_int_t
ngx_http_livekit_yaml_root(ngx_http_livekit_yaml_t *y)
{
    ngx_int_t                     rc;
    ngx_http_livekit_yaml_node_t  root;

    if (ngx_http_livekit_yaml_next(y) != NGX_OK        /* STREAM_START */
        || ngx_http_livekit_yaml_next(y) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (y->event.type == YAML_STREAM_END_EVENT) {
        return NGX_OK;
    }

    if (ngx_http_livekit_yaml_next(y) != NGX_OK) {    /* after DOC_START */
        return NGX_ERROR;
    }

    if (y->event.type == YAML_MAPPING_START_EVENT) {
        if (ngx_http_livekit_yaml_anchor(y, NULL) != NGX_OK) {
            return NGX_ERROR;
        }

        rc = ngx_http_livekit_yaml_mapping(y);

    } else {
        if (ngx_http_livekit_yaml_node(y, &root) != NGX_OK) {
            return NGX_ERROR;
        }

        rc = NGX_OK;

        if (root.kind != YAML_SCALAR_EVENT
            || ngx_http_livekit_yaml_string(y, &root, NULL, NULL)
               != NGX_DECLINED)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, y->cf, 0,
                               "livekit_keys_file: \"%V\" line %ui is not "
                               "a mapping of \"key: secret\"",
                               y->file, root.line);
            rc = NGX_ERROR;
        }
    }

    if (rc != NGX_OK) {
        return rc;
    }

    /* DOCUMENT_END: yaml.v3 reads it, and nothing after it */

    return ngx_http_livekit_yaml_next(y);
}


/* the root mapping: every pair first, then decoded as yaml.v3 does */

static ngx_int_t
ngx_http_livekit_yaml_mapping(ngx_http_livekit_yaml_t *y)
{
    ngx_http_livekit_yaml_pair_t  *pair;

    for ( ;; ) {
        if (ngx_http_livekit_yaml_next(y) != NGX_OK) {
            return NGX_ERROR;
        }

        if (y->event.type == YAML_MAPPING_END_EVENT) {
            break;
        }

        if (y->pairs.nelts == NGX_HTTP_LIVEKIT_KEYS_PAIRS) {
            ngx_conf_log_error(NGX_LOG_EMERG, y->cf, 0,
                               "livekit_keys_file: \"%V\" has more than "
                               "%d keys", y->file,
                               NGX_HTTP_LIVEKIT_KEYS_PAIRS);
            return NGX_ERROR;
        }

        pair = ngx_array_push(&y->pairs);
        if (pair == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(pair, sizeof(ngx_http_livekit_yaml_pair_t));

        if (ngx_http_livekit_yaml_node(y, &pair->key) != NGX_OK
            || ngx_http_livekit_yaml_next(y) != NGX_OK
            || ngx_http_livekit_yaml_node(y, &pair->value) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (ngx_http_livekit_yaml_duplicates(y) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_livekit_yaml_decode(y);
}


/*
 * The node starting at the current event: a scalar is copied, an alias is
 * replaced by what it names, a collection is skipped (its anchors kept).
 */

static ngx_int_t
ngx_http_livekit_yaml_node(ngx_http_livekit_yaml_t *y,
    ngx_http_livekit_yaml_node_t *n)
{
    yaml_event_t  *ev;

    ev = &y->event;

    ngx_memzero(n, sizeof(ngx_http_livekit_yaml_node_t));

    n->kind = ev->type;
    n->line = ev->start_mark.line + 1;

    switch (ev->type) {

    case YAML_ALIAS_EVENT:
        return ngx_http_livekit_yaml_alias(y, n);

    case YAML_SCALAR_EVENT:
        n->plain = (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE);

        if (ev->data.scalar.tag
            && ngx_http_livekit_yaml_copy(y->cf->temp_pool, &n->tag,
                                          ev->data.scalar.tag,
                                          ngx_strlen(ev->data.scalar.tag))
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (ngx_http_livekit_yaml_keep(y, &n->value, ev->data.scalar.value,
                                       ev->data.scalar.length)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        return ngx_http_livekit_yaml_anchor(y, n);

    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        if (ngx_http_livekit_yaml_anchor(y, n) != NGX_OK) {
            return NGX_ERROR;
        }

        return ngx_http_livekit_yaml_skip(y);

    default:
        /* the parser gives no other event where a node is expected */
        ngx_conf_log_error(NGX_LOG_EMERG, y->cf, 0,
                           "livekit_keys_file: \"%V\" line %ui: "
                           "unexpected YAML event %d", y->file, n->line,
                           (int) ev->type);
        return NGX_ERROR;
    }
}


/* records the current event's anchor, if any, for later aliases */

static ngx_int_t
ngx_http_livekit_yaml_anchor(ngx_http_livekit_yaml_t *y,
    ngx_http_livekit_yaml_node_t *n)
{
    u_char                        *name;
    yaml_event_t                  *ev;
    ngx_http_livekit_yaml_node_t  *a;

    ev = &y->event;

    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        name = ev->data.scalar.anchor;
        break;
    case YAML_SEQUENCE_START_EVENT:
        name = ev->data.sequence_start.anchor;
        break;
    case YAML_MAPPING_START_EVENT:
        name = ev->data.mapping_start.anchor;
        break;
    default:
        name = NULL;
    }

    if (name == NULL) {
        return NGX_OK;
    }

    if (y->anchors.nelts == NGX_HTTP_LIVEKIT_KEYS_ANCHORS) {
        ngx_conf_log_error(NGX_LOG_EMERG, y->cf, 0,
                           "livekit_keys_file: \"%V\" has more than %d "
                           "anchors", y->file, NGX_HTTP_LIVEKIT_KEYS_ANCHORS);
        return NGX_ERROR;
    }

    a = ngx_array_push(&y->anchors);
    if (a == NULL) {
        return NGX_ERROR;
    }

    if (n) {
        *a = *n;

    } else {
        ngx_memzero(a, sizeof(ngx_http_livekit_yaml_node_t));
        a->kind = ev->type;
        a->line = ev->start_mark.line + 1;
    }

    return ngx_http_livekit_yaml_copy(y->cf->temp_pool, &a->anchor, name,
                                      ngx_strlen(name));
}


/* an alias is the last node anchored with its name before it */

static ngx_int_t
ngx_http_livekit_yaml_alias(ngx_http_livekit_yaml_t *y,
    ngx_http_livekit_yaml_node_t *n)
{
    size_t                         len;
    u_char                        *name;
    ngx_uint_t                     i, line;
    ngx_http_livekit_yaml_node_t  *a;

    name = y->event.data.alias.anchor;
    len = ngx_strlen(name);
    line = n->line;

    a = y->anchors.elts;

    for (i = y->anchors.nelts; i > 0; i--) {
        if (a[i - 1].anchor.len == len
            && ngx_strncmp(a[i - 1].anchor.data, name, len) == 0)
        {
            *n = a[i - 1];
            n->line = line;
            n->alias = 1;
            return NGX_OK;
        }
    }

    ngx_conf_log_error(NGX_LOG_EMERG, y->cf, 0,
                       "livekit_keys_file: \"%V\" line %ui uses an unknown "
                       "anchor", y->file, line);
    return NGX_ERROR;
}


/* skips the collection just started; aliases in it must still resolve */

static ngx_int_t
ngx_http_livekit_yaml_skip(ngx_http_livekit_yaml_t *y)
{
    ngx_uint_t                    depth;
    ngx_http_livekit_yaml_node_t  n;

    for (depth = 1; depth > 0; /* void */) {
        if (ngx_http_livekit_yaml_next(y) != NGX_OK) {
            return NGX_ERROR;
        }

        switch (y->event.type) {

        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (++depth > NGX_HTTP_LIVEKIT_KEYS_DEPTH) {
                ngx_conf_log_error(NGX_LOG_EMERG, y->cf, 0,
                                   "livekit_keys_file: \"%V\" line %uz is "
                                   "nested deeper than %d levels", y->file,
                                   y->event.start_mark.line + 1,
                                   NGX_HTTP_LIVEKIT_KEYS_DEPTH);
                return NGX_ERROR;
            }

            if (ngx_http_livekit_yaml_anchor(y, NULL) != NGX_OK) {
                return NGX_ERROR;
            }
            break;

        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            depth--;
            break;

        case YAML_SCALAR_EVENT:
        case YAML_ALIAS_EVENT:
            if (ngx_http_livekit_yaml_node(y, &n) != NGX_OK) {
                return NGX_ERROR;
            }
            break;

        default:
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* yaml.v3 refuses two keys of the same kind and the same text */

static ngx_int_t
ngx_http_livekit_yaml_duplicates(ngx_http_livekit_yaml_t *y)
{
    ngx_uint_t                     i, j;
    ngx_str_t                     *a, *b;
    ngx_http_livekit_yaml_node_t  *ki, *kj;
    ngx_http_livekit_yaml_pair_t  *p;

    p = y->pairs.elts;

    for (i = 0; i < y->pairs.nelts; i++) {
        ki = &p[i].key;
        a = ki->alias ? &ki->anchor : &ki->value;

        for (j = i + 1; j < y->pairs.nelts; j++) {
            kj = &p[j].key;
            b = kj->alias ? &kj->anchor : &kj->value;

            /* an alias is compared by its name, a collection has no text */

            /* (an empty text may have no data: memcmp() is not asked) */

            if (ki->alias == kj->alias
                && (ki->alias || ki->kind == kj->kind)
                && a->len == b->len
                && (a->len == 0 || ngx_memcmp(a->data, b->data, a->len) == 0))
            {
                ngx_conf_log_error(NGX_LOG_EMERG, y->cf, 0,
                                   "livekit_keys_file: \"%V\" line %ui "
                                   "repeats the key of line %ui",
                                   y->file, p[j].key.line, p[i].key.line);
                return NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}


/* each pair as yaml.v3 decodes it into map[string]string */

static ngx_int_t
ngx_http_livekit_yaml_decode(ngx_http_livekit_yaml_t *y)
{
    ngx_int_t                      rc;
    ngx_str_t                      name, secret;
    ngx_uint_t                     i;
    ngx_http_livekit_yaml_pair_t  *p;

    p = y->pairs.elts;

    for (i = 0; i < y->pairs.nelts; i++) {

        if (!p[i].key.alias && p[i].key.plain
            && p[i].key.value.len == 2
            && ngx_strncmp(p[i].key.value.data, "<<", 2) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, y->cf, 0,
                               "livekit_keys_file: \"%V\" line %ui: merge "
                               "keys (<<) are not supported",
                               y->file, p[i].key.line);
            return NGX_ERROR;
        }

        rc = ngx_http_livekit_yaml_string(y, &p[i].key, "key", &name);

        if (rc == NGX_DECLINED) {
            continue;                   /* a null key: yaml.v3 skips it */
        }

        if (rc != NGX_OK) {
            return NGX_ERROR;
        }

        rc = ngx_http_livekit_yaml_string(y, &p[i].value, "secret", &secret);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_DECLINED) {
            ngx_str_null(&secret);      /* null: an empty string */
        }

        if (ngx_http_livekit_yaml_add(y, &name, &secret, p[i].key.line)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * A node decoded into a Go string: NGX_DECLINED when yaml.v3 sees null.
 * With "what" NULL, only says whether it is null, and logs nothing.
 */

static ngx_int_t
ngx_http_livekit_yaml_string(ngx_http_livekit_yaml_t *y,
    ngx_http_livekit_yaml_node_t *n, const char *what, ngx_str_t *s)
{
    size_t                        len;
    ngx_http_livekit_yaml_tag_t  *t;

    len = sizeof(NGX_HTTP_LIVEKIT_YAML_TAG) - 1;

    if (n->kind != YAML_SCALAR_EVENT) {
        if (what) {
            ngx_conf_log_error(NGX_LOG_EMERG, y->cf, 0,
                               "livekit_keys_file: \"%V\" line %ui: the %s "
                               "is not a string", y->file, n->line, what);
        }
        return NGX_ERROR;
    }

    if (n->tag.len == 0 || (n->tag.len == 1 && n->tag.data[0] == '!')) {
        if (n->plain && ngx_http_livekit_yaml_null(&n->value)) {
            return NGX_DECLINED;
        }

        if (s) {
            *s = n->value;
        }

        return NGX_OK;
    }

    for (t = ngx_http_livekit_yaml_tags; t->name.len; t++) {
        if (n->tag.len == len + t->name.len
            && ngx_strncmp(n->tag.data, NGX_HTTP_LIVEKIT_YAML_TAG, len) == 0
            && ngx_strncmp(n->tag.data + len, t->name.data, t->name.len) == 0)
        {
            break;
        }
    }

    if (t->use == NGX_HTTP_LIVEKIT_TAG_BINARY) {
        return ngx_http_livekit_yaml_base64(y, n, what, s);
    }

    if (t->use == NGX_HTTP_LIVEKIT_TAG_NULL
        && ngx_http_livekit_yaml_null(&n->value))
    {
        return NGX_DECLINED;
    }

    if (t->use == NGX_HTTP_LIVEKIT_TAG_REFUSED
        || t->use == NGX_HTTP_LIVEKIT_TAG_NULL)
    {
        if (what) {
            ngx_conf_log_error(NGX_LOG_EMERG, y->cf, 0,
                               "livekit_keys_file: \"%V\" line %ui: the tag "
                               "!!%V is not supported: quote the %s",
                               y->file, n->line, &t->name, what);
        }
        return NGX_ERROR;
    }

    /* !!str, and any tag yaml.v3 does not resolve: the text as it is */

    if (s) {
        *s = n->value;
    }

    return NGX_OK;
}


/* the texts yaml.v3 resolves to null */

static ngx_uint_t
ngx_http_livekit_yaml_null(ngx_str_t *value)
{
    ngx_str_t  *v;

    for (v = ngx_http_livekit_yaml_nulls; v->data; v++) {
        if (v->len == value->len
            && (v->len == 0 || ngx_strncmp(v->data, value->data, v->len) == 0))
        {
            return 1;
        }
    }

    return 0;
}


/* !!binary: Go's base64.StdEncoding, padded, "\r" and "\n" ignored */

static ngx_int_t
ngx_http_livekit_yaml_base64(ngx_http_livekit_yaml_t *y,
    ngx_http_livekit_yaml_node_t *n, const char *what, ngx_str_t *s)
{
    u_char     *p, *q, *last;
    ngx_str_t   src, dst;

    if (ngx_http_livekit_yaml_keep(y, &src, n->value.data, n->value.len)
        != NGX_OK
        || ngx_http_livekit_yaml_keep(y, &dst, NULL,
                                      ngx_base64_decoded_length(n->value.len))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    q = src.data;
    last = n->value.data + n->value.len;

    for (p = n->value.data; p < last; p++) {
        if (*p != '\r' && *p != '\n') {
            *q++ = *p;
        }
    }

    src.len = q - src.data;

    for (p = src.data; p < q; p++) {
        if (*p == '=' && (q - p == 1 || (q - p == 2 && p[1] == '='))) {
            continue;
        }

        if (!ngx_http_livekit_base64_char(*p)) {
            break;
        }
    }

    if (p != q || src.len % 4 != 0
        || ngx_decode_base64(&dst, &src) != NGX_OK)
    {
        if (what) {
            ngx_conf_log_error(NGX_LOG_EMERG, y->cf, 0,
                               "livekit_keys_file: \"%V\" line %ui: the "
                               "!!binary %s is not valid base64",
                               y->file, n->line, what);
        }
        return NGX_ERROR;
    }

    if (s) {
        *s = dst;
    }

    return NGX_OK;
}


/*
 * One key: a name safe as a Prometheus label and a JSON string, a later
 * pair with the same name replaces an earlier one (a Go map).
 */

static ngx_int_t
ngx_http_livekit_yaml_add(ngx_http_livekit_yaml_t *y, ngx_str_t *name,
    ngx_str_t *secret, ngx_uint_t line)
{
    u_char                     *p;
    ngx_uint_t                  i;
    ngx_http_livekit_secret_t  *s;

    for (p = name->data; p < name->data + name->len; p++) {
        if (!ngx_http_livekit_key_name_char(*p)) {
            break;
        }
    }

    if (name->len == 0 || name->len > NGX_HTTP_LIVEKIT_KEY_NAME_MAX
        || p != name->data + name->len)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, y->cf, 0,
                           "livekit_keys_file: \"%V\" line %ui: a key name "
                           "must be 1 to %d characters of A-Z a-z 0-9 "
                           "_ - . : @ + / =", y->file, line,
                           NGX_HTTP_LIVEKIT_KEY_NAME_MAX);
        return NGX_ERROR;
    }

    s = y->secrets->elts;

    for (i = 0; i < y->secrets->nelts; i++) {
        if (s[i].name.len == name->len
            && ngx_strncmp(s[i].name.data, name->data, name->len) == 0)
        {
            break;
        }
    }

    if (i == y->secrets->nelts) {
        s = ngx_array_push(y->secrets);
        if (s == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(s, sizeof(ngx_http_livekit_secret_t));

        if (ngx_http_livekit_yaml_copy(y->cf->pool, &s->name, name->data,
                                       name->len)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

    } else {
        s = &s[i];
        OPENSSL_cleanse(s->secret.data, s->secret.len);
        ngx_str_null(&s->secret);
    }

    return ngx_http_livekit_yaml_copy(y->cf->pool, &s->secret, secret->data,
                                      secret->len);
}


/* the map as a whole: keys, each with a secret */

static ngx_int_t
ngx_http_livekit_yaml_check(ngx_http_livekit_yaml_t *y)
{
    ngx_uint_t                  i;
    ngx_http_livekit_secret_t  *s;

    if (y->secrets->nelts == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, y->cf, 0,
                           "livekit_keys_file: \"%V\" has no keys", y->file);
        return NGX_ERROR;
    }

    s = y->secrets->elts;

    for (i = 0; i < y->secrets->nelts; i++) {
        if (s[i].secret.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, y->cf, 0,
                               "livekit_keys_file: key \"%V\" in \"%V\" "
                               "has an empty secret", &s[i].name, y->file);
            return NGX_ERROR;
        }

        if (s[i].secret.len < NGX_HTTP_LIVEKIT_SECRET_MIN) {
            ngx_conf_log_error(NGX_LOG_WARN, y->cf, 0,
                               "livekit_keys_file: the secret of key \"%V\" "
                               "in \"%V\" is shorter than %d bytes",
                               &s[i].name, y->file,
                               NGX_HTTP_LIVEKIT_SECRET_MIN);
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_livekit_yaml_copy(ngx_pool_t *pool, ngx_str_t *dst, u_char *src,
    size_t len)
{
    /* one byte more: an empty string still has a pointer to wipe */

    dst->data = ngx_pnalloc(pool, len + 1);
    if (dst->data == NULL) {
        dst->len = 0;
        return NGX_ERROR;
    }

    if (len) {
        ngx_memcpy(dst->data, src, len);
    }

    dst->len = len;

    return NGX_OK;
}


/* a copy of a value in the temporary pool, wiped when parsing ends */

static ngx_int_t
ngx_http_livekit_yaml_keep(ngx_http_livekit_yaml_t *y, ngx_str_t *dst,
    u_char *src, size_t len)
{
    ngx_str_t  *c;

    c = ngx_array_push(&y->copies);
    if (c == NULL) {
        return NGX_ERROR;
    }

    ngx_str_null(c);

    dst->data = ngx_pnalloc(y->cf->temp_pool, len + 1);
    if (dst->data == NULL) {
        dst->len = 0;
        return NGX_ERROR;
    }

    if (src && len) {
        ngx_memcpy(dst->data, src, len);
    }

    dst->len = len;
    *c = *dst;

    return NGX_OK;
}


/*
 * A safe key name: what LiveKit's own names use (API + base62) and the
 * punctuation of base64 and e-mail-like names; nothing a Prometheus label
 * or a JSON string must escape, nothing outside ASCII.
 */

static ngx_uint_t
ngx_http_livekit_key_name_char(u_char c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
        || (c >= '0' && c <= '9'))
    {
        return 1;
    }

    switch (c) {
    case '_': case '-': case '.': case ':': case '@': case '+': case '/':
    case '=':
        return 1;
    }

    return 0;
}


static ngx_uint_t
ngx_http_livekit_base64_char(u_char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '+' || c == '/';
}


/* wipes every copy of a value made here and what libyaml exposes */

static void
ngx_http_livekit_yaml_free(ngx_http_livekit_yaml_t *y)
{
    ngx_str_t      *c;
    ngx_uint_t      i;
    yaml_token_t   *t;
    yaml_parser_t  *yp;

    c = y->copies.elts;

    for (i = 0; i < y->copies.nelts; i++) {
        if (c[i].len) {
            OPENSSL_cleanse(c[i].data, c[i].len);
        }
    }

    if (y->have_event) {
        if (y->event.type == YAML_SCALAR_EVENT
            && y->event.data.scalar.value)
        {
            OPENSSL_cleanse(y->event.data.scalar.value,
                            y->event.data.scalar.length);
        }

        yaml_event_delete(&y->event);
    }

    yp = &y->parser;

    /* tokens scanned ahead of the last event */

    for (t = yp->tokens.head; t && t != yp->tokens.tail; t++) {
        if (t->type == YAML_SCALAR_TOKEN && t->data.scalar.value) {
            OPENSSL_cleanse(t->data.scalar.value, t->data.scalar.length);
        }
    }

    if (yp->buffer.start) {
        OPENSSL_cleanse(yp->buffer.start, yp->buffer.end - yp->buffer.start);
    }

    if (yp->raw_buffer.start) {
        OPENSSL_cleanse(yp->raw_buffer.start,
                        yp->raw_buffer.end - yp->raw_buffer.start);
    }

    yaml_parser_delete(yp);
}
