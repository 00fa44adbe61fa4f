#!/usr/bin/env bash
# `make run`: nginx with the module in the foreground on 127.0.0.1:8080,
# signing with a development key file generated on first run (no AWS
# account needed).  Ctrl-C stops it.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
dir=$repo/build/run
port=${PORT:-8080}
nginx=${NGINX:-/usr/sbin/nginx}

mkdir -p "$dir/logs"

if [ ! -s "$dir/keys.yaml" ]; then
    umask 077
    printf 'devkey: %s\n' "$(openssl rand -hex 32)" >"$dir/keys.yaml"
fi

sed -e "s|@MODULE@|$repo/build/ngx_http_livekit_token_module.so|" \
    -e "s|@DIR@|$dir|g" -e "s|@PORT@|$port|g" \
    "$repo/scripts/run.conf.in" >"$dir/nginx.conf"

"$nginx" -p "$dir" -c "$dir/nginx.conf" -t -q

cat <<MSG

  nginx with ngx_http_livekit_token_module on http://127.0.0.1:$port
  key file: $dir/keys.yaml (API key "devkey")

  get a token:
    curl 'http://127.0.0.1:$port/token?room=demo&participant=alice'

  Ctrl-C stops nginx.

MSG

exec "$nginx" -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;'
