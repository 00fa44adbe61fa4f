#!/usr/bin/env bash
# Installs what `make test` and `make run` need and is missing:
# Debian packages, then the npm packages pinned in t/node/package-lock.json.
# Safe to run again: it installs nothing that is already there.
set -euo pipefail

. "$(dirname "$0")/lib.sh"

debs=(
    nginx nginx-dev                           # the binary and its module tree
    libssl-dev libjansson-dev libcurl4-openssl-dev
    libyaml-dev                               # key files, as livekit-server
    golang-go                                 # t/keys, e2e: Go programs
    libtest-base-perl libipc-run-perl libwww-perl libjson-pp-perl
    libcrypt-jwt-perl                         # verifies tokens in t/*.t
    curl ca-certificates nodejs npm
    python3 python3-venv                      # t/aws: moto, boto3, pytest
    libnginx-mod-stream                       # stream {} of nginx.conf.example
    chromium libnss3-tools                    # e2e: Debian's Chromium, NSS trust
    firefox-esr nftables iproute2             # e2e/browsers.sh: Firefox, each
                                              # browser's network namespace
    webkit2gtk-driver xvfb                    # e2e/browsers.sh: the WebKitGTK probe
    libvpx-dev libopus-dev pkg-config         # e2e Go client: VP8/Opus frames
    openssl
    libclang-dev                              # make acme: bindgen (nginx-acme)
    redis-server                              # e2e/multinode.sh, e2e/recording.sh
    docker.io mmdebstrap                      # e2e/docker.sh: the engine, the base image
    valgrind wrk                              # make test-valgrind; t/load
)

mapfile -t missing < <(apt_missing "${debs[@]}")

# nodejs/npm may come from elsewhere than Debian (a newer Node on the PATH)
if command -v node >/dev/null && command -v npm >/dev/null; then
    keep=()
    for p in "${missing[@]}"; do
        [[ $p == nodejs || $p == npm ]] || keep+=("$p")
    done
    missing=("${keep[@]}")
fi

# Go may come from elsewhere than Debian (a newer toolchain on the PATH)
if command -v go >/dev/null; then
    keep=()
    for p in "${missing[@]}"; do
        [[ $p == golang-go ]] || keep+=("$p")
    done
    missing=("${keep[@]}")
fi

((${#missing[@]} == 0)) || apt_install "${missing[@]}"

# npm packages, exactly as locked
if [ -f "$repo/t/node/package-lock.json" ]; then
    lock=$repo/t/node/package-lock.json
    stamp=$repo/t/node/node_modules/.livekit-lock
    if [ ! -f "$stamp" ] || ! cmp -s "$lock" "$stamp"; then
        (cd "$repo/t/node" && npm ci --no-audit --no-fund --loglevel=error)
        cp "$lock" "$stamp"
    fi
fi

# Python packages of the SSM suite, exactly as pinned in t/aws
"$repo/scripts/ssm-deps.sh"
