#!/usr/bin/env bash
# LiveKit webhooks through the front door, with the real sender, and the
# key-drift probe (livekit_token_upstream_check) against the same server: a
# livekit-server (v1.13.5, scripts/livekit-server.sh) whose webhook.urls
# point at nginx's livekit_webhook location over TLS (the test CA trusted
# through SSL_CERT_FILE), and the application behind it
# (t/node/webhook-app.mjs) verifying again with livekit-server-sdk's
# WebhookReceiver.  Rooms are made and removed through the front door's
# /twirp with a token the module mints.  Then forged, replayed,
# re-signed and body-modified webhooks are sent straight to the front door:
# each gets its 401 and never reaches the application.  Last, the front
# door's key is rotated (a new secret, nginx -s reload) while livekit-server
# keeps the old one: the status page says "refused" and the error log says
# so once; livekit-server restarted with the new key: "accepted"; stopped:
# "unreachable".
#
#   e2e/webhook.sh                  WEBHOOK_PORT_BASE=24700 (base .. base+9)
#
# Prints "ok - ..." / "not ok - ..." per check, then "N passed, N failed".
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

base=${WEBHOOK_PORT_BASE:-24700}
https_port=$base app_port=$((base + 1)) lk_port=$((base + 2))
lk_tcp=$((base + 3)) lk_udp=$((base + 4))
nginx=${NGINX_BIN:-${NGINX:-/usr/sbin/nginx}}
module=${LIVEKIT_MODULE:-$repo/build/ngx_http_livekit_token_module.so}
run=$repo/build/e2e-webhook
key=APIwebhook secret=webhook-secret-0123456789abcdefghijklmnopq
other=APIother other_secret=other-secret-0123456789abcdefghijklmnopqr

# shellcheck source=../scripts/tap.sh
. "$repo/scripts/tap.sh"

pids=()
cleanup() {
    [ -f "$run/nginx.pid" ] && kill "$(cat "$run/nginx.pid")" 2>/dev/null
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
}
trap cleanup EXIT

lk=$(scripts/livekit-server.sh build) || { notok "livekit-server builds"; exit 1; }

rm -rf "$run"
mkdir -p "$run/logs"
printf '%s: %s\n%s: %s\n' "$key" "$secret" "$other" "$other_secret" >"$run/keys.yaml"
chmod 600 "$run/keys.yaml"    # livekit-server refuses a key file others can read
cp "$run/keys.yaml" "$run/lk-keys.yaml"

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$run/key.pem" \
    -out "$run/cert.pem" 2>/dev/null

cat >"$run/nginx.conf" <<CONF
load_module $module;
daemon on;
pid $run/nginx.pid;
error_log $run/logs/error.log info;
events { worker_connections 256; }
http {
    access_log $run/logs/access.log;
    client_body_temp_path $run/body;
    proxy_temp_path $run/proxy;
    livekit_keys_file $run/keys.yaml;
    livekit_api_key $key;
    livekit_url ws://127.0.0.1:$lk_port;
    livekit_token_upstream_check http://127.0.0.1:$lk_port 1s;

    server {
        listen 127.0.0.1:$https_port ssl;
        ssl_certificate $run/cert.pem;
        ssl_certificate_key $run/key.pem;

        location = /livekit/webhook {
            livekit_webhook on;
            proxy_set_header X-LiveKit-Event \$livekit_webhook_event;
            proxy_pass http://127.0.0.1:$app_port;
        }

        location = /admin-token {
            livekit_token on;
            livekit_token_grants roomCreate roomList roomAdmin;
            livekit_token_ttl 5m;
        }

        location /twirp/ {
            proxy_pass http://127.0.0.1:$lk_port;
        }

        location = /status {
            livekit_token_status;
        }
    }
}
CONF

scripts/livekit-server.sh config "$run/livekit.yaml" KEY_FILE="$run/lk-keys.yaml" \
    PORT="$lk_port" TCP_PORT="$lk_tcp" UDP_PORT="$lk_udp" LOG_LEVEL=warn
cat >>"$run/livekit.yaml" <<YAML
webhook:
  api_key: $key
  urls:
    - https://127.0.0.1:$https_port/livekit/webhook
YAML

node t/node/webhook-app.mjs "$app_port" "$run/received.jsonl" "$key" "$secret" \
    >"$run/logs/app.log" 2>&1 &
pids+=($!)
# listening before livekit-server's first webhook: one that found no
# application (502) would be verified by the door and never arrive
app_up() { (exec 3<>"/dev/tcp/127.0.0.1/$app_port") 2>/dev/null; }
for _ in $(seq 100); do app_up && break; sleep 0.2; done
check "the application listens on :$app_port" app_up
start_lk() {
    SSL_CERT_FILE=$run/cert.pem "$lk" --config "$run/livekit.yaml" \
        >>"$run/logs/livekit.log" 2>&1 &
    lk_pid=$!
    pids+=($lk_pid)
}
start_lk
"$nginx" -p "$run" -c "$run/nginx.conf" 2>"$run/logs/nginx-start.log"
check "nginx starts with livekit_webhook" test -f "$run/nginx.pid"

for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$lk_port/" && break
    sleep 0.2
done

door() { curl -sk --resolve "x:$https_port:127.0.0.1" "https://127.0.0.1:$https_port$1" "${@:2}"; }
twirp() {
    door "/twirp/livekit.RoomService/$1" -H "Authorization: Bearer $admin" \
        -H 'Content-Type: application/json' -d "$2" -o /dev/null -w '%{http_code}'
}
received() { [ -f "$run/received.jsonl" ] && wc -l <"$run/received.jsonl" || echo 0; }

admin=$(door '/admin-token?room=wh-room&participant=admin' \
        | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
check "the module mints an admin token" test -n "$admin"
check "CreateRoom through the front door" test "$(twirp CreateRoom '{"name":"wh-room"}')" = 200
sleep 1
check "DeleteRoom through the front door" test "$(twirp DeleteRoom '{"room":"wh-room"}')" = 200

for _ in $(seq 100); do
    grep -q '"event":"room_finished"' "$run/received.jsonl" 2>/dev/null && break
    sleep 0.2
done

events=$(node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n");
const recs = lines.map((l) => JSON.parse(l));
console.log(recs.map((r) => (r.ok ? r.event : "BAD:" + r.error)).join(" "));
' "$run/received.jsonl" 2>/dev/null)
echo "# the application received: $events"
in_order() { [[ " $events " == *" room_started "*"room_finished "* ]]; }
all_good() { [[ -n "$events" && "$events" != *BAD:* ]]; }
check "livekit-server's room_started and room_finished arrive, in order" in_order
check "every webhook that arrived verifies again with WebhookReceiver" all_good
verified=$(door '/status?format=prometheus' | sed -n 's/^livekit_token_webhooks_verified_total //p')
check "the front door verified exactly what arrived ($verified)" test "$verified" = "$(received)"
check "the application got \$livekit_webhook_event as X-LiveKit-Event" \
    grep -q '"event":"room_started".*"eventHeader":"room_started"' "$run/received.jsonl"

# forged requests, straight to the front door
first_body=$(node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8").split("\n")[0]);process.stdout.write(r.body)' "$run/received.jsonl")
first_auth=$(node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8").split("\n")[0]);process.stdout.write(r.auth)' "$run/received.jsonl")
before=$(received)

post() {  # AUTH BODY -> "status code"
    door /livekit/webhook -o "$run/reply.json" -w '%{http_code} ' \
        -H 'Content-Type: application/webhook+json' ${1:+-H "Authorization: $1"} \
        --data-binary "$2"
    sed -n 's/.*"error":"\([a-z_]*\)".*/\1/p' "$run/reply.json"
}

check "unsigned: 401 webhook_unsigned" test "$(post '' "$first_body")" = "401 webhook_unsigned"
check "a real header with a modified body: 401 webhook_body_mismatch" \
    test "$(post "$first_auth" "${first_body/room_started/room_finished}")" = "401 webhook_body_mismatch"
forged=$(node t/node/webhook-forge.mjs "$key" wrong-secret-0123456789abcdefghijklmnop 60 <<<"$first_body")
check "re-signed with a wrong secret: 401 webhook_bad_signature" \
    test "$(post "$forged" "$first_body"$'\n')" = "401 webhook_bad_signature"
forged=$(printf '%s' "$first_body" | node t/node/webhook-forge.mjs "$other" "$other_secret" 60)
check "signed with a key the location holds (APIother): passed on" \
    test "$(post "$forged" "$first_body")" = "200 "
forged=$(printf '%s' "$first_body" | node t/node/webhook-forge.mjs APIstranger stranger-secret-0123456789abcdefghij 60)
check "signed with a stranger's key: 401 webhook_unknown_key" \
    test "$(post "$forged" "$first_body")" = "401 webhook_unknown_key"
forged=$(printf '%s' "$first_body" | node t/node/webhook-forge.mjs "$key" "$secret" -120)
check "replayed after expiry: 401 webhook_expired" \
    test "$(post "$forged" "$first_body")" = "401 webhook_expired"
check "no refused webhook reached the application" test "$(received)" = $((before + 1))

# key drift
upstream() { door /status | sed -n 's/.*"upstream":{"state":"\([a-z]*\)".*/\1/p'; }
wait_upstream() {  # STATE
    local _
    for _ in $(seq 50); do
        [ "$(upstream)" = "$1" ] && return 0
        sleep 0.2
    done
    return 1
}

wait_for() {  # CMD: true within 10 s
    local _
    for _ in $(seq 50); do
        "$@" && return 0
        sleep 0.2
    done
    return 1
}

check "the probe finds livekit-server accepting the key" wait_upstream accepted
printf '%s: %s\n%s: %s\n' "$key" rotated-secret-0123456789abcdefghijklmnop \
    "$other" "$other_secret" >"$run/keys.yaml"
"$nginx" -p "$run" -c "$run/nginx.conf" -s reload
check "after a rotation livekit-server does not know: refused" wait_upstream refused
sleep 2
check "the refusal is logged once, at error, naming the key" \
    test "$(grep -c "refuses key \"$key\"" "$run/logs/error.log")" = 1
check "no secret in the error log" \
    bash -c '! grep -q -e "$1" -e "$2" "$0"' "$run/logs/error.log" "$secret" rotated-secret
kill "$lk_pid"; wait "$lk_pid" 2>/dev/null
check "livekit-server stopped: unreachable" wait_upstream unreachable
cp "$run/keys.yaml" "$run/lk-keys.yaml"
start_lk
check "livekit-server restarted with the new key: accepted" wait_upstream accepted

# A reload nginx refuses leaves the running configuration in place, its
# probe too: the refused configuration got as far as its http {} block (its
# probe set up, then thrown away with it), and a worker started after it
# (here after a crash) must still probe with the running one's.
master=$(cat "$run/nginx.pid")
cp "$run/nginx.conf" "$run/nginx.conf.good"
printf 'livekit_no_such_directive on;\n' >>"$run/nginx.conf"
kill -HUP "$master"
refused() { grep -q 'unknown directive "livekit_no_such_directive"' "$run/logs/error.log"; }
check "a broken configuration's reload is refused" wait_for refused
mv "$run/nginx.conf.good" "$run/nginx.conf"
worker=$(pgrep -P "$master")
kill -9 $worker
respawned() { local w; w=$(pgrep -P "$master") && [ -n "$w" ] && [ "$w" != "$worker" ]; }
check "the master starts a new worker after one was killed" wait_for respawned
kill "$lk_pid"; wait "$lk_pid" 2>/dev/null
check "the new worker probes with the running configuration: unreachable" \
    wait_upstream unreachable
start_lk
check "and accepted again" wait_upstream accepted
check "no worker died but the one killed" \
    test "$(grep -c 'exited on signal' "$run/logs/error.log")" = 1

summary "logs: $run"
