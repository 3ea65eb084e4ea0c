"""Standard lists and vendors' published ranges attached to a catalog for an audit: the lists
chosen (`--lists`, or the config's default) are loaded from the cache, and every cached vendor
range source becomes catalog rules, with the source URL and fetch date as their evidence.

A list not downloaded yet, or a range file that is not what it should be, is noted in the
catalog (and so in the report), never fatal.
"""

from __future__ import annotations

from auditor.classify.catalog import Catalog
from auditor.classify.rules import Purpose, Rule
from auditor.lists.config import ListConfig, ListConfigError, RangeSource
from auditor.lists.domains import ListFormatError
from auditor.lists.fetch import read_meta
from auditor.lists.model import TrackerList
from auditor.lists.store import load_list, range_paths
from auditor.lists.vendor_ranges import (
    M365_AREAS,
    RangeFormatError,
    cidr_text_ranges,
    m365_ranges,
)


def attach_lists(catalog: Catalog, config: ListConfig, names: str | None) -> Catalog:
    """Load the chosen lists (`--lists`; None: the configured default) and every cached
    vendor range source into the catalog. A list not downloaded yet is noted, not fatal."""
    loaded: list[TrackerList] = []
    for source in config.choose(names):
        try:
            loaded.append(load_list(source))
        except FileNotFoundError:
            where = (f"{source.path} does not exist" if source.path is not None
                     else "it has not been downloaded yet: run `vcaudit lists update`")
            catalog.list_notes.append(f"list {source.name} ({source.title}) was not used: "
                                      f"{where}")
        except (OSError, ListFormatError, ValueError) as exc:
            catalog.list_notes.append(f"list {source.name} ({source.title}) was not used: "
                                      f"it cannot be read ({exc})")
    catalog.lists = tuple(loaded)
    for name in config.use_ranges:
        _attach_ranges(catalog, config.ranges[name])
    return catalog.finish()


def _attach_ranges(catalog: Catalog, source: RangeSource) -> None:
    if source.entity not in catalog.entities:
        raise ListConfigError(f"range source {source.name}: unknown entity {source.entity!r}")
    texts = []
    for path in range_paths(source):
        if path.is_file():
            meta = read_meta(path)
            texts.append((meta.get("url", "?"), meta.get("fetched", "?"),
                          path.read_text(encoding="utf-8", errors="replace")))
    try:
        rules = range_rules(source.name, source.format, source.entity, source.app,
                            source.title, texts)
    except RangeFormatError as exc:
        catalog.list_notes.append(f"ranges {source.name} were not used: {exc}")
        return
    for rule in rules:
        if rule.id not in catalog.rules:
            catalog.add_rule(rule)
            catalog.files.append(f"ranges/{source.name}: {rule.source} ({len(rule.cidrs)} "
                                 f"networks, fetched {rule.date})")


def range_rules(source: str, fmt: str, entity: str, app: str | None, title: str,
                texts: list[tuple[str, str, str]]) -> list[Rule]:
    """Catalog rules for one source's downloaded files: (url, fetch date, text) each."""
    rules: list[Rule] = []
    for index, (url, fetched, text) in enumerate(texts):
        date = fetched[:10]
        if fmt == "m365-endpoints":
            for area, networks in sorted(m365_ranges(text).items()):
                area_app, label = M365_AREAS.get(area, (None, f"Microsoft 365 {area} ranges"))
                rules.append(_rule(f"{entity}.published-{source}-{area.lower()}", entity,
                                   area_app, f"{label} (published, fetched {date})",
                                   networks, url, date, source))
        else:
            name = url.rstrip("/").rsplit("/", 1)[-1] or str(index)
            slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
            rules.append(_rule(f"{entity}.published-{source}-{slug}", entity, app,
                               f"{title}: {name} (published, fetched {date})",
                               cidr_text_ranges(text), url, date, source))
    return rules


def _rule(rule_id: str, entity: str, app: str | None, label: str, networks: list[str],
          url: str, date: str, source: str) -> Rule:
    return Rule(id=rule_id, entity=entity, purpose=Purpose.SERVICE, app=app, label=label,
                domains=(), cidrs=tuple(networks), source=url, date=date,
                note="downloaded by `vcaudit lists update`", file=f"ranges/{source}",
                line=None)
