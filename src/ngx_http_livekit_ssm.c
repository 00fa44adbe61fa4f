
/*
 * The SSM Parameter Store key source (livekit_ssm_path).
 *
 * Owns: the livekit_ssm_* directives, the shared memory zone that holds the
 * fetched key set for every worker, deciding which worker fetches and
 * when, posting the fetch to a thread, logging its outcome once per change
 * of state, and the key set's "sync" hook that re-keys a worker's HMAC
 * when the set in shared memory changed.
 * Does not own: talking to AWS (_aws.c), signing (_jwt.c), the handler's
 * 503 while no key is loaded (_module.c).
 *
 * Why a thread: the fetch is one short HTTPS exchange (plus, for temporary
 * credentials, one more to STS, the container agent or IMDS) every few
 * minutes.  A blocking libcurl easy handle in nginx's thread pool is the
 * simplest code that never blocks the event loop; curl multi on nginx
 * events would need a socket/timer bridge for a handful of requests an
 * hour.  The thread gets a self-contained task (configuration snapshot in,
 * values and an error text out) and touches no nginx pool, log or event.
 *
 * One fetch per nginx instance: every worker ticks once a second, reading
 * "next_fetch" and "lease" in shared memory; the worker that takes the
 * zone's mutex first when a fetch is due sets the lease and fetches, the
 * others see the lease.  A reload with the same zone keeps the loaded set
 * (new workers serve at once) and asks for one fetch.
 *
 * Secrets live in shared memory and, for the moment of re-keying, on a
 * worker's stack; they are wiped from task buffers after each fetch and
 * never logged: messages name parameters and credential sources only.
 */

#include "ngx_http_livekit_ssm.h"
#include "ngx_http_livekit_aws.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <curl/curl.h>

#if (NGX_THREADS)
#include <ngx_thread_pool.h>
#endif


#define NGX_HTTP_LIVEKIT_SSM_ZONE_SIZE    (128 * 1024)
#define NGX_HTTP_LIVEKIT_SSM_TICK         1000     /* ms */
#define NGX_HTTP_LIVEKIT_SSM_BACKOFF_MAX  60       /* s */

/* what a successful fetch brought, for its log line */
#define NGX_HTTP_LIVEKIT_SSM_SAME         0
#define NGX_HTTP_LIVEKIT_SSM_CHANGED      1
#define NGX_HTTP_LIVEKIT_SSM_LOADED       2        /* first, or recovered */


typedef struct {
    ngx_uint_t                       fingerprint;
    uint64_t                         creds_fingerprint;
    ngx_atomic_t                     generation;
    time_t                           next_fetch;
    time_t                           lease;
    ngx_pid_t                        fetcher;
    ngx_uint_t                       loaded;
    ngx_uint_t                       failures;
    ngx_uint_t                       calls;
    uint32_t                         error_state;
    ngx_http_livekit_ssm_values_t    values;
    ngx_http_livekit_aws_creds_t     creds;

    /* for livekit_token_status: no values in these */
    time_t                           loaded_at;
    ngx_uint_t                       total_failures;
    char                         last_error[NGX_HTTP_LIVEKIT_AWS_ERROR_MAX];
    char                         creds_from[NGX_HTTP_LIVEKIT_AWS_SOURCE_MAX];
} ngx_http_livekit_ssm_shctx_t;


typedef struct {
    ngx_str_t                        path;
    ngx_array_t                     *names;
    ngx_str_t                        region;
    ngx_str_t                        endpoint;
    ngx_str_t                        profile;
    ngx_str_t                        thread_pool_name;
    time_t                           refresh;
    ngx_msec_t                       timeout;
    ngx_int_t                        attempts;
    ngx_flag_t                       fips;

    /* set by init_main_conf when livekit_ssm_path is set */
    ngx_uint_t                       fingerprint;
    uint64_t                         creds_fingerprint;
    time_t                           lease;
    ngx_http_livekit_aws_conf_t     *aws;
    ngx_http_livekit_keyset_t       *keyset;
    ngx_http_livekit_key_t          *key;
    ngx_shm_zone_t                  *zone;
    ngx_slab_pool_t                 *shpool;
    ngx_http_livekit_ssm_shctx_t    *sh;
#if (NGX_THREADS)
    ngx_thread_pool_t               *thread_pool;
    ngx_thread_task_t               *task;
#endif

    /* each worker's own */
    ngx_atomic_uint_t                generation;
    u_char                          *key_buf;
    u_char                          *url_buf;
    ngx_event_t                      timer;
    ngx_uint_t                       fetching;
} ngx_http_livekit_ssm_main_conf_t;


static char *ngx_http_livekit_ssm_path(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_livekit_ssm_names(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_livekit_ssm_region(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_livekit_ssm_endpoint(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_livekit_ssm_refresh(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_livekit_ssm_timeout(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_livekit_ssm_preconfiguration(ngx_conf_t *cf);
static void *ngx_http_livekit_ssm_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_livekit_ssm_init_main_conf(ngx_conf_t *cf, void *conf);
static ngx_int_t ngx_http_livekit_ssm_keyset(ngx_conf_t *cf,
    ngx_http_livekit_token_loc_conf_t *lcf);
static ngx_uint_t ngx_http_livekit_ssm_gives_url(ngx_conf_t *cf);
static ngx_int_t ngx_http_livekit_ssm_prepare(ngx_conf_t *cf,
    ngx_http_livekit_ssm_main_conf_t *mcf);
static ngx_int_t ngx_http_livekit_ssm_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_livekit_ssm_mac_free(void *data);
static void ngx_http_livekit_ssm_sync(ngx_http_livekit_keyset_t *ks);
static void ngx_http_livekit_ssm_load(ngx_http_livekit_keyset_t *ks);
static void ngx_http_livekit_ssm_wipe_values(
    ngx_http_livekit_ssm_shctx_t *sh);
static uint32_t ngx_http_livekit_ssm_error_state(const char *error);
static ngx_int_t ngx_http_livekit_ssm_status(ngx_http_livekit_keyset_t *ks,
    ngx_pool_t *pool, ngx_http_livekit_source_status_t *st);

#if (NGX_THREADS)
static ngx_int_t ngx_http_livekit_ssm_aws(ngx_conf_t *cf,
    ngx_http_livekit_ssm_main_conf_t *mcf);
static ngx_int_t ngx_http_livekit_ssm_creds_fingerprint(
    ngx_http_livekit_aws_conf_t *ac, uint64_t *fp);
static uint32_t ngx_http_livekit_ssm_fingerprint(
    ngx_http_livekit_aws_conf_t *ac);
static ngx_int_t ngx_http_livekit_ssm_hmac(ngx_conf_t *cf,
    ngx_http_livekit_ssm_main_conf_t *mcf);
static ngx_int_t ngx_http_livekit_ssm_thread_pool(ngx_conf_t *cf,
    ngx_http_livekit_ssm_main_conf_t *mcf);
static ngx_int_t ngx_http_livekit_ssm_init_process(ngx_cycle_t *cycle);
static void ngx_http_livekit_ssm_exit_process(ngx_cycle_t *cycle);
static void ngx_http_livekit_ssm_tick(ngx_event_t *ev);
static void ngx_http_livekit_ssm_start(ngx_http_livekit_ssm_main_conf_t *mcf);
static void ngx_http_livekit_ssm_thread(void *data, ngx_log_t *log);
static void ngx_http_livekit_ssm_done(ngx_event_t *ev);
static ngx_uint_t ngx_http_livekit_ssm_took(
    ngx_http_livekit_ssm_main_conf_t *mcf, ngx_http_livekit_ssm_fetch_t *f,
    time_t now);
static ngx_uint_t ngx_http_livekit_ssm_values_differ(
    ngx_http_livekit_ssm_values_t *a, ngx_http_livekit_ssm_values_t *b);
static uint32_t ngx_http_livekit_ssm_failed(
    ngx_http_livekit_ssm_main_conf_t *mcf, ngx_http_livekit_ssm_fetch_t *f,
    time_t now, time_t *delay);
static void ngx_http_livekit_ssm_log_took(ngx_log_t *log,
    ngx_http_livekit_ssm_main_conf_t *mcf, ngx_http_livekit_ssm_fetch_t *f,
    ngx_uint_t news);
static time_t ngx_http_livekit_ssm_backoff(
    ngx_http_livekit_ssm_main_conf_t *mcf, ngx_uint_t failures);
#endif


static ngx_conf_num_bounds_t  ngx_http_livekit_ssm_attempts_bounds = {
    ngx_conf_check_num_bounds, 1, 10
};


static ngx_command_t  ngx_http_livekit_ssm_commands[] = {

    { ngx_string("livekit_ssm_path"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_livekit_ssm_path,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("livekit_ssm_names"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE23,
      ngx_http_livekit_ssm_names,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("livekit_ssm_region"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_livekit_ssm_region,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_livekit_ssm_main_conf_t, region),
      NULL },

    { ngx_string("livekit_ssm_endpoint"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_livekit_ssm_endpoint,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_livekit_ssm_main_conf_t, endpoint),
      NULL },

    { ngx_string("livekit_ssm_profile"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_livekit_ssm_main_conf_t, profile),
      NULL },

    { ngx_string("livekit_ssm_refresh"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_livekit_ssm_refresh,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_livekit_ssm_main_conf_t, refresh),
      NULL },

    { ngx_string("livekit_ssm_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_livekit_ssm_timeout,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_livekit_ssm_main_conf_t, timeout),
      NULL },

    { ngx_string("livekit_ssm_max_attempts"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_livekit_ssm_main_conf_t, attempts),
      &ngx_http_livekit_ssm_attempts_bounds },

    { ngx_string("livekit_ssm_fips"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_livekit_ssm_main_conf_t, fips),
      NULL },

    { ngx_string("livekit_ssm_thread_pool"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_livekit_ssm_main_conf_t, thread_pool_name),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_livekit_ssm_module_ctx = {
    ngx_http_livekit_ssm_preconfiguration, /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_livekit_ssm_create_main_conf, /* create main configuration */
    ngx_http_livekit_ssm_init_main_conf,   /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_livekit_ssm_module = {
    NGX_MODULE_V1,
    &ngx_http_livekit_ssm_module_ctx,      /* module context */
    ngx_http_livekit_ssm_commands,         /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
#if (NGX_THREADS)
    ngx_http_livekit_ssm_init_process,     /* init process */
#else
    NULL,                                  /* init process */
#endif
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
#if (NGX_THREADS)
    ngx_http_livekit_ssm_exit_process,     /* exit process */
#else
    NULL,                                  /* exit process */
#endif
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/* what the token module knows of this source */
static ngx_http_livekit_key_source_t  ngx_http_livekit_ssm_source = {
    "livekit_ssm_path",
    ngx_http_livekit_ssm_keyset,
    ngx_http_livekit_ssm_gives_url
};


static ngx_str_t  ngx_http_livekit_ssm_zone_name = ngx_string("livekit_ssm");
static ngx_str_t  ngx_http_livekit_ssm_default_names[] = {
    ngx_string("api-key"),
    ngx_string("api-secret"),
    ngx_string("url")
};


/* livekit_ssm_path /dissertation-editor/livekit/; */

static char *
ngx_http_livekit_ssm_path(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_livekit_ssm_main_conf_t *mcf = conf;

    ngx_str_t  *value;

#if !(NGX_THREADS)

    return "needs nginx built with --with-threads";

#else

    if (mcf->path.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0 || value[1].data[0] != '/') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "livekit_ssm_path \"%V\" must start with \"/\", "
                           "as in /dissertation-editor/livekit/", &value[1]);
        return NGX_CONF_ERROR;
    }

    /* "/a/b" means the parameters under /a/b/ */

    if (value[1].data[value[1].len - 1] == '/') {
        mcf->path = value[1];
        return NGX_CONF_OK;
    }

    mcf->path.len = value[1].len + 1;
    mcf->path.data = ngx_pnalloc(cf->pool, mcf->path.len);
    if (mcf->path.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_sprintf(mcf->path.data, "%V/", &value[1]);

    return NGX_CONF_OK;

#endif
}


/* livekit_ssm_names api-key api-secret [url]; */

static char *
ngx_http_livekit_ssm_names(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_livekit_ssm_main_conf_t *mcf = conf;

    ngx_str_t   *value, *name;
    ngx_uint_t   i;

    if (mcf->names != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    mcf->names = ngx_array_create(cf->pool, 3, sizeof(ngx_str_t));
    if (mcf->names == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (value[i].len == 0 || value[i].data[value[i].len - 1] == '/') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter name \"%V\" in "
                               "\"livekit_ssm_names\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        name = ngx_array_push(mcf->names);
        if (name == NULL) {
            return NGX_CONF_ERROR;
        }

        *name = value[i];
    }

    return NGX_CONF_OK;
}


/* livekit_ssm_region eu-west-3; checked here, it becomes a host name */

static char *
ngx_http_livekit_ssm_region(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_livekit_ssm_main_conf_t *mcf = conf;

    ngx_str_t  *value;

    if (mcf->region.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (!ngx_http_livekit_aws_region_valid(value[1].data, value[1].len)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid livekit_ssm_region \"%V\": lowercase "
                           "letters, digits and hyphens only", &value[1]);
        return NGX_CONF_ERROR;
    }

    mcf->region = value[1];

    return NGX_CONF_OK;
}


/* livekit_ssm_endpoint https://ssm.eu-west-3.amazonaws.com/; */

static char *
ngx_http_livekit_ssm_endpoint(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_livekit_ssm_main_conf_t *mcf = conf;

    char       why[128];
    ngx_str_t  *value;

    if (mcf->endpoint.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    /* a NUL-terminated copy for libcurl; value[1] is not terminated */

    mcf->endpoint.data = ngx_pnalloc(cf->pool, value[1].len + 1);
    if (mcf->endpoint.data == NULL) {
        return NGX_CONF_ERROR;
    }

    *ngx_cpymem(mcf->endpoint.data, value[1].data, value[1].len) = '\0';
    mcf->endpoint.len = value[1].len;

    if (ngx_strlen(mcf->endpoint.data) != mcf->endpoint.len
        || ngx_http_livekit_aws_url_check((char *) mcf->endpoint.data, why,
                                          sizeof(why))
           != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "livekit_ssm_endpoint \"%V\" %s", &value[1], why);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* livekit_ssm_refresh 5m; at least a second */

static char *
ngx_http_livekit_ssm_refresh(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_livekit_ssm_main_conf_t *mcf = conf;

    ngx_str_t  *value;

    if (mcf->refresh != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    mcf->refresh = ngx_parse_time(&value[1], 1);

    if (mcf->refresh == (time_t) NGX_ERROR || mcf->refresh < 1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid livekit_ssm_refresh \"%V\": a time of "
                           "at least 1s, as in 300s or 5m", &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* livekit_ssm_timeout 5s; positive */

static char *
ngx_http_livekit_ssm_timeout(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_livekit_ssm_main_conf_t *mcf = conf;

    ngx_str_t  *value;

    if (mcf->timeout != NGX_CONF_UNSET_MSEC) {
        return "is duplicate";
    }

    value = cf->args->elts;

    mcf->timeout = ngx_parse_time(&value[1], 0);

    if (mcf->timeout == (ngx_msec_t) NGX_ERROR || mcf->timeout == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid livekit_ssm_timeout \"%V\": a positive "
                           "time, as in 5s or 500ms", &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_livekit_ssm_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_livekit_ssm_main_conf_t  *mcf;

    mcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_livekit_ssm_main_conf_t));
    if (mcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     mcf->path = { 0, NULL };
     *     mcf->region = { 0, NULL };
     *     mcf->endpoint = { 0, NULL };
     *     mcf->profile = { 0, NULL };
     *     mcf->thread_pool_name = { 0, NULL };
     */

    mcf->names = NGX_CONF_UNSET_PTR;
    mcf->refresh = NGX_CONF_UNSET;
    mcf->timeout = NGX_CONF_UNSET_MSEC;
    mcf->attempts = NGX_CONF_UNSET;
    mcf->fips = NGX_CONF_UNSET;

    return mcf;
}


/* registers the source; the token module's main configuration exists */

static ngx_int_t
ngx_http_livekit_ssm_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_livekit_key_source_add(cf, &ngx_http_livekit_ssm_source);
}


/*
 * Defaults, then, when livekit_ssm_path is set, everything a fetch needs.
 * Runs before any postconfiguration, so before the token module asks
 * ngx_http_livekit_ssm_keyset() for a location's key set.
 */

static char *
ngx_http_livekit_ssm_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_livekit_ssm_main_conf_t *mcf = conf;

    ngx_str_t  *name;
    ngx_uint_t  i;

    if (mcf->names == NGX_CONF_UNSET_PTR) {
        mcf->names = ngx_array_create(cf->pool, 3, sizeof(ngx_str_t));
        if (mcf->names == NULL) {
            return NGX_CONF_ERROR;
        }

        for (i = 0; i < 3; i++) {
            name = ngx_array_push(mcf->names);
            if (name == NULL) {
                return NGX_CONF_ERROR;
            }

            *name = ngx_http_livekit_ssm_default_names[i];
        }
    }

    ngx_conf_init_value(mcf->refresh, 300);
    ngx_conf_init_msec_value(mcf->timeout, 5000);
    ngx_conf_init_value(mcf->attempts, 3);

    if (mcf->thread_pool_name.len == 0) {
        ngx_str_set(&mcf->thread_pool_name, "default");
    }

    /* every value is checked by its directive, with its line */

    if (mcf->path.len == 0) {
        return NGX_CONF_OK;
    }

    if (ngx_http_livekit_ssm_prepare(cf, mcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * The key source's "keyset", for each location the token module resolves:
 * NGX_DECLINED when SSM is not configured, NGX_OK with lcf->keyset set,
 * NGX_ERROR after an EMERG message.
 */

static ngx_int_t
ngx_http_livekit_ssm_keyset(ngx_conf_t *cf,
    ngx_http_livekit_token_loc_conf_t *lcf)
{
    ngx_http_livekit_ssm_main_conf_t  *mcf;

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_livekit_ssm_module);

    if (mcf->path.len == 0) {
        return NGX_DECLINED;
    }

    if (lcf->secrets) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"livekit_keys_file\" \"%V\" and "
                           "\"livekit_ssm_path\" \"%V\" both give this "
                           "location its signing key: keep one",
                           &lcf->keys_file, &mcf->path);
        return NGX_ERROR;
    }

    if (lcf->api_key.len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"livekit_api_key\" chooses a key of a key file; "
                           "with \"livekit_ssm_path\" the key is the one in "
                           "SSM: remove \"livekit_api_key %V\"",
                           &lcf->api_key);
        return NGX_ERROR;
    }

    lcf->keyset = mcf->keyset;

    return NGX_OK;
}


/* the key source's "gives_url": livekit_ssm_names has a third name */

static ngx_uint_t
ngx_http_livekit_ssm_gives_url(ngx_conf_t *cf)
{
    ngx_http_livekit_ssm_main_conf_t  *mcf;

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_livekit_ssm_module);

    return mcf->path.len && mcf->names->nelts == 3;
}


/*
 * Once per configuration, in the master: the environment and profile
 * snapshot, the key set with an unkeyed HMAC, the zone, the thread pool.
 */

static ngx_int_t
ngx_http_livekit_ssm_prepare(ngx_conf_t *cf,
    ngx_http_livekit_ssm_main_conf_t *mcf)
{
#if (NGX_THREADS)

    if (ngx_http_livekit_ssm_aws(cf, mcf) != NGX_OK) {
        return NGX_ERROR;
    }

    /* what the fetched values depend on: a reload that changes it refetches */

    mcf->fingerprint = ngx_http_livekit_ssm_fingerprint(mcf->aws);

    if (ngx_http_livekit_ssm_creds_fingerprint(mcf->aws,
                                               &mcf->creds_fingerprint)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /*
     * Long enough for every attempt, its backoff, and the credential calls.
     * The worst fetch, counted from _aws_ssm.c and _aws_creds.c, with T
     * the timeout (CURLOPT_TIMEOUT_MS bounds each call, connect and DNS
     * included) and IMDS calls at 1 s each: per attempt the heaviest
     * credential chain, AssumeRole sourced from IMDS (token, role, keys:
     * 3 s, then STS: T) or from container credentials (min(T, 5 s) + T),
     * the region from IMDS (token, region: 2 s) and GetParameters (T), so
     * at most 5 s + 2T or 2 s + 3T; before attempt k >= 1 a sleep below
     * min(2^(k-1), 20) s, 111 s in all for 10 attempts.  This lease gives
     * at least 25 s more than that for every attempts (1-10) and T.
     */

    mcf->lease = (time_t) mcf->attempts * (4 * mcf->timeout / 1000 + 21) + 10;

    if (ngx_http_livekit_ssm_hmac(cf, mcf) != NGX_OK) {
        return NGX_ERROR;
    }

    mcf->keyset->sync = ngx_http_livekit_ssm_sync;
    mcf->keyset->status = ngx_http_livekit_ssm_status;
    mcf->keyset->data = mcf;

    mcf->zone = ngx_shared_memory_add(cf, &ngx_http_livekit_ssm_zone_name,
                                      NGX_HTTP_LIVEKIT_SSM_ZONE_SIZE,
                                      &ngx_http_livekit_ssm_module);
    if (mcf->zone == NULL) {
        return NGX_ERROR;
    }

    if (mcf->zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "shared memory zone \"%V\" is already used",
                           &ngx_http_livekit_ssm_zone_name);
        return NGX_ERROR;
    }

    mcf->zone->init = ngx_http_livekit_ssm_init_zone;
    mcf->zone->data = mcf;
    mcf->zone->noreuse = 0;

    return ngx_http_livekit_ssm_thread_pool(cf, mcf);

#else

    return NGX_ERROR;

#endif
}


#if (NGX_THREADS)

/* the AWS side: the parameters' full names, then the environment's say */

static ngx_int_t
ngx_http_livekit_ssm_aws(ngx_conf_t *cf, ngx_http_livekit_ssm_main_conf_t *mcf)
{
    char                         *full;
    ngx_str_t                    *names;
    ngx_uint_t                    i;
    ngx_http_livekit_aws_conf_t  *ac;

    ac = ngx_pcalloc(cf->pool, sizeof(ngx_http_livekit_aws_conf_t));
    if (ac == NULL) {
        return NGX_ERROR;
    }

    names = mcf->names->elts;
    ac->nnames = mcf->names->nelts;

    for (i = 0; i < ac->nnames; i++) {
        full = ngx_pnalloc(cf->pool, mcf->path.len + names[i].len + 1);
        if (full == NULL) {
            return NGX_ERROR;
        }

        if (names[i].data[0] == '/') {
            *ngx_sprintf((u_char *) full, "%V", &names[i]) = '\0';

        } else {
            *ngx_sprintf((u_char *) full, "%V%V", &mcf->path, &names[i])
                = '\0';
        }

        ac->names[i] = full;
    }

    ac->fips = mcf->fips;
    ac->timeout = mcf->timeout;
    ac->attempts = mcf->attempts;

    if (ngx_http_livekit_aws_conf_init(cf, ac, &mcf->region, &mcf->endpoint,
                                       &mcf->profile)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    mcf->aws = ac;

    return NGX_OK;
}


/* the names, the region, the endpoint and FIPS, as one number */

static uint32_t
ngx_http_livekit_ssm_fingerprint(ngx_http_livekit_aws_conf_t *ac)
{
    uint32_t    crc;
    ngx_uint_t  i;

    ngx_crc32_init(crc);

    for (i = 0; i < ac->nnames; i++) {
        ngx_crc32_update(&crc, (u_char *) ac->names[i],
                         ngx_strlen(ac->names[i]) + 1);
    }

    if (ac->region) {
        ngx_crc32_update(&crc, (u_char *) ac->region,
                         ngx_strlen(ac->region));
    }

    ngx_crc32_update(&crc, (u_char *) "|", 1);

    if (ac->endpoint) {
        ngx_crc32_update(&crc, (u_char *) ac->endpoint,
                         ngx_strlen(ac->endpoint));
    }

    ngx_crc32_update(&crc, (u_char *) (ac->fips ? "|f" : "|-"), 2);
    ngx_crc32_final(crc);

    return crc;
}


/*
 * Where the credentials come from, as one number: every source's settings
 * (keys included, hence SHA-256 rather than a CRC).  A reload that changes
 * it drops the cached temporary credentials, so that a changed profile or
 * role is used at once, not when the old credentials expire.
 */

static ngx_int_t
ngx_http_livekit_ssm_creds_fingerprint(ngx_http_livekit_aws_conf_t *ac,
    uint64_t *fp)
{
    u_char       md[EVP_MAX_MD_SIZE];
    ngx_int_t    rc;
    ngx_uint_t   i, n;
    EVP_MD_CTX  *ctx;
    char        *fields[] = {
        ac->env_key_id, ac->env_secret, ac->env_token,
        ac->web_token_file, ac->role_arn, ac->role_session_name,
        ac->sts_endpoint, ac->profile, ac->profile_key_id,
        ac->profile_secret, ac->profile_token, ac->profile_error,
        ac->profile_files, ac->role_profile_arn, ac->role_source_profile,
        ac->role_credential_source, ac->role_external_id, ac->role_session,
        ac->container_uri, ac->container_token, ac->container_token_file,
        ac->imds_endpoint
    };
    u_char       numbers[2] = { (u_char) ac->role_source,
                                (u_char) (ac->imds_disabled ? 1 : 0) };

    ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    rc = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 ? NGX_OK : NGX_ERROR;

    /* "-" for a source not set, "+" and the text with its NUL otherwise */

    n = sizeof(fields) / sizeof(fields[0]);

    for (i = 0; rc == NGX_OK && i < n; i++) {
        if ((fields[i] == NULL
             && EVP_DigestUpdate(ctx, "-", 1) != 1)
            || (fields[i] != NULL
                && (EVP_DigestUpdate(ctx, "+", 1) != 1
                    || EVP_DigestUpdate(ctx, fields[i],
                                        ngx_strlen(fields[i]) + 1) != 1)))
        {
            rc = NGX_ERROR;
        }
    }

    if (rc == NGX_OK
        && (EVP_DigestUpdate(ctx, numbers, sizeof(numbers)) != 1
            || EVP_DigestFinal_ex(ctx, md, NULL) != 1))
    {
        rc = NGX_ERROR;
    }

    EVP_MD_CTX_free(ctx);

    if (rc == NGX_OK) {
        ngx_memcpy(fp, md, sizeof(uint64_t));
    }

    OPENSSL_cleanse(md, sizeof(md));

    return rc;
}


/* the key set; its HMAC is keyed by each worker when a set arrives */

static ngx_int_t
ngx_http_livekit_ssm_hmac(ngx_conf_t *cf,
    ngx_http_livekit_ssm_main_conf_t *mcf)
{
    EVP_MAC             *hmac;
    ngx_pool_cleanup_t  *cln;

    mcf->keyset = ngx_pcalloc(cf->pool, sizeof(ngx_http_livekit_keyset_t));
    mcf->key = ngx_pcalloc(cf->pool, sizeof(ngx_http_livekit_key_t));
    cln = ngx_pool_cleanup_add(cf->pool, 0);

    if (mcf->keyset == NULL || mcf->key == NULL || cln == NULL) {
        return NGX_ERROR;
    }

    hmac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
    if (hmac == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "livekit ssm: EVP_MAC_fetch(HMAC) failed");
        return NGX_ERROR;
    }

    mcf->key->mac = EVP_MAC_CTX_new(hmac);
    EVP_MAC_free(hmac);

    if (mcf->key->mac == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_livekit_ssm_mac_free;
    cln->data = mcf->key->mac;

    return NGX_OK;
}

#endif


#if (NGX_THREADS)

/*
 * The pool the fetch runs in, added as "aio threads" adds its pool: the
 * "default" pool (32 threads) unless livekit_ssm_thread_pool names one,
 * which the thread_pool directive must declare; the README suggests
 * "thread_pool livekit_ssm threads=1;", one fetch at a time being all
 * this pool ever runs.
 */

static ngx_int_t
ngx_http_livekit_ssm_thread_pool(ngx_conf_t *cf,
    ngx_http_livekit_ssm_main_conf_t *mcf)
{
    mcf->thread_pool = ngx_thread_pool_add(cf, &mcf->thread_pool_name);
    if (mcf->thread_pool == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "livekit_ssm_thread_pool \"%V\": cannot add "
                           "the thread pool", &mcf->thread_pool_name);
        return NGX_ERROR;
    }

    return NGX_OK;
}

#endif


static ngx_int_t
ngx_http_livekit_ssm_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_livekit_ssm_main_conf_t  *omcf = data;

    ngx_slab_pool_t                   *shpool;
    ngx_http_livekit_ssm_shctx_t      *sh;
    ngx_http_livekit_ssm_main_conf_t  *mcf;

    mcf = shm_zone->data;
    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;
    mcf->shpool = shpool;

    if (omcf) {
        /* a reload: keep the set so new workers serve at once, fetch once */

        sh = omcf->sh;
        mcf->sh = sh;

        ngx_shmtx_lock(&shpool->mutex);

        if (sh->fingerprint != mcf->fingerprint) {
            ngx_http_livekit_ssm_wipe_values(sh);
            OPENSSL_cleanse(&sh->creds, sizeof(ngx_http_livekit_aws_creds_t));
            sh->fingerprint = mcf->fingerprint;
            sh->loaded = 0;
            sh->failures = 0;
            sh->error_state = 0;
            sh->lease = 0;
            (void) ngx_atomic_fetch_add(&sh->generation, 1);
        }

        if (sh->creds_fingerprint != mcf->creds_fingerprint) {
            /* another profile, role or source: its credentials, now */
            OPENSSL_cleanse(&sh->creds, sizeof(ngx_http_livekit_aws_creds_t));
            sh->creds_fingerprint = mcf->creds_fingerprint;
        }

        /*
         * One fetch now.  An old worker's fetch in flight gives up (it is
         * stopping), so its lease is not waited for.
         */

        sh->next_fetch = 0;
        sh->lease = 0;

        ngx_shmtx_unlock(&shpool->mutex);

        return NGX_OK;
    }

    if (shm_zone->shm.exists) {
        mcf->sh = shpool->data;
        return NGX_OK;
    }

    sh = ngx_slab_calloc(shpool, sizeof(ngx_http_livekit_ssm_shctx_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    shpool->data = sh;
    mcf->sh = sh;

    sh->fingerprint = mcf->fingerprint;
    sh->creds_fingerprint = mcf->creds_fingerprint;
    sh->generation = 1;

    shpool->log_ctx = (u_char *) " in livekit_ssm zone";

    return NGX_OK;
}


static void
ngx_http_livekit_ssm_mac_free(void *data)
{
    EVP_MAC_CTX_free(data);
}


/* for livekit_token_status: state and counters, never a value */

static ngx_int_t
ngx_http_livekit_ssm_status(ngx_http_livekit_keyset_t *ks, ngx_pool_t *pool,
    ngx_http_livekit_source_status_t *st)
{
    ngx_http_livekit_ssm_main_conf_t *mcf = ks->data;

    ngx_str_t                      error, creds;
    ngx_http_livekit_ssm_shctx_t  *sh;

    st->source = "ssm";
    st->state = "loading";

    sh = mcf->sh;
    if (sh == NULL) {
        return NGX_OK;
    }

    ngx_shmtx_lock(&mcf->shpool->mutex);

    if (sh->loaded) {
        st->state = sh->error_state ? "stale" : "ready";

    } else if (sh->error_state) {
        st->state = "failed";
    }

    st->loaded = sh->loaded ? sh->loaded_at : 0;
    st->calls = sh->calls;
    st->failures = sh->total_failures;

    error.len = ngx_strlen(sh->last_error);
    creds.len = ngx_strlen(sh->creds_from);

    error.data = ngx_pnalloc(pool, error.len + creds.len + 1);
    if (error.data == NULL) {
        ngx_shmtx_unlock(&mcf->shpool->mutex);
        return NGX_ERROR;
    }

    creds.data = ngx_cpymem(error.data, sh->last_error, error.len);
    ngx_memcpy(creds.data, sh->creds_from, creds.len);

    ngx_shmtx_unlock(&mcf->shpool->mutex);

    st->last_error = error;
    st->credentials = creds;

    return NGX_OK;
}


/* on every token: cheap unless the set in shared memory changed */

static void
ngx_http_livekit_ssm_sync(ngx_http_livekit_keyset_t *ks)
{
    ngx_http_livekit_ssm_main_conf_t *mcf = ks->data;

    if (mcf->sh == NULL || mcf->key_buf == NULL) {
        return;
    }

    if (mcf->sh->generation != mcf->generation) {
        ngx_http_livekit_ssm_load(ks);
    }
}


static void
ngx_http_livekit_ssm_load(ngx_http_livekit_keyset_t *ks)
{
    ngx_http_livekit_ssm_main_conf_t *mcf = ks->data;

    u_char                         secret[NGX_HTTP_LIVEKIT_SSM_SECRET_MAX];
    size_t                         secret_len, key_len, url_len;
    ngx_uint_t                     loaded;
    OSSL_PARAM                     params[2];
    ngx_atomic_uint_t              generation;
    ngx_http_livekit_ssm_shctx_t  *sh;

    sh = mcf->sh;

    ngx_shmtx_lock(&mcf->shpool->mutex);

    generation = sh->generation;
    loaded = sh->loaded;
    key_len = sh->values.key_len;
    secret_len = sh->values.secret_len;
    url_len = sh->values.url_len;

    if (loaded) {
        ngx_memcpy(mcf->key_buf, sh->values.key, key_len);
        ngx_memcpy(mcf->url_buf, sh->values.url, url_len);
        ngx_memcpy(secret, sh->values.secret, secret_len);
    }

    ngx_shmtx_unlock(&mcf->shpool->mutex);

    mcf->generation = generation;
    ks->key = NULL;
    ngx_str_null(&ks->url);

    if (!loaded) {
        return;
    }

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *) "SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();

    /* keyed once per set; _jwt.c then calls EVP_MAC_init() without a key */

    if (EVP_MAC_init(mcf->key->mac, secret, secret_len, params) != 1) {
        OPENSSL_cleanse(secret, secret_len);
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "livekit ssm: cannot key HMAC-SHA256 for key \"%*s\"",
                      key_len, mcf->key_buf);
        return;
    }

    OPENSSL_cleanse(secret, secret_len);

    mcf->key->name.data = mcf->key_buf;
    mcf->key->name.len = key_len;

    ks->url.data = mcf->url_buf;
    ks->url.len = url_len;
    ks->key = mcf->key;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "livekit ssm: worker keyed with key \"%*s\"",
                   key_len, mcf->key_buf);
}


static void
ngx_http_livekit_ssm_wipe_values(ngx_http_livekit_ssm_shctx_t *sh)
{
    OPENSSL_cleanse(&sh->values, sizeof(ngx_http_livekit_ssm_values_t));
}


/* an error's state: its text without digits (timings, ports vary) */

static uint32_t
ngx_http_livekit_ssm_error_state(const char *error)
{
    uint32_t     crc;
    const char  *p;

    ngx_crc32_init(crc);

    for (p = error; *p; p++) {
        if (*p < '0' || *p > '9') {
            ngx_crc32_update(&crc, (u_char *) p, 1);
        }
    }

    ngx_crc32_final(crc);

    return crc | 1;
}


#if (NGX_THREADS)

static ngx_int_t
ngx_http_livekit_ssm_init_process(ngx_cycle_t *cycle)
{
    ngx_http_livekit_ssm_fetch_t      *f;
    ngx_http_livekit_ssm_main_conf_t  *mcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    mcf = ngx_http_cycle_get_module_main_conf(cycle,
                                              ngx_http_livekit_ssm_module);

    if (mcf == NULL || mcf->keyset == NULL || mcf->sh == NULL) {
        return NGX_OK;
    }

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "livekit ssm: curl_global_init() failed");
        return NGX_OK;
    }

    mcf->key_buf = ngx_pnalloc(cycle->pool, NGX_HTTP_LIVEKIT_SSM_KEY_MAX);
    mcf->url_buf = ngx_pnalloc(cycle->pool, NGX_HTTP_LIVEKIT_SSM_URL_MAX);
    mcf->task = ngx_thread_task_alloc(cycle->pool,
                                      sizeof(ngx_http_livekit_ssm_fetch_t));

    if (mcf->key_buf == NULL || mcf->url_buf == NULL || mcf->task == NULL) {
        mcf->key_buf = NULL;
        return NGX_OK;
    }

    /* not yet keyed in this worker, whatever the zone holds */
    mcf->generation = 0;

    f = mcf->task->ctx;
    f->conf = mcf->aws;

    mcf->task->handler = ngx_http_livekit_ssm_thread;
    mcf->task->event.handler = ngx_http_livekit_ssm_done;
    mcf->task->event.data = mcf;
    mcf->task->event.log = cycle->log;

    mcf->timer.handler = ngx_http_livekit_ssm_tick;
    mcf->timer.data = mcf;
    mcf->timer.log = cycle->log;
    mcf->timer.cancelable = 1;

    ngx_add_timer(&mcf->timer, 1 + ngx_random() % 50);

    return NGX_OK;
}


static void
ngx_http_livekit_ssm_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_livekit_ssm_main_conf_t  *mcf;

    mcf = ngx_http_cycle_get_module_main_conf(cycle,
                                              ngx_http_livekit_ssm_module);

    if (mcf == NULL || mcf->task == NULL) {
        return;
    }

    if (!mcf->fetching) {
        OPENSSL_cleanse(mcf->task->ctx, sizeof(ngx_http_livekit_ssm_fetch_t));
    }
}


static void
ngx_http_livekit_ssm_tick(ngx_event_t *ev)
{
    ngx_http_livekit_ssm_main_conf_t *mcf = ev->data;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    if (!mcf->fetching) {
        ngx_http_livekit_ssm_start(mcf);
    }

    ngx_add_timer(ev, NGX_HTTP_LIVEKIT_SSM_TICK);
}


/* fetch when due and no other worker holds the lease */

static void
ngx_http_livekit_ssm_start(ngx_http_livekit_ssm_main_conf_t *mcf)
{
    time_t                         now;
    ngx_http_livekit_ssm_fetch_t  *f;
    ngx_http_livekit_ssm_shctx_t  *sh;

    sh = mcf->sh;
    now = ngx_time();

    if (sh->next_fetch > now || sh->lease > now) {
        return;
    }

    if (!ngx_shmtx_trylock(&mcf->shpool->mutex)) {
        return;
    }

    if (sh->next_fetch > now || sh->lease > now
        || sh->fingerprint != mcf->fingerprint
        || sh->creds_fingerprint != mcf->creds_fingerprint)
    {
        ngx_shmtx_unlock(&mcf->shpool->mutex);
        return;
    }

    sh->lease = now + mcf->lease;
    sh->fetcher = ngx_pid;

    f = mcf->task->ctx;
    f->conf = mcf->aws;
    f->fingerprint = mcf->fingerprint;
    f->creds_fingerprint = mcf->creds_fingerprint;
    ngx_memcpy(&f->creds, &sh->creds, sizeof(ngx_http_livekit_aws_creds_t));

    ngx_shmtx_unlock(&mcf->shpool->mutex);

    if (ngx_thread_task_post(mcf->thread_pool, mcf->task) != NGX_OK) {
        OPENSSL_cleanse(&f->creds, sizeof(ngx_http_livekit_aws_creds_t));

        ngx_shmtx_lock(&mcf->shpool->mutex);
        sh->lease = 0;
        sh->next_fetch = now + 1;
        ngx_shmtx_unlock(&mcf->shpool->mutex);
        return;
    }

    mcf->fetching = 1;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, mcf->timer.log, 0,
                   "livekit ssm: fetching parameters under \"%V\"",
                   &mcf->path);
}


static void
ngx_http_livekit_ssm_thread(void *data, ngx_log_t *log)
{
    ngx_http_livekit_aws_get_parameters(data);
}


/* back in the event loop: publish the set or the failure, once per change */

static void
ngx_http_livekit_ssm_done(ngx_event_t *ev)
{
    ngx_http_livekit_ssm_main_conf_t *mcf = ev->data;

    time_t                         now, delay;
    uint32_t                       state;
    ngx_uint_t                     news, loaded;
    ngx_http_livekit_ssm_fetch_t  *f;
    ngx_http_livekit_ssm_shctx_t  *sh;

    mcf->fetching = 0;
    f = mcf->task->ctx;
    sh = mcf->sh;
    now = ngx_time();

    news = NGX_HTTP_LIVEKIT_SSM_SAME;
    delay = 0;
    state = 0;

    ngx_shmtx_lock(&mcf->shpool->mutex);

    if (sh->fetcher == ngx_pid) {
        sh->lease = 0;
    }

    if (sh->fingerprint != f->fingerprint
        || sh->creds_fingerprint != f->creds_fingerprint
        || f->rc == NGX_ABORT)
    {
        /*
         * a reload changed what to fetch or the credentials to fetch it
         * with, or this worker is stopping
         */
        ngx_shmtx_unlock(&mcf->shpool->mutex);
        goto done;
    }

    sh->calls += f->calls;

    if (f->creds.valid) {
        ngx_memcpy(&sh->creds, &f->creds,
                   sizeof(ngx_http_livekit_aws_creds_t));

    } else {
        OPENSSL_cleanse(&sh->creds, sizeof(ngx_http_livekit_aws_creds_t));
    }

    if (f->rc == NGX_OK) {
        news = ngx_http_livekit_ssm_took(mcf, f, now);

    } else {
        state = ngx_http_livekit_ssm_failed(mcf, f, now, &delay);
    }

    loaded = sh->loaded;

    ngx_shmtx_unlock(&mcf->shpool->mutex);

    if (f->rc == NGX_OK) {
        ngx_http_livekit_ssm_log_took(ev->log, mcf, f, news);

    } else if (state) {
        ngx_log_error(NGX_LOG_ERR, ev->log, 0,
                      "livekit ssm: %s; %s, retrying in the background",
                      f->error,
                      loaded ? "tokens keep the last key set loaded"
                             : "token requests get 503 until a fetch "
                               "succeeds");

    } else {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                       "livekit ssm: fetch failed again, next in %T s: %s",
                       delay, f->error);
    }

done:

    OPENSSL_cleanse(&f->values, sizeof(ngx_http_livekit_ssm_values_t));
    OPENSSL_cleanse(&f->creds, sizeof(ngx_http_livekit_aws_creds_t));
}


/* a fetch that succeeded, into the shared state (locked): what is new */

static ngx_uint_t
ngx_http_livekit_ssm_took(ngx_http_livekit_ssm_main_conf_t *mcf,
    ngx_http_livekit_ssm_fetch_t *f, time_t now)
{
    ngx_uint_t                     news, differ;
    ngx_http_livekit_ssm_shctx_t  *sh;

    sh = mcf->sh;

    differ = !sh->loaded
             || ngx_http_livekit_ssm_values_differ(&f->values, &sh->values);

    if (!sh->loaded || sh->error_state != 0) {
        news = NGX_HTTP_LIVEKIT_SSM_LOADED;       /* first, or recovered */

    } else if (differ) {
        news = NGX_HTTP_LIVEKIT_SSM_CHANGED;

    } else {
        news = NGX_HTTP_LIVEKIT_SSM_SAME;
    }

    if (differ) {
        ngx_http_livekit_ssm_wipe_values(sh);
        ngx_memcpy(&sh->values, &f->values,
                   sizeof(ngx_http_livekit_ssm_values_t));
        (void) ngx_atomic_fetch_add(&sh->generation, 1);
    }

    sh->loaded = 1;
    sh->failures = 0;
    sh->error_state = 0;
    sh->next_fetch = now + mcf->refresh;
    sh->loaded_at = now;
    ngx_cpystrn((u_char *) sh->creds_from, (u_char *) f->creds.source,
                NGX_HTTP_LIVEKIT_AWS_SOURCE_MAX);

    return news;
}


/* whether two fetched key sets differ, in constant time for the secret */

static ngx_uint_t
ngx_http_livekit_ssm_values_differ(ngx_http_livekit_ssm_values_t *a,
    ngx_http_livekit_ssm_values_t *b)
{
    return a->key_len != b->key_len
           || a->secret_len != b->secret_len
           || a->url_len != b->url_len
           || CRYPTO_memcmp(a->key, b->key, a->key_len) != 0
           || CRYPTO_memcmp(a->secret, b->secret, a->secret_len) != 0
           || CRYPTO_memcmp(a->url, b->url, a->url_len) != 0;
}


/*
 * A fetch that failed, into the shared state (locked): the next try backs
 * off; the error state to log, 0 when it is the one already logged.
 */

static uint32_t
ngx_http_livekit_ssm_failed(ngx_http_livekit_ssm_main_conf_t *mcf,
    ngx_http_livekit_ssm_fetch_t *f, time_t now, time_t *delay)
{
    uint32_t                       state;
    ngx_http_livekit_ssm_shctx_t  *sh;

    sh = mcf->sh;

    sh->failures++;
    sh->total_failures++;
    ngx_cpystrn((u_char *) sh->last_error, (u_char *) f->error,
                NGX_HTTP_LIVEKIT_AWS_ERROR_MAX);
    *delay = ngx_http_livekit_ssm_backoff(mcf, sh->failures);
    sh->next_fetch = now + *delay;

    state = ngx_http_livekit_ssm_error_state(f->error);

    if (state == sh->error_state) {
        return 0;
    }

    sh->error_state = state;

    return state;
}


static void
ngx_http_livekit_ssm_log_took(ngx_log_t *log,
    ngx_http_livekit_ssm_main_conf_t *mcf, ngx_http_livekit_ssm_fetch_t *f,
    ngx_uint_t news)
{
    switch (news) {

    case NGX_HTTP_LIVEKIT_SSM_LOADED:
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "livekit ssm: key \"%*s\" loaded from "
                      "parameters under \"%V\" with credentials from %s",
                      f->values.key_len, f->values.key, &mcf->path,
                      f->creds.source);
        break;

    case NGX_HTTP_LIVEKIT_SSM_CHANGED:
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "livekit ssm: parameters under \"%V\" changed: "
                      "new tokens use key \"%*s\"",
                      &mcf->path, f->values.key_len, f->values.key);
        break;

    default:
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, log, 0,
                       "livekit ssm: parameters under \"%V\" unchanged",
                       &mcf->path);
    }
}


/* after the n-th failure in a row: jittered, doubling, below a cap */

static time_t
ngx_http_livekit_ssm_backoff(ngx_http_livekit_ssm_main_conf_t *mcf,
    ngx_uint_t failures)
{
    time_t  cap, d;

    cap = ngx_min(mcf->refresh, NGX_HTTP_LIVEKIT_SSM_BACKOFF_MAX);
    d = (failures < 7) ? ((time_t) 1 << (failures - 1)) : cap;
    d = ngx_min(d, cap);

    return d / 2 + (time_t) (ngx_random() % (d - d / 2 + 1));
}

#endif
