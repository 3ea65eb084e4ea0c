"""The `--out` folder of `vcaudit diff` and `vcaudit summary`: session.out_folder's rules for
every output folder (created owner-only and removed again on failure, an existing one only
when empty or holding the same kind of output and given --force, written beside the old
output and moved into place), with the default folder under ./vcaudit-reports/ named after
what is compared.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from auditor.errors import OutputError
from auditor.session.folder import DEFAULT_PARENT
from auditor.session.out_folder import FolderKind, OutputTarget, new_output

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
NAME_LIMIT = 100  # characters of a default folder name


class OutputFolderError(OutputError):
    """The output folder cannot be used, created or written; one line for the user."""


def output_kind(name: str, marker: str, files: frozenset[str],
                folders: frozenset[str] = frozenset()) -> FolderKind:
    """The kind of folder a command writes: marked by `marker`, holding `files` (and
    `folders`), its problems reported as OutputFolderError."""
    return FolderKind(name, (marker,), files, OutputFolderError, folders)


@contextmanager
def new_output_folder(out: Path | None, kind: FolderKind, default_name: str,
                      replace: bool = False) -> Iterator[OutputTarget]:
    """Where to write the output: `out`, or a new folder under ./vcaudit-reports/ named
    `default_name` (made safe, numbered if taken). Raises OutputFolderError."""
    with new_output(out, kind, replace, lambda: _create(out, default_name)) as target:
        yield target


def _create(out: Path | None, default_name: str) -> Path:
    """A new owner-only folder: `out`, or the first free `vcaudit-reports/<name>[-N]`."""
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
