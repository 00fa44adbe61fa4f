#!/usr/bin/env bash
# The version matrix: for each nginx below, an nginx binary, the module
# built against it the way a user would build it (scripts/build-module.sh
# with NGINX=<that binary> NGINX_SRC=<its source>: its `nginx -V` gives the
# arguments), then every t/*.t and the TokenVerifier check
# (t/node/verify-tokens.mjs) against that binary.  One line per version,
# `nginx 1.31.4: N passed, N failed`, then `N passed, N failed` alone.
#
#   scripts/test-matrix.sh                 every version
#   MATRIX="1.26.3 angie" scripts/test-matrix.sh
#                                          the versions whose name contains
#                                          one of the words
#   MATRIX_JOBS=1 scripts/test-matrix.sh   one version at a time (default 2;
#                                          ports TEST_NGINX_PORT and up, or
#                                          free ones)
#
# Sources: NGINX_SOURCES (default: ../shared/nginx-src beside the clone or
# one of its parents), release tarballs or trees named as nginx.org names
# them.  nginx binaries
# are cached in ~/.cache/ngx-livekit-token/matrix (scripts/build-nginx.sh);
# the module is rebuilt incrementally in build/matrix/<version>.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
LOG_NAME=test-matrix
cd "$repo"

# name           source                 configure arguments (scripts/matrix/)
matrix=(
  "nginx-1.22.1  debian                 -"
  "nginx-1.24.0  nginx-1.24.0.tar.gz    amazon-linux-2023"
  "nginx-1.26.3  nginx-1.26.3.tar.gz    upstream"
  "nginx-1.28.3  nginx-1.28.3.tar.gz    upstream"
  "nginx-1.30.4  nginx-1.30.4.tar.gz    official-image"
  "nginx-1.31.4  nginx-1.31.4.tar.gz    upstream"
  "angie-1.12.1  angie-1.12.1.tar.gz    upstream"
)

# NGINX_SOURCES, else the first shared/nginx-src beside the clone or beside
# one of its parents (the workplace's shared folder)
sources=${NGINX_SOURCES:-}
d=$repo
while [ -z "$sources" ] && [ "$d" != / ]; do
    d=$(dirname "$d")
    [ -d "$d/shared/nginx-src" ] && sources=$d/shared/nginx-src
done
[ -n "$sources" ] || die "no nginx sources: set NGINX_SOURCES (a folder of" \
    "nginx-x.y.z.tar.gz and angie-x.y.z.tar.gz, or their trees)"
# the first port tried for the versions' suites, one up for each next one
port0=${TEST_NGINX_PORT:-1984}
inc=()
perl -MTest::Nginx::Socket -e1 2>/dev/null || inc=(-I t/compat)

total_passed=0
total_failed=0
lines=()

# count TEXT: "P F" from the last `N passed, N failed` line of TEXT, or
# "0 1" when there is none (the suite died before its summary)
count() {
    local l
    l=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' <<<"$1" | tail -n 1)
    if [ -n "$l" ]; then
        sed -E 's/^([0-9]+) passed, ([0-9]+) failed$/\1 \2/' <<<"$l"
    else
        echo "0 1"
    fi
}

# source_of SOURCE: the tarball SOURCE in $sources, or its unpacked tree
source_of() {
    if [ -e "$sources/$1" ]; then
        echo "$sources/$1"
    elif [ -d "$sources/${1%.tar.gz}" ]; then
        echo "$sources/${1%.tar.gz}"
    else
        return 1
    fi
}

# build NAME SOURCE ARGS: set bin and so for one version, or return 1
build() {
    local dir=build/matrix/$1 src
    if [ "$2" = debian ]; then
        bin=/usr/sbin/nginx
        so=$repo/build/ngx_http_livekit_token_module.so
        NGINX=$bin scripts/build-module.sh >/dev/null
        return
    fi
    src=$(source_of "$2") \
        || { log "$1: no $2 in $sources (set NGINX_SOURCES)"; return 1; }
    bin=$(scripts/build-nginx.sh "$src" "scripts/matrix/$3.args") || return 1
    so=$repo/$dir/ngx_http_livekit_token_module.so
    NGINX=$bin NGINX_SRC=$src BUILD_DIR=$dir scripts/build-module.sh
}

# run_one NAME SOURCE ARGS: print "P F" for one version
run_one() {
    local bin so out p f np nf
    log "$1: build"
    if ! build "$@" >&2; then
        echo "0 1"
        return
    fi
    log "$1: t/*.t with $bin"
    out=$(TEST_NGINX_BINARY=$bin TEST_NGINX_LOAD_MODULES=$so \
          scripts/prove-count.pl "${inc[@]}" t/*.t 2>&1)
    grep -vE '^(WARNING|nginx: \[)' <<<"$out" >&2
    read -r p f < <(count "$out")
    log "$1: TokenVerifier"
    out=$(NGINX_BIN=$bin LIVEKIT_MODULE=$so node t/node/verify-tokens.mjs 2>&1)
    grep -E '^(not ok|#|Bail)' <<<"$out" >&2
    read -r np nf < <(count "$out")
    echo "$((p + np)) $((f + nf))"
}

# the entries MATRIX selects
selected=()
for entry in "${matrix[@]}"; do
    read -r name source args <<<"$entry"
    if [ -n "${MATRIX:-}" ]; then
        hit=
        for w in $MATRIX; do [[ $name == *"$w"* ]] && hit=1; done
        [ -n "$hit" ] || continue
    fi
    selected+=("$entry")
done

# nginx binaries are built ahead, one after the other, while the suites of
# the versions before run (they mostly wait on sockets); the loop below
# asks build-nginx.sh again, which waits for that build or reports its error
(
    for entry in "${selected[@]}"; do
        read -r name source args <<<"$entry"
        [ "$source" = debian ] && continue
        src=$(source_of "$source") || continue
        nice scripts/build-nginx.sh "$src" \
            "scripts/matrix/$args.args" >/dev/null 2>&1
    done
) &
prebuild=$!
trap 'kill "$prebuild" 2>/dev/null' EXIT

# MATRIX_JOBS versions at a time (their suites mostly wait on sockets), each
# on its own port and servroot; each version's log is printed whole when it
# ends, the summary in the table's order
out=$repo/build/matrix
mkdir -p "$out"
running=()
slot=0
for entry in "${selected[@]}"; do
    read -r name source args <<<"$entry"
    while ((${#running[@]} >= ${MATRIX_JOBS:-2})); do
        wait -n "${running[@]}" 2>/dev/null
        still=()
        for pid in "${running[@]}"; do
            kill -0 "$pid" 2>/dev/null && still+=("$pid")
        done
        running=("${still[@]}")
    done
    mkdir -p "$out/$name"
    rm -f "$out/$name/result"
    (
        export TEST_NGINX_PORT
        TEST_NGINX_PORT=$(free_port $((port0 + slot))) || exit 1
        export TEST_NGINX_SERVROOT=$out/$name/servroot
        start=$SECONDS
        run_one "$name" "$source" "$args" >"$out/$name/counts" \
            2>"$out/$name/log"
        read -r p f <"$out/$name/counts"
        cat "$out/$name/log" >&2
        line="${name%%-*} ${name#*-}: $p passed, $f failed"
        log "$line ($((SECONDS - start)) s)"
        echo "$line" >"$out/$name/result"
    ) &
    running+=($!)
    slot=$((slot + 1))
done
wait "${running[@]}" 2>/dev/null

for entry in "${selected[@]}"; do
    read -r name source args <<<"$entry"
    line=$(cat "$out/$name/result" 2>/dev/null) \
        || line="${name%%-*} ${name#*-}: 0 passed, 1 failed"
    read -r p f < <(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\1 \2/' \
                        <<<"$line")
    lines+=("$line")
    total_passed=$((total_passed + p))
    total_failed=$((total_failed + f))
done

wait "$prebuild" 2>/dev/null
echo
printf '%s\n' "${lines[@]}"
echo "$total_passed passed, $total_failed failed"
((total_failed == 0))
