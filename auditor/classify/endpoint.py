"""Deciding who an endpoint belongs to and what it is for, with the evidence for it.

Pure functions over the catalog and loaded lists: no I/O. Precedence (docs/catalog-format.md):
the most specific domain rule for the name (a user's rule first, then ad-tech > analytics >
service at equal specificity; a tracker reached through the capture's CNAME chain overrides a
service), then a local address, then a known alias, then the vendor's published IP ranges,
then (after the lists) the autonomous system of a public address, else `unknown`. Standard
lists (classify_lists.py) come after the catalog. Purpose beats
ownership: a vendor's own telemetry host is `analytics` with `first_party` set.
"""

from __future__ import annotations

from collections.abc import Sequence

from auditor.classify.address_owner import with_address_owner
from auditor.classify.catalog import Catalog
from auditor.classify.decision import CatalogDecision
from auditor.classify.list_weighing import ListOutcome, list_hits, no_list_evidence, weigh_lists
from auditor.classify.rules import DomainMatch, NetworkMatch, Purpose, Rule, category_of
from auditor.lists.model import RequestContext, TrackerList
from auditor.names.domains import is_ip_address, normalise_host
from auditor.records import Category, Classification, Evidence

TRACKING = (Purpose.ANALYTICS, Purpose.AD_TECH)


def classify_endpoint(
    catalog: Catalog,
    host: str | None,
    address: str | None,
    app_entity: str | None,
    cname_chain: tuple[str, ...] = (),
    request: RequestContext | None = None,
    lists: Sequence[TrackerList] | None = None,
) -> Classification:
    """Classify one endpoint known by a host name and/or a server address.

    `cname_chain` is the alias path the capture's DNS showed from `host` to the name holding
    the address (host first), used to see through CNAME cloaking. `request` is the HTTP
    request of a proxied flow, matched on its full URL by filter lists. `lists` are the
    standard lists to weigh (default: those loaded with the catalog). When neither decides, a
    public address's autonomous system may (address_owner.py).
    """
    verdict = _by_name_and_range(catalog, host, address, app_entity, cname_chain, request,
                                 lists)
    if verdict.category is Category.UNKNOWN and address is not None:
        return with_address_owner(catalog, verdict, address, app_entity)
    return verdict


def _by_name_and_range(
    catalog: Catalog,
    host: str | None,
    address: str | None,
    app_entity: str | None,
    cname_chain: tuple[str, ...],
    request: RequestContext | None,
    lists: Sequence[TrackerList] | None,
) -> Classification:
    """The catalog's and the lists' verdict from the name, aliases and published ranges."""
    normal = normalise_host(host) if host else None
    name = normal if normal and not is_ip_address(normal) else None
    lists = catalog.lists if lists is None else lists
    # The catalog's and each list's match for the name, looked up at once (name_lookup.py).
    domain, name_hits = catalog.name_lookup(lists).matches(name) if name else (None, ())
    decision = catalog_decision(catalog, name, address, cname_chain, domain)
    if lists and (name is not None or request is not None):
        hits = (name_hits if request is None
                else list_hits(lists, name, request, decision, app_entity))
        aliases = cname_chain[1:] if name else ()
        if not hits and not aliases:  # the common case: no list knows the name
            if decision.rule is None:
                return decided(catalog, decision, app_entity, (no_list_evidence(lists),))
            return decided(catalog, decision, app_entity)
        outcome = weigh_lists(catalog, decision, hits, lists, aliases, cname_chain)
        if outcome.winner is not None:
            return _listed(catalog, decision, outcome, app_entity)
        return decided(catalog, decision, app_entity, outcome.evidence)
    return decided(catalog, decision, app_entity)


def catalog_decision(catalog: Catalog, name: str | None, address: str | None,
                     cname_chain: tuple[str, ...], domain: DomainMatch | None) -> CatalogDecision:
    """The catalog's own answer for a normalised name and/or an address; `domain` is the
    catalog's match for the name itself (Catalog.match_host)."""
    network = catalog.match_address(address) if address else None
    if domain is None and network is None and (name is None or len(cname_chain) < 2):
        # The catalog knows neither the name, an alias nor the address (most names).
        return CatalogDecision(None, [], "none", None, name, address)
    rule, evidence, basis = _catalog_answer(catalog, name, address, cname_chain, domain,
                                            network)
    return CatalogDecision(rule, evidence, basis, domain, name, address)


def _catalog_answer(catalog: Catalog, name: str | None, address: str | None,
                    cname_chain: tuple[str, ...], domain: DomainMatch | None,
                    network: NetworkMatch | None) -> tuple[Rule | None, list[Evidence], str]:
    """The deciding rule, its evidence and the basis, from the name's and address's matches."""
    if domain is not None and domain.rule.purpose is Purpose.LOCAL:
        return domain.rule, [domain_evidence(domain, name)], "local-name"
    cloaked = _tracker_behind_alias(catalog, cname_chain[1:] if name else ())
    if domain is not None:
        # The name the client asked for decides; an address that disagrees (another
        # vendor's range, or a LAN/loopback address such as a local relay) is reported.
        evidence = [domain_evidence(domain, name)]
        rule, basis = domain.rule, "name"
        if cloaked is not None and domain.rule.purpose not in TRACKING:
            rule, basis = cloaked.rule, "cname"
            evidence.append(cname_evidence(cloaked, cname_chain))
        if network is not None and network.rule.entity != domain.rule.entity:
            evidence.append(_conflict_evidence(catalog, network, address, domain.rule))
        return rule, evidence, basis
    if network is not None and network.rule.purpose is Purpose.LOCAL:
        return network.rule, [_network_evidence(network, address)], "local"
    if name is not None:
        via_alias = cloaked or _any_alias_match(catalog, cname_chain[1:])
        if via_alias is not None:
            return (via_alias.rule, [cname_evidence(via_alias, cname_chain)],
                    "cname" if via_alias.rule.purpose in TRACKING else "alias")
    if network is not None:
        evidence = [_network_evidence(network, address)]
        if name is not None:
            evidence.insert(0, _no_rule_evidence(name, None))
        return network.rule, evidence, "range"
    return None, [], "none"


def decided(catalog: Catalog, decision: CatalogDecision, app_entity: str | None,
            extra: Sequence[Evidence] = ()) -> Classification:
    """The classification the catalog's decision gives, with any extra evidence after it."""
    # Classification's fields are passed in order (category, entity, first_party, evidence,
    # label): keyword arguments cost a quarter more per object, and this runs for every name.
    rule = decision.rule
    if rule is None:
        return Classification(Category.UNKNOWN, None, False,
                              (_no_rule_evidence(decision.name, decision.address), *extra))
    entity = catalog.entities[rule.entity]
    first_party = app_entity is not None and rule.entity == app_entity
    evidence = decision.evidence
    if first_party and rule.purpose in TRACKING:
        evidence = [*evidence, ownership_evidence(entity.name, rule.purpose.value)]
    return Classification(category_of(rule, app_entity), entity.name, first_party,
                          (*evidence, *extra), rule.label)


def _listed(catalog: Catalog, decision: CatalogDecision, outcome: ListOutcome,
            app_entity: str | None) -> Classification:
    """The classification a list's entry gives. Who owns the host comes from the catalog when
    it knows the name (the list says what the host is for), else from the list's owner data."""
    hit = outcome.winner
    assert hit is not None
    entity_id: str | None = None
    entity_name = hit.entry.organisation
    if decision.domain is not None:
        entity_id = decision.domain.rule.entity
    elif entity_name:
        known = catalog.entity_named(entity_name)
        entity_id = known.id if known else None
    if entity_id is not None:
        entity_name = catalog.entities[entity_id].name
    first_party = app_entity is not None and entity_id == app_entity
    category = hit.category
    if category is Category.THIRD_PARTY and first_party:
        category = Category.FIRST_PARTY
    evidence = [outcome.evidence[0], *decision.evidence]
    if first_party and category in (Category.ANALYTICS, Category.AD_TECH):
        evidence.append(ownership_evidence(entity_name or "", category.value))
    label = f"{hit.entry.list_category or category.value} according to {hit.info.ref.title}"
    return Classification(category, entity_name, first_party,  # fields in order, as decided()
                          (*evidence, *outcome.evidence[1:]), label)


def _no_rule_evidence(name: str | None, address: str | None) -> Evidence:
    """The note that no catalog rule matches the name and/or the address."""
    if name and address:
        what = f"name {name} or address {address}"
    elif name or address:
        what = f"name {name}" if name else f"address {address}"
    else:
        what = "endpoint"
    return Evidence("rule", f"no catalog rule matches the {what}")


def ownership_evidence(vendor: str, purpose: str) -> Evidence:
    """The note that a vendor's own host is classified by what it is for."""
    return Evidence("rule", f"{vendor} makes the audited app, but this host is for "
                            f"{purpose}: purpose beats ownership")


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


def where(rule: Rule) -> str:
    """A rule's file and line, as evidence shows it."""
    return _rule_texts(rule)[0]


# where() and "<id> (<label>; <file:line>)" per rule, by the rule's identity: the catalog keeps
# its rules, and these texts are in the evidence of every name a rule matches. The memo holds
# the rule (so an id is never reused while held); reset when it grows.
_RULE_TEXTS: dict[int, tuple[Rule, str, str]] = {}


def _rule_texts(rule: Rule) -> tuple[str, str]:
    held = _RULE_TEXTS.get(id(rule))
    if held is not None and held[0] is rule:
        return held[1], held[2]
    file = f"{rule.file}:{rule.line}" if rule.line else rule.file
    summary = f"{rule.id} ({rule.label}; {file})"
    if len(_RULE_TEXTS) >= 65536:
        _RULE_TEXTS.clear()
    _RULE_TEXTS[id(rule)] = (rule, file, summary)
    return file, summary


def domain_evidence(match: DomainMatch, name: str | None) -> Evidence:
    """Evidence for a catalog domain rule matching a name."""
    rule = match.rule
    file, summary = _rule_texts(rule)
    whose = "your rule" if rule.user else "rule"
    # Evidence's fields in order (kind, detail, rule, file, matched, source): see decided().
    return Evidence("rule", f"host {name} matches domain {match.domain} of {whose} {summary}",
                    rule.id, file, match.domain, rule.source)


def _network_evidence(match: NetworkMatch, address: str | None) -> Evidence:
    rule = match.rule
    file, summary = _rule_texts(rule)
    return Evidence(
        kind="local-range" if rule.purpose is Purpose.LOCAL else "ip-range",
        detail=f"address {address} is in {match.network} of rule {summary}",
        rule=rule.id, file=file, matched=match.network, source=rule.source,
    )


def cname_evidence(match: DomainMatch, chain: tuple[str, ...]) -> Evidence:
    """Evidence for a catalog rule reached through the capture's CNAME chain."""
    rule = match.rule
    file, summary = _rule_texts(rule)
    return Evidence(
        kind="cname",
        detail=f"the capture's DNS shows {' -> '.join(chain)}; {match.domain} is rule {summary}",
        rule=rule.id, file=file, matched=match.domain, source=rule.source,
    )


def _conflict_evidence(catalog: Catalog, network: NetworkMatch, address: str | None,
                       by_name: Rule) -> Evidence:
    owner = catalog.entities[network.rule.entity].name
    named = catalog.entities[by_name.entity].name
    place = ("a local address" if network.rule.purpose is Purpose.LOCAL
             else f"listed for {owner}")
    return Evidence(
        kind="conflict",
        detail=(f"the name says {named}, but address {address} is in {network.network}, "
                f"{place} by rule {network.rule.id}; the name decides"),
        rule=network.rule.id, file=where(network.rule), matched=network.network,
        source=network.rule.source,
    )
