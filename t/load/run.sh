#!/usr/bin/env bash
# Load suite (in `make test`: scripts/test.sh runs it as "reload under load").
#
#   1. reload under load: nginx (master + 2 workers, key file) is reloaded
#      with `nginx -s reload` every second for RELOAD_SECONDS (30) while wrk
#      drives GET and POST /token at full speed (t/load/tokens.lua).  Passes
#      when every reload succeeded, wrk saw no non-2xx response and no socket
#      error, and error.log has no [alert]/[crit]/[emerg].
#      Connections are not kept alive (keepalive_timeout 0): on a reload the
#      old workers close their idle keep-alive connections, and a request a
#      client sends on one at that moment is lost; browsers and HTTP
#      libraries retry it, wrk counts a read error.  That happens to plain
#      nginx without this module just as well (`return 200` in place of
#      livekit_token: ~570 read errors in 1M requests over 10 reloads), so it
#      would hide what this test looks for.  RELOAD_KEEPALIVE_TIMEOUT=75s
#      shows it.
#   2. memory under load: RSS_TOKENS (10^6) tokens through one worker, its
#      VmRSS sampled every RSS_STEP (10^5) requests (stub_status counts
#      them); after the first step (warm-up) the RSS may grow by less than
#      RSS_MAX_GROWTH_KB (1024).  Prints the curve.
#
# Prints one line per check and ends with "N passed, N failed".
# Settings: NGINX_BIN (or TEST_NGINX_BINARY), LIVEKIT_MODULE (or
# TEST_NGINX_LOAD_MODULES), LOAD_PORT (default: a free port), LOAD_DIR
# (default: a fresh directory under build/load), RELOAD_SECONDS,
# RELOAD_KEEPALIVE_TIMEOUT (0), RSS_TOKENS,
# RSS_STEP, RSS_MAX_GROWTH_KB, WRK_THREADS (2), WRK_CONNECTIONS (64).
set -uo pipefail

. "$(dirname "$0")/../../scripts/lib.sh"
nginx=${NGINX_BIN:-${TEST_NGINX_BINARY:-/usr/sbin/nginx}}
module=${LIVEKIT_MODULE:-${TEST_NGINX_LOAD_MODULES:-$repo/build/ngx_http_livekit_token_module.so}}
reload_seconds=${RELOAD_SECONDS:-30}
reload_keepalive=${RELOAD_KEEPALIVE_TIMEOUT:-0}
rss_tokens=${RSS_TOKENS:-1000000}
rss_step=${RSS_STEP:-100000}
rss_max_kb=${RSS_MAX_GROWTH_KB:-1024}
threads=${WRK_THREADS:-2}
conns=${WRK_CONNECTIONS:-64}
lua=$repo/t/load/tokens.lua

# shellcheck source=../../scripts/tap.sh
. "$repo/scripts/tap.sh"
dir=
finish() {
    summary "${dir:+load: files in $dir}" || exit 1
    [ -n "$dir" ] || exit 0
    # a passing run leaves nothing behind (unless LOAD_DIR was given)
    [ -n "${LOAD_DIR:-}" ] || rm -rf "$dir"
    exit 0
}

for tool in wrk curl perl; do
    command -v "$tool" >/dev/null || {
        notok "$tool is not installed (Debian package: $tool)"; finish; }
done
[ -x "$nginx" ] || { notok "no nginx binary at $nginx"; finish; }
[ -f "$module" ] || { notok "no module at $module (make module)"; finish; }

mkdir -p "$repo/build/load"
dir=${LOAD_DIR:-$(mktemp -d "$repo/build/load/run.XXXXXX")}
mkdir -p "$dir/logs"
echo "load: nginx $nginx, module $module, files in $dir"

# --------------------------------------------------------------- plumbing

master=        # the nginx master we started (pid)
wrk_pid=       # the wrk we started
cleanup() {
    [ -n "$wrk_pid" ] && kill "$wrk_pid" 2>/dev/null
    stop_nginx
}
trap cleanup EXIT
trap 'echo "load: interrupted"; exit 130' INT TERM

nginx_cmd() { "$nginx" -e "$dir/logs/error.log" -p "$dir/" -c "$dir/nginx.conf" "$@"; }

stop_nginx() {
    local pid=$master
    [ -n "$pid" ] || return 0
    master=
    kill -QUIT "$pid" 2>/dev/null || return 0
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    echo "load: nginx master $pid did not quit in 10 s: killed" >&2
    kill -KILL "$pid" 2>/dev/null
}

# write_conf PORT WORKERS KEEPALIVE_TIMEOUT
write_conf() {
    local user=
    [ "$(id -u)" = 0 ] && user="user root;"
    cat >"$dir/nginx.conf" <<CONF
# t/load/run.sh
$user
worker_processes $2;
daemon on;
master_process on;
error_log $dir/logs/error.log notice;
pid $dir/logs/nginx.pid;
load_module $module;

events {
    worker_connections 4096;
}

http {
    access_log off;
    keepalive_timeout $3;
    client_body_temp_path $dir/client_body_temp;
    proxy_temp_path $dir/proxy_temp;
    fastcgi_temp_path $dir/fastcgi_temp;
    uwsgi_temp_path $dir/uwsgi_temp;
    scgi_temp_path $dir/scgi_temp;

    livekit_keys_file $dir/keys.yaml;
    livekit_api_key loadkey;
    livekit_url ws://127.0.0.1:7880;

    server {
        listen 127.0.0.1:$1;

        location = /token {
            livekit_token on;
        }

        location = /status {
            stub_status;
        }
    }
}
CONF
}

# start_on_free_port WORKERS KEEPALIVE_TIMEOUT: nginx on LOAD_PORT, or on a
# free port (another one if that was taken in the meantime); the port in
# $port, the master in $master, or an error on stdout
start_on_free_port() {
    local try
    for try in 1 2 3; do
        port=${LOAD_PORT:-$(free_port)} || { echo "no free port"; return 1; }
        start_nginx "$port" "$1" "$2" >"$dir/logs/start.out" 2>&1 && return 0
        stop_nginx
        [ -z "${LOAD_PORT:-}" ] && grep -q 'Address already in use' "$dir/logs/start.out" \
            || break
    done
    uniq "$dir/logs/start.out" | tail -n 3
    return 1
}

# start_nginx PORT WORKERS KEEPALIVE_TIMEOUT: master pid in $master, or an
# error on stdout
start_nginx() {
    write_conf "$1" "$2" "$3"
    local out
    if ! out=$(nginx_cmd -t -q 2>&1); then
        echo "$out"
        return 1
    fi
    : >"$dir/logs/error.log"
    nginx_cmd 2>"$dir/logs/start.err" || { cat "$dir/logs/start.err"; return 1; }
    for _ in $(seq 50); do
        [ -s "$dir/logs/nginx.pid" ] && break
        sleep 0.1
    done
    master=$(cat "$dir/logs/nginx.pid" 2>/dev/null)
    [ -n "$master" ] || { echo "no pid file"; return 1; }
    for _ in $(seq 50); do
        curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$1/status" && return 0
        sleep 0.1
    done
    echo "nginx does not answer on 127.0.0.1:$1"
    return 1
}

workers_of() { xargs <"/proc/$1/task/$1/children" 2>/dev/null; }

requests_so_far() {   # stub_status: "server accepts handled requests"
    curl -fsS --max-time 2 "http://127.0.0.1:$1/status" | awk 'NR == 3 { print $3 }'
}

bad_log_lines() {
    grep -E '\[(alert|crit|emerg)\]' "$dir/logs/error.log" | head -5
}

(umask 077; printf 'loadkey: %s\n' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
    >"$dir/keys.yaml")

# ----------------------------------------------------- 1. reload under load

test_reload() {
    local port
    if ! start_on_free_port 2 "$reload_keepalive" >"$dir/logs/start.msg"; then
        notok "reload: nginx does not start: $(cat "$dir/logs/start.msg")"
        return
    fi
    local check
    check=$(curl -sS -o /dev/null -w '%{http_code}' \
        "http://127.0.0.1:$port/token?room=r&participant=p")
    [ "$check" = 200 ] || { notok "reload: GET /token answers $check, not 200"; return; }

    local wrk_out=$dir/wrk-reload.txt
    wrk -t"$threads" -c"$conns" -d"$((reload_seconds + 1))s" --timeout 5s \
        -s "$lua" "http://127.0.0.1:$port/token" >"$wrk_out" 2>&1 &
    wrk_pid=$!

    local reloads=0 reload_fail=0 i start gens=()
    start=$(date +%s)
    sleep 0.5
    for ((i = 1; i <= reload_seconds; i++)); do
        sleep 1
        if nginx_cmd -s reload 2>>"$dir/logs/reload.err"; then
            reloads=$((reloads + 1))
        else
            reload_fail=$((reload_fail + 1))
        fi
        gens+=("$(workers_of "$master" | wc -w)")
    done
    wait "$wrk_pid"
    local wrk_rc=$?
    wrk_pid=

    # the last reload's old workers finish their requests, then exit
    local left
    for _ in $(seq 50); do
        left=$(workers_of "$master" | wc -w)
        [ "$left" -le 2 ] && break
        sleep 0.1
    done

    local total
    total=$(awk '/requests in/ { print $1 }' "$wrk_out")
    echo "  wrk: $(grep -E 'requests in|Requests/sec' "$wrk_out" | tr -s ' ' | paste -sd ';' -)"
    echo "  reloads: $reloads ok, $reload_fail failed in $(( $(date +%s) - start )) s;" \
         "processes under the master after each reload: ${gens[*]}"

    if ((wrk_rc != 0)) || [ -z "$total" ]; then
        notok "reload: wrk failed (exit $wrk_rc): $(tail -n 5 "$wrk_out")"
    elif grep -q 'Non-2xx or 3xx responses' "$wrk_out"; then
        notok "reload: $(grep 'Non-2xx' "$wrk_out" | tr -s ' ') of $total"
    elif grep -q 'Socket errors' "$wrk_out"; then
        notok "reload: $(grep 'Socket errors' "$wrk_out" | tr -s ' ') in $total requests"
    else
        ok "reload: $total requests, all 2xx, no socket errors, across $reloads reloads"
    fi
    if ((reload_fail || reloads != reload_seconds)); then
        notok "reload: $reload_fail of $reload_seconds reloads failed: $(head -n 3 "$dir/logs/reload.err")"
    else
        ok "reload: $reloads \`nginx -s reload\` in $reload_seconds s, all accepted"
    fi
    check=$(curl -sS --max-time 5 "http://127.0.0.1:$port/token?room=after&participant=reload")
    if [[ $check == '{"token":"eyJ'*'"room":"after","participant":"reload"}' ]]; then
        ok "reload: a token after the reloads"
    else
        notok "reload: GET /token after the reloads answers: $check"
    fi
    local bad
    bad=$(bad_log_lines)
    if [ -n "$bad" ]; then
        notok "reload: error.log has alerts: $bad"
    elif ! kill -0 "$master" 2>/dev/null; then
        notok "reload: the master is gone"
    elif ((left > 2)); then
        notok "reload: $left worker processes 5 s after the last reload (old workers stuck)"
    else
        ok "reload: no [alert]/[crit]/[emerg]; master alive; old workers gone"
    fi
    stop_nginx
}

# -------------------------------------------- 2. RSS of one worker under load

test_rss() {
    local port
    if ! start_on_free_port 1 75s >"$dir/logs/start.msg"; then
        notok "rss: nginx does not start: $(cat "$dir/logs/start.msg")"
        return
    fi
    local worker
    worker=$(workers_of "$master")
    if [ -z "$worker" ] || [ "$(wc -w <<<"$worker")" != 1 ]; then
        notok "rss: expected one worker under master $master, found '$worker'"
        return
    fi

    local wrk_out=$dir/wrk-rss.txt
    # long enough for a slow machine; stopped as soon as the count is reached
    wrk -t"$threads" -c16 -d300s --timeout 5s -s "$lua" \
        "http://127.0.0.1:$port/token" >"$wrk_out" 2>&1 &
    wrk_pid=$!

    local base n next=$rss_step rss samples=() t0
    base=$(requests_so_far "$port")
    samples+=("0 $(awk '/^VmRSS:/ { print $2 }' "/proc/$worker/status")")
    t0=$(date +%s)
    while :; do
        n=$(requests_so_far "$port") || n=
        [ -n "$n" ] || { notok "rss: stub_status stopped answering"; break; }
        n=$((n - base))
        if ((n >= next)); then
            rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$worker/status" 2>/dev/null)
            [ -n "$rss" ] || { notok "rss: worker $worker is gone"; break; }
            samples+=("$n $rss")
            next=$(( (n / rss_step + 1) * rss_step ))
            ((n >= rss_tokens)) && break
        fi
        kill -0 "$wrk_pid" 2>/dev/null || { notok "rss: wrk ended early: $(tail -n 3 "$wrk_out")"; break; }
        if (( $(date +%s) - t0 > 150 )); then
            notok "rss: only $n requests in 150 s"
            break
        fi
        sleep 0.05
    done
    kill -INT "$wrk_pid" 2>/dev/null
    wait "$wrk_pid" 2>/dev/null
    wrk_pid=
    sleep 0.5
    local idle
    idle=$(awk '/^VmRSS:/ { print $2 }' "/proc/$worker/status" 2>/dev/null)

    echo "  wrk: $(grep -E 'requests in|Requests/sec' "$wrk_out" | tr -s ' ' | paste -sd ';' -)"
    echo "  VmRSS of worker $worker (kB), sampled under load:"
    # the first step is the warm-up: growth is counted from its sample
    local s first= first_n= last= max=0
    for s in "${samples[@]}"; do
        set -- $s
        if [ -z "$first" ] && (($1 > 0)); then
            first=$2 first_n=$1
        fi
        last=$2
        if [ -n "$first" ]; then
            printf '    %9d requests  %7d kB  %+6d kB\n' "$1" "$2" $(($2 - first))
            (($2 > max)) && max=$2
        else
            printf '    %9d requests  %7d kB  (before the load)\n' "$1" "$2"
        fi
    done
    [ -n "$idle" ] && printf '    %9s           %7d kB  %+6d kB  (idle, after wrk)\n' \
        "" "$idle" $((idle - ${first:-idle}))

    if grep -q 'Non-2xx or 3xx responses' "$wrk_out"; then
        notok "rss: $(grep 'Non-2xx' "$wrk_out" | tr -s ' ')"
    fi
    if grep -q 'Socket errors' "$wrk_out"; then
        # wrk stopped by SIGINT may count the requests it was waiting for
        echo "  note: $(grep 'Socket errors' "$wrk_out" | tr -s ' ') (wrk interrupted at the end)"
    fi
    local want=$(( rss_tokens / rss_step + 1 ))
    if (( ${#samples[@]} < want )); then
        notok "rss: ${#samples[@]} of $want samples"
    else
        local growth=$((last - first))
        if ((growth < rss_max_kb)); then
            ok "rss: $rss_tokens tokens, worker RSS grew $growth kB after warm-up (< $rss_max_kb kB; max $max kB)"
        else
            notok "rss: worker RSS grew $growth kB from ${first_n} to $rss_tokens requests (limit $rss_max_kb kB)"
        fi
    fi
    local bad
    bad=$(bad_log_lines)
    [ -z "$bad" ] || notok "rss: error.log has alerts: $bad"
    stop_nginx
}

test_reload
test_rss
finish
