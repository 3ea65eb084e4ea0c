"""List formats: ABP filter lists (adblock engine and hostname rules), hosts files,
Disconnect's services.json and Tracker Radar, each mapped onto vcaudit's categories."""

from __future__ import annotations

import pytest

from auditor.lists.abp import abp_header, anchored_domain
from auditor.lists.domains import (
    ListFormatError,
    hosts_header,
    parse_disconnect,
    parse_hosts,
    parse_tracker_radar,
)
from auditor.lists.model import RequestContext
from auditor.records import Category

from .support.tracker_lists import (
    EASYLIST,
    EASYPRIVACY,
    HOSTS,
    disconnect,
    easylist,
    easyprivacy,
    hosts_list,
    ref,
    tracker_radar,
)


def request(url: str, kind: str = "other", third_party: bool | None = True) -> RequestContext:
    host = url.split("/")[2]
    return RequestContext(url, host, kind, None, third_party)


def test_abp_header_and_counts() -> None:
    header = abp_header(EASYLIST)
    assert header["title"] == "EasyList" and header["version"] == "202611281200"
    listed = easylist()
    assert listed.info.format == "abp" and listed.info.category is Category.AD_TECH
    assert listed.info.entries == 15  # network rules, not comments or cosmetic rules


def test_hostname_rules_match_names_and_their_subdomains() -> None:
    hit = easylist().match_host("stats.g.doubleclick.net")
    assert hit is not None and hit.entry.rule == "||doubleclick.net^"
    assert hit.domain == "doubleclick.net" and hit.category is Category.AD_TECH
    assert hit.entry.line is not None and EASYLIST.splitlines()[hit.entry.line - 1] == (
        "||doubleclick.net^")
    # Type- and third-party-restricted hostname rules still speak about the host.
    assert easylist().match_host("x.ads.example-cdn.net") is not None


def test_generic_and_page_bound_rules_never_fire_on_a_bare_name() -> None:
    listed = easylist()
    for name in ("adframe.js.example.com", "my-ad-banner.example.com", "popunder.example",
                 "sitead.example", "example.org"):
        assert listed.match_host(name) is None, name


def test_exceptions_badfilter_and_important() -> None:
    listed = easylist()
    assert listed.match_host("img.banners.vendorcdn.example") is not None
    assert listed.match_host("ok.banners.vendorcdn.example") is None  # @@ exception
    assert listed.match_host("gone.example") is None  # $badfilter
    hotjar = easyprivacy().match_host("static.hotjar.com")  # $important beats @@
    assert hotjar is not None and hotjar.entry.rule == "||hotjar.com^$important"


def test_urls_go_through_the_adblock_engine() -> None:
    private = easyprivacy()
    hit = private.match_url(request("https://cdn.vendor.example/analytics/collect?v=1", "ping"))
    assert hit is not None and hit.entry.rule == "/analytics/collect?" and hit.domain is None
    assert hit.specificity == 0 and hit.entry.line == EASYPRIVACY.splitlines().index(
        "/analytics/collect?") + 1
    assert private.match_url(request("https://cdn.vendor.example/app.js", "script")) is None
    # Resource types: $script applies to scripts only.
    assert private.match_url(request("https://stats.wp.com/e.js", "script")) is not None
    assert private.match_url(request("https://stats.wp.com/g.gif", "image")) is None
    # First-party context: $third-party rules do not fire on first-party requests.
    tracker = "https://metrics.corp-tracker.example/t"
    assert private.match_url(request(tracker, third_party=True)) is not None
    assert private.match_url(request(tracker, third_party=False)) is None
    # Path rules anchored to a host are specific to that host.
    teams = private.match_url(request("https://teams.microsoft.com/telemetry/x", "ping"))
    assert teams is not None and teams.domain == "teams.microsoft.com"


def test_anchored_domain() -> None:
    assert anchored_domain("||ads.example.com^$script") == "ads.example.com"
    assert anchored_domain("||teams.microsoft.com/telemetry/") == "teams.microsoft.com"
    assert anchored_domain("/analytics.js") is None
    assert anchored_domain("-ad-banner.") is None


def test_hosts_file() -> None:
    listed = hosts_list()
    assert hosts_header(HOSTS) == {"title": "Test hosts list", "version": "2026-11-27"}
    assert listed.match_host("localhost") is None and listed.match_host("0.0.0.0") is None
    hit = listed.match_host("tracker2.hosts-only.example")
    assert hit is not None and hit.entry.rule == (
        "0.0.0.0 adserver.hosts-only.example tracker2.hosts-only.example")
    assert hit.entry.line == 7 and hit.category is Category.AD_TECH
    assert listed.match_host("www.plain-domain.example") is not None
    assert listed.info.entries == 6
    with pytest.raises(ListFormatError):
        parse_hosts("<html>captive portal</html>\n", ref("h", "h", "MIT"), None,
                    Category.AD_TECH)


def test_disconnect_categories_and_organisations() -> None:
    listed = disconnect()
    omtrdc = listed.match_host("zoom.sc.omtrdc.net")
    assert omtrdc is not None and omtrdc.category is Category.AD_TECH  # Advertising > Analytics
    assert omtrdc.entry.list_category == "Advertising, Analytics"
    assert omtrdc.entry.organisation == "Adobe"
    assert listed.match_host("graph.facebook.com").category is Category.AD_TECH  # type: ignore[union-attr]
    assert listed.match_host("cdn.cookielaw.org").category is Category.THIRD_PARTY  # type: ignore[union-attr]
    assert listed.match_host("api.mixpanel.com").category is Category.ANALYTICS  # type: ignore[union-attr]
    assert listed.match_host("fp-collect.example").category is Category.ANALYTICS  # type: ignore[union-attr]
    assert listed.info.category is None and listed.info.format == "disconnect"
    with pytest.raises(ListFormatError):
        parse_disconnect('{"not": "disconnect"}', ref("d", "d", "x"), None)


def test_tracker_radar_owner_and_categories() -> None:
    listed = tracker_radar()
    hit = listed.match_host("sync.1rx.io")
    assert hit is not None and hit.category is Category.AD_TECH
    assert hit.entry.organisation == "RhythmOne"
    assert listed.match_host("api.segment.io").category is Category.ANALYTICS  # type: ignore[union-attr]
    zendesk = listed.match_host("static.zdassets.com")
    assert zendesk is not None and zendesk.category is Category.THIRD_PARTY
    assert listed.match_host("zoom.us").entry.list_category is None  # type: ignore[union-attr]
    # A blocklist built from Tracker Radar ({"trackers": {...}}) reads the same way.
    tds = parse_tracker_radar([{"trackers": {"1rx.io": {"domain": "1rx.io", "categories": [
        "Advertising"], "owner": {"name": "RhythmOne"}}}}], ref("t", "t", "x"), None)
    assert tds.match_host("1rx.io").category is Category.AD_TECH  # type: ignore[union-attr]
    with pytest.raises(ListFormatError):
        parse_tracker_radar([{"no": "domain"}], ref("t", "t", "x"), None)
