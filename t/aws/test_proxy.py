"""HTTP_PROXY, HTTPS_PROXY and NO_PROXY, read in the master's snapshot."""

import http.client
import http.server
import threading
import urllib.parse

import pytest

from conftest import free_port, ssm_conf, verify


class ForwardProxy:
    """A plain HTTP forward proxy that records the absolute URLs it is
    asked for and passes the requests on."""

    def __init__(self):
        self.seen = []
        self.auth = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_any(self):
                proxy.seen.append(self.path)
                proxy.auth.append(self.headers.get("Proxy-Authorization"))
                u = urllib.parse.urlsplit(self.path)
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else None
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("proxy-authorization",
                                                "proxy-connection")}
                c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
                c.request(self.command, u.path + ("?" + u.query if u.query else ""),
                          body=body, headers=headers)
                r = c.getresponse()
                data = r.read()
                c.close()
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection",
                                         "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_any

        self.port = free_port()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port),
                                                      Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def fwd():
    p = ForwardProxy()
    yield p
    p.server.shutdown()


def env(site, **extra):
    e = site.env(None)
    e["AWS_ENDPOINT_URL_SSM"] = site.moto.url
    e.update(extra)
    return e


def test_http_proxy_carries_the_ssm_call_to_an_http_endpoint(site, fwd, nginx):
    n = nginx(env(site, HTTP_PROXY=fwd.url), ssm_conf(site))
    n.start()
    _, _, body = n.wait_status(200)
    assert verify(body["token"], site.secret)
    assert any(s.startswith(site.moto.url + "/") for s in fwd.seen), fwd.seen


def test_the_lower_case_http_proxy_is_read_too(site, fwd, nginx):
    n = nginx(env(site, http_proxy=fwd.url), ssm_conf(site))
    n.start()
    n.wait_status(200)
    assert fwd.seen


def test_a_proxy_password_is_sent_to_the_proxy_and_never_logged(site, fwd, nginx):
    secret = "pr0xy-p4ss-" + site.user
    url = f"http://lk:{secret}@127.0.0.1:{fwd.port}"
    n = nginx(env(site, HTTP_PROXY=url), ssm_conf(site), secret_values=(secret,))
    n.start()
    n.wait_status(200)
    assert fwd.seen and fwd.auth[0] and fwd.auth[0].startswith("Basic ")


def test_no_proxy_sends_the_call_straight_to_the_endpoint(site, fwd, nginx):
    n = nginx(env(site, HTTP_PROXY=fwd.url, NO_PROXY="example.test,127.0.0.1"),
              ssm_conf(site))
    n.start()
    _, _, body = n.wait_status(200)
    assert verify(body["token"], site.secret)
    assert fwd.seen == []


def test_https_proxy_is_not_used_for_an_http_endpoint(site, fwd, nginx):
    n = nginx(env(site, HTTPS_PROXY=fwd.url), ssm_conf(site))
    n.start()
    n.wait_status(200)
    assert fwd.seen == []


def test_a_proxy_that_does_not_answer_fails_the_fetch(site, nginx):
    dead = f"http://127.0.0.1:{free_port()}"
    n = nginx(env(site, HTTP_PROXY=dead), ssm_conf(site))
    n.start()
    n.wait_log("livekit ssm")
    status, _, _ = n.get()
    assert status == 503


@pytest.mark.parametrize("value", [
    "ftp://127.0.0.1:1", "http://", "http://h:1/?q=1", "http://h:1/#f",
    "http://u:s3cr3t@\x01h:1", "not a url",
])
def test_a_bad_proxy_is_refused_by_nginx_t_without_its_value(site, nginx, value):
    n = nginx(env(site, HTTP_PROXY=value), ssm_conf(site))
    r = n.test_config()
    assert r.returncode != 0
    assert "the proxy in HTTP_PROXY is not an http:// or https:// URL" in r.stderr, r.stderr
    assert "s3cr3t" not in r.stderr


@pytest.mark.parametrize("value", ["a,\nb", "a\x1b[31m", "x" * 1100])
def test_a_bad_no_proxy_is_refused_by_nginx_t(site, nginx, value):
    n = nginx(env(site, NO_PROXY=value), ssm_conf(site))
    r = n.test_config()
    assert r.returncode != 0
    assert "invalid NO_PROXY" in r.stderr, r.stderr
    assert "\x1b" not in r.stderr and "\n[" not in r.stderr
