# shellcheck shell=bash
# Shared by e2e/multinode.sh and e2e/recording.sh: TAP-like counting, the
# processes a suite starts (stopped by pid on exit), nginx with a rendered
# nginx.conf.example, Redis, the Go client.  Source it after setting run=
# (the suite's scratch directory); it defines functions and variables only.

# shellcheck source=../scripts/e2e-frontdoor.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/e2e-frontdoor.sh"
# shellcheck source=../scripts/tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/tap.sh"

repo=$fd_repo
domain=meet.dissertation-editor.com
nginx=${NGINX_BIN:-${NGINX:-/usr/sbin/nginx}}
module=${LIVEKIT_MODULE:-$repo/build/ngx_http_livekit_token_module.so}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/ngx-livekit-token
client_bin=$repo/build/e2e/client

started=$tap_started
tap_where="logs: $run/logs"

# ---- processes we start, stopped by pid -------------------------------------
pids=()
cleanup() {
    local p i alive
    [ -f "$run/nginx.pid" ] && kill "$(cat "$run/nginx.pid")" 2>/dev/null
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for ((i = 0; i < 50; i++)); do
        alive=0
        for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
        ((alive)) || break
        sleep 0.1
    done
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# spawn LOG CMD...: CMD in the background, its pid in $spawned and pids
spawn() {
    local log=$1; shift
    "$@" >"$log" 2>&1 &
    spawned=$!
    pids+=("$spawned")
}

port_free() { ! ss -Hltun "sport = :$1" 2>/dev/null | grep -q .; }
ports_free() { # port...
    local busy=() p
    for p in "$@"; do port_free "$p" || busy+=("$p"); done
    ((${#busy[@]} == 0)) && return 0
    notok "ports ${busy[*]} are in use (set E2E_PORT_BASE)"
    return 1
}
wait_http() { # url seconds
    local i
    for ((i = 0; i < $2 * 5; i++)); do
        curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null && return 0
        sleep 0.2
    done
    return 1
}
wait_log() { # file regex seconds
    local i
    for ((i = 0; i < $3 * 5; i++)); do
        grep -qE "$2" "$1" 2>/dev/null && return 0
        sleep 0.2
    done
    return 1
}

# ---- builds ------------------------------------------------------------------
go_env() {
    export GOMODCACHE=${GOMODCACHE:-$cache/go/mod} GOCACHE=${GOCACHE:-$cache/go/build} \
           GOFLAGS="${GOFLAGS:-} -modcacherw -buildvcs=false" GOTOOLCHAIN=${GOTOOLCHAIN:-local}
}

# build_client: e2e/client into build/e2e/client
build_client() {
    ( go_env; cd "$repo/e2e" && go build -o "$client_bin" ./client ) \
        >"$run/client-build.log" 2>&1 && return 0
    tail -n 20 "$run/client-build.log" >&2
    return 1
}

# ---- Redis: no persistence, loopback only ------------------------------------
start_redis() { # port
    if ! command -v redis-server >/dev/null; then
        notok "redis-server is not installed (scripts/egress.sh deps)"
        return 1
    fi
    spawn "$run/logs/redis.log" redis-server --bind 127.0.0.1 --port "$1" \
        --save "" --appendonly no --protected-mode yes --dir "$run"
    redis_pid=$spawned
    local i
    for ((i = 0; i < 50; i++)); do
        redis-cli -p "$1" ping 2>/dev/null | grep -q PONG && return 0
        sleep 0.1
    done
    return 1
}

# ---- livekit-server nodes ------------------------------------------------------
# node_config OUT NAME PORT [VAR=VAL...]: scripts/livekit-server.sh's config
# for one node (PORT, PORT+1 ICE/TCP, PORT+2 ICE/UDP) on Redis $redis_port
node_config() {
    local out=$1 name=$2 port=$3; shift 3
    "$repo/scripts/livekit-server.sh" config "$out" KEY_FILE="$run/keys.yaml" \
        PORT="$port" TCP_PORT=$((port + 1)) UDP_PORT=$((port + 2)) "$@" || return 1
    printf 'redis:\n  address: 127.0.0.1:%s\n' "$redis_port" >>"$out"
}

# start_node NAME CONFIG PORT: a node in the background; its pid in
# node_pid[NAME], its node id (from its log) in node_id[NAME]
declare -A node_pid node_id
start_node() {
    local name=$1 conf=$2 port=$3 log=$run/logs/livekit-$1.log
    spawn "$log" "$lk_bin" --config "$conf"
    node_pid[$name]=$spawned
    wait_http "http://127.0.0.1:$port/" 30 || return 1
    node_id[$name]=$(grep -o 'ND_[A-Za-z0-9]*' "$log" | head -n 1)
    [ -n "${node_id[$name]}" ]
}

# ---- nginx with the rendered example -----------------------------------------
start_nginx() { # conf
    "$nginx" -e "$run/logs/error.log" -c "$1" -t -q 2>"$run/nginx-t.err" || {
        cat "$run/nginx-t.err" >&2; return 1; }
    "$nginx" -e "$run/logs/error.log" -c "$1" || return 1
    local i
    for ((i = 0; i < 50; i++)); do [ -s "$run/nginx.pid" ] && return 0; sleep 0.1; done
    return 1
}

# no_tokens FILE...: no access_token and no JWT in any of them
no_tokens() { ! grep -q -e access_token -e 'eyJ' "$@"; }
