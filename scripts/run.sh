#!/usr/bin/env bash
# `make run`: the whole front door on this machine, in one command.
#
#   nginx      nginx.conf.example itself (ports, paths and certificates
#              substituted by scripts/run.conf.in), with the module, on
#              https://localhost:8443 (PORT), http on 8080 (HTTP_PORT)
#              redirecting to it; a self-signed certificate and a key file
#              are generated on first run (build/run/)
#   livekit    livekit-server v1.13.5 in development mode on 127.0.0.1:7880
#              (LK_PORT), ICE/TCP 7881 (LK_TCP_PORT), ICE/UDP 7882
#              (LK_UDP_PORT), same key file; built on first run
#   demo       demo/ built into build/demo, served by nginx at /
#
# Ctrl-C stops everything.  BIND=0.0.0.0 and NODE_IP=<this machine's LAN
# address> let other machines join; the default is this machine only.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
# shellcheck source=e2e-frontdoor.sh
. "$repo/scripts/e2e-frontdoor.sh"

dir=$repo/build/run
port=${PORT:-8443}
http_port=${HTTP_PORT:-8080}
bind=${BIND:-127.0.0.1}
node_ip=${NODE_IP:-127.0.0.1}
lk_port=${LK_PORT:-7880}
lk_tcp=${LK_TCP_PORT:-7881}
lk_udp=${LK_UDP_PORT:-7882}
nginx=${NGINX_BIN:-${NGINX:-/usr/sbin/nginx}}
module=${LIVEKIT_MODULE:-$repo/build/ngx_http_livekit_token_module.so}

mkdir -p "$dir/logs"
[ -f "$module" ] || "$repo/scripts/build-module.sh"
lk_bin=$("$repo/scripts/livekit-server.sh" build)
echo "run: building the demo page (first time, or after changes)"
fd_demo_build >"$dir/demo-build.log" 2>&1 || { tail -n 30 "$dir/demo-build.log" >&2; exit 1; }

fd_keys "$dir/keys.yaml"
fd_selfsigned "$dir/certs/meet" "DNS:meet.dissertation-editor.com"

"$repo/scripts/livekit-server.sh" config "$dir/livekit.yaml" KEY_FILE="$dir/keys.yaml" \
    PORT="$lk_port" BIND="$bind" NODE_IP="$node_ip" TCP_PORT="$lk_tcp" UDP_PORT="$lk_udp" \
    DEV=true

# the token's url follows the address the browser used (localhost,
# 127.0.0.1, a LAN name): wss://$http_host
FD_MODULE=$module FD_DIR=$dir FD_KEYS=$dir/keys.yaml FD_CERTS=$dir/certs \
FD_DEMO=$repo/build/demo FD_HOST=$bind FD_HTTP_PORT=$http_port FD_HTTPS_PORT=$port \
FD_LK_PORT=$lk_port FD_URL='wss://$http_host' \
    fd_render "$dir/nginx.conf"
"$nginx" -e stderr -c "$dir/nginx.conf" -t -q

pids=()
stopping=0
stop() {
    stopping=1
    trap - INT TERM EXIT
    echo
    echo "run: stopping"
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    sleep 1
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap stop INT TERM EXIT

"$lk_bin" --config "$dir/livekit.yaml" >"$dir/logs/livekit.log" 2>&1 &
pids+=($!)
"$nginx" -e stderr -c "$dir/nginx.conf" -g 'daemon off;' &
pids+=($!)

for _ in $(seq 50); do
    curl -fsS -o /dev/null --max-time 1 "http://$node_ip:$lk_port/" 2>/dev/null && break
    sleep 0.2
done

host=localhost
[ "$bind" = 127.0.0.1 ] || host=$(hostname -f 2>/dev/null || echo localhost)
cat <<MSG

  The front door is up (nginx.conf.example + module + livekit-server):

    open   https://$host:$port/?room=demo&name=guest
           in two tabs: each tab joins "demo" and sees the other
           (self-signed certificate: accept the warning once, or trust
           $dir/certs/meet/fullchain.pem)

    token  curl -k 'https://$host:$port/token?room=demo&participant=alice'

  key file   $dir/keys.yaml (API key "devkey")
  logs       $dir/logs/ (nginx access/error, livekit.log)

  Ctrl-C stops everything.

MSG

# wait for the first of them to exit, then stop the other
wait -n "${pids[@]}" || true
((stopping)) || echo "run: nginx or livekit-server exited; see $dir/logs" >&2
