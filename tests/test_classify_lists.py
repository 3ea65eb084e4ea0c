"""Standard lists weighed against the catalog: who decides, over-broad entries, conflicts,
CNAME cloaking through lists, URL matching, and the evidence every list match carries."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.classify.catalog import Catalog, load_catalog
from auditor.classify.endpoint import classify_endpoint
from auditor.lists.model import RequestContext
from auditor.records import Category, Classification, Evidence

from .support.tracker_lists import GPL_CC, all_lists, disconnect, easylist


@pytest.fixture(scope="module")
def lists() -> tuple[object, ...]:
    return all_lists()


def verdict(catalog: Catalog, lists: tuple[object, ...], host: str | None,
            app: str | None = "zoom", address: str | None = None,
            chain: tuple[str, ...] = (), url: str | None = None,
            kind: str = "other") -> Classification:
    request = RequestContext(url, url.split("/")[2], kind, None, None) if url else None
    return classify_endpoint(catalog, host, address, app, chain, request=request,
                             lists=lists)  # type: ignore[arg-type]


def kinds(result: Classification) -> list[str]:
    return [e.kind for e in result.evidence]


def conflicts(result: Classification) -> list[Evidence]:
    return [e for e in result.evidence if e.kind == "conflict"]


def test_a_list_decides_for_a_name_the_catalog_does_not_know(
        catalog: Catalog, lists: tuple[object, ...]) -> None:
    result = verdict(catalog, lists, "adserver.hosts-only.example")
    assert result.category is Category.AD_TECH and result.entity is None
    first = result.evidence[0]
    assert first.kind == "list" and first.rule == (
        "0.0.0.0 adserver.hosts-only.example tracker2.hosts-only.example")
    assert first.tracker_list is not None and first.tracker_list.title == "Test hosts list"
    assert first.file == "test-hosts:7" and first.source == "http://lists.test/hosts"
    # Disconnect files the parent domain as Content: the sources disagree, the report says so.
    disagreement = conflicts(result)
    assert disagreement and "Disconnect" in disagreement[0].detail
    assert disagreement[0].tracker_list is not None
    assert disagreement[0].tracker_list.licence == "CC-BY-NC-SA-4.0"


def test_list_evidence_names_list_version_licence_and_rule(
        catalog: Catalog, lists: tuple[object, ...]) -> None:
    result = verdict(catalog, (easylist(),), "cdn.ads.example-cdn.net")  # type: ignore[arg-type]
    evidence = result.evidence[0]
    assert evidence.rule == "||ads.example-cdn.net^$script,third-party"
    assert "EasyList (version 202611281200, fetched 2026-11-29, licence " + GPL_CC in (
        evidence.detail)
    assert evidence.matched == "ads.example-cdn.net"
    assert evidence.tracker_list.version == "202611281200"  # type: ignore[union-attr]


def test_over_broad_google_com_does_not_flag_meet(catalog: Catalog,
                                                  lists: tuple[object, ...]) -> None:
    meet = verdict(catalog, lists, "meet.google.com", app="google")
    assert meet.category is Category.FIRST_PARTY and meet.entity == "Google"
    assert meet.evidence[0].kind == "rule" and meet.evidence[0].rule == "google.meet"
    disagreement = conflicts(meet)
    assert disagreement and "more specific rule google.meet" in disagreement[0].detail
    www = verdict(catalog, lists, "www.google.com", app="zoom")
    assert www.category is Category.THIRD_PARTY
    assert any("for the same domain decides" in e.detail for e in conflicts(www))


def test_cloud_domain_in_a_hosts_file_does_not_flag_cloud_customers(
        catalog: Catalog, lists: tuple[object, ...]) -> None:
    result = verdict(catalog, lists, "ec2-3-4-5-6.compute-1.amazonaws.com")
    assert result.category is Category.THIRD_PARTY and result.entity == "Amazon"
    assert len(conflicts(result)) == 2  # the hosts file and EasyList both list amazonaws.com


def test_public_suffix_entries_never_decide(catalog: Catalog,
                                            lists: tuple[object, ...]) -> None:
    result = verdict(catalog, lists, "myapp.herokuapp.com")
    assert result.category is Category.UNKNOWN
    assert any("over-broad" in e.detail for e in conflicts(result))
    apis = verdict(catalog, lists, "firebaseinstallations.googleapis.com")
    assert apis.category is Category.THIRD_PARTY


def test_a_more_specific_tracker_entry_beats_a_vendor_service_rule(
        catalog: Catalog, lists: tuple[object, ...]) -> None:
    # zoom.us is Zoom's service domain; EasyPrivacy names analytics.zoom.us a tracker.
    result = verdict(catalog, lists, "analytics.zoom.us", app="zoom")
    assert result.category is Category.ANALYTICS and result.entity == "Zoom"
    assert result.first_party
    assert result.evidence[0].kind == "list" and result.evidence[0].rule == (
        "||analytics.zoom.us^")
    assert any("purpose beats ownership" in e.detail for e in result.evidence)
    # The rest of zoom.us stays first-party, and a hosts file listing zoom.us itself (same
    # domain as the catalog's rule) does not change that.
    web = verdict(catalog, lists, "us05web.zoom.us", app="zoom")
    assert web.category is Category.FIRST_PARTY
    assert any("Test hosts list" in e.detail for e in conflicts(web))
    # Disconnect filing zoom.us as Content (a service) is no contradiction.
    assert not any("Disconnect" in e.detail for e in conflicts(web))


def test_catalog_trackers_and_user_rules_are_never_overridden(
        catalog: Catalog, lists: tuple[object, ...], tmp_path: Path) -> None:
    hotjar = verdict(catalog, lists, "static.hotjar.com")
    assert hotjar.category is Category.ANALYTICS and hotjar.evidence[0].kind == "rule"
    mine = tmp_path / "mine.toml"
    mine.write_text("""
[[entity]]
id = "acme"
name = "Acme"
[[rule]]
id = "acme.adserver"
entity = "acme"
purpose = "service"
label = "our own ad preview server"
domains = ["adserver.hosts-only.example"]
source = "https://wiki.acme.example"
date = "2026-11-29"
""")
    with_user = load_catalog([mine])
    result = verdict(with_user, lists, "adserver.hosts-only.example")
    assert result.category is Category.THIRD_PARTY and result.entity == "Acme"
    assert any("your rule acme.adserver" in e.detail for e in conflicts(result))


def test_list_owner_names_map_to_catalog_entities(catalog: Catalog,
                                                  lists: tuple[object, ...]) -> None:
    result = verdict(catalog, lists, "assets.zoomcdn.example", app="zoom")
    assert result.category is Category.FIRST_PARTY and result.entity == "Zoom"
    other = verdict(catalog, lists, "sync.1rx.io", app="zoom")
    assert other.category is Category.AD_TECH and other.entity == "RhythmOne"
    assert not other.first_party


def test_cname_cloaking_through_a_listed_tracker(catalog: Catalog,
                                                 lists: tuple[object, ...]) -> None:
    chain = ("t.shop.example", "tracker2.hosts-only.example")
    result = verdict(catalog, lists, "t.shop.example", chain=chain)
    assert result.category is Category.AD_TECH
    assert "the capture's DNS shows t.shop.example -> tracker2.hosts-only.example" in (
        result.evidence[0].detail)
    # A CDN alias the catalog knows is not a tracker because a list names its whole domain.
    cdn = verdict(catalog, lists, "files.shop.example",
                  chain=("files.shop.example", "x.s3.amazonaws.com"))
    assert cdn.category is Category.THIRD_PARTY


def test_the_name_beats_a_published_range(catalog: Catalog, lists: tuple[object, ...]) -> None:
    result = verdict(catalog, lists, "tracker2.hosts-only.example", address="206.247.41.10")
    assert result.category is Category.AD_TECH
    assert kinds(result)[:2] == ["list", "rule"]
    assert any(e.kind == "ip-range" for e in result.evidence)


def test_urls_are_matched_with_their_type_and_context(catalog: Catalog,
                                                      lists: tuple[object, ...]) -> None:
    pixel = "https://img.unknown-shop.example/pixel.gif?id=1"
    result = verdict(catalog, lists, "img.unknown-shop.example", url=pixel, kind="image")
    assert result.category is Category.ANALYTICS
    assert result.evidence[0].rule == "/pixel.gif?" and result.evidence[0].matched == pixel
    # A generic path rule never overrides the catalog's rule for the host.
    own = verdict(catalog, lists, "zoom.us", url="https://zoom.us/pixel.gif?id=1",
                  kind="image")
    assert own.category is Category.FIRST_PARTY
    assert any("/pixel.gif?" in e.detail for e in conflicts(own))
    # The vendor's hosts are the app's first-party context: $third-party rules do not fire.
    script = verdict(catalog, (easylist(),), "www.google.com", app="google",  # type: ignore[arg-type]
                     url="https://www.google.com/x.js", kind="script")
    assert not conflicts(script)


def test_no_lists_no_change(catalog: Catalog) -> None:
    plain = classify_endpoint(catalog, "adserver.hosts-only.example", None, "zoom")
    assert plain.category is Category.UNKNOWN
    empty = classify_endpoint(catalog, "updates.example.net", None, "zoom", lists=(disconnect(),))
    assert empty.category is Category.UNKNOWN
    assert "no loaded list (Disconnect) matches it either" in empty.evidence[-1].detail
