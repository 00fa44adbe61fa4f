#!/usr/bin/env bash
# Every browser through the front door, each from a network of its own:
#
#   door      a network namespace with nginx (nginx.conf.example with
#             [certbot] [stream] [turn443]: ports, paths and certificates
#             substituted, the real ports 80, 443 and 7881 kept) and
#             livekit-server v1.13.5 on the same host (rtc.node_ip the
#             door's address, ICE/TCP on its own 7881, as the example
#             advises for one host), at 10.88.0.1 on a bridge
#   browsers  one namespace per browser (10.88.0.11 Chromium, .12 Firefox
#             ESR, .13 WebKitGTK), a veth on the door's bridge, its own
#             /etc/hosts for the public names and nftables for the path
#
# For each browser and path, a Go participant (e2e/client publish) in the
# door's namespace and the browser meet in a room of their own; the browser
# publishes its fake camera and microphone and receives the Go
# participant's:
#
#   udp     nothing blocked
#   tcp     UDP blocked: ICE/TCP to 7881
#   relay   everything but TCP 443 blocked: turns:turn.<domain>:443
#
# Each cell checks, in the browser, that every selected candidate pair is
# that path's, that the peer's video frames are decoded and its audio has
# energy; in the Go participant, that the browser's VP8 and Opus arrived
# and decode (with energy); in livekit-server's log, the participant's
# connectionType.  At the end: no token in any log.  WebKitGTK is probed:
# Debian's build has no RTCPeerConnection, so its cells are skipped with
# that evidence (README, "Browsers").
#
# Needs root (network namespaces), nft, chromium, firefox-esr, and for the
# probe webkit2gtk-driver and xvfb; scripts/deps.sh installs them.
#
#   E2E_KEEP=1        leave build/e2e/browsers in place
#   E2E_BROWSERS      the browsers to run (default: "chromium firefox webkit")
#   E2E_PATHS         the paths (default: "udp tcp relay")
set -uo pipefail

run=$(cd "$(dirname "$0")/.." && pwd)/build/e2e/browsers
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$repo"

turn_domain=turn.$domain
door_ip=10.88.0.1
ns=lkb$$
declare -A client_ip=([chromium]=10.88.0.11 [firefox]=10.88.0.12 [webkit]=10.88.0.13)
browsers=(${E2E_BROWSERS:-chromium firefox webkit})
paths=(${E2E_PATHS:-udp tcp relay})
LK_PORT=7880 LK_TCP_PORT=7881 LK_UDP_PORT=7882 LK_TURN_PORT=5349 TURN_RELAY=30000-30100

netns_down() {
    local n
    for n in door "${!client_ip[@]}"; do ip netns del "$ns-$n" 2>/dev/null; done
}
trap 'cleanup; netns_down' EXIT

# inns NAME CMD...: CMD in namespace NAME (door, or a browser's)
inns() { local n=$1; shift; ip netns exec "$ns-$n" "$@"; }

echo "# browsers: the front door at $door_ip in its own network namespace, each browser in another"
if [ "$(id -u)" != 0 ]; then
    skip "browser matrix: needs root for network namespaces"
    summary; exit 0
fi
rm -rf "$run"
mkdir -p "$run/logs" "$run/screenshots"

# ---- builds and tools --------------------------------------------------------------
prep=1
[ -f "$module" ] || { notok "module $module is not built (make module)"; prep=0; }
lk_bin=$(scripts/livekit-server.sh build 2>"$run/livekit-build.err") \
    || { cat "$run/livekit-build.err" >&2; notok "livekit-server build"; prep=0; }
build_client || { notok "e2e client build"; prep=0; }
{ fd_npm_ci e2e && fd_demo_build; } >"$run/npm.log" 2>&1 \
    || { tail -n 20 "$run/npm.log" >&2; notok "npm ci e2e / demo build"; prep=0; }
for t in ip nft certutil chromium firefox-esr; do
    command -v "$t" >/dev/null || { notok "$t is not installed (scripts/deps.sh)"; prep=0; }
done
((prep)) || { summary; exit 1; }
note "prepared in $(( $(date +%s) - started ))s"

# ---- the network: a bridge in the door's namespace, a veth per browser -------------
net_up() {
    local b
    ip netns add "$ns-door" || return 1
    inns door ip link set lo up
    inns door ip link add br0 type bridge
    inns door ip addr add "$door_ip/24" dev br0
    inns door ip link set br0 up
    for b in "${!client_ip[@]}"; do
        ip netns add "$ns-$b" || return 1
        inns door ip link add "v-$b" type veth peer name eth0 netns "$ns-$b"
        inns door ip link set "v-$b" master br0 up
        inns "$b" ip link set lo up
        inns "$b" ip addr add "${client_ip[$b]}/24" dev eth0
        inns "$b" ip link set eth0 up
        inns "$b" ip route add default via "$door_ip"
    done
}
check "network namespaces: the door at $door_ip, Chromium, Firefox and WebKit beside it" net_up \
    || { summary; exit 1; }

# firewall BROWSER PATH: the browser's network lets through what PATH allows
firewall() {
    local rules
    case $2 in
        udp)   rules='policy accept;' ;;
        tcp)   rules='policy accept; meta l4proto udp drop' ;;
        relay) rules='policy drop; oif "lo" accept; tcp dport 443 accept' ;;
    esac
    inns "$1" nft -f - <<EOF
flush ruleset
table inet client {
    chain out {
        type filter hook output priority 0; $rules
    }
}
EOF
}

# ---- certificates, the browsers' trust and names ---------------------------------
fd_ca "$run/ca"
fd_cert "$run/ca" "$run/certs/meet" "$domain"
fd_cert "$run/ca" "$run/certs/turn" "$turn_domain"
fd_keys "$run/keys.yaml"
# Chromium: the user's NSS database; Firefox: its profile's own store;
# WebKitGTK: the system bundle (mounted in its namespace only)
mkdir -p "$run/home/chromium/.pki/nssdb" "$run/home/firefox" "$run/firefox-profile"
for db in "$run/home/chromium/.pki/nssdb" "$run/firefox-profile"; do
    certutil -d "sql:$db" -N --empty-password
    certutil -d "sql:$db" -A -t "C,," -n "e2e test CA" -i "$run/ca/ca.pem"
done
cat /etc/ssl/certs/ca-certificates.crt "$run/ca/ca.pem" >"$run/ca-bundle.crt"
printf '127.0.0.1 localhost\n%s %s %s\n' "$door_ip" "$domain" "$turn_domain" >"$run/hosts"

# browser BROWSER CMD...: CMD in the browser's namespace, with its hosts
# file (and for WebKit the CA bundle) mounted over the system's there
browser() {
    local b=$1 bundle=''; shift
    [ "$b" = webkit ] && bundle=$run/ca-bundle.crt
    inns "$b" unshare -m sh -c 'h=$1 c=$2; shift 2
        mount --bind "$h" /etc/hosts || exit 1
        [ -z "$c" ] || mount --bind "$c" /etc/ssl/certs/ca-certificates.crt || exit 1
        exec "$@"' sh "$run/hosts" "$bundle" "$@"
}

# ---- livekit-server and nginx in the door's namespace -------------------------------
scripts/livekit-server.sh config "$run/livekit.yaml" KEY_FILE="$run/keys.yaml" \
    BIND="$door_ip" NODE_IP="$door_ip" PORT=$LK_PORT TCP_PORT=$LK_TCP_PORT \
    UDP_PORT=$LK_UDP_PORT TURN_DOMAIN="$turn_domain" TURN_TLS_PORT=$LK_TURN_PORT \
    TURN_UDP_PORT=0 TURN_RELAY=$TURN_RELAY
spawn "$run/logs/livekit.log" ip netns exec "$ns-door" "$lk_bin" --config "$run/livekit.yaml"
check "livekit-server v1.13.5 at $door_ip:$LK_PORT, ICE/TCP :$LK_TCP_PORT, ICE/UDP :$LK_UDP_PORT, TURN behind nginx" \
    inns door bash -c "$(declare -f wait_http); wait_http http://$door_ip:$LK_PORT/ 20"

export FD_MODULE=$module FD_DIR=$run FD_KEYS=$run/keys.yaml FD_CERTS=$run/certs \
       FD_DEMO=$repo/build/demo FD_HOST=$door_ip FD_HTTP_PORT=80 FD_HTTPS_PORT=443 \
       FD_URL=wss://$domain FD_INTERNAL_HTTPS_PORT=8443 FD_TURN_TERM_PORT=5350 \
       FD_LK_PORT=$LK_PORT FD_LK_TURN_TLS_PORT=$LK_TURN_PORT FD_LK_TCP_PORT=$LK_TCP_PORT \
       FD_ICETCP_PORT=7881
fd_render "$run/nginx.conf" certbot stream turn443
nginx() { inns door "$nginx" -e "$run/logs/error.log" -c "$run/nginx.conf" "$@"; }
if ! nginx -t -q 2>"$run/nginx-t.err" || ! nginx; then
    cat "$run/nginx-t.err" >&2
    notok "nginx with the example's [certbot] [stream] [turn443] in the door's namespace"
    summary; exit 1
fi
ok "nginx runs the example with [certbot] [stream] [turn443] on $door_ip:80 and :443"
check "the rendered config has the example's directives with those tags, no more, no fewer" \
    fd_same_directives "$run/nginx.conf" certbot stream turn443

# ---- WebKitGTK: can it take part? --------------------------------------------------
webkit_probe() {
    local xvfb wd
    if ! command -v WebKitWebDriver >/dev/null || ! command -v Xvfb >/dev/null; then
        skip "webkit: WebKitWebDriver and Xvfb are not installed (webkit2gtk-driver, xvfb)"
        return
    fi
    spawn "$run/logs/xvfb.log" ip netns exec "$ns-webkit" Xvfb :88 -nolisten tcp -screen 0 1280x800x24
    xvfb=$spawned
    spawn "$run/logs/webkitwebdriver.log" browser webkit env DISPLAY=:88 WebKitWebDriver --port=4444
    wd=$spawned
    sleep 1
    local log=$run/logs/webkit-probe.log rc
    browser webkit env DISPLAY=:88 E2E_DOOR="https://$domain" node e2e/browsers.mjs webkit probe >"$log" 2>&1
    rc=$?
    tally "webkit probe" bash -c 'grep -v "^WEBRTC " "$0"; exit "$1"' "$log" "$rc"
    kill "$wd" "$xvfb" 2>/dev/null
    local lib gst
    lib=$(ldconfig -p | sed -n 's/.*libwebkit2gtk-4\.1\.so\.0 .*=> //p' | head -n 1)
    gst=$(ldd "$lib" 2>/dev/null | grep -c 'libgstwebrtc')
    if grep -q '^WEBRTC no' "$log"; then
        webkit_skip="WebKitGTK $(dpkg-query -W -f '${Version}' libwebkit2gtk-4.1-0 2>/dev/null) has no RTCPeerConnection with --enable-webrtc=true, and $lib links no libgstwebrtc ($gst): Debian builds it without WebRTC (getUserMedia works)"
    elif grep -q '^WEBRTC yes' "$log"; then
        webkit_why="WebKitGTK now has RTCPeerConnection: give it a driver in e2e/browsers.mjs"
    fi
}

# lk_active BROWSER PATH IDENTITY: livekit-server's "participant active"
# line for the browser names its connectionType and the remote candidate it
# selected then.  Where that candidate came from tells the path: the
# browser's own address over UDP or TCP, or livekit-server's own TURN relay
# (the door's address, the relay range).  Under "tcp", Chromium may get its
# TURN/TLS pair before its ICE/TCP one and move to ICE/TCP later (its
# selected pairs above): livekit-server logs the type when the participant
# became active, so a relayed start is that path's too.
lk_active() {
    local b=$1 p=$2 id=$3 line type cand proto addr port via=none
    line=$(grep 'participant active' "$run/logs/livekit.log" | grep -F "\"participant\": \"$id-" | head -n 1)
    type=$(grep -o '"connectionType": "[a-z]*"' <<<"$line" | cut -d'"' -f4)
    cand=$(grep -o '\[remote\]\[selected:1\][^"]*' <<<"$line" | head -n 1)
    read -r proto _ addr _ <<<"${cand#*] }"
    port=${addr##*:} addr=${addr%:*}
    if [ "$addr" = "$door_ip" ] && ((port >= ${TURN_RELAY%-*} && port <= ${TURN_RELAY#*-})); then
        via=relay
    elif [ "$addr" = "${client_ip[$b]}" ]; then
        via=$proto
    fi
    local fine=0
    case $p/$via/$type in
        udp/udp/udp | tcp/tcp/tcp | tcp/relay/* | relay/relay/*) fine=1 ;;
    esac
    check "$b/$p: livekit-server logs the browser's connectionType \"$type\", its selected candidate ${cand#*] } ($via)" \
        test "$fine" = 1
}

# ---- one cell -----------------------------------------------------------------------
declare -A cell
run_cell() { # browser path
    local b=$1 p=$2 room id peer log rep
    # the example's page makes the identity: the name and a suffix
    room=$b-$p-$RANDOM id=$b-$p-$RANDOM peer=peer-$b-$p
    log=$run/logs/peer-$b-$p.log
    firewall "$b" "$p" || { notok "$b/$p: nftables rules for $p"; return; }
    spawn "$log" ip netns exec "$ns-door" "$client_bin" -door "https://$domain" -ca "$run/ca/ca.pem" \
        -resolve "$domain=$door_ip" -room "$room" -identity "$peer" -duration 120s publish
    local pub=$spawned i
    for ((i = 0; i < 100; i++)); do grep -q '^READY' "$log" && break; sleep 0.2; done
    check "$b/$p: the Go participant $peer publishes VP8 and Opus in $room" grep -q '^READY' "$log" \
        || return
    local before=$failed
    tally "$b/$p" browser "$b" env HOME="$run/home/$b" E2E_DOOR="https://$domain" E2E_ROOM="$room" \
        E2E_IDENTITY="$id" E2E_PROFILE="$run/firefox-profile" \
        E2E_UDP_PORT=$LK_UDP_PORT E2E_TCP_PORT=$LK_TCP_PORT E2E_OUT="$run/screenshots" \
        node e2e/browsers.mjs "$b" "$p"
    kill "$pub" 2>/dev/null
    wait "$pub" 2>/dev/null
    rep=$(grep '^RECEIVED ' "$log")
    check "$b/$p: the Go participant decoded the browser's camera and microphone ($rep)" \
        awk -v id="$id" '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] } }
            END { exit !(index(f["from"], id "-") == 1 && f["video"] >= 30 && f["audio"] >= 50 && f["peak"] >= 300 && f["errors"] == 0) }' <<<"$rep"
    lk_active "$b" "$p" "$id"
    if ((failed == before)); then cell[$b/$p]=pass; else cell[$b/$p]=fail; fi
}

webkit_skip='' webkit_why=''
for b in "${browsers[@]}"; do
    if [ "$b" = webkit ]; then
        note "WebKitGTK (WebKitWebDriver, MiniBrowser) from ${client_ip[webkit]}"
        webkit_probe
    fi
    for p in "${paths[@]}"; do
        if [ "$b" = webkit ]; then
            if [ -n "$webkit_skip" ]; then skip "webkit/$p: $webkit_skip"
            else notok "webkit/$p: ${webkit_why:-the probe did not tell whether WebKitGTK has WebRTC}"; fi
            cell[$b/$p]=skip
            continue
        fi
        note "$b over $p from ${client_ip[$b]}"
        run_cell "$b" "$p"
    done
done

# ---- nothing leaks -------------------------------------------------------------------
nginx -s quit
for ((i = 0; i < 50; i++)); do [ -f "$run/nginx.pid" ] || break; sleep 0.1; done
logs=("$run"/logs/access.log "$run"/logs/error.log "$run"/logs/stream.log \
      "$run"/logs/livekit-joins.log "$run"/logs/livekit.log)
ran=" ${cell[*]} "
if [[ $ran == *" pass "* || $ran == *" fail "* ]]; then
    n_cells=0
    for k in "${!cell[@]}"; do [ "${cell[$k]}" = skip ] || n_cells=$((n_cells + 1)); done
    n_rtc=$(grep -c '^10\.88\.0\.1[1-3] .*"GET /rtc[^ ]* HTTP/1.1" 101' "$run/logs/access.log")
    check "access log: $n_rtc signalling WebSockets from the browsers' own addresses (the PROXY protocol's), $n_cells cells" \
        test "$n_rtc" -ge "$n_cells"
fi
if [[ " ${!cell[*]} " == *"/relay "* ]] && [[ $ran != *" skip "* || ${#browsers[@]} -gt 1 ]]; then
    check "stream log: TURN/TLS sessions from the browsers routed by SNI $turn_domain" \
        grep -q "^10\.88\.0\.1[1-3] .*\"$turn_domain\"" "$run/logs/stream.log"
fi
check "no access_token and no JWT in nginx's access, error, stream and join logs or livekit-server's log" \
    no_tokens "${logs[@]}"

note "cells: $(for k in "${!cell[@]}"; do printf '%s=%s ' "$k" "${cell[$k]}"; done)"
# the README's table (section "Browsers") marks exactly the cells that passed
if [ -z "${E2E_BROWSERS:-}${E2E_PATHS:-}" ]; then
    marked=$(grep -o '`[a-z]*/[a-z]*` ✓' README.md | tr -d '`✓ ' | sort | xargs)
    proven=$(for k in "${!cell[@]}"; do [ "${cell[$k]}" = pass ] && echo "$k"; done | sort | xargs)
    check "README's browser table marks exactly the cells that passed ($marked)" test "$marked" = "$proven"
fi
summary "logs: $run/logs; screenshots: $run/screenshots"
