#!/usr/bin/env bash
# The version matrix: for each nginx below, an nginx binary, the module
# built against it the way a user would build it (scripts/build-module.sh
# with NGINX=<that binary> NGINX_SRC=<its source>: its `nginx -V` gives the
# arguments), then every t/*.t and the TokenVerifier check
# (t/node/verify-tokens.mjs) against that binary, then the ACME suite
# (e2e/acme.sh) with nginx's ACME module built against that version's
# configured tree (scripts/acme-build.sh module).  One line per version,
# `nginx 1.31.4: N passed, N failed` (the three suites together), then
# `N passed, N failed` alone.
#
# Angie runs no ACME suite: nginx-acme's bindings (nginx-sys 0.5.0) do not
# compile against it (Angie's ngx_module_t has angie_sign where nginx has
# spare1, and Angie refuses modules not built for it); Angie has an ACME
# client of its own.  The version's log says so.
#
#   scripts/test-matrix.sh                 every version
#   MATRIX="1.26.3 angie" scripts/test-matrix.sh
#                                          the versions whose name contains
#                                          one of the words
#   MATRIX_JOBS=1 scripts/test-matrix.sh   one version at a time (default 2;
#                                          ports TEST_NGINX_PORT and up, or
#                                          free ones)
#   ACME_PORT_BASE=40000                   the ACME suites' ports: 100 a
#                                          version from there (the n-th
#                                          version base+100n .. +99)
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
# the ACME suites' ports, 100 a version (e2e/acme.sh uses base .. base+99),
# below the kernel's ephemeral range (32768-60999): at 40000 an outgoing
# connection of a suite running beside it once held an echo server's port
acme0=${ACME_PORT_BASE:-31000}
inc=()
perl -MTest::Nginx::Socket -e1 2>/dev/null || inc=(-I t/compat)

total_passed=0
total_failed=0
lines=()
notes=()

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

# build NAME SOURCE ARGS: set bin, so and tree (the unpacked source, empty
# for Debian's) for one version, or return 1
build() {
    local dir=build/matrix/$1 src
    if [ "$2" = debian ]; then
        bin=/usr/sbin/nginx
        so=$repo/build/ngx_http_livekit_token_module.so
        tree=
        NGINX=$bin scripts/build-module.sh >/dev/null
        return
    fi
    src=$(source_of "$2") \
        || { log "$1: no $2 in $sources (set NGINX_SOURCES)"; return 1; }
    bin=$(scripts/build-nginx.sh "$src" "scripts/matrix/$3.args") || return 1
    tree=$(source_tree "$src") || return 1
    so=$repo/$dir/ngx_http_livekit_token_module.so
    NGINX=$bin NGINX_SRC=$src BUILD_DIR=$dir scripts/build-module.sh
}

# acme_build NAME: nginx-acme for the version build() set up (Debian's:
# build/nginx-debian, acme-build.sh's default; a matrix build: its objs
# folder beside the binary and its unpacked source); prints the .so
acme_build() {
    if [ -z "$tree" ]; then
        scripts/acme-build.sh module
    else
        NGINX_BUILD_DIR=${bin%/*} NGINX_SOURCE_DIR=$tree scripts/acme-build.sh module
    fi
}

# acme_suite NAME: print "P F" of e2e/acme.sh against the version build()
# set up, on this job's ACME_PORT_BASE, in build/matrix/NAME/acme
acme_suite() {
    local acme_so out
    case $1 in
        angie-*)
            # the reason in the log and, for the summary, in a note
            echo "${1%%-*} ${1#*-}: no ACME suite: nginx-acme does not build" \
                "against Angie (nginx-sys: ngx_module_t has angie_sign, not" \
                "spare1)" >"$repo/build/matrix/$1/note"
            log "$(cat "$repo/build/matrix/$1/note")"
            echo "0 0"
            return ;;
    esac
    if ! acme_so=$(acme_build "$1"); then
        log "$1: nginx-acme build failed"
        echo "0 1"
        return
    fi
    # Debian's nginx keeps the example's include of modules-enabled (its
    # packaged stream module); a matrix build has stream built in, or
    # (--with-stream=dynamic) its own ngx_stream_module.so beside it
    if [ -z "$tree" ]; then
        unset ACME_MODULES_ENABLED
    elif [ -f "${bin%/*}/ngx_stream_module.so" ]; then
        export ACME_MODULES_ENABLED="load_module ${bin%/*}/ngx_stream_module.so;"
    else
        export ACME_MODULES_ENABLED=
    fi
    log "$1: ACME suite with $acme_so"
    out=$(NGINX_BIN=$bin LIVEKIT_MODULE=$so ACME_MODULE=$acme_so \
          ACME_RUN_DIR=$repo/build/matrix/$1/acme e2e/acme.sh 2>&1)
    grep -E '^(not ok|# )' <<<"$out" >&2
    count "$out"
}

# run_one NAME SOURCE ARGS: print "P F" for one version
run_one() {
    local bin so tree out p f np nf ap af
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
    read -r ap af < <(acme_suite "$1")
    log "$1: ACME suite: $ap passed, $af failed"
    echo "$((p + np + ap)) $((f + nf + af))"
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
if ((port0 < acme0 + 100 * ${#selected[@]} && acme0 < port0 + ${#selected[@]})); then
    die "TEST_NGINX_PORT=$port0 falls in the ACME suites' ports" \
        "($acme0 and up, 100 a version): set ACME_PORT_BASE"
fi

# nginx binaries and their nginx-acme modules are built ahead, one after
# the other, while the suites of the versions before run (they mostly wait
# on sockets); the loop below asks build-nginx.sh and acme-build.sh again,
# which wait for that build (flock) or report its error
(
    for entry in "${selected[@]}"; do
        read -r name source args <<<"$entry"
        [ "$source" = debian ] && continue
        src=$(source_of "$source") || continue
        bin=$(nice scripts/build-nginx.sh "$src" \
            "scripts/matrix/$args.args" 2>/dev/null) || continue
        [[ $name == angie-* ]] && continue
        tree=$(source_tree "$src" 2>/dev/null) || continue
        nice env NGINX_BUILD_DIR="${bin%/*}" NGINX_SOURCE_DIR="$tree" \
            scripts/acme-build.sh module >/dev/null 2>&1
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
    rm -f "$out/$name/result" "$out/$name/note"
    (
        export TEST_NGINX_PORT
        TEST_NGINX_PORT=$(free_port $((port0 + slot))) || exit 1
        export TEST_NGINX_SERVROOT=$out/$name/servroot
        export ACME_PORT_BASE=$((acme0 + 100 * slot))
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
    [ -f "$out/$name/note" ] && notes+=("$(cat "$out/$name/note")")
    total_passed=$((total_passed + p))
    total_failed=$((total_failed + f))
done

wait "$prebuild" 2>/dev/null
echo
((${#notes[@]})) && printf '%s\n' "${notes[@]}"
printf '%s\n' "${lines[@]}"
echo "$total_passed passed, $total_failed failed"
((total_failed == 0))
