#!/usr/bin/env bash
# Several livekit-server nodes behind the front door: Redis (Debian's
# redis-server) and two livekit-server v1.13.5 nodes on 127.0.0.1, and
# nginx.conf.example with its [node2] line switched on (ports, paths and
# certificates substituted, nothing else).  Through the front door only:
#
#   - two participants whose signal connections land on different nodes
#     (nginx's round robin; checked in the access log and in each node's
#     log) meet in one room and decode each other's VP8 and Opus;
#   - the server API through /twirp sees the room and both participants;
#   - the node that does not host the room (named in the join responses)
#     is killed; four new participants join within nginx's retry, the first
#     one decodes media of the earlier ones, and the access log shows one
#     failed attempt on the dead node, then none (passive health check);
#   - no log line holds a token;
#   - TURN/TLS by SNI per node ([stream] [turn443] with [node2], on port
#     443: root only, skipped when 443 is taken): each node has its own
#     TURN name (turn.* and turn2.*) and relay range; a TURN Allocate over
#     TLS with each name gets a relayed address in that node's range, a
#     wrong password is refused, and the stream log names both SNIs.
#
#   E2E_PORT_BASE=24400   ports used: base+100 .. base+149, and 443
#   E2E_KEEP=1            leave build/e2e/multinode in place
set -uo pipefail

run=$(cd "$(dirname "$0")/.." && pwd)/build/e2e/multinode
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$repo"

off=$(( ${E2E_PORT_BASE:-24400} + 100 ))
HTTP_PORT=$off HTTPS_PORT=$((off + 1)) LK1=$((off + 10)) LK2=$((off + 20))
redis_port=$((off + 30))
# TURN: each node's plain TURN port (TLS ends in nginx) and relay range,
# nginx's two terminators
TURN1=$((off + 13)) TURN2=$((off + 23)) RELAY1=$((off + 35))-$((off + 41))
RELAY2=$((off + 42))-$((off + 48)) TURN1_TERM=$((off + 6)) TURN2_TERM=$((off + 7))
turn1=turn.$domain turn2=turn2.$domain

echo "# multinode: front door on 127.0.0.1:$HTTPS_PORT, nodes :$LK1 and :$LK2, Redis :$redis_port"
rm -rf "$run"
mkdir -p "$run/logs"
ports_free $HTTP_PORT $HTTPS_PORT $LK1 $((LK1 + 1)) $((LK1 + 2)) $LK2 $((LK2 + 1)) \
    $((LK2 + 2)) $redis_port $TURN1 $TURN2 $TURN1_TERM $TURN2_TERM || { summary; exit 1; }

# ---- builds --------------------------------------------------------------------
[ -f "$module" ] || { notok "module $module is not built (make module)"; summary; exit 1; }
lk_bin=$(scripts/livekit-server.sh build 2>"$run/livekit-build.err") \
    || { cat "$run/livekit-build.err" >&2; notok "livekit-server build"; summary; exit 1; }
build_client || { notok "e2e client build"; summary; exit 1; }
note "prepared in $(( $(date +%s) - started ))s"

fd_ca "$run/ca"
fd_cert "$run/ca" "$run/certs/meet" "$domain"
fd_cert "$run/ca" "$run/certs/turn" "$turn1"
fd_cert "$run/ca" "$run/certs/turn2" "$turn2"
fd_keys "$run/keys.yaml"

# ---- Redis and two nodes ----------------------------------------------------------
check "redis-server up on 127.0.0.1:$redis_port" start_redis "$redis_port"
# debug: the signal node of a participant logs its identity only there
node_config "$run/node1.yaml" node1 "$LK1" LOG_LEVEL=debug TURN_DOMAIN="$turn1" \
    TURN_TLS_PORT="$TURN1" TURN_UDP_PORT=0 TURN_RELAY="$RELAY1"
node_config "$run/node2.yaml" node2 "$LK2" LOG_LEVEL=debug TURN_DOMAIN="$turn2" \
    TURN_TLS_PORT="$TURN2" TURN_UDP_PORT=0 TURN_RELAY="$RELAY2"
check "node 1 (livekit-server v1.13.5, Redis) up on :$LK1" start_node node1 "$run/node1.yaml" "$LK1"
check "node 2 (livekit-server v1.13.5, Redis) up on :$LK2" start_node node2 "$run/node2.yaml" "$LK2"
note "node ids: node1 ${node_id[node1]:-?} node2 ${node_id[node2]:-?}"
check "the two nodes have their own node ids" \
    test -n "${node_id[node1]:-}" -a "${node_id[node1]:-}" != "${node_id[node2]:-}"
if ((failed)); then summary; exit 1; fi

# ---- the front door ---------------------------------------------------------------
export FD_MODULE=$module FD_DIR=$run FD_KEYS=$run/keys.yaml FD_CERTS=$run/certs \
       FD_DEMO=$repo/build/demo FD_HOST=127.0.0.1 FD_HTTP_PORT=$HTTP_PORT \
       FD_HTTPS_PORT=$HTTPS_PORT FD_URL=wss://$domain:$HTTPS_PORT \
       FD_LK_PORT=$LK1 FD_LK2_PORT=$LK2 FD_INTERNAL_HTTPS_PORT=$((off + 2)) \
       FD_TURN_TERM_PORT=$((off + 3)) FD_LK_TURN_TLS_PORT=$((off + 4)) \
       FD_LK_TCP_PORT=$((LK1 + 1)) FD_ICETCP_PORT=$((off + 5))
fd_render "$run/nginx.conf" certbot node2
if ! start_nginx "$run/nginx.conf"; then
    notok "nginx -t and start with the rendered nginx.conf.example [node2]"
    summary; exit 1
fi
ok "nginx runs nginx.conf.example with [node2] on 127.0.0.1:$HTTPS_PORT"
check "the rendered config has the example's directives with [certbot] [node2], no more, no fewer" \
    fd_same_directives "$run/nginx.conf" certbot node2
check "upstream livekit lists both nodes" \
    test "$(grep -cE "^\s*server\s+127\.0\.0\.1:($LK1|$LK2)\s+max_fails=" "$run/nginx.conf")" = 2

# ---- participants ---------------------------------------------------------------
room=multinode-$RANDOM
tally "multinode" "$client_bin" -door "https://$domain:$HTTPS_PORT" -ca "$run/ca/ca.pem" \
    -resolve "$domain=127.0.0.1" -keys "$run/keys.yaml" -room "$room" \
    -nodes "${node_id[node1]}=${node_pid[node1]},${node_id[node2]}=${node_pid[node2]}" \
    multinode >"$run/client.out"
cat "$run/client.out"
sleep 1
kill -QUIT "$(cat "$run/nginx.pid")" 2>/dev/null   # flush: writes the /rtc lines
for ((i = 0; i < 50; i++)); do [ -f "$run/nginx.pid" ] || break; sleep 0.1; done

# ---- what the logs say -------------------------------------------------------------
host=$(sed -n 's/^# HOST //p' "$run/client.out")
dead=node1 live=node2
[ "$host" = "${node_id[node1]}" ] && dead=node2 live=node1
dead_addr=127.0.0.1:$([ $dead = node1 ] && echo "$LK1" || echo "$LK2")
live_addr=127.0.0.1:$([ $live = node1 ] && echo "$LK1" || echo "$LK2")
note "room on $live (${node_id[$live]}), $dead ($dead_addr) killed"
log=$run/logs/access.log

a_id=$(sed -n 's/^# JOINED //p' "$run/client.out" | sed -n 1p)
b_id=$(sed -n 's/^# JOINED //p' "$run/client.out" | sed -n 2p)
# a participant's signal node: the one whose rtcservice first accepted its
# WebSocket ("join request validated", at debug level; the one on the dead
# node resumes later through the other)
signal_node() { # identity
    local n
    for n in node1 node2; do
        grep -m1 "join request validated.*\"participant\": \"$1\"" \
            "$run/logs/livekit-$n.log" | awk -v n=$n '{ print $1, n }'
    done | sort | awk 'NR == 1 { print $2 }'
}
sig_a=$(signal_node "$a_id") sig_b=$(signal_node "$b_id")
check "the two first participants' signal connections landed on different nodes (${sig_a:-none}, ${sig_b:-none})" \
    test -n "$sig_a" -a -n "$sig_b" -a "$sig_a" != "$sig_b"
check "the first participant's signal node chose the room's node through Redis (\"selected node for room\" $live)" \
    grep -qE "selected node for room.*\"selectedNodeID\": \"${node_id[$live]}\"" \
        "$run/logs/livekit-${sig_a:-node1}.log"

# after the mark (the moment of the kill): failed attempts on the dead node
mark=$(grep -n 'GET /e2e-mark/node-killed ' "$log" | head -n 1 | cut -d: -f1)
check "the access log has the mark of the kill" test -n "$mark"
mark=${mark:-0}
tail -n +"$((mark + 1))" "$log" | grep -E '"GET /rtc(/v1)? |"POST /twirp/' >"$run/after-kill" || true
retried=$(grep -c "up=\"$dead_addr, $live_addr\" us=\"50[24], [0-9]*\"" "$run/after-kill")
check "access log: one request tried the dead node, failed and went on to the live one ($retried)" \
    test "$retried" = 1
check "access log: the retried request was answered by the live node (us=\"502, 101\" or \"502, 200\")" \
    grep -qE "up=\"$dead_addr, $live_addr\" us=\"50[24], (101|200)\"" "$run/after-kill"
# new requests after that: only the live node (a line naming the dead node
# alone is a WebSocket opened before the kill, closed by it: status 101)
strays=$(grep "$dead_addr" "$run/after-kill" | grep -v "up=\"$dead_addr, $live_addr\"" \
         | grep -vc "up=\"$dead_addr\" us=\"101\"")
check "access log: no other request reached the dead node after the first failure ($strays)" \
    test "$strays" = 0
new_rtc=$(grep -c "up=\"$live_addr\" us=\"101\"" "$run/after-kill")
check "access log: new WebSockets after the kill all on the live node ($new_rtc)" test "$new_rtc" -ge 3
check "access log holds no access_token and no JWT" no_tokens "$log"
check "error log holds no access_token and no JWT" no_tokens "$run/logs/error.log"

# ---- TURN/TLS by SNI, per node ------------------------------------------------------
# livekit-server advertises turns:<its turn.domain>:443, so the stream
# listener must be on 443 (as e2e/run.sh's TURN stage)
if [ "$(id -u)" != 0 ] || ! port_free 443; then
    skip "TURN/TLS by SNI per node: port 443 on 127.0.0.1 is not available (not root, or in use)"
    summary; exit
fi
if ! kill -0 "${node_pid[$dead]}" 2>/dev/null; then
    check "$dead started again for the TURN stage" \
        start_node "$dead" "$run/$dead.yaml" "$([ $dead = node1 ] && echo "$LK1" || echo "$LK2")"
fi
FD_HTTPS_PORT=443 FD_URL=wss://$domain FD_TURN_TERM_PORT=$TURN1_TERM \
    FD_LK_TURN_TLS_PORT=$TURN1 FD_TURN2_TERM_PORT=$TURN2_TERM FD_LK2_TURN_TLS_PORT=$TURN2 \
    fd_render "$run/nginx-turn.conf" certbot node2 stream turn443
if start_nginx "$run/nginx-turn.conf"; then
    ok "nginx runs nginx.conf.example with [node2] [stream] [turn443], the stream listener on :443"
    check "the rendered config has the example's directives with [certbot] [node2] [stream] [turn443], no more, no fewer" \
        fd_same_directives "$run/nginx-turn.conf" certbot node2 stream turn443
    note "node1: TURN $turn1 -> :$TURN1, relays $RELAY1; node2: TURN $turn2 -> :$TURN2, relays $RELAY2"
    tally "turnsni" "$client_bin" -door "https://$domain" -ca "$run/ca/ca.pem" \
        -resolve "$domain=127.0.0.1,$turn1=127.0.0.1,$turn2=127.0.0.1" -keys "$run/keys.yaml" \
        turnsni "$turn1=$RELAY1" "$turn2=$RELAY2"
    kill -QUIT "$(cat "$run/nginx.pid")" 2>/dev/null   # flush the stream log
    for ((i = 0; i < 50; i++)); do [ -f "$run/nginx.pid" ] || break; sleep 0.1; done
    for n in "$turn1" "$turn2"; do
        check "stream log: TLS sessions on :443 routed by SNI $n" \
            grep -q ":443 TCP 200 .*\"$n\"" "$run/logs/stream.log"
    done
else
    notok "nginx with [node2] [stream] [turn443] on :443 (needs libnginx-mod-stream on Debian)"
fi

summary
