"""Reading the country and AS database that the `geoip2fast` package installs, into compact
tables, without importing geoip2fast itself.

geoip2fast (MIT) ships `geoip2fast-asn-ipv6.dat.gz`: MaxMind GeoLite2 Country and ASN networks
for IPv4 and IPv6 as one gzip'd pickle of sorted lists. Unpickling it whole builds about 1.4
million Python ints (over 100 MB for a moment); this module streams the pickle instead, frame
by frame, and packs every list of numbers into an `array` as it arrives (about 15 MB in all).
Only the opcodes that file uses are understood; anything else is refused with
`UnsupportedDataError`, never executed. Importing geoip2fast is avoided on purpose: it sets
process-wide environment variables and keeps its tables in module globals.
"""

from __future__ import annotations

import bisect
import gzip
import ipaddress
import pickle
import re
import struct
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

DATA_FILE = "geoip2fast-asn-ipv6.dat.gz"
MAX_IPV4 = 2**32 - 1
PRIVATE_COUNTRY_IDS = 16  # geoip2fast's first 16 "countries" are reserved/private networks

# One int opcode: BININT1, BININT2, BININT, or LONG1 with 1 to 17 bytes (a 128-bit value and
# its sign byte). A batch is MARK, ints, APPENDS: matched whole and handed to the C unpickler.
_INT = b"|".join([rb"K.", rb"M..", rb"J...."]
                 + [re.escape(b"\x8a" + bytes([n])) + b"." * n for n in range(1, 18)])
_INT_BATCH = re.compile(rb"(?:" + _INT + rb")+e", re.DOTALL)
_INT_RUN = re.compile(rb"(?:" + _INT + rb")*", re.DOTALL)
_LONGEST_INT = 19


class UnsupportedDataError(ValueError):
    """The data file is not in the format this reader knows (another geoip2fast version)."""


class _NeedMoreError(Exception):
    """The buffer ends inside an opcode: read the next frame and try that opcode again."""


class _Mark:
    """The pickle MARK on the stack."""


_MARK = _Mark()


class WideColumn:
    """Numbers up to 128 bits (IPv6 network starts) as two arrays of 64-bit halves."""

    def __init__(self) -> None:
        self.high = array("Q")
        self.low = array("Q")

    def extend(self, values: list[int]) -> None:
        """Append numbers."""
        self.high.extend([value >> 64 for value in values])
        self.low.extend([value & 0xFFFFFFFFFFFFFFFF for value in values])

    def __len__(self) -> int:
        return len(self.low)

    def __getitem__(self, index: int) -> int:
        return self.high[index] << 64 | self.low[index]


Column = array | WideColumn  # type: ignore[type-arg]


class _IntList:
    """A pickled list of numbers, packed as it arrives: 32-bit until a value needs more."""

    def __init__(self) -> None:
        self.column: Column = array("I")

    def extend(self, values: list[int]) -> None:
        if isinstance(self.column, array):
            held = len(self.column)
            try:
                self.column.extend(values)
                return
            except OverflowError:  # an IPv6 value: what was appended goes again
                del self.column[held:]
                wide = WideColumn()
                wide.extend(self.column.tolist())
                self.column = wide
        self.column.extend(values)


class _Texts:
    """A pickled list of short strings (AS and country names), kept as one blob: a million
    small objects made while parsing would leave the heap fragmented."""

    def __init__(self) -> None:
        self.blob = bytearray()
        self.ends = array("I")

    def __len__(self) -> int:
        return len(self.ends)

    def __getitem__(self, index: int) -> str:
        start = self.ends[index - 1] if index else 0
        return self.blob[start:self.ends[index]].decode("utf-8", "replace")


class _Chunks:
    """A pickled list of number lists (one sorted table column cut in chunks), joined as the
    chunks arrive: 32-bit values first, then the wider (IPv6) ones."""

    def __init__(self) -> None:
        self.narrow: array = array("I")  # type: ignore[type-arg]
        self.wide = WideColumn()

    def add(self, column: Column) -> None:
        if isinstance(column, array):
            if len(self.wide) and len(column):
                raise UnsupportedDataError("network starts out of order")
            self.narrow.extend(column)
            return
        first_wide = bisect.bisect_right(column, MAX_IPV4)
        if first_wide and len(self.wide):
            raise UnsupportedDataError("network starts out of order")
        self.narrow.extend(array("I", column.low[:first_wide]))
        self.wide.high.extend(column.high[first_wide:])
        self.wide.low.extend(column.low[first_wide:])


def _frames(stream: IO[bytes]) -> Iterator[bytes]:
    """The payloads of a protocol 4/5 pickle's frames."""
    if stream.read(2) not in (b"\x80\x04", b"\x80\x05"):
        raise UnsupportedDataError("not a protocol 4 or 5 pickle")
    while True:
        opcode = stream.read(1)
        if not opcode:
            return
        if opcode != b"\x95":
            raise UnsupportedDataError("unframed pickle data")
        (size,) = struct.unpack("<Q", stream.read(8))
        payload = stream.read(size)
        if len(payload) != size:
            raise UnsupportedDataError("data file is cut short")
        yield payload


class _Reader:
    """A stack machine for the few opcodes the data file uses."""

    def __init__(self) -> None:
        self.stack: list[Any] = []
        self.result: Any = None
        self.done = False

    def feed(self, data: bytes) -> int:
        """Apply every complete opcode in `data`; return how many bytes were used."""
        pos = 0
        try:
            while pos < len(data) and not self.done:
                pos = self._step(data, pos)
        except _NeedMoreError:
            pass
        except (IndexError, ValueError, OverflowError, struct.error, pickle.UnpicklingError,
                UnicodeDecodeError) as exc:
            if isinstance(exc, UnsupportedDataError):
                raise
            raise UnsupportedDataError(f"malformed data near byte {pos}") from exc
        return pos

    def _need(self, data: bytes, end: int) -> None:
        if end > len(data):
            raise _NeedMoreError

    def _step(self, data: bytes, pos: int) -> int:
        op = data[pos]
        stack = self.stack
        if op == 0x28:  # MARK, perhaps opening a batch of numbers
            target = stack[-1] if stack else None
            if isinstance(target, (list, _IntList)) and not (isinstance(target, list)
                                                             and target):
                batch = _INT_BATCH.match(data, pos + 1)
                if batch is None:
                    run = _INT_RUN.match(data, pos + 1)
                    if run is not None and run.end() > pos + 1 \
                            and run.end() + _LONGEST_INT >= len(data):
                        raise _NeedMoreError
                else:
                    if isinstance(target, list):
                        target = stack[-1] = _IntList()
                    target.extend(pickle.loads(b"](" + data[pos + 1:batch.end()] + b"."))
                    return batch.end()
            if isinstance(target, (list, _Texts)) and not (isinstance(target, list) and target) \
                    and pos + 1 < len(data) and data[pos + 1] == 0x8C:
                return self._texts(data, pos + 1)
            stack.append(_MARK)
            return pos + 1
        if op in (0x4B, 0x4D, 0x4A, 0x8A):  # BININT1, BININT2, BININT, LONG1
            size = {0x4B: 1, 0x4D: 2, 0x4A: 4}.get(op)
            if size is None:
                self._need(data, pos + 2)
                size = data[pos + 1]
                start = pos + 2
            else:
                start = pos + 1
            self._need(data, start + size)
            stack.append(int.from_bytes(data[start:start + size], "little", signed=op != 0x4D
                                        and op != 0x4B))
            return start + size
        if op in (0x8C, 0x58):  # SHORT_BINUNICODE, BINUNICODE
            width = 1 if op == 0x8C else 4
            self._need(data, pos + 1 + width)
            size = int.from_bytes(data[pos + 1:pos + 1 + width], "little")
            start = pos + 1 + width
            self._need(data, start + size)
            stack.append(data[start:start + size].decode("utf-8"))
            return start + size
        simple = {0x5D: list, 0x7D: dict}.get(op)  # EMPTY_LIST, EMPTY_DICT
        if simple is not None:
            stack.append(simple())
            return pos + 1
        if op == 0x94:  # MEMOIZE: nothing refers back (no GET opcodes are accepted)
            return pos + 1
        if op in (0x88, 0x89, 0x4E):  # NEWTRUE, NEWFALSE, NONE
            stack.append({0x88: True, 0x89: False, 0x4E: None}[op])
            return pos + 1
        if op in (0x65, 0x61, 0x75, 0x73):  # APPENDS, APPEND, SETITEMS, SETITEM
            self._collect(op)
            return pos + 1
        if op == 0x2E:  # STOP
            self.result = stack.pop()
            self.done = True
            return pos + 1
        raise UnsupportedDataError(f"unexpected pickle opcode {op:#04x}")

    def _texts(self, data: bytes, pos: int) -> int:
        """A batch of SHORT_BINUNICODE strings (each perhaps memoized) up to APPENDS, read
        whole or not at all."""
        found: list[bytes] = []
        while True:
            self._need(data, pos + 1)
            if data[pos] == 0x65:  # APPENDS
                break
            if data[pos] != 0x8C:
                raise UnsupportedDataError("a list mixing strings and other things")
            self._need(data, pos + 2)
            end = pos + 2 + data[pos + 1]
            self._need(data, end + 1)
            found.append(data[pos + 2:end])
            pos = end + 1 if data[end] == 0x94 else end
        target = self.stack[-1]
        if isinstance(target, list):
            target = self.stack[-1] = _Texts()
        for text in found:
            target.blob += text
            target.ends.append(len(target.blob))
        return pos + 1

    def _collect(self, op: int) -> None:
        stack = self.stack
        if op in (0x65, 0x75):
            mark = len(stack) - 1 - stack[::-1].index(_MARK)
            items = stack[mark + 1:]
            del stack[mark:]
        else:
            items = stack[-2:] if op == 0x73 else stack[-1:]
            del stack[-len(items):]
        target = stack[-1]
        if op in (0x65, 0x61):
            chunks = items and all(isinstance(item, _IntList) for item in items)
            if chunks and (isinstance(target, _Chunks) or target == []):
                if isinstance(target, list):  # a list of number lists: one table column
                    target = stack[-1] = _Chunks()
                for item in items:
                    target.add(item.column)
            elif isinstance(target, (_IntList, list)):
                target.extend(items)
            else:
                raise UnsupportedDataError("APPENDS to something that is not a list")
        else:
            target.update(zip(items[::2], items[1::2], strict=True))


def _unpack(value: Any) -> Any:
    """Nested lists with their number lists as columns."""
    if isinstance(value, _IntList):
        return value.column
    if isinstance(value, (_Chunks, _Texts)):
        return value
    if isinstance(value, list):
        return [_unpack(v) for v in value]
    return value


def _compact(chunks: Any) -> array:  # type: ignore[type-arg]
    """A joined column of small numbers (ids, prefix lengths) in the smallest fitting type."""
    if not isinstance(chunks, _Chunks) or len(chunks.wide):
        raise UnsupportedDataError("an id or prefix length column is not a list of numbers")
    largest = max(chunks.narrow, default=0)
    code = next(t for t, top in (("B", 0xFF), ("H", 0xFFFF), ("I", MAX_IPV4)) if largest <= top)
    return chunks.narrow if code == "I" else array(code, chunks.narrow)


class _Table:
    """Sorted network starts (IPv4 and IPv6 apart), their prefix lengths and value ids."""

    def __init__(self, starts: Any, lengths: Any, ids: Any, names: Any) -> None:
        if not isinstance(starts, _Chunks) or not isinstance(names, _Texts):
            raise UnsupportedDataError("unexpected table layout")
        self.v4, self.v6 = starts.narrow, starts.wide
        self.lengths = _compact(lengths)
        self.ids = _compact(ids)
        self.names = names
        if not len(self.v4) + len(self.v6) == len(self.lengths) == len(self.ids):
            raise UnsupportedDataError("table columns differ in length")

    def find(self, value: int) -> tuple[int, int, int] | None:
        """The index, first value and prefix length of the network holding `value`."""
        if value <= MAX_IPV4:
            index, width = bisect.bisect_right(self.v4, value) - 1, 32
            first = self.v4[index] if index >= 0 else 0
        else:
            found = bisect.bisect_right(self.v6, value) - 1
            if found < 0:  # below the first IPv6 network: the last IPv4 one cannot hold it
                return None
            first, index, width = self.v6[found], found + len(self.v4), 128
        if index < 0:
            return None
        length = self.lengths[index]
        if length > width or value > first + (1 << (width - length)) - 1:
            return None
        return index, first, length


@dataclass(frozen=True, slots=True)
class Answer:
    """What the data says about one address."""

    country: str | None  # ISO 3166 alpha-2
    country_network: str | None
    as_org: str | None
    as_network: str | None


class Geoip2fastTables:
    """The country and AS tables of geoip2fast's data file, looked up by address value."""

    def __init__(self, source: str, countries: _Table, systems: _Table) -> None:
        self.source = source  # e.g. MAXMIND:GeoLite2-CountryASN-IPv4IPv6-en-20240618
        self._countries = countries
        self._systems = systems

    def answer(self, value: int) -> Answer:
        """The country and AS organisation for an address given as an integer (IPv4 in
        0..2**32-1, IPv6 as its full 128-bit value)."""
        country = network = as_org = as_network = None
        found = self._countries.find(value)
        if found is not None:
            index, first, length = found
            code_id = self._countries.ids[index]
            label = self._countries.names[code_id] if code_id < len(
                self._countries.names) else ""
            network = _network(first, length, value)
            if code_id >= PRIVATE_COUNTRY_IDS:
                code = label.split(":", 1)[0]
                country = code if len(code) == 2 and code.isalpha() and code.isupper() else None
        found = self._systems.find(value)
        if found is not None:
            index, first, length = found
            name_id = self._systems.ids[index]
            if 0 < name_id < len(self._systems.names):
                as_org = self._systems.names[name_id] or None
                as_network = _network(first, length, value)
        return Answer(country, network, as_org, as_network)


def _network(start: int, length: int, value: int) -> str:
    if value <= MAX_IPV4:
        return f"{'.'.join(str(start >> s & 0xFF) for s in (24, 16, 8, 0))}/{length}"
    return f"{ipaddress.IPv6Address(start)}/{length}"


def read_tables(path: Path) -> Geoip2fastTables:
    """Stream a geoip2fast country+ASN data file into tables. Raises UnsupportedDataError
    (or OSError) when the file is not one."""
    reader = _Reader()
    pending = b""
    with gzip.open(path, "rb") as opened:
        stream = cast(IO[bytes], opened)
        try:
            for payload in _frames(stream):
                pending = pending + payload if pending else payload
                used = reader.feed(pending)
                pending = pending[used:]
                if reader.done:
                    break
        except (EOFError, gzip.BadGzipFile) as exc:
            raise UnsupportedDataError(f"damaged data file: {exc}") from exc
    if not reader.done:
        raise UnsupportedDataError("data file ends before its last record")
    return _tables(_unpack(reader.result))


def _tables(top: Any) -> Geoip2fastTables:
    try:
        version, info, _total, parts = top
        (index, index_asn, countries, systems, starts, starts_asn, ids, ids_asn, lengths,
         lengths_asn) = parts
    except (TypeError, ValueError) as exc:
        raise UnsupportedDataError("unexpected layout") from exc
    if version not in (120, 121) or not isinstance(info, dict) \
            or not (info.get("country") and info.get("asn")) or info.get("city"):
        raise UnsupportedDataError(f"not a country+ASN data file: {info!r}")
    del index, index_asn  # the per-chunk first values: the joined columns make them redundant
    return Geoip2fastTables(str(info.get("info", "")), _Table(starts, lengths, ids, countries),
                            _Table(starts_asn, lengths_asn, ids_asn, systems))
