
/*
 * The revocation list.
 *
 * Owns: livekit_revocation_zone, a red-black tree of revocations in shared
 * memory (every worker sees a change at the next join), its state file
 * (written after every change, read when the zone is new, so that the
 * list survives a restart; a reload keeps the zone itself), the JSON form
 * of one revocation, which the admin location and the state file share,
 * and the question the join check asks: is this token revoked?
 * Does not own: the admin location (_revoke_admin.c), reading the token
 * (_join.c).
 *
 * A revocation is kept until no token it can match is valid: the join
 * check refuses a token that expires later than max_ttl from now, and no
 * location signs for longer, so max_ttl after the revocation (or after
 * its "issued before" time) every token it matches has expired.
 */

#include "ngx_http_livekit_token.h"


#define NGX_HTTP_LIVEKIT_REVOKE_TTL        (24 * 60 * 60)
#define NGX_HTTP_LIVEKIT_REVOKE_FILE_MAX   (16 * 1024 * 1024)

/* times read from JSON: at most the year 2100, far from any overflow */
#define NGX_HTTP_LIVEKIT_REVOKE_TIME_MAX   4102444800LL


typedef struct {
    ngx_rbtree_t                     rbtree;
    ngx_rbtree_node_t                sentinel;
    ngx_queue_t                      queue;
    ngx_atomic_t                     count;
} ngx_http_livekit_revoke_sh_t;


typedef struct {
    ngx_http_livekit_revoke_sh_t    *sh;
    ngx_slab_pool_t                 *shpool;
    ngx_str_t                        state;      /* the file, or empty */
    time_t                           ttl;
} ngx_http_livekit_revoke_zone_t;


/* node.key: crc32 of the kind, "a" and "b" */
typedef struct {
    ngx_rbtree_node_t                node;
    ngx_queue_t                      queue;
    time_t                           before;
    time_t                           created;
    time_t                           expires;
    u_char                           kind;
    u_short                          alen;
    u_short                          blen;
    u_char                           data[1];    /* a, then b */
} ngx_http_livekit_revoke_node_t;


/* the kinds by name, in the order of ngx_http_livekit_revoke_kind_e */
const char  *ngx_http_livekit_revoke_kinds[] = {
    "token", "identity", "participant", "room", "invitation",
    "used_invitation", NULL
};


static char *ngx_http_livekit_revoke_zone_add(ngx_conf_t *cf,
    ngx_http_livekit_token_main_conf_t *tmcf, ngx_str_t *name, ssize_t size);
static ngx_int_t ngx_http_livekit_revoke_zone_size(ngx_str_t *v,
    ngx_str_t *name, ssize_t *size);
static ngx_int_t ngx_http_livekit_revoke_init_zone(ngx_shm_zone_t *zone,
    void *data);
static void ngx_http_livekit_revoke_load(ngx_http_livekit_revoke_zone_t *z,
    ngx_log_t *log);
static ngx_int_t ngx_http_livekit_revoke_save(
    ngx_http_livekit_revoke_zone_t *z, ngx_log_t *log);
static ngx_http_livekit_revoke_zone_t *ngx_http_livekit_revoke_zone(
    ngx_http_request_t *r);
static uint32_t ngx_http_livekit_revoke_hash(ngx_uint_t kind, ngx_str_t *a,
    ngx_str_t *b);
static ngx_http_livekit_revoke_node_t *ngx_http_livekit_revoke_find(
    ngx_http_livekit_revoke_sh_t *sh, ngx_uint_t kind, ngx_str_t *a,
    ngx_str_t *b);
static ngx_int_t ngx_http_livekit_revoke_insert(
    ngx_http_livekit_revoke_zone_t *z, ngx_http_livekit_revocation_t *rv);
static void ngx_http_livekit_revoke_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static void ngx_http_livekit_revoke_free(ngx_http_livekit_revoke_zone_t *z,
    ngx_http_livekit_revoke_node_t *n);
static void ngx_http_livekit_revoke_expire(ngx_http_livekit_revoke_zone_t *z);
static void ngx_http_livekit_revoke_node_read(
    ngx_http_livekit_revoke_node_t *n, ngx_http_livekit_revocation_t *rv);
static ngx_int_t ngx_http_livekit_revoke_text(json_t *o, const char *name,
    ngx_str_t *s, const char **error);
static time_t ngx_http_livekit_revoke_time(json_t *o, const char *name);


/*
 * livekit_revocation_zone zone=name:size [state=file] [max_ttl=time];
 */

char *
ngx_http_livekit_revocation_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_livekit_token_main_conf_t *tmcf = conf;

    ssize_t      size;
    ngx_str_t   *value, name, s;
    ngx_uint_t   i;

    if (tmcf->revocations) {
        return "is duplicate";
    }

    value = cf->args->elts;
    ngx_str_null(&name);
    size = 0;
    tmcf->revocation_ttl = NGX_HTTP_LIVEKIT_REVOKE_TTL;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {
            if (ngx_http_livekit_revoke_zone_size(&value[i], &name, &size)
                != NGX_OK)
            {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "state=", 6) == 0
            && value[i].len > 6)
        {
            tmcf->revocation_state.data = value[i].data + 6;
            tmcf->revocation_state.len = value[i].len - 6;

            if (ngx_conf_full_name(cf->cycle, &tmcf->revocation_state, 0)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "max_ttl=", 8) == 0) {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;
            tmcf->revocation_ttl = ngx_parse_time(&s, 1);

            if (tmcf->revocation_ttl == (time_t) NGX_ERROR
                || tmcf->revocation_ttl <= 0)
            {
                goto invalid;
            }

            continue;
        }

        goto invalid;
    }

    if (name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" needs zone=name:size", &cmd->name);
        return NGX_CONF_ERROR;
    }

    return ngx_http_livekit_revoke_zone_add(cf, tmcf, &name, size);

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in \"%V\" (zone=name:size "
                       "of at least 8 pages, state=file, max_ttl=time)",
                       &value[i], &cmd->name);
    return NGX_CONF_ERROR;
}


static char *
ngx_http_livekit_revoke_zone_add(ngx_conf_t *cf,
    ngx_http_livekit_token_main_conf_t *tmcf, ngx_str_t *name, ssize_t size)
{
    ngx_http_livekit_revoke_zone_t  *z;

    z = ngx_pcalloc(cf->pool, sizeof(ngx_http_livekit_revoke_zone_t));
    if (z == NULL) {
        return NGX_CONF_ERROR;
    }

    z->state = tmcf->revocation_state;
    z->ttl = tmcf->revocation_ttl;

    tmcf->revocations = ngx_shared_memory_add(cf, name, size,
                                              &ngx_http_livekit_token_module);
    if (tmcf->revocations == NULL) {
        return NGX_CONF_ERROR;
    }

    if (tmcf->revocations->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is already used", name);
        return NGX_CONF_ERROR;
    }

    tmcf->revocations->init = ngx_http_livekit_revoke_init_zone;
    tmcf->revocations->data = z;

    return NGX_CONF_OK;
}


/* zone=name:size, at least 8 pages */

static ngx_int_t
ngx_http_livekit_revoke_zone_size(ngx_str_t *v, ngx_str_t *name,
    ssize_t *size)
{
    u_char     *p;
    ngx_str_t   s;

    name->data = v->data + 5;
    p = (u_char *) ngx_strlchr(name->data, v->data + v->len, ':');
    if (p == NULL) {
        return NGX_ERROR;
    }

    name->len = p - name->data;
    s.data = p + 1;
    s.len = v->data + v->len - s.data;
    *size = ngx_parse_size(&s);

    if (name->len == 0 || *size == NGX_ERROR
        || *size < (ssize_t) (8 * ngx_pagesize))
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* a reload keeps the list; a new zone reads the state file */

static ngx_int_t
ngx_http_livekit_revoke_init_zone(ngx_shm_zone_t *zone, void *data)
{
    ngx_http_livekit_revoke_zone_t  *ozone = data;

    ngx_http_livekit_revoke_zone_t  *z;

    z = zone->data;

    if (ozone) {
        z->sh = ozone->sh;
        z->shpool = ozone->shpool;
        return NGX_OK;
    }

    z->shpool = (ngx_slab_pool_t *) zone->shm.addr;

    if (zone->shm.exists) {
        z->sh = z->shpool->data;
        return NGX_OK;
    }

    z->sh = ngx_slab_alloc(z->shpool, sizeof(ngx_http_livekit_revoke_sh_t));
    if (z->sh == NULL) {
        return NGX_ERROR;
    }

    z->shpool->data = z->sh;

    ngx_rbtree_init(&z->sh->rbtree, &z->sh->sentinel,
                    ngx_http_livekit_revoke_insert_value);
    ngx_queue_init(&z->sh->queue);

    z->shpool->log_nomem = 0;

    if (z->state.len) {
        ngx_http_livekit_revoke_load(z, zone->shm.log);
    }

    return NGX_OK;
}


/*
 * The state file: a JSON array of revocations.  It is outside input like
 * any other: each entry is checked as an admin request is, and one that
 * is not valid, or has expired, is left out.  A missing file is an empty
 * list; an unreadable one is logged and the list starts empty, so that
 * nginx still starts.
 */

static void
ngx_http_livekit_revoke_load(ngx_http_livekit_revoke_zone_t *z,
    ngx_log_t *log)
{
    json_t                         *root, *o;
    size_t                          i;
    time_t                          now;
    ngx_uint_t                      loaded, skipped;
    const char                     *error;
    ngx_file_info_t                 fi;
    ngx_http_livekit_revocation_t   rv;

    if (ngx_file_info(z->state.data, &fi) == NGX_FILE_ERROR) {
        if (ngx_errno != NGX_ENOENT) {
            ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                          "livekit revocations: cannot read \"%V\"",
                          &z->state);
        }

        return;
    }

    if (!ngx_is_file(&fi)
        || ngx_file_size(&fi) > NGX_HTTP_LIVEKIT_REVOKE_FILE_MAX)
    {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "livekit revocations: \"%V\" is not a regular file "
                      "of at most 16m: the list starts empty", &z->state);
        return;
    }

    root = json_load_file((char *) z->state.data, JSON_REJECT_DUPLICATES,
                          NULL);

    if (!json_is_array(root)) {
        json_decref(root);
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "livekit revocations: \"%V\" is not a JSON array: "
                      "the list starts empty", &z->state);
        return;
    }

    now = ngx_time();
    loaded = 0;
    skipped = 0;

    json_array_foreach(root, i, o) {

        if (ngx_http_livekit_revocation_from_json(o, &rv, &error) != NGX_OK
            || rv.expires <= now || rv.created == 0)
        {
            skipped++;
            continue;
        }

        /*
         * no longer than this configuration would keep it; but a used
         * invitation until the invitation itself expires, even when
         * max_ttl was made shorter since it was used
         */
        if (rv.kind != NGX_HTTP_LIVEKIT_REVOKE_USED) {
            rv.expires = ngx_min(rv.expires,
                                 ngx_max(rv.created, rv.before) + z->ttl);
        }

        if (ngx_http_livekit_revoke_insert(z, &rv) != NGX_OK) {
            skipped++;
            continue;
        }

        loaded++;
    }

    json_decref(root);

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "livekit revocations: %ui read from \"%V\", %ui left out "
                  "(expired or not valid)", loaded, &z->state, skipped);
}


/*
 * Writes the list to the state file: a temporary file beside it, then
 * rename(), so that a reader never sees half a list.  Called with the
 * zone locked, so that two workers' writes cannot cross.  The file is
 * small (a list bounded by the zone) and written only by the admin
 * location, never on a join.
 */

static ngx_int_t
ngx_http_livekit_revoke_save(ngx_http_livekit_revoke_zone_t *z,
    ngx_log_t *log)
{
    char                            *text;
    json_t                          *root;
    size_t                           len;
    u_char                           tmp[NGX_MAX_PATH];
    ngx_fd_t                         fd;
    ngx_queue_t                     *q;
    ngx_http_livekit_revoke_node_t  *n;
    ngx_http_livekit_revocation_t    rv;

    if (z->state.len == 0) {
        return NGX_OK;
    }

    if (z->state.len + sizeof(".tmp.") + NGX_INT64_LEN > NGX_MAX_PATH) {
        return NGX_ERROR;
    }

    root = json_array();
    if (root == NULL) {
        return NGX_ERROR;
    }

    for (q = ngx_queue_head(&z->sh->queue);
         q != ngx_queue_sentinel(&z->sh->queue);
         q = ngx_queue_next(q))
    {
        n = ngx_queue_data(q, ngx_http_livekit_revoke_node_t, queue);
        ngx_http_livekit_revoke_node_read(n, &rv);

        if (json_array_append_new(root, ngx_http_livekit_revocation_json(&rv))
            != 0)
        {
            json_decref(root);
            return NGX_ERROR;
        }
    }

    text = json_dumps(root, JSON_COMPACT);
    json_decref(root);

    if (text == NULL) {
        return NGX_ERROR;
    }

    len = ngx_strlen(text);

    (void) ngx_sprintf(tmp, "%V.tmp.%P%Z", &z->state, ngx_pid);

    fd = ngx_open_file(tmp, NGX_FILE_WRONLY, NGX_FILE_TRUNCATE, 0600);

    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "livekit revocations: cannot write \"%s\"", tmp);
        free(text);
        return NGX_ERROR;
    }

    if (ngx_write_fd(fd, text, len) != (ssize_t) len) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "livekit revocations: cannot write \"%s\"", tmp);
        free(text);
        (void) ngx_close_file(fd);
        (void) ngx_delete_file(tmp);
        return NGX_ERROR;
    }

    free(text);

    if (ngx_close_file(fd) == NGX_FILE_ERROR
        || ngx_rename_file(tmp, z->state.data) == NGX_FILE_ERROR)
    {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "livekit revocations: cannot replace \"%V\"",
                      &z->state);
        (void) ngx_delete_file(tmp);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_http_livekit_revoke_zone_t *
ngx_http_livekit_revoke_zone(ngx_http_request_t *r)
{
    ngx_http_livekit_token_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_livekit_token_module);

    return tmcf->revocations ? tmcf->revocations->data : NULL;
}


/*
 * Is the join token revoked?  NGX_OK: no (or no zone); NGX_DECLINED: yes.
 * The token's id, its identity anywhere, its identity in its room, its
 * room (every token, or those issued before a time), and the invitation
 * it was minted from.
 */

ngx_int_t
ngx_http_livekit_revoked(ngx_http_request_t *r, ngx_http_livekit_join_t *j)
{
    time_t                           now;
    ngx_str_t                        none = ngx_null_string;
    ngx_uint_t                       revoked;
    ngx_http_livekit_revoke_node_t  *n;
    ngx_http_livekit_revoke_zone_t  *z;

    z = ngx_http_livekit_revoke_zone(r);

    if (z == NULL || z->sh->count == 0) {
        return NGX_OK;
    }

    now = ngx_time();
    revoked = 0;

    ngx_shmtx_lock(&z->shpool->mutex);

    n = j->token_id.len
        ? ngx_http_livekit_revoke_find(z->sh, NGX_HTTP_LIVEKIT_REVOKE_TOKEN,
                                       &j->token_id, &none)
        : NULL;
    revoked |= (n && n->expires > now);

    n = j->invitation.len
        ? ngx_http_livekit_revoke_find(z->sh,
                                       NGX_HTTP_LIVEKIT_REVOKE_INVITATION,
                                       &j->invitation, &none)
        : NULL;
    revoked |= (n && n->expires > now);

    n = ngx_http_livekit_revoke_find(z->sh, NGX_HTTP_LIVEKIT_REVOKE_IDENTITY,
                                     &j->identity, &none);
    revoked |= (n && n->expires > now);

    n = ngx_http_livekit_revoke_find(z->sh,
                                     NGX_HTTP_LIVEKIT_REVOKE_PARTICIPANT,
                                     &j->room, &j->identity);
    revoked |= (n && n->expires > now);

    n = ngx_http_livekit_revoke_find(z->sh, NGX_HTTP_LIVEKIT_REVOKE_ROOM,
                                     &j->room, &none);
    revoked |= (n && n->expires > now
                && (n->before == 0 || j->issued < n->before));

    ngx_shmtx_unlock(&z->shpool->mutex);

    return revoked ? NGX_DECLINED : NGX_OK;
}


/*
 * May an invitation mint a token?  NGX_OK: yes; NGX_DECLINED: it is
 * revoked; NGX_BUSY: it is single-use ("expires" set) and was used.
 * With "use", a single-use invitation is also recorded as used, until it
 * expires, in the same locked step that found it unused, so that of many
 * concurrent uses exactly one gets NGX_OK: then NGX_AGAIN when the zone
 * has no room to record it.  Requires the zone (configuration checks).
 */

ngx_int_t
ngx_http_livekit_invitation_state(ngx_http_request_t *r, ngx_str_t *id,
    ngx_uint_t use, time_t expires)
{
    time_t                           now;
    ngx_int_t                        rc;
    ngx_str_t                        none = ngx_null_string;
    ngx_log_t                        log;
    ngx_http_livekit_revoke_node_t  *n;
    ngx_http_livekit_revoke_zone_t  *z;
    ngx_http_livekit_revocation_t    rv;

    z = ngx_http_livekit_revoke_zone(r);
    if (z == NULL) {
        return NGX_ERROR;
    }

    now = ngx_time();

    ngx_shmtx_lock(&z->shpool->mutex);

    n = ngx_http_livekit_revoke_find(z->sh, NGX_HTTP_LIVEKIT_REVOKE_INVITATION,
                                     id, &none);
    rc = (n && n->expires > now) ? NGX_DECLINED : NGX_OK;

    if (rc == NGX_OK && expires) {
        n = ngx_http_livekit_revoke_find(z->sh, NGX_HTTP_LIVEKIT_REVOKE_USED,
                                         id, &none);
        rc = (n && n->expires > now) ? NGX_BUSY : NGX_OK;
    }

    if (rc == NGX_OK && expires && use) {
        ngx_memzero(&rv, sizeof(ngx_http_livekit_revocation_t));
        rv.kind = NGX_HTTP_LIVEKIT_REVOKE_USED;
        rv.a = *id;
        rv.created = now;
        rv.expires = expires;

        ngx_http_livekit_revoke_expire(z);

        if (ngx_http_livekit_revoke_insert(z, &rv) != NGX_OK) {
            rc = NGX_AGAIN;

        } else {
            ngx_http_livekit_reply_log(r, &log);
            (void) ngx_http_livekit_revoke_save(z, &log);
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    return rc;
}


/* how long a revocation is kept: no token or invitation outlives it */

time_t
ngx_http_livekit_revoke_max_ttl(ngx_http_request_t *r)
{
    ngx_http_livekit_revoke_zone_t  *z;

    z = ngx_http_livekit_revoke_zone(r);

    return z ? z->ttl : 0;
}


/*
 * Adds (or renews) a revocation.  NGX_OK; NGX_DECLINED: the zone is full;
 * NGX_ERROR.  "saved" says whether the state file has it.
 */

ngx_int_t
ngx_http_livekit_revoke_add(ngx_http_request_t *r,
    ngx_http_livekit_revocation_t *rv, ngx_uint_t *saved)
{
    ngx_int_t                        rc;
    ngx_log_t                        log;
    ngx_http_livekit_revoke_zone_t  *z;

    z = ngx_http_livekit_revoke_zone(r);
    if (z == NULL) {
        return NGX_ERROR;
    }

    rv->created = ngx_time();
    rv->expires = ngx_max(rv->created, rv->before) + z->ttl;

    ngx_http_livekit_reply_log(r, &log);

    ngx_shmtx_lock(&z->shpool->mutex);

    ngx_http_livekit_revoke_expire(z);

    rc = ngx_http_livekit_revoke_insert(z, rv);

    *saved = (rc == NGX_OK
              && ngx_http_livekit_revoke_save(z, &log) == NGX_OK);

    ngx_shmtx_unlock(&z->shpool->mutex);

    return rc;
}


/* NGX_OK; NGX_DECLINED: there is no such revocation */

ngx_int_t
ngx_http_livekit_revoke_delete(ngx_http_request_t *r,
    ngx_http_livekit_revocation_t *rv, ngx_uint_t *saved)
{
    ngx_log_t                        log;
    ngx_http_livekit_revoke_node_t  *n;
    ngx_http_livekit_revoke_zone_t  *z;

    z = ngx_http_livekit_revoke_zone(r);
    if (z == NULL) {
        return NGX_ERROR;
    }

    ngx_http_livekit_reply_log(r, &log);

    ngx_shmtx_lock(&z->shpool->mutex);

    ngx_http_livekit_revoke_expire(z);

    n = ngx_http_livekit_revoke_find(z->sh, rv->kind, &rv->a, &rv->b);

    if (n) {
        ngx_http_livekit_revoke_free(z, n);
        *saved = (ngx_http_livekit_revoke_save(z, &log) == NGX_OK);
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    return n ? NGX_OK : NGX_DECLINED;
}


/* the list, oldest first, as a JSON array */

json_t *
ngx_http_livekit_revoke_list(ngx_http_request_t *r)
{
    json_t                          *list;
    time_t                           now;
    ngx_queue_t                     *q;
    ngx_http_livekit_revoke_node_t  *n;
    ngx_http_livekit_revoke_zone_t  *z;
    ngx_http_livekit_revocation_t    rv;

    z = ngx_http_livekit_revoke_zone(r);

    list = json_array();
    if (list == NULL || z == NULL) {
        return list;
    }

    now = ngx_time();

    ngx_shmtx_lock(&z->shpool->mutex);

    for (q = ngx_queue_head(&z->sh->queue);
         q != ngx_queue_sentinel(&z->sh->queue);
         q = ngx_queue_next(q))
    {
        n = ngx_queue_data(q, ngx_http_livekit_revoke_node_t, queue);

        if (n->expires <= now) {
            continue;
        }

        ngx_http_livekit_revoke_node_read(n, &rv);

        if (json_array_append_new(list, ngx_http_livekit_revocation_json(&rv))
            != 0)
        {
            json_decref(list);
            list = NULL;
            break;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    return list;
}


static uint32_t
ngx_http_livekit_revoke_hash(ngx_uint_t kind, ngx_str_t *a, ngx_str_t *b)
{
    u_char    k;
    uint32_t  hash;

    k = (u_char) kind;

    ngx_crc32_init(hash);
    ngx_crc32_update(&hash, &k, 1);
    ngx_crc32_update(&hash, a->data, a->len);
    ngx_crc32_update(&hash, (u_char *) "", 1);
    ngx_crc32_update(&hash, b->data, b->len);
    ngx_crc32_final(hash);

    return hash;
}


/* compares a node with (kind, a, b): <0, 0, >0 */

static ngx_int_t
ngx_http_livekit_revoke_cmp(ngx_http_livekit_revoke_node_t *n,
    ngx_uint_t kind, ngx_str_t *a, ngx_str_t *b)
{
    ngx_int_t  rc;

    if (n->kind != kind) {
        return (ngx_int_t) n->kind - (ngx_int_t) kind;
    }

    if (n->alen != a->len) {
        return (ngx_int_t) n->alen - (ngx_int_t) a->len;
    }

    if (n->blen != b->len) {
        return (ngx_int_t) n->blen - (ngx_int_t) b->len;
    }

    rc = a->len ? ngx_memcmp(n->data, a->data, a->len) : 0;

    if (rc == 0 && b->len) {
        rc = ngx_memcmp(n->data + n->alen, b->data, b->len);
    }

    return rc;
}


static ngx_http_livekit_revoke_node_t *
ngx_http_livekit_revoke_find(ngx_http_livekit_revoke_sh_t *sh,
    ngx_uint_t kind, ngx_str_t *a, ngx_str_t *b)
{
    uint32_t                         hash;
    ngx_int_t                        rc;
    ngx_rbtree_node_t               *node, *sentinel;
    ngx_http_livekit_revoke_node_t  *n;

    if (a->len == 0) {
        return NULL;
    }

    hash = ngx_http_livekit_revoke_hash(kind, a, b);

    node = sh->rbtree.root;
    sentinel = sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash != node->key) {
            node = (hash < node->key) ? node->left : node->right;
            continue;
        }

        n = (ngx_http_livekit_revoke_node_t *) node;
        rc = ngx_http_livekit_revoke_cmp(n, kind, a, b);

        if (rc == 0) {
            return n;
        }

        node = (rc > 0) ? node->left : node->right;
    }

    return NULL;
}


static void
ngx_http_livekit_revoke_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_str_t                         a, b;
    ngx_rbtree_node_t               **p;
    ngx_http_livekit_revoke_node_t   *n, *t;

    n = (ngx_http_livekit_revoke_node_t *) node;
    a.data = n->data;
    a.len = n->alen;
    b.data = n->data + n->alen;
    b.len = n->blen;

    for ( ;; ) {

        if (node->key != temp->key) {
            p = (node->key < temp->key) ? &temp->left : &temp->right;

        } else {
            t = (ngx_http_livekit_revoke_node_t *) temp;
            p = (ngx_http_livekit_revoke_cmp(t, n->kind, &a, &b) > 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


/*
 * With the zone locked: a new node, or the existing one renewed (a room's
 * "before" grows: every token stays the widest).  NGX_DECLINED when the
 * zone is full.
 */

static ngx_int_t
ngx_http_livekit_revoke_insert(ngx_http_livekit_revoke_zone_t *z,
    ngx_http_livekit_revocation_t *rv)
{
    ngx_http_livekit_revoke_node_t  *n;

    n = ngx_http_livekit_revoke_find(z->sh, rv->kind, &rv->a, &rv->b);

    if (n) {
        if (n->before && (rv->before == 0 || rv->before > n->before)) {
            n->before = rv->before;
        }

        n->created = rv->created;
        n->expires = ngx_max(n->expires, rv->expires);

        return NGX_OK;
    }

    n = ngx_slab_alloc_locked(z->shpool,
                              offsetof(ngx_http_livekit_revoke_node_t, data)
                              + rv->a.len + rv->b.len);
    if (n == NULL) {
        return NGX_DECLINED;
    }

    n->node.key = ngx_http_livekit_revoke_hash(rv->kind, &rv->a, &rv->b);
    n->kind = (u_char) rv->kind;
    n->alen = (u_short) rv->a.len;
    n->blen = (u_short) rv->b.len;
    n->before = rv->before;
    n->created = rv->created;
    n->expires = rv->expires;

    ngx_memcpy(n->data, rv->a.data, rv->a.len);

    if (rv->b.len) {
        ngx_memcpy(n->data + rv->a.len, rv->b.data, rv->b.len);
    }

    ngx_rbtree_insert(&z->sh->rbtree, &n->node);
    ngx_queue_insert_tail(&z->sh->queue, &n->queue);
    z->sh->count++;

    return NGX_OK;
}


static void
ngx_http_livekit_revoke_free(ngx_http_livekit_revoke_zone_t *z,
    ngx_http_livekit_revoke_node_t *n)
{
    ngx_rbtree_delete(&z->sh->rbtree, &n->node);
    ngx_queue_remove(&n->queue);
    ngx_slab_free_locked(z->shpool, n);
    z->sh->count--;
}


/* with the zone locked: drops every revocation that can match no token */

static void
ngx_http_livekit_revoke_expire(ngx_http_livekit_revoke_zone_t *z)
{
    time_t                           now;
    ngx_queue_t                     *q, *next;
    ngx_http_livekit_revoke_node_t  *n;

    now = ngx_time();

    for (q = ngx_queue_head(&z->sh->queue);
         q != ngx_queue_sentinel(&z->sh->queue);
         q = next)
    {
        next = ngx_queue_next(q);
        n = ngx_queue_data(q, ngx_http_livekit_revoke_node_t, queue);

        if (n->expires <= now) {
            ngx_http_livekit_revoke_free(z, n);
        }
    }
}


/* the node's strings point into shared memory: copy before unlocking */

static void
ngx_http_livekit_revoke_node_read(ngx_http_livekit_revoke_node_t *n,
    ngx_http_livekit_revocation_t *rv)
{
    rv->kind = n->kind;
    rv->a.data = n->data;
    rv->a.len = n->alen;
    rv->b.data = n->data + n->alen;
    rv->b.len = n->blen;
    rv->before = n->before;
    rv->created = n->created;
    rv->expires = n->expires;
}


/*
 * A revocation as JSON (the admin location's replies, the state file):
 *   {"token_id":..} {"identity":..} {"room":..,"identity":..}
 *   {"room":..[,"issued_before":T]} {"invitation":..}
 *   {"used_invitation":..} (a single-use invitation used once already)
 * with "created" and "expires" once it is kept.  jansson copies the
 * strings, so a node may be read with the zone locked.
 */

json_t *
ngx_http_livekit_revocation_json(ngx_http_livekit_revocation_t *rv)
{
    json_t  *o;
    char    *a, *b;

    a = (char *) rv->a.data;
    b = (char *) rv->b.data;

    switch (rv->kind) {

    case NGX_HTTP_LIVEKIT_REVOKE_TOKEN:
        o = json_pack("{s:s%}", "token_id", a, rv->a.len);
        break;

    case NGX_HTTP_LIVEKIT_REVOKE_IDENTITY:
        o = json_pack("{s:s%}", "identity", a, rv->a.len);
        break;

    case NGX_HTTP_LIVEKIT_REVOKE_PARTICIPANT:
        o = json_pack("{s:s%,s:s%}", "room", a, rv->a.len,
                      "identity", b, rv->b.len);
        break;

    case NGX_HTTP_LIVEKIT_REVOKE_ROOM:
        o = rv->before
            ? json_pack("{s:s%,s:I}", "room", a, rv->a.len,
                        "issued_before", (json_int_t) rv->before)
            : json_pack("{s:s%}", "room", a, rv->a.len);
        break;

    case NGX_HTTP_LIVEKIT_REVOKE_INVITATION:
        o = json_pack("{s:s%}", "invitation", a, rv->a.len);
        break;

    default: /* NGX_HTTP_LIVEKIT_REVOKE_USED */
        o = json_pack("{s:s%}", "used_invitation", a, rv->a.len);
        break;
    }

    if (o && rv->created
        && (json_object_set_new(o, "created", json_integer(rv->created))
            != 0
            || json_object_set_new(o, "expires", json_integer(rv->expires))
               != 0))
    {
        json_decref(o);
        return NULL;
    }

    return o;
}


/*
 * The other way: NGX_OK with "rv" pointing into "o"'s strings, or
 * NGX_DECLINED with "error" saying what to fix.  Unknown fields are
 * refused, so that a typing error does not revoke something else.
 */

ngx_int_t
ngx_http_livekit_revocation_from_json(json_t *o,
    ngx_http_livekit_revocation_t *rv, const char **error)
{
    json_t      *v;
    ngx_str_t    token, identity, room, invitation, used;
    const char  *key;

    ngx_memzero(rv, sizeof(ngx_http_livekit_revocation_t));

    if (!json_is_object(o)) {
        *error = "a revocation is a JSON object";
        return NGX_DECLINED;
    }

    json_object_foreach(o, key, v) {
        if (ngx_strcmp(key, "token_id") != 0
            && ngx_strcmp(key, "identity") != 0
            && ngx_strcmp(key, "room") != 0
            && ngx_strcmp(key, "invitation") != 0
            && ngx_strcmp(key, "used_invitation") != 0
            && ngx_strcmp(key, "issued_before") != 0
            && ngx_strcmp(key, "created") != 0
            && ngx_strcmp(key, "expires") != 0
            && ngx_strcmp(key, "remove") != 0)
        {
            *error = "unknown field: use token_id, identity, room (with "
                     "identity or issued_before), invitation, "
                     "used_invitation, remove";
            return NGX_DECLINED;
        }
    }

    if (ngx_http_livekit_revoke_text(o, "token_id", &token, error) != NGX_OK
        || ngx_http_livekit_revoke_text(o, "identity", &identity, error)
           != NGX_OK
        || ngx_http_livekit_revoke_text(o, "room", &room, error) != NGX_OK
        || ngx_http_livekit_revoke_text(o, "invitation", &invitation, error)
           != NGX_OK
        || ngx_http_livekit_revoke_text(o, "used_invitation", &used, error)
           != NGX_OK)
    {
        return NGX_DECLINED;
    }

    v = json_object_get(o, "issued_before");

    if (v && (!json_is_integer(v) || json_integer_value(v) <= 0
              || json_integer_value(v) > NGX_HTTP_LIVEKIT_REVOKE_TIME_MAX
              || room.len == 0 || identity.len))
    {
        *error = "issued_before is a time in seconds since the epoch, "
                 "with room alone";
        return NGX_DECLINED;
    }

    rv->before = v ? (time_t) json_integer_value(v) : 0;

    if ((token.len != 0) + (invitation.len != 0) + (used.len != 0)
        + (identity.len != 0 || room.len != 0) != 1)
    {
        *error = "say one of: token_id, invitation, used_invitation, "
                 "identity, room, room with identity";
        return NGX_DECLINED;
    }

    if (token.len) {
        rv->kind = NGX_HTTP_LIVEKIT_REVOKE_TOKEN;
        rv->a = token;

    } else if (invitation.len) {
        rv->kind = NGX_HTTP_LIVEKIT_REVOKE_INVITATION;
        rv->a = invitation;

    } else if (used.len) {
        rv->kind = NGX_HTTP_LIVEKIT_REVOKE_USED;
        rv->a = used;

    } else if (room.len && identity.len) {
        rv->kind = NGX_HTTP_LIVEKIT_REVOKE_PARTICIPANT;
        rv->a = room;
        rv->b = identity;

    } else if (room.len) {
        rv->kind = NGX_HTTP_LIVEKIT_REVOKE_ROOM;
        rv->a = room;

    } else {
        rv->kind = NGX_HTTP_LIVEKIT_REVOKE_IDENTITY;
        rv->a = identity;
    }

    rv->created = ngx_http_livekit_revoke_time(o, "created");
    rv->expires = ngx_http_livekit_revoke_time(o, "expires");

    return NGX_OK;
}


/* a time of the state file, 0 when absent or out of range */

static time_t
ngx_http_livekit_revoke_time(json_t *o, const char *name)
{
    json_t  *v;

    v = json_object_get(o, name);

    if (!json_is_integer(v) || json_integer_value(v) <= 0
        || json_integer_value(v) > NGX_HTTP_LIVEKIT_REVOKE_TIME_MAX)
    {
        return 0;
    }

    return (time_t) json_integer_value(v);
}


/* an optional string field: at most 256 bytes of text, never empty */

static ngx_int_t
ngx_http_livekit_revoke_text(json_t *o, const char *name, ngx_str_t *s,
    const char **error)
{
    json_t                    *v;
    ngx_http_livekit_error_t   err;

    ngx_str_null(s);

    v = json_object_get(o, name);

    if (v == NULL) {
        return NGX_OK;
    }

    if (!json_is_string(v) || json_string_length(v) == 0
        || json_string_length(v) > NGX_HTTP_LIVEKIT_MAX_NAME)
    {
        *error = "token_id, identity, room and invitation are strings "
                 "of 1 to 256 bytes";
        return NGX_DECLINED;
    }

    s->data = (u_char *) json_string_value(v);
    s->len = json_string_length(v);

    if (ngx_http_livekit_check_text(s, 0, &err) != NGX_OK) {
        *error = "token_id, identity, room and invitation are UTF-8 text "
                 "without control characters";
        return NGX_DECLINED;
    }

    return NGX_OK;
}
