"""What the terminal summary, report.md and report.html say, read as a user reads them:
numbers agree with their nouns, bytes are in one set of units, categories come in one order,
commands render as code, and a verdict says how much it could not judge."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from auditor.audit import run_audit
from auditor.classify.catalog import Catalog
from auditor.cli.terminal import print_summary
from auditor.records import CATEGORY_ORDER, Flow, HostSource, Transport, Visibility
from auditor.report.build import BuiltReport, build_report
from auditor.report.render.report_files import ReportFile, render

CLIENT = "192.168.1.23"
ONE_OF_EACH = {"anomalies": {"total": 1, "by_kind": {"dns-malformed": 1}, "examples": {}},
               "packets_not_ip": {"ethertype 0x0806": 1}}
WRONG_NUMBER = re.compile(r"\b1 (flows|endpoints|anomalies|frames|hosts|items)\b|"
                          r"\b(?:[02-9]|\d\d+) (flow|endpoint|anomaly|frame|host)\b(?! is)")


def tls(flow_id: str, host: str | None, server_ip: str, up: int = 1500, down: int = 353307,
        visibility: Visibility = Visibility.ENCRYPTED, port: int = 443) -> Flow:
    return Flow(flow_id, 1.0, 2.0, Transport.TCP, CLIENT, 50000 + int(flow_id[1:]), server_ip,
                port, host=host, host_source=HostSource.SNI if host else HostSource.NONE,
                app_proto="tls", bytes_up=up, bytes_down=down, packets_up=3, packets_down=4,
                visibility=visibility, sni=host)


def build(catalog: Catalog, flows: list[Flow], app: str | None = None, source: str = "pcap",
          coverage: dict[str, Any] | None = None) -> BuiltReport:
    session = run_audit(catalog, flows, [], session_id="s", source=source, inputs=["x.pcap"],
                        requested_app=app, coverage=coverage)
    return build_report(session)


def readable(built: BuiltReport, tmp_path: Path, capsys: pytest.CaptureFixture[str],
             ) -> dict[str, str]:
    """Everything a person reads: the terminal summary, report.md, and report.html as text."""
    print_summary(built.document, tmp_path)
    page = render(ReportFile.HTML, built)
    body = page.split("<body>", 1)[1]
    return {
        "terminal": capsys.readouterr().out,
        "markdown": render(ReportFile.MARKDOWN, built),
        "html": unescape(re.sub(r"<[^>]+>", " ", body)),
        "notes": "\n".join(built.document["coverage"]["notes"]),
    }


def test_one_of_everything_is_singular(catalog: Catalog, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    built = build(catalog, [tls("F1", None, "203.0.113.5")], coverage=ONE_OF_EACH)
    texts = readable(built, tmp_path, capsys)
    for name, text in texts.items():
        assert not WRONG_NUMBER.search(text), (name, WRONG_NUMBER.search(text))
    for name in ("terminal", "markdown", "html"):
        assert "1 flow to 1 endpoint," in texts[name], name
    assert "1 endpoint, 1 flow" in texts["html"]  # the chart's label for the category
    assert "1 anomaly skipped" in texts["terminal"]
    assert "1 flow (354.8 kB) was encrypted (1 TLS): a capture shows where it went" in (
        texts["notes"])
    assert "1 malformed or undecodable item was skipped" in texts["notes"]
    assert "1 frame carried no IP traffic" in texts["notes"]


def test_two_of_everything_is_plural(catalog: Catalog, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    flows = [tls("F1", None, "203.0.113.5"), tls("F2", None, "203.0.113.6")]
    coverage = {"anomalies": {"total": 2, "by_kind": {"dns-malformed": 2}, "examples": {}}}
    texts = readable(build(catalog, flows, coverage=coverage), tmp_path, capsys)
    for name, text in texts.items():
        assert not WRONG_NUMBER.search(text), (name, WRONG_NUMBER.search(text))
    assert "2 flows to 2 endpoints," in texts["terminal"]
    assert "2 anomalies skipped" in texts["terminal"]
    assert "2 flows (709.6 kB) were encrypted (2 TLS)" in texts["notes"]


def test_bytes_are_in_human_units_wherever_people_read(catalog: Catalog, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    flows = [tls("F1", None, "203.0.113.5"), tls("F2", "zoom.us", "170.114.52.2")]
    built = build(catalog, flows)
    texts = readable(built, tmp_path, capsys)
    texts["app"] = built.document["session"]["app_detection"]["detail"]
    for name, text in texts.items():
        assert "353307" not in text and " bytes" not in text, name
    assert "detected from 1 flow (354.8 kB)" in texts["app"]
    # Machine fields keep the raw integer.
    assert built.document["coverage"]["flows_without_name"]["bytes"] == 1500 + 353307


def test_all_unknown_endpoints_are_not_a_clean_bill(catalog: Catalog, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    flows = [tls(f"F{i}", None, f"203.0.113.{i}") for i in range(1, 14)]
    texts = readable(build(catalog, flows), tmp_path, capsys)
    for name in ("terminal", "markdown", "html"):
        assert "13 of 13 endpoints are unknown: trackers cannot be ruled out" in texts[name]
        assert "no analytics or ad-tech endpoint was contacted" not in texts[name], name


@pytest.mark.parametrize("hosts,expected", [
    (["zoom.us"], ["no analytics or ad-tech endpoint was contacted"]),
    (["zoom.us", None], ["no known analytics or ad-tech endpoint was contacted, but 1 of 2 "
                         "endpoints is unknown: trackers among them cannot be ruled out"]),
    (["graph.facebook.com", None, None],
     ["ad-tech: Meta (graph.facebook.com)",
      "2 of 3 endpoints are unknown: more trackers among them cannot be ruled out"]),
    ([None], ["the only endpoint is unknown: a tracker cannot be ruled out"]),
    ([], ["no traffic was recorded: there is nothing to judge"]),
])
def test_verdicts_say_what_they_could_not_judge(catalog: Catalog, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str],
                                                hosts: list[str | None],
                                                expected: list[str]) -> None:
    flows = [tls(f"F{i}", host, f"198.51.100.{i}") for i, host in enumerate(hosts, 1)]
    texts = readable(build(catalog, flows, app="zoom"), tmp_path, capsys)
    assert [line.removeprefix("verdict: ") for line in texts["terminal"].splitlines()
            if line.startswith("verdict: ")] == expected
    for line in expected:
        assert f"- {line}" in texts["markdown"] and line in texts["html"]


def test_personal_data_sentence_says_how_much_could_be_read(
        catalog: Catalog, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dns = Flow("F9", 1.0, 1.1, Transport.UDP, CLIENT, 53001, "192.168.1.1", 53,
               app_proto="dns", bytes_up=60, bytes_down=90, visibility=Visibility.PLAINTEXT)
    flows = [tls("F1", None, "203.0.113.5"), dns]
    texts = readable(build(catalog, flows, app="zoom"), tmp_path, capsys)
    sentence = ("no personal data was found going to anyone but the first party in 1 of 2 flows "
                "whose content could be read; the other 1 was encrypted or not decoded")
    for name in ("terminal", "markdown", "html"):
        assert sentence in texts[name], name
    # With no audited app there is no first party to speak of.
    texts = readable(build(catalog, flows), tmp_path, capsys)
    assert "data: no personal data was found in 1 of 2 flows whose" in texts["terminal"]
    assert "first party" not in texts["terminal"]
    texts = readable(build(catalog, [tls("F1", None, "203.0.113.5")]), tmp_path, capsys)
    assert ("no personal data could be looked for: the content of the only flow was encrypted "
            "or not decoded") in texts["markdown"]


def six_categories(catalog: Catalog) -> BuiltReport:
    flows = [
        Flow("F1", 1.0, 1.1, Transport.UDP, CLIENT, 53001, "192.168.1.1", 53, app_proto="dns",
             bytes_up=60, bytes_down=90, visibility=Visibility.PLAINTEXT),
        tls("F2", "zoom.us", "170.114.52.2"),
        tls("F3", "updates.example.net", "203.0.113.50"),
        tls("F4", "ocsp.digicert.com", "192.229.211.108", port=80),
        tls("F5", "www.googletagmanager.com", "142.250.185.104"),
        tls("F6", "graph.facebook.com", "157.240.20.19"),
    ]
    return build(catalog, flows, app="zoom")


def test_one_category_order_everywhere(catalog: Catalog, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    built = six_categories(catalog)
    order = [c.value for c in CATEGORY_ORDER]
    document = built.document
    assert sorted(e["category"] for e in document["endpoints"]) == sorted(order)
    assert list(document["summary"]["categories"]) == order
    print_summary(document, tmp_path)
    terminal = [line.split()[0] for line in capsys.readouterr().out.splitlines()
                if line.startswith("  ")]
    assert terminal == order
    markdown = render(ReportFile.MARKDOWN, built)
    summary_rows = [line.split("|")[1].strip() for line in
                    markdown.split("## Summary by category")[1].split("\n## ")[0].splitlines()
                    if line.startswith("| ") and not line.startswith("| category")]
    assert summary_rows == order
    legend = re.findall(r"^- \*\*([a-z-]+)\*\*:", markdown.split("## Categories")[1], re.M)
    assert legend == order
    endpoints = [line.split("|")[2].strip() for line in
                 markdown.split("## All endpoints")[1].split("\n## ")[0].splitlines()[4:]
                 if line.startswith("| ")]
    assert endpoints == order
    page = render(ReportFile.HTML, built)
    chart = re.findall(r'<div class="label" data-category="([a-z-]+)">', page)
    assert chart == order
    endpoints = page.split('<section id="endpoints">')[1].split("</section>")[0]
    html_rows = re.findall(r'<td data-label="category"><span class="cat c-[a-z-]+">([a-z-]+)'
                           r"</span></td>", endpoints)
    assert html_rows == order


def test_commands_are_code_and_traffic_stays_text(catalog: Catalog) -> None:
    hostile = "`<img src=x onerror=alert(1)>`*b*[l](http://t).example"
    pinned = Flow("F2", 1.0, 1.5, Transport.TCP, CLIENT, 50002, "203.0.113.9", 443,
                  host=hostile, host_source=HostSource.SNI, app_proto="tls",
                  visibility=Visibility.PINNED, error="client refused the certificate")
    pcap = build(catalog, [tls("F1", None, "203.0.113.5")])
    proxy = build(catalog, [pinned], source="proxy")
    assert any(hostile in note for note in proxy.document["coverage"]["notes"])
    markdown, page = render(ReportFile.MARKDOWN, pcap), render(ReportFile.HTML, pcap)
    assert "Run `vcaudit proxy` to see inside it." in markdown and "\\`vcaudit" not in markdown
    assert "Run <code>vcaudit proxy</code> to see inside it." in page
    markdown, page = render(ReportFile.MARKDOWN, proxy), render(ReportFile.HTML, proxy)
    note = next(line for line in markdown.splitlines() if "refused the proxy's" in line)
    assert not re.search(r"(?<!\\)[<>`*\[\]]", note), note
    assert "\\`\\<img src=x onerror=alert(1)\\>\\`\\*b\\*" in markdown
    assert "<img" not in page and "<code>&lt;img" not in page
    assert "`&lt;img src=x onerror=alert(1)&gt;`*b*[l](http://t).example" in page


def test_report_json_numbers_are_integers(catalog: Catalog) -> None:
    document = json.loads(render(ReportFile.JSON, six_categories(catalog)))
    for endpoint in document["endpoints"]:
        for key in ("flows", "bytes_up", "bytes_down", "packets_up", "packets_down"):
            # a whole number, or null when unknown (here: the DNS flow's packets)
            assert type(endpoint[key]) in (int, type(None)), (endpoint["host"], key)
        assert type(endpoint["bytes_up"]) is int
        assert all(type(port) is int for port in endpoint["ports"])
    for numbers in document["summary"]["categories"].values():
        assert all(type(value) is int for value in numbers.values())
