"""The `--lists`, `--config` and `--geoip` options of the commands that classify, and the
catalog they make: what the classifier knows beyond the bundled catalog.

Light to import: the catalog's modules load when a command loads it (`load_for_command`),
which `vcaudit analyze` does while a large capture is being read.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from auditor.classify.catalog import Catalog

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
    from auditor.classify.catalog import load_catalog
    from auditor.classify.list_attach import attach_lists
    from auditor.lists.config import load_config

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
