#!/usr/bin/env bash
# The SSM key source suite (t/aws): moto_server with signature checking,
# a counting proxy, local credential stand-ins and nginx, all on 127.0.0.1.
# Installs its Python environment first (scripts/ssm-deps.sh).
set -euo pipefail

. "$(dirname "$0")/lib.sh"
"$repo/scripts/ssm-deps.sh"

export LIVEKIT_MODULE=${LIVEKIT_MODULE:-$repo/build/ngx_http_livekit_token_module.so}
export LIVEKIT_SSM_MODULE=${LIVEKIT_SSM_MODULE:-$(dirname "$LIVEKIT_MODULE")/ngx_http_livekit_ssm_module.so}
export NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}

cd "$repo/t/aws"
exec "$repo/build/aws-venv/bin/python" -m pytest -q -p no:cacheprovider "$@"
