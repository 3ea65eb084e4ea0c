"""The catalog's records: organisations (Entity), their rules (domains and networks that share
a purpose and a source) and what a lookup matched (DomainMatch, NetworkMatch). Data only; the
catalog (catalog.py) loads, checks and indexes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from auditor.records import Category


class Purpose(StrEnum):
    """What a rule's hosts are for (see docs/catalog-format.md)."""

    SERVICE = "service"
    ANALYTICS = "analytics"
    AD_TECH = "ad-tech"
    LOCAL = "local"


# Between rules for the same domain, the more privacy-relevant purpose decides.
PURPOSE_RANK = {Purpose.AD_TECH: 0, Purpose.ANALYTICS: 1, Purpose.SERVICE: 2, Purpose.LOCAL: 3}


@dataclass(frozen=True, slots=True)
class Entity:
    """An organisation."""

    id: str
    name: str
    legal_name: str | None
    homepage: str | None
    apps: tuple[str, ...]
    file: str


@dataclass(frozen=True, slots=True)
class Rule:
    """Domains and networks of one entity that share a purpose and a source."""

    id: str
    entity: str
    purpose: Purpose
    app: str | None
    label: str
    domains: tuple[str, ...]
    cidrs: tuple[str, ...]
    source: str
    date: str
    note: str | None
    file: str
    line: int | None
    user: bool = False  # from a user's --rules file: wins over built-in rules for a domain


def category_of(rule: Rule, app_entity: str | None) -> Category:
    """The category a rule gives in a session whose audited app is made by `app_entity`."""
    if rule.purpose is Purpose.LOCAL:
        return Category.LOCAL
    if rule.purpose is Purpose.ANALYTICS:
        return Category.ANALYTICS
    if rule.purpose is Purpose.AD_TECH:
        return Category.AD_TECH
    return Category.FIRST_PARTY if rule.entity == app_entity else Category.THIRD_PARTY


@dataclass(frozen=True, slots=True)
class DomainMatch:
    """A rule that matched a host name, and the catalog domain it matched on."""

    rule: Rule
    domain: str


@dataclass(frozen=True, slots=True)
class NetworkMatch:
    """A rule that matched an address, and the network it matched in."""

    rule: Rule
    network: str
