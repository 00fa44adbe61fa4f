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
#   BENCH_DOORS_CONC [8]  BENCH_DOORS_RAMP ["500 1000 2000"]
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
    ramp=${BENCH_DOORS_RAMP-500 1000 2000} wrk_s=5
fi
conc=${BENCH_DOORS_CONC:-8}
off=${BENCH_DOORS_PORT_BASE:-24750}
HTTP_PORT=$off NGINX_PORT=$((off + 1)) LK=$((off + 10)) LK_TURN=$((off + 14))
CADDY_PORT=$((off + 20)) CADDY_HTTP=$((off + 21)) NODE_PORT=$((off + 22)) CADDY_ADMIN=$((off + 23))

rm -rf "$run"
mkdir -p "$run/logs" "$results"
ports_free $HTTP_PORT $NGINX_PORT $((off + 2)) $((off + 3)) $LK $((LK + 1)) $((LK + 2)) \
    $LK_TURN $CADDY_PORT $CADDY_HTTP $NODE_PORT $CADDY_ADMIN || exit 1
[ -f "$module" ] || { echo "bench/doors: build the module first (make module)" >&2; exit 1; }
lk_bin=$(scripts/livekit-server.sh build) || exit 1
caddy_bin=$(scripts/caddy.sh build) || exit 1
build_client || exit 1
fd_npm_ci bench/node >"$run/npm.log" 2>&1 || { cat "$run/npm.log" >&2; exit 1; }

fd_ca "$run/ca"
fd_cert "$run/ca" "$run/certs/meet" "$domain"
fd_cert "$run/ca" "$run/certs/turn" "turn.$domain"
fd_keys "$run/keys.yaml"
scripts/livekit-server.sh config "$run/livekit.yaml" KEY_FILE="$run/keys.yaml" \
    PORT="$LK" TCP_PORT=$((LK + 1)) UDP_PORT=$((LK + 2)) LOG_LEVEL=warn \
    TURN_DOMAIN="turn.$domain" TURN_TLS_PORT=$LK_TURN TURN_UDP_PORT=0 \
    TURN_RELAY=$((off + 30))-$((off + 39))
spawn "$run/logs/livekit.log" "$lk_bin" --config "$run/livekit.yaml"
lk_pid=$spawned
wait_http "http://127.0.0.1:$LK/" 30 || { echo "livekit-server did not start" >&2; exit 1; }

# ---- nginx: the example, one worker ---------------------------------------------
export FD_MODULE=$module FD_DIR=$run FD_KEYS=$run/keys.yaml FD_CERTS=$run/certs \
       FD_DEMO=$repo/build/demo FD_HOST=127.0.0.1 FD_HTTP_PORT=$HTTP_PORT \
       FD_HTTPS_PORT=$NGINX_PORT FD_URL=wss://$domain:$NGINX_PORT FD_LK_PORT=$LK \
       FD_INTERNAL_HTTPS_PORT=$((off + 2)) FD_TURN_TERM_PORT=$((off + 3)) \
       FD_LK_TURN_TLS_PORT=$LK_TURN FD_LK_TCP_PORT=$((LK + 1)) FD_ICETCP_PORT=$((off + 4))
fd_render "$run/nginx.conf" certbot stream turn443 || exit 1
# one worker; and no limit_req on /token, which would answer 429 to a load
# generator's single address beyond the example's 5 r/s (burst 20)
sed -i -e 's/^worker_processes .*;/worker_processes    1;/' -e '/^\s*limit_req\s/d' "$run/nginx.conf"
start_nginx "$run/nginx.conf" || { echo "nginx did not start" >&2; exit 1; }
nginx_worker=$(pgrep -P "$(cat "$run/nginx.pid")" | head -n 1)

# ---- Caddy: the guide's layer4 server, its own HTTP server behind it ---------------
sed -e "s|@CERTS@|$run/certs|g" -e "s|@DOMAIN@|$domain|g" -e "s|@PORT@|$CADDY_PORT|g" \
    -e "s|@HTTP@|$CADDY_HTTP|g" -e "s|@NODE@|$NODE_PORT|g" -e "s|@LK@|$LK|g" \
    -e "s|@LK_TURN@|$LK_TURN|g" -e "s|@ADMIN@|$CADDY_ADMIN|g" \
    bench/caddy/caddy.json.in >"$run/caddy.json"
spawn "$run/logs/node.log" node bench/node/server.mjs "$NODE_PORT" "$run/keys.yaml" \
    "wss://$domain:$CADDY_PORT"
node_pid=$spawned
spawn "$run/logs/caddy.log" env HOME="$run" XDG_DATA_HOME="$run/caddy-data" \
    XDG_CONFIG_HOME="$run/caddy-config" "$caddy_bin" run --config "$run/caddy.json"
caddy_pid=$spawned
wait_http "http://127.0.0.1:$NODE_PORT/token?room=r&participant=p" 10 \
    || { echo "the token service did not start" >&2; exit 1; }
curl_door() { # port path
    curl -sS --max-time 10 --cacert "$run/ca/ca.pem" --resolve "$domain:$1:127.0.0.1" \
        -o /dev/null -w '%{http_code}' "https://$domain:$1$2"
}
for ((i = 0; i < 50; i++)); do
    [ "$(curl_door "$CADDY_PORT" '/token?room=r&participant=p' 2>/dev/null)" = 200 ] && break
    sleep 0.2
done
echo "# bench/doors: $n participants a run, $rounds rounds, hold $hold; nginx worker $nginx_worker, caddy $caddy_pid (+ token service $node_pid), livekit-server $lk_pid"

cpu_of() { # pid...: CPU seconds, every thread (schedstat, as sigload reads them)
    local p
    for p in "$@"; do cat /proc/"$p"/task/*/schedstat 2>/dev/null; done \
        | awk '{ ns += $1 } END { printf "%.3f", ns / 1e9 }'
}

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
