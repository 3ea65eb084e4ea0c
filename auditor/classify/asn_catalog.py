"""The catalog's autonomous systems: which organisation holds an AS, and whether the servers in
it are the organisation's own (`vendor`) or its customers' (`hosting`).

An `[[asn]]` entry names an organisation's ASes by number and by the organisation names address
databases give them (GeoLite2 as bundled with geoip2fast names the organisation, not the
number), with its source and date like every catalog entry (docs/catalog-format.md). Entries
are looked up by number, else by organisation name when that name belongs to one entry only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from auditor.classify.catalog_fields import (
    RULE_ID,
    CatalogError,
    check_date,
    check_keys,
    line_of,
    required_str,
    str_list,
    where,
)

ASN_KEYS = {"id", "entity", "asns", "names", "kind", "label", "source", "date", "note"}


class AsnKind(StrEnum):
    """What the servers in an AS are."""

    VENDOR = "vendor"  # the organisation's own services: the AS says whose the endpoint is
    HOSTING = "hosting"  # a cloud, CDN or hosting network: it says where, not whose


@dataclass(frozen=True, slots=True)
class AsnEntry:
    """Autonomous systems of an organisation that share a kind and a source."""

    id: str
    entity: str
    asns: tuple[int, ...]
    names: tuple[str, ...]
    kind: AsnKind
    label: str
    source: str
    date: str
    note: str | None
    file: str
    line: int | None
    user: bool = False


def parse_asn(raw: dict[str, Any], name: str, text: str, user: bool) -> AsnEntry:
    """Check one `[[asn]]` table; the entity is checked when the catalog is complete."""
    at = where(name, text, raw.get("id"), "asn")
    check_keys(raw, ASN_KEYS, at)
    entry_id = required_str(raw, "id", at)
    if not RULE_ID.match(entry_id):
        raise CatalogError(f"{at}: asn id must look like '<entity>.<name>'")
    numbers = raw.get("asns")
    if not isinstance(numbers, list) or not numbers or not all(
            isinstance(n, int) and not isinstance(n, bool) and 0 < n < 2**32 for n in numbers):
        raise CatalogError(f"{at}: 'asns' must be a list of AS numbers (1 to 4294967295)")
    names = tuple(str_list(raw, "names", at))
    if any(not n.strip() for n in names):
        raise CatalogError(f"{at}: 'names' must not hold empty names")
    try:
        kind = AsnKind(required_str(raw, "kind", at))
    except ValueError as exc:
        raise CatalogError(f"{at}: kind must be one of "
                           f"{', '.join(k.value for k in AsnKind)}") from exc
    return AsnEntry(
        id=entry_id, entity=required_str(raw, "entity", at), asns=tuple(numbers), names=names,
        kind=kind, label=required_str(raw, "label", at), source=required_str(raw, "source", at),
        date=check_date(raw, at), note=raw.get("note"), file=name,
        line=line_of(text, entry_id), user=user)


@dataclass(slots=True)
class AsnIndex:
    """Entries by AS number and by organisation name (case-insensitive)."""

    entries: dict[str, AsnEntry] = field(default_factory=dict)
    _by_number: dict[int, AsnEntry] = field(default_factory=dict)
    _by_name: dict[str, list[AsnEntry]] = field(default_factory=dict)

    def add(self, entry: AsnEntry, where_: str) -> None:
        """Index an entry; a user's entry takes over an AS number or a name from built-in
        entries (two built-in entries may not claim the same number)."""
        if entry.id in self.entries:
            raise CatalogError(f"{where_}: asn id {entry.id!r} is already used in "
                               f"{self.entries[entry.id].file}")
        for number in entry.asns:
            held = self._by_number.get(number)
            if held is not None and not (entry.user and not held.user):
                raise CatalogError(f"{where_}: AS{number} is already in entry {held.id!r} "
                                   f"({held.file})")
        self.entries[entry.id] = entry
        for number in entry.asns:
            self._by_number[number] = entry
        for name in entry.names:
            held_by = self._by_name.setdefault(name.casefold(), [])
            if entry.user:
                held_by[:] = [e for e in held_by if e.user]
            held_by.append(entry)

    def by_number(self, asn: int) -> AsnEntry | None:
        """The entry for an AS number."""
        return self._by_number.get(asn)

    def by_name(self, name: str) -> AsnEntry | None:
        """The entry whose AS goes by this organisation name, when only one does."""
        found = self._by_name.get(name.casefold())
        return found[0] if found is not None and len(found) == 1 else None
