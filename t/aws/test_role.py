"""A profile's role_arn: STS AssumeRole (moto) with source_profile's keys or
credential_source's credentials; what nginx -t refuses."""

import json
import time
from urllib.parse import unquote_to_bytes

from conftest import REGION, policy, ssm_conf, verify


def sts_only_keys(site, moto):
    """Keys of a user that may assume roles and read nothing."""
    iam = moto.client("iam")
    name = site.user + "-base"
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="assume",
                        PolicyDocument=json.dumps(policy(["sts:AssumeRole"], "*")))
    return iam.create_access_key(UserName=name)["AccessKey"]


def files(tmp_path, proxy, config, credentials=""):
    c = tmp_path / "config"
    c.write_text(config)
    k = tmp_path / "credentials"
    k.write_text(credentials)
    return {"AWS_CONFIG_FILE": str(c), "AWS_SHARED_CREDENTIALS_FILE": str(k),
            "AWS_ENDPOINT_URL_SSM": proxy.url, "AWS_ENDPOINT_URL_STS": proxy.url,
            "AWS_REGION": REGION}


def test_role_arn_with_source_profile_assumes_the_role(site, proxy, nginx, moto,
                                                       tmp_path):
    base = sts_only_keys(site, moto)
    role = site.role(f"prof-{site.user}")
    env = files(tmp_path, proxy, f"""[profile app]
role_arn = {role}
source_profile = base
role_session_name = nginx-role-test
external_id = ext-42
""", f"""[base]
aws_access_key_id = {base['AccessKeyId']}
aws_secret_access_key = {base['SecretAccessKey']}
""")
    env["AWS_PROFILE"] = "app"
    n = nginx(env, ssm_conf(site), secret_values=(base["SecretAccessKey"],))
    n.start()
    _, _, body = n.wait_status(200)
    assert verify(body["token"], site.secret)["iss"] == site.key
    sts = [c for c in proxy.calls if c["op"] == "AssumeRole"]
    assert len(sts) == 1
    assert b"RoleSessionName=nginx-role-test" in sts[0]["body"]
    assert b"ExternalId=ext-42" in sts[0]["body"]
    # signed with the source profile's keys, for STS
    auth = sts[0]["headers"]["Authorization"]
    assert base["AccessKeyId"] in auth and "/sts/aws4_request" in auth
    gp = [c for c in proxy.calls if c["op"] == "GetParameters"][0]
    assert "X-Amz-Security-Token" in gp["headers"]
    assert base["AccessKeyId"] not in gp["headers"]["Authorization"]
    n.wait_log(f'credentials from assume role (role {role}, profile "app"')


def test_the_source_keys_alone_cannot_read_the_parameters(site, proxy, nginx,
                                                          moto, tmp_path):
    # the control for the test above: without role_arn the same keys fail
    base = sts_only_keys(site, moto)
    env = files(tmp_path, proxy, "", f"""[base]
aws_access_key_id = {base['AccessKeyId']}
aws_secret_access_key = {base['SecretAccessKey']}
""")
    env["AWS_PROFILE"] = "base"
    n = nginx(env, ssm_conf(site), secret_values=(base["SecretAccessKey"],))
    n.start()
    n.wait_log("AccessDenied")
    assert n.get()[0] == 503


def test_credential_source_environment_assumes_the_role(site, proxy, nginx,
                                                        moto, tmp_path):
    base = sts_only_keys(site, moto)
    role = site.role(f"envsrc-{site.user}")
    env = files(tmp_path, proxy, f"""[default]
role_arn = {role}
credential_source = Environment
""")
    env.update({"AWS_ACCESS_KEY_ID": base["AccessKeyId"],
                "AWS_SECRET_ACCESS_KEY": base["SecretAccessKey"]})
    n = nginx(env, ssm_conf(site))
    n.start()
    _, _, body = n.wait_status(200)
    assert verify(body["token"], site.secret)
    assert len([c for c in proxy.calls if c["op"] == "AssumeRole"]) == 1
    n.wait_log("from the environment)")


def refused(nginx, env, message):
    r = nginx(env, "livekit_ssm_path /x/;").test_config()
    assert r.returncode != 0, r.stderr
    assert message in r.stderr, r.stderr
    return r.stderr


def test_role_arn_without_a_source_is_refused(proxy, nginx, tmp_path):
    env = files(tmp_path, proxy, "[profile app]\nrole_arn = arn:aws:iam::1:role/r\n")
    env["AWS_PROFILE"] = "app"
    refused(nginx, env, 'profile "app" in')
    refused(nginx, env, "needs exactly one of source_profile and credential_source")


def test_an_unknown_credential_source_is_refused_with_its_value(proxy, nginx,
                                                                tmp_path):
    env = files(tmp_path, proxy, "[default]\nrole_arn = arn:aws:iam::1:role/r\n"
                "credential_source = Nope\x1b[31m\n")
    err = refused(nginx, env, 'credential_source "Nope\\x1b[31m"')
    assert "\x1b" not in err


def test_a_source_profile_without_keys_is_refused(proxy, nginx, tmp_path):
    env = files(tmp_path, proxy, "[default]\nrole_arn = arn:aws:iam::1:role/r\n"
                "source_profile = empty\n\n[profile empty]\nregion = us-east-1\n")
    refused(nginx, env, 'source_profile "empty" of profile "default" has no '
            "aws_access_key_id")


def test_chained_roles_are_refused(proxy, nginx, tmp_path):
    env = files(tmp_path, proxy, "[default]\nrole_arn = arn:aws:iam::1:role/r\n"
                "source_profile = mid\n\n[profile mid]\n"
                "role_arn = arn:aws:iam::1:role/m\nsource_profile = base\n")
    refused(nginx, env, "chained roles are not supported")


def test_credential_process_is_still_refused_with_a_clear_message(
        site, proxy, nginx, tmp_path):
    env = files(tmp_path, proxy, "[profile p]\ncredential_process = /bin/true\n")
    env["AWS_PROFILE"] = "p"
    n = nginx(env, ssm_conf(site))
    n.start()
    n.wait_log("credential_process are not supported")
    assert n.get()[0] == 503


def test_a_reload_that_changes_the_role_drops_the_old_credentials(
        site, proxy, nginx, moto, tmp_path):
    """Issue #21 item 1: the cached temporary credentials belong to the
    credential source; a reload that names another role assumes it at
    once, and a reload that changes nothing keeps the cache."""
    base = sts_only_keys(site, moto)
    role_a = site.role(f"reload-a-{site.user}")
    role_b = site.role(f"reload-b-{site.user}")
    credentials = f"""[base]
aws_access_key_id = {base['AccessKeyId']}
aws_secret_access_key = {base['SecretAccessKey']}
"""
    env = files(tmp_path, proxy, f"""[profile app]
role_arn = {role_a}
source_profile = base
""", credentials)
    env["AWS_PROFILE"] = "app"
    n = nginx(env, ssm_conf(site, refresh="1h"),
              secret_values=(base["SecretAccessKey"],))
    n.start()
    n.wait_status(200)

    def assumed():
        return [c["body"] for c in proxy.calls if c["op"] == "AssumeRole"]

    def reload_and_fetch():
        fetched = proxy.count()
        before = n.workers()
        n.reload()
        deadline = time.time() + 20
        while time.time() < deadline and (set(n.workers()) & set(before)
                                          or proxy.count() == fetched):
            time.sleep(0.1)
        assert proxy.count() > fetched, "a reload fetches once"

    assert len(assumed()) == 1 and role_a.encode() in unquote_to_bytes(assumed()[0])

    reload_and_fetch()
    assert len(assumed()) == 1, "an unchanged source keeps its credentials"

    (tmp_path / "config").write_text(f"""[profile app]
role_arn = {role_b}
source_profile = base
""")
    reload_and_fetch()
    calls = assumed()
    assert len(calls) == 2, "the new role must be assumed at the reload"
    assert role_b.encode() in unquote_to_bytes(calls[1])
    status, _, body = n.get()
    assert status == 200 and verify(body["token"], site.secret)
