"""Weighing standard lists (EasyList, hosts files, Disconnect, Tracker Radar) against the catalog.

Pure: no I/O. The catalog and the user's rules decide first; lists add what they know:

- a list decides where the catalog has nothing for the name (unknown, or known only by
  its address range, a CNAME alias or a local address: the name beats those);
- a list naming a tracker more specifically than a built-in `service` rule decides (a host a
  vendor lists in its firewall docs that is a tracker stays a tracker);
- a list never overrides a user's rule, a catalog tracker rule, or a catalog rule at the same or
  a more specific domain (so `||google.com^` cannot make meet.google.com ad-tech);
- an entry naming a public suffix (`co.uk`, `herokuapp.com`, `googleapis.com`) is over-broad
  and never decides;
- a tracker behind the capture's CNAME chain (CNAME cloaking) is found through lists too.

Every list match becomes evidence naming the list, its version, licence and the exact rule;
where sources disagree, a `conflict` entry says who decided and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from auditor.classify.catalog import Catalog
from auditor.classify.decision import CatalogDecision
from auditor.classify.rules import Purpose, category_of
from auditor.lists.model import (
    CATEGORY_RANK,
    TRACKING_CATEGORIES,
    ListEntry,
    ListHit,
    RequestContext,
    TrackerList,
)
from auditor.records import Category, Evidence, ListRef

_TRACKING_PURPOSES = (Purpose.ANALYTICS, Purpose.AD_TECH)


@dataclass(slots=True)
class ListOutcome:
    """What the lists add: the hit that decides (if a list decides) and the evidence."""

    winner: ListHit | None = None
    via: tuple[str, ...] = ()  # the CNAME chain when the deciding entry named an alias
    evidence: list[Evidence] = field(default_factory=list)


def list_hits(lists: Sequence[TrackerList], name: str | None, request: RequestContext | None,
              decision: CatalogDecision, app_entity: str | None) -> list[ListHit]:
    """Each list's match: on the full URL for an HTTP request, else on the name alone."""
    if request is not None and request.source_host is None and request.third_party is None:
        # An app has no page: its first-party context is its vendor's hosts.
        own = decision.rule is not None and decision.rule.entity == app_entity
        request = RequestContext(request.url, request.host, request.request_type, None, not own)
    hits = []
    for tracker_list in lists:
        if request is not None:
            hit = tracker_list.match_url(request)
        else:
            hit = tracker_list.match_host(name) if name else None
        if hit is not None:
            hits.append(hit)
    return hits


def weigh_lists(catalog: Catalog, decision: CatalogDecision, hits: Sequence[ListHit],
                lists: Sequence[TrackerList], aliases: tuple[str, ...],
                chain: tuple[str, ...]) -> ListOutcome:
    """Decide whether a list's entry decides, and the evidence of every match."""
    if not hits and not aliases:  # the common case: no list knows the name
        return ListOutcome(evidence=[no_list_evidence(lists)] if decision.rule is None else [])
    winner = _deciding_hit(hits, decision)
    via: tuple[str, ...] = ()
    if winner is None and aliases and decision.basis not in ("local-name", "cname") and (
            not _user_decides(decision)):
        cloaked = _tracker_behind_alias(catalog, lists, aliases)
        if cloaked is not None and (not _catalog_tracking(decision) or decision.rule is None):
            winner, via = cloaked, chain
            hits = [*hits, cloaked]
    final = winner.category if winner else _catalog_category(decision)
    evidence = [list_evidence(winner, via)] if winner is not None else []
    for hit in hits:  # the others, in the lists' order
        if hit is winner:
            continue
        evidence.append(list_evidence(hit))
        if hit.over_broad or _disagree(hit.category, final):
            evidence.append(conflict_evidence(hit, _why_not(hit, decision, winner)))
    if not hits and decision.rule is None:
        evidence.append(no_list_evidence(lists))
    return ListOutcome(winner, via, evidence)


def _deciding_hit(hits: Sequence[ListHit], decision: CatalogDecision) -> ListHit | None:
    """The list entry that decides over the catalog's decision, if one does: of the entries
    that are not over-broad, the most specific, then the most privacy-relevant (the first of
    equals)."""
    usable = [hit for hit in hits if not hit.over_broad]
    if not usable:
        return None
    best = usable[0] if len(usable) == 1 else min(usable, key=_rank)
    return best if _list_decides(best, decision) else None


# The last "no loaded list matches" evidence and the lists it is for: the same lists are weighed
# for every endpoint of an audit, and list objects do not change once loaded.
_no_list_memo: tuple[tuple[TrackerList, ...], Evidence] | None = None


def no_list_evidence(lists: Sequence[TrackerList]) -> Evidence:
    """The note that no loaded list matches an endpoint the catalog does not know either."""
    global _no_list_memo
    key = tuple(lists)
    memo = _no_list_memo
    if memo is not None and memo[0] == key:
        return memo[1]
    titles = ", ".join(t.info.ref.title for t in key)
    evidence = Evidence("rule", f"no loaded list ({titles}) matches it either")
    _no_list_memo = (key, evidence)
    return evidence


def list_evidence(hit: ListHit, via: tuple[str, ...] = ()) -> Evidence:
    """Evidence for a list's entry: the list, its version and licence, the exact rule."""
    info, entry, matched = hit.info, hit.entry, hit.matched
    said, file = _entry_texts(entry, info.ref)
    subject = (f"the capture's DNS shows {' -> '.join(via)}; {matched}" if via
               else f"URL {matched}" if matched.startswith(("http:", "https:", "ws"))
               else f"host {matched}")
    # Evidence's fields in order (kind, detail, rule, file, matched, source, tracker_list):
    # keyword arguments cost a quarter more per object, and this runs for every list match.
    return Evidence("list", subject + said, entry.rule, file, hit.domain or matched, info.url,
                    info.ref)


# list_evidence's text about an entry, by the entry's identity: lists keep their entries, so
# the same objects come back for every name they match. The memo holds the entry and the list
# reference it was written for (so an id is never reused while held); reset when it grows.
_ENTRY_TEXTS: dict[int, tuple[ListEntry, ListRef, str, str]] = {}


def _entry_texts(entry: ListEntry, ref: ListRef) -> tuple[str, str]:
    """` matches '<rule>' (line N) of <list>: <category>[, organisation X]` and the
    evidence's file (`easyprivacy:123`)."""
    held = _ENTRY_TEXTS.get(id(entry))
    if held is not None and held[0] is entry and held[1] is ref:
        return held[2], held[3]
    category = entry.category.value
    what = f"{entry.list_category} ({category})" if entry.list_category else category
    owner = f", organisation {entry.organisation}" if entry.organisation else ""
    line = f" (line {entry.line})" if entry.line else ""
    said = f" matches {entry.rule!r}{line} of {_describe_ref(ref)}: {what}{owner}"
    file = f"{ref.name}:{entry.line}" if entry.line else ref.name
    if len(_ENTRY_TEXTS) >= 65536:
        _ENTRY_TEXTS.clear()
    _ENTRY_TEXTS[id(entry)] = (entry, ref, said, file)
    return said, file


def _rank(hit: ListHit) -> tuple[int, int]:
    """Sorts the most specific entry first, then the most privacy-relevant."""
    return -hit.specificity, CATEGORY_RANK[hit.category]


def _describe_ref(ref: ListRef) -> str:
    """`EasyPrivacy (version 202611290912, fetched 2026-11-29, licence GPL-3.0...)`."""
    parts = [f"version {ref.version}" if ref.version else None,
             f"fetched {ref.fetched[:10]}" if ref.fetched else None, f"licence {ref.licence}"]
    return f"{ref.title} ({', '.join(p for p in parts if p)})"


def conflict_evidence(hit: ListHit, reason: str) -> Evidence:
    """A list that disagrees with the category decided, and why it did not decide."""
    listed = hit.entry.list_category or hit.category.value
    mapped = f" ({hit.category.value})" if hit.entry.list_category else ""
    return Evidence(
        kind="conflict",
        detail=(f"{hit.info.ref.title} lists {hit.domain or hit.matched} as {listed}{mapped} "
                f"(rule {hit.entry.rule!r}), but {reason}"),
        rule=hit.entry.rule, file=hit.info.ref.name, matched=hit.domain or hit.matched,
        source=hit.info.url, tracker_list=hit.info.ref,
    )


def _list_decides(hit: ListHit, decision: CatalogDecision) -> bool:
    if decision.basis in ("local-name", "cname"):
        return False
    if decision.basis != "name":
        return True  # the catalog knows only an alias, a range or nothing: the name decides
    rule, domain = decision.rule, decision.domain
    if rule is None or domain is None or rule.user or rule.purpose in _TRACKING_PURPOSES:
        return False
    return hit.category in TRACKING_CATEGORIES and hit.specificity > domain.domain.count(".") + 1


def _user_decides(decision: CatalogDecision) -> bool:
    return decision.domain is not None and decision.domain.rule.user


def _catalog_tracking(decision: CatalogDecision) -> bool:
    return decision.rule is not None and decision.rule.purpose in _TRACKING_PURPOSES


def _catalog_category(decision: CatalogDecision) -> Category:
    if decision.rule is None:
        return Category.UNKNOWN
    # With no app, a service rule is third-party: first- or third-party both mean "a service".
    return category_of(decision.rule, None)


def _tracker_behind_alias(catalog: Catalog, lists: Sequence[TrackerList],
                          aliases: tuple[str, ...]) -> ListHit | None:
    """A listed tracker that one of the name's CNAME aliases points to, unless the catalog
    knows that alias at least as specifically (a CDN's own domain)."""
    for alias in aliases:
        known = catalog.match_host(alias)
        for tracker_list in lists:
            hit = tracker_list.match_host(alias)
            if (hit is None or hit.over_broad or hit.category not in TRACKING_CATEGORIES
                    or (known is not None and known.domain.count(".") + 1 >= hit.specificity)):
                continue
            return hit
    return None


def _disagree(listed: Category, final: Category) -> bool:
    """Whether a list's category contradicts the decision (first- and third-party are both
    services: a list saying "third party" about the vendor's own host is no contradiction)."""
    if listed in TRACKING_CATEGORIES or final in TRACKING_CATEGORIES:
        return listed != final
    return False


def _why_not(hit: ListHit, decision: CatalogDecision, winner: ListHit | None) -> str:
    if hit.over_broad:
        return "the entry names a whole public suffix (over-broad), so it is ignored"
    if winner is not None:
        return f"{winner.info.ref.title}'s more specific or more relevant entry decides"
    rule, domain = decision.rule, decision.domain
    if rule is None:
        return "another list decides"
    if decision.basis == "local-name":
        return f"the catalog's local rule {rule.id} decides"
    if decision.basis == "cname":
        return f"the capture's CNAME chain leads to the catalog's tracker rule {rule.id}"
    if domain is not None and domain.rule.user:
        return f"your rule {domain.rule.id} ({domain.rule.file}) decides"
    if domain is not None:
        ours = domain.domain.count(".") + 1
        if rule.purpose in _TRACKING_PURPOSES:
            return f"the catalog's {rule.purpose.value} rule {rule.id} ({domain.domain}) decides"
        if ours > hit.specificity:
            return f"the catalog's more specific rule {rule.id} ({domain.domain}) decides"
        if ours == hit.specificity:
            return f"the catalog's rule {rule.id} for the same domain decides"
        return (f"the catalog's rule {rule.id} ({domain.domain}) decides; a list overrides "
                "a service rule only to name a tracker more specifically")
    return f"the catalog's rule {rule.id} decides"
