"""Shared fixtures: a throwaway HOME, the fake Identity Center, a clock.

Every test runs with HOME (and USERPROFILE, AWS_CONFIG_FILE and
AWS_SHARED_CREDENTIALS_FILE) in a fresh temporary directory and no other
AWS_* variable, whether it asks for ``home`` or not; and the run fails if
anything under the real ``~/.aws`` (the user database's home) was created,
deleted or modified while it ran.
"""

import hashlib
import json
import os
import stat
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

import fakesso
import ssocreds

HERE = os.path.dirname(os.path.abspath(__file__))
UTC = timezone.utc
START_URL = "https://d-1234567890.awsapps.com/start"


def iso(dt):
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now():
    return datetime.now(UTC)


class Home(object):
    """A temporary HOME with ~/.aws; helpers write config and token files."""

    def __init__(self, path):
        self.path = str(path)
        self.aws = os.path.join(self.path, ".aws")
        self.cache = os.path.join(self.aws, "sso", "cache")
        self.cli_cache = os.path.join(self.aws, "cli", "cache")
        self.config = os.path.join(self.aws, "config")
        self.credentials = os.path.join(self.aws, "credentials")
        os.makedirs(self.cache, mode=0o700)

    def write_config(self, text):
        with open(self.config, "w") as f:
            f.write(text)

    def token_path(self, key):
        return os.path.join(self.cache,
                            hashlib.sha1(key.encode("utf-8")).hexdigest() + ".json")

    def write_token(self, key, access_token="access-token", expires_in=3600,
                    raw=None, **fields):
        path = self.token_path(key)
        if raw is None:
            document = {"startUrl": START_URL, "region": "us-east-1",
                        "accessToken": access_token,
                        "expiresAt": iso(now() + timedelta(seconds=expires_in))}
            document.update(fields)
            raw = json.dumps(document)
        with open(path, "wb") as f:
            f.write(raw.encode("utf-8") if isinstance(raw, str) else raw)
        return path

    def read_token(self, key):
        with open(self.token_path(key)) as f:
            return json.load(f)


LEGACY_CONFIG = """\
[profile legacy]
sso_start_url = {start_url}
sso_region = us-east-1
sso_account_id = 111122223333
sso_role_name = ReadOnly
region = eu-west-1
"""

SESSION_CONFIG = """\
[profile dev]
sso_session = my-sso
sso_account_id = 111122223333
sso_role_name = ReadOnly
region = eu-west-1

[sso-session my-sso]
sso_start_url = {start_url}
sso_region = us-east-1
sso_registration_scopes = sso:account:access
"""


# -- The real home stays untouched ---------------------------------------------

def _real_aws_dir():
    """The real ~/.aws: in the user database's home, whatever HOME says."""
    try:
        import pwd
    except ImportError:  # Windows: no user database
        home = os.environ.get("USERPROFILE") or os.path.expanduser("~")
    else:
        try:
            home = pwd.getpwuid(os.getuid()).pw_dir
        except KeyError:
            return None
    return os.path.join(home, ".aws") if home and os.path.isabs(home) else None


def _fingerprint(top):
    """{relative path: (type, size, mtime, inode)} of ``top`` and all under
    it; None when ``top`` does not exist."""
    def entry(path):
        st = os.lstat(path)
        return (stat.S_IFMT(st.st_mode), st.st_size, st.st_mtime_ns, st.st_ino)

    if top is None or not os.path.lexists(top):
        return None
    found = {".": entry(top)}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            try:
                found[os.path.relpath(path, top)] = entry(path)
            except OSError:  # gone while we looked: the next look tells
                pass
    return found


def _changes(before, after):
    if before is None and after is None:
        return []
    before, after = before or {}, after or {}
    return (["created: " + p for p in sorted(set(after) - set(before))]
            + ["deleted: " + p for p in sorted(set(before) - set(after))]
            + ["modified: " + p for p in sorted(set(before) & set(after))
               if before[p] != after[p]])


_REAL_AWS = {"path": None, "before": None, "reported": False}


def _real_aws_report():
    """The changes under the real ~/.aws since the session started, as one
    message; "" when there are none."""
    path = _REAL_AWS["path"]
    changes = _changes(_REAL_AWS["before"], _fingerprint(path))
    if not changes:
        return ""
    return ("the test run touched the real %s (tests must use the temporary "
            "HOME; if you changed it yourself meanwhile, run again):\n  %s"
            % (path, "\n  ".join(changes[:50])))


def pytest_sessionstart(session):
    _REAL_AWS["path"] = _real_aws_dir()
    _REAL_AWS["before"] = _fingerprint(_REAL_AWS["path"])


@pytest.fixture(scope="session", autouse=True)
def real_home_untouched():
    """Fails the last test's teardown (so the run) if the real ~/.aws
    changed."""
    yield
    message = _real_aws_report()
    if message:
        _REAL_AWS["reported"] = True
        pytest.fail(message, pytrace=False)


def pytest_sessionfinish(session, exitstatus):
    # for what the fixture above cannot see: a run without tests, collection
    message = "" if _REAL_AWS["reported"] else _real_aws_report()
    if message:
        sys.stderr.write("\nERROR: %s\n" % message)
        if session.exitstatus in (0, 5):  # passed, or no tests collected
            session.exitstatus = 1


# -- A throwaway HOME ----------------------------------------------------------

@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch):
    """For every test: HOME, USERPROFILE, AWS_CONFIG_FILE and
    AWS_SHARED_CREDENTIALS_FILE in a fresh empty directory (not tmp_path, so
    tests own theirs); every other AWS_* and proxy variable cleared.  Returns
    the directory's path (a str).  Tests may still unset or change them."""
    for name in list(os.environ):
        if name.startswith("AWS_") or name.lower() in (
                "http_proxy", "https_proxy", "all_proxy", "no_proxy"):
            monkeypatch.delenv(name)
    path = str(tmp_path_factory.mktemp("home"))
    aws = os.path.join(path, ".aws")
    monkeypatch.setenv("HOME", path)
    monkeypatch.setenv("USERPROFILE", path)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.path.join(aws, "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE",
                       os.path.join(aws, "credentials"))
    return path


@pytest.fixture
def home(isolated_home):
    """The isolated HOME with ~/.aws/sso/cache made: a Home."""
    return Home(isolated_home)


@pytest.fixture
def fake(home, monkeypatch):
    """The fake Identity Center, wired in through AWS_ENDPOINT_URL_SSO(_OIDC)."""
    with fakesso.FakeIdentityCenter() as service:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SSO", service.url)
        monkeypatch.setenv("AWS_ENDPOINT_URL_SSO_OIDC", service.url)
        yield service


@pytest.fixture
def legacy(home, fake):
    """A logged-in legacy profile "legacy"."""
    home.write_config(LEGACY_CONFIG.format(start_url=START_URL))
    home.write_token(START_URL, access_token="legacy-token")
    fake.add_token("legacy-token")
    return home


@pytest.fixture
def session(home, fake):
    """A logged-in sso-session profile "dev" with a refreshable token."""
    home.write_config(SESSION_CONFIG.format(start_url=START_URL))
    home.write_token("my-sso", access_token="session-token",
                     clientId="cid", clientSecret="csecret",
                     refreshToken="rt-1",
                     registrationExpiresAt=iso(now() + timedelta(days=80)))
    fake.add_token("session-token")
    fake.add_refresh_token("rt-1", "cid", "csecret")
    return home


class Clock(object):
    def __init__(self):
        self.now = None

    def set(self, value):
        self.now = value


@pytest.fixture
def clock(monkeypatch):
    """Freeze ssocreds' clock: clock.set(datetime)."""
    c = Clock()
    monkeypatch.setattr(ssocreds, "_utcnow", lambda: c.now)
    return c


def run_cli(args, env=None, input=None, timeout=60):
    """Run the real CLI in a subprocess; return CompletedProcess (text).

    With -S: the CLI needs nothing from site-packages (this also proves it),
    and site hooks of the host would only slow each run down.
    """
    return subprocess.run([sys.executable, "-S", os.path.join(HERE, "ssocreds.py")]
                          + list(args), env=env, input=input,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=timeout)


def run_python(code, *args, env=None, cwd=None, timeout=60):
    """Run ``python -c code args...``; return CompletedProcess (text)."""
    return subprocess.run([sys.executable, "-c", code] + list(args), env=env,
                          cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=timeout)


def run_herd(args, env, count=16):
    """Start ``count`` CLI processes at once; assert every one succeeded;
    return their outputs as (stdout, stderr) pairs."""
    cmd = [sys.executable, os.path.join(HERE, "ssocreds.py")] + list(args)
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True)
             for _ in range(count)]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0] * count, outputs
    return outputs


def importable(module):
    """Whether an optional third-party judge (botocore, awscli, moto) loads."""
    try:
        __import__(module)
    except Exception:  # moto can fail in other ways than ImportError
        return False
    return True


def botocore_available():
    return importable("botocore")
