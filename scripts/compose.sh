#!/usr/bin/env bash
# Docker Compose v5.6.0 (the Compose v2 CLI plugin's line) from the Go
# module proxy, built once into ~/.cache/ngx-livekit-token/compose/VERSION/
# docker-compose: Debian's docker-compose 1.29 refuses compose.yaml's
# top-level "name".  It is built in its own module directory, as `go
# install` refuses a module whose go.mod has exclude directives.
#
#   scripts/compose.sh build    build if missing, print a DOCKER_CONFIG
#                               directory whose cli-plugins/ holds it, so
#                               that `DOCKER_CONFIG=<it> docker compose` runs it
set -euo pipefail
. "$(dirname "$0")/lib.sh"
version=${COMPOSE_VERSION:-v5.6.0}
bin=$cache/compose/$version/docker-compose
build() {
    [ -x "$bin" ] && return 0
    command -v go >/dev/null || { echo "compose: go is not installed" >&2; exit 1; }
    export GOMODCACHE=${GOMODCACHE:-$cache/go/mod} GOCACHE=${GOCACHE:-$cache/go/build} \
           GOFLAGS="${GOFLAGS:-} -modcacherw -buildvcs=false" GOTOOLCHAIN=${GOTOOLCHAIN:-local}
    local dir
    dir=$(go mod download -json "github.com/docker/compose/v5@$version" \
          | python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
    mkdir -p "$(dirname "$bin")"
    echo "compose: building $version (first time only)" >&2
    (cd "$dir" && go build -trimpath -o "$bin.tmp" ./cmd) >"$bin.log" 2>&1 \
        || { tail -n 20 "$bin.log" >&2; exit 1; }
    mv "$bin.tmp" "$bin"
}
case ${1:-} in
    build)
        build
        mkdir -p "$cache/compose/$version/config/cli-plugins"
        ln -sfn "$bin" "$cache/compose/$version/config/cli-plugins/docker-compose"
        echo "$cache/compose/$version/config" ;;
    *) echo "usage: $0 build" >&2; exit 2 ;;
esac
