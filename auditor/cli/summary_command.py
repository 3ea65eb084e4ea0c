"""`vcaudit summary DIR...`: many sessions at once. One table per audited app, one row per
organisation and category: how many sessions contacted it, its hosts, flows, bytes and the
kinds of personal data it received; as summary.md, summary.html, summary.csv and summary.json
in the output folder, and a short version on stdout.

Each DIR is a session folder or a folder of session folders (./vcaudit-reports/, or what
`vcaudit batch` wrote); their report.json files are read as written (`vcaudit report DIR`
rebuilds one). The table itself is auditor/compare/across.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from auditor.cli.errors import errors_as_exit_codes
from auditor.cli.options import force_option
from auditor.cli.output_folder import new_output_folder, output_kind

if TYPE_CHECKING:
    from auditor.compare.across import SessionsTable

SUMMARY_KIND = output_kind("summary", "summary.json", frozenset({
    "summary.json", "summary.md", "summary.html", "summary.csv"}))
OUTSIDE_SHOWN = 8  # organisations outside the first party named per app in the terminal


@click.command()
@click.argument("folders", nargs=-1, required=True, metavar="DIR...",
                type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), metavar="DIR",
              help="Folder to write the summary into: a new or empty folder (default: a new "
                   "folder under ./vcaudit-reports/).")
@force_option
@click.option("--quiet", "-q", is_flag=True, help="Print only the summary folder's path.")
@errors_as_exit_codes
def summary(folders: tuple[Path, ...], out: Path | None, force: bool, quiet: bool) -> None:
    """Summarise many sessions: per app, which organisations how many sessions contacted,
    with bytes and data received. Each DIR is a session folder or a folder of them."""
    from auditor.cli.output_folder import OutputFolderError
    from auditor.cli.report_documents import read_report, session_folders
    from auditor.compare.across import summarise_sessions
    from auditor.compare.render.files import SummaryFile, render_summary
    from auditor.session.folder import write_atomically
    from auditor.session.out_folder import check_out_folder

    if out is not None:
        check_out_folder(out, force, SUMMARY_KIND)
    found, warnings = session_folders(list(folders))
    for warning in warnings:
        click.echo(f"vcaudit: warning: {warning}", err=True)
    documents = [read_report(folder) for folder in found]
    table = summarise_sessions(documents, [str(folder) for folder in found])
    with new_output_folder(out, SUMMARY_KIND, f"summary-{len(found)}-sessions",
                           force) as target:
        if target.warning:
            click.echo(f"vcaudit: warning: {target.warning}", err=True)
        for kind in SummaryFile:
            write_atomically(target.work / kind.value, render_summary(kind, table),
                             OutputFolderError)
    if quiet:
        click.echo(str(target.folder))
    else:
        _print_summary(table, target.folder)


def _print_summary(table: SessionsTable, folder: Path) -> None:
    """Per app: how many sessions, and who outside the first party they contacted."""
    from auditor.quantities import counted
    from auditor.report.render.text_safety import TERMINAL_LINE_LIMIT, terminal_text

    def echo(line: str) -> None:
        click.echo(terminal_text(line, TERMINAL_LINE_LIMIT))

    echo(f"vcaudit summary: {counted(table.sessions, 'session')}")
    for app in table.apps:
        echo(f"{terminal_text(app.app or 'app not detected')}: "
             f"{counted(len(app.sessions), 'session')}")
        outside = [r for r in app.rows if r.category not in ("first-party", "local")]
        for row in outside[:OUTSIDE_SHOWN]:
            data = (f"; received {', '.join(terminal_text(k) for k in row.kinds)}"
                    if row.kinds else "")
            echo(f"  {terminal_text(row.category)}: {terminal_text(row.organisation)} in "
                 f"{row.sessions} of {row.app_sessions}{data}")
        if len(outside) > OUTSIDE_SHOWN:
            echo(f"  ... and {len(outside) - OUTSIDE_SHOWN} more in summary.md")
    echo(f"summary: {folder / 'summary.md'} (also summary.html, summary.csv, summary.json)")
