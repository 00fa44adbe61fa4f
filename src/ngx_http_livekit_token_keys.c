
/*
 * Key sources and the current key set.
 *
 * Owns: reading LiveKit key files (livekit-server --key-file; the YAML in
 * them is parsed by _keys_yaml.c), choosing the signing key
 * (livekit_api_key), keying
 * one HMAC-SHA256 context per key, the key set the handler reads, and the
 * table of other key sources (a module such as the SSM one registers
 * itself there; nothing here knows which).
 * Does not own: building or signing tokens (_jwt.c), any other source.
 *
 * Secrets never reach a log: messages name the file and the key only.
 * Secret bytes live in the configuration pool until their HMAC is keyed
 * and are wiped when that pool is destroyed.
 */

#include "ngx_http_livekit_token.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>


#define NGX_HTTP_LIVEKIT_KEYS_MAX    (1024 * 1024)


static void ngx_http_livekit_secret_wipe(void *data);
static void ngx_http_livekit_mac_free(void *data);
static ngx_http_livekit_keyset_t *ngx_http_livekit_keyset_create(
    ngx_conf_t *cf, ngx_http_livekit_secret_t *s);
static void ngx_http_livekit_keyset_none(ngx_conf_t *cf,
    const char *directive);
static ngx_int_t ngx_http_livekit_keys_file_check(ngx_conf_t *cf,
    ngx_str_t *file, ngx_file_info_t *fi);


char *
ngx_http_livekit_keys_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_livekit_token_loc_conf_t *lcf = conf;

    ssize_t              n;
    u_char              *buf;
    ngx_fd_t             fd;
    ngx_str_t           *value, file;
    ngx_file_t           f;
    ngx_file_info_t      fi;
    ngx_pool_cleanup_t  *cln;

    if (lcf->secrets != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;
    file = value[1];

    if (ngx_conf_full_name(cf->cycle, &file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(file.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "livekit_keys_file: cannot open \"%V\"", &file);
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&f, sizeof(ngx_file_t));
    f.fd = fd;
    f.name = file;
    f.log = cf->log;

    buf = NULL;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "livekit_keys_file: cannot stat \"%V\"", &file);
        goto failed;
    }

    if (ngx_http_livekit_keys_file_check(cf, &file, &fi) != NGX_OK) {
        goto failed;
    }

    buf = ngx_pnalloc(cf->temp_pool, ngx_file_size(&fi));
    if (buf == NULL) {
        goto failed;
    }

    n = ngx_read_file(&f, buf, ngx_file_size(&fi), 0);
    if (n == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "livekit_keys_file: cannot read \"%V\"", &file);
        goto failed;
    }

    lcf->secrets = ngx_array_create(cf->pool, 2,
                                    sizeof(ngx_http_livekit_secret_t));
    if (lcf->secrets == NULL) {
        goto failed;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        goto failed;
    }

    cln->handler = ngx_http_livekit_secret_wipe;
    cln->data = lcf->secrets;

    if (ngx_http_livekit_keys_yaml_parse(cf, &file, buf, n, lcf->secrets)
        != NGX_OK)
    {
        goto failed;
    }

    OPENSSL_cleanse(buf, n);
    ngx_close_file(fd);

    lcf->keys_file = file;

    return NGX_CONF_OK;

failed:

    if (buf) {
        OPENSSL_cleanse(buf, ngx_file_size(&fi));
    }

    ngx_close_file(fd);

    return NGX_CONF_ERROR;
}


/* a regular file of 1 byte to 1M; others' permissions are a warning */

static ngx_int_t
ngx_http_livekit_keys_file_check(ngx_conf_t *cf, ngx_str_t *file,
    ngx_file_info_t *fi)
{
    ngx_uint_t  mode;

    if (ngx_file_size(fi) == 0 || !ngx_is_file(fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "livekit_keys_file: \"%V\" is empty or not a file",
                           file);
        return NGX_ERROR;
    }

    mode = ngx_file_access(fi);

    if (mode & 0007) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "livekit_keys_file: \"%V\" has mode 0%c%c%c: "
                           "livekit-server refuses a key file that gives "
                           "others any permission", file,
                           '0' + ((mode >> 6) & 7), '0' + ((mode >> 3) & 7),
                           '0' + (mode & 7));
    }

    if (ngx_file_size(fi) > NGX_HTTP_LIVEKIT_KEYS_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "livekit_keys_file: \"%V\" is larger than 1M",
                           file);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_livekit_secret_wipe(void *data)
{
    ngx_array_t *secrets = data;

    ngx_uint_t                  i;
    ngx_http_livekit_secret_t  *s;

    s = secrets->elts;

    for (i = 0; i < secrets->nelts; i++) {
        if (s[i].secret.len) {
            OPENSSL_cleanse(s[i].secret.data, s[i].secret.len);
        }
    }
}


/*
 * A key source module calls this in its preconfiguration: the token
 * module's main configuration exists by then, and postconfiguration, which
 * asks the sources, runs after every module's init_main_conf.
 */

ngx_int_t
ngx_http_livekit_key_source_add(ngx_conf_t *cf,
    ngx_http_livekit_key_source_t *source)
{
    ngx_http_livekit_key_source_t       **s;
    ngx_http_livekit_token_main_conf_t   *tmcf;

    tmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_livekit_token_module);

    s = ngx_array_push(&tmcf->sources);
    if (s == NULL) {
        return NGX_ERROR;
    }

    *s = source;

    return NGX_OK;
}


/*
 * NGX_OK when a registered source gives this location its key set,
 * NGX_DECLINED when none is configured, NGX_ERROR after an EMERG message.
 */

ngx_int_t
ngx_http_livekit_keyset_source(ngx_conf_t *cf,
    ngx_http_livekit_token_loc_conf_t *lcf)
{
    ngx_int_t                             rc;
    ngx_uint_t                            i;
    ngx_http_livekit_key_source_t       **s;
    ngx_http_livekit_token_main_conf_t   *tmcf;

    tmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_livekit_token_module);
    s = tmcf->sources.elts;

    for (i = 0; i < tmcf->sources.nelts; i++) {
        rc = s[i]->keyset(cf, lcf);

        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    return NGX_DECLINED;
}


/* whether a configured source gives the URL, so livekit_url may go */

ngx_uint_t
ngx_http_livekit_keyset_gives_url(ngx_conf_t *cf)
{
    ngx_uint_t                            i;
    ngx_http_livekit_key_source_t       **s;
    ngx_http_livekit_token_main_conf_t   *tmcf;

    tmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_livekit_token_module);
    s = tmcf->sources.elts;

    for (i = 0; i < tmcf->sources.nelts; i++) {
        if (s[i]->gives_url(cf)) {
            return 1;
        }
    }

    return 0;
}


/* "has no key": names the key file and every registered source */

static void
ngx_http_livekit_keyset_none(ngx_conf_t *cf, const char *directive)
{
    u_char                               *p, *last;
    u_char                                buf[256];
    ngx_uint_t                            i;
    ngx_http_livekit_key_source_t       **s;
    ngx_http_livekit_token_main_conf_t   *tmcf;

    tmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_livekit_token_module);
    s = tmcf->sources.elts;

    p = buf;
    last = buf + sizeof(buf);

    for (i = 0; i < tmcf->sources.nelts; i++) {
        p = ngx_slprintf(p, last, " or \"%s\"", s[i]->directive);
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"%s\" has no key: set \"livekit_keys_file\"%*s",
                       directive, (size_t) (p - buf), buf);
}


/*
 * Called in postconfiguration for each location that signs ("directive":
 * livekit_token, or an admin location): picks the signing key and returns
 * its key set, shared by every location that signs with the same key from
 * the same file.
 */

char *
ngx_http_livekit_keyset_resolve(ngx_conf_t *cf,
    ngx_http_livekit_token_loc_conf_t *lcf, const char *directive)
{
    ngx_int_t                   rc;
    ngx_uint_t                  i;
    ngx_http_livekit_secret_t  *s;

    rc = ngx_http_livekit_keyset_source(cf, lcf);

    if (rc == NGX_OK) {
        return NGX_CONF_OK;
    }

    if (rc == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    if (lcf->secrets == NULL) {
        ngx_http_livekit_keyset_none(cf, directive);
        return NGX_CONF_ERROR;
    }

    s = lcf->secrets->elts;

    if (lcf->api_key.len == 0) {
        if (lcf->secrets->nelts > 1) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\" has %ui keys: choose the signing key "
                               "with \"livekit_api_key\"",
                               &lcf->keys_file, lcf->secrets->nelts);
            return NGX_CONF_ERROR;
        }

        i = 0;

    } else {
        for (i = 0; i < lcf->secrets->nelts; i++) {
            if (s[i].name.len == lcf->api_key.len
                && ngx_strncmp(s[i].name.data, lcf->api_key.data,
                               lcf->api_key.len) == 0)
            {
                break;
            }
        }

        if (i == lcf->secrets->nelts) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "livekit_api_key \"%V\" is not in \"%V\"",
                               &lcf->api_key, &lcf->keys_file);
            return NGX_CONF_ERROR;
        }
    }

    if (s[i].keyset == NULL) {
        s[i].keyset = ngx_http_livekit_keyset_create(cf, &s[i]);
        if (s[i].keyset == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    lcf->keyset = s[i].keyset;

    return NGX_CONF_OK;
}


/*
 * A location that verifies (webhooks, joins) does it with any key its
 * scope could sign with: every key of the file, or the key set of the
 * source that gives it one.
 */

char *
ngx_http_livekit_keyset_all(ngx_conf_t *cf,
    ngx_http_livekit_token_loc_conf_t *lcf, const char *directive,
    ngx_array_t **keysets)
{
    ngx_int_t                    rc;
    ngx_uint_t                   i;
    ngx_http_livekit_secret_t   *s;
    ngx_http_livekit_keyset_t  **ks;

    *keysets = ngx_array_create(cf->pool, 2,
                                sizeof(ngx_http_livekit_keyset_t *));
    if (*keysets == NULL) {
        return NGX_CONF_ERROR;
    }

    rc = ngx_http_livekit_keyset_source(cf, lcf);

    if (rc == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    if (rc == NGX_OK) {
        ks = ngx_array_push(*keysets);
        if (ks == NULL) {
            return NGX_CONF_ERROR;
        }

        *ks = lcf->keyset;
        return NGX_CONF_OK;
    }

    if (lcf->secrets == NULL) {
        ngx_http_livekit_keyset_none(cf, directive);
        return NGX_CONF_ERROR;
    }

    s = lcf->secrets->elts;

    for (i = 0; i < lcf->secrets->nelts; i++) {

        if (s[i].keyset == NULL) {
            s[i].keyset = ngx_http_livekit_keyset_create(cf, &s[i]);
            if (s[i].keyset == NULL) {
                return NGX_CONF_ERROR;
            }
        }

        ks = ngx_array_push(*keysets);
        if (ks == NULL) {
            return NGX_CONF_ERROR;
        }

        *ks = s[i].keyset;
    }

    return NGX_CONF_OK;
}


/* the current key called "name" among "keysets", or NULL */

ngx_http_livekit_key_t *
ngx_http_livekit_keyset_find(ngx_array_t *keysets, ngx_str_t *name)
{
    ngx_uint_t                   i;
    ngx_http_livekit_key_t      *key;
    ngx_http_livekit_keyset_t  **ks;

    ks = keysets->elts;

    for (i = 0; i < keysets->nelts; i++) {
        key = ngx_http_livekit_keyset_current(ks[i]);

        if (key && key->name.len == name->len
            && ngx_strncmp(key->name.data, name->data, name->len) == 0)
        {
            return key;
        }
    }

    return NULL;
}


static ngx_http_livekit_keyset_t *
ngx_http_livekit_keyset_create(ngx_conf_t *cf, ngx_http_livekit_secret_t *s)
{
    EVP_MAC                    *hmac;
    OSSL_PARAM                  params[2];
    ngx_pool_cleanup_t         *cln;
    ngx_http_livekit_key_t     *key;
    ngx_http_livekit_keyset_t  *ks;

    ks = ngx_pcalloc(cf->pool, sizeof(ngx_http_livekit_keyset_t));
    key = ngx_pcalloc(cf->pool, sizeof(ngx_http_livekit_key_t));
    cln = ngx_pool_cleanup_add(cf->pool, 0);

    if (ks == NULL || key == NULL || cln == NULL) {
        return NULL;
    }

    hmac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
    if (hmac == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "livekit token: EVP_MAC_fetch(HMAC) failed");
        return NULL;
    }

    key->mac = EVP_MAC_CTX_new(hmac);
    EVP_MAC_free(hmac);

    if (key->mac == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_livekit_mac_free;
    cln->data = key->mac;

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *) "SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();

    /*
     * Keyed once here; each token then calls EVP_MAC_init() with no key,
     * which restores this keyed state without hashing the secret again.
     */

    if (EVP_MAC_init(key->mac, s->secret.data, s->secret.len, params) != 1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "livekit token: cannot key HMAC-SHA256 for "
                           "key \"%V\"", &s->name);
        return NULL;
    }

    key->name = s->name;
    ks->key = key;
    ks->loaded = ngx_time();

    return ks;
}


static void
ngx_http_livekit_mac_free(void *data)
{
    EVP_MAC_CTX_free(data);
}


ngx_http_livekit_key_t *
ngx_http_livekit_keyset_current(ngx_http_livekit_keyset_t *ks)
{
    if (ks->sync) {
        ks->sync(ks);
    }

    return ks->key;
}
