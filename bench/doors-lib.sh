# shellcheck shell=bash
# Shared by bench/doors.sh and bench/reloads.sh: one livekit-server v1.13.5
# and two doors to it on 127.0.0.1, the nginx front door (nginx.conf.example
# with [certbot] [stream] [turn443], no limit_req: one load generator
# address) and Caddy v2.11.9 + caddy-l4 v0.1.2 as LiveKit's guide shapes
# it, with the Lambda's token code behind it.  Source it after setting run=
# and sourcing e2e/lib.sh; doors_up starts everything.
#
#   BENCH_DOORS_PORT_BASE [24750]: ports base .. base+39

off=${BENCH_DOORS_PORT_BASE:-24750}
HTTP_PORT=$off NGINX_PORT=$((off + 1)) LK=$((off + 10)) LK_TURN=$((off + 14))
CADDY_PORT=$((off + 20)) CADDY_HTTP=$((off + 21)) NODE_PORT=$((off + 22)) CADDY_ADMIN=$((off + 23))

# doors_up [NGINX_WORKERS]: builds what is missing and starts livekit-server,
# nginx (NGINX_WORKERS workers, default the example's) and Caddy with its
# token service; sets lk_pid, node_pid, caddy_pid, caddy_bin
doors_up() {
    rm -rf "$run"
    mkdir -p "$run/logs"
    ports_free $HTTP_PORT $NGINX_PORT $((off + 2)) $((off + 3)) $LK $((LK + 1)) $((LK + 2)) \
        $LK_TURN $CADDY_PORT $CADDY_HTTP $NODE_PORT $CADDY_ADMIN || return 1
    [ -f "$module" ] || { echo "bench: build the module first (make module)" >&2; return 1; }
    lk_bin=$(scripts/livekit-server.sh build) || return 1
    caddy_bin=$(scripts/caddy.sh build) || return 1
    build_client || return 1
    fd_npm_ci bench/node >"$run/npm.log" 2>&1 || { cat "$run/npm.log" >&2; return 1; }

    fd_ca "$run/ca"
    door_certs
    fd_keys "$run/keys.yaml"
    scripts/livekit-server.sh config "$run/livekit.yaml" KEY_FILE="$run/keys.yaml" \
        PORT="$LK" TCP_PORT=$((LK + 1)) UDP_PORT=$((LK + 2)) LOG_LEVEL=warn \
        TURN_DOMAIN="turn.$domain" TURN_TLS_PORT=$LK_TURN TURN_UDP_PORT=0 \
        TURN_RELAY=$((off + 30))-$((off + 39))
    spawn "$run/logs/livekit.log" "$lk_bin" --config "$run/livekit.yaml"
    lk_pid=$spawned
    wait_http "http://127.0.0.1:$LK/" 30 || { echo "livekit-server did not start" >&2; return 1; }
    nginx_door_up "${1:-}" || return 1
    caddy_door_up
}

# door_certs: (new) certificates for meet.* and turn.*, the files both
# doors read, as a renewal writes them
door_certs() {
    fd_cert "$run/ca" "$run/certs/meet" "$domain"
    fd_cert "$run/ca" "$run/certs/turn" "turn.$domain"
}

# nginx_door_up [WORKERS] [SHUTDOWN_TIMEOUT]: the example rendered (with
# that worker_shutdown_timeout instead of its own) and started; sets
# nginx_master
nginx_door_up() {
    export FD_MODULE=$module FD_DIR=$run FD_KEYS=$run/keys.yaml FD_CERTS=$run/certs \
           FD_DEMO=$repo/build/demo FD_HOST=127.0.0.1 FD_HTTP_PORT=$HTTP_PORT \
           FD_HTTPS_PORT=$NGINX_PORT FD_URL=wss://$domain:$NGINX_PORT FD_LK_PORT=$LK \
           FD_INTERNAL_HTTPS_PORT=$((off + 2)) FD_TURN_TERM_PORT=$((off + 3)) \
           FD_LK_TURN_TLS_PORT=$LK_TURN FD_LK_TCP_PORT=$((LK + 1)) FD_ICETCP_PORT=$((off + 4))
    fd_render "$run/nginx.conf" certbot stream turn443 || return 1
    # no limit_req on /token: it would answer 429 to a load generator's
    # single address beyond the example's 5 r/s (burst 20)
    sed -i '/^\s*limit_req\s/d' "$run/nginx.conf"
    [ -z "${1:-}" ] || sed -i "s/^worker_processes .*;/worker_processes    $1;/" "$run/nginx.conf"
    [ -z "${2:-}" ] || sed -i "s/^worker_shutdown_timeout .*;/worker_shutdown_timeout  $2;/" "$run/nginx.conf"
    [ -z "${2:-}" ] || grep -q "^worker_shutdown_timeout  $2;" "$run/nginx.conf" || return 1
    start_nginx "$run/nginx.conf" || { echo "nginx did not start" >&2; return 1; }
    nginx_master=$(cat "$run/nginx.pid")
}
nginx_door_down() {
    local i p
    p=$(cat "$run/nginx.pid" 2>/dev/null) || return 0
    kill -TERM "$p" 2>/dev/null
    for ((i = 0; i < 100; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    pkill -9 -P "$p" 2>/dev/null
    rm -f "$run/nginx.pid"
}
nginx_workers() { pgrep -P "$nginx_master" | paste -sd ' '; }

# caddy_door_up: the guide's layer4 server, its own HTTP server behind it,
# the token service behind that
caddy_door_up() {
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
        || { echo "the token service did not start" >&2; return 1; }
    local i
    for ((i = 0; i < 50; i++)); do
        [ "$(curl_door "$CADDY_PORT" '/token?room=r&participant=p' 2>/dev/null)" = 200 ] && return 0
        sleep 0.2
    done
    echo "Caddy did not start" >&2
    return 1
}
caddy_reload() {
    "$caddy_bin" reload --force --config "$run/caddy.json" --address "127.0.0.1:$CADDY_ADMIN" \
        >>"$run/logs/caddy-reload.log" 2>&1
}

curl_door() { # port path: the HTTP status through a door, by the public name
    curl -sS --max-time 10 --cacert "$run/ca/ca.pem" --resolve "$domain:$1:127.0.0.1" \
        -o /dev/null -w '%{http_code}' "https://$domain:$1$2"
}
# served_serial PORT: the serial of the certificate a door serves for meet.*
served_serial() {
    openssl s_client -connect "127.0.0.1:$1" -servername "$domain" </dev/null 2>/dev/null \
        | openssl x509 -noout -serial 2>/dev/null
}
rss_of() { # pid...: VmRSS in KB, summed
    local p
    for p in "$@"; do cat "/proc/$p/status" 2>/dev/null; done | awk '/^VmRSS:/ { kb += $2 } END { print kb + 0 }'
}
cpu_of() { # pid...: CPU seconds, every thread (schedstat, as sigload reads them)
    local p
    for p in "$@"; do cat /proc/"$p"/task/*/schedstat 2>/dev/null; done \
        | awk '{ ns += $1 } END { printf "%.3f", ns / 1e9 }'
}

