#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ssocreds authors
"""A fake AWS IAM Identity Center (portal + OIDC) on loopback, for tests and
the demo.  Standard library only.

    python3 fakesso.py demo     # run the ssocreds CLI against it, no AWS needed
    python3 fakesso.py serve    # serve until Ctrl-C, printing its URL

In code::

    with FakeIdentityCenter() as fake:
        fake.add_token("my-access-token")
        os.environ["AWS_ENDPOINT_URL_SSO"] = fake.url
        ...
        fake.calls["GetRoleCredentials"]   # how many requests arrived

It speaks the wire formats in the project's wire.md: GetRoleCredentials,
ListAccounts, ListAccountRoles, Logout (portal); RegisterClient,
StartDeviceAuthorization, CreateToken (refresh, device-code and PKCE
authorization-code grants) and the browser's /authorize step (OIDC); with
knobs for faults (scripted error responses, delays), the user's answers in
the browser, and request counting.
"""

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from socketserver import ThreadingMixIn
from urllib.parse import parse_qs, urlsplit

_OPERATIONS = {
    ("GET", "/federation/credentials"): "GetRoleCredentials",
    ("GET", "/assignment/accounts"): "ListAccounts",
    ("GET", "/assignment/roles"): "ListAccountRoles",
    ("POST", "/logout"): "Logout",
    ("POST", "/token"): "CreateToken",
    ("POST", "/client/register"): "RegisterClient",
    ("POST", "/device_authorization"): "StartDeviceAuthorization",
    ("GET", "/authorize"): "Authorize",
    ("POST", "/"): "AssumeRole",  # STS, Query protocol
    ("POST", "/federation"): "GetSigninToken",  # the console sign-in endpoint
}

_PORTAL_ERROR_TYPE = "com.amazonaws.switchboard.portal#%s"
_OIDC_ERROR_STATUS = {"InvalidClientException": 401,
                      "InternalServerException": 500}
_OIDC_OAUTH_CODES = {
    "AuthorizationPendingException": "authorization_pending",
    "SlowDownException": "slow_down",
    "ExpiredTokenException": "expired_token",
    "AccessDeniedException": "access_denied",
    "InvalidGrantException": "invalid_grant",
    "InvalidClientException": "invalid_client",
    "UnauthorizedClientException": "unauthorized_client",
    "InvalidRequestException": "invalid_request",
    "InternalServerException": "server_error",
}


class _Server(ThreadingMixIn, HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class Response(object):
    """A scripted response: status, headers, body (bytes/str/JSON-able).

    ``truncate_at`` sends only that many bytes of the body, then hangs up
    (the Content-Length still announces the whole body).
    """

    def __init__(self, status, body=b"", headers=None, delay=0.0,
                 truncate_at=None):
        self.status = status
        self.headers = dict(headers or {})
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            self.headers.setdefault("Content-Type", "application/json")
        self.body = body.encode("utf-8") if isinstance(body, str) else body
        self.delay = delay
        self.truncate_at = truncate_at


class FakeIdentityCenter(object):
    """The fake service.  Attributes tests may set or read:

    - ``credential_lifetime`` (s) of issued role credentials, default 3600;
    - ``token_lifetime`` (s) of access tokens from CreateToken, default 3600;
    - ``rotate_refresh_tokens``: CreateToken returns a new refresh token;
    - ``delays[operation]``: seconds to wait before answering;
    - ``calls[operation]``: requests received; ``requests``: every request as
      (operation, method, path, headers, body); ``log``: (operation, Host
      header, query) of each; ``targets``: every raw
      request target (path and query exactly as sent);
    - ``accounts``: {account_id: {"name", "email", "roles": [...]}} and
      ``page_size`` for the list operations;
    - device flow: ``device_pending_polls`` (pending answers before the user
      approves), ``device_slow_downs`` (SlowDown answers first),
      ``device_outcome`` ("approve", "deny" or "expire"),
      ``device_interval`` and ``device_expires_in`` (s);
    - browser step of PKCE: ``authorize_error`` (e.g. "access_denied") and
      ``authorize_state`` (a wrong state to send back);
    - hostile mode: ``rewrite(operation, function)`` passes the JSON object
      of every successful built-in answer of ``operation`` through
      ``function(document) -> document`` (the fake's own state, such as
      issued device codes, stays as it was), so a test can plant hostile
      values in otherwise working responses.
    """

    def __init__(self, host="127.0.0.1", port=0, tls=None):
        """``tls`` = (certificate file, key file) serves https instead."""
        self.host = host
        self.port = port
        self.tls = tls
        self.credential_lifetime = 3600
        self.token_lifetime = 3600
        self.rotate_refresh_tokens = True
        self.page_size = 2
        self.accounts = {"111122223333": {"name": "dev",
                                          "email": "dev@example.com",
                                          "roles": ["ReadOnly", "Admin"]}}
        self.delays = {}
        self.calls = {}
        self.requests = []
        self.log = []  # (operation, Host header, query) of every request
        self.targets = []  # raw request targets (path and query, as sent)
        self._tokens = set()
        self._refresh_tokens = {}  # refresh token -> client id
        self._clients = {}  # client id -> client secret
        self._scripted = {}  # operation -> [Response]
        self._rewrites = {}  # operation -> function(document) -> document
        self.registrations = {}  # client id -> RegisterClient request
        self._devices = {}  # device code -> state
        self._codes = {}  # authorization code -> (client, redirect, challenge)
        self.device_pending_polls = 1
        self.device_slow_downs = 0
        self.device_outcome = "approve"
        self.device_interval = 1
        self.device_expires_in = 600
        self.authorize_error = None
        self.authorize_state = None
        # STS: roles that may be assumed, {role arn: {"external_id", "mfa"}},
        # the MFA code it accepts, and the keys it knows for SigV4 checks
        self.roles = {}
        self.mfa_code = "123456"
        self.sts_requests = []  # parsed AssumeRole forms
        self.federation_requests = []  # parsed getSigninToken forms
        self._secrets = {}  # access key id -> (secret key, session token)
        self._lock = threading.Lock()
        self._serial = 0
        self._server = None

    # -- setup --

    def add_token(self, access_token):
        """Accept ``access_token`` at the portal."""
        with self._lock:
            self._tokens.add(access_token)

    def revoke_token(self, access_token):
        with self._lock:
            self._tokens.discard(access_token)

    def add_static_key(self, access_key_id, secret_access_key):
        """Accept SigV4 signatures made with these long-term keys."""
        with self._lock:
            self._secrets[access_key_id] = (secret_access_key, None)

    def add_client(self, client_id, client_secret):
        with self._lock:
            self._clients[client_id] = client_secret

    def add_refresh_token(self, refresh_token, client_id, client_secret):
        """Accept ``refresh_token`` from that client registration."""
        with self._lock:
            self._clients[client_id] = client_secret
            self._refresh_tokens[refresh_token] = client_id

    def script(self, operation, *responses):
        """Answer the next requests for ``operation`` with ``responses``."""
        with self._lock:
            self._scripted.setdefault(operation, []).extend(responses)

    def clear_script(self, operation=None):
        """Drop the scripted responses not sent yet (of ``operation``, or of
        every operation)."""
        with self._lock:
            if operation is None:
                self._scripted.clear()
            else:
                self._scripted.pop(operation, None)

    def rewrite(self, operation, function):
        """Pass the JSON object of each successful built-in answer of
        ``operation`` through ``function(document) -> document`` (None
        removes the rewrite).  Scripted responses are sent as they are."""
        with self._lock:
            if function is None:
                self._rewrites.pop(operation, None)
            else:
                self._rewrites[operation] = function

    def fail(self, operation, status, code, message="scripted failure",
             times=1, headers=None):
        """Make ``operation`` fail ``times`` times with an AWS-style error."""
        for _ in range(times):
            self.script(operation, _error(operation, status, code, message,
                                          headers))

    # -- lifecycle --

    @property
    def url(self):
        return "%s://%s:%d" % ("https" if self.tls else "http", self.host,
                               self._server.server_address[1])

    def start(self):
        fake = self

        class Handler(_Handler):
            service = fake

        self._server = _Server((self.host, self.port), Handler)
        if self.tls:
            import ssl

            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.tls)
            self._server.socket = context.wrap_socket(
                self._server.socket, server_side=True,
                do_handshake_on_connect=False)
        thread = threading.Thread(target=self._server.serve_forever,
                                  kwargs={"poll_interval": 0.05})
        thread.daemon = True
        thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    # -- request handling --

    def _next_serial(self):
        with self._lock:
            self._serial += 1
            return self._serial

    def handle(self, operation, method, path, query, headers, body):
        with self._lock:
            self.calls[operation] = self.calls.get(operation, 0) + 1
            self.requests.append((operation, method, path, dict(headers), body))
            self.log.append((operation, headers.get("host"), dict(query)))
            scripted = self._scripted.get(operation)
            response = scripted.pop(0) if scripted else None
        delay = self.delays.get(operation, 0)
        if response is not None:
            delay = max(delay, response.delay)
        if delay:
            time.sleep(delay)
        if response is not None:
            return response
        handler = getattr(self, "_op_" + operation)
        response = handler(query, headers, body)
        with self._lock:
            rewrite = self._rewrites.get(operation)
        if rewrite is not None and response.status == 200 and \
                response.headers.get("Content-Type") == "application/json":
            document = rewrite(json.loads(response.body.decode("utf-8")))
            response = Response(response.status, document, response.headers)
        return response

    def _bearer(self, headers):
        token = headers.get("x-amz-sso_bearer_token")
        with self._lock:
            return token if token in self._tokens else None

    def _op_GetRoleCredentials(self, query, headers, body):
        if not self._bearer(headers):
            return _unauthorized()
        account, role = query.get("account_id"), query.get("role_name")
        if not account or not role:
            return _error("GetRoleCredentials", 400, "InvalidRequestException",
                          "RoleName and AccountId must be supplied")
        entry = self.accounts.get(account)
        if entry is None or role not in entry["roles"]:
            return _error("GetRoleCredentials", 403, "ForbiddenException",
                          "No access")
        key, secret, token = self._new_keys()
        expiration = int((time.time() + self.credential_lifetime) * 1000)
        return Response(200, {"roleCredentials": {
            "accessKeyId": key, "secretAccessKey": secret,
            "sessionToken": token, "expiration": expiration}})

    def _new_keys(self):
        n = self._next_serial()
        key, secret, token = ("ASIAFAKE%012d" % n, "fake-secret-key-%d" % n,
                              "fake-session-token-%d" % n)
        with self._lock:
            self._secrets[key] = (secret, token)
        return key, secret, token

    def _op_AssumeRole(self, query, headers, body):
        from urllib.parse import parse_qsl

        form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        self.sts_requests.append(form)
        problem = _check_sigv4("POST", "/", headers, body, self._secrets)
        if problem:
            return _sts_error(403, "SignatureDoesNotMatch", problem)
        if form.get("Action") != "AssumeRole" or form.get("Version") != \
                "2011-06-15":
            return _sts_error(400, "InvalidAction", "only AssumeRole")
        role = self.roles.get(form.get("RoleArn"))
        if role is None:
            return _sts_error(403, "AccessDenied", "not authorized to assume "
                              "%s" % form.get("RoleArn"))
        if role.get("external_id") and form.get("ExternalId") != role[
                "external_id"]:
            return _sts_error(403, "AccessDenied", "wrong external id")
        if role.get("mfa") and (form.get("SerialNumber") != role["mfa"]
                                or form.get("TokenCode") != self.mfa_code):
            return _sts_error(403, "AccessDenied", "MFA required")
        key, secret, token = self._new_keys()
        seconds = int(form.get("DurationSeconds") or self.credential_lifetime)
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                time.gmtime(time.time() + seconds))
        account = form["RoleArn"].split(":")[4]
        arn = "arn:aws:sts::%s:assumed-role/%s/%s" % (
            account, form["RoleArn"].rsplit("/", 1)[-1],
            form.get("RoleSessionName"))
        xml = ('<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/'
               '2011-06-15/"><AssumeRoleResult><AssumedRoleUser><AssumedRoleId>'
               'AROAFAKE:%s</AssumedRoleId><Arn>%s</Arn></AssumedRoleUser>'
               '<Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s'
               '</SecretAccessKey><SessionToken>%s</SessionToken><Expiration>%s'
               '</Expiration></Credentials></AssumeRoleResult><ResponseMetadata>'
               '<RequestId>fake</RequestId></ResponseMetadata>'
               '</AssumeRoleResponse>' % (form.get("RoleSessionName"), arn, key,
                                          secret, token, expires))
        return Response(200, xml, {"Content-Type": "text/xml"})

    def _op_GetSigninToken(self, query, headers, body):
        """The AWS federation endpoint's getSigninToken: a form with Action,
        Session (JSON of keys it issued) and an optional SessionDuration
        (900-43200 s); errors as its plain-text 400 answers."""
        from urllib.parse import parse_qsl

        form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        self.federation_requests.append(form)
        if form.get("Action") != "getSigninToken":
            return Response(400, b"Unsupported action",
                            {"Content-Type": "text/plain"})
        try:
            session = json.loads(form.get("Session", ""))
        except ValueError:
            session = None
        if not isinstance(session, dict) or sorted(session) != [
                "sessionId", "sessionKey", "sessionToken"]:
            return Response(400, b"Session is malformed",
                            {"Content-Type": "text/plain"})
        with self._lock:
            known = self._secrets.get(session["sessionId"])
        if known is None or known != (session["sessionKey"],
                                      session["sessionToken"]):
            return Response(403, b"Invalid session", {"Content-Type":
                                                      "text/plain"})
        duration = form.get("SessionDuration")
        if duration is not None and not (duration.isdigit()
                                         and 900 <= int(duration) <= 43200):
            return Response(400, b"Invalid SessionDuration",
                            {"Content-Type": "text/plain"})
        return Response(200, {"SigninToken": "fake-signin-token-%d" %
                              self._next_serial()})

    def _op_ListAccounts(self, query, headers, body):
        if not self._bearer(headers):
            return _unauthorized()
        items = [{"accountId": k, "accountName": v["name"],
                  "emailAddress": v["email"]}
                 for k, v in sorted(self.accounts.items())]
        return self._page(items, "accountList", query)

    def _op_ListAccountRoles(self, query, headers, body):
        if not self._bearer(headers):
            return _unauthorized()
        entry = self.accounts.get(query.get("account_id"))
        if entry is None:
            return _error("ListAccountRoles", 404, "ResourceNotFoundException",
                          "no such account")
        items = [{"roleName": r, "accountId": query["account_id"]}
                 for r in entry["roles"]]
        return self._page(items, "roleList", query)

    def _page(self, items, key, query):
        start = int(query.get("next_token") or 0)
        size = int(query.get("max_result") or self.page_size)
        result = {key: items[start:start + size]}
        if start + size < len(items):
            result["nextToken"] = str(start + size)
        return Response(200, result)

    def _op_Logout(self, query, headers, body):
        token = self._bearer(headers)
        if not token:
            return _unauthorized()
        self.revoke_token(token)
        return Response(200, b"")

    def _op_CreateToken(self, query, headers, body):
        try:
            request = json.loads(body.decode("utf-8"))
        except ValueError:
            return _error("CreateToken", 400, "InvalidRequestException",
                          "body is not JSON")
        with self._lock:
            secret = self._clients.get(request.get("clientId"))
        if secret is None or secret != request.get("clientSecret"):
            return _error("CreateToken", 401, "InvalidClientException",
                          "unknown client")
        grant = request.get("grantType")
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            return self._device_token(request)
        if grant == "authorization_code":
            return self._code_token(request)
        if grant != "refresh_token":
            return _error("CreateToken", 400, "UnsupportedGrantTypeException",
                          "unsupported grant")
        old = request.get("refreshToken")
        with self._lock:
            valid = self._refresh_tokens.get(old) == request["clientId"]
            if valid and self.rotate_refresh_tokens:
                del self._refresh_tokens[old]
        if not valid:
            return _error("CreateToken", 400, "InvalidGrantException",
                          "invalid refresh token")
        return self._issue(request["clientId"], self.rotate_refresh_tokens)

    def _issue(self, client_id, with_refresh_token):
        n = self._next_serial()
        access_token = "fake-access-token-%d" % n
        self.add_token(access_token)
        result = {"accessToken": access_token, "tokenType": "Bearer",
                  "expiresIn": self.token_lifetime}
        if with_refresh_token:
            result["refreshToken"] = "fake-refresh-token-%d" % n
            with self._lock:
                self._refresh_tokens[result["refreshToken"]] = client_id
        return Response(200, result)

    def _registered_for_refresh(self, client_id):
        registration = self.registrations.get(client_id, {})
        return bool(registration.get("scopes")) or "refresh_token" in (
            registration.get("grantTypes") or [])

    def _device_token(self, request):
        with self._lock:
            state = self._devices.get(request.get("deviceCode"))
            if state is None or state["client"] != request["clientId"]:
                state = None
            else:
                state["polls"] += 1
                polls = state["polls"]
        if state is None:
            return _error("CreateToken", 400, "InvalidGrantException",
                          "unknown device code")
        if polls <= self.device_slow_downs:
            return _error("CreateToken", 400, "SlowDownException", "slow down")
        if polls <= self.device_slow_downs + self.device_pending_polls:
            return _error("CreateToken", 400, "AuthorizationPendingException",
                          "Authorization is still pending")
        if self.device_outcome == "deny":
            return _error("CreateToken", 400, "AccessDeniedException",
                          "the user denied the request")
        if self.device_outcome == "expire":
            return _error("CreateToken", 400, "ExpiredTokenException",
                          "the device code expired")
        with self._lock:
            del self._devices[request["deviceCode"]]
        return self._issue(request["clientId"],
                           self._registered_for_refresh(request["clientId"]))

    def _code_token(self, request):
        import base64
        import hashlib

        with self._lock:
            entry = self._codes.pop(request.get("code"), None)
        if entry is None or entry[0] != request["clientId"]:
            return _error("CreateToken", 400, "InvalidGrantException",
                          "unknown authorization code")
        verifier = request.get("codeVerifier") or ""
        challenge = base64.urlsafe_b64encode(hashlib.sha256(
            verifier.encode("ascii")).digest()).decode("ascii").rstrip("=")
        if entry[1] != request.get("redirectUri") or entry[2] != challenge:
            return _error("CreateToken", 400, "InvalidGrantException",
                          "redirect URI or code verifier mismatch")
        return self._issue(request["clientId"], True)

    def _op_RegisterClient(self, query, headers, body):
        request = json.loads(body.decode("utf-8"))
        if request.get("clientType") != "public" or not request.get("clientName"):
            return _error("RegisterClient", 400, "InvalidRequestException",
                          "clientName and clientType public are required")
        n = self._next_serial()
        client_id, secret = "fake-client-%d" % n, "fake-client-secret-%d" % n
        with self._lock:
            self._clients[client_id] = secret
            self.registrations[client_id] = request
        now = int(time.time())
        return Response(200, {"clientId": client_id, "clientSecret": secret,
                              "clientIdIssuedAt": now,
                              "clientSecretExpiresAt": now + 90 * 86400})

    def _op_StartDeviceAuthorization(self, query, headers, body):
        request = json.loads(body.decode("utf-8"))
        with self._lock:
            known = self._clients.get(request.get("clientId")) == request.get(
                "clientSecret")
        if not known:
            return _error("StartDeviceAuthorization", 401,
                          "InvalidClientException", "unknown client")
        n = self._next_serial()
        device_code, user_code = "fake-device-code-%d" % n, "ABCD-%04d" % n
        with self._lock:
            self._devices[device_code] = {"client": request["clientId"],
                                          "polls": 0, "user_code": user_code}
        return Response(200, {
            "deviceCode": device_code, "userCode": user_code,
            "verificationUri": self.url + "/device",
            "verificationUriComplete": self.url + "/device?user_code=" + user_code,
            "expiresIn": self.device_expires_in,
            "interval": self.device_interval})

    def _op_Authorize(self, query, headers, body):
        from urllib.parse import urlencode

        client_id, redirect = query.get("client_id"), query.get("redirect_uri")
        if client_id not in self._clients or not redirect or query.get(
                "code_challenge_method") != "S256" or query.get(
                    "response_type") != "code":
            return Response(400, {"message": "bad authorize request"})
        if self.authorize_error:
            params = {"error": self.authorize_error,
                      "error_description": "the user said no",
                      "state": query.get("state", "")}
        else:
            code = "fake-code-%d" % self._next_serial()
            with self._lock:
                self._codes[code] = (client_id, redirect,
                                     query.get("code_challenge"))
            params = {"code": code, "state": self.authorize_state
                      or query.get("state", "")}
        return Response(302, b"", {"Location": redirect + "?" + urlencode(params)})


def _error(operation, status, code, message, headers=None):
    if operation in ("CreateToken", "RegisterClient", "StartDeviceAuthorization"):
        headers = dict(headers or {})
        headers.setdefault(
            "x-amzn-ErrorType",
            "%s:http://internal.amazon.com/coral/com.amazonaws.sso.oidc/" % code)
        body = {"error": _OIDC_OAUTH_CODES.get(code, "invalid_request"),
                "error_description": message}
    else:
        body = {"message": message, "__type": _PORTAL_ERROR_TYPE % code}
    return Response(status, body, headers)


def _sts_error(status, code, message):
    return Response(status, (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        "<Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error>"
        "<RequestId>fake</RequestId></ErrorResponse>" % (code, message)),
        {"Content-Type": "text/xml"})


def _check_sigv4(method, path, headers, body, secrets):
    """Verify a SigV4 Authorization header as AWS would; a problem or None."""
    import hashlib
    import hmac

    fields = {}
    auth = headers.get("authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return "missing or foreign Authorization header"
    for item in auth[len("AWS4-HMAC-SHA256 "):].split(","):
        name, _, value = item.strip().partition("=")
        fields[name] = value
    try:
        key_id, day, region, service, terminal = fields["Credential"].split("/")
        signed = fields["SignedHeaders"].split(";")
    except (KeyError, ValueError):
        return "malformed Authorization header"
    with_secret = secrets.get(key_id)
    if with_secret is None:
        return "unknown access key %s" % key_id
    secret, session_token = with_secret
    if session_token is not None and headers.get(
            "x-amz-security-token") != session_token:
        return "missing or wrong X-Amz-Security-Token"
    if "host" not in signed or "x-amz-date" not in signed:
        return "host and x-amz-date must be signed"
    stamp = headers.get("x-amz-date", "")
    if stamp[:8] != day or terminal != "aws4_request":
        return "credential scope does not match X-Amz-Date"
    lines = [method, path, "",
             "".join("%s:%s\n" % (h, " ".join(headers.get(h, "").split()))
                     for h in signed),
             ";".join(signed), hashlib.sha256(body).hexdigest()]
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    message = "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/%s\n%s" % (
        stamp, day, region, service, terminal, digest)
    key = ("AWS4" + secret).encode()
    for piece in (day, region, service, terminal):
        key = hmac.new(key, piece.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, message.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, fields.get("Signature", "")):
        return "the request signature we calculated does not match"
    return None


def _unauthorized():
    return _error("GetRoleCredentials", 401, "UnauthorizedException",
                  "Session token not found or invalid")


class _Handler(BaseHTTPRequestHandler):
    service = None  # type: FakeIdentityCenter

    def log_message(self, *args):
        pass

    def _dispatch(self, method):
        self.service.targets.append(self.path)
        parts = urlsplit(self.path)
        path = parts.path
        operation = _OPERATIONS.get((method, path))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if operation is None:
            self._send(Response(404, {"message": "no route %s %s" % (method,
                                                                    path)}))
            return
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        headers = {k.lower(): v for k, v in self.headers.items()}
        self._send(self.service.handle(operation, method, path, query, headers,
                                       body))

    def _send(self, response):
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.send_header("x-amzn-RequestId", "fake-request-id")
            self.end_headers()
            if response.truncate_at is None:
                self.wfile.write(response.body)
            else:
                self.wfile.write(response.body[:response.truncate_at])
                self.wfile.flush()
                self.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")


# -- demo --------------------------------------------------------------------


def write_sso_home(home, fake, *, profile="demo", session="demo-session",
                   account="111122223333", role="ReadOnly"):
    """Create a throwaway HOME with an sso-session profile and a fresh token.

    Returns the environment (HOME, AWS_CONFIG_FILE, endpoints) to run the
    ssocreds CLI against ``fake``.
    """
    import hashlib

    aws = os.path.join(home, ".aws")
    cache = os.path.join(aws, "sso", "cache")
    os.makedirs(cache, mode=0o700)
    with open(os.path.join(aws, "config"), "w") as f:
        f.write("[profile %s]\nsso_session = %s\nsso_account_id = %s\n"
                "sso_role_name = %s\nregion = us-east-1\n\n"
                "[sso-session %s]\nsso_start_url = https://d-0000000000.awsapps"
                ".com/start\nsso_region = us-east-1\n" % (
                    profile, session, account, role, session))
    token = "demo-access-token"
    fake.add_token(token)
    fake.add_refresh_token("demo-refresh-token", "demo-client", "demo-secret")
    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    name = hashlib.sha1(session.encode("utf-8")).hexdigest() + ".json"
    with open(os.path.join(cache, name), "w") as f:
        json.dump({"startUrl": "https://d-0000000000.awsapps.com/start",
                   "region": "us-east-1", "accessToken": token,
                   "expiresAt": expires, "clientId": "demo-client",
                   "clientSecret": "demo-secret",
                   "registrationExpiresAt": "2099-01-01T00:00:00Z",
                   "refreshToken": "demo-refresh-token"}, f)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and k.lower() not in (
               "http_proxy", "https_proxy", "all_proxy")}
    env.update({"HOME": home, "USERPROFILE": home,
                "AWS_CONFIG_FILE": os.path.join(aws, "config"),
                "AWS_SHARED_CREDENTIALS_FILE": os.path.join(aws, "credentials"),
                "AWS_ENDPOINT_URL_SSO": fake.url,
                "AWS_ENDPOINT_URL_SSO_OIDC": fake.url})
    return env


def demo():
    here = os.path.dirname(os.path.abspath(__file__))
    cli = [sys.executable, os.path.join(here, "ssocreds.py")]
    with FakeIdentityCenter() as fake, tempfile.TemporaryDirectory() as home:
        env = write_sso_home(home, fake)
        print("Fake Identity Center on %s; throwaway HOME %s" % (fake.url, home))
        print("Profile 'demo' (sso-session 'demo-session') logged in.\n")
        steps = [
            ["export", "--profile", "demo"],
            ["export", "--profile", "demo", "--format", "env"],
            ["exec", "--profile", "demo", "--", sys.executable, "-c",
             "import os; print('child sees AWS_ACCESS_KEY_ID=%s, region %s' % "
             "(os.environ['AWS_ACCESS_KEY_ID'], os.environ['AWS_REGION']))"],
        ]
        status = 0
        for args in steps:
            shown = " ".join(args[:5]) + (" ..." if len(args) > 5 else "")
            print("$ ssocreds " + shown)
            result = subprocess.run(cli + args, env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT,
                                    universal_newlines=True)
            print(result.stdout.rstrip())
            print("(exit status %d)\n" % result.returncode)
            status = status or result.returncode
        print("Portal calls: %d GetRoleCredentials (the second and third "
              "commands used ~/.aws/cli/cache)." % fake.calls.get(
                  "GetRoleCredentials", 0))
    return status


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["demo"]:
        return demo()
    if argv[:1] == ["serve"]:
        port = int(argv[1]) if len(argv) > 1 else 0
        with FakeIdentityCenter(port=port) as fake:
            print(fake.url, flush=True)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                return 0
    sys.stderr.write("usage: fakesso.py demo | serve [PORT]\n")
    return 2


if __name__ == "__main__":
    sys.exit(main())
