"""Specs of role chaining over SSO (issue 9): the SigV4 signer against the
published vectors and botocore, AssumeRole against the fake STS (which checks
signatures) and, where moto is importable, against moto's STS server."""

import hashlib
import json
import os
import subprocess
import sys
from datetime import datetime, timezone

import pytest

import ssocreds as mod
from conftest import (HERE, SESSION_CONFIG, START_URL, botocore_available,
                      importable, run_cli, run_python)

EXAMPLE = mod.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                          None, datetime(2030, 1, 1, tzinfo=timezone.utc))
WHEN = datetime(2015, 8, 30, 12, 36, 0, tzinfo=timezone.utc)


def env(**extra):
    e = dict(os.environ)
    e.update(extra)
    return e


# -- SigV4 -------------------------------------------------------------------


@pytest.mark.parametrize("url, signature", [
    ("https://example.amazonaws.com/",  # get-vanilla
     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    ("https://example.amazonaws.com/?Param2=value2&Param1=value1",
     # get-vanilla-query-order-key-case
     "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
    ("https://example.amazonaws.com/?Param1=value1",  # get-vanilla-empty-query-key
     "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"),
    ("https://example.amazonaws.com/?%E1%88%B4=bar",  # get-vanilla-utf8-query
     "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"),
    ("https://example.amazonaws.com/?" + "=".join(2 * [  # -query-unreserved
        "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"]),
     "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"),
])
def test_sigv4_published_test_vectors(url, signature):
    headers = mod._sigv4_headers("GET", url, {}, b"", EXAMPLE, "us-east-1",
                                 "service", now=WHEN)
    assert headers["X-Amz-Date"] == "20150830T123600Z"
    assert headers["Authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
        "aws4_request, SignedHeaders=host;x-amz-date, Signature=" + signature)


@pytest.mark.skipif(not botocore_available(), reason="botocore not installed")
@pytest.mark.parametrize("method, url, body, token", [
    ("GET", "https://example.amazonaws.com/?Param1=value1", b"", None),
    ("GET", "https://example.amazonaws.com/?-._~0-9A-Za-z=-._~0-9A-Za-z", b"",
     None),
    ("GET", "https://example.amazonaws.com/?%E1%88%B4=bar", b"", None),
    ("GET", "https://example.amazonaws.com/", b"", "session-token-value"),
    ("POST", "https://sts.eu-west-1.amazonaws.com/",
     b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole"
     b"%2Fx&RoleSessionName=s", "tok/with+chars="),
])
def test_sigv4_matches_botocore(method, url, body, token):
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials as BotoCredentials

    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"} \
        if body else {}
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
    service = "sts" if "sts." in url else "service"
    region = "eu-west-1" if "sts." in url else "us-east-1"
    SigV4Auth(BotoCredentials(EXAMPLE.access_key_id, EXAMPLE.secret_access_key,
                              token), service, region).add_auth(request)
    creds = mod.Credentials(EXAMPLE.access_key_id, EXAMPLE.secret_access_key,
                            token, EXAMPLE.expires)
    when = datetime.strptime(request.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ"
                             ).replace(tzinfo=timezone.utc)  # botocore's clock
    ours = mod._sigv4_headers(method, url, headers, body, creds, region, service,
                              now=when)
    assert ours["Authorization"] == request.headers["Authorization"]
    if token:
        assert ours["X-Amz-Security-Token"] == token


def test_xml_with_entities_or_doctype_is_refused():
    for payload in (b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>',
                    b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "file:///etc/passwd">'
                    b"<x/>", b"<x><!ENTITY y 'z'></x>", b"<x>", b"not xml"):
        with pytest.raises(ValueError):
            mod._parse_xml(payload)
    assert mod._xml_text(mod._parse_xml(b'<a xmlns="n"><b><Code>X</Code></b></a>'),
                         "Code") == "X"


# -- AssumeRole against the fake STS -----------------------------------------

ROLES = """
[profile prod]
role_arn = arn:aws:iam::444455556666:role/Deploy
source_profile = dev
role_session_name = me
external_id = ext-1
duration_seconds = 1800
region = eu-west-1

[profile audit]
role_arn = arn:aws:iam::777788889999:role/Audit
source_profile = prod

[profile loop-a]
role_arn = arn:aws:iam::1:role/A
source_profile = loop-b

[profile loop-b]
role_arn = arn:aws:iam::1:role/B
source_profile = loop-a

[profile orphan]
role_arn = arn:aws:iam::1:role/A
source_profile = nowhere

[profile sourceless]
role_arn = arn:aws:iam::1:role/A

[profile instance]
role_arn = arn:aws:iam::1:role/A
credential_source = Ec2InstanceMetadata

[profile static-role]
role_arn = arn:aws:iam::444455556666:role/Deploy
source_profile = keys
external_id = ext-1
"""


@pytest.fixture
def roles(session, fake, monkeypatch):
    with open(session.config, "a") as f:
        f.write(ROLES)
    fake.roles = {"arn:aws:iam::444455556666:role/Deploy": {"external_id": "ext-1"},
                  "arn:aws:iam::777788889999:role/Audit": {}}
    fake.accounts["111122223333"]["roles"].append("Admin")
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", fake.url)
    return session


def botocore_key(**args):
    return hashlib.sha1(json.dumps(args, sort_keys=True).encode()).hexdigest() \
        + ".json"


def test_export_of_a_role_profile_assumes_the_role(roles, fake):
    result = run_cli(["export", "--profile", "prod"], env())
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["AccountId"] == "444455556666"
    assert fake.calls["GetRoleCredentials"] == 1 and fake.calls["AssumeRole"] == 1
    form = fake.sts_requests[0]
    assert form == {"Action": "AssumeRole", "Version": "2011-06-15",
                    "RoleArn": "arn:aws:iam::444455556666:role/Deploy",
                    "RoleSessionName": "me", "ExternalId": "ext-1",
                    "DurationSeconds": "1800"}
    request = [r for r in fake.requests if r[0] == "AssumeRole"][0]
    headers = request[3]
    assert headers["content-type"] == \
        "application/x-www-form-urlencoded; charset=utf-8"
    assert "/eu-west-1/sts/aws4_request" in headers["authorization"]
    assert headers["x-amz-security-token"].startswith("fake-session-token-")
    name = botocore_key(DurationSeconds=1800, ExternalId="ext-1",
                        RoleArn="arn:aws:iam::444455556666:role/Deploy",
                        RoleSessionName="me")
    with open(os.path.join(roles.cli_cache, name)) as f:
        cached = json.load(f)
    assert cached["Credentials"]["AccessKeyId"] == document["AccessKeyId"]
    assert cached["Credentials"]["AccountId"] == "444455556666"
    again = run_cli(["export", "--profile", "prod"], env())
    assert json.loads(again.stdout) == document
    assert fake.calls["AssumeRole"] == 1 and fake.calls["GetRoleCredentials"] == 1


def test_chains_of_any_depth(roles, fake):
    result = run_cli(["export", "--profile", "audit", "--no-cache"], env())
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["AccountId"] == "777788889999"
    assert [f["RoleArn"].rsplit("/", 1)[1] for f in fake.sts_requests] == [
        "Deploy", "Audit"]
    second = fake.sts_requests[1]
    assert second["RoleSessionName"].startswith("botocore-session-")
    first_key = [r for r in fake.requests if r[0] == "AssumeRole"][1][3][
        "authorization"].split("Credential=")[1].split("/")[0]
    assert first_key.startswith("ASIAFAKE")  # signed with the first role's keys
    # the "audit" profile has no region: the global endpoint signs us-east-1
    assert "/us-east-1/sts/" in [r for r in fake.requests
                                 if r[0] == "AssumeRole"][1][3]["authorization"]


def test_generated_session_name_is_not_in_the_cache_key(roles, fake):
    run_cli(["export", "--profile", "audit"], env())
    name = botocore_key(RoleArn="arn:aws:iam::777788889999:role/Audit")
    assert os.path.exists(os.path.join(roles.cli_cache, name))


@pytest.mark.parametrize("profile, phrase", [
    ("loop-a", "loops: loop-a -> loop-b -> loop-a"),
    ("orphan", 'profile "nowhere" (the source_profile of "orphan") was not found'),
    ("sourceless", 'profile "sourceless" sets role_arn but no source_profile'),
    ("instance", "credential_source"),
])
def test_bad_chains_are_config_errors(roles, fake, profile, phrase):
    result = run_cli(["export", "--profile", profile], env())
    assert result.returncode == 1 and phrase in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_static_keys_from_the_credentials_file_as_source(roles, fake):
    with open(roles.credentials, "w") as f:
        f.write("[keys]\naws_access_key_id = AKIASTATIC\n"
                "aws_secret_access_key = static-secret\n")
    fake.add_static_key("AKIASTATIC", "static-secret")
    result = run_cli(["export", "--profile", "static-role"], env())
    assert result.returncode == 0, result.stderr
    headers = [r for r in fake.requests if r[0] == "AssumeRole"][0][3]
    assert "Credential=AKIASTATIC/" in headers["authorization"]
    assert "x-amz-security-token" not in headers
    assert "GetRoleCredentials" not in fake.calls


def test_a_bad_signature_is_rejected_by_the_fake(roles, fake):
    fake.add_static_key("AKIASTATIC", "the-real-secret")
    with open(roles.credentials, "w") as f:
        f.write("[keys]\naws_access_key_id = AKIASTATIC\n"
                "aws_secret_access_key = a-wrong-secret\n")
    result = run_cli(["export", "--profile", "static-role"], env())
    assert result.returncode == 1
    assert "SignatureDoesNotMatch (HTTP 403)" in result.stderr


def test_sts_errors_name_the_role(roles, fake):
    fake.roles.clear()
    result = run_cli(["export", "--profile", "prod"], env())
    assert result.returncode == 1
    line = result.stderr.strip()
    assert "AssumeRole failed for role arn:aws:iam::444455556666:role/Deploy" in line
    assert "AccessDenied (HTTP 403)" in line


def test_sts_throttling_is_retried(roles, fake):
    from fakesso import Response

    fake.script("AssumeRole", Response(400, (
        "<ErrorResponse><Error><Code>Throttling</Code><Message>slow</Message>"
        "</Error></ErrorResponse>"), {"Content-Type": "text/xml"}))
    result = run_cli(["export", "--profile", "prod"], env())
    assert result.returncode == 0, result.stderr
    assert fake.calls["AssumeRole"] == 2


def test_unsafe_xml_from_sts_is_refused(roles, fake):
    from fakesso import Response

    fake.script("AssumeRole", Response(200, (
        '<!DOCTYPE r [<!ENTITY x "ASIAEVIL">]><r><AccessKeyId>&x;</AccessKeyId>'
        "</r>"), {"Content-Type": "text/xml"}))
    result = run_cli(["export", "--profile", "prod"], env())
    assert result.returncode == 1 and "InvalidResponse" in result.stderr
    assert "DTD" in result.stderr


def test_every_command_accepts_role_profiles(roles, fake):
    result = run_cli(["exec", "--profile", "prod", "--", sys.executable, "-c",
                      "import os; print(os.environ['AWS_ACCOUNT_ID'], "
                      "os.environ['AWS_REGION'])"], env())
    assert result.stdout.split() == ["444455556666", "eu-west-1"]
    assert run_cli(["write-credentials", "--profile", "prod"],
                   env()).returncode == 0
    with open(roles.credentials) as f:
        assert "[prod]" in f.read()
    status = run_cli(["status", "--profile", "prod", "--json"], env())
    assert json.loads(status.stdout)["sso_session"] == "my-sso"
    cache = mod.from_profile("prod")
    assert cache.retrieve().account_id == "444455556666"


# -- endpoints ---------------------------------------------------------------


@pytest.mark.parametrize("extra, environ, url", [
    ("region = eu-west-1\n", {}, "https://sts.eu-west-1.amazonaws.com"),
    ("", {}, "https://sts.amazonaws.com"),
    ("region = us-east-1\nsts_regional_endpoints = legacy\n", {},
     "https://sts.amazonaws.com"),
    ("region = us-east-1\n", {}, "https://sts.us-east-1.amazonaws.com"),
    ("region = cn-north-1\n", {}, "https://sts.cn-north-1.amazonaws.com.cn"),
    ("region = eu-west-1\nuse_fips_endpoint = true\n", {},
     "https://sts-fips.eu-west-1.amazonaws.com"),
    ("region = eu-west-1\n", {"AWS_REGION": "ap-south-1"},
     "https://sts.ap-south-1.amazonaws.com"),
    ("region = eu-west-1\n", {"AWS_ENDPOINT_URL_STS": "https://sts.example"},
     "https://sts.example"),
])
def test_sts_endpoint_resolution(home, extra, environ, url):
    home.write_config(SESSION_CONFIG.format(start_url=START_URL) +
                      "\n[profile r]\nrole_arn = arn:aws:iam::1:role/x\n"
                      "source_profile = dev\n" + extra)
    chain = mod._load_chain("r", environ=environ)
    assert mod._sts_client(chain.top).endpoint_url == url


# -- MFA ---------------------------------------------------------------------


@pytest.fixture
def mfa_role(roles, fake):
    with open(roles.config, "a") as f:
        f.write("\n[profile mfa]\nrole_arn = arn:aws:iam::444455556666:role/MFA\n"
                "source_profile = dev\nmfa_serial = arn:aws:iam::1:mfa/me\n")
    fake.roles["arn:aws:iam::444455556666:role/MFA"] = {
        "mfa": "arn:aws:iam::1:mfa/me"}
    return roles


def test_mfa_without_a_terminal_is_a_clear_error_not_a_hang(mfa_role, fake):
    result = subprocess.run([sys.executable, os.path.join(HERE, "ssocreds.py"),
                             "export", "--profile", "mfa"], env=env(),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, universal_newlines=True,
                            timeout=20)
    assert result.returncode == 1
    assert "no terminal to ask on" in result.stderr
    assert "AssumeRole" not in fake.calls


def test_mfa_code_is_asked_on_the_terminal(mfa_role, fake):
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "ssocreds.py"),
                             "export", "--profile", "mfa"], env=env(),
                            stdin=slave, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, universal_newlines=True)
    os.close(slave)
    os.write(master, b"123456\n")
    out, err = proc.communicate(timeout=20)
    os.close(master)
    assert proc.returncode == 0, err
    assert "Enter MFA code for arn:aws:iam::1:mfa/me" in err
    form = fake.sts_requests[-1]
    assert (form["SerialNumber"], form["TokenCode"]) == ("arn:aws:iam::1:mfa/me",
                                                         "123456")
    # cached: the next run needs no code and no terminal
    again = run_cli(["export", "--profile", "mfa"], env())
    assert again.returncode == 0 and json.loads(again.stdout) == json.loads(out)


def test_library_mfa_prompt(mfa_role, fake):
    seen = []
    cache = mod.from_profile("mfa", mfa_prompt=lambda serial: seen.append(
        serial) or "123456")
    assert cache.retrieve().account_id == "444455556666"
    assert seen == ["arn:aws:iam::1:mfa/me"]
    with pytest.raises(mod.ConfigError):
        mod.from_profile("mfa").retrieve()


# -- third parties -----------------------------------------------------------

BOTOCORE_WITH_CLI_CACHE = """
import json, os, botocore.session
from botocore.utils import JSONFileCache
session = botocore.session.Session(profile="prod")
provider = session.get_component("credential_provider").get_provider("assume-role")
provider.cache = JSONFileCache(os.path.expanduser("~/.aws/cli/cache"))
creds = session.get_credentials().get_frozen_credentials()
print(json.dumps([creds.access_key, creds.secret_key, creds.token]))
"""


@pytest.mark.skipif(not botocore_available(), reason="botocore not installed")
def test_the_aws_cli_cache_is_shared_both_ways(roles, fake):
    # botocore (set up as the AWS CLI sets it up) fills the cache; we use it
    out = run_python(BOTOCORE_WITH_CLI_CACHE, env=env())
    assert out.returncode == 0, out.stderr
    theirs = json.loads(out.stdout)
    assert fake.calls["AssumeRole"] == 1  # and the fake accepted its signature
    ours = json.loads(run_cli(["export", "--profile", "prod"], env()).stdout)
    assert [ours["AccessKeyId"], ours["SecretAccessKey"],
            ours["SessionToken"]] == theirs
    assert fake.calls["AssumeRole"] == 1
    # and the other way round
    for name in os.listdir(roles.cli_cache):
        os.unlink(os.path.join(roles.cli_cache, name))
    ours = json.loads(run_cli(["export", "--profile", "prod"], env()).stdout)
    assert fake.calls["AssumeRole"] == 2
    out = run_python(BOTOCORE_WITH_CLI_CACHE, env=env())
    assert json.loads(out.stdout)[0] == ours["AccessKeyId"]
    assert fake.calls["AssumeRole"] == 2


@pytest.mark.skipif(not importable("moto.server"), reason="moto not installed")
def test_assume_role_against_motos_sts(home, monkeypatch):
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        home.write_config("[profile moto]\nrole_arn = arn:aws:iam::123456789012:"
                          "role/moto-role\nsource_profile = keys\n"
                          "region = us-east-1\nduration_seconds = 900\n")
        with open(home.credentials, "w") as f:
            f.write("[keys]\naws_access_key_id = AKIAMOTOSOURCE\n"
                    "aws_secret_access_key = moto-secret\n")
        result = run_cli(["export", "--profile", "moto", "--no-cache"], env(
            AWS_ENDPOINT_URL_STS="http://%s:%d" % (host, port)))
        assert result.returncode == 0, result.stderr
        document = json.loads(result.stdout)
        assert document["AccessKeyId"].startswith("ASIA")
        assert document["SecretAccessKey"] and document["SessionToken"]
        assert document["AccountId"] == "123456789012"
        expires = mod._parse_timestamp(document["Expiration"])
        remaining = (expires - datetime.now(timezone.utc)).total_seconds()
        assert 800 < remaining <= 900
    finally:
        server.stop()
