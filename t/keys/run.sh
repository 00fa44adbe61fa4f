#!/usr/bin/env bash
# Differential test of the key file: every file in t/keys/corpus/ is read
# by livekit-server's own loader (t/keys/loader: gopkg.in/yaml.v3 v3.0.1
# decoding into map[string]string, as livekit-server v1.13.5 does) and by
# nginx with the module (t/keys/differential.py: nginx -t, then a real
# nginx signing with each key, each token's iss and HMAC checked against
# the loader's secret).  The results must agree; where the module is
# stricter on purpose (README, livekit_keys_file: unsafe key names, empty
# secrets, merge keys, !!int-like tags) nginx -t must refuse the file.
#
#   t/keys/run.sh [corpus files...]      KEYS_PORT= (27000)
#
# Go's module and build caches live under ~/.cache/ngx-livekit-token/go.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/ngx-livekit-token/go
out=$repo/build/keys
mkdir -p "$out" "$cache"

export GOMODCACHE=$cache/mod GOCACHE=$cache/build GOTOOLCHAIN=local
export GOFLAGS=-mod=readonly

if ! command -v go >/dev/null; then
    echo "t/keys: no Go toolchain (golang-go)" >&2
    exit 77
fi

loader=$out/loader
if [ ! -x "$loader" ] \
   || [ -n "$(find "$repo/t/keys/loader" -newer "$loader" -type f)" ]; then
    (cd "$repo/t/keys/loader" && go build -o "$loader" .)
fi

if [ $# -eq 0 ]; then
    set -- "$repo"/t/keys/corpus/*.yaml
fi

"$loader" "$@" >"$out/expected.txt"

exec python3 "$repo/t/keys/differential.py" "$out/expected.txt"
