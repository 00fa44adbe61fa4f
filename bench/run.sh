#!/usr/bin/env bash
# `make bench`: four token servers side by side on 127.0.0.1, each one
# process with one worker, under the same wrk load:
#
#   A  ceiling  stock nginx, `return 200` of a real token response (static)
#   B  njs      nginx + Debian's njs, HS256 with crypto.createHmac per request
#   C  node     Node http + livekit-server-sdk AccessToken (the Lambda's code)
#   D  module   nginx + ngx_http_livekit_token_module
#
# Every token server's output is verified with livekit-server-sdk's
# TokenVerifier before anything is timed.  Then: warm-up, rounds alternating
# A B C D A-POST D-POST, a -c1 latency round, optional RSS soak of D,
# callgrind instructions per token (D - A), the signing micro-benchmark.
# Report: bench/results/<UTC timestamp>.md, latest.md, latest.png.
#
# Environment (defaults in brackets):
#   BENCH_SECONDS [10]      length of one timed run
#   BENCH_ROUNDS [3]        rounds of A B C D (+ A-POST D-POST)
#   BENCH_WARMUP [3]        warm-up seconds per server
#   BENCH_LAT_SECONDS [3]   length of a -c1 latency run (one per server and round)
#   BENCH_CONNS [32]        wrk connections (one wrk thread)
#   BENCH_POST [1]          0: skip the POST contract rounds
#   BENCH_QUICK [0]         1: CI smoke, 1 round of 2 s, short everything
#   BENCH_RSS [0]           1: drive BENCH_RSS_TOTAL [1000000] requests to D,
#                           sampling worker VmRSS every BENCH_RSS_STEP [100000]
#   BENCH_CALLGRIND [1]     0: skip; BENCH_CALLGRIND_N [2000] tokens measured
#   BENCH_MICRO [1]         0: skip the sign_bench micro-benchmark
#   BENCH_PIN [0]           1: pin servers to CPU 1 and wrk to CPU 0
#   BENCH_RESULTS [bench/results]  where the reports and profiles go
#   NGINX [/usr/sbin/nginx], LIVEKIT_MODULE [build/ngx_http_livekit_token_module.so]
set -euo pipefail

bench=$(cd "$(dirname "$0")" && pwd)
. "$bench/../scripts/lib.sh"
LOG_NAME=bench
work=$bench/.work/run
results=${BENCH_RESULTS:-$bench/results}

nginx=${NGINX:-/usr/sbin/nginx}
module=${LIVEKIT_MODULE:-$repo/build/ngx_http_livekit_token_module.so}
njs_module=/usr/lib/nginx/modules/ngx_http_js_module.so
lk_url=ws://127.0.0.1:7880

quick=${BENCH_QUICK:-0}
if [ "$quick" = 1 ]; then
    d_secs=2 d_rounds=1 d_warm=1 d_lat=1 d_cg=200 d_micro=0.03
    d_rss_total=100000 d_rss_step=10000
else
    d_secs=10 d_rounds=3 d_warm=3 d_lat=3 d_cg=2000 d_micro=0.3
    d_rss_total=1000000 d_rss_step=100000
fi
secs=${BENCH_SECONDS:-$d_secs}
rounds=${BENCH_ROUNDS:-$d_rounds}
warm=${BENCH_WARMUP:-$d_warm}
lat_secs=${BENCH_LAT_SECONDS:-$d_lat}
conns=${BENCH_CONNS:-32}
do_post=${BENCH_POST:-1}
do_rss=${BENCH_RSS:-0}
rss_total=${BENCH_RSS_TOTAL:-$d_rss_total}
rss_step=${BENCH_RSS_STEP:-$d_rss_step}
do_cg=${BENCH_CALLGRIND:-1}
cg_n=${BENCH_CALLGRIND_N:-$d_cg}
do_micro=${BENCH_MICRO:-1}
micro_secs=${BENCH_MICRO_SECONDS:-$d_micro}
pin=${BENCH_PIN:-0}

for v in secs rounds warm lat_secs conns rss_total rss_step cg_n; do
    [[ ${!v} =~ ^[0-9]+$ ]] && ((${!v} > 0)) || die "$v=${!v}: expected a positive integer"
done

# ------------------------------------------------------------ dependencies

need_debs() {
    apt_install "$@" || die "apt-get could not install $*"
}

need_debs wrk gnuplot-nox libnginx-mod-http-js valgrind \
          nginx libssl-dev libjansson-dev gcc libc6-dev curl
command -v node >/dev/null && command -v npm >/dev/null || need_debs nodejs npm

lock=$bench/node/package-lock.json
stamp=$bench/node/node_modules/.bench-lock
if [ ! -f "$stamp" ] || ! cmp -s "$lock" "$stamp"; then
    log "npm ci in bench/node (livekit-server-sdk, pinned)"
    (cd "$bench/node" && npm ci --no-audit --no-fund --loglevel=error >&2) \
        || die "npm ci in bench/node failed"
    cp "$lock" "$stamp"
fi

[ -x "$nginx" ] || die "nginx binary $nginx not found (set NGINX)"
[ -f "$module" ] || die "module $module not found: run \`make module\` first"
[ -f "$njs_module" ] || die "$njs_module missing: install libnginx-mod-http-js"

# ------------------------------------------------------------ processes

pids=()        # everything this script started, killed on exit
wpids=()       # nginx workers: killed too should their master not stop

cleanup() {
    local p i
    trap - EXIT INT TERM
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for i in $(seq 50); do
        local alive=0
        for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
        ((alive)) || break
        sleep 0.1
    done
    for p in "${pids[@]}" "${wpids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
}
set_traps() {
    trap cleanup EXIT
    trap 'log "interrupted"; exit 130' INT
    trap 'log "terminated"; exit 143' TERM
}
set_traps

server_cpu=() client_cpu=()
if [ "$pin" = 1 ]; then
    server_cpu=(taskset -c 1) client_cpu=(taskset -c 0)
fi

# wait_up NAME PID PORT LOG: until the port answers HTTP
wait_up() {
    local i
    for i in $(seq 150); do
        kill -0 "$2" 2>/dev/null || { tail -n 20 "$4" >&2; die "server $1 exited at start (log: $4)"; }
        curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$3/" && return 0
        sleep 0.1
    done
    tail -n 20 "$4" >&2
    die "server $1 does not answer on 127.0.0.1:$3 after 15 s (log: $4)"
}

# nginx_conf NAME PORT DAEMON MASTER LOAD HTTP_EXTRA LOCATIONS -> prefix dir
nginx_conf() {
    local name=$1 port=$2 prefix=$work/$1
    mkdir -p "$prefix"
    HTTP_EXTRA=$6 LOCATIONS=$7 LOAD=$5 PREFIX=$prefix PORT=$port \
    DAEMON=$3 MASTER=$4 perl -pe '
        s/\@(PREFIX|PORT|DAEMON|MASTER|LOAD|HTTP_EXTRA|LOCATIONS)\@/$ENV{$1}/g
    ' "$bench/conf/nginx.conf.in" >"$prefix/nginx.conf"
    "$nginx" -p "$prefix" -c "$prefix/nginx.conf" -t -q 2>"$prefix/conf-test.log" || {
        cat "$prefix/conf-test.log" >&2
        die "nginx -t failed for server $name ($prefix/nginx.conf)"
    }
}

declare -A port master worker

# start_nginx NAME: configured by nginx_conf; master in the foreground
start_nginx() {
    local name=$1 prefix=$work/$1 i w=
    "${server_cpu[@]}" "$nginx" -p "$prefix" -c "$prefix/nginx.conf" \
        >"$prefix/stdout.log" 2>&1 &
    master[$name]=$!
    pids+=($!)
    wait_up "$name" "${master[$name]}" "${port[$name]}" "$prefix/error.log"
    for i in $(seq 50); do
        w=$(pgrep -P "${master[$name]}" || true)
        [ -n "$w" ] && break
        sleep 0.1
    done
    [ -n "$w" ] && [[ $w != *$'\n'* ]] || die "server $name: expected one worker, found '${w//$'\n'/ }'"
    worker[$name]=$w
    wpids+=($w)
}

start_node() {
    local name=$1 logf=$work/$1.log
    "${server_cpu[@]}" node "$bench/node/server.mjs" "${port[$name]}" "$work/keys.yaml" "$lk_url" \
        >"$logf" 2>&1 &
    master[$name]=$!
    worker[$name]=$!
    pids+=($!)
    wait_up "$name" "$!" "${port[$name]}" "$logf"
}

# ------------------------------------------------------------ measurements

cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
# all CPUs: busy and total ticks (to see how much else ran during a run)
sys_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }
sched_ns() { cat /proc/"$1"/task/*/schedstat | awk '{ s += $1 } END { printf "%.0f", s }'; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
hz=$(getconf CLK_TCK)

declare -A url
json=$work/results.jsonl

# wrk_run OUT CONNS SECONDS SCRIPT URL: wrk in the background (so a signal
# to this script is handled at once), its output in OUT
wrk_run() {
    local out=$1 c=$2 s=$3 script=$4 u=$5 wp
    "${client_cpu[@]}" wrk -t1 -c"$c" -d"${s}s" --latency --timeout 5s -s "$script" "$u" \
        >"$out" 2>&1 &
    wp=$!
    pids+=($wp)
    wait "$wp" || { cat "$out" >&2; die "wrk failed: $u"; }
    grep -q '^RESULT ' "$out" || { cat "$out" >&2; die "wrk printed no result: $u"; }
}

# measure PHASE ROUND SERVER KIND(get|post) CONNS SECONDS
measure() {
    local phase=$1 round=$2 srv=$3 kind=$4 c=$5 s=$6
    local pid=${worker[${srv%-post}]} script u out t0 t1 n0 n1 rss kv
    local r_requests r_rps r_p50_us r_p99_us r_mean_us r_max_us r_socket_errors r_status_errors r_bytes r_duration_us
    if [ "$kind" = post ]; then
        script=$bench/wrk/post.lua u=${url[$srv]}
    else
        script=$bench/wrk/result.lua u=${url[$srv]}
    fi
    out=$work/wrk/$phase-$round-$srv.txt
    local b0 a0 b1 a1
    read -r b0 a0 < <(sys_ticks)
    t0=$(cpu_ticks "$pid") n0=$(sched_ns "$pid")
    wrk_run "$out" "$c" "$s" "$script" "$u"
    t1=$(cpu_ticks "$pid") n1=$(sched_ns "$pid")
    read -r b1 a1 < <(sys_ticks)
    rss=$(rss_kb "$pid")
    for kv in $(grep '^RESULT ' "$out" | head -n1 | cut -d' ' -f2-); do
        printf -v "r_${kv%%=*}" '%s' "${kv#*=}"
    done
    ((r_requests > 0)) || die "$srv: no request completed ($out)"
    ((r_status_errors == 0)) || { head -n 20 "$out" >&2; die "$srv: $r_status_errors non-2xx responses during $phase round $round"; }
    ((r_socket_errors == 0)) || log "warning: $srv: $r_socket_errors socket errors during $phase round $round"
    printf '{"phase":"%s","round":%s,"server":"%s","conns":%s,"seconds":%s,"requests":%s,"rps":%s,"p50_us":%s,"p99_us":%s,"mean_us":%s,"max_us":%s,"socket_errors":%s,"cpu_ticks":%s,"hz":%s,"sched_ns":%s,"rss_kb":%s,"bytes":%s,"sys_busy":%s,"sys_total":%s,"nproc":%s}\n' \
        "$phase" "$round" "$srv" "$c" "$s" "$r_requests" "$r_rps" "$r_p50_us" "$r_p99_us" \
        "$r_mean_us" "$r_max_us" "$r_socket_errors" "$((t1 - t0))" "$hz" "$((n1 - n0))" "$rss" \
        "$r_bytes" "$((b1 - b0))" "$((a1 - a0))" "$(nproc)" >>"$json"
    awk -v srv="$srv" -v ph="$phase" -v rd="$round" -v rps="$r_rps" -v p50="$r_p50_us" \
        -v p99="$r_p99_us" -v dt="$((t1 - t0))" -v hz="$hz" -v ns="$((n1 - n0))" \
        -v n="$r_requests" -v rss="$rss" -v busy="$((b1 - b0))" -v total="$((a1 - a0))" \
        -v np="$(nproc)" 'BEGIN {
        printf "[bench] %-8s %-7s r%-2s %9.0f req/s  p50 %7.1f us  p99 %7.1f us  cpu %6.2f us/req (sched %6.2f)  rss %5.1f MiB  others %.2f cores\n",
            srv, ph, rd, rps, p50, p99, dt * 1e6 / hz / n, ns / 1e3 / n, rss / 1024,
            (busy - dt) / (total / np) }' >&2
}

# ------------------------------------------------------------ setup

rm -rf "$work"
mkdir -p "$work/wrk" "$work/bodies" "$results"
chmod 755 "$bench/.work" "$work"
: >"$json"
started=$(date -u +%Y%m%dT%H%M%SZ)
t_start=$(date +%s)
# what is measured, taken now: the module may be rebuilt while the bench runs
module_sha=$(sha256sum "$module" | cut -c1-16)
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
src_dirty=$(git -C "$repo" status --porcelain -- src config 2>/dev/null | wc -l)

umask 022
printf 'benchkey: %s\n' "$(openssl rand -hex 20)" >"$work/keys.yaml"
secret=$(sed 's/^benchkey: //' "$work/keys.yaml")

for s in A B C D CG; do port[$s]=$(free_port); done

log "servers: A ${port[A]}  B ${port[B]}  C ${port[C]}  D ${port[D]}"

# D: the module
nginx_conf D "${port[D]}" off on "load_module $module;" \
    "    livekit_keys_file  $work/keys.yaml;
    livekit_url        $lk_url;" \
    "        location = /token {
            livekit_token  on;
        }
        location = /bench-status {     # request count for the RSS soak
            stub_status;
        }"
start_nginx D
url[D]="http://127.0.0.1:${port[D]}/token?room=consult-42&participant=Jane"
url[D-post]="http://127.0.0.1:${port[D]}/token"

# D's real responses become A's static bodies
(cd "$bench/node" && node verify.mjs "$work/keys.yaml" "$lk_url" "$work/bodies" \
    "D:GET:${url[D]}" "D:POST:${url[D-post]}") >"$work/verify-d.txt" 2>&1 || {
    cat "$work/verify-d.txt" >&2
    die "server D (the module) does not return a valid token"
}
# as an nginx string literal: the trailing newline becomes \n
static_body() {
    local b
    b=$(cat "$1")
    [[ $b != *[\'\\\$]* && $b != *$'\n'* ]] \
        || die "$1 holds a quote, backslash, \$ or inner newline: cannot serve it statically"
    [ "$(tail -c1 "$1" | od -An -c | tr -d ' ')" = '\n' ] && b+='\n'
    printf '%s' "$b"
}
get_body=$(static_body "$work/bodies/D-GET.body")
post_body=$(static_body "$work/bodies/D-POST.body")

# A: the ceiling, same headers (Content-Type application/json, Cache-Control)
static_loc() {
    printf '        location = %s {
            default_type  application/json;
            add_header    Cache-Control no-store;
            return %s '"'"'%s'"'"';
        }\n' "$1" "$2" "$3"
}
nginx_conf A "${port[A]}" off on "" "" \
    "$(static_loc /token 200 "$get_body")
$(static_loc /token-post 201 "$post_body")"
start_nginx A
url[A]="http://127.0.0.1:${port[A]}/token?room=consult-42&participant=Jane"
url[A-post]="http://127.0.0.1:${port[A]}/token-post"

# B: njs
sed -e "s|@KEY@|benchkey|" -e "s|@SECRET@|$secret|" -e "s|@URL@|$lk_url|" \
    "$bench/conf/token.js.in" >"$work/token.js"
nginx_conf B "${port[B]}" off on "load_module $njs_module;" \
    "    js_import  lk from $work/token.js;" \
    "        location = /token {
            js_content  lk.token;
        }"
start_nginx B
url[B]="http://127.0.0.1:${port[B]}/token?room=consult-42&participant=Jane"

# C: node + livekit-server-sdk
start_node C
url[C]="http://127.0.0.1:${port[C]}/token?room=consult-42&participant=Jane"

log "verifying one response of each server with TokenVerifier"
(cd "$bench/node" && node verify.mjs "$work/keys.yaml" "$lk_url" "$work/bodies" \
    "A:GET:${url[A]}" "A:POST:${url[A-post]}" "B:GET:${url[B]}" "C:GET:${url[C]}" \
    "D:GET:${url[D]}" "D:POST:${url[D-post]}") >"$work/verify.txt" 2>&1 || {
    cat "$work/verify.txt" >&2
    die "a server did not return a valid token: nothing is measured"
}
sed 's/^/[bench]   /' "$work/verify.txt" >&2
cmp -s <(wc -c <"$work/bodies/A-GET.body") <(wc -c <"$work/bodies/D-GET.body") \
    || die "A's static body is not the size of D's"

get_servers=(A B C D)
post_servers=()
[ "$do_post" = 1 ] && post_servers=(A-post D-post)

# ------------------------------------------------------------ timed part

load0=$(cut -d' ' -f1-3 /proc/loadavg)
log "warm-up: ${warm} s per server"
for s in "${get_servers[@]}" "${post_servers[@]}"; do
    k=get; [[ $s == *-post ]] && k=post
    wrk_run "$work/wrk/warmup-$s.txt" "$conns" "$warm" \
        "$bench/wrk/$([ $k = post ] && echo post || echo result).lua" "${url[$s]}"
done

log "rounds: $rounds x (${get_servers[*]} ${post_servers[*]}), ${secs} s each, wrk -t1 -c$conns"
for r in $(seq "$rounds"); do
    for s in "${get_servers[@]}"; do measure load "$r" "$s" get "$conns" "$secs"; done
    for s in "${post_servers[@]}"; do measure load "$r" "$s" post "$conns" "$secs"; done
done

log "latency: $rounds x (${get_servers[*]}), wrk -t1 -c1, ${lat_secs} s each"
for r in $(seq "$rounds"); do
    for s in "${get_servers[@]}"; do measure latency "$r" "$s" get 1 "$lat_secs"; done
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)

for s in A B C D; do
    cat "/proc/${worker[$s]}/smaps" >"$work/smaps-$s.txt"
    printf '{"phase":"final","server":"%s","rss_kb":%s,"hwm_kb":%s}\n' "$s" \
        "$(rss_kb "${worker[$s]}")" \
        "$(awk '/^VmHWM:/ { print $2 }' "/proc/${worker[$s]}/status")" >>"$json"
done

# ------------------------------------------------------------ RSS soak

served() {   # requests D's worker has served (stub_status)
    curl -s --max-time 2 "http://127.0.0.1:${port[D]}/bench-status" | awk 'NR == 3 { print $3 }'
}

if [ "$do_rss" = 1 ]; then
    log "RSS soak: $rss_total requests to D, worker VmRSS every $rss_step"
    base=$(served)
    [[ $base =~ ^[0-9]+$ ]] || die "RSS soak: no stub_status from D"
    printf '{"phase":"rss","requests":0,"rss_kb":%s}\n' "$(rss_kb "${worker[D]}")" >>"$json"
    "${client_cpu[@]}" wrk -t1 -c"$conns" -d3600s --timeout 5s -s "$bench/wrk/result.lua" "${url[D]}" \
        >"$work/wrk/rss.txt" 2>&1 &
    wp=$!
    pids+=($wp)
    next=$rss_step
    t_soak=$(date +%s)
    while ((next <= rss_total)); do
        kill -0 "$wp" 2>/dev/null || { cat "$work/wrk/rss.txt" >&2; die "RSS soak: wrk stopped"; }
        ((  $(date +%s) - t_soak < 1800 )) || die "RSS soak: not done after 30 min"
        n=$(served)
        n=$((n - base))
        if ((n >= next)); then
            rss=$(rss_kb "${worker[D]}")
            printf '{"phase":"rss","requests":%s,"rss_kb":%s}\n' "$n" "$rss" >>"$json"
            log "  $n requests: VmRSS $rss kB"
            while ((next <= n)); do next=$((next + rss_step)); done
        else
            sleep 0.05
        fi
    done
    kill -INT "$wp"
    wait "$wp" || true
    grep -q 'status_errors=0 ' "$work/wrk/rss.txt" \
        || { cat "$work/wrk/rss.txt" >&2; die "RSS soak: non-2xx responses from D"; }
fi

log "stopping the servers"
cleanup
pids=() wpids=()
set_traps

# ------------------------------------------------------------ callgrind

sign_bench=$work/sign_bench
cc -O2 -Wall -o "$sign_bench" "$bench/sign_bench.c" -lcrypto -ljansson \
    || die "cannot build bench/sign_bench.c (needs libssl-dev, libjansson-dev)"

cg_dir=$results/callgrind
if [ "$do_cg" = 1 ]; then
    log "callgrind: nginx single process under valgrind, $cg_n tokens (slope of two runs)"
    rm -rf "$cg_dir"
    mkdir -p "$cg_dir"
    nginx_conf CG "${port[CG]}" off off "load_module $module;" \
        "    livekit_keys_file  $work/keys.yaml;
    livekit_url        $lk_url;" \
        "        location = /token {
            livekit_token  on;
        }
$(static_loc /static 200 "$get_body")
$(static_loc /static-post 201 "$post_body")"
    lo=$((cg_n / 10 > 0 ? cg_n / 10 : 1))
    cg_runs=('A:/static?room=consult-42&participant=Jane:GET'
             'D:/token?room=consult-42&participant=Jane:GET')
    [ "$do_post" = 1 ] && cg_runs+=('A-post:/static-post:POST' 'D-post:/token:POST')
    for spec in "${cg_runs[@]}"; do
        IFS=: read -r name path method <<<"$spec"
        for n in "$lo" "$((lo + cg_n))"; do
            tag=$name-$([ "$n" = "$lo" ] && echo lo || echo hi)
            valgrind --tool=callgrind --callgrind-out-file="$cg_dir/callgrind.$tag.out" \
                "$nginx" -p "$work/CG" -c "$work/CG/nginx.conf" >"$work/CG/valgrind-$tag.log" 2>&1 &
            vp=$!
            pids=($vp)
            wait_up "callgrind-$tag" "$vp" "${port[CG]}" "$work/CG/valgrind-$tag.log"
            # wait_up sent one GET / (404), the same in every run
            node "$bench/node/seqclient.mjs" "${port[CG]}" "$path" "$n" "$method" \
                >"$work/CG/client-$tag.txt" 2>&1 || {
                cat "$work/CG/client-$tag.txt" >&2
                die "callgrind client failed for $tag"
            }
            # valgrind now and then loses a signal that lands as nginx enters
            # epoll_wait: repeat QUIT until nginx is gone
            for i in $(seq 300); do
                kill -QUIT "$vp" 2>/dev/null || break
                sleep 0.2
                kill -0 "$vp" 2>/dev/null || break
            done
            wait "$vp" || die "nginx under valgrind exited with an error ($work/CG/valgrind-$tag.log)"
            pids=()
            callgrind_annotate --inclusive=no --threshold=100 "$cg_dir/callgrind.$tag.out" \
                >"$cg_dir/annotate-self.$tag.txt" 2>/dev/null
            callgrind_annotate --inclusive=yes --threshold=100 "$cg_dir/callgrind.$tag.out" \
                >"$cg_dir/annotate-incl.$tag.txt" 2>/dev/null
            log "  $tag: $n requests, $(awk '/^summary:/ { print $2 }' "$cg_dir/callgrind.$tag.out") instructions"
        done
    done
    printf '{"lo":%s,"n":%s}\n' "$lo" "$cg_n" >"$cg_dir/runs.json"

    # libcrypto's SHA-256 block function is static (no symbol): name its
    # address by profiling sign_bench's plain SHA-256 case
    valgrind --tool=callgrind --callgrind-out-file="$work/sha.out" "$sign_bench" 0.001 g \
        >/dev/null 2>&1 || die "callgrind of sign_bench failed"
    callgrind_annotate --inclusive=no "$work/sha.out" 2>/dev/null \
        | grep -m1 -E '\?\?\?:0x[0-9a-f]+ \[.*libcrypto' \
        | sed -E 's/.*\?\?\?:(0x[0-9a-f]+) \[(.*)\].*/\1 \2 sha256_block_data_order/' \
        >"$cg_dir/names.txt" || true
fi

# ------------------------------------------------------------ micro-benchmark

micro=$work/sign_bench.txt
if [ "$do_micro" = 1 ]; then
    log "sign_bench: ${micro_secs} s per case"
    "${server_cpu[@]}" "$sign_bench" "$micro_secs" >"$micro" || die "sign_bench failed"
    # the HMAC again without SHA-NI, the code valgrind makes libcrypto run
    OPENSSL_ia32cap=":~0x20000000" "${server_cpu[@]}" "$sign_bench" "$micro_secs" "a,f,g,full2,full3" \
        >"$work/sign_bench-nosha.txt" || die "sign_bench without SHA-NI failed"
fi

# ------------------------------------------------------------ report

cat >"$work/meta.json" <<EOF
{"started":"$started","seconds":$secs,"rounds":$rounds,"warmup":$warm,"lat_seconds":$lat_secs,
 "conns":$conns,"quick":$quick,"pin":$pin,"elapsed_s":$(($(date +%s) - t_start)),
 "load_before":"$load0","load_after":"$load1",
 "cpu":"$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)","nproc":$(nproc),
 "kernel":"$(uname -r)",
 "nginx":"$("$nginx" -v 2>&1 | sed 's/.*\///')",
 "njs":"$(dpkg-query -W -f='${Version}' libnginx-mod-http-js)",
 "node":"$(node -v)",
 "sdk":"$(node -p 'require("'"$bench"'/node/node_modules/livekit-server-sdk/package.json").version')",
 "wrk":"$(dpkg-query -W -f='${Version}' wrk)",
 "valgrind":"$(valgrind --version)",
 "commit":"$commit", "src_dirty":"$src_dirty", "module_sha256":"$module_sha"}
EOF

node "$bench/node/report.mjs" "$work" "$results" "$started" || die "report failed"
cp "$json" "$results/$started.jsonl"
if gnuplot "$work/chart.gp" 2>"$work/gnuplot.log"; then
    cp "$work/chart.png" "$results/latest.png"
else
    cat "$work/gnuplot.log" >&2
    die "gnuplot failed"
fi
cat "$results/latest.md"
log "report: $results/$started.md, $results/latest.md, $results/latest.png"
