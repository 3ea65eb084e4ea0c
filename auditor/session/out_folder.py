"""The `--out` folder of every command that writes one (a session, a diff, a summary, a batch):
whether it may take the output, and writing the output so that it appears only once complete.

A folder that does not exist is created (owner-only) and removed again if the command fails,
with the parents it created. An existing folder must be empty, or hold the same kind of output
(one of its marker files) and be given with --force; it keeps its mode (a warning says when
other users can open it). In an existing folder the new output is written into a hidden
folder inside it and moved into place at the end, so a failure leaves the old output as it
was; the old output's files (and the sub-folders it writes anew) are then replaced and any
other file is kept.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from auditor.errors import OutputError
from auditor.session.folder import (
    DEFAULT_PARENT,
    SESSION_FILES,
    SESSION_MARKERS,
    SessionFolderError,
    create_session_folder,
)


@dataclass(frozen=True, slots=True)
class FolderKind:
    """A kind of output folder: what it holds, the files that mark it, what it writes (what
    --force replaces) and the error its problems raise."""

    name: str  # "session", "diff", "summary", "batch"
    markers: tuple[str, ...]  # a folder holding any of these holds this kind of output
    files: frozenset[str]
    error: type[OutputError]
    folders: frozenset[str] = frozenset()  # sub-folders it writes anew (a diff's sessions)


SESSION = FolderKind("session", SESSION_MARKERS, SESSION_FILES, SessionFolderError)


@dataclass(frozen=True, slots=True)
class OutputTarget:
    """Where new output goes: written into `work`, in place at `folder` once complete."""

    folder: Path
    work: Path
    warning: str | None = None  # about an existing folder other users can open



def is_session_folder(folder: Path) -> bool:
    """Whether a folder holds a vcaudit session (its flow log or its session.json)."""
    return holds(folder, SESSION)


def holds(folder: Path, kind: FolderKind) -> bool:
    """Whether `folder` holds output of `kind` (one of its marker files)."""
    return any((folder / name).is_file() for name in kind.markers)


def check_out_folder(out: Path, replace: bool = False, kind: FolderKind = SESSION) -> None:
    """Refuse an `--out` that cannot take new output of `kind`, before any work is done.

    A folder that does not exist yet, or is empty, is fine. One that holds anything is refused
    unless `replace` (--force), and even then unless it holds that kind of output: --force
    replaces a session (a diff, ...), never a folder of other files."""
    error = kind.error
    if not out.exists():
        if out.is_symlink():
            raise error(f"{out}: a symbolic link that leads to no folder")
        existing = next((p for p in out.absolute().parents if p.exists()), None)
        if existing is not None and not existing.is_dir():
            raise error(f"cannot create {kind.name} folder {out}: {existing} is not a folder")
        return
    if not out.is_dir():
        raise error(f"{out}: exists and is not a folder (--out names the folder to write the "
                    f"{kind.name} into)")
    try:
        empty = next(out.iterdir(), None) is None
    except OSError as exc:
        raise error(f"cannot use {out} as the {kind.name} folder: "
                    f"{exc.strerror or exc}") from exc
    if empty:
        return
    if not replace:
        raise error(f"{out}: the folder exists and is not empty; choose a new or empty folder, "
                    f"or add --force to replace the {kind.name} in it")
    if not holds(out, kind):
        raise error(f"{out}: not a vcaudit {kind.name} folder (no {' or '.join(kind.markers)});"
                    f" --force only replaces a {kind.name}, so choose a new or empty folder")


def access_warning(folder: Path) -> str | None:
    """A warning when an existing folder lets other users in (its mode is never changed)."""
    try:
        mode = stat.S_IMODE(folder.stat().st_mode)
    except OSError:
        return None
    if not mode & 0o055:  # read or search permission for group or others
        return None
    return (f"{folder} is open to other users (mode {mode:04o}); vcaudit does not change an "
            f"existing folder's mode: chmod 700 {folder} to keep the session private")


@contextmanager
def new_session(out: Path | None, session_id: str, replace: bool = False
                ) -> Iterator[OutputTarget]:
    """Where to write a new session (`out`, or a new folder under ./vcaudit-reports/ named
    after `session_id`); see the module's docstring. Raises SessionFolderError."""
    with new_output(out, SESSION, replace,
                    lambda: create_session_folder(out, session_id)) as target:
        yield target


@contextmanager
def new_output(out: Path | None, kind: FolderKind, replace: bool,
               create: Callable[[], Path]) -> Iterator[OutputTarget]:
    """Where to write new output of `kind`: into a hidden folder inside an existing `out`,
    moved into place at the end; else into the folder `create` makes (`out`, or a new one
    under ./vcaudit-reports/), removed with the parents it needed if the work fails. See the
    module's docstring; raises `kind.error`."""
    if out is not None and out.exists():
        check_out_folder(out, replace, kind)
        try:
            work = Path(tempfile.mkdtemp(prefix=".vcaudit-new-", dir=out))
        except OSError as exc:
            raise kind.error(f"cannot write in {out}: {exc.strerror or exc}") from exc
        try:
            yield OutputTarget(out, work, access_warning(out))
            _move_into_place(work, out, kind)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return
    if out is not None:
        check_out_folder(out, replace, kind)
    leaf = out if out is not None else DEFAULT_PARENT
    missing = [p for p in (leaf, *leaf.parents) if not p.exists()]
    folder = create()
    try:
        yield OutputTarget(folder, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        for parent in missing:  # the parents this created, innermost first, if still empty
            with contextlib.suppress(OSError):
                parent.rmdir()
        raise


def _move_into_place(work: Path, folder: Path, kind: FolderKind) -> None:
    try:
        written = {entry.name for entry in work.iterdir()}
        for name in sorted(written):
            target = folder / name
            if name in kind.folders and target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)  # a sub-folder of the output replaced: a diff's session
            os.replace(work / name, target)
        for name in kind.files - written:
            (folder / name).unlink(missing_ok=True)  # left by the output replaced
    except OSError as exc:
        raise kind.error(f"cannot write the {kind.name} into {folder}: "
                         f"{exc.strerror or exc}") from exc
