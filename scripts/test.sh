#!/usr/bin/env bash
# Runs the suites: t/*.t under Test::Nginx (or, when it is not installed,
# the compatible runner in t/compat), the Node check of tokens with
# livekit-server-sdk's TokenVerifier, the front door end to end (e2e/run.sh:
# livekit-server, Go participants, Chromium), reload under load (t/load)
# the SSM suite against moto, and each libFuzzer harness briefly (5 s;
# `make fuzz` runs them longer).  `scripts/test.sh nginx|build|load|node|e2e|aws|fuzz`
# runs one; `scripts/test.sh deb` (not in `all`: it installs into the system
# nginx) runs t/deb/run.sh.
set -uo pipefail

. "$(dirname "$0")/lib.sh"
cd "$repo"

export TEST_NGINX_BINARY=${TEST_NGINX_BINARY:-/usr/sbin/nginx}
export TEST_NGINX_LOAD_MODULES=${TEST_NGINX_LOAD_MODULES:-$repo/build/ngx_http_livekit_token_module.so}
export NGINX_BIN=$TEST_NGINX_BINARY
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

if [[ $what == all || $what == aws ]]; then
    run "SSM key source (moto, t/aws)" scripts/ssm-test.sh
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
