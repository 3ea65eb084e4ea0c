"""What a standard tracker list says about a host or a URL, whatever its format.

Every loaded list (filter list, hosts file, Disconnect, Tracker Radar) answers the same two
questions: `match_host(name)` for flows known only by a name (SNI, DNS), and
`match_url(request)` for HTTP exchanges seen by the proxy. The answer is a `ListHit` naming
the list (title, version, licence), the exact rule or entry, and the category it maps to.
Pure data: loading and downloading live in store.py and fetch.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from auditor.names.domains import domain_suffixes, is_icann_public_suffix, registrable_domain
from auditor.records import Category, ListRef

# When a list files a domain under several categories, the most privacy-relevant one counts.
CATEGORY_RANK = {Category.AD_TECH: 0, Category.ANALYTICS: 1, Category.THIRD_PARTY: 2}
TRACKING_CATEGORIES = frozenset({Category.AD_TECH, Category.ANALYTICS})


@dataclass(frozen=True, slots=True)
class ListInfo:
    """A loaded list: where it comes from, what it holds, how its categories map to ours."""

    ref: ListRef
    format: str  # "abp" | "hosts" | "disconnect" | "tracker-radar"
    url: str | None  # where it is downloaded from (or the local path it is read from)
    entries: int  # rules or domains loaded
    category: Category | None  # the category of every entry (filter lists, hosts files)


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One domain-level entry of a list: its exact text and what it maps to."""

    rule: str  # the line or entry as the list writes it
    line: int | None
    category: Category
    list_category: str | None = None  # the list's own category name(s), e.g. "Advertising"
    organisation: str | None = None  # who the list says owns the domain


@dataclass(frozen=True, slots=True)
class ListHit:
    """A list's entry matching a host or a URL."""

    info: ListInfo
    entry: ListEntry
    domain: str | None  # the domain the entry names; None for a rule not anchored to a host
    matched: str  # what was matched: the host name, or the URL

    @property
    def specificity(self) -> int:
        """Labels in the matched domain: `log.zoom.us` (3) is more specific than `zoom.us`.
        A rule that is not anchored to a host (a generic path rule) has 0."""
        return self.domain.count(".") + 1 if self.domain else 0

    @property
    def category(self) -> Category:
        """Our category for this hit."""
        return self.entry.category

    @property
    def over_broad(self) -> bool:
        """Whether the entry names a whole public suffix (`co.uk`, `herokuapp.com`,
        `s3.amazonaws.com`): it would flag every customer of a platform, so it never decides."""
        return self.domain is not None and is_public_suffix(self.domain)


@dataclass(frozen=True, slots=True)
class RequestContext:
    """An HTTP request as a filter list sees it: full URL, resource type, who asked."""

    url: str
    host: str
    request_type: str  # "script", "image", "xmlhttprequest", "other", ... (webRequest types)
    source_host: str | None  # the page or origin that made the request, when known
    third_party: bool | None  # None: decide from host and source_host


class TrackerList(Protocol):
    """A loaded list, of any format."""

    info: ListInfo

    def match_host(self, host: str) -> ListHit | None:
        """The most specific entry covering a host name, matched on the name alone."""
        ...

    def match_name(self, name: str, suffixes: Sequence[str]) -> ListHit | None:
        """match_host for a normalised name whose suffixes, most specific first
        (names.domains.name_suffixes), the caller has already computed."""
        ...

    def named_domains(self) -> Iterable[str]:
        """Every domain an entry or an exception names. What match_host answers for a name
        depends only on which of the name's suffixes are among them (and on the name itself
        only as the hit's `matched`): nothing when none is. A loaded list does not change."""
        ...

    def match_url(self, request: RequestContext) -> ListHit | None:
        """The entry matching an HTTP request (full URL, type, first-party context)."""
        ...


class DomainIndex:
    """Domain-level entries, looked up by walking a name's suffixes (one dict probe each)."""

    def __init__(self) -> None:
        self._entries: dict[str, ListEntry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, domain: str, entry: ListEntry) -> None:
        """Add an entry; for a domain already present the more privacy-relevant one stays."""
        held = self._entries.get(domain)
        if held is None or CATEGORY_RANK[entry.category] < CATEGORY_RANK[held.category]:
            self._entries[domain] = entry

    def domains(self) -> Iterable[str]:
        """Every domain with an entry."""
        return self._entries.keys()

    def get(self, domain: str) -> ListEntry | None:
        """The entry for exactly this domain."""
        return self._entries.get(domain)

    def lookup(self, host: str) -> tuple[str, ListEntry] | None:
        """The most specific entry covering `host` (itself or a parent domain)."""
        return self.lookup_suffixes(domain_suffixes(host))

    def lookup_suffixes(self, suffixes: Sequence[str]) -> tuple[str, ListEntry] | None:
        """lookup() for a name given as its suffixes, most specific first."""
        entries = self._entries
        for suffix in suffixes:
            entry = entries.get(suffix)
            if entry is not None:
                return suffix, entry
        return None


@lru_cache(maxsize=65536)
def is_public_suffix(domain: str) -> bool:
    """A suffix under which anyone can register names: ICANN (`com`, `co.uk`) or a platform
    in the public suffix list's private section (`herokuapp.com`, `cloudfront.net`)."""
    if "." not in domain:
        return True
    return is_icann_public_suffix(domain) or registrable_domain(domain) is None


def describe_lists(lists: tuple[TrackerList, ...] | list[TrackerList]) -> list[dict[str, object]]:
    """The loaded lists as the report shows them (`session.lists`)."""
    return [{
        "name": t.info.ref.name, "title": t.info.ref.title, "format": t.info.format,
        "version": t.info.ref.version, "fetched": t.info.ref.fetched,
        "licence": t.info.ref.licence, "entries": t.info.entries, "url": t.info.url,
        "category": t.info.category.value if t.info.category else None,
    } for t in lists]
