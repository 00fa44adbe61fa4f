#!/usr/bin/env bash
# libFuzzer harnesses for every parser that sees outside input (fuzz/*.c),
# built with Debian's clang, -fsanitize=fuzzer,address,undefined, and
# linked against the REAL nginx core: Debian's nginx source package
# (apt-get source, through a private deb-src list derived at run time from
# the machine's own apt sources; nothing under /etc is changed), configured
# with Debian's conf_flags and compiled with the same sanitizers.
#
#   scripts/fuzz.sh                  build, replay fuzz/regressions, fuzz
#                                    every harness FUZZ_SECONDS (60) each
#   FUZZ_SECONDS=5 scripts/fuzz.sh   a short run (CI)
#   FUZZ_TARGETS="args json" ...     only these harnesses
#   FUZZ_BUILD_ONLY=1 ...            build, replay regressions, no fuzzing
#
# Harnesses: args (GET query), json (POST body), webhook (a webhook's token),
# join (a join's query and Authorization), revoke (a revocation's JSON),
# invite (an invitation a client brings, and the JSON inside a signed one),
# keys (key file), aws_ssm
# (GetParameters answer), aws_creds (container / IMDS credentials JSON),
# aws_sts (STS XML), aws_ini (shared credentials / config files),
# aws_container (container credentials URL check), aws_imds (IMDS role
# name and region), text (escaping of outside text for logs, JSON, labels).
# Seeds: fuzz/corpus/<harness>/ (read only), with fuzz/dict/<harness>.dict
# when there is one; what the fuzzer finds goes to
# build/fuzz/corpus/<harness>/; crashers to build/fuzz/crashes/.
# Exit status: non-zero when any harness crashed or a regression failed.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
LOG_NAME=fuzz
out=$repo/build/fuzz
seconds=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-"args json webhook join revoke invite keys aws_ssm aws_creds aws_sts aws_ini aws_container aws_imds text"}
jobs=$(nproc 2>/dev/null || echo 2)
mkdir -p "$out"

# --- packages --------------------------------------------------------------

apt_install clang libclang-rt-14-dev dpkg-dev nginx-dev libssl-dev \
            libjansson-dev libyaml-dev libcurl4-openssl-dev libpcre2-dev \
            zlib1g-dev \
    || die "cannot install the fuzzers' packages"

CC=${FUZZ_CC:-clang}
if ! command -v "$CC" >/dev/null; then
    CC=$(ls /usr/bin/clang-[0-9]* 2>/dev/null | sort -V | tail -n 1)
fi

# --- Debian's nginx source ---------------------------------------------------

ver=$(dpkg-query -W -f='${Version}' nginx-dev)
upstream=${ver%%-*}
# kept outside the clone, by version: a fresh clone on this machine reuses it
srcroot=$cache/debian-nginx-src/$ver
src=$srcroot/nginx-$upstream

if [ ! -f "$src/src/core/nginx.c" ]; then
    aptdir=$out/apt
    rm -rf "$aptdir" "$srcroot"
    mkdir -p "$aptdir/sources" "$aptdir/lists/partial" \
             "$aptdir/cache/archives/partial" "$srcroot"

    # the machine's own Debian sources, "deb" turned into "deb-src"
    n=0
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        n=$((n + 1))
        sed -E 's/^Types:.*/Types: deb-src/' "$f" >"$aptdir/sources/$n.sources"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        n=$((n + 1))
        sed -nE 's/^deb[[:space:]]+/deb-src /p' "$f" >"$aptdir/sources/$n.list"
    done

    aptopt=(-o "Dir::Etc::SourceList=/dev/null"
            -o "Dir::Etc::SourceParts=$aptdir/sources"
            -o "Dir::State::Lists=$aptdir/lists"
            -o "Dir::Cache=$aptdir/cache"
            -o "APT::Sandbox::User=root")

    log "fetching Debian's nginx source (nginx-dev $ver)"
    # 77: cannot run here (no source to be had), which callers may skip
    apt-get "${aptopt[@]}" update -qq >"$out/apt.log" 2>&1 || {
        cat "$out/apt.log" >&2; exit 77; }

    # the installed version first; an archive may lack it (security
    # uploads), so any other version of the same upstream release after it
    got=
    for v in "$ver" $(apt-cache "${aptopt[@]}" showsrc nginx 2>/dev/null \
                      | sed -n 's/^Version: //p' | sort -rV | uniq); do
        [ "${v%%-*}" = "$upstream" ] || continue
        if (cd "$srcroot" \
            && apt-get "${aptopt[@]}" source "nginx=$v" >>"$out/apt.log" 2>&1)
        then
            got=$v
            break
        fi
        rm -rf "${srcroot:?}/"*
    done

    if [ -z "$got" ] || [ ! -f "$src/src/core/nginx.c" ]; then
        tail -n 20 "$out/apt.log" >&2
        log "cannot get the nginx $upstream source package"
        exit 77
    fi
    [ "$got" = "$ver" ] || log "using source $got (nginx-dev is $ver)"
fi

# --- the nginx core, sanitized ------------------------------------------------

san="-fsanitize=address,undefined"
cov="-fsanitize=fuzzer-no-link"
ngx=$out/nginx
# shellcheck disable=SC1091
. /usr/share/nginx/src/conf_flags
cflags="-g -O1 -fno-omit-frame-pointer $san $cov"
want="$CC ${NGX_CONF_FLAGS[*]} $cflags"

if [ ! -f "$ngx/objs/.fuzz-configure" ] \
   || [ "$(cat "$ngx/objs/.fuzz-configure")" != "$want" ]
then
    log "configuring nginx with Debian's conf_flags ($CC, sanitizers)"
    rm -rf "$ngx"
    cp -a "$src" "$ngx"
    (cd "$ngx" && ./configure "${NGX_CONF_FLAGS[@]}" --with-cc="$CC" \
        --with-cc-opt="$cflags" --with-ld-opt="$san" \
        >"$out/configure.log" 2>&1) || {
        tail -n 20 "$out/configure.log" >&2; exit 1; }
    echo "$want" >"$ngx/objs/.fuzz-configure"
fi

log "building the nginx core"
make -C "$ngx" -j"$jobs" -f objs/Makefile binary >"$out/make.log" 2>&1 || {
    grep -E 'error' "$out/make.log" >&2 || tail -n 30 "$out/make.log" >&2
    exit 1; }

# every core object; nginx.o keeps its globals, its main() renamed
core=()
while IFS= read -r o; do
    core+=("$o")
done < <(find "$ngx/objs/src" -name '*.o' ! -path '*/core/nginx.o' | sort)
if [ "$ngx/objs/src/core/nginx.o" -nt "$out/nginx-nomain.o" ]; then
    objcopy --redefine-sym main=ngx_fuzz_nginx_main \
        "$ngx/objs/src/core/nginx.o" "$out/nginx-nomain.o"
fi
core+=("$ngx/objs/ngx_modules.o" "$out/nginx-nomain.o")

libs=$(sed -n 's/^[[:space:]]*-fsanitize=[^ ]* \(-l.*\)\\$/\1/p' \
       "$ngx/objs/Makefile" | head -n 1)
[ -n "$libs" ] || libs="-lpthread -lpcre2-8 -lssl -lcrypto -lz"
libs="$libs -ljansson -lyaml -lcurl -lcrypto"

incs=(-I "$ngx/src/core" -I "$ngx/src/event" -I "$ngx/src/event/modules"
      -I "$ngx/src/os/unix" -I "$ngx/objs" -I "$ngx/src/http"
      -I "$ngx/src/http/modules" -I "$ngx/src/http/v2" -I "$repo/src")
mflags=(-g -O1 -fno-omit-frame-pointer $san
        -Wall -Wno-unused-parameter -Wno-unused-function)

# --- the module, then the harnesses --------------------------------------------

mkdir -p "$out/obj" "$out/bin"
modsrcs=()
for s in "$repo"/src/ngx_http_livekit_*.c; do
    s=${s##*/ngx_http_livekit_}
    modsrcs+=("${s%.c}")
done

for m in "${modsrcs[@]}"; do
    s=$repo/src/ngx_http_livekit_$m.c
    o=$out/obj/$m.o
    if [ ! -f "$o" ] || [ "$s" -nt "$o" ] \
       || [ -n "$(find "$repo/src" -name '*.h' -newer "$o")" ]
    then
        "$CC" "${mflags[@]}" $cov "${incs[@]}" -c "$s" -o "$o"
    fi
done

# a harness's text with the fuzz/*.h it includes
sources() {
    local inc
    cat "$1"
    for inc in $(sed -n 's/^#include "\(fuzz_[a-z_]*\.h\)"/\1/p' "$1"); do
        sources "$repo/fuzz/$inc"
    done
}

for t in $targets; do
    h=$repo/fuzz/fuzz_$t.c
    [ -f "$h" ] || { log "no harness fuzz/fuzz_$t.c"; exit 1; }

    # module objects minus the ones the harness includes as source
    text=$(sources "$h")
    objs=()
    for m in "${modsrcs[@]}"; do
        grep -q "#include \"\.\./src/ngx_http_livekit_$m\.c\"" <<<"$text" && continue
        objs+=("$out/obj/$m.o")
    done

    bin=$out/bin/fuzz_$t
    if [ ! -x "$bin" ] || [ "$out/nginx-nomain.o" -nt "$bin" ] \
       || [ -n "$(find "$repo/fuzz" "$repo/src" "$out/obj" \
                                   -newer "$bin" -name '*.[cho]' | head -n 1)" ]
    then
        log "building fuzz_$t"
        "$CC" "${mflags[@]}" -fsanitize=fuzzer "${incs[@]}" \
            -I "$repo/fuzz" "$h" "${objs[@]}" "${core[@]}" $libs -o "$bin"
    fi
done

[ -z "${FUZZ_BUILD_ONLY:-}" ] || [ "${FUZZ_BUILD_ONLY}" = 0 ] || seconds=0

# --- run ------------------------------------------------------------------------

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:suppressions=$repo/fuzz/ubsan.supp}

crashes=$out/crashes
mkdir -p "$crashes"
failed=0
summary=()

for t in $targets; do
    bin=$out/bin/fuzz_$t

    # known crashers stay fixed
    for r in "$repo"/fuzz/regressions/"$t"-*; do
        [ -f "$r" ] || continue
        if ! "$bin" "$r" >"$out/regress-$t.log" 2>&1; then
            log "REGRESSION $(basename "$r") fails again:"
            grep -a -E 'ERROR|assertion|runtime error|SUMMARY' \
                "$out/regress-$t.log" | head -n 5 >&2
            failed=1
        fi
    done

    [ "$seconds" -gt 0 ] || continue

    work=$out/corpus/$t
    mkdir -p "$work"
    log "fuzzing $t for ${seconds}s"
    set +e
    dict=()
    [ -f "$repo/fuzz/dict/$t.dict" ] && dict=(-dict="$repo/fuzz/dict/$t.dict")
    "$bin" "$work" "$repo/fuzz/corpus/$t" "${dict[@]}" \
        -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
        -rss_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="$crashes/$t-" >"$out/fuzz-$t.log" 2>&1
    rc=$?
    set -e

    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
            "$out/fuzz-$t.log" | tail -n 1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' \
            "$out/fuzz-$t.log" | tail -n 1)
    last=$(grep -a -E '^#[0-9]+' "$out/fuzz-$t.log" | tail -n 1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$last")

    if [ "$rc" -ne 0 ]; then
        failed=1
        status="CRASH ($(ls "$crashes"/"$t"-* 2>/dev/null | head -n 1))"
        grep -a -E 'ERROR: |assertion failed|runtime error|SUMMARY' \
            "$out/fuzz-$t.log" | head -n 5 >&2
    else
        status=ok
    fi

    summary+=("$(printf '%-10s %10s execs %7s/s  cov %5s  ft %6s  corpus %5s  %s' \
                 "$t" "${execs:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" \
                 "${corp:-?}" "$status")")
done

if [ ${#summary[@]} -gt 0 ]; then
    printf '\nfuzz summary (%ss each; logs in build/fuzz/fuzz-*.log)\n' "$seconds"
    printf '  %s\n' "${summary[@]}"
fi

if [ "$failed" -ne 0 ]; then
    log "FAILED: see above; new crashers are in build/fuzz/crashes/"
    exit 1
fi

log "no crashes"
