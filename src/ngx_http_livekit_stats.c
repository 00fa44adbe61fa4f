
/*
 * The counters.
 *
 * Owns: the counters every worker adds to in shared memory (tokens issued
 * by contract, verified webhooks and joins, replies by error code), kept
 * across reloads.  Nothing here calls up into the module: the reply, the
 * webhook and join checks count, the status location (_token_status.c)
 * reads.
 */

#include "ngx_http_livekit_token.h"


#define NGX_HTTP_LIVEKIT_STATS_ZONE_SIZE  (64 * 1024)


static ngx_str_t  ngx_http_livekit_stats_zone_name =
    ngx_string("livekit_token_stats");


static ngx_int_t ngx_http_livekit_stats_init_zone(ngx_shm_zone_t *zone,
    void *data);


/*
 * The counters of the running configuration: the zone's data in
 * ngx_cycle, looked up once per cycle.  Nothing is kept from a
 * configuration that failed (nginx -t refused a reload), so a worker the
 * master respawns afterwards counts in the zone of the cycle it runs.
 */

ngx_http_livekit_stats_t *
ngx_http_livekit_stats_get(void)
{
    ngx_uint_t                 i;
    ngx_shm_zone_t            *zone;
    ngx_list_part_t           *part;

    static volatile ngx_cycle_t       *cycle;
    static ngx_http_livekit_stats_t   *stats;

    if (cycle == ngx_cycle) {
        return stats;
    }

    stats = NULL;
    part = &((ngx_cycle_t *) ngx_cycle)->shared_memory.part;
    zone = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            zone = part->elts;
            i = 0;
        }

        if (zone[i].tag == &ngx_http_livekit_token_module
            && zone[i].shm.name.len == ngx_http_livekit_stats_zone_name.len
            && ngx_strncmp(zone[i].shm.name.data,
                           ngx_http_livekit_stats_zone_name.data,
                           zone[i].shm.name.len) == 0)
        {
            stats = zone[i].data;
            break;
        }
    }

    cycle = ngx_cycle;

    return stats;
}


/* livekit_token_status asks for the zone */

ngx_int_t
ngx_http_livekit_stats_zone(ngx_conf_t *cf)
{
    ngx_shm_zone_t  *zone;

    zone = ngx_shared_memory_add(cf, &ngx_http_livekit_stats_zone_name,
                                 NGX_HTTP_LIVEKIT_STATS_ZONE_SIZE,
                                 &ngx_http_livekit_token_module);
    if (zone == NULL) {
        return NGX_ERROR;
    }

    zone->init = ngx_http_livekit_stats_init_zone;
    zone->noreuse = 0;

    return NGX_OK;
}


/* the counters survive a reload: the zone keeps its name and size */

static ngx_int_t
ngx_http_livekit_stats_init_zone(ngx_shm_zone_t *zone, void *data)
{
    ngx_slab_pool_t           *shpool;
    ngx_http_livekit_stats_t  *stats;

    if (data) {
        zone->data = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) zone->shm.addr;

    if (zone->shm.exists) {
        zone->data = shpool->data;
        return NGX_OK;
    }

    stats = ngx_slab_calloc(shpool, sizeof(ngx_http_livekit_stats_t));
    if (stats == NULL) {
        return NGX_ERROR;
    }

    shpool->data = stats;
    zone->data = stats;

    return NGX_OK;
}


void
ngx_http_livekit_stats_issued(ngx_uint_t post)
{
    ngx_http_livekit_stats_t  *s;

    s = ngx_http_livekit_stats_get();

    if (s) {
        (void) ngx_atomic_fetch_add(post ? &s->issued_post : &s->issued_get,
                                    1);
    }
}


void
ngx_http_livekit_stats_webhook(void)
{
    ngx_http_livekit_stats_t  *s;

    s = ngx_http_livekit_stats_get();

    if (s) {
        (void) ngx_atomic_fetch_add(&s->webhooks, 1);
    }
}


void
ngx_http_livekit_stats_join(void)
{
    ngx_http_livekit_stats_t  *s;

    s = ngx_http_livekit_stats_get();

    if (s) {
        (void) ngx_atomic_fetch_add(&s->joins, 1);
    }
}


void
ngx_http_livekit_stats_error(ngx_http_livekit_code_e code)
{
    ngx_http_livekit_stats_t  *s;

    s = ngx_http_livekit_stats_get();

    if (s) {
        (void) ngx_atomic_fetch_add(&s->errors[code], 1);
    }
}
