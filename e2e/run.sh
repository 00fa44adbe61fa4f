#!/usr/bin/env bash
# End-to-end tests of the front door: nginx.conf.example (ports, paths and
# certificates substituted, nothing else) with the module, a real
# livekit-server, headless Go participants and Debian's Chromium, all on
# 127.0.0.1, the public names mapped by each client's own resolver options.
#
#   e2e/run.sh              everything
#   E2E_IDLE=0 e2e/run.sh   without the 65 s idle-WebSocket test
#   E2E_BROWSER=0           without Chromium (c-f, h, j's browser part)
#   E2E_AGENT=0             without the agent worker (g, h)
#   E2E_AGENT_NS=0          the worker reaches the door by address, not by
#                           name in a private mount namespace (as when not root)
#   E2E_PORT_BASE=24400     first of the ports used (base .. base+99)
#   E2E_SNI_PORT=443        port of the TURN/TLS-on-443 stage (must be 443
#                           for TURN: livekit-server always advertises
#                           turns:<domain>:443; another port skips (e))
#   E2E_KEEP=1              leave build/e2e/run in place
#
# Prints "ok - ..." / "not ok - ..." per check, then "N passed, N failed".
set -uo pipefail

. "$(dirname "$0")/../scripts/lib.sh"
cd "$repo"
# shellcheck source=../scripts/e2e-frontdoor.sh
. scripts/e2e-frontdoor.sh
# shellcheck source=../scripts/tap.sh
. scripts/tap.sh

out=$repo/build/e2e
run=$out/run
base=${E2E_PORT_BASE:-24400}
sni_port=${E2E_SNI_PORT:-443}
domain=meet.dissertation-editor.com
turn_domain=turn.$domain
nginx=${NGINX_BIN:-${NGINX:-/usr/sbin/nginx}}
module=${LIVEKIT_MODULE:-$repo/build/ngx_http_livekit_token_module.so}
started=$tap_started

# ---- processes we start, stopped by pid -------------------------------------
pids=()
nginx_conf=
agent_pid=
# the agent worker runs in its own process group (its job processes with it)
stop_agent() {
    [ -n "$agent_pid" ] || return 0
    kill -TERM -- "-$agent_pid" 2>/dev/null
    local i
    for ((i = 0; i < 50; i++)); do kill -0 -- "-$agent_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 -- "-$agent_pid" 2>/dev/null
    wait "$agent_pid" 2>/dev/null
    agent_pid=
}
cleanup() {
    local p
    stop_agent
    [ -n "$nginx_conf" ] && [ -f "$run/nginx.pid" ] && kill "$(cat "$run/nginx.pid")" 2>/dev/null
    for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null; kill "$p" 2>/dev/null; done
    local i
    for ((i = 0; i < 30; i++)); do
        local alive=0
        for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
        ((alive)) || break
        sleep 0.1
    done
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    [ "${E2E_KEEP:-0}" = 1 ] || rm -rf "$run/nsshome"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! ss -Hltun "sport = :$1" 2>/dev/null | grep -q .; }
wait_http() { # url seconds
    local i
    for ((i = 0; i < $2 * 5; i++)); do
        curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null && return 0
        sleep 0.2
    done
    return 1
}

# ---- ports ------------------------------------------------------------------
HTTP_PORT=$((base + 80)) HTTPS_PORT=$((base + 43)) INTERNAL_HTTPS_PORT=$((base + 44))
TURN_TERM_PORT=$((base + 45)) LK_PORT=$((base + 10)) LK_TCP_PORT=$((base + 11))
LK_UDP_PORT=$((base + 12)) LK_TURN_TLS_PORT=$((base + 49)) ICETCP_PORT=$((base + 91))
TURN_RELAY=$((base + 60))-$((base + 70)) AGENT_HTTP_PORT=$((base + 95))

echo "# e2e: front door of $domain on 127.0.0.1, ports $base-$((base + 99)) and $sni_port"
busy=()
for p in $HTTP_PORT $HTTPS_PORT $INTERNAL_HTTPS_PORT $TURN_TERM_PORT $LK_PORT $LK_TCP_PORT \
         $LK_UDP_PORT $LK_TURN_TLS_PORT $ICETCP_PORT $AGENT_HTTP_PORT; do
    port_free "$p" || busy+=("$p")
done
if ((${#busy[@]})); then
    notok "ports ${busy[*]} are in use (set E2E_PORT_BASE)"
    summary; exit 1
fi

# ---- build what is missing --------------------------------------------------
rm -rf "$run"
mkdir -p "$run/logs" "$out"
prep_ok=1
if [ ! -f "$module" ]; then
    notok "module $module is not built (make module)"; prep_ok=0
fi
if ! lk_bin=$(scripts/livekit-server.sh build 2>"$run/livekit-build.err"); then
    cat "$run/livekit-build.err" >&2
    notok "livekit-server build"; prep_ok=0
fi
( export GOMODCACHE=${GOMODCACHE:-$cache/go/mod} GOCACHE=${GOCACHE:-$cache/go/build} \
         GOFLAGS="${GOFLAGS:-} -modcacherw -buildvcs=false" GOTOOLCHAIN=${GOTOOLCHAIN:-local}
  cd e2e && go build -o "$out/client" ./client ) >"$run/client-build.log" 2>&1 \
    || { tail -n 20 "$run/client-build.log" >&2; notok "e2e client build (needs libvpx-dev libopus-dev pkg-config)"; prep_ok=0; }
agent=${E2E_AGENT:-1}
if [ "$agent" = 1 ] && ! fd_npm_ci e2e/agent >"$run/npm-agent.log" 2>&1; then
    tail -n 20 "$run/npm-agent.log" >&2
    notok "npm ci e2e/agent (@livekit/agents)"; agent=0
fi
browser=${E2E_BROWSER:-1}
if [ "$browser" = 1 ]; then
    if ! fd_npm_ci e2e >"$run/npm-e2e.log" 2>&1 || ! fd_demo_build >"$run/demo-build.log" 2>&1; then
        tail -n 20 "$run/npm-e2e.log" "$run/demo-build.log" >&2
        notok "npm ci / demo build"; browser=0
    fi
    if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ] || ! command -v certutil >/dev/null; then
        notok "Chromium (/usr/bin/chromium) and certutil (libnss3-tools) are needed for the browser tests"
        browser=0
    fi
fi
((prep_ok)) || { summary; exit 1; }
note "prepared in $(( $(date +%s) - started ))s"

# ---- CA, certificates, keys, a browser trust store ---------------------------
fd_ca "$run/ca"
fd_cert "$run/ca" "$run/certs/meet" "$domain" IP:127.0.0.1
fd_cert "$run/ca" "$run/certs/turn" "$turn_domain"
fd_keys "$run/keys.yaml"
if [ "$browser" = 1 ]; then
    mkdir -p "$run/nsshome/.pki/nssdb"
    certutil -d "sql:$run/nsshome/.pki/nssdb" -N --empty-password
    certutil -d "sql:$run/nsshome/.pki/nssdb" -A -t "C,," -n "e2e test CA" -i "$run/ca/ca.pem"
fi

# ---- livekit-server ----------------------------------------------------------
scripts/livekit-server.sh config "$run/livekit.yaml" KEY_FILE="$run/keys.yaml" \
    PORT="$LK_PORT" TCP_PORT="$LK_TCP_PORT" UDP_PORT="$LK_UDP_PORT" \
    TURN_DOMAIN="$turn_domain" TURN_TLS_PORT="$LK_TURN_TLS_PORT" TURN_UDP_PORT=0 \
    TURN_RELAY="$TURN_RELAY"
"$lk_bin" --config "$run/livekit.yaml" >"$run/logs/livekit.log" 2>&1 &
lk_pid=$!
pids+=("$lk_pid")
check "livekit-server v1.13.5 up on 127.0.0.1:$LK_PORT (key file, TURN external TLS)" \
    wait_http "http://127.0.0.1:$LK_PORT/" 20

# ---- nginx: the example -------------------------------------------------------
export FD_MODULE=$module FD_DIR=$run FD_KEYS=$run/keys.yaml FD_CERTS=$run/certs \
       FD_DEMO=$repo/build/demo FD_HOST=127.0.0.1 FD_HTTP_PORT=$HTTP_PORT \
       FD_INTERNAL_HTTPS_PORT=$INTERNAL_HTTPS_PORT FD_TURN_TERM_PORT=$TURN_TERM_PORT \
       FD_LK_PORT=$LK_PORT FD_LK_TURN_TLS_PORT=$LK_TURN_TLS_PORT FD_LK_TCP_PORT=$LK_TCP_PORT \
       FD_ICETCP_PORT=$ICETCP_PORT

start_nginx() { # conf
    nginx_conf=$1
    "$nginx" -e "$run/logs/error.log" -c "$nginx_conf" -t -q 2>"$run/nginx-t.err" || {
        cat "$run/nginx-t.err" >&2; return 1; }
    "$nginx" -e "$run/logs/error.log" -c "$nginx_conf" || return 1
    local i
    for ((i = 0; i < 50; i++)); do [ -s "$run/nginx.pid" ] && return 0; sleep 0.1; done
    return 1
}
stop_nginx() {
    [ -f "$run/nginx.pid" ] || return 0
    local p; p=$(cat "$run/nginx.pid")
    kill -QUIT "$p" 2>/dev/null
    local i
    for ((i = 0; i < 50; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
    rm -f "$run/nginx.pid"
}

door=https://$domain:$HTTPS_PORT
FD_HTTPS_PORT=$HTTPS_PORT FD_URL=wss://$domain:$HTTPS_PORT fd_render "$run/nginx.conf" certbot
if ! start_nginx "$run/nginx.conf"; then
    notok "nginx -t and start with the rendered nginx.conf.example"
    summary; exit 1
fi
ok "nginx runs nginx.conf.example (ports, paths, certificates substituted) on 127.0.0.1:$HTTPS_PORT"
check "the rendered config has the example's directives with [certbot], no more, no fewer" \
    fd_same_directives "$run/nginx.conf" certbot

curlr=(curl -sS --max-time 10 --cacert "$run/ca/ca.pem" --resolve "$domain:$HTTPS_PORT:127.0.0.1"
       --resolve "$domain:$HTTP_PORT:127.0.0.1")

# front door basics: redirect, TLS, HSTS, CORS untouched
loc=$("${curlr[@]}" -o /dev/null -w '%{http_code} %{redirect_url}' "http://$domain:$HTTP_PORT/rtc?x=1")
check "port 80 redirects to https ($loc)" test "$loc" = "301 https://$domain:$HTTPS_PORT/rtc?x=1"
hdrs=$("${curlr[@]}" -D - -o /dev/null "$door/token?room=r&participant=p")
check "/token over HTTP/2 with HSTS" grep -qi '^strict-transport-security: max-age=' <<<"$hdrs"
check "/token over HTTP/2" grep -q '^HTTP/2 200' <<<"$hdrs"
tok=$("${curlr[@]}" "$door/token?room=r&participant=p" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
vh=$("${curlr[@]}" -D - -o /dev/null -H "Origin: https://elsewhere.example" "$door/rtc/validate?access_token=$tok")
check "/rtc/validate through the proxy: 200, one Access-Control-Allow-Origin (livekit-server's)" \
    test "$(grep -c '^HTTP/2 200' <<<"$vh")-$(grep -ci '^access-control-allow-origin' <<<"$vh")" = 1-1
# the rate limit (limit_req burst=20 nodelay): 40 at once, some get 429
codes=$(for i in $(seq 40); do "${curlr[@]}" -o /dev/null -w '%{http_code}\n' "$door/token?room=r&participant=p$i" & done; wait)
n429=$(grep -c '^429$' <<<"$codes")
check "limit_req on /token: $n429 of 40 simultaneous requests got 429" test "$n429" -gt 0
sleep 4   # let the bucket refill (5r/s)

client=("$out/client" -door "$door" -ca "$run/ca/ca.pem" -resolve "$domain=127.0.0.1")

# ---- (a) two headless participants -------------------------------------------
note "(a) two participants through the front door"
tally "pubsub" "${client[@]}" pubsub

# ---- (b) refused tokens, idle WebSocket --------------------------------------
note "(b) refused tokens"
tally "negative" "${client[@]}" -keys "$run/keys.yaml" negative
if [ "${E2E_IDLE:-1}" = 1 ]; then
    note "(b) a WebSocket idle for 65s through the proxy (livekit-server paused)"
    tally "idle" "${client[@]}" -lk-pid "$lk_pid" -idle 65s idle
else
    skip "idle WebSocket (E2E_IDLE=0)"
fi

# ---- (i) joins checked at the door, revocation ---------------------------------
note "(i) joins checked at the front door: refused before livekit-server sees them"
edge_log=$run/logs/edge-client.log
tally "edge" bash -c '"$@" | tee "$0"' "$edge_log" "${client[@]}" -keys "$run/keys.yaml" edge
mapfile -t refused < <(sed -n 's/^REFUSED //p' "$edge_log")
leaked=()
for r in "${refused[@]}"; do
    read -r rid rsig <<<"$r"
    grep -qF -e "$rid" -e "$rsig" "$run/logs/livekit.log" && leaked+=("$rid")
done
check "${#refused[@]} refused joins: no identity or signature of theirs in livekit-server's log (${leaked[*]:-none})" \
    test "${#refused[@]}" -ge 7 -a "${#leaked[@]}" = 0
check "livekit-server's log does name the join that passed (so the absence above means something)" \
    grep -q 'edge-valid-' "$run/logs/livekit.log"
check "join log: one line per refusal with its code (token_bad_signature, token_expired, token_not_yet_valid, token_unknown_key, join_not_allowed, token_ambiguous)" \
    bash -c 'for c in token_bad_signature token_expired token_not_yet_valid token_unknown_key join_not_allowed token_ambiguous; do grep -q "result=$c status=40[13] " "$0" || exit 1; done' "$run/logs/livekit-joins.log"
check "join log: the valid join named by identity and room, result=ok" \
    grep -q 'join identity="edge-valid-[0-9a-f]*" room="e2e-[0-9a-f]*" key=devkey token_id=[A-Za-z0-9_-]\{16\} inv=- result=ok status=' "$run/logs/livekit-joins.log"

note "(i) revocation: a participant in a call revoked and removed; its reconnect refused"
tally "revoke" "${client[@]}" revoke
state=$run/livekit-state/revocations.json
check "revocation state file written, mode 0600 ($(stat -c %a "$state" 2>/dev/null))" \
    test "$(stat -c %a "$state" 2>/dev/null)" = 600
admin_url=$door/livekit/revoke
"${curlr[@]}" -o /dev/null -X POST -H 'Content-Type: application/json' \
    --data '{"room":"kept-across-reloads","identity":"mallory"}' "$admin_url"
"$nginx" -e "$run/logs/error.log" -c "$nginx_conf" -s reload
sleep 1
kept='"room":"kept-across-reloads","identity":"mallory"'
check "a reload keeps the revocation list (shared memory)" \
    grep -qF "$kept" <<<"$("${curlr[@]}" "$admin_url")"
stop_nginx
start_nginx "$nginx_conf" || notok "nginx starts again"
check "a restart keeps the revocation list (the state file)" \
    grep -qF "$kept" <<<"$("${curlr[@]}" "$admin_url")"
mtok=$("${curlr[@]}" "$door/token?room=kept-across-reloads&participant=mallory" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
check "after the restart, mallory's new token for that room is refused at the door" \
    grep -q '"error":"token_revoked"' <<<"$("${curlr[@]}" "$door/rtc/validate?access_token=$mtok")"
check "the admin location answers this host only: another address gets 403" \
    test "$("${curlr[@]}" -o /dev/null -w '%{http_code}' --interface 127.0.0.2 "$admin_url" 2>/dev/null || true)" = 403

# ---- (g) an agent worker through the front door --------------------------------
# e2e/agent/worker.mjs (@livekit/agents) with LIVEKIT_URL = the front door,
# so that it registers on wss://<door>/agent.  Node and the agent's room
# connection (Rust, in @livekit/rtc-node) both resolve through the C
# library: the worker runs in a private mount namespace whose /etc/hosts
# maps the public name to 127.0.0.1 (the machine's own file is untouched).
# Without one (not root), it uses the address itself, which the test
# certificate also names.
start_agent() { # logfile
    local key secret url=wss://$domain:$HTTPS_PORT ns=()
    IFS=': ' read -r key secret <"$run/keys.yaml"
    { grep -v "[[:space:]]$domain\$" /etc/hosts; echo "127.0.0.1 $domain"; } >"$run/agent-hosts"
    if [ "${E2E_AGENT_NS:-1}" = 1 ] && unshare -m mount --bind "$run/agent-hosts" /etc/hosts 2>/dev/null; then
        ns=(unshare -m sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$run/agent-hosts")
    else
        url=wss://127.0.0.1:$HTTPS_PORT
        note "no mount namespace here: the agent worker uses $url"
    fi
    agent_url=$url
    LIVEKIT_URL=$url LIVEKIT_API_KEY=$key LIVEKIT_API_SECRET=$secret \
    NODE_EXTRA_CA_CERTS=$run/ca/ca.pem SSL_CERT_FILE=$run/ca/ca.pem \
    E2E_AGENT_PORT=$AGENT_HTTP_PORT NODE_ENV=production \
        setsid "${ns[@]}" node e2e/agent/worker.mjs start --log-level info >"$1" 2>&1 &
    agent_pid=$!
    local i
    for ((i = 0; i < 300; i++)); do
        grep -qs 'registered worker' "$1" && return 0
        kill -0 "$agent_pid" 2>/dev/null || break
        sleep 0.2
    done
    tail -n 20 "$1" >&2
    return 1
}

agent_ready=0
if [ "$agent" = 1 ]; then
    note "(g) an agent worker registered through /agent, dispatched by a POST's room_config"
    if start_agent "$run/logs/agent.log"; then
        agent_ready=1
        ok "agent worker note-taker (@livekit/agents $(node -p 'require("./e2e/agent/node_modules/@livekit/agents/package.json").version')) registered through $agent_url/agent"
        tally "agent" "${client[@]}" -keys "$run/keys.yaml" -agent note-taker agent
        check "agent worker log: one job request, the client's dispatch" \
            test "$(grep -c 'received job request' "$run/logs/agent.log")" = 1
    else
        notok "agent worker registered through the front door's /agent"
    fi
else
    skip "agent worker (g) (E2E_AGENT=0)"
fi

# ---- (c, d) the browser ------------------------------------------------------
start_publisher() { # door room identity logfile
    "$out/client" -door "$1" -ca "$run/ca/ca.pem" -resolve "$domain=127.0.0.1" \
        -room "$2" -identity "$3" -duration 300s publish >"$4" 2>&1 &
    pub_pid=$!
    pids+=("$pub_pid")
    local i
    for ((i = 0; i < 100; i++)); do
        grep -q '^READY' "$4" && return 0
        kill -0 "$pub_pid" 2>/dev/null || break
        sleep 0.2
    done
    cat "$4" >&2
    return 1
}
stop_publisher() { kill "$pub_pid" 2>/dev/null; wait "$pub_pid" 2>/dev/null; }

browser_env=(E2E_ROOM= E2E_NSSDB_HOME="$run/nsshome" E2E_OUT="$out/screenshots")
if [ "$browser" = 1 ]; then
    room=browser-$RANDOM
    if start_publisher "$door" "$room" bot-plain "$run/logs/publisher-plain.log"; then
        ok "headless publisher bot-plain in $room"
        note "(c) demo page, (d) TokenSource.endpoint, the same URL in two tabs"
        tally "browser" env "${browser_env[@]}" E2E_ROOM="$room" E2E_PUBLISHER=bot-plain \
            E2E_TABS_ROOM="$room-tabs" E2E_DOOR="$door" E2E_RESOLVE="MAP $domain 127.0.0.1" \
            node e2e/browser.mjs demo endpoint twotabs form
        stop_publisher
    else
        notok "headless publisher for the browser tests"
    fi
    sdk=(sdkbare)
    if ((agent_ready)); then sdk=(sdkagent sdkbare); else skip "(h) TokenSource.endpoint with an agent name (no agent worker)"; fi
    note "(h) livekit-client's TokenSource.endpoint with only an agent name, and with no option"
    tally "browser-sdk" env "${browser_env[@]}" E2E_DOOR="$door" E2E_RESOLVE="MAP $domain 127.0.0.1" \
        E2E_AGENT_NAME=note-taker node e2e/browser.mjs "${sdk[@]}"
else
    skip "browser tests (c) (d) (h)"
fi

# ---- stage 2: TURN/TLS on 443 and ICE/TCP pass-through -----------------------
if ((agent_ready)); then
    # nginx logs a WebSocket when it closes
    stop_agent
    sleep 0.5
    check "access log: the agent worker's WebSocket upgrade on /agent, through the front door" \
        grep -q '"GET /agent HTTP/1.1" 101 ' "$run/logs/access.log"
fi
stop_nginx

# ---- (j) invitation links: the example's #[invite] ------------------------------
# /token mints only within a signed, expiring link the admin location made:
# an editor and a client join by theirs in Chromium through the demo page;
# the room name alone, a reused single-use link and a revoked invitation's
# token are refused.
note "(j) invitation links (#[invite])"
FD_HTTPS_PORT=$HTTPS_PORT FD_URL=wss://$domain:$HTTPS_PORT fd_render "$run/nginx-invite.conf" certbot invite
if start_nginx "$run/nginx-invite.conf"; then
    ok "nginx runs the example with the [invite] lines on"
    check "the rendered config has the example's directives with [certbot] [invite], no more, no fewer" \
        fd_same_directives "$run/nginx-invite.conf" certbot invite
    field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }
    invite() { "${curlr[@]}" -X POST -H 'Content-Type: application/json' --data "$1" "$door/livekit/invite"; }
    iroom=consult-$RANDOM
    ed=$(invite "{\"room\":\"$iroom\",\"role\":\"editor\",\"identity\":\"dr-smith\",\"name\":\"Dr Smith\"}")
    cl=$(invite "{\"room\":\"$iroom\",\"role\":\"client\",\"name\":\"Jane\",\"single_use\":true}")
    ed_link=$(field link <<<"$ed"); ed_inv=$(field invitation <<<"$ed"); ed_id=$(field id <<<"$ed")
    cl_link=$(field link <<<"$cl"); cl_inv=$(field invitation <<<"$cl"); cl_id=$(field id <<<"$cl")
    # livekit_invitation_link as run.conf.in renders it: the door's address
    page=https://127.0.0.1:$HTTPS_PORT/
    check "the admin location made an editor's link and a client's single-use link to the front door's page ($page)" \
        test "${ed_link%%\?*}" = "$page" -a "${cl_link%%\?*}" = "$page" -a -n "$ed_id" -a -n "$cl_id"
    eve=$("${curlr[@]}" -w ' %{http_code}' "$door/token?room=$iroom&participant=eve" | tr -d '\n')
    check "the room name alone gets 403 invitation_missing (${eve##* })" \
        grep -q '"error":"invitation_missing".* 403$' <<<"$eve"
    check "the invitation admin answers this host only: another address gets 403" \
        test "$("${curlr[@]}" -o /dev/null -w '%{http_code}' --interface 127.0.0.2 -X POST "$door/livekit/invite" 2>/dev/null || true)" = 403
    if [ "$browser" = 1 ]; then
        tally "browser-invite" env "${browser_env[@]}" E2E_DOOR="$door" E2E_RESOLVE="MAP $domain 127.0.0.1" \
            E2E_INVITE_ROOM="$iroom" E2E_INVITE_EDITOR="$ed_link" E2E_INVITE_CLIENT="$cl_link" \
            node e2e/browser.mjs invite
        again=$("${curlr[@]}" -w ' %{http_code}' "$door/token?invite=$cl_inv" | tr -d '\n')
        check "the client's single-use link, used by the browser, gets 403 invitation_used the second time (${again##* })" \
            grep -q '"error":"invitation_used".* 403$' <<<"$again"
    else
        skip "(j) the editor and the client in Chromium (no browser)"
    fi
    # a single-use link opened by many at once (the example's workers share
    # the zone): exactly one token
    race=$(invite "{\"room\":\"$iroom\",\"role\":\"client\",\"single_use\":true}" | field invitation)
    codes=$(for i in $(seq 12); do "${curlr[@]}" -o /dev/null -w '%{http_code}\n' "$door/token?invite=$race" & done; wait)
    check "12 simultaneous uses of one single-use link: exactly one token ($(sort <<<"$codes" | uniq -c | tr -s ' \n' ' '))" \
        test "$(grep -c '^200$' <<<"$codes")" = 1
    sleep 3   # limit_req's bucket
    etok=$("${curlr[@]}" "$door/token?invite=$ed_inv" | field token)
    check "a token minted from the editor's invitation is let through by the join check" \
        test "$("${curlr[@]}" -o /dev/null -w '%{http_code}' "$door/rtc/validate?access_token=$etok")" = 200
    "${curlr[@]}" -o /dev/null -X POST -H 'Content-Type: application/json' \
        --data "{\"invitation\":\"$ed_id\"}" "$door/livekit/revoke"
    check "after revoking the editor's invitation, its token cannot reconnect (403 token_revoked)" \
        grep -q '"error":"token_revoked"' <<<"$("${curlr[@]}" "$door/rtc/validate?access_token=$etok")"
    check "and the editor's link mints no more tokens (403 invitation_revoked)" \
        grep -q '"error":"invitation_revoked"' <<<"$("${curlr[@]}" "$door/token?invite=$ed_inv")"
    check "join log: the editor's join by invitation, named by its id (inv=$ed_id result=ok)" \
        grep -q "identity=\"dr-smith\" room=\"$iroom\" key=devkey token_id=[A-Za-z0-9_-]\{16\} inv=$ed_id result=ok" "$run/logs/livekit-joins.log"
else
    notok "nginx with the [invite] lines on"
fi
stop_nginx
sni_ok=1
if [ "$sni_port" = 443 ] && { [ "$(id -u)" != 0 ] || ! port_free 443; }; then
    note "port 443 on 127.0.0.1 is not available (not root, or in use): stage 2 on $HTTPS_PORT, TURN/TLS test skipped"
    sni_port=$HTTPS_PORT
fi
[ "$sni_port" = 443 ] || sni_ok=0
if [ "$sni_port" = 443 ]; then door2=https://$domain; else door2=https://$domain:$sni_port; fi
FD_HTTPS_PORT=$sni_port FD_URL=${door2/https:/wss:} fd_render "$run/nginx-stream.conf" certbot stream turn443 icetcp
if start_nginx "$run/nginx-stream.conf"; then
    ok "nginx runs the example with the [stream] [turn443] [icetcp] blocks on, the stream listener on :$sni_port"
    note "(a) again, through the SNI route and PROXY protocol"
    tally "pubsub-sni" "$out/client" -door "$door2" -ca "$run/ca/ca.pem" \
        -resolve "$domain=127.0.0.1" pubsub
    if [ "$browser" = 1 ]; then
        room=browser-$RANDOM
        if start_publisher "$door2" "$room" bot-stream "$run/logs/publisher-stream.log"; then
            ok "headless publisher bot-stream in $room"
            tests=(icetcp)
            if ((sni_ok)); then tests=(relay icetcp); else skip "(e) relay over turns:443 (port 443 not available)"; fi
            note "(e) relay only via turns:$turn_domain:443, (f) ICE/TCP only via nginx :$ICETCP_PORT"
            tally "browser-stream" env "${browser_env[@]}" E2E_ROOM="$room" E2E_PUBLISHER=bot-stream \
                E2E_DOOR="$door2" E2E_RESOLVE="MAP $domain 127.0.0.1, MAP $turn_domain 127.0.0.1" \
                E2E_LK_TCP_PORT="$LK_TCP_PORT" E2E_ICETCP_PORT="$ICETCP_PORT" \
                node e2e/browser.mjs "${tests[@]}"
            stop_publisher
            if ((sni_ok)); then
                check "stream log: TLS sessions routed by SNI $turn_domain" \
                    grep -q "\"$turn_domain\"" "$run/logs/stream.log"
            fi
            check "stream log: ICE/TCP sessions through :$ICETCP_PORT" \
                grep -q ":$ICETCP_PORT TCP 200" "$run/logs/stream.log"
        else
            notok "headless publisher for the stream-stage browser tests"
        fi
    else
        skip "browser tests (e) (f)"
    fi

    # livekit-server gone: nginx's own error line for a failed upstream
    # quotes the request line, query and all; /rtc and /agent keep it out
    # (error_log crit there), which the log checks below verify
    kill "$lk_pid" 2>/dev/null
    wait "$lk_pid" 2>/dev/null
    # tokens the join check lets through: a participant's from /token, an
    # agent worker's minted here
    IFS=': ' read -r lk_key lk_secret <"$run/keys.yaml"
    rtc_tok=$(curl -sS --max-time 10 --cacert "$run/ca/ca.pem" --resolve "$domain:$sni_port:127.0.0.1" \
        "$door2/token?room=down&participant=p" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
    agent_tok=$(fd_jwt "$lk_key" "$lk_secret" \
        "{\"iss\":\"$lk_key\",\"sub\":\"w\",\"exp\":$(( $(date +%s) + 600 )),\"video\":{\"agent\":true}}")
    codes=$(for p in "/rtc?access_token=$rtc_tok" "/agent?access_token=$agent_tok"; do
        curl -sS --max-time 10 --cacert "$run/ca/ca.pem" --resolve "$domain:$sni_port:127.0.0.1" \
            -o /dev/null -w '%{http_code} ' "$door2$p"
    done)
    check "livekit-server down: /rtc and /agent with a valid ?access_token= get 502 ($codes)" \
        test "$codes" = "502 502 "
else
    notok "nginx with the stream blocks on (needs libnginx-mod-stream on Debian)"
fi
stop_nginx

# ---- logs: no tokens ----------------------------------------------------------
n_rtc=$(grep -c '"GET /rtc[^ ]* HTTP/1.1" 101' "$run/logs/access.log")
check "access log: $n_rtc WebSocket upgrades on /rtc logged" test "$n_rtc" -gt 0
check "access log holds no access_token and no JWT" \
    bash -c "! grep -q -e access_token -e 'eyJ' '$run/logs/access.log'"
check "error log holds no access_token and no JWT" \
    bash -c "! grep -q -e access_token -e 'eyJ' '$run/logs/error.log'"
check "join log holds no access_token and no JWT" \
    bash -c "! grep -q -e access_token -e 'eyJ' '$run/logs/livekit-joins.log'"
n_join=$(grep -c ' result=ok status=101 ' "$run/logs/livekit-joins.log")
check "join log: $n_join joins that passed, each with its node and duration" \
    test "$(grep -c ' result=ok status=101 node="[0-9.:]*" duration=[0-9.]* ' "$run/logs/livekit-joins.log")" = "$n_join" -a "$n_join" -gt 0

summary "logs: $run/logs; screenshots: $out/screenshots"
