"""A bounded reader of mitmproxy flow files (`mitmdump -w`): typed netstrings, checked before
anything is allocated.

A flow file is a sequence of tnetstrings (`<length>:<data><type>`), one dict per flow. Its
lengths and nesting are written by whoever made the file, so mitmproxy's own reader can be made
to allocate a claimed length (`99999999999:...` is a MemoryError) or to recurse until Python
gives up. This reader never trusts them:

- every length is checked against what is left of its container (the file, for a flow) before
  anything is read, so nothing larger than the file is ever allocated;
- nesting deeper than MAX_DEPTH is refused (real flow states nest about 5 levels);
- a string longer than KEPT_BYTES is cut: its first KEPT_BYTES are kept, the rest is skipped on
  disk, and its full length is remembered, so byte counts stay exact while one 512 MB body
  costs 4 MB;
- the messages of a TCP, UDP or WebSocket flow are counted as they are read (StreamCounts) and
  not kept, so a long stream costs nothing per message (a TCP or UDP flow's first ones are
  kept, cut, to be read for media protocols: MessageHead, at most about 1.3 MB a flow);
- a flow larger than IN_MEMORY is read piece by piece from disk, never whole.

A flow whose inside is malformed is skipped (its length says where the next one starts) and
reported; a file whose framing is broken between flows raises FlowFileError.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from auditor.media.stream import MessageHead
from auditor.mitm.stream_counts import StreamCounts
from auditor.personal_data.limits import DEFAULT_LIMITS

MAX_DEPTH = 64
KEPT_BYTES = DEFAULT_LIMITS.max_body_bytes  # what the personal-data scan reads of a body
IN_MEMORY = 1 << 20  # values up to this size are read at once and parsed in memory
MAX_LENGTH_DIGITS = 12  # as mitmproxy: a length prefix is at most 12 digits
MESSAGE_LISTS = (("messages",), ("websocket", "messages"))  # counted, not kept
Path = tuple[str, ...]
_TEXT_TAGS = frozenset(b",;")
_CONTAINER_TAGS = frozenset(b"]}")


class FramingError(ValueError):
    """A value inside a flow is malformed: the flow is skipped."""


class FlowFileError(ValueError):
    """The file's framing is broken between flows: nothing after this point can be read."""


@dataclass(slots=True)
class SavedState:
    """One saved flow as read: its state (long strings cut, messages counted instead of kept),
    or why it could not be read."""

    number: int  # position in the file, from 1
    state: dict[str, Any] | None = None
    error: str | None = None
    cuts: dict[Path, int] = field(default_factory=dict)  # where a string was cut: full length
    streams: dict[Path, StreamCounts] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Cut:
    """A string longer than KEPT_BYTES: its first bytes, and how long it was."""

    kept: bytes | str
    length: int


def read_flow_states(handle: BinaryIO) -> Iterator[SavedState]:
    """Each flow of a mitmproxy flow file, in order. Raises FlowFileError where the framing
    between flows is broken (a length longer than the rest of the file, a bad prefix)."""
    size = os.fstat(handle.fileno()).st_size
    number = 0
    while True:
        start = handle.tell()
        if start >= size:
            return
        number += 1
        prefix = _file_prefix(handle, size)
        if prefix is None:
            raise FlowFileError(f"flow {number} has no valid length prefix at byte {start:,}")
        length, data_start = prefix
        stop = data_start + length
        if stop + 1 > size:
            raise FlowFileError(f"the file ends inside flow {number}: it claims {length:,} "
                                f"bytes, {max(0, size - data_start - 1):,} remain")
        yield _read_flow(handle, number, data_start, stop)
        handle.seek(stop + 1)


def _read_flow(handle: BinaryIO, number: int, start: int, stop: int) -> SavedState:
    saved = SavedState(number)
    parser = _Parser(handle, saved)
    try:
        if stop - start < IN_MEMORY:
            handle.seek(start)
            data = handle.read(stop - start + 1)
            tag = data[-1]
            if tag != ord("}"):
                raise FramingError(f"flow {number} is not a dict (type {chr(tag)!r})")
            value = parser.node(tag, data, 0, stop - start, (), 1)
        else:
            tag = _peek_tag(handle, start, stop)
            if tag != ord("}"):
                raise FramingError(f"flow {number} is not a dict (type {chr(tag)!r})")
            value = parser.stream_container(tag, start, stop, (), 1)
    except FramingError as exc:
        return SavedState(number, error=f"flow {number}: {exc}")
    saved.state = value
    return saved


class _Parser:
    """Parses one flow: small values in memory, large ones from disk."""

    def __init__(self, handle: BinaryIO, saved: SavedState) -> None:
        self.handle = handle
        self.saved = saved

    def node(self, tag: int, buf: bytes, start: int, stop: int, path: Path, depth: int) -> Any:
        """The value of type `tag` whose data is buf[start:stop]."""
        if tag in _TEXT_TAGS:
            return _text(tag, buf[start:min(stop, start + KEPT_BYTES)], stop - start)
        if tag not in _CONTAINER_TAGS:
            return _scalar(tag, buf[start:stop])
        if depth > MAX_DEPTH:
            raise FramingError(f"nested deeper than {MAX_DEPTH} levels")
        container = _Container(self.saved, tag, path)
        position = start
        while position < stop:
            length, data_start = _memory_prefix(buf, position, stop)
            data_stop = data_start + length
            if data_stop >= stop:
                raise FramingError(f"a value claims {length:,} bytes, more than its container "
                                   "holds")
            child = self.node(buf[data_stop], buf, data_start, data_stop,
                              container.child_path(), depth + 1)
            container.add(child)
            position = data_stop + 1
        return container.value()

    def stream_container(self, tag: int, start: int, stop: int, path: Path,
                         depth: int) -> Any:
        """A list or dict too large to read at once, whose data is at file[start:stop]: its
        items are read a block of up to IN_MEMORY bytes at a time, and an item larger than
        that on its own."""
        if depth > MAX_DEPTH:
            raise FramingError(f"nested deeper than {MAX_DEPTH} levels")
        container = _Container(self.saved, tag, path)
        position = start
        while position < stop:
            self.handle.seek(position)
            block = self.handle.read(min(stop - position, IN_MEMORY))
            if not block:
                raise FramingError("a value runs past the end of the file")
            used = self._items_in_block(container, block, position, stop, depth)
            if used == 0:  # the next item does not fit in a block
                used = self._large_item(container, position, stop, depth)
            position += used
        return container.value()

    def _items_in_block(self, container: _Container, block: bytes, position: int, stop: int,
                        depth: int) -> int:
        """Add the items that lie whole in `block` (read at `position`); the bytes used."""
        offset = 0
        while offset < len(block):
            colon = block.find(b":", offset, offset + MAX_LENGTH_DIGITS + 1)
            if colon < 0 and len(block) - offset <= MAX_LENGTH_DIGITS \
                    and position + len(block) < stop:
                break  # the prefix goes on in the next block
            length, data_start = _memory_prefix(block, offset, len(block))
            data_stop = data_start + length
            if position + data_stop >= stop:
                raise FramingError(f"a value claims {length:,} bytes, more than its container "
                                   "holds")
            if data_stop >= len(block):
                break  # the item goes on past this block
            container.add(self.node(block[data_stop], block, data_start, data_stop,
                                    container.child_path(), depth + 1))
            offset = data_stop + 1
        return offset

    def _large_item(self, container: _Container, position: int, stop: int, depth: int) -> int:
        """Add the item at `position` that is too large for a block; the bytes used."""
        handle = self.handle
        handle.seek(position)
        prefix = _file_prefix(handle, stop)
        if prefix is None:
            raise FramingError("a missing or invalid length prefix")
        length, data_start = prefix
        data_stop = data_start + length
        if data_stop >= stop:
            raise FramingError(f"a value claims {length:,} bytes, more than its container "
                               "holds")
        child_path = container.child_path()
        child_tag = _peek_tag(handle, data_start, data_stop)
        if child_tag in _CONTAINER_TAGS:
            child = self.stream_container(child_tag, data_start, data_stop, child_path,
                                          depth + 1)
        elif child_tag in _TEXT_TAGS:
            handle.seek(data_start)
            child = _text(child_tag, handle.read(min(length, KEPT_BYTES)), length)
        else:
            raise FramingError(f"a scalar of {length:,} bytes")
        container.add(child)
        return data_stop + 1 - position


class _Container:
    """A list or dict being filled: cut strings are unwrapped (and their length noted), and
    the items of a message list are counted instead of kept."""

    def __init__(self, saved: SavedState, tag: int, path: Path) -> None:
        self.saved = saved
        self.is_dict = tag == ord("}")
        self.path = path
        self.items: list[Any] = []
        self.counts: StreamCounts | None = None
        if path in MESSAGE_LISTS and not self.is_dict:
            # A raw stream's first messages are kept, cut, to be read for media protocols.
            self.counts = StreamCounts(media=MessageHead() if path == ("messages",) else None)
        if self.counts is not None:
            saved.streams[path] = self.counts
        # A message keeps its cut content whole, for _count_message to count in full.
        self.is_message = path[:-1] in MESSAGE_LISTS

    def child_path(self) -> Path:
        """The path of the next item: its key in a dict, "[]" in a list."""
        if self.is_dict and len(self.items) % 2 == 1:
            key = self.items[-1]
            return (*self.path, key if isinstance(key, str) else key.decode("latin-1"))
        return (*self.path, "[]")

    def add(self, value: Any) -> None:
        """Add the next item (a key and a value alternately in a dict)."""
        if self.counts is not None:
            _count_message(self.counts, value)
            return
        if self.is_dict and len(self.items) % 2 == 0:
            if not isinstance(value, (str, bytes)):
                raise FramingError(f"a dict key of type {type(value).__name__}")
        elif isinstance(value, _Cut) and not self.is_message:
            self.saved.cuts[self.child_path()] = value.length
            value = value.kept
        self.items.append(value)

    def value(self) -> Any:
        """The finished list or dict."""
        if not self.is_dict:
            return self.items
        if len(self.items) % 2:
            raise FramingError("a dict with a key but no value")
        return dict(zip(self.items[::2], self.items[1::2], strict=True))


def _count_message(counts: StreamCounts, message: Any) -> None:
    """Count one saved message: its direction is its first bool, its content its first
    string, whatever the file's version (TCP/UDP: [from_client, content, time]; WebSocket:
    [type, from_client, content, time, ...])."""
    if not isinstance(message, list):
        raise FramingError("a message that is not a list")
    direction = next((v for v in message if isinstance(v, bool)), None)
    content = next((v for v in message if isinstance(v, (bytes, str, _Cut))), None)
    if direction is None or content is None:
        raise FramingError("a message without a direction or content")
    if isinstance(content, _Cut):
        counts.add(direction, content.kept)
        extra = content.length - len(content.kept)
        if direction:
            counts.bytes_up += extra
        else:
            counts.bytes_down += extra
    else:
        counts.add(direction, content)


def _text(tag: int, kept: bytes, length: int) -> bytes | str | _Cut:
    """A byte string (`,`) or UTF-8 text (`;`); a _Cut when only its start was kept."""
    value: bytes | str = kept
    if tag == ord(";"):
        try:  # a cut can fall inside a character: decode up to the last whole one
            value = codecs.utf_8_decode(kept, "strict", len(kept) == length)[0]
        except UnicodeDecodeError as exc:
            raise FramingError("text that is not UTF-8") from exc
    return value if len(kept) == length else _Cut(value, length)


def _scalar(tag: int, data: bytes) -> int | float | bool | None:
    try:
        if tag == ord("#"):
            return int(data)
        if tag == ord("^"):
            return float(data)
    except ValueError as exc:  # includes numbers longer than Python converts
        raise FramingError(f"a malformed number ({len(data)} bytes)") from exc
    if tag == ord("!") and data in (b"true", b"false"):
        return data == b"true"
    if tag == ord("~") and not data:
        return None
    if tag in b"#^!~":
        raise FramingError(f"a malformed {chr(tag)!r} value")
    raise FramingError(f"an unknown type tag {tag}")


def _memory_prefix(buf: bytes, position: int, stop: int) -> tuple[int, int]:
    """The length in `<digits>:` at buf[position:], and where its data starts."""
    colon = buf.find(b":", position, min(stop, position + MAX_LENGTH_DIGITS + 1))
    digits = buf[position:colon]
    if colon <= position or not digits.isdigit():
        raise FramingError("a missing or invalid length prefix")
    return int(digits), colon + 1


def _file_prefix(handle: BinaryIO, stop: int) -> tuple[int, int] | None:
    """The length prefix at the file's position (None if there is none), leaving the file at
    the data."""
    position = handle.tell()
    head = handle.read(min(MAX_LENGTH_DIGITS + 1, stop - position))
    colon = head.find(b":")
    digits = head[:colon]
    if colon <= 0 or not digits.isdigit():
        return None
    handle.seek(position + colon + 1)
    return int(digits), position + colon + 1


def _peek_tag(handle: BinaryIO, data_start: int, data_stop: int) -> int:
    """The type tag after a value's data, leaving the file at the data's start."""
    handle.seek(data_stop)
    tag = handle.read(1)
    handle.seek(data_start)
    if not tag:
        raise FramingError("a value runs past the end of the file")
    return tag[0]
