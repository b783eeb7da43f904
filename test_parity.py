"""Parity with botocore: the same files and answers give the same result.

Each case writes a config (and credentials file, token files), then resolves
one profile with botocore (in this process, as the AWS CLI would) and with
ssocreds, against one fake Identity Center and STS.  The two must make the
same calls (operation, host, account and role, bearer token, role ARN,
signing key) and both succeed or both fail; the few deliberate differences
README lists are checked as such.  Generated configs (hypothesis) must parse
to the same profiles, sso-sessions and services as botocore's configloader.
"""

import json
import os
import sys
from datetime import timedelta
from urllib.parse import parse_qsl

import pytest

import ssocreds
from conftest import START_URL, botocore_available, iso, now

try:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - CI installs hypothesis
    given = None

pytestmark = pytest.mark.skipif(not botocore_available(),
                                reason="botocore not installed")

ACCOUNT = "111122223333"
STATIC = ("AKIASTATICKEY0000001", "static-secret")
CHAINED = "arn:aws:iam::111122223333:role/Chained"
SECOND = "arn:aws:iam::111122223333:role/Second"
SESSION = ("[sso-session corp]\nsso_start_url = %s\nsso_region = us-east-1\n"
           % START_URL)
DEV = ("[profile dev]\nsso_session = corp\nsso_account_id = %s\n"
       "sso_role_name = ReadOnly\n" % ACCOUNT)
ADMIN = DEV.replace("dev]", "admin]").replace("ReadOnly", "Admin")
LEGACY = ("[profile legacy]\nsso_start_url = %s\nsso_region = us-east-1\n"
          "sso_account_id = %s\nsso_role_name = ReadOnly\n" % (START_URL,
                                                               ACCOUNT))
KEYS = "aws_access_key_id = %s\naws_secret_access_key = %s\n" % STATIC
TOP = "[profile top]\nregion = eu-west-1\nrole_arn = %s\nsource_profile = %%s\n" % CHAINED


@pytest.fixture
def world(home, fake, monkeypatch):
    """The fake with a role account, STS roles, a static key and valid
    tokens for sso-session "corp" and the legacy start URL."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", fake.url)
    fake.roles[CHAINED] = {}
    fake.roles[SECOND] = {}
    fake.add_static_key(*STATIC)
    fake.add_token("tok-corp")
    fake.add_token("tok-legacy")
    fake.add_refresh_token("rt-corp", "cid", "csecret")
    fake.rotate_refresh_tokens = False
    return home


def write_files(home, fake, config, credentials=None, token=None):
    """(Re)write every file of a case: botocore may refresh a token."""
    text = config.replace("{url}", fake.url).replace("{python}", sys.executable).replace(
        "{local}", fake.url.replace("127.0.0.1", "localhost"))
    with open(home.config, "wb") as f:
        f.write(text.encode("utf-8"))
    if os.path.exists(home.credentials):
        os.unlink(home.credentials)
    if credentials is not None:
        with open(home.credentials, "w") as f:
            f.write(credentials)
    expires = iso(now() + timedelta(hours=2))
    corp = {"startUrl": START_URL, "region": "us-east-1",
            "accessToken": "tok-corp", "expiresAt": expires,
            "clientId": "cid", "clientSecret": "csecret",
            "refreshToken": "rt-corp",
            "registrationExpiresAt": iso(now() + timedelta(days=30))}
    corp.update(token or {})
    home.write_token("corp", raw=json.dumps(corp))
    home.write_token(START_URL, raw=json.dumps({
        "startUrl": START_URL, "region": "us-east-1",
        "accessToken": "tok-legacy", "expiresAt": expires}))


def calls(fake, start):
    """What the fake saw since request ``start``, without per-run values."""
    seen = []
    for (op, _method, _path, headers, body), (_op, host, query) in zip(
            fake.requests[start:], fake.log[start:]):
        if op == "GetRoleCredentials":
            token = headers.get("x-amz-sso_bearer_token", "")
            seen.append((op, host, query.get("account_id"),
                         query.get("role_name"), "refreshed" if token.startswith(
                             "fake-access-token-") else token))
        elif op == "AssumeRole":
            form = dict(parse_qsl(body.decode("utf-8")))
            key = headers.get("authorization", "").partition(
                "Credential=")[2].partition("/")[0]
            seen.append((op, host, form.get("RoleArn"),
                         form.get("DurationSeconds"), form.get("ExternalId"),
                         key if key == STATIC[0] else "issued"))
        else:
            form = json.loads(body.decode("utf-8") or "{}")
            seen.append((op, host, form.get("grantType")))
    return seen


_LOADER = []


def botocore_session(profile):
    """A fresh botocore Session sharing one data loader (its service models
    are read once, as in a long-running program)."""
    import botocore.session

    session = botocore.session.Session(profile=profile)
    if _LOADER:
        session.register_component("data_loader", _LOADER[0])
    else:
        _LOADER.append(session.get_component("data_loader"))
    return session


def botocore_outcome(profile):
    try:
        creds = botocore_session(profile).get_credentials()
        if creds is None:
            return "fail", "no credentials"
        creds.get_frozen_credentials()
    except Exception as exc:  # any failure of theirs counts as failing
        return "fail", "%s: %s" % (type(exc).__name__, exc)
    return "ok", None


def ssocreds_outcome(profile):
    try:
        ssocreds._build_chain(profile).provider.retrieve()
    except ssocreds.Error as exc:  # anything else is a bug: let it raise
        return "fail", str(exc)
    return "ok", None


def run_both(home, fake, monkeypatch, case):
    import botocore.credentials
    import botocore.tokens

    # botocore fixes the token directory when it is first imported
    for cls in (botocore.credentials.SSOProvider,
                botocore.tokens.SSOTokenProvider):
        monkeypatch.setattr(cls, "_SSO_TOKEN_CACHE_DIR", home.cache)
    for name, value in case.get("env", {}).items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    if "rewrite" in case:
        fake.rewrite(*case["rewrite"])
    results = []
    for outcome in (botocore_outcome, ssocreds_outcome):
        write_files(home, fake, case["config"], case.get("credentials"),
                    case.get("token"))
        start = len(fake.requests)
        status, detail = outcome(case.get("profile", "dev"))
        results.append((status, detail, calls(fake, start)))
    return results


def same_calls(theirs, ours):
    # botocore refreshes an expired token file once more than needed when
    # the refresh fails; the calls that reach the portal must agree
    return [c for c in theirs if c[0] != "CreateToken"] == [
        c for c in ours if c[0] != "CreateToken"]


def chain(top_extra="", source="dev", more=""):
    return TOP % source + top_extra + more + SESSION


CASES = {
    # 1: keys indented alike are keys, not one continued value
    "indented-keys": dict(config="[profile dev]\n  sso_session = corp\n"
                          "  sso_account_id = %s\n  sso_role_name = Admin\n"
                          % ACCOUNT + SESSION),
    "deeper-indent-continues": dict(config="[profile dev]\nsso_session = corp\n"
                                    "  sso_account_id = %s\nsso_role_name = "
                                    "Admin\n" % ACCOUNT + SESSION),
    "tab-indented-keys": dict(config=DEV.replace("\nsso_", "\n\tsso_")
                              + SESSION),
    # 2: AWS_DEFAULT_PROFILE wins over AWS_PROFILE
    "default-profile-variable-wins": dict(
        config=DEV + ADMIN + SESSION, profile=None,
        env={"AWS_PROFILE": "dev", "AWS_DEFAULT_PROFILE": "admin"}),
    "profile-variable": dict(config=DEV + ADMIN + SESSION, profile=None,
                             env={"AWS_PROFILE": "admin"}),
    "empty-profile-variable": dict(config=DEV + SESSION + "[default]\n"
                                   + DEV.split("\n", 1)[1], profile=None,
                                   env={"AWS_PROFILE": ""}),
    # 3: only \n, \r\n and \r end a line
    "u2028-inside-a-comment": dict(config=DEV + "# note\u2028sso_role_name = "
                                   "Admin\n" + SESSION),
    "nel-inside-a-comment": dict(config=DEV + "# note\x85sso_role_name = "
                                 "Admin\n" + SESSION),
    "form-feed-inside-a-comment": dict(config=DEV + "; x\x0csso_role_name = "
                                       "Admin\n" + SESSION),
    "crlf-line-ends": dict(config=(DEV + SESSION).replace("\n", "\r\n")),
    "cr-line-ends": dict(config=(ADMIN + SESSION).replace("\n", "\r"),
                         profile="admin"),
    # 4: every link, SSO included, uses the requested profile's endpoints
    "chain-sso-uses-top-services": dict(
        config=chain("services = local\n", more="[services local]\nsso =\n"
                     "  endpoint_url = {local}\n") + DEV
        + "endpoint_url = {url}\n",
        profile="top", env={"AWS_ENDPOINT_URL_SSO": None}),
    "chain-sso-uses-top-endpoint-url": dict(
        config=chain("endpoint_url = {local}\n") + DEV
        + "services = mine\n[services mine]\nsso =\n  endpoint_url = {url}\n",
        profile="top", env={"AWS_ENDPOINT_URL_SSO": None,
                            "AWS_ENDPOINT_URL_STS": None}),
    # 5: a source profile is tried as botocore tries it: SSO, then keys
    "source-with-sso-and-keys-uses-sso": dict(
        config=chain() + DEV + KEYS, profile="top"),
    "source-with-role-and-keys-uses-keys": dict(
        config=chain(more="[profile mid]\nrole_arn = %s\nsource_profile = dev\n"
                     % SECOND + KEYS, source="mid") + DEV, profile="top"),
    "source-referring-to-itself-with-keys": dict(
        config=chain(KEYS, source="top"), profile="top"),
    "source-referring-to-itself-without-keys": dict(
        config=chain(source="top"), profile="top"),
    "source-with-keys-in-the-credentials-file": dict(
        config=chain(source="keys") + "[profile keys]\nregion = eu-west-1\n",
        credentials="[keys]\n" + KEYS, profile="top"),
    "credentials-file-keys-come-with-their-own-token": dict(
        config=chain(source="keys") + "[profile keys]\n" + KEYS
        + "aws_session_token = stale\n", credentials="[keys]\n" + KEYS,
        profile="top"),
    "credentials-file-key-without-its-secret": dict(
        config=chain(source="keys") + "[profile keys]\n" + KEYS,
        credentials="[keys]\naws_access_key_id = %s\n" % STATIC[0],
        profile="top"),
    "source-with-partial-keys": dict(
        config=chain(source="keys") + "[profile keys]\naws_access_key_id = "
        "%s\n" % STATIC[0], profile="top"),
    "chain-loop": dict(config=chain(source="mid") + "[profile mid]\nrole_arn "
                       "= %s\nsource_profile = top\n" % SECOND, profile="top"),
    "missing-source-profile": dict(config=chain(source="nope"), profile="top"),
    "role-without-source": dict(config="[profile top]\nrole_arn = %s\n"
                                % CHAINED, profile="top"),
    "two-link-chain": dict(
        config=chain(source="mid") + "[profile mid]\nrole_arn = %s\n"
        "source_profile = dev\nexternal_id = ext\n" % SECOND + DEV,
        profile="top"),
    # 6: the credentials file is part of the config
    "profile-only-in-the-credentials-file": dict(
        config=SESSION, credentials="[dev]\n" + DEV.split("\n", 1)[1]),
    "credentials-file-keys-win": dict(
        config=DEV + SESSION, credentials="[dev]\nsso_role_name = Admin\n"),
    "credentials-file-profile-prefix-is-a-name": dict(
        config=DEV + SESSION,
        credentials="[profile dev]\nsso_role_name = Admin\n"),
    "credentials-file-legacy-profile": dict(
        config="", credentials=LEGACY.replace("[profile legacy]", "[legacy]"),
        profile="legacy"),
    # 7: sso_account_id / sso_role_name may sit in the sso-session
    "role-name-from-the-session": dict(
        config="[profile dev]\nsso_session = corp\nsso_account_id = %s\n"
        % ACCOUNT + SESSION + "sso_role_name = Admin\n"),
    "account-from-the-session": dict(
        config="[profile dev]\nsso_session = corp\nsso_role_name = Admin\n"
        + SESSION + "sso_account_id = %s\n" % ACCOUNT),
    "both-from-the-session": dict(
        config="[profile dev]\nsso_session = corp\n" + SESSION
        + "sso_account_id = %s\nsso_role_name = Admin\n" % ACCOUNT),
    # 8: two headers naming one section: the last one wins
    "two-spellings-of-one-profile": dict(
        config=DEV + DEV.replace("[profile dev]", "[profile  dev]").replace(
            "ReadOnly", "Admin") + SESSION),
    "quoted-and-plain-profile": dict(
        config=DEV.replace("[profile dev]", "[profile 'dev']") + DEV.replace(
            "ReadOnly", "Admin") + SESSION),
    "quoted-session-after-plain": dict(
        config=DEV + SESSION + "[sso-session 'corp']\nsso_start_url = %s\n"
        % START_URL),
    "default-then-profile-default": dict(
        config="[default]\n" + DEV.split("\n", 1)[1] + "[profile default]\n"
        + ADMIN.split("\n", 1)[1] + SESSION, profile="default"),
    "profile-default-then-default": dict(
        config="[profile default]\n" + DEV.split("\n", 1)[1] + "[default]\n"
        + ADMIN.split("\n", 1)[1] + SESSION, profile="default"),
    "leading-space-in-header": dict(config="[ profile dev]\n"
                                    + DEV.split("\n", 1)[1] + SESSION),
    "DEFAULT-section-supplies-keys": dict(
        config="[DEFAULT]\nsso_role_name = Admin\n[profile dev]\nsso_session "
        "= corp\nsso_account_id = %s\n" % ACCOUNT + SESSION),
    # 9: botocore's validation
    "profile-and-session-disagree-on-any-key": dict(
        config=DEV + "sso_registration_scopes = a\n" + SESSION
        + "sso_registration_scopes = b\n"),
    "profile-and-session-agree": dict(
        config=DEV + "sso_region = us-east-1\n" + SESSION),
    "session-without-region": dict(
        config=DEV + "sso_region = us-east-1\n[sso-session corp]\n"
        "sso_start_url = %s\n" % START_URL),
    "session-missing": dict(config=DEV),
    "legacy-profile": dict(config=LEGACY, profile="legacy"),
    "legacy-without-role": dict(config=LEGACY.replace(
        "sso_role_name = ReadOnly\n", ""), profile="legacy"),
    # 10: nested keys keep their case; a nested line needs '='
    "nested-keys-are-case-sensitive": dict(
        config=DEV + "services = s\nendpoint_url = {url}\n" + SESSION
        + "[services s]\nsso =\n  Endpoint_URL = {local}\n",
        env={"AWS_ENDPOINT_URL_SSO": None}),
    "nested-line-without-equals": dict(
        config=DEV + "services = s\n" + SESSION
        + "[services s]\nsso =\n  endpoint_url {local}\n",
        env={"AWS_ENDPOINT_URL_SSO": None}),
    "services-endpoint": dict(
        config=DEV + "services = s\n" + SESSION
        + "[services s]\nsso =\n  endpoint_url = {local}\n",
        env={"AWS_ENDPOINT_URL_SSO": None}),
    # 12: token expiry forms botocore reads
    **{"expires-at-" + form: dict(config=DEV + SESSION,
                                  token={"expiresAt": value})
       for form, value in [
           ("hours-offset", "2099-01-01T00:00:00+05"),
           ("space-utc", "2099-01-01T00:00:00 UTC"),
           ("gmt", "2099-01-01T00:00:00GMT"),
           ("basic", "20990101T000000Z"),
           ("no-seconds", "2099-01-01T00:00Z"),
           ("rfc1123", "Thu, 01 Jan 2099 00:00:00 GMT"),
           ("fraction", "2099-01-01T00:00:00.123456Z")]},
    # 13, 14: numbers as floats or strings; answers already expired
    **{"portal-expiration-" + name: dict(
        config=DEV + SESSION,
        rewrite=("GetRoleCredentials", lambda doc, f=function: dict(
            doc, roleCredentials=dict(doc["roleCredentials"], expiration=f(
                doc["roleCredentials"]["expiration"])))))
       for name, function in [("float", float), ("string", str),
                              ("exponent", lambda v: float("%.6e" % v)),
                              ("in-seconds", lambda v: v // 1000)]},
    **{"create-token-expires-in-" + name: dict(
        config=DEV + SESSION, token={"expiresAt": iso(
            now() + timedelta(minutes=5))},
        rewrite=("CreateToken", lambda doc, v=value: dict(doc, expiresIn=v)))
       for name, value in [("float", 3600.0), ("string", "3600")]},
    # 15: a duration botocore cannot read is ignored
    **{"duration-" + name: dict(config=chain("duration_seconds = %s\n" % value)
                                + DEV, profile="top")
       for name, value in [("1h", "1h"), ("900", "900"), ("spaced", " 1800 "),
                           ("empty", "")]},
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_botocore_and_ssocreds_agree(world, fake, monkeypatch, name):
    (theirs, their_detail, their_calls), (ours, our_detail, our_calls) = \
        run_both(world, fake, monkeypatch, CASES[name])
    assert ours == theirs, "botocore: %s %s / ssocreds: %s %s" % (
        theirs, their_detail, ours, our_detail)
    assert same_calls(their_calls, our_calls), (their_calls, our_calls)


# -- The deliberate differences README lists ----------------------------------

DIFFERENCES = {
    # botocore cannot read these files at all
    "byte-order-mark": dict(config="\ufeff" + DEV + SESSION),
    "repeated-header-merges": dict(config=DEV.replace(
        "sso_role_name = ReadOnly\n", "") + SESSION + "[profile dev]\n"
        "sso_role_name = ReadOnly\n"),
    "repeated-key-last-wins": dict(config=DEV.replace(
        "sso_role_name = ReadOnly\n", "sso_role_name = Admin\n"
        "sso_role_name = ReadOnly\n") + SESSION),
    # botocore keeps the comment as part of the value
    "inline-comment": dict(config=DEV.replace(
        "ReadOnly\n", "ReadOnly  # the read-only role\n") + SESSION),
    # botocore runs these sources; ssocreds refuses them
    "credential-process-source": dict(
        config=chain(source="proc") + "[profile proc]\ncredential_process = "
        "{python} -c \"print('{\\\"Version\\\": 1, \\\"AccessKeyId\\\": \\\"%s\\\", "
        "\\\"SecretAccessKey\\\": \\\"%s\\\"}')\"\n" % STATIC, profile="top",
        ours="fail"),
    "credential-source": dict(config="[profile top]\nregion = eu-west-1\n"
                              "role_arn = %s\ncredential_source = Environment\n"
                              % CHAINED, profile="top", ours="fail",
                              env={"AWS_ACCESS_KEY_ID": STATIC[0],
                                   "AWS_SECRET_ACCESS_KEY": STATIC[1]}),
    # only the sections a command reads must parse
    "syntax-error-in-an-unread-section": dict(
        config=DEV + SESSION + "[profile other]\njust words\n"),
    "bad-nested-block-the-environment-overrides": dict(
        config=DEV + "services = s\n" + SESSION
        + "[services s]\nsso =\n  endpoint_url {local}\n"),
    # botocore reads [profilex dev] as profile "dev"
    "profile-prefix-without-space": dict(
        config="[profilex dev]\n" + DEV.split("\n", 1)[1] + SESSION,
        ours="fail", theirs="ok"),
}


@pytest.mark.parametrize("name", sorted(DIFFERENCES))
def test_documented_differences(world, fake, monkeypatch, name):
    case = DIFFERENCES[name]
    (theirs, their_detail, _), (ours, our_detail, our_calls) = run_both(
        world, fake, monkeypatch, case)
    expected_ours = case.get("ours", "ok")
    assert ours == expected_ours, our_detail
    if expected_ours == "ok":
        assert our_calls == [("GetRoleCredentials", fake.url[7:], ACCOUNT,
                              "ReadOnly", "tok-corp")]
    assert theirs == case.get("theirs", "fail" if expected_ours == "ok"
                              else "ok"), their_detail


def test_readme_lists_every_difference_the_suite_knows():
    with open(os.path.join(os.path.dirname(__file__), "README.md")) as f:
        readme = f.read()
    section = readme.split("### Where ssocreds deliberately differs", 1)[1]
    section = section.split("\n## ", 1)[0]
    for phrase in ("byte-order mark", "repeated", "Inline comments",
                   "never reads",
                   "credential_process", "credential_source", "[profilex",
                   "three attempts", "https", "AWS_REGION", "global STS"):
        assert phrase in section, phrase


# -- Endpoints: the same URL for the same settings ----------------------------

@pytest.mark.parametrize("config, env", [
    ("use_fips_endpoint = true\n", {}),
    ("use_fips_endpoint = true\n", {"AWS_USE_FIPS_ENDPOINT": ""}),
    ("use_dualstack_endpoint = true\n", {"AWS_USE_DUALSTACK_ENDPOINT": ""}),
    ("use_dualstack_endpoint = true\n", {}),
    ("", {"AWS_USE_FIPS_ENDPOINT": "true"}),
    ("endpoint_url = https://a.example\n", {"AWS_ENDPOINT_URL": ""}),
    ("endpoint_url = https://a.example\n", {"AWS_ENDPOINT_URL_SSO": ""}),
    ("services = s\n[services s]\nsso =\n  endpoint_url = https://b.example\n",
     {}),
    ("services = s\n[services s]\nsso =\n  ENDPOINT_URL = https://b.example\n",
     {}),
    ("endpoint_url = https://a.example\nignore_configured_endpoint_urls = "
     "true\n", {}),
    ("endpoint_url = https://a.example\n",
     {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": ""}),
])
@pytest.mark.parametrize("service, client", [("sso", "PortalClient"),
                                             ("sso-oidc", "OIDCClient")])
def test_endpoints_agree(home, monkeypatch, config, env, service, client):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    first, _, rest = config.partition("[services")
    home.write_config(DEV + first + SESSION + (("[services" + rest)
                                               if rest else ""))
    theirs = botocore_session("dev").create_client(
        service, region_name="us-west-2").meta.endpoint_url
    profile = ssocreds._load_profile("dev")
    ours = ssocreds._client(getattr(ssocreds, client), profile,
                            "us-west-2")._http.endpoint
    assert ours.rstrip("/") == theirs.rstrip("/")


# -- Generated configs parse as botocore parses them --------------------------

if given is not None:
    NAMES = st.sampled_from(["dev", "prod", "a b", "default", "x"])
    VALUE_CHARS = st.sampled_from(list("aZ09=:/._-") + [" ", "\t", "\u2028",
                                                         "\x0c", "\x85", "#",
                                                         "\u00a0", "é"])
    VALUES = st.text(VALUE_CHARS, max_size=8)
    INDENT = st.sampled_from(["", " ", "  ", "\t", "    "])

    def header(kind, name, quote, spaces):
        if kind == "default":
            return "[default]"
        if kind in ("DEFAULT", "other"):
            return "[%s]" % kind
        if quote == "mixed":  # quotes inside the word: d'ev' is dev
            name = "%s'%s'" % (name[:1], name[1:])
        elif quote or " " in name:
            name = "%s%s%s" % ("'" if quote != '"' else '"', name,
                               "'" if quote != '"' else '"')
        return "[%s%s%s]" % (kind, spaces, name)

    HEADERS = st.builds(header, st.sampled_from(
        ["profile", "profile", "sso-session", "services", "default",
         "DEFAULT", "other"]), NAMES, st.sampled_from(["", "'", '"', "mixed"]),
        st.sampled_from([" ", "  ", "\t"]))
    KEYS_ = st.sampled_from(["sso_session", "sso_role_name", "Region",
                             "services", "sso", "endpoint_url", "a"])
    LINES = st.one_of(
        HEADERS,
        st.builds(lambda i, k, sep, v: "%s%s%s%s" % (i, k, sep, v), INDENT,
                  KEYS_, st.sampled_from([" = ", "=", ": ", " =", " = \t"]),
                  VALUES),
        st.builds(lambda i, v: i + v, INDENT, VALUES),  # continuations
        st.sampled_from(["", " ", "# comment", "; c", "  # indented"]),
    )
    ENDINGS = st.sampled_from(["\n", "\r\n", "\r"])

    def botocore_config(path):
        """botocore's view of a config file, or None when it refuses it for
        one of the deliberate differences (duplicates, inline comments)."""
        import configparser

        import botocore.configloader
        import botocore.exceptions

        try:
            return botocore.configloader.load_config(path)
        except botocore.exceptions.ConfigParseError as exc:
            if isinstance(getattr(exc, "kwargs", {}).get("error"), (
                    configparser.DuplicateSectionError,
                    configparser.DuplicateOptionError)):
                return None
            return "error"

    @settings(max_examples=400, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(HEADERS, st.lists(st.tuples(LINES, ENDINGS), max_size=14))
    def test_generated_configs_parse_as_botocore_parses_them(home, first,
                                                             lines):
        lines = [(first, "\n")] + lines
        text = "".join(line + end for line, end in lines)
        # deliberate differences: inline comments, [profilex NAME]
        if any(" #" in line or "\t#" in line or " ;" in line or
               "\t;" in line for line, _ in lines
               if not line.strip().startswith(("#", ";"))):
            return
        with open(home.config, "w", newline="") as f:
            f.write(text)
        theirs = botocore_config(home.config)
        if theirs is None:
            return
        try:
            ours = ssocreds._parse_config(text, home.config)
        except ssocreds.ConfigError:
            ours = "error"
        if theirs == "error" or ours == "error":
            assert ours == theirs, (text, theirs, ours)
            return
        for kind in ("profiles", "sso_sessions", "services"):
            assert ours[kind] == theirs[kind], (text, kind)

    @settings(max_examples=200, deadline=None)
    @given(st.text(st.sampled_from(list("ab '\"\\\t") + ["\u00a0", "\n"]),
                   max_size=12))
    def test_section_names_split_as_shlex_splits_them(text):
        import shlex

        try:
            expected = shlex.split(text)
        except ValueError:
            expected = ValueError
        try:
            got = ssocreds._shell_words(text)
        except ValueError:
            got = ValueError
        assert got == expected


@pytest.mark.parametrize("key", [
    "sso_session", "sso_start_url", "sso_region", "sso_account_id",
    "sso_role_name", "role_arn", "source_profile", "role_session_name",
    "external_id", "mfa_serial", "duration_seconds", "services",
    "endpoint_url", "region", "use_fips_endpoint", "max_attempts"])
@pytest.mark.parametrize("profile", ["top", "dev"])
def test_a_block_where_a_value_belongs_is_one_clear_line(home, capsys, key,
                                                         profile):
    # botocore raises TypeError or uses the dict; ssocreds names the key
    lines = (chain(source="dev") + DEV).splitlines()
    at = lines.index("[profile %s]" % profile) + 1
    lines = [line for line in lines if not line.startswith(key + " =")]
    lines[at:at] = [key + " =", "  a = b"]
    home.write_config("\n".join(lines) + "\n")
    status = ssocreds.main(["export", "--profile", "top", "--connect-timeout",
                            "1"])
    err = capsys.readouterr().err
    assert status != 0 or key in ("duration_seconds", "region")
    assert "Traceback" not in err and "internal error" not in err, err
    assert len(err.strip().splitlines()) <= 1, err


if given is not None:
    @settings(max_examples=300, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(HEADERS, st.lists(st.tuples(LINES, ENDINGS), max_size=14),
           st.sampled_from(["profiles", "sso_sessions", "services"]), NAMES)
    def test_looking_up_one_section_equals_parsing_the_file(first, lines, kind,
                                                            name):
        text = first + "\n" + "".join(line + end for line, end in lines)
        try:
            expected = ssocreds._parse_config(text, "/c")[kind].get(name)
        except ssocreds.ConfigError:
            expected = ssocreds.ConfigError
        try:
            got = ssocreds._lazy_config(text, "/c")[kind].get(name)
        except ssocreds.ConfigError:
            got = ssocreds.ConfigError
        # a section it does not read may hold an error the whole file has
        if expected is not ssocreds.ConfigError or got is ssocreds.ConfigError:
            assert got == expected, text
