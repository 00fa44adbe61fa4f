#!/usr/bin/env bash
# Builds build/ngx_http_livekit_token_module.so and
# build/ngx_http_livekit_ssm_module.so (the SSM key source, with libcurl).
#
#   scripts/build-module.sh               against Debian's packaged nginx
#                                          (nginx-dev: /usr/share/nginx/src),
#                                          with Debian's own configure flags
#   NGINX_SRC=/path/nginx-x.y.z scripts/build-module.sh
#                                          against an upstream tree, --with-compat
#
# Used by the Makefile and by docker/Dockerfile, so both build the same way.
# ./configure runs again only when `config` or the nginx tree changed; after
# that `make modules` recompiles just the module sources that changed.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
out=${BUILD_DIR:-$repo/build}
sos=(ngx_http_livekit_token_module.so ngx_http_livekit_ssm_module.so)
mkdir -p "$out"

if [ -n "${NGINX_SRC:-}" ]; then
    src=$(cd "$NGINX_SRC" && pwd)
    objs=$out/nginx-upstream-objs
    flags=(--with-compat --with-threads --builddir="$objs")
    [ -n "${NGINX_CONFIGURE_EXTRA:-}" ] && flags+=($NGINX_CONFIGURE_EXTRA)
    tree=$src
else
    pkg=/usr/share/nginx/src
    if [ ! -f "$pkg/conf_flags" ]; then
        echo "build-module: $pkg/conf_flags is missing: install nginx-dev" >&2
        exit 1
    fi
    tree=$out/nginx-debian
    objs=$tree/objs
    if [ ! -f "$tree/conf_flags" ] || ! cmp -s "$pkg/conf_flags" "$tree/conf_flags"
    then
        rm -rf "$tree"
        cp -a "$pkg" "$tree"
    fi
    # conf_flags is a bash array assignment: NGX_CONF_FLAGS=( ... )
    # shellcheck disable=SC1091
    . "$tree/conf_flags"
    flags=("${NGX_CONF_FLAGS[@]}")
    [ -n "${NGINX_CONFIGURE_EXTRA:-}" ] && flags+=($NGINX_CONFIGURE_EXTRA)
fi

stamp=$objs/.livekit-configure
want="${flags[*]} --add-dynamic-module=$repo"
if [ ! -f "$objs/Makefile" ] || [ ! -f "$stamp" ] \
   || [ "$(cat "$stamp")" != "$want" ] || [ "$repo/config" -nt "$stamp" ]
then
    (cd "$tree" && ./configure "${flags[@]}" --add-dynamic-module="$repo" \
        >"$out/configure.log" 2>&1) || {
        tail -n 20 "$out/configure.log" >&2
        exit 1
    }
    echo "$want" >"$stamp"
fi

make -C "$tree" -f "$objs/Makefile" modules >"$out/make.log" 2>&1 || {
    grep -E 'error|warning' "$out/make.log" >&2 || tail -n 30 "$out/make.log" >&2
    exit 1
}
grep -E 'warning:' "$out/make.log" >&2 || true
for so in "${sos[@]}"; do
    cp "$objs/$so" "$out/$so.tmp" && mv "$out/$so.tmp" "$out/$so"
    echo "build-module: $out/$so"
done
