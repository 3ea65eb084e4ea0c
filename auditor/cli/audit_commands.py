"""`vcaudit analyze`, `vcaudit report` and `vcaudit proxy`: the commands that write a session
folder. What they need (pandas, scapy, mitmproxy) is imported when they run, so that
`vcaudit --help` and `vcaudit classify` start fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from auditor.cli.errors import EXIT_FAIL_ON, EXIT_OUTPUT, EXIT_USAGE, errors_as_exit_codes, fail
from auditor.cli.list_options import lists_options, load_for_command, proxy_arguments
from auditor.cli.options import (
    app_option,
    fail_on_option,
    force_option,
    out_option,
    rules_option,
    scan_options,
    show_values_option,
)

if TYPE_CHECKING:
    from auditor.classify.catalog import Catalog
    from auditor.personal_data.scan import ScanContext
    from auditor.session.session_audit import AuditOutcome


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@app_option
@out_option
@force_option
@rules_option
@lists_options
@scan_options
@show_values_option
@fail_on_option
@click.option("--quiet", "-q", is_flag=True, help="Print only the session folder's path.")
@errors_as_exit_codes
def analyze(files: tuple[Path, ...], app: str | None, out: Path | None, force: bool,
            rules: tuple[Path, ...], identities: tuple[str, ...], identity_file: Path | None,
            sdk_fields: Path | None, show_values: bool, fail_on: str | None, quiet: bool) -> None:
    """Audit captures (pcap, pcapng), mitmproxy flow files or HAR files (format detected
    from content) into a session folder."""
    from auditor.cli.terminal import ProgressLine
    from auditor.report.fail_conditions import parse_fail_on
    from auditor.session.offline import analyze_files

    conditions = parse_fail_on(fail_on)
    scan = _scan_context(identities, identity_file, sdk_fields)

    def load_catalog() -> Catalog:  # loaded while a large capture is read
        from auditor.classify.app_detection import choose_app

        catalog = load_for_command(rules)
        if app:
            choose_app(catalog, [], app)  # an unknown name is refused before any report
        return catalog

    progress = ProgressLine(enabled=not quiet)
    outcome = analyze_files(load_catalog, list(files), out=out, app=app,
                            progress=progress.for_file, scan=scan, show_values=show_values,
                            replace=force)
    progress.clear()
    _finish(outcome, quiet, conditions)


@click.command()
@click.argument("folder", type=click.Path(path_type=Path))
@app_option
@rules_option
@lists_options
@show_values_option
@fail_on_option
@click.option("--quiet", "-q", is_flag=True, help="Print only the session folder's path.")
@errors_as_exit_codes
def report(folder: Path, app: str | None, rules: tuple[Path, ...], show_values: bool,
           fail_on: str | None, quiet: bool) -> None:
    """Rebuild every report file of a session folder from its flows.jsonl."""
    from auditor.report.fail_conditions import parse_fail_on
    from auditor.session.session_audit import rebuild_report

    conditions = parse_fail_on(fail_on)
    outcome = rebuild_report(load_for_command(rules), folder, app, show_values=show_values)
    _finish(outcome, quiet, conditions)


def _finish(outcome: AuditOutcome, quiet: bool, conditions: list[str]) -> None:
    from auditor.cli.terminal import print_summary

    for warning in outcome.warnings:
        click.echo(f"vcaudit: warning: {warning}", err=True)
    if quiet:
        click.echo(str(outcome.folder))
    else:
        print_summary(outcome.report.document, outcome.folder)
    _gate(outcome.report.document, conditions)


def _gate(document: dict[str, Any], conditions: list[str]) -> None:
    """Exit with EXIT_FAIL_ON when a --fail-on condition holds."""
    from auditor.report.fail_conditions import matched_conditions

    matched = matched_conditions(document, conditions)
    if matched:
        from auditor.report.render.text_safety import visible

        click.echo(f"vcaudit: fail-on matched: {visible(' | '.join(matched))}", err=True)
        sys.exit(EXIT_FAIL_ON)


def _scan_context(specs: tuple[str, ...], identity_file: Path | None,
                  sdk_fields: Path | None) -> ScanContext:
    """What the personal-data scan looks for; raises on a bad identity or SDK field file."""
    from auditor.personal_data.identities import load_identity_file, parse_identity
    from auditor.personal_data.scan import ScanContext
    from auditor.personal_data.sdk_fields import load_sdks

    identities = [parse_identity(spec) for spec in specs]
    if identity_file is not None:
        identities += load_identity_file(identity_file)
    return ScanContext.build(identities, load_sdks(sdk_fields))


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@app_option
@out_option
@force_option
@lists_options
@scan_options
@show_values_option
@fail_on_option
@click.argument("mitmproxy_args", nargs=-1, type=click.UNPROCESSED,
                metavar="[-- MITMPROXY_ARGS...]")
@errors_as_exit_codes
def proxy(app: str | None, out: Path | None, force: bool, identities: tuple[str, ...],
          identity_file: Path | None, sdk_fields: Path | None, show_values: bool,
          fail_on: str | None, mitmproxy_args: tuple[str, ...]) -> None:
    """Run mitmproxy (mitmdump) with the vcaudit addon and report the session when stopped.

    Everything after `--` goes to mitmproxy unchanged, e.g. `--mode wireguard`,
    `--mode local:zoom`, `--listen-port 9090`, `--set k=v`. Default: a regular HTTP(S)
    proxy on port 8080.
    """
    from auditor.classify.app_detection import choose_app
    from auditor.cli.terminal import print_summary
    from auditor.live.proxy_command import run_proxy
    from auditor.report.fail_conditions import parse_fail_on
    from auditor.session.out_folder import access_warning, check_out_folder

    conditions = parse_fail_on(fail_on)
    _scan_context(identities, identity_file, sdk_fields)  # refused before the proxy starts
    if app:
        choose_app(load_for_command(()), [], app)
    else:
        load_for_command(())  # a bad --lists or config file is refused before the proxy starts
    if out is not None:
        check_out_folder(out, force)
        warning = access_warning(out) if out.exists() else None
        if warning:
            click.echo(f"vcaudit: warning: {warning}", err=True)
    settings = [f"vcaudit_identity={spec}" for spec in identities]
    settings += proxy_arguments()
    if identity_file is not None:
        settings.append(f"vcaudit_identity_file={identity_file}")
    if sdk_fields is not None:
        settings.append(f"vcaudit_sdk_fields={sdk_fields}")
    if show_values:
        settings.append("vcaudit_show_values=true")
    try:
        folder = run_proxy(out, app, list(mitmproxy_args), settings, replace=force)
    except SystemExit as exc:
        if exc.code not in (0, None):
            sys.exit(EXIT_USAGE)
        raise
    report_path = folder / "report.json"
    if not report_path.is_file():
        fail(f"no report was written in {folder}; run `vcaudit report {folder}`", EXIT_OUTPUT)
    document = json.loads(report_path.read_text(encoding="utf-8"))
    print_summary(document, folder)
    _gate(document, conditions)
