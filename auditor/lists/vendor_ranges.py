"""Vendors' published IP ranges (Zoom's range files, Microsoft 365's endpoints web service):
parsing the files into networks (auditor.classify.list_attach makes them catalog rules, with the
source URL and the fetch date as their evidence).

Pure: the text comes from the cache (store). Only address ranges are taken. The host names in a
vendor's firewall list stay with the catalog, because a vendor listing a host does not make
it the vendor's service (Microsoft's list names telemetry and third-party certificate hosts).
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

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
