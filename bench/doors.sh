#!/usr/bin/env bash
# `make bench-frontdoor` (after bench/frontdoor.sh): three doors to one
# livekit-server v1.13.5 on 127.0.0.1, in the same run:
#
#   straight  ws://127.0.0.1:LK, tokens minted by the load generator
#   nginx     nginx.conf.example with [certbot] [stream] [turn443]
#             (worker_processes 1): TLS and SNI on one port, /token minted
#             in-process
#   caddy     Caddy v2.11.9 + caddy-l4 v0.1.2 (scripts/caddy.sh) shaped as
#             LiveKit's self-hosting guide generates it (a layer4 server on
#             the port: SNI turn.* -> TLS -> livekit-server's TURN, SNI meet.*
#             -> TLS -> upstream), the upstream being Caddy's own HTTP server
#             so that /token reaches a token service (bench/node/server.mjs,
#             livekit-server-sdk: the Lambda's code) and the rest
#             livekit-server; the same certificates as nginx
#
# The load generator is signalling only (e2e/client sigload): each
# participant a new visitor, /token on a new TLS connection, then the
# WebSocket on another, until livekit-server's JoinResponse; no peer
# connection, so it and livekit-server leave the door its share of the two
# cores.  Rounds alternate the doors (the order rotates each round).  Per
# run: join p50/p99, /token p50, the door's CPU per join (nginx: its
# worker; Caddy: Caddy and the token service, also apart), its RSS per held
# connection, CPU per connection-second of the hold, and the load
# generator's and livekit-server's CPU.  Then /token alone (wrk, keep-alive)
# through nginx and through Caddy, and a ramp of held connections through
# each door.  Report: bench/results/doors-<stamp>.md and latest-doors.md.
#
#   BENCH_DOORS_N [200]  BENCH_DOORS_ROUNDS [3]  BENCH_DOORS_HOLD [10s]
#   BENCH_DOORS_CONC [8]  BENCH_DOORS_RAMP ["500 1000 2000 3000 4000"]
#   BENCH_DOORS_PORT_BASE [24750] (base .. base+39)
#   BENCH_QUICK=1: 20 participants, 1 round, hold 3s, no ramp, 2 s of wrk:
#   the CI smoke, which asserts only that every door works (every join,
#   every hold, every /token 200), never a timing
set -uo pipefail

bench=$(cd "$(dirname "$0")" && pwd)
run=$bench/.work/doors
# shellcheck source=../e2e/lib.sh
. "$bench/../e2e/lib.sh"
cd "$repo"
results=${BENCH_RESULTS:-$bench/results}
if [ "${BENCH_QUICK:-0}" = 1 ]; then
    n=${BENCH_DOORS_N:-20} rounds=${BENCH_DOORS_ROUNDS:-1} hold=${BENCH_DOORS_HOLD:-3s}
    ramp=${BENCH_DOORS_RAMP-} wrk_s=2
else
    n=${BENCH_DOORS_N:-200} rounds=${BENCH_DOORS_ROUNDS:-3} hold=${BENCH_DOORS_HOLD:-10s}
    ramp=${BENCH_DOORS_RAMP-500 1000 2000 3000 4000} wrk_s=5
fi
# shellcheck source=doors-lib.sh
. "$bench/doors-lib.sh"
conc=${BENCH_DOORS_CONC:-8}
mkdir -p "$results"
doors_up 1 || exit 1
nginx_worker=$(nginx_workers)
echo "# bench/doors: $n participants a run, $rounds rounds, hold $hold; nginx worker $nginx_worker, caddy $caddy_pid (+ token service $node_pid), livekit-server $lk_pid"

# ---- correctness first: every door mints a token livekit-server accepts ----------
smoke=1
for door in "nginx $NGINX_PORT" "caddy $CADDY_PORT"; do
    read -r name port <<<"$door"
    code=$(curl_door "$port" '/token?room=smoke&participant=p')
    if [ "$code" = 200 ]; then echo "ok - $name: GET /token through the door: 200"
    else echo "not ok - $name: GET /token through the door: $code"; smoke=0; fi
done

client=("$client_bin" -ca "$run/ca/ca.pem" -resolve "$domain=127.0.0.1" -concurrency "$conc")
door_url() { # mode: the signalling URL
    case $1 in
        straight) echo "ws://127.0.0.1:$LK" ;;
        nginx) echo "wss://$domain:$NGINX_PORT" ;;
        caddy) echo "wss://$domain:$CADDY_PORT" ;;
    esac
}
door_args() { # mode: token source and the door's processes
    case $1 in
        straight) echo "-keys $run/keys.yaml -cpu-pids $lk_pid" ;;
        nginx) echo "-door https://$domain:$NGINX_PORT -cpu-pids $nginx_worker" ;;
        caddy) echo "-door https://$domain:$CADDY_PORT -cpu-pids $caddy_pid" ;;
    esac
}
# sig_run MODE N HOLD LABEL FILE: one sigload run, its JSON line (with the
# token service's and livekit-server's CPU) appended to FILE
sig_run() {
    local mode=$1 n=$2 hold=$3 label=$4 file=$5 out node0 lk0 line
    out=$run/out-$label-$mode.txt
    node0=$(cpu_of "$node_pid") lk0=$(cpu_of "$lk_pid")
    # shellcheck disable=SC2046
    "${client[@]}" $(door_args "$mode") -n "$n" -hold "$hold" -mode "$mode" \
        sigload "$(door_url "$mode")" >"$out" 2>&1
    line=$(grep -m1 '^{' "$out")
    grep -E '^(not )?ok' "$out"
    [ -n "$line" ] || { echo "not ok - $mode: no result ($(tail -n 2 "$out" | tr '\n' ' '))"; return 1; }
    echo "{\"label\":\"$label\",\"node_cpu_s\":$(awk -v a="$node0" -v b="$(cpu_of "$node_pid")" 'BEGIN { printf "%.3f", b - a }'),\"lk_cpu_s\":$(awk -v a="$lk0" -v b="$(cpu_of "$lk_pid")" 'BEGIN { printf "%.3f", b - a }'),${line#\{}" \
        >>"$file"
    sleep 2   # livekit-server closes the rooms
}

: >"$run/runs.jsonl"
modes=(straight nginx caddy)
for m in "${modes[@]}"; do sig_run "$m" 10 1s warmup "$run/warmup.jsonl" >/dev/null; done
for ((r = 0; r < rounds; r++)); do
    for ((k = 0; k < 3; k++)); do
        sig_run "${modes[(r + k) % 3]}" "$n" "$hold" "round$((r + 1))" "$run/runs.jsonl" || smoke=0
    done
done

# ---- /token alone: wrk through each door, keep-alive, by the public name ---------
# (wrk sends the URL's host as SNI: it runs with a hosts file of its own)
printf '127.0.0.1 localhost %s\n' "$domain" >"$run/hosts"
: >"$run/token.jsonl"
wrk_door() { # name port
    local w0 out reqs bad pids
    if [ "$1" = nginx ]; then pids=("$nginx_worker"); else pids=("$caddy_pid" "$node_pid"); fi
    w0=$(cpu_of "${pids[@]}")
    out=$(unshare -m sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$run/hosts" \
          wrk -t1 -c4 -d"${wrk_s}s" "https://$domain:$2/token?room=consult-42&participant=Jane" 2>&1)
    reqs=$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' <<<"$out")
    bad=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' <<<"$out")
    echo "{\"door\":\"$1\",\"requests\":${reqs:-0},\"non2xx\":${bad:-0},\"secs\":$wrk_s,\"cpu_s\":$(awk -v a="$w0" -v b="$(cpu_of "${pids[@]}")" 'BEGIN { printf "%.3f", b - a }')}" \
        >>"$run/token.jsonl"
}
if ! unshare -m true 2>/dev/null; then
    echo "# /token alone skipped: wrk needs a mount namespace of its own (root) for the public name"
else
    for ((r = 0; r < rounds; r++)); do
        wrk_door nginx "$NGINX_PORT"
        wrk_door caddy "$CADDY_PORT"
    done
fi
if [ ! -s "$run/token.jsonl" ]; then
    :
elif python3 -c 'import json,sys; rs=[json.loads(l) for l in open(sys.argv[1])]; sys.exit(not rs or any(r["requests"] == 0 or r["non2xx"] for r in rs))' "$run/token.jsonl"; then
    echo "ok - /token alone under wrk: every reply 2xx through nginx and through Caddy"
else
    echo "not ok - /token alone under wrk: $(tr '\n' ' ' <"$run/token.jsonl")"; smoke=0
fi

# ---- ramp: held signalling connections through each door -------------------------
: >"$run/ramp.jsonl"
declare -A stopped
for step in $ramp; do
    for m in nginx caddy; do
        [ -n "${stopped[$m]:-}" ] && continue
        sig_run "$m" "$step" 10s "ramp$step" "$run/ramp.jsonl" | sed 's/^\(not \)\?ok - /# ramp: /'
        grep -q "\"label\":\"ramp$step\".*\"mode\":\"$m\".*\"failed\":0,\"dropped\":0," "$run/ramp.jsonl" \
            || stopped[$m]=$step
    done
done
limits=$(grep -cE 'worker_connections are not enough|Too many open files' "$run/logs/error.log" 2>/dev/null)

stamp=$(date -u +%Y%m%dT%H%M%SZ)
python3 bench/doors-report.py "$run" "$(nproc)" "$(uptime | sed 's/.*average: //')" "${limits:-0}" \
    "$("$caddy_bin" version | cut -d' ' -f1)" >"$results/doors-$stamp.md" || smoke=0
cp "$results/doors-$stamp.md" "$results/latest-doors.md"
cat "$results/latest-doors.md"
((smoke)) && ! grep -q '"failed":[1-9]\|"dropped":[1-9]' "$run/runs.jsonl"
