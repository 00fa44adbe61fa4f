#!/usr/bin/env bash
# `make test-valgrind`: every t/*.t with nginx running under valgrind
# memcheck, through Test::Nginx's own valgrind mode (TEST_NGINX_USE_VALGRIND:
# nginx in the foreground, `daemon off;`, stopped after each block so that
# leaks are reported per block).
#
# The t/compat runner checks valgrind's output per block (any error record:
# invalid read/write/free, uninitialised values, definitely lost, ... fails
# the block) and, with TEST_NGINX_VALGRIND_MUST_DIE=1, also runs the blocks
# whose configuration is refused under valgrind.  The real Test::Nginx only
# prints valgrind's output, so this script also fails when prove's output
# holds any valgrind error record (for both runners).
#
# Suppressions: t/valgrind.suppress (nginx's, OpenSSL's, jansson's own
# one-time allocations only; each entry says why).
#
#   scripts/test-valgrind.sh                 all of t/*.t
#   scripts/test-valgrind.sh t/001-get.t     some files
#
# Settings: TEST_NGINX_PORT (default 3984, or a free port when that one is
# taken), TEST_NGINX_SERVROOT (default build/valgrind/servroot),
# TEST_NGINX_BINARY, TEST_NGINX_LOAD_MODULES, TEST_NGINX_TIMEOUT (20).
set -uo pipefail

. "$(dirname "$0")/lib.sh"
cd "$repo"

if ! command -v valgrind >/dev/null; then
    apt_install valgrind || die "cannot install valgrind"
fi

if [ -z "${TEST_NGINX_LOAD_MODULES:-}" ]; then
    "$repo/scripts/build-module.sh" || exit 1
    export TEST_NGINX_LOAD_MODULES=$repo/build/ngx_http_livekit_token_module.so
fi

# a port of our own: 3984 unless it is taken (a `make test` may be on 1984)
port=${TEST_NGINX_PORT:-$(free_port 3984)} \
    || { echo "test-valgrind: no free port" >&2; exit 1; }

export TEST_NGINX_BINARY=${TEST_NGINX_BINARY:-/usr/sbin/nginx}
export TEST_NGINX_PORT=$port
export TEST_NGINX_SERVROOT=${TEST_NGINX_SERVROOT:-$repo/build/valgrind/servroot}
export TEST_NGINX_TIMEOUT=${TEST_NGINX_TIMEOUT:-20}
export TEST_NGINX_VALGRIND_MUST_DIE=${TEST_NGINX_VALGRIND_MUST_DIE:-1}
# what the real Test::Nginx uses for TEST_NGINX_USE_VALGRIND=1, plus origins
# of uninitialised values and our suppression file (given as options, so
# that the real Test::Nginx, which only looks for ./valgrind.suppress, uses
# it too)
export TEST_NGINX_USE_VALGRIND="--tool=memcheck --leak-check=full \
--keep-debuginfo=yes --show-possibly-lost=no --track-origins=yes \
--num-callers=100 --gen-suppressions=all \
--suppressions=$repo/t/valgrind.suppress"
mkdir -p "$(dirname "$TEST_NGINX_SERVROOT")"

inc=()
if ! perl -MTest::Nginx::Socket -e1 2>/dev/null; then
    inc=(-I t/compat)
fi

# Self-test: a canary preloaded into nginx reads one byte past a heap block
# and loses another block; both must be reported as failures.  Proves the
# errors are seen, not just absent.
out=$repo/build/valgrind
mkdir -p "$out/selftest"
cat >"$out/canary.c" <<'C'
/* test-valgrind self-test: an invalid read and a definite leak in nginx */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
static volatile char sink;
__attribute__((constructor)) static void init(void)
{
    char *p;
    if (getenv("LIVEKIT_MEMCHECK_CANARY") == NULL
        || strcmp(program_invocation_short_name, "nginx") != 0)
    {
        return;
    }
    p = malloc(16);
    memset(p, 0, 16);
    sink = p[16];               /* Invalid read of size 1 */
    free(p);
    p = malloc(24);
    if (p[3] == 42) {           /* Conditional jump ... uninitialised */
        sink = 1;
    }
}                               /* 24 bytes definitely lost */
C
gcc -shared -fPIC -g -O0 -o "$out/canary.so" "$out/canary.c" || exit 1
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
# (LD_PRELOAD, not TEST_NGINX_LD_PRELOAD: the real Test::Nginx puts the
# latter after "valgrind", where it is taken for the program to run; the
# canary acts in nginx only)
st=$(LIVEKIT_MEMCHECK_CANARY=1 LD_PRELOAD="$out/canary.so" \
     TEST_NGINX_SERVROOT=$out/selftest/servroot \
     prove "${inc[@]}" "$out/selftest/canary.t" 2>&1)
if ! grep -q 'Invalid read of size 1' <<<"$st" \
   || ! grep -q '24 bytes in 1 blocks are definitely lost' <<<"$st" \
   || ! grep -q 'Conditional jump or move depends on uninitialised value' <<<"$st" \
   || { ((${#inc[@]})) && ! grep -q 'canary - valgrind: Invalid read' <<<"$st"; }; then
    echo "$st"
    echo "test-valgrind: SELF-TEST FAILED: the canary's errors were not caught" >&2
    exit 1
fi
echo "test-valgrind: self-test ok (a canary's invalid read, uninitialised" \
     "value and leak fail its block)"

files=("$@")
((${#files[@]})) || files=(t/*.t)

log=$repo/build/valgrind/prove.log
echo "test-valgrind: ${files[*]} under valgrind, port $port," \
     "servroot $TEST_NGINX_SERVROOT (output: build/valgrind/prove.log)"
prove "${inc[@]}" "${files[@]}" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

# error records valgrind printed, whoever ran nginx: a headline is a
# "==pid== X" line that starts a record (after a blank "==pid==" line, a
# generated suppression or any other output)
records=$(awk '
    /^==[0-9]+== *$/ { blank = 1; next }
    /^==[0-9]+== [^ ]/ {
        line = $0; sub(/^==[0-9]+== /, "", line)
        if (blank && line !~ /^Warning:/) print line
        blank = 0; next
    }
    /^==[0-9]+==/ { blank = 0; next }
    { blank = 1 }' "$log" \
    | sed -E 's/[0-9,]+ (\([0-9,]+ direct, [0-9,]+ indirect\) )?bytes/N bytes/;
              s/loss record [0-9]+ of [0-9]+/loss record/' | sort | uniq -c)
if [ -n "$records" ]; then
    echo
    echo "test-valgrind: valgrind reported:"
    echo "$records"
    rc=1
fi

echo
if ((rc)); then
    echo "test-valgrind: FAILED (see above and build/valgrind/prove.log)"
else
    echo "test-valgrind: clean: no valgrind errors, no definite leaks"
fi
exit "$rc"
