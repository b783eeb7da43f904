#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ssocreds authors
"""AWS IAM Identity Center (SSO) credentials from the AWS CLI's token cache.

ssocreds reads the SSO access token that ``aws sso login`` (or ``ssocreds
login``) cached in ~/.aws/sso/cache, refreshes it with its refresh token when
the profile uses an sso-session, and exchanges it at the Identity Center portal
(GetRoleCredentials) for temporary AWS credentials.  It is one file that needs
only the Python standard library (3.6 or later), for places where boto3 and
the AWS CLI do not fit.

Library quick start::

    import ssocreds
    creds = ssocreds.from_profile("dev").retrieve()
    creds.access_key_id, creds.secret_access_key, creds.session_token

    # or wire the pieces yourself, as the Go package credentials/ssocreds does
    client = ssocreds.PortalClient("us-east-1")
    provider = ssocreds.Provider(client, "111122223333", "ReadOnly",
                                 "https://my-sso-portal.awsapps.com/start")
    cache = ssocreds.CredentialsCache(provider)
    cache.retrieve()

Command line quick start::

    ssocreds login --profile dev                  # PKCE or device code
    ssocreds export --profile dev                 # credential_process JSON
    eval "$(ssocreds export --profile dev --format env)"
    ssocreds exec --profile dev -- terraform plan
    ssocreds exec --serve --profile dev -- terraform apply   # hours long
    ssocreds serve --profile dev                  # ECS credentials endpoint
    ssocreds status / list / logout

Profiles may also assume a role from an SSO profile (role_arn plus
source_profile, any depth): STS AssumeRole is signed with SigV4 here too.

Files and environment consulted: AWS_CONFIG_FILE (~/.aws/config),
AWS_DEFAULT_PROFILE, AWS_PROFILE, ~/.aws/sso/cache, ~/.aws/cli/cache
(command line only), AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials: its
sections join the profiles of the same name; write-credentials),
AWS_ENDPOINT_URL_SSO, AWS_ENDPOINT_URL_SSO_OIDC, AWS_ENDPOINT_URL_STS,
AWS_ENDPOINT_URL, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS, AWS_USE_FIPS_ENDPOINT,
AWS_USE_DUALSTACK_ENDPOINT, AWS_CA_BUNDLE, AWS_MAX_ATTEMPTS,
AWS_NEW_RETRIES_2026, AWS_REGION, AWS_DEFAULT_REGION,
AWS_STS_REGIONAL_ENDPOINTS, AWS_SDK_UA_APP_ID, HTTPS_PROXY and NO_PROXY;
AWS_ENDPOINT_URL_SIGNIN (console), BROWSER, DISPLAY, WAYLAND_DISPLAY and the
WSL variables (login and console).

Thread safety: Provider and SSOTokenProvider keep no state between calls and
may be shared; CredentialsCache is thread-safe and makes one provider call for
any number of concurrent callers.  Token refreshes and the command line's
credential cache are serialised across processes with lock files.

Secrets (access and refresh tokens, client secrets, secret keys, session
tokens) never appear in exception messages, reprs or debug output.

Contents (each section builds only on the sections above it):

- Constants, Errors, Text and debug output, Time, Values -- the vocabulary:
  Error and its subclasses, Credentials, Token, timestamps.
- Validation: what services and cache files hand us -- every value a service
  returns is checked once, where it enters.
- Parsers: JSON, INI, XML -- pure functions over text; the shared config is
  read as botocore's configparser-based loader reads it.
- Output formats: shell quoting, credentials, the credentials file.
- Files and locks -- home and cache paths, atomic 0600 writes, lock files,
  SSO token files.
- Settings and endpoints -- _Settings resolves, once, how a client reaches
  its service: argument, environment, profile, default; partitions.
- HTTP -- one endpoint: retries, deadlines, errors, proxies, TLS.
- Service clients: portal, OIDC, STS -- PortalClient, OIDCClient, SigV4.
- Providers and caches -- Provider, SSOTokenProvider, CredentialsCache, the
  credential cache shared with the AWS CLI, AssumeRole.
- Profiles: the shared config resolved -- a profile name becomes a _Profile
  or a _Chain of role links over an SSO profile or static keys.
- Assembly: a resolved profile becomes a provider chain -- from_profile.
- Operations: login; Operations: logout, list, status; Operations: console
  sign-in; Operations: the credential server (container credentials
  protocol).
- Command line -- one table of commands drives parsing, help and dispatch.

Licensed under the MIT licence (see the header of this file).
"""

__version__ = "0.1.0"
__all__ = (
    "PROVIDER_NAME",
    "Credentials",
    "Token",
    "Error",
    "ConfigError",
    "InvalidTokenError",
    "LoginError",
    "APIError",
    "TransportError",
    "standard_cached_token_filepath",
    "PortalClient",
    "OIDCClient",
    "Provider",
    "SSOTokenProvider",
    "CredentialsCache",
    "from_profile",
)

import os
import sys
import time

try:  # datetime.py on 3.6-3.11 builds pure-Python classes first, then
    # replaces them with these: the same classes, a millisecond sooner
    from _datetime import datetime, timedelta, timezone
except ImportError:  # pragma: no cover - not CPython
    from datetime import datetime, timedelta, timezone



# -- Constants ---------------------------------------------------------------

PROVIDER_NAME = "SSOProvider"
_UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC)
_DEFAULT_LOGIN_COMMAND = "aws sso login"
_REFRESH_WINDOW = timedelta(minutes=15)  # botocore's advisory token window
_CLI_CACHE_WINDOW = timedelta(minutes=15)  # the AWS CLI's role-cache window
_CONNECT_TIMEOUT = 10.0
_READ_TIMEOUT = 60.0  # botocore's default socket read timeout
_LOCK_TIMEOUT = 30.0
_MAX_RESPONSE_BYTES = 1 << 20
# paging ends with an error beyond these (an organization has at most a few
# thousand accounts; a portal that pages forever must not hang `list`)
_MAX_PAGES = 1000
_MAX_ITEMS = 100000
_MAX_FILE_BYTES = 1 << 20


# -- Errors ------------------------------------------------------------------

class Error(Exception):
    """Base class of every error ssocreds raises."""


class ConfigError(Error):
    """The shared config names no usable SSO profile; the fix is in the file.

    ``profile`` and ``path`` name the profile and config file concerned
    (either may be None).
    """

    def __init__(self, message, profile=None, path=None):
        super().__init__(message)
        self.profile = profile
        self.path = path


class InvalidTokenError(Error):
    """The cached SSO token is missing, unusable, expired or revoked.

    The message starts with ``the SSO session has expired or is invalid``,
    adds the cause and ends with the command that fixes it.  ``reason`` holds
    the cause alone, ``login_command`` the fix and ``path`` the token file
    (None when the token did not come from a file).
    """

    def __init__(self, reason=None, login_command=None, path=None):
        self.reason = reason
        self.login_command = login_command or _DEFAULT_LOGIN_COMMAND
        self.path = path
        message = "the SSO session has expired or is invalid"
        if reason:
            message += ": " + reason
        message += "; to refresh this SSO session run: " + self.login_command
        super().__init__(message)


class APIError(Error):
    """An Identity Center service answered with an error.

    ``code`` is the AWS error code (``UnauthorizedException``, ...),
    ``status`` the HTTP status, ``message`` the service's message,
    ``operation`` the API operation and ``request_id`` the x-amzn-RequestId.
    """

    def __init__(self, operation, code, status, message="", request_id=None,
                 context=None):
        self.operation = operation
        self.code = code
        self.status = status
        self.message = message
        self.request_id = request_id
        text = "%s failed" % operation
        if context:
            text += " " + context
        text += ": %s (HTTP %s)" % (code, status)
        if message:
            text += ": " + message
        super().__init__(text)


class TransportError(Error):
    """A service could not be reached: DNS, connection, TLS or timeout.

    ``retryable`` tells whether trying again could help.
    """

    def __init__(self, message, retryable=True, unresolved_host=None):
        super().__init__(message)
        self.retryable = retryable
        self.unresolved_host = unresolved_host  # set when DNS knows no such name


class LoginError(Error):
    """A login did not complete: denied, expired, or the browser step failed."""


# -- Text and debug output ---------------------------------------------------

_debug_stream = None  # set by the command line's --debug


def _debug(message, *args):
    """Debug output: to stderr under --debug, and to the logging module's
    "ssocreds" logger when the host program has imported logging.  Callers
    never pass secrets."""
    if _debug_stream is None and "logging" not in sys.modules:
        return
    text = _visible(message % args if args else message)
    if _debug_stream is not None:
        _debug_stream.write("ssocreds: debug: %s\n" % text)
        _debug_stream.flush()
    logging = sys.modules.get("logging")
    if logging is not None:
        logging.getLogger("ssocreds").debug("%s", text)


def _is_true(value):
    return isinstance(value, str) and value.strip().lower() == "true"



def _drop_none(mapping):
    return {k: v for k, v in mapping.items() if v is not None}


def _visible(text):
    """``text`` with every character a terminal could act on (C0 and C1
    controls, DEL, bidi and other invisible format characters, line
    separators) written as a visible ``\\xNN``/``\\uNNNN`` escape."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else (
        "\\x%02x" % ord(c) if ord(c) < 0x100 else "\\u%04x" % ord(c))
        for c in text)


def _one_line(text, limit):
    """``text`` on one visible line of at most ``limit`` characters."""
    text = _visible(" ".join(str(text).split()))
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _quote_value(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _os_error_text(exc):
    return exc.strerror or str(exc) if isinstance(exc, OSError) else str(exc)


# -- Time --------------------------------------------------------------------

def _utcnow():
    return datetime.now(_UTC)


def _parse_timestamp(text):
    """Parse a timestamp into an aware UTC datetime, as tolerantly as
    botocore's parse_timestamp reads the token files of other tools.

    RFC 3339 / ISO 8601 with ``T``, ``t`` or a space, a fraction of any
    length (truncated to microseconds), an offset ``Z``, ``UTC``, ``GMT``
    (with or without a space), ``+HH``, ``+HHMM`` or ``+HH:MM`` (none: UTC);
    also without seconds (``…T00:26Z``), the basic form
    (``20261129T002603Z``), RFC 1123 (``Sun, 29 Nov 2026 00:26:03 GMT``) and
    epoch seconds.  Raises Error quoting the value.  Written without ``re``:
    this runs on every cache hit.
    """
    try:
        if not isinstance(text, str):
            raise ValueError("expected a string")
        if len(text) >= 19 and text[4] == "-" and text[7] == "-" and \
                text[10] in "Tt " and text[13] == ":" and text[16] == ":":
            fields = [_digits(text, i, n) for i, n in (
                (0, 4), (5, 2), (8, 2), (11, 2), (14, 2), (17, 2))]
            rest = text[19:]
        else:
            fields, rest = _other_timestamp(text.strip())
        micro = 0
        if rest[:1] in (".", ","):
            end = 1
            while end < len(rest) and rest[end] in _DIGITS:
                end += 1
            if end == 1:
                raise ValueError("a decimal point needs digits")
            micro = int(rest[1:end][:6].ljust(6, "0"))
            rest = rest[end:]
        value = datetime(*fields, micro, tzinfo=_UTC)
        return value - timedelta(minutes=_zone_minutes(rest))
    except (ValueError, OverflowError) as exc:
        raise Error("invalid timestamp %s: %s" % (_quote_value(text), exc)) \
            from None


_DIGITS = "0123456789"
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
           "nov", "dec")


def _digits(text, start, count):
    part = text[start:start + count]
    if len(part) != count or any(c not in _DIGITS for c in part):
        raise ValueError("expected RFC 3339 such as 2024-01-02T03:04:05Z")
    return int(part)


def _other_timestamp(text):
    """([year, month, day, hour, minute, second], rest) of the rarer forms
    _parse_timestamp reads; the rest holds a fraction and the offset."""
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:  # epoch seconds
        value = _EPOCH + timedelta(seconds=seconds)
        return [value.year, value.month, value.day, value.hour, value.minute,
                value.second], ".%06d" % value.microsecond
    words = text.replace(",", " ").split()
    if words and words[0][:3].lower() in ("mon", "tue", "wed", "thu", "fri",
                                          "sat", "sun"):
        words = words[1:]
    if len(words) in (4, 5) and words[1][:3].lower() in _MONTHS:
        # RFC 1123: 29 Nov 2026 00:26:03 GMT
        clock = words[3]
        if clock[2:3] != ":" or clock[5:6] not in ("", ":"):
            raise ValueError("expected HH:MM[:SS]")
        year = _digits(words[2], 0, len(words[2]))
        if len(words[2]) == 2:  # RFC 2822 section 4.3: 00-49 is 20xx
            year += 2000 if year < 50 else 1900
        return [year, _MONTHS.index(words[1][:3].lower()) + 1,
                _digits(words[0], 0, len(words[0])), _digits(clock, 0, 2),
                _digits(clock, 3, 2), _digits(clock, 6, 2) if clock[5:] else 0
                ], clock[8:] + " ".join(words[4:])
    extended = text[4:5] == "-"  # else the basic form, 20261129T002603Z
    width = 10 if extended else 8
    if text[width:width + 1] not in ("T", "t", " "):
        raise ValueError("expected RFC 3339 such as 2024-01-02T03:04:05Z")
    date = text[:width].replace("-", "") if extended else text[:width]
    clock = text[width + 1:]
    if clock[2:3] == ":":
        clock = clock[:2] + clock[3:5] + (clock[6:] if clock[5:6] == ":"
                                          else "00" + clock[5:])
    elif len(clock) < 6 or any(c not in _DIGITS for c in clock[4:6]):
        clock = clock[:4] + "00" + clock[4:]  # no seconds
    return [_digits(date, 0, 4), _digits(date, 4, 2), _digits(date, 6, 2),
            _digits(clock, 0, 2), _digits(clock, 2, 2), _digits(clock, 4, 2)
            ], clock[6:]


def _zone_minutes(rest):
    """Minutes east of UTC of an offset: "" (UTC), Z, UTC, GMT (a space
    before is allowed), +HH, +HHMM or +HH:MM."""
    zone = rest.strip()
    if zone in ("", "Z", "z", "UTC", "GMT", "UT"):
        return 0
    sign, body = zone[:1], zone[1:]
    if len(body) == 5 and body[2] == ":":
        body = body[:2] + body[3:]
    if sign not in ("+", "-") or len(body) not in (2, 4):
        raise ValueError("expected Z or an offset such as +01:00")
    hours, minutes = _digits(body, 0, 2), _digits(body + "00", 2, 2)
    if hours > 23 or minutes > 59:
        raise ValueError("offset out of range")
    return (hours * 60 + minutes) * (-1 if sign == "-" else 1)


def _format_timestamp(value):
    """``YYYY-MM-DDTHH:MM:SSZ`` in UTC, as the AWS CLI writes."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=_UTC)
    value = value.astimezone(_UTC)
    # not strftime: glibc does not zero-pad years before 1000
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (
        value.year, value.month, value.day, value.hour, value.minute,
        value.second)


def _format_duration(seconds):
    if seconds is None or seconds <= 0:
        return "expired"
    hours, rest = divmod(int(seconds), 3600)
    return "%dh%02dm" % (hours, rest // 60) if hours else "%dm%02ds" % divmod(
        rest, 60)


# -- Values ------------------------------------------------------------------

_MAX_SECONDS = 253402300799  # 9999-12-31T23:59:59Z: beyond, datetime fails


def _whole_number(value):
    """A service's integer as botocore's JSON parser reads it (int(value)):
    an int, a finite float (truncated) or a string of digits; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if abs(value) < 1e20 else None  # also refuses NaN
    if isinstance(value, str):
        text = value.strip()
        digits = text[1:] if text[:1] in ("+", "-") else text
        if digits and len(digits) <= 20 and all(c in _DIGITS for c in digits):
            return int(text)
    return None


class Credentials(object):
    """Temporary AWS credentials; immutable.

    The repr shows the access key id, account and expiry but never the secret
    access key or the session token.
    """

    __slots__ = ("access_key_id", "secret_access_key", "session_token",
                 "expires", "can_expire", "source", "account_id")

    def __init__(self, access_key_id, secret_access_key, session_token,
                 expires, *, account_id=None, source=PROVIDER_NAME,
                 can_expire=True):
        setter = object.__setattr__
        setter(self, "access_key_id", access_key_id)
        setter(self, "secret_access_key", secret_access_key)
        setter(self, "session_token", session_token)
        setter(self, "expires", expires)
        setter(self, "can_expire", can_expire)
        setter(self, "source", source)
        setter(self, "account_id", account_id)

    def __setattr__(self, name, value):
        raise AttributeError("Credentials are immutable")

    __delattr__ = __setattr__

    def __eq__(self, other):
        if not isinstance(other, Credentials):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.__slots__)

    def __ne__(self, other):
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self):
        return "Credentials(access_key_id=%r, account_id=%r, expires=%r, " \
               "source=%r)" % (self.access_key_id, self.account_id,
                               _format_timestamp(self.expires), self.source)

    __str__ = __repr__

    def expired(self, now=None):
        """True when ``now`` (default: the current time) is at or past expiry."""
        return (now or _utcnow()) >= self.expires


class Token(object):
    """A bearer token (the SSO access token) and its expiry; immutable."""

    __slots__ = ("value", "expires")

    def __init__(self, value, expires):
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "expires", expires)

    def __setattr__(self, name, value):
        raise AttributeError("Token is immutable")

    def __eq__(self, other):
        if not isinstance(other, Token):
            return NotImplemented
        return (self.value, self.expires) == (other.value, other.expires)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self):
        return "Token(value=<redacted>, expires=%r)" % _format_timestamp(
            self.expires)


class _CachedToken(object):
    __slots__ = ("document", "token")

    def __init__(self, document, token):
        self.document = document
        self.token = token


class _CacheEntry(object):
    """Credentials held by a CredentialsCache and when to refresh them."""

    __slots__ = ("credentials", "refresh_at")

    def __init__(self, credentials, refresh_at):
        self.credentials = credentials
        self.refresh_at = refresh_at


# -- Validation: what services and cache files hand us ----------------------
# Every value a service returns (or a cache file holds) is checked here, once,
# where it enters; errors describe the fault and never repeat the value.

_UPPER_DIGITS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_ROLE_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                             "0123456789_+=,.@-")
_MAX_SECRET = 16384  # session tokens are about 1-2 KB; bearer tokens similar
_MAX_TEXT = 1024


def _is_opaque(value, limit=_MAX_SECRET, spaces=False):
    """A non-empty string of printable ASCII, at most ``limit`` long, without
    spaces unless ``spaces``: what keys, tokens and codes are made of."""
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        return False
    try:
        value.encode("ascii")
    except UnicodeEncodeError:
        return False
    return value.isprintable() and (spaces or " " not in value)


def _is_token(value, limit=_MAX_SECRET):
    """Printable ASCII, spaces allowed: what bearer and refresh tokens,
    client ids and secrets, codes and pagination tokens may hold."""
    return _is_opaque(value, limit, spaces=True)


def _is_text(value, limit=_MAX_TEXT):
    """A string of printable characters (any script, no controls)."""
    return isinstance(value, str) and len(value) <= limit and value.isprintable()


def _credentials_problem(access_key_id, secret_access_key, session_token):
    """Why three credential fields are unusable, or None."""
    if not (isinstance(access_key_id, str) and 16 <= len(access_key_id) <= 128
            and all(c in _UPPER_DIGITS for c in access_key_id)):
        return "the access key id is not 16-128 upper-case letters and digits"
    if not _is_opaque(secret_access_key, 1024):
        return ("the secret access key is empty, too long, or holds spaces, "
                "control or non-ASCII characters")
    if session_token is not None and not _is_opaque(session_token):
        return ("the session token is empty, too long, or holds spaces, "
                "control or non-ASCII characters")
    return None


def _is_account_id(value):
    return isinstance(value, str) and len(value) == 12 and all(
        c in _DIGITS for c in value)


def _is_role_name(value):
    """IAM's role name pattern [\\w+=,.@-]{1,64} (ASCII word characters)."""
    return isinstance(value, str) and 0 < len(value) <= 64 and all(
        c in _ROLE_NAME_CHARS for c in value)


def _is_https_url(value):
    """An https:// URL a browser may be given: printable ASCII, no spaces."""
    return _is_opaque(value, 8192) and value[:8].lower() == "https://"


# -- Parsers: JSON, INI, XML -------------------------------------------------

class _JSONContext(object):
    strict = True
    object_hook = object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = {"-Infinity": float("-inf"), "Infinity": float("inf"),
                      "NaN": float("nan")}.__getitem__


_json_scanner = None


def _json_loads(text):
    """json.loads; ValueError on malformed input."""
    global _json_scanner
    if _json_scanner is None:
        try:
            from _json import make_scanner
        except ImportError:  # pragma: no cover - not CPython
            import json

            return json.loads(text)
        _json_scanner = make_scanner(_JSONContext())
    whitespace = " \t\n\r"
    start = len(text) - len(text.lstrip(whitespace))
    try:
        value, end = _json_scanner(text, start)
    except StopIteration as exc:
        raise ValueError("Expecting value: char %d" % exc.value) from None
    except SystemError:
        # Some versions (3.11) can only describe a syntax error once
        # json.decoder is loaded: let the json package report it.
        import json

        return json.loads(text)
    if text[end:].strip(whitespace):
        raise ValueError("Extra data: char %d" % end)
    return value


def _json_string(value):
    """json.dumps of a str (ASCII-escaped, as json.dumps does by default)."""
    try:
        from _json import encode_basestring_ascii
    except ImportError:  # pragma: no cover - not CPython
        import json

        return json.dumps(value)
    return encode_basestring_ascii(value)


def _decode_utf8(data):
    """UTF-8 with an optional BOM (without loading the utf-8-sig codec)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode("utf-8")


def _lines(text):
    """Split at ``\\n``, ``\\r\\n`` and ``\\r`` only, as a text file is read
    (str.splitlines would also split at U+2028, form feeds and others)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.split("\n")


def _parse_ini(text, path):
    """{section header: {key: value}} in file order, read as configparser's
    RawConfigParser reads it (botocore configloader.raw_config_parse): a line
    is a continuation only when indented deeper than the line that started
    the value, blank lines inside a value are kept and trailing ones dropped,
    ``[DEFAULT]`` supplies keys to every section, a value that starts with a
    line break is a nested dict.  Repeated headers merge (configparser
    refuses them) and inline comments after whitespace are dropped."""
    sections = {}
    values = key = None
    indent = 0
    for lineno, line in enumerate(_lines(text), 1):
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            if not stripped and key is not None:
                values[key].append("")
            continue
        level = len(line) - len(line.lstrip())
        if key is not None and level > indent:
            values[key].append(_strip_comment(stripped))
            continue
        indent = level
        if stripped[0] == "[":
            end = stripped.rfind("]")
            if end < 2:
                raise ConfigError("%s line %d: unterminated section header" % (
                    path, lineno), path=path)
            values = sections.setdefault(stripped[1:end], {})
            key = None
            continue
        if values is None:
            raise ConfigError(
                "%s line %d: a setting appears before any [section] header" % (
                    path, lineno), path=path)
        eq = [i for i in (stripped.find("="), stripped.find(":")) if i >= 0]
        if not eq or min(eq) == 0:
            raise ConfigError("%s line %d: expected 'key = value'" % (
                path, lineno), path=path)
        split = min(eq)
        key = stripped[:split].rstrip().lower()
        values[key] = [_strip_comment(stripped[split + 1:].strip())]
    defaults = sections.pop("DEFAULT", {})  # read only into other sections
    for header, values in sections.items():
        for key, parts in values.items():
            values[key] = _ini_value(parts, path, header, key)
        for key, parts in defaults.items():
            if key not in values:  # (configparser reads it only then)
                values[key] = _ini_value(parts, path, "DEFAULT", key)
    return sections


def _ini_value(parts, path, header, key):
    value = "\n".join(parts).rstrip()
    if not value.startswith("\n"):
        return value
    nested = {}  # botocore configloader._parse_nested: keys keep their case
    for line in value.splitlines():
        line = line.strip()
        if line:
            name, sep, item = line.partition("=")
            if not sep:
                raise ConfigError(
                    "%s: [%s] %s: the nested line %s has no '='" % (
                        path, _visible(header), key, _quote_value(line)),
                    path=path)
            nested[name.strip()] = item.strip()
    return nested


def _strip_comment(value):
    for i, char in enumerate(value):
        if char in "#;" and i > 0 and value[i - 1] in " \t":
            return value[:i].rstrip()
    return value


def _shell_words(text):
    """shlex.split(text) (POSIX mode), without importing shlex and so re:
    words split at space, tab, CR and LF; '...' literal; "..." where a
    backslash escapes only " and \\; elsewhere a backslash escapes any
    character.  ValueError for an open quote or a trailing backslash."""
    words, word, quote = [], None, None
    i, count = 0, len(text)
    while i < count:
        char = text[i]
        if quote is not None:
            if char == quote:
                quote = None
            elif char == "\\" and quote == '"' and text[i + 1:i + 2] in ('"', "\\"):
                i += 1
                word.append(text[i])
            else:
                word.append(char)
        elif char in " \t\r\n":
            if word is not None:
                words.append("".join(word))
                word = None
        else:
            if word is None:
                word = []
            if char in "'\"":
                quote = char
            elif char == "\\":
                i += 1
                if i == count:
                    raise ValueError("No escaped character")
                word.append(text[i])
            else:
                word.append(char)
        i += 1
    if quote is not None:
        raise ValueError("No closing quotation")
    if word is not None:
        words.append("".join(word))
    return words


_SECTION_KINDS = (("profile", "profiles"), ("sso-session", "sso_sessions"),
                  ("services", "services"))


def _split_section_header(header):
    """(kind, name) of ``[profile NAME]``, ``[sso-session NAME]`` or
    ``[services NAME]`` as botocore's configloader reads them (the header
    starts with the word, then shlex.split gives two words), else
    (None, None).  Unlike botocore the first word must be exactly the
    kind: ``[profilex dev]`` is not profile "dev"."""
    for prefix, kind in _SECTION_KINDS:  # noqa: B007 - used below
        if header.startswith(prefix):
            break
    else:
        return None, None
    if any(c in header for c in "'\"\\"):
        try:
            parts = _shell_words(header)
        except ValueError:
            return None, None
    else:
        parts = [p for p in header.replace("\t", " ").split(" ") if p]
    if len(parts) != 2 or parts[0] != prefix:
        return None, None
    return kind, parts[1]


def _parse_config(text, path="<config>"):
    """Parse shared-config text into {section-kind: {name: {key: value}}}.

    Sections are grouped as botocore groups them: ``profiles`` (``[default]``
    and ``[profile NAME]``), ``sso_sessions`` and ``services``; names may be
    quoted (``[sso-session 'my session']``).  When two headers name one
    section (``[profile dev]`` and ``[profile  dev]``, ``[default]`` and
    ``[profile default]``) the last one wins, as in botocore.  Keys are
    case-insensitive, values trimmed, ``#``/``;`` comments start a line or
    follow whitespace, and indented ``key = value`` lines below an empty
    value form a nested dict (see _parse_ini).
    """
    result = {"profiles": {}, "sso_sessions": {}, "services": {}}
    for header, values in _parse_ini(text, path).items():
        if header == "default":
            kind, name = "profiles", "default"
        else:
            kind, name = _split_section_header(header)
            if kind is None:
                continue
        result[kind][name] = values
    return result


class _ConfigText(object):
    """A config file's text, read section by section on demand.

    ``section(kind, name)`` finds the headers that could name the section
    (lines starting with ``[`` that hold the name, or a quote or backslash;
    for an sso-session, the ``[sso-session`` headers) with string searches
    and parses only those sections, so looking up a profile costs about the
    same in a 2,000-profile file as in a one-profile file.
    The result is exactly _parse_config's: when the text holds anything the
    search cannot decide (``[DEFAULT]``, an indented header, an error in a
    section it reads) it parses the whole file instead.  Unlike botocore, a
    syntax error in a section the command never reads does not stop it.
    """

    def __init__(self, text, path):
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        self.text = text
        self.path = path
        self._full = None
        self._search = "[DEFAULT]" not in text

    def full(self):
        if self._full is None:
            self._full = _parse_config(self.text, self.path)
        return self._full

    def section(self, kind, name):
        if self._search and isinstance(name, str) and name:
            try:
                found = self._find(kind, name)
            except ConfigError:  # let the whole-file parse report it
                found = self
            if found is not self:
                return found
        return self.full()[kind].get(name)

    def _find(self, kind, name):
        """The section's keys, None when it is absent, or self when only a
        whole-file parse can tell."""
        text = self.text
        starts = set()
        if kind == "sso_sessions":  # every profile names its session: find
            needles = ["[sso-session"]  # the few headers of that kind instead
        elif any(c in name for c in "'\"\\"):
            return self
        else:  # the name, and the lines where quotes could disguise it
            needles = [name] + [c for c in "'\"\\" if c in text]
        for needle in needles:
            pos = text.find(needle)
            while pos >= 0:
                start = text.rfind("\n", 0, pos) + 1
                end = text.find("\n", pos)
                end = len(text) if end < 0 else end
                first_char = text[start:start + 1]
                if first_char == "[":
                    line = text[start:end]
                    if needle == name or name in line or _may_disguise(
                            line[1:line.rfind("]")]):
                        starts.add(start)
                elif first_char in (" ", "\t", "\f", "\v") and text[
                        start:end].lstrip().startswith("["):
                    return self  # an indented header: the parse decides
                pos = text.find(needle, end)
        first = {}  # raw header -> position of its first appearance
        chunks = []
        for start in sorted(starts):
            end = text.find("\n", start)
            line = text[start:len(text) if end < 0 else end].strip()
            close = line.rfind("]")
            if close < 2:
                return self
            header = line[1:close]
            if header == "default":
                found = ("profiles", "default")
            else:
                found = _split_section_header(header)
            if found == (kind, name):
                first.setdefault(header, start)
                following = text.find("\n[", start)
                chunks.append((header, text[start:len(text) if following < 0
                                            else following + 1]))
        if not first:
            return None
        winner = max(first, key=first.get)  # botocore: the last one wins
        values = {}
        for header, chunk in chunks:
            if header == winner:
                parsed = _parse_ini(chunk, self.path)
                if list(parsed) != [header]:
                    return self
                values.update(parsed[header])
        return values


def _may_disguise(header):
    """Whether quotes or backslashes in ``header`` could spell a name that
    does not appear in it as written (``te'am'`` is ``team``): False only
    for no quotes at all, or one pair around the whole last word."""
    if "\\" in header:
        return True
    single, double = header.count("'"), header.count('"')
    if single + double == 0:
        return False
    quote = "'" if single else '"'
    body = header.rstrip(" \t")
    if single + double != 2 or not body.endswith(quote):
        return True
    first = body.find(quote)
    return first == 0 or body[first - 1] not in " \t"


class _Sections(object):
    """The profiles, sso-sessions or services of a _ConfigText as a
    read-mostly mapping: ``get``, ``in`` and ``[]`` look one name up;
    iterating parses the whole file.  Assigned names win over the file."""

    def __init__(self, source, kind):
        self._source = source
        self._kind = kind
        self._found = {}
        self._assigned = {}

    def get(self, name, default=None):
        if name in self._assigned:
            return self._assigned[name]
        if name not in self._found:
            self._found[name] = self._source.section(self._kind, name)
        value = self._found[name]
        return default if value is None else value

    def __contains__(self, name):
        return self.get(name) is not None

    def __getitem__(self, name):
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __setitem__(self, name, value):
        self._assigned[name] = value

    def _all(self):
        result = dict(self._source.full()[self._kind])
        result.update(self._assigned)
        return result

    def __iter__(self):
        return iter(self._all())

    def __len__(self):
        return len(self._all())

    def items(self):
        return self._all().items()


def _lazy_config(text, path):
    """_parse_config(text, path), with sections parsed when first looked
    up (see _ConfigText)."""
    source = _ConfigText(text, path)
    config = {kind: _Sections(source, kind) for kind in (
        "profiles", "sso_sessions", "services")}
    config["text"] = source.text
    return config


def _parse_xml(payload):
    """An ElementTree element from ``payload``; ValueError for anything that
    is not plain UTF-8 XML.  A byte-order mark, an encoding other than UTF-8,
    a DTD or an entity declaration is refused by the parser itself (expat's
    declaration handlers), so no entity is ever expanded or fetched."""
    from xml.parsers import expat

    if payload[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in payload:
        raise ValueError("the XML is not UTF-8")
    if payload.startswith(b"\xef\xbb\xbf"):
        payload = payload[3:]

    def refuse(*_args):
        raise ValueError("XML with a DTD or entities is refused")

    def check_declaration(_version, encoding, _standalone):
        if encoding is not None and encoding.lower().replace("_", "-") not in (
                "utf-8", "utf8"):
            raise ValueError("the XML declares an encoding other than UTF-8")

    checker = expat.ParserCreate()
    checker.XmlDeclHandler = check_declaration
    checker.StartDoctypeDeclHandler = refuse
    checker.EntityDeclHandler = refuse
    checker.UnparsedEntityDeclHandler = refuse
    checker.ExternalEntityRefHandler = refuse
    try:
        checker.Parse(payload, True)
    except expat.ExpatError as exc:
        raise ValueError("malformed XML: %s" % expat.ErrorString(exc.code)) \
            from None
    import xml.etree.ElementTree as ElementTree

    try:
        return ElementTree.fromstring(payload)
    except ElementTree.ParseError as exc:
        raise ValueError("malformed XML: %s" % exc) from None


def _xml_text(root, name):
    """Text of the first element called ``name`` (any namespace), or None."""
    for element in root.iter():
        if element.tag == name or element.tag.endswith("}" + name):
            return (element.text or "").strip()
    return None


# -- Output formats: shell quoting, credentials, the credentials file --------

_SHELL_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789@%+=:,./-_")


def _shell_quote(value):
    """Quote for POSIX sh, only when needed (like shlex.quote)."""
    if value and all(c in _SHELL_SAFE for c in value):
        return value
    return "'" + value.replace("'", "'\"'\"'") + "'"


def _powershell_quote(value):
    # PowerShell also closes single-quoted strings on the typographic quotes.
    for quote in "'\u2018\u2019\u201a\u201b":
        value = value.replace(quote, quote * 2)
    return "'" + value + "'"


def _fish_quote(value):
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _cmd_quote(value):
    # Inside set "NAME=value" only %, " and line breaks cannot be expressed.
    if any(c in value for c in '%"\r\n'):
        raise Error("a credential value contains a character cmd.exe cannot "
                    "take; use another --format")
    return value


_EXPORT_FORMATS = ("process", "env", "env-no-export", "powershell",
                   "windows-cmd", "fish")


def _credential_items(creds, names):
    """(name, value) pairs of the access key id, secret key, session token,
    expiry (``…Z``) and account id under the five ``names`` of a format;
    values that are unknown (no account id) are left out."""
    values = (creds.access_key_id, creds.secret_access_key, creds.session_token,
              _format_timestamp(creds.expires), creds.account_id)
    return [(n, v) for n, v in zip(names, values) if v]


_PROCESS_NAMES = ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration",
                  "AccountId")  # credential_process and the CLI cache


def _credential_variables(creds):
    """The environment variables the AWS SDKs read, in a fixed order."""
    return _credential_items(creds, (
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_CREDENTIAL_EXPIRATION", "AWS_ACCOUNT_ID"))


def _format_credentials(creds, fmt):
    if fmt == "process":
        items = [("Version", 1)] + _credential_items(creds, _PROCESS_NAMES)
        return "{\n%s\n}\n" % ",\n".join(
            "  %s: %s" % (_json_string(k), v if isinstance(v, int)
                          else _json_string(v)) for k, v in items)
    line = {
        "env": lambda k, v: "export %s=%s" % (k, _shell_quote(v)),
        "env-no-export": lambda k, v: "%s=%s" % (k, _shell_quote(v)),
        "powershell": lambda k, v: "$Env:%s=%s" % (k, _powershell_quote(v)),
        "windows-cmd": lambda k, v: 'set "%s=%s"' % (k, _cmd_quote(v)),
        "fish": lambda k, v: "set -gx %s %s" % (k, _fish_quote(v)),
    }[fmt]
    return "".join(line(k, v) + "\n" for k, v in _credential_variables(creds))


# Keys a section we write may hold; stale ones we do not set are dropped
# (botocore falls back to aws_security_token for the session token).
_CREDENTIAL_KEYS = ("aws_access_key_id", "aws_secret_access_key",
                    "aws_session_token", "aws_security_token",
                    "aws_session_expiration", "aws_account_id")


def _ini_checked(*texts):
    """Refuse section names, keys and values an INI file cannot hold: a line
    break or NUL would start a new key or section (for instance a
    ``credential_process``) in the file we write."""
    for text in texts:
        if any(c in text for c in "\r\n\x00"):
            raise Error("refusing to write a line break or NUL into an INI "
                        "file (the value is not shown)")
    return texts


def _ini_section(name):
    """``[name]`` for a section name that cannot break out of its header."""
    _ini_checked(name)
    if not name.strip() or any(c in name for c in "[]"):
        raise Error("refusing to write an empty section name or one with "
                    "brackets into an INI file")
    return "[%s]" % name


def _ini_setting(key, value):
    return "%s = %s" % _ini_checked(key, value)


def _ini_lines(text):
    """(lines, line ending) of INI ``text`` to rewrite: split where
    configparser splits, the file's own ending to join them again."""
    newline = "\r\n" if "\r\n" in text else "\r" if "\r" in text else "\n"
    lines = _lines(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines, newline


def _merge_credentials_section(text, section, values):
    """Set ``values`` in ``[section]`` of credentials-file ``text``.

    Every other section, key, comment and blank line is kept as it was; keys
    of the section are updated in place and new ones added at its end.
    Stale credential keys that ``values`` does not set are removed.
    """
    header = _ini_section(section)
    lines, newline = _ini_lines(text)
    start = end = None
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("[") and "]" in stripped:
            if start is not None and end is None:
                end = i
            if stripped[1:stripped.rfind("]")] == section:  # botocore's name
                start, end = i, None
    if start is None:
        while lines and not lines[-1].strip():
            lines.pop()
        if lines:
            lines.append("")
        lines.append(header)
        lines.extend(_ini_setting(*item) for item in values.items())
        return newline.join(lines) + newline
    end = len(lines) if end is None else end
    body, pending = [], dict(values)
    for line in lines[start + 1:end]:
        key = line.split("=", 1)[0].strip().lower() if "=" in line else None
        if key in pending:
            body.append(_ini_setting(key, pending.pop(key)))
        elif key not in _CREDENTIAL_KEYS:
            body.append(line)
    insert = len(body)
    while insert and not body[insert - 1].strip():
        insert -= 1
    body[insert:insert] = [_ini_setting(*item) for item in pending.items()]
    lines[start + 1:end] = body
    return newline.join(lines) + newline


_POPULATED = "sso_auto_populated"  # the AWS CLI's marker of profiles it made


def _populate_text(text, wanted, prune, ours):
    """``text`` with the generated profiles ``wanted`` ({name: [(key,
    value)]}, in order) written in: the sections of profiles in ``ours``
    (generated earlier from the same source) are updated in place, or
    removed when ``prune`` and no longer wanted; new ones are appended.
    Every other line, its line ending included, stays as it was, and a
    section ends at its last setting (comments after it are kept).  Returns
    (text, {"added", "updated", "removed", "unchanged": [names]}).
    """
    lines, newline = _ini_lines(text)
    starts = [i for i, line in enumerate(lines)
              if line.strip().startswith("[") and "]" in line]
    report = {"added": [], "updated": [], "removed": [], "unchanged": []}
    out, done = [], set()
    out.extend(lines[:starts[0]] if starts else lines)
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        section = lines[start:end]
        content = len(section)
        while content > 1 and (not section[content - 1].strip() or section[
                content - 1].strip()[0] in "#;"):
            content -= 1
        header = section[0].strip()
        kind, name = _split_section_header(header[1:header.rfind("]")])
        if kind != "profiles" or name not in ours:
            out.extend(section)
        elif name in wanted and name not in done:
            done.add(name)
            body = [_ini_section("profile " + name)] + [
                _ini_setting(k, v) for k, v in wanted[name]]
            report["unchanged" if body == section[:content] else
                   "updated"].append(name)
            out.extend(body + section[content:])
        elif prune or name in done:
            report["removed"].append(name)
            out.extend(line for line in section[content:] if line.strip())
        else:
            out.extend(section)
    for name, items in wanted.items():
        if name not in done:
            while out and not out[-1].strip():
                out.pop()
            if out:
                out.append("")
            out.append(_ini_section("profile " + name))
            out.extend(_ini_setting(k, v) for k, v in items)
            report["added"].append(name)
    return (newline.join(out) + newline if out else ""), report


# -- Files and locks ---------------------------------------------------------

def _home_dir():
    """The user's home as the AWS CLI finds it; Error if there is none."""
    name = "USERPROFILE" if os.name == "nt" else "HOME"
    home = os.environ.get(name)
    if not home:
        try:
            if os.name == "nt":
                home = os.path.expanduser("~")
                home = None if home == "~" else home
            else:
                import pwd

                home = pwd.getpwuid(os.getuid()).pw_dir
        except (ImportError, KeyError, OSError):
            home = None
    if home and not os.path.isabs(home):
        raise Error("cannot use the home directory %s: %s must be an absolute "
                    "path" % (_quote_value(home), name))
    if not home:
        raise Error("cannot find the home directory: %s is not set and the user "
                    "database has no home for this user; set %s" % (name, name))
    return home


def _sso_cache_dir():
    return os.path.join(_home_dir(), ".aws", "sso", "cache")


def _cli_cache_dir():
    return os.path.join(_home_dir(), ".aws", "cli", "cache")


def _credentials_file_path(environ=None):
    return _aws_file_path(None, "AWS_SHARED_CREDENTIALS_FILE", "credentials",
                          environ)


def _config_path(config_file=None, environ=None):
    return _aws_file_path(config_file, "AWS_CONFIG_FILE", "config", environ)


def _aws_file_path(path, variable, name, environ):
    """``path``, else the variable (set to "" it names no file, as in
    botocore), else ~/.aws/NAME."""
    if not path:
        path = (os.environ if environ is None else environ).get(variable)
        if path is None:
            return os.path.join(_home_dir(), ".aws", name)
    return os.path.expanduser(os.path.expandvars(path))


def _sha1_hex(data):
    try:
        from _sha1 import sha1  # skips loading OpenSSL: 3 ms less per start
    except ImportError:  # pragma: no cover - CPython always builds _sha1
        from hashlib import sha1
    return sha1(data).hexdigest()


def standard_cached_token_filepath(key):
    """Return the AWS CLI's token cache path for ``key``.

    ``key`` is the sso-session name, or for legacy profiles the start URL
    exactly as configured.  The result is
    ``<home>/.aws/sso/cache/<lowercase hex SHA-1 of key's UTF-8 bytes>.json``
    where home is HOME on POSIX and USERPROFILE on Windows, falling back to
    the OS user database.  Raises Error when no home directory is known.
    """
    digest = _sha1_hex(key.encode("utf-8"))
    return os.path.join(_sso_cache_dir(), digest + ".json")


def _require_regular(info, path):
    """OSError unless ``info`` (a stat result) is a regular file's."""
    import stat

    if not stat.S_ISREG(info.st_mode):
        raise OSError("%s is not a regular file" % path)


def _read_file(path, limit=_MAX_FILE_BYTES):
    """The bytes of the regular file ``path`` (a trusted link is followed:
    _trusted_path).  A FIFO, device or directory is refused at once, never
    waited on; so is a file larger than ``limit``."""
    path = _trusted_path(path)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
                 | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb") as f:
        _require_regular(os.fstat(fd), path)
        data = f.read(limit + 1)
    if len(data) > limit:
        raise OSError("the file is larger than %d bytes" % limit)
    return data


def _trusted_path(path):
    """``path`` with symbolic links in its last component followed only
    where another user cannot have planted them: a link must be owned by us
    or by root and must not sit in a world-writable sticky directory such as
    /tmp.  Raises OSError naming the link otherwise.  (A link you made to
    your own file, e.g. ~/.aws/credentials into a dotfiles repository, is
    followed.)"""
    import stat

    if not hasattr(os, "getuid"):  # pragma: no cover - Windows
        return path
    for _hop in range(40):
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            return path
        if not stat.S_ISLNK(info.st_mode):
            return path
        directory = os.path.dirname(os.path.abspath(path))
        folder = os.stat(directory)
        shared = folder.st_mode & stat.S_ISVTX and folder.st_mode & stat.S_IWOTH
        if info.st_uid not in (os.getuid(), 0) or shared:
            raise OSError("refusing to follow the symbolic link %s: it is %s" % (
                path, "in a world-writable directory" if shared else
                "owned by another user (uid %d)" % info.st_uid))
        target = os.readlink(path)
        path = os.path.join(directory, target)
    raise OSError("too many levels of symbolic links at %s" % path)


def _read_json_object(path, what):
    """Read a JSON object from ``path``; Error describing ``what`` failed."""
    try:
        data = _read_file(path)
    except FileNotFoundError:
        raise Error("%s %s does not exist" % (what, path)) from None
    except OSError as exc:
        raise Error("cannot read %s %s: %s" % (what, path, _os_error_text(exc))) \
            from exc
    try:
        document = _json_loads(_decode_utf8(data))
    except UnicodeDecodeError:
        raise Error("%s %s is not valid UTF-8" % (what, path)) from None
    except ValueError as exc:  # the message holds positions, never content
        raise Error("%s %s is not valid JSON: %s" % (what, path, exc)) from None
    if not isinstance(document, dict):
        raise Error("%s %s does not hold a JSON object" % (what, path))
    return document


def _write_json_file(path, document):
    """Write ``document`` as single-line JSON, atomically (_write_file)."""
    import json

    _write_file(path, json.dumps(document).encode("utf-8"))


def _write_file(path, data):
    """Write ``data`` atomically: temp file, fsync, rename; mode 0600.

    A symlinked file is updated at its target when _trusted_path trusts the
    link; anything but a regular file is refused.  Directories created on the
    way are 0700.  Raises OSError on failure and leaves no temp file behind.
    """
    path = _trusted_path(path)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        _require_regular(os.stat(path), path)
    except FileNotFoundError:
        pass
    _make_private_dirs(directory)
    for _ in range(100):
        temp = os.path.join(directory, ".%s.%s.tmp" % (
            os.path.basename(path), os.urandom(6).hex()))
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL
                         | getattr(os, "O_BINARY", 0), 0o600)
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - 100 collisions of 48 random bits
        raise OSError("cannot create a temporary file in %s" % directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def _make_private_dirs(directory):
    """os.makedirs, but every directory it creates is 0700 (makedirs applies
    its mode to the last one only); returns the directories it created,
    outermost first."""
    if os.path.isdir(directory):
        return []
    parent = os.path.dirname(directory)
    created = []
    if parent and parent != directory:
        created = _make_private_dirs(parent)
    try:
        os.mkdir(directory, 0o700)
    except FileExistsError:
        if not os.path.isdir(directory):
            raise
        return created
    return created + [directory]


def _fsync_directory(directory):
    if os.name == "nt":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class _FileLock(object):
    """An exclusive advisory lock on ``path`` (fcntl or msvcrt).

    Best effort: when the lock file cannot be created (read-only directory)
    or the lock is not obtained within ``timeout`` seconds, the body runs
    unlocked.  Locks die with their process, so a crashed holder never blocks
    anyone.  The holder removes the lock file (a waiter that then holds the
    unlinked file notices and locks the new one), and the directories it
    created for it when they are still empty: nothing is left behind.
    """

    def __init__(self, path, timeout=_LOCK_TIMEOUT):
        self.path = path
        self.timeout = timeout
        self._fd = None
        self._created = []

    def __enter__(self):
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                self._created += _make_private_dirs(os.path.dirname(self.path))
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(
                    os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0), 0o600)
            except FileNotFoundError:  # a holder just removed the directory
                fd = None
            except OSError as exc:
                _debug("cannot create lock file %s (%s); continuing unlocked",
                       self.path, _os_error_text(exc))
                return self
            if fd is not None:
                if not self._wait_for(fd, deadline):
                    os.close(fd)
                    _debug("timed out waiting for lock %s; continuing unlocked",
                           self.path)
                    return self
                if self._still_named(fd):
                    self._fd = fd
                    return self
                _unlock_fd(fd)  # the holder before removed it: lock anew
                os.close(fd)
            if time.monotonic() >= deadline:
                _debug("could not keep hold of lock %s; continuing unlocked",
                       self.path)
                return self
            time.sleep(0.005)

    @staticmethod
    def _wait_for(fd, deadline):
        delay = 0.005
        while True:
            try:
                _lock_fd(fd)
                return True
            except OSError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(delay)
                delay = min(delay * 2, 0.1)

    def _still_named(self, fd):
        """Whether the locked file is still the one at ``path`` (its holder
        removes it on release)."""
        try:
            current = os.stat(self.path)
        except FileNotFoundError:
            return False
        except OSError:  # cannot tell: keep the lock we have
            return True
        try:
            held = os.fstat(fd)
        except OSError:
            return True
        return (current.st_dev, current.st_ino) == (held.st_dev, held.st_ino)

    def __exit__(self, *exc_info):
        if self._fd is not None:
            try:
                if os.name != "nt":  # Windows cannot remove an open file
                    os.unlink(self.path)
            except OSError:
                pass
            try:
                _unlock_fd(self._fd)
            finally:
                os.close(self._fd)
                self._fd = None
        for directory in reversed(self._created):
            try:
                os.rmdir(directory)  # only when nothing was written there
            except OSError:
                break
        self._created = []


if os.name == "nt":  # pragma: no cover - exercised on Windows only
    def _lock_fd(fd):
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

    def _unlock_fd(fd):
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    def _lock_fd(fd):
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock_fd(fd):
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)


def _read_utf8_file(path, what):
    """(text, byte-order mark) of the UTF-8 file at ``path`` (("", b"")
    when it does not exist); ConfigError naming the ``what`` otherwise."""
    try:
        data = _read_file(path)
        return _decode_utf8(data), data[:3] if data.startswith(
            b"\xef\xbb\xbf") else b""
    except FileNotFoundError:
        return "", b""
    except OSError as exc:
        raise ConfigError("cannot read the %s %s: %s" % (
            what, path, _os_error_text(exc)), path=path) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError("the %s %s is not valid UTF-8 (byte %d)" % (
            what, path, exc.start), path=path) from None


def _write_credentials_file(path, section, creds):
    """Write ``creds`` into ``[section]`` of the credentials file, keeping
    the rest, its line endings and byte-order mark; returns a warning (or
    None) when the file was open to others before."""
    values = dict(_credential_items(creds, (
        "aws_access_key_id", "aws_secret_access_key", "aws_session_token",
        "aws_session_expiration", "aws_account_id")))
    text, bom = _read_utf8_file(path, "credentials file")
    try:
        mode = os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        mode = 0o600
    warning = None
    if mode & 0o077 and os.name != "nt":
        warning = ("%s was readable or writable by others (mode %04o); it is "
                   "0600 now" % (path, mode))
    updated = _merge_credentials_section(text, section, values)
    try:
        _write_file(path, bom + updated.encode("utf-8"))
    except OSError as exc:
        raise Error("cannot write the credentials file %s: %s" % (
            path, _os_error_text(exc))) from exc
    return warning


def _parse_token(document, path):
    """Validate a token document's accessToken then expiresAt; return a Token."""
    for key in ("accessToken", "expiresAt"):
        value = document.get(key)
        if not isinstance(value, str) or not value:
            raise Error("cached SSO token file %s has no %s (a non-empty string "
                        "is required)" % (path, key))
    if not _is_token(document["accessToken"]):
        raise Error("cached SSO token file %s has an unusable accessToken (too "
                    "long, or control or non-ASCII characters)" % path)
    try:
        expires = _parse_timestamp(document["expiresAt"])
    except Error as exc:
        raise Error("cached SSO token file %s has an invalid expiresAt: %s" % (
            path, exc)) from None
    return Token(document["accessToken"], expires)


def _load_token(path, login_command=None):
    """Read and validate an SSO token file; InvalidTokenError on any fault."""
    try:
        document = _read_json_object(path, "cached SSO token file")
        token = _parse_token(document, path)
    except Error as exc:
        raise InvalidTokenError(str(exc), login_command, path) from exc
    return _CachedToken(document, token)


def _refresh_blocker(document):
    """Why the token in ``document`` cannot be refreshed, or None if it can."""
    for key in ("refreshToken", "clientId", "clientSecret"):
        value = document.get(key)
        if not isinstance(value, str) or not value:
            return "it cannot be refreshed (no %s)" % key
    registration = document.get("registrationExpiresAt")
    if registration is not None:
        try:
            registration = _parse_timestamp(str(registration))
        except Error:
            return "it cannot be refreshed (registrationExpiresAt is invalid)"
        if _utcnow() >= registration:
            return "its client registration expired at %s" % _format_timestamp(
                registration)
    return None


def _token_from_create_token(response):
    """The Token of a CreateToken response (``accessToken``, ``expiresIn``
    seconds from now); APIError if they are missing."""
    access_token = response.get("accessToken")
    expires_in = _whole_number(response.get("expiresIn"))
    if not (isinstance(access_token, str) and access_token
            and expires_in is not None):
        raise APIError("CreateToken", "InvalidResponse", 200,
                       "the response lacks accessToken or expiresIn")
    if not 0 < expires_in <= _MAX_SECONDS:
        raise APIError("CreateToken", "InvalidResponse", 200,
                       "expiresIn = %d is not a lifetime in seconds (it has "
                       "already expired, or it is beyond any date)" % expires_in)
    refresh = response.get("refreshToken")
    if not _is_token(access_token) or (refresh is not None
                                       and not _is_token(refresh)):
        raise APIError("CreateToken", "InvalidResponse", 200,
                       "the token is too long or holds control or non-ASCII "
                       "characters")
    return Token(access_token, _utcnow().replace(microsecond=0)
                 + timedelta(seconds=expires_in))


# -- Settings and endpoints --------------------------------------------------


class _Partition(object):
    """One partition of botocore's data/partitions.json."""

    __slots__ = ("name", "region_regex", "dns_suffix", "dualstack_dns_suffix",
                 "regions")

    def __init__(self, name, region_regex, dns_suffix, dualstack_dns_suffix,
                 regions=()):
        self.name = name
        self.region_regex = region_regex
        self.dns_suffix = dns_suffix
        self.dualstack_dns_suffix = dualstack_dns_suffix
        self.regions = regions  # listed explicitly besides the regex


_PARTITIONS = (
    _Partition("aws", r"^(us|eu|ap|sa|ca|me|af|il|mx)\-\w+\-\d+$",
               "amazonaws.com", "api.aws"),
    _Partition("aws-cn", r"^cn\-\w+\-\d+$", "amazonaws.com.cn",
               "api.amazonwebservices.com.cn", ("cn-north-1", "cn-northwest-1")),
    _Partition("aws-eusc", r"^eusc\-(de)\-\w+\-\d+$", "amazonaws.eu",
               "api.amazonwebservices.eu", ("eusc-de-east-1",)),
    _Partition("aws-iso", r"^us\-iso\-\w+\-\d+$", "c2s.ic.gov", "api.aws.ic.gov",
               ("us-iso-east-1", "us-iso-west-1")),
    _Partition("aws-iso-b", r"^us\-isob\-\w+\-\d+$", "sc2s.sgov.gov",
               "api.aws.scloud", ("us-isob-east-1", "us-isob-west-1")),
    _Partition("aws-iso-e", r"^eu\-isoe\-\w+\-\d+$", "cloud.adc-e.uk",
               "api.cloud-aws.adc-e.uk", ("eu-isoe-west-1",)),
    _Partition("aws-iso-f", r"^us\-isof\-\w+\-\d+$", "csp.hci.ic.gov",
               "api.aws.hci.ic.gov", ("us-isof-east-1", "us-isof-south-1")),
    _Partition("aws-us-gov", r"^us\-gov\-\w+\-\d+$", "amazonaws.com", "api.aws",
               ("us-gov-east-1", "us-gov-west-1")),
)

# The services we call, by the id botocore uses in AWS_ENDPOINT_URL_<ID> and
# in [services] sections, with the host prefix of their endpoints.
_SERVICE_PREFIXES = {"sso": "portal.sso", "sso_oidc": "oidc", "sts": "sts"}


def _check_region(region):
    import re

    if not isinstance(region, str) or re.match(
            r"^(?![0-9]+$)(?!-)[a-zA-Z0-9-]{1,63}(?<!-)$", region) is None:
        raise ConfigError("invalid region %s: a region is a DNS label such as "
                          "us-east-1" % _quote_value(region))


def _partition_of(region):
    """The _Partition of a checked region (aws when none matches)."""
    import re

    for entry in _PARTITIONS:
        if region in entry.regions or re.match(entry.region_regex, region):
            return entry
    return _PARTITIONS[0]


def _regional_endpoint(prefix, region, use_fips=False, use_dualstack=False):
    """The endpoint rule set of sso, sso-oidc and sts (botocore's
    data/<service>/<version>/endpoint-rule-set-1.json) for a checked region."""
    partition = _partition_of(region)
    if use_fips and use_dualstack:
        return "https://%s-fips.%s.%s" % (prefix, region,
                                          partition.dualstack_dns_suffix)
    if use_fips:
        if partition.name == "aws-us-gov":  # GovCloud endpoints are FIPS already
            return "https://%s.%s.amazonaws.com" % (prefix, region)
        return "https://%s-fips.%s.%s" % (prefix, region, partition.dns_suffix)
    if use_dualstack:
        return "https://%s.%s.%s" % (prefix, region,
                                     partition.dualstack_dns_suffix)
    return "https://%s.%s.%s" % (prefix, region, partition.dns_suffix)


def _parse_max_attempts(value):
    try:
        attempts = int(value)
    except (TypeError, ValueError):
        attempts = 0
    if attempts < 1:
        raise ConfigError("max_attempts must be a whole number of at least 1, "
                          "not %r" % (value,))
    return attempts


class _Settings(object):
    """How to reach the services, resolved once, in botocore's order: an
    explicit argument, then the environment (a variable set to "" counts as
    set, except for endpoint URLs), then the profile's keys (and its
    ``services`` section), then the default.

    ``profile`` is the profile's own keys (a dict) and ``services`` the
    config's ``[services NAME]`` sections; both may be None.  ``endpoints``
    maps each service id (sso, sso_oidc, sts) to its configured endpoint URL
    or None; ``region`` is the profile's AWS region (STS), None if unset.
    """

    __slots__ = ("endpoints", "use_fips", "use_dualstack", "ca_bundle",
                 "max_attempts", "connect_timeout", "read_timeout",
                 "new_retries", "region", "sts_regional_endpoints")

    def __init__(self, environ, profile=None, services=None, *,
                 endpoint_url=None, use_fips_endpoint=None,
                 use_dualstack_endpoint=None, ca_bundle=None, max_attempts=None,
                 connect_timeout=_CONNECT_TIMEOUT, read_timeout=_READ_TIMEOUT):
        profile = profile or {}

        def lookup(given, env_name, key):
            if given is not None:
                return given
            value = environ.get(env_name)
            if value is not None:  # set to "", it still wins (botocore)
                return value
            value = profile.get(key)
            return value if isinstance(value, str) and value else None

        ignore = _is_true(lookup(None, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
                                 "ignore_configured_endpoint_urls"))
        self.endpoints = {}
        for service in _SERVICE_PREFIXES:
            url = endpoint_url
            if url is None and not ignore:
                url = _configured_endpoint(service, environ, profile, services)
            self.endpoints[service] = url
        fips = lookup(use_fips_endpoint, "AWS_USE_FIPS_ENDPOINT",
                      "use_fips_endpoint")
        self.use_fips = fips if isinstance(fips, bool) else _is_true(fips)
        dual = lookup(use_dualstack_endpoint, "AWS_USE_DUALSTACK_ENDPOINT",
                      "use_dualstack_endpoint")
        self.use_dualstack = dual if isinstance(dual, bool) else _is_true(dual)
        self.ca_bundle = lookup(ca_bundle, "AWS_CA_BUNDLE", "ca_bundle") or None
        attempts = lookup(max_attempts, "AWS_MAX_ATTEMPTS", "max_attempts")
        self.max_attempts = 3 if attempts is None else _parse_max_attempts(
            attempts)
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        # The SDKs' opt-in 2026 retry behaviour: a 50 ms base for errors
        # other than throttling (an environment-only setting).
        self.new_retries = _is_true(environ.get("AWS_NEW_RETRIES_2026"))
        region = environ.get("AWS_REGION") or environ.get(
            "AWS_DEFAULT_REGION") or profile.get("region")
        self.region = region if isinstance(region, str) and region else None
        self.sts_regional_endpoints = (lookup(
            None, "AWS_STS_REGIONAL_ENDPOINTS", "sts_regional_endpoints")
            or "regional").lower()

    def endpoint(self, service, region):
        """The configured endpoint of ``service``, else its regional one."""
        return self.endpoints[service] or _regional_endpoint(
            _SERVICE_PREFIXES[service], region, self.use_fips,
            self.use_dualstack)


def _configured_endpoint(service, environ, profile, services):
    """botocore's ConfiguredEndpointProvider (configprovider.py) for one
    service: AWS_ENDPOINT_URL_<ID>, AWS_ENDPOINT_URL, the profile's
    ``services`` section, then its ``endpoint_url``."""
    for env in ("AWS_ENDPOINT_URL_" + service.upper(), "AWS_ENDPOINT_URL"):
        if environ.get(env):
            return environ[env]
    services_name = profile.get("services")
    if isinstance(services_name, dict):
        raise ConfigError("services must name a [services NAME] section, not "
                          "hold an indented block")
    if services_name:
        section = (services or {}).get(services_name)
        if section is None:
            raise ConfigError('services "%s" is named but there is no '
                              "[services %s] section" % (services_name,
                                                         services_name))
        nested = section.get(service)
        if isinstance(nested, dict) and nested.get("endpoint_url"):
            return nested["endpoint_url"]
    value = profile.get("endpoint_url")
    return value if isinstance(value, str) and value else None


# -- HTTP --------------------------------------------------------------------

# Standard retry mode (botocore retries/standard.py).
_RETRYABLE_STATUS = frozenset((500, 502, 503, 504))
_RETRYABLE_CODES = frozenset((
    "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete",
    "Throttling", "ThrottlingException", "ThrottledException",
    "RequestThrottledException", "TooManyRequestsException",
    "ProvisionedThroughputExceededException", "TransactionInProgressException",
    "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException",
    "RequestThrottled", "SlowDown", "EC2ThrottledException",
))
_TRANSIENT_CODES = frozenset(("RequestTimeout", "RequestTimeoutException",
                              "PriorRequestNotComplete"))
_MAX_BACKOFF = 20.0
# OAuth "error" values of SSO OIDC mapped to exception names, used when the
# response carries no x-amzn-ErrorType header (RFC 6749 section 5.2 and the
# SSO OIDC API Reference's CreateToken errors).
_OAUTH_ERRORS = {
    "authorization_pending": "AuthorizationPendingException",
    "slow_down": "SlowDownException",
    "expired_token": "ExpiredTokenException",
    "access_denied": "AccessDeniedException",
    "invalid_grant": "InvalidGrantException",
    "invalid_client": "InvalidClientException",
    "unauthorized_client": "UnauthorizedClientException",
    "unsupported_grant_type": "UnsupportedGrantTypeException",
    "invalid_scope": "InvalidScopeException",
    "invalid_request": "InvalidRequestException",
    "invalid_client_metadata": "InvalidClientMetadataException",
    "invalid_redirect_uri": "InvalidRedirectUriException",
    "server_error": "InternalServerException",
}


class _HTTP(object):
    """One service endpoint: requests, retries, errors, transport safety."""

    def __init__(self, endpoint, settings, retry_base_delay=1.0):
        from urllib.parse import urlsplit

        try:
            if not _is_opaque(endpoint, 2048):
                raise ValueError("spaces, control or non-ASCII characters")
            parts = urlsplit(endpoint)
            scheme = parts.scheme.lower()
            port = parts.port
            if scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("no scheme or host")
        except ValueError:
            raise ConfigError("invalid endpoint URL %s: expected "
                              "https://host[:port][/path] in ASCII" % (
                                  _quote_value(endpoint),)) from None
        self.loopback = _is_loopback(parts.hostname)
        if scheme == "http" and not self.loopback:
            raise ConfigError(
                "refusing plain-http endpoint %s: the bearer token would cross "
                "the network unencrypted; use https (http is allowed only for "
                "127.0.0.1, ::1 and localhost)" % endpoint)
        self.endpoint = endpoint
        self.scheme = scheme
        self.host = parts.hostname
        self.port = port
        self.netloc = parts.netloc.rpartition("@")[2]
        self.prefix = parts.path.rstrip("/")
        self.ca_bundle = settings.ca_bundle
        self._context = None
        self.max_attempts = settings.max_attempts
        self.connect_timeout = settings.connect_timeout
        self.read_timeout = settings.read_timeout
        self.retry_base_delay = retry_base_delay
        self.new_retries = settings.new_retries

    def call(self, operation, method, path, *, query=None, headers=None,
             body=None, form=None, sign=None, context=None, json_answer=False):
        """Send a request with retries; return the decoded response.

        ``body`` is sent as JSON and the response decoded as a JSON object;
        ``form`` (a list of pairs) is sent url-encoded and the response
        returned as an ElementTree element (the AWS Query protocol), or as a
        JSON object with ``json_answer``.
        ``sign(method, url, headers, data)`` returns signing headers and is
        called for every attempt.
        """
        import json
        from urllib.parse import quote

        target = self.prefix + path
        if query:
            target += "?" + "&".join(
                "%s=%s" % (quote(k, safe="-_.~"), quote(str(v), safe="-_.~"))
                for k, v in sorted(query.items()))
        headers = dict(headers or {})
        headers["User-Agent"] = _user_agent()
        headers["amz-sdk-invocation-id"] = _uuid4()
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if form is not None:
            data = "&".join("%s=%s" % (quote(k, safe="-_.~"), quote(
                str(v), safe="-_.~")) for k, v in form).encode("ascii")
            headers["Content-Type"] = \
                "application/x-www-form-urlencoded; charset=utf-8"
        url = "%s://%s%s" % (self.scheme, self.netloc, target)
        attempt = 0
        while True:
            attempt += 1
            headers["amz-sdk-request"] = "attempt=%d; max=%d" % (
                attempt, self.max_attempts)
            if sign is not None:
                headers.update(sign(method, url, headers, data or b""))
            try:
                status, response_headers, payload = self._send(
                    method, target, headers, data)
            except TransportError as exc:
                if attempt < self.max_attempts and exc.retryable:
                    delay = self._backoff(attempt, None, throttled=False)
                    _debug("%s attempt %d failed (%s); retrying in %.2f s",
                           operation, attempt, exc, delay)
                    time.sleep(delay)
                    continue
                failure = TransportError("%s %s: %s" % (
                    operation, "failed" if not context else "failed " + context,
                    exc))
                failure.unresolved_host = exc.unresolved_host
                raise failure from exc
            if 200 <= status < 300:
                if form is not None and not json_answer:
                    return _decode_xml_body(operation, status, payload, context)
                return _decode_json_body(operation, status, payload, context)
            code, message = _parse_error(status, response_headers, payload)
            request_id = response_headers.get("x-amzn-RequestId")
            _debug("%s attempt %d: HTTP %d %s (request id %s)", operation,
                   attempt, status, code, request_id)
            retryable = status in _RETRYABLE_STATUS or code in _RETRYABLE_CODES
            if retryable and attempt < self.max_attempts:
                delay = self._backoff(attempt, response_headers, throttled=(
                    code in _RETRYABLE_CODES and code not in _TRANSIENT_CODES))
                _debug("retrying %s in %.2f s", operation, delay)
                time.sleep(delay)
                continue
            raise APIError(operation, code, status, message, request_id, context)

    def _backoff(self, attempt, headers, throttled=True):
        import random

        base = self.retry_base_delay
        if self.new_retries and not throttled:
            base *= 0.05
        delay = random.random() * min(base * 2 ** (attempt - 1), _MAX_BACKOFF)
        hint = None
        if headers is not None:
            hint = _retry_after(headers)
        if hint is not None:  # honoured, but never more than 5 s past ours
            delay = max(delay, min(hint, delay + 5.0))
        return delay

    def _send(self, method, target, headers, data):
        import http.client
        import socket

        # plain-http loopback calls never need (or load) the ssl module
        ssl = sys.modules.get("ssl") if self.scheme == "http" else __import__("ssl")
        tls_errors = (ssl.SSLError, ssl.CertificateError) if ssl else ()
        watchdog = _Watchdog(self.connect_timeout + self.read_timeout)
        complete = False
        try:
            try:
                conn = self._connect(watchdog)
                try:
                    conn.request(method, target, body=data, headers=headers)
                    response = conn.getresponse()
                    payload = _read_limited(response)
                    expected = response.getheader("Content-Length")
                    if expected and expected.isdigit() and int(
                            expected) > len(payload):
                        # read(n) returns a short body when the peer hangs up
                        raise http.client.IncompleteRead(payload, int(expected))
                    # a body that filled its Content-Length is whole even if
                    # the deadline passed just after it was read
                    complete = bool(expected and expected.isdigit())
                finally:
                    conn.close()
            except Exception as exc:
                if not watchdog.fired or isinstance(exc, Error):
                    raise
            finally:
                watchdog.stop()
            if watchdog.fired and not complete:  # the peer was cut off
                raise socket.timeout("no complete answer within %g s (connect "
                                     "plus read timeout)" % watchdog.seconds)
            return response.status, response.headers, payload
        except tls_errors as exc:
            # 3.7+ raise SSLCertVerificationError; 3.6 a plain SSLError with
            # that reason, or CertificateError for a host name mismatch
            detail = getattr(exc, "verify_message", None) or exc
            if isinstance(exc, ssl.CertificateError) or getattr(
                    exc, "reason", None) == "CERTIFICATE_VERIFY_FAILED":
                raise TransportError(
                    "TLS certificate verification failed for %s: %s; if a "
                    "proxy or private CA is in the way, set AWS_CA_BUNDLE to "
                    "its CA bundle" % (self.host, detail),
                    retryable=False) from exc
            raise TransportError("TLS error talking to %s: %s" % (
                self.host, exc), retryable=False) from exc
        except socket.timeout as exc:
            raise TransportError("timed out talking to %s%s" % (
                self.netloc, ": %s" % exc if str(exc) != "timed out" and str(
                    exc) else "")) from exc
        except ValueError:  # http.client refuses a header; never show it
            raise TransportError(
                "a request to %s was not sent: a header value holds a character "
                "HTTP cannot carry (not shown: it may be a secret)" % self.host,
                retryable=False) from None
        except socket.gaierror as exc:
            raise TransportError("cannot talk to %s: %s" % (
                self.netloc, _os_error_text(exc)), unresolved_host=self.host) \
                from exc
        except (OSError, http.client.HTTPException) as exc:
            raise TransportError("cannot talk to %s: %s" % (
                self.netloc, _os_error_text(exc) or
                type(exc).__name__)) from exc

    def _tls_context(self):
        """The verifying TLS context, built once; a bad bundle is a
        ConfigError (retrying cannot help)."""
        if self._context is None:
            import ssl

            try:
                self._context = ssl.create_default_context(cafile=self.ca_bundle)
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(
                    "cannot use the CA bundle %s (from AWS_CA_BUNDLE or "
                    "ca_bundle): %s" % (self.ca_bundle, _os_error_text(exc)
                                        if not isinstance(exc, ssl.SSLError)
                                        else exc)) from None
        return self._context

    def _connect(self, watchdog):
        import http.client

        proxy = None if self.loopback else _proxy_for(self.scheme, self.host)
        if self.scheme == "https":
            context = self._tls_context()
            host, port = (proxy[0], proxy[1]) if proxy else (self.host, self.port)
            conn = http.client.HTTPSConnection(
                host, port, timeout=self.connect_timeout, context=context)
            if proxy:
                conn.set_tunnel(self.host, self.port, headers=proxy[2])
        else:
            conn = http.client.HTTPConnection(self.host, self.port,
                                              timeout=self.connect_timeout)
        conn._create_connection = watchdog.create_connection
        conn.connect()
        conn.sock.settimeout(self.read_timeout)
        return conn


class _Watchdog(object):
    """Ends one attempt after ``seconds``, whatever the peer does: at the
    deadline it shuts the connection down (through a duplicate of the socket,
    so the TLS handshake, the headers and the body are all cut short),
    and ``fired`` tells the caller why its read failed."""

    def __init__(self, seconds):
        import threading

        self.seconds = seconds
        self.fired = False
        self._lock = threading.Lock()
        self._guard = self._timer = None

    def create_connection(self, address, timeout=None, source_address=None):
        """http.client's HTTPConnection._create_connection."""
        import socket
        import threading

        sock = socket.create_connection(address, timeout, source_address)
        try:
            with self._lock:
                self._guard = sock.dup()
            self._timer = threading.Timer(self.seconds, self._fire)
            self._timer.daemon = True
            self._timer.start()
        except BaseException:
            sock.close()
            self.stop()
            raise
        return sock

    def _fire(self):
        import socket

        with self._lock:
            if self._guard is not None:
                self.fired = True
                try:
                    self._guard.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self):
        """Called once the answer is read: from now on it never fires."""
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            if self._guard is not None:
                self._guard.close()
                self._guard = None


def _read_limited(response):
    chunks, size = [], 0
    while True:
        chunk = response.read(65536)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > _MAX_RESPONSE_BYTES:
            raise TransportError("the response is larger than %d bytes" %
                                 _MAX_RESPONSE_BYTES, retryable=False)
        chunks.append(chunk)


def _decode_json_body(operation, status, payload, context):
    import json

    if not payload.strip():
        return {}
    try:
        body = json.loads(payload.decode("utf-8"))
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise APIError(operation, "InvalidResponse", status,
                       "the response is not a JSON object", context=context)
    return body


def _decode_xml_body(operation, status, payload, context):
    try:
        return _parse_xml(payload)
    except ValueError as exc:
        raise APIError(operation, "InvalidResponse", status,
                       "the response is not usable XML (%s)" % exc,
                       context=context) from None


def _parse_error(status, headers, payload):
    """The AWS error code and message of an error response, parsed as
    botocore's parsers.py (RestJSONParser, QueryParser) do.

    JSON (restJson1) bodies, and the XML ``<Error><Code>`` of the Query
    protocol (STS).
    """
    import json

    try:
        body = json.loads(payload.decode("utf-8"))
    except ValueError:
        body = None
    if body is None and payload.lstrip()[:1] == b"<":
        try:
            root = _parse_xml(payload)
            body = {"code": _xml_text(root, "Code"),
                    "message": _xml_text(root, "Message")}
        except ValueError:
            body = None
    if not isinstance(body, dict):
        body = {}

    def text(key):
        value = body.get(key)
        return value if isinstance(value, str) else None

    raw = headers.get("x-amzn-ErrorType") or text("code") or text("Code") \
        or text("__type") or _OAUTH_ERRORS.get(text("error") or "") \
        or str(status)
    code = raw.split(":", 1)[0].rsplit("#", 1)[-1].strip() or str(status)
    message = text("message") or text("Message") or text("error_description") \
        or ""
    return _one_line(code, 100), _one_line(message, 300)


def _retry_after(headers):
    value = headers.get("x-amz-retry-after")
    try:
        if value is not None:
            return max(0.0, int(value) / 1000.0)
        value = headers.get("Retry-After")
        if value is not None:
            return max(0.0, float(value))
    except ValueError:
        pass
    return None


def _proxy_for(scheme, host):
    """(host, port, headers) of the proxy for ``scheme`` or None (NO_PROXY)."""
    import urllib.request
    from urllib.parse import unquote, urlsplit

    proxies = urllib.request.getproxies()
    url = proxies.get(scheme)
    if not url or urllib.request.proxy_bypass(host):
        return None
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise TransportError("unsupported proxy %s: only http:// proxies "
                             "are supported" % parts.hostname, retryable=False)
    headers = {}
    if parts.username is not None:
        import base64

        credentials = "%s:%s" % (unquote(parts.username),
                                 unquote(parts.password or ""))
        headers["Proxy-Authorization"] = "Basic " + base64.b64encode(
            credentials.encode("utf-8")).decode("ascii")
    return parts.hostname, parts.port or 80, headers  # as urllib and urllib3


def _is_loopback(host):
    """Whether ``host`` names this machine: ``localhost``, an IPv4 address in
    127.0.0.0/8 written as a plain dotted quad, or ``::1``.  ASCII only, so no
    look-alike digits or names ever reach DNS as "loopback"."""
    host = host.lower().strip("[]")
    try:
        host.encode("ascii")
    except UnicodeEncodeError:
        return False
    if host == "localhost":
        return True
    parts = host.split(".")
    if len(parts) == 4:
        if not all(p and len(p) <= 3 and all(c in _DIGITS for c in p)
                   for p in parts):
            return False
        return parts[0] == "127" and all(int(p) < 256 for p in parts)
    if ":" not in host:
        return False  # a host name other than localhost
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _user_agent():
    # sys and os instead of the platform module, which costs milliseconds
    system = {"linux": "linux", "darwin": "macos", "win32": "windows"}.get(
        sys.platform, "other")
    release = os.uname().release if hasattr(os, "uname") else ""
    impl = {"cpython": "CPython", "pypy": "PyPy"}.get(
        sys.implementation.name, sys.implementation.name)
    agent = "ssocreds/%s ua/2.1 os/%s#%s lang/python#%d.%d.%d md/pyimpl#%s" % (
        __version__, system, _ua_safe(release), sys.version_info[0],
        sys.version_info[1], sys.version_info[2], impl)
    app = os.environ.get("AWS_SDK_UA_APP_ID")
    if app:
        agent += " app/" + _ua_safe(app)
    return agent


def _ua_safe(value):
    allowed = "!$%&'*+-.^_`|~,"
    return "".join(c if c < "\x7f" and (c.isalnum() or c in allowed) else "-"
                   for c in value)


def _uuid4():
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    h = raw.hex()
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


# -- Service clients: portal, OIDC, STS --------------------------------------

class _ServiceClient(object):
    """What the portal, OIDC and STS clients share: endpoint, transport,
    retries.  The public constructors resolve their keyword options (None:
    from the environment) with _Settings; the assembly below builds clients
    from settings it has already resolved (``_configured``)."""

    _SERVICE = ""  # the service id: sso, sso_oidc or sts

    def __init__(self, region, *, endpoint_url=None, use_fips_endpoint=None,
                 use_dualstack_endpoint=None, ca_bundle=None, max_attempts=None,
                 connect_timeout=_CONNECT_TIMEOUT, read_timeout=_READ_TIMEOUT,
                 retry_base_delay=1.0):
        self._setup(region, _Settings(
            os.environ, endpoint_url=endpoint_url,
            use_fips_endpoint=use_fips_endpoint,
            use_dualstack_endpoint=use_dualstack_endpoint, ca_bundle=ca_bundle,
            max_attempts=max_attempts, connect_timeout=connect_timeout,
            read_timeout=read_timeout), retry_base_delay=retry_base_delay)

    @classmethod
    def _configured(cls, region, settings, endpoint_url=None):
        """A client from resolved settings; ``endpoint_url`` wins over them."""
        client = cls.__new__(cls)
        client._setup(region, settings, endpoint_url)
        return client

    def _setup(self, region, settings, endpoint_url=None, retry_base_delay=1.0):
        _check_region(region)
        self.region = region
        self._http = _HTTP(endpoint_url or settings.endpoint(self._SERVICE, region),
                           settings, retry_base_delay)

    @property
    def endpoint_url(self):
        return self._http.endpoint

    def __repr__(self):
        return "%s(region=%r, endpoint_url=%r)" % (
            type(self).__name__, self.region, self.endpoint_url)


class PortalClient(_ServiceClient):
    """Client of the Identity Center portal API (service ``sso``).

    ``region`` is the sso_region.  Keyword options, each None to resolve it
    from the environment as the AWS SDKs do:

    - ``endpoint_url``: AWS_ENDPOINT_URL_SSO, then AWS_ENDPOINT_URL (unless
      AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true), else
      ``https://portal.sso.{region}.{dnsSuffix}`` for the region's partition.
      A path in the URL is kept as a prefix.
    - ``use_fips_endpoint`` / ``use_dualstack_endpoint``: AWS_USE_FIPS_ENDPOINT
      / AWS_USE_DUALSTACK_ENDPOINT (ignored with an endpoint override).
    - ``ca_bundle``: AWS_CA_BUNDLE, else the system trust store.
    - ``max_attempts``: AWS_MAX_ATTEMPTS, else 3 (standard retry mode).

    ``connect_timeout`` (10 s) and ``read_timeout`` (60 s) bound each network
    wait; ``retry_base_delay`` (1 s) scales the full-jitter backoff.  Plain
    http is accepted only for loopback hosts; redirects are never followed.
    """

    _SERVICE = "sso"

    def get_role_credentials(self, *, account_id, role_name, access_token):
        """Call GetRoleCredentials; return the response's ``roleCredentials``.

        Raises APIError for service errors (UnauthorizedException included:
        the Provider turns that into InvalidTokenError) and TransportError.
        """
        context = "for account %s, role %s" % (account_id, role_name)
        body = self._call("GetRoleCredentials", "GET", "/federation/credentials",
                          {"role_name": role_name, "account_id": account_id},
                          access_token, context)
        result = body.get("roleCredentials")
        if not isinstance(result, dict):
            raise APIError("GetRoleCredentials", "InvalidResponse", 200,
                           "the response has no roleCredentials object",
                           context=context)
        return result

    def list_accounts(self, *, access_token, max_results=None):
        """Return every account (ListAccounts, following nextToken); each has
        a 12-digit ``accountId`` and printable ``accountName`` and
        ``emailAddress`` (or APIError)."""
        accounts = self._paginate("ListAccounts", "/assignment/accounts", {},
                                  "accountList", access_token, max_results)
        for account in accounts:
            if not (_is_account_id(account.get("accountId")) and all(
                    account.get(k) is None or _is_text(account[k], 256)
                    for k in ("accountName", "emailAddress"))):
                raise APIError("ListAccounts", "InvalidResponse", 200,
                               "an account has an id that is not 12 digits, or "
                               "a name or e-mail with control characters")
        return accounts

    def list_account_roles(self, *, account_id, access_token, max_results=None):
        """Return every role of ``account_id`` (ListAccountRoles, paginated);
        each ``roleName`` matches IAM's role name pattern (or APIError)."""
        roles = self._paginate("ListAccountRoles", "/assignment/roles",
                               {"account_id": account_id}, "roleList",
                               access_token, max_results)
        if not all(_is_role_name(r.get("roleName")) and (
                r.get("accountId") is None or _is_account_id(r["accountId"]))
                for r in roles):
            raise APIError("ListAccountRoles", "InvalidResponse", 200,
                           "a role name is not an IAM role name, or an account "
                           "id is not 12 digits",
                           context="for account %s" % account_id)
        return roles

    def logout(self, *, access_token):
        """Call Logout, ending the sign-in session behind ``access_token``."""
        self._call("Logout", "POST", "/logout", None, access_token)

    def _paginate(self, operation, path, query, key, access_token, max_results):
        items, seen = [], set()
        query = dict(query)
        if max_results:
            query["max_result"] = str(max_results)
        while True:
            body = self._call(operation, "GET", path, query, access_token)
            page = body.get(key)
            if isinstance(page, list):
                items.extend(x for x in page if isinstance(x, dict))
            token = body.get("nextToken")
            if not token:
                return items
            if len(seen) + 1 >= _MAX_PAGES or len(items) >= _MAX_ITEMS:
                raise APIError(operation, "InvalidResponse", 200,
                               "the service kept paging past %d pages or %d "
                               "items; stopped" % (_MAX_PAGES, _MAX_ITEMS))
            if not _is_token(token, 8192):
                raise APIError(operation, "InvalidResponse", 200,
                               "the pagination token is not printable ASCII")
            if token in seen:  # botocore stops a paginator that loops
                raise APIError(operation, "InvalidResponse", 200,
                               "the service repeated a pagination token")
            seen.add(token)
            query["next_token"] = token

    def _call(self, operation, method, path, query, access_token, context=None):
        if not access_token:
            raise InvalidTokenError("the access token is empty")
        return self._http.call(
            operation, method, path, query=query, context=context,
            headers={"x-amz-sso_bearer_token": access_token})


class OIDCClient(_ServiceClient):
    """Client of the Identity Center OIDC API (service ``sso-oidc``).

    Same options and environment as PortalClient, with
    AWS_ENDPOINT_URL_SSO_OIDC and hosts ``oidc.{region}.{dnsSuffix}``.  All
    methods take and return the API's camelCase JSON members as dicts.
    """

    _SERVICE = "sso_oidc"

    def create_token(self, *, client_id, client_secret, grant_type,
                     refresh_token=None, device_code=None, code=None,
                     redirect_uri=None, code_verifier=None, scope=None):
        """Call CreateToken (POST /token); return the response members."""
        body = _drop_none({
            "clientId": client_id, "clientSecret": client_secret,
            "grantType": grant_type, "refreshToken": refresh_token,
            "deviceCode": device_code, "code": code,
            "redirectUri": redirect_uri, "codeVerifier": code_verifier,
            "scope": scope})
        return self._http.call("CreateToken", "POST", "/token", body=body)

    def register_client(self, *, client_name, client_type="public", scopes=None,
                        grant_types=None, redirect_uris=None, issuer_url=None):
        """Call RegisterClient (POST /client/register)."""
        body = _drop_none({
            "clientName": client_name, "clientType": client_type,
            "scopes": scopes, "grantTypes": grant_types,
            "redirectUris": redirect_uris, "issuerUrl": issuer_url})
        return self._http.call("RegisterClient", "POST", "/client/register",
                               body=body)

    def start_device_authorization(self, *, client_id, client_secret,
                                   start_url):
        """Call StartDeviceAuthorization (POST /device_authorization)."""
        body = {"clientId": client_id, "clientSecret": client_secret,
                "startUrl": start_url}
        return self._http.call("StartDeviceAuthorization", "POST",
                               "/device_authorization", body=body)


def _sigv4_headers(method, url, headers, body, credentials, region, service,
                   now=None):
    """The headers that sign a request with AWS Signature Version 4.

    Returns Authorization, X-Amz-Date, X-Amz-Security-Token (with a session
    token) and Host; ``headers`` are the other headers to sign.  ``credentials``
    is a Credentials; ``now`` a UTC datetime (default: the clock).
    """
    import hashlib
    import hmac
    from urllib.parse import quote, unquote, urlsplit

    parts = urlsplit(url)
    now = now or _utcnow()
    stamp = "%04d%02d%02dT%02d%02d%02dZ" % (now.year, now.month, now.day,
                                            now.hour, now.minute, now.second)
    added = {"Host": parts.netloc.rpartition("@")[2], "X-Amz-Date": stamp}
    if credentials.session_token:
        added["X-Amz-Security-Token"] = credentials.session_token
    signed = {}
    for name, value in list(headers.items()) + list(added.items()):
        if name.lower() in ("authorization", "user-agent") or name.lower(
                ).startswith("amz-sdk-"):
            continue  # may change between attempts or through proxies
        signed[name.lower()] = " ".join(str(value).split())
    names = sorted(signed)
    query = sorted(
        (quote(unquote(k), safe="-_.~"), quote(unquote(v), safe="-_.~"))
        for k, _sep, v in (p.partition("=") for p in parts.query.split("&") if p))
    canonical = "\n".join([
        method, quote(parts.path or "/", safe="/~"),
        "&".join("%s=%s" % pair for pair in query),
        "".join("%s:%s\n" % (n, signed[n]) for n in names), ";".join(names),
        hashlib.sha256(body).hexdigest()])
    scope = "%s/%s/%s/aws4_request" % (stamp[:8], region, service)
    to_sign = "AWS4-HMAC-SHA256\n%s\n%s\n%s" % (
        stamp, scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest())
    key = ("AWS4" + credentials.secret_access_key).encode("utf-8")
    for part in (stamp[:8], region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    added["Authorization"] = (
        "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
            credentials.access_key_id, scope, ";".join(names), signature))
    return added


class _STSClient(_ServiceClient):
    """STS over the Query protocol; only AssumeRole."""

    _SERVICE = "sts"

    def assume_role(self, credentials, *, role_arn, role_session_name,
                    external_id=None, duration_seconds=None, serial_number=None,
                    token_code=None):
        """Call AssumeRole signed with ``credentials``; return Credentials
        (account from the assumed role's ARN)."""
        form = [("Action", "AssumeRole"), ("Version", "2011-06-15"),
                ("RoleArn", role_arn), ("RoleSessionName", role_session_name)]
        for name, value in (("ExternalId", external_id),
                            ("DurationSeconds", duration_seconds),
                            ("SerialNumber", serial_number),
                            ("TokenCode", token_code)):
            if value is not None:
                form.append((name, value))

        def sign(method, url, headers, data):
            return _sigv4_headers(method, url, {
                "Content-Type": headers["Content-Type"]}, data, credentials,
                self.region, "sts")

        context = "for role %s" % role_arn
        root = self._http.call("AssumeRole", "POST", "/", form=form, sign=sign,
                               context=context)
        fields = [_xml_text(root, n) for n in (
            "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration")]
        if not all(fields):
            raise APIError("AssumeRole", "InvalidResponse", 200,
                           "the response lacks Credentials", context=context)
        problem = _credentials_problem(*fields[:3])
        try:
            expires = _parse_timestamp(fields[3])
        except Error:
            problem = problem or "the Expiration is not a timestamp"
        if problem:
            raise APIError("AssumeRole", "InvalidResponse", 200, problem,
                           context=context)
        arn = _xml_text(root, "Arn") or ""
        account = arn.split(":")[4] if arn.count(":") >= 5 else None
        return Credentials(fields[0], fields[1], fields[2], expires,
                           account_id=account if _is_account_id(account) else None,
                           source="AssumeRole")


# The AWS federation endpoint of console sign-in ("Enable custom identity
# broker access to the AWS console", IAM User Guide), per partition:
# (sign-in host, console host; {region} filled in).
_SIGNIN_HOSTS = {
    "aws": ("signin.aws.amazon.com", "{region}.console.aws.amazon.com"),
    "aws-cn": ("signin.amazonaws.cn", "console.amazonaws.cn"),
    "aws-us-gov": ("signin.amazonaws-us-gov.com", "console.amazonaws-us-gov.com"),
}


class _SigninClient(object):
    """getSigninToken of the federation endpoint ``base`` (https://HOST, or
    AWS_ENDPOINT_URL_SIGNIN): a form POST, not a query string, so the
    session token stays out of URLs and logs."""

    def __init__(self, base, settings):
        self.base = base.rstrip("/")
        self._http = _HTTP(self.base, settings)

    def signin_token(self, creds, duration_seconds=None):
        import json

        form = [("Action", "getSigninToken")]
        if duration_seconds is not None:
            form.append(("SessionDuration", str(duration_seconds)))
        form.append(("Session", json.dumps({
            "sessionId": creds.access_key_id,
            "sessionKey": creds.secret_access_key,
            "sessionToken": creds.session_token})))
        answer = self._http.call("GetSigninToken", "POST", "/federation",
                                 form=form, json_answer=True)
        token = answer.get("SigninToken")
        if not _is_opaque(token, 16384):
            raise APIError("GetSigninToken", "InvalidResponse", 200,
                           "the answer has no usable SigninToken")
        return token


# -- Providers and caches ----------------------------------------------------

class Provider(object):
    """Retrieves role credentials with the cached SSO access token.

    The port of the Go package's ``ssocreds.Provider``: ``client`` is a
    PortalClient or any object with the same ``get_role_credentials`` method;
    ``account_id`` and ``role_name`` select the role; ``start_url`` names the
    legacy token file (see standard_cached_token_filepath).

    Keyword options: ``cached_token_filepath`` reads that file instead of the
    one derived from ``start_url``; ``token_provider`` (an object with
    ``retrieve_bearer_token()``, such as SSOTokenProvider) supplies the token
    instead of any file; ``login_command`` is the command errors tell the user
    to run (default ``aws sso login``).

    ``retrieve()`` makes one portal call per invocation; wrap the provider in
    a CredentialsCache to reuse credentials until they near expiry.
    """

    def __init__(self, client, account_id, role_name, start_url, *,
                 cached_token_filepath=None, token_provider=None,
                 login_command=None):
        self.client = client
        self.account_id = account_id
        self.role_name = role_name
        self.start_url = start_url
        self.cached_token_filepath = cached_token_filepath
        self.token_provider = token_provider
        self.login_command = login_command

    def __repr__(self):
        return "Provider(account_id=%r, role_name=%r, start_url=%r)" % (
            self.account_id, self.role_name, self.start_url)

    def retrieve(self):
        """Return fresh Credentials.

        Raises InvalidTokenError when the token is missing, unreadable,
        expired or rejected by the portal (401), APIError for other service
        errors and TransportError when the portal cannot be reached.
        """
        token = self.bearer_token()
        try:
            role = self.client.get_role_credentials(
                account_id=self.account_id, role_name=self.role_name,
                access_token=token.value)
        except APIError as exc:
            if exc.code == "UnauthorizedException" or exc.status == 401:
                raise InvalidTokenError(
                    "the portal rejected the access token (%s: %s)" % (
                        exc.code, exc.message or "no message"),
                    self.login_command) from exc
            raise
        return _credentials_from_role(role, self.account_id)

    def bearer_token(self):
        """The access token: the token provider's, else the unexpired token
        of the cached token file (InvalidTokenError otherwise)."""
        if self.token_provider is not None:
            return self.token_provider.retrieve_bearer_token()
        path = self.cached_token_filepath or standard_cached_token_filepath(
            self.start_url)
        try:
            token = _load_token(path, self.login_command).token
        except InvalidTokenError as exc:
            near = None if self.cached_token_filepath or os.path.exists(path) \
                else _token_for_a_variant(self.start_url)
            if near is None:
                raise
            raise InvalidTokenError(
                "no token file for sso_start_url %s, but there is one for %s: "
                "the URL was written differently when you signed in; make the "
                "profile's sso_start_url exactly %s, or sign in again" % (
                    self.start_url, near, near), self.login_command, path) \
                from exc
        if _utcnow() >= token.expires:
            raise InvalidTokenError("the cached token in %s expired at %s" % (
                path, _format_timestamp(token.expires)), self.login_command, path)
        return token


def _token_for_a_variant(start_url):
    """A start URL spelt differently (a trailing ``/`` more or less, other
    letter case) whose legacy token file exists; None if there is none."""
    bare = start_url.rstrip("/")
    for variant in (bare, bare + "/", bare.lower(), bare.lower() + "/"):
        if variant != start_url and os.path.exists(
                standard_cached_token_filepath(variant)):
            return variant
    return None


class SSOTokenProvider(object):
    """Supplies the sso-session access token, refreshing it when needed.

    ``client`` is an OIDCClient (or any object with the same
    ``create_token``); it is used only when a refresh is due.
    ``cached_token_filepath`` is the session's token file (see
    standard_cached_token_filepath with the sso-session name).

    When less than ``refresh_window`` (default 15 minutes) remains and the
    file holds ``refreshToken``, ``clientId`` and ``clientSecret`` of an
    unexpired registration, CreateToken (grant ``refresh_token``) is called
    under an exclusive lock file beside the token file, after re-reading the
    file; the new token is written back atomically (0600), keeping every other
    field.  When the refresh fails, a still-valid token is returned; once the
    token has expired, InvalidTokenError names ``login_command``.
    ``start_url`` and ``region``, when given, are written into refreshed files
    as the AWS CLI does.
    """

    def __init__(self, client, cached_token_filepath, *,
                 refresh_window=_REFRESH_WINDOW, start_url=None, region=None,
                 login_command=None):
        self.client = client
        self.cached_token_filepath = cached_token_filepath
        if not isinstance(refresh_window, timedelta):
            refresh_window = timedelta(seconds=refresh_window)
        self.refresh_window = refresh_window
        self.start_url = start_url
        self.region = region
        self.login_command = login_command

    def __repr__(self):
        return "SSOTokenProvider(cached_token_filepath=%r)" % (
            self.cached_token_filepath,)

    def retrieve_bearer_token(self):
        """Return a Token (``.value``, ``.expires``), refreshed if due."""
        path = self.cached_token_filepath
        cached = _load_token(path, self.login_command)
        if not self._refresh_due(cached):
            return cached.token
        problem = _refresh_blocker(cached.document)
        if problem is None:
            with _FileLock(path + ".lock"):
                cached = _load_token(path, self.login_command)
                if not self._refresh_due(cached):
                    return cached.token  # another process refreshed it
                try:
                    return self._refresh(path, cached.document)
                except (APIError, TransportError) as exc:
                    problem = "refreshing it failed (%s)" % (exc,)
                    _debug("token refresh for %s failed: %s", path, exc)
        if _utcnow() < cached.token.expires:
            _debug("using the cached token, still valid until %s, although %s",
                   _format_timestamp(cached.token.expires), problem)
            return cached.token
        raise InvalidTokenError(
            "the cached token in %s expired at %s and %s" % (
                path, _format_timestamp(cached.token.expires), problem),
            self.login_command, path)

    def _refresh_due(self, cached):
        return cached.token.expires - _utcnow() < self.refresh_window

    def _refresh(self, path, document):
        response = self.client.create_token(
            grant_type="refresh_token", client_id=document["clientId"],
            client_secret=document["clientSecret"],
            refresh_token=document["refreshToken"])
        token = _token_from_create_token(response)
        updated = dict(document)
        if self.start_url is not None:
            updated["startUrl"] = self.start_url
        if self.region is not None:
            updated["region"] = self.region
        updated["accessToken"] = token.value
        updated["expiresAt"] = _format_timestamp(token.expires)
        new_refresh = response.get("refreshToken")
        if isinstance(new_refresh, str) and new_refresh:
            updated["refreshToken"] = new_refresh
        try:
            _write_json_file(path, updated)
        except OSError as exc:  # read-only ~/.aws: the new token still works
            _debug("could not write the refreshed token to %s: %s", path,
                   _os_error_text(exc))
        _debug("refreshed the SSO token in %s, now valid until %s", path,
               updated["expiresAt"])
        return token


class CredentialsCache(object):
    """Caches a provider's credentials until they near expiry; thread-safe.

    ``retrieve()`` returns the cached Credentials while more than the
    refresh margin remains before they expire, where the margin is
    ``expiry_window`` (default 5 minutes) but never more than half of the
    lifetime the credentials had when fetched.  Otherwise exactly one caller
    runs ``provider.retrieve()`` while concurrent callers wait for its
    result.  If that refresh fails while the cached credentials are still
    valid, they are returned and the refresh is retried after 30 seconds.
    ``invalidate()`` forgets the cached credentials.
    """

    _RETRY_AFTER_FAILURE = timedelta(seconds=30)

    def __init__(self, provider, *, expiry_window=timedelta(minutes=5)):
        import threading

        self.provider = provider
        if not isinstance(expiry_window, timedelta):
            expiry_window = timedelta(seconds=expiry_window)
        self.expiry_window = expiry_window
        self._lock = threading.Lock()
        self._entry = None  # a _CacheEntry
        self._next_attempt = None

    def __repr__(self):
        return "CredentialsCache(%r)" % (self.provider,)

    def retrieve(self):
        entry = self._entry
        if entry is not None and _utcnow() < entry.refresh_at:
            return entry.credentials
        with self._lock:
            entry = self._entry
            now = _utcnow()
            if entry is not None and (now < entry.refresh_at or (
                    self._next_attempt is not None and now < self._next_attempt
                    and now < entry.credentials.expires)):
                return entry.credentials
            try:
                creds = self.provider.retrieve()
            except Error:
                if entry is not None and _utcnow() < entry.credentials.expires:
                    self._next_attempt = _utcnow() + self._RETRY_AFTER_FAILURE
                    _debug("credential refresh failed; using cached "
                           "credentials valid until %s",
                           _format_timestamp(entry.credentials.expires))
                    return entry.credentials
                raise
            now = _utcnow()
            margin = min(self.expiry_window, (creds.expires - now) / 2)
            self._entry = _CacheEntry(
                creds, creds.expires - max(margin, timedelta(0)))
            self._next_attempt = None
            return creds

    def invalidate(self):
        with self._lock:
            self._entry = None
            self._next_attempt = None


class _CLICachedProvider(object):
    """Reuses credentials in ~/.aws/cli/cache like the AWS CLI v2.

    One entry is the file ``path``; ``fetch()`` returns fresh Credentials on
    a miss.  The content matches botocore's JSONFileCache entries: SSO
    entries carry ``"ProviderType": "sso"`` (``provider_type``; an entry
    without one is used, as botocore uses it), assumed-role entries the
    ``AssumedRoleUser`` (``extra``), so the CLI and ssocreds share them.
    Entries are reused while more than 15 minutes remain.  A miss is filled
    under a lock and re-checked after locking, so concurrent
    processes make one call.  Cache trouble never fails a retrieve.
    """

    def __init__(self, path, fetch, provider_type=None, extra=None):
        self.path = path
        self._fetch = fetch
        self._provider_type = provider_type
        self._extra = extra or {}

    def retrieve(self):
        creds = self._read()
        if creds is not None:
            return creds
        with _FileLock(self.path + ".lock"):
            creds = self._read()
            if creds is None:
                creds = self._fetch()
                self._write(creds)
            return creds

    def _read(self):
        try:
            document = _read_json_object(self.path, "credential cache file")
            kind = document.get("ProviderType", self._provider_type)
            if kind != self._provider_type:  # botocore reads any; we check
                raise Error("the cache entry is of another kind")
            creds = _credentials_from_cli_cache(document["Credentials"])
        except (Error, KeyError, TypeError, AttributeError) as exc:
            if os.path.exists(self.path):
                _debug("ignoring credential cache %s: %s", self.path, exc)
            return None
        if creds.expires - _utcnow() <= _CLI_CACHE_WINDOW:
            _debug("credential cache %s expires too soon (%s)", self.path,
                   _format_timestamp(creds.expires))
            return None
        _debug("using cached credentials from %s", self.path)
        return creds

    def _write(self, creds):
        document = {"Credentials": dict(_credential_items(creds,
                                                          _PROCESS_NAMES))}
        if self._provider_type is not None:
            document["ProviderType"] = self._provider_type
        document.update(self._extra)
        try:
            _write_json_file(self.path, document)
        except OSError as exc:
            _debug("cannot write credential cache %s: %s", self.path,
                   _os_error_text(exc))


def _credentials_from_cli_cache(entry):
    fields = [entry[k] for k in ("AccessKeyId", "SecretAccessKey", "SessionToken",
                                 "Expiration")]
    if not all(isinstance(v, str) and v for v in fields):
        raise Error("the cache entry has empty or non-string fields")
    problem = _credentials_problem(*fields[:3])
    if problem:
        raise Error(problem)
    account = entry.get("AccountId")
    return Credentials(fields[0], fields[1], fields[2],
                       _parse_timestamp(fields[3]),
                       account_id=account if _is_account_id(account) else None)


def _credentials_from_role(role, account_id):
    """Credentials from a roleCredentials dict; APIError if incomplete."""
    if not isinstance(role, dict):
        role = {}
    missing = [k for k in ("accessKeyId", "secretAccessKey", "sessionToken")
               if not isinstance(role.get(k), str) or not role.get(k)]
    if "expiration" not in role:
        missing.append("expiration")
    if missing:
        raise APIError("GetRoleCredentials", "InvalidResponse", 200,
                       "roleCredentials lacks %s" % ", ".join(missing),
                       context="for account %s" % account_id)
    problem = _credentials_problem(role["accessKeyId"], role["secretAccessKey"],
                                   role["sessionToken"])
    expiration = _whole_number(role["expiration"])
    try:
        expires = _EPOCH + timedelta(milliseconds=expiration)
    except (OverflowError, TypeError):
        problem = problem or ("roleCredentials.expiration is not a time in "
                              "milliseconds")
    else:
        if expires <= _utcnow():
            problem = problem or (
                "the credentials expired at %s (roleCredentials.expiration must "
                "be milliseconds since 1970)" % _format_timestamp(expires))
    if problem:
        raise APIError("GetRoleCredentials", "InvalidResponse", 200, problem,
                       context="for account %s" % account_id)
    return Credentials(role["accessKeyId"], role["secretAccessKey"],
                       role["sessionToken"], expires, account_id=account_id)


class _StaticSource(object):
    """Static keys of a source profile (config or credentials file)."""

    def __init__(self, name, settings):
        self.name = name
        self._creds = Credentials(
            settings["aws_access_key_id"], settings["aws_secret_access_key"],
            settings.get("aws_session_token") or None,
            datetime.max.replace(tzinfo=_UTC), can_expire=False,
            source="SharedConfig")

    def retrieve(self):
        return self._creds


class _AssumeRoleProvider(object):
    """Assumes ``link``'s role with the credentials of ``source``;
    ``mfa_prompt(serial)`` returns a code when the link needs one."""

    def __init__(self, source, link, sts, mfa_prompt=None):
        self.source = source
        self.link = link
        self.sts = sts
        self.mfa_prompt = mfa_prompt
        self.role_session_name = link.role_session_name or "botocore-session-%d" % int(
            time.time())

    def retrieve(self):
        code = None
        if self.link.mfa_serial:
            if self.mfa_prompt is None:
                raise ConfigError(
                    'profile "%s" needs an MFA code (mfa_serial = %s) and there '
                    "is no way to ask for one here" % (
                        self.link.name, self.link.mfa_serial),
                    profile=self.link.name)
            code = self.mfa_prompt(self.link.mfa_serial)
        source = self.source.retrieve()
        _debug("assuming %s (session %s) for profile \"%s\"", self.link.role_arn,
               self.role_session_name, self.link.name)
        return self.sts.assume_role(
            source, role_arn=self.link.role_arn,
            role_session_name=self.role_session_name,
            external_id=self.link.external_id,
            duration_seconds=self.link.duration_seconds,
            serial_number=self.link.mfa_serial, token_code=code)


# -- Profiles: the shared config resolved ------------------------------------

class _Profile(object):
    """An SSO profile (or bare sso-session) resolved from the shared config.

    ``settings`` holds the profile's own keys and ``config`` the whole parsed
    file; ``client_settings`` resolves, once and on first use, how its
    clients reach the services (the environment ``environ`` first).
    """

    def __init__(self, name, path, settings, config, environ=None):
        self.name = name
        self.path = path
        self.settings = settings
        # the keys that configure its clients: in a role chain, those of the
        # requested profile for every link, SSO included (as botocore)
        self.client_keys = settings
        self.config = config
        self.environ = os.environ if environ is None else environ
        self.sso_session = None
        self.start_url = self.region = self.account_id = self.role_name = None
        self.scopes = None
        self.timeouts = {}  # connect_timeout/read_timeout for the clients
        self.reached_from = None  # how a command got here (status says it)
        self._client_settings = None

    @property
    def token_key(self):
        return self.sso_session if self.sso_session else self.start_url

    @property
    def login_command(self):
        if self.name is None:  # a bare sso-session
            return _login_command(" --sso-session " + _shell_quote(
                self.sso_session))
        if self.name == "default":
            return _login_command("")
        return _login_command(" --profile " + _shell_quote(self.name))

    @property
    def client_settings(self):
        if self._client_settings is None:
            try:
                self._client_settings = _Settings(
                    self.environ, self.client_keys, self.config["services"],
                    **self.timeouts)
            except ConfigError as exc:
                raise self.error(str(exc)) from None
        return self._client_settings

    def error(self, message):
        """A ConfigError about this profile."""
        if self.name is None:
            return ConfigError('sso-session "%s": %s' % (self.sso_session,
                                                          message), path=self.path)
        return ConfigError('profile "%s": %s' % (self.name, message),
                           profile=self.name, path=self.path)


def _login_command(option):
    """The fix for an expired session: the AWS CLI's login, and ours."""
    return "%s%s (or: ssocreds login%s)" % (_DEFAULT_LOGIN_COMMAND, option,
                                            option)


_PROFILE_VARIABLES = ("AWS_DEFAULT_PROFILE", "AWS_PROFILE")  # botocore's order


def _profile_name(profile=None, environ=None):
    """``profile``, else AWS_DEFAULT_PROFILE, else AWS_PROFILE (set to "",
    a variable names profile "", as in botocore), else ``default``."""
    if profile:
        return profile
    environ = os.environ if environ is None else environ
    for variable in _PROFILE_VARIABLES:
        if variable in environ:
            return environ[variable]
    return "default"


def _read_config(path, environ=None):
    """The config file at ``path`` as _parse_config groups it, with the
    sections of the shared credentials file merged into the profiles of
    the same name (its keys win), as botocore's Session.full_config does."""
    config = _lazy_config(_read_utf8_file(path, "config file")[0], path)
    profiles = config["profiles"]
    credentials = _credentials_file_path(environ)
    config["credentials"] = _parse_ini(_read_utf8_file(
        credentials, "credentials file")[0], credentials)
    config["credentials_path"] = credentials
    for name, values in config["credentials"].items():
        profiles[name] = dict(profiles.get(name, {}), **values)
    return config


def _load_profile(profile=None, config_file=None, environ=None,
                  require_role=True):
    """Resolve the SSO settings of ``profile`` into a _Profile.

    ``require_role`` False accepts a profile without sso_account_id and
    sso_role_name (enough to log in, list accounts or check status).
    """
    environ = os.environ if environ is None else environ
    path = _config_path(config_file, environ)
    return _profile_from_config(_profile_name(profile, environ), path,
                                _read_config(path, environ), require_role,
                                environ)


def _not_found(name, path, referrer=None, config=None):
    """The ConfigError for a profile that is in neither file, with what the
    user most likely meant."""
    where = path if os.path.exists(path) else "%s (which does not exist)" % (
        path or "no config file: AWS_CONFIG_FILE is empty")
    if not name and referrer is None:
        return ConfigError(
            "the profile name is empty: AWS_PROFILE or AWS_DEFAULT_PROFILE is "
            "set to the empty string; unset it or name a profile", path=path)
    text = 'profile "%s"%s was not found in %s' % (
        name, "" if referrer is None else ' (the source_profile of "%s")' %
        referrer, where)
    hint = _profile_hint(name, config)
    if hint:
        text += "; " + hint
    elif referrer is None:
        text += "; configure it with aws configure sso --profile %s" % (
            _shell_quote(name),)
    return ConfigError(text, profile=name, path=path)


def _profile_hint(name, config):
    """What a missing profile ``name`` most likely is: a section written the
    wrong way, or the closest names; and the SSO profiles when few."""
    if not config or not config.get("text"):
        return ""
    try:
        headers = list(_parse_ini(config["text"], "<config>"))
        profiles = config["profiles"]
        names = sorted(profiles)
    except ConfigError:
        return ""
    for header in headers:
        words = header.split()
        if header.strip() == name and name != "default":
            return ("the config has [%s], but in the config file a profile "
                    "section is [profile %s] ([%s] is the credentials file's "
                    "form)" % (header, name, name))
        if len(words) == 2 and words[1] == name and words[0] != "profile" and \
                words[0].lower() == "profile":
            return ("the config has [%s], but the word must be written "
                    "profile, in lower case: [profile %s]" % (header, name))
    import difflib

    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    sso = [n for n in names if isinstance(profiles.get(n), dict) and any(
        k in profiles[n] for k in ("sso_session", "sso_start_url"))]
    hints = []
    if close:
        hints.append("did you mean: %s?" % ", ".join(close))
    if sso and len(sso) <= 10:
        hints.append("SSO profiles there: %s" % ", ".join(sso))
    return " ".join(hints)


_SSO_SESSION_KEYS = ("sso_start_url", "sso_region")
_SSO_ROLE_KEYS = ("sso_account_id", "sso_role_name")


def _profile_from_config(name, path, config, require_role=True, environ=None):
    """_load_profile for a config already read from ``path``.  As botocore's
    SSOProvider: every key of the sso-session joins the profile's and must
    agree with it, and the sso-session itself needs sso_start_url and
    sso_region (SSOTokenProvider)."""
    settings = config["profiles"].get(name)
    if settings is None:
        raise _not_found(name, path, config=config)
    result = _Profile(name, path, settings, config, environ)

    def fail(text):
        return ConfigError('profile "%s" %s' % (name, text), profile=name,
                           path=path)

    session_name = _text_setting(settings, "sso_session", name, path)
    if session_name is not None:
        session = config["sso_sessions"].get(session_name)
        if session is None:
            raise fail(
                'uses sso_session "%s" but %s has no [sso-session %s] '
                "section%s" % (session_name, path, _shell_quote(session_name),
                               _session_hint(session_name, config)))
        for key, value in session.items():
            if key in settings and settings[key] != value:
                raise fail(
                    "sets %s = %s but its sso-session \"%s\" sets %s = %s; "
                    "remove it from the profile or make them agree" % (
                        key, settings[key], session_name, key, value))
        problem = _incomplete_session(session_name, session, path)
        if problem:
            raise fail('uses sso-session "%s", which is %s' % (session_name,
                                                               problem))
        merged = dict(settings, **session)
        result.scopes = _parse_scopes(session)
        result.sso_session = session_name
    elif not any(k in settings for k in _SSO_SESSION_KEYS + _SSO_ROLE_KEYS):
        where = path
        if name in config.get("credentials", {}):
            where = "%s (its [%s] section in %s)" % (
                path, name, config.get("credentials_path"))
        raise ConfigError(
            'profile "%s" in %s is not an SSO profile: it sets neither '
            "sso_session nor sso_start_url; configure it with aws configure "
            "sso --profile %s" % (name, where, _shell_quote(name)),
            profile=name, path=path)
    else:
        merged = settings
    required = _SSO_ROLE_KEYS + _SSO_SESSION_KEYS[::-1]
    if not require_role:
        required = _SSO_SESSION_KEYS[::-1]
    missing = [k for k in sorted(required) if not merged.get(k)]
    if not missing and require_role and not any(
            k in settings for k in _SSO_ROLE_KEYS):
        # botocore's SSOProvider looks for one of them in the profile itself
        raise fail("takes sso_account_id and sso_role_name only from its "
                   "sso-session, which the AWS CLI does not accept; add them "
                   "to %s in %s" % ("[default]" if name == "default" else
                                    "[profile %s]" % name, path))
    if missing:
        raise fail(
            "is configured to use SSO but is missing required configuration: "
            "%s; add %s to %s" % (", ".join(missing),
                                  "it" if len(missing) == 1 else "them", path))
    for key in required + ("sso_account_id", "sso_role_name"):
        _text_setting(merged, key, name, path)
    result.start_url = merged["sso_start_url"]
    result.region = merged["sso_region"]
    result.account_id = merged.get("sso_account_id")
    result.role_name = merged.get("sso_role_name")
    return result


def _incomplete_session(name, session, path):
    """What [sso-session NAME] lacks of sso_region and sso_start_url, as a
    message with the fix; None when it has both."""
    missing = [k for k in _SSO_SESSION_KEYS[::-1] if not session.get(k)]
    if not missing:
        return None
    return "missing required configuration: %s; add %s to [sso-session %s] " \
        "in %s" % (", ".join(missing), "it" if len(missing) == 1 else "them",
                   _shell_quote(name), path)


def _session_hint(name, config):
    """"; did you mean ..." for a missing sso-session ``name``."""
    import difflib

    try:
        headers = list(_parse_ini(config.get("text") or "", "<config>"))
        names = sorted(config["sso_sessions"])
    except ConfigError:
        return ""
    for header in headers:
        words = header.split()
        if len(words) == 2 and words[1].strip("'\"") == name and \
                words[0] != "sso-session" and words[0].lower().replace(
                    "_", "-") == "sso-session":
            return " (the config has [%s]: write it [sso-session %s])" % (
                header, _shell_quote(name))
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    if close:
        return "; did you mean: %s?" % ", ".join(close)
    if names and len(names) <= 10:
        return "; its sso-sessions: %s" % ", ".join(names)
    return ""


def _text_setting(settings, key, name, path):
    """settings[key] of profile ``name`` (None when absent); ConfigError when
    it is a nested block where a single value belongs."""
    value = settings.get(key)
    if isinstance(value, dict):
        raise ConfigError('profile "%s": %s must be a single value, not an '
                          "indented block" % (name, key), profile=name,
                          path=path)
    return value


def _load_session(session_name, config_file=None, environ=None):
    """A _Profile for ``[sso-session NAME]`` itself (login, list, logout).

    Endpoint settings come from the AWS_DEFAULT_PROFILE / AWS_PROFILE (or
    default) profile when it exists.
    """
    environ = os.environ if environ is None else environ
    path = _config_path(config_file, environ)
    config = _read_config(path, environ)
    session = config["sso_sessions"].get(session_name)
    if session is None:
        raise ConfigError("%s has no [sso-session %s] section; create it with "
                          "aws configure sso-session" % (
                              path, _shell_quote(session_name)), path=path)
    problem = _incomplete_session(session_name, session, path)
    if problem:
        raise ConfigError('sso-session "%s" is %s' % (session_name, problem),
                          path=path)
    settings = config["profiles"].get(_profile_name(None, environ), {})
    result = _Profile(None, path, settings, config, environ)
    result.sso_session = session_name
    result.start_url = session["sso_start_url"]
    result.region = session["sso_region"]
    result.scopes = _parse_scopes(session)
    return result


def _parse_scopes(session):
    """sso_registration_scopes: comma-separated, trimmed, empties dropped."""
    scopes = session.get("sso_registration_scopes", "")
    if not isinstance(scopes, str):
        return None
    return [s.strip() for s in scopes.split(",") if s.strip()] or None


class _RoleLink(object):
    """One ``role_arn`` profile of a chain."""

    def __init__(self, name, settings):
        self.name = name
        self.role_arn = settings["role_arn"]
        self.role_session_name = settings.get("role_session_name") or None
        self.external_id = settings.get("external_id") or None
        self.mfa_serial = settings.get("mfa_serial") or None
        self.duration_seconds = None
        value = settings.get("duration_seconds")
        if value is not None:
            try:
                self.duration_seconds = int(value)
            except (TypeError, ValueError):  # botocore ignores it too
                _debug('profile "%s": ignoring duration_seconds = %s (not a '
                       "whole number of seconds)", name, _quote_value(value))

    def cache_key(self):
        """botocore's AssumeRoleCredentialFetcher key: sha1 of the sorted
        AssumeRole arguments, without a generated session name."""
        args = [("DurationSeconds", self.duration_seconds),
                ("ExternalId", self.external_id), ("RoleArn", self.role_arn),
                ("RoleSessionName", self.role_session_name),
                ("SerialNumber", self.mfa_serial)]
        text = "{%s}" % ", ".join(
            "%s: %s" % (_json_string(k), v if isinstance(v, int)
                        else _json_string(v)) for k, v in args if v is not None)
        return _sha1_hex(text.encode("utf-8"))


_STATIC_KEYS = ("aws_access_key_id", "aws_secret_access_key")


def _source_credentials(name, referrer, settings, path, config, environ):
    """The credentials at the root of a chain: source profile ``name`` (of
    ``referrer``) as botocore's ProfileProviderBuilder tries it, SSO before
    static keys (the credentials file's keys win over the config's, merged
    by _read_config)."""
    if any(k in settings for k in _SSO_ROLE_KEYS):
        return _profile_from_config(name, path, config, environ=environ)
    # botocore's SharedCredentialProvider takes the keys and token of the
    # credentials file together when it has an access key; else its
    # ConfigProvider reads the merged profile
    own = config.get("credentials", {}).get(name, {})
    keys = own if "aws_access_key_id" in own else settings
    if all(isinstance(keys.get(k), str) and keys.get(k) for k in _STATIC_KEYS):
        return _StaticSource(name, keys)
    unsupported = [k for k in ("credential_process", "web_identity_token_file",
                               "login_session") if k in settings]
    what = ("partial static keys (both aws_access_key_id and "
            "aws_secret_access_key are needed in one file)"
            if any(k in keys for k in _STATIC_KEYS) else
            "%s, which ssocreds does not run" % unsupported[0] if unsupported
            else "no SSO settings and no static keys")
    raise ConfigError('profile "%s" (the source_profile of "%s") has %s' % (
        name, referrer, what), profile=name, path=path)


class _Chain(object):
    """A profile resolved as botocore resolves credentials for it: ``top`` is
    the requested profile (a _Profile: its region and endpoint settings
    configure STS), ``source`` the SSO _Profile or _StaticSource at the root,
    ``links`` the _RoleLinks in the order they are assumed, and ``provider``
    (set by the assembly) the provider of the whole chain."""

    __slots__ = ("top", "source", "links", "provider")

    def __init__(self, top, source, links):
        self.top = top
        self.source = source
        self.links = links
        self.provider = None


def _load_chain(profile=None, config_file=None, environ=None):
    """Resolve ``profile`` into a _Chain (without its provider).

    Raises ConfigError for cycles, missing source profiles and unsupported
    sources.
    """
    environ = os.environ if environ is None else environ
    name = _profile_name(profile, environ)
    path = _config_path(config_file, environ)
    config = _read_config(path, environ)
    profiles = config["profiles"]
    settings = profiles.get(name)
    if settings is None:
        raise _not_found(name, path, config=config)
    top = _Profile(name, path, settings, config, environ)
    links, visited, current = [], [name], name

    def fail(text):
        return ConfigError(text, profile=name, path=path)

    # botocore AssumeRoleProvider: the requested profile assumes its role
    # when it has role_arn; a source profile does only when it also has no
    # static key (else its own providers, SSO first, give the credentials)
    while "role_arn" in settings and "web_identity_token_file" not in settings \
            and (not links or not any(k in settings for k in _STATIC_KEYS)):
        source = settings.get("source_profile")
        if settings.get("credential_source") is not None:
            raise fail(
                'profile "%s" uses credential_source, which ssocreds does not '
                "support; use source_profile with an SSO profile" % current
                if source is None else 'profile "%s" sets both source_profile '
                "and credential_source" % current)
        if source is None:
            raise fail('profile "%s" sets role_arn but no source_profile'
                       % current)
        for key in ("role_arn", "source_profile", "role_session_name",
                    "external_id", "mfa_serial"):
            _text_setting(settings, key, current, path)
        link = _RoleLink(current, settings)
        if source not in profiles:
            raise _not_found(source, path, current, config)
        if source in visited and (source != current or not any(
                k in profiles[source] for k in _STATIC_KEYS)):
            raise fail('the source_profile chain of profile "%s" loops: %s' % (
                name, " -> ".join(visited + [source])))
        links.append(link)
        visited.append(source)
        current, settings = source, profiles[source]
    if not links:
        source = _profile_from_config(name, path, config, environ=environ)
        return _Chain(source, source, [])
    source = _source_credentials(current, visited[-2], settings, path, config,
                                 environ)
    if isinstance(source, _Profile):
        source.client_keys = top.settings
    return _Chain(top, source, links[::-1])


def _cli_cache_path(profile, cache_dir=None):
    """The entry of ~/.aws/cli/cache that holds an SSO profile's role
    credentials: botocore's SSOCredentialFetcher._create_cache_key."""
    key = {"accountId": profile.account_id, "roleName": profile.role_name}
    if profile.sso_session:
        key["sessionName"] = profile.sso_session
    else:
        key["startUrl"] = profile.start_url
    # json.dumps(key, sort_keys=True, separators=(",", ":")), as botocore
    text = "{%s}" % ",".join("%s:%s" % (_json_string(k), _json_string(v))
                             for k, v in sorted(key.items()))
    return os.path.join(cache_dir or _cli_cache_dir(),
                        _sha1_hex(text.encode("utf-8")) + ".json")


# -- Assembly: a resolved profile becomes a provider chain -------------------

def _client(cls, profile, region=None, endpoint_url=None):
    """A PortalClient, OIDCClient or _STSClient from the profile's settings
    (``region`` defaults to its sso_region)."""
    settings = profile.client_settings
    try:
        return cls._configured(region or profile.region, settings, endpoint_url)
    except ConfigError as exc:
        raise profile.error(str(exc)) from None


class _LazyOIDCClient(object):
    """Builds the OIDCClient on first use: most runs never refresh."""

    def __init__(self, profile):
        self._profile = profile
        self._client = None

    def __getattr__(self, name):
        if self._client is None:
            self._client = _client(OIDCClient, self._profile)
        return getattr(self._client, name)


def _build_provider(profile):
    """The Provider of an SSO profile (with an SSOTokenProvider for an
    sso-session profile)."""
    token_provider = None
    if profile.sso_session:
        token_provider = SSOTokenProvider(
            _LazyOIDCClient(profile),
            standard_cached_token_filepath(profile.sso_session),
            start_url=profile.start_url, region=profile.region,
            login_command=profile.login_command)
    return Provider(_client(PortalClient, profile), profile.account_id,
                    profile.role_name, profile.start_url,
                    token_provider=token_provider,
                    login_command=profile.login_command)


def _sso_cached_provider(profile):
    """The profile's provider behind the CLI cache; a hit builds no client."""
    return _CLICachedProvider(_cli_cache_path(profile),
                              lambda: _build_provider(profile).retrieve(), "sso")


_STS_LEGACY_GLOBAL = frozenset((  # regions the "legacy" setting sends to
    "ap-northeast-1", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
    "aws-global", "ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1",
    "eu-west-2", "eu-west-3", "sa-east-1", "us-east-1", "us-east-2",
    "us-west-1", "us-west-2"))


def _sts_client(top):
    """An STS client configured from the requested profile, as botocore
    configures every client of the chain from the session's profile."""
    settings = top.client_settings
    region = settings.region
    endpoint = None
    if not settings.endpoints["sts"] and (region is None or (
            settings.sts_regional_endpoints == "legacy"
            and region in _STS_LEGACY_GLOBAL)):
        endpoint = "https://sts.amazonaws.com"
    return _client(_STSClient, top, region or "us-east-1", endpoint)


def _build_chain(profile=None, config_file=None, environ=None, *,
                 disk_cache=False, timeouts=None, mfa_prompt=None):
    """The _Chain of any profile (SSO, or role_arn chains over SSO or static
    keys) with its provider.  ``disk_cache`` puts every link behind the
    credential cache shared with the AWS CLI; ``timeouts`` holds
    connect_timeout/read_timeout for every client."""
    chain = _load_chain(profile, config_file, environ)
    chain.top.timeouts = dict(timeouts or {})
    source = chain.source
    if isinstance(source, _Profile):
        source.timeouts = dict(timeouts or {})
        provider = (_sso_cached_provider(source) if disk_cache
                    else _build_provider(source))
    else:
        provider = source
    if chain.links:
        sts = _sts_client(chain.top)
        for link in chain.links:
            provider = _AssumeRoleProvider(provider, link, sts, mfa_prompt)
            if disk_cache:
                provider = _CLICachedProvider(
                    os.path.join(_cli_cache_dir(), link.cache_key() + ".json"),
                    provider.retrieve,
                    extra={"AssumedRoleUser": {"Arn": link.role_arn}})
    chain.provider = provider
    return chain


def from_profile(profile=None, *, config_file=None, mfa_prompt=None):
    """Return a CredentialsCache for the SSO profile ``profile``.

    The profile is looked up as botocore and the AWS CLI v2 do:
    ``profile`` if given, else AWS_DEFAULT_PROFILE, else AWS_PROFILE, else
    ``default``; the config file is ``config_file``, else AWS_CONFIG_FILE,
    else ~/.aws/config, and the sections of the shared credentials file join
    the profiles of the same name.  Legacy
    profiles (sso_start_url, sso_region, sso_account_id, sso_role_name) read
    the token cached under the start URL; sso-session profiles
    (``sso_session = NAME`` plus ``[sso-session NAME]``) read the token cached
    under the session name and refresh it (SSOTokenProvider).  Endpoint,
    FIPS/dual-stack, CA bundle and max_attempts settings come from the
    environment, then the profile (and its ``services`` section).

    Role chains work as in botocore: a profile with ``role_arn`` and
    ``source_profile`` assumes that role (STS AssumeRole, SigV4-signed) with
    the source profile's credentials, to any depth, ending in an SSO profile
    or static keys; ``role_session_name``, ``external_id``,
    ``duration_seconds``, ``mfa_serial`` (``mfa_prompt(serial)`` must then
    return the code), ``region`` and ``sts_regional_endpoints`` are honoured.

    Raises ConfigError naming the profile and what is missing or wrong.
    """
    return CredentialsCache(_build_chain(profile, config_file,
                                         mfa_prompt=mfa_prompt).provider)


# -- Operations: login -------------------------------------------------------

_DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
_PKCE_GRANTS = ["authorization_code", "refresh_token"]
_CALLBACK_PATH = "/oauth/callback"
_LOGIN_TIMEOUT = 600.0  # the AWS CLI waits 10 minutes for the browser
_REGISTRATION_WINDOW = timedelta(minutes=15)


def _registration_path(profile):
    """The AWS CLI's client-registration cache file (botocore utils.py,
    SSOTokenFetcher / awscli customizations/sso/utils.py)."""
    # json.dumps(..., sort_keys=True) with default separators, as the CLI
    key = '{"region": %s, "scopes": %s, "session_name": %s, "startUrl": %s, ' \
          '"tool": "botocore"}' % (
              _json_string(profile.region),
              "null" if profile.scopes is None else "[%s]" % ", ".join(
                  _json_string(s) for s in profile.scopes),
              "null" if profile.sso_session is None else _json_string(
                  profile.sso_session),
              _json_string(profile.start_url))
    return os.path.join(_sso_cache_dir(), _sha1_hex(key.encode("utf-8")) + ".json")


def _client_registration(oidc, profile, pkce):
    """A cached registration fit for the flow, or a new one (RegisterClient)."""
    path = _registration_path(profile)
    try:
        cached = _read_json_object(path, "client registration")
        expires = _parse_timestamp(cached.get("expiresAt"))
        fits = ("authorization_code" in (cached.get("grantTypes") or [])) == pkce
        if (fits and isinstance(cached.get("clientId"), str)
                and isinstance(cached.get("clientSecret"), str)
                and expires - _utcnow() > _REGISTRATION_WINDOW):
            _debug("reusing client registration %s", path)
            return cached
    except Error as exc:
        _debug("no reusable client registration in %s: %s", path, exc)
    name = "botocore-client-%s" % (profile.sso_session or int(time.time()))
    if pkce:
        scopes = profile.scopes or ["sso:account:access"]
        response = oidc.register_client(
            client_name=name, scopes=scopes, grant_types=_PKCE_GRANTS,
            redirect_uris=["http://127.0.0.1" + _CALLBACK_PATH],
            issuer_url=profile.start_url)
    else:
        scopes = profile.scopes
        response = oidc.register_client(client_name=name, scopes=scopes)
    client_id, secret = response.get("clientId"), response.get("clientSecret")
    expires_at = _whole_number(response.get("clientSecretExpiresAt"))
    if not (_is_token(client_id) and _is_token(secret)
            and expires_at is not None and 0 < expires_at <= _MAX_SECONDS):
        raise APIError("RegisterClient", "InvalidResponse", 200,
                       "the response lacks a usable clientId, clientSecret or "
                       "clientSecretExpiresAt")
    registration = {"clientId": client_id, "clientSecret": secret,
                    "expiresAt": _format_timestamp(
                        _EPOCH + timedelta(seconds=expires_at))}
    if scopes:
        registration["scopes"] = scopes
    if pkce:
        registration["grantTypes"] = _PKCE_GRANTS
    try:
        _write_json_file(path, registration)
    except OSError as exc:
        _debug("cannot cache the client registration in %s: %s", path,
               _os_error_text(exc))
    return registration


def _is_browser_url(url):
    """A URL we may hand to a browser: https://, or http:// to loopback (a
    local test service); never anything a browser could read as an option."""
    if _is_https_url(url):
        return True
    if not (_is_opaque(url, 8192) and url[:7].lower() == "http://"):
        return False
    from urllib.parse import urlsplit

    try:
        host = urlsplit(url).hostname
    except ValueError:
        return False
    return bool(host) and _is_loopback(host)


def _device_login(oidc, profile, registration, *, notify, open_browser,
                  sleep=time.sleep, clock=time.monotonic):
    """The device-authorization flow (RFC 8628; the SSO OIDC API Reference,
    StartDeviceAuthorization and CreateToken); the CreateToken result."""
    start = oidc.start_device_authorization(
        client_id=registration["clientId"],
        client_secret=registration["clientSecret"], start_url=profile.start_url)
    device_code = start.get("deviceCode")
    if not _is_token(device_code):
        raise APIError("StartDeviceAuthorization", "InvalidResponse", 200,
                       "the response has no usable deviceCode")
    complete = start.get("verificationUriComplete") or start.get(
        "verificationUri")
    user_code = start.get("userCode", "?")
    if not (_is_browser_url(complete) and _is_token(user_code, 64)):
        raise APIError("StartDeviceAuthorization", "InvalidResponse", 200,
                       "the verification URL is not an https:// URL or the user "
                       "code is not a short printable code")
    interval = min(max(_whole_number(start.get("interval")) or 5, 1), 60)
    lifetime = min(_whole_number(start.get("expiresIn")) or 600, 3600)
    deadline = clock() + lifetime
    shown = False
    while True:
        try:
            return oidc.create_token(
                grant_type=_DEVICE_GRANT, client_id=registration["clientId"],
                client_secret=registration["clientSecret"],
                device_code=device_code)
        except APIError as exc:
            if exc.code == "SlowDownException":
                interval += 5
            elif exc.code == "ExpiredTokenException":
                raise LoginError("the device code expired before the sign-in "
                                 "was approved; run the login again") from None
            elif exc.code == "AccessDeniedException":
                raise LoginError("the sign-in was denied in the browser") \
                    from None
            elif exc.code != "AuthorizationPendingException":
                raise
        if not shown:  # one immediate attempt first: clients may be pre-approved
            shown = True
            notify("To sign in, open this URL and confirm the code %s:\n  %s\n"
                   "Waiting for approval (Ctrl-C to cancel)..." % (
                       user_code, complete))
            open_browser(complete)
        if clock() + interval > deadline:
            raise LoginError("the device code expired before the sign-in was "
                             "approved; run the login again")
        sleep(interval)


class _CallbackServer(object):
    """A one-shot HTTP listener on 127.0.0.1 for the OAuth redirect."""

    def __init__(self, port):
        import socket

        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self._socket.bind(("127.0.0.1", port))
        except OSError as exc:
            self._socket.close()
            raise LoginError("cannot listen on 127.0.0.1:%d for the sign-in "
                             "redirect: %s; choose another --redirect-port or "
                             "use --use-device-code" % (
                                 port, _os_error_text(exc))) from None
        self._socket.listen(8)
        self.port = self._socket.getsockname()[1]

    def wait(self, timeout, state):
        """Serve until a request reaches the callback path carrying
        ``state``; return its query, or None after ``timeout`` seconds.

        Requests without the right state (any local process can connect)
        get a plain 400 and the wait goes on; each connection has two
        seconds to send its request, so an idle one cannot stall the wait.
        """
        import hmac
        from urllib.parse import parse_qs, urlsplit

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._socket.settimeout(max(0.01, min(10.0, deadline - time.monotonic())))
            try:
                conn, _address = self._socket.accept()
            except OSError:  # socket.timeout is an OSError
                continue
            with conn:
                conn.settimeout(2.0)
                try:
                    request = conn.recv(65536).decode("latin-1")
                except OSError:
                    continue
                target = request.split(" ", 2)[1] if request.count(" ") >= 2 \
                    else ""
                parts = urlsplit(target)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                given = query.get("state", "").encode("utf-8", "replace")
                if parts.path != _CALLBACK_PATH:
                    status, text = b"404 Not Found", b""
                elif not hmac.compare_digest(given, state.encode("ascii")):
                    status, text = b"400 Bad Request", b""
                else:
                    status, text = b"200 OK", (
                        b"Sign-in failed: return to the terminal."
                        if query.get("error") or not query.get("code") else
                        b"Signed in. You can close this window.")
                body = b"<!doctype html><title>ssocreds</title><p>%s</p>" % text \
                    if text else b""
                try:
                    conn.sendall(b"HTTP/1.1 %s\r\nContent-Type: text/html; "
                                 b"charset=utf-8\r\nContent-Length: %d\r\n"
                                 b"Connection: close\r\n\r\n" % (
                                     status, len(body)) + body)
                except OSError:
                    pass
                if status == b"200 OK":
                    return query
        return None

    def close(self):
        self._socket.close()


def _pkce_login(oidc, profile, registration, *, notify, open_browser, port=0,
                timeout=_LOGIN_TIMEOUT):
    """The authorization-code flow with PKCE (RFC 7636; botocore utils.py
    SSOTokenFetcherAuth, as the AWS CLI v2 runs it)."""
    import base64
    import hashlib
    import secrets
    from urllib.parse import quote, urlsplit

    verifier = "".join(secrets.choice(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        for _ in range(64))
    challenge = base64.urlsafe_b64encode(hashlib.sha256(
        verifier.encode("ascii")).digest()).decode("ascii").rstrip("=")
    state = _uuid4()
    server = _CallbackServer(port)
    try:
        redirect_uri = "http://127.0.0.1:%d%s" % (server.port, _CALLBACK_PATH)
        base = urlsplit(oidc.endpoint_url)
        scopes = " ".join(registration.get("scopes") or profile.scopes
                          or ["sso:account:access"])
        url = "%s://%s/authorize?%s" % (base.scheme, base.netloc, "&".join(
            "%s=%s" % (k, quote(v, safe="")) for k, v in (
                ("response_type", "code"),
                ("client_id", registration["clientId"]),
                ("redirect_uri", redirect_uri), ("state", state),
                ("code_challenge_method", "S256"), ("scopes", scopes),
                ("code_challenge", challenge))))
        notify("To sign in, open this URL in a browser on this machine "
               "(redirects to %s):\n  %s\nWaiting for the browser (Ctrl-C to "
               "cancel)..." % (redirect_uri, url))
        open_browser(url)
        query = server.wait(timeout, state)
    finally:
        server.close()
    if query is None:
        raise LoginError(
            "no sign-in arrived within %d seconds: the browser must run on this "
            "machine to reach %s; from another device (or over SSH), run the "
            "login again with --use-device-code" % (timeout, redirect_uri))
    if query.get("error"):
        raise LoginError("the sign-in failed in the browser: %s" % _one_line(
            query.get("error_description") or query["error"], 200))
    if not query.get("code"):
        raise LoginError("the sign-in response carried no authorization code")
    try:
        return oidc.create_token(
            grant_type="authorization_code", client_id=registration["clientId"],
            client_secret=registration["clientSecret"],
            redirect_uri=redirect_uri, code_verifier=verifier,
            code=query["code"])
    except APIError as exc:
        if exc.code == "ExpiredTokenException":
            raise LoginError("the authorization code expired; run the login "
                             "again") from None
        raise


class _LoginResult(object):
    """Where the token of a login is cached, until when, and whether the
    cached one was still good (so no sign-in happened)."""

    __slots__ = ("path", "expires", "already_valid")

    def __init__(self, path, expires, already_valid):
        self.path = path
        self.expires = expires
        self.already_valid = already_valid


_CONSOLE_BROWSERS = frozenset(("www-browser", "links", "links2", "elinks",
                               "lynx", "w3m", "browsh", "carbonyl"))


def _open_in_browser(url, environ=None):
    """Open ``url`` (an https or loopback URL) in the user's browser: True
    when one took it, False when none could, None when this machine has no
    display (Linux or BSD without DISPLAY or WAYLAND_DISPLAY, not WSL).
    BROWSER is honoured, but never a console browser (lynx, w3m, ...: they
    would take over the terminal that shows the code)."""
    environ = os.environ if environ is None else environ
    try:
        import webbrowser

        chosen = environ.get("BROWSER")
        if chosen:
            usable = [c for c in chosen.split(os.pathsep) if c.strip() and
                      os.path.basename(c.split()[0]) not in _CONSOLE_BROWSERS]
            return any((webbrowser.get(c) if "%s" in c else
                        webbrowser.GenericBrowser(c)).open(url)
                       for c in usable) if usable else None
        if sys.platform.startswith(("win", "darwin")):
            return webbrowser.open(url)
        if _is_wsl(environ):
            return _open_on_windows(url, environ)
        if not (environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY")):
            return None
        return webbrowser.open(url)
    except Exception as exc:  # any browser trouble: the URL is printed
        _debug("cannot open a browser: %s", exc)
        return False


def _is_wsl(environ):
    if environ.get("WSL_DISTRO_NAME") or environ.get("WSL_INTEROP"):
        return True
    try:
        with open("/proc/sys/kernel/osrelease") as f:
            return "microsoft" in f.read().lower()
    except OSError:
        return False


def _open_on_windows(url, environ):
    """WSL: the Windows browser, through wslview, else PowerShell's
    Start-Process reading the URL from the environment (WSLENV carries it),
    so no Windows shell ever parses it."""
    import shutil
    import subprocess

    env = dict(environ, SSOCREDS_OPEN_URL=url, WSLENV=":".join(
        [v for v in (environ.get("WSLENV"), "SSOCREDS_OPEN_URL") if v]))
    for argv in (["wslview", url],
                 ["powershell.exe", "-NoProfile", "-NonInteractive", "-Command",
                  "Start-Process $env:SSOCREDS_OPEN_URL"]):
        program = shutil.which(argv[0], path=environ.get("PATH"))
        if program is None:
            continue
        try:
            done = subprocess.run([program] + argv[1:], env=env, timeout=30,
                                  stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        except (OSError, subprocess.SubprocessError) as exc:
            # (its text would hold the command line: the URL may be secret)
            _debug("cannot run %s: %s", argv[0], type(exc).__name__)
            continue
        if done.returncode == 0:
            return True
    return False


def _login(profile, *, use_device_code=False, no_browser=False, port=0,
           force=False, notify):
    """Log in for ``profile``; return a _LoginResult."""
    path = standard_cached_token_filepath(profile.token_key)
    if not force:
        try:
            cached = _load_token(path)
            remaining = cached.token.expires - _utcnow()
            if remaining > _REFRESH_WINDOW or (
                    remaining > timedelta(0) and profile.sso_session
                    and _refresh_blocker(cached.document) is None):
                return _LoginResult(path, cached.token.expires, True)
        except InvalidTokenError:
            pass
    oidc = _client(OIDCClient, profile)
    pkce = bool(profile.sso_session) and not use_device_code
    registration = _client_registration(oidc, profile, pkce)

    def open_browser(url):
        if no_browser or not _is_browser_url(url):
            return
        opened = _open_in_browser(url)
        if opened is None:
            notify("(this machine has no display: open the URL in a browser "
                   "anywhere%s)" % (
                       "" if not pkce else " on this machine, or run the login "
                       "again with --use-device-code to sign in from another "
                       "device"))
        elif not opened:
            notify("(no browser could be opened: open the URL yourself)")

    if pkce:
        response = _pkce_login(oidc, profile, registration, notify=notify,
                               open_browser=open_browser, port=port)
    else:
        response = _device_login(oidc, profile, registration, notify=notify,
                                 open_browser=open_browser)
    token = _token_from_create_token(response)
    document = {"startUrl": profile.start_url, "region": profile.region,
                "accessToken": token.value,
                "expiresAt": _format_timestamp(token.expires),
                "clientId": registration["clientId"],
                "clientSecret": registration["clientSecret"],
                "registrationExpiresAt": registration["expiresAt"]}
    if isinstance(response.get("refreshToken"), str):
        document["refreshToken"] = response["refreshToken"]
    try:
        _write_json_file(path, document)
    except OSError as exc:
        raise Error("signed in, but cannot write the token to %s: %s" % (
            path, _os_error_text(exc))) from exc
    return _LoginResult(path, token.expires, False)


# -- Operations: logout, list, status ----------------------------------------

def _profiles_sharing_token(profile):
    """Every profile of the config that uses ``profile``'s token file."""
    result = []
    for name in profile.config["profiles"]:
        try:
            other = _profile_from_config(name, profile.path, profile.config)
        except Error:
            continue
        if other.token_key == profile.token_key and (
                bool(other.sso_session) == bool(profile.sso_session)):
            result.append(other)
    return result


def _logout_token_file(path, client=None):
    """Call Logout for the token in ``path`` (errors reported), delete it.

    ``client`` is the PortalClient to use; None builds one for the token's
    region.  Returns whether the file held a token (registrations are kept).
    """
    try:
        document = _read_json_object(path, "cached SSO token file")
    except Error as exc:
        _debug("skipping %s: %s", path, exc)
        return False
    token, region = document.get("accessToken"), document.get("region")
    if not isinstance(token, str):
        return False  # a client registration: kept, as the AWS CLI does
    directory = os.path.dirname(path)
    if not os.access(directory, os.W_OK | os.X_OK):  # before ending the session
        raise Error("cannot delete the token file %s: %s is not writable; fix "
                    "its permissions and run logout again" % (path, directory))
    if token and (client is not None or isinstance(region, str)):
        try:
            if client is None:
                client = PortalClient(region, max_attempts=1)
            client.logout(access_token=token)
        except Error as exc:
            _debug("Logout for %s failed (%s); deleting the token anyway", path,
                   exc)
    _remove_file(path, "token file")
    return True


def _remove_file(path, what):
    """Delete ``path``; whether it existed.  Error naming it when it cannot
    be deleted."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise Error("cannot delete the %s %s: %s; fix its permissions (or "
                    "remove it yourself) and run logout again" % (
                        what, path, _os_error_text(exc))) from None
    return True


def _list_accounts(profile):
    """[{accountId, accountName, emailAddress, roles: [...]}, ...] sorted."""
    provider = _build_provider(profile)
    token = provider.bearer_token()
    accounts = provider.client.list_accounts(access_token=token.value)
    result = []
    for account in accounts:
        account_id = account["accountId"]
        roles = provider.client.list_account_roles(
            account_id=account_id, access_token=token.value)
        result.append({
            "accountId": account_id,
            "accountName": account.get("accountName") or account_id,
            "emailAddress": account.get("emailAddress"),
            "roles": sorted(r["roleName"] for r in roles)})
    return sorted(result, key=lambda a: (a["accountName"], a["accountId"]))


_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                        "0123456789._-")


def _profile_name_for(account, role, name_format="{account_name}.{role_name}",
                      region=None):
    """A predictable profile name from ``name_format`` (fields account_name,
    account_id, role_name, region); characters outside [A-Za-z0-9._-]
    become "-"."""
    raw = name_format.format(account_name=account.get("accountName") or "",
                             account_id=account["accountId"], role_name=role,
                             region=region or "")
    return "".join(c if c in _NAME_CHARS else "-" for c in raw)


def _populated_profiles(profile, accounts, *, taken, existing=None,
                        region=None, name_format="{account_name}.{role_name}",
                        prefix="", process_command=None):
    """{name: [(key, value)]} of one profile per account and role (and a
    ``NAME-process`` wrapper each when ``process_command`` is given), all
    marked sso_auto_populated; and warnings.  An (account, role) generated
    before keeps its name (``existing``: {(account id, role): name}); a new
    name that another profile (``taken``) or an earlier generated one has
    gets ``-<account id>`` (then ``-2``, ``-3``...), so names never move."""
    wanted, warnings = {}, []
    existing = dict(existing or {})
    kept = set(existing.values())

    def unique(name, account_id):
        if name in taken:
            warnings.append('profile "%s" exists and is not generated from '
                            'this source: the generated one is named "%s-%s"'
                            % (name, name, account_id))
        used = taken | kept | set(wanted)
        if name in used:
            name = "%s-%s" % (name, account_id)
        base, n = name, 2
        while name in used:
            name, n = "%s-%d" % (base, n), n + 1
        return name

    if profile.sso_session:
        source = [("sso_session", profile.sso_session)]
    else:
        source = [("sso_start_url", profile.start_url),
                  ("sso_region", profile.region)]
    tail = ([("region", region)] if region else []) + [(_POPULATED, "true")]
    for account in sorted(accounts, key=lambda a: (a.get("accountName") or "",
                                                   a["accountId"])):
        for role in sorted(account["roles"]):
            name = existing.get((account["accountId"], role)) or unique(
                _profile_name_for(account, role, prefix.replace(
                    "{", "{{").replace("}", "}}") + name_format, region),
                account["accountId"])
            wanted[name] = source + [("sso_account_id", account["accountId"]),
                                     ("sso_role_name", role)] + tail
            if process_command:
                wrapper = name + "-process" if name + "-process" in kept \
                    else unique(name + "-process", account["accountId"])
                wanted[wrapper] = [("credential_process", "%s export --profile "
                                    "%s" % (process_command, name))] + tail
    return wanted, warnings


def _describe(profile):
    if profile.sso_session:
        return 'sso-session "%s" (%s)' % (profile.sso_session, profile.start_url)
    return profile.start_url


def _status_everything(options):
    """status --all: one line per sso-session and legacy start URL of the
    config; 0 only when every one is usable."""
    environ = os.environ
    path = _config_path(None, environ)
    config = _read_config(path, environ)
    targets = []
    for name in sorted(config["sso_sessions"]):
        try:
            targets.append(_load_session(name))
        except ConfigError as exc:
            targets.append(exc)
    legacy = {}
    for name in sorted(config["profiles"]):
        settings = config["profiles"][name]
        url = settings.get("sso_start_url")
        if isinstance(url, str) and url and "sso_session" not in settings:
            legacy.setdefault(url, []).append(name)
    for _url, names in sorted(legacy.items()):
        try:
            profile = _profile_from_config(names[0], path, config, False)
            profile.reached_from = "profiles " + ", ".join(names)
            targets.append(profile)
        except ConfigError as exc:
            targets.append(exc)
    if not targets:
        raise ConfigError("%s has no sso-session and no legacy SSO profile; "
                          "configure one with aws configure sso" % path,
                          path=path)
    if options.json:
        import json

        infos = [{"problem": str(t), "usable": False}
                 if isinstance(t, ConfigError) else _status(t) for t in targets]
        sys.stdout.write(json.dumps(infos, indent=2) + "\n")
        return 0 if all(i["usable"] for i in infos) else 1
    usable = True
    for target in targets:
        if isinstance(target, ConfigError):
            usable = False
            sys.stdout.write(_visible("misconfigured: %s" % target) + "\n")
            continue
        info = _status(target)
        usable = usable and info["usable"]
        what = _describe(target)
        if target.reached_from:
            what += " [%s]" % target.reached_from
        if info["expires_at"] is None:
            state = "not signed in (%s)" % info.get("problem")
        elif info["logged_in"]:
            state = "signed in until %s (%s left)%s" % (
                info["expires_at"], _format_duration(info["seconds_left"]),
                ", refreshable" if info["refreshable"] else "")
        else:
            state = "expired at %s%s" % (info["expires_at"], (
                ", refreshable" if info["refreshable"] else ""))
        sys.stdout.write(_visible("%s: %s: %s" % (
            "usable" if info["usable"] else "sign-in needed", what, state))
            + "\n")
    return 0 if usable else 1


def _status(profile):
    """A secret-free description of the login state, as a dict whose
    ``usable`` tells whether credentials can be had without a login."""
    path = standard_cached_token_filepath(profile.token_key)
    info = {"profile": profile.name, "token_file": path,
            "sso_session": profile.sso_session,
            "start_url": profile.start_url, "sso_region": profile.region,
            "logged_in": False, "expires_at": None, "seconds_left": None,
            "refreshable": False, "refresh_problem": None,
            "registration_expires_at": None, "cached_credentials_until": None}
    now = _utcnow()
    try:
        cached = _load_token(path)
    except InvalidTokenError as exc:
        info.update(problem=exc.reason, usable=False)
        return info
    remaining = int((cached.token.expires - now).total_seconds())
    info.update(expires_at=_format_timestamp(cached.token.expires),
                seconds_left=max(remaining, 0), logged_in=remaining > 0)
    registration = cached.document.get("registrationExpiresAt")
    if isinstance(registration, str):
        info["registration_expires_at"] = registration
    if profile.sso_session:
        problem = _refresh_blocker(cached.document)
        info["refreshable"] = problem is None
        info["refresh_problem"] = problem
    else:
        info["refresh_problem"] = "legacy profiles cannot refresh"
    if profile.account_id and profile.role_name:
        creds = _CLICachedProvider(_cli_cache_path(profile), None, "sso")._read()
        if creds is not None:
            info["cached_credentials_until"] = _format_timestamp(creds.expires)
    info["usable"] = remaining > 0 or (info["refreshable"]
                                       and bool(profile.sso_session))
    return info


# -- Operations: console sign-in -------------------------------------------

_CONSOLE_SERVICE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


def _console_hosts(region):
    """(sign-in base URL, console host) for ``region``'s partition, the
    sign-in base overridden by AWS_ENDPOINT_URL_SIGNIN."""
    partition = _partition_of(region)
    hosts = _SIGNIN_HOSTS.get(partition.name)
    if hosts is None:
        raise ConfigError("console sign-in is not available in the %s "
                          "partition (region %s)" % (partition.name, region))
    base = os.environ.get("AWS_ENDPOINT_URL_SIGNIN") or "https://" + hosts[0]
    return base, hosts[1].format(region=region)


def _console_destination(destination, region, console_host):
    """The console page to open: the home page, a service's page for a bare
    service name (``s3``, ``ec2``), or an https URL as given."""
    if not destination:
        return "https://%s/console/home?region=%s" % (console_host, region)
    if all(c in _CONSOLE_SERVICE_CHARS for c in destination):
        return "https://%s/%s/home?region=%s" % (console_host, destination,
                                                  region)
    if not _is_https_url(destination):
        raise ConfigError("--destination must be a service name (s3, ec2, ...) "
                          "or an https:// URL")
    return destination


def _console_url(chain, region, *, destination=None, duration_minutes=None,
                 logout_first=False, notify):
    """The console sign-in URL for the chain's credentials: getSigninToken at
    the federation endpoint, then its login URL (a bearer credential for 15
    minutes).  ``duration_minutes`` asks for that session length, except for
    role-chained credentials, which AWS caps at one hour."""
    from urllib.parse import quote

    base, console_host = _console_hosts(region)
    target = _console_destination(destination, region, console_host)
    duration = None
    if duration_minutes is not None:
        if chain.links:
            notify("ssocreds: --duration is not sent: AWS caps console sessions "
                   "of role-chained credentials at one hour")
        else:
            duration = duration_minutes * 60
    creds = chain.provider.retrieve()
    client = _client_for_signin(chain.top, base)
    token = client.signin_token(creds, duration)
    url = "%s/federation?Action=login&Issuer=ssocreds&Destination=%s" \
        "&SigninToken=%s" % (client.base, quote(target, safe=""),
                             quote(token, safe=""))
    if logout_first:  # end any console session the browser already has
        logout = client.base
        if logout == "https://" + _SIGNIN_HOSTS["aws"][0]:
            logout = "https://%s.%s" % (region, _SIGNIN_HOSTS["aws"][0])
        url = "%s/oauth?Action=logout&redirect_uri=%s" % (logout,
                                                          quote(url, safe=""))
    return url


def _client_for_signin(profile, base):
    try:
        return _SigninClient(base, profile.client_settings)
    except ConfigError as exc:
        raise profile.error(str(exc)) from None


def _console_shortcut(profile, region, destination=None):
    """The IAM Identity Center shortcut link: the portal signs the browser
    in itself, so no credentials leave this machine."""
    from urllib.parse import quote

    _base, console_host = _console_hosts(region)
    target = _console_destination(destination, region, console_host)
    return "%s/#/console?account_id=%s&role_name=%s&destination=%s" % (
        profile.start_url.rstrip("/"), quote(profile.account_id, safe=""),
        quote(profile.role_name, safe=""), quote(target, safe=""))


# -- Operations: the credential server (container credentials protocol) ---

_SERVE_PATH = "/credentials"
_HEALTH_PATH = "/health"
_SERVE_WINDOW = timedelta(minutes=20)  # SDKs refresh 15 minutes ahead


_SERVE_BACKLOG = 128  # the listen queue: room for bursts of new clients
_SERVE_WORKERS = 8  # credential requests answered at once (others queue)
# beyond this many connections the longest-idle one is closed (Windows'
# select() takes at most 512 sockets, the listener and wake-up included)
_SERVE_MAX_CONNECTIONS = 500 if os.name == "nt" else 512
_SERVE_IDLE_TIMEOUT = 5.0  # seconds a connection may wait between requests
_SERVE_REQUEST_TIMEOUT = 5.0  # seconds to send a request, or take an answer
_SERVE_STOP_TIMEOUT = 5.0  # seconds stop() waits for requests in progress
_SERVE_MAX_HEAD = 16384
_SERVE_MAX_BODY = 65536
_HTTP_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized",
                 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
                 500: "Internal Server Error", 503: "Service Unavailable"}


class _ServerConnection(object):
    """One client connection of the credential server: its socket, bytes
    received but not yet used, bytes still to send, its state ("read",
    "busy" while a worker answers, "write") and since when it has been in
    it (or idle, or stalled)."""

    __slots__ = ("sock", "buffer", "output", "keep", "state", "since", "peer")

    def __init__(self, sock, peer):
        self.sock = sock
        self.buffer = self.output = b""
        self.keep = True
        self.state = "read"
        self.since = time.monotonic()
        self.peer = peer


def _parse_request(buffer):
    """(method, target, headers, keep_alive, used) of the first request in
    ``buffer``; None while it is incomplete; ValueError when it is malformed
    or too large.  Lines may end in CRLF or LF and empty lines before the
    request line are skipped (RFC 9112).  ``keep_alive`` is False when the
    connection must close after the answer (HTTP/1.0, ``Connection:
    close``, a body it does not read)."""
    skip = len(buffer) - len(buffer.lstrip(b"\r\n"))
    ends = [i for i in (buffer.find(b"\n\r\n", skip), buffer.find(b"\n\n", skip))
            if i >= 0]
    if not ends:
        if len(buffer) > _SERVE_MAX_HEAD:
            raise ValueError("request head too large")
        return None
    end = min(ends)
    used = end + (3 if buffer[end + 1:end + 2] == b"\r" else 2)
    if end > _SERVE_MAX_HEAD:
        raise ValueError("request head too large")
    lines = [line.rstrip("\r") for line in
             buffer[skip:end].decode("latin-1").split("\n")]
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1.") or not parts[
            0].encode("latin-1").isalpha() or not parts[1].isprintable() \
            or not parts[1]:  # (bytes.isalpha is ASCII-only)
        raise ValueError("malformed request line")
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise ValueError("malformed header line")
        name, value = name.lower(), value.strip()
        if name == "content-length" and headers.get(name, value) != value:
            raise ValueError("conflicting Content-Length headers")
        headers.setdefault(name, value)
    connection = headers.get("connection", "").lower()
    keep = connection != "close" if parts[2] == "HTTP/1.1" else \
        connection == "keep-alive"
    length = headers.get("content-length", "0")
    if "transfer-encoding" in headers or not length.isdigit() or \
            int(length) > _SERVE_MAX_BODY:
        keep = False  # a body we will not read: never reuse the connection
    elif len(buffer) < used + int(length):
        return None
    else:
        used += int(length)
    return parts[0], parts[1], headers, keep, used


def _http_response(status, document, method, keep, headers=()):
    """The bytes of an answer: ``document`` as JSON, or a str as text."""
    import json

    if isinstance(document, str):
        body, kind = document.encode("utf-8"), "text/plain"
    else:
        body, kind = json.dumps(document).encode("utf-8"), "application/json"
    head = ["HTTP/1.1 %d %s" % (status, _HTTP_REASONS[status]),
            "Server: ssocreds", "Content-Type: " + kind,
            "Content-Length: %d" % len(body), "Cache-Control: no-store"]
    head.extend("%s: %s" % item for item in headers)
    if not keep:
        head.append("Connection: close")
    return ("\r\n".join(head) + "\r\n\r\n").encode("ascii") + (
        body if method != "HEAD" else b"")


class _CredentialServer(object):
    """Serves ``source.retrieve()`` as the ECS container credentials endpoint.

    GET /credentials with ``Authorization: <token>`` (compared in constant
    time) answers the JSON the AWS SDKs' container provider reads; 401 without
    the header, 403 with a wrong token, 404 for other paths, 405 for other
    methods, 503 when no credentials can be had.  GET /health answers
    {"status": "ok"} and reveals nothing.

    One thread (the watcher) does all the socket work through a selector:
    idle, slow and non-reading clients cost no thread.  Only an authorized
    credentials request goes to one of _SERVE_WORKERS threads, and only once
    it has fully arrived; everything else is answered by the watcher at
    once.  A connection idle for _SERVE_IDLE_TIMEOUT, or slower than
    _SERVE_REQUEST_TIMEOUT to send a request or take its answer, is closed;
    beyond _SERVE_MAX_CONNECTIONS the longest-idle one makes room.
    """

    def __init__(self, source, token, host="127.0.0.1", port=0, *,
                 profiles=None, imds=None):
        import socket

        self.source = source
        # [(profile name, source)]: /credentials serves the first one
        self.profiles = list(profiles) if profiles else [("", source)]
        self.imds = imds  # an _ImdsIdentity: speak IMDSv2 instead
        self._imds_key = os.urandom(32)  # signs the IMDS session tokens
        self._token = token.encode("utf-8")
        listener = socket.socket(socket.AF_INET6 if ":" in host
                                 else socket.AF_INET, socket.SOCK_STREAM)
        try:
            if os.name != "nt":
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((host, port))
            listener.listen(_SERVE_BACKLOG)
        except OSError as exc:
            listener.close()
            raise Error("cannot listen on %s:%d: %s" % (
                host, port, _os_error_text(exc))) from None
        listener.setblocking(False)
        self._listener = listener
        self._wake_read, self._wake_write = socket.socketpair()
        self._wake_read.setblocking(False)
        self._wake_write.setblocking(False)
        self.host = host
        self.port = listener.getsockname()[1]
        self._connections = {}  # socket -> _ServerConnection (watcher only)
        self._answered = []  # (connection, response) from the workers
        self._work = self._lock = None
        self._threads = []
        self._stopping = False

    @property
    def base_url(self):
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "http://%s:%d" % (host, self.port)

    @property
    def url(self):
        return self.base_url + _SERVE_PATH

    def start(self):
        import queue
        import threading

        self._work = queue.Queue()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._watch)] + [
            threading.Thread(target=self._answer_requests)
            for _ in range(_SERVE_WORKERS)]
        for thread in self._threads:
            thread.daemon = True
            thread.start()
        return self

    def stop(self):
        """Stop serving; waits at most _SERVE_STOP_TIMEOUT for requests in
        progress (their threads are daemons)."""
        self._stopping = True
        self._wake()
        if self._threads:
            for _ in range(_SERVE_WORKERS):
                self._work.put(None)
            deadline = time.monotonic() + _SERVE_STOP_TIMEOUT
            for thread in self._threads:
                thread.join(max(0.0, deadline - time.monotonic()))
            self._threads = []
        for sock in list(self._connections) + [
                self._listener, self._wake_read, self._wake_write]:
            sock.close()
        self._connections.clear()

    def _wake(self):
        try:
            self._wake_write.send(b"x")
        except OSError:  # already full (a wake-up is pending) or closed
            pass

    # -- the watcher --

    def _watch(self):
        import selectors

        selector = selectors.DefaultSelector()
        selector.register(self._listener, selectors.EVENT_READ)
        selector.register(self._wake_read, selectors.EVENT_READ)
        swept = paused = 0.0
        try:
            while not self._stopping:
                try:
                    for key, events in selector.select(0.25):
                        if key.fileobj is self._listener:
                            if not self._accept(selector):
                                selector.unregister(self._listener)
                                paused = time.monotonic()
                        elif key.fileobj is self._wake_read:
                            self._wake_read.recv(4096)
                        elif events & selectors.EVENT_WRITE:
                            self._send(selector, key.data)
                        else:
                            self._receive(selector, key.data)
                    with self._lock:
                        answered, self._answered = self._answered, []
                    for conn, response in answered:
                        self._respond(selector, conn, response)
                    now = time.monotonic()
                    if paused and now - paused >= 0.25:
                        selector.register(self._listener, selectors.EVENT_READ)
                        paused = 0.0
                    if now - swept >= 0.25:
                        swept = now
                        self._sweep(selector, now)
                except Exception as exc:  # never let one fault end serving
                    if self._stopping:
                        break
                    _debug("serve: watcher error %s: %s", type(exc).__name__,
                           exc)
        finally:
            selector.close()

    def _accept(self, selector):
        """Accept every waiting client; False when out of descriptors."""
        import errno
        import selectors

        while True:
            try:
                sock, peer = self._listener.accept()
            except OSError as exc:
                if exc.errno in (errno.EMFILE, errno.ENFILE):
                    return self._evict(selector)
                return True  # nothing more to accept
            if len(self._connections) >= _SERVE_MAX_CONNECTIONS and not \
                    self._evict(selector):
                sock.close()
                continue
            sock.setblocking(False)
            conn = _ServerConnection(sock, peer)
            self._connections[sock] = conn
            selector.register(sock, selectors.EVENT_READ, conn)

    def _evict(self, selector):
        """Close the longest-idle connection; False when none is idle."""
        idle = [c for c in self._connections.values()
                if c.state == "read" and not c.buffer]
        if not idle:
            return False
        self._close(selector, min(idle, key=lambda c: c.since))
        return True

    def _receive(self, selector, conn):
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._close(selector, conn)
            return
        if not conn.buffer:
            conn.since = time.monotonic()  # a request starts: its clock runs
        conn.buffer += data
        self._next_request(selector, conn)

    def _next_request(self, selector, conn):
        """Answer the request at the head of the buffer, if it has arrived:
        at once, or through a worker when it needs credentials."""
        import selectors

        try:
            request = _parse_request(conn.buffer)
        except ValueError as exc:
            _debug("serve: refusing a request from %s: %s", conn.peer[0], exc)
            conn.keep, conn.buffer = False, b""
            self._respond(selector, conn, _http_response(400, {
                "code": "BadRequest", "message": str(exc)}, "GET", False))
            return
        if request is None:
            if conn.state != "read":
                conn.state = "read"
                selector.modify(conn.sock, selectors.EVENT_READ, conn)
            return
        method, target, headers, conn.keep, used = request
        conn.buffer = conn.buffer[used:]
        path = target.split("?", 1)[0]
        route = self._imds_route if self.imds is not None else self._route
        answer = route(method, path, headers)
        if not callable(answer):
            self._respond(selector, conn, _http_response(
                answer[0], answer[1], method, conn.keep, *answer[2:]))
            return
        selector.unregister(conn.sock)  # a worker has it now
        conn.state = "busy"
        self._work.put((conn, method, target, answer))

    def _respond(self, selector, conn, response):
        """Queue ``response`` on ``conn`` and send what the socket takes."""
        import selectors

        if conn.sock not in self._connections:
            return
        if conn.state == "busy":
            selector.register(conn.sock, selectors.EVENT_READ, conn)
        conn.output += response
        conn.state = "write"
        conn.since = time.monotonic()
        selector.modify(conn.sock, selectors.EVENT_WRITE, conn)
        self._send(selector, conn)

    def _send(self, selector, conn):
        try:
            sent = conn.sock.send(conn.output)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(selector, conn)
            return
        conn.output = conn.output[sent:]
        conn.since = time.monotonic()
        if conn.output:
            return
        if not conn.keep:
            self._close(selector, conn)
        else:
            self._next_request(selector, conn)

    def _sweep(self, selector, now):
        for conn in list(self._connections.values()):
            if conn.state == "busy":
                continue
            limit = _SERVE_IDLE_TIMEOUT if conn.state == "read" and not \
                conn.buffer else _SERVE_REQUEST_TIMEOUT
            if now - conn.since > limit:
                self._close(selector, conn)

    def _close(self, selector, conn):
        if self._connections.pop(conn.sock, None) is not None and \
                conn.state != "busy":
            try:
                selector.unregister(conn.sock)
            except (KeyError, ValueError):
                pass
        conn.sock.close()

    # -- the workers --

    def _answer_requests(self):
        while True:
            item = self._work.get()
            if item is None:
                return
            conn, method, target, job = item
            try:
                answer = job()
            except Exception as exc:  # a bug must not cost the worker
                _debug("serve: %s answering %s: %s", type(exc).__name__,
                       _one_line(target, 200), exc)
                answer = (500, {"code": "InternalError", "message":
                                "ssocreds failed; see its --debug output"})
            _debug("serve: %s %s %s %d", conn.peer[0], method,
                   _one_line(target, 200), answer[0])
            response = _http_response(answer[0], answer[1], method, conn.keep,
                                      *answer[2:])
            with self._lock:
                self._answered.append((conn, response))
            self._wake()

    def _route(self, method, path, headers):
        """The container credentials protocol: an answer (status, document
        [, headers]) for what needs no credentials, else a function a worker
        calls for the answer."""
        if path == _HEALTH_PATH:
            if method != "GET":
                return 405, {"code": "MethodNotAllowed", "message": "use GET"}, \
                    [("Allow", "GET")]
            return 200, {"status": "ok"}
        if path == "/profiles" or path == _SERVE_PATH or path.startswith(
                _SERVE_PATH + "/"):
            if method != "GET":
                return 405, {"code": "MethodNotAllowed", "message": "use GET"}, \
                    [("Allow", "GET")]
        else:
            return 404, {"code": "NotFound", "message": "no such path"}
        authorization = headers.get("authorization")
        if authorization is None:
            return 401, {"code": "Unauthorized",
                         "message": "the Authorization header is missing"}
        if not self.authorized(authorization):
            return 403, {"code": "AccessDenied",
                         "message": "the authorization token is not valid"}
        if path == "/profiles":
            return 200, {"profiles": [name for name, _ in self.profiles]}
        source = self.profiles[0][1]
        if path != _SERVE_PATH:
            from urllib.parse import unquote

            name = unquote(path[len(_SERVE_PATH) + 1:])
            source = dict(self.profiles).get(name) if name else None
            if source is None:
                return 404, {"code": "NotFound",
                             "message": "this server has no such profile"}
        return lambda: self._credentials(source)

    def authorized(self, header):
        import hmac

        given = (header or "").encode("utf-8", "surrogateescape")
        return hmac.compare_digest(given, self._token)

    def answer(self, method, path, authorization):
        """(status, JSON document) for one container-protocol request."""
        headers = {} if authorization is None else {
            "authorization": authorization}
        answer = self._route(method, path, headers)
        return (answer() if callable(answer) else answer)[:2]

    def _credentials(self, source, fields=("AccessKeyId", "SecretAccessKey",
                                           "Token", "Expiration", "AccountId"),
                     extra=None):
        try:
            creds = source.retrieve()
        except Error as exc:
            _debug("cannot serve credentials: %s", exc)
            return 503, {"code": "CredentialsUnavailable", "message": _one_line(
                str(exc), 500)}
        return 200, dict(extra or {}, **dict(_credential_items(creds, fields)))

    # -- IMDSv2 (serve --imds) --

    def _imds_route(self, method, path, headers):
        """The instance metadata service, version 2, as the SDKs read it
        (EC2 User Guide, "Use IMDSv2")."""
        host = headers.get("host", "")
        host = host[1:host.find("]")] if host.startswith("[") else \
            host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        if not (_is_loopback(host) or host == self.host):
            return 403, "Forbidden"  # DNS rebinding: only our own names
        if "x-forwarded-for" in headers:
            return 403, "Forbidden"  # as IMDS: never through a proxy
        if path == "/latest/api/token":
            if method != "PUT":
                return 405, "Method Not Allowed", [("Allow", "PUT")]
            ttl = headers.get("x-aws-ec2-metadata-token-ttl-seconds", "")
            if not (ttl and len(ttl) <= 5 and all(c in _DIGITS for c in ttl)
                    and 1 <= int(ttl) <= 21600):
                return 400, "Bad Request"
            return 200, self._imds_token(time.time() + int(ttl)), [
                ("X-aws-ec2-metadata-token-ttl-seconds", ttl)]
        if method not in ("GET", "HEAD"):
            return 405, "Method Not Allowed", [("Allow", "GET")]
        token = headers.get("x-aws-ec2-metadata-token")
        if (token is not None or not self.imds.allow_v1) and \
                not self._imds_token_valid(token or ""):
            return 401, "Unauthorized"
        return self.imds.answer(path, lambda **kw: self._credentials(
            self.profiles[0][1], **kw))

    def _imds_token(self, deadline):
        """A session token that carries its own deadline, signed: nothing is
        stored, so no number of token requests can crowd out real ones."""
        import hashlib
        import hmac

        text = "%d" % deadline
        return "%s.%s" % (text, hmac.new(self._imds_key, text.encode("ascii"),
                                         hashlib.sha256).hexdigest())

    def _imds_token_valid(self, token):
        import hmac

        deadline, _, _signature = token.partition(".")
        return bool(deadline) and all(c in _DIGITS for c in deadline) and \
            len(deadline) <= 12 and int(deadline) > time.time() and \
            hmac.compare_digest(token.encode("ascii", "replace"),
                                self._imds_token(int(deadline)).encode("ascii"))


class _ImdsIdentity(object):
    """What serve --imds says about its "instance": the role name, account
    and region of the profile it serves."""

    def __init__(self, role_name, account_id, region, allow_v1=False):
        self.role_name = role_name
        self.account_id = account_id or "000000000000"
        self.region = region
        self.allow_v1 = allow_v1

    def answer(self, path, credentials):
        base = "/latest/meta-data/iam/"
        for kind in ("security-credentials", "security-credentials-extended"):
            if path.rstrip("/") == base + kind:
                return 200, self.role_name
            if path == base + kind + "/" + self.role_name:
                extended = kind.endswith("extended")
                return lambda: self._credentials_answer(credentials, extended,
                                                        self.account_id)
        if path == base + "info":
            return 200, {"Code": "Success", "LastUpdated": _format_timestamp(
                _utcnow()), "InstanceProfileArn": "arn:aws:iam::%s:"
                "instance-profile/%s" % (self.account_id, self.role_name),
                "InstanceProfileId": "AIPAAAAAAAAAAAAAAAAAA"}
        if path == "/latest/meta-data/placement/region":
            return 200, self.region
        if path.rstrip("/") == "/latest/meta-data/placement/availability-zone":
            return 200, self.region + "a"  # botocore reads the region here
        if path == "/latest/dynamic/instance-identity/document":
            return 200, {"accountId": self.account_id, "region": self.region,
                         "availabilityZone": self.region + "a",
                         "instanceId": "i-00000000000000000",
                         "instanceType": "ssocreds", "architecture": "x86_64",
                         "imageId": "ami-00000000000000000",
                         "privateIp": "127.0.0.1", "version": "2017-09-30",
                         "pendingTime": _format_timestamp(_utcnow())}
        return 404, "Not Found"

    @staticmethod
    def _credentials_answer(credentials, extended, account_id):
        fields = ("AccessKeyId", "SecretAccessKey", "Token", "Expiration") + (
            ("AccountId",) if extended else ())
        extra = {"Code": "Success", "LastUpdated": _format_timestamp(_utcnow()),
                 "Type": "AWS-HMAC"}
        if extended:
            extra["AccountId"] = account_id
        return credentials(fields=fields, extra=extra)


# -- Command line ------------------------------------------------------------
# One table (_COMMANDS) drives parsing, usage, --help and dispatch.


class _UsageError(Exception):
    pass


class _ChildError(Error):
    """exec could not run its command; ``status`` is the shell's (126/127)."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def _port_number(text):
    if not (text.isdigit() and int(text) < 65536):
        raise ValueError("must be a port number")
    return int(text)


def _region_option(text):
    try:
        _check_region(text)
    except ConfigError:
        raise ValueError("must be a region such as eu-west-1") from None
    return text


def _minutes(text):
    if not (text.isdigit() and 15 <= int(text) <= 720):
        raise ValueError("takes minutes, from 15 to 720 (AWS's 900-43,200 s)")
    return int(text)


def _seconds(text):
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < 3600:
        raise ValueError("takes seconds, more than 0")
    return seconds


class _Option(object):
    """One option: ``--name METAVAR`` when it takes a value, else a flag.
    ``convert`` turns the text into the value (ValueError: a usage error);
    ``choices`` lists the allowed values, the first being the default."""

    __slots__ = ("name", "metavar", "help", "convert", "choices", "repeat")

    def __init__(self, name, metavar, help, convert=None, choices=None,
                 repeat=False):
        self.name = name
        self.metavar = metavar
        self.help = help
        self.convert = convert
        self.choices = choices
        self.repeat = repeat  # may be given again: the values form a list

    @property
    def attr(self):
        return self.name[2:].replace("-", "_")

    def usage(self):
        return self.name + (" " + self.metavar if self.metavar else "")


class _Command(object):
    """One command: its options, one-line summary, --help text and handler.
    ``exclusive`` names options that cannot be combined (shown as
    ``[A | B]``); ``trailing`` describes the arguments after the options."""

    __slots__ = ("name", "summary", "description", "options", "handler",
                 "exclusive", "trailing")

    def __init__(self, name, summary, description, options, handler,
                 exclusive=(), trailing=None):
        self.name = name
        self.summary = summary
        self.description = description
        self.options = options
        self.handler = handler
        self.exclusive = exclusive
        self.trailing = trailing

    def usage(self):
        parts, grouped = [], False
        for option in self.options:
            if option.name in self.exclusive:
                if not grouped:
                    grouped = True
                    parts.append("[%s]" % " | ".join(
                        o.usage() for o in self.options
                        if o.name in self.exclusive))
                continue
            parts.append("[%s]" % option.usage())
        if self.trailing:
            parts.append(self.trailing)
        return _wrap_usage("usage: ssocreds %s " % self.name, parts)

    def help(self):
        lines = [self.usage(), "", self.description.rstrip("\n"), ""]
        lines += _option_lines(self.options)
        lines += ["", "Global options (ssocreds --help): --debug, "
                  "--connect-timeout S, --read-timeout S."]
        return "\n".join(lines) + "\n"


def _wrap_usage(prefix, parts, width=79):
    lines, line = [], prefix.rstrip()
    for part in parts:
        if len(line) + 1 + len(part) > width and line.strip() != prefix.strip():
            lines.append(line)
            line = " " * len(prefix) + part
        else:
            line += " " + part
    return "\n".join(lines + [line])


def _option_lines(options, width=79):
    import textwrap

    column = max(len(o.usage()) for o in options) + 4
    lines = []
    for option in options:
        text = option.help
        if option.choices:
            text += " (default %s)" % option.choices[0]
        wrapped = textwrap.wrap(text, width - column) or [""]
        lines.append("  %-*s%s" % (column - 2, option.usage(), wrapped[0]))
        lines += [" " * column + rest for rest in wrapped[1:]]
    return lines


_PROFILE = _Option("--profile", "P", "the profile (default: AWS_DEFAULT_PROFILE, "
                   'then AWS_PROFILE, then "default", as botocore)')
_SSO_SESSION = _Option("--sso-session", "S", "use [sso-session S] itself "
                       "instead of a profile")
_NO_CACHE = _Option("--no-cache", None, "skip the credential cache shared with "
                    "the AWS CLI (~/.aws/cli/cache) and always ask the service")
_GLOBAL_OPTIONS = (
    _Option("--debug", None, "diagnostics on stderr (secrets are never "
            "printed)"),
    _Option("--connect-timeout", "S", "seconds to wait for a connection "
            "(default 10)", _seconds),
    _Option("--read-timeout", "S", "seconds to wait for each read (default 60)",
            _seconds),
)
_TIMEOUT_OPTIONS = ("connect_timeout", "read_timeout")


def _cli_timeouts(options):
    """--connect-timeout/--read-timeout as client keyword arguments."""
    return {name: getattr(options, name) for name in _TIMEOUT_OPTIONS
            if getattr(options, name) is not None}


def _cli_provider(options):
    """The _Chain (with its provider) of export, exec, serve and
    write-credentials.  The credential cache is checked before any client is
    built, so a hit stays cheap; --no-cache skips it."""
    chain = _build_chain(options.profile, disk_cache=not options.no_cache,
                         timeouts=_cli_timeouts(options),
                         mfa_prompt=_ask_mfa_code)
    source = chain.source
    if isinstance(source, _Profile):
        _debug('SSO profile "%s" from %s: start URL %s, region %s, account %s, '
               "role %s, token key %s (%s)", source.name, source.path,
               source.start_url, source.region, source.account_id,
               source.role_name, source.token_key,
               "sso-session" if source.sso_session else "legacy start URL")
    else:
        _debug('static keys of profile "%s"', source.name)
    for link in chain.links:
        _debug('then profile "%s" assumes %s', link.name, link.role_arn)
    return chain


def _ask_mfa_code(serial):
    """Ask for an MFA code on the terminal; never wait without one."""
    stdin = sys.stdin
    if stdin is None or not stdin.isatty():
        raise ConfigError(
            "an MFA code for %s is needed but there is no terminal to ask on; "
            "run the same ssocreds command once in a terminal (the credentials "
            "are then cached for the AWS CLI and ssocreds)" % serial)
    sys.stderr.write("Enter MFA code for %s: " % serial)
    sys.stderr.flush()
    code = stdin.readline().strip()
    if not code:
        raise ConfigError("no MFA code was entered for %s" % serial)
    return code


def _note(text):
    """A message for the user on stderr, every line of it made visible."""
    sys.stderr.write("\n".join(_visible(line) for line in text.split("\n"))
                     + "\n")
    sys.stderr.flush()


def _cmd_export(options):
    creds = _cli_provider(options).provider.retrieve()
    sys.stdout.write(_format_credentials(creds, options.format))
    sys.stdout.flush()
    return 0


def _cmd_write_credentials(options):
    chain = _cli_provider(options)
    creds = chain.provider.retrieve()
    section = options.credentials_profile or chain.top.name
    path = _credentials_file_path()
    warning = _write_credentials_file(path, section, creds)
    if warning:
        _note("ssocreds: warning: " + warning)
    _note("ssocreds: wrote [%s] to %s (expires %s)" % (
        section, path, _format_timestamp(creds.expires)))
    return 0


_CLEARED_VARIABLES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID",
                      "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                      "AWS_SECURITY_TOKEN", "AWS_CREDENTIAL_EXPIRATION",
                      "AWS_ACCOUNT_ID")


def _child_environment(profile, variables):
    env = dict(os.environ)
    for name in _CLEARED_VARIABLES:
        env.pop(name, None)
    env.update(variables)
    region = profile.settings.get("region")
    if isinstance(region, str) and region and not (
            env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")):
        env["AWS_REGION"] = env["AWS_DEFAULT_REGION"] = region
    return env


def _child_error(exc, program):
    """The _ChildError (shell exit status and message) for an OSError that
    starting ``program`` raised."""
    if isinstance(exc, FileNotFoundError):
        return _ChildError(127, "command not found: %s" % program)
    if isinstance(exc, PermissionError):
        return _ChildError(126, "command not executable: %s" % program)
    return _ChildError(126, "cannot run %s: %s" % (program, _os_error_text(exc)))


def _run_child(argv, env):
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        if os.name != "nt":
            os.execvpe(argv[0], argv, env)  # the child takes over this process
        import subprocess

        return subprocess.call(argv, env=env)
    except OSError as exc:
        raise _child_error(exc, argv[0]) from None


def _cmd_exec(options):
    if options.serve or options.imds:
        return _exec_with_server(options)
    chain = _cli_provider(options)
    creds = chain.provider.retrieve()
    env = _child_environment(chain.top, _credential_variables(creds))
    return _run_child(options.argv, env)


def _serve_sources(options):
    """[(_Chain, CredentialsCache)] of the profiles to serve: --profile (may
    be repeated; default the usual one) or --all-profiles, each cache
    staying 20 minutes ahead.  Profiles sharing an sso-session refresh its
    token once: the refresh runs under the token file's lock and re-reads
    it first."""
    names = options.profile if isinstance(options.profile, list) else [
        options.profile]
    if options.all_profiles:
        path = _config_path(None, os.environ)
        names = sorted(_read_config(path, os.environ)["profiles"])
    served, seen = [], set()
    for name in names:
        try:
            chain = _build_chain(name, disk_cache=not options.no_cache,
                                 timeouts=_cli_timeouts(options),
                                 mfa_prompt=_ask_mfa_code)
        except ConfigError as exc:
            if not options.all_profiles:
                raise
            _debug("not serving profile %s: %s", name, exc)
            continue
        if chain.top.name in seen:
            continue
        seen.add(chain.top.name)
        source = CredentialsCache(chain.provider, expiry_window=_SERVE_WINDOW)
        try:
            source.retrieve()  # a sign-in problem shows now, not at a request
        except Error as exc:
            if not options.all_profiles:
                raise
            _note('ssocreds: not serving profile "%s": %s' % (
                chain.top.name, _one_line(exc, 300)))
            continue
        served.append((chain, source))
    if not served:
        raise ConfigError("no profile of the config can be served (SSO "
                          "profiles with an account and role, or role chains "
                          "over them)")
    return served


def _imds_identity(chain, allow_v1):
    """The role name, account and region serve --imds reports."""
    if chain.links:
        arn = chain.links[-1].role_arn
        role, account = arn.rsplit("/", 1)[-1], arn.split(":")[4] if \
            arn.count(":") >= 5 else None
    else:
        role, account = chain.source.role_name, chain.source.account_id
    region = chain.top.client_settings.region or getattr(
        chain.source, "region", None) or "us-east-1"
    return _ImdsIdentity(role, account, region, allow_v1)


def _server_token(options):
    import secrets

    path = options.token_file
    if not path:
        return secrets.token_urlsafe(32)  # 256 random bits
    try:
        token = _decode_utf8(_read_file(path, 4096)).strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise Error("cannot read the token file %s: %s" % (
            path, _os_error_text(exc))) from None
    if not token or any(c in token for c in "\r\n") or not token.isprintable():
        raise Error("the token file %s must hold one line of printable text "
                    "(the SDKs send it as an HTTP header)" % path)
    return token


class _StopSignals(object):
    """SIGINT, SIGTERM and SIGHUP set ``stop`` while in the ``with`` block;
    entered before anything is printed, so a signal sent as soon as the
    readiness lines appear is never lost."""

    def __enter__(self):
        import signal
        import threading

        self.stop = threading.Event()
        self._previous = {}
        for name in ("SIGINT", "SIGTERM", "SIGHUP"):
            if hasattr(signal, name):
                number = getattr(signal, name)
                self._previous[number] = signal.signal(
                    number, lambda *a: self.stop.set())
        return self

    def wait(self):
        while not self.stop.wait(0.5):
            pass

    def __exit__(self, *exc_info):
        import signal

        for number, handler in self._previous.items():
            signal.signal(number, handler)


def _cmd_serve(options):
    served = _serve_sources(options)
    token = _server_token(options)
    host = options.host or "127.0.0.1"
    if options.imds and len(served) > 1:
        raise Error("--imds serves one profile (an instance has one role)")
    server = _CredentialServer(
        served[0][1], token, host, options.port or 0,
        profiles=[(chain.top.name, source) for chain, source in served],
        imds=_imds_identity(served[0][0], options.imds_v1)
        if options.imds else None).start()
    try:
        with _StopSignals() as signals:
            _announce_server(options, served, server, token, host)
            signals.wait()
    finally:
        server.stop()
    return 0


def _server_variables(served, server, token, imds=False):
    """The NAME=value lines that point clients at ``server``."""
    if imds:
        return [("AWS_EC2_METADATA_SERVICE_ENDPOINT", server.base_url + "/")]
    lines = [("AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url),
             ("AWS_CONTAINER_AUTHORIZATION_TOKEN", token)]
    if len(served) > 1:  # NAME_AWS_CONTAINER_CREDENTIALS_FULL_URI, per profile
        from urllib.parse import quote

        taken = set()
        for chain, _source in served:
            name = chain.top.name
            variable = "".join(c if c in _NAME_CHARS and c not in "._-"
                               else "_" for c in name.upper())
            if variable[:1].isdigit():
                variable = "_" + variable
            base, n = variable, 2
            while variable in taken:
                variable, n = "%s_%d" % (base, n), n + 1
            taken.add(variable)
            lines.append((variable + "_AWS_CONTAINER_CREDENTIALS_FULL_URI",
                          "%s/%s" % (server.url, quote(name, safe=""))))
    return lines


def _announce_server(options, served, server, token, host):
    """The readiness lines: NAME=value on stdout (or the env file), then the
    notes on stderr."""
    lines = "".join("%s=%s\n" % item for item in _server_variables(
        served, server, token, options.imds))
    if options.env_file:
        try:
            _write_file(options.env_file, lines.encode("utf-8"))
        except OSError as exc:
            raise Error("cannot write %s: %s" % (
                options.env_file, _os_error_text(exc))) from None
    else:
        sys.stdout.write(lines)
        sys.stdout.flush()
    if not _is_loopback(host):
        _note("ssocreds: warning: serving credentials on %s, beyond "
              "loopback: anyone who can reach it can try the token" % host)
    names = ", ".join('"%s"' % chain.top.name for chain, _ in served)
    if options.imds:
        _note("ssocreds: serving profile %s as the instance metadata service "
              "(IMDSv2%s) on %s/; stop with Ctrl-C or SIGTERM" % (
                  names, " and v1" if options.imds_v1 else "", server.base_url))
        _note("ssocreds: note: IMDS has no secret: any program on this machine "
              "that can reach the port gets these credentials (the container "
              "endpoint, plain serve, asks for a token)")
    else:
        _note("ssocreds: serving credentials for profile%s %s on %s (health: "
              "%s); stop with Ctrl-C or SIGTERM" % (
                  "s" if len(served) > 1 else "", names, server.url,
                  server.url.replace(_SERVE_PATH, _HEALTH_PATH)))


def _exec_with_server(options):
    """exec --serve / --imds: the child gets a private credential endpoint
    (container protocol, or IMDSv2), not keys."""
    import secrets
    import signal
    import subprocess

    served = _serve_sources(options)
    chain, source = served[0]
    token = secrets.token_urlsafe(32)
    server = _CredentialServer(
        source, token, profiles=[(chain.top.name, source)],
        imds=_imds_identity(chain, False) if options.imds else None).start()
    try:
        env = _child_environment(chain.top, _server_variables(
            served, server, token, options.imds))
        # these would win over the endpoint in the SDKs' credential chains
        for name in ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                     "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                     "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
                     "AWS_ROLE_SESSION_NAME") + ((
                         "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                         "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                         "AWS_EC2_METADATA_DISABLED") if options.imds else ()):
            env.pop(name, None)
        sys.stdout.flush()
        try:
            child = subprocess.Popen(options.argv, env=env)
        except OSError as exc:
            raise _child_error(exc, options.argv[0]) from None
        # A terminal sends SIGINT/SIGQUIT to the child itself (same process
        # group): forwarding them too would deliver them twice.
        terminal = sys.stdin is not None and sys.stdin.isatty()
        for name in ("SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGINT",
                     "SIGQUIT", "SIGWINCH"):
            number = getattr(signal, name, None)
            if number is None:
                continue
            if terminal and name in ("SIGINT", "SIGQUIT"):
                signal.signal(number, signal.SIG_IGN)
            else:
                signal.signal(number, lambda signum, frame: child.send_signal(
                    signum))
        status = child.wait()
    finally:
        server.stop()
    return status if status >= 0 else 128 - status


def _cli_target(options):
    """The profile, or bare sso-session, that login/logout/list/status use:
    for a role_arn profile, the SSO profile at the root of its chain; for a
    ``credential_process = ssocreds export --profile P`` wrapper, P.  Its
    ``reached_from`` then says how it was found."""
    if options.sso_session:
        profile = _load_session(options.sso_session)
    else:
        try:
            profile = _load_profile(options.profile, require_role=False)
        except ConfigError:
            wrapped = _wrapped_profile(options.profile)
            followed = getattr(options, "followed", ())
            if wrapped is not None and wrapped not in followed and \
                    wrapped != _profile_name(options.profile):
                profile = _cli_target(_wrapper_options(options, wrapped))
                profile.reached_from = (
                    'profile "%s" runs ssocreds for it (credential_process)'
                    % _profile_name(options.profile))
            else:
                chain = _load_chain(options.profile)
                if not chain.links or not isinstance(chain.source, _Profile):
                    raise
                profile = chain.source
                profile.reached_from = (
                    'profile "%s" assumes its role%s from it' % (
                        chain.top.name, "s" if len(chain.links) > 1 else ""))
    profile.timeouts = _cli_timeouts(options)
    return profile


def _options_for(options, profile):
    """A copy of ``options`` for another profile."""
    import copy

    result = copy.copy(options)
    result.profile, result.sso_session = profile, None
    return result


def _wrapper_options(options, profile):
    """``options`` for the profile a credential_process wrapper names."""
    result = _options_for(options, profile)
    result.followed = getattr(options, "followed", ()) + (
        _profile_name(options.profile),)  # wrappers of wrappers never loop
    return result


def _wrapped_profile(name):
    """P when profile ``name`` is a ``credential_process`` wrapper running
    ``ssocreds export --profile P`` (or ssocreds.py); else None."""
    environ = os.environ
    path = _config_path(None, environ)
    settings = _read_config(path, environ)["profiles"].get(
        _profile_name(name, environ)) or {}
    command = settings.get("credential_process")
    if not isinstance(command, str) or "ssocreds" not in command:
        return None
    try:
        words = _shell_words(command)
    except ValueError:
        return None
    if not any("ssocreds" in os.path.basename(w) for w in words[:3]) or \
            "export" not in words:
        return None
    for i, word in enumerate(words):
        if word == "--profile" and i + 1 < len(words):
            return words[i + 1]
        if word.startswith("--profile="):
            return word[len("--profile="):]
    return None


def _cmd_login(options):
    profile = _cli_target(options)
    result = _login(profile, use_device_code=options.use_device_code,
                    no_browser=options.no_browser,
                    port=options.redirect_port or 0, force=options.force,
                    notify=_note)
    left = _format_duration((result.expires - _utcnow()).total_seconds())
    if result.already_valid:
        _note("Already signed in to %s: the token is valid until %s (%s left); "
              "use --force to sign in again." % (
                  _describe(profile), _format_timestamp(result.expires), left))
    else:
        _note("Signed in to %s; token valid until %s (%s), cached in %s." % (
            _describe(profile), _format_timestamp(result.expires), left,
            result.path))
    return 0


def _cmd_logout(options):
    if options.all:
        return _logout_everything()
    profile = _cli_target(options)
    path = standard_cached_token_filepath(profile.token_key)
    client = _client(PortalClient, profile)
    found = os.path.exists(path) and _logout_token_file(path, client)
    removed = 0
    cache_dir = _cli_cache_dir()
    for other in _profiles_sharing_token(profile):
        removed += _remove_file(_cli_cache_path(other, cache_dir),
                                "cached credential file")
    if found:
        _note("Signed out of %s: deleted %s and %d cached credential file(s)." % (
            _describe(profile), path, removed))
    else:
        _note("Not signed in to %s (no token in %s); deleted %d cached "
              "credential file(s)." % (_describe(profile), path, removed))
    return 0


def _logout_everything():
    tokens = entries = 0
    for directory, test in ((_sso_cache_dir(), "token"), (_cli_cache_dir(),
                                                          "entry")):
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            continue
        for name in names:
            path = os.path.join(directory, name)
            if not name.endswith(".json") or not os.path.isfile(path):
                continue
            if test == "token":
                tokens += _logout_token_file(path)
                continue
            try:
                document = _read_json_object(path, "cache entry")
            except Error:
                continue
            if document.get("ProviderType") == "sso":
                entries += _remove_file(path, "cached credential file")
    _note("Signed out: deleted %d token file(s) and %d cached credential "
          "file(s); client registrations kept." % (tokens, entries))
    return 0


def _cmd_list(options):
    profile = _cli_target(options)
    accounts = _list_accounts(profile)
    if options.format == "json":
        import json

        sys.stdout.write(json.dumps(accounts, indent=2) + "\n")
    elif options.format == "config":
        region = profile.settings.get("region")
        blocks = []
        for account in accounts:
            for role in account["roles"]:
                lines = [_ini_section("profile " + _profile_name_for(
                    account, role))]
                if profile.sso_session:
                    lines.append(_ini_setting("sso_session", profile.sso_session))
                else:
                    lines += [_ini_setting("sso_start_url", profile.start_url),
                              _ini_setting("sso_region", profile.region)]
                lines += [_ini_setting("sso_account_id", account["accountId"]),
                          _ini_setting("sso_role_name", role)]
                if isinstance(region, str) and region:
                    lines.append(_ini_setting("region", region))
                blocks.append("\n".join(lines) + "\n")
        sys.stdout.write("\n".join(blocks))
    else:
        rows = [(a["accountId"], _visible(a["accountName"]), role)
                for a in accounts for role in a["roles"]]
        header = ("ACCOUNT ID", "ACCOUNT NAME", "ROLE")
        widths = [max(len(r[i]) for r in rows + [header]) for i in range(3)]
        for row in [header] + rows:
            sys.stdout.write("  ".join(v.ljust(w) for v, w in zip(
                row, widths)).rstrip() + "\n")
    return 0


def _cmd_populate(options):
    profile = _cli_target(options)
    path = profile.path
    region = options.region or (profile.settings.get("region") if isinstance(
        profile.settings.get("region"), str) else None)
    accounts = _list_accounts(profile)
    with _FileLock(path + ".lock"):
        text, bom = _read_utf8_file(path, "config file")
        parsed = _parse_config(text, path)["profiles"]
        owner = ("sso_session", profile.sso_session) if profile.sso_session \
            else ("sso_start_url", profile.start_url)
        generated = {name for name, settings in parsed.items()
                     if str(settings.get(_POPULATED, "")).lower() == "true"}
        ours = {name for name in generated
                if parsed[name].get(owner[0]) == owner[1]}
        ours |= {name for name in generated
                 if name.endswith("-process") and name[:-8] in ours}
        existing = {(parsed[name].get("sso_account_id"),
                     parsed[name].get("sso_role_name")): name
                    for name in ours if "sso_account_id" in parsed[name]}
        wanted, warnings = _populated_profiles(
            profile, accounts, taken=set(parsed) - ours, existing=existing,
            region=region,
            name_format=options.name or "{account_name}.{role_name}",
            prefix=options.prefix or "", process_command=(
                _this_command() if options.credential_process else None))
        updated, report = _populate_text(text, wanted, options.prune, ours)
        for warning in warnings:
            _note("ssocreds: warning: " + warning)
        if options.dry_run:
            import difflib

            sys.stdout.writelines(_visible(line.rstrip("\r\n")) + "\n"
                                  for line in difflib.unified_diff(
                                      _lines(text), _lines(updated), path,
                                      path + " (populated)", lineterm=""))
            return 0
        if updated != text:
            try:
                _write_file(path, bom + updated.encode("utf-8"))
            except OSError as exc:
                raise Error("cannot write the config file %s: %s" % (
                    path, _os_error_text(exc))) from None
    _note("ssocreds: %s: %d profile(s) added, %d updated, %d removed, %d "
          "unchanged" % (path, len(report["added"]), len(report["updated"]),
                         len(report["removed"]), len(report["unchanged"])))
    return 0


def _this_command():
    """How the SDKs should start this ssocreds, absolute and shell-quoted:
    the installed command, else this interpreter with this file."""
    program = os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if os.path.basename(program) in ("ssocreds", "ssocreds.exe") and \
            os.path.isfile(program):
        argv = [program]
    else:
        argv = [sys.executable, os.path.abspath(__file__)]
    if os.name == "nt":  # botocore splits it with Windows rules there
        import subprocess

        return subprocess.list2cmdline(argv)
    return " ".join(_shell_quote(arg) for arg in argv)


def _name_format(text):
    try:
        _profile_name_for({"accountName": "a", "accountId": "1"}, "r", text)
    except (KeyError, ValueError, IndexError):
        raise ValueError("takes {account_name}, {account_id}, {role_name} and "
                         "{region}") from None
    return text


def _cmd_status(options):
    if options.all:
        return _status_everything(options)
    profile = _cli_target(options)
    info = _status(profile)
    if options.json:
        import json

        sys.stdout.write(json.dumps(info, indent=2) + "\n")
    else:
        def out(text):
            sys.stdout.write(_visible(text[:-1]) + "\n")

        if profile.name is not None:
            out("profile:      %s\n" % profile.name)
        if profile.reached_from:
            out("reported for: %s\n" % profile.reached_from)
        if profile.account_id or profile.role_name:
            out("role:         %s in account %s\n" % (
                profile.role_name or "(none set)",
                profile.account_id or "(none set)"))
        out("session:      %s\n" % _describe(profile))
        out("token file:   %s\n" % info["token_file"])
        if info["expires_at"] is None:
            out("signed in:    no (%s)\n" % info.get("problem"))
        else:
            out("expires:      %s (%s)\n" % (info["expires_at"], _format_duration(
                info["seconds_left"])))
            out("refreshable:  %s\n" % ("yes" if info["refreshable"] else
                                          "no (%s)" % info["refresh_problem"]))
        if info["registration_expires_at"]:
            out("registration: expires %s\n" % info["registration_expires_at"])
        if profile.account_id:
            out("credentials:  %s\n" % (
                "cached until %s" % info["cached_credentials_until"]
                if info["cached_credentials_until"] else "none cached"))
        out("status:       %s\n" % ("usable" if info["usable"] else
                                      "sign-in needed: " + profile.login_command))
    return 0 if info["usable"] else 1


def _cmd_console(options):
    region = options.region
    if options.shortcut:
        chain = _load_chain(options.profile)
        if chain.links or not isinstance(chain.source, _Profile):
            raise Error('--shortcut signs in through the IAM Identity Center '
                        'portal, which can open only SSO roles; profile "%s" '
                        "assumes a role: drop --shortcut" % chain.top.name)
        region = region or chain.top.client_settings.region or \
            chain.source.region
        url = _console_shortcut(chain.source, region, options.destination)
    else:
        chain = _cli_provider(options)
        region = region or chain.top.client_settings.region or "us-east-1"
        url = _console_url(chain, region, destination=options.destination,
                           duration_minutes=options.duration,
                           logout_first=options.logout_first, notify=_note)
    if options.print:
        sys.stdout.write(url + "\n")
        return 0
    opened = _open_in_browser(url)
    if not opened:
        raise Error("cannot open a browser here (%s); rerun with --print to "
                    "get the URL%s" % (
                        "this machine has no display" if opened is None else
                        "none was found",
                        "" if options.shortcut else " (valid for 15 minutes, "
                        "a credential: treat it as a password)"))
    _note('ssocreds: opened the AWS console for profile "%s" in your browser'
          % chain.top.name)
    return 0


_COMMANDS = (
    _Command("export", "print credentials (credential_process JSON or shell "
             "code)", """\
Print credentials for the profile P: an SSO profile, or a role_arn profile
whose source_profile chain ends in one (or in static keys).
""", (_PROFILE, _Option("--format", "F", "process (credential_process JSON), "
                        "env, env-no-export, powershell, windows-cmd or fish",
                        choices=_EXPORT_FORMATS), _NO_CACHE), _cmd_export),
    _Command("exec", "run a command with credentials in its environment", """\
Run COMMAND (without a shell) with AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_SESSION_TOKEN, AWS_CREDENTIAL_EXPIRATION and AWS_ACCOUNT_ID set, and
AWS_PROFILE, AWS_DEFAULT_PROFILE and other static keys removed.  The
profile's region is passed as AWS_REGION and AWS_DEFAULT_REGION unless they
are set.  Exits with COMMAND's status.
""", (_PROFILE, _NO_CACHE, _Option(
        "--serve", None, "give COMMAND a private credential endpoint on "
        "127.0.0.1 (AWS_CONTAINER_CREDENTIALS_FULL_URI and a random token) "
        "instead of keys, so it gets fresh credentials for as long as it runs; "
        "the endpoint stops with COMMAND"), _Option(
        "--imds", None, "the same as an IMDSv2 endpoint on 127.0.0.1 "
        "(AWS_EC2_METADATA_SERVICE_ENDPOINT), for programs that only know the "
        "instance metadata service")),
        _cmd_exec, trailing="-- COMMAND [ARG...]",
        exclusive=("--serve", "--imds")),
    _Command("write-credentials", "write credentials into ~/.aws/credentials",
             """\
Write credentials as section [NAME] of AWS_SHARED_CREDENTIALS_FILE
(default ~/.aws/credentials), keeping every other section and comment, for
tools that only read that file.  The file is replaced atomically, mode 0600.
""", (_PROFILE, _Option("--credentials-profile", "NAME", "the section to write "
                        "(default: the profile's name)"), _NO_CACHE),
        _cmd_write_credentials),
    _Command("login", "sign in (browser with PKCE, or a device code)", """\
Sign in to IAM Identity Center and cache the token where the AWS CLI and the
AWS SDKs find it.  sso-session profiles use the authorization-code flow with
PKCE (a browser on this machine redirects to 127.0.0.1); legacy profiles and
--use-device-code use a device code you confirm in any browser.  On a
role_arn profile, signs in for the SSO profile at the root of its chain.
""", (_PROFILE, _SSO_SESSION,
      _Option("--use-device-code", None, "use the device-code flow (e.g. over "
              "SSH)"),
      _Option("--no-browser", None, "print the URL instead of opening a "
              "browser"),
      _Option("--redirect-port", "N", "listen for the PKCE redirect on "
              "127.0.0.1:N (for SSH port forwarding; default: any free port)",
              _port_number),
      _Option("--force", None, "sign in even if the cached token is still "
              "valid")),
        _cmd_login, exclusive=("--profile", "--sso-session")),
    _Command("logout", "sign out and delete the cached token and credentials",
             """\
Sign out: call the portal's Logout for the cached token, delete the token file
and the role credentials cached for it in ~/.aws/cli/cache.  Client
registrations are kept.
""", (_PROFILE, _SSO_SESSION, _Option(
        "--all", None, "sign out of every cached token and delete every cached "
        "SSO credential, like aws sso logout")),
        _cmd_logout, exclusive=("--profile", "--sso-session", "--all")),
    _Command("list", "list the accounts and roles you can use", """\
List the accounts and roles the signed-in user can use.
""", (_PROFILE, _SSO_SESSION, _Option(
        "--format", "F", "table, json, or config: a ready-to-paste "
        "[profile ACCOUNT-NAME.ROLE] section for every account and role",
        choices=("table", "json", "config"))),
        _cmd_list, exclusive=("--profile", "--sso-session")),
    _Command("populate", "write a profile for every account and role into "
             "the config", """\
Write one profile per account and role you can use into the config file
(AWS_CONFIG_FILE or ~/.aws/config), for the sso-session (or legacy start URL)
of the profile P or of --sso-session S, and keep them in sync on later runs.
Generated profiles carry sso_auto_populated = true (the AWS CLI's marker);
only those are ever updated, or removed with --prune when the role is no longer
yours.  Every other section, comment, blank line and line ending stays as it
was.  The file is replaced atomically under a lock.
""", (_PROFILE, _SSO_SESSION,
      _Option("--region", "R", "region of the generated profiles (default: "
              "the source profile's region)", convert=_region_option),
      _Option("--name", "FORMAT", "profile name format, with {account_name}, "
              "{account_id}, {role_name} and {region} (default: "
              "{account_name}.{role_name})", convert=_name_format),
      _Option("--prefix", "X", "put X before every generated name"),
      _Option("--credential-process", None, "also write NAME-process profiles "
              "running this ssocreds as credential_process, for SDKs without "
              "SSO support"),
      _Option("--prune", None, "remove generated profiles for roles you no "
              "longer have"),
      _Option("--dry-run", None, "print the unified diff it would apply; "
              "change nothing")),
        _cmd_populate, exclusive=("--profile", "--sso-session")),
    _Command("console", "open the AWS console signed in as the profile", """\
Open the AWS Management Console in your browser, signed in with the role
credentials of the profile P (an SSO profile, or a role chain over one; the
credentials come through the cache shared with the AWS CLI).  ssocreds calls
the AWS federation endpoint (getSigninToken, a form POST) and opens its
one-time sign-in URL, valid for 15 minutes.  That URL is a credential: it is
only ever handed to the browser, or printed on stdout with --print.
--shortcut opens the IAM Identity Center portal's own link for the SSO role
instead: no credentials leave this machine, and the portal signs the browser
in (it may ask you to sign in to the portal first); it cannot open a role
chain.  AWS_ENDPOINT_URL_SIGNIN overrides the federation endpoint.
""", (_PROFILE, _Option("--destination", "URL_OR_SERVICE", "the console page: a "
                        "service name (s3, ec2, ...) or an https:// URL "
                        "(default: the console home of the region)"),
      _Option("--region", "R", "the console's region (default: the profile's "
              "region, else us-east-1)", convert=_region_option),
      _Option("--duration", "MINUTES", "console session length, 15-720 "
              "minutes (not for role chains, which AWS caps at one hour)",
              convert=_minutes),
      _Option("--print", None, "print the URL on stdout instead of opening it"),
      _Option("--logout-first", None, "sign the browser out of any console "
              "session first, so this one wins"),
      _Option("--shortcut", None, "open the portal's shortcut link for the SSO "
              "role (no credentials leave the machine)"), _NO_CACHE),
        _cmd_console, exclusive=("--shortcut", "--duration")),
    _Command("status", "show whether you are signed in, and until when", """\
Show the token file, session, expiry and time left, whether the token can be
refreshed, the registration's expiry and whether live credentials are cached.
Exits 0 when the login is usable, 1 when a login is needed.  Never prints a
secret.  Names the profile, its account and role, and its sso-session or
start URL.  On a role_arn profile, reports the SSO profile at the root of its
chain; on a credential_process wrapper running ssocreds export --profile P,
reports P (and says so).
""", (_PROFILE, _SSO_SESSION, _Option(
        "--json", None, "print the same facts as one JSON object"), _Option(
        "--all", None, "one line for every sso-session and legacy start URL "
        "in the config; exit 0 only when every one is usable")),
        _cmd_status, exclusive=("--profile", "--sso-session", "--all")),
    _Command("serve", "serve refreshing credentials to other processes and "
             "containers (the ECS container credentials endpoint, or IMDSv2)",
             """\
Serve refreshing credentials over the container credentials protocol that
every AWS SDK speaks.  Prints AWS_CONTAINER_CREDENTIALS_FULL_URI and
AWS_CONTAINER_AUTHORIZATION_TOKEN as NAME=value lines (or writes them to
--env-file F, mode 0600), then serves until SIGINT or SIGTERM.  With several
profiles (--profile more than once, or --all-profiles), GET /credentials/NAME
serves profile NAME (/credentials the first), GET /profiles lists them, and a
NAME_AWS_CONTAINER_CREDENTIALS_FULL_URI line is printed for each.  With
--imds it is the EC2 instance metadata service (IMDSv2) instead, and prints
AWS_EC2_METADATA_SERVICE_ENDPOINT.
""", (_Option("--profile", "P", "a profile to serve; give it again for more "
              "(default: AWS_DEFAULT_PROFILE, then AWS_PROFILE, then "
              '"default")', repeat=True),
      _Option("--all-profiles", None, "serve every profile of the config that "
              "can be served"),
      _Option("--imds", None, "speak IMDSv2 (the EC2 instance metadata "
              "service) for one profile instead"),
      _Option("--imds-v1", None, "with --imds, also answer requests without "
              "a session token (IMDSv1)"),
      _Option("--host", "H", "address to bind (default 127.0.0.1)"),
      _Option("--port", "N", "port to bind (default: any free port)",
              _port_number),
      _Option("--token-file", "F", "read the authorization token to require "
              "from F (default: a fresh random 256-bit token)"),
      _Option("--env-file", "F", "write the two NAME=value lines to F (mode "
              "0600) instead of stdout"),
      _Option("--allow-non-loopback", None, "allow --host beyond loopback "
              "(prints a warning)"),
      _NO_CACHE),
        _cmd_serve, exclusive=("--profile", "--all-profiles")),
)

_EXAMPLES = """\
examples:
  # every AWS SDK and tool, through a wrapper profile in ~/.aws/config:
  #   [profile dev-process]
  #   credential_process = ssocreds export --profile dev
  ssocreds login --profile dev
  ssocreds export --profile dev
  eval "$(ssocreds export --profile dev --format env)"
  ssocreds exec --profile dev -- aws s3 ls
  ssocreds write-credentials --profile dev --credentials-profile dev-static

Options may come before or after the command.  Log in first with
ssocreds login --profile PROFILE (or aws sso login --profile PROFILE).
"""


def _main_help():
    column = max(len(c.name) for c in _COMMANDS) + 4
    lines = [_wrap_usage("usage: ssocreds ", [
        "[--version]", "[-h]"] + ["[%s]" % o.usage() for o in _GLOBAL_OPTIONS]
        + ["COMMAND", "[OPTIONS]"]), "",
        "AWS IAM Identity Center (SSO) credentials from the AWS CLI's login "
        "cache.", "", "commands:"]
    import textwrap

    for command in _COMMANDS:
        wrapped = textwrap.wrap(command.summary, 79 - column)
        lines.append("  %-*s%s" % (column - 2, command.name, wrapped[0]))
        lines += [" " * column + rest for rest in wrapped[1:]]
    version = _Option("--version", None, "print the version and exit")
    helper = _Option("-h, --help", None, "this help; COMMAND --help for a "
                     "command's options")
    lines += ["", "options:"] + _option_lines(
        (version,) + _GLOBAL_OPTIONS + (helper,)) + ["", _EXAMPLES]
    return "\n".join(lines)


class _CommandLine(object):
    """The parsed command line: ``command`` (a _Command, or "help" or
    "version"), one attribute per option of any command (None or False when
    not given), and ``argv``, exec's command."""

    def __init__(self):
        self.command = None
        self.topic = None  # the command whose --help was asked for
        self.argv = []
        for option in _all_options():
            setattr(self, option.attr, None if option.metavar else False)


def _all_options():
    seen = {}
    for option in _GLOBAL_OPTIONS + tuple(
            o for c in _COMMANDS for o in c.options):
        seen.setdefault(option.name, option)
    return seen.values()


def _parse_command_line(argv):
    """A _CommandLine from ``argv``; _UsageError for anything malformed.
    Options may come before the command (as the AWS CLI takes them) or
    after it."""
    result = _CommandLine()
    commands = {c.name: c for c in _COMMANDS}
    known = {o.name: o for o in _all_options()}
    given = []  # (option, text) in order
    args = list(argv)
    command = None
    while args:
        arg = args.pop(0)
        if arg in ("-h", "--help"):
            result.command, result.topic = "help", command
            return result
        if arg == "--version":
            result.command = "version"
            return result
        if command is not None and command.trailing and (
                arg == "--" or not arg.startswith("-")):
            if arg != "--":
                args.insert(0, arg)
            break
        if not arg.startswith("-"):
            if command is not None:
                raise _UsageError("%s: unexpected argument %s" % (
                    command.name, _quote_value(arg)))
            command = commands.get(arg)
            if command is None:
                raise _UsageError("unknown command %s" % _quote_value(arg))
            continue
        name, has_value, value = arg.partition("=")
        option = known.get(name)
        if option is None:
            raise _UsageError("%sunknown option %s" % (
                command.name + ": " if command else "", _quote_value(arg)))
        if option.metavar and not has_value:
            if not args:
                raise _UsageError("%s needs a value" % name)
            value = args.pop(0)
        elif not option.metavar and has_value:
            raise _UsageError("%s takes no value" % name)
        given.append((option, value))
    if command is None:
        raise _UsageError("no command given")
    allowed = {o.name: o for o in _GLOBAL_OPTIONS + command.options}
    for option, value in given:
        if option.name not in allowed:
            raise _UsageError("%s: unknown option %s" % (command.name,
                                                          option.name))
        option = allowed[option.name]  # --format differs between commands
        value = _option_value(command, option, value)
        if option.repeat:
            value = (getattr(result, option.attr) or []) + [value]
        setattr(result, option.attr, value)
    for option in command.options:
        if option.choices and getattr(result, option.attr) is None:
            setattr(result, option.attr, option.choices[0])
    chosen = [o.name for o, _ in given if o.name in command.exclusive]
    if len(set(chosen)) > 1:
        raise _UsageError("%s: %s cannot be combined" % (
            command.name, " and ".join(sorted(set(chosen), key=chosen.index))))
    if result.host is not None and not _is_loopback(result.host) and \
            not result.allow_non_loopback:
        raise _UsageError(
            "serve: %s is not a loopback address; the AWS SDKs accept plain "
            "http only from loopback, and anyone who can reach the port can try "
            "the token: add --allow-non-loopback if you mean it" % result.host)
    if command.trailing and not args:
        raise _UsageError("%s: no command to run (ssocreds %s -- COMMAND)" % (
            command.name, command.name))
    result.command, result.argv = command, args
    return result


def _option_value(command, option, text):
    if not option.metavar:
        return True
    if option.choices and text not in option.choices:
        raise _UsageError("%s: %s must be one of %s" % (
            command.name, option.name, ", ".join(option.choices)))
    if option.convert is None:
        return text
    try:
        return option.convert(text)
    except ValueError as exc:
        raise _UsageError("%s: %s %s" % (command.name, option.name, exc)) \
            from None


def _cli_message(exc, options):
    """The one stderr line for ``exc``: what is wrong, then the fix."""
    if isinstance(options.profile, list):  # serve --profile A --profile B
        options = _options_for(options, options.profile[0])
    if isinstance(exc, InvalidTokenError):
        profile = _profile_name(options.profile)
        text = 'the SSO session for profile "%s" has expired or is invalid' % (
            profile)
        if exc.reason:
            text += " (%s)" % exc.reason
        return text + "; run: " + exc.login_command
    if isinstance(exc, APIError) and exc.operation == "GetRoleCredentials" \
            and exc.status == 403:
        return "%s; see the accounts and roles you may use with: ssocreds list" \
            " --profile %s" % (exc, _shell_quote(_profile_name(options.profile)))
    host = getattr(exc, "unresolved_host", None)
    if host and host.startswith(("portal.sso.", "oidc.")):
        return "%s; %s" % (exc, _region_hint(options))
    return str(exc)


def _region_hint(options):
    """Where the sso_region of the command's profile comes from."""
    try:
        profile = _cli_target(options)
    except Exception:  # only a hint: never fail while giving it
        return "check the sso_region setting"
    where = "[sso-session %s]" % _shell_quote(profile.sso_session) \
        if profile.sso_session else "[profile %s]" % _shell_quote(profile.name)
    return "no such host: check sso_region = %s in %s of %s (a region such " \
        "as us-east-1)" % (profile.region, where, profile.path)


def _print_traceback():
    import traceback

    _note(traceback.format_exc().rstrip("\n"))


def main(argv=None):
    """Run the command line with ``argv`` (default sys.argv[1:]); return the
    exit status: 0 success, 1 failure, 2 usage error."""
    global _debug_stream
    try:
        options = _parse_command_line(sys.argv[1:] if argv is None else argv)
    except _UsageError as exc:
        sys.stderr.write("ssocreds: error: %s (see ssocreds --help)\n" % exc)
        return 2
    if options.command == "help":
        sys.stdout.write(options.topic.help() if options.topic else _main_help())
        return 0
    if options.command == "version":
        sys.stdout.write("ssocreds %s\n" % __version__)
        return 0
    previous_stream = _debug_stream
    if options.debug:
        _debug_stream = sys.stderr
    try:
        return options.command.handler(options)
    except _ChildError as exc:
        sys.stderr.write("ssocreds: %s\n" % _one_line(exc, 2000))
        return exc.status
    except Error as exc:
        if options.debug:
            _print_traceback()
        sys.stderr.write("ssocreds: %s\n" % _one_line(_cli_message(exc, options),
                                                      2000))
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 1
    except OSError as exc:  # one of the user's files: name it
        if options.debug:
            _print_traceback()
        sys.stderr.write("ssocreds: cannot use %s: %s; check its permissions "
                         "and the free space\n" % (
                             _visible(str(exc.filename or "a file")),
                             _os_error_text(exc)))
        return 1
    except Exception as exc:  # a bug: say so in one line, details with --debug
        if options.debug:
            _print_traceback()
        sys.stderr.write("ssocreds: internal error (%s); rerun with --debug and "
                         "report it\n" % type(exc).__name__)
        return 1
    finally:
        _debug_stream = previous_stream


if __name__ == "__main__":
    sys.exit(main())
