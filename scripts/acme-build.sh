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
#                                  acme/<version>-<nginx|angie>-<x.y.z>-<hash
#                                  of ngx_auto_config.h, the patches and
#                                  this script>/, one cargo target folder
#                                  for all of them (acme/target-<version>)
#   scripts/acme-build.sh pebble   Let's Encrypt's test CA, pebble, with
#                                  `go install` from the Go module proxy;
#                                  pebble/<version>/ (Go caches: go/)
#
# The nginx-acme source is the release tarball in ../shared/nginx-acme-src
# (NGINX_ACME_TARBALL), checked against its sha256 in SOURCES.txt there.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${NGX_LIVEKIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ngx-livekit-token}
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

# the name of a source tree: "nginx-1.28.3", or "angie-1.12.1" (whose
# nginx.h carries the nginx version it follows)
tree_name() { # source ver
    local a
    a=$(sed -n 's/^#define ANGIE_VERSION *"\(.*\)"/\1/p' "$1/src/core/angie.h" 2>/dev/null || true)
    if [ -n "$a" ]; then echo "angie-$a"; else echo "nginx-$2"; fi
}

build_module() {
    local objs src ver key dir tb p
    objs=$(nginx_objs)
    src=$(nginx_source "$objs") || die "no nginx source tree (NGINX_SOURCE_DIR=)"
    ver=$(nginx_version "$src")
    [ -n "$ver" ] || die "no NGINX_VERSION in $src/src/core/nginx.h"
    case $ver in
        1.2[01].*|1.1[0-9].*|1.[0-9].*)
            die "nginx $ver: nginx-acme needs nginx 1.22.0 or later" ;;
    esac
    # one folder per configuration, not per version: two builds of one
    # version with other arguments (a matrix's and build/nginx-debian's)
    # need two modules; the key also changes with the patches and this script
    key=$(cat "$repo"/patches/nginx-acme/*.patch "$objs/ngx_auto_config.h" "$0" \
          | sha256sum | cut -c1-16)
    dir=$cache/acme/$acme_version-$(tree_name "$src" "$ver")-$key
    mkdir -p "$dir"
    # parallel matrix jobs may ask for the same folder: one builds, the
    # others wait and take its result
    exec 8>"$dir/.lock"
    flock 8
    if [ ! -f "$dir/ngx_http_acme_module.so" ]; then
        cargo_build "$objs" "$src" "$dir" "$ver"
    fi
    flock -u 8
    echo "$dir/ngx_http_acme_module.so"
}

# cargo_build OBJS SRC DIR VER: DIR/ngx_http_acme_module.so.  cargo's
# target folder is shared by every version (acme/target-<version>), so the
# dependencies are compiled once; only nginx-sys (its build script reruns
# when NGINX_BUILD_DIR, NGINX_SOURCE_DIR or ngx_auto_config.h change: new
# bindings), ngx and nginx-acme itself are compiled again.  One build at a
# time uses it (flock): the .so it leaves in target/release is the last
# version's, so it is copied out under the lock.
cargo_build() {
    local objs=$1 src=$2 dir=$3 ver=$4 tb p target=$cache/acme/target-$acme_version
    command -v cargo >/dev/null || die "cargo is needed (Rust toolchain >= 1.81)"
    if [ -z "${LIBCLANG_PATH:-}" ]; then  # bindgen: Debian's libclang (libclang-dev)
        p=$(compgen -G '/usr/lib/llvm-*/lib/libclang.so*' | sort -V | tail -n 1)
        [ -n "$p" ] && export LIBCLANG_PATH=${p%/*}
    fi
    tb=$(tarball)
    echo "acme-build: nginx-acme $acme_version against nginx $ver ($objs)" >&2
    rm -rf "$dir/src"
    mkdir -p "$dir/src" "$target"
    tar -xzf "$tb" -C "$dir/src" --strip-components=1
    for p in "$repo"/patches/nginx-acme/*.patch; do
        patch -s -p1 -d "$dir/src" <"$p" || die "$p does not apply"
    done
    exec 7>"$target.lock"
    flock 7
    if ! (cd "$dir/src" && NGINX_BUILD_DIR=$objs NGINX_SOURCE_DIR=$src \
            CARGO_TARGET_DIR=$target \
            CARGO_HOME=${CARGO_HOME:-$cache/cargo} \
            cargo build --release --locked) >"$dir/build.log" 2>&1; then
        tail -n 30 "$dir/build.log" >&2
        die "cargo build failed, see $dir/build.log"
    fi
    cp "$target/release/libnginx_acme.so" "$dir/ngx_http_acme_module.so.tmp"
    flock -u 7
    mv "$dir/ngx_http_acme_module.so.tmp" "$dir/ngx_http_acme_module.so"
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
