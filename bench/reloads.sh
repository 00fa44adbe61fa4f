#!/usr/bin/env bash
# `make bench-frontdoor` (after bench/doors.sh): reloads with live calls.
# The two doors of bench/doors-lib.sh in front of one livekit-server; for
# each variant, BENCH_RELOAD_N participants in calls of two (e2e/client
# calls: tokens from the door, an Opus track each way, media straight to
# livekit-server, signalling through the door), then BENCH_RELOAD_COUNT
# reloads BENCH_RELOAD_EVERY seconds apart, the middle one after a
# certificate renewal (new files for meet.* and turn.*, as certbot writes
# them):
#
#   nginx           the example as shipped (worker_shutdown_timeout 2h)
#   nginx-wst-T     the example with worker_shutdown_timeout T instead, for
#                   each T of BENCH_RELOAD_WST
#   caddy           `caddy reload --force` of the same JSON config
#
# Measured per variant: every participant's longest audio gap and its
# reconnections (the SDK's resume: OnReconnecting to OnReconnected), who
# was disconnected for good; every second, the door's processes (nginx: the
# workers, old ones included) and their memory; the serial served after
# the renewal; after the calls end, how long the old workers take to go.
# Report: bench/results/reloads-<stamp>.md and latest-reloads.md.
#
#   BENCH_RELOAD_N [200]  BENCH_RELOAD_COUNT [10]  BENCH_RELOAD_EVERY [5]
#   BENCH_RELOAD_WST ["10s 30s"]
#   BENCH_QUICK=1: 10 participants, 2 reloads 3 s apart, worker_shutdown_timeout
#   2s only: the CI smoke, which asserts that nobody's call ends, everyone
#   still receives audio and the renewed certificate is served; no timing
set -uo pipefail

bench=$(cd "$(dirname "$0")" && pwd)
run=$bench/.work/reloads
# shellcheck source=../e2e/lib.sh
. "$bench/../e2e/lib.sh"
cd "$repo"
# shellcheck source=doors-lib.sh
. "$bench/doors-lib.sh"
results=${BENCH_RESULTS:-$bench/results}
if [ "${BENCH_QUICK:-0}" = 1 ]; then
    n=${BENCH_RELOAD_N:-10} count=${BENCH_RELOAD_COUNT:-2} every=${BENCH_RELOAD_EVERY:-3}
    wsts=${BENCH_RELOAD_WST-2s} lead=3 tail=6
else
    n=${BENCH_RELOAD_N:-200} count=${BENCH_RELOAD_COUNT:-10} every=${BENCH_RELOAD_EVERY:-5}
    wsts=${BENCH_RELOAD_WST-10s 30s} lead=10 tail=15
fi
mkdir -p "$results"
doors_up || exit 1
: >"$run/variants.jsonl"
ok=1

# sample VARIANT FILE: every second, "secs workers rss_kb" of the door
sample() {
    local t0 pids
    t0=$(date +%s.%N)
    while :; do
        if [ "$1" = caddy ]; then pids=$caddy_pid; else pids=$(nginx_workers); fi
        # shellcheck disable=SC2086
        echo "$(awk -v t0="$t0" -v t="$(date +%s.%N)" 'BEGIN { printf "%.1f", t - t0 }') $(wc -w <<<"$pids") $(rss_of $pids)" >>"$2"
        sleep 1
    done
}

# variant NAME RELOAD_CMD PORT
variant() {
    local name=$1 reload=$2 port=$3 out=$run/calls-$1.txt samples=$run/samples-$1.txt
    local duration=$((lead + count * every + tail)) calls_pid sampler i serial0 serial1 line end_workers
    : >"$samples"
    echo "# $name: $n participants in calls through :$port for ${duration}s, $count reloads ${every}s apart"
    "$client_bin" -ca "$run/ca/ca.pem" -resolve "$domain=127.0.0.1" -door "https://$domain:$port" \
        -n "$n" -concurrency 16 -duration "${duration}s" -mode "$name" calls >"$out" 2>&1 &
    calls_pid=$!
    pids+=("$calls_pid")
    for ((i = 0; i < 600; i++)); do grep -q '^READY' "$out" && break; kill -0 "$calls_pid" 2>/dev/null || break; sleep 0.2; done
    grep -q '^READY' "$out" || { echo "not ok - $name: the calls did not start ($(tail -n 3 "$out" | tr '\n' ' '))"; ok=0; return; }
    sample "$name" "$samples" &
    sampler=$!
    sleep "$lead"
    serial0=$(served_serial "$port")
    for ((i = 1; i <= count; i++)); do
        ((i == (count + 1) / 2)) && door_certs
        $reload
        sleep "$every"
    done
    serial1=$(served_serial "$port")
    wait "$calls_pid"
    line=$(grep -m1 '^{' "$out")
    # after the calls: how long until the door is back to its own processes
    local gone=-1 t
    for ((t = 0; t < 30; t++)); do
        if [ "$name" = caddy ] || [ "$(wc -w <<<"$(nginx_workers)")" -le "$workers0" ]; then gone=$t; break; fi
        sleep 1
    done
    kill "$sampler" 2>/dev/null
    wait "$sampler" 2>/dev/null
    [ -n "$line" ] || { echo "not ok - $name: no result ($(tail -n 3 "$out" | tr '\n' ' '))"; ok=0; return; }
    local renewed=false
    [ -n "$serial0" ] && [ -n "$serial1" ] && [ "$serial0" != "$serial1" ] && renewed=true
    echo "{\"variant\":\"$name\",\"reloads\":$count,\"every_s\":$every,\"renewed\":$renewed,\"workers0\":$workers0,\"gone_after_s\":$gone,\"samples\":\"$samples\",${line#\{}" \
        >>"$run/variants.jsonl"
    if python3 -c 'import json,sys; r=json.loads(sys.argv[1]); sys.exit(not (r["failed"] == 0 and r["disconnected"] == 0 and r["receiving"] == r["joined"] == r["n"]))' "$line"; then
        echo "ok - $name: $n participants through $count reloads: none disconnected, all still receiving audio"
    else
        echo "not ok - $name: $line"; ok=0
    fi
    if [ "$renewed" = true ]; then
        echo "ok - $name: the renewed certificate is served after the reload ($serial0 -> $serial1)"
    else
        echo "not ok - $name: the renewed certificate is not served ($serial0 -> $serial1)"; ok=0
    fi
}

nginx_reload() { "$nginx" -e "$run/logs/error.log" -c "$run/nginx.conf" -s reload; }

workers0=$(wc -w <<<"$(nginx_workers)")
variant nginx nginx_reload "$NGINX_PORT"
for wst in $wsts; do
    nginx_door_down
    nginx_door_up "" "$wst" || { echo "not ok - nginx with worker_shutdown_timeout $wst"; ok=0; continue; }
    workers0=$(wc -w <<<"$(nginx_workers)")
    variant "nginx-wst-$wst" nginx_reload "$NGINX_PORT"
done
workers0=1
variant caddy caddy_reload "$CADDY_PORT"

stamp=$(date -u +%Y%m%dT%H%M%SZ)
python3 bench/reloads-report.py "$run/variants.jsonl" "$(nproc)" "$("$caddy_bin" version | cut -d' ' -f1)" \
    >"$results/reloads-$stamp.md" || ok=0
cp "$results/reloads-$stamp.md" "$results/latest-reloads.md"
cat "$results/latest-reloads.md"
((ok))
