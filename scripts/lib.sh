# shellcheck shell=bash
# What the scripts share: logging, free ports, installing Debian packages,
# the cache of heavy builds outside the clone, nginx source trees and
# `nginx -V`.  Sourced, never run:
#
#   . "$(dirname "$0")/lib.sh"          (from scripts/)
#
# It sets $repo (the repository root) and $cache (the build cache,
# ~/.cache/ngx-livekit-token, or $NGX_LIVEKIT_CACHE), and defines only
# functions; it changes no shell option of the caller.

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${NGX_LIVEKIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ngx-livekit-token}

# log MSG...: a line on stderr, prefixed with the script's name
log() {
    echo "${LOG_NAME:-$(basename "$0" .sh)}: $*" >&2
}

# die MSG...: log and exit 1
die() {
    log "$@"
    exit 1
}

# free_port [PREFERRED...]: print a TCP port free on 127.0.0.1, the first
# free one of PREFERRED, else a random one in 20000-49999
free_port() {
    perl -MIO::Socket::INET -e '
        for my $p (@ARGV, map { 20000 + int rand 30000 } 1 .. 200) {
            my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1",
                LocalPort => $p, Proto => "tcp", Listen => 1, ReuseAddr => 1)
                or next;
            close $s; print "$p\n"; exit 0;
        }
        exit 1' "$@"
}

# apt_missing PKG...: print those of PKG that are not installed
apt_missing() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
            | grep -q 'install ok installed' || echo "$p"
    done
}

# apt_install PKG...: install those of PKG that are missing (apt-get update
# only when a first try does not find them); as root or through sudo; apt's
# output goes to stderr
apt_install() {
    local missing sudo=
    mapfile -t missing < <(apt_missing "$@")
    ((${#missing[@]})) || return 0
    log "installing ${missing[*]}"
    [ "$(id -u)" = 0 ] || sudo=sudo
    export DEBIAN_FRONTEND=noninteractive
    {
        $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" \
            || { $sudo apt-get update -q \
                 && $sudo apt-get install -y -q --no-install-recommends \
                        "${missing[@]}"; }
    } >&2
}

# nginx_v BINARY: its `nginx -V` (stderr), or fail
nginx_v() {
    "$1" -V 2>&1 || return 1
}

# nginx_v_version TEXT: "nginx-1.26.3" or "angie-1.12.1" from `nginx -V`
# text (Angie prints "Angie version: Angie/x" before its nginx line)
nginx_v_version() {
    local v
    v=$(sed -n 's|^Angie version: Angie/\([0-9][0-9.]*\).*|angie-\1|p' <<<"$1" \
        | head -n 1)
    [ -n "$v" ] || v=$(sed -n \
        's|^nginx version: [a-z]*/\([0-9][0-9.]*\).*|nginx-\1|p' <<<"$1" \
        | head -n 1)
    [ -n "$v" ] && echo "$v"
}

# nginx_v_args TEXT: the configure arguments of `nginx -V` text, one per
# line, split as the shell would split them but never evaluated (Perl's
# Text::ParseWords, in Debian's perl-base; else Python's shlex, which RHEL
# family hosts have)
nginx_v_args() {
    local line
    line=$(sed -n 's/^configure arguments: *//p' <<<"$1" | head -n 1)
    if perl -MText::ParseWords -e1 2>/dev/null; then
        perl -MText::ParseWords -e '
            my @w = shellwords($ARGV[0]);
            die "unbalanced quotes\n" if $ARGV[0] =~ /\S/ && !@w;
            print "$_\n" for @w' -- "$line"
    else
        python3 -c 'import shlex, sys
for w in shlex.split(sys.argv[1]): print(w)' "$line"
    fi
}

# tree_version DIR: "nginx-1.26.3" or "angie-1.12.1" for a source tree
tree_version() {
    local h=$1/src/core/angie.h v
    if [ -f "$h" ]; then
        v=$(sed -n 's/^#define ANGIE_VERSION *"\([0-9.]*\)".*/\1/p' "$h")
        [ -n "$v" ] && echo "angie-$v" && return 0
    fi
    v=$(sed -n 's/^#define NGINX_VERSION *"\([0-9.]*\)".*/\1/p' \
        "$1/src/core/nginx.h" 2>/dev/null)
    [ -n "$v" ] && echo "nginx-$v"
}

# source_tree PATH: print a configured-ready nginx source tree for PATH,
# a tree (printed as it is) or a release tarball (unpacked once into the
# cache, keyed by the tarball's sha256)
source_tree() {
    local src=$1 sum dir top
    if [ -d "$src" ]; then
        [ -x "$src/configure" ] || { log "$src: no ./configure in it"; return 1; }
        (cd "$src" && pwd)
        return 0
    fi
    [ -f "$src" ] || { log "$src: no such tree or tarball"; return 1; }
    sum=$(sha256sum "$src" | cut -c1-16)
    top=$(set +o pipefail; tar -tzf "$src" 2>/dev/null | head -n 1)
    top=${top#./}
    top=${top%%/*}
    case $top in
        ''|.|..|*[!A-Za-z0-9._-]*)
            log "$src: not a tarball with one top directory"; return 1 ;;
    esac
    dir=$cache/src/$top-$sum
    if [ ! -x "$dir/$top/configure" ]; then
        mkdir -p "$cache/src"
        (
            flock 9
            [ -x "$dir/$top/configure" ] && exit 0
            rm -rf "$dir.tmp" && mkdir -p "$dir.tmp" \
                && tar -xzf "$src" -C "$dir.tmp" --no-same-owner \
                && [ -x "$dir.tmp/$top/configure" ] \
                || { rm -rf "$dir.tmp"; exit 1; }
            rm -rf "$dir" && mv "$dir.tmp" "$dir"
        ) 9>"$dir.lock" || { log "$src: cannot unpack"; return 1; }
    fi
    echo "$dir/$top"
}
