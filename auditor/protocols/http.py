"""HTTP/1.x request heads seen in plaintext traffic (TCP on any port, SSDP over UDP).

Only the request line and the Host header are decoded. Works on a prefix of the stream: a
head that has not fully arrived yet is reported as incomplete, not as an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_HEAD = 16384
# RFC 9110 methods plus the HTTPU methods of SSDP and the WebDAV ones clients send.
METHODS = frozenset(
    b"GET HEAD POST PUT DELETE CONNECT OPTIONS TRACE PATCH M-SEARCH NOTIFY SUBSCRIBE "
    b"UNSUBSCRIBE PROPFIND PROPPATCH MKCOL COPY MOVE LOCK UNLOCK REPORT".split()
)
_REQUEST_LINE = re.compile(rb"^([A-Z-]{3,12}) (\S{1,8192}) (HTTP/\d\.\d)\r?$")
_HOST_VALUE = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+)(?::(\d{1,5}))?$")


class HttpHeadError(ValueError):
    """The bytes start like an HTTP request but are not one."""


@dataclass(frozen=True, slots=True)
class HttpRequestHead:
    """Request line and Host header of one HTTP/1.x request."""

    method: str
    target: str
    version: str
    host: str | None
    host_port: int | None
    headers: tuple[tuple[str, str], ...] = ()
    head_length: int = 0  # bytes of the request line and headers, blank line included

    @property
    def url(self) -> str | None:
        """The absolute URL when the host is known (or the target is absolute)."""
        if self.target.startswith(("http://", "https://")):
            return self.target
        if self.host is None:
            return None
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = f":{self.host_port}" if self.host_port not in (None, 80) else ""
        path = self.target if self.target.startswith("/") else ""  # "*" or CONNECT's host:port
        return f"http://{host}{port}{path}"


def looks_like_http_request(payload: bytes) -> bool:
    """Whether a payload begins with an HTTP method token followed by a space."""
    space = payload.find(b" ", 0, 13)
    return space > 0 and payload[:space] in METHODS


def parse_request_head(prefix: bytes) -> HttpRequestHead | None:
    """Decode the head at the start of `prefix`; None if it has not fully arrived yet."""
    end = prefix.find(b"\r\n\r\n", 0, MAX_HEAD)
    if end < 0:
        end = prefix.find(b"\n\n", 0, MAX_HEAD)
    if end < 0:
        if len(prefix) >= MAX_HEAD:
            raise HttpHeadError(f"request head longer than {MAX_HEAD} bytes")
        return None
    head_length = end + (4 if prefix[end : end + 4] == b"\r\n\r\n" else 2)
    lines = prefix[:end].split(b"\n")
    match = _REQUEST_LINE.match(lines[0])
    if not match or match.group(1) not in METHODS:
        raise HttpHeadError(f"bad request line {lines[0][:80]!r}")
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if sep:
            headers.append((name.strip().decode("latin-1"),
                            value.strip().decode("latin-1")))
    host_value = next((v for k, v in headers if k.lower() == "host"), None)
    host, port = split_host_header(host_value) if host_value else (None, None)
    return HttpRequestHead(
        method=match.group(1).decode("ascii"),
        target=match.group(2).decode("latin-1"),
        version=match.group(3).decode("ascii"),
        host=host,
        host_port=port,
        headers=tuple(headers),
        head_length=head_length,
    )


@dataclass(frozen=True, slots=True)
class HttpRequestBytes:
    """One request read from a stream: its head, its body as sent, and whether the body was
    all there (a stream prefix may end inside it)."""

    head: HttpRequestHead
    body: bytes
    complete: bool


def requests_in_stream(stream: bytes, limit: int = 32) -> list[HttpRequestBytes]:
    """The requests at the start of a client's byte stream (keep-alive: one after another).

    Stops at the first head that has not fully arrived. A body is delimited by its
    Content-Length or, when chunked, by the final zero-length chunk; a body that runs past the
    end of `stream` is returned as incomplete. Raises HttpHeadError on a malformed head.
    """
    out: list[HttpRequestBytes] = []
    position = 0
    while position < len(stream) and len(out) < limit:
        head = parse_request_head(stream[position:])
        if head is None:
            break
        start = position + head.head_length
        fields = {k.lower(): v for k, v in head.headers}
        if "chunked" in fields.get("transfer-encoding", "").lower():
            end = stream.find(b"\r\n0\r\n\r\n", start - 2)
            end = -1 if end < 0 else end + 7
        else:
            try:
                length = max(0, int(fields.get("content-length", "0")))
            except ValueError:
                length = 0
            end = start + length if start + length <= len(stream) else -1
        if end < 0:
            out.append(HttpRequestBytes(head, stream[start:], False))
            break
        out.append(HttpRequestBytes(head, stream[start:end], True))
        position = end
    return out


def split_host_header(value: str) -> tuple[str | None, int | None]:
    """Split a Host header into a lowercase host and an optional port.

    Returns (None, None) for values that are not a host name or address.
    """
    match = _HOST_VALUE.match(value.strip())
    if not match:
        return None, None
    host = match.group(1).strip("[]").rstrip(".").lower()
    port = int(match.group(2)) if match.group(2) else None
    if port is not None and not 0 < port < 65536:
        return None, None
    return (host or None), port
