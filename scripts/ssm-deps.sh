#!/usr/bin/env bash
# Installs the AWS suite's Python environment into build/aws-venv: moto
# (SSM, STS and IAM on 127.0.0.1), boto3 and pytest, at the versions pinned
# in t/aws/requirements.txt, their dependencies as in t/aws/constraints.txt.
# Does nothing when the venv already matches both files.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
venv=$repo/build/aws-venv
req=$repo/t/aws/requirements.txt
con=$repo/t/aws/constraints.txt
stamp=$venv/.livekit-requirements
python=${PYTHON:-python3}

want=$(cat "$req" "$con")
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]
then
    exit 0
fi

echo "ssm-deps: installing t/aws/requirements.txt into build/aws-venv"
rm -rf "$venv"
"$python" -m venv "$venv" || {
    echo "ssm-deps: \"$python -m venv\" failed: install python3-venv" >&2
    exit 1
}
"$venv/bin/pip" install -q --disable-pip-version-check -r "$req" -c "$con"
printf '%s' "$want" >"$stamp"
