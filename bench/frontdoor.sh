#!/usr/bin/env bash
# `make bench` (after bench/run.sh) or `make bench-frontdoor`: what the front
# door costs a LiveKit call.  One livekit-server v1.13.5 and
# nginx.conf.example (ports, paths, certificates substituted, and
# worker_processes 1 so that one worker holds everyone) on 127.0.0.1.  The
# load generator (e2e/client load, built on server-sdk-go like LiveKit's own
# `lk load-test`) joins BENCH_FD_N participants, half publishers of an Opus
# track, half subscribers, 10 per room, once straight to livekit-server
# (ws://) and once through the front door (wss://, TLS, the /rtc proxy),
# alternating for BENCH_FD_ROUNDS rounds.  Per run: join latency p50/p99,
# the nginx worker's CPU time during the joins and during a hold of
# BENCH_FD_HOLD seconds, after a warm-up of 10 joins each way.  Then a
# bounded ramp through the front door only: BENCH_FD_RAMP participants at
# once, step by step, each step held 5 s while the worker's open file
# descriptors are sampled; it stops at the first step with a failed join,
# or when BENCH_FD_RAMP_BUDGET seconds are spent.  Report: the door/straight
# ratios of the medians, nginx CPU per participant, and the most
# participants the one worker held (the ramp's largest clean step).
#
#   BENCH_FD_N [100]  BENCH_FD_ROUNDS [3]  BENCH_FD_HOLD [10s]
#   BENCH_FD_RAMP ["200 400 800 1000 1200 1600 2100"]  BENCH_FD_RAMP_BUDGET [900]
#   (BENCH_QUICK=1: 20, 1, 3s, no ramp)
#   BENCH_FD_CONCURRENCY [8]  BENCH_FD_PORT_BASE [24700] (base .. base+29)
#   BENCH_RESULTS [bench/results]
set -uo pipefail

bench=$(cd "$(dirname "$0")" && pwd)
run=$bench/.work/frontdoor
# shellcheck source=../e2e/lib.sh
. "$bench/../e2e/lib.sh"
cd "$repo"
results=${BENCH_RESULTS:-$bench/results}
if [ "${BENCH_QUICK:-0}" = 1 ]; then   # the CI smoke run of make bench
    n=${BENCH_FD_N:-20} rounds=${BENCH_FD_ROUNDS:-1} hold=${BENCH_FD_HOLD:-3s}
else
    n=${BENCH_FD_N:-100} rounds=${BENCH_FD_ROUNDS:-3} hold=${BENCH_FD_HOLD:-10s}
fi
conc=${BENCH_FD_CONCURRENCY:-8}
off=${BENCH_FD_PORT_BASE:-24700}
HTTP_PORT=$off HTTPS_PORT=$((off + 1)) LK=$((off + 10))

rm -rf "$run"
mkdir -p "$run/logs" "$results"
ports_free $HTTP_PORT $HTTPS_PORT $LK $((LK + 1)) $((LK + 2)) || exit 1
[ -f "$module" ] || { echo "bench/frontdoor: build the module first (make module)" >&2; exit 1; }
lk_bin=$(scripts/livekit-server.sh build) || exit 1
build_client || exit 1

fd_ca "$run/ca"
fd_cert "$run/ca" "$run/certs/meet" "$domain"
fd_keys "$run/keys.yaml"
scripts/livekit-server.sh config "$run/livekit.yaml" KEY_FILE="$run/keys.yaml" \
    PORT="$LK" TCP_PORT=$((LK + 1)) UDP_PORT=$((LK + 2)) LOG_LEVEL=warn
spawn "$run/logs/livekit.log" "$lk_bin" --config "$run/livekit.yaml"
lk_pid=$spawned
wait_http "http://127.0.0.1:$LK/" 30 || { echo "livekit-server did not start" >&2; exit 1; }

export FD_MODULE=$module FD_DIR=$run FD_KEYS=$run/keys.yaml FD_CERTS=$run/certs \
       FD_DEMO=$repo/build/demo FD_HOST=127.0.0.1 FD_HTTP_PORT=$HTTP_PORT \
       FD_HTTPS_PORT=$HTTPS_PORT FD_URL=wss://$domain:$HTTPS_PORT FD_LK_PORT=$LK \
       FD_LK2_PORT= FD_INTERNAL_HTTPS_PORT=$((off + 2)) FD_TURN_TERM_PORT=$((off + 3)) \
       FD_LK_TURN_TLS_PORT=$((off + 4)) FD_LK_TCP_PORT=$((LK + 1)) FD_ICETCP_PORT=$((off + 5))
fd_render "$run/nginx.conf" certbot || exit 1
sed -i 's/^worker_processes .*;/worker_processes    1;/' "$run/nginx.conf"
start_nginx "$run/nginx.conf" || { echo "nginx did not start" >&2; exit 1; }
worker=$(pgrep -P "$(cat "$run/nginx.pid")" | head -n 1)
wc_conf=$(awk '/^[ \t]*worker_connections[ \t]/ { gsub(";", ""); print $2 }' "$run/nginx.conf")
nofile=$(awk '/^worker_rlimit_nofile/ { gsub(";", ""); print $2 }' "$run/nginx.conf")
echo "# bench/frontdoor: $n participants per run, $rounds rounds, hold $hold, nginx worker $worker"

client=("$client_bin" -ca "$run/ca/ca.pem" -resolve "$domain=127.0.0.1" -keys "$run/keys.yaml"
        -n "$n" -hold "$hold" -concurrency "$conc" -cpu-pids "$worker")
: >"$run/runs.jsonl"
for mode in straight door; do   # warm-up: TLS session cache, first rooms
    url=ws://127.0.0.1:$LK
    [ $mode = door ] && url=wss://$domain:$HTTPS_PORT
    "${client[@]}" -n 10 -hold 1s -mode warmup load "$url" >"$run/out-warmup-$mode.txt" 2>&1
done
for ((r = 1; r <= rounds; r++)); do
    for mode in straight door; do
        url=ws://127.0.0.1:$LK
        [ $mode = door ] && url=wss://$domain:$HTTPS_PORT
        "${client[@]}" -mode "$mode" load "$url" >"$run/out-$r-$mode.txt" 2>&1
        grep '^{' "$run/out-$r-$mode.txt" | sed "s/^{/{\"round\":$r,/" >>"$run/runs.jsonl"
        grep -E '^(not )?ok' "$run/out-$r-$mode.txt"
        sleep 3   # let livekit-server close the rooms
    done
done

# CPU seconds of a whole process, all its threads (utime + stime)
hz=$(getconf CLK_TCK)
cpu_s() { awk -v hz="$hz" '{ sub(/.*\) /, ""); printf "%.3f", ($12 + $13) / hz }' \
              "/proc/$1/stat" 2>/dev/null || echo 0; }

# ---- the join check at the edge: a refused join against a proxied one --------
# wrk, one thread, 4 keep-alive connections (the example's limit_conn per
# identity), for BENCH_FD_EDGE_S seconds
# each, alternated BENCH_FD_EDGE_ROUNDS times: (1) a flood of WebSocket
# upgrades to /rtc with a forged token, which livekit_join_check refuses
# with 401; (2) /rtc/validate with a valid token, which it lets through
# and nginx proxies to livekit-server (the lightest request that crosses
# to it).  Per run: requests, the nginx worker's and livekit-server's CPU.
edge_s=${BENCH_FD_EDGE_S:-5} edge_rounds=${BENCH_FD_EDGE_ROUNDS:-3}
[ "${BENCH_QUICK:-0}" = 1 ] && edge_s=2 edge_rounds=1
IFS=': ' read -r bkey bsecret <"$run/keys.yaml"
exp_at=$(( $(date +%s) + 3600 ))
forged=$(fd_jwt "$bkey" "not-$bsecret" \
    "{\"iss\":\"$bkey\",\"sub\":\"flood\",\"exp\":$exp_at,\"video\":{\"roomJoin\":true,\"room\":\"flood\"}}")
valid=$(fd_jwt "$bkey" "$bsecret" \
    "{\"iss\":\"$bkey\",\"sub\":\"bench\",\"exp\":$exp_at,\"video\":{\"roomJoin\":true,\"room\":\"bench\"}}")
lk_warn0=$(grep -c 'error handling request' "$run/logs/livekit.log")
: >"$run/edge.jsonl"
edge_run() { # label path [wrk args]: one run, a JSON line
    local label=$1 path=$2; shift 2
    local w0 l0 out n bad
    w0=$(cpu_s "$worker") l0=$(cpu_s "$lk_pid")
    out=$(wrk -t1 -c4 -d"${edge_s}s" -H "Host: $domain" "$@" \
          "https://127.0.0.1:$HTTPS_PORT$path" 2>&1)
    n=$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' <<<"$out")
    bad=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' <<<"$out")
    echo "{\"mode\":\"$label\",\"requests\":${n:-0},\"non2xx\":${bad:-0},\"nginx_cpu_s\":$(cpu_s "$worker"),\"nginx_cpu0_s\":$w0,\"lk_cpu_s\":$(cpu_s "$lk_pid"),\"lk_cpu0_s\":$l0,\"secs\":$edge_s}" \
        >>"$run/edge.jsonl"
}
for ((r = 1; r <= edge_rounds; r++)); do
    edge_run refused "/rtc?access_token=$forged&protocol=16&sdk=js" \
        -H 'Upgrade: websocket' -H 'Connection: Upgrade' -H 'Sec-WebSocket-Version: 13' \
        -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=='
    edge_run proxied "/rtc/validate?access_token=$valid"
done
lk_warn=$(( $(grep -c 'error handling request' "$run/logs/livekit.log") - lk_warn0 ))
# the join log names no identity for a token whose signature failed (it
# is the sender's word), and node="-" where no upstream was tried
flood_n=$(grep -c 'result=token_bad_signature status=401 ' "$run/logs/livekit-joins.log")
flood_up=$(grep 'result=token_bad_signature status=401 ' "$run/logs/livekit-joins.log" | grep -vc 'node="-" ')
echo "# edge: $flood_n refused upgrades logged; $flood_up of them with an upstream; livekit-server warnings during the runs: $lk_warn"
edge_ok=1
python3 - "$run/edge.jsonl" >/dev/null <<'PY' || edge_ok=0
import json, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
assert runs and all(r['requests'] > 0 for r in runs)
assert all(r['non2xx'] == r['requests'] for r in runs if r['mode'] == 'refused')
assert all(r['non2xx'] == 0 for r in runs if r['mode'] == 'proxied')
PY
if ((edge_ok)) && [ "$flood_up" = 0 ] && ((flood_n > 0)); then
    echo "ok - edge: every forged upgrade refused by nginx (401), none reached livekit-server; every valid /rtc/validate proxied (200)"
else
    echo "not ok - edge: refused $flood_n, with an upstream $flood_up, wrk results $(tr '\n' ' ' <"$run/edge.jsonl")"
fi

# ---- bounded ramp: the most participants one worker holds -------------------
# loopback only; bounded in count (the steps) and in time (the budget, and
# each step's client killed when it would outlast it)
ramp=${BENCH_FD_RAMP-200 400 800 1000 1200 1600 2100} budget=${BENCH_FD_RAMP_BUDGET:-900}
[ "${BENCH_QUICK:-0}" = 1 ] && ramp=
: >"$run/ramp.jsonl"
fd_idle=$(find "/proc/$worker/fd" -mindepth 1 2>/dev/null | wc -l)
t0=$(date +%s)
for step in $ramp; do
    left=$((budget - ($(date +%s) - t0)))
    if ((left < 30)); then
        echo "# ramp: ${budget}s budget spent, not trying $step"
        break
    fi
    # the worker's open descriptors, highest seen, every 0.2 s
    ( m=0
      while :; do
          c=$(find "/proc/$worker/fd" -mindepth 1 2>/dev/null | wc -l)
          ((c > m)) && { m=$c; echo "$m" >"$run/fdmax-$step"; }
          sleep 0.2
      done ) &
    sampler=$!
    # where the machine's CPU went during the step: nginx's worker and
    # livekit-server (the load generator has the rest)
    w0=$(cpu_s "$worker") l0=$(cpu_s "$lk_pid") s0=$(date +%s.%N)
    timeout "$left" "${client[@]}" -n "$step" -hold 5s -mode ramp load \
        "wss://$domain:$HTTPS_PORT" >"$run/out-ramp-$step.txt" 2>&1
    kill "$sampler" 2>/dev/null
    wait "$sampler" 2>/dev/null
    cpu=$(awk -v w0="$w0" -v w1="$(cpu_s "$worker")" -v l0="$l0" -v l1="$(cpu_s "$lk_pid")" \
          -v s0="$s0" -v s1="$(date +%s.%N)" 'BEGIN {
              t = s1 - s0; printf "\"wall_s\":%.1f,\"nginx_cpu_pct\":%.1f,\"lk_cpu_pct\":%.1f", \
              t, (w1 - w0) * 100 / t, (l1 - l0) * 100 / t }')
    fds="\"fd_max\":$(cat "$run/fdmax-$step" 2>/dev/null || echo 0),\"fd_idle\":$fd_idle,$cpu"
    line=$(grep -m1 '^{' "$run/out-ramp-$step.txt")
    if [ -z "$line" ]; then
        echo "# ramp: $step participants: no result (the client was stopped after ${left}s)"
        echo "{$fds,\"mode\":\"ramp\",\"n\":$step,\"joined\":0,\"failed\":$step,\"timed_out\":$left}" \
            >>"$run/ramp.jsonl"
        break
    fi
    echo "${line/#\{/{$fds,}" >>"$run/ramp.jsonl"
    grep -q '"failed":0,' <<<"$line" || break
    sleep 5   # let livekit-server close the rooms
done
limits=$(grep -cE 'worker_connections are not enough|Too many open files' \
         "$run/logs/error.log" 2>/dev/null)
# the WebSockets nginx passed on: livekit-server's 101, or anything else
rtc101=$(grep -cE '"GET /rtc[^"]* HTTP/1.1" 101 ' "$run/logs/access.log")
rtcother=$(grep -E '"GET /rtc[^"]* HTTP/1.1" ' "$run/logs/access.log" \
           | grep -vE '"GET /rtc[^"]* HTTP/1.1" 101 ' | awk '{ print $9 }' | sort | uniq -c \
           | awk '{ printf "%s%s x%s", sep, $2, $1; sep = ", " }')

stamp=$(date -u +%Y%m%dT%H%M%SZ)
python3 - "$run/runs.jsonl" "$wc_conf" "$nofile" "$hold" "$(nproc)" \
    "$(uptime | sed 's/.*average: //')" "$run/ramp.jsonl" "${limits:-0}" \
    "$budget" "$rtc101" "${rtcother:-none}" >"$results/frontdoor-$stamp.md" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
wc, nofile, hold, ncpu, load = sys.argv[2:7]
ramp = [json.loads(l) for l in open(sys.argv[7]) if l.strip()]
limits, budget = int(sys.argv[8]), sys.argv[9]
rtc101, rtcother = sys.argv[10], sys.argv[11]
med = lambda xs: statistics.median(xs) if xs else float('nan')
by = {m: [r for r in runs if r['mode'] == m] for m in ('straight', 'door')}
print('# Front door cost: LiveKit joins straight vs through nginx\n')
print(f'{ncpu} cores, load average before the report {load}; nginx.conf.example, '
      f'worker_processes 1, worker_connections {wc}, worker_rlimit_nofile {nofile}.\n')
print('| round | path | joined | p50 ms | p99 ms | max ms | nginx CPU joins s | nginx CPU hold s | hold s |')
print('|---|---|---|---|---|---|---|---|---|')
for r in runs:
    print(f"| {r['round']} | {r['mode']} | {r['joined']}/{r['n']} | {r['p50_ms']:.1f} | "
          f"{r['p99_ms']:.1f} | {r['max_ms']:.1f} | {r['cpu_join_s']:.2f} | {r['cpu_hold_s']:.2f} | {r['hold_s']:.1f} |")
s, d = by['straight'], by['door']
p50s, p50d = med([r['p50_ms'] for r in s]), med([r['p50_ms'] for r in d])
p99s, p99d = med([r['p99_ms'] for r in s]), med([r['p99_ms'] for r in d])
print()
print(f'* join latency through the front door / straight: p50 {p50d:.1f} / {p50s:.1f} ms '
      f'= **{p50d / p50s:.2f}x**, p99 {p99d:.1f} / {p99s:.1f} ms = **{p99d / p99s:.2f}x** (medians over rounds)')
for rnd in sorted({r['round'] for r in runs}):
    rs = [r for r in s if r['round'] == rnd]
    rd = [r for r in d if r['round'] == rnd]
    if rs and rd:
        print(f"  * round {rnd}: p50 {rd[0]['p50_ms'] / rs[0]['p50_ms']:.2f}x, "
              f"p99 {rd[0]['p99_ms'] / rs[0]['p99_ms']:.2f}x")
joins = med([r['cpu_join_s'] * 1000 / max(r['joined'], 1) for r in d])
holdp = med([r['cpu_hold_s'] / r['hold_s'] * 100 / max(r['joined'], 1) for r in d])
print(f'* nginx worker CPU (schedstat) per participant: **{joins:.3f} ms** per join (TLS handshake, '
      f'upgrade, proxying the join), **{holdp:.4f} %** of a core per connected participant '
      f'while connected (signalling only: media never crosses nginx)')
bound = min(int(wc), int(nofile)) // 2
clean = [r for r in ramp if r['failed'] == 0]
if ramp:
    print(f'* bounded ramp through the front door (steps '
          f"{', '.join(str(r['n']) for r in ramp)}, budget {budget} s, each held 5 s):")
    for r in ramp:
        fd = r.get('fd_max', 0) - r.get('fd_idle', 0)
        err = '; '.join(sorted(set(r.get('errors') or []))[:3])
        cpu = (f", {r['wall_s']:.0f} s: nginx worker {r['nginx_cpu_pct']:.0f} % of a core, "
               f"livekit-server {r['lk_cpu_pct']:.0f} %" if 'wall_s' in r else '')
        if r.get('timed_out'):
            print(f"  * {r['n']}: not all joined within the budget (client stopped after "
                  f"{r['timed_out']} s); the worker reached +{fd} descriptors, "
                  f"about {fd // 2} participants at once{cpu}")
            continue
        print(f"  * {r['n']}: {r['joined']} joined, {r['failed']} failed"
              + (f", p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms" if r.get('joined') else '')
              + (f', worker descriptors +{fd} at most ({fd / max(r["joined"], 1):.2f} per participant)'
                 if r.get('fd_max') else '')
              + cpu + (f' ({err})' if err else ''))
    print(f'  * nginx error log: {limits} "worker_connections are not enough" / '
          f'"Too many open files" lines; access log, the whole run: {rtc101} /rtc '
          f'WebSockets upgraded by livekit-server (101), other statuses: {rtcother}')
held = max([r['joined'] for r in clean] + [r['joined'] for r in d if r['failed'] == 0] or [0])
first_bad = next((r for r in ramp if r['failed']), None)
why = (f"the ramp's next step ({first_bad['n']}) did not finish within the budget"
       if first_bad and first_bad.get('timed_out')
       else f"the ramp's next step ({first_bad['n']}) had failed joins" if first_bad
       else 'the largest step tried' if ramp else 'the most tried here, no ramp')
print(f'* one worker held **{held}** participants at once with no failed join ({why}); '
      f'the configured bound is min(worker_connections, worker_rlimit_nofile) / 2 '
      f'= {bound} (two connections each: client and upstream)')
fails = sum(r['failed'] for r in runs)
print(f'* failed joins: {fails}')
PY
python3 - "$run/edge.jsonl" "$lk_warn" "$flood_up" >>"$results/frontdoor-$stamp.md" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
med = statistics.median
def us(r): return (r['nginx_cpu_s'] - r['nginx_cpu0_s']) * 1e6 / max(r['requests'], 1)
def lk(r): return (r['lk_cpu_s'] - r['lk_cpu0_s']) * 100 / r['secs']
ref = [r for r in runs if r['mode'] == 'refused']
pro = [r for r in runs if r['mode'] == 'proxied']
print('\n## The join check at the edge\n')
print('wrk -t1 -c4 (keep-alive, so TLS handshakes are not counted), alternated:\n')
print('| run | requests/s | nginx worker CPU per request | livekit-server CPU |')
print('|---|---|---|---|')
for r in runs:
    print(f"| {r['mode']} | {r['requests'] / r['secs']:.0f} | {us(r):.1f} us | {lk(r):.0f} % of a core |")
a, b = med([us(r) for r in ref]), med([us(r) for r in pro])
print(f'\n* a join refused at the edge (forged token, 401 before the upgrade) costs the nginx worker '
      f'**{a:.1f} us**, a request let through and proxied to livekit-server {b:.1f} us: '
      f'**{a / b:.2f}x** (medians)')
print(f"* during the floods of forged upgrades livekit-server used {med([lk(r) for r in ref]):.0f} % of a core "
      f"(against {med([lk(r) for r in pro]):.0f} % while serving the proxied ones), logged "
      f"{sys.argv[2]} request errors in all runs, and the join log shows {sys.argv[3]} refused "
      f"upgrades with an upstream: it never saw them")
PY
cp "$results/frontdoor-$stamp.md" "$results/latest-frontdoor.md"
cat "$results/latest-frontdoor.md"
! grep -q '"failed":[1-9]' "$run/runs.jsonl" && ((edge_ok)) && [ "$flood_up" = 0 ]
