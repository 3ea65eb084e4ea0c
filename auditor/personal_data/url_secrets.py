"""Secrets and e-mail addresses in URLs, redacted for the files a user shares.

A URL can carry credentials: `?token=`, `access_token=` (also in an OAuth fragment,
`#access_token=`), `api_key=`, `sig=`, a meeting passcode (`pwd=` in Zoom join links, `zak=`,
`tk=`), a session id in a path parameter (`;jsessionid=`), a password in `user:password@`, and
personal data such as an e-mail address anywhere. `redact_secrets` keeps every key and the
URL's shape and replaces each such value by a short hash (the same `sha256:` form findings
use, of the decoded value), so equal values still look equal and nothing can be read back.

It works on text, not on a parsed URL, so it also cleans an error message that quotes a URL
and never fails on a malformed one. Keys are matched case-insensitively after percent-decoding:
the names in SECRET_KEYS, and names ending in one of SECRET_KEY_ENDINGS.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import unquote, unquote_plus

SECRET_KEYS = frozenset({
    # tokens, keys and signatures
    "token", "access_token", "refresh_token", "id_token", "auth_token", "authtoken",
    "bearer", "jwt", "key", "api_key", "apikey", "api-key", "secret", "client_secret",
    "sig", "signature", "hmac", "credential", "credentials", "private_token",
    "oauth_token", "oauth_signature", "oauth_verifier", "code", "ticket", "otp",
    "x-amz-credential", "x-amz-signature", "x-amz-security-token", "x-goog-credential",
    "x-goog-signature",
    # passwords and meeting passcodes
    "password", "passwd", "pwd", "pass", "passcode", "pin", "auth", "authorization",
    "zak", "tk",
    # sessions
    "session", "sessionid", "session_id", "sid", "jsessionid", "phpsessid",
})
SECRET_KEY_ENDINGS = ("token", "secret", "password", "passwd", "signature", "apikey",
                      "api_key", "_key", "-key", "sessionid", "session_id", "_sig", "-sig",
                      "_auth", "credential")
# key=value after ?, &, # or ; (query, fragment, path parameters); a value ends at the next
# separator (a path parameter's at the query), space or quote (so a URL quoted in an error
# message is cut where it ends).
_PARAMETER = re.compile(r"(?<=[?&#;])([^=&#;?\s'\"<>]{1,200})=([^&#;?\s'\"<>]*)")
# A URL's authority (userinfo@host:port), kept apart so that user@host is not taken for an
# e-mail address.
_AUTHORITY = re.compile(r"(://[^/?#\s'\"<>]*)")
# An e-mail address, raw or percent-encoded. Its local part (at most 64 characters) is taken
# whole from where a run of such characters starts, possessively and never across an encoded
# @, so that hostile text costs linear time.
_EMAIL = re.compile(r"(?<![A-Za-z0-9._+%-])(?:[A-Za-z0-9._+-]|%(?!40)[0-9A-Fa-f]{2}){1,64}+"
                    r"(?:@|%40)"
                    r"[A-Za-z0-9-]{1,63}+(?:\.[A-Za-z0-9-]{1,63}+)+")


def short_hash(value: str) -> str:
    """A value as shared files show it: a short hash that tells values apart (the form of
    report.findings.redact)."""
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:12]


def is_secret_key(key: str) -> bool:
    """Whether a URL parameter of this name carries a secret."""
    name = unquote_plus(key).strip().lower().removesuffix("[]")
    return name in SECRET_KEYS or name.endswith(SECRET_KEY_ENDINGS)


def redact_secrets(text: str) -> str:
    """`text` (a URL, or a message quoting URLs) with secret parameter values, the password of
    a user:password@ and e-mail addresses replaced by short hashes; all else as it was."""
    parts = _AUTHORITY.split(text)  # odd items are authorities
    return "".join(_authority(part) if n % 2 else _rest(part) for n, part in enumerate(parts))


def _rest(text: str) -> str:
    if "=" in text:
        text = _PARAMETER.sub(_parameter, text)
    if "@" in text or "%40" in text:
        text = _EMAIL.sub(_email, text)
    return text


def _authority(authority: str) -> str:
    """`://user:password@host`: the password hashed, a user that is an e-mail address too."""
    if "@" not in authority:
        return authority
    userinfo, host = authority[3:].rsplit("@", 1)
    user, colon, password = userinfo.partition(":")
    user = _EMAIL.sub(_email, user)
    if password:
        password = short_hash(unquote(password))
    return f"://{user}{colon}{password}@{host}"


def _parameter(match: re.Match[str]) -> str:
    key, value = match.group(1), match.group(2)
    if not value or not is_secret_key(key):
        return match.group()
    return f"{key}={short_hash(unquote_plus(value))}"


def _email(match: re.Match[str]) -> str:
    return short_hash(unquote(match.group()))
