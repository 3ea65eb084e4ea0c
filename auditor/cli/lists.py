"""`vcaudit lists` and the `--lists` / `--config` options of the audit commands.

    vcaudit lists update [NAME...]   download the configured lists and vendors' ranges
    vcaudit lists show [--json]      what is cached and used: dates, versions, counts, licences

`update` exits 0 when every source was updated or is unchanged, 6 when some could not be
downloaded (offline, HTTP error, not a valid list): the cached copies are kept and audits use
them; 5 when the cache cannot be written.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import click

from auditor.classify.catalog import Catalog, load_catalog
from auditor.classify.list_attach import attach_lists
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

F = TypeVar("F", bound=Callable[..., Any])


def lists_options[F: Callable[..., Any]](command: F) -> F:
    """Add what the classifier may know beyond the catalog to an audit command: `--lists`,
    `--config` and `--geoip`; `load_for_command` reads them."""

    @click.option("--lists", "lists", metavar="NAMES",
                  help="Standard lists to use: comma-separated names (see `vcaudit lists "
                       "show`), or `none`. Default: the config file's [lists] use.")
    @click.option("--config", "config", type=click.Path(path_type=Path),
                  help="Config file naming lists and their URLs (default: "
                       "$VCAUDIT_CONFIG or ~/.config/vcaudit/config.toml).")
    @click.option("--geoip", "geoip", multiple=True, type=click.Path(path_type=Path),
                  metavar="FILE",
                  help="A MaxMind DB (.mmdb) file to ask first for an address's AS and "
                       "country (GeoLite2/GeoIP2 ASN or Country, DB-IP Lite, IPinfo Lite); "
                       "repeatable. The bundled MaxMind GeoLite2 data answers the rest.")
    @wraps(command)
    def wrapper(*args: Any, lists: str | None = None, config: Path | None = None,
                geoip: tuple[Path, ...] = (), **kwargs: Any) -> Any:
        return command(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def chosen_lists() -> tuple[str | None, Path | None]:
    """The current command's --lists and --config values."""
    context = click.get_current_context(silent=True)
    params = context.params if context is not None else {}
    return params.get("lists"), params.get("config")


def chosen_address_databases() -> tuple[Path, ...]:
    """The current command's --geoip files."""
    context = click.get_current_context(silent=True)
    return tuple(context.params.get("geoip") or ()) if context is not None else ()


def load_for_command(rules: tuple[Path, ...] | list[Path]) -> Catalog:
    """The catalog with the user's rules, the chosen lists, the cached vendor ranges and the
    user's address databases (a bad one raises a ConfigError naming it)."""
    names, config_file = chosen_lists()
    catalog = attach_lists(load_catalog(rules), load_config(config_file), names)
    databases = chosen_address_databases()
    if databases:
        from auditor.classify.address_owner import use_address_databases

        use_address_databases(catalog, databases)
    return catalog


def proxy_arguments() -> list[str]:
    """Addon options (`vcaudit_lists=...`, `vcaudit_geoip=...`) passing --lists and --geoip on
    to the proxy; --config goes
    through $VCAUDIT_CONFIG, which the addon reads in the same process."""
    names, config_file = chosen_lists()
    if config_file is not None:
        os.environ["VCAUDIT_CONFIG"] = str(config_file)
    settings = [f"vcaudit_lists={names}"] if names is not None else []
    return settings + [f"vcaudit_geoip={path}" for path in chosen_address_databases()]


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
