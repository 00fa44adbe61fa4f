#!/usr/bin/env bash
# What `make module NGINX=... NGINX_SRC=...` does with what it reads from
# outside: an installed binary's `nginx -V` and a source tarball.  The real
# builds against real binaries are in the version matrix
# (scripts/test-matrix.sh); this suite feeds scripts/build-module.sh
# binaries whose `nginx -V` is hostile or mismatched (small scripts that
# print it: no real nginx prints such output) and broken tarballs, and
# checks that each is refused with a clear message before anything runs.
#
# Prints "ok - ..."/"not ok - ..." per check, then "N passed, N failed".
set -uo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
LOG_NAME=t/build

work=$(mktemp -d "${TMPDIR:-/tmp}/lk-build-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
export NGX_LIVEKIT_CACHE=$work/cache
# shellcheck source=../../scripts/tap.sh
. "$repo/scripts/tap.sh"

# a minimal tree of version V: what tree_version and the checks look at
tree() {
    mkdir -p "$work/$1/src/core"
    printf '#define NGINX_VERSION      "%s"\n' "${1#nginx-}" \
        >"$work/$1/src/core/nginx.h"
    printf '#!/bin/sh\necho configure ran >"%s/configure-ran"\nexit 1\n' \
        "$work" >"$work/$1/configure"
    chmod +x "$work/$1/configure"
}

# a binary whose `nginx -V` prints ARGS after the version line V
binary() {
    local f=$work/nginx-$RANDOM
    {
        echo '#!/bin/sh'
        echo 'cat >&2 <<"EOF"'
        echo "nginx version: nginx/$1"
        echo "configure arguments: $2"
        echo 'EOF'
    } >"$f"
    chmod +x "$f"
    echo "$f"
}

# expect WHAT PATTERN NGINX NGINX_SRC: build-module.sh fails, says PATTERN,
# runs no ./configure and creates no file named "pwned"
expect() {
    local what=$1 pattern=$2 out rc
    rm -f "$work/configure-ran" "$work/pwned"
    out=$(cd "$work" && NGINX=$3 NGINX_SRC=$4 BUILD_DIR=$work/out \
          "$repo/scripts/build-module.sh" 2>&1)
    rc=$?
    if ((rc != 0)) && grep -qE "$pattern" <<<"$out" \
       && [ ! -e "$work/configure-ran" ] && [ ! -e "$work/pwned" ]; then
        ok "$what"
    else
        notok "$what (exit $rc): $out"
    fi
}

tree nginx-1.24.0

expect "a source of another version is refused, naming the one needed" \
    'is nginx-1\.26\.3 but NGINX_SRC is nginx-1\.24\.0.*nginx-1\.26\.3' \
    "$(binary 1.26.3 '--with-compat')" "$work/nginx-1.24.0"

expect "a command substitution in nginx -V is refused, never run" \
    'shell characters' \
    "$(binary 1.24.0 "--with-compat --with-cc-opt='\$(touch $work/pwned)'")" \
    "$work/nginx-1.24.0"

expect "backquotes, semicolons and pipes in nginx -V are refused" \
    'shell characters' \
    "$(binary 1.24.0 "--with-ld-opt='-L/x; touch $work/pwned | \`id\`'")" \
    "$work/nginx-1.24.0"

expect "unbalanced quotes in nginx -V are refused" \
    'cannot split|unbalanced|no configure arguments' \
    "$(binary 1.24.0 "--with-cc-opt='-O2")" "$work/nginx-1.24.0"

expect "a binary that prints no version is refused" \
    'no version' "$(binary '' '--with-compat')" "$work/nginx-1.24.0"

expect "NGINX that is not an executable is refused" \
    'nginx -V failed|-V failed' "$work/no-such-nginx" "$work/nginx-1.24.0"

printf 'not a tarball' >"$work/nginx-1.24.0.tar.gz"
expect "a file that is not a tarball is refused" \
    'not a tarball' "$(binary 1.24.0 '--with-compat')" \
    "$work/nginx-1.24.0.tar.gz"

mkdir -p "$work/t1"
(cd "$work/t1" && mkdir -p 'a b' && echo x >'a b/configure' \
    && tar -czf "$work/spaces.tar.gz" 'a b')
expect "a tarball whose top directory has odd characters is refused" \
    'not a tarball with one top directory' \
    "$(binary 1.24.0 '--with-compat')" "$work/spaces.tar.gz"

(cd "$work/t1" && mkdir -p nginx-1.24.0/src/core && echo x >nginx-1.24.0/README \
    && tar -czf "$work/noconf.tar.gz" nginx-1.24.0)
expect "a tarball without ./configure is refused" \
    'cannot unpack' "$(binary 1.24.0 '--with-compat')" "$work/noconf.tar.gz"

# the splitter itself: quoted arguments as `nginx -V` prints them
got=$(nginx_v_args "configure arguments: --prefix=/usr/share/nginx --with-cc-opt='-O2 -g -Wp,-D_FORTIFY_SOURCE=2' --with-compat" | tr '\n' '|')
if [ "$got" = "--prefix=/usr/share/nginx|--with-cc-opt=-O2 -g -Wp,-D_FORTIFY_SOURCE=2|--with-compat|" ]
then
    ok "nginx -V arguments are split as the shell splits them"
else
    notok "nginx -V arguments are split as the shell splits them: $got"
fi

summary
