"""The one adapter over scapy's capture readers: pcap and pcapng files as a stream of frames.

scapy opens and validates every file (format, byte order, timestamp precision, pcapng section
and interface blocks) and reads every unusual record; ordinary records of an uncompressed file
(a whole pcap record of at most 64 KiB, a pcapng Enhanced Packet Block without options) are
taken straight from 1 MiB reads of the same file with `struct`, because scapy's per-record
reads and metadata tuples cost more than everything else vcaudit does per packet. Both paths
give the same frames, timestamps and truncation reports. Nothing is dissected here, a capture
is streamed and memory does not grow with its size. Several interfaces with different link
types in one pcapng file are handled per packet. A file cut off mid-packet is read up to the
cut and the cut is reported in `ReadStatus`.
"""

from __future__ import annotations

import gzip
import logging
import os
import struct
import zlib
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scapy.error import Scapy_Exception
from scapy.utils import RawPcapNgReader, RawPcapReader

from auditor.capture.gzip_stream import RewindableStream
from auditor.capture.read_buffer import CHUNK, Buffer, ReadState, refill_for
from auditor.errors import InputError

# scapy logs every oddity of a damaged file as a warning; vcaudit counts them instead.
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
logging.getLogger("scapy").setLevel(logging.ERROR)

PROGRESS_EVERY = 1 << 16
# The largest frame kept whole: tcpdump's maximum snap length, which segmentation-offload
# frames on loopback or `-i any` reach (scapy's readers keep up to this when asked).
MAX_FRAME = 262144
# The longest pcapng block read from a compressed capture, whose size is unknown until read:
# a packet block holds at most MAX_FRAME bytes of packet, other blocks are small.
MAX_BLOCK = 1 << 24
MAX_TIME = 253402300799.0  # 9999-12-31T23:59:59Z, the last second a report can print
_RECORD_ERRORS = (Scapy_Exception, ValueError, OverflowError, OSError, KeyError)
# Progress through a file: (bytes read, file size, packets read); compressed files count
# their compressed bytes.
ProgressCallback = Callable[[int, int, int], None]
Frame = tuple[float, int, bytes, int]  # timestamp, link type, frame bytes, wire length
# Frames come in batches, the records cut from one read (or up to a progress report), so
# that the one who takes them pays for one generator step per batch, not per packet.
BatchStream = Generator[list[Frame], None, None]
# Whole classic-pcap records of at most MAX_FRAME bytes are handed on straight from the buffer
# they were read into, to a taker: take(buf, pos, size, limit) takes at most `limit` records
# from buf[pos:size], stopping before one that is not whole in it or is longer, and says
# where it stopped, how many it took and how many of those were captured shorter than they
# were on the wire, with the frames it did not account for itself (in their order).
RecordTaker = Callable[[Buffer, int, int, int], tuple[int, int, int, list[Frame]]]
# What makes a taker, given the records' byte order ("<" or ">", for their headers: seconds,
# sub-seconds, captured length, wire length), the file's link type and the sub-second unit.
TakerFactory = Callable[[str, int, float], RecordTaker]
_NO_LIMIT = 1 << 62


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
    bad_times: int = 0  # packets whose time is past year 9999: given the previous packet's


def read_frames(
    path: Path, status: ReadStatus, progress: ProgressCallback | None = None
) -> Iterator[Frame]:
    """Yield (timestamp, link type, frame bytes, wire length) for every packet in a capture.

    Raises InputError if the file is not a pcap or pcapng capture. Damage after the first
    packet never raises: reading stops and `status.truncated` says where and why.
    """
    for batch in read_frame_batches(path, status, progress):
        yield from batch


def read_frame_batches(
    path: Path, status: ReadStatus, progress: ProgressCallback | None = None,
    taker: TakerFactory | None = None, mapped: bool = True,
) -> Iterator[list[Frame]]:
    """The frames of `read_frames`, in the same order, as lists: the records taken from one
    read of the file, or single records read by scapy. A batch ends where progress is
    reported, which happens once the batch has been taken, as with `read_frames`.

    With `taker`, the ordinary records of a classic pcap file (uncompressed or not) go to the
    taker it makes instead, straight from the buffer, and only the frames it gives back and
    those scapy reads come as batches, all in the file's order. An uncompressed file is seen
    through mapped windows (read_buffer) unless `mapped` is False: then it is read in pieces,
    which a file cut short while it is read cannot upset."""
    status.file_size = os.path.getsize(path)
    reader = _open(path)
    is_ng = isinstance(reader, RawPcapNgReader)
    status.file_format = "pcapng" if is_ng else "pcap"
    if _gzip(reader):
        stream = RewindableStream(reader.f)
        reader.f = stream
        records = (_compressed_pcapng_records(reader, status, progress, stream) if is_ng
                   else _pcap_records(reader, status, progress, taker, stream))
    elif is_ng:
        records = _pcapng_records(path, reader, status, progress, mapped)
    else:
        records = _pcap_records(reader, status, progress, taker, mapped=mapped)
    try:
        yield from records
    finally:
        records.close()
        if status.truncated is None and status.bytes_read < status.file_size and not _gzip(reader):
            status.truncated = (
                f"file ends inside a record at byte {status.bytes_read} of {status.file_size}"
            )
        reader.close()


def _pcap_records(reader: Any, status: ReadStatus, progress: ProgressCallback | None,
                  taker: TakerFactory | None = None,
                  stream: RewindableStream | None = None, mapped: bool = True) -> BatchStream:
    """Records of a classic pcap file (`stream`: its gzip-compressed form, decompressed).

    Whole records of at most `MAX_FRAME` bytes are cut from 1 MiB reads (by `taker`'s taker,
    or made into frames here); anything else (a record longer than scapy keeps, the end of the
    file) is left to scapy's own reader, positioned at that record, so the result is the same
    as reading every record with scapy.
    """
    handle = reader.f
    refill = refill_for(handle, mapped and stream is None)
    unpack_from = struct.Struct(reader.endian + "IIII").unpack_from
    linktype = reader.linktype
    divisor = 1e9 if reader.nano else 1e6
    take = (taker or _frames_of_records)(reader.endian, linktype, divisor)
    mtu = MAX_FRAME
    report_every = PROGRESS_EVERY if progress is not None else 0
    next_report = report_every or -1
    base = handle.tell()  # file offset of buf[0]
    buf: Buffer = b""
    pos = size = 0
    count = cut = 0
    try:
        while True:
            if pos + 16 <= size:
                limit = next_report - count if report_every else _NO_LIMIT
                pos, taken, short, frames = take(buf, pos, size, limit)
                count += taken
                cut += short
                if frames:
                    yield frames
                if count == next_report:
                    next_report += report_every
                    assert progress is not None
                    progress(stream.compressed_position() if stream else base + pos,
                             status.file_size, count)
                if taken == limit:
                    continue
            if pos + 16 <= size:
                caplen = unpack_from(buf, pos)[2]
                wanted = 16 + caplen if caplen <= mtu else 0
            else:
                wanted = 16
            if wanted and (refilled := refill(base, buf, pos, wanted)) is not None:
                base, buf, pos, size = refilled
                continue
            # The end of the file, or a record longer than kept whole: scapy reads it.
            record_start = base + pos
            handle.seek(record_start)
            try:
                data, meta = reader._read_packet(size=MAX_FRAME)
                record_end = _position(handle)
            except EOFError:
                data_end = stream.tell() if stream is not None else status.file_size
                if record_start < data_end:
                    status.truncated = (f"file ends inside the record header at byte "
                                        f"{record_start} of {data_end}")
                break
            except _RECORD_ERRORS as exc:
                status.truncated = f"unreadable record after packet {count}: {exc}"
                break
            finally:
                base, buf, pos, size = _after_scapy(handle, base, buf, size)
            count += 1
            # scapy keeps the first bytes of a longer record and skips the rest: the record
            # is whole if the file held all of it, however much of it was kept.
            if record_end < record_start + 16 + meta.caplen:
                status.truncated = f"file ends inside packet {count}"
            if meta.caplen < meta.wirelen:
                cut += 1
            yield [(meta.sec + meta.usec / divisor, linktype, data, meta.wirelen)]
            if count == next_report:
                next_report += report_every
                assert progress is not None
                progress(stream.compressed_position() if stream else base + pos,
                         status.file_size, count)
    finally:
        status.packets = count
        status.snaplen_cut += cut
        status.bytes_read = base + pos
        if stream is not None:
            status.bytes_read = stream.compressed_position()
            if stream.failure is not None:
                status.truncated = (f"the compressed file is cut off or damaged after packet "
                                    f"{count} ({stream.failure})")


def _pcapng_records(path: Path, reader: Any, status: ReadStatus,
                    progress: ProgressCallback | None, mapped: bool = True) -> BatchStream:
    """Packets of an uncompressed pcapng file.

    Enhanced Packet Blocks of a known interface, whole and consistent, whose options cannot
    upset scapy, are cut from 1 MiB reads; every other block (section and interface
    descriptions, statistics, name resolution, simple or obsolete packet blocks, anything
    damaged, the end of the file) is left to scapy's reader, positioned at that block, which
    reads on to the next packet.
    """
    handle = reader.f
    refill = refill_for(handle, mapped)
    mtu = MAX_FRAME
    report_every = PROGRESS_EVERY if progress is not None else 0
    next_report = report_every or -1
    base = handle.tell()
    buf: Buffer = b""
    last_ts = 0.0  # Simple Packet Blocks carry no time: they get the previous packet's
    pos = size = 0
    count = 0
    batch: list[Frame] = []
    append = batch.append
    unpack_from, tail_from, option_from, linktypes, resolutions = _pcapng_section(reader)
    try:
        while True:
            if pos + 28 <= size:
                block_type, length, interface, high, low, caplen, wirelen = unpack_from(buf, pos)
                end = pos + length
                packet_end = pos + 28 + caplen + (-caplen & 3)  # padded packet data
                if (
                    block_type == 6
                    and caplen <= mtu
                    and packet_end + 4 <= end
                    and not length & 3
                    and interface < len(linktypes)
                ):
                    if end <= size:
                        if tail_from(buf, end - 4)[0] == length and (
                            packet_end + 4 == end
                            or _plain_options(buf, packet_end, end - 4, option_from)
                        ):
                            data = buf[pos + 28 : pos + 28 + caplen]
                            pos = end
                            count += 1
                            ts = ((high << 32) | low) / resolutions[interface]
                            if ts > MAX_TIME:  # a damaged time or time resolution
                                status.bad_times += 1
                            else:
                                last_ts = ts
                            append((last_ts, linktypes[interface], data, wirelen))
                            if count == next_report:
                                yield batch
                                batch = []
                                append = batch.append
                                next_report += report_every
                                assert progress is not None
                                progress(base + pos, status.file_size, count)
                            continue
                        wanted = 0  # inconsistent: let scapy judge it
                    else:
                        wanted = length if length <= CHUNK else 0
                else:
                    wanted = 0
            else:
                wanted = 28
            if batch:
                yield batch
                batch = []
                append = batch.append
            if wanted and (refilled := refill(base, buf, pos, wanted)) is not None:
                base, buf, pos, size = refilled
                continue
            record_start = base + pos  # where the next block starts, to spot a cut-off one
            handle.seek(record_start)
            try:
                data, meta = _read_pcapng_packet(reader, status.file_size)
            except EOFError:
                cut = _pcapng_cut(path, record_start, status.file_size, reader.endian)
                if cut is not None:
                    status.truncated = (f"file ends inside the block at byte {cut} "
                                        f"of {status.file_size}")
                break
            except _RECORD_ERRORS as exc:
                status.truncated = f"unreadable record after packet {count}: {exc}"
                break
            finally:
                base, buf, pos, size = _after_scapy(handle, base, buf, size)
                unpack_from, tail_from, option_from, linktypes, resolutions = (
                    _pcapng_section(reader))
            count += 1
            last_ts = _pcapng_time(meta, last_ts, status)
            yield [(last_ts, meta.linktype, data, meta.wirelen)]
            if count == next_report:
                next_report += report_every
                assert progress is not None
                progress(base + pos, status.file_size, count)
    finally:
        status.packets = count
        status.bytes_read = base + pos


def _frames_of_records(endian: str, linktype: int, divisor: float) -> RecordTaker:
    """The plain taker: each record taken becomes a frame, given back."""
    mtu = MAX_FRAME
    unpack_from = struct.Struct(endian + "IIII").unpack_from

    def take(buf: Buffer, pos: int, size: int, limit: int) -> tuple[int, int, int, list[Frame]]:
        frames: list[Frame] = []
        append = frames.append
        taken = short = 0
        while taken < limit and pos + 16 <= size:
            sec, usec, caplen, wirelen = unpack_from(buf, pos)
            start = pos + 16
            end = start + caplen
            if end > size or caplen > mtu:
                break
            append((sec + usec / divisor, linktype, buf[start:end], wirelen))
            pos = end
            taken += 1
            if caplen < wirelen:
                short += 1
        return pos, taken, short, frames

    return take


def _pcapng_section(reader: Any) -> tuple[Any, Any, Any, list[int], list[int]]:
    """Decoders for the current section's byte order (EPB header, block length, option
    header) and its interfaces' link types and timestamp units, as scapy's reader has them."""
    endian = reader.endian
    interfaces = reader.interfaces
    return (
        struct.Struct(endian + "7I").unpack_from,
        struct.Struct(endian + "I").unpack_from,
        struct.Struct(endian + "HH").unpack_from,
        [linktype for linktype, _snaplen, _options in interfaces],
        [options["tsresol"] or 1_000_000 for _linktype, _snaplen, options in interfaces],
    )


def _plain_options(buf: Buffer, pos: int, end: int, option_from: Any) -> bool:
    """Whether an EPB's options (buf[pos:end]) are ones scapy's reader accepts whatever
    their content: flags (code 2) of 4 or 0 bytes and process information indexes (0x8001,
    0x8003) of 4 bytes, which scapy decodes, and any other option, which it only keeps.
    Anything else is left to scapy to judge."""
    while end - pos >= 4:
        code, length = option_from(buf, pos)
        if code == 0:
            return True
        if (code == 2 and length not in (0, 4)) or (code in (0x8001, 0x8003) and length != 4):
            return False
        pos += 4 + length + (-length & 3)
    return True


def _after_scapy(handle: Any, base: int, buf: Buffer, size: int) -> ReadState:
    """The read state once scapy's reader has read on from a record: the buffered bytes stay
    in use when scapy stopped inside them (the file is then read on from the buffer's end)."""
    position = _position(handle)
    if base <= position <= base + size:
        handle.seek(base + size)
        return base, buf, position - base, size
    return position, b"", 0, 0


def _compressed_pcapng_records(reader: Any, status: ReadStatus,
                               progress: ProgressCallback | None,
                               stream: RewindableStream) -> BatchStream:
    """Packets of a gzip-compressed pcapng file, every block read by scapy's reader from the
    decompressed `stream`."""
    count = 0
    ts = 0.0
    block_start = [0]
    try:
        while True:
            try:
                data, meta = _read_pcapng_packet(reader, None, block_start)
            except EOFError:
                status.truncated = _compressed_end(stream, block_start[0], count)
                break
            except _RECORD_ERRORS as exc:
                status.truncated = f"unreadable block after packet {count}: {exc}"
                break
            count += 1
            ts = _pcapng_time(meta, ts, status)
            yield [(ts, meta.linktype, data, meta.wirelen)]
            if progress is not None and count % PROGRESS_EVERY == 0:
                progress(stream.compressed_position(), status.file_size, count)
    finally:
        status.packets = count
        status.bytes_read = stream.compressed_position()
        if stream.failure is not None:
            status.truncated = (f"the compressed file is cut off or damaged after packet "
                                f"{count} ({stream.failure})")


def _read_pcapng_packet(reader: Any, file_size: int | None,
                        block_start: list[int] | None = None) -> tuple[bytes, Any]:
    """RawPcapNgReader._read_packet (blocks up to the next packet), each block's claimed
    length checked before scapy reads that much at once: against the rest of the file, or
    MAX_BLOCK in a compressed file (`file_size` None) whose size is unknown until read.
    `block_start[0]` is left where the last block read began."""
    handle = reader.f
    while True:
        start = handle.tell()
        if block_start is not None:
            block_start[0] = start
        head = handle.read(12)
        handle.seek(start)
        _check_block_length(head, reader.endian,
                            MAX_BLOCK if file_size is None else file_size - start)
        try:
            packet = reader._read_block(size=MAX_FRAME)
        except (OSError, OverflowError, zlib.error) as exc:
            raise EOFError(str(exc)) from exc
        if packet is not None:
            return packet  # type: ignore[no-any-return]


def _check_block_length(head: bytes, endian: str, limit: int) -> None:
    """Raise EOFError when the pcapng block starting with `head` claims more than `limit`
    bytes: scapy would read its claimed body at once, gigabytes for a damaged length."""
    if len(head) < 8:
        return  # the end of the file: scapy's reader tells
    if head[:4] == b"\x0a\x0d\x0d\x0a" and len(head) >= 12:  # a section sets its byte order
        endian = "<" if head[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    (length,) = struct.unpack(endian + "I", head[4:8])
    if length > limit:
        raise EOFError(f"a block claims {length:,} bytes")


def _compressed_end(stream: RewindableStream, block_start: int, count: int) -> str | None:
    """Why reading a gzip-compressed pcapng file stopped where scapy found no whole block, or
    None at its clean end (a damaged stream says so itself: `stream.failure`)."""
    if stream.read(1):
        return f"unreadable block after packet {count}"
    if stream.tell() > block_start:
        return f"file ends inside the block after packet {count}"
    return None


def _pcapng_time(meta: Any, previous: float, status: ReadStatus) -> float:
    """A pcapng packet's time; a Simple Packet Block has none, so it keeps the previous one,
    and so does a packet whose time is out of range (counted in `status.bad_times`)."""
    if meta.tshigh is None or meta.tslow is None:
        return previous
    ts = float(((meta.tshigh << 32) | meta.tslow) / (meta.tsresol or 1_000_000))
    if not 0 <= ts <= MAX_TIME:
        status.bad_times += 1
        return previous
    return ts


def _open(path: Path) -> Any:
    _check_section_header(path)
    try:
        return RawPcapReader(str(path))
    except Scapy_Exception as exc:
        raise InputError(f"{path}: not a pcap or pcapng capture ({exc})") from exc
    except (OSError, EOFError) as exc:
        raise InputError(f"{path}: cannot be read as a capture ({exc})") from exc


def _check_section_header(path: Path) -> None:
    """Refuse a pcapng file whose first block claims more than the file holds (scapy reads a
    section header's claimed length at once when it opens the file)."""
    try:
        with open(path, "rb") as raw:
            compressed = raw.read(2) == b"\x1f\x8b"
            raw.seek(0)
            handle: Any = gzip.GzipFile(fileobj=raw) if compressed else raw
            head = handle.read(12)
    except (OSError, EOFError, zlib.error):
        return  # scapy's reader says what is wrong
    if len(head) < 12 or head[:4] != b"\x0a\x0d\x0d\x0a":
        return
    endian = "<" if head[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    (length,) = struct.unpack(endian + "I", head[4:8])
    if length > (MAX_BLOCK if compressed else os.path.getsize(path)):
        raise InputError(f"{path}: not a readable pcapng capture (its section header claims "
                         f"{length:,} bytes)")


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
