"""Which standard lists and vendor ranges vcaudit uses, where they come from, where they go.

The sources vcaudit knows by name are in `auditor/data/lists/sources.toml`; the user's config
file (`--config`, `$VCAUDIT_CONFIG`, else `$XDG_CONFIG_HOME/vcaudit/config.toml`) may change
any of their fields, add lists, and choose which are used. Downloads go to the cache directory
(`$VCAUDIT_CACHE`, else `$XDG_CACHE_HOME/vcaudit`, else `~/.cache/vcaudit`).
Errors name the config file and the entry (exit code 4, like a bad rules file).
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from auditor.errors import ConfigError
from auditor.records import Category

LIST_FORMATS = ("abp", "hosts", "disconnect", "tracker-radar")
RANGE_FORMATS = ("cidr-text", "m365-endpoints")
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_LIST_KEYS = {"title", "format", "category", "url", "path", "licence", "homepage", "note",
              "region"}
_RANGE_KEYS = {"title", "format", "entity", "app", "urls", "homepage", "note"}
_CATEGORIES = {"ad-tech": Category.AD_TECH, "analytics": Category.ANALYTICS,
               "third-party": Category.THIRD_PARTY}


class ListConfigError(ConfigError):
    """The config file (or a --lists value) is invalid; the message names file and entry."""


@dataclass(frozen=True, slots=True)
class ListSource:
    """A list: where to get it, its format and licence, and what its entries mean."""

    name: str
    title: str
    format: str
    url: str | None
    path: Path | None  # a local file or folder read in place (never downloaded)
    licence: str
    category: Category | None  # for formats without categories of their own (abp, hosts)
    region: str | None = None  # Tracker Radar: which region's domain files to keep
    note: str | None = None


@dataclass(frozen=True, slots=True)
class RangeSource:
    """A vendor's machine-readable list of its IP ranges."""

    name: str
    title: str
    format: str
    entity: str
    app: str | None
    urls: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ListConfig:
    """Every known list and range source, and which are used by default."""

    lists: dict[str, ListSource]
    ranges: dict[str, RangeSource]
    use: tuple[str, ...]
    use_ranges: tuple[str, ...]
    file: Path | None  # the user's config file read, if any

    def choose(self, names: str | None) -> tuple[ListSource, ...]:
        """The lists a `--lists` value names (`none`, or comma-separated names); None: the
        default ones."""
        if names is None:
            chosen = self.use
        elif names.strip().lower() in ("none", ""):
            return ()
        else:
            chosen = tuple(n.strip().lower() for n in names.split(",") if n.strip())
        unknown = [n for n in chosen if n not in self.lists]
        if unknown:
            raise ListConfigError(f"unknown list {', '.join(unknown)}; known lists: "
                                  f"{', '.join(sorted(self.lists))} (or none)")
        return tuple(self.lists[n] for n in chosen)


def config_path(explicit: Path | None = None) -> Path:
    """The user's config file: --config, $VCAUDIT_CONFIG, else the XDG location."""
    if explicit is not None:
        return explicit
    if os.environ.get("VCAUDIT_CONFIG"):
        return Path(os.environ["VCAUDIT_CONFIG"])
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "vcaudit" / "config.toml"


def cache_dir() -> Path:
    """Where downloaded lists and ranges are kept: $VCAUDIT_CACHE, else the XDG location."""
    if os.environ.get("VCAUDIT_CACHE"):
        return Path(os.environ["VCAUDIT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vcaudit"


def load_config(explicit: Path | None = None) -> ListConfig:
    """The built-in sources merged with the user's config file (when it exists; a file named
    with --config or $VCAUDIT_CONFIG must exist)."""
    builtin = tomllib.loads(resources.files("auditor.data.lists").joinpath(
        "sources.toml").read_text(encoding="utf-8"))
    path = config_path(explicit)
    named = explicit is not None or bool(os.environ.get("VCAUDIT_CONFIG"))
    user: dict[str, Any] = {}
    if path.is_file():
        try:
            user = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ListConfigError(f"{path}: cannot be read as TOML ({exc})") from exc
    elif named:
        raise ListConfigError(f"{path}: config file not found")
    where = str(path) if user else "sources.toml"
    unknown = set(user) - {"lists", "list", "ranges", "range"}
    if unknown:
        raise ListConfigError(f"{path}: unknown top-level keys {sorted(unknown)}")
    lists = {name: _list_source(name, {**builtin["list"].get(name, {}), **raw},
                                f"{where}: [list.{name}]", path.parent)
             for name, raw in _merged(builtin.get("list", {}), user.get("list", {}), where)}
    ranges = {name: _range_source(name, {**builtin["range"].get(name, {}), **raw},
                                  f"{where}: [range.{name}]")
              for name, raw in _merged(builtin.get("range", {}), user.get("range", {}), where)}
    use = tuple(_names(user.get("lists", builtin["lists"]), "use", lists, f"{where}: [lists]"))
    use_ranges = tuple(_names(user.get("ranges", builtin["ranges"]), "use", ranges,
                              f"{where}: [ranges]"))
    return ListConfig(lists, ranges, use, use_ranges, path if user else None)


def _merged(builtin: dict[str, Any], user: Any, where: str) -> list[tuple[str, dict[str, Any]]]:
    if not isinstance(user, dict):
        raise ListConfigError(f"{where}: list/range entries must be tables")
    names = list(builtin) + [n for n in user if n not in builtin]
    out = []
    for name in names:
        raw = user.get(name, {})
        if not isinstance(raw, dict):
            raise ListConfigError(f"{where}: [{name}] must be a table")
        if not _NAME.match(name):
            raise ListConfigError(f"{where}: name {name!r} must be lowercase letters, digits, '-'")
        out.append((name, raw))
    return out


def _list_source(name: str, raw: dict[str, Any], where: str, base: Path) -> ListSource:
    unknown = set(raw) - _LIST_KEYS
    if unknown:
        raise ListConfigError(f"{where}: unknown keys {sorted(unknown)}")
    fmt = raw.get("format")
    if fmt not in LIST_FORMATS:
        raise ListConfigError(f"{where}: format must be one of {', '.join(LIST_FORMATS)}")
    if not raw.get("url") and not raw.get("path"):
        raise ListConfigError(f"{where}: a list needs a url (downloaded by `vcaudit lists "
                              "update`) or a path (a local file read in place)")
    if not isinstance(raw.get("licence"), str) or not raw["licence"].strip():
        raise ListConfigError(f"{where}: 'licence' is required (e.g. \"MIT\"), so reports can "
                              "say under which terms the list was used")
    category = raw.get("category")
    if fmt in ("abp", "hosts") and category not in _CATEGORIES:
        raise ListConfigError(f"{where}: a {fmt} list needs category = "
                              f"{' | '.join(repr(c) for c in _CATEGORIES)}")
    path = raw.get("path")
    return ListSource(
        name=name, title=str(raw.get("title") or name), format=fmt, url=raw.get("url"),
        path=(base / Path(path).expanduser()) if path else None, licence=raw["licence"],
        category=_CATEGORIES.get(category) if category else None, region=raw.get("region"),
        note=raw.get("note"))


def _range_source(name: str, raw: dict[str, Any], where: str) -> RangeSource:
    unknown = set(raw) - _RANGE_KEYS
    if unknown:
        raise ListConfigError(f"{where}: unknown keys {sorted(unknown)}")
    if raw.get("format") not in RANGE_FORMATS:
        raise ListConfigError(f"{where}: format must be one of {', '.join(RANGE_FORMATS)}")
    urls = raw.get("urls")
    if not isinstance(urls, list) or not urls or not all(isinstance(u, str) for u in urls):
        raise ListConfigError(f"{where}: 'urls' must be a non-empty list of URLs")
    if not isinstance(raw.get("entity"), str):
        raise ListConfigError(f"{where}: 'entity' (a catalog entity id) is required")
    return RangeSource(name=name, title=str(raw.get("title") or name), format=raw["format"],
                       entity=raw["entity"], app=raw.get("app"), urls=tuple(urls))


def _names(table: Any, key: str, known: dict[str, Any], where: str) -> list[str]:
    value = table.get(key, []) if isinstance(table, dict) else None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ListConfigError(f"{where}: '{key}' must be a list of names")
    unknown = [v for v in value if v not in known]
    if unknown:
        raise ListConfigError(f"{where}: '{key}' names unknown {', '.join(unknown)}")
    return value
