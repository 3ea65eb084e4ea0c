"""Small synthetic lists in the real formats (EasyList/EasyPrivacy ABP syntax, a hosts file,
Disconnect's services.json, Tracker Radar domain files), written by tests: the real lists are
never bundled (their licences) and tests never reach the network."""

from __future__ import annotations

import json
from typing import Any

from auditor.lists.abp import AbpList
from auditor.lists.domains import DomainList, parse_disconnect, parse_hosts, parse_tracker_radar
from auditor.records import Category, ListRef

EASYLIST = """[Adblock Plus 2.0]
! Version: 202611281200
! Title: EasyList
! Last modified: 28 Nov 2026 12:00 UTC
! Licence: https://easylist.to/pages/licence.html
!
! over-broad on purpose: a whole search/mail domain flagged for ads
||google.com^$third-party
||doubleclick.net^
||adsrvr.org^
||ads.example-cdn.net^$script,third-party
||banners.vendorcdn.example^
@@||ok.banners.vendorcdn.example^
||amazonaws.com^
||herokuapp.com^
||googleapis.com^
/adframe.js
-ad-banner.
||popunder.example^$popup
||sitead.example^$domain=news.example
example.org##.ad-box
||gone.example^
||gone.example^$badfilter
"""

EASYPRIVACY = """[Adblock Plus 1.1]
! Version: 202611281730
! Title: EasyPrivacy
! Last modified: 28 Nov 2026 17:30 UTC
!
||google-analytics.com^
||log.zoom.us^
||analytics.zoom.us^
||telemetry.vendorcdn.example^
||metrics.corp-tracker.example^$third-party
||omtrdc.net^
||hotjar.com^$important
@@||hotjar.com^
/analytics/collect?
/pixel.gif?
||stats.wp.com^$script
||teams.microsoft.com/telemetry/
"""

HOSTS = """# Title: Test hosts list
# Date: 2026-11-27
127.0.0.1 localhost
::1 localhost
0.0.0.0 0.0.0.0
0.0.0.0 amazonaws.com
0.0.0.0 adserver.hosts-only.example tracker2.hosts-only.example
127.0.0.1 facebook.com
0.0.0.0 zoom.us
plain-domain.example
"""


def disconnect_services() -> dict[str, Any]:
    """A services.json with the structure of Disconnect's file."""
    return {
        "license": "Copyright 2010-2020 Disconnect, Inc. (CC BY-NC-SA 4.0)",
        "categories": {
            "Advertising": [
                {"Adobe": {"http://www.adobe.com/": ["omtrdc.net", "demdex.net"]}},
                {"Google": {"http://www.google.com/": ["doubleclick.net", "google.com"],
                            "performance": "true"}},
            ],
            "Analytics": [
                {"Mixpanel": {"https://mixpanel.com/": ["mixpanel.com"]}},
                {"Adobe": {"http://www.adobe.com/": ["omtrdc.net"]}},
            ],
            "Social": [
                {"Facebook": {"http://www.facebook.com/": ["facebook.com", "facebook.net"]}},
            ],
            "Content": [
                {"Zoom": {"https://zoom.us/": ["zoom.us"]}},
                {"Vimeo": {"https://vimeo.com/": ["vimeo.com", "vimeocdn.com"]}},
                {"HostsOnly CDN": {"https://hosts-only.example/": ["hosts-only.example"]}},
            ],
            "ConsentManagers": [
                {"OneTrust": {"https://www.onetrust.com/": ["cookielaw.org"]}},
            ],
            "FingerprintingInvasive": [
                {"Acme Fingerprint": {"https://fp.example/": ["fp-collect.example"]}},
            ],
        },
    }


def tracker_radar_domains() -> list[dict[str, Any]]:
    """Tracker Radar domain records (the fields vcaudit reads, as in domains/<domain>.json)."""
    return [
        {"domain": "1rx.io", "owner": {"name": "RhythmOne", "displayName": "RhythmOne",
                                       "privacyPolicy": "https://www.rhythmone.com/privacy",
                                       "url": "http://rhythmone.com"},
         "source": ["DuckDuckGo"], "prevalence": 0.109, "sites": 5074, "subdomains": ["sync"],
         "fingerprinting": 1, "resources": [{"rule": "1rx\\.io\\/usersync2\\/rmphb"}],
         "categories": ["Ad Motivated Tracking", "Advertising"], "cookies": 0.0985},
        {"domain": "segment.io", "owner": {"name": "Segment.io, Inc.",
                                           "displayName": "Segment"},
         "categories": ["Analytics", "Third-Party Analytics Marketing"]},
        {"domain": "zdassets.com", "owner": {"name": "Zendesk, Inc.", "displayName": "Zendesk"},
         "categories": ["Support Chat Widget"]},
        {"domain": "zoom.us", "owner": {"name": "Zoom Communications, Inc.",
                                        "displayName": "Zoom"}, "categories": []},
        {"domain": "zoomcdn.example", "owner": {"name": "Zoom Communications, Inc.",
                                                "displayName": "Zoom"},
         "categories": ["CDN"]},
    ]


def ref(name: str, title: str, licence: str, version: str | None = "1") -> ListRef:
    return ListRef(name=name, title=title, version=version, fetched="2026-11-29T08:00:00Z",
                   licence=licence)


GPL_CC = "GPL-3.0-or-later OR CC-BY-SA-3.0"
NC = "CC-BY-NC-SA-4.0"


def easylist() -> AbpList:
    return AbpList(EASYLIST, ref("easylist", "EasyList", GPL_CC, "202611281200"),
                   "http://lists.test/easylist.txt", Category.AD_TECH)


def easyprivacy() -> AbpList:
    return AbpList(EASYPRIVACY, ref("easyprivacy", "EasyPrivacy", GPL_CC, "202611281730"),
                   "http://lists.test/easyprivacy.txt", Category.ANALYTICS)


def hosts_list() -> DomainList:
    return parse_hosts(HOSTS, ref("test-hosts", "Test hosts list", "MIT", "2026-11-27"),
                       "http://lists.test/hosts", Category.AD_TECH)


def disconnect() -> DomainList:
    return parse_disconnect(json.dumps(disconnect_services()),
                            ref("disconnect", "Disconnect", NC, None),
                            "http://lists.test/services.json")


def tracker_radar() -> DomainList:
    return parse_tracker_radar(tracker_radar_domains(),
                               ref("tracker-radar", "Tracker Radar", NC, None),
                               "http://lists.test/tracker-radar.tar.gz")


def all_lists() -> tuple[Any, ...]:
    return (easylist(), easyprivacy(), hosts_list(), disconnect(), tracker_radar())
