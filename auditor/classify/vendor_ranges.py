"""Vendors' published IP ranges (Zoom's range files, Microsoft 365's endpoints web service)
turned into catalog rules, with the source URL and the fetch date as their evidence.

Pure: the text comes from list_store.py. Only address ranges are taken. The host names in a
vendor's firewall list stay with the catalog, because a vendor listing a host does not make
it the vendor's service (Microsoft's list names telemetry and third-party certificate hosts).
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from auditor.classify.catalog import Purpose, Rule

# Microsoft 365 service areas: "Skype" is Microsoft Teams (and Skype for Business).
M365_AREAS = {"Skype": ("teams", "Microsoft Teams ranges"),
              "Exchange": (None, "Exchange Online ranges"),
              "SharePoint": (None, "SharePoint Online and OneDrive ranges"),
              "Common": (None, "Microsoft 365 common and Office Online ranges")}


class RangeFormatError(ValueError):
    """A vendor's range file is not what it should be (e.g. a captive portal's page)."""


def cidr_text_ranges(text: str) -> list[str]:
    """A range file with one network per line (Zoom's Zoom.txt, ZoomPhone.txt, ...)."""
    networks = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            networks.append(str(ipaddress.ip_network(line, strict=False)))
        except ValueError as exc:
            raise RangeFormatError(f"line {number}: {line[:60]!r} is not a network") from exc
    if not networks:
        raise RangeFormatError("no networks in the file")
    return networks


def m365_ranges(text: str) -> dict[str, list[str]]:
    """The endpoints web service's JSON: networks per service area (Skype, Exchange, ...)."""
    try:
        data: Any = json.loads(text)
    except ValueError as exc:
        raise RangeFormatError(f"not JSON ({exc})") from exc
    if not isinstance(data, list):
        raise RangeFormatError("expected a list of endpoint sets")
    areas: dict[str, list[str]] = {}
    for endpoint_set in data:
        if not isinstance(endpoint_set, dict):
            continue
        area = str(endpoint_set.get("serviceArea", "Common"))
        for cidr in endpoint_set.get("ips") or []:
            try:
                network = str(ipaddress.ip_network(cidr, strict=False))
            except (ValueError, TypeError) as exc:
                raise RangeFormatError(f"endpoint set {endpoint_set.get('id')}: "
                                       f"{cidr!r} is not a network") from exc
            kept = areas.setdefault(area, [])
            if network not in kept:
                kept.append(network)
    if not areas:
        raise RangeFormatError("no IP ranges in the endpoint sets")
    return areas


def range_rules(source: str, fmt: str, entity: str, app: str | None, title: str,
                texts: list[tuple[str, str, str]]) -> list[Rule]:
    """Catalog rules for one source's downloaded files: (url, fetch date, text) each."""
    rules: list[Rule] = []
    for index, (url, fetched, text) in enumerate(texts):
        date = fetched[:10]
        if fmt == "m365-endpoints":
            for area, networks in sorted(m365_ranges(text).items()):
                area_app, label = M365_AREAS.get(area, (None, f"Microsoft 365 {area} ranges"))
                rules.append(_rule(f"{entity}.published-{source}-{area.lower()}", entity,
                                   area_app, f"{label} (published, fetched {date})",
                                   networks, url, date, source))
        else:
            name = url.rstrip("/").rsplit("/", 1)[-1] or str(index)
            slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
            rules.append(_rule(f"{entity}.published-{source}-{slug}", entity, app,
                               f"{title}: {name} (published, fetched {date})",
                               cidr_text_ranges(text), url, date, source))
    return rules


def _rule(rule_id: str, entity: str, app: str | None, label: str, networks: list[str],
          url: str, date: str, source: str) -> Rule:
    return Rule(id=rule_id, entity=entity, purpose=Purpose.SERVICE, app=app, label=label,
                domains=(), cidrs=tuple(networks), source=url, date=date,
                note="downloaded by `vcaudit lists update`", file=f"ranges/{source}",
                line=None)
