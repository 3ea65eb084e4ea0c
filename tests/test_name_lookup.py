"""Names looked up in the catalog and the lists at once (auditor/name_lookup.py), and the memos
behind fast classification: they give what asking every source directly gives, and never a
stale answer once the catalog gains a rule or other lists are weighed."""

from __future__ import annotations

from dataclasses import replace

from auditor.classify.catalog import Catalog, load_catalog
from auditor.classify.endpoint import classify_endpoint
from auditor.classify.rules import Purpose
from auditor.lists.model import TrackerList

from .support.tracker_lists import all_lists, easylist, easyprivacy, hosts_list

# In an order that fills the per-parent memo first, then asks about names under the same
# parents that a list names itself, excepts, or marks $important.
NAMES = [
    "x.example-cdn.net", "ads.example-cdn.net", "cdn.ads.example-cdn.net",
    "y.example-cdn.net", "z.cdn.ads.example-cdn.net",
    "img.banners.vendorcdn.example", "ok.banners.vendorcdn.example",
    "x.ok.banners.vendorcdn.example", "banners.vendorcdn.example",
    "a.hotjar.com", "static.hotjar.com", "hotjar.com",
    "a.zoom.us", "log.zoom.us", "x.log.zoom.us", "zoom.us", "us02web.zoom.us",
    "a.meet.google.com", "meet.google.com", "b.google.com", "google.com",
    "n1.tracker2.hosts-only.example", "tracker2.hosts-only.example", "hosts-only.example",
    "s3.amazonaws.com", "b.s3.amazonaws.com", "a.mixpanel.com", "sync.1rx.io",
    "localhost", "com", "a.b.c.d.unknown.example", "e.b.c.d.unknown.example",
    "a..b.example", ".lead.example", "x..lead.example",
]


def asked_directly(catalog: Catalog, lists: tuple[TrackerList, ...],
                   name: str) -> tuple[object, tuple[object, ...]]:
    hits = tuple(hit for t in lists if (hit := t.match_host(name)) is not None)
    return catalog.match_host(name), hits


def test_lookup_gives_what_each_source_says(catalog: Catalog) -> None:
    lists = all_lists()
    lookup = catalog.name_lookup(lists)
    for _ in range(2):  # the second round answers from the memo
        for name in NAMES:
            assert lookup.matches(name) == asked_directly(catalog, lists, name), name


def test_one_lookup_per_set_of_lists(catalog: Catalog) -> None:
    lists = all_lists()
    assert catalog.name_lookup(lists) is catalog.name_lookup(list(lists))
    assert catalog.name_lookup(lists) is not catalog.name_lookup(lists[:2])
    # Other lists, other answers: EasyPrivacy alone does not know a hosts-file name.
    name = "n1.tracker2.hosts-only.example"
    assert catalog.name_lookup(lists).matches(name)[1]
    assert not catalog.name_lookup((easyprivacy(),)).matches(name)[1]
    assert classify_endpoint(catalog, name, None, "zoom", lists=(easyprivacy(),)).entity is None


def test_a_new_rule_is_seen_under_a_remembered_parent() -> None:
    catalog = load_catalog()
    lists = (easylist(), easyprivacy(), hosts_list())
    before = classify_endpoint(catalog, "a.newly-ruled.example", None, "zoom", lists=lists)
    assert before.entity is None  # and the parent domain's (empty) matches are remembered
    catalog.add_rule(replace(catalog.rules["zoom.service"], id="zoom.newly-ruled",
                             domains=("newly-ruled.example",), cidrs=(),
                             purpose=Purpose.ANALYTICS, label="New telemetry"))
    after = classify_endpoint(catalog, "b.newly-ruled.example", None, "zoom", lists=lists)
    assert after.entity == "Zoom" and after.label == "New telemetry"
    assert after.evidence[0].rule == "zoom.newly-ruled"


def test_evidence_texts_follow_the_rule_object_not_its_id() -> None:
    # The same rule id in two catalogs, from files of different names: each one's evidence
    # names its own file.
    text = """
[[entity]]
id = "acme"
name = "Acme"

[[rule]]
id = "acme.web"
entity = "acme"
purpose = "service"
label = "Acme web"
domains = ["acme.example"]
source = "https://acme.example/firewall"
date = "2026-01-01"
"""
    files = []
    for name in ("first.toml", "second.toml"):
        catalog = Catalog()
        catalog.add_file(text, name)
        evidence = classify_endpoint(catalog.finish(), "x.acme.example", None, None,
                                     lists=()).evidence[0]
        assert evidence.rule == "acme.web" and f"; {name}:7)" in evidence.detail
        files.append(evidence.file)
    assert files == ["first.toml:7", "second.toml:7"]


def test_no_list_evidence_names_the_lists_weighed(catalog: Catalog) -> None:
    name = "nothing-knows-this.example"
    both = classify_endpoint(catalog, name, None, "zoom", lists=(easylist(), easyprivacy()))
    one = classify_endpoint(catalog, name, None, "zoom", lists=(hosts_list(),))
    assert both.evidence[-1].detail == "no loaded list (EasyList, EasyPrivacy) matches it either"
    assert one.evidence[-1].detail == "no loaded list (Test hosts list) matches it either"
