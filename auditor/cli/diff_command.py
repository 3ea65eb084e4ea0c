"""`vcaudit diff A B`: compare two sessions, e.g. the same call with two versions of an app.

A and B are session folders (their report.json is compared as written), report.json files, or
captures, mitmproxy flow files or HAR files, which are analysed first into the session folders
`before/` and `after/` inside the diff's folder (--app, --rules, --lists, --identity apply to
them). The summary goes to stdout; diff.json, diff.md and diff.html to the output folder.
Exit 1 when a --fail-on condition holds (auditor/compare/fail_on.py).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from auditor.cli.errors import EXIT_FAIL_ON, errors_as_exit_codes
from auditor.cli.list_options import chosen_lists, lists_options, load_for_command
from auditor.cli.options import app_option, force_option, rules_option, scan_options
from auditor.cli.output_folder import new_output_folder, output_kind
from auditor.errors import InputError, UsageError

if TYPE_CHECKING:
    from auditor.classify.catalog import Catalog
    from auditor.compare.diff import ReportDiff
    from auditor.personal_data.scan import ScanContext
    from auditor.session.out_folder import OutputTarget

SIDES = (("A", "before"), ("B", "after"))
INPUT_SUFFIXES = frozenset({".pcap", ".pcapng", ".cap", ".gz", ".har", ".mitm", ".flows",
                            ".json"})
CHANGES_SHOWN = 30  # sentences printed in the terminal; diff.md has them all
DIFF_KIND = output_kind("diff", "diff.json", frozenset({"diff.json", "diff.md", "diff.html"}),
                       frozenset(role for _, role in SIDES))


@dataclass(slots=True)
class _Side:
    """One of the two sessions: a report already there, or an input to analyse."""

    label: str  # "A" or "B"
    role: str  # "before" or "after": also the name of its folder when analysed
    path: Path
    document: dict[str, Any] | None  # None until analysed
    folder: Path | None  # the session folder, once known
    analysed: bool = False  # into the diff's folder, `role/`


@click.command()
@click.argument("before", metavar="A", type=click.Path(path_type=Path))
@click.argument("after", metavar="B", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), metavar="DIR",
              help="Folder to write the diff into: a new or empty folder (default: a new "
                   "folder under ./vcaudit-reports/).")
@force_option
@app_option
@rules_option
@lists_options
@scan_options
@click.option("--fail-on", metavar="CONDITIONS",
              help="Exit 1 when B shows these against A, comma-separated: new-ad-tech, "
                   "new-analytics, new-third-party, new-unknown, new-pii, new-identity, "
                   "new-pinning.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the diff folder's path.")
@errors_as_exit_codes
def diff(before: Path, after: Path, out: Path | None, force: bool, app: str | None,
         rules: tuple[Path, ...], identities: tuple[str, ...], identity_file: Path | None,
         sdk_fields: Path | None, fail_on: str | None, quiet: bool) -> None:
    """Compare two sessions A (before) and B (after): session folders, or captures, flow
    files or HAR files to analyse first."""
    from auditor.compare.diff import diff_reports
    from auditor.compare.fail_on import matched_diff_conditions, parse_diff_fail_on
    from auditor.compare.render.diff_json import DiffContext
    from auditor.compare.render.files import DiffFile, render_diff
    from auditor.report.render.text_safety import terminal_text
    from auditor.session.out_folder import check_out_folder

    conditions = parse_diff_fail_on(fail_on)
    sides = [_side(label, role, path) for (label, role), path in zip(SIDES, (before, after),
                                                                      strict=True)]
    to_analyse = [s for s in sides if s.document is None]
    setup = _analysis_setup(to_analyse, app, rules, identities, identity_file, sdk_fields)
    if out is not None:
        check_out_folder(out, force, DIFF_KIND)
        _check_no_overwrite(sides, out)
    name = f"diff-{_stem(before)}-vs-{_stem(after)}"
    with new_output_folder(out, DIFF_KIND, name, force) as target:
        if target.warning:
            click.echo(f"vcaudit: warning: {target.warning}", err=True)
        if setup is not None:
            _analyse(to_analyse, target, app, *setup, quiet)
        documents = [s.document for s in sides]
        result = diff_reports(documents[0], documents[1])
        matched = matched_diff_conditions(result, conditions, terminal_text)
        folders = [str(s.folder) if s.folder else None for s in sides]
        links = [s.role if s.analysed else None for s in sides]
        context = DiffContext(folders[0], folders[1], links[0], links[1], conditions,
                              matched_diff_conditions(result, conditions))
        for kind in DiffFile:
            _write(target.work / kind.value, render_diff(kind, result, context))
    if quiet:
        click.echo(str(target.folder))
    else:
        _print_summary(result, target.folder)
    if matched:
        click.echo(f"vcaudit: fail-on matched: {' | '.join(matched)}", err=True)
        sys.exit(EXIT_FAIL_ON)


def _side(label: str, role: str, path: Path) -> _Side:
    """A or B: a session folder or report.json read now, or an input to analyse (its format
    checked now, before any work)."""
    from auditor.cli.report_documents import looks_like_report, read_report
    from auditor.input_format import InputFormat, detect_format

    if path.is_dir():
        return _Side(label, role, path, read_report(path), path)
    kind = detect_format(path)  # refuses a missing, empty or irregular file
    if looks_like_report(path):
        return _Side(label, role, path, read_report(path), None)
    if kind is InputFormat.UNKNOWN:
        raise InputError(f"{path}: not a session folder, report.json, capture (pcap, pcapng), "
                         "mitmproxy flow file or HAR file (unrecognised content)")
    return _Side(label, role, path, None, None)


def _analysis_setup(to_analyse: list[_Side], app: str | None, rules: tuple[Path, ...],
                    identities: tuple[str, ...], identity_file: Path | None,
                    sdk_fields: Path | None) -> tuple[Catalog, ScanContext] | None:
    """The catalog and the personal-data scan for the inputs to analyse, checked before any
    work starts; None when there is nothing to analyse (options given then are said to be
    unused)."""
    lists, config = chosen_lists()
    given = [option for option, value in (
        ("--app", app), ("--rules", rules), ("--lists", lists), ("--config", config),
        ("--identity", identities), ("--identity-file", identity_file),
        ("--sdk-fields", sdk_fields)) if value]
    if not to_analyse:
        if given:
            click.echo(f"vcaudit: warning: {', '.join(given)} apply only to captures analysed "
                       "on the way; both sessions' reports are compared as written", err=True)
        return None
    from auditor.classify.app_detection import choose_app
    from auditor.personal_data.identities import load_identity_file, parse_identity
    from auditor.personal_data.scan import ScanContext
    from auditor.personal_data.sdk_fields import load_sdks

    own = [parse_identity(spec) for spec in identities]
    if identity_file is not None:
        own += load_identity_file(identity_file)
    scan = ScanContext.build(own, load_sdks(sdk_fields))
    catalog = load_for_command(rules)
    if app:
        choose_app(catalog, [], app)  # an unknown name is refused before the files are read
    return catalog, scan


def _check_no_overwrite(sides: list[_Side], out: Path) -> None:
    """A session folder given as A or B must not be where the other side is analysed to."""
    for side in sides:
        for other in sides:
            if (other.document is None and side.folder is not None
                    and side.folder.resolve() == (out / other.role).resolve()):
                raise UsageError(f"{side.label} ({side.folder}) is where {other.label} would be "
                                 "analysed to; choose another --out")


def _analyse(sides: list[_Side], target: OutputTarget, app: str | None, catalog: Catalog,
             scan: ScanContext, quiet: bool) -> None:
    """Analyse the inputs that are not sessions yet into `before/` and `after/`."""
    from auditor.cli.terminal import ProgressLine
    from auditor.session.offline import analyze_files

    progress = ProgressLine(enabled=not quiet)
    for side in sides:
        outcome = analyze_files(catalog, [side.path], out=target.work / side.role, app=app,
                                progress=progress.for_file, scan=scan)
        progress.clear()
        for warning in outcome.warnings:
            click.echo(f"vcaudit: warning: {side.label}: {warning}", err=True)
        side.document = outcome.report.document
        side.folder = target.folder / side.role
        side.analysed = True


def _print_summary(result: ReportDiff, folder: Path) -> None:
    """What changed, bytes by category, notes, and where the files are."""
    from auditor.compare.wording import category_line, change_lines, note_lines, session_line
    from auditor.report.render.text_safety import TERMINAL_LINE_LIMIT, terminal_text

    def echo(line: str) -> None:
        click.echo(terminal_text(line, TERMINAL_LINE_LIMIT))

    echo(f"vcaudit diff: {session_line('A', result.before, terminal_text)}")
    echo(f"vcaudit diff: {session_line('B', result.after, terminal_text)}")
    lines = change_lines(result, terminal_text)
    for line in lines[:CHANGES_SHOWN]:
        echo(f"{'same' if result.identical else 'change'}: {line}")
    if len(lines) > CHANGES_SHOWN:
        echo(f"change: ... and {len(lines) - CHANGES_SHOWN} more in diff.md")
    for change in result.categories:
        a, b = change.before, change.after
        if a != b and (a.endpoints or b.endpoints):
            echo(f"bytes: {category_line(change.category, a, b, terminal_text)}")
    for note in note_lines(result, terminal_text):
        echo(f"note: {note}")
    echo(f"diff: {folder / 'diff.md'} (also diff.html, diff.json)")


def _stem(path: Path) -> str:
    """A short name for an input in the default folder name: `zoom-5.0.2.har` -> `zoom-5.0.2`."""
    if path.is_dir():
        return path.resolve().name or "session"
    name = path.name
    while Path(name).suffix.lower() in INPUT_SUFFIXES:
        name = Path(name).stem
    return name or "session"


def _write(path: Path, text: str) -> None:
    from auditor.cli.output_folder import OutputFolderError
    from auditor.session.folder import write_atomically

    write_atomically(path, text, OutputFolderError)
