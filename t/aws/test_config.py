"""Configuration of the SSM key source: what nginx -t accepts and refuses."""

import os
import time

from conftest import ssm_conf, verify


def refused(nginx, http_conf, message, env=None):
    n = nginx(env or {}, http_conf)
    r = n.test_config()
    assert r.returncode != 0, r.stderr
    assert message in r.stderr, r.stderr
    return r.stderr


def test_ssm_and_a_key_file_in_the_same_scope_are_refused(site, nginx, tmp_path):
    keys = tmp_path / "keys.yaml"
    keys.write_text("devkey: " + "s" * 40 + "\n")
    err = refused(nginx, ssm_conf(site) + f"livekit_keys_file {keys};",
                  'both give this location its signing key')
    assert '"livekit_keys_file"' in err and '"livekit_ssm_path"' in err
    assert "s" * 40 not in err


def test_livekit_api_key_with_ssm_is_refused(site, nginx):
    refused(nginx, ssm_conf(site, "livekit_api_key devkey;"),
            '"livekit_api_key" chooses a key of a key file')


def test_a_relative_ssm_path_is_refused(nginx):
    refused(nginx, "livekit_ssm_path dissertation-editor/livekit/;",
            'must start with "/"')


def test_an_endpoint_that_is_not_http_is_refused(site, nginx):
    refused(nginx, ssm_conf(site, "livekit_ssm_endpoint ftp://x;"),
            "is not an http:// or https:// URL")


def test_ssm_directives_are_http_level_only(site, nginx):
    n = nginx({}, "", extra_locations=f"location /x {{ livekit_ssm_path {site.path}; }}")
    r = n.test_config()
    assert r.returncode != 0 and "is not allowed here" in r.stderr


def test_two_names_need_livekit_url(site, nginx):
    refused(nginx, ssm_conf(site, "livekit_ssm_names api-key api-secret;"),
            'needs "livekit_url"')


def test_ssm_needs_no_livekit_url_and_nginx_t_does_not_fetch(site, proxy, nginx):
    n = nginx(site.env(proxy), ssm_conf(site))
    r = n.test_config()
    assert r.returncode == 0, r.stderr
    assert proxy.count() == 0


def test_livekit_url_overrides_the_fetched_url(site, proxy, nginx):
    n = nginx(site.env(proxy), ssm_conf(site, "livekit_url wss://override.test;"))
    n.start()
    _, _, body = n.wait_status(200)
    assert body["url"] == "wss://override.test"
    assert verify(body["token"], site.secret)


def test_names_and_an_absolute_name_are_fetched(site, proxy, nginx):
    site.put("key-v2", site.key)
    site.ssm.put_parameter(Name="/shared/livekit-url-" + site.user,
                           Value="wss://shared.test", Type="String", Overwrite=True)
    n = nginx(site.env(proxy), ssm_conf(
        site, f"livekit_ssm_names key-v2 api-secret /shared/livekit-url-{site.user};"))
    n.start()
    _, _, body = n.wait_status(200)
    assert body["url"] == "wss://shared.test"
    assert verify(body["token"], site.secret)["iss"] == site.key


def test_a_slow_ssm_never_blocks_serving(site, proxy, nginx):
    proxy.faults = ["hang"] * 3
    proxy.hang_seconds = 2.5
    n = nginx(site.env(proxy), ssm_conf(site, timeout="2s"), workers=1).start()
    time.sleep(0.3)
    for _ in range(10):
        t = time.time()
        status = n.get()[0]
        assert status == 503
        assert time.time() - t < 0.5, "the worker's event loop was blocked"
    n.wait_status(200, timeout=40)


def test_the_debug_log_has_no_secret(site, proxy, nginx):
    n = nginx(site.env(proxy), ssm_conf(site), workers=2)
    n.start()
    n.wait_status(200)
    for _ in range(5):
        assert n.get()[0] == 200
    time.sleep(2.5)            # a refresh, too
    text = n.log_text()
    assert "[debug]" in text and "livekit ssm" in text
    for s in (site.secret, site.key_secret):
        assert s not in text
    # the fixture checks every test's log for every secret it knows as well


def test_an_invalid_region_is_refused(site, nginx):
    refused(nginx, ssm_conf(site, "livekit_ssm_region us-east-1/x;"),
            'invalid livekit_ssm_region "us-east-1/x"')


def test_a_key_file_made_unreadable_fails_the_reload_and_the_old_config_serves_on(nginx, tmp_path):
    """Fault matrix: key file replaced by an unreadable one, then reload."""
    secret = "k" * 40
    keys = tmp_path / "keys.yaml"
    keys.write_text(f"devkey: {secret}\n")
    n = nginx({}, f"livekit_keys_file {keys};\n"
                  "livekit_url ws://127.0.0.1:7880;\n").start()
    status, _, body = n.get()
    assert status == 200 and verify(body["token"], secret)["iss"] == "devkey"
    pids = n.workers()

    # root reads any mode, so "unreadable" is a path that is no file
    keys.unlink()
    keys.mkdir()

    r = n.test_config()
    assert r.returncode != 0
    assert f'livekit_keys_file: "{keys}" is empty or not a file' in r.stderr
    assert secret not in r.stderr

    n.reload()
    n.wait_log("is empty or not a file")
    time.sleep(0.5)
    assert n.workers() == pids, "the reload must not replace the workers"
    status, _, body = n.get()
    assert status == 200, body
    assert verify(body["token"], secret)["iss"] == "devkey"
    assert secret not in n.log_text()


def tasks(pid):
    return len(os.listdir(f"/proc/{pid}/task"))


def test_the_fetch_runs_in_the_default_thread_pool_unless_one_is_named(
        site, proxy, nginx):
    n = nginx(site.env(proxy), ssm_conf(site))
    n.start()
    n.wait_status(200)
    # the main thread and the 32 threads of thread_pool's "default"
    assert [tasks(p) for p in n.workers()] == [33]


def test_a_declared_one_thread_pool_is_the_only_thread_the_fetch_adds(
        site, proxy, nginx):
    n = nginx(site.env(proxy),
              ssm_conf(site, "livekit_ssm_thread_pool livekit_ssm;"),
              main_conf="thread_pool livekit_ssm threads=1;")
    n.start()
    _, _, body = n.wait_status(200)
    assert verify(body["token"], site.secret)
    assert [tasks(p) for p in n.workers()] == [2]


def test_a_named_thread_pool_that_is_not_declared_is_refused(site, nginx):
    refused(nginx, ssm_conf(site, "livekit_ssm_thread_pool livekit_ssm;"),
            'unknown thread pool "livekit_ssm"')



def test_max_attempts_outside_1_to_10_is_refused(site, nginx):
    refused(nginx, ssm_conf(site, "livekit_ssm_max_attempts 0;"),
            "must be between 1 and 10")


def test_max_attempts_bounds_the_calls_of_one_fetch(site, proxy, nginx):
    """The first fetch against a failing SSM: one call with
    livekit_ssm_max_attempts 1, three with 3, before the fetch gives up.
    The calls counted are those made before nginx logged that it gave up:
    the next fetch, in the background after a backoff of up to a second,
    may already have begun when the test reads the count."""
    gave_up = "retrying in the background"
    calls = {}
    for attempts in (1, 3):
        proxy.reset()
        proxy.faults = ["500"] * 20
        n = nginx(site.env(proxy), ssm_conf(
            site, f"livekit_ssm_max_attempts {attempts};", refresh="1h"))
        proxy.probe = lambda: gave_up in n.log_text()
        n.start()
        n.wait_log(gave_up, timeout=30)
        calls[attempts] = proxy.count(probe=False)
        n.stop()
    assert calls == {1: 1, 3: 3}, calls


def test_fips_with_an_endpoint_override_uses_the_override(site, proxy, nginx):
    """AWS_ENDPOINT_URL_SSM wins over the FIPS endpoint, as in the SDKs:
    the token is signed with the secret fetched through it."""
    n = nginx(site.env(proxy), ssm_conf(site, "livekit_ssm_fips on;")).start()
    _, _, body = n.wait_status(200)
    assert verify(body["token"], site.secret)
