"""One test per link of the credential chain, against local stand-ins."""

import datetime
import http.server
import json
import os
import shutil
import pathlib
import tempfile
import threading
import time

import pytest

from conftest import REGION, ssm_conf, verify


class Stub:
    """A tiny HTTP server on 127.0.0.1; handle(method, path, headers, body)
    returns (status, text)."""

    def __init__(self, handle):
        self.requests = []
        stub = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                stub.requests.append((self.command, self.path, dict(self.headers)))
                status, text = handle(self.command, self.path, self.headers, body)
                data = text if isinstance(text, bytes) else text.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = any

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def creds_json(c, expires=None):
    return json.dumps({"Code": "Success", "Type": "AWS-HMAC",
                       "AccessKeyId": c["AccessKeyId"],
                       "SecretAccessKey": c["SecretAccessKey"],
                       "Token": c["SessionToken"],
                       "Expiration": iso(expires or c["Expiration"])})


@pytest.fixture
def readable_dir():
    """Workers run as an unprivileged user: files they read must be
    readable by it, as in production (pytest's tmp_path is not)."""
    d = tempfile.mkdtemp(prefix="livekit-aws-")
    os.chmod(d, 0o755)
    yield pathlib.Path(d)
    shutil.rmtree(d, ignore_errors=True)


def base_env(proxy):
    return {"AWS_ENDPOINT_URL_SSM": proxy.url, "AWS_REGION": REGION}


def test_web_identity_assumes_the_role_through_sts(site, proxy, nginx, moto, readable_dir):
    role = site.role(f"web-{site.user}")
    token_file = readable_dir / "token"
    token_file.write_text("eyJ.web-identity-token.sig\n")
    os.chmod(token_file, 0o644)
    env = base_env(proxy)
    env.update({"AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file),
                "AWS_ROLE_ARN": role, "AWS_ROLE_SESSION_NAME": "nginx-test",
                "AWS_ENDPOINT_URL_STS": proxy.url})
    n = nginx(env, ssm_conf(site))
    # STS AssumeRoleWithWebIdentity is unsigned; moto checks every request,
    # so let exactly that one through; GetParameters is checked again
    moto.allow_unsigned(1)
    n.start()
    _, _, body = n.wait_status(200)
    assert verify(body["token"], site.secret)["iss"] == site.key
    sts = [c for c in proxy.calls if c["op"] == "AssumeRoleWithWebIdentity"]
    assert len(sts) == 1
    assert b"WebIdentityToken=eyJ.web-identity-token.sig" in sts[0]["body"]
    assert b"RoleSessionName=nginx-test" in sts[0]["body"]
    gp = [c for c in proxy.calls if c["op"] == "GetParameters"][0]
    assert gp["headers"]["Authorization"].split("Credential=")[1].startswith("ASIA") \
        or "X-Amz-Security-Token" in gp["headers"]
    assert "X-Amz-Security-Token" in gp["headers"]
    n.wait_log("credentials from web identity (role " + role)
    # temporary keys are kept until shortly before they expire
    time.sleep(4.5)
    assert proxy.count() >= 2
    assert len([c for c in proxy.calls if c["op"] == "AssumeRoleWithWebIdentity"]) == 1


def test_shared_files_use_the_named_profile(site, proxy, nginx, moto, tmp_path):
    other = moto.client("iam")
    other.create_user(UserName=site.user + "-other")
    k = other.create_access_key(UserName=site.user + "-other")["AccessKey"]
    creds = tmp_path / "credentials"
    creds.write_text(f"""# two profiles
[default]
aws_access_key_id = {k['AccessKeyId']}
aws_secret_access_key = {k['SecretAccessKey']}

[prod]
aws_access_key_id = {site.key_id}
aws_secret_access_key = {site.key_secret}
""")
    config = tmp_path / "config"
    config.write_text(f"[default]\nregion = eu-west-3\n\n[profile prod]\nregion = {REGION}\n")
    files = {"AWS_SHARED_CREDENTIALS_FILE": str(creds),
             "AWS_CONFIG_FILE": str(config),
             "AWS_ENDPOINT_URL_SSM": proxy.url}
    secrets = (site.key_secret, k["SecretAccessKey"])

    # AWS_PROFILE=prod: prod's keys, prod's region from the config file
    n = nginx(dict(files, AWS_PROFILE="prod"), ssm_conf(site), secret_values=secrets)
    n.start()
    _, _, body = n.wait_status(200)
    assert verify(body["token"], site.secret)
    gp = [c for c in proxy.calls if c["op"] == "GetParameters"][0]
    assert f"Credential={site.key_id}/" in gp["headers"]["Authorization"]
    assert f"/{REGION}/ssm/" in gp["headers"]["Authorization"]
    n.wait_log('credentials from shared files (profile "prod")')
    n.stop()

    # no profile named: default's keys (not allowed to read) and region
    proxy.reset()
    n = nginx(files, ssm_conf(site), secret_values=secrets).start()
    n.wait_log('shared files (profile "default")')
    assert n.get()[0] == 503
    gp = [c for c in proxy.calls if c["op"] == "GetParameters"][0]
    assert f"Credential={k['AccessKeyId']}/" in gp["headers"]["Authorization"]
    assert "/eu-west-3/ssm/" in gp["headers"]["Authorization"]
    n.stop()

    # livekit_ssm_profile names the profile in the configuration
    proxy.reset()
    n = nginx(files, ssm_conf(site, "livekit_ssm_profile prod;"),
              secret_values=secrets).start()
    n.wait_status(200)

    # a profile that is not there is an error that names it
    proxy.reset()
    n = nginx(dict(files, AWS_PROFILE="nope"), ssm_conf(site),
              secret_values=secrets).start()
    n.wait_log('profile "nope" is not in')
    assert proxy.count() == 0


def test_container_credentials_send_the_authorization_token(site, proxy, nginx, readable_dir):
    c = site.temporary_credentials(f"ecs-{site.user}")
    hour = datetime.datetime.utcnow() + datetime.timedelta(hours=1)

    def handle(method, path, headers, body):
        if headers.get("Authorization") != "container-secret-token":
            return 401, '{"message":"unauthorized"}'
        return 200, creds_json(c, hour)

    stub = Stub(handle)
    token_file = readable_dir / "auth"
    token_file.write_text("container-secret-token\n")
    os.chmod(token_file, 0o644)
    env = base_env(proxy)
    env.update({"AWS_CONTAINER_CREDENTIALS_FULL_URI": stub.url + "/v2/credentials",
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token_file)})
    n = nginx(env, ssm_conf(site),
              secret_values=(c["SecretAccessKey"], c["SessionToken"],
                             "container-secret-token"))
    n.start()
    _, _, body = n.wait_status(200)
    assert verify(body["token"], site.secret)
    n.wait_log("credentials from container credentials")
    gp = [r for r in proxy.calls if r["op"] == "GetParameters"][0]
    assert gp["headers"]["X-Amz-Security-Token"] == c["SessionToken"]
    # cached until close to Expiration: refreshes reuse them
    time.sleep(4.5)
    assert proxy.count() >= 2
    assert len(stub.requests) == 1
    assert stub.requests[0][1] == "/v2/credentials"
    stub.close()


def test_container_credentials_close_to_expiry_are_fetched_again(site, proxy, nginx):
    c = site.temporary_credentials(f"ecs2-{site.user}")
    soon = datetime.datetime.utcnow() + datetime.timedelta(seconds=120)
    stub = Stub(lambda m, p, h, b: (200, creds_json(c, soon))
                if h.get("Authorization") == "container-token-7f3a9c" else (401, "no"))
    env = base_env(proxy)
    env.update({"AWS_CONTAINER_CREDENTIALS_FULL_URI": stub.url + "/creds",
                "AWS_CONTAINER_AUTHORIZATION_TOKEN": "container-token-7f3a9c"})
    n = nginx(env, ssm_conf(site), secret_values=(c["SecretAccessKey"], c["SessionToken"]))
    n.start()
    n.wait_status(200)
    time.sleep(4.5)
    assert proxy.count() >= 2
    assert len(stub.requests) >= 2
    stub.close()


def test_container_credentials_with_a_wrong_token_are_an_error(site, proxy, nginx):
    stub = Stub(lambda m, p, h, b: (401, "no"))
    env = base_env(proxy)
    env.update({"AWS_CONTAINER_CREDENTIALS_FULL_URI": stub.url + "/creds",
                "AWS_CONTAINER_AUTHORIZATION_TOKEN": "wrong"})
    n = nginx(env, ssm_conf(site)).start()
    n.wait_log("container credentials: GET")
    assert "answered HTTP 401" in n.error_lines()[0]
    assert n.get()[0] == 503
    assert proxy.count() == 0
    stub.close()


def test_imdsv2_credentials_and_region(site, proxy, nginx):
    c = site.temporary_credentials(f"ec2-{site.user}")
    session = "imds-session-token-123"
    role = "nginx-instance-role"
    v1 = []

    def handle(method, path, headers, body):
        if path == "/latest/api/token":
            if method != "PUT" or not headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                return 400, "bad"
            return 200, session
        if headers.get("X-aws-ec2-metadata-token") != session:
            v1.append(path)
            return 401, ""
        if path == "/latest/meta-data/placement/region":
            return 200, REGION
        if path == "/latest/meta-data/iam/security-credentials/":
            return 200, role
        if path == f"/latest/meta-data/iam/security-credentials/{role}":
            return 200, creds_json(c)
        return 404, ""

    stub = Stub(handle)
    env = {"AWS_ENDPOINT_URL_SSM": proxy.url,
           "AWS_EC2_METADATA_DISABLED": "false",
           "AWS_EC2_METADATA_SERVICE_ENDPOINT": stub.url}
    n = nginx(env, ssm_conf(site), secret_values=(c["SecretAccessKey"], c["SessionToken"]))
    n.start()
    _, _, body = n.wait_status(200)
    assert verify(body["token"], site.secret)
    n.wait_log(f"instance metadata (IMDSv2, role {role})")
    assert v1 == [], "a request without the IMDSv2 session token"
    paths = [r[1] for r in stub.requests]
    assert "/latest/meta-data/placement/region" in paths
    gp = [r for r in proxy.calls if r["op"] == "GetParameters"][0]
    assert f"/{REGION}/ssm/" in gp["headers"]["Authorization"]
    stub.close()


def test_imds_refusing_the_session_token_is_not_retried_as_v1(site, proxy, nginx):
    stub = Stub(lambda m, p, h, b: (403, "") if p == "/latest/api/token" else (200, "x"))
    env = {"AWS_ENDPOINT_URL_SSM": proxy.url, "AWS_REGION": REGION,
           "AWS_EC2_METADATA_DISABLED": "false",
           "AWS_EC2_METADATA_SERVICE_ENDPOINT": stub.url}
    n = nginx(env, ssm_conf(site)).start()
    n.wait_log("IMDSv2 session token refused")
    assert [r[1] for r in stub.requests] == ["/latest/api/token"]
    assert n.get()[0] == 503
    stub.close()


def test_no_credentials_at_all_is_an_error_that_lists_the_chain(site, proxy, nginx):
    n = nginx({"AWS_ENDPOINT_URL_SSM": proxy.url, "AWS_REGION": REGION},
              ssm_conf(site)).start()
    n.wait_log("no AWS credentials")
    assert proxy.count() == 0
    assert n.get()[0] == 503


def test_container_credentials_over_plain_http_only_to_loopback_or_the_agent(site, proxy, nginx):
    env = base_env(proxy)
    env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://127.evil.test/creds"
    n = nginx(env, ssm_conf(site)).start()
    n.wait_log("neither https nor a loopback or container agent address")
    assert proxy.count() == 0


def test_an_expired_token_answer_gets_new_credentials_and_retries(site, proxy, nginx):
    c = site.temporary_credentials(f"ecs3-{site.user}")
    hour = datetime.datetime.utcnow() + datetime.timedelta(hours=1)
    stub = Stub(lambda m, p, h, b: (200, creds_json(c, hour)))
    env = base_env(proxy)
    env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = stub.url + "/creds"
    proxy.faults = ["expired"]
    n = nginx(env, ssm_conf(site, refresh="1h"),
              secret_values=(c["SecretAccessKey"], c["SessionToken"]))
    n.start()
    n.wait_status(200, timeout=10)
    assert proxy.count() == 2
    assert len(stub.requests) == 2, "credentials were not fetched again"
    assert n.error_lines() == []
    stub.close()



def test_instance_metadata_down_gives_503_and_a_log_line(site, proxy, nginx):
    """Fault matrix: nothing listens at the metadata endpoint."""
    from conftest import free_port
    env = {"AWS_ENDPOINT_URL_SSM": proxy.url, "AWS_REGION": REGION,
           "AWS_EC2_METADATA_DISABLED": "false",
           "AWS_EC2_METADATA_SERVICE_ENDPOINT":
               f"http://127.0.0.1:{free_port()}"}
    n = nginx(env, ssm_conf(site)).start()
    n.wait_log("instance metadata")
    t0 = time.time()
    status, headers, body = n.get()
    assert status == 503 and headers.get("Retry-After")
    assert time.time() - t0 < 1.0, "a 503 must not wait for the metadata service"
    assert proxy.count() == 0


def test_slow_instance_metadata_gives_503_then_tokens_when_it_answers(site, proxy, nginx):
    """Fault matrix: the metadata service answers slower than its 1 s
    timeout, then normally; other locations are served all along, and the
    same workers sign once it answers, without a reload."""
    c = site.temporary_credentials(f"ec2slow-{site.user}")
    role = "slow-role"
    delay = {"s": 3.0}

    def handle(method, path, headers, body):
        time.sleep(delay["s"])
        if path == "/latest/api/token":
            return 200, "tok"
        if path == "/latest/meta-data/iam/security-credentials/":
            return 200, role
        if path == f"/latest/meta-data/iam/security-credentials/{role}":
            return 200, creds_json(c)
        return 404, ""

    stub = Stub(handle)
    env = {"AWS_ENDPOINT_URL_SSM": proxy.url, "AWS_REGION": REGION,
           "AWS_EC2_METADATA_DISABLED": "false",
           "AWS_EC2_METADATA_SERVICE_ENDPOINT": stub.url}
    n = nginx(env, ssm_conf(site),
              extra_locations="location = /other { return 200 'other'; }",
              secret_values=(c["SecretAccessKey"], c["SessionToken"]))
    n.start()
    pids = n.workers()
    t0 = time.time()
    assert n.get()[0] == 503
    assert time.time() - t0 < 1.0
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", n.port, timeout=5)
    conn.request("GET", "/other")
    assert conn.getresponse().status == 200
    conn.close()
    n.wait_log("instance metadata", timeout=30)

    delay["s"] = 0.0
    _, _, body = n.wait_status(200, timeout=40)
    assert verify(body["token"], site.secret)
    assert n.workers() == pids
    stub.close()
