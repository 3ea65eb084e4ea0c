"""The `vcaudit` command line: a thin face over the audit core. Exit codes and error
handling: auditor/cli_errors.py (and the README)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from auditor import __version__
from auditor.classify.app_detection import UnknownAppError, choose_app
from auditor.classify.catalog import Catalog
from auditor.classify.endpoint import classify_endpoint
from auditor.cli.errors import (
    EXIT_FAIL_ON,
    EXIT_OUTPUT,
    EXIT_USAGE,
    OneLineUsageGroup,
    errors_as_exit_codes,
    fail,
)
from auditor.cli.lists import (
    lists_group,
    lists_options,
    load_for_command,
    proxy_arguments,
    url_request,
)
from auditor.cli.terminal import ProgressLine, print_summary
from auditor.names.domains import is_ip_address, normalise_host
from auditor.personal_data.identities import (
    load_identity_file,
    parse_identity,
)
from auditor.personal_data.scan import ScanContext
from auditor.personal_data.sdk_fields import load_sdks
from auditor.records import record_to_dict
from auditor.report.fail_conditions import matched_conditions, parse_fail_on
from auditor.session.offline import AuditOutcome, analyze_files, rebuild_report
from auditor.session.out_folder import access_warning, check_out_folder


def _load(rules: tuple[Path, ...]) -> Catalog:
    return load_for_command(rules)  # with the lists chosen by --lists / --config


# Paths are checked by the code that opens them, not by click, so that a bad one is one line
# with the exit code of what it names (README, auditor/cli_errors.py).
rules_option = click.option(
    "--rules", "rules", multiple=True, type=click.Path(path_type=Path),
    help="Extra catalog file (TOML, same format as the built-in data); repeatable.",
)
out_option = click.option(
    "--out", type=click.Path(path_type=Path), metavar="DIR",
    help="Session folder to write: a new or empty folder (default: a new folder under "
         "./vcaudit-reports/).")
force_option = click.option(
    "--force", is_flag=True,
    help="Replace the session in an existing --out session folder (its other files are "
         "kept); a folder that holds no vcaudit session is never overwritten.")
identity_option = click.option(
    "--identity", "identities", multiple=True, metavar="KIND=VALUE",
    help="A value of yours to look for in what the app sends, in any encoding or hash "
         "(email=alice@example.com, phone=+4915112345678, name='Alice Example'); repeatable.")
identity_file_option = click.option(
    "--identity-file", type=click.Path(path_type=Path),
    help="A file of KIND=VALUE lines (or TOML) with values of yours to look for.")
sdk_fields_option = click.option(
    "--sdk-fields", type=click.Path(path_type=Path),
    help="An extra SDK field file (format of auditor/data/sdk_fields.toml) describing more "
         "SDKs' request fields.")


def scan_options[F: Callable[..., Any]](command: F) -> F:
    """--identity, --identity-file and --sdk-fields: what the personal-data scan looks for
    (on the commands that scan: analyze and proxy)."""
    for option in (sdk_fields_option, identity_file_option, identity_option):
        command = option(command)
    return command


show_values_option = click.option(
    "--show-values", is_flag=True,
    help="Show found personal data in reports (default: a short hash per value).")
fail_on_option = click.option(
    "--fail-on", metavar="CONDITIONS",
    help="Exit 1 when the report shows these, comma-separated: ad-tech, analytics, "
         "third-party, unknown (contacted), <category>-pii, pii, identity, pinning.")
app_option = click.option(
    "--app", metavar="NAME", help="The audited app (zoom, teams, meet, ...); detected if omitted.",
)


@click.group(cls=OneLineUsageGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="vcaudit")
def main() -> None:
    """vcaudit: show what a video-conferencing app really talks to, with evidence."""


@main.command()
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
    conditions = parse_fail_on(fail_on)
    scan = _scan_context(identities, identity_file, sdk_fields)
    catalog = _load(rules)
    if app:
        choose_app(catalog, [], app)  # an unknown name is refused before the files are read
    progress = ProgressLine(enabled=not quiet)
    outcome = analyze_files(catalog, list(files), out=out, app=app, progress=progress.for_file,
                            scan=scan, show_values=show_values, replace=force)
    progress.clear()
    _finish(outcome, quiet, conditions)


@main.command()
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
    conditions = parse_fail_on(fail_on)
    outcome = rebuild_report(_load(rules), folder, app, show_values=show_values)
    _finish(outcome, quiet, conditions)


def _finish(outcome: AuditOutcome, quiet: bool, conditions: list[str]) -> None:
    for warning in outcome.warnings:
        click.echo(f"vcaudit: warning: {warning}", err=True)
    if quiet:
        click.echo(str(outcome.folder))
    else:
        print_summary(outcome.report.document, outcome.folder)
    _gate(outcome.report.document, conditions)


def _gate(document: dict[str, Any], conditions: list[str]) -> None:
    """Exit with EXIT_FAIL_ON when a --fail-on condition holds."""
    matched = matched_conditions(document, conditions)
    if matched:
        click.echo(f"vcaudit: fail-on matched: {' | '.join(matched)}", err=True)
        sys.exit(EXIT_FAIL_ON)


def _scan_context(specs: tuple[str, ...], identity_file: Path | None,
                  sdk_fields: Path | None) -> ScanContext:
    """What the personal-data scan looks for; raises on a bad identity or SDK field file."""
    identities = [parse_identity(spec) for spec in specs]
    if identity_file is not None:
        identities += load_identity_file(identity_file)
    return ScanContext.build(identities, load_sdks(sdk_fields))


@main.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
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
    from auditor.live.proxy_command import run_proxy  # mitmproxy loads only for this command

    conditions = parse_fail_on(fail_on)
    _scan_context(identities, identity_file, sdk_fields)  # refused before the proxy starts
    if app:
        choose_app(_load(()), [], app)
    else:
        _load(())  # a bad --lists or config file is refused before the proxy starts
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


@main.command()
@click.argument("targets", nargs=-1, metavar="NAME_OR_IP...")
@app_option
@rules_option
@lists_options
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--list-apps", is_flag=True, help="List the app names --app accepts.")
@errors_as_exit_codes
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
        request = url_request(target)  # a URL is matched as an HTTP request by filter lists
        text = request.host if request else normalise_host(target)
        is_ip = is_ip_address(text)
        verdict = classify_endpoint(catalog, None if is_ip else text, text if is_ip else None,
                                    app_entity, request=request)
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


main.add_command(lists_group)

if __name__ == "__main__":  # pragma: no cover
    main()
