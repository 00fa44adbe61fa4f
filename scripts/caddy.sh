#!/usr/bin/env bash
# Caddy v2.11.9 with caddy-l4 v0.1.2 (bench/caddy: versions pinned in its
# go.mod and go.sum), the door of LiveKit's self-hosting guide, built from
# the Go module proxy once per pin into ~/.cache/ngx-livekit-token/caddy/
# (outside the clone, so that fresh clones on this machine reuse it).
#
#   scripts/caddy.sh build     build if missing, print the path
set -euo pipefail
. "$(dirname "$0")/lib.sh"
src=$repo/bench/caddy
pin=$(cd "$src" && awk '$1 == "github.com/caddyserver/caddy/v2" || $1 == "github.com/mholt/caddy-l4" { printf "%s-", $2 }' go.mod)
pin=${pin%-}
bin=$cache/caddy/$pin/caddy
build() {
    [ -x "$bin" ] && [ "$(cat "$bin.sum" 2>/dev/null)" = "$(cat "$src/go.sum" "$src/main.go" | sha256sum)" ] \
        && return 0
    command -v go >/dev/null || { echo "caddy: go is not installed" >&2; exit 1; }
    export GOMODCACHE=${GOMODCACHE:-$cache/go/mod} GOCACHE=${GOCACHE:-$cache/go/build} \
           GOFLAGS="${GOFLAGS:-} -modcacherw -buildvcs=false -mod=readonly" GOTOOLCHAIN=${GOTOOLCHAIN:-local}
    mkdir -p "$(dirname "$bin")"
    echo "caddy: building $pin (first time only, a few minutes)" >&2
    if ! (cd "$src" && go build -trimpath -o "$bin.tmp" .) >"$bin.log" 2>&1; then
        tail -n 20 "$bin.log" >&2
        exit 1
    fi
    mv "$bin.tmp" "$bin"
    cat "$src/go.sum" "$src/main.go" | sha256sum >"$bin.sum"
}
case ${1:-} in
    build) build; echo "$bin" ;;
    *) echo "usage: $0 build" >&2; exit 2 ;;
esac
