"""Deciding who an endpoint belongs to and what it is for, with the evidence for it.

Pure functions over the catalog: no I/O. Precedence (docs/catalog-format.md):
the most specific domain rule for the name (ad-tech > analytics > service at equal
specificity; a tracker reached through the capture's CNAME chain overrides a service), then a
local address, then a known alias, then the vendor's published IP ranges, else `unknown`.
Purpose beats ownership: a vendor's own telemetry host is `analytics` with `first_party` set.
"""

from __future__ import annotations

from auditor.catalog import Catalog, DomainMatch, NetworkMatch, Purpose, Rule
from auditor.domain_names import is_ip_address, normalise_host
from auditor.records import Category, Classification, Evidence

TRACKING = (Purpose.ANALYTICS, Purpose.AD_TECH)


def category_of(rule: Rule, app_entity: str | None) -> Category:
    """The category a rule gives in a session whose audited app is made by `app_entity`."""
    if rule.purpose is Purpose.LOCAL:
        return Category.LOCAL
    if rule.purpose is Purpose.ANALYTICS:
        return Category.ANALYTICS
    if rule.purpose is Purpose.AD_TECH:
        return Category.AD_TECH
    return Category.FIRST_PARTY if rule.entity == app_entity else Category.THIRD_PARTY


def classify_endpoint(
    catalog: Catalog,
    host: str | None,
    address: str | None,
    app_entity: str | None,
    cname_chain: tuple[str, ...] = (),
) -> Classification:
    """Classify one endpoint known by a host name and/or a server address.

    `cname_chain` is the alias path the capture's DNS showed from `host` to the name holding
    the address (host first), used to see through CNAME cloaking.
    """
    name = normalise_host(host) if host and not is_ip_address(normalise_host(host)) else None
    network = catalog.match_address(address) if address else None
    domain = catalog.match_host(name) if name else None
    if domain is not None and domain.rule.purpose is Purpose.LOCAL:
        return _decided(catalog, domain.rule, app_entity, [_domain_evidence(domain, name)])
    cloaked = _tracker_behind_alias(catalog, cname_chain[1:] if name else ())
    if domain is not None:
        # The name the client asked for decides; an address that disagrees (another
        # vendor's range, or a LAN/loopback address such as a local relay) is reported.
        evidence = [_domain_evidence(domain, name)]
        rule = domain.rule
        if cloaked is not None and domain.rule.purpose not in TRACKING:
            rule = cloaked.rule
            evidence.append(_cname_evidence(cloaked, cname_chain))
        if network is not None and network.rule.entity != domain.rule.entity:
            evidence.append(_conflict_evidence(catalog, network, address, domain.rule))
        return _decided(catalog, rule, app_entity, evidence)
    if network is not None and network.rule.purpose is Purpose.LOCAL:
        return _decided(catalog, network.rule, app_entity, [_network_evidence(network, address)])
    if name is not None:
        via_alias = cloaked or _any_alias_match(catalog, cname_chain[1:])
        if via_alias is not None:
            return _decided(catalog, via_alias.rule, app_entity,
                            [_cname_evidence(via_alias, cname_chain)])
    if network is not None:
        evidence = [_network_evidence(network, address)]
        if name is not None:
            evidence.insert(0, Evidence("rule", f"no catalog rule matches the name {name}"))
        return _decided(catalog, network.rule, app_entity, evidence)
    what = " or ".join(x for x in (f"name {name}" if name else None,
                                   f"address {address}" if address else None) if x)
    return Classification(
        category=Category.UNKNOWN, entity=None, first_party=False,
        evidence=(Evidence("rule", f"no catalog rule matches the {what or 'endpoint'}"),),
    )


def _decided(catalog: Catalog, rule: Rule, app_entity: str | None,
             evidence: list[Evidence]) -> Classification:
    entity = catalog.entities[rule.entity]
    first_party = app_entity is not None and rule.entity == app_entity
    if first_party and rule.purpose in TRACKING:
        evidence.append(Evidence(
            "rule", f"{entity.name} makes the audited app, but this host is for "
            f"{rule.purpose.value}: purpose beats ownership"))
    return Classification(
        category=category_of(rule, app_entity), entity=entity.name, first_party=first_party,
        evidence=tuple(evidence), label=rule.label,
    )


def _tracker_behind_alias(catalog: Catalog, aliases: tuple[str, ...]) -> DomainMatch | None:
    for alias in aliases:
        match = catalog.match_host(alias)
        if match is not None and match.rule.purpose in TRACKING:
            return match
    return None


def _any_alias_match(catalog: Catalog, aliases: tuple[str, ...]) -> DomainMatch | None:
    for alias in aliases:
        match = catalog.match_host(alias)
        if match is not None:
            return match
    return None


def _where(rule: Rule) -> str:
    return f"{rule.file}:{rule.line}" if rule.line else rule.file


def _domain_evidence(match: DomainMatch, name: str | None) -> Evidence:
    rule = match.rule
    return Evidence(
        kind="rule",
        detail=(f"host {name} matches domain {match.domain} of rule {rule.id} "
                f"({rule.label}; {_where(rule)})"),
        rule=rule.id, file=_where(rule), matched=match.domain, source=rule.source,
    )


def _network_evidence(match: NetworkMatch, address: str | None) -> Evidence:
    rule = match.rule
    return Evidence(
        kind="local-range" if rule.purpose is Purpose.LOCAL else "ip-range",
        detail=(f"address {address} is in {match.network} of rule {rule.id} "
                f"({rule.label}; {_where(rule)})"),
        rule=rule.id, file=_where(rule), matched=match.network, source=rule.source,
    )


def _cname_evidence(match: DomainMatch, chain: tuple[str, ...]) -> Evidence:
    rule = match.rule
    return Evidence(
        kind="cname",
        detail=(f"the capture's DNS shows {' -> '.join(chain)}; {match.domain} is rule "
                f"{rule.id} ({rule.label}; {_where(rule)})"),
        rule=rule.id, file=_where(rule), matched=match.domain, source=rule.source,
    )


def _conflict_evidence(catalog: Catalog, network: NetworkMatch, address: str | None,
                       by_name: Rule) -> Evidence:
    owner = catalog.entities[network.rule.entity].name
    named = catalog.entities[by_name.entity].name
    where = ("a local address" if network.rule.purpose is Purpose.LOCAL
             else f"listed for {owner}")
    return Evidence(
        kind="conflict",
        detail=(f"the name says {named}, but address {address} is in {network.network}, "
                f"{where} by rule {network.rule.id}; the name decides"),
        rule=network.rule.id, file=_where(network.rule), matched=network.network,
        source=network.rule.source,
    )
