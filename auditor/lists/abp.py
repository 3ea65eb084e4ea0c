"""Filter lists in Adblock Plus syntax (EasyList, EasyPrivacy, and any other).

URLs are matched by Brave's engine (the `adblock` package, Rust): every network rule, its
exceptions, `$important`, `$badfilter`, resource types and first-/third-party context, as a
browser would. A name without a URL (a TLS SNI, a DNS answer) is matched only on the list's
hostname rules (`||host^`, optionally `$third-party` or resource types) and their `@@`
exceptions, so a generic path rule such as `/analytics.js` or `-ads-` can never fire on a bare
name. Evidence names the exact rule and its line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import adblock

from auditor.lists.model import ListEntry, ListHit, ListInfo, RequestContext
from auditor.names.domains import domain_suffixes
from auditor.records import Category, ListRef

_HOST_RULE = re.compile(r"^(@@)?\|\|([a-z0-9_.-]+)(?:\^\|?|\|)?(?:\$(.+))?$")
_HEADER = re.compile(r"^!\s*(Title|Version|Last modified|TimeUpdated|Updated)\s*:\s*(.+?)\s*$",
                     re.IGNORECASE)
_COSMETIC = ("##", "#@#", "#?#", "#$#", "#%#", "#@$#", "#@?#", "$$", "#+js")
# Options under which a hostname rule still speaks about the host as such. Rules tied to a
# page (`$domain=`, `$first-party`), to popups, or that rewrite requests are left to the engine.
_RESOURCE_TYPES = frozenset({
    "script", "image", "stylesheet", "css", "object", "xmlhttprequest", "xhr", "subdocument",
    "frame", "ping", "beacon", "media", "font", "websocket", "other", "document", "doc",
})
_HOST_OPTIONS = _RESOURCE_TYPES | {"third-party", "3p", "important", "all", "match-case"}


class _DomainRules(NamedTuple):
    """What a list's hostname rules say about one domain (matching probes once per suffix)."""

    block: ListEntry | None  # the blocking rule naming the domain
    important: bool  # the blocking rule has $important: exceptions do not lift it
    excepted: bool  # an @@ exception names the domain


@dataclass(slots=True)
class _HostRules:
    """Hostname rules of one list: blocking rules and exceptions, by domain."""

    block: dict[str, ListEntry] = field(default_factory=dict)
    important: set[str] = field(default_factory=set)
    allow: dict[str, str] = field(default_factory=dict)  # domain -> exception rule text


class AbpList:
    """A filter list, matched by the adblock engine (URLs) and its hostname rules (names)."""

    def __init__(self, text: str, ref: ListRef, url: str | None, category: Category) -> None:
        header = abp_header(text)
        self.title = header.get("title")
        self.version = header.get("version")
        self._category = category
        self._lines: dict[str, int] = {}
        self._url_entries: dict[str, ListEntry] = {}  # by rule text, made as URLs match
        self._hosts = _HostRules()
        entries = self._scan(text)
        self._by_domain = _domain_rules(self._hosts)
        filters = adblock.FilterSet(debug=True)  # debug: results name the matching rule
        filters.add_filter_list(text)
        self._engine = adblock.Engine(filters, optimize=False)
        # The list's own version stamp is the one a reader can check against.
        ref = replace(ref, version=self.version or ref.version)
        self.info = ListInfo(ref=ref, format="abp", url=url, entries=entries, category=category)

    def match_host(self, host: str) -> ListHit | None:
        """The most specific hostname rule covering `host`, unless an exception covers it."""
        return self.match_name(host, domain_suffixes(host))

    def match_name(self, name: str, suffixes: Sequence[str]) -> ListHit | None:
        """match_host with the name's suffixes already computed: one probe per suffix."""
        by_domain = self._by_domain
        entry: ListEntry | None = None
        domain = ""
        important = excepted = False
        for suffix in suffixes:
            rules = by_domain.get(suffix)
            if rules is None:
                continue
            if entry is None and rules.block is not None:
                entry, domain, important = rules.block, suffix, rules.important
            excepted = excepted or rules.excepted
        if entry is None or (excepted and not important):
            return None
        return ListHit(self.info, entry, domain, name)

    def named_domains(self) -> Iterable[str]:
        """The domains of the hostname rules and their exceptions."""
        return self._by_domain.keys()

    def match_url(self, request: RequestContext) -> ListHit | None:
        """What the engine says about a request: the blocking rule that matched, if any."""
        result = self._engine.check_network_urls_with_hostnames(
            request.url, request.host, request.source_host or "", request.request_type,
            request.third_party)
        if not result.matched or not result.filter:
            return None
        rule = str(result.filter)
        entry = self._url_entries.get(rule)
        if entry is None:  # one entry per rule, as for hostname rules
            entry = ListEntry(rule=rule, line=self._lines.get(rule), category=self._category)
            self._url_entries[rule] = entry
        return ListHit(self.info, entry, anchored_domain(rule), request.url)

    def _scan(self, text: str) -> int:
        """Index hostname rules and line numbers; return the number of network rules."""
        hosts = self._hosts
        bad: set[str] = set()
        count = 0
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line[0] in "![" or any(m in line for m in _COSMETIC):
                continue
            count += 1
            self._lines.setdefault(line, number)
            if "badfilter" in line.rpartition("$")[2].split(","):
                bad.add(_without_badfilter(line))
                continue
            match = _HOST_RULE.match(line)
            if match is None:
                continue
            exception, domain, options = match.groups()
            names = set(options.split(",")) if options else set()
            if not names <= _HOST_OPTIONS or (names & {"document", "doc"} and exception):
                continue
            if exception:
                hosts.allow.setdefault(domain, line)
            elif domain not in hosts.block:
                hosts.block[domain] = ListEntry(rule=line, line=number, category=self._category)
                if "important" in names:
                    hosts.important.add(domain)
        for domain, entry in list(hosts.block.items()):
            if entry.rule in bad:
                del hosts.block[domain]
        for domain, rule in list(hosts.allow.items()):
            if rule in bad:
                del hosts.allow[domain]
        return count


def _domain_rules(hosts: _HostRules) -> dict[str, _DomainRules]:
    """Blocking rules, `$important` and exceptions merged into one entry per domain."""
    return {domain: _DomainRules(hosts.block.get(domain), domain in hosts.important,
                                 domain in hosts.allow)
            for domain in (*hosts.block, *hosts.allow)}


def abp_header(text: str) -> dict[str, str]:
    """Title and version from a filter list's `! Title:` / `! Version:` / `! Last modified:`
    comments (the first 60 lines)."""
    found: dict[str, str] = {}
    for line in text.splitlines()[:60]:
        match = _HEADER.match(line.strip())
        if match:
            key = match.group(1).lower()
            key = "title" if key == "title" else "version" if key == "version" else "modified"
            found.setdefault(key, match.group(2))
    if "version" not in found and "modified" in found:
        found["version"] = found["modified"]
    return found


def anchored_domain(rule: str) -> str | None:
    """The host a rule is anchored to (`||ads.example.com^$script` -> ads.example.com), or
    None for a rule that can match any host (`/analytics.js`, `-ad-banner.`)."""
    body = rule[2:] if rule.startswith("@@") else rule
    if not body.startswith("||"):
        return None
    match = re.match(r"\|\|([a-z0-9_.-]+)(?:[\^/|$:]|$)", body)
    return match.group(1) if match and "." in match.group(1) else None


def _without_badfilter(line: str) -> str:
    rule, _, options = line.partition("$")
    kept = [o for o in options.split(",") if o != "badfilter"]
    return f"{rule}${','.join(kept)}" if kept else rule
