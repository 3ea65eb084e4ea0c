"""Recognising an input file's format from its content, never from its extension."""

from __future__ import annotations

import stat
import zlib
from enum import StrEnum
from pathlib import Path

from auditor.errors import InputError

PCAP_MAGICS = (b"\xa1\xb2\xc3\xd4", b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\x3c\x4d", b"\x4d\x3c\xb2\xa1")
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
GZIP_MAGIC = b"\x1f\x8b"
SNIFF_BYTES = 4096
GZIP_SNIFF_BYTES = 1 << 16  # compressed bytes read to find the first SNIFF_BYTES of content
GZIP_WBITS = 16 + zlib.MAX_WBITS  # a gzip header and trailer around deflate data


class InputFormat(StrEnum):
    """Kinds of input `vcaudit analyze` recognises."""

    PCAP = "pcap"
    PCAPNG = "pcapng"
    HAR = "har"
    MITM = "mitm"
    UNKNOWN = "unknown"


def detect_format(path: Path) -> InputFormat:
    """Identify a capture, HAR or mitmproxy flow file by its first bytes.

    Raises InputError when the path is missing, a folder, not a regular file (a pipe or a
    device: the readers need to seek), unreadable or empty.
    """
    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise InputError(f"{path}: is a folder, not a capture file")
        if not stat.S_ISREG(mode):
            raise InputError(f"{path}: not a regular file (a pipe or a device); save the "
                             "capture to a file first")
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    if not head:
        raise InputError(f"{path}: the file is empty")
    if head.startswith(GZIP_MAGIC):
        head = _gunzip_head(path)
    magic = head[:4]
    if magic in PCAP_MAGICS:
        return InputFormat.PCAP
    if magic == PCAPNG_MAGIC:
        return InputFormat.PCAPNG
    if _looks_like_har(head):
        return InputFormat.HAR
    if _looks_like_tnetstring(head):
        return InputFormat.MITM
    return InputFormat.UNKNOWN


def _gunzip_head(path: Path) -> bytes:
    """The first bytes of a gzip file's content, also when the file is cut off early (the
    reader then reports the cut); b"" when it is not gzip data at all."""
    try:
        with path.open("rb") as handle:
            compressed = handle.read(GZIP_SNIFF_BYTES)
        return zlib.decompressobj(wbits=GZIP_WBITS).decompress(compressed, SNIFF_BYTES)
    except (OSError, zlib.error):
        return b""


def _looks_like_har(head: bytes) -> bool:
    """A JSON object with a "log" key near its start. Only the head is read, so the rest is
    checked when the file is read (never parsed here: a hostile head can nest deep enough to
    exhaust the parser's recursion)."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return text.startswith(b"{") and b'"log"' in text


def _looks_like_tnetstring(head: bytes) -> bool:
    """mitmproxy flow files are tnetstrings: `<length>:<data><type>` with a dict first, whose
    data starts with its first key, itself a tnetstring (so "10:42 notes" is not one)."""
    colon = head.find(b":", 0, 12)
    if colon <= 0 or not head[:colon].isdigit():
        return False
    end = colon + 1 + int(head[:colon])
    if end < len(head):  # the whole first flow was read: it must close as a dict
        return head[end : end + 1] == b"}"
    key_colon = head.find(b":", colon + 1, colon + 13)
    if key_colon <= colon + 1 or not head[colon + 1 : key_colon].isdigit():
        return False
    key_end = key_colon + 1 + int(head[colon + 1 : key_colon])
    return key_end >= len(head) or head[key_end : key_end + 1] in (b",", b";")
