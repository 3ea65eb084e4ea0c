"""What the catalog alone decided about an endpoint, before the standard lists are weighed
against it (endpoint.py decides, list_weighing.py weighs)."""

from __future__ import annotations

from dataclasses import dataclass

from auditor.classify.rules import DomainMatch, Rule
from auditor.records import Evidence


@dataclass(slots=True)
class CatalogDecision:
    """What the catalog alone says, and on what basis (lists are weighed against it)."""

    rule: Rule | None
    evidence: list[Evidence]
    basis: str  # "local-name" | "name" | "cname" | "local" | "alias" | "range" | "none"
    domain: DomainMatch | None  # the catalog's match on the name itself
    name: str | None
    address: str | None
