"""The batch folder (`vcaudit batch --out DIR`): one session folder per capture, the dataset,
the combined summary and `batch.json`, the batch's own record.

DIR is new (created readable by its owner only: sessions hold decrypted traffic) or empty, or
holds an earlier batch (its batch.json) and is given with --force: then what a batch writes is
removed first (session folders, dataset/, the summary files, batch.json) and any other file is
kept. batch.json is written when the batch starts (`complete`: false), so an interrupted batch
is still recognised as one, and again at the end with every session and every failure.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor import __version__
from auditor.batch.dataset import DATASET, PART_FILE
from auditor.batch.job import SessionResult
from auditor.compare.across import summarise_sessions
from auditor.compare.render.files import SummaryFile, render_summary
from auditor.errors import OutputError
from auditor.session.folder import write_atomically
from auditor.session.out_folder import FolderKind, check_out_folder, is_session_folder
from auditor.session.table_files import SessionTable

BATCH_FILE = "batch.json"
SCHEMA = "vcaudit.batch/1"


class BatchFolderError(OutputError):
    """The batch folder cannot be used, created or written; one line for the user."""


# What --force replaces in a batch folder is removed by _remove_batch, not by file name.
BATCH = FolderKind("batch", (BATCH_FILE,), frozenset(), BatchFolderError)


@dataclass(frozen=True, slots=True)
class BatchRun:
    """How the batch runs and what it was given, as batch.json records it."""

    started: str
    runner: dict[str, Any]  # {"kind": "local", "jobs": N} or {"kind": "dask", "scheduler": ...}
    inputs: int
    skipped_files: int


def prepare_batch_folder(out: Path, replace: bool) -> None:
    """Make `out` ready to take a batch (see the module's docstring); raises
    BatchFolderError before any work is done when it cannot."""
    check_out_folder(out, replace, BATCH)
    if not out.exists():
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.mkdir(mode=0o700)
            os.chmod(out, 0o700)  # whatever the umask
        except OSError as exc:
            raise BatchFolderError(f"cannot create {out}: {exc.strerror or exc}") from exc
        return
    try:
        entries = list(out.iterdir())
    except OSError as exc:
        raise BatchFolderError(f"cannot use {out}: {exc.strerror or exc}") from exc
    if entries:
        _remove_batch(out, entries)


def _remove_batch(out: Path, entries: list[Path]) -> None:
    names = {BATCH_FILE, *(kind.value for kind in SummaryFile)}
    try:
        for entry in entries:
            if entry.is_symlink():
                continue
            if entry.is_dir() and (entry.name == DATASET or is_session_folder(entry)):
                shutil.rmtree(entry)
            elif entry.is_file() and entry.name in names:
                entry.unlink()
    except OSError as exc:
        raise BatchFolderError(f"cannot replace the batch in {out}: "
                               f"{exc.strerror or exc}") from exc


def write_batch_record(out: Path, run: BatchRun, done: list[SessionResult], *,
                       ended: str | None = None, complete: bool = False) -> None:
    """Write batch.json: at the start, when interrupted, and complete at the end."""
    document = {
        "schema": SCHEMA,
        "generator": {"name": "vcaudit", "version": __version__},
        "complete": complete,
        "started": run.started,
        "ended": ended,
        "runner": run.runner,
        "inputs": run.inputs,
        "skipped_files": run.skipped_files,
        "sessions": [{"name": r.name, "input": r.path, "folder": r.name, "id": r.session_id,
                      "app": r.app, "seconds": round(r.seconds, 3),
                      "warnings": list(r.warnings)} for r in done if r.ok],
        "failed": [{"name": r.name, "input": r.path, "kind": r.kind, "error": r.error}
                   for r in done if not r.ok],
        "dataset": {"folder": DATASET, "tables": [t.table for t in SessionTable],
                    "partitioning": ["app", "session"], "file": PART_FILE},
    }
    write_atomically(out / BATCH_FILE, json.dumps(document, indent=2, ensure_ascii=False) + "\n",
                     BatchFolderError)


def write_summary(out: Path, results: list[SessionResult]) -> None:
    """The combined summary of the sessions written (`vcaudit summary`'s files) into `out`."""
    sessions = [r for r in results if r.ok and r.view is not None]
    table = summarise_sessions([r.view for r in sessions], [r.name for r in sessions])
    for kind in SummaryFile:
        write_atomically(out / kind.value, render_summary(kind, table), BatchFolderError)


