"""Who holds a public address, when no name or published range says whose the endpoint is.

The address databases (address_database.py) give the address's autonomous system and
country; the catalog's `[[asn]]` entries (asn_catalog.py) say whose AS it is:

- a `vendor` AS (Zoom's AS30103, Meta's AS32934) holds that organisation's own servers: the
  endpoint is the organisation's (first-party when it makes the audited app), with `asn`
  evidence. This is the weakest ownership evidence: a name or a published range decides first.
- a `hosting` AS (Oracle Cloud, AWS, i3D.net, Microsoft's and Google's networks, which also
  carry their cloud customers) says where the server is, not whose: the endpoint stays
  `unknown`, labelled "hosted at ...", and no tenant is named.
- an AS the catalog does not know is named in the evidence and the category stays `unknown`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from auditor.classify.address_database import AddressFacts, open_address_databases
from auditor.classify.asn_catalog import AsnEntry, AsnKind
from auditor.classify.catalog import Catalog
from auditor.records import Category, Classification, Evidence


@dataclass(frozen=True, slots=True)
class AddressOwner:
    """What is known about who holds one public address."""

    facts: AddressFacts
    entry: AsnEntry | None  # the catalog's entry for its AS
    asn: int | None  # from the database, else from the catalog entry found by name

    def record(self) -> dict[str, object]:
        """The `asn`, `as_org` and `country` fields of a report."""
        return {"asn": self.asn, "as_org": self.facts.as_org, "country": self.facts.country}


def use_address_databases(catalog: Catalog, paths: Sequence[Path]) -> None:
    """Make the catalog ask the user's `.mmdb` files first (then the bundled database).
    Raises AddressDatabaseError (a ConfigError) naming a file that cannot be used."""
    catalog.addresses = open_address_databases(paths)


def address_owner(catalog: Catalog, address: str | None) -> AddressOwner | None:
    """Who holds a public address; None for a local, malformed or unknown one."""
    if not address:
        return None
    facts = catalog.addresses.facts(address)
    if facts is None:
        return None
    entry = catalog.asns.by_number(facts.asn) if facts.asn is not None else None
    if entry is None and facts.asn is None and facts.as_org:
        entry = catalog.asns.by_name(facts.as_org)
    # The number, when the database lacks it, from an entry that names one AS only.
    asn = facts.asn if facts.asn is not None else (
        entry.asns[0] if entry is not None and len(entry.asns) == 1 else None)
    return AddressOwner(facts, entry, asn)


def address_owners(catalog: Catalog, addresses: Iterable[str | None]) -> dict[str, AddressOwner]:
    """The owner of each distinct public address (local and unknown ones are left out)."""
    out: dict[str, AddressOwner] = {}
    for address in set(addresses):
        owner = address_owner(catalog, address)
        if address and owner is not None:
            out[address] = owner
    return out


def with_address_owner(catalog: Catalog, verdict: Classification, address: str | None,
                       app_entity: str | None) -> Classification:
    """An `unknown` verdict, completed by who holds the address: a vendor's own AS decides
    the owner; a hosting AS or an AS the catalog does not know only adds evidence."""
    if verdict.category is not Category.UNKNOWN:
        return verdict
    owner = address_owner(catalog, address)
    if owner is None:
        return verdict
    entry = owner.entry
    if entry is None or entry.kind is AsnKind.HOSTING:
        return replace(verdict, evidence=(*verdict.evidence, asn_evidence(catalog, owner)),
                       label=f"hosted at {entry.label}" if entry else verdict.label)
    entity = catalog.entities[entry.entity]
    first_party = app_entity is not None and entry.entity == app_entity
    category = Category.FIRST_PARTY if first_party else Category.THIRD_PARTY
    return Classification(category, entity.name, first_party,
                          (asn_evidence(catalog, owner), *verdict.evidence), entry.label)


def asn_evidence(catalog: Catalog, owner: AddressOwner) -> Evidence:
    """Evidence naming the address's AS, country and database, and the catalog's entry."""
    facts, entry = owner.facts, owner.entry
    holder = facts.holder()
    if facts.asn is None and owner.asn is not None:
        holder = f"AS{owner.asn} (number from the catalog entry) {holder}"
    where_ = f", country {facts.country}" if facts.country else ""
    located = f"address {facts.address} is in {holder}{where_}, according to " \
              f"{facts.according_to()}"
    if entry is None:
        return Evidence("asn", f"{located}; no catalog entry names this network")
    file = f"{entry.file}:{entry.line}" if entry.line else entry.file
    owner_name = catalog.entities[entry.entity].name
    if entry.kind is AsnKind.HOSTING:
        what = "a hosting network whose customers run their own servers there: the tenant " \
               "is not known"
    else:
        what = f"{owner_name} runs its own services there"
    return Evidence(
        kind="asn",
        detail=f"{located}; catalog entry {entry.id} ({file}): {entry.label}, {what}",
        rule=entry.id, file=file,
        matched=f"AS{owner.asn}" if owner.asn is not None else facts.as_org,
        source=entry.source)
