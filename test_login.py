"""Specs of the session lifecycle (issue 6): login (PKCE and device code),
logout, list and status, end to end through the CLI and the fake."""

import hashlib
import json
import os
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest

import ssocreds as mod
from conftest import (HERE, LEGACY_CONFIG, SESSION_CONFIG, START_URL,
                      botocore_available, iso, now, run_cli, run_python)


def env():
    return dict(os.environ)


def registration_path(home, session_name):
    key = json.dumps({"tool": "botocore", "startUrl": START_URL,
                      "region": "us-east-1",
                      "scopes": ["sso:account:access"] if session_name else None,
                      "session_name": session_name}, sort_keys=True)
    return os.path.join(home.cache, hashlib.sha1(key.encode()).hexdigest() + ".json")


def start_login(args):
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "ssocreds.py"),
                             "login", "--no-browser"] + args, env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True)
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if line.strip().startswith("http"):
            return proc, line.strip(), seen
    proc.wait(10)
    raise AssertionError("no URL printed: %s" % "".join(seen))


def finish(proc, seen):
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, "".join(seen) + err


def browse(url):
    """The user's browser: follow the authorize redirect to the callback."""
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode()


@pytest.fixture
def logged_out(home, fake):
    home.write_config(SESSION_CONFIG.format(start_url=START_URL)
                      + "\n" + LEGACY_CONFIG.format(start_url=START_URL))
    return home


# -- PKCE (sso-session profiles) ---------------------------------------------


def test_pkce_login_writes_the_cli_token_file(logged_out, fake):
    proc, url, seen = start_login(["--profile", "dev"])
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("http", urlsplit(
        fake.url).netloc, "/authorize")
    query = parse_qsl(parts.query)
    assert [k for k, _ in query] == ["response_type", "client_id", "redirect_uri",
                                     "state", "code_challenge_method", "scopes",
                                     "code_challenge"]
    params = dict(query)
    assert params["response_type"] == "code"
    assert params["code_challenge_method"] == "S256"
    assert params["scopes"] == "sso:account:access"
    assert "scopes=sso%3Aaccount%3Aaccess" in url
    redirect = urlsplit(params["redirect_uri"])
    assert redirect.hostname == "127.0.0.1" and redirect.path == "/oauth/callback"
    assert len(params["code_challenge"]) == 43
    status, page = browse(url)
    assert status == 200 and "Signed in" in page
    code, out, err = finish(proc, seen)
    assert code == 0, err
    assert "Signed in to sso-session \"my-sso\"" in err
    document = logged_out.read_token("my-sso")
    assert list(document) == ["startUrl", "region", "accessToken", "expiresAt",
                              "clientId", "clientSecret",
                              "registrationExpiresAt", "refreshToken"]
    assert document["startUrl"] == START_URL and document["region"] == "us-east-1"
    assert document["expiresAt"].endswith("Z") and "." not in document["expiresAt"]
    expires = mod._parse_timestamp(document["expiresAt"])
    assert abs((expires - now()).total_seconds() - 3600) < 10
    path = logged_out.token_path("my-sso")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    register = json.loads([r for r in fake.requests
                           if r[0] == "RegisterClient"][0][4].decode())
    assert register == {"clientName": "botocore-client-my-sso",
                        "clientType": "public", "scopes": ["sso:account:access"],
                        "grantTypes": ["authorization_code", "refresh_token"],
                        "redirectUris": ["http://127.0.0.1/oauth/callback"],
                        "issuerUrl": START_URL}
    token_request = json.loads([r for r in fake.requests
                                if r[0] == "CreateToken"][0][4].decode())
    assert token_request["grantType"] == "authorization_code"
    assert token_request["redirectUri"] == params["redirect_uri"]
    with open(registration_path(logged_out, "my-sso")) as f:
        registration = json.load(f)
    assert registration["grantTypes"] == ["authorization_code", "refresh_token"]
    assert registration["scopes"] == ["sso:account:access"]
    assert registration["clientId"] == document["clientId"]
    assert document["registrationExpiresAt"] == registration["expiresAt"]
    # the login is usable at once
    result = run_cli(["export", "--profile", "dev"], env())
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(not botocore_available(), reason="botocore not installed")
def test_botocore_accepts_the_token_we_wrote(logged_out, fake):
    proc, url, seen = start_login(["--profile", "dev"])
    browse(url)
    assert finish(proc, seen)[0] == 0
    code = ("import botocore.session, json; c = botocore.session.Session("
            "profile='dev').get_credentials().get_frozen_credentials(); "
            "print(c.access_key)")
    out = run_python(code, env=env())
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ASIAFAKE")
    token = logged_out.read_token("my-sso")["accessToken"]
    assert fake.requests[-1][3]["x-amz-sso_bearer_token"] == token


def test_a_wrong_state_gets_400_and_the_real_sign_in_still_works(logged_out,
                                                                  fake):
    fake.authorize_state = "forged-state"
    proc, url, seen = start_login(["--profile", "dev"])
    with pytest.raises(urllib.error.HTTPError) as info:
        browse(url)
    assert info.value.code == 400
    callback = dict(parse_qsl(urlsplit(url).query))["redirect_uri"]
    with pytest.raises(urllib.error.HTTPError) as info:  # no state at all
        browse(callback + "?code=forged")
    assert info.value.code == 400
    assert "CreateToken" not in fake.calls and proc.poll() is None
    fake.authorize_state = None
    status, page = browse(url)
    assert status == 200 and "Signed in" in page
    code, out, err = finish(proc, seen)
    assert code == 0, err
    assert os.path.exists(logged_out.token_path("my-sso"))


def test_a_denied_browser_sign_in_fails_clearly(logged_out, fake):
    fake.authorize_error = "access_denied"
    proc, url, seen = start_login(["--profile", "dev"])
    status, page = browse(url)
    assert "failed" in page
    code, out, err = finish(proc, seen)
    assert code == 1 and "sign-in failed" in err.splitlines()[-1]


def test_redirect_port_can_be_fixed(logged_out, fake):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    proc, url, seen = start_login(["--sso-session", "my-sso", "--redirect-port",
                                   str(port)])
    assert dict(parse_qsl(urlsplit(url).query))["redirect_uri"] == \
        "http://127.0.0.1:%d/oauth/callback" % port
    browse(url)
    assert finish(proc, seen)[0] == 0
    assert os.path.exists(logged_out.token_path("my-sso"))


def test_valid_token_means_no_new_login_unless_forced(logged_out, fake):
    logged_out.write_token("my-sso", access_token="still-good")
    result = run_cli(["login", "--profile", "dev"], env())
    assert result.returncode == 0 and "Already signed in" in result.stderr
    assert fake.calls == {}
    proc, url, seen = start_login(["--profile", "dev", "--force"])
    browse(url)
    assert finish(proc, seen)[0] == 0
    assert logged_out.read_token("my-sso")["accessToken"] != "still-good"


def test_registration_is_reused_only_for_the_same_flow(logged_out, fake):
    for _ in range(2):
        proc, url, seen = start_login(["--profile", "dev", "--force"])
        browse(url)
        assert finish(proc, seen)[0] == 0
    assert fake.calls["RegisterClient"] == 1
    fake.device_pending_polls = 0  # approved at once: no URL needed
    result = run_cli(["login", "--profile", "dev", "--force",
                      "--use-device-code", "--no-browser"], env())
    assert result.returncode == 0, result.stderr
    assert fake.calls["RegisterClient"] == 2  # a PKCE client can't do devices


# -- device code (legacy profiles, --use-device-code) ------------------------


def test_device_login_for_a_legacy_profile(logged_out, fake):
    proc, url, seen = start_login(["--profile", "legacy"])
    assert "user_code=" in url
    assert any("ABCD-" in line for line in seen)  # the code is printed
    code, out, err = finish(proc, seen)
    assert code == 0, err
    document = logged_out.read_token(START_URL)
    assert list(document) == ["startUrl", "region", "accessToken", "expiresAt",
                              "clientId", "clientSecret",
                              "registrationExpiresAt"]  # no refresh token
    register = json.loads([r for r in fake.requests
                           if r[0] == "RegisterClient"][0][4].decode())
    assert register["clientType"] == "public"
    assert register["clientName"].startswith("botocore-client-")
    assert set(register) == {"clientName", "clientType"}
    assert fake.calls["CreateToken"] == 2  # one immediate try, one poll
    with open(registration_path(logged_out, None)) as f:
        assert "grantTypes" not in json.load(f)
    assert run_cli(["export", "--profile", "legacy"], env()).returncode == 0


@pytest.mark.parametrize("outcome, phrase", [("deny", "denied"),
                                             ("expire", "expired")])
def test_device_login_denied_or_expired(logged_out, fake, outcome, phrase):
    fake.device_pending_polls = 0
    fake.device_outcome = outcome
    result = run_cli(["login", "--profile", "legacy", "--no-browser"], env())
    assert result.returncode == 1
    assert phrase in result.stderr.splitlines()[-1]
    assert not os.path.exists(logged_out.token_path(START_URL))


class FakeOIDC(object):
    def __init__(self, answers):
        self.answers = list(answers)

    def start_device_authorization(self, **kwargs):
        return {"deviceCode": "dc", "userCode": "UC", "verificationUri": "https://device.example/u",
                "verificationUriComplete": "https://device.example/u?c", "expiresIn": 600,
                "interval": 2}

    def create_token(self, **kwargs):
        answer = self.answers.pop(0)
        if isinstance(answer, str):
            raise mod.APIError("CreateToken", answer, 400)
        return answer


def test_device_polling_follows_interval_and_slow_down(home):
    sleeps, notes = [], []
    oidc = FakeOIDC(["AuthorizationPendingException", "SlowDownException",
                     "AuthorizationPendingException", "SlowDownException",
                     {"accessToken": "t", "expiresIn": 60}])
    profile = mod._Profile("p", "c", {}, {})
    profile.start_url = START_URL
    result = mod._device_login(oidc, profile, {"clientId": "c",
                                               "clientSecret": "s"},
                               notify=notes.append, open_browser=lambda u: None,
                               sleep=sleeps.append)
    assert result["accessToken"] == "t"
    assert sleeps == [2, 7, 7, 12]
    assert len(notes) == 1 and "UC" in notes[0] and "u?c" in notes[0]


def test_device_polling_stops_at_the_code_expiry(home):
    oidc = FakeOIDC(["AuthorizationPendingException"] * 1000)
    oidc.start_device_authorization = lambda **kw: {
        "deviceCode": "dc", "userCode": "UC", "verificationUri": "https://device.example/u",
        "expiresIn": 10, "interval": 3}
    profile = mod._Profile("p", "c", {}, {})
    profile.start_url = START_URL
    clock = [0.0]

    def sleep(seconds):
        clock[0] += seconds

    with pytest.raises(mod.LoginError) as info:
        mod._device_login(oidc, profile, {"clientId": "c", "clientSecret": "s"},
                          notify=lambda t: None, open_browser=lambda u: None,
                          sleep=sleep, clock=lambda: clock[0])
    assert "expired" in str(info.value)
    assert clock[0] == 9  # polled at 0, 3, 6, 9; 12 would pass the 10 s expiry


# -- logout ------------------------------------------------------------------


def fill_cli_cache(home):
    for args in (["export", "--profile", "dev"], ["export", "--profile", "two"]):
        result = run_cli(args, env())
        assert result.returncode == 0, result.stderr
    return sorted(os.listdir(home.cli_cache))


def test_logout_of_one_session(session, fake):
    with open(session.config, "a") as f:
        f.write("\n[profile two]\nsso_session = my-sso\nsso_account_id = "
                "111122223333\nsso_role_name = Admin\n\n[sso-session other]\n"
                "sso_start_url = https://other/start\nsso_region = us-east-1\n")
    fake.accounts["111122223333"]["roles"].append("Admin")
    files = [n for n in fill_cli_cache(session) if n.endswith(".json")]
    assert len(files) == 2
    other = session.write_token("other", access_token="other-token")
    registration = registration_path(session, "my-sso")
    with open(registration, "w") as f:
        json.dump({"clientId": "c", "clientSecret": "s",
                   "expiresAt": "2099-01-01T00:00:00Z"}, f)
    result = run_cli(["logout", "--profile", "dev"], env())
    assert result.returncode == 0, result.stderr
    assert "deleted" in result.stderr and "2 cached credential" in result.stderr
    assert not os.path.exists(session.token_path("my-sso"))
    assert [n for n in os.listdir(session.cli_cache) if n.endswith(".json")] == []
    assert os.path.exists(other) and os.path.exists(registration)
    logout = [r for r in fake.requests if r[0] == "Logout"]
    assert [r[3]["x-amz-sso_bearer_token"] for r in logout] == ["session-token"]
    assert logout[0][4] == b"" and "content-type" not in logout[0][3]
    assert run_cli(["export", "--profile", "dev"], env()).returncode == 1


def test_logout_all_is_like_aws_sso_logout(session, fake):
    run_cli(["export", "--profile", "dev"], env())
    session.write_token("other", access_token="other-token")
    registration = registration_path(session, "my-sso")
    with open(registration, "w") as f:
        json.dump({"clientId": "c", "clientSecret": "s",
                   "expiresAt": "2099-01-01T00:00:00Z"}, f)
    foreign = os.path.join(session.cli_cache, "assume-role.json")
    with open(foreign, "w") as f:
        json.dump({"Credentials": {}}, f)
    with open(os.path.join(session.cache, "junk.json"), "w") as f:
        f.write("{not json")
    result = run_cli(["logout", "--all"], env())
    assert result.returncode == 0, result.stderr
    assert "deleted 2 token file(s) and 1 cached credential" in result.stderr
    left = sorted(os.listdir(session.cache))
    assert os.path.basename(registration) in left and "junk.json" in left
    assert not any(n.endswith(".json") and n not in (
        os.path.basename(registration), "junk.json") for n in left)
    assert os.path.exists(foreign)
    assert fake.calls["Logout"] == 2


def test_logout_when_not_logged_in(logged_out, fake):
    result = run_cli(["logout", "--profile", "dev"], env())
    assert result.returncode == 0 and "Not signed in" in result.stderr


# -- list --------------------------------------------------------------------


@pytest.fixture
def three_accounts(session, fake):
    fake.accounts.update({
        "444455556666": {"name": "prod", "email": "p@example.com",
                         "roles": ["ReadOnly", "Deploy", "Admin"]},
        "777788889999": {"name": "audit log", "email": "a@example.com",
                         "roles": ["Auditor"]}})
    fake.page_size = 2
    return session


def test_list_follows_pagination(three_accounts, fake):
    result = run_cli(["list", "--profile", "dev", "--format", "json"], env())
    assert result.returncode == 0, result.stderr
    accounts = json.loads(result.stdout)
    assert [a["accountName"] for a in accounts] == ["audit log", "dev", "prod"]
    assert accounts[2]["roles"] == ["Admin", "Deploy", "ReadOnly"]
    assert fake.calls["ListAccounts"] == 2
    assert fake.calls["ListAccountRoles"] == 4  # prod's three roles: 2 pages
    pages = [r[2] for r in fake.requests if r[0] == "ListAccounts"]
    assert pages == ["/assignment/accounts", "/assignment/accounts"]


def test_a_portal_that_pages_forever_is_stopped(three_accounts, fake,
                                                monkeypatch):
    import itertools

    pages = itertools.count(1000)
    fake.rewrite("ListAccounts", lambda doc: dict(
        doc, nextToken=str(next(pages))))  # a fresh token every time
    monkeypatch.setattr(mod, "_MAX_PAGES", 20)
    with pytest.raises(mod.APIError) as info:
        mod._list_accounts(mod._load_profile("dev", require_role=False))
    assert "kept paging past 20 pages" in str(info.value)
    assert fake.calls["ListAccounts"] == 20


def test_list_table_and_config(three_accounts, fake):
    table = run_cli(["list", "--profile", "dev"], env()).stdout.splitlines()
    assert table[0].split() == ["ACCOUNT", "ID", "ACCOUNT", "NAME", "ROLE"]
    assert len(table) == 1 + 6
    assert any("777788889999" in row and "audit log" in row and "Auditor" in row
               for row in table)
    config = run_cli(["list", "--profile", "dev", "--format", "config"],
                     env()).stdout
    assert "[profile audit-log.Auditor]\nsso_session = my-sso\n" \
        "sso_account_id = 777788889999\nsso_role_name = Auditor\n" \
        "region = eu-west-1\n" in config
    parsed = mod._parse_config(config)
    assert len(parsed["profiles"]) == 6
    assert parsed["profiles"]["prod.Deploy"]["sso_account_id"] == "444455556666"


def test_list_needs_a_login(logged_out, fake):
    result = run_cli(["list", "--profile", "dev"], env())
    assert result.returncode == 1
    assert "ssocreds login --profile dev" in result.stderr


# -- status ------------------------------------------------------------------


def test_status_of_a_good_login(session, fake):
    run_cli(["export", "--profile", "dev"], env())
    result = run_cli(["status", "--profile", "dev", "--json"], env())
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["usable"] is True and info["logged_in"] is True
    assert info["sso_session"] == "my-sso" and info["refreshable"] is True
    assert 3500 < info["seconds_left"] <= 3600
    assert info["token_file"] == session.token_path("my-sso")
    assert info["cached_credentials_until"].endswith("Z")
    text = run_cli(["status", "--profile", "dev"], env())
    assert text.returncode == 0 and "usable" in text.stdout
    for output in (result.stdout, text.stdout, text.stderr):
        for secret in ("session-token", "csecret", "rt-1", "fake-secret-key",
                       "fake-session-token"):
            assert secret not in output


def test_status_of_an_expired_legacy_login(legacy, fake):
    legacy.write_token(START_URL, access_token="x", expires_in=-5)
    result = run_cli(["status", "--profile", "legacy"], env())
    assert result.returncode == 1
    assert "sign-in needed: aws sso login --profile legacy" in result.stdout


def test_status_of_an_expired_but_refreshable_session(session, fake):
    document = session.read_token("my-sso")
    document["expiresAt"] = iso(now() - timedelta(minutes=1))
    session.write_token("my-sso", raw=json.dumps(document))
    result = run_cli(["status", "--sso-session", "my-sso", "--json"], env())
    info = json.loads(result.stdout)
    assert result.returncode == 0 and info["usable"] and not info["logged_in"]


def test_status_without_any_login(logged_out, fake):
    result = run_cli(["status", "--profile", "dev"], env())
    assert result.returncode == 1 and "signed in:    no" in result.stdout


def test_status_names_the_profile_role_and_session(session, fake):
    text = run_cli(["status", "--profile", "dev"], env()).stdout
    assert "profile:      dev\n" in text
    assert "role:         ReadOnly in account 111122223333\n" in text
    assert 'session:      sso-session "my-sso" (%s)\n' % START_URL in text


def test_status_of_a_role_profile_reports_its_sso_root(session, fake):
    with open(session.config, "a") as f:
        f.write("\n[profile ops]\nrole_arn = arn:aws:iam::111122223333:role/"
                "Ops\nsource_profile = dev\n")
    text = run_cli(["status", "--profile", "ops"], env()).stdout
    assert "profile:      dev\n" in text
    assert 'reported for: profile "ops" assumes its role from it\n' in text


@pytest.mark.parametrize("command", [
    "{python} {script} export --profile dev",
    "/usr/local/bin/ssocreds export --format process --profile=dev",
])
def test_status_follows_a_credential_process_wrapper(session, fake, command):
    with open(session.config, "a") as f:
        f.write("\n[profile dev-process]\ncredential_process = %s\n" % (
            command.format(python=sys.executable,
                           script=os.path.join(HERE, "ssocreds.py"))))
    result = run_cli(["status", "--profile", "dev-process"], env())
    assert result.returncode == 0, result.stderr
    assert "profile:      dev\n" in result.stdout
    assert ('reported for: profile "dev-process" runs ssocreds for it '
            "(credential_process)") in result.stdout
    assert "aws configure sso" not in result.stdout + result.stderr


def test_status_all_lists_every_session_and_start_url(session, fake):
    with open(session.config, "a") as f:
        f.write("\n" + LEGACY_CONFIG.format(start_url=START_URL + "/other")
                + "\n[sso-session broken]\nsso_region = us-east-1\n")
    result = run_cli(["status", "--all"], env())
    lines = result.stdout.splitlines()
    assert result.returncode == 1  # not every one is usable
    assert len(lines) == 3, lines
    assert lines[0].startswith("misconfigured: ") and "broken" in lines[0]
    assert lines[1].startswith('usable: sso-session "my-sso"')
    assert lines[2].startswith("sign-in needed: %s/other [profiles legacy]"
                               % START_URL)
    session.write_token(START_URL + "/other", access_token="t2")
    with open(session.config, "w") as f:
        f.write(SESSION_CONFIG.format(start_url=START_URL) + "\n"
                + LEGACY_CONFIG.format(start_url=START_URL + "/other"))
    result = run_cli(["status", "--all", "--json"], env())
    assert result.returncode == 0, result.stdout
    assert [i["usable"] for i in json.loads(result.stdout)] == [True, True]


def test_login_help_mentions_both_flows(home):
    result = run_cli(["login", "--help"], env())
    assert "--use-device-code" in result.stdout and "PKCE" in result.stdout


# -- Where the browser opens ---------------------------------------------------

def _stubs(directory, names):
    """Executables that record their argv (and two variables) in calls.log."""
    log = os.path.join(str(directory), "calls.log")
    for name in names:
        path = os.path.join(str(directory), name)
        with open(path, "w") as f:
            f.write("#!%s\nimport json, os, sys\nwith open(%r, 'a') as f:\n"
                    "    f.write(json.dumps([os.path.basename(sys.argv[0])] + "
                    "sys.argv[1:] + [os.environ.get('SSOCREDS_OPEN_URL'), "
                    "os.environ.get('WSLENV')]) + '\\n')\n" % (sys.executable, log))
        os.chmod(path, 0o755)

    def calls():
        if not os.path.exists(log):
            return []
        with open(log) as f:
            return [json.loads(line) for line in f]

    return calls


def _clean_env(stubs_dir, **extra):
    e = env()
    for name in ("BROWSER", "DISPLAY", "WAYLAND_DISPLAY", "WSL_DISTRO_NAME",
                 "WSL_INTEROP", "WSLENV"):
        e.pop(name, None)
    e.update(TERM="xterm", PATH=str(stubs_dir) + os.pathsep + e["PATH"])
    e.update(extra)
    return e


def test_a_headless_machine_gets_the_url_and_no_console_browser(
        logged_out, fake, tmp_path):
    calls = _stubs(tmp_path, ["www-browser", "lynx", "w3m", "links",
                              "xdg-open", "x-www-browser", "firefox"])
    result = run_cli(["login", "--profile", "legacy"], _clean_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert calls() == []  # nothing took over the terminal
    assert "this machine has no display" in result.stderr
    assert fake.url + "/device" in result.stderr  # the URL is shown instead


URL = "https://device.sso.us-east-1.amazonaws.com/?user_code=ABCD-EFGH&x=1"


def test_browser_naming_a_console_browser_is_not_used(tmp_path, monkeypatch):
    calls = _stubs(tmp_path, ["lynx", "my-browser"])
    monkeypatch.setenv("PATH", _clean_env(tmp_path)["PATH"])  # webbrowser's
    assert mod._open_in_browser(URL, _clean_env(tmp_path, BROWSER="lynx")) \
        is None
    assert mod._open_in_browser(URL, _clean_env(
        tmp_path, BROWSER=os.pathsep.join(["w3m", "my-browser"]))) is True
    assert [c[:2] for c in calls()] == [["my-browser", URL]]


@pytest.mark.parametrize("tools", [["wslview", "powershell.exe"],
                                   ["powershell.exe"]])
def test_wsl_opens_the_windows_browser(tmp_path, tools):
    calls = _stubs(tmp_path, tools + ["lynx", "xdg-open"])
    assert mod._open_in_browser(URL, _clean_env(
        tmp_path, WSL_DISTRO_NAME="Ubuntu", WSLENV="USERPROFILE/p")) is True
    [call] = calls()
    if tools[0] == "wslview":
        assert call[:2] == ["wslview", URL]
    else:  # the URL travels in the environment, never through a shell
        assert call[:5] == ["powershell.exe", "-NoProfile", "-NonInteractive",
                            "-Command", "Start-Process $env:SSOCREDS_OPEN_URL"]
        assert call[-2:] == [URL, "USERPROFILE/p:SSOCREDS_OPEN_URL"]


def test_wsl_without_a_way_out_says_so(tmp_path):
    assert mod._open_in_browser(URL, _clean_env(
        tmp_path, WSL_DISTRO_NAME="Ubuntu", PATH=str(tmp_path))) is False


def test_status_follows_a_wrapper_of_a_role_chain(session, fake):
    with open(session.config, "a") as f:
        f.write("\n[profile ops]\nrole_arn = arn:aws:iam::111122223333:role/"
                "Ops\nsource_profile = dev\n\n[profile ops-process]\n"
                "credential_process = ssocreds export --profile ops\n\n"
                "[profile loop]\ncredential_process = ssocreds export "
                "--profile loop\n")
    text = run_cli(["status", "--profile", "ops-process"], env())
    assert text.returncode == 0, text.stderr
    assert "profile:      dev\n" in text.stdout
    looped = run_cli(["status", "--profile", "loop"], env())
    assert looped.returncode == 1 and "Traceback" not in looped.stderr
    assert "internal error" not in looped.stderr
