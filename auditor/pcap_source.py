"""The one adapter over scapy's capture readers: pcap and pcapng files as a stream of frames.

Uses scapy's raw record readers (no per-packet dissection), so a capture is streamed and
memory does not grow with its size. Several interfaces with different link types in one
pcapng file are handled per packet. A file cut off mid-packet is read up to the cut and the
cut is reported in `ReadStatus`.
"""

from __future__ import annotations

import logging
import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scapy.error import Scapy_Exception
from scapy.utils import RawPcapNgReader, RawPcapReader

from auditor.capture_format import InputError

# scapy logs every oddity of a damaged file as a warning; vcaudit counts them instead.
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
logging.getLogger("scapy").setLevel(logging.ERROR)

PROGRESS_EVERY = 1 << 16
ProgressCallback = Callable[[int, int], None]


@dataclass(slots=True)
class ReadStatus:
    """What happened while reading one file."""

    path: str
    file_format: str | None = None
    packets: int = 0
    bytes_read: int = 0
    file_size: int = 0
    truncated: str | None = None  # why reading stopped early, if it did
    snaplen_cut: int = 0  # packets captured shorter than they were on the wire


def read_frames(
    path: Path, status: ReadStatus, progress: ProgressCallback | None = None
) -> Iterator[tuple[float, int, bytes, int]]:
    """Yield (timestamp, link type, frame bytes, wire length) for every packet in a capture.

    Raises InputError if the file is not a pcap or pcapng capture. Damage after the first
    packet never raises: reading stops and `status.truncated` says where and why.
    """
    status.file_size = os.path.getsize(path)
    reader = _open(path)
    raw = _raw_file(reader)
    is_ng = isinstance(reader, RawPcapNgReader)
    status.file_format = "pcapng" if is_ng else "pcap"
    divisor = 1e9 if getattr(reader, "nano", False) else 1e6
    linktype = getattr(reader, "linktype", None)
    count = 0
    record_start = _position(raw)
    try:
        while True:
            try:
                data, meta = reader._read_packet()
            except EOFError:
                if is_ng and not _gzip(reader):
                    cut = _pcapng_cut(path, record_start, status.file_size, reader.endian)
                    if cut is not None:
                        status.truncated = (f"file ends inside the block at byte {cut} "
                                            f"of {status.file_size}")
                break
            except (Scapy_Exception, ValueError, OverflowError, OSError, KeyError) as exc:
                status.truncated = f"unreadable record after packet {count}: {exc}"
                break
            count += 1
            if is_ng:
                record_start = raw.tell()  # where the next block starts, to spot a cut-off one
                ts = ((meta.tshigh << 32) | meta.tslow) / (meta.tsresol or 1_000_000)
                yield ts, meta.linktype, data, meta.wirelen
            else:
                if len(data) < meta.caplen and meta.caplen <= 65535 * 4:
                    status.truncated = f"file ends inside packet {count}"
                if meta.caplen < meta.wirelen:
                    status.snaplen_cut += 1
                yield meta.sec + meta.usec / divisor, linktype, data, meta.wirelen
            if progress is not None and count % PROGRESS_EVERY == 0:
                progress(_position(raw), status.file_size)
    finally:
        status.packets = count
        status.bytes_read = _position(raw)
        if status.truncated is None and status.bytes_read < status.file_size and not _gzip(reader):
            status.truncated = (
                f"file ends inside a record at byte {status.bytes_read} of {status.file_size}"
            )
        reader.close()


def _open(path: Path) -> Any:
    try:
        return RawPcapReader(str(path))
    except Scapy_Exception as exc:
        raise InputError(f"{path}: not a pcap or pcapng capture ({exc})") from exc
    except (OSError, EOFError) as exc:
        raise InputError(f"{path}: cannot be read as a capture ({exc})") from exc


def _pcapng_cut(path: Path, offset: int, size: int, endian: str) -> int | None:
    """Where the blocks after `offset` stop being whole, or None if they end exactly at EOF.

    scapy reports a clean end and a cut-off block alike (EOFError), so the tail is re-walked.
    """
    with open(path, "rb") as handle:
        while offset < size:
            handle.seek(offset)
            header = handle.read(8)
            if len(header) < 8:
                return offset
            length = struct.unpack(endian + "I", header[4:])[0]
            if length < 12 or offset + length > size:
                return offset
            offset += length
    return None


def _raw_file(reader: Any) -> Any:
    handle = reader.f
    return getattr(handle, "fileobj", None) or handle


def _gzip(reader: Any) -> bool:
    return hasattr(reader.f, "fileobj")


def _position(raw: Any) -> int:
    try:
        return int(raw.tell())
    except (OSError, ValueError):
        return 0
