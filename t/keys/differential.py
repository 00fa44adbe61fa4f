#!/usr/bin/env python3
"""Compares the loader's reading of each key file (t/keys/loader) with the
module's: argv[1] holds the loader's lines, "<file> ok <n> <hex(key)>=
<hex(secret)>..." or "<file> error <message>".

For each file:
  * the loader refuses it (or finds no keys): `nginx -t` must fail with a
    livekit_keys_file message naming the file;
  * the loader accepts it but the module is stricter on purpose (a key name
    outside [A-Za-z0-9_.:@+/=-]{1,128}, an empty secret, or a corpus file
    named stricter-*): `nginx -t` must fail the same way;
  * otherwise a location without livekit_api_key passes `nginx -t` only
    with exactly one key ("has N keys" otherwise), and a real nginx signs
    at /k<i> with each key: the token's iss is the key and its HS256
    signature verifies with the loader's secret.
No secret may appear in nginx's output.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
NGINX = os.environ.get("NGINX_BIN", "/usr/sbin/nginx")
MODULE = os.environ.get(
    "LIVEKIT_MODULE",
    os.path.join(REPO, "build", "ngx_http_livekit_token_module.so"))
PORT = int(os.environ.get("KEYS_PORT", "27000"))
PREFIX = os.path.join(REPO, "build", "keys", "nginx")
SAFE_NAME = re.compile(rb"[A-Za-z0-9_.:@+/=-]{1,128}\Z")

CONF = """\
load_module {module};
daemon off;
master_process off;
error_log {prefix}/error.log info;
pid {prefix}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/tmp;
    livekit_keys_file {keys};
    livekit_url ws://127.0.0.1:7880;
    server {{
        listen 127.0.0.1:{port};
{locations}
    }}
}}
"""


def conf(keys, locations):
    path = os.path.join(PREFIX, "nginx.conf")
    with open(path, "w") as f:
        f.write(CONF.format(module=MODULE, prefix=PREFIX, keys=keys,
                            port=PORT, locations=locations))
    return path


def nginx_t(path):
    p = subprocess.run([NGINX, "-p", PREFIX, "-c", path, "-t"],
                       capture_output=True)
    return p.returncode, p.stdout + p.stderr


def location(uri, key=None):
    api = '            livekit_api_key "%s";\n' % key.decode() if key else ""
    return ("        location = %s {\n            livekit_token on;\n%s"
            "        }\n" % (uri, api))


def b64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def wait_port():
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", PORT), 0.1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def sign_each(path, keys):
    """Starts nginx with one location per key; returns a list of faults."""
    faults = []
    log = open(os.path.join(PREFIX, "run.log"), "wb")
    proc = subprocess.Popen([NGINX, "-p", PREFIX, "-c", path],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        if not wait_port():
            return ["nginx did not start"]
        for i, (name, secret) in enumerate(keys):
            url = "http://127.0.0.1:%d/k%d?room=r&participant=p" % (PORT, i)
            with urllib.request.urlopen(url, timeout=5) as r:
                token = json.load(r)["token"]
            head, body, sig = token.split(".")
            claims = json.loads(b64url(body))
            mac = hmac.new(secret, (head + "." + body).encode(),
                           hashlib.sha256).digest()
            if claims.get("iss", "").encode() != name:
                faults.append("key %r signed with iss %r"
                              % (name, claims.get("iss")))
            if not hmac.compare_digest(mac, b64url(sig)):
                faults.append("key %r: the signature does not verify with "
                              "the loader's secret" % name)
    except Exception as e:  # an HTTP error, a bad token
        faults.append("signing: %s" % e)
    finally:
        proc.send_signal(signal.SIGQUIT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    return faults


def refused(path, out, why):
    emerg = re.compile(rb"\[emerg\] .*livekit_keys_file: .*\"%s\""
                       % re.escape(path.encode()))
    if not emerg.search(out):
        return ["nginx -t refused it (%s) without a livekit_keys_file "
                "message naming the file: %r" % (why, out[-300:])]
    return []


def check(path, verdict, rest):
    name = os.path.basename(path)
    keys = []
    if verdict == "ok":
        fields = rest.split(" ")
        for kv in fields[1:]:
            k, v = kv.split("=")
            keys.append((bytes.fromhex(k), bytes.fromhex(v)))

    rc, out = nginx_t(conf(path, location("/t")))

    if any(len(s) >= 8 and s in out for _, s in keys):
        return ["a secret appears in nginx's output"]

    if verdict != "ok":
        if rc == 0:
            return ["livekit-server refuses it (%s), nginx -t passes" % rest]
        return refused(path, out, "as livekit-server does")

    stricter = [k for k, s in keys if not SAFE_NAME.match(k) or s == b""]
    if name.startswith("stricter-") or stricter:
        if rc == 0:
            return ["the module should refuse it (stricter than "
                    "livekit-server), nginx -t passes"]
        return refused(path, out, "stricter than livekit-server")

    if len(keys) == 1 and rc != 0:
        return ["one key, but nginx -t fails: %r" % out[-300:]]
    if len(keys) > 1 and b"has %d keys" % len(keys) not in out:
        return ["%d keys, but nginx -t does not say so: %r"
                % (len(keys), out[-300:])]

    locations = "".join(location("/k%d" % i, k)
                        for i, (k, _) in enumerate(keys))
    path_conf = conf(path, locations)
    rc, out = nginx_t(path_conf)
    if rc != 0:
        return ["nginx -t fails with a location per key: %r" % out[-300:]]
    return sign_each(path_conf, keys)


def main():
    shutil.rmtree(PREFIX, ignore_errors=True)
    os.makedirs(os.path.join(PREFIX, "logs"))
    os.makedirs(os.path.join(PREFIX, "tmp"))

    total = failed = 0
    for line in open(sys.argv[1]):
        path, verdict, rest = line.rstrip("\n").split(" ", 2)
        total += 1
        faults = check(path, verdict, rest)
        if verdict == "ok":
            summary = "%s key(s)" % rest.split(" ")[0]
        else:
            summary = "refused: " + rest
        if faults:
            failed += 1
            print("FAIL %s (livekit-server: %s)" % (os.path.basename(path),
                                                    summary))
            for f in faults:
                print("     " + f)
        else:
            print("ok   %s (livekit-server: %s)" % (os.path.basename(path),
                                                    summary))

    print("t/keys: %d key files, %d read as livekit-server reads them, "
          "%d differ" % (total, total - failed, failed))
    return 1 if failed or total == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
