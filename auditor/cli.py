"""The `vcaudit` command line: a thin face over the audit core.

Exit codes (also in the README):
  0  the audit ran and its report was written
  2  usage error (bad option or argument)
  3  an input file cannot be used (unreadable, not a capture, not a session folder)
  4  a catalog or rules file is invalid
  5  the session folder cannot be written
  70 internal error (a bug in vcaudit: please report it)
Errors are one line on stderr; the summary goes to stdout.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from auditor import __version__
from auditor.app_detection import UnknownAppError, choose_app
from auditor.capture_format import InputError
from auditor.catalog import Catalog, CatalogError, load_catalog
from auditor.classify import classify_endpoint
from auditor.domain_names import is_ip_address, normalise_host
from auditor.offline_audit import AuditOutcome, analyze_files, rebuild_report
from auditor.records import record_to_dict
from auditor.session_folder import SessionFolderError
from auditor.terminal_output import ProgressLine, print_summary

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_CATALOG = 4
EXIT_OUTPUT = 5
EXIT_INTERNAL = 70

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"vcaudit: error: {message}", err=True)
    sys.exit(code)


def _errors_as_exit_codes[F: Callable[..., Any]](command: F) -> F:
    """Turn expected failures into one stderr line and a documented exit code."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except InputError as exc:
            _fail(str(exc), EXIT_INPUT)
        except UnknownAppError as exc:
            _fail(str(exc), EXIT_USAGE)
        except CatalogError as exc:
            _fail(str(exc), EXIT_CATALOG)
        except SessionFolderError as exc:
            _fail(str(exc), EXIT_OUTPUT)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - the last line of defence, never a traceback
            _fail(f"internal error: {type(exc).__name__}: {exc} (please report this)",
                  EXIT_INTERNAL)

    return wrapper  # type: ignore[return-value]


def _load(rules: tuple[Path, ...]) -> Catalog:
    return load_catalog(rules)


rules_option = click.option(
    "--rules", "rules", multiple=True, type=click.Path(path_type=Path, dir_okay=False),
    help="Extra catalog file (TOML, same format as the built-in data); repeatable.",
)
app_option = click.option(
    "--app", metavar="NAME", help="The audited app (zoom, teams, meet, ...); detected if omitted.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="vcaudit")
def main() -> None:
    """vcaudit: show what a video-conferencing app really talks to, with evidence."""


@main.command()
@click.argument("files", nargs=-1, required=True,
                type=click.Path(path_type=Path, dir_okay=False))
@app_option
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help="Session folder to write (default: a new folder under ./vcaudit-reports/).")
@rules_option
@click.option("--quiet", "-q", is_flag=True, help="Print only the session folder's path.")
@_errors_as_exit_codes
def analyze(files: tuple[Path, ...], app: str | None, out: Path | None,
            rules: tuple[Path, ...], quiet: bool) -> None:
    """Audit pcap/pcapng captures (format detected from content) into a session folder."""
    catalog = _load(rules)
    progress = ProgressLine(enabled=not quiet)
    outcome = analyze_files(catalog, list(files), out=out, app=app,
                            progress=progress.for_file)
    progress.clear()
    _finish(outcome, quiet)


@main.command()
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
@app_option
@rules_option
@click.option("--quiet", "-q", is_flag=True, help="Print only the session folder's path.")
@_errors_as_exit_codes
def report(folder: Path, app: str | None, rules: tuple[Path, ...], quiet: bool) -> None:
    """Rebuild every report file of a session folder from its flows.jsonl."""
    if not folder.is_dir():
        raise InputError(f"{folder}: not a directory")
    outcome = rebuild_report(_load(rules), folder, app)
    _finish(outcome, quiet)


def _finish(outcome: AuditOutcome, quiet: bool) -> None:
    for warning in outcome.warnings:
        click.echo(f"vcaudit: warning: {warning}", err=True)
    if quiet:
        click.echo(str(outcome.folder))
        return
    print_summary(outcome.report.document, outcome.folder)


@main.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@app_option
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help="Session folder (default: a new folder under ./vcaudit-reports/).")
@click.argument("mitmproxy_args", nargs=-1, type=click.UNPROCESSED,
                metavar="[-- MITMPROXY_ARGS...]")
@_errors_as_exit_codes
def proxy(app: str | None, out: Path | None, mitmproxy_args: tuple[str, ...]) -> None:
    """Run mitmproxy (mitmdump) with the vcaudit addon and report the session when stopped.

    Everything after `--` goes to mitmproxy unchanged, e.g. `--mode wireguard`,
    `--mode local:zoom`, `--listen-port 9090`, `--set k=v`. Default: a regular HTTP(S)
    proxy on port 8080.
    """
    from auditor.proxy_command import run_proxy  # mitmproxy loads only for this command

    if app:
        choose_app(_load(()), [], app)
    try:
        folder = run_proxy(out, app, list(mitmproxy_args))
    except SystemExit as exc:
        if exc.code not in (0, None):
            sys.exit(EXIT_USAGE)
        raise
    report_path = folder / "report.json"
    if not report_path.is_file():
        _fail(f"no report was written in {folder}; run `vcaudit report {folder}`", EXIT_OUTPUT)
    print_summary(json.loads(report_path.read_text(encoding="utf-8")), folder)


@main.command()
@click.argument("targets", nargs=-1, metavar="NAME_OR_IP...")
@app_option
@rules_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--list-apps", is_flag=True, help="List the app names --app accepts.")
@_errors_as_exit_codes
def classify(targets: tuple[str, ...], app: str | None, rules: tuple[Path, ...],
             as_json: bool, list_apps: bool) -> None:
    """Explain how host names or addresses are classified."""
    catalog = _load(rules)
    if list_apps:
        for name, entity in sorted(catalog.apps().items()):
            click.echo(f"{name}\t{entity.name}")
        return
    if not targets:
        raise click.UsageError("give at least one NAME_OR_IP (or --list-apps)")
    app_entity: str | None = None
    if app:
        vendor = catalog.app_entity(app.strip().lower())
        if vendor is None:
            raise UnknownAppError(f"unknown app {app!r}; see `vcaudit classify --list-apps`")
        app_entity = vendor.id
    for target in targets:
        text = normalise_host(target)
        is_ip = is_ip_address(text)
        verdict = classify_endpoint(catalog, None if is_ip else text, text if is_ip else None,
                                    app_entity)
        if as_json:
            click.echo(json.dumps({
                "host": text, "category": verdict.category.value, "entity": verdict.entity,
                "first_party": verdict.first_party,
                "evidence": [record_to_dict(e) for e in verdict.evidence],
            }))
            continue
        owner = verdict.entity or "no known organisation"
        flag = " (the audited app's vendor)" if verdict.first_party else ""
        click.echo(f"{text}: {verdict.category.value}, {owner}{flag}")
        for evidence in verdict.evidence:
            click.echo(f"  - {evidence.detail}")
            if evidence.source:
                click.echo(f"    source: {evidence.source}")


if __name__ == "__main__":  # pragma: no cover
    main()
