"""Hardening specs (issue 8): faults, hostile input, crashes, concurrency and
secrets.  Every fault is driven through the real CLI against the fake
Identity Center and must end in bounded time with one clear line."""

import json
import logging
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

import fakesso
import ssocreds as mod
from conftest import (HERE, SESSION_CONFIG, START_URL, iso, now, run_cli,
                      run_herd, run_python)

try:
    from hypothesis import given, settings, strategies as st
except ImportError:  # hypothesis is a test-only extra
    given = None

needs_hypothesis = pytest.mark.skipif(given is None,
                                      reason="hypothesis not installed")


def env(**extra):
    e = dict(os.environ)
    e.update(extra)
    return e


def one_error_line(result, code=1):
    assert result.returncode == code, (result.returncode, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ssocreds: "), result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    return lines[0]


def timed_cli(args, limit, environ=None):
    started = time.monotonic()
    result = run_cli(args, environ or env(), timeout=limit + 30)
    assert time.monotonic() - started < limit, "took too long"
    return result


# -- Faults through the CLI --------------------------------------------------


def test_server_error_then_success(session, fake):
    fake.fail("GetRoleCredentials", 500, "InternalServerException")
    fake.fail("GetRoleCredentials", 503, "ServiceUnavailableException")
    result = timed_cli(["export", "--profile", "dev"], 10,
                       env(AWS_NEW_RETRIES_2026="true"))
    assert result.returncode == 0, result.stderr
    assert fake.calls["GetRoleCredentials"] == 3


@pytest.mark.parametrize("headers", [{}, {"Retry-After": "1"},
                                     {"x-amz-retry-after": "300"}])
def test_throttling_with_and_without_retry_after(session, fake, headers):
    fake.fail("GetRoleCredentials", 429, "TooManyRequestsException",
              headers=headers)
    result = timed_cli(["export", "--profile", "dev"], 10)
    assert result.returncode == 0, result.stderr
    assert fake.calls["GetRoleCredentials"] == 2


def test_new_retries_shorten_only_non_throttling_waits(monkeypatch):
    monkeypatch.setenv("AWS_NEW_RETRIES_2026", "true")
    http = mod.PortalClient("us-east-1", endpoint_url="http://127.0.0.1:1",
                            retry_base_delay=1.0)._http
    assert max(http._backoff(2, None, throttled=False) for _ in range(50)) < 0.1
    assert max(http._backoff(2, None, throttled=True) for _ in range(50)) > 0.1


def test_retry_after_is_honoured_but_bounded():
    http = mod.PortalClient("us-east-1", endpoint_url="http://127.0.0.1:1",
                            retry_base_delay=0.001)._http
    assert 0.3 <= http._backoff(1, {"x-amz-retry-after": "300"}) <= 0.302
    assert http._backoff(1, {"Retry-After": "3600"}) <= 5.002
    assert http._backoff(1, {"Retry-After": "soon"}) <= 0.001


def test_throttling_beyond_the_attempt_limit(session, fake):
    fake.fail("GetRoleCredentials", 429, "TooManyRequestsException", times=5)
    result = timed_cli(["export", "--profile", "dev"], 15,
                       env(AWS_MAX_ATTEMPTS="2"))
    line = one_error_line(result)
    assert "TooManyRequestsException (HTTP 429)" in line
    assert fake.calls["GetRoleCredentials"] == 2


def test_slow_portal_past_the_read_timeout(session, fake):
    fake.delays["GetRoleCredentials"] = 3
    result = timed_cli(["--read-timeout", "0.3", "export", "--profile", "dev"], 8,
                       env(AWS_MAX_ATTEMPTS="2", AWS_NEW_RETRIES_2026="true"))
    assert "timed out talking to 127.0.0.1" in one_error_line(result)


def test_connection_reset_mid_body(session, fake):
    body = json.dumps({"roleCredentials": {"accessKeyId": "A" * 200}})
    for _ in range(3):
        fake.script("GetRoleCredentials", fakesso.Response(200, body,
                                                           truncate_at=20))
    result = timed_cli(["export", "--profile", "dev"], 10,
                       env(AWS_NEW_RETRIES_2026="true"))
    line = one_error_line(result)
    assert "GetRoleCredentials failed" in line and "IncompleteRead" in line
    assert fake.calls["GetRoleCredentials"] == 3  # retried like a reset


@pytest.mark.parametrize("body, content_type", [
    (b"", "application/json"), (b'{"roleCredentials": {"accessKey', "application/json"),
    (b"<html>maintenance</html>", "text/html"), (b"[]", "application/json"),
    (b'{"roleCredentials": {"accessKeyId": 1}}', "application/json"),
    (b'{"roleCredentials": []}', "text/plain")])
def test_malformed_bodies(session, fake, body, content_type):
    fake.script("GetRoleCredentials", fakesso.Response(
        200, body, {"Content-Type": content_type}))
    line = one_error_line(timed_cli(["export", "--profile", "dev"], 10))
    assert "InvalidResponse" in line


def test_a_fifty_megabyte_body_is_cut_off(session, fake):
    fake.script("GetRoleCredentials", fakesso.Response(200, b"{" + b" " * (50 << 20)))
    line = one_error_line(timed_cli(["export", "--profile", "dev"], 15))
    assert "larger than 1048576 bytes" in line


def test_redirects_are_not_followed_by_the_cli(session, fake):
    with fakesso.FakeIdentityCenter() as other:
        fake.script("GetRoleCredentials", fakesso.Response(
            307, b"", {"Location": other.url + "/federation/credentials"}))
        line = one_error_line(timed_cli(["export", "--profile", "dev"], 10))
        assert "HTTP 307" in line
        assert other.requests == []


def test_oidc_faults_during_refresh_are_one_line(session, fake):
    document = session.read_token("my-sso")
    document["expiresAt"] = iso(now() - timedelta(minutes=1))
    session.write_token("my-sso", raw=json.dumps(document))
    fake.script("CreateToken", *[fakesso.Response(200, b"not json")] * 3)
    line = one_error_line(timed_cli(["export", "--profile", "dev"], 10))
    assert "CreateToken" in line and "ssocreds login --profile dev" in line


# -- TLS ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory):
    """A throwaway CA and a server certificate for 127.0.0.1, via openssl."""
    if not shutil.which("openssl"):
        pytest.skip("openssl not installed")
    d = tmp_path_factory.mktemp("ca")

    def ssl(*args):
        subprocess.run(["openssl"] + list(args), cwd=str(d), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    ssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj",
        "/CN=ssocreds test CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    ssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj",
        "/CN=127.0.0.1")
    (d / "ext.cnf").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n")
    ssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile",
        "ext.cnf")
    return {"ca": str(d / "ca.pem"), "cert": str(d / "server.pem"),
            "key": str(d / "server.key")}


@pytest.fixture
def tls_fake(session, test_ca, monkeypatch):
    with fakesso.FakeIdentityCenter(tls=(test_ca["cert"], test_ca["key"])) as f:
        f.add_token("session-token")
        monkeypatch.setenv("AWS_ENDPOINT_URL_SSO", f.url)
        yield f


def test_untrusted_certificate_fails_clearly(tls_fake):
    line = one_error_line(timed_cli(["export", "--profile", "dev"], 10))
    assert "TLS certificate verification failed for 127.0.0.1" in line
    assert "AWS_CA_BUNDLE" in line
    assert tls_fake.calls == {}


def test_aws_ca_bundle_makes_it_trusted(tls_fake, test_ca):
    result = timed_cli(["export", "--profile", "dev"], 10,
                       env(AWS_CA_BUNDLE=test_ca["ca"]))
    assert result.returncode == 0, result.stderr
    assert tls_fake.calls["GetRoleCredentials"] == 1


def test_ca_bundle_from_the_profile(tls_fake, test_ca, session):
    with open(session.config) as f:
        text = f.read()
    session.write_config(text.replace("region = eu-west-1", "region = eu-west-1\n"
                                      "ca_bundle = " + test_ca["ca"], 1))
    assert timed_cli(["export", "--profile", "dev"], 10).returncode == 0


# -- Property tests ----------------------------------------------------------

if given is not None:
    aware = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(
        9999, 12, 30), timezones=st.just(timezone.utc))

    @needs_hypothesis
    @settings(max_examples=300, deadline=None)
    @given(aware)
    def test_every_timestamp_we_write_parses_back(value):
        text = mod._format_timestamp(value)
        assert mod._parse_timestamp(text) == value.replace(microsecond=0)

    @needs_hypothesis
    @settings(max_examples=300, deadline=None)
    @given(aware, st.integers(-23 * 60 - 59, 23 * 60 + 59), st.integers(0, 999999))
    def test_offsets_and_fractions_parse_to_the_same_instant(value, minutes, micro):
        value = value.replace(microsecond=micro)
        zone = timezone(timedelta(minutes=minutes))
        try:
            local = value.astimezone(zone)
        except OverflowError:
            return
        text = local.isoformat()
        assert mod._parse_timestamp(text) == value

    @needs_hypothesis
    @settings(max_examples=500, deadline=None)
    @given(st.text())
    def test_any_string_parses_or_raises_our_error(text):
        try:
            result = mod._parse_timestamp(text)
        except mod.Error:
            return
        assert result.utcoffset() == timedelta(0)

    @needs_hypothesis
    @settings(max_examples=200, deadline=None)
    @given(st.binary(max_size=300) | st.builds(
        lambda d: json.dumps(d).encode(), st.dictionaries(
            st.sampled_from(["accessToken", "expiresAt", "x"]),
            st.one_of(st.none(), st.integers(), st.text(max_size=30),
                      st.just("2099-01-01T00:00:00Z")))))
    def test_any_token_file_loads_or_raises_invalid_token(tmp_path_factory, data):
        path = str(tmp_path_factory.mktemp("tok") / "t.json")
        with open(path, "wb") as f:
            f.write(data)
        try:
            cached = mod._load_token(path)
        except mod.InvalidTokenError as exc:
            assert path in str(exc)
            return
        assert isinstance(cached.token.value, str) and cached.token.value

    @needs_hypothesis
    @settings(max_examples=300, deadline=None)
    @given(st.text())
    def test_any_config_text_parses_or_raises_config_error(text):
        try:
            config = mod._parse_config(text, "/c")
        except mod.ConfigError as exc:
            assert "/c line " in str(exc)
            return
        assert set(config) == {"profiles", "sso_sessions", "services"}

    @needs_hypothesis
    @settings(max_examples=200, deadline=None)
    @given(st.text(alphabet=st.characters(blacklist_categories=("Cs",),
                                          blacklist_characters="\x00")))
    def test_json_decoder_agrees_with_json_on_strings(text):
        encoded = json.dumps({"k": text})
        assert mod._json_loads(encoded) == {"k": text}

    shell_values = st.text(alphabet=st.characters(
        blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)

    def creds_with(value):
        return mod.Credentials(value, value + "s", value + "t",
                               datetime(2030, 1, 1, tzinfo=timezone.utc),
                               account_id="1")

    @needs_hypothesis
    @settings(max_examples=60, deadline=None)
    @given(shell_values)
    def test_env_format_round_trips_through_sh(value):
        script = mod._format_credentials(creds_with(value), "env") + \
            'printf "%s\\0%s\\0" "$AWS_ACCESS_KEY_ID" "$AWS_SESSION_TOKEN"'
        out = subprocess.run(["sh", "-c", script], stdout=subprocess.PIPE).stdout
        assert out.decode("utf-8", "surrogateescape").split("\0")[:2] == [
            value, value + "t"]

    @needs_hypothesis
    @pytest.mark.skipif(not shutil.which("fish"), reason="fish not installed")
    @settings(max_examples=30, deadline=None)
    @given(shell_values)
    def test_fish_format_round_trips(value):
        script = mod._format_credentials(creds_with(value), "fish") + \
            "printf '%s' $AWS_ACCESS_KEY_ID"
        out = subprocess.run(["fish", "-c", script], stdout=subprocess.PIPE).stdout
        assert out.decode() == value

    @needs_hypothesis
    @pytest.mark.skipif(not shutil.which("pwsh"), reason="pwsh not installed")
    @settings(max_examples=20, deadline=None)
    @given(shell_values)
    def test_powershell_format_round_trips(value):
        script = mod._format_credentials(creds_with(value), "powershell") + \
            "[Console]::Out.Write($Env:AWS_ACCESS_KEY_ID)"
        out = subprocess.run(["pwsh", "-NoProfile", "-Command", script],
                             stdout=subprocess.PIPE).stdout
        assert out.decode() == value


# -- Odd files and environments ----------------------------------------------


def test_cache_dir_that_is_read_only(session, fake):
    os.makedirs(session.cli_cache)
    os.chmod(session.cli_cache, 0o500)
    try:
        result = run_cli(["export", "--profile", "dev"], env())
    finally:
        os.chmod(session.cli_cache, 0o700)
    assert result.returncode == 0 and result.stderr == ""


def test_cache_dir_owned_by_someone_else(session, fake):
    if os.geteuid() != 0:
        pytest.skip("needs root to chown")
    os.makedirs(session.cli_cache)
    os.chown(session.cli_cache, 65534, 65534)
    result = run_cli(["export", "--profile", "dev"], env())
    assert result.returncode == 0 and result.stderr == ""


# The child's user database answers a throwaway home: run for real, the CLI
# would take a lock under the real ~/.aws/cli/cache (conftest fails the run).
USER_DATABASE_HOME = """
import os, pwd, sys
entry = pwd.getpwuid(os.getuid())
pwd.getpwuid = lambda uid: pwd.struct_passwd(entry[:5] + (sys.argv[1],)
                                             + entry[6:])
import ssocreds
sys.exit(ssocreds.main(sys.argv[2:]))
"""


def test_home_unset_uses_the_user_database(session, fake, tmp_path):
    e = env()
    del e["HOME"]
    user_home = str(tmp_path / "from-the-user-database")
    result = run_python(USER_DATABASE_HOME, user_home, "export", "--profile",
                        "dev", env=e, cwd=HERE)
    # that home has no token for the profile: a clear error naming its
    # token file, no crash, and nothing left behind there
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert os.path.join(user_home, ".aws", "sso", "cache") in result.stderr
    assert not os.path.exists(user_home)


@pytest.mark.parametrize("name", ["my profile", "it's", "dév-☃", 'say "hi"'])
def test_odd_profile_names(home, fake, name):
    quoted = "'%s'" % name if "'" not in name else '"%s"' % name.replace('"', '\\"')
    home.write_config("[profile %s]\nsso_start_url = %s\nsso_region = us-east-1\n"
                      "sso_account_id = 111122223333\nsso_role_name = ReadOnly\n"
                      % (quoted, START_URL))
    result = run_cli(["export", "--profile", name], env())
    line = one_error_line(result)
    assert 'profile "%s"' % name in line
    assert "--profile " + mod._shell_quote(name) in line
    home.write_token(START_URL, access_token="odd")
    fake.add_token("odd")
    assert run_cli(["export", "--profile", name], env()).returncode == 0


def test_non_utf8_config(home, fake):
    with open(home.config, "wb") as f:
        f.write(b"[profile dev]\nsso_start_url = \xff\n")
    assert "not valid UTF-8" in one_error_line(
        run_cli(["export", "--profile", "dev"], env()))


# -- Crashes and concurrency -------------------------------------------------

KILL_DURING_WRITE = """
import os, sys, time
sys.path.insert(0, %r)
import ssocreds
real_fsync = os.fsync
def slow_fsync(fd):
    sys.stderr.write("writing\\n"); sys.stderr.flush()
    time.sleep(30)
    real_fsync(fd)
ssocreds.os.fsync = slow_fsync
sys.exit(ssocreds.main(sys.argv[1:]))
"""


def kill_during_write(args):
    proc = subprocess.Popen([sys.executable, "-c", KILL_DURING_WRITE % HERE] + args,
                            env=env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, universal_newlines=True)
    assert proc.stderr.readline().strip() == "writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)


def test_sigkill_during_a_cache_write_leaves_no_truncated_file(session, fake):
    run_cli(["export", "--profile", "dev"], env())
    entry = [os.path.join(session.cli_cache, n) for n in os.listdir(
        session.cli_cache) if n.endswith(".json")][0]
    with open(entry, "rb") as f:
        before = f.read()
    os.utime(entry)
    with open(entry) as f:  # make it stale so the next run rewrites it
        document = json.load(f)
    document["Credentials"]["Expiration"] = iso(now() + timedelta(minutes=5))
    with open(entry, "w") as f:
        json.dump(document, f)
    with open(entry, "rb") as f:
        stale = f.read()
    kill_during_write(["export", "--profile", "dev"])
    with open(entry, "rb") as f:
        assert f.read() == stale  # untouched: the write went to a temp file
    assert before != stale
    result = run_cli(["export", "--profile", "dev"], env())  # recovers
    assert result.returncode == 0, result.stderr
    with open(entry) as f:
        assert json.load(f)["Credentials"]["Expiration"] == json.loads(
            result.stdout)["Expiration"]


def test_sigkill_during_a_token_refresh_keeps_the_old_token(session, fake):
    document = session.read_token("my-sso")
    document["expiresAt"] = iso(now() + timedelta(minutes=5))
    session.write_token("my-sso", raw=json.dumps(document))
    with open(session.token_path("my-sso"), "rb") as f:
        before = f.read()
    kill_during_write(["export", "--profile", "dev", "--no-cache"])
    with open(session.token_path("my-sso"), "rb") as f:
        assert f.read() == before
    # the killed process spent refresh token rt-1 (rotated away): the old
    # access token is still valid, so the next run works and says nothing
    result = run_cli(["export", "--profile", "dev", "--no-cache"], env())
    assert result.returncode == 0 and result.stderr == ""


def test_a_dead_lock_holder_never_blocks(session, fake):
    lock = session.token_path("my-sso") + ".lock"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, sys, time\n"
        "fd = os.open(%r, os.O_RDWR | os.O_CREAT, 0o600)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\nprint('locked', flush=True)\n"
        "time.sleep(60)\n") % lock], stdout=subprocess.PIPE,
        universal_newlines=True)
    assert holder.stdout.readline().strip() == "locked"
    holder.kill()
    holder.wait(10)
    document = session.read_token("my-sso")
    document["expiresAt"] = iso(now() + timedelta(minutes=5))
    session.write_token("my-sso", raw=json.dumps(document))
    result = timed_cli(["export", "--profile", "dev"], 5)
    assert result.returncode == 0 and fake.calls["CreateToken"] == 1


def test_sixteen_cli_processes_refresh_once(session, fake):
    document = session.read_token("my-sso")
    document["expiresAt"] = iso(now() + timedelta(minutes=5))
    session.write_token("my-sso", raw=json.dumps(document))
    fake.delays["CreateToken"] = 0.3
    run_herd(["export", "--profile", "dev", "--no-cache"], env())
    assert fake.calls["CreateToken"] == 1
    json.loads(open(session.token_path("my-sso")).read())  # intact


# -- Secrets never leak ------------------------------------------------------

SEEDED = {"accessToken": "SeedAccessTok3nQ", "refreshToken": "SeedRefreshTok3nQ",
          "clientSecret": "SeedClientS3cretQ"}
ISSUED = ("fake-secret-key-", "fake-session-token-", "fake-access-token-",
          "fake-refresh-token-", "fake-client-secret-")


def leaks(text):
    return [s for s in list(SEEDED.values()) + list(ISSUED) if s in text]


@pytest.fixture
def secret_world(home, fake):
    home.write_config(SESSION_CONFIG.format(start_url=START_URL))
    home.write_token("my-sso", access_token=SEEDED["accessToken"],
                     clientId="cid", clientSecret=SEEDED["clientSecret"],
                     refreshToken=SEEDED["refreshToken"],
                     registrationExpiresAt=iso(now() + timedelta(days=9)),
                     expires_in=300)  # due for refresh
    fake.add_token(SEEDED["accessToken"])
    fake.add_refresh_token(SEEDED["refreshToken"], "cid", SEEDED["clientSecret"])
    return home


def test_no_secret_reaches_stderr_or_debug_output(secret_world, fake, tmp_path):
    stderr = []

    def cli(*args, **kw):
        result = run_cli(["--debug"] + list(args), kw.get("e") or env())
        stderr.append(result.stderr)
        return result

    assert cli("export", "--profile", "dev").returncode == 0  # refresh + cache
    cli("export", "--profile", "dev", "--format", "env")
    cli("status", "--profile", "dev")
    cli("list", "--profile", "dev")
    cli("write-credentials", "--profile", "dev")
    cli("exec", "--profile", "dev", "--", sys.executable, "-c", "pass")
    fake.fail("GetRoleCredentials", 500, "InternalServerException")
    cli("export", "--profile", "dev", "--no-cache")
    fake.fail("GetRoleCredentials", 403, "ForbiddenException", "No access")
    cli("export", "--profile", "dev", "--no-cache")
    # an expired token whose refresh is refused
    document = secret_world.read_token("my-sso")
    document["expiresAt"] = iso(now() - timedelta(minutes=1))
    secret_world.write_token("my-sso", raw=json.dumps(document))
    fake.fail("CreateToken", 400, "InvalidGrantException", "bad grant")
    assert cli("export", "--profile", "dev", "--no-cache").returncode == 1
    fake.revoke_token(document["accessToken"])
    cli("logout", "--profile", "dev")
    cli("export", "--profile", "dev", "--no-cache")
    assert len(stderr) == 11
    joined = "\n".join(stderr)
    assert "ssocreds: debug:" in joined
    assert leaks(joined) == []


def test_no_secret_in_exceptions_reprs_or_log_records(secret_world, fake, caplog):
    caplog.set_level(logging.DEBUG, logger="ssocreds")
    texts = []
    cache = mod.from_profile("dev")
    creds = cache.retrieve()  # refreshes
    texts += [repr(creds), str(creds), repr(cache), repr(cache.provider),
              repr(cache.provider.token_provider), repr(cache.provider.client)]
    token = cache.provider.token_provider.retrieve_bearer_token()
    texts.append(repr(token))
    for status, code in ((401, "UnauthorizedException"), (403, "ForbiddenException"),
                         (500, "InternalServerException")):
        fake.fail("GetRoleCredentials", status, code, "m", times=3)
        try:
            mod.Provider(mod.PortalClient("us-east-1", retry_base_delay=0.001),
                         "111122223333", "ReadOnly", None,
                         token_provider=cache.provider.token_provider).retrieve()
        except mod.Error as exc:
            texts += [str(exc), repr(exc), str(exc.__cause__), repr(exc.__cause__)]
    document = secret_world.read_token("my-sso")
    document["expiresAt"] = iso(now() - timedelta(minutes=1))
    secret_world.write_token("my-sso", raw=json.dumps(document))
    fake.fail("CreateToken", 400, "InvalidGrantException", "m")
    with pytest.raises(mod.InvalidTokenError) as info:
        mod.from_profile("dev").retrieve()
    texts += [str(info.value), repr(info.value)]
    texts.append(caplog.text)
    assert any("refreshed the SSO token" in r.getMessage() for r in caplog.records)
    assert leaks("\n".join(texts)) == []


def test_serve_never_logs_secrets(secret_world, fake):
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "ssocreds.py"),
                             "--debug", "serve", "--profile", "dev"], env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True)
    url = proc.stdout.readline().strip().split("=", 1)[1]
    token = proc.stdout.readline().strip().split("=", 1)[1]
    import urllib.error
    import urllib.request

    for auth in (token, "wrong", None):
        request = urllib.request.Request(url)
        if auth:
            request.add_header("Authorization", auth)
        try:
            urllib.request.urlopen(request, timeout=10).read()
        except urllib.error.HTTPError:
            pass
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert leaks(err) == [] and token not in err


def test_every_file_we_create_is_private(secret_world, fake):
    # start from a ~/.aws holding only the config: everything else is ours
    shutil.rmtree(os.path.join(secret_world.aws, "sso"))
    fake.device_pending_polls = 0
    assert run_cli(["login", "--profile", "dev", "--use-device-code",
                    "--no-browser"], env()).returncode == 0
    assert run_cli(["export", "--profile", "dev"], env()).returncode == 0
    assert run_cli(["write-credentials", "--profile", "dev"],
                   env()).returncode == 0
    ours = [os.path.join(secret_world.aws, d) for d in (
        "sso", "sso/cache", "cli", "cli/cache")]
    for directory in ours:
        assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700, directory
    files = [os.path.join(d, n) for d in ours[1::2] for n in os.listdir(d)]
    files.append(secret_world.credentials)
    assert len(files) >= 4  # token, registration, role credentials, keys
    for path in files:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
        assert not path.endswith((".tmp", ".lock")), path  # no debris


def _tree(top):
    return sorted(os.path.relpath(os.path.join(d, n), top)
                  for d, dirs, files in os.walk(top) for n in dirs + files)


def test_a_failed_export_leaves_nothing_behind(home, fake):
    home.write_config(SESSION_CONFIG.format(start_url=START_URL))
    before = _tree(home.aws)
    result = run_cli(["export", "--profile", "dev"], env())
    assert result.returncode == 1 and "has expired or is invalid" in result.stderr
    assert _tree(home.aws) == before  # no cli/cache, no lock file


def test_logout_all_leaves_no_lock_files(session, fake):
    assert run_cli(["export", "--profile", "dev"], env()).returncode == 0
    assert run_cli(["logout", "--all"], env()).returncode == 0
    left = _tree(session.aws)
    assert not [p for p in left if p.endswith((".lock", ".tmp"))], left
    assert not [p for p in left if p.startswith(os.path.join("cli", "cache",
                                                             ""))], left


def test_logout_that_cannot_delete_a_file_says_which(session, fake):
    assert run_cli(["export", "--profile", "dev"], env()).returncode == 0
    entry = os.path.join(session.cli_cache, os.listdir(session.cli_cache)[0])
    os.unlink(entry)
    os.makedirs(os.path.join(entry, "x"))  # unlink() cannot remove it
    result = run_cli(["logout", "--profile", "dev"], env())
    assert result.returncode == 1
    assert result.stderr.startswith("ssocreds: cannot delete the cached "
                                     "credential file %s" % entry), result.stderr
    assert "internal error" not in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_connection_errors_name_the_host_as_written(session, fake):
    e = env()
    e["AWS_ENDPOINT_URL_SSO"] = "http://localhost"  # port 80: nothing listens
    e["AWS_MAX_ATTEMPTS"] = "1"
    result = run_cli(["export", "--profile", "dev", "--no-cache"], e)
    assert result.returncode == 1
    assert "cannot talk to localhost: " in result.stderr, result.stderr
    assert ":None" not in result.stderr


def test_a_relative_home_is_named(session, fake):
    e = env()
    e["HOME"] = "relative/dir"
    e["AWS_CONFIG_FILE"] = session.config
    result = run_cli(["export", "--profile", "dev"], e)
    assert result.returncode == 1
    assert result.stderr == ("ssocreds: cannot use the home directory "
                             "'relative/dir': HOME must be an absolute path\n")


class _Trickler(object):
    """A server that sends its answer one byte every 50 ms (for 30 s)."""

    def __init__(self, head_complete):
        import socket
        import threading

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        body = b'{"roleCredentials": {}}' + b" " * 4000
        answer = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body)) + body
        self.sent_at_once = answer.index(b"\r\n\r\n") + 4 if head_complete else 0
        self.answer = answer
        self.stopped = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        import threading

        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.trickle, args=(conn,),
                             daemon=True).start()

    def trickle(self, conn):
        try:
            conn.recv(65536)
            conn.sendall(self.answer[:self.sent_at_once])
            for i in range(self.sent_at_once, len(self.answer)):
                if self.stopped.wait(0.05):
                    break
                conn.sendall(self.answer[i:i + 1])
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self.stopped.set()
        self.sock.close()


@pytest.mark.parametrize("head_complete", [False, True],
                         ids=["in-the-headers", "in-the-body"])
def test_a_trickling_server_is_cut_off_at_the_deadline(session, head_complete):
    server = _Trickler(head_complete)
    try:
        e = env()
        e.update(AWS_ENDPOINT_URL_SSO=server.url, AWS_MAX_ATTEMPTS="1")
        started = time.monotonic()
        result = run_cli(["export", "--profile", "dev", "--no-cache",
                          "--connect-timeout", "0.5", "--read-timeout", "0.5"],
                         e)
        elapsed = time.monotonic() - started
    finally:
        server.close()
    assert result.returncode == 1
    assert "no complete answer within 1 s" in result.stderr, result.stderr
    # the answer takes over 3 minutes to arrive: only the deadline ends it
    assert elapsed < 30, elapsed
