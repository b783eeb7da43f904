"""Proof of the hostile-input issue: a hostile portal, OIDC and STS on
loopback, a hostile proxy and a hostile local user, replayed through the real
CLI (and the public API for the property tests).

Every case asserts properties, not wording: no command runs, no file outside
the intended one changes, no control character reaches stdout or stderr, no
planted secret appears in any output, and each case ends in bounded time
with one clear line.  Only public names of ssocreds are used.
"""

import configparser
import hashlib
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import unicodedata
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

import fakesso
import ssocreds
from conftest import (HERE, LEGACY_CONFIG, SESSION_CONFIG, START_URL,
                      botocore_available, iso, now, run_python)

try:
    from hypothesis import given, settings, strategies as st
except ImportError:  # hypothesis is a test-only extra
    given = None

needs_hypothesis = pytest.mark.skipif(given is None,
                                      reason="hypothesis not installed")
needs_botocore = pytest.mark.skipif(not botocore_available(),
                                    reason="botocore not installed")
needs_root = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0,
    reason="emulating another user's symlink needs root (os.lchown)")

# Terminal attacks: set the window title, clear the screen, write the
# clipboard (OSC 52), an 8-bit CSI.
ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x1b]52;c;cHduZWQ=\x07\u009b31m"
# What must never reach stdout or stderr raw: C0 controls except \t and \n,
# DEL, C1 controls (also as undecodable bytes).
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\udc80-\udc9f]")
IAM_ROLE = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)
LIMIT = 20  # seconds any one CLI run may take
FIFO_LIMIT = 8

DEV_CACHE_KEY = {"accountId": "111122223333", "roleName": "ReadOnly",
                 "sessionName": "my-sso"}


# -- helpers -----------------------------------------------------------------


class Run(object):
    def __init__(self, args, returncode, out, err, seconds):
        self.args = args
        self.returncode = returncode
        self.out = out
        self.err = err
        self.seconds = seconds

    def __repr__(self):
        return "Run(%r, rc=%r, stdout=%r, stderr=%r)" % (
            self.args, self.returncode, self.out[-2000:], self.err[-2000:])


def decode(data):
    return data.decode("utf-8", "surrogateescape")


def cli(args, environ=None, timeout=LIMIT, stdin=None):
    """Run the real CLI (as conftest.run_cli, -S) in binary mode, so that a
    raw CR or an undecodable C1 byte is seen as it is; a hang fails the
    test."""
    cmd = [sys.executable, "-S", os.path.join(HERE, "ssocreds.py")] + list(args)
    started = time.monotonic()
    try:
        result = subprocess.run(cmd, env=environ or dict(os.environ),
                                stdin=stdin or subprocess.DEVNULL,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail("ssocreds %s did not finish within %d s (it hangs)" % (
            " ".join(args), timeout))
    return Run(args, result.returncode, decode(result.stdout),
               decode(result.stderr), time.monotonic() - started)


def env(**extra):
    e = dict(os.environ)
    e.update(extra)
    return e


def controls(text):
    return CONTROL.findall(text)


def assert_no_controls(run):
    assert controls(run.out) == [], run
    assert controls(run.err) == [], run


def assert_one_line_failure(run):
    """Failed, quickly, with one clear line and nothing raw."""
    assert run.returncode not in (0, None), run
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run
    assert lines[0].startswith("ssocreds"), run
    assert "Traceback" not in run.err and "internal error" not in run.err, run
    assert_no_controls(run)


def assert_not_in_output(run, *needles):
    for needle in needles:
        assert needle not in run.out, (needle, run)
        assert needle not in run.err, (needle, run)


def snapshot(root):
    """Every entry under ``root``: file bytes, link targets, other kinds."""
    state = {}
    for directory, dirs, files in os.walk(str(root)):
        for name in dirs + files:
            path = os.path.join(directory, name)
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                state[path] = ("link", os.readlink(path))
            elif stat.S_ISREG(info.st_mode):
                with open(path, "rb") as f:
                    state[path] = ("file", f.read())
            elif stat.S_ISDIR(info.st_mode):
                state[path] = ("dir",)
            else:
                state[path] = ("other", stat.S_IFMT(info.st_mode))
    return state


def files_containing(root, needle):
    """Regular files under ``root`` holding ``needle`` (as UTF-8 or as JSON
    would escape it)."""
    forms = {needle.encode("utf-8"), json.dumps(needle)[1:-1].encode("utf-8")}
    found = []
    for directory, _dirs, files in os.walk(str(root)):
        for name in files:
            path = os.path.join(directory, name)
            if not os.path.isfile(path) or os.path.islink(path):
                continue
            with open(path, "rb") as f:
                data = f.read()
            if any(form in data for form in forms):
                found.append(path)
    return found


def cli_cache_entry(home, key=None):
    """The ~/.aws/cli/cache entry of a role (as botocore names it)."""
    text = json.dumps(key or DEV_CACHE_KEY, sort_keys=True, separators=(",", ":"))
    return os.path.join(home.cli_cache,
                        hashlib.sha1(text.encode("utf-8")).hexdigest() + ".json")


def role_credentials(**fields):
    document = {"accessKeyId": "ASIAHOSTILETEST0001",
                "secretAccessKey": "hostile-test-secret-key",
                "sessionToken": "hostile-test-session-token",
                "expiration": int((time.time() + 3600) * 1000)}
    document.update(fields)
    return fakesso.Response(200, {"roleCredentials": document})


def botocore_loads(profiles, marker):
    """Load each of ``profiles`` with botocore (as the next SDK session
    would) from the current AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE;
    assert no credential_process ran (``marker`` absent)."""
    code = ("import sys, botocore.session\n"
            "for name in sys.argv[1:]:\n"
            "    try:\n"
            "        botocore.session.Session(profile=name).get_credentials()\n"
            "    except Exception as exc:\n"
            "        print(name, type(exc).__name__)\n")
    run_python(code, *profiles, env=env(), timeout=LIMIT)
    assert not os.path.exists(str(marker)), "botocore ran a planted command"


# -- 1. write-credentials: command execution through the credentials file ---

CREDENTIALS_BEFORE = ("# my keys\n[other]\naws_access_key_id = AKIAOTHERKEYS000001\n"
                      "aws_secret_access_key = other-secret\n")


def hostile_credential_values(marker):
    command = "/bin/sh -c 'touch %s'" % marker
    return [
        ("secretAccessKey", "x\n[default]\ncredential_process = " + command),
        ("secretAccessKey", "x\r[default]\rcredential_process = " + command),
        ("sessionToken",
         "t\n[other]\naws_access_key_id = AKIAEVILEVILEVIL0001\n"
         "aws_secret_access_key = planted\ncredential_process = " + command),
        ("accessKeyId", "ASIAHOSTILE00001\n[default]\ncredential_process = "
         + command),
        # not a line break for botocore, but one for str.splitlines(): a
        # later write-credentials would turn it into a real section
        ("secretAccessKey", "x\u2028[default]\u2028credential_process = "
         + command),
        ("sessionToken", "t\x00\n[default]\ncredential_process = " + command),
    ]


@pytest.mark.parametrize("index", range(6))
def test_write_credentials_never_plants_a_section(session, fake, tmp_path,
                                                   index):
    marker = tmp_path / "pwned"
    field, value = hostile_credential_values(marker)[index]
    with open(session.credentials, "w") as f:
        f.write(CREDENTIALS_BEFORE)
    config_before = snapshot(session.aws)[session.config]
    fake.script("GetRoleCredentials", role_credentials(**{field: value}))
    run = cli(["write-credentials", "--profile", "dev"])
    with open(session.credentials) as f:
        after_attack = f.read()
    # a later, honest write (a second run rewrites what the first left)
    later = cli(["write-credentials", "--profile", "dev", "--no-cache",
                 "--credentials-profile", "later"])
    if botocore_available():  # the next SDK session runs no planted command
        botocore_loads(["default", "other", "later", "dev"], marker)
    assert not marker.exists()
    assert_one_line_failure(run)
    assert_not_in_output(run, str(marker))
    assert after_attack == CREDENTIALS_BEFORE
    assert snapshot(session.aws)[session.config] == config_before
    # the refused value is not kept anywhere (the CLI cache included)
    assert files_containing(session.path, str(marker)) == []
    assert later.returncode == 0, later
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(session.credentials)
    assert sorted(parser.sections()) == ["later", "other"]
    assert dict(parser["other"]) == {
        "aws_access_key_id": "AKIAOTHERKEYS000001",
        "aws_secret_access_key": "other-secret"}
    for section in parser.sections():
        assert "credential_process" not in parser[section]


@pytest.mark.parametrize("section", ["a\n[default]", "a]\ncredential_process = x",
                                     "a\rb", "x\x1b[2J"])
def test_write_credentials_refuses_a_broken_section_name(session, fake, section):
    with open(session.credentials, "w") as f:
        f.write(CREDENTIALS_BEFORE)
    run = cli(["write-credentials", "--profile", "dev", "--credentials-profile",
               section])
    assert run.returncode != 0, run
    assert_no_controls(run)
    with open(session.credentials) as f:
        assert f.read() == CREDENTIALS_BEFORE


# -- 2. export formats with hostile credentials ------------------------------


@pytest.mark.parametrize("fmt", ["process", "env", "env-no-export", "powershell",
                                 "windows-cmd", "fish"])
def test_export_refuses_hostile_credentials_in_every_format(session, fake, fmt):
    fake.script("GetRoleCredentials", role_credentials(
        secretAccessKey="s" + ESCAPES + "\nexport PLANTED=1",
        sessionToken="tok'\"$(touch /tmp/x)\r\nPLANTEDTOKEN"))
    run = cli(["export", "--profile", "dev", "--format", fmt])
    assert_one_line_failure(run)
    assert_not_in_output(run, "PLANTED", "touch /tmp/x")


@pytest.mark.parametrize("field, value", [
    ("accessKeyId", "asia-lowercase-key"),
    ("accessKeyId", "ASIA" + "A" * 200),
    ("accessKeyId", "ASIA\x1b[2JAAAAAAAAAAAA"),
    ("secretAccessKey", ""),
    ("secretAccessKey", "has space inside"),
    ("secretAccessKey", "tab\tinside"),
    ("secretAccessKey", "\u00e9l\u00e8ve-non-ascii"),
    ("secretAccessKey", "x" * 100000),
    ("sessionToken", "tok\x7fdel"),
    ("sessionToken", "tok\u0085nel"),
    ("expiration", 10 ** 30),
    ("expiration", -10 ** 20),
], ids=lambda v: ascii(v)[:40])
def test_credentials_are_validated_where_they_enter(session, fake, field, value):
    fake.script("GetRoleCredentials", role_credentials(**{field: value}))
    run = cli(["export", "--profile", "dev"])
    assert_one_line_failure(run)
    if isinstance(value, str) and len(value) > 8:
        assert_not_in_output(run, value)
    assert not os.path.exists(cli_cache_entry(session))


# -- 3. list: config, table and json output ----------------------------------

PROFILE_KEYS = {"sso_session", "sso_start_url", "sso_region", "sso_account_id",
                "sso_role_name", "region"}


def hostile_accounts(marker):
    command = "/bin/sh -c 'touch %s'" % marker
    return [
        {"111122223333": {"name": "dev", "email": "d@example.com",
                          "roles": ["ReadOnly\nendpoint_url = https://evil.example"]}},
        {"111122223333": {"name": "dev", "email": "d@example.com",
                          "roles": ["R\n[profile x]\ncredential_process = "
                                    + command]}},
        {"111122223333\nendpoint_url = https://evil.example": {
            "name": "dev", "email": "d@example.com", "roles": ["ReadOnly"]}},
        {"111122223333": {"name": "dev" + ESCAPES, "email": ESCAPES + "@x",
                          "roles": ["Admin" + ESCAPES]}},
        {"111122223333": {"name": "]\n[profile evil]\ncredential_process = "
                          + command, "email": "e@example.com",
                          "roles": ["ReadOnly]"]}},
    ]


@pytest.mark.parametrize("index", range(5))
def test_list_output_cannot_be_injected(session, fake, tmp_path, index):
    marker = tmp_path / "pwned"
    fake.accounts = dict(hostile_accounts(marker)[index])
    fake.accounts["444455556666"] = {"name": "prod", "email": "p@example.com",
                                     "roles": ["Deploy"]}
    rows = sum(len(a["roles"]) for a in fake.accounts.values())
    for fmt in ("config", "table", "json"):
        run = cli(["list", "--profile", "dev", "--format", fmt])
        assert_no_controls(run)
        if run.returncode != 0:
            assert_one_line_failure(run)
            continue
        if fmt == "config":
            parser = configparser.ConfigParser(interpolation=None)
            parser.read_string(run.out)  # duplicates raise
            assert 1 <= len(parser.sections()) <= rows, run
            for section in parser.sections():
                assert section.startswith("profile "), run
                keys = set(parser[section])
                assert keys <= PROFILE_KEYS, run
                assert {"sso_account_id", "sso_role_name"} <= keys, run
            assert any("Deploy" in name for name in parser.sections()), run
        elif fmt == "table":
            assert len(run.out.splitlines()) <= 1 + rows, run
        else:
            listed = json.loads(run.out)
            assert any(a["accountId"] == "444455556666" for a in listed)


# -- 4. terminal escapes in service error messages ---------------------------


def portal_error_cases():
    return [
        lambda fake: fake.fail("GetRoleCredentials", 403, "ForbiddenException",
                               "No access " + ESCAPES),
        lambda fake: fake.script("GetRoleCredentials", fakesso.Response(
            400, {"__type": "com.amazonaws#Bad" + ESCAPES, "message": "m"})),
        lambda fake: fake.script("GetRoleCredentials", fakesso.Response(
            400, {"message": "m"}, {"x-amzn-ErrorType": "\x1b[2JEvil:http://x"})),
        lambda fake: fake.fail("GetRoleCredentials", 401, "UnauthorizedException",
                               "expired " + ESCAPES),
        lambda fake: fake.script("GetRoleCredentials", fakesso.Response(
            404, ESCAPES.encode("utf-8") + b"\r\nnot json", {})),
    ]


@pytest.mark.parametrize("index", range(5))
def test_portal_error_messages_reach_stderr_escaped(session, fake, index):
    portal_error_cases()[index](fake)
    run = cli(["export", "--profile", "dev"], env(AWS_MAX_ATTEMPTS="1"))
    assert_one_line_failure(run)


def test_oidc_error_description_during_a_refresh_is_escaped(session, fake):
    document = session.read_token("my-sso")
    document["expiresAt"] = iso(now() - timedelta(minutes=1))
    session.write_token("my-sso", raw=json.dumps(document))
    fake.fail("CreateToken", 400, "InvalidGrantException", "bad grant " + ESCAPES)
    run = cli(["export", "--profile", "dev"])
    assert_one_line_failure(run)


class HostileProxy(object):
    """An http proxy that answers every CONNECT with 407 and a hostile
    reason phrase."""

    def __init__(self, reason):
        self.reason = reason
        self.requests = []
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(8)
        self._socket.settimeout(0.2)
        self.url = "http://127.0.0.1:%d" % self._socket.getsockname()[1]
        self._stop = False
        self._thread = threading.Thread(target=self._serve)
        self._thread.daemon = True
        self._thread.start()

    def _serve(self):
        while not self._stop:
            try:
                conn, _ = self._socket.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(5)
                data = b""
                try:
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                    self.requests.append(data)
                    conn.sendall(b"HTTP/1.1 407 " + self.reason + b"\r\n"
                                 b"Proxy-Authenticate: Basic realm=\"x\"\r\n"
                                 b"Content-Length: 0\r\n\r\n")
                except OSError:
                    pass

    def close(self):
        self._stop = True
        self._thread.join(2)
        self._socket.close()


def test_a_proxys_407_reason_is_escaped(session, fake, monkeypatch):
    proxy = HostileProxy(ESCAPES.encode("utf-8") + b" Proxy \x1b[5mAuth")
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SSO", "https://portal.sso.example.com")
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        run = cli(["export", "--profile", "dev"], env(AWS_MAX_ATTEMPTS="1"))
    finally:
        proxy.close()
    assert proxy.requests and proxy.requests[0].startswith(b"CONNECT ")
    assert_one_line_failure(run)


# -- 5. device flow: userCode and the browser's argv -------------------------


@pytest.fixture
def logged_out(home, fake):
    home.write_config(SESSION_CONFIG.format(start_url=START_URL)
                      + "\n" + LEGACY_CONFIG.format(start_url=START_URL))
    return home


@pytest.fixture
def browser(tmp_path, monkeypatch):
    """BROWSER points at a stub that records its argv; returns the calls."""
    log = tmp_path / "browser.log"
    script = tmp_path / "browser-stub"
    script.write_text("#!%s\nimport json, sys\nwith open(%r, 'a') as f:\n"
                      "    f.write(json.dumps(sys.argv[1:]) + '\\n')\n" % (
                          sys.executable, str(log)))
    script.chmod(0o755)
    monkeypatch.setenv("BROWSER", str(script))
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)

    def calls():
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines()]

    return calls


def assert_safe_browser_calls(calls):
    for argv in calls:
        for arg in argv:
            assert not arg.startswith("-"), argv
            assert arg.startswith("https://") or arg.startswith(
                "http://127.0.0.1:") or arg.startswith("http://127.0.0.1/"), argv
            assert not controls(arg) and not any(c.isspace() for c in arg), argv


def test_device_flow_opens_the_browser_stub(logged_out, fake, browser):
    """The harness works: an honest device login reaches the stub."""
    run = cli(["login", "--profile", "legacy"])
    assert run.returncode == 0, run
    calls = browser()
    assert len(calls) == 1 and calls[0][0].startswith(fake.url + "/device")
    assert_safe_browser_calls(calls)


@pytest.mark.parametrize("field, value", [
    ("verificationUriComplete", "--gpu-launcher=/bin/sh -c 'touch {marker}'"),
    ("verificationUriComplete", "-new-window"),
    ("verificationUriComplete", "http://evil.example/device"),
    ("verificationUriComplete", "file:///etc/passwd"),
    ("verificationUriComplete", "javascript:alert(1)"),
    ("verificationUriComplete", "https://ok.example/\n--gpu-launcher=x"),
    ("verificationUri", "--gpu-launcher=/bin/sh -c 'touch {marker}'"),
    ("userCode", "ABCD" + ESCAPES),
])
def test_device_flow_never_hands_the_browser_a_hostile_url(
        logged_out, fake, browser, tmp_path, field, value):
    marker = tmp_path / "pwned"
    value = value.format(marker=marker)

    def hostile(document):
        document = dict(document)
        if field == "verificationUri":
            document.pop("verificationUriComplete", None)
        document[field] = value
        return document

    fake.rewrite("StartDeviceAuthorization", hostile)
    run = cli(["login", "--profile", "legacy"])
    assert_no_controls(run)
    assert_safe_browser_calls(browser())
    assert not marker.exists()
    if run.returncode != 0:
        assert run.err.strip().splitlines()[-1].startswith("ssocreds"), run
        assert "Traceback" not in run.err and "internal error" not in run.err


# -- 6. the PKCE callback: forged requests from any local process ------------


def start_login(args):
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "ssocreds.py"),
                             "login", "--no-browser"] + args, env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen = []
    for raw in proc.stderr:
        line = decode(raw)
        seen.append(line)
        if line.strip().startswith("http"):
            return proc, line.strip(), seen
    proc.wait(10)
    raise AssertionError("no URL printed: %s" % "".join(seen))


def finish(proc, seen, timeout=LIMIT):
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("the login did not finish within %d s" % timeout)
    return proc.returncode, decode(out), "".join(seen) + decode(err)


def http_status(url, timeout=10):
    """The status of GET ``url`` (redirects followed), or None if the
    connection failed."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


def test_forged_callbacks_get_400_and_the_real_one_still_signs_in(logged_out,
                                                                   fake):
    proc, url, seen = start_login(["--profile", "dev"])
    try:
        params = dict(parse_qsl(urlsplit(url).query))
        callback = params["redirect_uri"]
        forged = [{"code": "forged-code", "state": "wrong-state"},
                  {"code": "forged-code"},
                  {"error": "access_denied", "error_description": ESCAPES,
                   "state": "wrong-state"},
                  {"error": "access_denied", "error_description": ESCAPES}]
        statuses = [http_status(callback + "?" + urlencode(q)) for q in forged]
        assert statuses == [400] * len(forged)
        assert http_status(url) == 200  # the real browser step
        code, out, err = finish(proc, seen)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert code == 0, err
    assert os.path.exists(logged_out.token_path("my-sso"))
    assert not controls(err) and not controls(out)
    assert "forged-code" not in json.dumps([r[4].decode("utf-8", "replace")
                                            for r in fake.requests])


def test_callback_error_description_is_escaped(logged_out, fake):
    proc, url, seen = start_login(["--profile", "dev"])
    try:
        params = dict(parse_qsl(urlsplit(url).query))
        query = {"error": "access_denied", "error_description": ESCAPES,
                 "state": params["state"]}
        http_status(params["redirect_uri"] + "?" + urlencode(query))
        code, out, err = finish(proc, seen)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert code != 0
    assert not controls(err) and not controls(out), err
    assert "Traceback" not in err
    assert not os.path.exists(logged_out.token_path("my-sso"))


def test_an_idle_connection_does_not_stall_the_callback(logged_out, fake):
    proc, url, seen = start_login(["--profile", "dev"])
    idle = None
    try:
        params = dict(parse_qsl(urlsplit(url).query))
        port = urlsplit(params["redirect_uri"]).port
        idle = socket.create_connection(("127.0.0.1", port), timeout=5)
        time.sleep(0.2)  # accepted first, then sends nothing
        started = time.monotonic()
        status = http_status(url, timeout=15)
        took = time.monotonic() - started
        code, out, err = finish(proc, seen)
    finally:
        if idle is not None:
            idle.close()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert status == 200 and code == 0, err
    assert took < 4.5, "an idle connection held the callback for %.1f s" % took


# -- 7. serve --debug: request lines from anyone who can connect ------------


def test_serve_debug_escapes_request_lines(session, fake):
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "ssocreds.py"),
                             "--debug", "serve", "--profile", "dev"], env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        values = {}
        for _ in range(2):
            name, _, value = decode(proc.stdout.readline()).strip().partition("=")
            values[name] = value
        url = urlsplit(values["AWS_CONTAINER_CREDENTIALS_FULL_URI"])
        token = values["AWS_CONTAINER_AUTHORIZATION_TOKEN"].encode()
        esc = ESCAPES.encode("utf-8")
        payloads = [
            b"GET /" + esc + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            b"GET /credentials?" + esc + b" HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: " + token + b"\r\nConnection: close\r\n\r\n",
            b"GET /health HTTP/1.1\r\nHost: " + esc + b"\r\nUser-Agent: " + esc
            + b"\r\nConnection: close\r\n\r\n",
            esc + b"\x1b[2J GARBAGE\r\n\r\n",
            b"\x9b2J\x1b]0;x\x07 / HTTP/1.1\r\n\r\n",
        ]
        for payload in payloads:
            with socket.create_connection((url.hostname, url.port),
                                          timeout=5) as s:
                s.sendall(payload)
                try:
                    while s.recv(65536):
                        pass
                except OSError:
                    pass
        time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
    err = decode(err)
    assert "ssocreds: debug:" in err  # the requests were logged
    assert controls(err) == [], err
    assert token.decode() not in err


# -- 8. secrets in --debug: http.client's header check -----------------------


def test_a_token_file_with_a_line_break_leaks_nothing(legacy, fake):
    legacy.write_token(START_URL, access_token="abc\nSECRETPART1")
    fake.add_token("abc\nSECRETPART1")
    for args in (["export", "--profile", "legacy"],
                 ["--debug", "export", "--profile", "legacy"]):
        run = cli(args)
        assert run.returncode != 0, run
        assert_not_in_output(run, "SECRETPART1", "Invalid header value")
        assert run.err.strip().splitlines()[-1].startswith("ssocreds"), run
        assert "internal error" not in run.err
        assert_no_controls(run)
        if "--debug" not in args:
            assert_one_line_failure(run)
    assert fake.requests == []  # refused before anything was sent


def test_a_token_file_with_a_folded_header_is_refused(legacy, fake):
    # "\n " is legal header folding to http.client: it would be sent
    legacy.write_token(START_URL, access_token="abc\r\n x-injected: SECRETPART4")
    run = cli(["--debug", "export", "--profile", "legacy"])
    assert run.returncode != 0, run
    assert_not_in_output(run, "SECRETPART4")
    assert fake.requests == []


ROLE_CONFIG = """
[profile prod]
role_arn = arn:aws:iam::444455556666:role/Deploy
source_profile = dev
role_session_name = me
region = eu-west-1
"""


@pytest.fixture
def roles(session, fake, monkeypatch):
    with open(session.config, "a") as f:
        f.write(ROLE_CONFIG)
    fake.roles = {"arn:aws:iam::444455556666:role/Deploy": {}}
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", fake.url)
    return session


def test_a_session_token_with_a_line_break_leaks_nothing(roles, fake):
    fake.script("GetRoleCredentials", role_credentials(
        sessionToken="tok\nSECRETPART2"))
    run = cli(["--debug", "export", "--profile", "prod", "--no-cache"])
    assert run.returncode != 0, run
    assert_not_in_output(run, "SECRETPART2", "Invalid header value")
    assert "internal error" not in run.err
    assert_no_controls(run)
    assert "AssumeRole" not in fake.calls


def test_a_refreshed_token_with_a_line_break_is_never_used_or_kept(session,
                                                                   fake):
    document = session.read_token("my-sso")
    document["expiresAt"] = iso(now() - timedelta(minutes=1))
    session.write_token("my-sso", raw=json.dumps(document))
    fake.rewrite("CreateToken", lambda d: dict(d, accessToken="new\nSECRETPART3"))
    run = cli(["--debug", "export", "--profile", "dev"])
    assert run.returncode != 0, run
    assert_not_in_output(run, "SECRETPART3", "Invalid header value")
    assert "internal error" not in run.err
    assert_no_controls(run)
    assert files_containing(session.path, "SECRETPART3") == []
    assert "GetRoleCredentials" not in fake.calls


# -- 9. loopback: only ASCII loopback addresses get plain http ---------------

ARABIC_LOOPBACK = "127.\u0660.\u0660.\u0661"  # 127.٠.٠.١


def test_arabic_indic_digits_are_not_loopback_via_the_cli(session, fake,
                                                         monkeypatch):
    port = urlsplit(fake.url).port
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSO", "http://%s:%d" % (ARABIC_LOOPBACK,
                                                                 port))
    run = cli(["export", "--profile", "dev"], env(AWS_MAX_ATTEMPTS="1"))
    assert run.returncode == 1, run
    assert_one_line_failure(run)
    assert fake.requests == []


def test_arabic_indic_digits_are_refused_before_any_connection(session, fake,
                                                               monkeypatch):
    """As measured: a resolver that maps the name to 127.0.0.1 (emulated
    here) received the bearer token over plain http."""
    real = socket.getaddrinfo

    def resolver(host, *args, **kwargs):
        if isinstance(host, str) and host == ARABIC_LOOPBACK:
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    port = urlsplit(fake.url).port
    with pytest.raises(ssocreds.ConfigError):
        client = ssocreds.PortalClient(
            "us-east-1", endpoint_url="http://%s:%d" % (ARABIC_LOOPBACK, port),
            max_attempts=1)
        client.get_role_credentials(account_id="111122223333",
                                    role_name="ReadOnly",
                                    access_token="session-token")
    assert fake.requests == []


@pytest.mark.parametrize("host", ["127.0.0.\u00b2", "127.0.0.\U0001d7d9",
                                  "\uff11\uff12\uff17.0.0.1"])
def test_odd_digits_in_an_endpoint_are_a_clean_error(session, fake, monkeypatch,
                                                     host):
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSO", "http://%s/" % host)
    run = cli(["export", "--profile", "dev"], env(AWS_MAX_ATTEMPTS="1"))
    assert_one_line_failure(run)
    with pytest.raises(ssocreds.Error):
        ssocreds.PortalClient("us-east-1", endpoint_url="http://%s/" % host,
                              max_attempts=1).get_role_credentials(
            account_id="111122223333", role_name="ReadOnly",
            access_token="session-token")
    assert fake.requests == []


@pytest.mark.parametrize("host", [ARABIC_LOOPBACK, "127.0.0.\u00b2"])
def test_serve_host_uses_the_same_ascii_loopback_check(session, fake, host):
    run = cli(["serve", "--profile", "dev", "--host", host], timeout=LIMIT)
    assert run.returncode in (1, 2), run
    assert run.out == "", run  # no credentials endpoint was announced
    assert_one_line_failure(run)


# -- 10. STS XML: only UTF-8, no DTD or entities -----------------------------


def sts_xml(access_key, prolog="", declaration='<?xml version="1.0"?>',
            key_text=None):
    expires = iso(now() + timedelta(hours=1))
    return (declaration + prolog +
            '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
            "<AssumeRoleResult><AssumedRoleUser><AssumedRoleId>AROA:me"
            "</AssumedRoleId><Arn>arn:aws:sts::444455556666:assumed-role/Deploy/me"
            "</Arn></AssumedRoleUser><Credentials><AccessKeyId>%s</AccessKeyId>"
            "<SecretAccessKey>sts-secret</SecretAccessKey><SessionToken>sts-token"
            "</SessionToken><Expiration>%s</Expiration></Credentials>"
            "</AssumeRoleResult></AssumeRoleResponse>" % (
                key_text or access_key, expires))


ENTITY_DTD = '<!DOCTYPE AssumeRoleResponse [<!ENTITY k "ASIAENTITYEXPANDED1">]>'
HOSTILE_STS_BODIES = [
    ("utf-16 entity", sts_xml("", ENTITY_DTD, '<?xml version="1.0" encoding='
                              '"UTF-16"?>', "&k;").encode("utf-16"),
     "ASIAENTITYEXPANDED1"),
    ("utf-16-be entity", b"\xfe\xff" + sts_xml(
        "", ENTITY_DTD, '<?xml version="1.0" encoding="UTF-16"?>',
        "&k;").encode("utf-16-be"), "ASIAENTITYEXPANDED1"),
    ("utf-16 plain", sts_xml("ASIAUTFSIXTEENKEY01", declaration='<?xml version='
                             '"1.0" encoding="UTF-16"?>').encode("utf-16"),
     "ASIAUTFSIXTEENKEY01"),
    ("declared latin-1", sts_xml("ASIALATINONEKEY0001", declaration='<?xml '
                                 'version="1.0" encoding="ISO-8859-1"?>'
                                 ).encode("latin-1"), "ASIALATINONEKEY0001"),
    ("doctype after 4 KiB", sts_xml(
        "ASIALATEDOCTYPE0001", "<!--" + "x" * 5000 + "-->"
        '<!DOCTYPE AssumeRoleResponse SYSTEM "http://127.0.0.1:9/x.dtd">'
    ).encode("utf-8"), "ASIALATEDOCTYPE0001"),
]


@pytest.mark.parametrize("name, body, planted", HOSTILE_STS_BODIES,
                         ids=[c[0] for c in HOSTILE_STS_BODIES])
def test_sts_bodies_that_are_not_plain_utf8_xml_are_refused(roles, fake, name,
                                                            body, planted):
    fake.script("AssumeRole", fakesso.Response(200, body,
                                               {"Content-Type": "text/xml"}))
    run = cli(["export", "--profile", "prod"], env(AWS_MAX_ATTEMPTS="1"))
    assert_one_line_failure(run)
    assert_not_in_output(run, planted, "sts-secret", "sts-token")
    assert files_containing(roles.path, planted) == []


def test_plain_utf8_sts_answers_still_work(roles, fake):
    fake.script("AssumeRole", fakesso.Response(
        200, sts_xml("ASIAPLAINUTFEIGHT01").encode("utf-8"),
        {"Content-Type": "text/xml"}))
    run = cli(["export", "--profile", "prod"])
    assert run.returncode == 0, run
    assert json.loads(run.out)["AccessKeyId"] == "ASIAPLAINUTFEIGHT01"


# -- 11. symlinks planted by another user ------------------------------------


@pytest.fixture
def sticky(tmp_path):
    """A world-writable sticky directory (like /tmp) and a victim file."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    victims = tmp_path / "victims"
    victims.mkdir()
    victim = victims / "precious"
    victim.write_bytes(b"precious data\n")
    return shared, victim


def plant_link(path, target):
    os.symlink(str(target), str(path))
    os.lchown(str(path), 65534, 65534)


@needs_root
def test_serve_env_file_does_not_follow_another_users_link(session, fake,
                                                           sticky):
    shared, victim = sticky
    link = shared / "env"
    plant_link(link, victim)
    before = snapshot(victim.parent)
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "ssocreds.py"),
                             "serve", "--profile", "dev", "--env-file",
                             str(link)], env=env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and proc.poll() is None:
            if not os.path.islink(str(link)) or snapshot(victim.parent) != before:
                break
            time.sleep(0.05)
        time.sleep(0.2)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    assert snapshot(victim.parent) == before
    assert not controls(decode(err))


@needs_root
def test_write_credentials_does_not_follow_another_users_link(session, fake,
                                                              sticky,
                                                              monkeypatch):
    shared, victim = sticky
    link = shared / "credentials"
    plant_link(link, victim)
    before = snapshot(victim.parent)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(link))
    run = cli(["write-credentials", "--profile", "dev"])
    assert snapshot(victim.parent) == before
    assert_no_controls(run)
    if run.returncode != 0:
        assert_one_line_failure(run)


@needs_root
def test_a_cache_entry_link_of_another_user_is_not_followed(session, fake,
                                                            sticky):
    _shared, victim = sticky
    os.makedirs(session.cli_cache)
    os.chown(session.cli_cache, 65534, 65534)
    plant_link(cli_cache_entry(session), victim)
    before = snapshot(victim.parent)
    run = cli(["export", "--profile", "dev"])
    assert run.returncode == 0, run  # cache trouble never fails an export
    assert snapshot(victim.parent) == before


def test_a_users_own_symlinked_credentials_file_is_updated_at_its_target(
        session, fake, tmp_path):
    dotfiles = os.path.join(session.path, "dotfiles")
    os.mkdir(dotfiles, 0o700)
    os.chmod(session.aws, 0o700)
    target = os.path.join(dotfiles, "aws-credentials")
    with open(target, "w") as f:
        f.write(CREDENTIALS_BEFORE)
    os.symlink(target, session.credentials)
    run = cli(["write-credentials", "--profile", "dev"])
    assert run.returncode == 0, run
    assert os.path.islink(session.credentials)
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(target)
    assert sorted(parser.sections()) == ["dev", "other"]
    assert parser["dev"]["aws_access_key_id"].startswith("ASIAFAKE")


# -- 12. FIFOs and other non-regular files never block -----------------------


@pytest.mark.parametrize("make", [os.mkfifo, os.mkdir], ids=["fifo", "directory"])
def test_a_non_regular_token_file_is_an_error_naming_it(session, fake, make):
    path = session.token_path("my-sso")
    os.remove(path)
    make(path)
    run = cli(["export", "--profile", "dev"], timeout=FIFO_LIMIT)
    assert_one_line_failure(run)
    assert path in run.err


def test_a_fifo_legacy_token_file_is_an_error_naming_it(legacy, fake):
    path = legacy.token_path(START_URL)
    os.remove(path)
    os.mkfifo(path)
    run = cli(["status", "--profile", "legacy"], timeout=FIFO_LIMIT)
    assert run.returncode != 0, run
    assert_no_controls(run)


def test_a_fifo_cache_entry_is_ignored(session, fake):
    os.makedirs(session.cli_cache, 0o700)
    os.mkfifo(cli_cache_entry(session))
    run = cli(["export", "--profile", "dev"], timeout=FIFO_LIMIT)
    assert run.returncode == 0, run
    assert json.loads(run.out)["AccessKeyId"].startswith("ASIAFAKE")


def test_a_fifo_credentials_file_is_refused(session, fake, tmp_path,
                                            monkeypatch):
    path = str(tmp_path / "credentials-fifo")
    os.mkfifo(path)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", path)
    run = cli(["write-credentials", "--profile", "dev"], timeout=FIFO_LIMIT)
    assert_one_line_failure(run)
    assert path in run.err
    assert stat.S_ISFIFO(os.lstat(path).st_mode)


def test_a_fifo_config_file_is_refused(session, fake, tmp_path, monkeypatch):
    path = str(tmp_path / "config-fifo")
    os.mkfifo(path)
    monkeypatch.setenv("AWS_CONFIG_FILE", path)
    run = cli(["export", "--profile", "dev"], timeout=FIFO_LIMIT)
    assert_one_line_failure(run)
    assert path in run.err


def test_a_fifo_serve_token_file_is_refused(session, fake, tmp_path):
    path = str(tmp_path / "token-fifo")
    os.mkfifo(path)
    run = cli(["serve", "--profile", "dev", "--token-file", path],
              timeout=FIFO_LIMIT)
    assert_one_line_failure(run)
    assert path in run.err


# -- 13. property tests: arbitrary service strings through the boundary -----


def has_control_or_break(text):
    return any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in text)


if given is not None:
    HOSTILE_TEXT = [ESCAPES, "\n[default]\ncredential_process = /bin/sh",
                    "\r\n x-injected: 1", "\x00", "\u2028", "\u0085", " ", "",
                    "-" * 9, "\x1b[2J", "]\n[profile x]", "\u202e", "\t"]
    VALID_PARTS = ["ASIAVALIDKEY00001", "valid-secret", "111122223333", "dev",
                   "ReadOnly"]
    service_text = st.one_of(
        st.text(max_size=300),
        st.sampled_from(HOSTILE_TEXT),
        st.builds(lambda v, h, w: v + h + w, st.sampled_from(VALID_PARTS),
                  st.sampled_from(HOSTILE_TEXT), st.sampled_from(VALID_PARTS)))


@pytest.fixture(scope="module")
def prop_world(tmp_path_factory):
    """One fake and a valid legacy token file for the property tests
    (module-scoped: hypothesis reruns the test body many times)."""
    directory = tmp_path_factory.mktemp("prop")
    token_path = str(directory / "token.json")
    with open(token_path, "w") as f:
        json.dump({"startUrl": START_URL, "region": "us-east-1",
                   "accessToken": "prop-token",
                   "expiresAt": iso(now() + timedelta(days=1))}, f)
    with fakesso.FakeIdentityCenter() as fake:
        fake.add_token("prop-token")
        fake.rotate_refresh_tokens = False
        yield fake, token_path, str(directory)


def portal(fake):
    return ssocreds.PortalClient("us-east-1", endpoint_url=fake.url,
                                 max_attempts=1, retry_base_delay=0.001)


def assert_clean_error(exc, value):
    text = str(exc)
    assert not has_control_or_break(text), text
    if isinstance(value, str) and len(value) > 8:
        assert value not in text, text


def retrieve_or_refuse(prop_world, value, **fields):
    """Credentials from a portal answering roleCredentials with ``fields``
    changed, or None after checking that the refusal is clean."""
    fake, token_path, _ = prop_world
    fake.clear_script()
    fake.script("GetRoleCredentials", role_credentials(**fields))
    provider = ssocreds.Provider(portal(fake), "111122223333", "ReadOnly",
                                 None, cached_token_filepath=token_path)
    try:
        return provider.retrieve()
    except ssocreds.Error as exc:
        assert_clean_error(exc, value)
        return None


if given is not None:
    @needs_hypothesis
    @settings(max_examples=60, deadline=None)
    @given(st.sampled_from(["accessKeyId", "secretAccessKey", "sessionToken"]),
           service_text)
    def test_any_credential_string_is_valid_or_refused_cleanly(prop_world,
                                                               field, value):
        creds = retrieve_or_refuse(prop_world, value, **{field: value})
        if creds is None:
            return
        assert re.fullmatch(r"[A-Z0-9]{16,128}", creds.access_key_id)
        for secret in (creds.secret_access_key, creds.session_token):
            assert re.fullmatch(r"[\x21-\x7e]+", secret), repr(secret)
        assert isinstance(creds.expires, datetime) and creds.expires.tzinfo

    @needs_hypothesis
    @settings(max_examples=40, deadline=None)
    @given(st.one_of(st.integers(), st.floats(), st.text(max_size=40),
                     st.none(), st.booleans()))
    def test_any_expiration_is_a_real_time_or_refused(prop_world, value):
        creds = retrieve_or_refuse(prop_world, value, expiration=value)
        if creds is None:
            return
        assert isinstance(creds.expires, datetime)
        assert creds.expires.utcoffset() == timedelta(0)

    @needs_hypothesis
    @settings(max_examples=60, deadline=None)
    @given(st.sampled_from(["accountId", "accountName", "emailAddress"]),
           service_text)
    def test_any_account_string_is_valid_or_refused_cleanly(prop_world, field,
                                                            value):
        fake, _, _ = prop_world
        fake.clear_script()
        account = {"accountId": "111122223333", "accountName": "dev",
                   "emailAddress": "dev@example.com"}
        account[field] = value
        fake.script("ListAccounts", fakesso.Response(200, {
            "accountList": [account, {"accountId": "444455556666",
                                      "accountName": "prod",
                                      "emailAddress": "p@example.com"}]}))
        try:
            accounts = portal(fake).list_accounts(access_token="prop-token")
        except ssocreds.Error as exc:
            assert_clean_error(exc, value)
            return
        for item in accounts:
            if "accountId" in item:
                assert re.fullmatch(r"[0-9]{12}", item["accountId"]), item
            for key in ("accountName", "emailAddress"):
                if isinstance(item.get(key), str):
                    assert not has_control_or_break(item[key]), item

    @needs_hypothesis
    @settings(max_examples=60, deadline=None)
    @given(st.sampled_from(["roleName", "accountId", "nextToken"]), service_text)
    def test_any_role_string_is_valid_or_refused_cleanly(prop_world, field,
                                                         value):
        fake, _, _ = prop_world
        fake.clear_script()
        role = {"roleName": "ReadOnly", "accountId": "111122223333"}
        first = {"roleList": [role]}
        if field == "nextToken":
            first["nextToken"] = value
        else:
            role[field] = value
        fake.script("ListAccountRoles", fakesso.Response(200, first),
                    fakesso.Response(200, {"roleList": [
                        {"roleName": "Admin", "accountId": "111122223333"}]}))
        try:
            roles = portal(fake).list_account_roles(account_id="111122223333",
                                                    access_token="prop-token")
        except ssocreds.Error as exc:
            assert_clean_error(exc, value)
            return
        for item in roles:
            if "roleName" in item:
                assert IAM_ROLE.fullmatch(item["roleName"]), item
            if "accountId" in item:
                assert re.fullmatch(r"[0-9]{12}", item["accountId"]), item
        for target in fake.targets[-2:]:
            assert not controls(target) and " " not in target

    @needs_hypothesis
    @settings(max_examples=40, deadline=None)
    @given(service_text)
    def test_any_token_file_value_is_used_or_refused_cleanly(prop_world, value):
        fake, _, directory = prop_world
        fake.clear_script()
        path = os.path.join(directory, "legacy-token.json")
        with open(path, "w") as f:
            json.dump({"startUrl": START_URL, "region": "us-east-1",
                       "accessToken": value,
                       "expiresAt": iso(now() + timedelta(hours=1))}, f)
        fake.add_token(value)
        provider = ssocreds.Provider(portal(fake), "111122223333", "ReadOnly",
                                     None, cached_token_filepath=path)
        try:
            provider.retrieve()  # never ValueError/UnicodeEncodeError
        except ssocreds.Error as exc:
            assert_clean_error(exc, value)
            return
        assert value and not has_control_or_break(value) and value.isprintable()

    @needs_hypothesis
    @settings(max_examples=40, deadline=None)
    @given(service_text)
    def test_any_refreshed_token_is_valid_or_refused_cleanly(prop_world, value):
        fake, _, directory = prop_world
        fake.clear_script()
        path = os.path.join(directory, "session-token.json")
        fake.add_refresh_token("prop-rt", "prop-client", "prop-secret")
        with open(path, "w") as f:
            json.dump({"startUrl": START_URL, "region": "us-east-1",
                       "accessToken": "old-token",
                       "expiresAt": iso(now() - timedelta(minutes=1)),
                       "clientId": "prop-client", "clientSecret": "prop-secret",
                       "refreshToken": "prop-rt",
                       "registrationExpiresAt": iso(now() + timedelta(days=9))},
                      f)
        fake.rewrite("CreateToken", lambda d: dict(d, accessToken=value))
        try:
            oidc = ssocreds.OIDCClient("us-east-1", endpoint_url=fake.url,
                                       max_attempts=1, retry_base_delay=0.001)
            provider = ssocreds.SSOTokenProvider(oidc, path)
            try:
                token = provider.retrieve_bearer_token()
            except ssocreds.Error as exc:
                assert_clean_error(exc, value)
                with open(path) as f:
                    kept = json.load(f)["accessToken"]
                assert kept == "old-token" or not has_control_or_break(kept)
                return
        finally:
            fake.rewrite("CreateToken", None)
        assert token.value and not has_control_or_break(token.value)
        assert token.value.isprintable()
        token.value.encode("latin-1")  # it is sent as an HTTP header
        with open(path) as f:
            assert not has_control_or_break(json.load(f)["accessToken"])
