"""Looking a name up in the catalog and in every loaded list at once.

What a source (the catalog's domain rules, one list's entries and exceptions) says about a name
depends only on which of the name's suffixes it names, most specific first; the name itself
appears in a list's answer only as the hit's `matched`. So:

- a name none of whose suffixes any source names matches nothing: one probe per suffix in the
  set of every named domain settles most names of a capture;
- names that no source names themselves (nor, for the catalog, as a `name.*` form:
  country_domains.py) get the same matches when they share a parent domain
  (`n1.cdn.example` and `n2.cdn.example` both get what `cdn.example` and its parents get).
  Captures show many new names under the same few thousand domains, so the matches are kept
  per parent domain and re-aimed at each name.

A lookup is made per catalog and set of lists (catalog.Catalog.name_lookup) and dropped when the
catalog gains a rule; loaded lists do not change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from auditor.classify.rules import DomainMatch
from auditor.lists.model import ListHit, TrackerList
from auditor.names.domains import name_suffixes

# What the sources say about a name: the catalog's most specific rule, and each list's match
# in the lists' order (lists that match nothing are left out).
Matches = tuple[DomainMatch | None, tuple[ListHit, ...]]


class DomainRules(Protocol):
    """What a lookup needs of the catalog: the domains it names, and its most specific rule
    for a name's suffixes."""

    def named_domains(self) -> Iterable[str]:
        """Every domain some rule names."""
        ...

    def match_suffixes(self, suffixes: Sequence[str]) -> DomainMatch | None:
        """The most specific rule for these suffixes of a name (most specific first)."""
        ...

    def country_forms(self, name: str, suffixes: tuple[str, ...]) -> tuple[str, ...]:
        """The suffixes with the `name.*` forms the rules may name (country_domains.py)."""
        ...

    def country_form(self, name: str) -> str | None:
        """The name's own `name.*` form, when the rules may name it."""
        ...
_NOTHING: Matches = (None, ())
PARENTS_KEPT = 16384  # parent domains whose matches are kept; started afresh when full


class NameLookup:
    """The catalog's and the lists' matches for normalised names."""

    def __init__(self, catalog: DomainRules, lists: Sequence[TrackerList]) -> None:
        self._catalog = catalog
        self._lists = tuple(lists)
        self._named = frozenset(catalog.named_domains()).union(
            *(tracker_list.named_domains() for tracker_list in self._lists))
        self._parents: dict[str, Matches] = {}

    def matches(self, name: str) -> Matches:
        """The catalog's domain match and each list's hit for a normalised name."""
        dot = name.find(".")
        if dot < 0 or name in self._named or self._catalog.country_form(name) in self._named:
            return self._look_up(name)
        parent = name[dot + 1:]
        found = self._parents.get(parent)
        if found is None:  # looked up for this name, and kept for the parent's other names
            found = self._look_up(name)
            if len(self._parents) >= PARENTS_KEPT:
                self._parents.clear()
            self._parents[parent] = found
            return found
        domain, hits = found
        if not hits:
            return found
        return domain, tuple([ListHit(hit.info, hit.entry, hit.domain, name) for hit in hits])

    def _look_up(self, name: str) -> Matches:
        """Ask every source, suffix by suffix (unless no source names any suffix)."""
        suffixes = name_suffixes(name)
        ours = self._catalog.country_forms(name, suffixes)  # holds every one of `suffixes`
        if self._named.isdisjoint(ours):
            return _NOTHING
        domain = self._catalog.match_suffixes(ours)
        found = [tracker_list.match_name(name, suffixes) for tracker_list in self._lists]
        return domain, tuple([hit for hit in found if hit is not None])
