#!/usr/bin/env bash
# Runs the suites: t/*.t under Test::Nginx (or, when it is not installed,
# the compatible runner in t/compat), the Node check of tokens with
# livekit-server-sdk's TokenVerifier, the front door end to end (e2e/run.sh:
# livekit-server, Go participants, Chromium), Chromium and Firefox from
# network namespaces of their own over UDP, ICE/TCP and TURN/TLS on 443
# (e2e/browsers.sh), reload under load (t/load),
# two livekit-server nodes on Redis behind the front door
# (e2e/multinode.sh), recordings by Egress to a moto S3 bucket
# (e2e/recording.sh), the container deployment (e2e/docker.sh: docker/
# built offline and run with compose on a host of its own), the SSM suite
# against moto, the key-file corpus
# against livekit-server's own YAML loader (t/keys), livekit-server's
# webhooks and the key-drift probe (e2e/webhook.sh), certificates from a
# local ACME CA (e2e/acme.sh: nginx's ACME module and pebble), what the
# module build does with `nginx -V` and tarballs (t/build), and each
# libFuzzer harness briefly (5 s; `make fuzz` runs them longer).
# `scripts/test.sh nginx|build|load|node|e2e|browsers|multinode|recording|webhook|docker|aws|keys|acme|fuzz`
# runs one; `scripts/test.sh deb` (not in `all`: it installs into the system
# nginx) runs t/deb/run.sh.
set -uo pipefail

. "$(dirname "$0")/lib.sh"
cd "$repo"

export TEST_NGINX_BINARY=${TEST_NGINX_BINARY:-/usr/sbin/nginx}
export TEST_NGINX_LOAD_MODULES=${TEST_NGINX_LOAD_MODULES:-$repo/build/ngx_http_livekit_token_module.so}
export NGINX_BIN=$TEST_NGINX_BINARY
# Go's module and build caches outside the clone, one for every suite that
# builds Go (livekit-server, Egress, the e2e client), kept across clones
go_cache=$cache/go
export GOMODCACHE=${GOMODCACHE:-$go_cache/mod} GOCACHE=${GOCACHE:-$go_cache/build}
export LIVEKIT_MODULE=$TEST_NGINX_LOAD_MODULES

what=${1:-all}
passed=0
failed=0
failures=()

skipped=0

run() {
    local name=$1 rc; shift
    echo "=== $name: $*"
    "$@"
    rc=$?
    if ((rc == 0)); then
        passed=$((passed + 1))
    elif ((rc == 77)); then
        echo "=== $name: skipped (cannot run on this machine, see above)"
        skipped=$((skipped + 1))
    else
        failed=$((failed + 1))
        failures+=("$name")
    fi
}

if [[ $what == all || $what == nginx ]]; then
    inc=()
    if ! perl -MTest::Nginx::Socket -e1 2>/dev/null; then
        echo "Test::Nginx is not installed: using the compatible runner in t/compat"
        inc=(-I t/compat)
    fi
    run "Test::Nginx suites" prove "${inc[@]}" t/*.t
fi

if [[ $what == all || $what == build ]]; then
    run "module build from nginx -V and tarballs (t/build)" t/build/run.sh
fi

if [[ $what == all || $what == load ]]; then
    run "reload under load" t/load/run.sh
fi

if [[ $what == all || $what == node ]]; then
    run "TokenVerifier (livekit-server-sdk)" node t/node/verify-tokens.mjs
fi

if [[ $what == all || $what == e2e ]]; then
    run "front door e2e" e2e/run.sh
fi

if [[ $what == all || $what == browsers ]]; then
    run "every browser and path from its own network (e2e/browsers.sh)" e2e/browsers.sh
fi

if [[ $what == all || $what == webhook ]]; then
    run "webhooks from livekit-server (e2e/webhook.sh)" e2e/webhook.sh
fi

if [[ $what == all || $what == multinode ]]; then
    run "several livekit-server nodes on Redis (e2e/multinode.sh)" e2e/multinode.sh
fi

if [[ $what == all || $what == recording ]]; then
    run "recording by configuration (e2e/recording.sh)" e2e/recording.sh
fi

if [[ $what == all || $what == docker ]]; then
    run "the container deployment: docker/ built and run (e2e/docker.sh)" e2e/docker.sh
fi

if [[ $what == all || $what == aws ]]; then
    run "SSM key source (moto, t/aws)" scripts/ssm-test.sh
fi

if [[ $what == all || $what == keys ]]; then
    run "key files as livekit-server reads them (t/keys)" t/keys/run.sh
fi

if [[ $what == all || $what == acme ]]; then
    run "ACME certificates (pebble)" e2e/acme.sh
fi

if [[ $what == all || $what == bench ]]; then
    # the bench's servers and checks still work (not its timings): each
    # token verified with TokenVerifier, one short round
    run "bench smoke (BENCH_QUICK=1, results in build/bench)" \
        env BENCH_QUICK=1 BENCH_RESULTS="$repo/build/bench" bench/run.sh
    # the three doors (straight, nginx, Caddy with caddy-l4) still work: every
    # join, hold and /token through each; timings reported, never asserted
    run "bench smoke: three doors (BENCH_QUICK=1 bench/doors.sh)" \
        env BENCH_QUICK=1 BENCH_RESULTS="$repo/build/bench" bench/doors.sh
    run "bench smoke: reloads with live calls (BENCH_QUICK=1 bench/reloads.sh)" \
        env BENCH_QUICK=1 BENCH_RESULTS="$repo/build/bench" bench/reloads.sh
fi

if [[ $what == all || $what == fuzz ]]; then
    run "fuzz (libFuzzer, ${FUZZ_SECONDS:-5} s each)" \
        env FUZZ_SECONDS="${FUZZ_SECONDS:-5}" scripts/fuzz.sh
fi

if [[ $what == deb ]]; then
    run "Debian package in the system nginx (t/deb)" t/deb/run.sh
fi

echo
if ((failed)); then
    echo "failed suites: ${failures[*]}"
fi
echo "suites: $passed passed, $failed failed, $skipped skipped"
((failed == 0))
