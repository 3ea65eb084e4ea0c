"""HAR files read one entry at a time, within bounds, so that one bad or huge entry costs
neither the others nor the machine's memory.

The file is parsed as a stream (ijson) through LongStringCutter: strings longer than
KEPT_BYTES reach the parser cut (their full length noted), and each entry of `log.entries` is
built on its own, keeping only the fields a flow is made from. An entry nested deeper than
MAX_DEPTH or holding more than MAX_NODES values is skipped and reported, as is any entry the
caller cannot convert; the JSON around the entries must be sound, or HarFileError says where
reading stopped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import ijson

from auditor.mitm.json_string_cut import CUT_KEY, LENGTH_KEY, LongStringCutter
from auditor.personal_data.limits import DEFAULT_LIMITS

KEPT_BYTES = DEFAULT_LIMITS.max_body_bytes
MAX_DEPTH = 16  # below an entry; real entries nest about 5 levels
MAX_NODES = 200_000  # values in one entry (headers, cookies, query and form fields, ...)
# The fields of an entry that a flow is made from (mitmproxy's request_to_flow); the rest
# (timings, cache, initiator stacks, WebSocket messages, ...) is skipped unread.
ENTRY_FIELDS = frozenset({"startedDateTime", "time", "request", "response", "serverIPAddress"})
Path = tuple[str, ...]
_OPEN = frozenset({"start_map", "start_array"})
_CLOSE = frozenset({"end_map", "end_array"})
Event = tuple[str, Any]


class HarFileError(Exception):
    """The HAR file's JSON is broken or is not a HAR: reading stops here."""


@dataclass(slots=True)
class HarEntry:
    """One entry of `log.entries` (only its ENTRY_FIELDS), or why it could not be read."""

    number: int  # position in log.entries, from 1
    entry: dict[str, Any] | None = None
    error: str | None = None
    cuts: dict[Path, int] = field(default_factory=dict)  # where a string was cut: its length


def read_har_entries(handle: BinaryIO) -> Iterator[HarEntry]:
    """Each entry of a HAR file, in order. Raises HarFileError when the JSON is broken (after
    the entries before the break) or the file has no `log.entries` list."""
    events = ijson.basic_parse(LongStringCutter(handle, KEPT_BYTES), use_float=True)
    try:
        yield from _entries(iter(events))
    except ijson.JSONError as exc:
        raise HarFileError(f"broken JSON ({_first_line(exc)})") from exc
    except ValueError as exc:  # e.g. a number longer than Python converts
        raise HarFileError(f"a value that cannot be read ({_first_line(exc)})") from exc


def _entries(events: Iterator[Event]) -> Iterator[HarEntry]:
    if next(events, ("", None))[0] != "start_map":
        raise HarFileError("no JSON object at the top")
    found = False
    for key, first in _members(events):
        if key != "log" or found or first[0] != "start_map":
            _skip(events, first)
            continue
        for log_key, log_first in _members(events):
            if log_key != "entries" or found or log_first[0] != "start_array":
                _skip(events, log_first)
                continue
            found = True
            for number, event in enumerate(_items(events), start=1):
                yield _entry(events, event, number)
    if not found:
        raise HarFileError("no log.entries list")


def _entry(events: Iterator[Event], first: Event, number: int) -> HarEntry:
    entry = HarEntry(number)
    if first[0] != "start_map":
        _skip(events, first)
        entry.error = f"entry {number} is not a JSON object"
        return entry
    builder = _Builder(entry)
    fields: dict[str, Any] = {}
    for key, value_first in _members(events):
        if key in ENTRY_FIELDS and builder.error is None:
            fields[key] = builder.build(events, value_first, (key,))
        else:
            _skip(events, value_first)
    if builder.error is not None:
        entry.error = f"entry {number} {builder.error}"
    else:
        entry.entry = fields
    return entry


class _Builder:
    """Builds values of one entry from parser events, iteratively (no recursion, whatever the
    nesting), within MAX_DEPTH and MAX_NODES; a cut string becomes its kept start, its full
    length noted in the entry's cuts. Past a bound, the rest of the value is skipped."""

    def __init__(self, entry: HarEntry) -> None:
        self.entry = entry
        self.nodes = 0
        self.error: str | None = None

    def build(self, events: Iterator[Event], first: Event, path: Path) -> Any:
        """The value that starts with event `first` (the rest read from `events`)."""
        if first[0] not in _OPEN:
            return self._count(first[1])
        root: list[Any] = []  # holds the value, so that every container has a parent
        stack: list[tuple[list[Any] | dict[str, Any], Path]] = [(root, path[:-1])]
        key: str | None = path[-1]
        event = first
        while True:
            kind, value = event
            parent, parent_path = stack[-1]
            if kind == "map_key":
                key = value
            elif kind in _OPEN:
                self._count(None)
                if len(stack) > MAX_DEPTH:
                    self.error = f"is nested deeper than {MAX_DEPTH} levels"
                    self._skip_rest(events, len(stack))  # those open, and this one
                    return None
                child: list[Any] | dict[str, Any] = {} if kind == "start_map" else []
                _put(parent, key, child)
                in_list = isinstance(parent, list) and parent is not root
                label = "[]" if in_list or key is None else key
                stack.append((child, (*parent_path, label)))
            elif kind in _CLOSE:
                stack.pop()  # `parent` is the container this closes, `parent_path` its path
                if isinstance(parent, dict) and parent.keys() == {CUT_KEY, LENGTH_KEY}:
                    _replace_last(stack[-1][0], self._cut(parent, parent_path))
                if len(stack) == 1:
                    return root[0]
            else:
                _put(parent, key, self._count(value))
            if self.nodes > MAX_NODES:
                self.error = f"holds more than {MAX_NODES:,} values"
                self._skip_rest(events, len(stack) - 1)
                return None
            event = next(events)

    def _count(self, value: Any) -> Any:
        self.nodes += 1
        return value

    def _cut(self, marker: dict[str, Any], path: Path) -> Any:
        """A cut string's kept start; its full length is noted under its path."""
        kept, length = marker[CUT_KEY], marker[LENGTH_KEY]
        if isinstance(kept, str) and isinstance(length, int):
            self.entry.cuts[path] = length
            return kept
        return marker  # not one of ours: a file's own object, left as it is

    def _skip_rest(self, events: Iterator[Event], depth: int) -> None:
        """Consume the events of `depth` containers still open."""
        while depth > 0:
            kind = next(events)[0]
            depth += (kind in _OPEN) - (kind in _CLOSE)


def _put(parent: list[Any] | dict[str, Any], key: str | None, value: Any) -> None:
    if isinstance(parent, dict):
        parent[key or ""] = value
    else:
        parent.append(value)


def _replace_last(parent: list[Any] | dict[str, Any], value: Any) -> None:
    """Replace the value just added to `parent` (a list's last item, a dict's last key)."""
    if isinstance(parent, dict):
        parent[next(reversed(parent))] = value
    else:
        parent[-1] = value


def _members(events: Iterator[Event]) -> Iterator[tuple[str, Event]]:
    """The (key, first event of the value) pairs of an object whose start was read; the
    caller consumes each value before asking for the next."""
    while True:
        kind, value = next(events)
        if kind == "end_map":
            return
        yield value, next(events)


def _items(events: Iterator[Event]) -> Iterator[Event]:
    """The first event of each item of an array whose start was read."""
    while True:
        event = next(events)
        if event[0] == "end_array":
            return
        yield event


def _skip(events: Iterator[Event], first: Event) -> None:
    """Consume the rest of a value that starts with `first`, keeping nothing."""
    depth = 1 if first[0] in _OPEN else 0
    while depth > 0:
        kind = next(events)[0]
        depth += (kind in _OPEN) - (kind in _CLOSE)


def _first_line(exc: Exception) -> str:
    """An exception's first line (ijson's next lines quote the file), escaped to ASCII since
    it reaches the terminal."""
    lines = str(exc).splitlines()
    return ascii(lines[0][:200])[1:-1] if lines else type(exc).__name__
