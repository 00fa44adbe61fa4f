#!/usr/bin/env bash
# Local stand-ins for the public images docker/ names, made from what this
# machine reaches: Debian's packages (mmdebstrap), the nginx sources in
# ../shared/nginx-src.  Each is tagged ngx-livekit-token/<name>:<key>, the
# key a hash of what made it, and made again only when that key changes:
# the Docker engine keeps the images and their layers across runs.
#
#   docker/images.sh [bookworm|nginx|rust|livekit|redis|egress]...
#                      make what is missing (default: all), print NAME=IMAGE
#                      lines
#
#   bookworm   mmdebstrap --variant=minbase bookworm | docker import: the
#              base of every other image here
#   nginx      nginx DOCKER_NGINX_VERSION [1.30.4] configured with the
#              official image's arguments (scripts/matrix/official-image.args)
#              on bookworm, laid out like nginx:stable-bookworm (user nginx,
#              /etc/nginx, logs to stdout/stderr): the Dockerfile's
#              NGINX_IMAGE for a build that cannot pull
#   rust       this machine's stable Rust toolchain (rustup's, without its
#              documentation) in /usr/local/rustup and /usr/local/cargo/bin,
#              as the official rust image lays it out: the Dockerfile's
#              RUST_IMAGE (nginx-acme needs Rust 1.81 or later; bookworm's is
#              1.63)
#   livekit    livekit-server v1.13.5 as scripts/livekit-server.sh builds it
#   redis      Debian's redis-server
#   egress     LiveKit Egress v1.14.0 as scripts/egress.sh builds it, with
#              Debian's GStreamer
#
# Starts dockerd when none answers (no bridge, no iptables: the stack uses
# the host's network, builds use --network host).  Needs root.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"
cd "$repo"

nginx_version=${DOCKER_NGINX_VERSION:-1.30.4}
sources=${NGINX_SOURCES:-$repo/../shared/nginx-src}
prefix=ngx-livekit-token
log=$repo/build/docker
mkdir -p "$log"

docker_up() {
    docker info >/dev/null 2>&1 && return 0
    command -v dockerd >/dev/null || { echo "images: dockerd is not installed (docker.io)" >&2; return 1; }
    echo "images: starting dockerd (log: $log/dockerd.log)" >&2
    setsid dockerd --bridge=none --iptables=false >"$log/dockerd.log" 2>&1 &
    local i
    for ((i = 0; i < 100; i++)); do docker info >/dev/null 2>&1 && return 0; sleep 0.2; done
    echo "images: dockerd did not answer" >&2
    return 1
}

have() { docker image inspect "$1" >/dev/null 2>&1; }
key_of() { cat "$@" | sha256sum | cut -c1-12; }

# bookworm: the week's Debian packages, so keyed by the ISO week (made again
# weekly, with Debian's updates, and everything made on it too), and this
# machine's own certificate authorities (/usr/local/share/ca-certificates:
# where its traffic to the package registries passes a proxy that presents
# its own certificates, builds in these images must trust them as the host
# does; the images are this machine's test images, never published)
make_bookworm() {
    local cas=(/usr/local/share/ca-certificates) tag
    tag=$prefix/bookworm:$(date -u +%GW%V)-$(find "${cas[@]}" -type f 2>/dev/null | sort | xargs -r cat | key_of)
    if ! have "$tag"; then
        echo "images: $tag (mmdebstrap, about a minute)" >&2
        # as small as debian:bookworm-slim: no package lists, caches,
        # documentation or locales (apt-get update fetches the lists again)
        mmdebstrap --variant=minbase --include=ca-certificates \
            --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
            --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
            --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
            --customize-hook='copy-in /usr/local/share/ca-certificates/. /usr/local/share/ca-certificates/' \
            --customize-hook='chroot "$1" update-ca-certificates' \
            bookworm - 2>"$log/mmdebstrap.log" \
            | docker import - "$tag" >/dev/null
    fi
    bookworm=$tag
    echo "bookworm=$tag"
}

make_nginx() {
    local tar=$sources/nginx-$nginx_version.tar.gz tag
    [ -f "$tar" ] || { echo "images: no $tar" >&2; return 1; }
    tag=$prefix/nginx:$nginx_version-$(key_of "$tar" scripts/matrix/official-image.args docker/local/nginx.Dockerfile <(echo "$bookworm"))
    if ! have "$tag"; then
        echo "images: $tag (nginx $nginx_version from ../shared, the official image's arguments)" >&2
        local ctx
        ctx=$(mktemp -d "$log/ctx.XXXXXX")
        cp "$tar" "$ctx/nginx.tar.gz"
        grep -v -e "^#" -e "^--with-debug$" scripts/matrix/official-image.args | sed "s/@VERSION@/$nginx_version/g" >"$ctx/configure.args"
        docker build --network host -q -f docker/local/nginx.Dockerfile \
            --build-arg BASE="$bookworm" --build-arg NGINX_VERSION="$nginx_version" \
            -t "$tag" "$ctx" >"$log/nginx-build.log" 2>&1 \
            || { tail -n 30 "$log/nginx-build.log" >&2; rm -rf "$ctx"; return 1; }
        rm -rf "$ctx"
    fi
    echo "nginx=$tag"
}

make_rust() {
    local tc ver tag
    command -v rustc >/dev/null || { echo "images: no Rust toolchain here (rustup)" >&2; return 1; }
    tc=$(rustc --print sysroot)
    ver=$(rustc --version | awk '{ print $2 }')
    tag=$prefix/rust:$ver-$(key_of docker/local/rust.Dockerfile <(echo "$bookworm"))
    if ! have "$tag"; then
        echo "images: $tag (the toolchain in $tc)" >&2
        local ctx
        ctx=$(mktemp -d "$log/ctx.XXXXXX")
        mkdir -p "$ctx/toolchain"
        tar -C "$tc" --exclude=./share/doc -cf - . | tar -C "$ctx/toolchain" -xf -
        docker build --network host -q -f docker/local/rust.Dockerfile \
            --build-arg BASE="$bookworm" -t "$tag" "$ctx" >"$log/rust-build.log" 2>&1 \
            || { tail -n 30 "$log/rust-build.log" >&2; rm -rf "$ctx"; return 1; }
        rm -rf "$ctx"
    fi
    echo "rust=$tag"
}

# from_binary NAME BINARY: an image of docker/local/NAME.Dockerfile with
# BINARY in its context, keyed by the binary and the Dockerfile
from_binary() {
    local name=$1 bin=$2 tag ctx
    tag=$prefix/$name:$(key_of "$bin" "docker/local/$name.Dockerfile" <(echo "$bookworm"))
    if ! have "$tag"; then
        echo "images: $tag ($bin)" >&2
        ctx=$(mktemp -d "$log/ctx.XXXXXX")
        cp "$bin" "$ctx/"
        docker build --network host -q -f "docker/local/$name.Dockerfile" \
            --build-arg BASE="$bookworm" -t "$tag" "$ctx" >"$log/$name-build.log" 2>&1 \
            || { tail -n 30 "$log/$name-build.log" >&2; rm -rf "$ctx"; return 1; }
        rm -rf "$ctx"
    fi
    echo "$name=$tag"
}

make_redis() {
    local tag=$prefix/redis:$(key_of docker/local/redis.Dockerfile <(echo "$bookworm"))
    if ! have "$tag"; then
        echo "images: $tag (Debian's redis-server)" >&2
        docker build --network host -q -f docker/local/redis.Dockerfile \
            --build-arg BASE="$bookworm" -t "$tag" docker/local >"$log/redis-build.log" 2>&1 \
            || { tail -n 30 "$log/redis-build.log" >&2; return 1; }
    fi
    echo "redis=$tag"
}

# prune NAME TAG: the images of NAME that TAG superseded
prune() {
    docker image ls --format '{{.Repository}}:{{.Tag}}' "$prefix/$1" \
        | grep -vxF "$2" | xargs -r docker image rm >/dev/null 2>&1 || true
}

docker_up
want=("$@")
((${#want[@]})) || want=(bookworm nginx rust livekit redis egress)
make_bookworm
prune bookworm "$bookworm"
for w in "${want[@]}"; do
    case $w in
        bookworm) ;;
        nginx) make_nginx ;;
        rust) make_rust ;;
        livekit) from_binary livekit "$(scripts/livekit-server.sh build)" ;;
        redis) make_redis ;;
        egress) from_binary egress "$(scripts/egress.sh build)" ;;
        *) echo "images: unknown image $w" >&2; exit 2 ;;
    esac
done | while IFS== read -r name tag; do
    echo "$name=$tag"
    prune "$name" "$tag"
done
