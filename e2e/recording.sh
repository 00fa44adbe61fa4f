#!/usr/bin/env bash
# Recording by configuration: nginx.conf.example with its [record] line
# switched on (livekit_token_room_config asks for auto track egress), a
# livekit-server v1.13.5 node and LiveKit Egress v1.14.0 on one Redis, and
# an S3 bucket on moto_server; all on 127.0.0.1.  Through the front door
# only:
#
#   - a token from /token carries the configured roomConfig (auto track
#     egress, no storage credentials);
#   - a client cannot turn recording off or point it elsewhere (403);
#   - two participants publish VP8 and Opus for a short consultation; the
#     bucket then holds one Opus/OGG file and one VP8/WebM file per
#     participant, each with Egress's JSON manifest, whose codec and
#     duration ffprobe confirms;
#   - livekit-server's webhooks (webhook.urls: the example's [webhook]
#     location, over TLS) reach the application behind the front door
#     (t/node/webhook-app.mjs): egress_started, egress_updated and
#     egress_ended of every track egress, verified by livekit_webhook and
#     again by livekit-server-sdk's WebhookReceiver, each egress_ended
#     naming a file that is in the bucket; the status page counts them;
#   - no log line holds a token or the bucket's secret.
#
#   E2E_PORT_BASE=24400   ports used: base+150 .. base+199
#   E2E_REC_SECONDS=12    how long the participants publish
#
# Egress is built once into ~/.cache/ngx-livekit-token/egress/VERSION
# (scripts/egress.sh, 3-6 minutes).  It writes scratch files under
# /home/egress/tmp (fixed in Egress v1.14.0).
set -uo pipefail

run=$(cd "$(dirname "$0")/.." && pwd)/build/e2e/recording
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$repo"

off=$(( ${E2E_PORT_BASE:-24400} + 150 ))
HTTP_PORT=$off HTTPS_PORT=$((off + 1)) LK=$((off + 10))
redis_port=$((off + 30)) moto_port=$((off + 31)) egress_health=$((off + 32))
egress_template=$((off + 33)) app_port=$((off + 34))
seconds=${E2E_REC_SECONDS:-12}
bucket=consultations

echo "# recording: front door on 127.0.0.1:$HTTPS_PORT, node :$LK, Redis :$redis_port, S3 (moto) :$moto_port"
rm -rf "$run"
mkdir -p "$run/logs" "$run/bucket"
ports_free $HTTP_PORT $HTTPS_PORT $LK $((LK + 1)) $((LK + 2)) $redis_port $moto_port \
    $egress_health $egress_template $app_port || { summary; exit 1; }

# ---- builds --------------------------------------------------------------------
[ -f "$module" ] || { notok "module $module is not built (make module)"; summary; exit 1; }
t0=$(date +%s)
egress_bin=$(scripts/egress.sh build 2>"$run/egress-build.err")
rc=$?
if [ $rc = 3 ]; then
    # a clone without ../shared/egress-src: nothing to build Egress from
    cat "$run/egress-build.err" >&2
    skip "recording: no Egress source (EGRESS_TARBALL=.../egress-1.14.0.tar.gz)"
    summary
    exit 77
elif [ $rc != 0 ]; then
    cat "$run/egress-build.err" >&2
    notok "Egress build (scripts/egress.sh)"; summary; exit 1
fi
note "Egress: $egress_bin ($(( $(date +%s) - t0 ))s)"
lk_bin=$(scripts/livekit-server.sh build 2>"$run/livekit-build.err") \
    || { cat "$run/livekit-build.err" >&2; notok "livekit-server build"; summary; exit 1; }
build_client || { notok "e2e client build"; summary; exit 1; }
scripts/ssm-deps.sh >"$run/venv.log" 2>&1 \
    || { cat "$run/venv.log" >&2; notok "moto venv (scripts/ssm-deps.sh)"; summary; exit 1; }
py=$repo/build/aws-venv/bin/python
fd_npm_ci t/node >"$run/npm-node.log" 2>&1 \
    || { cat "$run/npm-node.log" >&2; notok "t/node packages (npm ci)"; summary; exit 1; }
for t in ffprobe redis-server; do
    command -v $t >/dev/null || { notok "$t is not installed (scripts/egress.sh deps)"; summary; exit 1; }
done
note "prepared in $(( $(date +%s) - started ))s"

fd_ca "$run/ca"
# livekit-server posts its webhooks to https://127.0.0.1:port (no DNS here)
fd_cert "$run/ca" "$run/certs/meet" "$domain" IP:127.0.0.1
fd_keys "$run/keys.yaml"
api_key=$(awk -F': *' 'NF == 2 { print $1; exit }' "$run/keys.yaml")
api_secret=$(awk -F': *' 'NF == 2 { print $2; exit }' "$run/keys.yaml")
# the bucket's credentials: made up here, known to moto and Egress only
s3_key=AKIA$(openssl rand -hex 8 | tr a-f A-F) s3_secret=$(openssl rand -hex 20)

# ---- S3 (moto), Redis, the node, Egress ----------------------------------------
spawn "$run/logs/moto.log" "$repo/build/aws-venv/bin/moto_server" -H 127.0.0.1 -p "$moto_port"
s3() { # python code with s3 = boto3 client, bucket = name
    AWS_ACCESS_KEY_ID=$s3_key AWS_SECRET_ACCESS_KEY=$s3_secret "$py" -c "
import boto3, sys, json
s3 = boto3.client('s3', endpoint_url='http://127.0.0.1:$moto_port', region_name='us-east-1')
bucket = '$bucket'
$1" "${@:2}"
}
check "moto_server (S3) up on :$moto_port" wait_http "http://127.0.0.1:$moto_port/moto-api/" 30
check "bucket $bucket created" s3 "s3.create_bucket(Bucket=bucket)"
check "redis-server up on 127.0.0.1:$redis_port" start_redis "$redis_port"
node_config "$run/node.yaml" node "$LK"
# its webhooks go to the front door's [webhook] location, over TLS with
# the test CA
printf 'webhook:\n  api_key: %s\n  urls:\n    - https://127.0.0.1:%s/livekit/webhook\n' \
    "$api_key" "$HTTPS_PORT" >>"$run/node.yaml"
SSL_CERT_FILE=$run/ca/ca.pem \
    check "livekit-server v1.13.5 (Redis, webhooks to the front door) up on :$LK" \
    start_node node "$run/node.yaml" "$LK"

scripts/egress.sh config "$run/egress.yaml" KEY_FILE="$run/keys.yaml" \
    WS_URL="ws://127.0.0.1:$LK" REDIS="127.0.0.1:$redis_port" HEALTH_PORT="$egress_health" \
    TEMPLATE_PORT="$egress_template" S3_ENDPOINT="http://127.0.0.1:$moto_port" \
    S3_BUCKET="$bucket" S3_ACCESS_KEY="$s3_key" S3_SECRET="$s3_secret"
# Egress runs each recording as `egress run-handler`: its directory on PATH
spawn "$run/logs/egress.log" env PATH="$(dirname "$egress_bin"):$PATH" \
    EGRESS_CONFIG_FILE="$run/egress.yaml" "$egress_bin"
egress_pid=$spawned
check "Egress v1.14.0 up (health on :$egress_health)" wait_http "http://127.0.0.1:$egress_health/" 60
if ((failed)); then summary; exit 1; fi

# ---- the front door, with [record] ------------------------------------------------
export FD_MODULE=$module FD_DIR=$run FD_KEYS=$run/keys.yaml FD_CERTS=$run/certs \
       FD_DEMO=$repo/build/demo FD_HOST=127.0.0.1 FD_HTTP_PORT=$HTTP_PORT \
       FD_HTTPS_PORT=$HTTPS_PORT FD_URL=wss://$domain:$HTTPS_PORT \
       FD_LK_PORT=$LK FD_LK2_PORT= FD_INTERNAL_HTTPS_PORT=$((off + 2)) \
       FD_TURN_TERM_PORT=$((off + 3)) FD_LK_TURN_TLS_PORT=$((off + 4)) \
       FD_LK_TCP_PORT=$((LK + 1)) FD_ICETCP_PORT=$((off + 5)) FD_APP_PORT=$app_port
fd_render "$run/nginx.conf" certbot record webhook
if ! start_nginx "$run/nginx.conf"; then
    notok "nginx -t and start with the rendered nginx.conf.example [record] [webhook]"
    summary; exit 1
fi
ok "nginx runs nginx.conf.example with [record] [webhook] on 127.0.0.1:$HTTPS_PORT"
check "the rendered config has the example's directives with [certbot] [record] [webhook], no more, no fewer" \
    fd_same_directives "$run/nginx.conf" certbot record webhook
# the application behind /livekit/webhook: verifies again, records each
spawn "$run/logs/webhook-app.log" node t/node/webhook-app.mjs "$app_port" \
    "$run/received.jsonl" "$api_key" "$api_secret"
check "the webhook application (WebhookReceiver) listens on :$app_port" \
    wait_log "$run/logs/webhook-app.log" "webhook app on $app_port" 20

door=https://$domain:$HTTPS_PORT
curlr=(curl -sS --max-time 10 --cacert "$run/ca/ca.pem" --resolve "$domain:$HTTPS_PORT:127.0.0.1")
room=consult-$RANDOM

# the token asks for recording, and holds no storage setting or secret
tok=$("${curlr[@]}" "$door/token?room=$room&participant=probe" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
claims=$("$py" -c 'import base64, sys
p = sys.argv[1].split(".")[1]
print(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)).decode())' "$tok" 2>/dev/null)
rc=$("$py" -c 'import json,sys; c=json.loads(sys.argv[1]); print(json.dumps(c.get("roomConfig",{}).get("egress",{}),sort_keys=True))' "$claims" 2>/dev/null)
check "a token from /token asks for auto track egress ($rc)" \
    grep -q '"tracks": {"filepath": "' <<<"$rc"
check "the token holds no storage credentials (no s3, no key, no secret)" \
    bash -c '! grep -qiE "s3|access_?key|secret|'"$s3_key"'" <<<"$1"' _ "$claims"

# a client cannot change it: off, elsewhere, its own storage
refuse() { # what json
    local code body
    body=$("${curlr[@]}" -o - -w '\n%{http_code}' -H 'Content-Type: application/json' \
        --data-binary "$2" "$door/token")
    code=${body##*$'\n'}
    body=${body%$'\n'*}
    check "a client's room_config that $1 gets 403 room_config_not_allowed ($code)" \
        test "$code" = 403 -a -n "$(grep -o '"error":"room_config_not_allowed"' <<<"$body")"
}
refuse "turns recording off (egress: {})" \
    "{\"room_name\":\"$room\",\"participant_identity\":\"x\",\"room_config\":{\"egress\":{}}}"
refuse "points the files to another bucket" \
    "{\"room_name\":\"$room\",\"participant_identity\":\"x\",\"room_config\":{\"egress\":{\"tracks\":{\"filepath\":\"x/{track_id}\",\"s3\":{\"bucket\":\"elsewhere\",\"endpoint\":\"https://attacker.example\"}}}}}"
refuse "asks for a room composite instead" \
    "{\"room_name\":\"$room\",\"participant_identity\":\"x\",\"room_config\":{\"egress\":{\"room\":{\"file_outputs\":[{\"filepath\":\"x.mp4\"}]}}}}"

# ---- a consultation: two participants publish VP8 and Opus -------------------------
note "two participants in $room for ${seconds}s"
for who in doctor patient; do
    spawn "$run/logs/client-$who.log" "$client_bin" -door "$door" -ca "$run/ca/ca.pem" \
        -resolve "$domain=127.0.0.1" -room "$room" -identity "$who" \
        -duration "${seconds}s" publish
    eval "pid_$who=$spawned"
done
for who in doctor patient; do
    p=pid_$who
    wait "${!p}"
    rc=$?
    check "$who joined through the front door, published for ${seconds}s and left (exit $rc)" \
        bash -c "test $rc = 0 && grep -q '^READY' '$run/logs/client-$who.log'"
done

# Egress uploads when each track ends: four files and their manifests
list() {
    s3 "
for o in s3.list_objects_v2(Bucket=bucket, Prefix=sys.argv[1]).get('Contents', []):
    print(o['Key'], o['Size'])" "$room/" 2>/dev/null
}
for ((i = 0; i < 90; i++)); do
    [ "$(list | grep -cE '\.(ogg|webm|ivf|json) ')" -ge 8 ] && break
    sleep 1
done
list >"$run/bucket.txt"
note "bucket $bucket: $(tr '\n' ' ' <"$run/bucket.txt")"
check "Egress wrote four media files under $room/ ($(grep -cvE '\.json ' "$run/bucket.txt"))" \
    test "$(grep -cE '\.(ogg|webm|ivf) ' "$run/bucket.txt")" = 4
check "and a manifest for each ($(grep -c '\.json ' "$run/bucket.txt"))" \
    test "$(grep -c '\.json ' "$run/bucket.txt")" = 4

# each file: ffprobe's codec and duration
min=$((seconds / 2))
probe() { # key -> "codec duration"
    local f=$run/bucket/${1//\//_}
    s3 "s3.download_file(bucket, sys.argv[1], sys.argv[2])" "$1" "$f" || return 1
    ffprobe -v error -show_entries stream=codec_name:format=duration \
        -of default=nw=1:nk=1 "$f" 2>/dev/null | tr '\n' ' '
}
for who in doctor patient; do
    key=$(grep -oE "^$room/$who-microphone-[^ ]*\.ogg" "$run/bucket.txt" | head -n 1)
    p=$( [ -n "$key" ] && probe "$key")
    check "$who's microphone: Opus in OGG, at least ${min}s ($key: ${p:-none})" \
        awk -v m=$min '$1 == "opus" && $2 + 0 >= m { ok = 1 } END { exit !ok }' <<<"${p:-x 0}"
    key=$(grep -oE "^$room/$who-camera-[^ ]*\.(webm|ivf)" "$run/bucket.txt" | head -n 1)
    p=$( [ -n "$key" ] && probe "$key")
    check "$who's camera: VP8 in WebM/IVF, at least ${min}s ($key: ${p:-none})" \
        awk -v m=$min '$1 == "vp8" && $2 + 0 >= m { ok = 1 } END { exit !ok }' <<<"${p:-x 0}"
done
# the manifests: one per track, naming the room, the track, its file and
# when it started and ended
manifests=$(s3 "
seen = []
for o in s3.list_objects_v2(Bucket=bucket, Prefix=sys.argv[1]).get('Contents', []):
    if not o['Key'].endswith('.json'):
        continue
    body = s3.get_object(Bucket=bucket, Key=o['Key'])['Body'].read()
    open(sys.argv[2] + '/' + o['Key'].replace('/', '_'), 'wb').write(body)
    m = json.loads(body)
    files = [f.get('filename', '') for f in m.get('files', [])]
    if m.get('room_name') == sys.argv[1].rstrip('/') and len(files) == 1 \\
            and files[0].startswith(sys.argv[1]) \\
            and files[0].rsplit('.', 1)[0].endswith('-' + m.get('track_id', '?')) \\
            and m.get('ended_at', 0) > m.get('started_at', 0) > 0:
        seen.append(files[0])
print(' '.join(sorted(seen)))" "$room/" "$run/bucket" 2>&1)
media=$(grep -oE '^[^ ]+\.(ogg|webm|ivf)' "$run/bucket.txt" | sort | tr '\n' ' ')
check "each manifest names the room, its track and its one file, all four files ($manifests)" \
    test -n "$manifests" -a "$manifests " = "$media"
check "Egress is still running after the recordings" kill -0 "$egress_pid"

# ---- webhooks: livekit-server's egress events, through the front door -------------
# received.jsonl: one line per POST the application got (webhook-app.mjs)
webhooks() { # python code with recs = the application's records
    "$py" -c "
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
$1" "$run/received.jsonl" "${@:2}" 2>/dev/null
}
for ((i = 0; i < 60; i++)); do
    [ "$(webhooks 'print(sum(r.get("event") == "egress_ended" for r in recs))')" = 4 ] && break
    sleep 1
done
note "the application received: $(webhooks 'print(" ".join(r.get("event") or "BAD:" + r.get("error", "") for r in recs))')"
check "every webhook that reached the application verifies again with WebhookReceiver" \
    webhooks 'sys.exit(not recs or not all(r["ok"] for r in recs))'
# per egress: started first, ended last, ended with the file in the bucket
egress=$(webhooks '
room = sys.argv[2]
seen = {}
for r in recs:
    info = json.loads(r["body"]).get("egressInfo")
    if r["ok"] and info and info.get("roomName") == room:
        seen.setdefault(info["egressId"], []).append((r["event"], info))
files = []
for eid, evs in seen.items():
    names = [e for e, _ in evs]
    end = evs[-1][1]
    if names[0] != "egress_started" or names[-1] != "egress_ended" \
            or names.count("egress_ended") != 1 \
            or end.get("status") != "EGRESS_COMPLETE":
        print("BAD", eid, names, end.get("status"), end.get("error", ""))
        continue
    files += [f.get("filename", "") for f in end.get("fileResults", [])]
print(" ".join(sorted(files)))' "$room")
check "egress_started first and egress_ended (EGRESS_COMPLETE) last for each track egress, naming the four files in the bucket" \
    test -n "$egress" -a "$egress " = "$media"
check "egress events only for track egresses (each egressInfo has a track request)" \
    webhooks 'sys.exit(not all("track" in json.loads(r["body"])["egressInfo"] for r in recs
                               if r["ok"] and r["event"].startswith("egress_")))'
check "the application got \$livekit_webhook_event as X-LiveKit-Event for each egress event" \
    webhooks 'e = [r for r in recs if r.get("event", "").startswith("egress_")]
sys.exit(not e or any(r["eventHeader"] != r["event"] for r in e))'
check "the bodies reached the application as application/webhook+json" \
    webhooks 'sys.exit(not recs or any(r["contentType"] != "application/webhook+json" for r in recs))'
# a real egress_ended's Authorization on a body that says it failed
ended=$(webhooks '
r = [r for r in recs if r.get("event") == "egress_ended"][-1]
print(r["auth"]); print(r["body"].replace("EGRESS_COMPLETE", "EGRESS_FAILED", 1))')
before=$(webhooks 'print(len(recs))')
code=$("${curlr[@]}" -o "$run/forged.json" -w '%{http_code}' \
    -H 'Content-Type: application/webhook+json' -H "Authorization: $(sed -n 1p <<<"$ended")" \
    --data-binary "$(sed -n '2,$p' <<<"$ended")" "$door/livekit/webhook")
check "an egress_ended altered to EGRESS_FAILED under its real Authorization: 401 webhook_body_mismatch ($code)" \
    grep -q '"error":"webhook_body_mismatch"' "$run/forged.json"
check "and it never reached the application" test "$(webhooks 'print(len(recs))')" = "$before"
got=$(webhooks 'print(len(recs))')
verified=$("${curlr[@]}" "$door/livekit/status?format=prometheus" \
           | sed -n 's/^livekit_token_webhooks_verified_total //p')
check "livekit_token_webhooks_verified_total counts every webhook the application got ($verified, $got)" \
    test -n "$verified" -a "$verified" = "$got"

# ---- logs -------------------------------------------------------------------------------
kill -QUIT "$(cat "$run/nginx.pid")" 2>/dev/null
for ((i = 0; i < 50; i++)); do [ -f "$run/nginx.pid" ] || break; sleep 0.1; done
check "access log holds no access_token and no JWT" no_tokens "$run/logs/access.log"
# livekit-server posts over HTTP/2
posts=$(grep -cE '"POST /livekit/webhook HTTP/[0-9.]+" 200 .* us="200"' "$run/logs/access.log")
check "access log: each webhook a POST to /livekit/webhook answered 200 by the application ($posts)" \
    test "$posts" = "$got"
check "error log holds no access_token and no JWT" no_tokens "$run/logs/error.log"
check "no log line holds the bucket's secret" \
    bash -c '! grep -rqF -- "$1" "$2"' _ "$s3_secret" "$run/logs"

# Egress leaves an empty directory per recording and one with its IPC
# socket per start under /home/egress/tmp: remove this run's, once it has
# stopped
kill "$egress_pid" 2>/dev/null
wait "$egress_pid" 2>/dev/null
find /home/egress/tmp -mindepth 1 -maxdepth 1 -type d -empty -newer "$run/egress.yaml" \
    -delete 2>/dev/null
ne=$(grep -om1 '"nodeID": "NE_[A-Za-z0-9]*"' "$run/logs/egress.log" | grep -o 'NE_[A-Za-z0-9]*')
[ -n "$ne" ] && rm -rf "/home/egress/tmp/$ne"

summary
