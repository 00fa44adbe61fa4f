# shellcheck shell=bash
# A local ACME CA for e2e/acme.sh and `make run ACME=1`: Let's Encrypt's
# test server pebble with real HTTP-01 validation, and a DNS stub
# (e2e/acme-dns.py) that points every name at 127.0.0.1.  Source it; it
# defines functions only.  Needs scripts/e2e-frontdoor.sh sourced first.

acme_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# acme_pebble_conf DIR PORT MGMT_PORT HTTP_PORT TLS_PORT LIFETIME [ADDRESS]:
# DIR/pebble.json, and pebble's API certificate (what acme_issuer's
# ssl_trusted_certificate trusts) from a CA made for it, DIR/pebble-ca/ca.pem;
# pebble listens on ADDRESS (127.0.0.1 unless given)
acme_pebble_conf() {
    local d=$1 port=$2 mgmt=$3 http=$4 tls=$5 lifetime=$6 addr=${7:-127.0.0.1}
    fd_ca "$d/pebble-ca"
    fd_cert "$d/pebble-ca" "$d/pebble-api" localhost "IP:$addr"
    cat >"$d/pebble.json" <<EOF
{
  "pebble": {
    "listenAddress": "$addr:$port",
    "managementListenAddress": "$addr:$mgmt",
    "certificate": "$d/pebble-api/cert.pem",
    "privateKey": "$d/pebble-api/privkey.pem",
    "httpPort": $http,
    "tlsPort": $tls,
    "ocspResponderURL": "",
    "externalAccountBindingRequired": false,
    "retryAfter": { "authz": 1, "order": 1 },
    "certificateValidityPeriod": $lifetime,
    "profiles": { "default": { "description": "short-lived", "validityPeriod": $lifetime } }
  }
}
EOF
}

# acme_pebble_start DIR PEBBLE_BIN DNS_PORT MGMT_PORT LOG: starts pebble
# (acme_pebble_pid), waits until it answers, then saves the root that signs
# the certificates it issues (a new one at each start) to DIR/pebble-root.pem
acme_pebble_start() {
    local d=$1 bin=$2 dns=$3 mgmt=$4 log=$5 i
    # real validation: never PEBBLE_VA_ALWAYS_VALID; no random sleep before
    # it and no random nonce rejections (they only make things slower)
    env -u PEBBLE_VA_ALWAYS_VALID PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 \
        "$bin" -config "$d/pebble.json" -dnsserver "127.0.0.1:$dns" >>"$log" 2>&1 &
    acme_pebble_pid=$!
    for ((i = 0; i < 50; i++)); do
        curl -fsS -o "$d/pebble-root.pem" --cacert "$d/pebble-ca/ca.pem" \
            "https://127.0.0.1:$mgmt/roots/0" 2>/dev/null && return 0
        kill -0 "$acme_pebble_pid" 2>/dev/null || return 1
        sleep 0.2
    done
    return 1
}

# acme_dns_start PORT LOG: the DNS stub (acme_dns_pid), once it listens
acme_dns_start() {
    local i
    python3 "$acme_repo/e2e/acme-dns.py" "$1" >"$2" 2>&1 &
    acme_dns_pid=$!
    for ((i = 0; i < 50; i++)); do
        grep -q '^READY' "$2" 2>/dev/null && return 0
        kill -0 "$acme_dns_pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# acme_start: for scripts/run.sh (uses its $dir, $http_port, $port, pids):
# builds the ACME module and pebble, starts the stub and pebble, and sets
# the FD_ACME_* variables fd_render fills in.
acme_start() {
    local pebble_port=${PEBBLE_PORT:-14000} dns_port=${DNS_PORT:-8053}
    local mgmt=${PEBBLE_MGMT_PORT:-$((pebble_port + 1))} lifetime=${ACME_LIFETIME:-600}
    local pebble
    FD_ACME_MODULE=$("$acme_repo/scripts/acme-build.sh" module)
    pebble=$("$acme_repo/scripts/acme-build.sh" pebble)
    # a new pebble knows no account and has a new root: start afresh
    rm -rf "$dir/acme-state"
    : >"$dir/logs/pebble.log"
    acme_dns_start "$dns_port" "$dir/logs/dns.log" || { echo "run: DNS stub on $dns_port failed" >&2; return 1; }
    pids+=("$acme_dns_pid")
    acme_pebble_conf "$dir" "$pebble_port" "$mgmt" "$http_port" "$port" "$lifetime"
    acme_pebble_start "$dir" "$pebble" "$dns_port" "$mgmt" "$dir/logs/pebble.log" \
        || { tail -n 20 "$dir/logs/pebble.log" >&2; return 1; }
    pids+=("$acme_pebble_pid")
    export FD_ACME_MODULE FD_ACME_URI=https://127.0.0.1:$pebble_port/dir \
           FD_ACME_CA=$dir/pebble-ca/ca.pem FD_DNS_PORT=$dns_port
    echo "run: pebble on 127.0.0.1:$pebble_port (HTTP-01 on :$http_port, DNS stub on :$dns_port)"
}

# acme_show: waits for the certificate and shows what happened
acme_show() {
    local i serial name=meet.dissertation-editor.com
    echo "run: waiting for nginx to obtain the certificate of $name from pebble"
    for ((i = 0; i < 60; i++)); do
        serial=$(python3 "$acme_repo/e2e/acme-tls.py" "$port" "$name" \
                 "$dir/pebble-root.pem" 2>/dev/null) && break
        sleep 0.5
    done
    grep -E 'Attempting to validate w/ HTTP|set VALID|Added order|Issued' \
        "$dir/logs/pebble.log" | sed 's/^/  pebble: /'
    if [ -n "$serial" ]; then
        cat <<MSG

  ACME: nginx obtained the certificate of $name itself
  (serial $serial, lifetime ${ACME_LIFETIME:-600}s, renewed without a
  reload; state in $dir/acme-state, keys mode 0600):

    curl --cacert $dir/pebble-root.pem \\
         --resolve $name:$port:127.0.0.1 \\
         'https://$name:$port/token?room=demo&participant=alice'

  (pebble's root changes at each start; a browser needs the name mapped
  to 127.0.0.1 and that root trusted)

MSG
    else
        echo "run: no certificate yet; see $dir/logs/pebble.log and nginx's output" >&2
    fi
}
