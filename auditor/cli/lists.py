"""`vcaudit lists` (the `--lists` / `--config` options of the audit commands:
auditor/cli/list_options.py).

    vcaudit lists update [NAME...]   download the configured lists and vendors' ranges
    vcaudit lists show [--json]      what is cached and used: dates, versions, counts, licences

`update` exits 0 when every source was updated or is unchanged, 6 when some could not be
downloaded (offline, HTTP error, not a valid list): the cached copies are kept and audits use
them; 5 when the cache cannot be written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from auditor.cli.errors import EXIT_FETCH_FAILED, errors_as_exit_codes
from auditor.lists.config import ListConfig, cache_dir, load_config
from auditor.lists.fetch import read_meta
from auditor.lists.model import RequestContext, describe_lists
from auditor.lists.store import (
    list_path,
    load_list,
    range_paths,
    update,
    writable_cache,
)


def url_request(target: str) -> RequestContext | None:
    """A `vcaudit classify` target given as a URL, as the request a filter list checks."""
    if not target.startswith(("http://", "https://")):
        return None
    host = (urlsplit(target).hostname or "").lower()
    return RequestContext(target, host, "other", None, None) if host else None


@click.group("lists")
def lists_group() -> None:
    """Standard tracker lists and vendors' published ranges: download, inspect."""


@lists_group.command("update")
@click.argument("names", nargs=-1, metavar="[NAME...]")
@click.option("--config", "config", type=click.Path(path_type=Path),
              help="Config file (default: $VCAUDIT_CONFIG or ~/.config/vcaudit/config.toml).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
              help="Seconds to wait for each server.")
@errors_as_exit_codes
def update_command(names: tuple[str, ...], config: Path | None, timeout: float) -> None:
    """Download the lists in use and the vendors' ranges (or the NAMEs given) into the
    cache, only where they changed."""
    settings = load_config(config)
    chosen = list(names) or [*settings.use, *settings.use_ranges]
    click.echo(f"cache: {writable_cache()}", err=True)
    results = update(settings, chosen, timeout)
    failed = 0
    for result in results:
        line = f"{result.name}: {result.status}: {result.detail}"
        if result.status == "failed":
            failed += 1
            click.echo(f"vcaudit: warning: {line} [{result.url}]", err=True)
        else:
            click.echo(line)
    if failed:
        click.echo(f"vcaudit: {failed} of {len(results)} downloads failed; audits use the "
                   "copies already in the cache", err=True)
        raise SystemExit(EXIT_FETCH_FAILED)


@lists_group.command("show")
@click.option("--config", "config", type=click.Path(path_type=Path),
              help="Config file (default: $VCAUDIT_CONFIG or ~/.config/vcaudit/config.toml).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@errors_as_exit_codes
def show_command(config: Path | None, as_json: bool) -> None:
    """What is known, cached and used: versions, dates, entry counts, licences."""
    settings = load_config(config)
    rows = _list_rows(settings) + _range_rows(settings)
    if as_json:
        for row in rows:
            click.echo(json.dumps(row))
        return
    click.echo(f"config: {settings.file or 'none (built-in defaults)'}; cache: {cache_dir()}")
    for row in rows:
        used = "in use" if row["in_use"] else "not used"
        when = row.get("fetched") or "not downloaded"
        version = f", version {row['version']}" if row.get("version") else ""
        count = f", {row['entries']} entries" if row.get("entries") is not None else ""
        click.echo(f"{row['kind']} {row['name']} ({row['title']}): {used}; {when}{version}"
                   f"{count}; licence {row.get('licence') or 'n/a'}; {row['source']}")
        if row.get("problem"):
            click.echo(f"    {row['problem']}")


def _list_rows(settings: ListConfig) -> list[dict[str, Any]]:
    rows = []
    for name, source in settings.lists.items():
        row: dict[str, Any] = {
            "kind": "list", "name": name, "title": source.title, "format": source.format,
            "in_use": name in settings.use, "licence": source.licence,
            "source": str(source.path) if source.path else source.url,
            "fetched": read_meta(list_path(source)).get("fetched") if not source.path else None,
        }
        if list_path(source).exists():
            try:
                described = describe_lists((load_list(source),))[0]
                row.update(version=described["version"], entries=described["entries"])
            except (OSError, ValueError) as exc:
                row["problem"] = f"cannot be read: {exc}"
        rows.append(row)
    return rows


def _range_rows(settings: ListConfig) -> list[dict[str, Any]]:
    rows = []
    for name, source in settings.ranges.items():
        paths = [p for p in range_paths(source) if p.is_file()]
        dates = sorted(str(read_meta(p).get("fetched")) for p in paths)
        rows.append({
            "kind": "ranges", "name": name, "title": source.title, "format": source.format,
            "in_use": name in settings.use_ranges, "licence": None,
            "source": ", ".join(source.urls),
            "fetched": dates[0] if dates else None,
            "files": f"{len(paths)} of {len(source.urls)}",
        })
    return rows
