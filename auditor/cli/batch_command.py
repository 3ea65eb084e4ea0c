"""`vcaudit batch CAPTURE_OR_DIR... --out DIR`: many captures at once. One session folder per
capture (as `vcaudit analyze` writes it, Parquet tables included), in parallel over local
processes (`--jobs`, default: the number of cores) or on a Dask cluster (`--scheduler
tcp://HOST:PORT`); the batch's Parquet dataset under DIR/dataset/; the combined summary
(`vcaudit summary`'s files) and batch.json in DIR.

A capture that fails is one line on stderr and the others go on; the exit code is then 7
(EXIT_BATCH_FAILED). Problems with the batch as a whole (a bad option, a catalog file, DIR,
nothing to analyse) stop it before any work, with the usual codes. The work itself is
auditor/batch/.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from auditor.cli.errors import EXIT_BATCH_FAILED, errors_as_exit_codes
from auditor.cli.list_options import chosen_address_databases, chosen_lists, lists_options
from auditor.cli.options import app_option, rules_option, scan_options, show_values_option

if TYPE_CHECKING:
    from auditor.batch.inputs import FoundInputs
    from auditor.batch.job import BatchSettings, SessionResult
    from auditor.cli.batch_progress import BatchProgress


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


@click.command()
@click.argument("inputs", nargs=-1, required=True, metavar="CAPTURE_OR_DIR...",
                type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), metavar="DIR", required=True,
              help="Folder to write the batch into: a new or empty folder (or an earlier "
                   "batch's, with --force).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), metavar="N",
              help="Captures analysed at once, each in its own process (default: the number "
                   "of cores).")
@click.option("--scheduler", metavar="ADDRESS",
              help="Run on the Dask cluster whose scheduler is at ADDRESS (tcp://HOST:PORT) "
                   "instead; DIR and the inputs must be on a path every worker shares.")
@click.option("--force", is_flag=True,
              help="Replace the batch in an existing DIR: what an earlier batch wrote there is "
                   "removed first, other files are kept; a folder that holds no batch is never "
                   "overwritten.")
@app_option
@rules_option
@lists_options
@scan_options
@show_values_option
@click.option("--quiet", "-q", is_flag=True, help="No progress bar; print only DIR.")
@errors_as_exit_codes
def batch(inputs: tuple[Path, ...], out: Path, jobs: int | None, scheduler: str | None,
          force: bool, app: str | None, rules: tuple[Path, ...], identities: tuple[str, ...],
          identity_file: Path | None, sdk_fields: Path | None, show_values: bool,
          quiet: bool) -> None:
    """Audit many captures (or flow files, or HAR files; folders are searched) into one
    session folder each, with a combined summary and a Parquet dataset of all of them."""
    from auditor.batch.folder import prepare_batch_folder
    from auditor.batch.inputs import find_inputs
    from auditor.batch.job import catalog_for
    from auditor.errors import InputError, UsageError

    if scheduler is not None and jobs is not None:
        click.echo("vcaudit: warning: --jobs applies to local processes; with --scheduler "
                   "the cluster's workers run the captures", err=True)
    if scheduler is not None and not scheduler.strip():
        raise UsageError("--scheduler needs an address, e.g. tcp://10.0.0.5:8786")
    settings = _settings(app, rules, identities, identity_file, sdk_fields, show_values,
                         absolute=scheduler is not None)
    catalog_for(settings)  # a bad rules file, list or --app is refused before any work
    found = find_inputs(list(inputs), exclude=out)
    if not found.inputs:
        raise InputError(f"nothing to analyse: no capture, flow file or HAR file in "
                         f"{', '.join(str(p) for p in inputs)}")
    client = None
    if scheduler is not None:
        from auditor.batch.runners import connect

        client = connect(scheduler)  # before DIR is touched
    prepare_batch_folder(out, force)
    results = _run(found, out, settings, jobs or _cores(), (scheduler, client), quiet)
    failed = [r for r in results if not r.ok]
    if quiet:
        click.echo(str(out))
    else:
        _print_end(results, out)
    if failed:
        sys.exit(EXIT_BATCH_FAILED)


def _settings(app: str | None, rules: tuple[Path, ...], identities: tuple[str, ...],
              identity_file: Path | None, sdk_fields: Path | None, show_values: bool,
              absolute: bool) -> BatchSettings:
    """The batch's options, checked; paths absolute when workers elsewhere read them."""
    from auditor.batch.job import BatchSettings
    from auditor.personal_data.identities import load_identity_file, parse_identity
    from auditor.personal_data.scan import ScanContext
    from auditor.personal_data.sdk_fields import load_sdks

    own = [parse_identity(spec) for spec in identities]
    if identity_file is not None:
        own += load_identity_file(identity_file)
    scan = ScanContext.build(own, load_sdks(sdk_fields))
    lists, config = chosen_lists()
    geoip = chosen_address_databases()
    if absolute:
        rules = tuple(path.absolute() for path in rules)
        config = config.absolute() if config is not None else None
        geoip = tuple(path.absolute() for path in geoip)
    return BatchSettings(rules=tuple(rules), lists=lists, config=config, geoip=geoip, app=app,
                         scan=scan, show_values=show_values)


def _run(found: FoundInputs, out: Path, settings: BatchSettings, jobs: int,
         cluster: tuple[str | None, Any], quiet: bool) -> list[SessionResult]:
    """Run every capture, showing progress and each failure as it comes; write batch.json
    (also when interrupted) and the summary."""
    from auditor.batch.folder import BatchRun, write_batch_record, write_summary
    from auditor.batch.job import SessionJob
    from auditor.batch.runners import run_local, run_on_cluster
    from auditor.cli.batch_progress import BatchProgress
    from auditor.timefmt import iso_utc

    scheduler, client = cluster
    root = out.absolute() if scheduler else out
    work = [SessionJob(item.path.absolute() if scheduler else item.path, item.name, root)
            for item in found.inputs]
    runner = ({"kind": "dask", "scheduler": scheduler} if scheduler
              else {"kind": "local", "jobs": min(jobs, len(work))})
    run = BatchRun(iso_utc(time.time()) or "", runner, len(work), found.skipped)
    write_batch_record(out, run, [])
    progress = BatchProgress(len(work), enabled=not quiet)
    if found.skipped and not quiet:
        progress.note(f"vcaudit: {found.skipped} files in the folders given are not captures, "
                      "flow files or HAR files; skipped")
    progress.start()
    results: list[SessionResult] = []
    stream = (run_on_cluster(work, settings, client) if scheduler
              else run_local(work, settings, jobs))
    try:
        for result in stream:
            results.append(result)
            _report(result, progress, quiet)
            progress.advance(not result.ok)
    except KeyboardInterrupt:
        progress.clear()
        write_batch_record(out, run, results)
        raise
    progress.clear()
    write_summary(out, results)
    write_batch_record(out, run, results, ended=iso_utc(time.time()), complete=True)
    return results


def _report(result: SessionResult, progress: BatchProgress, quiet: bool) -> None:
    """One capture's failure, or its warnings, as lines above the progress bar."""
    from auditor.report.render.text_safety import TERMINAL_LINE_LIMIT, terminal_text

    if not result.ok:
        message = result.error or "failed"
        if not message.startswith(result.path):
            message = f"{result.path}: {message}"
        progress.note(terminal_text(f"vcaudit: error: {message}", TERMINAL_LINE_LIMIT * 2))
    elif not quiet:
        for warning in result.warnings:
            progress.note(terminal_text(f"vcaudit: warning: {result.name}: {warning}",
                                        TERMINAL_LINE_LIMIT * 2))


def _print_end(results: list[SessionResult], out: Path) -> None:
    """How many sessions were written, per app, and where everything is."""
    from auditor.quantities import counted
    from auditor.report.render.text_safety import terminal_text

    written = [r for r in results if r.ok]
    failed = len(results) - len(written)
    apps: dict[str, int] = {}
    for result in written:
        key = result.app or "app not detected"
        apps[key] = apps.get(key, 0) + 1
    failures = f"; {failed} failed (listed above)" if failed else ""
    click.echo(f"vcaudit batch: {counted(len(written), 'session')} written in {out}"
               f"{failures}")
    if apps:
        click.echo(terminal_text("apps: " + ", ".join(
            f"{app} {counted(count, 'session')}" for app, count in sorted(apps.items()))))
    click.echo(f"summary: {out / 'summary.md'} (also summary.html, summary.csv, summary.json)")
    click.echo(f"dataset: {out / 'dataset'} (flows, endpoints, findings as Parquet, "
               "partitioned by app and session; docs/datasets.md)")

