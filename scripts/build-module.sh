#!/usr/bin/env bash
# Builds build/ngx_http_livekit_token_module.so and
# build/ngx_http_livekit_ssm_module.so (the SSM key source, with libcurl).
#
#   scripts/build-module.sh               against Debian's packaged nginx
#                                          (nginx-dev: /usr/share/nginx/src),
#                                          with Debian's own configure flags
#   NGINX=/usr/sbin/nginx NGINX_SRC=<tree|tarball> scripts/build-module.sh
#                                          against an installed nginx, any
#                                          distribution: its `nginx -V`
#                                          gives the configure arguments; a
#                                          source of another version is
#                                          refused
#   NGINX_SRC=<tree|tarball> scripts/build-module.sh
#                                          against upstream, --with-compat
#
# NGINX_SRC is a source tree or a release tarball (unpacked once into
# ~/.cache/ngx-livekit-token/src).  BUILD_DIR receives the objects and the
# .so: build/ for Debian's nginx, build/nginx-x.y.z/ for another.  Used by the Makefile, the version matrix
# (scripts/test-matrix.sh) and docker/Dockerfile, so all build the same way.
# ./configure runs again only when the arguments, `config` or the nginx tree
# changed; after that `make modules` recompiles just the changed sources.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
LOG_NAME=build-module

sos=(ngx_http_livekit_token_module.so ngx_http_livekit_ssm_module.so)
modules_path=

# installed_flags BINARY TREE: fill flags[] from BINARY's `nginx -V`, after
# checking that TREE is the same version.  nginx's ./configure evaluates
# some arguments (--with-cc-opt) in a shell, so an argument with a shell
# character is refused, not passed on.
installed_flags() {
    local v have want a args
    v=$(nginx_v "$1") || die "$1 -V failed: is NGINX an nginx binary?"
    have=$(nginx_v_version "$v") || die "$1 -V: no version in its output"
    want=$(tree_version "$2") || die "$2: no nginx version in src/core"
    if [ "$have" != "$want" ]; then
        die "$1 is $have but NGINX_SRC is $want:" \
            "a module loads only into the version it was built against;" \
            "use the $have source (nginx.org/download/$have.tar.gz)"
    fi
    args=$(nginx_v_args "$v") && [ -n "$args" ] \
        || die "$1 -V: cannot split its configure arguments" \
               "(no configure arguments, or unbalanced quotes)"
    flags=()
    while IFS= read -r a; do
        if [[ $a == *[^A-Za-z0-9\ _./,=+:@%~-]* ]]; then
            die "$1 -V: refusing a configure argument with shell characters:" \
                "$(printf '%q' "$a")"
        fi
        case $a in
            # other dynamic modules and third-party modules are not needed
            # (and often not buildable here) to build this one
            --with-*=dynamic|--add-dynamic-module=*|--add-module=*)
                log "leaving out $a" ;;
            --builddir=*) ;;            # ours is $objs
            --modules-path=*) modules_path=${a#--modules-path=}; flags+=("$a") ;;
            --prefix=*) [ -n "$modules_path" ] \
                            || modules_path=${a#--prefix=}/modules
                        flags+=("$a") ;;
            *) flags+=("$a") ;;
        esac
    done <<<"$args"
    [ -n "$modules_path" ] || modules_path=/usr/local/nginx/modules
    case " ${flags[*]} " in
        *" --with-compat "*) ;;
        *) log "$1 has no --with-compat: the module loads only into a" \
               "binary built with exactly these arguments" ;;
    esac
    log "$have, configure arguments of $1"
}

if [ -n "${NGINX_SRC:-}" ]; then
    tree=$(source_tree "$NGINX_SRC") || exit 1
    # never build/$so, which is the module for Debian's nginx
    out=${BUILD_DIR:-$repo/build/$(tree_version "$tree")}
    mkdir -p "$out" && out=$(cd "$out" && pwd)
    if [ -n "${NGINX:-}" ]; then
        installed_flags "$NGINX" "$tree"
        objs=$out/$(tree_version "$tree")-objs
    else
        flags=(--with-compat --with-threads)
        objs=$out/nginx-upstream-objs
    fi
    flags+=(--builddir="$objs")
    [ -n "${NGINX_CONFIGURE_EXTRA:-}" ] && flags+=($NGINX_CONFIGURE_EXTRA)
else
    out=${BUILD_DIR:-$repo/build}
    mkdir -p "$out" && out=$(cd "$out" && pwd)
    pkg=/usr/share/nginx/src
    if [ ! -f "$pkg/conf_flags" ]; then
        die "$pkg/conf_flags is missing: install nginx-dev"
    fi
    if [ -n "${NGINX:-}" ] && [ -x "$NGINX" ]; then
        have=$(nginx_v_version "$(nginx_v "$NGINX")") || have=
        want=$(tree_version "$pkg") || want=
        [ "$have" = "$want" ] || die "$NGINX is $have, nginx-dev is $want:" \
            "set NGINX_SRC to the $have source"
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
    modules_path=/usr/lib/nginx/modules
fi

mkdir -p "$objs"
stamp=$objs/.livekit-configure
want="$tree ${flags[*]} --add-dynamic-module=$repo"
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
if [ -n "${NGINX:-}" ] && [ -n "${NGINX_SRC:-}" ]; then
    echo "build-module: install them in $modules_path and load them with:"
    for so in "${sos[@]}"; do
        echo "    load_module $modules_path/$so;    # the SSM one only for livekit_ssm_*"
    done
fi
