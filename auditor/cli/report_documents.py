"""Reading the report.json documents that `vcaudit diff` and `vcaudit summary` compare: from a
session folder, a report.json file, or (for the summary) a folder of session folders. Any
failure is an InputError naming the path (exit 3), never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from auditor.compare.view import NotAReportError, read_view
from auditor.errors import InputError
from auditor.session.out_folder import is_session_folder

REPORT = "report.json"
SNIFF_BYTES = 4096


def read_report(path: Path) -> dict[str, Any]:
    """The report.json document of a session folder, or of a report.json file given itself;
    raises InputError when there is none or it is not a vcaudit report."""
    file = path / REPORT if path.is_dir() else path
    if path.is_dir() and not file.is_file():
        if is_session_folder(path):
            raise InputError(f"{path}: this session folder has no {REPORT} yet; run "
                             f"`vcaudit report {path}` first")
        raise InputError(f"{path}: not a vcaudit session folder (no {REPORT})")
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{file}: cannot be read ({exc.strerror or exc})") from exc
    except (ValueError, RecursionError) as exc:  # bad JSON or UTF-8, or nested too deep
        raise InputError(f"{file}: not a vcaudit report (not valid JSON: "
                         f"{str(exc)[:120]})") from exc
    try:
        read_view(document)
    except NotAReportError as exc:
        raise InputError(f"{file}: {exc}") from exc
    return document  # type: ignore[no-any-return]


def looks_like_report(path: Path) -> bool:
    """Whether a file is a report.json (rather than a capture, flow file or HAR file to
    analyse): a JSON object whose schema is a vcaudit report's."""
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError:
        return False  # the capture reader says why it cannot be read
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return text.startswith(b"{") and b'"vcaudit.report/' in text


def session_folders(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """The session folders named, each given itself or as a folder of session folders (one
    level down, e.g. ./vcaudit-reports/), each once; and warnings about the sub-folders
    skipped. Raises InputError for a path that is neither."""
    found: dict[Path, Path] = {}
    warnings = []
    for path in paths:
        if not path.is_dir():
            raise InputError(f"{path}: no such folder" if not path.exists() else
                             f"{path}: not a folder (give session folders, or folders that "
                             "hold them)")
        if (path / REPORT).is_file() or is_session_folder(path):
            found.setdefault(path.resolve(), path)  # read_report says what is missing
            continue
        children = sorted(p for p in _subfolders(path) if (p / REPORT).is_file())
        for child in sorted(_subfolders(path)):
            if not (child / REPORT).is_file() and is_session_folder(child):
                warnings.append(f"{child}: skipped, no {REPORT} yet (run `vcaudit report "
                                f"{child}`)")
        if not children:
            raise InputError(f"{path}: neither a session folder nor a folder of session "
                             f"folders (no {REPORT} in it or in its sub-folders)")
        for child in children:
            found.setdefault(child.resolve(), child)
    return list(found.values()), warnings


def _subfolders(path: Path) -> list[Path]:
    try:
        return [p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")]
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
