"""The `--out` folder of `vcaudit diff` and `vcaudit summary`, under the same rules as a
session folder's (auditor/session/out_folder.py):

- a folder that does not exist is created, readable by its owner only (the sessions analysed
  into a diff folder hold decrypted traffic), and removed again if the command fails; without
  --out it is a new folder under ./vcaudit-reports/;
- an existing folder must be empty, or hold the same kind of output (its marker file, e.g.
  diff.json) and be given with --force; it keeps its mode (a warning says when other users can
  open it). The new output is written into a hidden folder inside it and moved into place at
  the end, so a failure leaves the old one as it was; the old output's files and the
  sub-folders written anew are replaced, and any other file is kept.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from auditor.errors import OutputError

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
NAME_LIMIT = 100  # characters of a default folder name


class OutputFolderError(OutputError):
    """The output folder cannot be used, created or written; one line for the user."""


@dataclass(frozen=True, slots=True)
class OutputKind:
    """A kind of output folder: what it is called, the file that marks it, and what it
    writes (what --force replaces)."""

    name: str  # "diff", "summary"
    marker: str  # the file that tells a folder holds this kind of output
    files: frozenset[str]
    folders: frozenset[str] = frozenset()  # sub-folders it may write (a diff's sessions)


@dataclass(frozen=True, slots=True)
class OutputTarget:
    """Where the output goes: written into `work`, in place at `folder` once complete."""

    folder: Path
    work: Path
    warning: str | None = None  # about an existing folder other users can open


def check_output_folder(out: Path, kind: OutputKind, replace: bool) -> None:
    """Refuse an `--out` that cannot take the output, before any work is done."""
    if not out.exists():
        if out.is_symlink():
            raise OutputFolderError(f"{out}: a symbolic link that leads to no folder")
        existing = next((p for p in out.absolute().parents if p.exists()), None)
        if existing is not None and not existing.is_dir():
            raise OutputFolderError(f"cannot create {out}: {existing} is not a folder")
        return
    if not out.is_dir():
        raise OutputFolderError(f"{out}: exists and is not a folder (--out names the folder "
                                f"to write the {kind.name} into)")
    try:
        empty = next(out.iterdir(), None) is None
    except OSError as exc:
        raise OutputFolderError(f"cannot use {out}: {exc.strerror or exc}") from exc
    if empty:
        return
    if not replace:
        raise OutputFolderError(f"{out}: the folder exists and is not empty; choose a new or "
                                f"empty folder, or add --force to replace the {kind.name} in it")
    if not (out / kind.marker).is_file():
        raise OutputFolderError(f"{out}: holds no vcaudit {kind.name} (no {kind.marker}); "
                                f"--force only replaces a {kind.name}, so choose a new or "
                                "empty folder")


@contextmanager
def new_output_folder(out: Path | None, kind: OutputKind, default_name: str,
                      replace: bool = False) -> Iterator[OutputTarget]:
    """Where to write the output: `out`, or a new folder under ./vcaudit-reports/ named
    `default_name` (made safe, numbered if taken); see the module's docstring. Raises
    OutputFolderError."""
    from auditor.session.folder import DEFAULT_PARENT
    from auditor.session.out_folder import access_warning

    if out is not None and out.exists():
        check_output_folder(out, kind, replace)
        try:
            work = Path(tempfile.mkdtemp(prefix=".vcaudit-new-", dir=out))
        except OSError as exc:
            raise OutputFolderError(f"cannot write in {out}: {exc.strerror or exc}") from exc
        try:
            yield OutputTarget(out, work, access_warning(out))
            _move_into_place(work, out, kind)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return
    if out is not None:
        check_output_folder(out, kind, replace)
    leaf = out if out is not None else DEFAULT_PARENT
    missing = [p for p in (leaf, *leaf.parents) if not p.exists()]
    folder = _create(out, default_name)
    try:
        yield OutputTarget(folder, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        for parent in missing:  # the parents this created, innermost first, if still empty
            with contextlib.suppress(OSError):
                parent.rmdir()
        raise


def _create(out: Path | None, default_name: str) -> Path:
    """A new owner-only folder: `out`, or the first free `vcaudit-reports/<name>[-N]`."""
    from auditor.session.folder import DEFAULT_PARENT

    name = _UNSAFE.sub("-", default_name)[:NAME_LIMIT].strip("-.") or "output"
    candidates = [out] if out is not None else [
        DEFAULT_PARENT / (name if n == 1 else f"{name}-{n}") for n in range(1, 10_000)]
    for folder in candidates:
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            folder.mkdir(mode=0o700)
            os.chmod(folder, 0o700)  # whatever the umask
            return folder
        except FileExistsError:
            if out is not None:
                raise OutputFolderError(f"{out}: appeared while vcaudit was starting; "
                                        "choose a new folder") from None
        except OSError as exc:
            raise OutputFolderError(f"cannot create {folder}: {exc.strerror or exc}") from exc
    raise OutputFolderError(f"too many folders named {name} under {DEFAULT_PARENT} already")


def _move_into_place(work: Path, folder: Path, kind: OutputKind) -> None:
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
        raise OutputFolderError(f"cannot write the {kind.name} into {folder}: "
                                f"{exc.strerror or exc}") from exc
