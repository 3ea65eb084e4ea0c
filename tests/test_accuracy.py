"""Accuracy on the labelled hosts (tests/data/labelled_hosts.csv), with and without lists,
and the invariant: no first-party host of a vendor is labelled analytics or ad-tech unless it
is that vendor's telemetry, even with over-broad list entries loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.classify.accuracy import (
    first_party_labelled_tracking,
    precision_recall,
    read_labelled,
    score,
)
from auditor.classify.catalog import Catalog
from auditor.lists.abp import AbpList
from auditor.lists.domains import parse_hosts
from auditor.records import Category

from .support.tracker_lists import all_lists, ref

LABELLED = Path(__file__).parent / "data" / "labelled_hosts.csv"

# Entries known to be over-broad in real lists: a whole search/cloud/CDN or vendor domain.
OVER_BROAD_ABP = """! Title: Over-broad test list
||google.com^
||googleapis.com^
||gstatic.com^
||microsoft.com^
||office.net^
||zoom.us^
||whatsapp.net^
||slack.com^
||discord.com^
||webex.com^
||cloudfront.net^
||akamaiedge.net^
"""
OVER_BROAD_HOSTS = """0.0.0.0 amazonaws.com
0.0.0.0 s3.amazonaws.com
0.0.0.0 facebook.com
0.0.0.0 skype.com
0.0.0.0 wbx2.com
0.0.0.0 discordapp.com
0.0.0.0 signal.org
"""


@pytest.fixture(scope="module")
def rows() -> list:  # type: ignore[type-arg]
    labelled = read_labelled(LABELLED)
    assert len(labelled) >= 200
    return labelled


def loaded_lists() -> tuple:  # type: ignore[type-arg]
    over_broad = (
        AbpList(OVER_BROAD_ABP, ref("broad-abp", "Over-broad ABP", "test"), None,
                Category.AD_TECH),
        parse_hosts(OVER_BROAD_HOSTS, ref("broad-hosts", "Over-broad hosts", "test"), None,
                    Category.AD_TECH),
    )
    return (*all_lists(), *over_broad)


def test_the_labelled_set_covers_every_kind(rows: list) -> None:  # type: ignore[type-arg]
    by_category = {c: [r for r in rows if r.expected is c] for c in Category}
    assert len(by_category[Category.FIRST_PARTY]) >= 60
    assert len({r.app for r in by_category[Category.FIRST_PARTY]}) >= 10  # vendors
    for category in (Category.ANALYTICS, Category.AD_TECH, Category.THIRD_PARTY,
                     Category.UNKNOWN):
        assert by_category[category], category
    vendor_telemetry = [r for r in by_category[Category.ANALYTICS] if r.app != "zoom"
                        or r.entity == "Zoom"]
    assert len(vendor_telemetry) >= 10


def test_no_first_party_host_becomes_a_tracker(catalog: Catalog,
                                                rows: list) -> None:  # type: ignore[type-arg]
    for lists in ((), loaded_lists()):
        violations = first_party_labelled_tracking(score(catalog, rows, lists))
        assert not violations, [(v.row.host, v.row.app, v.predicted.value) for v in violations]


def test_lists_add_without_losing_precision(catalog: Catalog,
                                            rows: list) -> None:  # type: ignore[type-arg]
    without = precision_recall(score(catalog, rows))
    with_lists = precision_recall(score(catalog, rows, loaded_lists()))
    assert without["first-party"]["precision"] == with_lists["first-party"]["precision"] == 1.0
    assert with_lists["first-party"]["recall"] == without["first-party"]["recall"]
    for category in ("analytics", "ad-tech", "third-party"):
        assert with_lists[category]["recall"] >= without[category]["recall"], category
        assert with_lists[category]["precision"] >= 0.95, category
    # The lists know some hosts the catalog does not (stats.wp.com, sync.1rx.io).
    assert with_lists["unknown"]["predicted"] < without["unknown"]["predicted"]
