"""Host names as they are compared: the name classified is the name shown, so evidence never
names something other than the endpoint (a bracket, a control character or extra dots are
kept, and then match no rule)."""

from __future__ import annotations

import pytest

from auditor.audit import run_audit
from auditor.classify.catalog import Catalog
from auditor.names.domains import normalise_host
from auditor.records import Flow, HostSource, Transport
from auditor.report.build import build_report


@pytest.mark.parametrize(("name", "normal"), [
    ("WWW.Zoom.US", "www.zoom.us"),
    ("zoom.us.", "zoom.us"),
    ("zoom.us..", "zoom.us."),
    ("[2001:DB8::1]", "2001:db8::1"),
    ("[zoom.us]", "[zoom.us]"),
    ("[zoom.us", "[zoom.us"),
    (" zoom.us", " zoom.us"),
    ("zoom.us\x1f", "zoom.us\x1f"),
    ("zoom.us\u202e", "zoom.us\u202e"),
])
def test_only_case_one_root_dot_and_ipv6_brackets_are_normalised(name: str,
                                                                  normal: str) -> None:
    assert normalise_host(name) == normal


@pytest.mark.parametrize(("host", "category"), [
    ("[www.google-analytics.com]", "unknown"),
    ("www.google-analytics.com\x1f", "unknown"),
    ("www.google-analytics.com..", "unknown"),
    ("WWW.Google-Analytics.com.", "analytics"),
    ("[www.google-analytics.com", "analytics"),  # a (strange) label under the domain
])
def test_evidence_names_the_name_that_was_classified(catalog: Catalog, host: str,
                                                     category: str) -> None:
    flow = Flow("F1", 1.0, 2.0, Transport.TCP, "192.168.1.2", 5000, "203.0.113.5", 443,
                host=host, host_source=HostSource.SNI, bytes_up=1, bytes_down=1)
    report = build_report(run_audit(catalog, [flow], [], session_id="s", source="pcap",
                                    inputs=[], requested_app=None)).document
    (endpoint,) = report["endpoints"]
    assert endpoint["host"] == host and endpoint["category"] == category
    details = " ".join(e["detail"] for e in endpoint["evidence"])
    assert normalise_host(host) in details
    if normalise_host(host) != "www.google-analytics.com":
        assert "host www.google-analytics.com " not in details
