/*
 * Shared set-up for the libFuzzer harnesses of ngx_http_livekit_token_module.
 *
 * The harnesses link against the real nginx core: Debian's nginx source
 * package, configured with Debian's conf_flags and compiled with
 * -fsanitize=address,undefined (scripts/fuzz.sh).  Nothing of nginx is
 * stubbed; nginx.o is linked with its main() renamed.
 *
 * Pools: fuzz_pool() makes a pool whose blocks hold at most 32 bytes, so
 * every larger ngx_palloc()/ngx_pnalloc() becomes its own malloc() of the
 * exact size, and AddressSanitizer sees an overflow of any buffer the module
 * sizes itself (claims JSON, escaped strings, decoded arguments).
 */

#ifndef _FUZZ_COMMON_H_INCLUDED_
#define _FUZZ_COMMON_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>


#define FUZZ_CHECK(cond, what)                                                \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "fuzz assertion failed at %s:%d: %s\n",           \
                    __FILE__, __LINE__, what);                                \
            abort();                                                          \
        }                                                                     \
    } while (0)


static ngx_log_t        fuzz_log;
static ngx_open_file_t  fuzz_log_file;
static ngx_cycle_t      fuzz_cycle;


static void
fuzz_init_core(void)
{
    static int  done;

    if (done) {
        return;
    }

    done = 1;

    ngx_pagesize = getpagesize();
    for (ngx_pagesize_shift = 0; (1 << ngx_pagesize_shift) < ngx_pagesize;
         ngx_pagesize_shift++) { /* void */ }
    ngx_cacheline_size = NGX_CPU_CACHE_LINE;

    (void) ngx_strerror_init();
    ngx_time_init();

    /* errors the module logs go nowhere unless FUZZ_LOG is set */
    fuzz_log_file.fd = getenv("FUZZ_LOG") ? STDERR_FILENO
                                          : open("/dev/null", O_WRONLY);
    fuzz_log_file.name.len = sizeof("fuzz") - 1;
    fuzz_log_file.name.data = (u_char *) "fuzz";
    fuzz_log.file = &fuzz_log_file;
    fuzz_log.log_level = NGX_LOG_DEBUG;

    /* what the core reaches through ngx_cycle: its log and pool */
    fuzz_cycle.log = &fuzz_log;
    fuzz_cycle.pool = ngx_create_pool(16384, &fuzz_log);
    FUZZ_CHECK(fuzz_cycle.pool != NULL, "ngx_create_pool");
    ngx_cycle = &fuzz_cycle;

#if (NGX_PCRE)
    ngx_regex_init();
#endif
}


static ngx_pool_t *
fuzz_pool(void)
{
    ngx_pool_t  *pool;

    pool = ngx_create_pool(sizeof(ngx_pool_t) + 32, &fuzz_log);
    FUZZ_CHECK(pool != NULL, "ngx_create_pool");

    return pool;
}


/* the input as an exactly sized heap copy, so overreads are caught */

static u_char *
fuzz_dup(const uint8_t *data, size_t size)
{
    u_char  *p;

    p = malloc(size ? size : 1);
    FUZZ_CHECK(p != NULL, "malloc");

    if (size) {
        memcpy(p, data, size);
    }

    return p;
}


#endif /* _FUZZ_COMMON_H_INCLUDED_ */
