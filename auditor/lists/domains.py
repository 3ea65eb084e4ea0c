"""Domain lists: hosts files, Disconnect's services.json and DuckDuckGo Tracker Radar.

Each maps its own categories onto vcaudit's with the tables below (documented in
docs/tracker-lists.md). A hosts file says only "block this name", so its category comes from
the list's configuration. Lists match names (and the host of a URL) on the domain and its
parents; the most specific entry wins.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from auditor.lists.model import (
    CATEGORY_RANK,
    DomainIndex,
    ListEntry,
    ListHit,
    ListInfo,
    RequestContext,
)
from auditor.names.domains import domain_suffixes, is_ip_address
from auditor.records import Category, ListRef

AD, AN, TP = Category.AD_TECH, Category.ANALYTICS, Category.THIRD_PARTY

# Disconnect's categories (services.json "categories" keys).
DISCONNECT_CATEGORIES: dict[str, Category] = {
    "Advertising": AD,
    "Analytics": AN,
    "Social": AD,  # social networks' SDK and pixel endpoints: app events, conversion pixels
    "FingerprintingInvasive": AN,
    "FingerprintingGeneral": AN,
    "Email": AN,  # e-mail open and click tracking
    "EmailAggressive": AN,
    "Content": TP,
    "ConsentManagers": TP,
    "Anti-fraud": TP,
    "Cryptomining": TP,
}

# DuckDuckGo Tracker Radar's categories (docs/CATEGORIES.md of the tracker-radar repository).
TRACKER_RADAR_CATEGORIES: dict[str, Category] = {
    "Advertising": AD,
    "Ad Motivated Tracking": AD,
    "Action Pixels": AD,
    "Ad Fraud": AD,
    "Analytics": AN,
    "Audience Measurement": AN,
    "Third-Party Analytics Marketing": AN,
    "Session Replay": AN,
    "Tag Manager": AN,
    "CDN": TP,
    "Embedded Content": TP,
    "Federated Login": TP,
    "SSO": TP,
    "Online Payment": TP,
    "Social - Comment": TP,
    "Social - Share": TP,
    "Social Network": TP,
    "Badge": TP,
    "Consent Management Platform": TP,
    "Support Chat Widget": TP,
    "Fraud Prevention": TP,
    "Non-Tracking": TP,
    "Non-tracking": TP,
    "Hosting": TP,
    "Malware": TP,
    "Obscure Ownership": TP,
    "Unknown High Risk Behavior": TP,
}

_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)+[a-z0-9-]{1,63}$")
_NOT_HOSTS = frozenset({"localhost", "localhost.localdomain", "local", "broadcasthost",
                        "ip6-localhost", "ip6-loopback", "0.0.0.0"})
_HOSTS_HEADER = re.compile(r"^#\s*(Title|Version|Date|Last modified|Updated)\s*:\s*(.+?)\s*$",
                           re.IGNORECASE)


class ListFormatError(ValueError):
    """A list's content is not in the format it is configured as."""


class DomainList:
    """A list of domains with a category (and often an owner) each."""

    def __init__(self, info: ListInfo, index: DomainIndex) -> None:
        self.info = info
        self.index = index

    def match_host(self, host: str) -> ListHit | None:
        """The most specific entry covering the name."""
        return self.match_name(host, domain_suffixes(host))

    def match_name(self, name: str, suffixes: Sequence[str]) -> ListHit | None:
        """match_host with the name's suffixes already computed."""
        found = self.index.lookup_suffixes(suffixes)
        return ListHit(self.info, found[1], found[0], name) if found else None

    def named_domains(self) -> Iterable[str]:
        """Every domain the list has an entry for."""
        return self.index.domains()

    def match_url(self, request: RequestContext) -> ListHit | None:
        """Domain lists know hosts, not paths: the URL's host decides."""
        return self.match_host(request.host)


def parse_hosts(text: str, ref: ListRef, url: str | None, category: Category) -> DomainList:
    """A hosts file (`0.0.0.0 ads.example.com`) or a plain list of domains, one a line."""
    index = DomainIndex()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip().lower()
        if not line:
            continue
        fields = line.split()
        names = fields[1:] if is_ip_address(fields[0]) else fields[:1]
        for name in names:
            name = name.rstrip(".")
            if name not in _NOT_HOSTS and _NAME.match(name):
                index.add(name, ListEntry(rule=raw.strip(), line=number, category=category))
    if not len(index):
        raise ListFormatError("no host names found (expected lines like '0.0.0.0 host')")
    return DomainList(_info(ref, "hosts", url, len(index), category), index)


def hosts_header(text: str) -> dict[str, str]:
    """Title and version/date from a hosts file's leading comments."""
    found: dict[str, str] = {}
    for line in text.splitlines()[:40]:
        match = _HOSTS_HEADER.match(line.strip())
        if match:
            key = "title" if match.group(1).lower() == "title" else "version"
            found.setdefault(key, match.group(2))
    return found


def parse_disconnect(text: str, ref: ListRef, url: str | None) -> DomainList:
    """Disconnect's services.json: categories -> organisations -> their domains."""
    try:
        data = json.loads(text)
        categories = data["categories"]
        if not isinstance(categories, dict):
            raise TypeError("'categories' is not an object")
    except (ValueError, KeyError, TypeError) as exc:
        raise ListFormatError(f"not Disconnect's services.json ({exc})") from exc
    seen: dict[str, list[tuple[str, str]]] = {}  # domain -> [(category, organisation)]
    for list_category, services in categories.items():
        for service in services if isinstance(services, list) else []:
            for organisation, properties in _items(service):
                for value in properties.values() if isinstance(properties, dict) else ():
                    for domain in value if isinstance(value, list) else ():
                        if isinstance(domain, str):
                            seen.setdefault(domain.lower(), []).append(
                                (list_category, organisation))
    index = DomainIndex()
    for domain, places in seen.items():
        mapped = [(DISCONNECT_CATEGORIES[c], c, o) for c, o in places
                  if c in DISCONNECT_CATEGORIES]
        if not mapped:
            continue
        mapped.sort(key=lambda m: CATEGORY_RANK[m[0]])
        names = sorted({c for _, c, _ in mapped})
        organisation = mapped[0][2]
        index.add(domain, ListEntry(
            rule=f"{' + '.join(names)}: {organisation}: {domain}", line=None,
            category=mapped[0][0], list_category=", ".join(names), organisation=organisation))
    if not len(index):
        raise ListFormatError("Disconnect file without any known category")
    return DomainList(_info(ref, "disconnect", url, len(index), None), index)


def parse_tracker_radar(objects: Iterable[Any], ref: ListRef, url: str | None) -> DomainList:
    """Tracker Radar domain files (one object per domain, or a blocklist's "trackers" map),
    already decoded from JSON: owner and categories per domain."""
    index = DomainIndex()
    for obj in objects:
        records = obj["trackers"].values() if isinstance(obj, dict) and isinstance(
            obj.get("trackers"), dict) else [obj]
        for record in records:
            if not isinstance(record, dict) or not isinstance(record.get("domain"), str):
                continue
            domain = record["domain"].lower()
            owner = record.get("owner")
            owner = owner if isinstance(owner, dict) else {}
            organisation = owner.get("displayName") or owner.get("name") or None
            names = [c for c in record.get("categories") or [] if isinstance(c, str)]
            mapped = sorted((TRACKER_RADAR_CATEGORIES[c] for c in names
                             if c in TRACKER_RADAR_CATEGORIES), key=CATEGORY_RANK.__getitem__)
            category = mapped[0] if mapped else TP
            shown = ", ".join(names) if names else "no category"
            index.add(domain, ListEntry(
                rule=f"{domain}: owner {organisation or 'unknown'}; categories: {shown}",
                line=None, category=category, list_category=", ".join(names) or None,
                organisation=organisation))
    if not len(index):
        raise ListFormatError("no Tracker Radar domain records (objects with 'domain')")
    return DomainList(_info(ref, "tracker-radar", url, len(index), None), index)


def _items(value: Any) -> list[tuple[str, Any]]:
    return [(str(k), v) for k, v in value.items()] if isinstance(value, dict) else []


def _info(ref: ListRef, fmt: str, url: str | None, entries: int,
          category: Category | None) -> ListInfo:
    return ListInfo(ref=ref, format=fmt, url=url, entries=entries, category=category)
