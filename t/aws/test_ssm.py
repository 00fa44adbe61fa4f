"""SSM Parameter Store as the key source: signatures, failures, recovery."""

import base64
import json
import os
import time

from conftest import ssm_conf, verify


def test_a_wrong_aws_secret_key_gets_503_and_a_clear_log_line(site, proxy, nginx):
    env = site.env(proxy)
    env["AWS_SECRET_ACCESS_KEY"] = "wrong" + site.key_secret[5:]
    n = nginx(env, ssm_conf(site)).start()
    n.wait_log("livekit ssm: GetParameters")
    status, headers, body = n.get()
    assert status == 503
    assert headers.get("Retry-After")
    assert body["error"] == "keys_not_loaded"
    errors = n.error_lines()
    assert len(errors) == 1, errors
    assert "SignatureDoesNotMatch" in errors[0] or "InvalidSignature" in errors[0]
    assert "credentials from environment" in errors[0]
    # a signature error is not retried within a fetch
    assert proxy.count() == 1


def test_environment_credentials_give_tokens_signed_with_the_ssm_secret(site, proxy, nginx):
    n = nginx(site.env(proxy), ssm_conf(site)).start()
    status, _, body = n.wait_status(200)
    claims = verify(body["token"], site.secret)
    assert claims is not None, "token not signed with the SSM secret"
    assert claims["iss"] == site.key
    assert claims["sub"] == "alice"
    assert claims["video"]["room"] == "r1"
    assert body["url"] == site.url
    n.wait_log("loaded from parameters under")
    # the request was signed as SigV4 for ssm, with the target and body asked for
    call = [c for c in proxy.calls if c["op"] == "GetParameters"][0]
    assert call["headers"]["Authorization"].startswith(
        f"AWS4-HMAC-SHA256 Credential={site.key_id}/")
    assert "/us-east-1/ssm/aws4_request" in call["headers"]["Authorization"]
    assert call["headers"]["Content-Type"] == "application/x-amz-json-1.1"

    assert json.loads(call["body"]) == {
        "Names": [site.path + "api-key", site.path + "api-secret", site.path + "url"],
        "WithDecryption": True}


def recovers(n, site, pids):
    """After a failure: 200 with the SSM secret, same workers."""
    status, _, body = n.wait_status(200, timeout=30)
    assert verify(body["token"], site.secret)["iss"] == site.key
    assert n.workers() == pids, "a worker was replaced"
    n.wait_log("loaded from parameters under")


def test_a_missing_parameter_is_named_then_503_until_it_exists(site, proxy, nginx):
    site.delete("api-secret")
    n = nginx(site.env(proxy), ssm_conf(site)).start()
    n.wait_log("not found (InvalidParameters")
    pids = n.workers()
    assert n.get()[0] == 503
    errors = n.error_lines()
    assert len(errors) == 1, errors
    assert f'parameter "{site.path}api-secret" not found' in errors[0]
    # background retries do not log the same failure again
    time.sleep(2.5)
    assert len(n.error_lines()) == 1
    site.put("api-secret", site.secret)
    recovers(n, site, pids)


def test_access_denied_is_logged_once_not_retried_and_recovers(site, proxy, nginx, moto):
    iam = moto.client("iam")
    iam.put_user_policy(UserName=site.user, PolicyName="deny", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": ["ssm:GetParameters"], "Resource": ["*"]}]}))
    n = nginx(site.env(proxy), ssm_conf(site)).start()
    n.wait_log("answered AccessDenied")
    pids = n.workers()
    assert n.get()[0] == 503
    assert proxy.count() == 1, "AccessDenied must not be retried within a fetch"
    errors = n.error_lines()
    assert len(errors) == 1 and "credentials from environment" in errors[0]
    iam.delete_user_policy(UserName=site.user, PolicyName="deny")
    recovers(n, site, pids)


def test_throttling_is_retried_within_the_fetch(site, proxy, nginx):
    proxy.faults = ["throttle", "throttle"]
    n = nginx(site.env(proxy), ssm_conf(site, refresh="60s")).start()
    status, _, body = n.wait_status(200, timeout=15)
    assert verify(body["token"], site.secret)
    assert proxy.count() == 3
    assert n.error_lines() == [], "a fetch that succeeded on retry logs no error"


def test_5xx_fails_the_fetch_after_3_attempts_then_recovers(site, proxy, nginx):
    proxy.faults = ["500"] * 3
    n = nginx(site.env(proxy), ssm_conf(site)).start()
    n.wait_log("answered InternalServerError (HTTP 500)")
    pids = n.workers()
    # three attempts in the failed fetch; a fourth call is the next fetch,
    # whose jittered backoff after one failure may round down to 0 s
    assert proxy.count() in (3, 4)
    assert proxy.faults == []
    recovers(n, site, pids)
    assert len(n.error_lines()) == 1


def test_a_timeout_fails_the_fetch_then_recovers(site, proxy, nginx):
    # two fetches' worth, so the retry after backoff cannot have succeeded
    # by the time the 503 is checked
    proxy.faults = ["hang"] * 6
    proxy.hang_seconds = 2.0
    n = nginx(site.env(proxy), ssm_conf(site)).start()
    n.wait_log("timed out", timeout=30)
    pids = n.workers()
    assert n.get()[0] == 503
    recovers(n, site, pids)


def test_a_malformed_answer_fails_the_fetch_then_recovers(site, proxy, nginx):
    proxy.faults = ["malformed"]
    n = nginx(site.env(proxy), ssm_conf(site)).start()
    n.wait_log("not a JSON object")
    pids = n.workers()
    recovers(n, site, pids)


def test_a_rotated_secret_signs_new_tokens_without_reload(site, proxy, nginx):
    n = nginx(site.env(proxy), ssm_conf(site)).start()
    _, _, body = n.wait_status(200)
    old = site.secret
    assert verify(body["token"], old)
    pids = n.workers()
    site.secret = base64.b64encode(os.urandom(33)).decode()
    nginx.secrets.append(site.secret)
    site.put("api-secret", site.secret)
    n.wait_log("changed: new tokens use key", timeout=15)
    _, _, body = n.wait_status(200)
    assert verify(body["token"], site.secret)["iss"] == site.key
    assert verify(body["token"], old) is None
    assert n.workers() == pids


def test_a_refresh_failure_keeps_the_last_good_key_set(site, proxy, nginx):
    n = nginx(site.env(proxy), ssm_conf(site)).start()
    n.wait_status(200)
    proxy.faults = ["500"] * 6
    n.wait_log("tokens keep the last key set loaded", timeout=20)
    status, _, body = n.get()
    assert status == 200 and verify(body["token"], site.secret)


def test_four_workers_make_one_call_and_a_reload_at_most_one_more(site, proxy, nginx):
    n = nginx(site.env(proxy), ssm_conf(site, refresh="1h"),
              workers=4).start()
    n.wait_status(200)
    time.sleep(3)
    assert len(n.workers()) == 4
    assert proxy.count() == 1
    # every worker signs with the same key
    for _ in range(20):
        status, _, body = n.get()
        assert status == 200 and verify(body["token"], site.secret)
    before = n.workers()
    n.reload()
    deadline = time.time() + 15
    while time.time() < deadline and set(n.workers()) & set(before):
        status, _, body = n.get()
        assert status == 200, "a reload must not interrupt tokens"
        time.sleep(0.1)
    for _ in range(20):
        status, _, body = n.get()
        assert status == 200 and verify(body["token"], site.secret)
    time.sleep(2)
    assert proxy.count() <= 2


def test_stopping_nginx_does_not_wait_for_a_hanging_ssm(site, proxy, nginx):
    proxy.faults = ["hang"] * 3
    proxy.hang_seconds = 12
    n = nginx(site.env(proxy), ssm_conf(site, timeout="10s")).start()
    time.sleep(1.0)
    assert proxy.count() == 1
    t = time.time()
    n.stop()
    assert time.time() - t < 4, "a worker waited for the fetch to time out"
    assert "[alert]" not in n.log_text()


def test_a_reload_during_a_hanging_fetch_fetches_again_at_once(site, proxy, nginx):
    proxy.faults = ["hang"]
    proxy.hang_seconds = 12
    n = nginx(site.env(proxy), ssm_conf(site, timeout="10s", refresh="1h")).start()
    time.sleep(1.0)
    assert proxy.count() == 1
    n.reload()
    # the new workers do not wait for the old worker's lease
    n.wait_status(200, timeout=8)
    assert proxy.count() == 2


def test_the_status_location_shows_the_ssm_state_without_values(site, proxy, nginx):
    env = site.env(proxy)
    n = nginx(env, ssm_conf(site),
              extra_locations="location = /status { livekit_token_status; }"
              ).start()
    n.wait_status(200)
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{n.port}/status") as r:
        text = r.read().decode()
    status = json.loads(text)
    assert status["tokens"]["get"] >= 1
    keys = status["keys"]
    assert keys["source"] == "ssm"
    assert keys["state"] == "ready"
    assert keys["key"] == site.key
    assert keys["ssm"]["calls"] == proxy.count()
    assert keys["ssm"]["failures"] == 0
    assert keys["ssm"]["credentials"].startswith("environment")
    assert site.secret not in text
    assert env["AWS_SECRET_ACCESS_KEY"] not in text


def test_a_truncated_answer_fails_the_fetch_then_recovers(site, proxy, nginx):
    proxy.faults = ["truncated"] * 6        # two fetches' worth, as above
    n = nginx(site.env(proxy), ssm_conf(site)).start()
    n.wait_log("livekit ssm: GetParameters", timeout=30)
    pids = n.workers()
    assert n.get()[0] == 503
    assert n.get()[1].get("Retry-After")
    recovers(n, site, pids)


def test_connection_refused_then_recovers_when_the_endpoint_comes_up(site, moto, nginx):
    from conftest import Proxy, free_port
    port = free_port()
    env = site.env(proxy=None)
    env["AWS_ENDPOINT_URL_SSM"] = f"http://127.0.0.1:{port}"   # nobody there
    n = nginx(env, ssm_conf(site)).start()
    n.wait_log("livekit ssm: GetParameters", timeout=30)
    pids = n.workers()
    status, headers, body = n.get()
    assert status == 503 and headers.get("Retry-After")
    assert body["error"] == "keys_not_loaded"
    # the endpoint comes up on the same port: tokens without a reload
    up = Proxy(moto.port, port)
    try:
        recovers(n, site, pids)
    finally:
        up.server.shutdown()


def test_reloads_under_load_keep_tokens_and_the_one_call_per_reload_budget(site, proxy, nginx):
    """Ten reloads, one a second, while two clients ask for tokens without
    pause: every answer is 200 and signed with the SSM secret, and SSM sees
    at most one GetParameters per reload plus the first."""
    import threading
    n = nginx(site.env(proxy), ssm_conf(site, refresh="1h"),
              workers=2).start()
    n.wait_status(200)
    stop = threading.Event()
    results = {"ok": 0, "bad": []}
    lock = threading.Lock()

    def client():
        while not stop.is_set():
            status, _, body = n.get()
            with lock:
                if status == 200 and verify(body["token"], site.secret):
                    results["ok"] += 1
                else:
                    results["bad"].append((status, body))

    threads = [threading.Thread(target=client) for _ in range(2)]
    for t in threads:
        t.start()
    for _ in range(10):
        time.sleep(1.0)
        n.reload()
    time.sleep(2.0)
    stop.set()
    for t in threads:
        t.join()
    assert results["bad"] == [], results["bad"][:3]
    assert results["ok"] > 100
    assert proxy.count() <= 11, proxy.count()
