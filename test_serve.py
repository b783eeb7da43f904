"""Specs of the credential server (issue 7): the container credentials
endpoint, judged by a real SDK client where botocore is importable."""

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta

import pytest

import ssocreds as mod
from conftest import HERE, botocore_available, now, run_cli, run_python


def env():
    return dict(os.environ)


def get(url, token=None, method="GET"):
    request = urllib.request.Request(url, method=method)
    if token is not None:
        request.add_header("Authorization", token)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, json.loads(exc.read())


class Serving(object):
    """`ssocreds serve` in a subprocess; .url and .token from its stdout."""

    def __init__(self, args=()):
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "ssocreds.py"), "serve",
             "--profile", "dev"] + list(args), env=env(),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            universal_newlines=True)
        self.vars = {}
        if "--env-file" in args:
            return
        for _ in range(1 if "--imds" in args else 2):
            line = self.proc.stdout.readline()
            assert "=" in line, self.proc.stderr.read()
            name, value = line.rstrip("\n").split("=", 1)
            self.vars[name] = value
        self.url = self.vars.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        self.token = self.vars.get("AWS_CONTAINER_AUTHORIZATION_TOKEN")

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        self.out, err = self.proc.communicate(timeout=10)
        return self.proc.returncode, err


@pytest.fixture
def served(session, fake):
    server = Serving()
    yield server
    if server.proc.poll() is None:
        server.stop()


def test_serve_prints_the_variables_and_answers_sdk_requests(served, fake):
    assert served.url.startswith("http://127.0.0.1:")
    assert served.url.endswith("/credentials")
    assert len(served.token) >= 43  # 256 random bits, URL-safe base64
    status, headers, document = get(served.url, served.token)
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert set(document) == {"AccessKeyId", "SecretAccessKey", "Token",
                             "Expiration", "AccountId"}
    assert document["AccessKeyId"].startswith("ASIAFAKE")
    assert document["Expiration"].endswith("Z")
    assert document["AccountId"] == "111122223333"


@pytest.mark.parametrize("token, path, method, status, code", [
    (None, "/credentials", "GET", 401, "Unauthorized"),
    ("wrong", "/credentials", "GET", 403, "AccessDenied"),
    ("", "/credentials", "GET", 403, "AccessDenied"),
    ("TOKEN", "/other", "GET", 404, "NotFound"),
    ("TOKEN", "/credentials", "POST", 405, "MethodNotAllowed"),
    ("TOKEN", "/credentials", "PUT", 405, "MethodNotAllowed"),
])
def test_every_refusal_is_json_without_credentials(served, token, path, method,
                                                   status, code):
    url = served.url.replace("/credentials", path)
    got, headers, document = get(url, served.token if token == "TOKEN" else token,
                                 method)
    assert (got, document["code"]) == (status, code)
    assert set(document) == {"code", "message"}
    if status == 405:
        assert headers["Allow"] == "GET"


def test_a_large_body_does_not_poison_the_connection(served, fake):
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(served.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("POST", parts.path, body=b"x" * 200000,
                 headers={"Authorization": served.token})
    response = conn.getresponse()
    assert response.status == 405 and response.getheader("Connection") == "close"
    response.read()
    conn.close()
    assert get(served.url, served.token)[0] == 200


def test_health_reveals_nothing(served, fake):
    status, _headers, document = get(served.url.replace("/credentials",
                                                        "/health"))
    assert (status, document) == (200, {"status": "ok"})


def test_many_concurrent_requests_make_one_portal_call(served, fake):
    before = fake.calls["GetRoleCredentials"]
    results = []

    def worker():
        for _ in range(10):
            results.append(get(served.url, served.token)[2]["AccessKeyId"])

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 200 and len(set(results)) == 1
    assert fake.calls["GetRoleCredentials"] == before  # served from memory


def test_sigterm_and_sigint_shut_down_cleanly(session, fake):
    for sig in (signal.SIGTERM, signal.SIGINT):
        server = Serving()
        port = int(server.url.split(":")[2].split("/")[0])
        assert get(server.url, server.token)[0] == 200
        status, err = server.stop(sig)
        assert status == 0, err
        assert "Traceback" not in err
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1)


@pytest.mark.skipif(not botocore_available(), reason="botocore not installed")
def test_botocore_container_provider_fetches_our_credentials(served, fake):
    e = env()
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE"):
        e.pop(name, None)
    e["AWS_CONFIG_FILE"] = os.devnull
    e["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = served.url
    e["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = served.token
    code = ("import botocore.session, json; c = botocore.session.Session()"
            ".get_credentials(); f = c.get_frozen_credentials(); "
            "print(json.dumps([c.method, f.access_key, f.secret_key, f.token]))")
    out = run_python(code, env=e)
    assert out.returncode == 0, out.stderr
    method, key, secret, token = json.loads(out.stdout)
    document = get(served.url, served.token)[2]
    assert method == "container-role"
    assert [key, secret, token] == [document["AccessKeyId"],
                                    document["SecretAccessKey"],
                                    document["Token"]]


def test_credentials_are_refreshed_ahead_of_expiry(session, fake, clock):
    # the server keeps 20 minutes in hand: at 41 minutes into an hour's
    # credentials it fetches new ones, exactly once
    start = now()
    clock.set(start)
    source = mod.CredentialsCache(mod._build_chain("dev").provider,
                                  expiry_window=mod._SERVE_WINDOW)
    server = mod._CredentialServer(source, "tok").start()
    try:
        first = get(server.url, "tok")[2]
        clock.set(start + timedelta(minutes=39))
        assert get(server.url, "tok")[2] == first
        assert fake.calls["GetRoleCredentials"] == 1
        clock.set(start + timedelta(minutes=41))
        second = get(server.url, "tok")[2]
        third = get(server.url, "tok")[2]
    finally:
        server.stop()
    assert first["AccessKeyId"] != second["AccessKeyId"] == third["AccessKeyId"]
    assert fake.calls["GetRoleCredentials"] == 2


def test_expired_session_fails_at_start(home, fake):
    from conftest import SESSION_CONFIG, START_URL

    home.write_config(SESSION_CONFIG.format(start_url=START_URL))
    result = run_cli(["serve", "--profile", "dev"], env(), timeout=20)
    assert result.returncode == 1 and result.stdout == ""
    assert "ssocreds login --profile dev" in result.stderr


def test_token_file_and_env_file(session, fake, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("my-chosen-token\n")
    env_file = tmp_path / "env"
    server = Serving(["--token-file", str(token_file), "--env-file",
                      str(env_file)])
    try:
        deadline = time.time() + 10
        while not env_file.exists() and time.time() < deadline:
            time.sleep(0.02)
        lines = env_file.read_text().splitlines()
        assert stat.S_IMODE(os.stat(str(env_file)).st_mode) == 0o600
        values = dict(line.split("=", 1) for line in lines)
        assert values["AWS_CONTAINER_AUTHORIZATION_TOKEN"] == "my-chosen-token"
        url = values["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
        assert get(url, "my-chosen-token")[0] == 200
    finally:
        status, _err = server.stop()
    assert status == 0
    assert server.out == ""  # the variables went to the file only


@pytest.mark.parametrize("content", ["", "two\nlines\n", "tab\there"])
def test_bad_token_files_are_refused(session, fake, tmp_path, content):
    token_file = tmp_path / "token"
    token_file.write_text(content)
    result = run_cli(["serve", "--profile", "dev", "--token-file",
                      str(token_file)], env(), timeout=20)
    assert result.returncode == 1 and "token file" in result.stderr


def test_non_loopback_bind_needs_an_explicit_flag(session, fake):
    result = run_cli(["serve", "--profile", "dev", "--host", "0.0.0.0"], env())
    assert result.returncode == 2 and "--allow-non-loopback" in result.stderr
    server = Serving(["--host", "0.0.0.0", "--allow-non-loopback"])
    try:
        port = server.url.split(":")[2].split("/")[0]
        assert get("http://127.0.0.1:%s/credentials" % port, server.token)[0] == 200
    finally:
        status, err = server.stop()
    assert "warning" in err and "beyond loopback" in err


def test_ipv6_loopback(session, fake):
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        s = socket.socket(socket.AF_INET6)
        s.bind(("::1", 0))
        s.close()
    except OSError:
        pytest.skip("no IPv6 loopback")
    server = Serving(["--host", "::1"])
    try:
        assert server.url.startswith("http://[::1]:")
        assert get(server.url, server.token)[0] == 200
    finally:
        server.stop()


# -- exec --serve ------------------------------------------------------------

CHILD = r"""
import json, os, sys, time, urllib.request
def fetch():
    req = urllib.request.Request(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
        headers={"Authorization": os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]})
    return json.load(urllib.request.urlopen(req))["AccessKeyId"]
first = fetch()
second = fetch()
print(json.dumps({"first": first, "second": second, "url":
    os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
    "keys": sorted(k for k in os.environ if k.startswith("AWS_ACCESS") or
                   k in ("AWS_PROFILE", "AWS_SESSION_TOKEN"))}))
sys.exit(3)
"""


def test_exec_serve_child_gets_credentials_from_the_endpoint(session, fake):
    # (refreshing ahead of expiry is pinned with the suite's clock above)
    e = env()
    e["AWS_PROFILE"] = "dev"
    e["AWS_ACCESS_KEY_ID"] = "STALE"
    result = run_cli(["exec", "--serve", "--no-cache", "--", sys.executable, "-c",
                      CHILD], e)
    assert result.returncode == 3, result.stderr
    seen = json.loads(result.stdout)
    assert seen["first"] == seen["second"] and seen["first"].startswith(
        "ASIAFAKE")
    assert fake.calls["GetRoleCredentials"] == 1
    assert seen["keys"] == []  # no static keys, no profile: only the endpoint
    port = int(seen["url"].split(":")[2].split("/")[0])
    with pytest.raises(OSError):  # the server died with the child
        socket.create_connection(("127.0.0.1", port), timeout=1)


@pytest.mark.skipif(not botocore_available(), reason="botocore not installed")
def test_exec_serve_with_a_botocore_child(session, fake):
    code = ("import botocore.session; c = botocore.session.Session()"
            ".get_credentials(); print(c.method, c.get_frozen_credentials()"
            ".access_key)")
    result = run_cli(["exec", "--serve", "--profile", "dev", "--", sys.executable,
                      "-c", code], env())
    assert result.returncode == 0, result.stderr
    method, key = result.stdout.split()
    assert method == "container-role" and key.startswith("ASIAFAKE")


def test_exec_serve_forwards_sigterm(session, fake):
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "ssocreds.py"), "exec", "--serve",
         "--profile", "dev", "--", sys.executable, "-c",
         "import signal, sys, time\n"
         "signal.signal(signal.SIGTERM, lambda *a: sys.exit(42))\n"
         "print('ready', flush=True)\ntime.sleep(30)"],
        env=env(), stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
        universal_newlines=True)
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 42


def test_exec_serve_reports_a_killed_child_like_a_shell(session, fake):
    result = run_cli(["exec", "--serve", "--profile", "dev", "--", sys.executable,
                      "-c", "import os, signal; os.kill(os.getpid(), "
                      "signal.SIGKILL)"], env())
    assert result.returncode == 128 + 9


def test_server_answer_logic_directly():
    class Source(object):
        def retrieve(self):
            raise mod.InvalidTokenError("gone", "ssocreds login")

    server = mod._CredentialServer(Source(), "tok")
    try:
        status, document = server.answer("GET", "/credentials", "tok")
        assert status == 503 and document["code"] == "CredentialsUnavailable"
        assert "ssocreds login" in document["message"]
        assert server.answer("GET", "/credentials", "to")[0] == 403
    finally:
        server.stop()


# -- Under load and attack (in process, with short limits) --------------------

class _Constant(object):
    def retrieve(self):
        return mod.Credentials("ASIACONSTANT00001", "secret", "token",
                               now() + timedelta(hours=1))


@pytest.fixture
def small_server(monkeypatch):
    """A server with 0.5 s timeouts, 16 connections and 2 workers."""
    monkeypatch.setattr(mod, "_SERVE_IDLE_TIMEOUT", 0.5)
    monkeypatch.setattr(mod, "_SERVE_REQUEST_TIMEOUT", 0.5)
    monkeypatch.setattr(mod, "_SERVE_MAX_CONNECTIONS", 16)
    monkeypatch.setattr(mod, "_SERVE_WORKERS", 2)
    server = mod._CredentialServer(_Constant(), "tok").start()
    yield server
    server.stop()


def _connect(server):
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


REQUEST = (b"GET /credentials HTTP/1.1\r\nHost: x\r\nAuthorization: tok"
           b"\r\n\r\n")


def _answers(sock, count):
    """The status codes of ``count`` answers read from ``sock``."""
    data, statuses = b"", []
    while len(statuses) < count:
        end = data.find(b"\r\n\r\n")
        if end >= 0:
            head = data[:end].decode("latin-1")
            length = int(head.lower().split("content-length: ")[1].split(
                "\r\n")[0])
            if len(data) >= end + 4 + length:
                statuses.append(int(head.split(" ")[1]))
                data = data[end + 4 + length:]
                continue
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return statuses


def _closed_by_server(sock):
    sock.settimeout(10)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def test_idle_and_slow_connections_are_closed(small_server):
    idle, slow = _connect(small_server), _connect(small_server)
    slow.sendall(REQUEST[:20])  # a request that never completes
    assert _closed_by_server(idle) and _closed_by_server(slow)


def test_pipelined_and_keep_alive_requests_share_a_connection(small_server):
    sock = _connect(small_server)
    sock.sendall(REQUEST * 3)
    assert _answers(sock, 3) == [200, 200, 200]
    sock.sendall(REQUEST)
    assert _answers(sock, 1) == [200]
    sock.sendall(REQUEST.replace(b"tok\r\n", b"tok\r\nConnection: close\r\n"))
    assert _answers(sock, 1) == [200] and _closed_by_server(sock)


def test_a_malformed_request_gets_400_and_a_closed_connection(small_server):
    sock = _connect(small_server)
    sock.sendall(b"GARBAGE\r\n\r\n")
    assert _answers(sock, 1) == [400] and _closed_by_server(sock)


def test_idle_connections_cannot_starve_real_clients(small_server):
    # more idle connections than the cap, and kept-alive clients holding
    # more connections than there are workers: a new client is still served
    idle = [_connect(small_server) for _ in range(30)]
    kept = [_connect(small_server) for _ in range(4)]
    for sock in kept:
        sock.sendall(REQUEST)
        assert _answers(sock, 1) == [200]
    status, _headers, document = get(small_server.url, "tok")
    assert status == 200 and document["AccessKeyId"] == "ASIACONSTANT00001"
    closed = sum(_closed_by_server(sock) for sock in idle[:14])
    assert closed == 14  # the longest-idle ones made room
    for sock in idle + kept:
        sock.close()


def test_sixty_four_keep_alive_clients_are_all_answered(monkeypatch):
    import http.client

    monkeypatch.setattr(mod, "_SERVE_WORKERS", 2)  # fewer than the clients
    small_server = mod._CredentialServer(_Constant(), "tok").start()

    def client(results):
        conn = http.client.HTTPConnection("127.0.0.1", small_server.port,
                                          timeout=10)
        for _ in range(5):
            conn.request("GET", "/credentials", headers={"Authorization": "tok"})
            response = conn.getresponse()
            response.read()
            results.append(response.status)
        conn.close()

    results = []
    threads = [threading.Thread(target=client, args=(results,))
               for _ in range(64)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    small_server.stop()
    assert results == [200] * 320


def test_a_failing_source_gets_500_and_the_server_goes_on(monkeypatch):
    class Broken(object):
        calls = 0

        def retrieve(self):
            Broken.calls += 1
            raise OverflowError("a bug")

    monkeypatch.setattr(mod, "_SERVE_WORKERS", 1)
    server = mod._CredentialServer(Broken(), "tok").start()
    try:
        for _ in range(3):  # the one worker survives each failure
            status, _headers, document = get(server.url, "tok")
            assert status == 500 and document["code"] == "InternalError"
        assert get(server.url.replace("/credentials", "/health"))[0] == 200
    finally:
        server.stop()
    assert Broken.calls == 3


def test_health_and_refusals_do_not_wait_for_busy_workers(monkeypatch):
    release = threading.Event()

    class Slow(object):
        def retrieve(self):
            release.wait(30)
            return _Constant().retrieve()

    monkeypatch.setattr(mod, "_SERVE_WORKERS", 1)
    monkeypatch.setattr(mod, "_SERVE_STOP_TIMEOUT", 0.3)
    server = mod._CredentialServer(Slow(), "tok").start()
    try:
        waiting = [_connect(server) for _ in range(3)]
        for sock in waiting:  # every worker is busy: these queue
            sock.sendall(REQUEST)
        assert get(server.url.replace("/credentials", "/health"))[0] == 200
        assert get(server.url, "wrong")[0] == 403
        release.set()
        assert [_answers(sock, 1) for sock in waiting] == [[200]] * 3
        release.clear()
        _connect(server).sendall(REQUEST)  # one stuck request at stop()
    finally:
        started = time.monotonic()
        server.stop()
        release.set()
    assert time.monotonic() - started < 10  # bounded, not per thread


def test_clients_that_never_read_hold_no_worker(small_server):
    greedy = [_connect(small_server) for _ in range(4)]
    for sock in greedy:  # pipelined requests whose answers nobody reads
        sock.sendall(REQUEST * 200)
    status, _headers, document = get(small_server.url, "tok")
    assert status == 200 and document["AccessKeyId"] == "ASIACONSTANT00001"
    for sock in greedy:
        sock.close()


@pytest.mark.parametrize("raw, statuses", [
    (b"\r\n\r\n" + REQUEST, [200]),  # empty lines before a request
    (REQUEST.replace(b"\r\n", b"\n"), [200]),  # bare line feeds
    (REQUEST.replace(b"\r\n\r\n", b"\r\nContent-Length: 0\r\n"
                     b"Content-Length: 20\r\n\r\n"), [400]),
])
def test_request_framing(small_server, raw, statuses):
    sock = _connect(small_server)
    sock.sendall(raw)
    assert _answers(sock, len(statuses)) == statuses


# -- IMDSv2 ---------------------------------------------------------------------

class _Request(object):
    """A raw HTTP exchange with the in-process server (full control of
    headers such as Host and X-Forwarded-For)."""

    def __init__(self, server):
        self.server = server

    def __call__(self, method, path, headers=(), host=None):
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", self.server.port,
                                          timeout=10)
        try:
            conn.putrequest(method, path, skip_host=True)
            conn.putheader("Host", host or "127.0.0.1:%d" % self.server.port)
            for name, value in headers:
                conn.putheader(name, value)
            conn.endheaders()
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), \
                response.read().decode()
        finally:
            conn.close()


@pytest.fixture
def imds(monkeypatch):
    server = mod._CredentialServer(
        _Constant(), "unused", profiles=[("dev", _Constant())],
        imds=mod._ImdsIdentity("ReadOnly", "111122223333", "eu-west-1")).start()
    yield server, _Request(server)
    server.stop()


def _token(request, ttl="21600"):
    status, headers, token = request(
        "PUT", "/latest/api/token",
        [("X-aws-ec2-metadata-token-ttl-seconds", ttl)])
    assert status == 200
    assert headers["X-aws-ec2-metadata-token-ttl-seconds"] == ttl  # echoed
    return token


def test_imds_serves_the_role_and_its_credentials(imds):
    server, request = imds
    token = [("X-aws-ec2-metadata-token", _token(request))]
    base = "/latest/meta-data/iam/security-credentials/"
    assert request("GET", base, token)[::2] == (200, "ReadOnly")
    status, _, body = request("GET", base + "ReadOnly", token)
    document = json.loads(body)
    assert status == 200 and document["Code"] == "Success"
    assert document["Type"] == "AWS-HMAC" and "AccountId" not in document
    assert document["AccessKeyId"] == "ASIACONSTANT00001"
    assert document["Expiration"].endswith("Z")
    status, _, body = request("GET", base.replace(
        "credentials/", "credentials-extended/") + "ReadOnly", token)
    assert status == 200 and json.loads(body)["AccountId"] == "111122223333"
    assert request("GET", base + "Other", token)[0] == 404
    assert request("GET", "/latest/meta-data/placement/region", token)[
        ::2] == (200, "eu-west-1")
    status, _, body = request("GET", "/latest/dynamic/instance-identity/"
                              "document", token)
    assert json.loads(body)["accountId"] == "111122223333"
    assert json.loads(request("GET", "/latest/meta-data/iam/info", token)[2])[
        "InstanceProfileArn"] == ("arn:aws:iam::111122223333:instance-profile/"
                                  "ReadOnly")
    assert request("GET", "/latest/meta-data/ami-id", token)[0] == 404


@pytest.mark.parametrize("headers, host, status", [
    ([], None, 401),  # IMDSv1 is refused
    ([("X-aws-ec2-metadata-token", "made-up")], None, 401),
    ([("X-Forwarded-For", "10.0.0.1")], None, 403),
    ([], "attacker.example:80", 403),  # DNS rebinding
])
def test_imds_refusals(imds, headers, host, status):
    server, request = imds
    token = _token(request)
    if headers and headers[0][0] == "X-Forwarded-For":
        headers = headers + [("X-aws-ec2-metadata-token", token)]
    elif host:
        headers = [("X-aws-ec2-metadata-token", token)]
    assert request("GET", "/latest/meta-data/iam/security-credentials/",
                   headers, host)[0] == status


@pytest.mark.parametrize("ttl", ["", "0", "21601", "x", "\u00b2"])
def test_imds_token_needs_a_valid_ttl(imds, ttl):
    _server, request = imds
    headers = [("X-aws-ec2-metadata-token-ttl-seconds", ttl)] if ttl else []
    assert request("PUT", "/latest/api/token", headers)[0] == 400


def test_an_expired_imds_token_gets_401_then_a_new_one_works(imds):
    import time as clock

    server, request = imds
    expired = server._imds_token(clock.time() - 1)  # as one whose TTL passed
    path = "/latest/meta-data/iam/security-credentials/"
    assert request("GET", path, [("X-aws-ec2-metadata-token", expired)])[0] \
        == 401
    forged = _token(request).replace(".", "9.", 1)  # a later deadline, same mac
    assert request("GET", path, [("X-aws-ec2-metadata-token", forged)])[0] \
        == 401
    for _ in range(200):  # tokens are not stored: a flood crowds out nothing
        _token(request)
    fresh = _token(request)
    assert request("GET", path, [("X-aws-ec2-metadata-token", fresh)])[0] == 200


def test_imds_answers_ipv6_loopback_and_the_availability_zone():
    server = mod._CredentialServer(
        _Constant(), "unused", host="::1", imds=mod._ImdsIdentity(
            "ReadOnly", "111122223333", "eu-west-1")).start()
    try:
        import http.client

        conn = http.client.HTTPConnection("::1", server.port, timeout=10)
        conn.request("PUT", "/latest/api/token", headers={
            "X-aws-ec2-metadata-token-ttl-seconds": "60"})
        response = conn.getresponse()
        token = response.read().decode()
        assert response.status == 200  # Host: [::1]:PORT is ours
        conn.request("GET", "/latest/meta-data/placement/availability-zone/",
                     headers={"X-aws-ec2-metadata-token": token})
        response = conn.getresponse()
        assert (response.status, response.read()) == (200, b"eu-west-1a")
        conn.close()
    finally:
        server.stop()


def test_imds_v1_only_when_asked(monkeypatch):
    server = mod._CredentialServer(
        _Constant(), "unused", imds=mod._ImdsIdentity(
            "ReadOnly", "111122223333", "eu-west-1", allow_v1=True)).start()
    try:
        assert _Request(server)("GET", "/latest/meta-data/iam/security-"
                                "credentials/")[::2] == (200, "ReadOnly")
    finally:
        server.stop()


@pytest.mark.skipif(not botocore_available(), reason="botocore not installed")
def test_botocores_instance_metadata_provider_gets_our_credentials(session,
                                                                  fake):
    server = Serving(["--imds"])
    try:
        endpoint = server.vars["AWS_EC2_METADATA_SERVICE_ENDPOINT"]
        e = env()
        e["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = endpoint
        code = ("import botocore.session, json; c = botocore.session.Session()"
                ".get_credentials(); print(json.dumps([c.method, "
                "c.get_frozen_credentials().access_key]))")
        result = run_python(code, env=e)
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr
    method, key = json.loads(result.stdout)
    assert method == "iam-role" and key.startswith("ASIAFAKE")


@pytest.mark.skipif(not botocore_available(), reason="botocore not installed")
def test_exec_imds_gives_a_botocore_child_credentials(session, fake):
    e = env()
    e["AWS_PROFILE"] = "dev"
    e["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://127.0.0.1:9/nothing"
    code = ("import botocore.session, json, os; c = botocore.session.Session()"
            ".get_credentials(); print(json.dumps([c.method, os.environ["
            "'AWS_EC2_METADATA_SERVICE_ENDPOINT']]))")
    result = run_cli(["exec", "--imds", "--", sys.executable, "-c", code], e)
    assert result.returncode == 0, result.stderr
    method, endpoint = json.loads(result.stdout)
    assert method == "iam-role" and endpoint.startswith("http://127.0.0.1:")


# -- Many profiles, one server --------------------------------------------------

def test_one_server_for_several_profiles(session, fake):
    fake.roles["arn:aws:iam::111122223333:role/Ops"] = {}
    with open(session.config, "a") as f:
        f.write("\n[profile admin]\nsso_session = my-sso\nsso_account_id = "
                "111122223333\nsso_role_name = Admin\n\n[profile ops.team]\n"
                "role_arn = arn:aws:iam::111122223333:role/Ops\n"
                "source_profile = dev\n")
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "ssocreds.py"), "serve",
         "--profile", "dev", "--profile", "admin", "--profile", "ops.team"],
        env=dict(env(), AWS_ENDPOINT_URL_STS=fake.url),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    try:
        lines = [proc.stdout.readline().strip() for _ in range(5)]
        values = dict(line.split("=", 1) for line in lines)
        token = values["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
        assert values["OPS_TEAM_AWS_CONTAINER_CREDENTIALS_FULL_URI"].endswith(
            "/credentials/ops.team")
        keys = {}
        for name in ("DEV", "ADMIN", "OPS_TEAM"):
            status, _, document = get(values[
                name + "_AWS_CONTAINER_CREDENTIALS_FULL_URI"], token)
            assert status == 200
            keys[name] = document["AccessKeyId"]
        assert len(set(keys.values())) == 3
        first = get(values["AWS_CONTAINER_CREDENTIALS_FULL_URI"], token)[2]
        assert first["AccessKeyId"] == keys["DEV"]
        base = values["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
        assert get(base.replace("/credentials", "/profiles"), token)[2] == {
            "profiles": ["dev", "admin", "ops.team"]}
        status, _, document = get(base + "/nope", token)
        assert status == 404 and document["code"] == "NotFound"
        assert get(base + "/admin")[0] == 401
        # one portal call per SSO role: ops.team assumes its role with dev's
        # credentials, which the shared cache already holds
        assert fake.calls["GetRoleCredentials"] == 2
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)


@pytest.mark.skipif(not botocore_available(), reason="botocore not installed")
def test_exec_serve_wins_over_web_identity_variables(session, fake, tmp_path):
    token_file = tmp_path / "web-identity-token"
    token_file.write_text("header.payload.signature")
    e = env()
    e.update(AWS_PROFILE="dev", AWS_WEB_IDENTITY_TOKEN_FILE=str(token_file),
             AWS_ROLE_ARN="arn:aws:iam::111122223333:role/Irsa")
    code = ("import botocore.session; print(botocore.session.Session()"
            ".get_credentials().method)")
    result = run_cli(["exec", "--serve", "--", sys.executable, "-c", code], e)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "container-role"


def test_all_profiles_skips_what_cannot_be_served(session, fake):
    with open(session.config, "a") as f:
        f.write("\n[profile stale]\nsso_session = my-sso\nsso_account_id = "
                "111122223333\nsso_role_name = Gone\n\n[profile plain]\n"
                "region = eu-west-1\n")
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "ssocreds.py"), "serve",
         "--all-profiles"], env=env(), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, universal_newlines=True)
    try:
        values = dict(proc.stdout.readline().strip().split("=", 1)
                      for _ in range(2))
        base = values["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
        token = values["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
        assert get(base.replace("/credentials", "/profiles"), token)[2] == {
            "profiles": ["dev"]}
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=10)
    assert 'not serving profile "stale"' in err and "Traceback" not in err
