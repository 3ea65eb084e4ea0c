"""The catalog: organisations, their domains and IP ranges, and what each is for (the
records themselves are in rules.py).

Loaded from the TOML data files in `auditor/data/catalog/` (format: docs/catalog-format.md)
plus any files the user names. Loading validates every entry and fails with a message naming
the file, line and rule. Lookups are dictionary probes: a host name costs one probe per
label, an address one probe per prefix length in use.
"""

from __future__ import annotations

import ipaddress
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.classify.address_database import AddressDatabases, bundled_databases
from auditor.classify.asn_catalog import AsnEntry, AsnIndex, parse_asn
from auditor.classify.catalog_fields import (
    ANY_COUNTRY_SUFFIX,
    ID,
    RULE_ID,
    CatalogError,
    check_cidr,
    check_date,
    check_domain,
    check_keys,
    line_of,
    required_str,
    str_list,
)
from auditor.classify.catalog_fields import (
    where as entry_where,
)
from auditor.classify.country_domains import country_form, with_country_forms
from auditor.classify.name_lookup import NameLookup
from auditor.classify.rules import (
    PURPOSE_RANK,
    DomainMatch,
    Entity,
    NetworkMatch,
    Purpose,
    Rule,
)
from auditor.names.domains import domain_suffixes, normalise_host

if TYPE_CHECKING:
    from auditor.lists.model import TrackerList

BUILTIN_PACKAGE = "auditor.data.catalog"
__all__ = ["Catalog", "CatalogError", "load_catalog"]
ENTITY_KEYS = {"id", "name", "legal_name", "homepage", "apps", "note"}
RULE_KEYS = {"id", "entity", "purpose", "app", "label", "domains", "cidrs", "source", "date",
             "note"}


@dataclass(slots=True)
class Catalog:
    """Every loaded entity and rule, indexed for lookup."""

    entities: dict[str, Entity] = field(default_factory=dict)
    rules: dict[str, Rule] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    _by_domain: dict[str, list[Rule]] = field(default_factory=dict)
    _by_network: dict[tuple[int, int], dict[int, tuple[Rule, str]]] = field(default_factory=dict)
    _prefixes: dict[int, list[int]] = field(default_factory=dict)
    _by_name: dict[str, Entity] | None = None
    # Last labels of `name.*` domains (`google` for `adservice.google.*`): only names holding
    # one of them are looked up under their country forms (country_domains.py).
    _country_labels: set[str] = field(default_factory=set)
    asns: AsnIndex = field(default_factory=AsnIndex)  # [[asn]] entries (asn_catalog.py)
    # Who holds an address, and where (address_database.py); loaded on first use.
    addresses: AddressDatabases = field(default_factory=bundled_databases)
    # Standard lists (EasyList, hosts files, Disconnect, ...) weighed after the rules; loaded
    # by list_store.py. Held here so every audit path that has the catalog has them too.
    lists: tuple[TrackerList, ...] = ()
    list_notes: list[str] = field(default_factory=list)  # e.g. "EasyList not downloaded yet"
    # name_lookup() per set of lists; a new rule empties it.
    _lookups: dict[tuple[TrackerList, ...], NameLookup] = field(
        default_factory=dict, repr=False, compare=False)

    def app_entity(self, app: str) -> Entity | None:
        """The entity that makes a conferencing app (`zoom` -> Zoom)."""
        for entity in self.entities.values():
            if app in entity.apps:
                return entity
        return None

    def entity_named(self, name: str) -> Entity | None:
        """The entity a list's owner name refers to (`Zoom Communications, Inc.` or `Zoom`),
        matched exactly on the display or legal name, ignoring case."""
        if self._by_name is None:
            self._by_name = {}
            for entity in self.entities.values():
                for label in (entity.name, entity.legal_name):
                    if label:
                        self._by_name.setdefault(label.casefold(), entity)
        return self._by_name.get(name.casefold())

    def apps(self) -> dict[str, Entity]:
        """Every --app name the catalog knows, with its vendor."""
        return {app: e for e in self.entities.values() for app in e.apps}

    def match_host(self, host: str) -> DomainMatch | None:
        """The most specific rule for a host name; at equal specificity ad-tech, then
        analytics, then service."""
        name = normalise_host(host)
        return self.match_suffixes(self.country_forms(name, domain_suffixes(name)))

    def country_forms(self, name: str, suffixes: tuple[str, ...]) -> tuple[str, ...]:
        """A normalised name's suffixes with their `name.*` forms when some rule needs them
        (country_domains.py); else the suffixes themselves."""
        if self._country_labels and not self._country_labels.isdisjoint(name.split(".")):
            return with_country_forms(name, suffixes)
        return suffixes

    def country_form(self, name: str) -> str | None:
        """The name's own `name.*` form when some rule could need it."""
        if self._country_labels and not self._country_labels.isdisjoint(name.split(".")):
            return country_form(name)
        return None

    def match_suffixes(self, suffixes: Sequence[str]) -> DomainMatch | None:
        """match_host for a normalised name given as its suffixes, most specific first
        (domain_names.name_suffixes), as name_lookup.py computes them once for every source."""
        by_domain = self._by_domain
        for suffix in suffixes:
            rules = by_domain.get(suffix)
            if rules:
                return DomainMatch(rules[0], suffix)
        return None

    def named_domains(self) -> Iterable[str]:
        """Every domain a rule names."""
        return self._by_domain.keys()

    def name_lookup(self, lists: Sequence[TrackerList]) -> NameLookup:
        """Names looked up in the rules and `lists` at once (name_lookup.py). Made once per set
        of lists (loaded lists do not change); a new rule drops it."""
        key = tuple(lists)
        lookup = self._lookups.get(key)
        if lookup is None:
            if len(self._lookups) >= 4:
                self._lookups.clear()
            lookup = self._lookups[key] = NameLookup(self, key)
        return lookup

    def match_address(self, address: str) -> NetworkMatch | None:
        """The rule with the longest network prefix containing the address."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return None
        value = int(ip)
        width = ip.max_prefixlen
        for prefix in self._prefixes.get(ip.version, ()):
            network_value = value >> (width - prefix) << (width - prefix)
            hit = self._by_network[(ip.version, prefix)].get(network_value)
            if hit is not None:
                return NetworkMatch(hit[0], hit[1])
        return None

    def add_file(self, text: str, name: str, user: bool = False) -> None:
        """Parse and add one catalog file; raise CatalogError on any bad entry. Rules of a
        `user` file win over built-in rules for the same domain or network."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise CatalogError(f"{name}: not valid TOML: {exc}") from exc
        unknown = set(data) - {"file", "entity", "rule", "asn"}
        if unknown:
            raise CatalogError(f"{name}: unknown top-level keys {sorted(unknown)}")
        self.files.append(name)
        for raw in data.get("entity", []):
            self._add_entity(raw, name, text)
        self._pending_rules.extend((raw, name, text, user) for raw in data.get("rule", []))
        self._pending_asns.extend((parse_asn(raw, name, text, user), name)
                                  for raw in data.get("asn", []))

    def finish(self) -> Catalog:
        """Resolve rules against entities (which may come from any file) and index them."""
        for raw, name, text, user in self._pending_rules:
            self._add_rule(raw, name, text, user)
        self._pending_rules.clear()
        for entry, name in self._pending_asns:
            at = f"{name}:{entry.line}: asn {entry.id!r}" if entry.line else name
            if entry.entity not in self.entities:
                raise CatalogError(f"{at}: unknown entity {entry.entity!r}")
            self.asns.add(entry, at)
        self._pending_asns.clear()
        for rules in self._by_domain.values():
            # A user's rule for a domain overrides the built-in ones; then purpose decides.
            rules.sort(key=lambda r: (not r.user, PURPOSE_RANK[r.purpose]))
        self._prefixes = {}
        for version, prefix in self._by_network:
            self._prefixes.setdefault(version, []).append(prefix)
        for prefixes in self._prefixes.values():
            prefixes.sort(reverse=True)
        self._lookups.clear()  # the order of rules for a domain may have changed
        return self

    _pending_rules: list[tuple[dict[str, Any], str, str, bool]] = field(default_factory=list)
    _pending_asns: list[tuple[AsnEntry, str]] = field(default_factory=list)

    def _add_entity(self, raw: dict[str, Any], name: str, text: str) -> None:
        where = entry_where(name, text, raw.get("id"), "entity")
        check_keys(raw, ENTITY_KEYS, where)
        entity_id = required_str(raw, "id", where)
        if not ID.match(entity_id):
            raise CatalogError(f"{where}: entity id must be lowercase letters, digits and '-'")
        if entity_id in self.entities:
            raise CatalogError(
                f"{where}: entity {entity_id!r} is already defined in "
                f"{self.entities[entity_id].file}"
            )
        apps = tuple(str_list(raw, "apps", where))
        self.entities[entity_id] = Entity(
            id=entity_id,
            name=required_str(raw, "name", where),
            legal_name=raw.get("legal_name"),
            homepage=raw.get("homepage"),
            apps=apps,
            file=name,
        )

    def _add_rule(self, raw: dict[str, Any], name: str, text: str, user: bool) -> None:
        where = entry_where(name, text, raw.get("id"), "rule")
        check_keys(raw, RULE_KEYS, where)
        rule_id = required_str(raw, "id", where)
        if not RULE_ID.match(rule_id):
            raise CatalogError(f"{where}: rule id must look like '<entity>.<name>'")
        if rule_id in self.rules:
            raise CatalogError(f"{where}: rule id {rule_id!r} is already used in "
                               f"{self.rules[rule_id].file}")
        entity = required_str(raw, "entity", where)
        if entity not in self.entities:
            raise CatalogError(f"{where}: unknown entity {entity!r}")
        try:
            purpose = Purpose(required_str(raw, "purpose", where))
        except ValueError as exc:
            raise CatalogError(f"{where}: purpose must be one of "
                               f"{', '.join(p.value for p in Purpose)}") from exc
        date = check_date(raw, where)
        domains = tuple(check_domain(d, where) for d in str_list(raw, "domains", where))
        cidrs = tuple(check_cidr(c, where) for c in str_list(raw, "cidrs", where))
        if not domains and not cidrs:
            raise CatalogError(f"{where}: a rule needs domains or cidrs")
        rule = Rule(
            id=rule_id, entity=entity, purpose=purpose, app=raw.get("app"),
            label=required_str(raw, "label", where), domains=domains, cidrs=cidrs,
            source=required_str(raw, "source", where), date=date, note=raw.get("note"),
            file=name, line=line_of(text, rule_id), user=user,
        )
        self.add_rule(rule)

    def add_rule(self, rule: Rule) -> None:
        """Index a validated rule (from a file, or made from a vendor's published ranges).
        For the same network, the first rule added keeps it, unless a user's rule comes."""
        self.rules[rule.id] = rule
        self._lookups.clear()
        for domain in rule.domains:
            self._by_domain.setdefault(domain, []).append(rule)
            if domain.endswith(ANY_COUNTRY_SUFFIX):
                self._country_labels.add(domain.removesuffix(ANY_COUNTRY_SUFFIX)
                                         .rsplit(".", 1)[-1])
        for cidr in rule.cidrs:
            network = ipaddress.ip_network(cidr)
            slot = self._by_network.setdefault((network.version, network.prefixlen), {})
            key = int(network.network_address)
            held = slot.get(key)
            if held is None or (rule.user and not held[0].user):
                slot[key] = (rule, cidr)


def load_catalog(extra_files: Iterable[Path] = ()) -> Catalog:
    """The built-in catalog plus user files. Raises CatalogError on a bad file."""
    catalog = Catalog()
    for entry in sorted(resources.files(BUILTIN_PACKAGE).iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".toml"):
            catalog.add_file(entry.read_text(encoding="utf-8"), f"catalog/{entry.name}")
    for path in extra_files:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CatalogError(f"{path}: cannot be read ({exc})") from exc
        catalog.add_file(text, str(path), user=True)
    return catalog.finish()
