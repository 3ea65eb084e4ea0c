"""Where the record readers (capture.reader) get a capture's bytes: a buffer over the file
that holds the next record whole, refilled as they go.

An uncompressed capture on disk is seen through windows of the file mapped into memory
(`WINDOW` bytes, each one replacing the last, so memory does not grow with the file): no copy
of the bytes is made, which reading it in pieces would cost twice (the read and the join
with what was left of the previous piece). Anything else (a decompressed stream, a file that
cannot be mapped) is read in `CHUNK` pieces. Either way the buffer is given as
(file offset of the buffer's first byte, buffer, position in it, buffer size).
"""

from __future__ import annotations

import mmap
import os
import stat
from collections.abc import Callable
from typing import Any

CHUNK = 1 << 20  # bytes per read of a capture that is not mapped
WINDOW = 8 << 20  # bytes per mapped window (more when one record needs more)

Buffer = bytes | mmap.mmap
ReadState = tuple[int, Buffer, int, int]  # file offset of buf[0], buf, position, size
# refill(base, buf, pos, wanted): a buffer holding at least `wanted` bytes from buf[pos] on
# (the file offset base + pos), or None when the file has no more (or not that many).
Refill = Callable[[int, Buffer, int, int], ReadState | None]


def refill_for(handle: Any, mapped: bool = True) -> Refill:
    """How to refill the buffer over `handle`'s bytes: mapped windows of its file when
    `mapped` and it is a regular file on disk (an uncompressed capture), reads otherwise
    (which go on from the handle's current position)."""
    if mapped:
        try:
            fileno = handle.fileno()
            info = os.fstat(fileno)
        except (OSError, AttributeError, ValueError):
            pass
        else:
            if stat.S_ISREG(info.st_mode) and info.st_size > 0:
                return _windows(fileno, info.st_size)
    return _reads(handle.read)


def _windows(fileno: int, file_size: int) -> Refill:
    """Refills by mapping the window of the file from (about) the wanted position on."""
    granularity = mmap.ALLOCATIONGRANULARITY

    def refill(base: int, buf: Buffer, pos: int, wanted: int) -> ReadState | None:
        start = base + pos
        if start + wanted > file_size:
            return None  # the file ends before the record does
        offset = start - start % granularity
        length = min(max(WINDOW, start - offset + wanted), file_size - offset)
        try:
            window = mmap.mmap(fileno, length, offset=offset, access=mmap.ACCESS_READ)
        except (OSError, ValueError, OverflowError):
            return None  # as when a read fails: the end of what can be read
        return offset, window, start - offset, length

    return refill


def _reads(read: Callable[[int], bytes]) -> Refill:
    """Refills by reading on: at least a whole chunk more after `pos`."""

    def refill(base: int, buf: Buffer, pos: int, wanted: int) -> ReadState | None:
        more = _read_more(read, max(CHUNK, wanted))
        if not more:
            return None
        kept = buf[pos:] + more
        return base + pos, kept, 0, len(kept)

    return refill


def _read_more(read: Callable[[int], bytes], size: int) -> bytes:
    """The next bytes of the file; b"" at its end or when it cannot be read (scapy too takes
    a read error for the end of the capture)."""
    try:
        return read(size)
    except (OSError, OverflowError):
        return b""
