#!/usr/bin/env bash
# `make test-asan`: the module built with AddressSanitizer + UndefinedBehavior
# Sanitizer (build/asan/, apart from the release build) and every t/*.t run
# against Debian's nginx loading it.  Debian's nginx is not built with ASan,
# so the ASan runtime of gcc (libasan.so.8) is preloaded into nginx only
# (TEST_NGINX_LD_PRELOAD, as the real Test::Nginx has it); nginx's own code
# is not instrumented, but every malloc/free and every access the module
# makes is checked.  Leak detection is off (ASAN_OPTIONS=detect_leaks=0):
# nginx's own allocations would swamp it, and `make test-valgrind` checks
# leaks.  Any ASan/UBSan report fails the block (the t/compat runner scans
# nginx's stderr and error.log, during the block and while nginx stops).
#
#   scripts/test-asan.sh                 all of t/*.t
#   scripts/test-asan.sh t/001-get.t     some files
#
# Settings: TEST_NGINX_PORT (default 3986, or a free port when taken),
# TEST_NGINX_SERVROOT (default build/asan/servroot), ASAN_OPTIONS and
# UBSAN_OPTIONS (added to), ASAN_CFLAGS (the sanitizer build flags).
set -uo pipefail

. "$(dirname "$0")/lib.sh"
cd "$repo"
out=$repo/build/asan
mkdir -p "$out"

# gcc's sanitizer runtimes (Debian: libasan8, libubsan1, with gcc-12)
libasan=$(readlink -f "$(gcc -print-file-name=libasan.so)" 2>/dev/null)
if [ ! -f "$libasan" ] || [ ! -f "$(gcc -print-file-name=libubsan.so)" ]; then
    apt_install libasan8 libubsan1 \
        || die "cannot install libasan8 libubsan1"
    libasan=$(readlink -f "$(gcc -print-file-name=libasan.so)")
fi

# Pool allocations.  nginx's pools carve many objects out of one block, so
# neither ASan nor valgrind sees a write one byte past an object the module
# took from ngx_palloc().  In this build every ngx_palloc/ngx_pnalloc/
# ngx_pcalloc the module makes (directly, or through nginx's inline helpers
# such as ngx_array_init and ngx_alloc_buf) is its own malloc() block, kept
# on the pool's "large" list exactly as ngx_palloc_large() does (freed by
# ngx_destroy_pool after the cleanups, like pool memory): what nginx's
# NGX_DEBUG_PALLOC does for the whole of nginx, for the module's
# allocations only.  A header forced into the module's compilation renames
# the calls; build/asan/ngx_asan_pool.so, preloaded, implements them.
cat >"$out/ngx_asan_pool.h" <<'H'
/* test-asan: the module's pool allocations, one heap block each */
#define ngx_palloc(pool, size)   ngx_asan_palloc(pool, size)
#define ngx_pnalloc(pool, size)  ngx_asan_palloc(pool, size)
#define ngx_pcalloc(pool, size)  ngx_asan_pcalloc(pool, size)
H
cat >"$out/ngx_asan_pool.c" <<'C'
/* test-asan: ngx_palloc() as ngx_palloc_large(), for ASan to see overruns */
#include <ngx_config.h>
#include <ngx_core.h>

void *ngx_asan_palloc(ngx_pool_t *pool, size_t size);
void *ngx_asan_pcalloc(ngx_pool_t *pool, size_t size);

void *
ngx_asan_palloc(ngx_pool_t *pool, size_t size)
{
    void              *p;
    ngx_pool_large_t  *large;

    p = ngx_alloc(size ? size : 1, pool->log);
    if (p == NULL) {
        return NULL;
    }
    large = ngx_palloc(pool, sizeof(ngx_pool_large_t));
    if (large == NULL) {
        ngx_free(p);
        return NULL;
    }
    large->alloc = p;
    large->next = pool->large;
    pool->large = large;
    return p;
}

void *
ngx_asan_pcalloc(ngx_pool_t *pool, size_t size)
{
    void  *p;

    p = ngx_asan_palloc(pool, size);
    if (p) {
        ngx_memzero(p, size);
    }
    return p;
}
C

# The sanitizer build.  With CFLAGS set, nginx's configure uses them instead
# of its own gcc flags (-W -Wall ... -Werror -g), so they are repeated here;
# -fno-sanitize-recover=all makes every UBSan finding fatal.  The module
# links libasan/libubsan (--with-ld-opt), so it cannot be loaded without the
# preloaded runtime by mistake (nor without ngx_asan_pool.so).
cflags=${ASAN_CFLAGS:-"-pipe -O1 -g -fno-omit-frame-pointer \
-fsanitize=address,undefined -fno-sanitize-recover=all \
-W -Wall -Wpointer-arith -Wno-unused-parameter -Werror \
-include $out/ngx_asan_pool.h"}
# build-module.sh reconfigures when its flags change, not when CFLAGS do
stamp=$out/.cflags
if [ "$(cat "$stamp" 2>/dev/null)" != "$cflags" ]; then
    rm -f "$out/nginx-debian/objs/.livekit-configure"
fi
BUILD_DIR=$out CFLAGS=$cflags \
NGINX_CONFIGURE_EXTRA="--with-ld-opt=-fsanitize=address,undefined" \
    "$repo/scripts/build-module.sh" || exit 1
echo "$cflags" >"$stamp"
module=$out/ngx_http_livekit_token_module.so

tree=$out/nginx-debian
gcc -shared -fPIC -g -O1 -W -Wall -Wno-unused-parameter -Werror \
    -I "$tree/src/core" -I "$tree/src/event" -I "$tree/src/event/modules" \
    -I "$tree/src/os/unix" -I "$tree/objs" \
    -o "$out/ngx_asan_pool.so" "$out/ngx_asan_pool.c" || exit 1
preload="$libasan $out/ngx_asan_pool.so"

port=${TEST_NGINX_PORT:-$(free_port 3986)} \
    || { echo "test-asan: no free port" >&2; exit 1; }

export TEST_NGINX_BINARY=${TEST_NGINX_BINARY:-/usr/sbin/nginx}
export TEST_NGINX_LOAD_MODULES=$module
export TEST_NGINX_LD_PRELOAD=$preload
export TEST_NGINX_PORT=$port
export TEST_NGINX_SERVROOT=${TEST_NGINX_SERVROOT:-$out/servroot}
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=0:\
detect_stack_use_after_return=1:strict_string_checks=1:\
check_initialization_order=1:print_summary=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:print_summary=1\
${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

inc=()
reports=
if ! perl -MTest::Nginx::Socket -e1 2>/dev/null; then
    inc=(-I t/compat)
else
    # the real Test::Nginx does not look for sanitizer reports: send them to
    # files and fail on any
    reports=$out/reports
    rm -rf "$reports"; mkdir -p "$reports"
    ASAN_OPTIONS+=":log_path=$reports/asan"
    UBSAN_OPTIONS+=":log_path=$reports/ubsan"
fi

# Self-test: a canary preloaded next to the runtime reads past a heap block
# when the daemonized nginx exits (its stderr is error.log by then); the
# runner must fail that block (the real Test::Nginx: the report must be in
# the reports directory).  Proves the reports are seen, not just absent.
{
    cat >"$out/canary.c" <<'C'
/* test-asan self-test: a heap overflow when the nginx daemon exits */
#include <stdlib.h>
#include <unistd.h>
static volatile char sink;
static void canary(void)
{
    char *p = malloc(16);
    if (getsid(0) == getpid()) {
        sink = p[16];
    }
    free(p);
}
__attribute__((constructor)) static void init(void)
{
    if (getenv("LIVEKIT_SANITIZER_CANARY")) {
        atexit(canary);
    }
}
C
    gcc -shared -fPIC -g -fsanitize=address -o "$out/canary.so" "$out/canary.c" \
        || exit 1
    mkdir -p "$out/selftest"
    cat >"$out/selftest/canary.t" <<'T'
use Test::Nginx::Socket 'no_plan';
run_tests();
__DATA__
=== TEST 1: canary
--- config
    location = /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok
T
    st=$(LIVEKIT_SANITIZER_CANARY=1 TEST_NGINX_LD_PRELOAD="$preload $out/canary.so" \
         TEST_NGINX_SERVROOT=$out/selftest/servroot \
         prove "${inc[@]}" "$out/selftest/canary.t" 2>&1)
    if [ -n "$reports" ]; then
        caught=$(cat "$reports"/* 2>/dev/null | grep -c 'heap-buffer-overflow')
        rm -f "$reports"/*
    else
        caught=$(grep 'sanitizer report in error.log (shutdown)' -A3 <<<"$st" \
                 | grep -c 'heap-buffer-overflow')
    fi
    if ((caught == 0)); then
        echo "$st"
        echo "test-asan: SELF-TEST FAILED: the canary's report was not caught" >&2
        exit 1
    fi
    echo "test-asan: self-test ok (a canary heap overflow fails its block)"
}

files=("$@")
((${#files[@]})) || files=(t/*.t)
log=$out/prove.log
echo "test-asan: ${files[*]} with $module, $preload preloaded," \
     "port $port (output: build/asan/prove.log)"
prove "${inc[@]}" "${files[@]}" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

if [ -n "$reports" ] && compgen -G "$reports/*" >/dev/null; then
    echo
    echo "test-asan: sanitizer reports:"
    cat "$reports"/*
    rc=1
fi
if grep -qE 'ERROR: AddressSanitizer|SUMMARY: (Address|UndefinedBehavior)Sanitizer|: runtime error: ' "$log"; then
    rc=1
fi

echo
if ((rc)); then
    echo "test-asan: FAILED (see above and build/asan/prove.log)"
else
    echo "test-asan: clean: no AddressSanitizer or UndefinedBehaviorSanitizer report"
fi
exit "$rc"
