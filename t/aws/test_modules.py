"""Two modules: libcurl is mapped only where the SSM module is loaded."""

from conftest import MODULE, SSM_MODULE, ssm_conf, verify


def maps(pid):
    with open(f"/proc/{pid}/maps") as f:
        return [l.split()[-1] for l in f if "/" in l]


def libcurl_in(pid):
    return [p for p in maps(pid) if "/libcurl" in p]


def test_a_key_file_only_worker_maps_no_libcurl(nginx, tmp_path):
    secret = "k" * 40
    keys = tmp_path / "keys.yaml"
    keys.write_text(f"devkey: {secret}\n")
    keys.chmod(0o600)
    n = nginx({}, f"livekit_keys_file {keys};\n    livekit_url wss://lk.test;",
              modules=(MODULE,))
    n.start()
    _, _, body = n.wait_status(200)
    assert verify(body["token"], secret)["iss"] == "devkey"
    [pid] = n.workers()
    assert any(p.endswith("ngx_http_livekit_token_module.so")
               for p in maps(pid))
    assert libcurl_in(pid) == []
    assert libcurl_in(n.proc.pid) == []


def test_a_worker_with_the_ssm_module_maps_libcurl(site, proxy, nginx):
    n = nginx(site.env(proxy), ssm_conf(site))
    n.start()
    _, _, body = n.wait_status(200)
    assert verify(body["token"], site.secret)
    [pid] = n.workers()
    assert libcurl_in(pid) != []
    assert any(p.endswith("ngx_http_livekit_ssm_module.so")
               for p in maps(pid))


def test_ssm_directives_without_the_ssm_module_are_unknown(site, nginx):
    n = nginx({}, ssm_conf(site), modules=(MODULE,))
    r = n.test_config()
    assert r.returncode != 0
    assert 'unknown directive "livekit_ssm_path"' in r.stderr, r.stderr


def test_the_ssm_module_loaded_before_the_token_module_is_refused(site, nginx):
    n = nginx({}, ssm_conf(site), modules=(SSM_MODULE, MODULE))
    r = n.test_config()
    assert r.returncode != 0
    assert "ngx_http_livekit_ssm_module.so" in r.stderr, r.stderr
    assert "undefined symbol" in r.stderr, r.stderr
