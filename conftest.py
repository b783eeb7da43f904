"""Shared fixtures: a throwaway HOME, the fake Identity Center, a clock."""

import hashlib
import json
import os
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


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An isolated HOME; AWS and proxy variables cleared."""
    for name in list(os.environ):
        if name.startswith("AWS_") or name.lower() in (
                "http_proxy", "https_proxy", "all_proxy", "no_proxy"):
            monkeypatch.delenv(name)
    h = Home(tmp_path / "home")
    monkeypatch.setenv("HOME", h.path)
    monkeypatch.setenv("USERPROFILE", h.path)
    monkeypatch.setenv("AWS_CONFIG_FILE", h.config)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", h.credentials)
    return h


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
