"""`vcaudit analyze` as a function: input files in, session folder out.

The sources read the files (session.inputs), then session.session_audit classifies the flows
and writes the session folder; the CLI stays a thin face over it. This module is light to
import, as is session.inputs: a large capture starts being read by a forked process before
the modules that classify and report are loaded, and they load (with the catalog, its address
database and the public suffix list) while it reads.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.capture.flow_spill import FlowStore
from auditor.personal_data.scan import ScanContext
from auditor.session.inputs import (
    FLOW_FILE_FORMATS,
    ProgressFactory,
    input_kind,
    read_captures,
    read_flow_files,
)

if TYPE_CHECKING:
    from auditor.classify.catalog import Catalog
    from auditor.session.session_audit import AuditOutcome


def analyze_files(
    catalog: Catalog | Callable[[], Catalog],
    paths: list[Path],
    *,
    out: Path | None,
    app: str | None,
    progress: ProgressFactory | None = None,
    scan: ScanContext | None = None,
    show_values: bool = False,
    replace: bool = False,
) -> AuditOutcome:
    """Audit capture files (or mitmproxy flow files, or HAR files) into one session folder:
    `out` (new or empty; with `replace`, a session folder whose session is replaced), or a new
    folder under ./vcaudit-reports/. Raises InputError for unusable input, UnknownAppError for
    a bad app name, SessionFolderError when `out` cannot take the session or writing fails;
    nothing is left behind then. `catalog` may be given as the function that loads it: a
    large capture is then read while it loads."""
    kind = input_kind(paths)
    ready = _Ready(catalog, out, replace)
    stores: list[FlowStore] = []
    try:
        if kind in FLOW_FILE_FORMATS:
            ready()
            inputs = read_flow_files(paths, kind, scan)
        else:
            inputs = read_captures(paths, progress, scan, stores, ready)
        from auditor.session.session_audit import audit_inputs  # imported by ready()

        return audit_inputs(ready.catalog(), paths, inputs, stores, out=out, app=app,
                            show_values=show_values, replace=replace)
    finally:
        for store in stores:
            store.close()


class _Ready:
    """Getting ready to audit and write a session (before any work is done, or while a large
    capture is read): `--out` checked, the modules that audit and write imported, the
    catalog loaded (when given as the function that loads it), with its address database
    and the public suffix list."""

    def __init__(self, catalog: Catalog | Callable[[], Catalog], out: Path | None,
                 replace: bool) -> None:
        self._loader = catalog if callable(catalog) else None
        self._catalog = None if callable(catalog) else catalog
        self._out = out
        self._replace = replace

    def __call__(self) -> None:
        import auditor.session.session_audit  # noqa: F401 - imported now, used after reading
        from auditor.names.domains import registrable_domain
        from auditor.session.out_folder import check_out_folder

        if self._out is not None:
            check_out_folder(self._out, self._replace)
        self.catalog().addresses.prepare()
        registrable_domain("example.com")  # loads the public suffix list

    def catalog(self) -> Catalog:
        """The catalog, loaded on first need."""
        if self._catalog is None:
            assert self._loader is not None
            self._catalog = self._loader()
        return self._catalog
