"""Fixtures for the SSM key source suite.

Everything runs on 127.0.0.1:

* moto_server plays SSM, STS and IAM with signature checking on (IAM
  authentication is switched on through moto's /moto-api/reset-auth once an
  admin user exists), so a request signed with a wrong key is refused;
* a small proxy in front of moto counts GetParameters calls and can inject
  throttling, 5xx, hangs and malformed answers; the module reaches it
  through AWS_ENDPOINT_URL_SSM, as an SDK would;
* nginx runs per test from a generated configuration with master_process
  on, error_log at debug, and its own environment.

Each test uses its own parameter path, so tests do not see each other's
parameters.
"""

import base64
import hashlib
import hmac
import http.client
import http.server
import itertools
import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request

import boto3
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULE = os.environ.get(
    "LIVEKIT_MODULE", os.path.join(REPO, "build", "ngx_http_livekit_token_module.so"))
# the SSM key source, loaded after the token module whose symbols it uses
SSM_MODULE = os.environ.get(
    "LIVEKIT_SSM_MODULE", os.path.join(REPO, "build", "ngx_http_livekit_ssm_module.so"))
NGINX = os.environ.get("NGINX_BIN", "/usr/sbin/nginx")
REGION = "us-east-1"
ACCOUNT = "123456789012"
_counter = itertools.count(1)


def _port_range():
    """LIVEKIT_TEST_PORTS=28000-28999: ports for moto and nginx from this
    range (outside the kernel's ephemeral range, so no outgoing connection
    takes one between the check and the bind), else any free port."""
    spec = os.environ.get("LIVEKIT_TEST_PORTS", "")
    if not spec:
        return None
    lo, hi = (int(x) for x in spec.split("-"))
    assert 1024 <= lo <= hi <= 65535, spec
    # each pytest run starts at its own offset, so runs side by side differ
    start = lo + (os.getpid() * 7) % (hi - lo + 1)
    return itertools.chain(range(start, hi + 1), range(lo, start))


_ports = _port_range()


def free_port():
    with socket.socket() as s:
        if _ports is None:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]
        for port in _ports:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
        raise RuntimeError("no free port left in LIVEKIT_TEST_PORTS")


def wait_port(port, timeout=15.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


# moto ---------------------------------------------------------------------

class Moto:
    def __init__(self, tmp):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        venv_bin = os.path.dirname(os.path.realpath(os.sys.executable))
        exe = os.path.join(os.path.dirname(os.sys.executable), "moto_server")
        if not os.path.exists(exe):
            exe = os.path.join(venv_bin, "moto_server")
        self.log = open(os.path.join(tmp, "moto.log"), "w")
        self.proc = subprocess.Popen(
            [exe, "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self.log, stderr=subprocess.STDOUT,
            env=dict(os.environ, MOTO_ALLOW_NONEXISTENT_REGION="true"))
        try:
            wait_port(self.port)
            self.setup()
        except BaseException:
            self.stop()
            raise

    def setup(self):
        # an admin, created while authentication is still off
        iam = self.client("iam", "x", "x")
        iam.create_user(UserName="admin")
        key = iam.create_access_key(UserName="admin")["AccessKey"]
        iam.put_user_policy(UserName="admin", PolicyName="all",
                            PolicyDocument=json.dumps(policy(["*"], ["*"])))
        self.admin = (key["AccessKeyId"], key["SecretAccessKey"])
        # from now on every request must be signed by a known key
        req = urllib.request.Request(self.url + "/moto-api/reset-auth",
                                     data=b"0", method="POST",
                                     headers={"Content-Type": "text/plain"})
        urllib.request.urlopen(req).read()

    def client(self, service, key_id=None, secret=None, token=None):
        key_id = key_id or self.admin[0]
        secret = secret or self.admin[1]
        return boto3.client(service, endpoint_url=self.url, region_name=REGION,
                            aws_access_key_id=key_id,
                            aws_secret_access_key=secret,
                            aws_session_token=token)

    def allow_unsigned(self, n):
        """The next n requests skip authentication (STS web identity)."""
        req = urllib.request.Request(self.url + "/moto-api/reset-auth",
                                     data=str(n).encode(), method="POST",
                                     headers={"Content-Type": "text/plain"})
        urllib.request.urlopen(req).read()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()


def policy(actions, resources, effect="Allow"):
    return {"Version": "2012-10-17",
            "Statement": [{"Effect": effect, "Action": actions,
                           "Resource": resources}]}


@pytest.fixture(scope="session")
def moto(tmp_path_factory):
    m = Moto(str(tmp_path_factory.mktemp("moto")))
    yield m
    m.stop()


# the counting, fault-injecting proxy ----------------------------------------

class Proxy:
    """Forwards to moto; counts calls by operation; injects faults."""

    def __init__(self, upstream_port, port=0):
        self.upstream_port = upstream_port
        self.lock = threading.Lock()
        self.calls = []
        self.faults = []
        self.hang_seconds = 3.0
        # called as each call arrives, its answer kept with the call (a
        # test asks, e.g., whether nginx had logged something by then)
        self.probe = None
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                target = self.headers.get("X-Amz-Target") or ""
                op = target.split(".")[-1] if target else ""
                if not op and b"Action=" in body:
                    op = body.split(b"Action=")[1].split(b"&")[0].decode()
                fault = None
                probe = proxy.probe
                seen = probe() if probe else None
                with proxy.lock:
                    proxy.calls.append({"op": op, "time": time.time(),
                                        "headers": dict(self.headers),
                                        "body": body, "probe": seen})
                    if op == "GetParameters" and proxy.faults:
                        fault = proxy.faults.pop(0)
                if fault:
                    return self.fault(fault)
                conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port,
                                                  timeout=30)
                headers = {k: v for k, v in self.headers.items()}
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection",
                                         "content-length", "server", "date"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            def fault(self, kind):
                if isinstance(kind, tuple):
                    # ("raw", status, body bytes): an answer made up by a test
                    _, status, raw = kind
                    self.send_response(status)
                    self.send_header("Content-Type",
                                     "application/x-amz-json-1.1")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                    return
                if kind == "hang":
                    time.sleep(proxy.hang_seconds)
                    self.close_connection = True
                    return
                if kind == "throttle":
                    status, data = 400, {"__type": "ThrottlingException",
                                         "message": "Rate exceeded"}
                elif kind == "500":
                    status, data = 500, {"__type": "InternalServerError",
                                         "message": "injected"}
                elif kind == "expired":
                    status, data = 400, {"__type": "ExpiredTokenException",
                                         "message": "The security token "
                                                    "included in the request "
                                                    "is expired"}
                elif kind == "malformed":
                    status, data = 200, None
                elif kind == "truncated":
                    # promises more than it sends, then closes
                    raw = b'{"Parameters": [{"Name": "/x", "Value": "'
                    self.send_response(200)
                    self.send_header("Content-Type",
                                     "application/x-amz-json-1.1")
                    self.send_header("Content-Length", str(len(raw) + 100))
                    self.end_headers()
                    self.wfile.write(raw)
                    self.close_connection = True
                    return
                else:
                    raise ValueError(kind)
                raw = b'{"Parameters": [ {"Name": ' if data is None \
                    else json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = do_PUT = do_any

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port),
                                                      Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count(self, op="GetParameters", probe=None):
        """Calls of op; with probe given, only those whose probe answered
        that."""
        with self.lock:
            return sum(1 for c in self.calls if c["op"] == op
                       and (probe is None or c["probe"] == probe))

    def reset(self):
        with self.lock:
            self.calls = []
            self.faults = []
            self.probe = None


@pytest.fixture(scope="session")
def proxy_server(moto):
    p = Proxy(moto.port)
    yield p
    p.server.shutdown()


@pytest.fixture
def proxy(proxy_server):
    proxy_server.reset()
    yield proxy_server
    proxy_server.reset()


# parameters and users -------------------------------------------------------

class Site:
    """One test's parameters and an IAM user allowed to read them."""

    def __init__(self, moto):
        n = next(_counter)
        self.moto = moto
        self.path = f"/t{n}-{os.getpid()}/livekit/"
        self.key = f"APIkey{n}"
        self.secret = base64.b64encode(os.urandom(33)).decode()
        self.url = f"wss://livekit-{n}.example.test"
        self.ssm = moto.client("ssm")
        self.put("api-key", self.key)
        self.put("api-secret", self.secret)
        self.put("url", self.url)
        self.user = f"nginx{n}"
        iam = moto.client("iam")
        iam.create_user(UserName=self.user)
        k = iam.create_access_key(UserName=self.user)["AccessKey"]
        self.key_id, self.key_secret = k["AccessKeyId"], k["SecretAccessKey"]
        iam.put_user_policy(UserName=self.user, PolicyName="read",
                            PolicyDocument=json.dumps(self.read_policy()))

    def arns(self):
        return [f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{self.path}{n}"
                for n in ("api-key", "api-secret", "url")]

    def read_policy(self):
        # moto checks SSM actions against the resource "*" only; the
        # README's policy names the three parameter ARNs (self.arns())
        return {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["ssm:GetParameters"],
             "Resource": ["*"]},
            {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": ["*"]}]}

    def put(self, name, value):
        self.ssm.put_parameter(Name=self.path + name, Value=value,
                               Type="SecureString", Overwrite=True)

    def delete(self, name):
        self.ssm.delete_parameter(Name=self.path + name)

    def env(self, proxy):
        """The environment of an nginx that uses this user's keys."""
        env = {"AWS_ACCESS_KEY_ID": self.key_id,
               "AWS_SECRET_ACCESS_KEY": self.key_secret,
               "AWS_REGION": REGION}
        if proxy:
            env["AWS_ENDPOINT_URL_SSM"] = proxy.url
        return env

    def role(self, name):
        """A role allowed to read the parameters, that anyone may assume."""
        iam = self.moto.client("iam")
        trust = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "*"},
             "Action": ["sts:AssumeRole", "sts:AssumeRoleWithWebIdentity"]}]}
        arn = iam.create_role(RoleName=name,
                              AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        iam.put_role_policy(RoleName=name, PolicyName="read",
                            PolicyDocument=json.dumps(self.read_policy()))
        return arn

    def temporary_credentials(self, name):
        """Keys, secret and session token of an assumed role (STS)."""
        arn = self.role(name)
        c = self.moto.client("sts").assume_role(
            RoleArn=arn, RoleSessionName="test")["Credentials"]
        return c


@pytest.fixture
def site(moto):
    return Site(moto)


# nginx -------------------------------------------------------------------------

class Nginx:
    def __init__(self, tmp, env, http_conf, workers=1, extra_locations="",
                 main_conf="", modules=(MODULE, SSM_MODULE)):
        self.dir = str(tmp)
        self.main_conf = main_conf
        self.modules = modules
        self.port = free_port()
        for d in ("logs", "tmp", "conf"):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
        self.conf = os.path.join(self.dir, "conf", "nginx.conf")
        self.log = os.path.join(self.dir, "logs", "error.log")
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                    "HOME": self.dir, "AWS_EC2_METADATA_DISABLED": "true"}
        self.env.update(env)
        self.write(http_conf, workers, extra_locations)
        self.proc = None

    def write(self, http_conf, workers=1, extra_locations=""):
        d = self.dir
        with open(self.conf, "w") as f:
            f.write(f"""
{"".join(f"load_module {m};" + chr(10) for m in self.modules)}
{self.main_conf}
daemon off;
master_process on;
worker_processes {workers};
error_log {d}/logs/error.log debug;
pid {d}/logs/nginx.pid;
events {{ worker_connections 128; }}
http {{
    access_log off;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
{http_conf}
    server {{
        listen 127.0.0.1:{self.port};
        location = /token {{ livekit_token on; }}
{extra_locations}
    }}
}}
""")

    def test_config(self):
        return subprocess.run([NGINX, "-p", self.dir, "-c", self.conf, "-t"],
                              env=self.env, capture_output=True, text=True)

    def start(self):
        stderr = open(os.path.join(self.dir, "logs", "stderr.log"), "w")
        self.proc = subprocess.Popen([NGINX, "-p", self.dir, "-c", self.conf],
                                     env=self.env, stdout=subprocess.DEVNULL,
                                     stderr=stderr)
        stderr.close()
        deadline = time.time() + 15
        while self.proc.poll() is None and time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.5):
                    pass
            except OSError:
                time.sleep(0.05)
                continue
            # the master listens before it forks: wait for the workers too
            if self.workers():
                return self
            time.sleep(0.05)
        with open(os.path.join(self.dir, "logs", "stderr.log")) as f:
            raise RuntimeError("nginx did not start: " + f.read())

    def reload(self):
        self.proc.send_signal(signal.SIGHUP)

    def workers(self):
        pids = []
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                with open(f"/proc/{p}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid and fields[0] != "Z":
                pids.append(int(p))
        return sorted(pids)

    def get(self, room="r1", identity="alice"):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", f"/token?room={room}&participant={identity}")
        r = conn.getresponse()
        body = r.read()
        conn.close()
        try:
            data = json.loads(body)
        except ValueError:
            data = {"raw": body.decode(errors="replace")}
        return r.status, dict(r.getheaders()), data

    def wait_status(self, status, timeout=20.0):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            last = self.get()
            if last[0] == status:
                return last
            time.sleep(0.1)
        raise AssertionError(f"no {status} within {timeout}s, last: {last}\n"
                             + self.log_text()[-3000:])

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def wait_log(self, text, timeout=20.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if text in self.log_text():
                return
            time.sleep(0.1)
        raise AssertionError(f"{text!r} not logged within {timeout}s:\n"
                             + self.log_text()[-3000:])

    def error_lines(self):
        return [l for l in self.log_text().splitlines()
                if "[error]" in l and "livekit ssm" in l]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def nginx(tmp_path, request):
    """A factory: nginx(env, http_conf, workers=1).start() is up to the test."""
    made = []
    secrets = []

    def make(env, http_conf, workers=1, extra_locations="", secret_values=(),
             main_conf="", modules=(MODULE, SSM_MODULE)):
        n = Nginx(tmp_path / f"nginx{len(made)}", env, http_conf, workers,
                  extra_locations, main_conf, modules)
        made.append(n)
        secrets.extend(v for v in secret_values if v)
        secrets.extend(v for k, v in env.items()
                       if k in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                                "AWS_CONTAINER_AUTHORIZATION_TOKEN"))
        return n

    make.secrets = secrets
    yield make
    for n in made:
        n.stop()
    # no secret in any log, at any level (error_log ... debug)
    for n in made:
        text = n.log_text()
        assert "[alert]" not in text and "[crit]" not in text, text[-3000:]
        for s in secrets:
            assert s not in text, "a secret is in the error log"


def ssm_conf(site, extra="", refresh="2s", timeout="1s"):
    return f"""
    livekit_ssm_path {site.path};
    livekit_ssm_refresh {refresh};
    livekit_ssm_timeout {timeout};
{extra}
"""


# tokens --------------------------------------------------------------------------

def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def verify(token, secret):
    """The claims if the HS256 signature is made with "secret", else None."""
    head, payload, sig = token.split(".")
    want = hmac.new(secret.encode(), f"{head}.{payload}".encode(),
                    hashlib.sha256).digest()
    if not hmac.compare_digest(want, b64d(sig)):
        return None
    assert json.loads(b64d(head)) == {"alg": "HS256", "typ": "JWT"}
    return json.loads(b64d(payload))
