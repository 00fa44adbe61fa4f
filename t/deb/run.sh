#!/usr/bin/env bash
# The Debian package in the machine's own nginx (`make test-deb`):
#
#   1. apt-get install ./build/deb/libnginx-mod-http-livekit-token_*.deb
#      (scripts/deb.sh builds it when it is missing);
#   2. its Depends: names the nginx-abi-* the installed nginx provides, the
#      load snippet is enabled in /etc/nginx/modules-enabled, and `nginx -t`
#      with the stock /etc/nginx/nginx.conf loads the module;
#   3. an nginx started from a test configuration that loads the module the
#      stock way (include /etc/nginx/modules-enabled/*.conf) serves a token
#      on 127.0.0.1, signed with the test key (Crypt::JWT);
#   4. the SSM package (libnginx-mod-http-livekit-ssm, the only one that
#      depends on libcurl) installs beside it, is enabled after it and
#      `nginx -t` loads both;
#   5. apt-get purge removes both, and /etc/nginx, the modules directories
#      and `nginx -t` are exactly as they were before.
#
# It refuses to run (exit 77) when the package is already installed: it
# would not leave that system as it found it.  Root or sudo; DEB_PORT
# (default: a free port).  Prints "ok - ..."/"not ok - ..." per check and
# ends with "N passed, N failed".
set -uo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
LOG_NAME=test-deb

pkg=libnginx-mod-http-livekit-token
ssm_pkg=libnginx-mod-http-livekit-ssm
ssm_enabled=/etc/nginx/modules-enabled/60-mod-http-livekit-ssm.conf
so=/usr/lib/nginx/modules/ngx_http_livekit_token_module.so
enabled=/etc/nginx/modules-enabled/50-mod-http-livekit-token.conf
sudo=
[ "$(id -u)" = 0 ] || sudo=sudo
apt=($sudo env DEBIAN_FRONTEND=noninteractive apt-get -y -q
     -o DPkg::Lock::Timeout=600)
# shellcheck source=../../scripts/tap.sh
. "$repo/scripts/tap.sh"

if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'
then
    log "$pkg is already installed: not touching this system"
    exit 77
fi
apt_install nginx libcrypt-jwt-perl curl || die "cannot install nginx"

deb=$(ls "$repo"/build/deb/${pkg}_*.deb 2>/dev/null | tail -n 1)
if [ -z "$deb" ]; then
    deb=$("$repo/scripts/deb.sh" | tail -n 1) || die "scripts/deb.sh failed"
fi
ssm_deb=$(ls "$repo"/build/deb/${ssm_pkg}_*.deb 2>/dev/null | tail -n 1)
work=$(mktemp -d "$repo/build/deb/test.XXXXXX")
master=

cleanup() {
    [ -n "$master" ] && kill "$master" 2>/dev/null && wait "$master" 2>/dev/null
    if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'
    then
        "${apt[@]}" purge "$ssm_pkg" "$pkg" >>"$work/apt.log" 2>&1
    fi
}
trap cleanup EXIT

# the state the test must leave behind: every path, type, link target,
# mode and content digest under nginx's configuration and module paths
state() {
    local d
    for d in /etc/nginx /usr/share/nginx/modules-available /usr/lib/nginx/modules
    do
        [ -e "$d" ] || continue
        find "$d" -printf '%p %y %l %m\n' | sort
        find "$d" -type f -print0 | sort -z | xargs -0 -r md5sum
    done
    dpkg-query -W -f='${db:Status-Abbrev} ${Package} ${Version}\n' \
        | grep -E '^ii +(nginx|libnginx-mod-)'
}

state >"$work/before"
/usr/sbin/nginx -t -q >/dev/null 2>&1
t_before=$?

# 1. install
if "${apt[@]}" install "$deb" >"$work/apt.log" 2>&1; then
    ok "apt-get install $(basename "$deb")"
else
    tail -n 20 "$work/apt.log" >&2
    notok "apt-get install $(basename "$deb")"
fi

# 2. dependencies and the stock configuration
abi=$(dpkg-query -W -f='${Provides}' nginx | grep -o 'nginx-abi-[^ ,]*')
deps=$(dpkg-query -W -f='${Depends}' "$pkg" 2>/dev/null)
check "Depends: names $abi, the ABI the installed nginx provides ($deps)" \
    grep -qE "(^|, )$abi(,|$)" <<<"$deps"
check "Depends: no libcurl: a key-file server needs none ($deps)" \
    bash -c '! grep -q libcurl <<<"$0"' "$deps"
check "$so is installed" test -f "$so"
check "$enabled links to the modules-available snippet" \
    test "$(readlink "$enabled")" \
         = /usr/share/nginx/modules-available/mod-http-livekit-token.conf
check "the snippet loads the module" \
    grep -qx 'load_module modules/ngx_http_livekit_token_module.so;' "$enabled"
$sudo /usr/sbin/nginx -T >"$work/nginx-T.txt" 2>&1
check "nginx -t with the stock /etc/nginx/nginx.conf passes" \
    grep -q 'test is successful' "$work/nginx-T.txt"
check "and its configuration includes the module's load_module" \
    grep -q '^load_module modules/ngx_http_livekit_token_module.so;' \
        "$work/nginx-T.txt"

# 3. a token from a test server block, the module loaded the stock way
port=${DEB_PORT:-$(free_port)}
secret=deb-test-secret-0123456789abcdefghijklmnop
printf 'debkey: %s\n' "$secret" >"$work/keys.yaml"
chmod 600 "$work/keys.yaml"
cat >"$work/nginx.conf" <<EOF
include /etc/nginx/modules-enabled/*.conf;
daemon off;
master_process on;
worker_processes 1;
pid $work/nginx.pid;
$( [ "$(id -u)" = 0 ] && echo 'user root;' )
events { worker_connections 64; }
http {
    access_log $work/access.log;
    client_body_temp_path $work/client_body;
    proxy_temp_path $work/proxy;
    fastcgi_temp_path $work/fastcgi;
    uwsgi_temp_path $work/uwsgi;
    scgi_temp_path $work/scgi;
    livekit_keys_file $work/keys.yaml;
    livekit_url wss://livekit.example.test;
    server {
        listen 127.0.0.1:$port;
        location = /token { livekit_token on; }
    }
}
EOF
$sudo /usr/sbin/nginx -e "$work/error.log" -c "$work/nginx.conf" &
master=$!
for _ in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:$port/" && break
    sleep 0.1
done
body=$(curl -s "http://127.0.0.1:$port/token?room=deb-room&participant=Deb")
claims=$(perl -MCrypt::JWT=decode_jwt -MJSON::PP -e '
    my $r = decode_json($ARGV[0]);
    my $c = decode_jwt(token => $r->{token}, key => $ARGV[1],
                       accepted_alg => "HS256");
    print join " ", $c->{iss}, $c->{sub}, $c->{video}{room},
                    $c->{video}{roomJoin} ? "join" : "nojoin";
' "$body" "$secret" 2>&1)
check "the installed module serves a token signed with the key file (\
$claims)" test "$claims" = "debkey Deb deb-room join"
kill "$master" 2>/dev/null && wait "$master" 2>/dev/null
master=

# 4. the SSM module's own package, enabled after the token module
if [ -n "$ssm_deb" ] && "${apt[@]}" install "$ssm_deb" >>"$work/apt.log" 2>&1
then
    ok "apt-get install $(basename "$ssm_deb")"
else
    tail -n 20 "$work/apt.log" >&2
    notok "apt-get install ${ssm_deb:-$ssm_pkg (not built)}"
fi
check "its Depends: names libcurl and the token package" \
    bash -c 'grep -q libcurl <<<"$0" && grep -q "$1" <<<"$0"' \
        "$(dpkg-query -W -f='${Depends}' "$ssm_pkg" 2>/dev/null)" "$pkg"
check "$ssm_enabled loads the SSM module, after the token module's 50-" \
    grep -qx 'load_module modules/ngx_http_livekit_ssm_module.so;' "$ssm_enabled"
$sudo /usr/sbin/nginx -t >"$work/nginx-t-ssm.txt" 2>&1
check "nginx -t with the stock configuration loads both" \
    grep -q 'test is successful' "$work/nginx-t-ssm.txt"

# 5. remove, and everything as it was
if "${apt[@]}" purge "$ssm_pkg" "$pkg" >>"$work/apt.log" 2>&1; then
    ok "apt-get purge $ssm_pkg $pkg"
else
    tail -n 20 "$work/apt.log" >&2
    notok "apt-get purge $ssm_pkg $pkg"
fi
state >"$work/after"
if diff -u "$work/before" "$work/after" >"$work/state.diff"; then
    ok "/etc/nginx, the modules directories and the packages are as before"
else
    cat "$work/state.diff" >&2
    notok "/etc/nginx, the modules directories and the packages are as before"
fi
/usr/sbin/nginx -t -q >/dev/null 2>&1
check "nginx -t gives what it gave before (exit $t_before)" test $? = "$t_before"

summary
