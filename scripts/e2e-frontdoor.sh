# shellcheck shell=bash
# Shared by scripts/run.sh (`make run`) and e2e/run.sh: certificates and the
# local rendering of nginx.conf.example.  Source it; it defines functions
# only.

fd_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# fd_ca DIR: a local certificate authority, DIR/ca.pem + DIR/ca.key (once).
fd_ca() {
    local d=$1
    mkdir -p "$d"
    [ -s "$d/ca.pem" ] && [ -s "$d/ca.key" ] && return 0
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$d/ca.key" -out "$d/ca.pem" -days 30 \
        -subj "/CN=ngx-livekit-token test CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

# fd_cert CA_DIR OUT_DIR NAME [SAN...]: OUT_DIR/fullchain.pem + privkey.pem
# for NAME, signed by the CA in CA_DIR.  SANs are DNS:x or IP:x.
fd_cert() {
    local ca=$1 out=$2 name=$3; shift 3
    local sans="DNS:$name" s
    for s in "$@"; do sans+=",$s"; done
    mkdir -p "$out"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$out/privkey.pem" -out "$out/req.csr" -subj "/CN=$name" 2>/dev/null
    openssl x509 -req -in "$out/req.csr" -CA "$ca/ca.pem" -CAkey "$ca/ca.key" \
        -CAcreateserial -out "$out/cert.pem" -days 30 \
        -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$sans") \
        2>/dev/null
    cat "$out/cert.pem" "$ca/ca.pem" >"$out/fullchain.pem"
    chmod 600 "$out/privkey.pem"
    rm -f "$out/req.csr"
}

# fd_selfsigned OUT_DIR [SAN...]: a self-signed certificate for `make run`
# (localhost and 127.0.0.1 plus the given SANs), kept across runs.
fd_selfsigned() {
    local out=$1; shift
    local sans="DNS:localhost,IP:127.0.0.1" s
    for s in "$@"; do sans+=",$s"; done
    mkdir -p "$out"
    [ -s "$out/fullchain.pem" ] && [ -s "$out/privkey.pem" ] && return 0
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$out/privkey.pem" -out "$out/fullchain.pem" -days 365 \
        -subj "/CN=localhost" -addext "subjectAltName=$sans" \
        -addext "basicConstraints=critical,CA:FALSE" 2>/dev/null
    chmod 600 "$out/privkey.pem"
}

# fd_keys FILE: a development key file (API key "devkey"), once.
fd_keys() {
    local f=$1
    [ -s "$f" ] && return 0
    mkdir -p "$(dirname "$f")"
    (umask 077; printf 'devkey: %s\n' "$(openssl rand -hex 32)" >"$f")
}

# fd_jwt KEY SECRET CLAIMS: an HS256 token signed here with openssl,
# independently of the module (claims: a JSON object, iss included)
fd_b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
fd_jwt() {
    local h p
    h=$(printf '{"alg":"HS256","typ":"JWT"}' | fd_b64url)
    p=$(printf '%s' "$3" | fd_b64url)
    printf '%s.%s.%s\n' "$h" "$p" \
        "$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -hmac "$2" -binary | fd_b64url)"
}

# fd_example [tag...]: nginx.conf.example with the given optional blocks
# switched on (the tags removed where a line starts with them; a line with
# several tags is on when all of them are) and the lines ending in
# #[no-TAG] deleted for each TAG given.  Nothing else changed.
fd_example() {
    local tag any='' drop=(-e "")
    for tag in "$@"; do
        any+=${any:+\\|}$tag
        drop+=(-e "/#\[no-$tag\]\$/d")
    done
    if [ -z "$any" ]; then
        cat "$fd_repo/nginx.conf.example"
        return
    fi
    sed -e ':a' -e "s/^\(\s*\)#\[\($any\)\] \?/\1/" -e 'ta' "${drop[@]}" \
        "$fd_repo/nginx.conf.example"
}

# fd_directives FILE: the directive names of a configuration, sorted
fd_directives() {
    grep -v '^\s*#' "$1" | awk 'NF { print $1 }' | grep -v '^listen$' | sort
}

# fd_same_directives CONF [tag...]: CONF has the directives of the example
# with the given tags (fd_example), no more, no fewer
fd_same_directives() {
    local conf=$1; shift
    diff <(fd_directives "$conf") <(fd_example "$@" | fd_directives /dev/stdin)
}

# fd_render OUT [tag...]: fd_example with scripts/run.conf.in applied: the
# certificates (certbot: the files of a local CA; else nginx's ACME module
# against a local pebble), ports and paths.
# Reads FD_* variables: MODULE DIR KEYS CERTS DEMO HOST HTTP_PORT HTTPS_PORT
# INTERNAL_HTTPS_PORT TURN_TERM_PORT LK_PORT LK2_PORT LK_TURN_TLS_PORT
# LK_TCP_PORT ICETCP_PORT URL (LK2_PORT: the [node2] line, may be empty;
# TURN2_TERM_PORT LK2_TURN_TLS_PORT: [node2] with [turn443]; APP_PORT: the
# application behind [webhook]),
# and without certbot: ACME_MODULE ACME_URI ACME_CA DNS_PORT.
fd_render() {
    local out=$1; shift
    local v text
    # two steps, so that a value never meets another rule's pattern: the
    # rules put @NAMES@ in, then the names are filled in
    text=$(fd_example "$@" | sed -f "$fd_repo/scripts/run.conf.in") || return 1
    for v in MODULE DIR KEYS CERTS DEMO HOST HTTP_PORT HTTPS_PORT \
             INTERNAL_HTTPS_PORT TURN_TERM_PORT LK_PORT LK2_PORT LK_TURN_TLS_PORT \
             LK_TCP_PORT ICETCP_PORT URL ACME_MODULE ACME_URI ACME_CA \
             DNS_PORT TURN2_TERM_PORT LK2_TURN_TLS_PORT APP_PORT; do
        local name=FD_$v
        local val=${!name:-}
        text=${text//@$v@/"$val"}
    done
    # FD_MODULES_ENABLED, when set, stands in for the include of Debian's
    # modules-enabled, whose modules fit Debian's nginx only: a load_module
    # line for another nginx, or nothing when it has stream built in
    [ -z "${FD_MODULES_ENABLED+set}" ] \
        || text=${text//"include /etc/nginx/modules-enabled/*.conf;"/"$FD_MODULES_ENABLED"}
    mkdir -p "${FD_DIR:?}/logs" "$FD_DIR/acme" "$FD_DIR/livekit-state"
    # the workers (the example's user www-data) write the revocation state
    [ "$(id -u)" != 0 ] || chown www-data "$FD_DIR/livekit-state" 2>/dev/null || true
    printf '%s\n' "$text" >"$out"
    if grep -n '@[A-Z_]*@' "$out" >&2; then
        echo "fd_render: unfilled placeholders in $out" >&2
        return 1
    fi
}

# fd_npm_ci DIR: the npm packages pinned in DIR/package-lock.json, installed
# again only when the lock file changed.
fd_npm_ci() {
    local dir=$fd_repo/$1
    local lock=$dir/package-lock.json stamp=$dir/node_modules/.livekit-lock
    if [ ! -f "$stamp" ] || ! cmp -s "$lock" "$stamp"; then
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || return 1
        cp "$lock" "$stamp"
    fi
}

# fd_demo_build: demo/ built into build/demo, again only when its sources
# changed.
fd_demo_build() {
    fd_npm_ci demo || return 1
    local stamp=$fd_repo/build/demo/index.html
    if [ -f "$stamp" ] && [ -z "$(find "$fd_repo/demo/src" "$fd_repo/demo/index.html" \
            "$fd_repo/demo/vite.config.js" "$fd_repo/demo/package-lock.json" \
            -newer "$stamp" -print -quit)" ]; then
        return 0
    fi
    (cd "$fd_repo/demo" && npm run --silent build)
}
