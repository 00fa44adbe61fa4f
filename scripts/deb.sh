#!/usr/bin/env bash
# Builds the Debian package libnginx-mod-http-livekit-token from debian/
# with dpkg-buildpackage and nginx-dev's dh-sequence-nginx, as Debian's own
# libnginx-mod-* packages are built: Debian's nginx configure flags, a
# `nginx -t` load check, the module in /usr/lib/nginx/modules, its load
# snippet mod-http-livekit-token.conf in /usr/share/nginx/modules-available
# enabled through /etc/nginx/modules-enabled, and Depends: on the exact
# nginx-abi-* of the nginx it was built for.
#
#   scripts/deb.sh        build/deb/libnginx-mod-http-livekit-token_*.deb
#
# dpkg-buildpackage writes next to the source tree, so the tree is staged
# in build/deb/src (config, src/, debian/): nothing lands outside build/.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
LOG_NAME=deb

apt_install dpkg-dev debhelper fakeroot build-essential nginx nginx-dev \
            libssl-dev libjansson-dev libyaml-dev libcurl4-openssl-dev \
    || die "cannot install the packaging tools"

out=$repo/build/deb
rm -rf "$out"
mkdir -p "$out/src"
cp -a "$repo/config" "$repo/src" "$repo/debian" "$out/src/"

log "dpkg-buildpackage (log: $out/build.log)"
(cd "$out/src" && dpkg-buildpackage -b -us -uc) >"$out/build.log" 2>&1 || {
    tail -n 30 "$out/build.log" >&2
    die "dpkg-buildpackage failed"
}
grep -E 'warning:' "$out/build.log" >&2 || true
deb=$(ls "$out"/libnginx-mod-http-livekit-token_*.deb)
log "$(dpkg-deb -f "$deb" Package Version Depends | tr '\n' ' ')"
echo "$deb"
