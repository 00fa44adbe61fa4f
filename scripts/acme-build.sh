#!/usr/bin/env bash
# Builds what the ACME suite and `make run ACME=1` need, cached outside the
# clone under ~/.cache/ngx-livekit-token/ (NGX_LIVEKIT_CACHE), and prints
# the path of what was asked for:
#
#   scripts/acme-build.sh module   nginx's ACME module (nginx/nginx-acme,
#                                  Rust) with patches/nginx-acme/*.patch,
#                                  against the nginx tree the token module
#                                  builds against (build/nginx-debian after
#                                  `make module`, or NGINX_BUILD_DIR=<objs>
#                                  and, when objs is not <source>/objs,
#                                  NGINX_SOURCE_DIR=<source>);
#                                  acme/<version>-<nginx version>/
#   scripts/acme-build.sh pebble   Let's Encrypt's test CA, pebble, with
#                                  `go install` from the Go module proxy;
#                                  pebble/<version>/ (Go caches: go/)
#
# The nginx-acme source is the release tarball in ../shared/nginx-acme-src
# (NGINX_ACME_TARBALL), checked against its sha256 in SOURCES.txt there.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${NGX_LIVEKIT_CACHE:-$HOME/.cache/ngx-livekit-token}
acme_version=0.4.1
acme_sha256=3fe9606129d5c704174bf742b8407233a4242922a25e64b522ffee94bc7cbf23
pebble_version=v2.10.0

die() { echo "acme-build: $*" >&2; exit 1; }

# the tarball: next to the clone (the workplace's shared folder) or named
tarball() {
    local t=${NGINX_ACME_TARBALL:-} d
    if [ -z "$t" ]; then
        for d in "$repo/../shared/nginx-acme-src" /work/shared/nginx-acme-src; do
            [ -f "$d/nginx-acme-$acme_version.tar.gz" ] || continue
            t=$d/nginx-acme-$acme_version.tar.gz
            break
        done
    fi
    [ -n "$t" ] && [ -f "$t" ] \
        || die "nginx-acme-$acme_version.tar.gz not found (NGINX_ACME_TARBALL=)"
    echo "$acme_sha256  $t" | sha256sum -c --quiet - >&2 \
        || die "$t: sha256 mismatch"
    echo "$t"
}

# the configured nginx objs directory and its version
nginx_objs() {
    local objs=${NGINX_BUILD_DIR:-$repo/build/nginx-debian/objs}
    if [ ! -f "$objs/ngx_auto_config.h" ] && [ -z "${NGINX_BUILD_DIR:-}" ]; then
        "$repo/scripts/build-module.sh" >&2
    fi
    [ -f "$objs/ngx_auto_config.h" ] || die "$objs is not a configured nginx objs directory"
    (cd "$objs" && pwd)
}

nginx_source() { # objs
    (cd "${NGINX_SOURCE_DIR:-$1/..}" && pwd)
}

nginx_version() { # source
    sed -n 's/^#define NGINX_VERSION *"\(.*\)"/\1/p' "$1/src/core/nginx.h" 2>/dev/null || true
}

build_module() {
    local objs src ver dir stamp want tb p
    objs=$(nginx_objs)
    src=$(nginx_source "$objs") || die "no nginx source tree (NGINX_SOURCE_DIR=)"
    ver=$(nginx_version "$src")
    [ -n "$ver" ] || die "no NGINX_VERSION in $src/src/core/nginx.h"
    case $ver in
        1.2[01].*|1.1[0-9].*|1.[0-9].*)
            die "nginx $ver: nginx-acme needs nginx 1.22.0 or later" ;;
    esac
    dir=$cache/acme/$acme_version-$ver
    stamp=$dir/.stamp
    # rebuilt when the patches, the nginx configuration or this script change
    want=$(cat "$repo"/patches/nginx-acme/*.patch "$objs/ngx_auto_config.h" "$0" \
           | sha256sum | cut -c1-16)
    if [ -f "$dir/ngx_http_acme_module.so" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
        echo "$dir/ngx_http_acme_module.so"
        return
    fi
    command -v cargo >/dev/null || die "cargo is needed (Rust toolchain >= 1.81)"
    if [ -z "${LIBCLANG_PATH:-}" ]; then  # bindgen: Debian's libclang (libclang-dev)
        p=$(compgen -G '/usr/lib/llvm-*/lib/libclang.so*' | sort -V | tail -n 1)
        [ -n "$p" ] && export LIBCLANG_PATH=${p%/*}
    fi
    tb=$(tarball)
    echo "acme-build: nginx-acme $acme_version against nginx $ver ($objs)" >&2
    rm -rf "$dir/src"
    mkdir -p "$dir/src"
    tar -xzf "$tb" -C "$dir/src" --strip-components=1
    for p in "$repo"/patches/nginx-acme/*.patch; do
        patch -s -p1 -d "$dir/src" <"$p" || die "$p does not apply"
    done
    if ! (cd "$dir/src" && NGINX_BUILD_DIR=$objs NGINX_SOURCE_DIR=$src \
            CARGO_TARGET_DIR=$dir/target \
            CARGO_HOME=${CARGO_HOME:-$cache/cargo} \
            cargo build --release --locked) >"$dir/build.log" 2>&1; then
        tail -n 30 "$dir/build.log" >&2
        die "cargo build failed, see $dir/build.log"
    fi
    cp "$dir/target/release/libnginx_acme.so" "$dir/ngx_http_acme_module.so.tmp"
    mv "$dir/ngx_http_acme_module.so.tmp" "$dir/ngx_http_acme_module.so"
    echo "$want" >"$stamp"
    echo "$dir/ngx_http_acme_module.so"
}

build_pebble() {
    local dir=$cache/pebble/$pebble_version
    if [ ! -x "$dir/bin/pebble" ]; then
        command -v go >/dev/null || die "go is needed for pebble"
        echo "acme-build: pebble $pebble_version (go install)" >&2
        mkdir -p "$dir"
        (cd "$dir" && GOBIN=$dir/bin GOMODCACHE=$cache/go/mod GOCACHE=$cache/go/cache \
            GOFLAGS=-modcacherw GOTOOLCHAIN=local \
            go install "github.com/letsencrypt/pebble/v2/cmd/pebble@$pebble_version") >&2 \
            || die "go install pebble failed"
    fi
    echo "$dir/bin/pebble"
}

case ${1:-} in
    module) build_module ;;
    pebble) build_pebble ;;
    *) echo "usage: $0 module|pebble" >&2; exit 2 ;;
esac
