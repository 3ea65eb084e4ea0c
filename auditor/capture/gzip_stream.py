"""A gzip-compressed capture read as a plain one: the decompressed stream, with the few steps
back the record reader takes (to hand a record to scapy's reader from where it starts) served
from the last bytes read instead of decompressing the file again from its start, which is all
the gzip module can do.

Decompression is zlib's, in bounded pieces, so a small file that expands enormously costs a
few megabytes of memory at a time, and everything before a cut or a damaged spot is kept (the
gzip module drops what it decompressed in a read that then fails). Concatenated gzip members
are read on. A stream that is cut off, damaged or followed by something that is not gzip ends
there, and `failure` says why; the record reader then reports the capture as truncated after
the last whole packet.
"""

from __future__ import annotations

import zlib
from collections import deque
from typing import Any

KEEP = 4 << 20  # bytes kept for stepping back: more than the reader's buffer and one record
COMPRESSED_CHUNK = 256 << 10
OUTPUT_CHUNK = 1 << 20  # the most one decompression step may produce
GZIP_MAGIC = b"\x1f\x8b"
GZIP_WBITS = 16 + zlib.MAX_WBITS


class RewindableStream:
    """Decompressed bytes of a gzip file, read forward, with seeks back within `KEEP`."""

    def __init__(self, gzip_file: Any) -> None:
        already_read = gzip_file.tell()  # e.g. the capture's file header, read by scapy
        self._gzip = gzip_file
        self._raw = gzip_file.fileobj  # the compressed file, decompressed anew from its start
        self._raw.seek(0)
        self._inflate = zlib.decompressobj(GZIP_WBITS)
        self._input = b""  # compressed bytes not yet decompressed
        self._ended = False
        self._kept: deque[bytes] = deque()  # the last pieces handed out, ending at `_end`
        self._kept_size = 0
        self._end = 0  # decompressed offset of the end of what was decompressed
        self._pos = 0  # where the next read starts
        self.failure: str | None = None
        self.seek(already_read)

    def read(self, size: int = -1) -> bytes:
        """`size` bytes from the current position, fewer only at the end of the stream (or
        where it is damaged), as a file gives them; with no `size`, the next bytes at hand."""
        if size < 0:
            return self._read_some(size)
        parts = []
        while size > 0 and (piece := self._read_some(size)):
            parts.append(piece)
            size -= len(piece)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _read_some(self, size: int) -> bytes:
        """Up to `size` bytes from the current position, from what was decompressed (a whole
        decompression step is kept at a time, however little is asked for: readers ask for
        a few bytes at a time); b"" at the end (or after damage)."""
        behind = self._end - self._pos
        if behind <= 0:
            data = self._decompress(OUTPUT_CHUNK)
            if not data:
                return b""
            self._keep(data)
            behind = len(data)
        data = self._kept_bytes(behind, behind if size < 0 else min(size, behind))
        self._pos += len(data)
        return data

    def _kept_bytes(self, behind: int, count: int) -> bytes:
        """`count` kept bytes starting `behind` bytes before the end of what was read."""
        last = self._kept[-1]
        if behind <= len(last):  # the usual case: within the last step
            start = len(last) - behind
            return last[start:start + count]
        offset = self._kept_size - behind  # into the concatenation of the kept pieces
        parts = []
        for piece in self._kept:
            if offset >= len(piece):
                offset -= len(piece)
                continue
            part = piece[offset:offset + count]
            parts.append(part)
            count -= len(part)
            offset = 0
            if not count:
                break
        return b"".join(parts)

    def _keep(self, data: bytes) -> None:
        self._kept.append(data)
        self._kept_size += len(data)
        self._end += len(data)
        while self._kept_size - len(self._kept[0]) >= KEEP:
            self._kept_size -= len(self._kept.popleft())

    def _decompress(self, size: int) -> bytes:
        """The next newly decompressed bytes (at most `size`); b"" at the end."""
        while not self._ended:
            if not self._input and not self._read_compressed():
                return b""
            try:
                data = self._inflate.decompress(self._input, min(size, OUTPUT_CHUNK))
            except zlib.error as exc:
                self._stop(f"damaged ({exc})")
                return b""
            self._input = self._inflate.unconsumed_tail
            if self._inflate.eof:
                self._next_member()
            if data:
                return data
        return b""

    def _read_compressed(self) -> bool:
        try:
            self._input = self._raw.read(COMPRESSED_CHUNK)
        except OSError as exc:
            self._stop(f"cannot be read ({exc})")
            return False
        if not self._input:
            if not self._inflate.eof:
                self._stop("compressed file ended before the end-of-stream marker")
            self._ended = True
            return False
        return True

    def _next_member(self) -> None:
        """After one gzip member: another may follow; zero padding ends the file cleanly.
        What follows the member is all in `unused_data` (zlib leaves a copy of it in
        `unconsumed_tail` too when the step was bounded: not to be read twice)."""
        rest = self._inflate.unused_data
        self._input = b""
        if len(rest) < len(GZIP_MAGIC):  # the next member's magic may start in the next chunk
            try:
                rest += self._raw.read(COMPRESSED_CHUNK)
            except OSError as exc:
                self._stop(f"cannot be read ({exc})")
                return
        if rest.startswith(GZIP_MAGIC):
            self._inflate = zlib.decompressobj(GZIP_WBITS)
            self._input = rest
        elif rest.strip(b"\x00"):
            self._stop("damaged: data after the end of the compressed stream")
        else:
            self._ended = True

    def _stop(self, why: str) -> None:
        self.failure = why
        self._ended = True

    def seek(self, offset: int, whence: int = 0) -> int:
        """Move to a decompressed offset: back within what is kept, or forward by reading."""
        if whence != 0:
            raise OSError("only absolute seeks")
        if offset < self._end - self._kept_size:
            raise OSError(f"cannot step back to byte {offset} of a compressed capture")
        if offset <= self._end:
            self._pos = offset
            return offset
        self._pos = self._end
        while self._pos < offset and self._read_some(min(offset - self._pos, OUTPUT_CHUNK)):
            pass
        return self._pos

    def tell(self) -> int:
        """The decompressed offset of the next read."""
        return self._pos

    def compressed_position(self) -> int:
        """How far into the compressed file decompression has got (for progress)."""
        try:
            return int(self._raw.tell())
        except (OSError, ValueError):
            return 0

    def close(self) -> None:
        """Close the gzip file."""
        self._gzip.close()
