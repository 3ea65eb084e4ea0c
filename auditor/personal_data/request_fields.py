"""A request taken apart into fields: every value it carries, with where it was and how it
was encoded.

URL path segments, query parameters, headers and cookies, and the body: decoded from its
Content-Encoding, then parsed as JSON (nested, and JSON strings inside JSON), form-encoded,
multipart, newline-delimited JSON (e.g. Sentry envelopes) or, for binary bodies, the readable
strings in it. Values that are themselves URL-encoded, base64 or JSON text are opened too, up
to the limits, and each layer is named in the field's `encoding`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from auditor.personal_data.body_decoding import decode_body
from auditor.personal_data.limits import DEFAULT_LIMITS, ScanLimits

# Protocol headers that every client sends; they describe the connection, not the user.
ROUTINE_HEADERS = frozenset({
    "host", "connection", "content-length", "content-type", "content-encoding", "accept",
    "accept-encoding", "accept-language", "user-agent", "cache-control", "pragma", "te",
    "upgrade", "transfer-encoding", "sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest",
    "sec-fetch-user", "sec-ch-ua", "sec-ch-ua-mobile", "sec-ch-ua-platform", "priority",
    "if-none-match", "if-modified-since", "origin", "expect", "keep-alive", "dnt",
    "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions",
})
_BASE64 = re.compile(r"^[A-Za-z0-9+/_-]{12,}={0,2}$")
_PRINTABLE_RUN = re.compile(rb"[\x20-\x7e]{6,}")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_HEX_OR_UUID = re.compile(r"^[0-9A-Fa-f-]+$")  # IDs and hashes: never worth base64-decoding


@dataclass(frozen=True, slots=True)
class RequestData:
    """What a client sent in one request, as the source saw it."""

    method: str | None
    url: str | None
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    body_complete: bool = True  # False when the source kept only part of the body


@dataclass(frozen=True, slots=True)
class Field:
    """One value in a request: where it was, under which key, how it was encoded."""

    location: str  # "path" | "query" | "header" | "cookie" | "body" | "dns"
    path: str  # e.g. "advertiser_id", "extinfo[5]", "batch[0].context.os.version"
    key: str | None  # the innermost key name, when the value has one
    value: str
    encoding: str  # "plain", or the layers opened, e.g. "gzip>form>json-string"


@dataclass(slots=True)
class Fields:
    """The fields of one request and what bounded the scan."""

    items: list[Field] = field(default_factory=list)
    scanned_bytes: int = 0
    partial: list[str] = field(default_factory=list)  # why the scan is partial, if it is


def request_fields(request: RequestData, limits: ScanLimits = DEFAULT_LIMITS) -> Fields:
    """Every field of a request, within the limits."""
    out = Fields()
    walker = _Walker(out, limits)
    if request.url:
        url_path, query = split_url(request.url)
        for n, segment in enumerate(s for s in url_path.split("/") if s):
            walker.value("path", f"/[{n}]", None, unquote(segment), "plain", 0)
        for key, value in parse_qsl(query, keep_blank_values=False):
            walker.value("query", key, key, value, "plain", 0)
    content_type, content_encoding = None, None
    for name, value in request.headers:
        lower = name.lower()
        if lower == "content-type":
            content_type = value
        elif lower == "content-encoding":
            content_encoding = value
        if lower == "cookie":
            for cookie in value.split(";"):
                key, _, cookie_value = cookie.strip().partition("=")
                if key:
                    walker.value("cookie", key, key, cookie_value, "plain", 0)
        elif lower not in ROUTINE_HEADERS:
            walker.value("header", lower, lower, value, "plain", 0)
    if request.body:
        _body(walker, request, content_type, content_encoding, limits)
    if not request.body_complete:
        out.partial.append("the source kept only part of the body")
    return out


def split_url(url: str) -> tuple[str, str]:
    """A URL's path and query; also for URLs `urlsplit` refuses (e.g. a bracketed host that
    is no IPv6 address, as a HAR file may hold)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        rest = url.split("#", 1)[0]
        if "://" in rest:
            rest = rest.split("://", 1)[1]
            cut = [i for i in (rest.find("/"), rest.find("?")) if i >= 0]
            rest = rest[min(cut):] if cut else ""
        path, _, query = rest.partition("?")
        return path, query
    return parts.path, parts.query


def _body(walker: _Walker, request: RequestData, content_type: str | None,
          content_encoding: str | None, limits: ScanLimits) -> None:
    decoded = decode_body(request.body, content_encoding, limits.max_body_bytes)
    walker.out.scanned_bytes = len(decoded.data)
    if decoded.truncated:
        walker.out.partial.append(f"body scanned up to {limits.max_body_bytes} decoded bytes")
    if decoded.error:
        walker.out.partial.append(f"body could not be decoded ({decoded.error})")
    undone = [e.strip().lower() for e in (content_encoding or "").split(",")
              if e.strip() and e.strip().lower() != "identity"]
    layers = ",".join(undone) + ">" if undone and not decoded.error else ""
    data = decoded.data
    mime = (content_type or "").split(";")[0].strip().lower()
    text = _text(data, content_type)
    if "multipart/" in mime:
        _multipart(walker, data, content_type or "", layers)
    elif text is None:
        for n, run in enumerate(_PRINTABLE_RUN.findall(data)):
            walker.value("body", f"strings[{n}]", None, run.decode("ascii"), layers + "binary", 0)
    elif mime.endswith("json") or text.lstrip()[:1] in ("{", "["):
        if not walker.json_text("body", "", text, layers + "json", 0):
            _json_lines(walker, text, layers)
    elif "x-www-form-urlencoded" in mime or _looks_like_form(text):
        for key, value in parse_qsl(text, keep_blank_values=False):
            walker.value("body", key, key, value, layers + "form", 0)
    elif "\n" in text and text.lstrip().startswith("{"):
        _json_lines(walker, text, layers)
    else:
        walker.value("body", "", None, text, layers + "text", 0)


def _json_lines(walker: _Walker, text: str, layers: str) -> None:
    """Newline-delimited JSON documents (Sentry envelopes, NDJSON batches)."""
    for n, line in enumerate(text.splitlines()):
        if line.strip() and not walker.json_text("body", f"line[{n}]", line, layers + "ndjson",
                                                 0):
            walker.value("body", f"line[{n}]", None, line, layers + "text", 0)


def _multipart(walker: _Walker, data: bytes, content_type: str, layers: str) -> None:
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", "replace") + data)
    if not message.is_multipart():
        return
    for part in message.iter_parts():
        name = str(part.get_param("name", header="content-disposition") or "")
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            payload = b""
        text = _text(payload, part.get("content-type"))
        if text is not None:
            walker.value("body", name, name or None, text, layers + "multipart", 0)
            continue
        for n, run in enumerate(_PRINTABLE_RUN.findall(payload)):  # a file: its strings
            walker.value("body", f"{name}.strings[{n}]" if name else f"strings[{n}]", None,
                         run.decode("ascii"), layers + "multipart>binary", 0)


def _looks_like_form(text: str) -> bool:
    return "=" in text and "\n" not in text.strip() and " " not in text.strip()[:200]


def _text(data: bytes, content_type: str | None) -> str | None:
    """A body or part as text, or None for binary data. UTF-8 when it is; else (text in a
    legacy 8-bit charset: no more control characters than text has) the declared charset, or
    UTF-8 if most of its non-ASCII bytes are valid UTF-8, or Latin-1."""
    if _mostly_text(data):
        return data.decode("utf-8", "replace")
    sample = data[:4096]
    if _controls(sample) * 50 >= len(sample):
        return None
    charset = re.search(r"charset=\"?([\w.:-]+)", content_type or "", re.I)
    if charset:
        try:
            return data.decode(charset.group(1), "replace")
        except LookupError:  # an unknown charset name
            pass
    utf8 = sample.decode("utf-8", "replace")
    invalid = utf8.count("\ufffd")
    valid = len(_NON_ASCII.findall(utf8)) - invalid
    return data.decode("utf-8", "replace") if valid > invalid else data.decode("latin-1")


def _controls(sample: bytes) -> int:
    return sum(1 for b in sample if b < 0x09 or 0x0D < b < 0x20)


def _mostly_text(data: bytes) -> bool:
    sample = data[:4096]
    if not sample:
        return True
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # not just a character cut at the sample's end (when the sample is a cut)
        if exc.start < len(sample) - 4 or len(data) <= len(sample):
            return False
    return _controls(sample) * 50 < len(sample)


class _Walker:
    """Adds fields, opening nested structures and encoded values within the limits."""

    def __init__(self, out: Fields, limits: ScanLimits) -> None:
        self.out = out
        self.limits = limits

    def note(self, reason: str) -> None:
        """Record why the scan is partial (once per reason)."""
        if reason not in self.out.partial:
            self.out.partial.append(reason)

    def full(self) -> bool:
        if len(self.out.items) >= self.limits.max_fields:
            self.note(f"stopped after {self.limits.max_fields} fields")
            return True
        return False

    def value(self, location: str, path: str, key: str | None, value: str, encoding: str,
              depth: int) -> None:
        if self.full():
            return
        if len(value) > self.limits.max_value_bytes:
            value = value[: self.limits.max_value_bytes]
            self.note(f"values cut to {self.limits.max_value_bytes} characters")
        self.out.items.append(Field(location, path, key, value, encoding))
        if depth >= self.limits.max_depth or encoding.count(">") >= self.limits.max_depth:
            if _opens(value):
                self.note(f"values encoded more than {self.limits.max_depth} levels deep "
                          "were not opened")
            return
        stripped = value.strip()
        if stripped[:1] in ("{", "[") and stripped[-1:] in ("}", "]"):
            self.json_text(location, path, stripped, encoding + ">json-string", depth + 1, key)
        elif "%" in value and (unquoted := unquote(value)) != value:
            self.value(location, path, key, unquoted, encoding + ">url", depth + 1)
        elif (len(stripped) >= 12 and not _HEX_OR_UUID.match(stripped)
              and _BASE64.match(stripped) and (decoded := _base64_text(stripped)) is not None):
            self.value(location, path, key, decoded, encoding + ">base64", depth + 1)

    def json_text(self, location: str, path: str, text: str, encoding: str,
                  depth: int, key: str | None = None) -> bool:
        try:
            document = json.loads(text)
        except (ValueError, RecursionError):
            return False
        # A list keeps the key of the value it was in (`extinfo[5]` is under `extinfo`).
        self.json_value(location, path, key, document, encoding, depth)
        return True

    def json_value(self, location: str, path: str, key: str | None, value: Any,
                   encoding: str, depth: int) -> None:
        if self.full():
            return
        if depth > self.limits.max_depth + 4:
            self.note(f"JSON nested more than {self.limits.max_depth + 4} levels deep was "
                      "not scanned")
            return
        if isinstance(value, dict):
            for child_key, child in value.items():
                child_path = f"{path}.{child_key}" if path else str(child_key)
                self.json_value(location, child_path, str(child_key), child, encoding,
                                depth + 1)
        elif isinstance(value, list):
            for n, child in enumerate(value):
                self.json_value(location, f"{path}[{n}]", key, child, encoding, depth + 1)
        elif isinstance(value, str):
            self.value(location, path, key, value, encoding, depth)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            self.out.items.append(Field(location, path, key, repr(value), encoding))


def _opens(value: str) -> bool:
    """Whether the walker would open this value (JSON, URL-encoded or base64 text)."""
    stripped = value.strip()
    return (stripped[:1] in ("{", "[") and stripped[-1:] in ("}", "]")) or (
        "%" in value and unquote(value) != value) or (
        len(stripped) >= 12 and not _HEX_OR_UUID.match(stripped)
        and _BASE64.match(stripped) is not None and _base64_text(stripped) is not None)


def _base64_text(text: str) -> str | None:
    """Base64 (standard or URL-safe) that decodes to readable text, or None."""
    padded = text + "=" * (-len(text) % 4)
    try:
        raw = (base64.urlsafe_b64decode(padded) if ("-" in text or "_" in text)
               else base64.b64decode(padded, validate=True))
    except (binascii.Error, ValueError):
        return None
    if len(raw) < 4 or not _mostly_text(raw):
        return None
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    printable = sum(1 for c in decoded if c.isprintable())
    return decoded if printable * 10 >= len(decoded) * 9 else None

