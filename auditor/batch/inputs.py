"""What a batch analyses: the captures named, and those found in the folders named, each with
the name of its session folder.

A file named on the command line is always an input (if it cannot be read, or is not a
capture, flow file or HAR file, that capture fails with its own line). A folder is walked
recursively, in name order; files whose content is not a capture, flow file or HAR file are
skipped and counted, as are hidden files and folders, and the batch's own output folder. Each
input becomes one session, named after its file without the extensions (`call.pcapng.gz` ->
`call`), prefixed with the folders under the folder named (`zoom/android/run1.pcap` ->
`android-run1` when `zoom/` was named), made unique in the order given (`call`, `call-2`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from auditor.errors import InputError
from auditor.input_format import InputFormat, detect_format

INPUT_SUFFIXES = frozenset({".pcap", ".pcapng", ".cap", ".gz", ".har", ".mitm", ".flows",
                            ".json"})
RESERVED_NAMES = frozenset({"dataset"})  # sub-folders of the batch folder that are not sessions
NAME_LIMIT = 120
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class BatchInput:
    """One capture (or flow file, or HAR file) of the batch and its session's name."""

    path: Path
    name: str  # the session folder's name under the batch folder, and its dataset partition


@dataclass(frozen=True, slots=True)
class FoundInputs:
    """The inputs of a batch, and how many files in the folders named were skipped."""

    inputs: tuple[BatchInput, ...]
    skipped: int


def find_inputs(paths: list[Path], exclude: Path | None = None) -> FoundInputs:
    """The inputs named (files, and the captures in folders); `exclude`: a folder never
    walked (the batch's output). Raises InputError when a folder cannot be read."""
    found: dict[Path, tuple[Path, str]] = {}
    skipped = 0
    excluded = exclude.resolve() if exclude is not None else None
    for path in paths:
        if not path.is_dir():
            found.setdefault(_key(path), (path, _stem(path.name)))
            continue
        for file, relative in _walk(path, excluded):
            if not _is_input(file):
                skipped += 1
                continue
            parts = [*relative.parts[:-1], _stem(relative.name)]
            found.setdefault(_key(file), (file, "-".join(parts)))
    return FoundInputs(tuple(_named(list(found.values()))), skipped)


def session_name(text: str) -> str:
    """A safe folder and partition name: letters, digits, '.', '_' and '-' only."""
    name = _UNSAFE.sub("-", text)[:NAME_LIMIT].strip("-.")
    return name or "session"


def _named(items: list[tuple[Path, str]]) -> Iterator[BatchInput]:
    taken: set[str] = set(RESERVED_NAMES)
    for path, wanted in items:
        base = session_name(wanted)
        name, number = base, 1
        while name.lower() in taken:  # case-insensitive file systems would merge them
            number += 1
            name = f"{base}-{number}"
        taken.add(name.lower())
        yield BatchInput(path, name)


def _stem(file_name: str) -> str:
    name = file_name
    while Path(name).suffix.lower() in INPUT_SUFFIXES:
        name = Path(name).stem
    return name or file_name


def _key(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


def _walk(folder: Path, excluded: Path | None) -> Iterator[tuple[Path, Path]]:
    """Every regular, visible file under `folder` in name order, with its path relative to
    it; symbolic links to folders are not followed (no loops)."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        raise InputError(f"{folder}: cannot be read ({exc.strerror or exc})") from exc
    stack = [(Path(e.path), Path(e.name), e) for e in reversed(entries)]
    while stack:
        path, relative, entry = stack.pop()
        if entry.name.startswith("."):
            continue
        if entry.is_dir(follow_symlinks=False):
            if excluded is not None and _key(path) == excluded:
                continue
            try:
                children = sorted(os.scandir(path), key=lambda e: e.name)
            except OSError as exc:
                raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
            stack += [(Path(c.path), relative / c.name, c) for c in reversed(children)]
        elif entry.is_file():
            yield path, relative


def _is_input(path: Path) -> bool:
    try:
        return detect_format(path) is not InputFormat.UNKNOWN
    except InputError:
        return False  # empty or unreadable: not a capture in a folder of other files
