#!/usr/bin/env bash
# ACME suite: certificates the front door obtains and renews itself.
#
# nginx.conf.example as it is, certificates by nginx's ACME module, with the
# [stream] [turn443] [node2] blocks on (ports, paths, the CA and the
# resolver substituted by scripts/run.conf.in, nothing else) and nginx's
# ACME module (scripts/acme-build.sh, patched), against
# Let's Encrypt's test CA pebble on 127.0.0.1 with real HTTP-01 validation:
# pebble's validator resolves meet.*, turn.* and turn2.* through a DNS stub
# (e2e/acme-dns.py) to 127.0.0.1 and fetches the challenge from nginx's
# port-80 server.  Checks issuance, verification against pebble's root with
# hostname checking (meet.* over the SNI route to the HTTPS server, turn.*
# and turn2.* through their TURN/TLS terminators, bytes passed to echo
# servers standing in for the two nodes' TURN ports), key file modes,
# renewal of all three with
# a short lifetime and no reload, a restart without a new order, and a
# start while the CA is down.
#
#   ACME_PORT_BASE=30000   first of the ports used (base .. base+99)
#   ACME_LIFETIME=40       certificate lifetime in seconds (pebble's renewal
#                          information suggests renewing anywhere in it)
#   ACME_MODULE=<.so>      an ngx_http_acme_module.so built elsewhere (a matrix)
#   ACME_RUN_DIR=<dir>     where the run's configuration, logs and state go
#                          (default build/acme/run; removed at the start)
#   ACME_MODULES_ENABLED=<conf>  when set, replaces the example's include of
#                          /etc/nginx/modules-enabled (Debian's modules, for
#                          Debian's nginx): a load_module line, or empty
#   An nginx whose temp paths lie under a folder that is not there (the
#   official image's /var/cache/nginx, upstream's /usr/local/nginx) gets
#   them in the run folder.
#
# Prints "ok - ..." / "not ok - ..." per check, then "N passed, N failed".
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
# shellcheck source=../scripts/e2e-frontdoor.sh
. scripts/e2e-frontdoor.sh
# shellcheck source=../scripts/acme-run.sh
. scripts/acme-run.sh
# shellcheck source=../scripts/tap.sh
. scripts/tap.sh

run=${ACME_RUN_DIR:-$repo/build/acme/run}
base=${ACME_PORT_BASE:-30000}
lifetime=${ACME_LIFETIME:-40}
domain=meet.dissertation-editor.com
turn_domain=turn.$domain
turn2_domain=turn2.$domain
nginx=${NGINX_BIN:-${NGINX:-/usr/sbin/nginx}}
module=${LIVEKIT_MODULE:-$repo/build/ngx_http_livekit_token_module.so}
started=$tap_started

finish() { summary "logs: $run/logs"; exit; }

HTTP_PORT=$((base + 80)) HTTPS_PORT=$((base + 43)) INTERNAL_HTTPS_PORT=$((base + 44))
TURN_TERM_PORT=$((base + 45)) LK_TURN_TLS_PORT=$((base + 49)) LK_PORT=$((base + 10))
PEBBLE_PORT=$((base + 14)) PEBBLE_MGMT_PORT=$((base + 15)) DNS_PORT=$((base + 53))
TURN2_TERM_PORT=$((base + 46)) LK2_TURN_TLS_PORT=$((base + 50)) LK2_PORT=$((base + 11))

# ---- processes we start, stopped by pid -------------------------------------
pids=()
pebble_pid=
cleanup() {
    local p
    [ -f "$run/nginx.pid" ] && kill "$(cat "$run/nginx.pid")" 2>/dev/null
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! ss -Hltun "sport = :$1" 2>/dev/null | grep -q .; }
busy=()
for p in $HTTP_PORT $HTTPS_PORT $INTERNAL_HTTPS_PORT $TURN_TERM_PORT $LK_TURN_TLS_PORT \
         $TURN2_TERM_PORT $LK2_TURN_TLS_PORT $PEBBLE_PORT $PEBBLE_MGMT_PORT $DNS_PORT; do
    port_free "$p" || busy+=("$p")
done
if ((${#busy[@]})); then
    notok "ports ${busy[*]} are in use (set ACME_PORT_BASE)"
    finish
fi

# ---- build ------------------------------------------------------------------
rm -rf "$run"
mkdir -p "$run/logs"
[ -f "$module" ] || { notok "module $module is not built (make module)"; finish; }
acme_module=${ACME_MODULE:-$(scripts/acme-build.sh module)} || { notok "nginx-acme build (make acme)"; finish; }
pebble=$(scripts/acme-build.sh pebble) || { notok "pebble build (go install)"; finish; }
note "nginx-acme: $acme_module; pebble: $pebble; prepared in $(( $(date +%s) - started ))s"

# ---- DNS stub, pebble, echo server --------------------------------------------
check "DNS stub on 127.0.0.1:$DNS_PORT" acme_dns_start "$DNS_PORT" "$run/logs/dns.log"
pids+=("$acme_dns_pid")
acme_pebble_conf "$run" "$PEBBLE_PORT" "$PEBBLE_MGMT_PORT" "$HTTP_PORT" "$HTTPS_PORT" "$lifetime"
start_pebble() {
    acme_pebble_start "$run" "$pebble" "$DNS_PORT" "$PEBBLE_MGMT_PORT" "$run/logs/pebble.log"
    local rc=$?
    pebble_pid=$acme_pebble_pid
    pids+=("$pebble_pid")
    return $rc
}
stop_pebble() { kill "$pebble_pid" 2>/dev/null; wait "$pebble_pid" 2>/dev/null; }
check "pebble up on 127.0.0.1:$PEBBLE_PORT, its root fetched from /roots/0" start_pebble

# echo servers standing in for the TURN ports of the two nodes
for p in $LK_TURN_TLS_PORT $LK2_TURN_TLS_PORT; do
python3 -c '
import socketserver, sys
class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            data = self.request.recv(4096)
            if not data:
                return
            self.request.sendall(data)
socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer(("127.0.0.1", int(sys.argv[1])), Echo).serve_forever()
' "$p" >>"$run/logs/echo.log" 2>&1 &
pids+=($!)
done

# ---- nginx: the example with [stream] [turn443] [node2] on ----------------------
fd_keys "$run/keys.yaml"
export FD_MODULE=$module FD_DIR=$run FD_KEYS=$run/keys.yaml FD_CERTS=$run/certs \
       FD_DEMO=$repo/build/demo FD_HOST=127.0.0.1 FD_HTTP_PORT=$HTTP_PORT \
       FD_HTTPS_PORT=$HTTPS_PORT FD_INTERNAL_HTTPS_PORT=$INTERNAL_HTTPS_PORT \
       FD_TURN_TERM_PORT=$TURN_TERM_PORT FD_LK_PORT=$LK_PORT \
       FD_LK_TURN_TLS_PORT=$LK_TURN_TLS_PORT FD_URL=wss://$domain:$HTTPS_PORT \
       FD_LK2_PORT=$LK2_PORT FD_TURN2_TERM_PORT=$TURN2_TERM_PORT \
       FD_LK2_TURN_TLS_PORT=$LK2_TURN_TLS_PORT \
       FD_ACME_MODULE=$acme_module FD_ACME_URI=https://127.0.0.1:$PEBBLE_PORT/dir \
       FD_ACME_CA=$run/pebble-ca/ca.pem FD_DNS_PORT=$DNS_PORT
[ -z "${ACME_MODULES_ENABLED+set}" ] || export FD_MODULES_ENABLED=$ACME_MODULES_ENABLED
tags=(stream turn443 node2)
fd_render "$run/nginx.conf" "${tags[@]}" || { notok "render the example"; finish; }
# the example's directives, untouched: only where the matrix's nginx loads
# its own stream module is Debian's include not there
if [ -z "${ACME_MODULES_ENABLED+set}" ]; then
    check "the rendered config has the example's directives with [stream] [turn443] [node2], no more, no fewer" \
        fd_same_directives "$run/nginx.conf" "${tags[@]}"
fi
# temp_paths CONF: the http temp paths of this nginx (configured, or under
# its prefix) whose folder is missing here (its package would have made it:
# the official image's /var/cache/nginx, upstream's /usr/local/nginx),
# moved into $run
temp_paths() {
    local args a k p prefix=/usr/local/nginx
    args=" $("$nginx" -V 2>&1 | sed -n 's/^configure arguments: //p') "
    for a in $args; do [[ $a == --prefix=* ]] && prefix=${a#*=}; done
    for k in client_body proxy fastcgi uwsgi scgi; do
        [[ $args == *" --without-http_${k}_module "* ]] && continue
        p=${k}_temp
        for a in $args; do [[ $a == --http-${k//_/-}-temp-path=* ]] && p=${a#*=}; done
        [[ $p == /* ]] || p=$prefix/$p
        [ -d "$(dirname "$p")" ] && continue
        mkdir -p "$run/tmp"
        sed -i "/^http {\$/a\    ${k}_temp_path  $run/tmp/$k;" "$1" || return 1
    done
}
temp_paths "$run/nginx.conf" || { notok "temp paths in the example"; finish; }
state=$run/acme-state
check "the rendered example listens on 127.0.0.1 only (no port 80/443, no IPv6)" \
    bash -c "! grep -E '^\s*listen\s' '$run/nginx.conf' | grep -vE '^\s*listen\s+127\.0\.0\.1:[0-9]+[ ;]'"

start_nginx() {
    "$nginx" -e "$run/logs/error.log" -c "$run/nginx.conf" -t -q 2>"$run/nginx-t.err" || {
        cat "$run/nginx-t.err" >&2; return 1; }
    # the example logs at warn; the ACME module's own story (issued,
    # renewal scheduled, loaded) is at info: a second log, for the checks
    "$nginx" -e "$run/logs/error.log" -c "$run/nginx.conf" \
        -g "error_log $run/logs/acme-info.log info;" || return 1
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
workers() { pgrep -P "$(cat "$run/nginx.pid")" | sort | tr '\n' ' '; }
orders() { grep -c 'Added order' "$run/logs/pebble.log"; }

check "nginx runs the example with [stream] [turn443] [node2] (ACME module, pebble as the CA)" \
    start_nginx || finish

wait_files() { # seconds
    local i
    for ((i = 0; i < $1 * 5; i++)); do
        compgen -G "$state/$domain-*.key" >/dev/null \
            && compgen -G "$state/$turn_domain-*.key" >/dev/null \
            && compgen -G "$state/$turn2_domain-*.key" >/dev/null && return 0
        sleep 0.2
    done
    return 1
}
check "certificates for $domain, $turn_domain and $turn2_domain issued into state_path" wait_files 60

# ---- HTTP-01 for real ---------------------------------------------------------
check "pebble's validator asked the DNS stub for $domain, $turn_domain and $turn2_domain" \
    bash -c "grep -q '^QUERY 1 $domain\$' '$run/logs/dns.log' && grep -q '^QUERY 1 $turn_domain\$' '$run/logs/dns.log' && grep -q '^QUERY 1 $turn2_domain\$' '$run/logs/dns.log'"
n=$(grep -c '"GET /.well-known/acme-challenge/[A-Za-z0-9_-]\{20,\} HTTP/1.1" 200 .*LetsEncrypt-Pebble-VA' "$run/logs/access.log")
check "pebble's validator fetched $n HTTP-01 challenges from nginx's port $HTTP_PORT (200)" test "$n" -ge 3
check "pebble validated over HTTP-01 (no always-valid shortcut): $(grep -c 'Attempting to validate w/ HTTP' "$run/logs/pebble.log") attempts, $(grep -c 'set VALID by completed challenge' "$run/logs/pebble.log") valid" \
    bash -c "grep -q 'Attempting to validate w/ HTTP: http://$turn_domain:$HTTP_PORT/' '$run/logs/pebble.log' && grep -q 'set VALID by completed challenge' '$run/logs/pebble.log' && ! grep -q 'VA always returns valid' '$run/logs/pebble.log'"

# ---- what the clients see -------------------------------------------------------
root=$run/pebble-root.pem
probe() { python3 e2e/acme-tls.py "$@" 2>>"$run/logs/probe.err"; }
wait_probe() { # seconds port name cafile...: the first serial that verifies
    local i s
    for ((i = 0; i < $1 * 2; i++)); do
        s=$(probe "${@:2}") && { echo "$s"; return 0; }
        sleep 0.5
    done
    return 1
}
meet1=$(wait_probe 10 "$HTTPS_PORT" "$domain" "$root")
check "https://$domain verifies against pebble's root with hostname checking (serial ${meet1:-none}, SNI route)" \
    test -n "$meet1"
code=$(curl -sS --max-time 10 --cacert "$root" --resolve "$domain:$HTTPS_PORT:127.0.0.1" \
       -o /dev/null -w '%{http_code}' "https://$domain:$HTTPS_PORT/token?room=r&participant=p")
check "curl with pebble's root: /token on https://$domain answers $code" test "$code" = 200
check "the meet.* certificate is refused for another name (hostname checking is on)" \
    bash -c "! python3 e2e/acme-tls.py $HTTPS_PORT other.dissertation-editor.com '$root' 2>/dev/null"
check "the meet.* certificate is refused without pebble's root (system trust store)" \
    bash -c "! curl -sS --max-time 10 --resolve '$domain:$HTTPS_PORT:127.0.0.1' -o /dev/null 'https://$domain:$HTTPS_PORT/' 2>/dev/null"
turn1=$(wait_probe 10 "$HTTPS_PORT" "$turn_domain" "$root" --echo)
check "TLS to $turn_domain through the SNI route verifies and passes bytes (serial ${turn1:-none})" \
    test -n "$turn1"
tturn1=$(wait_probe 10 "$HTTPS_PORT" "$turn2_domain" "$root" --echo)
check "TLS to $turn2_domain (the second node's TURN name) through the SNI route verifies and passes bytes (serial ${tturn1:-none})" \
    test -n "$tturn1"
check "the three names have three certificates" \
    test "$(printf '%s\n' "$meet1" "$turn1" "$tturn1" | sort -u | grep -c .)" = 3
# the stream side names the module's state files: <name>-<hash>
example_hash() { # name
    local re=${1//./[.]}
    sed -n "s|.*default *"'/var/lib/nginx/acme/'"$re-\([0-9a-f]*\);.*|\1|p" nginx.conf.example
}
for n in "$turn_domain" "$turn2_domain"; do
    hash=$(example_hash "$n")
    check "the example's $n state file name ($n-$hash) is the module's ($(cd "$state" && ls "$n"-*.crt 2>/dev/null | tr '\n' ' '))" \
        test -n "$hash" -a -f "$state/$n-$hash.crt"
done

# ---- keys are not readable by others ---------------------------------------------
modes() { stat -c '%a %U %n' "$state" "$state"/*; }
note "state_path: $(modes | tr '\n' ';')"
check "state_path is mode 700, owned by the worker user ($(stat -c %U "$state"))" \
    test "$(stat -c '%a' "$state")" = 700
bad=$(find "$state" -mindepth 1 \( -perm /077 -o -name '*.tmp' \) -printf '%m %f; ')
check "every file in state_path (account key, certificate keys) is mode 600, no .tmp left${bad:+: $bad}" \
    test -z "$bad"
check "the account key is there (a restart keeps the account)" test -f "$state/account.key"
if id nobody >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    check "another user (nobody) cannot read any key" \
        bash -c "! runuser -u nobody -- cat '$state'/*.key >/dev/null 2>&1"
fi
check "no private key in the error logs (warn and info)" \
    bash -c "! grep -q 'PRIVATE KEY' '$run/logs/error.log' '$run/logs/acme-info.log'"

# ---- restart: no new order --------------------------------------------------------
# pebble's renewal information (ARI) for lifetimes under two days is the
# whole lifetime, and the module picks a random point in it each time it
# asks (at each start, too): so that any order after the restart is the
# restart's own, nginx is stopped first (no renewal in flight), then the
# window of both certificates in state_path, issued moments ago, is pinned
# to the last seconds of their lives (pebble's management API); the
# renewals below then come at the end of their lives.
pin_ari() { # name
    local crt
    crt=$(compgen -G "$state/$1-*.crt" | head -n 1) || return 1
    python3 - "$crt" "$run/pebble-ca/ca.pem" "$PEBBLE_MGMT_PORT" <<'PY'
import datetime, json, ssl, subprocess, sys, urllib.request
crt, ca, port = sys.argv[1:]
pem = subprocess.run(["openssl", "x509", "-in", crt], capture_output=True,
                     check=True).stdout.decode()
end = subprocess.run(["openssl", "x509", "-in", crt, "-noout", "-enddate"],
                     capture_output=True, check=True).stdout.decode()
end = datetime.datetime.strptime(end.strip().split("=", 1)[1],
                                  "%b %d %H:%M:%S %Y %Z")
fmt = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")
window = {"suggestedWindow": {"start": fmt(end - datetime.timedelta(seconds=4)),
                              "end": fmt(end - datetime.timedelta(seconds=2))}}
body = json.dumps({"Certificate": pem, "ARIResponse": json.dumps(window)}).encode()
req = urllib.request.Request("https://127.0.0.1:%s/set-renewal-info/" % port, body)
ctx = ssl.create_default_context(cafile=ca)
with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
    sys.exit(0 if r.status == 200 else 1)
PY
}
pin_all() { pin_ari "$domain" && pin_ari "$turn_domain" && pin_ari "$turn2_domain"; }
state_serial() { # name
    openssl x509 -in "$(compgen -G "$state/$1-*.crt" | head -n 1)" -noout -serial | cut -d= -f2
}
stop_nginx
check "pebble's renewal window of the three certificates pinned to their last seconds" pin_all
before=$(orders)
ari_before=$(grep -c 'GET /draft-ietf-acme-ari-03/renewalInfo/' "$run/logs/pebble.log")
meet_now=$(state_serial "$domain")
turn_now=$(state_serial "$turn_domain")
tturn_now=$(state_serial "$turn2_domain")
check "nginx restarted" start_nginx
meet_r=$(wait_probe 10 "$HTTPS_PORT" "$domain" "$root")
turn_r=$(wait_probe 10 "$HTTPS_PORT" "$turn_domain" "$root")
tturn_r=$(wait_probe 10 "$HTTPS_PORT" "$turn2_domain" "$root")
sleep 4
ari_after=$(grep -c 'GET /draft-ietf-acme-ari-03/renewalInfo/' "$run/logs/pebble.log")
check "after the restart meet.* is served from state_path ($meet_r, the state file's $meet_now)" \
    test "$meet_r" = "$meet_now"
check "after the restart turn.* is served from state_path ($turn_r, the state file's $turn_now)" \
    test "$turn_r" = "$turn_now"
check "after the restart turn2.* is served from state_path ($tturn_r, the state file's $tturn_now)" \
    test "$tturn_r" = "$tturn_now"
check "after the restart the module asked the CA for renewal information ($((ari_after - ari_before)) requests)" \
    test "$ari_after" -gt "$ari_before"
check "the restart placed no new order ($before orders before, $(orders) after)" \
    test "$(orders)" = "$before"

# ---- renewal without reload -----------------------------------------------------
master=$(cat "$run/nginx.pid")
w1=$(workers)
note "waiting for the three renewals (lifetime ${lifetime}s, renewed where pebble's renewal information says)"
meet2=$meet1 turn2=$turn1 tturn2=$tturn1
for ((i = 0; i < lifetime * 3; i++)); do
    [ "$meet2" = "$meet1" ] && meet2=$(probe "$HTTPS_PORT" "$domain" "$root" || echo "$meet1")
    [ "$turn2" = "$turn1" ] && turn2=$(probe "$HTTPS_PORT" "$turn_domain" "$root" || echo "$turn1")
    [ "$tturn2" = "$tturn1" ] && tturn2=$(probe "$HTTPS_PORT" "$turn2_domain" "$root" || echo "$tturn1")
    [ "$meet2" != "$meet1" ] && [ "$turn2" != "$turn1" ] && [ "$tturn2" != "$tturn1" ] && break
    sleep 0.5
done
check "meet.* renewed: serial $meet1 -> $meet2, verified" test "$meet2" != "$meet1"
check "turn.* renewed, the stream side serves the new one: serial $turn1 -> $turn2, verified" \
    test "$turn2" != "$turn1"
check "turn2.* renewed, served by its own terminator: serial $tturn1 -> $tturn2, verified" \
    test "$tturn2" != "$tturn1"
turn3=$(probe "$HTTPS_PORT" "$turn_domain" "$root" --echo)
check "the renewed turn.* certificate passes bytes" test -n "$turn3"
check "no reload: same master ($master), same workers" \
    test "$(cat "$run/nginx.pid") $(workers)" = "$master $w1"
check "no reload: nothing in the error log about reconfiguring" \
    bash -c "! grep -q 'reconfiguring' '$run/logs/error.log'"

# ---- the CA down at start ------------------------------------------------------------
stop_nginx
stop_pebble
meet_now=$(state_serial "$domain")
turn_now=$(state_serial "$turn_domain")
mv "$run/logs/error.log" "$run/logs/error-before-ca-down.log"
check "nginx starts while the CA is down" start_nginx
meet_d=$(wait_probe 10 "$HTTPS_PORT" "$domain" "$root")
turn_d=$(wait_probe 10 "$HTTPS_PORT" "$turn_domain" "$root" --echo)
check "with the CA down it serves the meet.* certificate it has ($meet_d), verified" \
    test "$meet_d" = "$meet_now"
check "with the CA down TURN/TLS serves the turn.* one it has ($turn_d), verified, and passes bytes" \
    test "$turn_d" = "$turn_now"
ca_down_logged() {
    local i
    for ((i = 0; i < 40; i++)); do
        grep -q "$ACME_CA_DOWN_RE" "$run/logs/error.log" && return 0
        sleep 0.5
    done
    return 1
}
ACME_CA_DOWN_RE='while creating account, acme issuer "letsencrypt"'
ca_down_logged
check "and says so in its log: $(grep -m1 -o "\[[a-z]*\].*$ACME_CA_DOWN_RE" "$run/logs/error.log" | cut -c1-160)" \
    grep -q "$ACME_CA_DOWN_RE" "$run/logs/error.log"
stop_nginx

finish
