#!/usr/bin/env bash
# Builds an nginx binary for the version matrix and prints its path.
#
#   scripts/build-nginx.sh <tree|tarball> <args file>
#
# The args file (scripts/matrix/*.args) has one configure argument a line;
# `#` starts a comment, @VERSION@ stands for the version of the source.
# The binary lives in ~/.cache/ngx-livekit-token/matrix/<version>-<hash>,
# the hash over the source's files and the arguments: it is built once and
# reused by every later run and every clone on the machine.  The module is
# not part of it (--with-compat): scripts/build-module.sh builds that.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
LOG_NAME=build-nginx

[ $# = 2 ] || die "usage: $0 <nginx tree|tarball> <args file>"
tree=$(source_tree "$1") || exit 1
name=$(tree_version "$tree") || die "$1: no nginx version in src/core"
[ -f "$2" ] || die "$2: no such args file"

args=()
while IFS= read -r a; do
    a=${a%%#*}
    a=${a%"${a##*[![:space:]]}"}
    [ -n "$a" ] && args+=("${a//@VERSION@/${name#*-}}")
done <"$2"

key=$( { (cd "$tree" && find configure auto src -type f -print0 \
              | sort -z | xargs -0 sha256sum);
         printf '%s\n' "${args[@]}"; } | sha256sum | cut -c1-16)
dir=$cache/matrix/$name-$key
bin=$dir/objs/${name%%-*}          # objs/nginx, objs/angie

if [ ! -f "$dir/.built" ]; then
    mkdir -p "$dir"
    exec 9>"$dir/.lock"
    flock 9
    if [ ! -f "$dir/.built" ]; then
        log "$name: configure and build (once; cached in $dir)"
        (cd "$tree" && ./configure "${args[@]}" --builddir="$dir/objs") \
            >"$dir/configure.log" 2>&1 \
            || { tail -n 20 "$dir/configure.log" >&2; exit 1; }
        printf '%s\n' "${args[@]}" >"$dir/args"
        make -C "$tree" -f "$dir/objs/Makefile" -j"$(nproc)" build \
            >"$dir/make.log" 2>&1 \
            || { grep -E 'error' "$dir/make.log" >&2 \
                     || tail -n 30 "$dir/make.log" >&2; exit 1; }
        touch "$dir/.built"
    fi
    flock -u 9
fi
echo "$bin"
