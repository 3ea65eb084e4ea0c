"""Finished flows kept on disk until they are needed: a capture's memory does not grow with the
number of flows in it.

`RecordSpill` holds records (tuples of plain values, written with `marshal`) under dense
integer keys, in whatever order they come, in an anonymous temporary file that disappears when
it is closed or collected. `FlowStore` is a read-only sequence of `Flow` records kept that way:
what `read_capture` returns as a capture's flows. Only two integers per record stay in memory
(where it starts and how long it is); reading goes through ordinary reads, not a memory map,
so the pages read are not counted in the process's memory.
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import marshal
import os
import tempfile
from array import array
from collections.abc import Iterator, Sequence
from operator import attrgetter
from typing import IO, Any, overload

from auditor.errors import OutputError
from auditor.records import (
    FLOW_FIELDS,
    Flow,
    HostSource,
    Media,
    Orientation,
    Transport,
    Visibility,
)

READ_ALL_BELOW = 32 << 20  # a spill smaller than this is read back in one piece
READ_WINDOW = 4 << 20  # larger ones a window at a time
WRITE_BUFFER = 1 << 20

Record = tuple[Any, ...]
SpillIndex = tuple["array[int]", "array[int]", int, int]
StoreIndex = tuple[SpillIndex, "array[float]", "array[int]"]


class SpillError(OutputError):
    """The temporary file flows are kept in cannot be made or written (a full disk, no usable
    temporary folder)."""


def _spill_error(exc: OSError) -> SpillError:
    where = os.environ.get("TMPDIR") or "the temporary folder"
    return SpillError(f"cannot keep flows on disk in {where}: {exc.strerror or exc} (set "
                      "TMPDIR to a folder with free space)")


class RecordSpill:
    """Records under dense integer keys (0, 1, 2, ...), in an unnamed temporary file. Failing
    to make or write it raises SpillError."""

    def __init__(self) -> None:
        try:
            self._file: IO[bytes] = tempfile.TemporaryFile(  # noqa: SIM115
                buffering=WRITE_BUFFER)
        except OSError as exc:  # FileNotFoundError: no usable temporary folder at all
            raise _spill_error(exc) from exc
        self._starts = array("q")  # -1: no record under this key
        self._sizes = array("l")
        self._size = 0
        self._count = 0

    def __len__(self) -> int:
        """How many records were put."""
        return self._count

    @property
    def keys_seen(self) -> int:
        """One more than the largest key put (keys without a record included)."""
        return len(self._starts)

    def put(self, key: int, record: Record) -> None:
        """Keep `record` under `key` (each key once)."""
        data = marshal.dumps(record)
        starts = self._starts
        if key >= len(starts):
            missing = key + 1 - len(starts)
            starts.extend([-1] * missing)
            self._sizes.extend([0] * missing)
        starts[key] = self._size
        self._sizes[key] = len(data)
        try:
            self._file.write(data)
        except OSError as exc:
            raise _spill_error(exc) from exc
        self._size += len(data)
        self._count += 1

    def get(self, key: int) -> Record | None:
        """The record under `key`, or None."""
        if key >= len(self._starts) or self._starts[key] < 0:
            return None
        self.flush()
        data = os.pread(self._file.fileno(), self._sizes[key], self._starts[key])
        return marshal.loads(data)  # type: ignore[no-any-return]

    def in_key_order(self, start: int = 0) -> Iterator[tuple[int, Record]]:
        """(key, record) for every record from key `start` on, in key order."""
        self.flush()
        starts, sizes = self._starts, self._sizes
        fileno, loads = self._file.fileno(), marshal.loads
        first = 0  # data holds the file from offset `first` on
        data = os.pread(fileno, self._size, 0) if 0 < self._size <= READ_ALL_BELOW else b""
        for key in range(start, len(starts)):
            begin = starts[key]
            if begin < 0:
                continue
            end = begin + sizes[key]
            if begin < first or end > first + len(data):
                first = begin
                data = os.pread(fileno, max(READ_WINDOW, end - begin), begin)
            yield key, loads(data[begin - first:end - first])

    def flush(self) -> None:
        """Write what is buffered to the file."""
        try:
            self._file.flush()
        except OSError as exc:
            raise _spill_error(exc) from exc

    def index(self) -> SpillIndex:
        """Where each record is in the file: what another process that wrote the same file
        hands over (`adopt`)."""
        return self._starts, self._sizes, self._size, self._count

    def adopt(self, index: SpillIndex) -> None:
        """Take over the records another process wrote into this spill's file."""
        self._starts, self._sizes, self._size, self._count = index

    def close(self) -> None:
        """Delete the file now rather than when the spill is collected (what is still
        buffered is dropped: writing it may be what failed)."""
        with contextlib.suppress(OSError):
            self._file.close()


_ENUMS: dict[str, dict[str, Any]] = {
    "transport": {m.value: m for m in Transport},
    "orientation": {m.value: m for m in Orientation},
    "host_source": {m.value: m for m in HostSource},
    "visibility": {m.value: m for m in Visibility},
}
_ENUM_POSITIONS = tuple((FLOW_FIELDS.index(name), table) for name, table in _ENUMS.items())
_MEDIA = FLOW_FIELDS.index("media")
_TS_START = FLOW_FIELDS.index("ts_start")
_MEDIA_FIELDS = tuple(f.name for f in dataclasses.fields(Media))
_flow_values = attrgetter(*FLOW_FIELDS)
_media_values = attrgetter(*_MEDIA_FIELDS)


def flow_record(flow: Flow) -> Record:
    """A Flow as plain values (enums as their strings, the media block as a tuple)."""
    values = list(_flow_values(flow))
    for position, _table in _ENUM_POSITIONS:
        value = values[position]
        if value is not None:
            values[position] = value.value
    media = values[_MEDIA]
    if media is not None:
        values[_MEDIA] = _media_values(media)
    return tuple(values)


def record_flow(record: Record) -> Flow:
    """The Flow that `flow_record` gave `record` for."""
    values = list(record)
    for position, table in _ENUM_POSITIONS:
        value = values[position]
        if value is not None:
            values[position] = table[value]
    media = values[_MEDIA]
    if media is not None:
        values[_MEDIA] = Media(*media)
    return Flow(*values)


class FlowStore(Sequence[Flow]):
    """A capture's flows in the order they are added, kept on disk; each is read back (and
    a new Flow object made) when it is asked for."""

    def __init__(self) -> None:
        self._spill = RecordSpill()
        self.starts = array("d")  # each flow's ts_start, for sorting without reading them
        self.numbers = array("q")  # each flow's number (increasing), to find it by number

    def append(self, flow: Flow, number: int) -> None:
        """Add the next flow, numbered `number` (larger than the previous one's)."""
        self.append_record(flow_record(flow), number)

    def append_record(self, record: Record, number: int) -> None:
        """Add the next flow as `flow_record` gives it, numbered `number`."""
        self._spill.put(len(self.starts), record)
        self.starts.append(record[_TS_START])
        self.numbers.append(number)

    def position(self, number: int) -> int | None:
        """Where the flow numbered `number` is, or None."""
        position = bisect.bisect_left(self.numbers, number)
        if position < len(self.numbers) and self.numbers[position] == number:
            return position
        return None

    def flow_id(self, position: int) -> str:
        """The id of the flow at `position`, without making the whole Flow."""
        record = self._spill.get(position)
        assert record is not None
        return str(record[0])

    def __len__(self) -> int:
        return len(self.starts)

    @overload
    def __getitem__(self, position: int) -> Flow: ...

    @overload
    def __getitem__(self, position: slice) -> list[Flow]: ...

    def __getitem__(self, position: int | slice) -> Flow | list[Flow]:
        if isinstance(position, slice):
            return [self[i] for i in range(*position.indices(len(self)))]
        if position < 0:
            position += len(self)
        if not 0 <= position < len(self):
            raise IndexError("flow position out of range")
        record = self._spill.get(position)
        assert record is not None
        return record_flow(record)

    def __iter__(self) -> Iterator[Flow]:
        for _position, record in self._spill.in_key_order():
            yield record_flow(record)

    def __eq__(self, other: object) -> bool:
        """Equal to any sequence of the same flows (a list included)."""
        if not isinstance(other, Sequence) or isinstance(other, (str, bytes)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def flush(self) -> None:
        """Write what is buffered to the file."""
        self._spill.flush()

    def handover(self) -> StoreIndex:
        """What another process needs to read the flows this one wrote (`adopt`)."""
        return self._spill.index(), self.starts, self.numbers

    def adopt(self, index: StoreIndex) -> None:
        """Take over the flows another process wrote into this store's file."""
        spill, self.starts, self.numbers = index
        self._spill.adopt(spill)

    def close(self) -> None:
        """Delete the file behind the store."""
        self._spill.close()
