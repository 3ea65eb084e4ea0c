"""One capture of a batch, as a worker runs it: `run_session(job, settings)` analyses the
capture into its session folder (as `vcaudit analyze` does), adds the session's Parquet tables
(made from its flows.jsonl a batch at a time, and its report) and publishes them into the
batch's dataset. It never raises: whatever goes wrong
is the capture's own failure, returned as a `SessionResult` with one line saying why, and
then no session folder and no dataset partition is left for it.

The same function runs in this process (`--jobs 1`), in local worker processes, and as a task
on a Dask cluster: its arguments and result are plain picklable records, and the catalog is
loaded once per worker process (it holds locks and cannot travel).
"""

from __future__ import annotations

import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from auditor import __version__
from auditor.errors import ConfigError, InputError, OutputError, UsageError

if TYPE_CHECKING:
    from auditor.classify.catalog import Catalog
    from auditor.compare.view import SessionView
    from auditor.personal_data.scan import ScanContext


@dataclass(frozen=True, slots=True)
class BatchSettings:
    """What every session of a batch is analysed with (the options of `vcaudit batch`)."""

    rules: tuple[Path, ...] = ()  # extra catalog files (absolute paths on a cluster)
    lists: str | None = None  # --lists
    config: Path | None = None  # --config
    geoip: tuple[Path, ...] = ()  # --geoip: the user's address databases
    app: str | None = None
    scan: ScanContext | None = None  # identities and SDK formats, built by the caller
    show_values: bool = False
    version: str = __version__  # of the vcaudit that started the batch


@dataclass(frozen=True, slots=True)
class SessionJob:
    """One capture to analyse into `root/name/`."""

    path: Path
    name: str
    root: Path  # the batch folder


@dataclass(frozen=True, slots=True)
class SessionResult:
    """How one capture went: its session folder and what its report says, or why it failed."""

    path: str
    name: str
    folder: str | None  # the session folder; None when the capture failed
    error: str | None = None  # one line; None when the session was written
    kind: str | None = None  # of failure: input, usage, config, output, internal, worker
    warnings: tuple[str, ...] = ()
    session_id: str | None = None
    app: str | None = None
    view: SessionView | None = None  # what the combined summary needs of the report
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether the session was written."""
        return self.error is None


_CATALOGS: dict[tuple[tuple[Path, ...], str | None, Path | None, tuple[Path, ...]],
                Catalog] = {}
_CATALOG_LOCK = threading.Lock()


def run_session(job: SessionJob, settings: BatchSettings) -> SessionResult:
    """Analyse one capture into its session folder and the dataset; never raises."""
    started = time.perf_counter()
    folder = job.root / job.name
    written = False
    try:
        if settings.version != __version__:
            raise UsageError(f"this worker runs vcaudit {__version__}, the batch was started "
                             f"with {settings.version}; install the same version everywhere")
        # The analysis and pyarrow are imported here, in the worker, not by the batch's parent.
        from auditor.batch.dataset import publish_session
        from auditor.compare.view import read_view
        from auditor.session.offline import analyze_files
        from auditor.session.parquet_tables import logged_flow_rows, write_session_tables

        outcome = analyze_files(catalog_for(settings), [job.path], out=folder,
                                app=settings.app, scan=settings.scan,
                                show_values=settings.show_values)
        written = True
        write_session_tables(folder, outcome.report,
                             logged_flow_rows(folder, settings.show_values))
        document = outcome.report.document
        app = document["session"]["app"]
        publish_session(job.root, folder, app, job.name)
        return SessionResult(str(job.path), job.name, str(folder),
                             warnings=tuple(outcome.warnings),
                             session_id=document["session"]["id"], app=app,
                             view=read_view(document), seconds=time.perf_counter() - started)
    except Exception as exc:  # noqa: BLE001 - one capture's failure never stops the batch
        if written:  # analysed, but the dataset could not take it
            shutil.rmtree(folder, ignore_errors=True)
        kind, message = _failure(exc)
        return SessionResult(str(job.path), job.name, None, message, kind,
                             seconds=time.perf_counter() - started)


def catalog_for(settings: BatchSettings) -> Catalog:
    """The catalog with the batch's rules, lists and address databases, loaded once per
    process (as `load_for_command` loads it for one command); raises
    UnknownAppError for an --app it does not know."""
    from auditor.classify.app_detection import choose_app

    key = (settings.rules, settings.lists, settings.config, settings.geoip)
    with _CATALOG_LOCK:
        if key not in _CATALOGS:
            from auditor.classify.catalog import load_catalog
            from auditor.classify.list_attach import attach_lists
            from auditor.lists.config import load_config

            loaded = attach_lists(load_catalog(settings.rules), load_config(settings.config),
                                  settings.lists)
            if settings.geoip:
                from auditor.classify.address_owner import use_address_databases

                use_address_databases(loaded, settings.geoip)
            _CATALOGS[key] = loaded
        catalog = _CATALOGS[key]
    if settings.app:
        choose_app(catalog, [], settings.app)  # an unknown name is refused here
    return catalog


def _failure(exc: Exception) -> tuple[str, str]:
    """The kind of a failure and its one line (the capture's path is added by the caller)."""
    for kind, cls in (("input", InputError), ("usage", UsageError), ("config", ConfigError),
                      ("output", OutputError)):
        if isinstance(exc, cls):
            return kind, " ".join(str(exc).split())
    return "internal", f"internal error: {type(exc).__name__}: {exc} (please report this)"

