
/*
 * The key-drift probe: does livekit-server accept the key we sign with?
 *
 * Owns: livekit_token_upstream_check, and in the workers a timer that
 * every interval (once across all workers, through shared memory) mints a
 * short-lived token with the scope's current key and asks livekit-server
 * for its room list (POST /twirp/livekit.RoomService/ListRooms, over
 * nginx's own non-blocking connection): 200 is "accepted", 401 "refused",
 * anything else "unreachable".  The state and the time of the check are
 * kept in shared memory for livekit_token_status; a change is logged once,
 * a refusal at error, naming the key, never the secret.  Each configuration
 * has a generation: a probe of an older one still in flight after a reload
 * (its slot now another probe's) neither writes its result nor starts again.
 * Does not own: the key set (_keys.c), signing (_jwt.c), showing the state
 * (_status.c).
 */

#include "ngx_http_livekit_token.h"


#define NGX_HTTP_LIVEKIT_PROBE_MAX      8
#define NGX_HTTP_LIVEKIT_PROBE_TIMEOUT  5000
#define NGX_HTTP_LIVEKIT_PROBE_TTL      60


typedef struct {
    ngx_atomic_t                 next;        /* when the next check is due */
    ngx_atomic_t                 state;       /* ngx_http_livekit_probe_e */
    ngx_atomic_t                 checked;
} ngx_http_livekit_probe_shm_t;


/* the zone: the slots of the configuration whose generation it holds */

typedef struct {
    ngx_uint_t                     generation;
    ngx_http_livekit_probe_shm_t   slot[NGX_HTTP_LIVEKIT_PROBE_MAX];
} ngx_http_livekit_probe_sh_t;


/* the zone's data in a configuration: its generation, set by the master */

typedef struct {
    ngx_uint_t                     generation;
    ngx_slab_pool_t               *shpool;
    ngx_http_livekit_probe_sh_t   *sh;
} ngx_http_livekit_probe_zone_t;


typedef enum {
    NGX_HTTP_LIVEKIT_PROBE_NONE = 0,
    NGX_HTTP_LIVEKIT_PROBE_ACCEPTED,
    NGX_HTTP_LIVEKIT_PROBE_REFUSED,
    NGX_HTTP_LIVEKIT_PROBE_UNREACHABLE
} ngx_http_livekit_probe_e;


static const char  *ngx_http_livekit_probe_states[] = {
    "unknown", "accepted", "refused", "unreachable"
};


struct ngx_http_livekit_probe_s {
    ngx_http_livekit_keyset_t     *keyset;
    ngx_url_t                     *url;
    time_t                         interval;
    ngx_uint_t                     slot;
    ngx_http_livekit_probe_zone_t *zone;        /* of every probe's state */
    ngx_http_livekit_probe_shm_t  *shm;         /* this one's, in a worker */
    ngx_event_t                    timer;
    ngx_peer_connection_t          peer;
    ngx_pool_t                    *pool;
    ngx_buf_t                     *out;
    ngx_buf_t                     *in;
    ngx_log_t                      quiet;       /* for the connection */
};


static ngx_str_t  ngx_http_livekit_probe_zone_name =
    ngx_string("livekit_token_probe");


static ngx_int_t ngx_http_livekit_probe_init_zone(ngx_shm_zone_t *zone,
    void *data);
static ngx_uint_t ngx_http_livekit_probe_current(
    ngx_http_livekit_probe_zone_t *z);
static void ngx_http_livekit_probe_timer(ngx_event_t *ev);
static void ngx_http_livekit_probe_start(ngx_http_livekit_probe_t *pr);
static ngx_int_t ngx_http_livekit_probe_request(ngx_http_livekit_probe_t *pr,
    ngx_http_livekit_key_t *key);
static void ngx_http_livekit_probe_write(ngx_event_t *wev);
static void ngx_http_livekit_probe_read(ngx_event_t *rev);
static void ngx_http_livekit_probe_done(ngx_http_livekit_probe_t *pr,
    ngx_http_livekit_probe_e state, ngx_uint_t status);


/* livekit_token_upstream_check http://host:port [interval]; */

char *
ngx_http_livekit_probe_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_livekit_token_loc_conf_t *lcf = conf;

    ngx_str_t  *value;
    ngx_url_t  *u;

    if (lcf->probe_url != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len <= sizeof("http://") - 1
        || ngx_strncasecmp(value[1].data, (u_char *) "http://",
                           sizeof("http://") - 1) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" needs an http:// URL of livekit-server "
                           "(a node's own address), not \"%V\"",
                           &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    u = ngx_pcalloc(cf->pool, sizeof(ngx_url_t));
    if (u == NULL) {
        return NGX_CONF_ERROR;
    }

    u->url.data = value[1].data + sizeof("http://") - 1;
    u->url.len = value[1].len - (sizeof("http://") - 1);
    u->default_port = 80;
    u->uri_part = 1;

    if (ngx_parse_url(cf->pool, u) != NGX_OK || u->naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s in \"%V\" of \"%V\"",
                           u->err ? u->err : "no address", &value[1],
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    lcf->probe_url = u;
    lcf->probe_interval = 30;

    if (cf->args->nelts == 3) {
        lcf->probe_interval = ngx_parse_time(&value[2], 1);

        if (lcf->probe_interval == (time_t) NGX_ERROR
            || lcf->probe_interval < 1)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid interval \"%V\" in \"%V\"",
                               &value[2], &cmd->name);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/*
 * At merge time, for a location with a key set and a probe URL: one probe
 * per key set and URL, and the shared zone that holds their state.
 */

ngx_int_t
ngx_http_livekit_probe_add(ngx_conf_t *cf,
    ngx_http_livekit_token_loc_conf_t *lcf)
{
    ngx_uint_t                           i;
    ngx_shm_zone_t                      *zone;
    ngx_http_livekit_probe_t            *pr, **probes;
    ngx_http_livekit_token_main_conf_t  *tmcf;

    if (lcf->probe_url == NULL || lcf->keyset == NULL) {
        return NGX_OK;
    }

    /* the probes belong to the cycle being configured, as its zone does */

    tmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_livekit_token_module);

    zone = ngx_shared_memory_add(cf, &ngx_http_livekit_probe_zone_name,
                                 8 * ngx_pagesize,
                                 &ngx_http_livekit_token_module);
    if (zone == NULL) {
        return NGX_ERROR;
    }

    zone->init = ngx_http_livekit_probe_init_zone;

    if (zone->data == NULL) {
        zone->data = ngx_pcalloc(cf->pool,
                                 sizeof(ngx_http_livekit_probe_zone_t));
        if (zone->data == NULL) {
            return NGX_ERROR;
        }
    }

    if (tmcf->probes == NULL) {
        tmcf->probes = ngx_array_create(cf->pool, 2,
                                        sizeof(ngx_http_livekit_probe_t *));
        if (tmcf->probes == NULL) {
            return NGX_ERROR;
        }
    }

    probes = tmcf->probes->elts;

    for (i = 0; i < tmcf->probes->nelts; i++) {
        if (probes[i]->keyset == lcf->keyset
            && probes[i]->url == lcf->probe_url)
        {
            return NGX_OK;
        }
    }

    if (i == NGX_HTTP_LIVEKIT_PROBE_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "more than %d \"livekit_token_upstream_check\" "
                           "probes", NGX_HTTP_LIVEKIT_PROBE_MAX);
        return NGX_ERROR;
    }

    probes = ngx_array_push(tmcf->probes);
    pr = ngx_pcalloc(cf->pool, sizeof(ngx_http_livekit_probe_t));

    if (probes == NULL || pr == NULL) {
        return NGX_ERROR;
    }

    *probes = pr;

    pr->keyset = lcf->keyset;
    pr->url = lcf->probe_url;
    pr->interval = lcf->probe_interval;
    pr->slot = i;
    pr->zone = zone->data;

    /* the key set of every location that shares it shows this probe */
    lcf->keyset->probe = pr;

    return NGX_OK;
}


/*
 * In the master: the zone a reload keeps, or a new one.  Its slots stay as
 * they are until the configuration is committed (init_module): a reload
 * that fails after this leaves the running workers' probes untouched.
 */

static ngx_int_t
ngx_http_livekit_probe_init_zone(ngx_shm_zone_t *zone, void *data)
{
    ngx_http_livekit_probe_zone_t  *oz = data;

    ngx_http_livekit_probe_zone_t  *z;

    z = zone->data;

    if (oz) {
        z->shpool = oz->shpool;
        z->sh = oz->sh;
        z->generation = oz->generation;
        return NGX_OK;
    }

    z->shpool = (ngx_slab_pool_t *) zone->shm.addr;

    z->sh = ngx_slab_calloc(z->shpool, sizeof(ngx_http_livekit_probe_sh_t));
    if (z->sh == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * In the master, once a configuration is committed: a fresh state, since
 * the probes may have changed and slots go by order, and a new generation,
 * which tells the workers of the replaced configuration (a probe of theirs
 * may be in flight) that the slots are no longer theirs.  The workers of
 * this configuration are forked after it and keep its generation.
 */

ngx_int_t
ngx_http_livekit_probe_init_module(ngx_cycle_t *cycle)
{
    ngx_http_livekit_probe_t            **probes;
    ngx_http_livekit_probe_zone_t        *z;
    ngx_http_livekit_token_main_conf_t   *tmcf;

    tmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_livekit_token_module);

    if (tmcf == NULL || tmcf->probes == NULL || tmcf->probes->nelts == 0) {
        return NGX_OK;
    }

    probes = tmcf->probes->elts;
    z = probes[0]->zone;

    ngx_shmtx_lock(&z->shpool->mutex);

    z->generation = ++z->sh->generation;
    ngx_memzero(z->sh->slot, sizeof(z->sh->slot));

    ngx_shmtx_unlock(&z->shpool->mutex);

    return NGX_OK;
}


/* whether the zone's slots are still this configuration's */

static ngx_uint_t
ngx_http_livekit_probe_current(ngx_http_livekit_probe_zone_t *z)
{
    return z->sh != NULL && z->sh->generation == z->generation;
}


/* in each worker: a timer per probe, the first check soon after start */

ngx_int_t
ngx_http_livekit_probe_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                           i;
    ngx_http_livekit_probe_t           **probes, *pr;
    ngx_http_livekit_token_main_conf_t  *tmcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    /* this cycle's probes: never those of a configuration that failed */

    tmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_livekit_token_module);

    if (tmcf == NULL || tmcf->probes == NULL) {
        return NGX_OK;
    }

    probes = tmcf->probes->elts;

    for (i = 0; i < tmcf->probes->nelts; i++) {
        pr = probes[i];

        pr->shm = &pr->zone->sh->slot[pr->slot];
        pr->timer.handler = ngx_http_livekit_probe_timer;
        pr->timer.data = pr;
        pr->timer.log = cycle->log;
        pr->timer.cancelable = 1;

        /* connect() and recv() failures are the probe's to report, once */
        pr->quiet = *cycle->log;
        pr->quiet.log_level = NGX_LOG_CRIT;
        pr->quiet.next = NULL;

        ngx_add_timer(&pr->timer, 1000 + ngx_random() % 1000);
    }

    return NGX_OK;
}


static void
ngx_http_livekit_probe_timer(ngx_event_t *ev)
{
    time_t                     now;
    ngx_atomic_uint_t          next;
    ngx_http_livekit_probe_t  *pr;

    pr = ev->data;

    /*
     * A worker that is stopping, or of a configuration that a reload has
     * replaced, starts no probe: the slot may be another probe's now.
     */

    if (ngx_exiting || ngx_quit || ngx_terminate
        || !ngx_http_livekit_probe_current(pr->zone))
    {
        return;
    }

    now = ngx_time();
    next = pr->shm->next;

    /* one worker per interval: whoever moves "next" first */

    if ((ngx_atomic_uint_t) now >= next && pr->peer.connection == NULL
        && ngx_atomic_cmp_set(&pr->shm->next, next, now + pr->interval))
    {
        ngx_http_livekit_probe_start(pr);
    }

    ngx_add_timer(ev, 1000);
}


static void
ngx_http_livekit_probe_start(ngx_http_livekit_probe_t *pr)
{
    ngx_int_t                rc;
    ngx_connection_t        *c;
    ngx_http_livekit_key_t  *key;

    key = ngx_http_livekit_keyset_current(pr->keyset);

    if (key == NULL) {
        return;                     /* no key yet: nothing to ask about */
    }

    pr->pool = ngx_create_pool(1024, pr->timer.log);
    if (pr->pool == NULL) {
        return;
    }

    if (ngx_http_livekit_probe_request(pr, key) != NGX_OK) {
        ngx_destroy_pool(pr->pool);
        pr->pool = NULL;
        return;
    }

    ngx_memzero(&pr->peer, sizeof(ngx_peer_connection_t));
    pr->peer.sockaddr = pr->url->addrs[0].sockaddr;
    pr->peer.socklen = pr->url->addrs[0].socklen;
    pr->peer.name = &pr->url->addrs[0].name;
    pr->peer.get = ngx_event_get_peer;
    pr->peer.log = &pr->quiet;
    pr->peer.log_error = NGX_ERROR_INFO;

    rc = ngx_event_connect_peer(&pr->peer);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        ngx_http_livekit_probe_done(pr, NGX_HTTP_LIVEKIT_PROBE_UNREACHABLE, 0);
        return;
    }

    c = pr->peer.connection;
    c->data = pr;
    c->pool = pr->pool;
    c->read->handler = ngx_http_livekit_probe_read;
    c->write->handler = ngx_http_livekit_probe_write;

    ngx_add_timer(c->write, NGX_HTTP_LIVEKIT_PROBE_TIMEOUT);
    ngx_add_timer(c->read, NGX_HTTP_LIVEKIT_PROBE_TIMEOUT);

    if (rc == NGX_OK) {
        ngx_http_livekit_probe_write(c->write);
    }
}


/* POST ListRooms with a token that may only list rooms, for a minute */

static ngx_int_t
ngx_http_livekit_probe_request(ngx_http_livekit_probe_t *pr,
    ngx_http_livekit_key_t *key)
{
    u_char     *p;
    time_t      now;
    ngx_str_t   claims;

    now = ngx_time();

    claims.len = sizeof("{\"iss\":\"\",\"sub\":\"livekit-token-probe\","
                        "\"nbf\":,\"exp\":,\"video\":{\"roomList\":true}}")
                 + 6 * key->name.len + 2 * NGX_TIME_T_LEN;
    claims.data = ngx_pnalloc(pr->pool, claims.len);

    pr->out = ngx_create_temp_buf(pr->pool,
                  sizeof("POST /twirp/livekit.RoomService/ListRooms "
                         "HTTP/1.0\r\nHost: \r\nAuthorization: Bearer \r\n"
                         "Content-Type: application/json\r\n"
                         "Content-Length: 2\r\n\r\n{}")
                  + pr->url->host.len + NGX_INT_T_LEN
                  + ngx_http_livekit_jwt_len(claims.len));
    pr->in = ngx_create_temp_buf(pr->pool, 64);

    if (claims.data == NULL || pr->out == NULL || pr->in == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(claims.data, "{\"iss\":\"", sizeof("{\"iss\":\"") - 1);
    p = (u_char *) ngx_escape_json(p, key->name.data, key->name.len);
    p = ngx_sprintf(p, "\",\"sub\":\"livekit-token-probe\",\"nbf\":%T,"
                    "\"exp\":%T,\"video\":{\"roomList\":true}}",
                    now, now + NGX_HTTP_LIVEKIT_PROBE_TTL);
    claims.len = p - claims.data;

    p = ngx_sprintf(pr->out->last,
                    "POST /twirp/livekit.RoomService/ListRooms HTTP/1.0\r\n"
                    "Host: %V\r\nAuthorization: Bearer ", &pr->url->host);

    p = ngx_http_livekit_jwt_sign(pr->timer.log, key, &claims, p);
    if (p == NULL) {
        return NGX_ERROR;
    }

    pr->out->last = ngx_cpymem(p, "\r\nContent-Type: application/json\r\n"
                               "Content-Length: 2\r\n\r\n{}",
                               sizeof("\r\nContent-Type: application/json\r\n"
                                      "Content-Length: 2\r\n\r\n{}") - 1);

    return NGX_OK;
}


static void
ngx_http_livekit_probe_write(ngx_event_t *wev)
{
    ssize_t                    n;
    ngx_connection_t          *c;
    ngx_http_livekit_probe_t  *pr;

    c = wev->data;
    pr = c->data;

    if (wev->timedout) {
        ngx_http_livekit_probe_done(pr, NGX_HTTP_LIVEKIT_PROBE_UNREACHABLE, 0);
        return;
    }

    while (pr->out->pos < pr->out->last) {
        n = c->send(c, pr->out->pos, pr->out->last - pr->out->pos);

        if (n == NGX_AGAIN) {
            if (ngx_handle_write_event(wev, 0) != NGX_OK) {
                ngx_http_livekit_probe_done(pr,
                    NGX_HTTP_LIVEKIT_PROBE_UNREACHABLE, 0);
            }

            return;
        }

        if (n == NGX_ERROR) {
            ngx_http_livekit_probe_done(pr,
                NGX_HTTP_LIVEKIT_PROBE_UNREACHABLE, 0);
            return;
        }

        pr->out->pos += n;
    }

    if (wev->timer_set) {
        ngx_del_timer(wev);
    }
}


/* the status line is all we need: "HTTP/1.x NNN " */

static void
ngx_http_livekit_probe_read(ngx_event_t *rev)
{
    ssize_t                    n;
    ngx_int_t                  status;
    ngx_buf_t                 *b;
    ngx_connection_t          *c;
    ngx_http_livekit_probe_t  *pr;

    c = rev->data;
    pr = c->data;
    b = pr->in;

    if (rev->timedout) {
        ngx_http_livekit_probe_done(pr, NGX_HTTP_LIVEKIT_PROBE_UNREACHABLE, 0);
        return;
    }

    while (b->last - b->pos < 12) {
        n = c->recv(c, b->last, b->end - b->last);

        if (n == NGX_AGAIN) {
            if (ngx_handle_read_event(rev, 0) != NGX_OK) {
                break;
            }

            return;
        }

        if (n == NGX_ERROR || n == 0) {
            break;
        }

        b->last += n;
    }

    status = (b->last - b->pos >= 12
              && ngx_strncmp(b->pos, "HTTP/1.", 7) == 0 && b->pos[8] == ' ')
             ? ngx_atoi(b->pos + 9, 3) : NGX_ERROR;

    if (status == NGX_HTTP_OK) {
        ngx_http_livekit_probe_done(pr, NGX_HTTP_LIVEKIT_PROBE_ACCEPTED, 200);

    } else if (status == NGX_HTTP_UNAUTHORIZED) {
        ngx_http_livekit_probe_done(pr, NGX_HTTP_LIVEKIT_PROBE_REFUSED, 401);

    } else {
        ngx_http_livekit_probe_done(pr, NGX_HTTP_LIVEKIT_PROBE_UNREACHABLE,
                                    status == NGX_ERROR ? 0 : status);
    }
}


/*
 * Records the outcome, unless a reload gave the slot to the probes of a
 * newer configuration meanwhile (checked under the zone's mutex, which the
 * master holds while it starts a generation); a change is logged once, by
 * the worker that saw it.
 */

static void
ngx_http_livekit_probe_done(ngx_http_livekit_probe_t *pr,
    ngx_http_livekit_probe_e state, ngx_uint_t status)
{
    ngx_uint_t               prev;
    ngx_http_livekit_key_t  *key;

    if (pr->peer.connection) {
        ngx_close_connection(pr->peer.connection);
        pr->peer.connection = NULL;
    }

    if (pr->pool) {
        ngx_destroy_pool(pr->pool);
        pr->pool = NULL;
    }

    ngx_shmtx_lock(&pr->zone->shpool->mutex);

    if (!ngx_http_livekit_probe_current(pr->zone)) {
        ngx_shmtx_unlock(&pr->zone->shpool->mutex);

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, pr->timer.log, 0,
                       "livekit token: the check of %V belongs to a "
                       "replaced configuration: its result is dropped",
                       &pr->url->url);
        return;
    }

    prev = pr->shm->state;
    pr->shm->state = state;
    pr->shm->checked = ngx_time();

    ngx_shmtx_unlock(&pr->zone->shpool->mutex);

    if (prev == state) {
        return;
    }

    key = pr->keyset->key;

    if (state == NGX_HTTP_LIVEKIT_PROBE_REFUSED) {
        ngx_log_error(NGX_LOG_ERR, pr->timer.log, 0,
                      "livekit token: livekit-server at %V refuses key "
                      "\"%V\": tokens signed with it will not join; "
                      "give livekit-server the same key and secret",
                      &pr->url->url, key ? &key->name : &pr->url->host);

    } else if (state == NGX_HTTP_LIVEKIT_PROBE_UNREACHABLE) {
        ngx_log_error(NGX_LOG_WARN, pr->timer.log, 0,
                      "livekit token: livekit-server at %V did not answer "
                      "the key check (status %ui)", &pr->url->url, status);

    } else {
        ngx_log_error(NGX_LOG_NOTICE, pr->timer.log, 0,
                      "livekit token: livekit-server at %V accepts key "
                      "\"%V\"", &pr->url->url,
                      key ? &key->name : &pr->url->host);
    }
}


/* for livekit_token_status: the state name and when it was checked */

void
ngx_http_livekit_probe_state(ngx_http_livekit_keyset_t *ks,
    ngx_http_livekit_source_status_t *st)
{
    ngx_http_livekit_probe_t      *pr;
    ngx_http_livekit_probe_shm_t  *shm;

    pr = ks->probe;

    /* a worker of a replaced configuration knows nothing of the new slots */

    if (pr == NULL || !ngx_http_livekit_probe_current(pr->zone)) {
        return;
    }

    shm = &pr->zone->sh->slot[pr->slot];

    st->upstream = ngx_http_livekit_probe_states[shm->state];
    st->upstream_checked = shm->checked;
}
