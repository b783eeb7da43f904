"""Behaviour specs of the ssocreds library (issues 2 and 3)."""

import json
import os
import stat
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

import fakesso
import ssocreds as mod
from conftest import (HERE, START_URL, UTC, botocore_available, iso, now,
                      run_python)

D = datetime
TOKEN = "dGhpcyBpcyBub3QgYSByZWFsIHZhbHVl"  # the Go tests' access token


# -- Timestamps --------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("2044-04-04T07:00:01Z", D(2044, 4, 4, 7, 0, 1, tzinfo=UTC)),
    ("2044-04-04T07:00:01.123Z", D(2044, 4, 4, 7, 0, 1, 123000, tzinfo=UTC)),
    ("2044-04-04T07:00:01.123456789123Z",
     D(2044, 4, 4, 7, 0, 1, 123456, tzinfo=UTC)),
    ("2044-04-04T07:00:01,5Z", D(2044, 4, 4, 7, 0, 1, 500000, tzinfo=UTC)),
    ("2044-04-04T07:00:01.5+01:00", D(2044, 4, 4, 6, 0, 1, 500000, tzinfo=UTC)),
    ("2044-04-04T07:00:01-08:00", D(2044, 4, 4, 15, 0, 1, tzinfo=UTC)),
    ("2044-04-04T07:00:01-00:00", D(2044, 4, 4, 7, 0, 1, tzinfo=UTC)),
    ("2044-04-04T07:00:01+0100", D(2044, 4, 4, 6, 0, 1, tzinfo=UTC)),
    ("2019-11-14T04:05:45UTC", D(2019, 11, 14, 4, 5, 45, tzinfo=UTC)),
    ("2044-04-04t07:00:01z", D(2044, 4, 4, 7, 0, 1, tzinfo=UTC)),
    ("2044-04-04 07:00:01Z", D(2044, 4, 4, 7, 0, 1, tzinfo=UTC)),
    ("2044-04-04T07:00:01", D(2044, 4, 4, 7, 0, 1, tzinfo=UTC)),
    ("9999-12-31T23:59:59Z", D(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
    # the forms botocore's parse_timestamp (dateutil) also reads
    ("2044-04-04T07:00:01+01", D(2044, 4, 4, 6, 0, 1, tzinfo=UTC)),
    ("2044-04-04T07:00:01 UTC", D(2044, 4, 4, 7, 0, 1, tzinfo=UTC)),
    ("2044-04-04T07:00:01GMT", D(2044, 4, 4, 7, 0, 1, tzinfo=UTC)),
    ("20440404T070001Z", D(2044, 4, 4, 7, 0, 1, tzinfo=UTC)),
    ("20440404T070001.25+0100", D(2044, 4, 4, 6, 0, 1, 250000, tzinfo=UTC)),
    ("2044-04-04T07:00Z", D(2044, 4, 4, 7, 0, tzinfo=UTC)),
    ("Mon, 04 Apr 2044 07:00:01 GMT", D(2044, 4, 4, 7, 0, 1, tzinfo=UTC)),
    ("4 Apr 2044 07:00 +0200", D(2044, 4, 4, 5, 0, tzinfo=UTC)),
    ("Mon, 04 Apr 44 07:00:01 GMT", D(2044, 4, 4, 7, 0, 1, tzinfo=UTC)),
    ("2343366001", D(2044, 4, 4, 7, 0, 1, tzinfo=UTC)),
    (" 2044-04-04T07:00:01Z ", D(2044, 4, 4, 7, 0, 1, tzinfo=UTC)),
])
def test_timestamp_formats_written_by_every_sdk_parse(text, expected):
    value = mod._parse_timestamp(text)
    assert value == expected
    assert value.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", [
    "", "garbage", "2044-04-04T24:00:00Z", "2044-04-04T07:00:60Z",
    "2044-02-30T00:00:00Z", "2044-04-04T07Z", "2044-4-4T07:00:01Z",
    "2044-04-04T07:00:01.Z", "12044-04-04T07:00:01Z", "2044-04-04T07:00:01 PST",
    "2044-04-04T07:00:01+1", "2044-04-04T07:00:01+24:00", "nan", "1e400",
    "0000-01-01T00:00:00Z", "2044-04-04T07:00:01+01:0", None, 12,
    "٢٠٤٤-04-04T07:00:01Z", "Mon, 04 Foo 2044 07:00:01 GMT",
])
def test_bad_timestamps_are_rejected_quoting_the_value(text):
    with pytest.raises(mod.Error) as info:
        mod._parse_timestamp(text)
    assert "invalid timestamp" in str(info.value)
    assert repr(text)[:20] in str(info.value)


def test_timestamps_are_written_in_the_cli_format():
    minus8 = timezone(timedelta(hours=-8))
    assert mod._format_timestamp(D(2044, 4, 4, 7, 0, 1, tzinfo=minus8)) == \
        "2044-04-04T15:00:01Z"  # Go's TestStoreTokenTimeZone
    assert mod._format_timestamp(D(2044, 4, 4, 7, 0, 1, 999999, tzinfo=UTC)) \
        == "2044-04-04T07:00:01Z"


# -- Token cache paths -------------------------------------------------------


@pytest.mark.parametrize("key, name", [
    ("https://example.awsapps.com/start",
     "e8be5486177c5b5392bd9aa76563515b29358e6e.json"),
    ("https://invalid-required", "f7f7ff326478d8c33d47eeb3408cf1c783cb611e.json"),
    ("https://valid-required-only",
     "00126f0eb29dc1310529dcc8fc178693e1493135.json"),
    ("https://expired", "b5f90cb535abf87a12eb4c57db2b1e837e229ea0.json"),
    ("test-session", "70780fa17c57df49aa7c7f603fde6ea7a14148f2.json"),
    ("my-sso", "0ad374308c5a4e22f723adf10145eafad7c4031c.json"),
    ("https://my-sso-portal.awsapps.com/start",
     "c7aaaf71fcc8777ae2475525ed049d39fe16c484.json"),
    ("", "da39a3ee5e6b4b0d3255bfef95601890afd80709.json"),
])
def test_standard_cached_token_filepath(home, key, name):
    assert mod.standard_cached_token_filepath(key) == os.path.join(
        home.path, ".aws", "sso", "cache", name)


def test_token_path_hashes_the_exact_utf8_bytes(home):
    path = mod.standard_cached_token_filepath("sessión")
    import hashlib

    assert os.path.basename(path) == hashlib.sha1(
        "sessión".encode("utf-8")).hexdigest() + ".json"


def test_no_home_is_a_clear_error_not_a_relative_path(home, monkeypatch):
    monkeypatch.setenv("HOME", "")
    import pwd

    def no_user(uid):
        raise KeyError(uid)

    monkeypatch.setattr(pwd, "getpwuid", no_user)
    with pytest.raises(mod.Error) as info:
        mod.standard_cached_token_filepath("https://example.awsapps.com/start")
    assert "home directory" in str(info.value) and "HOME" in str(info.value)


def test_home_falls_back_to_the_user_database(home, monkeypatch):
    import pwd

    monkeypatch.delenv("HOME")
    expected = pwd.getpwuid(os.getuid()).pw_dir
    assert mod.standard_cached_token_filepath("k").startswith(expected)


# -- Values ------------------------------------------------------------------


def test_credentials_are_immutable_and_their_repr_hides_secrets():
    creds = mod.Credentials("ASIAKEY", "SECRETVALUE", "SESSIONVALUE",
                            D(2030, 1, 1, tzinfo=UTC), account_id="123")
    for text in (repr(creds), str(creds)):
        assert "SECRETVALUE" not in text and "SESSIONVALUE" not in text
        assert "ASIAKEY" in text and "123" in text
    with pytest.raises(AttributeError):
        creds.access_key_id = "x"
    assert creds.can_expire is True and creds.source == "SSOProvider"
    assert creds == mod.Credentials("ASIAKEY", "SECRETVALUE", "SESSIONVALUE",
                                    D(2030, 1, 1, tzinfo=UTC), account_id="123")
    assert mod.PROVIDER_NAME == "SSOProvider"


def test_token_repr_hides_the_value():
    token = mod.Token("TOPSECRET", D(2030, 1, 1, tzinfo=UTC))
    assert "TOPSECRET" not in repr(token)


def test_invalid_token_error_message_shape():
    cause = ValueError("x")
    try:
        try:
            raise cause
        except ValueError as exc:
            raise mod.InvalidTokenError("the token file is gone",
                                        "aws sso login --profile dev") from exc
    except mod.InvalidTokenError as err:
        assert str(err).startswith(
            "the SSO session has expired or is invalid: the token file is gone")
        assert str(err).endswith("aws sso login --profile dev")
        assert err.__cause__ is cause


# -- Provider: the Go unit-test vectors (go-ssocreds.md 6.1, 6.4) ------------


class StubClient(object):
    """The Go tests' mock GetRoleCredentials client."""

    def __init__(self, result=None, error=None):
        self.result = result
        self.error = error
        self.calls = []

    def get_role_credentials(self, *, account_id, role_name, access_token):
        self.calls.append((account_id, role_name, access_token))
        if self.error:
            raise self.error
        return self.result


# The Go tests' values, with an access key id of the form AWS uses (the
# validation boundary refuses anything else).
GO_RESULT = {"accessKeyId": "ASIAACCESSKEY000", "secretAccessKey": "SecretKey",
             "sessionToken": "SessionToken", "expiration": 1611177743123}


@pytest.fixture
def go_cache(home, clock):
    clock.set(D(2021, 1, 19, 19, 50, tzinfo=UTC))
    home.write_token("https://valid-required-only", raw=json.dumps(
        {"accessToken": TOKEN, "expiresAt": "2021-01-19T23:00:00Z"}))
    home.write_token("https://expired", raw=json.dumps(
        {"accessToken": TOKEN, "expiresAt": "2021-01-19T18:00:00Z"}))
    home.write_token("https://invalid-required", raw=json.dumps(
        {"accessToken": "", "expiresAt": "", "region": "", "startUrl": ""}))
    return home


def test_go_valid_required_parameter_values(go_cache):
    client = StubClient(GO_RESULT)
    creds = mod.Provider(client, "012345678901", "TestRole",
                         "https://valid-required-only").retrieve()
    assert client.calls == [("012345678901", "TestRole", TOKEN)]
    assert creds == mod.Credentials(
        "ASIAACCESSKEY000", "SecretKey", "SessionToken",
        D(2021, 1, 20, 21, 22, 23, 123000, tzinfo=UTC),
        account_id="012345678901")
    assert creds.can_expire and creds.source == "SSOProvider"


def test_go_custom_cached_token_file(go_cache, tmp_path):
    path = tmp_path / "valid_token.json"
    path.write_text(json.dumps({
        "accessToken": TOKEN, "expiresAt": "2044-04-04T07:00:01Z",
        "refreshToken": "refresh token", "clientId": "client id",
        "clientSecret": "client secret", "unknownField": "some value"}))
    client = StubClient(GO_RESULT)
    creds = mod.Provider(client, "012345678901", "TestRole", "ignored value",
                         cached_token_filepath=str(path)).retrieve()
    assert creds.access_key_id == "ASIAACCESSKEY000"
    assert creds.account_id == "012345678901"
    assert client.calls[0][2] == TOKEN


def test_go_missing_required_parameter_values(go_cache):
    client = StubClient(GO_RESULT)
    with pytest.raises(mod.InvalidTokenError) as info:
        mod.Provider(client, "", "", "https://invalid-required").retrieve()
    assert "accessToken" in str(info.value)
    assert client.calls == []


def test_go_expired_access_token(go_cache):
    client = StubClient(GO_RESULT)
    with pytest.raises(mod.InvalidTokenError) as info:
        mod.Provider(client, "012345678901", "TestRole",
                     "https://expired").retrieve()
    assert "SSO session has expired or is invalid" in str(info.value)
    assert "2021-01-19T18:00:00Z" in str(info.value)
    assert client.calls == []


def test_expiry_is_inclusive_now_equal_to_expires_at_is_expired(go_cache, clock):
    clock.set(D(2021, 1, 19, 23, 0, 0, tzinfo=UTC))
    with pytest.raises(mod.InvalidTokenError):
        mod.Provider(StubClient(GO_RESULT), "1", "r",
                     "https://valid-required-only").retrieve()
    clock.set(D(2021, 1, 19, 22, 59, 59, 999999, tzinfo=UTC))
    assert mod.Provider(StubClient(GO_RESULT), "1", "r",
                        "https://valid-required-only").retrieve()


def test_go_api_error_is_returned_unchanged(go_cache):
    error = mod.APIError("GetRoleCredentials", "api error", 500, "api error")
    with pytest.raises(mod.APIError) as info:
        mod.Provider(StubClient(error=error), "012345678901", "TestRole",
                     "https://valid-required-only").retrieve()
    assert info.value is error and "api error" in str(info.value)


@pytest.mark.parametrize("role, missing", [
    ({}, "accessKeyId, secretAccessKey, sessionToken, expiration"),
    (None, "accessKeyId"),
    (dict(GO_RESULT, sessionToken=""), "sessionToken"),
    (dict(GO_RESULT, expiration="soon"), "expiration is not a time"),
    (dict(GO_RESULT, expiration=True), "expiration is not a time"),
    (dict(GO_RESULT, expiration=float("nan")), "expiration is not a time"),
    (dict(GO_RESULT, expiration=1611177743), "must be milliseconds"),
])
def test_incomplete_role_credentials_are_a_clean_error(go_cache, role, missing):
    with pytest.raises(mod.APIError) as info:
        mod.Provider(StubClient(role), "012345678901", "TestRole",
                     "https://valid-required-only").retrieve()
    assert info.value.code == "InvalidResponse"
    assert missing in str(info.value)


@pytest.mark.parametrize("expiration", [
    "1611177743123", 1611177743123.0, 1.611177743123e12, " 1611177743123 "])
def test_expiration_as_a_float_or_a_string_is_read_as_botocore_reads_it(
        go_cache, expiration):
    creds = mod.Provider(StubClient(dict(GO_RESULT, expiration=expiration)),
                         "012345678901", "TestRole",
                         "https://valid-required-only").retrieve()
    assert creds.expires == D(2021, 1, 20, 21, 22, 23, 123000, tzinfo=UTC)


# -- Token file loading (go-ssocreds.md 6.3) ---------------------------------


@pytest.mark.parametrize("raw, phrase", [
    (None, "does not exist"),
    ("{\n", "is not valid JSON"),
    ("", "is not valid JSON"),
    ("[1, 2]", "does not hold a JSON object"),
    ("null", "does not hold a JSON object"),
    (json.dumps({"missing_accessToken": "x", "expiresAt": "2044-04-04T07:00:01Z"}),
     "has no accessToken"),
    (json.dumps({"accessToken": "x", "missing_expiresAt": "2044-04-04T07:00:01Z"}),
     "has no expiresAt"),
    (json.dumps({"accessToken": None, "expiresAt": "2044-04-04T07:00:01Z"}),
     "has no accessToken"),
    (json.dumps({"accessToken": 5, "expiresAt": "2044-04-04T07:00:01Z"}),
     "has no accessToken"),
    (json.dumps({"accessToken": "x", "expiresAt": "tomorrow"}),
     "invalid timestamp 'tomorrow'"),
    (b"\xff\xfe{}", "not valid UTF-8"),
])
def test_bad_token_files_name_the_file_and_the_fault(home, raw, phrase):
    path = home.token_path("k")
    if raw is not None:
        home.write_token("k", raw=raw)
    with pytest.raises(mod.InvalidTokenError) as info:
        mod.Provider(StubClient(GO_RESULT), "1", "r", "k").retrieve()
    message = str(info.value)
    assert phrase in message
    assert path in message
    assert "aws sso login" in message
    assert info.value.path == path
    assert info.value.__cause__ is not None


def test_token_file_checks_run_in_a_fixed_order(home):
    home.write_token("k", raw=json.dumps({"expiresAt": 1, "accessToken": 2}))
    with pytest.raises(mod.InvalidTokenError) as info:
        mod.Provider(StubClient(GO_RESULT), "1", "r", "k").retrieve()
    assert "accessToken" in str(info.value)


def test_token_file_with_bom_and_unknown_fields_is_read(home, fake):
    fake.add_token("tok")
    home.write_token("k", raw=b"\xef\xbb\xbf" + json.dumps({
        "accessToken": "tok", "expiresAt": iso(now() + timedelta(hours=1)),
        "extra": {"nested": [1, 2]}}).encode())
    creds = mod.Provider(mod.PortalClient("us-east-1"), "111122223333",
                         "ReadOnly", "k").retrieve()
    assert creds.access_key_id.startswith("ASIAFAKE")


def test_token_file_that_is_a_directory_or_huge(home):
    os.mkdir(home.token_path("dir"))
    with pytest.raises(mod.InvalidTokenError) as info:
        mod.Provider(StubClient(GO_RESULT), "1", "r", "dir").retrieve()
    assert "cannot read" in str(info.value)
    home.write_token("huge", raw=b" " * (2 << 20))
    with pytest.raises(mod.InvalidTokenError) as info:
        mod.Provider(StubClient(GO_RESULT), "1", "r", "huge").retrieve()
    assert "larger than" in str(info.value)


def test_token_file_reached_through_a_symlink_is_read(home, tmp_path, fake):
    fake.add_token("tok")
    target = tmp_path / "elsewhere.json"
    target.write_text(json.dumps({"accessToken": "tok",
                                  "expiresAt": iso(now() + timedelta(hours=1))}))
    os.symlink(str(target), home.token_path("link"))
    assert mod.Provider(mod.PortalClient("us-east-1"), "111122223333",
                        "ReadOnly", "link").retrieve()


# -- Portal client over real HTTP --------------------------------------------


def portal(fake, **kwargs):
    kwargs.setdefault("retry_base_delay", 0.001)
    return mod.PortalClient("us-east-1", endpoint_url=fake.url, **kwargs)


def test_get_role_credentials_request_on_the_wire(fake):
    fake.add_token("tok/with+odd=chars")
    fake.accounts["0123 4567"] = {"name": "x", "email": "e", "roles": ["a/b c"]}
    result = portal(fake).get_role_credentials(
        account_id="0123 4567", role_name="a/b c",
        access_token="tok/with+odd=chars")
    assert set(result) == {"accessKeyId", "secretAccessKey", "sessionToken",
                           "expiration"}
    op, method, path, headers, body = fake.requests[-1]
    assert (op, method, path, body) == ("GetRoleCredentials", "GET",
                                        "/federation/credentials", b"")
    assert headers["x-amz-sso_bearer_token"] == "tok/with+odd=chars"
    assert "authorization" not in headers and "content-type" not in headers
    agent = headers["user-agent"]
    assert agent.startswith("ssocreds/%s " % mod.__version__)
    assert "lang/python#%d.%d" % sys.version_info[:2] in agent
    assert headers["amz-sdk-request"] == "attempt=1; max=3"


def test_query_values_are_percent_encoded(fake):
    fake.add_token("t")
    fake.script("GetRoleCredentials", fakesso.Response(200, {
        "roleCredentials": GO_RESULT}))
    portal(fake).get_role_credentials(account_id="1 2", role_name="a/b+c~d",
                                      access_token="t")
    # botocore's encoding: everything but A-Z a-z 0-9 - _ . ~ (wire.md 1.1)
    assert fake.targets[-1] == \
        "/federation/credentials?account_id=1%202&role_name=a%2Fb%2Bc~d"


def test_endpoint_path_is_kept_as_a_prefix(fake):
    seen = []
    with fakesso.FakeIdentityCenter() as other:
        other.add_token("t")
        client = mod.PortalClient("us-east-1", endpoint_url=other.url + "/prefix/")
        with pytest.raises(mod.APIError) as info:
            client.get_role_credentials(account_id="1", role_name="r",
                                        access_token="t")
        seen = other.calls
    assert info.value.status == 404  # the fake has no /prefix route
    assert "no route GET /prefix/federation/credentials" in str(info.value)
    assert seen == {}


def test_unauthorized_becomes_invalid_token_error(fake):
    provider_home = mod.Provider(portal(fake), "111122223333", "ReadOnly",
                                 START_URL)
    os.makedirs(os.path.dirname(mod.standard_cached_token_filepath(START_URL)),
                exist_ok=True)
    with open(mod.standard_cached_token_filepath(START_URL), "w") as f:
        json.dump({"accessToken": "revoked",
                   "expiresAt": iso(now() + timedelta(hours=1))}, f)
    with pytest.raises(mod.InvalidTokenError) as info:
        provider_home.retrieve()
    assert "UnauthorizedException" in str(info.value)
    assert "Session token not found or invalid" in str(info.value)
    assert isinstance(info.value.__cause__, mod.APIError)
    assert fake.calls["GetRoleCredentials"] == 1  # 401 is never retried


@pytest.mark.parametrize("status, code", [
    (403, "ForbiddenException"), (404, "ResourceNotFoundException"),
    (400, "InvalidRequestException")])
def test_client_errors_name_the_account_and_role(fake, status, code):
    fake.add_token("t")
    fake.fail("GetRoleCredentials", status, code, "nope")
    with pytest.raises(mod.APIError) as info:
        portal(fake).get_role_credentials(account_id="111122223333",
                                          role_name="Admin", access_token="t")
    err = info.value
    assert (err.code, err.status, err.message) == (code, status, "nope")
    assert "111122223333" in str(err) and "Admin" in str(err)
    assert err.request_id == "fake-request-id"
    assert fake.calls["GetRoleCredentials"] == 1


@pytest.mark.parametrize("headers, body, code, message", [
    ({"x-amzn-ErrorType": "ForbiddenException:http://internal/"}, {}, "ForbiddenException", ""),
    ({}, {"__type": "com.amazonaws.switchboard.portal#UnauthorizedException",
          "message": "m"}, "UnauthorizedException", "m"),
    ({}, {"code": "SomeCode", "Message": "M"}, "SomeCode", "M"),
    ({}, {"error": "invalid_grant", "error_description": "d"},
     "InvalidGrantException", "d"),
    ({}, "<html>oops</html>", "418", ""),
    ({"x-amzn-ErrorType": "HeaderWins"}, {"__type": "a#BodyLoses"}, "HeaderWins", ""),
])
def test_error_codes_are_parsed_like_botocore(fake, headers, body, code, message):
    fake.add_token("t")
    fake.script("GetRoleCredentials", fakesso.Response(418, body, headers))
    with pytest.raises(mod.APIError) as info:
        portal(fake).get_role_credentials(account_id="1", role_name="r",
                                          access_token="t")
    assert (info.value.code, info.value.message) == (code, message)


def test_server_errors_and_throttling_are_retried_then_succeed(fake):
    fake.add_token("t")
    fake.fail("GetRoleCredentials", 500, "InternalServerException")
    fake.fail("GetRoleCredentials", 429, "TooManyRequestsException")
    result = portal(fake).get_role_credentials(
        account_id="111122223333", role_name="ReadOnly", access_token="t")
    assert result["accessKeyId"]
    assert fake.calls["GetRoleCredentials"] == 3
    attempts = [r[3]["amz-sdk-request"] for r in fake.requests]
    assert attempts == ["attempt=1; max=3", "attempt=2; max=3", "attempt=3; max=3"]
    ids = {r[3]["amz-sdk-invocation-id"] for r in fake.requests}
    assert len(ids) == 1


def test_throttling_beyond_the_attempt_limit_fails(fake, monkeypatch):
    fake.add_token("t")
    fake.fail("GetRoleCredentials", 429, "TooManyRequestsException", times=9)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "4")
    with pytest.raises(mod.APIError) as info:
        portal(fake).get_role_credentials(account_id="1", role_name="r",
                                          access_token="t")
    assert info.value.code == "TooManyRequestsException"
    assert fake.calls["GetRoleCredentials"] == 4


def test_max_attempts_one_means_no_retry(fake):
    fake.add_token("t")
    fake.fail("GetRoleCredentials", 503, "ServiceUnavailable", times=2)
    with pytest.raises(mod.APIError):
        portal(fake, max_attempts=1).get_role_credentials(
            account_id="1", role_name="r", access_token="t")
    assert fake.calls["GetRoleCredentials"] == 1


def test_bad_max_attempts_is_a_config_error(home):
    with pytest.raises(mod.ConfigError):
        mod.PortalClient("us-east-1", max_attempts="zero")


def test_read_timeout_is_bounded_and_retried(fake):
    fake.add_token("t")
    fake.delays["GetRoleCredentials"] = 0.5
    client = portal(fake, read_timeout=0.1, max_attempts=2)
    started = time.monotonic()
    with pytest.raises(mod.TransportError) as info:
        client.get_role_credentials(account_id="1", role_name="r",
                                    access_token="t")
    assert time.monotonic() - started < 3
    assert "timed out" in str(info.value)
    assert fake.calls["GetRoleCredentials"] == 2


def test_connection_refused_is_a_transport_error(home):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    client = mod.PortalClient("us-east-1", endpoint_url="http://127.0.0.1:%d" % port,
                              retry_base_delay=0.001)
    with pytest.raises(mod.TransportError) as info:
        client.get_role_credentials(account_id="1", role_name="r",
                                    access_token="t")
    assert "127.0.0.1:%d" % port in str(info.value)
    assert "GetRoleCredentials" in str(info.value)


def test_responses_over_one_mebibyte_are_refused(fake):
    fake.add_token("t")
    fake.script("GetRoleCredentials", fakesso.Response(200, b"{" + b" " * (2 << 20)))
    with pytest.raises(mod.TransportError) as info:
        portal(fake).get_role_credentials(account_id="1", role_name="r",
                                          access_token="t")
    assert "larger than" in str(info.value)


@pytest.mark.parametrize("body", [b"", b"not json", b"[1]", b'{"roleCredentials": 5}'])
def test_malformed_success_bodies_are_api_errors(fake, body):
    fake.add_token("t")
    fake.script("GetRoleCredentials", fakesso.Response(200, body))
    with pytest.raises(mod.APIError) as info:
        portal(fake).get_role_credentials(account_id="1", role_name="r",
                                          access_token="t")
    assert info.value.code == "InvalidResponse"


def test_redirects_are_never_followed_and_the_token_stays_home(fake):
    with fakesso.FakeIdentityCenter() as other:
        other.add_token("t")
        fake.script("GetRoleCredentials", fakesso.Response(
            302, b"", {"Location": other.url + "/federation/credentials"}))
        with pytest.raises(mod.APIError) as info:
            portal(fake).get_role_credentials(account_id="1", role_name="r",
                                              access_token="t")
        assert info.value.status == 302
        assert other.calls == {} and other.requests == []


@pytest.mark.parametrize("url", ["http://portal.example.com",
                                 "http://10.0.0.1:8080", "http://[fe80::1]/"])
def test_plain_http_is_refused_except_for_loopback(home, url):
    with pytest.raises(mod.ConfigError) as info:
        mod.PortalClient("us-east-1", endpoint_url=url)
    assert "https" in str(info.value)


@pytest.mark.parametrize("url", ["http://127.0.0.1:1", "http://127.9.9.9",
                                 "http://[::1]:8080", "http://localhost/x",
                                 "https://portal.example.com"])
def test_loopback_http_and_https_are_accepted(home, url):
    assert mod.PortalClient("us-east-1", endpoint_url=url).endpoint_url == url


@pytest.mark.parametrize("url", ["ftp://x", "portal.example.com", "https://",
                                 "https://h:99999"])
def test_malformed_endpoints_are_config_errors(home, url):
    with pytest.raises(mod.ConfigError):
        mod.PortalClient("us-east-1", endpoint_url=url)


def test_loopback_endpoints_bypass_proxies(fake, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    fake.add_token("t")
    assert portal(fake).get_role_credentials(
        account_id="111122223333", role_name="ReadOnly", access_token="t")


def test_https_goes_through_the_configured_proxy(home, monkeypatch):
    # A proxy that records the CONNECT line and hangs up: the request must
    # try to tunnel through it and fail cleanly.
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    seen = []

    def accept():
        conn, _ = server.accept()
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
        seen.append(data)
        conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        conn.close()

    thread = threading.Thread(target=accept)
    thread.start()
    monkeypatch.setenv("HTTPS_PROXY", "http://user:pw@127.0.0.1:%d" %
                       server.getsockname()[1])
    client = mod.PortalClient("us-east-1", max_attempts=1)
    with pytest.raises(mod.TransportError):
        client.get_role_credentials(account_id="1", role_name="r",
                                    access_token="secret-token")
    thread.join(5)
    server.close()
    assert seen[0].startswith(b"CONNECT portal.sso.us-east-1.amazonaws.com:443 ")
    assert b"Proxy-Authorization: Basic dXNlcjpwdw==" in seen[0]
    assert b"secret-token" not in seen[0]


@pytest.mark.parametrize("content", [None, "not a certificate"])
def test_a_bad_ca_bundle_is_a_config_error(home, tmp_path, monkeypatch, content):
    bundle = tmp_path / "ca.pem"
    if content is not None:
        bundle.write_text(content)
    monkeypatch.setenv("AWS_CA_BUNDLE", str(bundle))
    client = mod.PortalClient("us-east-1", endpoint_url="https://127.0.0.1:1")
    with pytest.raises(mod.ConfigError) as info:
        client.get_role_credentials(account_id="1", role_name="r",
                                    access_token="t")
    assert "cannot use the CA bundle %s" % bundle in str(info.value)


# -- Endpoints (wire.md 2.3) -------------------------------------------------


@pytest.mark.parametrize("region, default, fips, dual, both", [
    ("us-east-1", "portal.sso.us-east-1.amazonaws.com",
     "portal.sso-fips.us-east-1.amazonaws.com", "portal.sso.us-east-1.api.aws",
     "portal.sso-fips.us-east-1.api.aws"),
    ("cn-north-1", "portal.sso.cn-north-1.amazonaws.com.cn",
     "portal.sso-fips.cn-north-1.amazonaws.com.cn",
     "portal.sso.cn-north-1.api.amazonwebservices.com.cn",
     "portal.sso-fips.cn-north-1.api.amazonwebservices.com.cn"),
    ("us-gov-east-1", "portal.sso.us-gov-east-1.amazonaws.com",
     "portal.sso.us-gov-east-1.amazonaws.com", "portal.sso.us-gov-east-1.api.aws",
     "portal.sso-fips.us-gov-east-1.api.aws"),
    ("us-iso-east-1", "portal.sso.us-iso-east-1.c2s.ic.gov",
     "portal.sso-fips.us-iso-east-1.c2s.ic.gov",
     "portal.sso.us-iso-east-1.api.aws.ic.gov",
     "portal.sso-fips.us-iso-east-1.api.aws.ic.gov"),
    ("us-isob-east-1", "portal.sso.us-isob-east-1.sc2s.sgov.gov",
     "portal.sso-fips.us-isob-east-1.sc2s.sgov.gov",
     "portal.sso.us-isob-east-1.api.aws.scloud",
     "portal.sso-fips.us-isob-east-1.api.aws.scloud"),
    ("eu-isoe-west-1", "portal.sso.eu-isoe-west-1.cloud.adc-e.uk",
     "portal.sso-fips.eu-isoe-west-1.cloud.adc-e.uk",
     "portal.sso.eu-isoe-west-1.api.cloud-aws.adc-e.uk",
     "portal.sso-fips.eu-isoe-west-1.api.cloud-aws.adc-e.uk"),
    ("us-isof-south-1", "portal.sso.us-isof-south-1.csp.hci.ic.gov",
     "portal.sso-fips.us-isof-south-1.csp.hci.ic.gov",
     "portal.sso.us-isof-south-1.api.aws.hci.ic.gov",
     "portal.sso-fips.us-isof-south-1.api.aws.hci.ic.gov"),
    ("eusc-de-east-1", "portal.sso.eusc-de-east-1.amazonaws.eu",
     "portal.sso-fips.eusc-de-east-1.amazonaws.eu",
     "portal.sso.eusc-de-east-1.api.amazonwebservices.eu",
     "portal.sso-fips.eusc-de-east-1.api.amazonwebservices.eu"),
    ("xx-foo-1", "portal.sso.xx-foo-1.amazonaws.com",
     "portal.sso-fips.xx-foo-1.amazonaws.com", "portal.sso.xx-foo-1.api.aws",
     "portal.sso-fips.xx-foo-1.api.aws"),
])
def test_portal_endpoints_per_partition(home, region, default, fips, dual, both):
    def host(**kw):
        return mod.PortalClient(region, **kw).endpoint_url

    assert host() == "https://" + default
    assert host(use_fips_endpoint=True) == "https://" + fips
    assert host(use_dualstack_endpoint=True) == "https://" + dual
    assert host(use_fips_endpoint=True, use_dualstack_endpoint=True) == \
        "https://" + both
    oidc = mod.OIDCClient(region, use_fips_endpoint=True).endpoint_url
    assert oidc == "https://" + fips.replace("portal.sso", "oidc")


def test_endpoint_environment_variables(home, monkeypatch):
    monkeypatch.setenv("AWS_USE_FIPS_ENDPOINT", "TRUE")
    assert mod.PortalClient("us-west-2").endpoint_url == \
        "https://portal.sso-fips.us-west-2.amazonaws.com"
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://global.example")
    assert mod.PortalClient("us-west-2").endpoint_url == "https://global.example"
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSO", "https://sso.example")
    assert mod.PortalClient("us-west-2").endpoint_url == "https://sso.example"
    assert mod.OIDCClient("us-west-2").endpoint_url == "https://global.example"
    monkeypatch.setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
    assert mod.PortalClient("us-west-2").endpoint_url == \
        "https://portal.sso-fips.us-west-2.amazonaws.com"


@pytest.mark.parametrize("region", ["", "-bad", "bad-", "123", "us east",
                                    "a" * 64, "evil.com/", None])
def test_regions_must_be_dns_labels(home, region):
    with pytest.raises(mod.ConfigError):
        mod.PortalClient(region)


# -- CredentialsCache --------------------------------------------------------


class CountingProvider(object):
    def __init__(self, lifetime=timedelta(hours=1), delay=0.0, error=None):
        self.calls = 0
        self.lifetime = lifetime
        self.delay = delay
        self.error = error
        self.lock = threading.Lock()

    def retrieve(self):
        with self.lock:
            self.calls += 1
            n = self.calls
        time.sleep(self.delay)
        if self.error:
            raise self.error
        return mod.Credentials("AK%d" % n, "SK", "ST", now() + self.lifetime)


def test_fifty_threads_on_a_cold_cache_make_one_provider_call():
    provider = CountingProvider(delay=0.2)
    cache = mod.CredentialsCache(provider)
    barrier = threading.Barrier(50)
    results = []

    def worker():
        barrier.wait()
        results.append(cache.retrieve())

    threads = [threading.Thread(target=worker) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert provider.calls == 1
    assert len(results) == 50 and len({r.access_key_id for r in results}) == 1


def test_cache_refreshes_inside_the_expiry_window():
    provider = CountingProvider(lifetime=timedelta(minutes=4))
    cache = mod.CredentialsCache(provider, expiry_window=timedelta(minutes=5))
    # a 4-minute credential is fresh for its first half, not refetched per call
    assert cache.retrieve().access_key_id == "AK1"
    assert cache.retrieve().access_key_id == "AK1"
    assert provider.calls == 1
    cache.invalidate()
    assert cache.retrieve().access_key_id == "AK2"


def test_cache_refetches_when_within_the_window(clock):
    clock.set(D(2030, 1, 1, tzinfo=UTC))
    expires = D(2030, 1, 1, 1, tzinfo=UTC)
    seq = []

    class P(object):
        def retrieve(self):
            seq.append(1)
            return mod.Credentials("AK%d" % len(seq), "S", "T", expires)

    cache = mod.CredentialsCache(P(), expiry_window=600)
    cache.retrieve()
    clock.set(expires - timedelta(minutes=10, seconds=1))
    assert cache.retrieve().access_key_id == "AK1"
    clock.set(expires - timedelta(minutes=10))
    assert cache.retrieve().access_key_id == "AK2"


def test_cache_keeps_valid_credentials_when_a_refresh_fails(clock):
    clock.set(D(2030, 1, 1, tzinfo=UTC))
    provider = CountingProvider()
    provider.lifetime = timedelta(hours=1)

    class P(object):
        error = None
        calls = 0

        def retrieve(self):
            P.calls += 1
            if self.error:
                raise self.error
            return mod.Credentials("AK", "S", "T", D(2030, 1, 1, 1, tzinfo=UTC))

    p = P()
    cache = mod.CredentialsCache(p)
    cache.retrieve()
    p.error = mod.TransportError("down")
    clock.set(D(2030, 1, 1, 0, 58, tzinfo=UTC))
    assert cache.retrieve().access_key_id == "AK"  # still valid: served
    assert cache.retrieve().access_key_id == "AK"  # no retry within 30 s
    assert P.calls == 2
    clock.set(D(2030, 1, 1, 1, tzinfo=UTC))
    with pytest.raises(mod.TransportError):
        cache.retrieve()


# -- Shared config (issue 3) -------------------------------------------------


def test_config_parsing_follows_the_aws_rules():
    config = mod._parse_config("""\
# comment
; another
[default]
Region = us-east-1   ; trailing comment
sso_start_url = https://x/start#frag
[profile 'my profile']
KEY=value # comment
url = https://host/a;b
[profile  spaced]
a : b
[profile "double quoted"]
x = 1
[sso-session 'my session']
sso_region = us-west-2
[services my-services]
sso =
  endpoint_url = https://portal.example
  Other = x
sso_oidc =
  endpoint_url = https://oidc.example
[preview]
ignored = yes
[profile]
ignored = yes
[profilefoo]
ignored = yes
""")
    assert config["profiles"]["default"] == {
        "region": "us-east-1", "sso_start_url": "https://x/start#frag"}
    assert config["profiles"]["my profile"] == {"key": "value",
                                                "url": "https://host/a;b"}
    assert config["profiles"]["spaced"] == {"a": "b"}
    assert config["profiles"]["double quoted"] == {"x": "1"}
    assert config["sso_sessions"]["my session"] == {"sso_region": "us-west-2"}
    assert config["services"]["my-services"] == {
        "sso": {"endpoint_url": "https://portal.example", "Other": "x"},
        "sso_oidc": {"endpoint_url": "https://oidc.example"}}
    assert set(config["profiles"]) == {"default", "my profile", "spaced",
                                       "double quoted"}


@pytest.mark.parametrize("text, phrase", [
    ("key = value\n", "before any [section]"),
    ("[profile x\nkey = value\n", "unterminated section"),
    ("[profile x]\njust words\n", "expected 'key = value'"),
])
def test_config_syntax_errors_name_the_line(text, phrase):
    with pytest.raises(mod.ConfigError) as info:
        mod._parse_config(text, "/p/config")
    assert phrase in str(info.value) and "/p/config line" in str(info.value)


def test_legacy_profile_resolves_to_the_start_url_key(legacy, fake):
    profile = mod._load_profile("legacy")
    assert (profile.start_url, profile.region, profile.account_id,
            profile.role_name, profile.sso_session) == (
        START_URL, "us-east-1", "111122223333", "ReadOnly", None)
    assert profile.token_key == START_URL
    creds = mod.from_profile("legacy").retrieve()
    assert creds.account_id == "111122223333"
    assert fake.requests[-1][3]["x-amz-sso_bearer_token"] == "legacy-token"


def test_session_profile_resolves_to_the_session_key(session, fake):
    profile = mod._load_profile("dev")
    assert profile.sso_session == "my-sso" and profile.token_key == "my-sso"
    assert profile.scopes == ["sso:account:access"]
    creds = mod.from_profile("dev").retrieve()
    assert creds.access_key_id.startswith("ASIAFAKE")
    assert fake.requests[-1][3]["x-amz-sso_bearer_token"] == "session-token"
    assert "CreateToken" not in fake.calls


def test_profile_comes_from_aws_profile_then_default(session, fake, monkeypatch):
    with open(session.config, "a") as f:
        f.write("\n[default]\nsso_session = my-sso\nsso_account_id = 111122223333\n"
                "sso_role_name = Admin\n")
    assert mod._load_profile().role_name == "Admin"
    monkeypatch.setenv("AWS_PROFILE", "dev")
    assert mod._load_profile().role_name == "ReadOnly"
    assert mod._load_profile("default").role_name == "Admin"


def test_quoted_session_names_match(home, fake):
    home.write_config("""\
[profile q]
sso_session = my session
sso_account_id = 111122223333
sso_role_name = ReadOnly
[sso-session 'my session']
sso_start_url = https://q/start
sso_region = us-east-1
""")
    profile = mod._load_profile("q")
    assert profile.sso_session == "my session"
    assert profile.token_key == "my session"
    home.write_token("my session", access_token="qt")
    fake.add_token("qt")
    assert mod.from_profile("q").retrieve()


@pytest.mark.parametrize("config, profile, phrases", [
    ("[profile dev]\nsso_account_id = 1\nsso_role_name = r\n", "dev",
     ['profile "dev" is configured to use SSO but is missing required '
      "configuration: sso_region, sso_start_url"]),
    ("[profile dev]\nsso_start_url = https://x\n", "dev",
     ["missing required configuration: sso_account_id, sso_region, "
      "sso_role_name"]),
    ("[profile dev]\nsso_session = s\nsso_account_id = 1\nsso_role_name = r\n"
     "[sso-session s]\nsso_start_url = https://x\n", "dev",
     ["missing required configuration: sso_region", "[sso-session s]"]),
    ("[profile dev]\nsso_session = s\nsso_role_name = r\n"
     "[sso-session s]\nsso_start_url = https://x\nsso_region = us-east-1\n",
     "dev", ["missing required configuration: sso_account_id"]),
    ("[profile dev]\nsso_session = nope\n", "dev",
     ['profile "dev" uses sso_session "nope"', "no [sso-session nope] section"]),
    ("[profile other]\nregion = x\n", "dev",
     ['profile "dev" was not found', "aws configure sso --profile dev"]),
    ("[profile dev]\nregion = us-east-1\noutput = json\n", "dev",
     ['profile "dev"', "is not an SSO profile"]),
    ("[profile dev]\nsso_session = s\nsso_region = us-west-2\n"
     "sso_account_id = 1\nsso_role_name = r\n"
     "[sso-session s]\nsso_start_url = https://x\nsso_region = us-east-1\n",
     "dev", ["sso_region = us-west-2", 'sso-session "s" sets sso_region = '
             "us-east-1"]),
])
def test_config_errors_name_the_profile_and_the_fix(home, config, profile,
                                                    phrases):
    home.write_config(config)
    with pytest.raises(mod.ConfigError) as info:
        mod.from_profile(profile)
    for phrase in phrases:
        assert phrase in str(info.value)
    assert info.value.profile == profile


def test_matching_values_in_profile_and_session_are_fine(session):
    with open(session.config) as f:
        text = f.read()
    session.write_config(text.replace(
        "sso_session = my-sso", "sso_session = my-sso\nsso_region = us-east-1"))
    assert mod._load_profile("dev").region == "us-east-1"


def test_missing_config_file_says_so(home, monkeypatch):
    monkeypatch.setenv("AWS_CONFIG_FILE", os.path.join(home.path, "nope"))
    with pytest.raises(mod.ConfigError) as info:
        mod.from_profile("dev")
    assert "which does not exist" in str(info.value)


def test_config_file_argument_beats_the_environment(session, tmp_path):
    other = tmp_path / "other-config"
    other.write_text("[profile dev]\nsso_start_url = https://o\nsso_region = "
                     "us-east-1\nsso_account_id = 1\nsso_role_name = Other\n")
    assert mod._load_profile("dev", str(other)).role_name == "Other"


def settings_for(home, extra_profile="", extra="", environ=None):
    home.write_config("[profile p]\nsso_start_url = https://s\nsso_region = "
                      "us-east-1\nsso_account_id = 1\nsso_role_name = r\n" +
                      extra_profile + "\n" + extra)
    profile = mod._load_profile("p", environ=dict(environ or {}))
    return (client_facts(mod._client(mod.PortalClient, profile)),
            client_facts(mod._client(mod.OIDCClient, profile)))


def client_facts(client):
    return {"endpoint_url": client.endpoint_url,
            "ca_bundle": client._http.ca_bundle,
            "max_attempts": client._http.max_attempts}


def test_endpoints_from_config_follow_botocore_precedence(home):
    services = ("[services svc]\nsso =\n  endpoint_url = https://portal.svc\n"
                "sso_oidc =\n  endpoint_url = https://oidc.svc\n")
    sso, oidc = settings_for(home, "services = svc\nendpoint_url = "
                             "https://profile.example\n", services)
    assert sso["endpoint_url"] == "https://portal.svc"
    assert oidc["endpoint_url"] == "https://oidc.svc"
    sso, oidc = settings_for(home, "endpoint_url = https://profile.example\n")
    assert sso["endpoint_url"] == oidc["endpoint_url"] == "https://profile.example"
    sso, oidc = settings_for(home, "services = svc\n", services,
                             {"AWS_ENDPOINT_URL_SSO": "https://env.sso",
                              "AWS_ENDPOINT_URL": "https://env.all"})
    assert sso["endpoint_url"] == "https://env.sso"
    assert oidc["endpoint_url"] == "https://env.all"
    sso, _ = settings_for(home, "services = svc\nignore_configured_endpoint_urls"
                          " = TRUE\n", services, {"AWS_ENDPOINT_URL_SSO": "x"})
    assert sso["endpoint_url"] == "https://portal.sso.us-east-1.amazonaws.com"
    sso, _ = settings_for(home, "services = svc\n", services,
                          {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"})
    assert sso["endpoint_url"] == "https://portal.sso.us-east-1.amazonaws.com"


def test_missing_services_section_is_a_config_error(home):
    with pytest.raises(mod.ConfigError) as info:
        settings_for(home, "services = nope\n")
    assert "[services nope]" in str(info.value)


def test_fips_dualstack_ca_bundle_and_attempts_from_config(home):
    sso, oidc = settings_for(home, "use_fips_endpoint = true\n"
                             "use_dualstack_endpoint = true\nca_bundle = /ca.pem\n"
                             "max_attempts = 7\n")
    assert sso["endpoint_url"] == "https://portal.sso-fips.us-east-1.api.aws"
    assert oidc["endpoint_url"] == "https://oidc-fips.us-east-1.api.aws"
    assert (sso["ca_bundle"], sso["max_attempts"]) == ("/ca.pem", 7)
    sso, _ = settings_for(home, "use_fips_endpoint = true\nca_bundle = /ca.pem\n"
                          "max_attempts = 7\n",
                          environ={"AWS_USE_FIPS_ENDPOINT": "false",
                                   "AWS_CA_BUNDLE": "/env.pem",
                                   "AWS_MAX_ATTEMPTS": "2"})
    assert sso["endpoint_url"] == "https://portal.sso.us-east-1.amazonaws.com"
    assert (sso["ca_bundle"], sso["max_attempts"]) == ("/env.pem", 2)
    with pytest.raises(mod.ConfigError) as info:
        settings_for(home, "max_attempts = lots\n")
    assert 'profile "p"' in str(info.value)


def test_endpoint_override_ignores_fips(home):
    sso, _ = settings_for(home, "use_fips_endpoint = true\n",
                          environ={"AWS_ENDPOINT_URL_SSO": "https://custom"})
    assert sso["endpoint_url"] == "https://custom"


# -- SSOTokenProvider: Go vectors (go-ssocreds.md 6.5) -----------------------


class StubOIDC(object):
    def __init__(self, result=None, error=None):
        self.result = result
        self.error = error
        self.calls = []

    def create_token(self, **kwargs):
        self.calls.append(kwargs)
        if self.error:
            raise self.error
        return self.result


EXPIRED_TOKEN = {"accessToken": "expired-access-token",
                 "expiresAt": "2021-12-21T12:21:00Z", "clientId": "client id",
                 "clientSecret": "client secret",
                 "refreshToken": "refresh token", "unknownField": "some value"}


@pytest.fixture
def go_clock(clock):
    clock.set(D(2021, 12, 21, 12, 21, 1, tzinfo=UTC))
    return clock


def write_json(path, document):
    with open(str(path), "w") as f:
        json.dump(document, f)
    os.chmod(str(path), 0o600)
    return str(path)


@pytest.mark.parametrize("drop", ["clientSecret", "clientId", "refreshToken"])
def test_go_expired_token_without_refresh_material(tmp_path, go_clock, drop):
    document = dict(EXPIRED_TOKEN)
    del document[drop]
    path = write_json(tmp_path / "t.json", document)
    with pytest.raises(mod.InvalidTokenError) as info:
        mod.SSOTokenProvider(None, path).retrieve_bearer_token()
    assert "cannot be refreshed (no %s)" % drop in str(info.value)


def test_go_valid_sso_token_makes_no_client_call(tmp_path, go_clock):
    path = write_json(tmp_path / "t.json", {
        "accessToken": TOKEN, "expiresAt": "2044-04-04T07:00:01Z",
        "refreshToken": "refresh token", "clientId": "client id",
        "clientSecret": "client secret", "region": "region",
        "registrationExpiresAt": "2044-04-04T07:00:01Z", "startURL": "start URL"})
    token = mod.SSOTokenProvider(None, path).retrieve_bearer_token()
    assert token == mod.Token(TOKEN, D(2044, 4, 4, 7, 0, 1, tzinfo=UTC))


def test_go_refresh_expired_token(tmp_path, go_clock):
    path = write_json(tmp_path / "t.json", EXPIRED_TOKEN)
    client = StubOIDC({"accessToken": "updated access token", "expiresIn": 600,
                       "refreshToken": "updated refresh token"})
    token = mod.SSOTokenProvider(client, path).retrieve_bearer_token()
    assert client.calls == [{"grant_type": "refresh_token",
                             "client_id": "client id",
                             "client_secret": "client secret",
                             "refresh_token": "refresh token"}]
    assert token == mod.Token("updated access token",
                              D(2021, 12, 21, 12, 31, 1, tzinfo=UTC))
    with open(path) as f:
        assert json.load(f) == {
            "accessToken": "updated access token",
            "expiresAt": "2021-12-21T12:31:01Z",
            "refreshToken": "updated refresh token", "clientId": "client id",
            "clientSecret": "client secret", "unknownField": "some value"}
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_go_fail_refresh_expired_token_leaves_the_file_untouched(tmp_path,
                                                                 go_clock):
    path = write_json(tmp_path / "t.json", EXPIRED_TOKEN)
    with open(path, "rb") as f:
        before = f.read()
    client = StubOIDC(error=mod.APIError("CreateToken", "sky is falling", 500))
    with pytest.raises(mod.InvalidTokenError) as info:
        mod.SSOTokenProvider(client, path).retrieve_bearer_token()
    assert "sky is falling" in str(info.value)
    with open(path, "rb") as f:
        assert f.read() == before


@pytest.mark.parametrize("raw, phrase", [
    (None, "does not exist"), ("{\n", "not valid JSON"),
    (json.dumps({"expiresAt": "2044-04-04T07:00:01Z"}), "has no accessToken"),
    (json.dumps({"accessToken": "a"}), "has no expiresAt")])
def test_go_token_provider_file_errors(tmp_path, go_clock, raw, phrase):
    path = str(tmp_path / "t.json")
    if raw is not None:
        with open(path, "w") as f:
            f.write(raw)
    with pytest.raises(mod.InvalidTokenError) as info:
        mod.SSOTokenProvider(None, path).retrieve_bearer_token()
    assert phrase in str(info.value)


# -- Token refresh over real HTTP --------------------------------------------


def near_expiry(session, minutes=5, **fields):
    document = session.read_token("my-sso")
    document["expiresAt"] = iso(now() + timedelta(minutes=minutes))
    document.update(fields)
    session.write_token("my-sso", raw=json.dumps(document))
    return document


def test_nearly_expired_session_token_is_refreshed_and_written_back(session, fake):
    near_expiry(session, extra={"kept": True})
    creds = mod.from_profile("dev").retrieve()
    assert creds.access_key_id.startswith("ASIAFAKE")
    assert fake.calls["CreateToken"] == 1
    body = json.loads(fake.requests[0][4].decode())
    assert body == {"clientId": "cid", "clientSecret": "csecret",
                    "grantType": "refresh_token", "refreshToken": "rt-1"}
    assert fake.requests[0][3]["content-type"] == "application/json"
    document = session.read_token("my-sso")
    assert document["accessToken"].startswith("fake-access-token-")
    assert document["refreshToken"].startswith("fake-refresh-token-")
    assert document["extra"] == {"kept": True}
    assert document["startUrl"] == START_URL and document["region"] == "us-east-1"
    assert document["clientId"] == "cid"
    expires = mod._parse_timestamp(document["expiresAt"])
    assert abs((expires - now()).total_seconds() - 3600) < 5
    assert document["expiresAt"].endswith("Z") and "." not in document["expiresAt"]
    path = session.token_path("my-sso")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [n for n in os.listdir(session.cache) if n.endswith(".tmp")] == []
    # the portal saw the new token
    assert fake.requests[-1][3]["x-amz-sso_bearer_token"] == document["accessToken"]


def test_refresh_without_a_new_refresh_token_keeps_the_old_one(session, fake):
    fake.rotate_refresh_tokens = False
    near_expiry(session)
    mod.from_profile("dev").retrieve()
    assert session.read_token("my-sso")["refreshToken"] == "rt-1"


def test_fresh_token_is_not_refreshed(session, fake):
    near_expiry(session, minutes=16)
    mod.from_profile("dev").retrieve()
    assert "CreateToken" not in fake.calls


def test_refresh_window_is_configurable(session, fake):
    near_expiry(session, minutes=16)
    provider = mod.SSOTokenProvider(
        mod.OIDCClient("us-east-1"), session.token_path("my-sso"),
        refresh_window=timedelta(minutes=20))
    provider.retrieve_bearer_token()
    assert fake.calls["CreateToken"] == 1


def test_failed_refresh_of_a_still_valid_token_uses_it(session, fake):
    near_expiry(session)
    fake.fail("CreateToken", 400, "InvalidGrantException", "session ended")
    creds = mod.from_profile("dev").retrieve()
    assert creds.access_key_id
    assert session.read_token("my-sso")["accessToken"] == "session-token"


@pytest.mark.parametrize("code, status", [
    ("InvalidGrantException", 400), ("InvalidClientException", 401),
    ("InternalServerException", 500)])
def test_failed_refresh_of_an_expired_token_names_the_login(session, fake, code,
                                                          status):
    near_expiry(session, minutes=-1)
    fake.fail("CreateToken", status, code, "nope", times=3)
    with pytest.raises(mod.InvalidTokenError) as info:
        mod.SSOTokenProvider(
            mod.OIDCClient("us-east-1", retry_base_delay=0.001),
            session.token_path("my-sso"), login_command="aws sso login --profile dev"
        ).retrieve_bearer_token()
    message = str(info.value)
    assert code in message and message.endswith("aws sso login --profile dev")
    assert "GetRoleCredentials" not in fake.calls


def test_expired_registration_is_not_refreshed(session, fake):
    near_expiry(session, minutes=-1,
                registrationExpiresAt=iso(now() - timedelta(days=1)))
    with pytest.raises(mod.InvalidTokenError) as info:
        mod.from_profile("dev").retrieve()
    assert "client registration expired" in str(info.value)
    assert "aws sso login --profile dev" in str(info.value)
    assert "CreateToken" not in fake.calls


def test_legacy_tokens_are_never_refreshed(legacy, fake):
    document = legacy.read_token(START_URL)
    document.update(expiresAt=iso(now() - timedelta(minutes=1)), clientId="c",
                    clientSecret="s", refreshToken="r")
    legacy.write_token(START_URL, raw=json.dumps(document))
    with pytest.raises(mod.InvalidTokenError) as info:
        mod.from_profile("legacy").retrieve()
    assert "expired at" in str(info.value)
    assert "aws sso login --profile legacy" in str(info.value)
    assert fake.calls == {}


def test_read_only_cache_still_returns_the_refreshed_token(session, fake):
    if os.geteuid() == 0:
        # root ignores permission bits: make the write fail another way
        path = session.token_path("my-sso")
        near_expiry(session)
        os.chmod(session.cache, 0o500)
        real = mod._write_file

        def refuse(p, data):
            raise PermissionError(13, "Read-only file system")

        mod._write_file = refuse
        try:
            creds = mod.from_profile("dev").retrieve()
        finally:
            mod._write_file = real
            os.chmod(session.cache, 0o700)
        assert creds.access_key_id
        assert fake.calls["CreateToken"] == 1
        assert json.load(open(path))["accessToken"] == "session-token"
        return
    near_expiry(session)
    os.chmod(session.cache, 0o500)
    try:
        creds = mod.from_profile("dev").retrieve()
    finally:
        os.chmod(session.cache, 0o700)
    assert creds.access_key_id and fake.calls["CreateToken"] == 1


REFRESH_SCRIPT = """
import sys, time
sys.path.insert(0, %r)
import ssocreds
while time.time() < %f:
    time.sleep(0.001)
token = ssocreds.SSOTokenProvider(ssocreds.OIDCClient("us-east-1"), %r)\
    .retrieve_bearer_token()
print(token.value)
"""


def test_sixteen_processes_refresh_once_and_share_the_new_token(session, fake):
    near_expiry(session)
    fake.delays["CreateToken"] = 0.3
    start = time.time() + 1.5
    script = REFRESH_SCRIPT % (HERE, start, session.token_path("my-sso"))
    procs = [subprocess.Popen([sys.executable, "-c", script],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True) for _ in range(16)]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0] * 16, outputs
    assert fake.calls["CreateToken"] == 1
    tokens = {out.strip() for out, _err in outputs}
    document = session.read_token("my-sso")
    assert tokens == {document["accessToken"]}
    assert document["accessToken"] != "session-token"


# -- Interoperability with botocore ------------------------------------------

BOTOCORE_SCRIPT = """
import json, sys, botocore.session
session = botocore.session.Session(profile=sys.argv[1])
creds = session.get_credentials().get_frozen_credentials()
print(json.dumps([creds.access_key, creds.secret_key, creds.token]))
"""


def run_botocore(profile, env):
    result = run_python(BOTOCORE_SCRIPT, profile, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.skipif(not botocore_available(), reason="botocore not installed")
def test_botocore_reads_the_token_we_refreshed(session, fake):
    near_expiry(session)
    ours = mod.from_profile("dev").retrieve()
    assert fake.calls["CreateToken"] == 1
    theirs = run_botocore("dev", dict(os.environ))
    assert fake.calls["CreateToken"] == 1  # botocore found our token fresh
    assert theirs[0].startswith("ASIAFAKE") and theirs[0] != ours.access_key_id
    token = session.read_token("my-sso")["accessToken"]
    assert fake.requests[-1][3]["x-amz-sso_bearer_token"] == token


@pytest.mark.skipif(not botocore_available(), reason="botocore not installed")
def test_we_read_the_token_botocore_refreshed(session, fake):
    near_expiry(session)
    run_botocore("dev", dict(os.environ))
    assert fake.calls["CreateToken"] == 1
    document = session.read_token("my-sso")
    assert document["accessToken"] != "session-token"
    mod.from_profile("dev").retrieve()
    assert fake.calls["CreateToken"] == 1
    assert fake.requests[-1][3]["x-amz-sso_bearer_token"] == document["accessToken"]


@pytest.mark.skipif(not botocore_available(), reason="botocore not installed")
def test_botocore_and_we_agree_on_legacy_profiles(legacy, fake):
    theirs = run_botocore("legacy", dict(os.environ))
    ours = mod.from_profile("legacy").retrieve()
    assert theirs[0].startswith("ASIAFAKE") and ours.access_key_id.startswith(
        "ASIAFAKE")
    assert [r[3]["x-amz-sso_bearer_token"] for r in fake.requests] == [
        "legacy-token"] * 2
    assert fake.requests[0][2] == fake.requests[1][2]


@pytest.mark.parametrize("expires_at", [
    "2099-01-01T00:00:00Z", "2099-01-01T00:00:00.123Z",
    "2099-01-01T00:00:00.123456789Z", "2099-01-01T01:00:00+01:00",
    "2099-01-01T00:00:00UTC"])
def test_tokens_written_by_other_sdks_are_read(legacy, fake, expires_at):
    document = legacy.read_token(START_URL)
    document["expiresAt"] = expires_at
    legacy.write_token(START_URL, raw=json.dumps(document, indent=2))
    assert mod.from_profile("legacy").retrieve().access_key_id


# -- Import cost -------------------------------------------------------------


def test_import_loads_no_network_or_heavy_modules():
    # compare with the interpreter's own start-up (site may import some)
    code = ("import sys; before = set(sys.modules); import ssocreds; "
            "print(sorted(m for m in ("
            "'urllib.request', 'http.client', 'ssl', 'email', 'email.parser', "
            "'argparse', 'logging', 'typing', 'socket', 'threading', 'hashlib') "
            "if m in sys.modules and m not in before))")
    result = run_python(code, cwd=HERE)
    assert result.stdout.strip() == "[]"


# -- JSON without the json module --------------------------------------------


@pytest.mark.parametrize("text", [
    '{"a": 1, "b": [true, false, null, 1.5, -2e3, "x\\u00e9\\n"], "c": {}}',
    ' \n\t{"nested": {"deep": [[], {}]}} \r\n', '[]', '"s"', '12', 'null',
    '{"dup": 1, "dup": 2}', '{"big": 12345678901234567890}', '[NaN, Infinity]'])
def test_json_loads_matches_the_json_module(text):
    got = mod._json_loads(text)
    want = json.loads(text)
    assert json.dumps(got, sort_keys=True) == json.dumps(want, sort_keys=True)


@pytest.mark.parametrize("text", ["", " ", "{", '{"a": 1} x', "{'a': 1}",
                                  '{"a": 1,}', "[1 2]", '"\\x"', "nul"])
def test_json_loads_rejects_what_json_rejects(text):
    with pytest.raises(ValueError):
        json.loads(text)
    with pytest.raises(ValueError):
        mod._json_loads(text)


def test_process_output_is_exactly_json_dumps_indent_2():
    creds = mod.Credentials('AK"\\', "sé/+=", "tok\n\u2028",
                            D(2030, 1, 2, 3, 4, 5, tzinfo=UTC), account_id="1")
    text = mod._format_credentials(creds, "process")
    assert text == json.dumps({
        "Version": 1, "AccessKeyId": 'AK"\\', "SecretAccessKey": "sé/+=",
        "SessionToken": "tok\n\u2028", "Expiration": "2030-01-02T03:04:05Z",
        "AccountId": "1"}, indent=2) + "\n"


def test_json_loads_reports_errors_in_a_fresh_interpreter():
    # without json.decoder loaded, some _json versions cannot raise properly
    code = ("import ssocreds\nfor t in ('{', '{\"a\"', '[1,'):\n    try:\n"
            "        ssocreds._json_loads(t)\n    except ValueError:\n"
            "        print('ok')\n")
    result = run_python(code, cwd=HERE)
    assert result.stdout.split() == ["ok"] * 3, result.stderr


def test_credentials_expired_is_inclusive_at_expiry():
    expires = datetime(2030, 1, 1, tzinfo=timezone.utc)
    creds = mod.Credentials("AKID", "secret", "token", expires)
    assert not creds.expired(expires - timedelta(seconds=1))
    assert creds.expired(expires)
    assert not creds.expired() or expires <= datetime.now(timezone.utc)
