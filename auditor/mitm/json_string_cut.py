"""JSON text with its long strings cut, for a streaming parser that must not hold them.

A streaming JSON parser (ijson) still builds each string whole, so one 500 MB response body in
a HAR file would cost 500 MB and more. LongStringCutter sits between the file and the parser:
every string value longer than `keep` bytes reaches the parser as a small object,

    {"\\u0000cut": "<its first `keep` bytes>", "\\u0000length": <its length in the file>}

and a long object key as its first `keep` bytes. Nothing else changes, and memory stays about
`keep` plus one chunk whatever the file holds. The scan is one regular expression per chunk;
only strings that cross a chunk boundary are followed by Python code. A file can contain such
an object itself: it only lies about its own content, which it can do anyway.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

CUT_KEY = "\x00cut"
LENGTH_KEY = "\x00length"
CHUNK_BYTES = 1 << 18
_BOM = b"\xef\xbb\xbf"
# Text outside strings, and whole strings, as far as the chunk goes: what follows the match is
# the opening quote of a string that the chunk does not close (or the chunk's end).
_WHOLE_STRINGS = re.compile(rb'(?:[^"]++|"(?:[^"\\]++|\\.)*+")*+', re.DOTALL)
# The inside of a string up to its closing quote (or up to a backslash the chunk cuts off).
_STRING_RUN = re.compile(rb'(?:[^"\\]++|\\.)*+', re.DOTALL)
# Whole characters of a string's inside: escapes kept whole.
_UNITS = re.compile(rb"(?:[^\"\\]++|\\u[0-9A-Fa-f]{4}|\\[^u])*+", re.DOTALL)
_TRAILING_HIGH_SURROGATE = re.compile(rb"\\u[dD][89abAB][0-9a-fA-F]{2}\Z")
_WHITESPACE = b" \t\r\n"


class LongStringCutter:
    """A binary stream over `raw` (JSON text) whose strings longer than `keep` bytes are cut
    as the module says."""

    def __init__(self, raw: BinaryIO, keep: int, chunk_bytes: int = CHUNK_BYTES) -> None:
        self._raw = raw
        self._keep = keep
        self._chunk_bytes = chunk_bytes
        self._pieces = self._cut()
        self._pending = b""
        self.cut = 0  # strings cut so far

    def read(self, size: int = -1) -> bytes:
        """Up to `size` bytes of the cut text (all of it when size < 0); b"" at the end."""
        if size == 0:
            return b""
        if size < 0:
            return self._pending + b"".join(self._pieces)
        while not self._pending:
            piece = next(self._pieces, None)
            if piece is None:
                return b""
            self._pending = piece
        out, self._pending = self._pending[:size], self._pending[size:]
        return out

    def _chunk(self) -> bytes:
        return self._raw.read(self._chunk_bytes)

    def _cut(self) -> Iterator[bytes]:
        data = self._chunk()
        if data.startswith(_BOM):
            data = data[len(_BOM):]
        while data:
            end = _match_end(_WHOLE_STRINGS, data)
            if end:
                yield data[:end]
            if end == len(data):
                data = self._chunk()
                continue
            # A string starts at `end` and goes on past this chunk.
            string, data = self._long_string(data[end + 1:])
            yield string
            data = data or self._chunk()

    def _long_string(self, pending: bytes) -> tuple[bytes, bytes]:
        """A string whose inside starts with `pending` and goes on in the next chunks: the
        text that stands for it, and what follows it."""
        held = bytearray()
        prefix: bytes | None = None
        length = 0
        while True:
            stop = _match_end(_STRING_RUN, pending)
            closed = stop < len(pending) and pending[stop] == ord('"')
            if prefix is None:
                held += pending[:stop]
                if len(held) > self._keep:
                    prefix, length = _safe_prefix(held, self._keep), len(held)
                    held = bytearray()
            else:
                length += stop
            if closed:
                rest = pending[stop + 1:]
                break
            more = self._chunk()
            if not more:  # the text ends inside the string: the parser will say so
                return b'"' + (prefix if prefix is not None else bytes(held)), b""
            pending = pending[stop:] + more  # a backslash cut from its escape comes along
        if prefix is None:
            return b'"' + bytes(held) + b'"', rest
        self.cut += 1
        rest = rest.lstrip(_WHITESPACE)
        while not rest:
            rest = self._chunk()
            if not rest:
                break
            rest = rest.lstrip(_WHITESPACE)
        if rest[:1] == b":":  # an object key: only its start is kept
            return b'"' + prefix + b'"', rest
        marker = (b'{"\\u0000cut":"' + prefix + b'","\\u0000length":'
                  + str(length).encode("ascii") + b"}")
        return marker, rest


def _match_end(pattern: re.Pattern[bytes], data: bytes) -> int:
    """Where a pattern that can match nothing stops matching at the start of `data`."""
    match = pattern.match(data)
    return match.end() if match else 0


def _safe_prefix(held: bytearray, keep: int) -> bytes:
    """The first (at most) `keep` bytes of a string's inside, cut between whole escapes and
    whole UTF-8 characters, so that the prefix is itself valid JSON string content."""
    match = _UNITS.match(held, 0, keep)
    end = match.end() if match else 0
    while 0 < end < len(held) and 0x80 <= held[end] < 0xC0:
        end -= 1  # back to the first byte of the character the cut falls in
    prefix = bytes(held[:end])
    if _TRAILING_HIGH_SURROGATE.search(prefix):
        prefix = prefix[:-6]  # the first half of a surrogate pair alone is not a character
    return prefix
