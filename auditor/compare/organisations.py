"""A session's endpoints and personal data grouped by organisation, the unit people compare:
"Meta" rather than graph.facebook.com and its neighbours. An endpoint no organisation is known
for is its own group, named by its host (or address).
"""

from __future__ import annotations

from dataclasses import dataclass

from auditor.compare.view import (
    INSIDE_CATEGORIES,
    DataView,
    EndpointView,
    SessionView,
    Traffic,
    category_rank,
    kind_rank,
)

# (known, name): an organisation the catalog knows, or a bare host; the flag keeps a host
# from ever being taken for an organisation of the same name.
OrganisationKey = tuple[bool, str]


@dataclass(frozen=True, slots=True)
class Received:
    """A kind of personal data an organisation received, and the category of the host that
    received it (the same organisation may run first-party and analytics hosts)."""

    kind: str
    label: str
    category: str


@dataclass(frozen=True, slots=True)
class Organisation:
    """One organisation's part in a session."""

    name: str
    known: bool  # named by the catalog; False: nothing but its host is known
    categories: tuple[str, ...]  # of its endpoints, most telling first (ad-tech before local)
    first_party: bool  # some endpoint of it belongs to the audited app's vendor
    hosts: tuple[str, ...]
    received: tuple[Received, ...]
    traffic: Traffic

    @property
    def key(self) -> OrganisationKey:
        """What identifies the organisation across sessions."""
        return (self.known, self.name)

    @property
    def labels(self) -> tuple[str, ...]:
        """The kinds of data it received, as people read them, in the reports' order."""
        return tuple(dict.fromkeys(r.label for r in self.received))

    @property
    def kinds(self) -> dict[str, str]:
        """The kinds of data it received: machine name -> label."""
        return {r.kind: r.label for r in self.received}

    @property
    def kinds_outside(self) -> dict[str, str]:
        """The kinds of data hosts of it outside the first party (and the LAN) received."""
        return {r.kind: r.label for r in self.received if r.category not in INSIDE_CATEGORIES}


def organisation_key(entity: str | None, host: str) -> OrganisationKey:
    """The group of an endpoint or finding."""
    return (True, entity) if entity else (False, host)


def organisations(view: SessionView, by_category: bool = False) -> list[Organisation]:
    """The session's organisations, most telling category first, then by name. With
    `by_category`, an organisation with endpoints in several categories is one group per
    category (Zoom's service and Zoom's telemetry apart)."""
    endpoints: dict[tuple[OrganisationKey, str], list[EndpointView]] = {}
    for endpoint in view.endpoints:
        key = organisation_key(endpoint.entity, endpoint.host)
        endpoints.setdefault((key, endpoint.category if by_category else ""), []).append(endpoint)
    data: dict[tuple[OrganisationKey, str], list[DataView]] = {}
    for item in view.data:
        key = organisation_key(item.entity, item.host)
        data.setdefault((key, item.category if by_category else ""), []).append(item)
    groups = [_organisation(key, endpoints.get(key, []), data.get(key, []))
              for key in dict.fromkeys([*endpoints, *data])]
    return sorted(groups, key=lambda o: (category_rank(o.categories[0]), o.name.lower(),
                                         o.name, o.categories))


def _organisation(key: tuple[OrganisationKey, str], endpoints: list[EndpointView],
                  data: list[DataView]) -> Organisation:
    (known, name), _ = key
    categories = {e.category for e in endpoints} or {d.category for d in data}
    total = Traffic()
    for endpoint in endpoints:
        total += endpoint.traffic
    received = {(d.kind, d.category): Received(d.kind, d.label, d.category) for d in data}
    return Organisation(
        name=name, known=known,
        categories=tuple(sorted(categories, key=lambda c: (category_rank(c), c))),
        first_party=(any(e.first_party is True for e in endpoints)
                     or any(d.first_party for d in data)),
        hosts=tuple(dict.fromkeys([*(e.host for e in endpoints), *(d.host for d in data)])),
        received=tuple(sorted(received.values(), key=lambda r: (kind_rank(r.kind), r.kind,
                                                                category_rank(r.category)))),
        traffic=total)
