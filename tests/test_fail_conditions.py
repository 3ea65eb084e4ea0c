"""`--fail-on`: parsing the conditions, and which of them a report meets, with what made each
hold."""

from __future__ import annotations

from typing import Any

import pytest

from auditor.records import (
    PINNING_REFUSAL,
    Category,
    Classification,
    Finding,
    Flow,
    Transport,
    Visibility,
)
from auditor.report.fail_conditions import (
    CONDITIONS,
    GATED_CATEGORIES,
    FailOnError,
    matched_conditions,
    parse_fail_on,
)
from auditor.report.findings import PINNING, build_findings

# ---- parsing ---------------------------------------------------------------------------------


def test_all_conditions() -> None:
    assert {"ad-tech", "analytics", "third-party", "unknown", "ad-tech-pii",
                          "analytics-pii", "third-party-pii", "unknown-pii", "pii", "identity",
                          "pinning", "p2p"} == CONDITIONS
    assert "first-party" not in CONDITIONS and "local" not in CONDITIONS


@pytest.mark.parametrize("spec,expected", [
    (None, []), ("", []), (" , ,", []),
    ("ad-tech", ["ad-tech"]),
    ("ad-tech,analytics-pii", ["ad-tech", "analytics-pii"]),
    (" AD-TECH , Identity ,pinning, ", ["ad-tech", "identity", "pinning"]),
    ("pii,pii", ["pii"]),
])
def test_parse_fail_on(spec: str | None, expected: list[str]) -> None:
    assert parse_fail_on(spec) == expected


@pytest.mark.parametrize("condition", sorted(CONDITIONS))
def test_every_condition_parses(condition: str) -> None:
    assert parse_fail_on(condition) == [condition]


@pytest.mark.parametrize("spec,unknown", [
    ("everything", "everything"), ("ad-tech,adtech", "adtech"),
    ("first-party", "first-party"), ("local-pii", "local-pii"),
    ("pii,bogus,ad-tech,worse", "bogus, worse"), ("ad tech", "ad tech"),
])
def test_unknown_conditions_are_refused_with_the_choices(spec: str, unknown: str) -> None:
    with pytest.raises(FailOnError) as error:
        parse_fail_on(spec)
    message = str(error.value)
    assert message.startswith(f"unknown --fail-on condition(s) {unknown}; choose from ")
    assert message.endswith(", ".join(sorted(CONDITIONS)))


# ---- matching --------------------------------------------------------------------------------


def data(kind: str, label: str, host: str, entity: str | None, category: str) -> dict[str, Any]:
    return {"kind": kind, "label": label, "host": host, "entity": entity, "category": category,
            "first_party": category == "first-party"}


REPORT: dict[str, Any] = {
    "endpoints": [
        {"host": "graph.facebook.com", "category": "ad-tech"},
        {"host": "www.google-analytics.com", "category": "analytics"},
        {"host": "in.appcenter.ms", "category": "analytics"},
        {"host": "zoom.us", "category": "first-party"},
        {"host": "192.168.1.1", "category": "local"},
        {"host": "ocsp.digicert.com", "category": "third-party"},
    ],
    "findings": [
        data("advertising-id", "advertising ID", "graph.facebook.com", "Meta", "ad-tech"),
        data("device-model", "device model", "graph.facebook.com", "Meta", "ad-tech"),
        data("user-email", "your email", "www.google-analytics.com", "Google", "analytics"),
        data("device-model", "device model", "in.appcenter.ms", "Microsoft", "analytics"),
        data("user-email", "your email", "zoom.us", "Zoom", "first-party"),
        data("meeting-id", "meeting ID", "zoom.us", "Zoom", "first-party"),
        data("email", "email address", "192.168.1.1", None, "local"),
        data(PINNING, "certificate pinning", "zoom.us", "Zoom", "first-party"),
        data(PINNING, "certificate pinning", "graph.facebook.com", "Meta", "ad-tech"),
    ],
}


@pytest.mark.parametrize("condition,expected", [
    ("ad-tech", "ad-tech: contacted graph.facebook.com"),
    ("analytics", "analytics: contacted www.google-analytics.com, in.appcenter.ms"),
    ("third-party", "third-party: contacted ocsp.digicert.com"),
    ("ad-tech-pii", "ad-tech-pii: Meta received advertising ID, device model"),
    ("analytics-pii", "analytics-pii: Google received your email; Microsoft received device "
                      "model"),
    ("pii", "pii: Meta received advertising ID, device model; Google received your email; "
            "Microsoft received device model"),
    ("identity", "identity: Google received your email"),
    ("pinning", "pinning: zoom.us, graph.facebook.com"),
])
def test_each_condition_that_holds(condition: str, expected: str) -> None:
    assert matched_conditions(REPORT, [condition]) == [expected]


@pytest.mark.parametrize("condition", ["unknown", "unknown-pii", "third-party-pii"])
def test_conditions_that_do_not_hold(condition: str) -> None:
    assert matched_conditions(REPORT, [condition]) == []


def test_first_party_and_local_data_never_fail() -> None:
    report = {"endpoints": REPORT["endpoints"],
              "findings": [f for f in REPORT["findings"]
                           if f["category"] in ("first-party", "local") and f["kind"] != PINNING]}
    assert matched_conditions(report, ["pii", "identity", *(f"{c}-pii" for c in
                                                            GATED_CATEGORIES)]) == []


def test_results_follow_the_order_of_the_conditions() -> None:
    got = matched_conditions(REPORT, ["pinning", "unknown", "identity", "ad-tech"])
    assert [line.split(":")[0] for line in got] == ["pinning", "identity", "ad-tech"]


def test_contacted_hosts_are_listed_up_to_five() -> None:
    report = {"endpoints": [{"host": f"t{n}.tracker.example", "category": "unknown"}
                            for n in range(8)], "findings": []}
    assert matched_conditions(report, ["unknown"]) == [
        "unknown: contacted " + ", ".join(f"t{n}.tracker.example" for n in range(5))]


def test_receiver_without_an_entity_is_named_by_host() -> None:
    report = {"endpoints": [], "findings": [
        data("device-id", "device or install ID", "203.0.113.9", None, "unknown"),
        data("user-phone", "your phone", "203.0.113.9", None, "unknown")]}
    assert matched_conditions(report, ["unknown-pii", "identity"]) == [
        "unknown-pii: 203.0.113.9 received device or install ID, your phone",
        "identity: 203.0.113.9 received your phone"]


def test_pinning_findings_are_not_personal_data() -> None:
    report = {"endpoints": [], "findings": [
        data(PINNING, "certificate pinning", "graph.facebook.com", "Meta", "ad-tech")]}
    assert matched_conditions(report, ["pii", "ad-tech-pii", "identity"]) == []
    assert matched_conditions(report, ["pinning"]) == ["pinning: graph.facebook.com"]


def test_empty_report_and_no_conditions() -> None:
    assert matched_conditions({"endpoints": [], "findings": []}, sorted(CONDITIONS)) == []
    assert matched_conditions(REPORT, []) == []


def test_on_findings_built_from_a_scan() -> None:
    # build_findings' output is what the conditions read
    flows = [Flow("f1", 0.0, 1.0, Transport.TCP, "192.168.1.23", 50000, "157.240.0.35", 443,
                  host="graph.facebook.com"),
             Flow("f2", 0.0, 1.0, Transport.TCP, "192.168.1.23", 50001, "170.114.52.2", 443,
                  host="zoom.us", visibility=Visibility.PINNED,
                  error=f"{PINNING_REFUSAL}: unknown CA")]
    verdicts = {"f1": Classification(Category.AD_TECH, "Meta", False),
                "f2": Classification(Category.FIRST_PARTY, "Zoom", True)}
    findings = build_findings(flows, [
        Finding("f1", "advertising-id", "body", "advertiser_id", "form",
                "6D92078A-8246-4BA4-AE5B-76104861E7DC", "why", "facebook-app-events"),
        Finding("f1", "user-email", "body", "ud.em", "form>json-string>sha256",
                "alice@example.com", "your email (sha256)")], verdicts, show_values=False)
    report = {"endpoints": [{"host": "graph.facebook.com", "category": "ad-tech"},
                            {"host": "zoom.us", "category": "first-party"}],
              "findings": findings}
    assert matched_conditions(report, ["ad-tech-pii", "identity", "pinning", "analytics"]) == [
        "ad-tech-pii: Meta received your email, advertising ID",
        "identity: Meta received your email",
        "pinning: zoom.us"]
