"""Hostile or broken AWS answers and operator slips (issue 11): every
AWS-derived string is data, never structure; what becomes part of a host
name, URL or header is checked before it is used; counters and
configuration errors behave as nginx's own do."""

import json
import os
import signal
import subprocess
import socket
import threading
import time
import urllib.error
import urllib.request

from conftest import REGION, ssm_conf, verify
from test_credentials import Stub, creds_json, readable_dir  # noqa: F401

STATUS = "location = /status { livekit_token_status; }"


def status(n, query=""):
    """(HTTP status, body text) of the status location."""
    try:
        with urllib.request.urlopen(
                f"http://127.0.0.1:{n.port}/status{query}", timeout=10) as r:
            return r.status, r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def raw_log(n):
    with open(n.log, "rb") as f:
        return f.read()


def wait_error(n, timeout=20.0):
    """Until the module logs a failed fetch (at error, not debug)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if n.error_lines():
            return
        time.sleep(0.1)
    raise AssertionError("no livekit ssm error logged:\n" + n.log_text()[-3000:])


def invalid_parameters(name):
    body = {"Parameters": [], "InvalidParameters": [name]}
    return ("raw", 200, json.dumps(body).encode())


class Listener:
    """A TCP port that counts connections and answers nothing."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            c.close()

    def close(self):
        self.sock.close()


# status page and log lines ---------------------------------------------------

def test_a_long_non_ascii_missing_name_keeps_the_status_page_200(site, proxy, nginx):
    # cut at the 511th byte, "é" (2 bytes) was split: jansson refused it
    proxy.faults = [invalid_parameters("/" + "é" * 400)] * 3
    n = nginx(site.env(proxy), ssm_conf(site, refresh="1h"),
              extra_locations=STATUS).start()
    n.wait_log('livekit ssm: parameter "/éé')
    code, text = status(n)
    assert code == 200, text
    ssm = json.loads(text)["keys"]["ssm"]
    assert "é" * 100 in ssm["last_error"]
    assert "\ufffd" not in ssm["last_error"]
    code, text = status(n, "?format=prometheus")
    assert code == 200


def test_a_missing_name_with_a_newline_cannot_forge_a_log_line(site, proxy, nginx):
    forged = "x\n2026/11/30 00:00:00 [emerg] 1#1: FORGED LINE"
    proxy.faults = [invalid_parameters(forged)] * 3
    n = nginx(site.env(proxy), ssm_conf(site, refresh="1h"),
              extra_locations=STATUS).start()
    n.wait_log("FORGED LINE")
    lines = raw_log(n).split(b"\n")
    assert not [l for l in lines if l.startswith(b"2026/11/30 00:00:00")]
    line = [l for l in lines if b"FORGED LINE" in l][0]
    assert b"livekit ssm:" in line and b"x\\x0a2026/11/30" in line
    code, text = status(n)
    assert code == 200
    assert "\n" not in json.loads(text)["keys"]["ssm"]["last_error"]


def imds_region_stub(region):
    def handle(method, path, headers, body):
        if path == "/latest/api/token":
            return 200, "imds-token"
        if path == "/latest/meta-data/placement/region":
            return 200, region
        return 404, ""
    return Stub(handle)


def imds_region_env(site, proxy, stub):
    env = site.env(proxy)
    del env["AWS_REGION"]
    env.update({"AWS_EC2_METADATA_DISABLED": "false",
                "AWS_EC2_METADATA_SERVICE_ENDPOINT": stub.url})
    return env


def test_a_region_from_instance_metadata_with_a_bad_byte_is_shown_escaped(site, proxy, nginx):
    stub = imds_region_stub(b"us-east-1\xff")
    n = nginx(imds_region_env(site, proxy, stub), ssm_conf(site),
              extra_locations=STATUS).start()
    wait_error(n)
    assert b"\xff" not in raw_log(n)
    assert b"us-east-1\\xff" in raw_log(n)
    n.wait_log("not a region")
    code, text = status(n)
    assert code == 200, text
    assert "us-east-1\\xff" in json.loads(text)["keys"]["ssm"]["last_error"]
    assert proxy.count() == 0
    assert n.get()[0] == 503
    stub.close()


def test_an_ansi_escape_in_an_instance_metadata_region_is_not_written_raw(site, proxy, nginx):
    stub = imds_region_stub("\x1b[31mred")
    n = nginx(imds_region_env(site, proxy, stub), ssm_conf(site)).start()
    wait_error(n)
    assert b"\x1b" not in raw_log(n)
    n.wait_log("not a region")
    assert b"\\x1b[31mred" in raw_log(n)
    assert proxy.count() == 0
    stub.close()


# values used before they are checked -----------------------------------------

def test_an_ansi_escape_in_aws_region_fails_nginx_t_and_is_shown_escaped(site, nginx):
    env = site.env(None)
    env["AWS_REGION"] = "\x1b[31mred"
    r = nginx(env, ssm_conf(site)).test_config()
    assert r.returncode != 0, r.stderr
    assert 'invalid AWS region "\\x1b[31mred" from AWS_REGION' in r.stderr
    assert "\x1b" not in r.stderr


def test_a_region_that_would_move_the_sts_host_is_refused_before_any_connection(site, nginx, readable_dir):
    sts = Listener()
    token_file = readable_dir / "token"
    token_file.write_text("eyJ.web-identity-token.sig\n")
    os.chmod(token_file, 0o644)
    env = {"AWS_REGION": f"x@127.0.0.1:{sts.port}/#",
           "AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file),
           "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/r"}
    n = nginx(env, ssm_conf(site))
    r = n.test_config()
    assert r.returncode != 0, r.stderr
    assert "from AWS_REGION" in r.stderr
    try:
        n.start()
    except RuntimeError:
        pass
    time.sleep(1.5)
    assert sts.connections == 0
    sts.close()


def test_a_region_from_a_profile_file_is_checked_at_nginx_t(site, nginx, tmp_path):
    config = tmp_path / "config"
    config.write_text("[default]\nregion = us-east-1.evil.test/x\n")
    env = site.env(None)
    del env["AWS_REGION"]
    env["AWS_CONFIG_FILE"] = str(config)
    r = nginx(env, ssm_conf(site)).test_config()
    assert r.returncode != 0
    assert ('invalid AWS region "us-east-1.evil.test/x" from the config '
            'file profile') in r.stderr


def test_an_endpoint_variable_with_user_info_fails_nginx_t(site, nginx):
    env = site.env(None)
    env["AWS_ENDPOINT_URL_SSM"] = "http://ssm.test@127.0.0.1:1/"
    r = nginx(env, ssm_conf(site)).test_config()
    assert r.returncode != 0
    assert ('SSM endpoint "http://ssm.test@127.0.0.1:1/" from '
            'AWS_ENDPOINT_URL_SSM has a user name') in r.stderr


def test_an_overlong_endpoint_fails_nginx_t(site, nginx):
    env = site.env(None)
    env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "http://127.0.0.1/" + "a" * 300
    r = nginx(env, ssm_conf(site)).test_config()
    assert r.returncode != 0
    assert "AWS_EC2_METADATA_SERVICE_ENDPOINT is longer than 256 bytes" in r.stderr


# container credentials -----------------------------------------------------------

def test_a_container_url_with_user_info_is_refused_and_gets_no_token(site, proxy, nginx):
    """http://localhost:1@0x7f000001:PORT/ passed a check that read the
    host as everything before ':' and sent the token to the host after '@'."""
    stub = Stub(lambda m, p, h, b: (200, "{}"))
    port = stub.url.rsplit(":", 1)[1]
    env = {"AWS_ENDPOINT_URL_SSM": proxy.url, "AWS_REGION": REGION,
           "AWS_CONTAINER_CREDENTIALS_FULL_URI":
               f"http://localhost:1@0x7f000001:{port}/creds",
           "AWS_CONTAINER_AUTHORIZATION_TOKEN": "container-token-x41"}
    n = nginx(env, ssm_conf(site)).start()
    wait_error(n)
    time.sleep(0.5)
    assert stub.requests == [], "the token went to the host after '@'"
    assert proxy.count() == 0
    assert n.get()[0] == 503
    n.wait_log("has a user name or password")
    stub.close()


def test_a_relative_container_uri_cannot_move_the_agent_host(site, proxy, nginx):
    stub = Stub(lambda m, p, h, b: (200, "{}"))
    port = stub.url.rsplit(":", 1)[1]
    env = {"AWS_ENDPOINT_URL_SSM": proxy.url, "AWS_REGION": REGION,
           "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": f"@127.0.0.1:{port}/creds"}
    n = nginx(env, ssm_conf(site)).start()
    n.wait_log("container credentials:")
    time.sleep(0.5)
    assert stub.requests == []
    stub.close()


def test_container_credentials_over_http_to_a_loopback_address_are_allowed(site, proxy, nginx):
    c = site.temporary_credentials(f"ecs-lo-{site.user}")
    stub = Stub(lambda m, p, h, b: (200, creds_json(c)))
    port = stub.url.rsplit(":", 1)[1]
    env = {"AWS_ENDPOINT_URL_SSM": proxy.url, "AWS_REGION": REGION,
           "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"http://127.0.0.1:{port}/c"}
    n = nginx(env, ssm_conf(site),
              secret_values=(c["SecretAccessKey"], c["SessionToken"])).start()
    _, _, body = n.wait_status(200)
    assert verify(body["token"], site.secret)
    stub.close()


# header injection ---------------------------------------------------------------------

def injected(proxy):
    return [c for c in proxy.calls
            if any(k.lower() == "x-injected" for k in c["headers"])]


def settle(n, proxy, text, timeout=20.0):
    """Until the fetch is refused (text logged) or reaches SSM anyway."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proxy.count() or text in n.log_text():
            break
        time.sleep(0.1)
    time.sleep(0.5)


def test_a_session_token_with_crlf_from_container_credentials_is_refused(site, proxy, nginx):
    c = dict(site.temporary_credentials(f"ecs-crlf-{site.user}"))
    c["SessionToken"] = c["SessionToken"] + "\r\nX-Injected: yes"
    stub = Stub(lambda m, p, h, b: (200, creds_json(c)))
    env = {"AWS_ENDPOINT_URL_SSM": proxy.url, "AWS_REGION": REGION,
           "AWS_CONTAINER_CREDENTIALS_FULL_URI": stub.url + "/creds"}
    n = nginx(env, ssm_conf(site), secret_values=(c["SecretAccessKey"],))
    n.start()
    settle(n, proxy, "hold control characters")
    assert injected(proxy) == []
    assert proxy.count() == 0
    assert n.get()[0] == 503
    n.wait_log("hold control characters")
    stub.close()


def test_a_session_token_with_crlf_in_the_environment_is_refused(site, proxy, nginx):
    env = site.env(proxy)
    env["AWS_SESSION_TOKEN"] = "token\r\nX-Injected: yes"
    n = nginx(env, ssm_conf(site)).start()
    settle(n, proxy, "hold control characters")
    assert injected(proxy) == []
    assert proxy.count() == 0
    n.wait_log("hold control characters")


def test_a_session_token_with_crlf_from_sts_is_refused(site, proxy, nginx, moto, readable_dir):
    role = site.role(f"web-crlf-{site.user}")
    token_file = readable_dir / "token"
    token_file.write_text("eyJ.web-identity-token.sig\n")
    os.chmod(token_file, 0o644)
    answer = ("<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>"
              "<Credentials><AccessKeyId>ASIAEXAMPLE</AccessKeyId>"
              "<SecretAccessKey>c2VjcmV0</SecretAccessKey>"
              "<SessionToken>tok\r\nX-Injected: yes</SessionToken>"
              "<Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>"
              "</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>")
    sts = Stub(lambda m, p, h, b: (200, answer))
    env = {"AWS_ENDPOINT_URL_SSM": proxy.url, "AWS_REGION": REGION,
           "AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file),
           "AWS_ROLE_ARN": role, "AWS_ENDPOINT_URL_STS": sts.url}
    n = nginx(env, ssm_conf(site)).start()
    settle(n, proxy, "without usable credentials")
    assert len(sts.requests) >= 1
    assert injected(proxy) == []
    assert proxy.count() == 0
    n.wait_log("without usable credentials")
    sts.close()


def test_an_imds_role_name_with_control_bytes_is_refused(site, proxy, nginx):
    def handle(method, path, headers, body):
        if path == "/latest/api/token":
            return 200, "imds-token"
        if path == "/latest/meta-data/iam/security-credentials/":
            return 200, "evil\x1b[2Jrole"
        return 404, ""

    stub = Stub(handle)
    env = {"AWS_ENDPOINT_URL_SSM": proxy.url, "AWS_REGION": REGION,
           "AWS_EC2_METADATA_DISABLED": "false",
           "AWS_EC2_METADATA_SERVICE_ENDPOINT": stub.url}
    n = nginx(env, ssm_conf(site)).start()
    n.wait_log("instance metadata")
    time.sleep(0.5)
    assert b"\x1b" not in raw_log(n)
    assert [r[1] for r in stub.requests if "evil" in r[1]] == []
    n.wait_log("unusable role name")
    stub.close()


# configuration errors ---------------------------------------------------------------------

def test_livekit_ssm_refresh_0_says_why_at_nginx_t(site, nginx):
    r = nginx({}, ssm_conf(site, refresh="0")).test_config()
    assert r.returncode != 0
    assert 'invalid livekit_ssm_refresh "0": a time of at least 1s' in r.stderr
    assert "nginx.conf:" in r.stderr


def test_livekit_ssm_timeout_0_says_why_at_nginx_t(site, nginx):
    r = nginx({}, ssm_conf(site, timeout="0")).test_config()
    assert r.returncode != 0
    assert 'invalid livekit_ssm_timeout "0": a positive time' in r.stderr


# counters ----------------------------------------------------------------------------------

def test_counters_survive_a_refused_reload_and_a_respawned_worker(site, proxy, nginx):
    n = nginx(site.env(proxy), ssm_conf(site), extra_locations=STATUS).start()
    n.wait_status(200)
    n.get()
    before = json.loads(status(n)[1])["tokens"]["get"]
    assert before >= 2

    # a reload that nginx -t refuses keeps the running configuration
    n.write(ssm_conf(site) + "    livekit_token_ttl 0;\n",
            extra_locations=STATUS)
    assert n.test_config().returncode != 0
    n.reload()
    n.wait_log("livekit_token_ttl")
    time.sleep(0.5)

    # a worker that exits is respawned by the master from that configuration
    old = n.workers()
    os.kill(old[0], signal.SIGQUIT)
    deadline = time.time() + 30
    while time.time() < deadline and (not n.workers() or n.workers() == old):
        time.sleep(0.1)
    assert n.workers() and n.workers() != old, (old, n.workers(),
                                                n.log_text()[-2000:])

    code, _, body = n.wait_status(200)
    assert verify(body["token"], site.secret)
    after = json.loads(status(n)[1])["tokens"]["get"]
    assert after >= before + 1, (before, after, [
        l for l in n.log_text().splitlines() if "[debug]" not in l][-20:])


def test_a_key_name_with_quote_and_backslash_is_escaped_in_the_prometheus_label(site, proxy, nginx):
    key = 'api"k\\ey-ключ'
    site.put("api-key", key)
    n = nginx(site.env(proxy), ssm_conf(site), extra_locations=STATUS).start()
    _, _, body = n.wait_status(200)
    assert verify(body["token"], site.secret)["iss"] == key
    code, text = status(n)
    assert code == 200 and json.loads(text)["keys"]["key"] == key
    code, text = status(n, "?format=prometheus")
    assert code == 200
    assert 'livekit_token_key_info{key="api\\"k\\\\ey-ключ",source="ssm"' in text


def test_a_key_name_with_a_control_character_is_refused(site, proxy, nginx):
    site.put("api-key", "api\u0085key")     # NEL, a C1 control
    n = nginx(site.env(proxy), ssm_conf(site), extra_locations=STATUS).start()
    n.wait_log("has blanks or control characters")
    assert n.get()[0] == 503
    code, _ = status(n)
    assert code == 200


# out of memory is not "unset" ----------------------------------------------------------------

FAIL_MALLOC = r"""
#include <stdlib.h>
#include <string.h>

extern void *__libc_malloc(size_t size);

/* malloc() of exactly $FAIL_MALLOC_SIZE bytes fails, every other works */
void *
malloc(size_t size)
{
    static size_t  fail;
    char          *v;

    if (fail == 0) {
        v = getenv("FAIL_MALLOC_SIZE");
        fail = v ? strtoul(v, NULL, 10) : (size_t) -1;
    }

    return size == fail ? NULL : __libc_malloc(size);
}
"""


def test_running_out_of_memory_reading_a_variable_fails_nginx_t(site, nginx, tmp_path):
    """aws_getenv() returned NULL for "unset" and for "out of memory": the
    session token silently dropped, the keys used without it."""
    src = tmp_path / "failmalloc.c"
    src.write_text(FAIL_MALLOC)
    lib = tmp_path / "failmalloc.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-o", str(lib), str(src)],
                   check=True)
    token = "T" * 20000          # its copy: one malloc of 20001 bytes
    env = site.env(None)
    env["AWS_SESSION_TOKEN"] = token
    n = nginx(env, ssm_conf(site))
    assert n.test_config().returncode == 0
    n.env.update({"LD_PRELOAD": str(lib), "FAIL_MALLOC_SIZE": "20001"})
    r = n.test_config()
    assert r.returncode != 0, r.stderr
    assert "20001" in r.stderr
    assert token not in r.stderr
