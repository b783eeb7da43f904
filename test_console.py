"""Specs of `console`: the AWS federation endpoint (the fake's), the sign-in
URL it builds, its partitions and rules, and that the URL, a credential,
reaches nothing but stdout with --print (or the browser)."""

import json
import os
import sys
from urllib.parse import parse_qs, urlsplit

import pytest

import ssocreds as mod
from conftest import START_URL, run_cli

CHAINED = "arn:aws:iam::111122223333:role/Chained"


def env(**extra):
    e = dict(os.environ)
    e.update(extra)
    return e


@pytest.fixture
def signin(session, fake, monkeypatch):
    """The session profile, with the fake as the federation endpoint."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_SIGNIN", fake.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", fake.url)
    fake.roles[CHAINED] = {}
    with open(session.config, "a") as f:
        f.write("\n[profile ops]\nrole_arn = %s\nsource_profile = dev\n"
                "region = eu-central-1\n" % CHAINED)
    return session


def login_url(out):
    url = out.strip()
    parts = urlsplit(url)
    return parts, {k: v[0] for k, v in parse_qs(parts.query).items()}


def test_print_gives_the_federation_login_url(signin, fake):
    result = run_cli(["console", "--profile", "dev", "--print"], env())
    assert result.returncode == 0, result.stderr
    parts, query = login_url(result.stdout)
    assert "%s://%s%s" % (parts.scheme, parts.netloc, parts.path) == \
        fake.url + "/federation"
    assert query["Action"] == "login" and query["Issuer"] == "ssocreds"
    assert query["SigninToken"].startswith("fake-signin-token-")
    # the profile's region (eu-west-1) picks the console home page
    assert query["Destination"] == ("https://eu-west-1.console.aws.amazon.com/"
                                    "console/home?region=eu-west-1")
    [form] = fake.federation_requests
    assert form["Action"] == "getSigninToken" and "SessionDuration" not in form
    session = json.loads(form["Session"])
    assert sorted(session) == ["sessionId", "sessionKey", "sessionToken"]
    assert session["sessionId"].startswith("ASIAFAKE")
    # a form POST: nothing secret in the request target
    assert [t for t in fake.targets if "federation" in t] == [
        "/federation/credentials?account_id=111122223333&role_name=ReadOnly",
        "/federation"]
    assert query["SigninToken"] not in result.stderr


@pytest.mark.parametrize("destination, expected", [
    ("s3", "https://us-west-2.console.aws.amazon.com/s3/home?region=us-west-2"),
    ("https://us-west-2.console.aws.amazon.com/ec2/home#Instances",
     "https://us-west-2.console.aws.amazon.com/ec2/home#Instances"),
])
def test_destinations(signin, fake, destination, expected):
    result = run_cli(["console", "--profile", "dev", "--print", "--region",
                      "us-west-2", "--destination", destination], env())
    assert result.returncode == 0, result.stderr
    assert login_url(result.stdout)[1]["Destination"] == expected


def test_a_destination_that_is_not_https_is_refused(signin, fake):
    result = run_cli(["console", "--profile", "dev", "--print", "--destination",
                      "javascript:alert(1)"], env())
    assert result.returncode == 1 and result.stdout == ""
    assert "--destination must be a service name" in result.stderr
    assert fake.federation_requests == []


def test_duration_is_sent_in_seconds(signin, fake):
    result = run_cli(["console", "--profile", "dev", "--print", "--duration",
                      "120"], env())
    assert result.returncode == 0, result.stderr
    assert fake.federation_requests[0]["SessionDuration"] == "7200"


@pytest.mark.parametrize("minutes", ["14", "721", "1h"])
def test_duration_out_of_range_is_a_usage_error(signin, fake, minutes):
    result = run_cli(["console", "--profile", "dev", "--print", "--duration",
                      minutes], env())
    assert result.returncode == 2 and "15 to 720" in result.stderr


def test_a_role_chain_is_capped_at_an_hour_and_says_so(signin, fake):
    result = run_cli(["console", "--profile", "ops", "--print", "--duration",
                      "120"], env())
    assert result.returncode == 0, result.stderr
    assert "caps console sessions of role-chained credentials at one hour" in \
        result.stderr
    [form] = fake.federation_requests
    assert "SessionDuration" not in form
    session = json.loads(form["Session"])
    [assume] = [r for r in fake.requests if r[0] == "AssumeRole"]
    sso_key = assume[3]["authorization"].split("Credential=")[1].split("/")[0]
    assert session["sessionId"].startswith("ASIAFAKE")
    assert session["sessionId"] != sso_key  # the chained role's, not SSO's
    assert login_url(result.stdout)[1]["Destination"].startswith(
        "https://eu-central-1.console.aws.amazon.com/")


def test_logout_first_wraps_the_login_url(signin, fake):
    result = run_cli(["console", "--profile", "dev", "--print",
                      "--logout-first"], env())
    parts, query = login_url(result.stdout)
    assert parts.path == "/oauth" and query["Action"] == "logout"
    assert query["redirect_uri"].startswith(fake.url + "/federation?Action=login")


@pytest.mark.parametrize("status, body", [(400, b"Invalid SessionDuration"),
                                          (403, b"Invalid session")])
def test_federation_errors_are_one_line_without_secrets(signin, fake, status,
                                                        body):
    import fakesso

    fake.script("GetSigninToken", fakesso.Response(
        status, body, {"Content-Type": "text/plain"}))
    result = run_cli(["console", "--profile", "dev", "--print"], env())
    assert result.returncode == 1 and result.stdout == ""
    assert "GetSigninToken failed" in result.stderr and str(status) in \
        result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert "fake-secret" not in result.stderr and "fake-session" not in \
        result.stderr


@pytest.mark.parametrize("region, host", [
    ("cn-north-1", "console.amazonaws.cn"),
    ("us-gov-west-1", "console.amazonaws-us-gov.com")])
def test_partitions_have_their_own_console(region, host):
    base, console = mod._console_hosts(region)
    assert console == host and base.startswith("https://signin.amazonaws")


def test_iso_partitions_are_refused_clearly():
    with pytest.raises(mod.ConfigError) as info:
        mod._console_hosts("us-iso-east-1")
    assert "not available in the aws-iso partition" in str(info.value)


def test_shortcut_needs_no_credentials(signin, fake):
    result = run_cli(["console", "--profile", "dev", "--print", "--shortcut",
                      "--destination", "s3"], env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        START_URL + "/#/console?account_id=111122223333&role_name=ReadOnly&"
        "destination=https%3A%2F%2Feu-west-1.console.aws.amazon.com%2Fs3%2F"
        "home%3Fregion%3Deu-west-1")
    assert fake.calls == {}  # nothing was fetched
    chained = run_cli(["console", "--profile", "ops", "--shortcut"], env())
    assert chained.returncode == 1 and "drop --shortcut" in chained.stderr


def test_the_url_goes_to_the_browser_and_nowhere_else(signin, fake, tmp_path):
    log = tmp_path / "browser.log"
    stub = tmp_path / "browser"
    stub.write_text("#!%s\nimport sys\nopen(%r, 'w').write(sys.argv[1])\n" % (
        sys.executable, str(log)))
    stub.chmod(0o755)
    result = run_cli(["--debug", "console", "--profile", "dev"],
                     env(BROWSER=str(stub)))
    assert result.returncode == 0, result.stderr
    url = log.read_text()
    token = login_url(url)[1]["SigninToken"]
    assert result.stdout == "" and token not in result.stderr
    assert 'opened the AWS console for profile "dev"' in result.stderr


def test_headless_without_print_refuses_and_prints_nothing(signin, fake):
    e = env()
    for name in ("BROWSER", "DISPLAY", "WAYLAND_DISPLAY", "WSL_DISTRO_NAME",
                 "WSL_INTEROP"):
        e.pop(name, None)
    result = run_cli(["console", "--profile", "dev"], e)
    assert result.returncode == 1 and result.stdout == ""
    assert "(this machine has no display); rerun with --print" in result.stderr
    assert "fake-signin-token" not in result.stderr
