"""Classification: categories, precedence, first party relative to the app, evidence."""

from __future__ import annotations

from auditor.classify.catalog import Catalog
from auditor.classify.endpoint import classify_endpoint
from auditor.records import Category


def verdict(catalog: Catalog, host: str | None, address: str | None = None,
            app: str | None = "zoom", chain: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    return classify_endpoint(catalog, host, address, app, chain)


def test_vendor_hosts_are_first_party_for_their_app(catalog: Catalog) -> None:
    result = verdict(catalog, "zoomfrn99mmr.zoom.us", "109.94.160.99")
    assert result.category is Category.FIRST_PARTY
    assert result.entity == "Zoom" and result.first_party
    rule_evidence = result.evidence[0]
    assert rule_evidence.kind == "rule" and rule_evidence.matched == "zoom.us"
    assert rule_evidence.rule == "zoom.service" and rule_evidence.source
    assert rule_evidence.file and rule_evidence.file.startswith("catalog/conferencing.toml:")


def test_vendor_hosts_are_third_party_in_another_apps_session(catalog: Catalog) -> None:
    result = verdict(catalog, "teams.microsoft.com", app="zoom")
    assert result.category is Category.THIRD_PARTY and not result.first_party
    assert verdict(catalog, "teams.microsoft.com", app="microsoft").category is (
        Category.FIRST_PARTY)


def test_purpose_beats_ownership(catalog: Catalog) -> None:
    result = verdict(catalog, "log.zoom.us", "52.202.62.238")
    assert result.category is Category.ANALYTICS
    assert result.entity == "Zoom" and result.first_party
    assert any("purpose beats ownership" in e.detail for e in result.evidence)


def test_trackers_stay_trackers_whoever_is_first_party(catalog: Catalog) -> None:
    gtm = verdict(catalog, "www.googletagmanager.com", app="zoom")
    assert gtm.category is Category.ANALYTICS and gtm.entity == "Google" and not gtm.first_party
    in_meet = verdict(catalog, "www.google-analytics.com", app="google")
    assert in_meet.category is Category.ANALYTICS and in_meet.first_party
    assert verdict(catalog, "meet.google.com", app="google").category is Category.FIRST_PARTY
    graph = verdict(catalog, "graph.facebook.com", app="zoom")
    assert graph.category is Category.AD_TECH and graph.entity == "Meta"


def test_local_addresses_and_names(catalog: Catalog) -> None:
    for address in ("192.168.1.1", "224.0.0.251", "239.255.255.250", "255.255.255.255",
                    "ff02::fb"):
        result = verdict(catalog, None, address)
        assert result.category is Category.LOCAL, address
        assert result.evidence[0].kind == "local-range"
    assert verdict(catalog, "printer.local", None).category is Category.LOCAL
    assert verdict(catalog, "nas.corp.example", "10.1.2.3").category is Category.LOCAL
    # A known name decides over a local address (a relay on the LAN or loopback), and the
    # disagreement is reported.
    relayed = verdict(catalog, "zoom.us", "192.168.1.10")
    assert relayed.category is Category.FIRST_PARTY
    assert any(e.kind == "conflict" and "a local address" in e.detail for e in relayed.evidence)


def test_unknown_is_never_guessed(catalog: Catalog) -> None:
    result = verdict(catalog, "updates.example.net", "203.0.113.50")
    assert result.category is Category.UNKNOWN and result.entity is None
    assert "updates.example.net" in result.evidence[0].detail
    assert verdict(catalog, None, "203.0.113.50").category is Category.UNKNOWN


def test_published_ranges_decide_when_no_name_does(catalog: Catalog) -> None:
    result = verdict(catalog, None, "206.247.41.10")
    assert result.category is Category.FIRST_PARTY and result.entity == "Zoom"
    assert result.evidence[0].kind == "ip-range"
    assert result.evidence[0].matched and "/" in result.evidence[0].matched
    unnamed_host = verdict(catalog, "unlisted.example.org", "206.247.41.10")
    assert unnamed_host.category is Category.FIRST_PARTY
    assert "no catalog rule matches the name" in unnamed_host.evidence[0].detail


def test_cname_cloaking_is_seen_through(catalog: Catalog) -> None:
    chain = ("metrics.zoom.us", "zoom.sc.omtrdc.net")
    result = verdict(catalog, "metrics.zoom.us", chain=chain)
    assert result.category in (Category.ANALYTICS, Category.AD_TECH)
    assert any(e.kind == "cname" and "omtrdc.net" in e.detail for e in result.evidence)
    # An alias to a CDN does not override the name's own first-party rule.
    cdn = verdict(catalog, "zoom.us", chain=("zoom.us", "zoom.us.edgekey.net"))
    assert cdn.category is Category.FIRST_PARTY


def test_unknown_name_behind_a_known_alias(catalog: Catalog) -> None:
    result = verdict(catalog, "assets.example.org",
                     chain=("assets.example.org", "e1234.a.akamaiedge.net"))
    assert result.category is Category.THIRD_PARTY and result.entity == "Akamai"


def test_name_and_address_disagreeing_is_reported(catalog: Catalog) -> None:
    result = verdict(catalog, "zoom.us", "52.113.194.132")
    assert result.category is Category.FIRST_PARTY and result.entity == "Zoom"
    conflict = [e for e in result.evidence if e.kind == "conflict"]
    assert conflict and "Microsoft" in conflict[0].detail


def test_ip_literal_host_is_treated_as_an_address(catalog: Catalog) -> None:
    result = verdict(catalog, "239.255.255.250", "239.255.255.250")
    assert result.category is Category.LOCAL
