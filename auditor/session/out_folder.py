"""The `--out` folder: whether a new session may be written there, and writing it so that it
appears only once complete.

A folder that does not exist is created (owner-only) and removed again if the audit fails. An
existing folder must be empty, or hold a vcaudit session and be given with --force; it keeps
its mode (a warning says when other users can open it). In an existing folder the new session
is written into a hidden folder inside it and moved into place at the end, so a failure leaves
the old session as it was; the old session's files are then replaced and any other file kept.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from auditor.session.folder import (
    DEFAULT_PARENT,
    FLOW_LOG,
    SESSION_FILES,
    SESSION_MARKERS,
    SESSION_META,
    SessionFolderError,
    create_session_folder,
)


@dataclass(frozen=True, slots=True)
class SessionTarget:
    """Where a new session goes: written into `work`, in place at `folder` once complete."""

    folder: Path
    work: Path
    warning: str | None = None  # about an existing folder other users can open


def is_session_folder(folder: Path) -> bool:
    """Whether a folder holds a vcaudit session (its flow log or its session.json)."""
    return any((folder / name).is_file() for name in SESSION_MARKERS)


def check_out_folder(out: Path, replace: bool = False) -> None:
    """Refuse an `--out` that cannot take a new session, before any work is done.

    A folder that does not exist yet, or is empty, is fine. One that holds anything is refused
    unless `replace` (--force), and even then unless it holds a vcaudit session: --force
    replaces a session, never a folder of other files."""
    if not out.exists():
        if out.is_symlink():
            raise SessionFolderError(f"{out}: a symbolic link that leads to no folder")
        _check_creatable(out)
        return
    if not out.is_dir():
        raise SessionFolderError(f"{out}: exists and is not a folder (--out names the session "
                                 "folder to write)")
    try:
        empty = next(out.iterdir(), None) is None
    except OSError as exc:
        raise SessionFolderError(f"cannot use {out} as the session folder: "
                                 f"{exc.strerror or exc}") from exc
    if empty:
        return
    if not replace:
        raise SessionFolderError(f"{out}: the folder exists and is not empty; choose a new or "
                                 "empty folder, or add --force to replace the session in it")
    if not is_session_folder(out):
        raise SessionFolderError(f"{out}: not a vcaudit session folder (no {FLOW_LOG} or "
                                 f"{SESSION_META}); --force only replaces a session, so choose "
                                 "a new or empty folder")


def _check_creatable(out: Path) -> None:
    existing = next((p for p in out.absolute().parents if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise SessionFolderError(f"cannot create session folder {out}: {existing} is not a "
                                 "folder")


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
                ) -> Iterator[SessionTarget]:
    """Where to write a new session (`out`, or a new folder under ./vcaudit-reports/ named
    after `session_id`); see the module's docstring. Raises SessionFolderError."""
    if out is not None and out.exists():
        check_out_folder(out, replace)
        try:
            work = Path(tempfile.mkdtemp(prefix=".vcaudit-new-", dir=out))
        except OSError as exc:
            raise SessionFolderError(f"cannot write in {out}: {exc.strerror or exc}") from exc
        try:
            yield SessionTarget(out, work, access_warning(out))
            _move_into_place(work, out)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return
    leaf = out if out is not None else DEFAULT_PARENT
    missing = [p for p in (leaf, *leaf.parents) if not p.exists()]
    folder = create_session_folder(out, session_id)
    try:
        yield SessionTarget(folder, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        for parent in missing:  # the parents this created, innermost first, if still empty
            with contextlib.suppress(OSError):
                parent.rmdir()
        raise


def _move_into_place(work: Path, folder: Path) -> None:
    try:
        written = {entry.name for entry in work.iterdir()}
        for name in sorted(written):
            os.replace(work / name, folder / name)
        for name in SESSION_FILES - written:
            (folder / name).unlink(missing_ok=True)  # left by the session replaced
    except OSError as exc:
        raise SessionFolderError(f"cannot write the session into {folder}: "
                                 f"{exc.strerror or exc}") from exc
