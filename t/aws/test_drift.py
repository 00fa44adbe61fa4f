"""Key drift between the module and livekit-server, caught by
livekit_token_upstream_check: a real livekit-server (v1.13.5, built by
scripts/livekit-server.sh) reads its key file once at start; the module takes
a secret rotated in SSM without a reload.  The probe then says "refused"
(and logs it once, naming the key), and "accepted" again once livekit-server
is restarted with the new secret."""

import base64
import json
import os
import subprocess
import time
import urllib.request

import pytest

from conftest import REPO, free_port, ssm_conf, wait_port


@pytest.fixture(scope="module")
def livekit_server():
    out = subprocess.run([os.path.join(REPO, "scripts", "livekit-server.sh"),
                          "build"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip().splitlines()[-1]


class LiveKit:
    def __init__(self, binary, tmp):
        self.binary, self.dir = binary, str(tmp)
        self.port = free_port()
        self.proc = None

    def start(self, key, secret):
        keys = os.path.join(self.dir, "keys.yaml")
        with open(keys, "w") as f:
            f.write(f"{key}: '{secret}'\n")
        os.chmod(keys, 0o600)
        conf = os.path.join(self.dir, "livekit.yaml")
        subprocess.run([os.path.join(REPO, "scripts", "livekit-server.sh"),
                        "config", conf, f"KEY_FILE={keys}", f"PORT={self.port}",
                        f"TCP_PORT={free_port()}", f"UDP_PORT={free_port()}",
                        "LOG_LEVEL=warn"], check=True)
        log = open(os.path.join(self.dir, "livekit.log"), "a")
        self.proc = subprocess.Popen([self.binary, "--config", conf],
                                     stdout=log, stderr=log)
        log.close()
        wait_port(self.port, timeout=30)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)


def upstream(n):
    with urllib.request.urlopen(f"http://127.0.0.1:{n.port}/status",
                                timeout=5) as r:
        return json.load(r)["keys"].get("upstream", {}).get("state")


def wait_upstream(n, state, timeout=30.0):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = upstream(n)
        if last == state:
            return
        time.sleep(0.2)
    raise AssertionError(f"upstream {last!r}, not {state!r}:\n"
                         + n.log_text()[-2000:])


def test_a_secret_rotated_in_ssm_that_livekit_server_lacks_is_refused_then_accepted(
        site, proxy, nginx, livekit_server, tmp_path):
    lk = LiveKit(livekit_server, tmp_path)
    lk.start(site.key, site.secret)
    try:
        n = nginx(site.env(proxy), ssm_conf(
            site, extra=f"    livekit_token_upstream_check "
                        f"http://127.0.0.1:{lk.port} 1s;"),
            extra_locations="        location = /status "
                            "{ livekit_token_status; }").start()
        n.wait_status(200)
        wait_upstream(n, "accepted")

        old = site.secret
        site.secret = base64.b64encode(os.urandom(33)).decode()
        nginx.secrets.extend([old, site.secret])
        site.put("api-secret", site.secret)
        n.wait_log("changed: new tokens use key", timeout=20)
        wait_upstream(n, "refused")
        time.sleep(3)
        refusals = [l for l in n.log_text().splitlines()
                    if "[error]" in l and f'refuses key "{site.key}"' in l]
        assert len(refusals) == 1, refusals

        lk.stop()
        wait_upstream(n, "unreachable")
        lk.start(site.key, site.secret)
        wait_upstream(n, "accepted")
    finally:
        lk.stop()
