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
# RECORD=1: every room recorded, as README "Recording" describes: the
# example's [record] line on (livekit_token_room_config, auto track
# egress), Redis on 127.0.0.1:6390 (REDIS_PORT), LiveKit Egress (built
# once, scripts/egress.sh) and an S3 bucket "consultations" on moto_server
# at http://127.0.0.1:9000 (S3_PORT) standing in for the real one.
#
# Ctrl-C stops everything.  BIND=0.0.0.0 and NODE_IP=<this machine's LAN
# address> let other machines join; the default is this machine only.
#
# The certificate: the example's #[certbot] layout with a self-signed
# certificate (build/run/certs/), or with ACME=1 the example's default,
# nginx's ACME module, which orders it from a local Let's Encrypt test CA,
# pebble (127.0.0.1:14000, PEBBLE_PORT; management API on the next port),
# with real HTTP-01 validation on HTTP_PORT; a DNS stub (DNS_PORT, 8053)
# points the names at this machine.  The certificate is for
# meet.dissertation-editor.com, lives 10 minutes (ACME_LIFETIME) and renews
# itself without a reload, when pebble's renewal information says.
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
record=${RECORD:-0}
redis_port=${REDIS_PORT:-6390}
s3_port=${S3_PORT:-9000}
bucket=consultations
nginx=${NGINX_BIN:-${NGINX:-/usr/sbin/nginx}}
module=${LIVEKIT_MODULE:-$repo/build/ngx_http_livekit_token_module.so}

mkdir -p "$dir/logs"
[ -f "$module" ] || "$repo/scripts/build-module.sh"
lk_bin=$("$repo/scripts/livekit-server.sh" build)
if [ "$record" = 1 ]; then
    egress_bin=$("$repo/scripts/egress.sh" build)
    "$repo/scripts/ssm-deps.sh"       # moto_server, in build/aws-venv
fi
echo "run: building the demo page (first time, or after changes)"
fd_demo_build >"$dir/demo-build.log" 2>&1 || { tail -n 30 "$dir/demo-build.log" >&2; exit 1; }

fd_keys "$dir/keys.yaml"
fd_selfsigned "$dir/certs/meet" "DNS:meet.dissertation-editor.com"

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

tags=(certbot)
if [ "${ACME:-0}" = 1 ]; then
    . "$repo/scripts/acme-run.sh"
    acme_start            # sets FD_ACME_* FD_DNS_PORT, adds to pids
    tags=()
fi

"$repo/scripts/livekit-server.sh" config "$dir/livekit.yaml" KEY_FILE="$dir/keys.yaml" \
    PORT="$lk_port" BIND="$bind" NODE_IP="$node_ip" TCP_PORT="$lk_tcp" UDP_PORT="$lk_udp" \
    DEV=true
if [ "$record" = 1 ]; then
    printf 'redis:\n  address: 127.0.0.1:%s\n' "$redis_port" >>"$dir/livekit.yaml"
    # moto takes any credentials; real S3 gets none here (the instance role)
    # or the Egress service's own, never the token's
    "$repo/scripts/egress.sh" config "$dir/egress.yaml" KEY_FILE="$dir/keys.yaml" \
        WS_URL="ws://127.0.0.1:$lk_port" REDIS="127.0.0.1:$redis_port" \
        S3_ENDPOINT="http://127.0.0.1:$s3_port" S3_BUCKET=$bucket \
        S3_ACCESS_KEY=local S3_SECRET="$(openssl rand -hex 20)"
    tags+=(record)
fi

# the token's url follows the address the browser used (localhost,
# 127.0.0.1, a LAN name): wss://$http_host
FD_MODULE=$module FD_DIR=$dir FD_KEYS=$dir/keys.yaml FD_CERTS=$dir/certs \
FD_DEMO=$repo/build/demo FD_HOST=$bind FD_HTTP_PORT=$http_port FD_HTTPS_PORT=$port \
FD_LK_PORT=$lk_port FD_URL='wss://$http_host' \
    fd_render "$dir/nginx.conf" "${tags[@]}"
"$nginx" -e stderr -c "$dir/nginx.conf" -t -q

if [ "$record" = 1 ]; then
    redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no \
        >"$dir/logs/redis.log" 2>&1 &
    pids+=($!)
    "$repo/build/aws-venv/bin/moto_server" -H 127.0.0.1 -p "$s3_port" \
        >"$dir/logs/moto.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 50); do
        curl -fsS -o /dev/null -X PUT "http://127.0.0.1:$s3_port/$bucket" 2>/dev/null && break
        sleep 0.2
    done
    PATH="$(dirname "$egress_bin"):$PATH" EGRESS_CONFIG_FILE="$dir/egress.yaml" \
        "$egress_bin" >"$dir/logs/egress.log" 2>&1 &
    pids+=($!)
fi
"$lk_bin" --config "$dir/livekit.yaml" >"$dir/logs/livekit.log" 2>&1 &
pids+=($!)
"$nginx" -e stderr -c "$dir/nginx.conf" -g 'daemon off;' &
pids+=($!)

for _ in $(seq 50); do
    curl -fsS -o /dev/null --max-time 1 "http://$node_ip:$lk_port/" 2>/dev/null && break
    sleep 0.2
done

host=localhost
cert_hint="(self-signed certificate: accept the warning once, or trust
           $dir/certs/meet/fullchain.pem)"
if [ "${ACME:-0}" = 1 ]; then
    cert_hint="(the certificate is pebble's, for meet.dissertation-editor.com:
           see below)"
fi
[ "$bind" = 127.0.0.1 ] || host=$(hostname -f 2>/dev/null || echo localhost)
cat <<MSG

  The front door is up (nginx.conf.example + module + livekit-server):

    open   https://$host:$port/?room=demo&name=guest
           in two tabs: each tab joins "demo" and sees the other
           $cert_hint

    token  curl -k 'https://$host:$port/token?room=demo&participant=alice'

  key file   $dir/keys.yaml (API key "devkey")
  logs       $dir/logs/ (nginx access/error, livekit.log)

  Ctrl-C stops everything.

MSG
if [ "${ACME:-0}" = 1 ]; then
    acme_show
fi
if [ "$record" = 1 ]; then
    cat <<MSG
  Recording (RECORD=1): every track of every room, Opus to .ogg and VP8
  to .webm, with a .json manifest each, uploaded by Egress when the track
  ends to the S3 bucket "$bucket" on moto_server (http://127.0.0.1:$s3_port):

    list   curl -s 'http://127.0.0.1:$s3_port/$bucket?list-type=2' | grep -o '<Key>[^<]*'
    fetch  curl -s -o x.ogg 'http://127.0.0.1:$s3_port/$bucket/<key>'

  Egress: $dir/egress.yaml, log $dir/logs/egress.log

MSG
fi

# wait for the first of them to exit, then stop the other
wait -n "${pids[@]}" || true
((stopping)) || echo "run: nginx or livekit-server exited; see $dir/logs" >&2
