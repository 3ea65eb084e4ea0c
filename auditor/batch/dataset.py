"""The batch's Parquet dataset: every session's tables in one tree, partitioned the Hive way,

    DIR/dataset/{flows,endpoints,findings}/app=<app>/session=<name>/part-0.parquet

so DuckDB (`hive_partitioning`), pandas and Dask (pyarrow datasets) and Spark read each table
as one, with `app` and `session` as columns taken from the path (the files themselves hold the
session folder's columns only, so no reader sees a column twice). `<app>` is the audited app,
`not-detected` when none was detected (Hive's null, `__HIVE_DEFAULT_PARTITION__`, would stop
pandas: pyarrow cannot yet merge its partition dictionaries with nulls), and `<name>` the
session folder's name under DIR. Each file is the session folder's own Parquet file,
hard-linked where the file system allows (copied otherwise), and appears under its final
name only once complete.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
from pathlib import Path

from auditor.session.folder import SessionFolderError
from auditor.session.table_files import SessionTable

DATASET = "dataset"
PART_FILE = "part-0.parquet"
NO_APP = "not-detected"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def partition_value(value: str) -> str:
    """A partition's value as a path segment: safe characters only, never hidden."""
    return _UNSAFE.sub("-", value).strip("-.") or "-"


def partition_path(root: Path, table: SessionTable, app: str | None, session: str) -> Path:
    """The folder of one session's part of one table."""
    return (root / DATASET / table.table / f"app={partition_value(app or NO_APP)}"
            / f"session={partition_value(session)}")


def publish_session(root: Path, folder: Path, app: str | None, session: str) -> list[Path]:
    """Put a session folder's Parquet tables into the dataset under `root`; return the
    partition folders. Raises SessionFolderError, and then leaves none of them behind."""
    written: list[Path] = []
    try:
        for table in SessionTable:
            target = partition_path(root, table, app, session)
            target.mkdir(parents=True, exist_ok=True)
            written.append(target)
            temporary = target / f".{PART_FILE}.tmp"
            _link_or_copy(folder / table.value, temporary)
            os.replace(temporary, target / PART_FILE)
    except OSError as exc:
        for target in written:
            shutil.rmtree(target, ignore_errors=True)
            with contextlib.suppress(OSError):
                target.parent.rmdir()  # the app's folder, if this was its only session
        raise SessionFolderError(f"cannot write the dataset in {root / DATASET}: "
                                 f"{exc.strerror or exc}") from exc
    return written


def _link_or_copy(source: Path, target: Path) -> None:
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)  # another file system, or no hard links there


def discard_session(root: Path, session: str) -> None:
    """Remove a session's folder and its partitions, whatever state a process that died while
    writing them left them in."""
    shutil.rmtree(root / session, ignore_errors=True)
    value = f"session={partition_value(session)}"
    for partition in (root / DATASET).glob(f"*/app=*/{glob.escape(value)}"):
        shutil.rmtree(partition, ignore_errors=True)
        with contextlib.suppress(OSError):
            partition.parent.rmdir()
