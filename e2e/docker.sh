#!/usr/bin/env bash
# The container deployment (`make test-docker`): docker/ as an operator uses
# it, on a host of its own.
#
# The images: docker/images.sh makes local stand-ins of the public ones
# (bookworm, nginx built like nginx:stable-bookworm, Rust, livekit-server,
# Redis, Egress), then compose.yaml builds the front door's image
# (docker/Dockerfile) from them, offline (the nginx and nginx-acme tarballs
# placed in docker/sources/).
#
# The host: a network namespace (10.89.0.1) with a Docker engine of its own,
# so that compose.yaml's host networking gives nginx and livekit-server the
# real ports 80, 443, 7881 and 50000-60000 there, and nothing can leave the
# machine (no route but to the second namespace).  The second (10.89.0.2)
# is the Internet: Let's Encrypt's test CA pebble with a DNS stub that
# sends every name to the host, moto_server (S3 for the recordings, SSM),
# and the clients.
#
# The stack: docker/ and nginx.conf.example copied to a scratch tree with
# the edits an operator makes (README, "Containers"): the key files,
# node_ip instead of STUN, the [stream] [turn443] [webhook] and [record]
# lines, and, as the only test-only edits, the CA (pebble's address and its
# root instead of Let's Encrypt's) and the endpoints (moto instead of AWS).
# Then `docker compose up`, and the checks:
#   - a token from the container's /token, verified with the key; the
#     certificates nginx obtained itself (pebble's, hostname checked)
#   - TURN/TLS on 443 by SNI: a relay allocated from livekit-server's TURN
#   - two participants joining through wss:// with audio and video both ways
#   - a webhook verified by nginx and received by the application
#   - the health check, the worker's user, the image's size against the
#     nginx image it is built on, the time from `up` to the first token
#   - `down` and `up`: the certificate and the account kept, no new order
#   - --profile record: Egress records the consultation into S3 (moto)
#   - docker/compose.ssm.yaml: the keys from SSM (moto), the credentials
#     from a file passed as a compose secret
#   - no secret and no token in `docker inspect`, the image's layers or any
#     log
#
# Needs root, docker.io, mmdebstrap, iproute2 (scripts/deps.sh installs
# them).  The first run builds the images (about 5 min); later runs reuse
# them (the engine keeps them; the door's engine keeps its copies in
# ~/.cache/ngx-livekit-token/docker/).
#
#   E2E_KEEP=1    leave the stack, the namespaces and build/e2e/docker up
set -uo pipefail

run=$(cd "$(dirname "$0")/.." && pwd)/build/e2e/docker
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=../scripts/acme-run.sh
. "$repo/scripts/acme-run.sh"
cd "$repo"

door_ip=10.89.0.1 net_ip=10.89.0.2
ns=lkd$$
turn_domain=turn.$domain
image=ngx-livekit-token:local
moto_port=5000 pebble_port=14000 pebble_mgmt=15000
bucket=consultation-recordings
dsock=/run/ngx-livekit-token-$ns.sock
droot=$cache/docker/door
dexec=/run/ngx-livekit-token-$ns
legacy_docker=/usr/bin/docker   # Debian's 20.10 client, as old as its engine

inns() { local n=$1; shift; ip netns exec "$ns-$n" "$@"; }
ddocker() { DOCKER_HOST=unix://$dsock "$legacy_docker" "$@"; }

teardown() {
    [ -n "${E2E_KEEP:-}" ] && return
    [ -n "${compose_cfg:-}" ] && profiles=(--profile record) \
        && compose down -v --remove-orphans >/dev/null 2>&1
    [ -f "$dexec/dockerd.pid" ] && kill "$(cat "$dexec/dockerd.pid")" 2>/dev/null
    local i
    for ((i = 0; i < 50; i++)); do [ -S "$dsock" ] || break; sleep 0.2; done
    cleanup
    ip netns del "$ns-door" 2>/dev/null
    ip netns del "$ns-net" 2>/dev/null
    rm -rf "/etc/netns/$ns-door" "/etc/netns/$ns-net" "$dexec"
}
trap teardown EXIT

echo "# docker: docker/ on a host of its own ($door_ip), the Internet beside it ($net_ip)"
if [ "$(id -u)" != 0 ]; then
    skip "container deployment: needs root (network namespaces, dockerd)"
    summary; exit 0
fi
# what an earlier run left (E2E_KEEP=1, or killed): its engine, which
# shares the data root, and its namespaces
for f in /run/ngx-livekit-token-lkd*/dockerd.pid; do
    [ -f "$f" ] || continue
    kill "$(cat "$f")" 2>/dev/null
    for ((i = 0; i < 50; i++)); do kill -0 "$(cat "$f" 2>/dev/null)" 2>/dev/null || break; sleep 0.2; done
    rm -rf "$(dirname "$f")"
done
for n in $(ip netns list 2>/dev/null | awk '/^lkd[0-9]+-(door|net)/ { print $1 }'); do
    ip netns pids "$n" | xargs -r kill 2>/dev/null
    ip netns del "$n"
    rm -rf "/etc/netns/$n"
done
rm -rf "$run"
mkdir -p "$run/logs"

# ---- the images -----------------------------------------------------------------
prep=1
for t in dockerd mmdebstrap ip; do
    command -v "$t" >/dev/null || { notok "$t is not installed (scripts/deps.sh)"; prep=0; }
done
[ -x "$legacy_docker" ] || { notok "$legacy_docker (docker.io) is not installed"; prep=0; }
((prep)) || { summary; exit 1; }
build_client || { notok "e2e client build"; summary; exit 1; }
{ fd_demo_build; } >"$run/npm.log" 2>&1 || { tail -n 20 "$run/npm.log" >&2; notok "demo build"; summary; exit 1; }
scripts/ssm-deps.sh >"$run/venv.log" 2>&1 || { tail "$run/venv.log" >&2; notok "moto venv"; summary; exit 1; }

t0=$(date +%s)
if docker/images.sh bookworm nginx rust livekit redis egress >"$run/images.env" 2>"$run/logs/images.log"; then
    ok "local stand-ins of the public images ($(( $(date +%s) - t0 ))s): $(tr '\n' ' ' <"$run/images.env")"
else
    tail -n 20 "$run/logs/images.log" >&2
    notok "docker/images.sh"; summary; exit 1
fi
declare -A img
while IFS== read -r k v; do img[$k]=$v; done <"$run/images.env"

# the sources the Dockerfile takes from docker/sources/ when it cannot fetch
nginx_version=$("$legacy_docker" run --rm "${img[nginx]}" sh -c 'echo $NGINX_VERSION')
acme_tar=$(ls "$repo"/../shared/nginx-acme-src/nginx-acme-*.tar.gz 2>/dev/null | tail -n 1)
for f in "$repo/../shared/nginx-src/nginx-$nginx_version.tar.gz" "$acme_tar"; do
    [ -f "$f" ] && cmp -s "$f" "docker/sources/$(basename "$f")" || cp "$f" docker/sources/
done
# the image as compose.yaml builds it (`up --build`), on the engine that
# reaches the package registries; its builds have the host's network, as
# this engine has no bridge (test-only)
compose_cfg=$(scripts/compose.sh build 2>"$run/logs/compose-build.log") \
    || { tail "$run/logs/compose-build.log" >&2; notok "Docker Compose build (scripts/compose.sh)"; summary; exit 1; }
printf 'services:\n  nginx:\n    build:\n      network: host\n' >"$run/compose.build.yaml"
t0=$(date +%s)
old_id=$("$legacy_docker" image inspect -f '{{.Id}}' "$image" 2>/dev/null)
if NGINX_IMAGE=${img[nginx]} RUST_IMAGE=${img[rust]} "$compose_cfg/cli-plugins/docker-compose" \
        -f docker/compose.yaml -f "$run/compose.build.yaml" build nginx >"$run/logs/image-build.log" 2>&1; then
    ok "compose.yaml builds $image (docker/Dockerfile) offline from the stand-ins ($(( $(date +%s) - t0 ))s)"
    # the image it replaced, if any
    [ -n "$old_id" ] && [ "$old_id" != "$("$legacy_docker" image inspect -f '{{.Id}}' "$image")" ] \
        && "$legacy_docker" image rm "$old_id" >/dev/null 2>&1
else
    tail -n 30 "$run/logs/image-build.log" >&2
    notok "docker compose build nginx"; summary; exit 1
fi
size() { "$legacy_docker" image inspect -f '{{.Size}}' "$1"; }
ours=$(size "$image") base=$(size "${img[nginx]}")
check "the image is $((ours / 1000000)) MB: the nginx image it is built on ($((base / 1000000)) MB) and $(((ours - base) / 1000000)) MB of modules and their libraries" \
    test $((ours - base)) -lt 100000000

# ---- the host and the Internet ---------------------------------------------------
net_up() {
    ip netns add "$ns-door" && ip netns add "$ns-net" || return 1
    inns door ip link set lo up && inns net ip link set lo up
    ip link add "$ns-d" netns "$ns-door" type veth peer name "$ns-n" netns "$ns-net" || return 1
    inns door ip addr add "$door_ip/24" dev "$ns-d" && inns door ip link set "$ns-d" up
    inns net ip addr add "$net_ip/24" dev "$ns-n" && inns net ip link set "$ns-n" up
    # names: the door's own, and the Internet's DNS for everything
    mkdir -p "/etc/netns/$ns-door" "/etc/netns/$ns-net"
    printf '127.0.0.1 localhost\n%s %s %s\n' "$door_ip" "$domain" "$turn_domain" \
        | tee "/etc/netns/$ns-door/hosts" >"/etc/netns/$ns-net/hosts"
    printf 'nameserver %s\n' "$net_ip" | tee "/etc/netns/$ns-door/resolv.conf" \
        >"/etc/netns/$ns-net/resolv.conf"
}
check "network namespaces: the host $door_ip, the Internet $net_ip, nothing else" net_up \
    || { summary; exit 1; }

# the host's Docker engine: its own containerd (dockerd starts one when
# none runs at its address), so that containers on the host network are in
# the door's namespace; the images copied in from the engine that built them
# (its data in the cache, so that they are copied once)
engine_up() {
    mkdir -p "$dexec" "$droot"
    # not `ip netns exec`, whose new /sys hides the cgroup mounts: the
    # door's network, a mount namespace of its own for the door's names
    nsenter --net="/run/netns/$ns-door" unshare --mount sh -c '
        mount --bind "$1/hosts" /etc/hosts && mount --bind "$1/resolv.conf" /etc/resolv.conf \
            && shift && exec setsid "$@"' sh "/etc/netns/$ns-door" \
        dockerd --data-root "$droot" --exec-root "$dexec/exec" \
        --pidfile "$dexec/dockerd.pid" -H "unix://$dsock" \
        --bridge=none --iptables=false --ip-masq=false >"$run/logs/dockerd.log" 2>&1 &
    local i
    for ((i = 0; i < 100; i++)); do ddocker info >/dev/null 2>&1 && return 0; sleep 0.2; done
    return 1
}
check "a Docker engine on the host ($dsock)" engine_up || { summary; exit 1; }
# a run that stopped early left its containers (restart: unless-stopped,
# they would start again now) and volumes: a stack starts afresh
ddocker ps -aq | xargs -r "$legacy_docker" -H "unix://$dsock" rm -f >/dev/null
ddocker volume ls -q | xargs -r "$legacy_docker" -H "unix://$dsock" volume rm >/dev/null
rm -rf "$run/stack"   # what their mounts made there
copy_in() {
    local i id
    for i in "$@"; do
        id=$("$legacy_docker" image inspect -f '{{.Id}}' "$i") || return 1
        [ "$(ddocker image inspect -f '{{.Id}}' "$i" 2>/dev/null)" = "$id" ] && continue
        "$legacy_docker" save "$i" | ddocker load -q >/dev/null || return 1
    done
    # and only these: what earlier runs copied is dropped
    ddocker image ls --format '{{.Repository}}:{{.Tag}}' | grep -vxF -f <(printf '%s\n' "$@") \
        | xargs -r "$legacy_docker" -H "unix://$dsock" image rm >/dev/null 2>&1
    ddocker image prune -f >/dev/null 2>&1
    return 0
}
t0=$(date +%s)
if copy_in "$image" "${img[redis]}" "${img[livekit]}" "${img[egress]}"; then
    ok "the images copied to the host's engine ($(( $(date +%s) - t0 ))s)"
else
    notok "the images copied to the host's engine"; summary; exit 1
fi

# the Internet: DNS, pebble, moto
spawn "$run/logs/dns.log" inns net python3 e2e/acme-dns.py 53 "$door_ip" "$net_ip"
pebble=$(scripts/acme-build.sh pebble 2>"$run/logs/pebble-build.log") \
    || { notok "pebble build"; summary; exit 1; }
# pebble's own default lifetime (five years): nothing is renewed during a run
acme_pebble_conf "$run" "$pebble_port" "$pebble_mgmt" 80 443 157766400 "$net_ip"
spawn "$run/logs/pebble.log" inns net env -u PEBBLE_VA_ALWAYS_VALID PEBBLE_VA_NOSLEEP=1 \
    PEBBLE_WFE_NONCEREJECT=0 "$pebble" -config "$run/pebble.json" -dnsserver "$net_ip:53"
pebble_root() {
    inns net curl -fsS -o "$run/pebble-root.pem" --cacert "$run/pebble-ca/ca.pem" \
        "https://$net_ip:$pebble_mgmt/roots/0" 2>/dev/null
}
spawn "$run/logs/moto.log" inns net "$repo/build/aws-venv/bin/moto_server" -H "$net_ip" -p "$moto_port"
internet_up() {
    local i
    for ((i = 0; i < 100; i++)); do
        pebble_root && inns net curl -fsS -o /dev/null "http://$net_ip:$moto_port/moto-api/" 2>/dev/null \
            && grep -q '^READY' "$run/logs/dns.log" && return 0
        sleep 0.2
    done
    return 1
}
check "the Internet: DNS, pebble and moto_server on $net_ip" internet_up || { summary; exit 1; }
# the deployment's key, and AWS as the account holds it: the same key in
# SSM, users for the front door (SSM) and Egress (S3), the bucket
key=APIprodKey1 secret=$(openssl rand -hex 32)
region=eu-central-1
aws() { inns net "$repo/build/aws-venv/bin/python" e2e/docker-aws.py "http://$net_ip:$moto_port" "$@"; }
if aws setup "$key" "$secret" "wss://$domain" "$bucket" "$region" >"$run/aws.env" 2>"$run/logs/aws.log"; then
    ok "AWS (moto, SigV4 checked): /dissertation-editor/livekit/ in SSM, bucket $bucket, users frontdoor and egress"
    . "$run/aws.env"
else
    cat "$run/logs/aws.log" >&2; notok "AWS set-up in moto"; summary; exit 1
fi

# ---- the stack, as an operator sets it up ------------------------------------------
stack=$run/stack
mkdir -p "$stack/build"
cp -r docker "$stack/docker"
rm -rf "$stack/docker/sources" "$stack/docker/local"
cp -r build/demo "$stack/build/demo"
(umask 077; printf '%s: %s\n' "$key" "$secret" >"$stack/docker/livekit-keys.yaml")
# livekit.yaml: the host's address instead of STUN (nothing here reaches a
# STUN server), and the webhook block on
sed -i -e 's/^\(\s*\)use_external_ip: true/\1use_external_ip: false/' \
    -e "s/^\(\s*\)# node_ip: .*/\1node_ip: $door_ip/" \
    -e '/^# webhook:/,/^#     - /s/^# \?//' "$stack/docker/livekit.yaml"
# egress.yaml: the key's secret; S3 at moto with the egress user's keys
# instead of an instance role (test-only)
(umask 077; sed -e "s/^api_secret: CHANGE-ME/api_secret: $secret/" \
    -e "s/^\(\s*region:\).*/\1 $region/" \
    -e "s|^\(\s*\)# endpoint: .*|\1endpoint: http://$net_ip:$moto_port|" \
    -e 's/^\(\s*\)# force_path_style:/\1force_path_style:/' \
    -e "s|^\(\s*\)# access_key: .*|\1access_key: $EGRESS_KEY_ID|" \
    -e "s|^\(\s*\)# secret: .*|\1secret: $EGRESS_SECRET|" \
    docker/egress.yaml >"$stack/docker/egress.yaml")
# nginx.conf.example with the given tags on; the CA is pebble (test-only:
# its address, and its API's certificate authority instead of the system's)
example() {
    fd_example "$@" | sed \
        -e "s|https://acme-v02.api.letsencrypt.org/directory|https://$net_ip:$pebble_port/dir|" \
        -e "s|^\(\s*resolver\s\+\)127.0.0.53|\1$net_ip|" \
        -e 's|ssl_trusted_certificate  /etc/ssl/certs/ca-certificates.crt;|ssl_trusted_certificate  /etc/nginx/pebble-ca.pem;|' \
        >"$stack/nginx.conf.example"
}
# [stream] [turn443]: TURN/TLS on 443 by SNI (livekit.yaml's turn block)
example webhook stream turn443
# test-only: what a public CA needs no file for
cp "$run/pebble-ca/ca.pem" "$stack/docker/pebble-ca.pem"
cp "$run/pebble-root.pem" "$stack/docker/pebble-root.pem"
cat >"$stack/docker/compose.test.yaml" <<YAML
# e2e/docker.sh only: pebble instead of Let's Encrypt
services:
  nginx:
    volumes:
      - ./pebble-ca.pem:/etc/nginx/pebble-ca.pem:ro
  livekit:
    environment:
      SSL_CERT_FILE: /etc/livekit/pebble-root.pem
    volumes:
      - ./pebble-root.pem:/etc/livekit/pebble-root.pem:ro
YAML
compose_files=(-f "$stack/docker/compose.yaml" -f "$stack/docker/compose.test.yaml")
profiles=()
compose() {
    DOCKER_HOST=unix://$dsock REDIS_IMAGE=${img[redis]} LIVEKIT_IMAGE=${img[livekit]} \
        EGRESS_IMAGE=${img[egress]} "$compose_cfg/cli-plugins/docker-compose" \
        "${compose_files[@]}" "${profiles[@]}" "$@"
}

# the application behind /livekit/webhook, on the host
spawn "$run/logs/webhook-app.log" inns door node t/node/webhook-app.mjs 3000 \
    "$run/received.jsonl" "$key" "$secret"

# GET /token from the Internet; prints the status, the body in token.json
token() { # room participant
    inns net curl -sS --cacert "$run/pebble-root.pem" --max-time 5 -o "$run/token.json" \
        -w '%{http_code}' "https://$domain/token?room=$1&participant=$2"
}
wait_token() { # seconds
    local i
    for ((i = 0; i < $1 * 4; i++)); do
        [ "$(token probe probe 2>/dev/null)" = 200 ] && return 0
        sleep 0.25
    done
    return 1
}
orders() { grep -c 'Added order' "$run/logs/pebble.log"; }

t0=$(date +%s.%N)
if compose up -d --no-build >"$run/logs/compose-up.log" 2>&1; then
    ok "docker compose up: redis, livekit, nginx"
else
    cat "$run/logs/compose-up.log" >&2
    notok "docker compose up"; summary; exit 1
fi
if check "the first token, after nginx obtained its certificate from pebble" wait_token 120; then
    note "from up to the first token: $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s (the certificate ordered and issued included)"
else
    compose logs >"$run/logs/compose.log" 2>&1
    summary; exit 1
fi
check "the certificates of $domain and $turn_domain are pebble's ($(orders) orders)" test "$(orders)" -ge 2

# TURN/TLS on 443, routed by SNI to livekit-server's TURN (livekit.yaml's
# turn block): a relay allocated with livekit-server's credentials, in its
# relay range, over the certificate nginx obtained for turn.*
tally "turnsni" inns net "$client_bin" -door "https://$domain" -ca "$run/pebble-root.pem" \
    -keys "$stack/docker/livekit-keys.yaml" turnsni "$turn_domain=30000-40000"

# the token: the Lambda's contract, signed with the key file's secret
verify_token() { # room participant: token.json
    python3 - "$run/token.json" "$key" "$secret" "$domain" "$1" "$2" <<'PY'
import base64, hashlib, hmac, json, sys, time
body = json.load(open(sys.argv[1])); key, secret, domain, room, who = sys.argv[2:7]
h, p, s = body["token"].split(".")
d = lambda x: base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
assert hmac.compare_digest(d(s), hmac.new(secret.encode(), f"{h}.{p}".encode(), hashlib.sha256).digest())
c = json.loads(d(p))
assert json.loads(d(h))["alg"] == "HS256" and c["iss"] == key and c["sub"] == who, c
assert c["video"]["room"] == room and c["video"]["roomJoin"] is True, c
assert abs(c["exp"] - time.time() - 6 * 3600) < 120, c
assert body["url"] == f"wss://{domain}" and body["room"] == room and body["participant"] == who, body
PY
}
[ "$(token consult-1 Jane)" = 200 ]
check "GET /token?room=consult-1&participant=Jane: HS256 with $key, roomJoin in consult-1 for Jane, 6 h" \
    verify_token consult-1 Jane

# health, and who runs what
healthy() {
    local i
    for ((i = 0; i < 90; i++)); do
        [ "$(ddocker inspect -f '{{.State.Health.Status}}' meet-nginx-1 2>/dev/null)" = healthy ] && return 0
        sleep 1
    done
    return 1
}
check "the nginx container is healthy (its key set loaded)" healthy
ddocker top meet-nginx-1 -eo pid,user,args >"$run/top.txt" 2>&1
check "nginx's master runs as root, its workers as www-data ($(grep -c 'worker process' "$run/top.txt") workers)" \
    awk '/master process/ { m = ($2 == "root") } /worker process/ { w++; if ($2 != "www-data") bad++ }
         END { exit !(m && w > 0 && !bad) }' "$run/top.txt"

# two participants, through wss:// on 443, media both ways (UDP to the host)
call() { # room seconds: alice and bob, each publishing and receiving
    local room=$1 who p=()
    for who in alice bob; do
        spawn "$run/logs/$room-$who.log" inns net "$client_bin" -door "https://$domain" \
            -ca "$run/pebble-root.pem" -room "$room" -identity "$who" -duration "$2s" publish
        p+=("$spawned")
    done
    wait "${p[@]}"
}
received() { # room who from
    grep '^RECEIVED ' "$run/logs/$1-$2.log" | awk -v from="$3" '
        { for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] } }
        END { exit !(f["from"] == from && f["video"] >= 30 && f["audio"] >= 50 && f["peak"] >= 300 && f["errors"] == 0) }'
}
call consult-2 15
check "alice decoded bob's VP8 and Opus through the container ($(grep '^RECEIVED' "$run/logs/consult-2-alice.log"))" \
    received consult-2 alice bob
check "bob decoded alice's VP8 and Opus through the container ($(grep '^RECEIVED' "$run/logs/consult-2-bob.log"))" \
    received consult-2 bob alice
webhooks() {
    local i
    for ((i = 0; i < 50; i++)); do
        grep -q 'participant_joined' "$run/received.jsonl" 2>/dev/null \
            && grep -q 'consult-2' "$run/received.jsonl" && return 0
        sleep 0.2
    done
    return 1
}
check "livekit-server's webhooks for consult-2, verified by nginx, reached the application ($(wc -l <"$run/received.jsonl" 2>/dev/null) events)" \
    webhooks


# ---- down and up: the certificate and the account kept in the volume ---------------
fingerprint() {
    inns net openssl s_client -connect "$door_ip:443" -servername "$domain" </dev/null 2>/dev/null \
        | openssl x509 -noout -fingerprint -sha256 2>/dev/null
}
fp=$(fingerprint) before=$(orders)
compose down >"$run/logs/compose-down.log" 2>&1 && compose up -d --no-build >>"$run/logs/compose-up.log" 2>&1
check "down and up: a token again" wait_token 60
check "the same certificate, and no new order ($before orders before, $(orders) after)" \
    test -n "$fp" -a "$(fingerprint)" = "$fp" -a "$(orders)" = "$before"

# ---- recording: the example's [record], the record profile, S3 -------------------
# as docker/compose.yaml says: the [record] line on, Egress started, nginx
# started again (a file mounted on its own is read again only then)
sed -i 's/^\(\s*\)#\[record\] /\1/' "$stack/nginx.conf.example"
profiles=(--profile record)
compose up -d --no-build >>"$run/logs/compose-up.log" 2>&1 \
    && compose restart nginx >>"$run/logs/compose-up.log" 2>&1
egress_up() {
    local i
    for ((i = 0; i < 60; i++)); do
        inns door curl -fsS -o /dev/null --max-time 1 http://127.0.0.1:9090/ 2>/dev/null && return 0
        sleep 0.5
    done
    return 1
}
check "Egress (--profile record) up: its health port 9090 answers" egress_up
wait_token 60
[ "$(token consult-3 Jane)" = 200 ]
check "with [record], the token asks Egress for its tracks (roomConfig.egress.tracks)" \
    python3 -c 'import base64, json, sys
p = json.load(open(sys.argv[1]))["token"].split(".")[1]
c = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
assert c["roomConfig"]["egress"]["tracks"]["filepath"].startswith("{room_name}/"), c' "$run/token.json"
call consult-3 15
recorded() {
    local i
    for ((i = 0; i < 90; i++)); do
        aws list "$bucket" "$region" "$ADMIN_KEY_ID" "$ADMIN_SECRET" >"$run/bucket.txt" 2>>"$run/logs/aws.log"
        [ "$(grep -c '^consult-3/.*\.ogg$' "$run/bucket.txt")" -ge 2 ] \
            && [ "$(grep -c '^consult-3/.*\.webm$' "$run/bucket.txt")" -ge 2 ] && return 0
        sleep 1
    done
    return 1
}
if recorded; then
    ok "Egress put consult-3's recordings in S3: Opus/OGG and VP8/WebM for alice and bob ($(grep -c . "$run/bucket.txt") objects)"
else
    notok "Egress put consult-3's recordings in S3 (bucket: $(tr '\n' ' ' <"$run/bucket.txt"))"
fi

# ---- keys from SSM: docker/compose.ssm.yaml, the credentials as a secret ---------
sed -i -e 's|^# \(load_module modules/ngx_http_livekit_ssm_module.so;\)|\1|' \
    -e 's|^\(\s*\)livekit_keys_file .*|\1livekit_ssm_path  /dissertation-editor/livekit/;|' \
    "$stack/nginx.conf.example"
(umask 077; printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
    "$FRONTDOOR_KEY_ID" "$FRONTDOOR_SECRET" >"$stack/docker/aws-credentials")
# test-only: SSM at moto, as AWS SDKs are pointed elsewhere
printf 'services:\n  nginx:\n    environment:\n      AWS_ENDPOINT_URL_SSM: http://%s:%s\n' \
    "$net_ip" "$moto_port" >"$stack/docker/compose.moto.yaml"
compose_files=(-f "$stack/docker/compose.yaml" -f "$stack/docker/compose.ssm.yaml"
               -f "$stack/docker/compose.test.yaml" -f "$stack/docker/compose.moto.yaml")
compose up -d --no-build >>"$run/logs/compose-up.log" 2>&1
check "compose.ssm.yaml: nginx started again with the SSM module" wait_token 60
status() {
    ddocker exec meet-nginx-1 curl -fsS -H "Host: $domain" http://127.0.0.1/livekit/status
}
status >"$run/status.json"
check "the keys came from SSM, fetched with the credentials file's user" \
    grep -q '"keys":{"source":"ssm","state":"ready".*"credentials":"shared files' "$run/status.json"
[ "$(token consult-4 Jane)" = 200 ]
check "a token from the SSM keys: HS256 with $key, for Jane in consult-4" verify_token consult-4 Jane

# ---- no secret anywhere it should not be -----------------------------------------
# the secrets of this run: the LiveKit secret, the AWS users' secret keys;
# and any token
leaks() { # file...: the lines that hold a secret (as written: AWS's hold
    # + and /, which a pattern would read as operators) or a token
    local hit=1
    grep -nF -e "$secret" -e "$FRONTDOOR_SECRET" -e "$EGRESS_SECRET" -e "$ADMIN_SECRET" \
        -e 'access_token=' "$@" && hit=0
    grep -nE 'eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.' "$@" && hit=0
    return $hit
}
# what is searched must be there: the four containers' configuration, and
# the logs of nginx and livekit-server
ddocker inspect $(compose ps -aq) >"$run/inspect.json" 2>&1
inspected() {
    python3 -c 'import json, sys; sys.exit(len(json.load(open(sys.argv[1]))) != 4)' "$run/inspect.json"
}
check "docker inspect of every container: no secret, no token (redis, livekit, egress, nginx)" \
    eval 'inspected && ! leaks "$run/inspect.json"'
compose logs --no-color >"$run/logs/compose.log" 2>&1
ddocker exec meet-nginx-1 sh -c 'cat /var/log/nginx/livekit-joins.log' >"$run/logs/joins.log" 2>&1
check "every container's log and nginx's join log: no secret, no token ($(wc -l <"$run/logs/compose.log") + $(wc -l <"$run/logs/joins.log") lines)" \
    eval 'grep -q "^nginx-1 " "$run/logs/compose.log" && grep -q "^livekit-1 " "$run/logs/compose.log" \
          && ! leaks "$run/logs/compose.log" "$run/logs/joins.log"'
check "the join log, kept across down and up, has every join: consult-2's and consult-3's" \
    eval 'grep -q "room=\"consult-2\"" "$run/logs/joins.log" && grep -q "room=\"consult-3\"" "$run/logs/joins.log"'
layers() {
    mkdir -p "$run/image" && "$legacy_docker" save "$image" | tar -C "$run/image" -xf - || return 1
    local l bad=0 n=0
    for l in "$run"/image/*/layer.tar; do
        [ -f "$l" ] && n=$((n + 1))
        tar -tf "$l" | grep -E '(^|/)(livekit-keys\.yaml|aws-credentials|privkey\.pem|[^/]*\.key)$' && bad=1
    done
    ((n > 0)) || return 1   # layers that are not there prove nothing
    "$legacy_docker" history --no-trunc "$image" | grep -iE 'secret|AKIA' && bad=1
    return $bad
}
check "the image's layers and history: no key file, no private key, no credentials" layers
rm -rf "$run/image"

summary
