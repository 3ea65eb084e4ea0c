"""Every report file renders, from the same data, and hostile traffic text stays inert."""

from __future__ import annotations

import csv
import io
import json
import re

import pandas as pd
import pytest

from auditor.audit import SessionData, run_audit
from auditor.classify.catalog import Catalog
from auditor.records import INTEGER_FIELDS, Flow, HostSource, Transport, Visibility
from auditor.report.build import ENDPOINT_INTEGER_COLUMNS, BuiltReport, build_report
from auditor.report.render.report_files import ReportFile, render

HOSTILE_HOST = "evil|<script>alert(1)</script>*_[x](http://t)`.example"
FORMULA_URL = "=HYPERLINK(\"http://t\")"


def flows() -> list[Flow]:
    return [
        Flow("F1", 1.0, 2.0, Transport.TCP, "192.168.1.23", 50000, "198.51.100.7", 443,
             host=HOSTILE_HOST, host_source=HostSource.SNI, app_proto="tls", bytes_up=100,
             bytes_down=200, packets_up=2, packets_down=3, sni=HOSTILE_HOST),
        Flow("F2", 1.5, 3.0, Transport.TCP, "192.168.1.23", 50001, "203.0.113.9", 80,
             host="plain.example", host_source=HostSource.HTTP_HOST, app_proto="http",
             bytes_up=10, bytes_down=20, method="GET", url=FORMULA_URL),
        Flow("F3", 2.0, 2.5, Transport.TCP, "192.168.1.23", 50002, "157.240.20.19", 443,
             host="graph.facebook.com", host_source=HostSource.SNI, app_proto="tls",
             bytes_up=5, bytes_down=5),
        Flow("F4", 2.0, 9.0, Transport.UDP, "192.168.1.23", 52100, "206.247.41.10", 8801,
             bytes_up=1000, bytes_down=4000),
        # A request that got no response: its received bytes are unknown, not zero.
        Flow("F5", 3.0, 3.5, Transport.TCP, "192.168.1.23", 50003, "203.0.113.77", 443,
             host="down.example", host_source=HostSource.SNI, app_proto="http", bytes_up=41,
             bytes_down=None, method="GET", url="https://down.example/", error="refused"),
    ]


@pytest.fixture
def report(catalog: Catalog) -> BuiltReport:
    session: SessionData = run_audit(catalog, flows(), [], session_id="s1", source="pcap",
                                     inputs=["x.pcap"], requested_app="zoom")
    return build_report(session)


@pytest.mark.parametrize("kind", list(ReportFile))
def test_every_report_file_renders(report: BuiltReport, kind: ReportFile) -> None:
    text = render(kind, report)
    assert text.strip()
    if kind is ReportFile.JSON:
        assert json.loads(text)["summary"]["flows"] == 5
    elif kind in (ReportFile.ENDPOINTS_CSV, ReportFile.FLOWS_CSV):
        rows = list(csv.DictReader(io.StringIO(text)))
        assert len(rows) == 5  # five flows, five distinct endpoints
    elif kind is ReportFile.CALL_CSV:
        # No flow carried a media protocol: the header alone, with the media flow columns.
        assert text.splitlines() == [text.splitlines()[0]]
        assert text.startswith("flow_id,started,ended,duration_s,")
    else:
        assert "graph.facebook.com" in text


def test_markdown_escapes_traffic_text(report: BuiltReport) -> None:
    text = render(ReportFile.MARKDOWN, report)
    assert "<script>" not in text and HOSTILE_HOST not in text
    assert r"evil\|\<script\>" in text
    for line in text.splitlines():
        if line.startswith("| evil"):
            # the hostile host still occupies exactly one cell
            assert line.count("|") - line.count(r"\|") == 10


def test_html_page_is_self_contained_and_escaped(report: BuiltReport) -> None:
    page = render(ReportFile.HTML, report)
    assert "<script>alert" not in page and HOSTILE_HOST not in page
    assert "evil|&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # Nothing loads from the network: no stylesheets, images or scripts by URL; the one
    # inline script is the page's own (tests/test_html_report.py checks its hash).
    lowered = page.lower()
    assert lowered.count("<script") == 1
    for tag in ("<link", "<img", "<iframe", "src=", "@import", "url("):
        assert tag not in lowered, tag
    assert "default-src 'none'" in page
    assert "<svg" in page and "<span>graph.</span><wbr><span>facebook.</span>" in page


def test_csv_cells_cannot_become_formulas(report: BuiltReport) -> None:
    rows = list(csv.DictReader(io.StringIO(render(ReportFile.FLOWS_CSV, report))))
    url = next(r["url"] for r in rows if r["flow_id"] == "F2")
    assert url == "'" + FORMULA_URL


def test_summary_and_endpoints(report: BuiltReport) -> None:
    document = report.document
    categories = document["summary"]["categories"]
    assert list(categories) == ["ad-tech", "analytics", "third-party", "unknown",
                                "first-party", "local"]
    assert categories["ad-tech"] == {"endpoints": 1, "flows": 1, "bytes_up": 5, "bytes_down": 5}
    assert categories["first-party"]["bytes_down"] == 4000
    hosts = [e["host"] for e in document["endpoints"]]
    assert hosts[0] == "graph.facebook.com"  # trackers first
    unnamed = next(e for e in document["endpoints"] if e["host"] == "206.247.41.10")
    assert unnamed["host_sources"] == ["ip-range"] and unnamed["entity"] == "Zoom"
    assert document["coverage"]["flows_without_name"]["flows"] == 0
    unknown = next(e for e in document["endpoints"] if e["host"] == "plain.example")
    assert unknown["entity"] is None and unknown["category"] == "unknown"


def test_empty_session_renders(catalog: Catalog) -> None:
    session = run_audit(catalog, [], [], session_id="empty", source="pcap", inputs=[],
                        requested_app=None)
    built = build_report(session)
    for kind in ReportFile:
        render(kind, built)
    assert built.document["summary"]["flows"] == 0


def test_unknown_byte_counts_stay_unknown(report: BuiltReport) -> None:
    down = next(e for e in report.document["endpoints"] if e["host"] == "down.example")
    assert down["bytes_up"] == 41 and down["bytes_down"] is None
    assert "| down.example |" in render(ReportFile.MARKDOWN, report)
    assert "?" in render(ReportFile.MARKDOWN, report).split("| down.example |")[1].splitlines()[0]


def typed_flows() -> list[Flow]:
    """Flows whose integer fields are partly unknown: an ICMP flow has no ports, a proxied
    exchange no packet counts, a plain TCP flow no HTTP status."""
    return [
        *flows(),
        Flow("F6", 4.0, 4.5, Transport.ICMP, "192.168.1.23", None, "198.51.100.9", None,
             bytes_up=84, bytes_down=84, packets_up=1, packets_down=1),
        Flow("F7", 5.0, 5.5, Transport.TCP, "192.168.1.23", 54854, "203.0.113.10", 443,
             host="api.example", host_source=HostSource.HTTP_HOST, app_proto="http",
             bytes_up=300, bytes_down=5000, method="GET", url="https://api.example/x",
             status=200, visibility=Visibility.INTERCEPTED),
    ]


@pytest.fixture
def typed_report(catalog: Catalog) -> BuiltReport:
    session = run_audit(catalog, typed_flows(), [], session_id="s2", source="proxy",
                        inputs=["x.mitm"], requested_app="zoom")
    return build_report(session)


@pytest.mark.parametrize("kind,columns", [
    (ReportFile.FLOWS_CSV, INTEGER_FIELDS),
    (ReportFile.ENDPOINTS_CSV, ENDPOINT_INTEGER_COLUMNS),
])
def test_integer_columns_stay_integers(typed_report: BuiltReport, kind: ReportFile,
                                       columns: tuple[str, ...]) -> None:
    text = render(kind, typed_report)
    rows = list(csv.DictReader(io.StringIO(text)))
    for column in columns:
        cells = [row[column] for row in rows]
        assert all(re.fullmatch(r"\d+", c) for c in cells if c), (column, cells)
    if kind is ReportFile.FLOWS_CSV:
        ports = {row["flow_id"]: (row["client_port"], row["server_port"]) for row in rows}
        assert ports["F7"] == ("54854", "443") and ports["F6"] == ("", "")  # unknown: empty
        assert next(r["status"] for r in rows if r["flow_id"] == "F7") == "200"
    # pandas: whole columns read as int64; with missing values, as nullable Int64.
    plain = pd.read_csv(io.StringIO(text))
    nullable = pd.read_csv(io.StringIO(text), dtype_backend="numpy_nullable")
    for column in columns:
        if plain[column].notna().all():
            assert plain[column].dtype == "int64", column
        if nullable[column].notna().any():
            assert str(nullable[column].dtype) == "Int64", column
    assert plain["bytes_up"].dtype == "int64"


def test_every_flow_integer_field_is_an_integer_column(typed_report: BuiltReport) -> None:
    assert {"client_port", "server_port", "status", "bytes_up", "packets_down"} <= set(
        INTEGER_FIELDS)
    for column in INTEGER_FIELDS:
        assert str(typed_report.flows[column].dtype) == "Int64", column
    for column in ENDPOINT_INTEGER_COLUMNS:
        assert str(typed_report.endpoints[column].dtype) == "Int64", column


CONTROL_HOST = "a\x1b]0;pwned\x07\x00b\u202egnp.exe\nc.example"
LIST_NAMES = ("ok.example.org", "@sum(1)", "=1+1", "+cmd|' /c calc'!a0")


def test_every_text_file_shows_invisible_characters_escaped(catalog: Catalog) -> None:
    flow = Flow("F9", 1.0, 2.0, Transport.UDP, "192.168.1.23", 5000, "198.51.100.9", 443,
                host=CONTROL_HOST, host_source=HostSource.DNS, bytes_up=1, bytes_down=1,
                dns_names=LIST_NAMES, error="bell\x07", url="https://x.example/\u202e")
    built = build_report(run_audit(catalog, [flow], [], session_id="s2", source="pcap",
                                   inputs=["x.pcap"], requested_app=None))
    for kind in (ReportFile.ENDPOINTS_CSV, ReportFile.FLOWS_CSV, ReportFile.MARKDOWN,
                 ReportFile.HTML):
        text = render(kind, built)
        assert all(c.isprintable() or c == "\n" for c in text), kind
        assert "\\u202e" in text and "\\x1b" in text, kind
    flows_csv = render(ReportFile.FLOWS_CSV, built)
    assert len(flows_csv.splitlines()) == 2  # the newline in the name is shown, not written
    rows = list(csv.DictReader(io.StringIO(flows_csv)))
    assert rows[0]["host"] == "a\\x1b]0;pwned\\x07\\x00b\\u202egnp.exe\\nc.example"
    assert rows[0]["dns_names"] == "ok.example.org;'@sum(1);'=1+1;'+cmd|' /c calc'!a0"
    assert rows[0]["error"] == "bell\\x07"
    endpoints = list(csv.DictReader(io.StringIO(render(ReportFile.ENDPOINTS_CSV, built))))
    assert endpoints[0]["host"] == rows[0]["host"]
    # report.json keeps the exact text: it is data, escaped by JSON itself
    assert json.loads(render(ReportFile.JSON, built))["endpoints"][0]["host"] == CONTROL_HOST
