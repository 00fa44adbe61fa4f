#!/usr/bin/env bash
# LiveKit Egress, the recording service, for e2e/recording.sh and
# `make run RECORD=1`: built once per version from its source tarball into
# ~/.cache/ngx-livekit-token/egress/VERSION/egress (3-6 minutes and ~105 MB
# on 2 cores), outside the clone so that later runs and fresh clones on the
# same machine reuse it.
#
#   scripts/egress.sh deps     the Debian GStreamer packages it needs
#   scripts/egress.sh build    deps, build if missing, print the path
#                              (exit 3: not built and no source tarball)
#   scripts/egress.sh config OUT [VAR=VAL...]   write its YAML config
#
# config variables: KEY_FILE (required: its first key), WS_URL
# [ws://127.0.0.1:7880], REDIS [127.0.0.1:6379], HEALTH_PORT [9090],
# TEMPLATE_PORT [7980], S3_ENDPOINT (empty: AWS), S3_REGION [us-east-1],
# S3_BUCKET (required), S3_ACCESS_KEY, S3_SECRET (empty: the instance's
# role).
#
# The source: EGRESS_TARBALL, else egress-VERSION.tar.gz in ../shared/
# egress-src next to the clone (SOURCES.txt there has its commit and
# sha256; checked here).  Elsewhere the same tree is LiveKit's egress
# repository at tag VERSION.  Its Go dependencies come from the Go module
# proxy.  cmd/server embeds templates/ (the room-composite web page, built
# separately); track recordings never use it, so a placeholder page is
# built in.
#
# Egress starts each recording by running `egress run-handler`: the
# directory printed by `build` must be on PATH.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
version=${EGRESS_VERSION:-v1.14.0}
sha256=${EGRESS_SHA256:-cbc28abe33f2eedd867944e9cbfc3e1ce681e65423412d5411a6335bd391a61d}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/ngx-livekit-token
bin=$cache/egress/$version/egress

debs=(
    libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
    libgstreamer-plugins-bad1.0-dev
    gstreamer1.0-plugins-base gstreamer1.0-plugins-good
    gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
    redis-server                        # what Egress and the nodes share
    ffmpeg                              # ffprobe checks the recordings
    pkg-config gcc
)

deps() {
    local missing=() p sudo=
    for p in "${debs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$p")
    done
    ((${#missing[@]})) || return 0
    echo "egress: installing ${missing[*]}" >&2
    [ "$(id -u)" = 0 ] || sudo=sudo
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 \
        || { $sudo apt-get update -q >&2 && \
             $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; }
}

tarball() {
    local f
    for f in "${EGRESS_TARBALL:-}" \
             "$repo/../shared/egress-src/egress-${version#v}.tar.gz" \
             "/work/shared/egress-src/egress-${version#v}.tar.gz"; do
        [ -n "$f" ] && [ -f "$f" ] && { echo "$f"; return 0; }
    done
    echo "egress: no source tarball egress-${version#v}.tar.gz (set EGRESS_TARBALL)" >&2
    return 1
}

build() {
    local stamp=$bin.version src tmp
    if [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
        return 0
    fi
    command -v go >/dev/null || { echo "egress: go is not installed" >&2; return 1; }
    src=$(tarball) || return 3
    if [ "$(sha256sum "$src" | cut -d' ' -f1)" != "$sha256" ]; then
        echo "egress: $src does not have the sha256 of $version" >&2
        return 1
    fi
    mkdir -p "$(dirname "$bin")"
    tmp=$(mktemp -d "$(dirname "$bin")/.build.XXXXXX")
    tar -xzf "$src" -C "$tmp" --strip-components=1
    mkdir -p "$tmp/cmd/server/templates"
    printf '<!doctype html><title>egress</title>room composite not built\n' \
        >"$tmp/cmd/server/templates/index.html"
    echo "egress: building $version (first time only, 3-10 minutes)" >&2
    if ! (cd "$tmp" &&
          export GOMODCACHE=${GOMODCACHE:-$cache/go/mod} \
                 GOCACHE=${GOCACHE:-$cache/go/build} \
                 GOFLAGS="${GOFLAGS:-} -modcacherw -buildvcs=false" \
                 GOTOOLCHAIN=${GOTOOLCHAIN:-local} CGO_ENABLED=1 &&
          go build -trimpath -o egress ./cmd/server) >"$tmp.log" 2>&1; then
        tail -n 30 "$tmp.log" >&2
        rm -rf "$tmp"
        return 1
    fi
    mv "$tmp/egress" "$bin"
    rm -rf "$tmp" "$tmp.log"
    echo "$version" >"$stamp"
}

config() {
    local out=$1; shift
    local KEY_FILE="" WS_URL=ws://127.0.0.1:7880 REDIS=127.0.0.1:6379 \
          HEALTH_PORT=9090 TEMPLATE_PORT=7980 S3_ENDPOINT="" S3_REGION=us-east-1 \
          S3_BUCKET="" S3_ACCESS_KEY="" S3_SECRET="" kv key secret
    for kv in "$@"; do
        case $kv in
            KEY_FILE=*|WS_URL=*|REDIS=*|HEALTH_PORT=*|TEMPLATE_PORT=*|\
            S3_ENDPOINT=*|S3_REGION=*|S3_BUCKET=*|S3_ACCESS_KEY=*|S3_SECRET=*)
                local "$kv" ;;
            *) echo "egress config: unknown setting $kv" >&2; return 2 ;;
        esac
    done
    [ -n "$KEY_FILE" ] && [ -n "$S3_BUCKET" ] \
        || { echo "egress config: KEY_FILE= and S3_BUCKET= are required" >&2; return 2; }
    key=$(sed -n '/^[^#]*:/{s/:.*//;s/^ *//;p;q}' "$KEY_FILE")
    secret=$(sed -n '/^[^#]*:/{s/^[^:]*: *//;s/ *$//;p;q}' "$KEY_FILE")
    (umask 077; {
        cat <<YAML
# generated by scripts/egress.sh config: LiveKit Egress v1.14.0
api_key: $key
api_secret: $secret
ws_url: $WS_URL
redis:
  address: $REDIS
health_port: $HEALTH_PORT
template_port: $TEMPLATE_PORT
logging:
  level: info
# Track egress costs little CPU; the defaults (0.8 of the cores, 0.5 per
# track) leave a 2-core machine unable to record one consultation, and
# under 1.0 Egress kills recordings when the machine is busy with other
# work.  Room composite (Chrome) needs 4 cores and is not used here.
cpu_cost:
  max_cpu_utilization: 1.0
  track_cpu_cost: 0.25
storage:
  s3:
    region: $S3_REGION
    bucket: $S3_BUCKET
YAML
        [ -z "$S3_ACCESS_KEY" ] || printf '    access_key: %s\n    secret: %s\n' \
            "$S3_ACCESS_KEY" "$S3_SECRET"
        [ -z "$S3_ENDPOINT" ] || printf '    endpoint: %s\n    force_path_style: true\n' \
            "$S3_ENDPOINT"
    } >"$out")
}

case ${1:-} in
    config)
        shift
        [ $# -ge 1 ] || { echo "usage: $0 config OUT [VAR=VAL...]" >&2; exit 2; }
        config "$@" ;;
    deps)
        deps ;;
    build)
        deps
        build
        echo "$bin" ;;
    *)
        echo "usage: $0 deps | build | config OUT [VAR=VAL...]" >&2
        exit 2 ;;
esac
