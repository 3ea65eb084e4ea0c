"""report.html as markup: self-contained behind a hash-only policy, verdict first, organisations
summed, host names that can wrap only after their dots, evidence once, small categories
visible, empty ones left out, the timeline and the call drawn from the flows. What the page
looks like in a browser is tests/test_html_report_browser.py's."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html import unescape
from pathlib import Path

import pytest

from auditor.audit import run_audit
from auditor.classify.catalog import Catalog
from auditor.records import Flow, HostSource, Media, Transport, Visibility
from auditor.report.build import BuiltReport, build_report
from auditor.report.render.html_page import render_html
from auditor.report.render.page.clock import offset_text
from auditor.report.render.page.time_scale import time_scale
from auditor.report.render.report_files import ReportFile, render
from auditor.session.offline import analyze_files

from .conftest import SAMPLES

CLIENT = "192.168.1.23"
LONG_HOST = "northeurope.notifications.teams.microsoft.com"


def tls(flow_id: str, host: str | None, server_ip: str, start: float, up: int, down: int,
        end: float | None = None) -> Flow:
    return Flow(flow_id, start, end if end is not None else start + 1.0, Transport.TCP, CLIENT,
                50000 + int(flow_id[1:]), server_ip, 443, host=host,
                host_source=HostSource.SNI if host else HostSource.NONE, app_proto="tls",
                bytes_up=up, bytes_down=down, packets_up=3, packets_down=4,
                visibility=Visibility.ENCRYPTED, sni=host)


def small_call() -> list[Flow]:
    """A Zoom session: the Facebook SDK at launch, Zoom signalling, an RTP call, a peer."""
    return [
        tls("F1", "graph.facebook.com", "157.240.20.19", 1.0, 3620, 4240),
        tls("F2", "zoom.us", "170.114.52.2", 0.5, 2500, 8300, end=60.0),
        tls("F3", "www.zoom.us", "170.114.52.2", 20.0, 2800, 23100),
        tls("F4", LONG_HOST, "52.114.250.1", 5.0, 900, 900),
        Flow("F5", 4.0, 59.0, Transport.UDP, CLIENT, 52100, "206.247.41.10", 8801,
             host_source=HostSource.NONE, app_proto="zoom-media", bytes_up=300000,
             bytes_down=500000, packets_up=800, packets_down=1100,
             visibility=Visibility.ENCRYPTED, media=Media(protocols=("zoom-media",))),
        Flow("F6", 30.0, 31.0, Transport.UDP, CLIENT, 52200, "198.51.100.200", 50000,
             app_proto="udp", bytes_up=10, bytes_down=10, packets_up=1, packets_down=1),
    ]


@pytest.fixture(scope="module")
def built(catalog: Catalog) -> BuiltReport:
    session = run_audit(catalog, small_call(), [], session_id="s", source="pcap",
                        inputs=["x.pcap"], requested_app="zoom")
    return build_report(session)


@pytest.fixture(scope="module")
def page(built: BuiltReport) -> str:
    return render(ReportFile.HTML, built)


def body_text(page: str) -> str:
    body = re.sub(r"<script>.*?</script>", " ", page.split("<body>", 1)[1], flags=re.S)
    return unescape(re.sub(r"<[^>]+>", "", body.replace("<wbr>", "")))


def test_the_policy_allows_only_the_pages_own_style_and_script(page: str) -> None:
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert policy is not None
    rules = dict(rule.strip().split(" ", 1) for rule in policy.group(1).split(";"))
    assert rules["default-src"] == "'none'" and "unsafe" not in policy.group(1)
    for tag, directive in (("style", "style-src"), ("script", "script-src")):
        blocks = re.findall(rf"<{tag}>(.*?)</{tag}>", page, re.S)
        assert len(blocks) == 1, tag
        digest = base64.b64encode(hashlib.sha256(blocks[0].encode()).digest()).decode()
        assert rules[directive] == f"'sha256-{digest}'", tag
    # Nothing to load, and nothing the policy would have to block.
    assert not re.search(r"\s(src|style|on[a-z]+)=", page)
    assert not re.search(r"<(link|img|iframe|object|embed)\b", page)
    assert set(re.findall(r'href="([^"]*)"', page)) <= {f"#{s}" for s in re.findall(
        r'<section id="([a-z-]+)"', page)}


def test_the_verdict_comes_first_in_the_shared_sentences(page: str, built: BuiltReport) -> None:
    text = body_text(page)
    verdict = page.index("ad-tech: Meta (graph.facebook.com)")
    assert page.index("<h2>Verdict</h2>") < verdict < page.index("<h2>Organisations</h2>")
    assert page.index("<h2>Organisations</h2>") < page.index("<h2>Endpoints</h2>")
    assert "unknown endpoints exchanged 20 B of 843.3 kB (<0.1%)" not in text  # not rounded to 0
    assert re.search(r"unknown endpoints exchanged 20 B of 84\d\.\d kB \(0\.0%\)", text)
    assert "no personal data could be looked for" in text


def test_organisations_sum_their_endpoints(page: str) -> None:
    table = page.split('id="organisations-table"')[1].split("</table>")[0]
    zoom = next(row for row in table.split("<tr ")[1:] if "<summary>Zoom</summary>" in row)
    numbers = re.findall(r'data-label="(endpoints|flows|sent|received)" data-v="(\d+)"', zoom)
    assert dict(numbers) == {"endpoints": "3", "flows": "3", "sent": str(2500 + 2800 + 300000),
                             "received": str(8300 + 23100 + 500000)}
    assert zoom.count("<li>") == 3  # its endpoints, behind the summary


def test_host_names_wrap_only_after_dots(page: str) -> None:
    hosts = re.findall(r'<span class="host">((?:<span>[^<]*</span>|<wbr>|[^<])*)</span>', page)
    assert ("<span>northeurope.</span><wbr><span>notifications.</span><wbr><span>teams.</span>"
            "<wbr><span>microsoft.</span><wbr><span>com</span>") in hosts
    for shown in hosts:
        labels = shown.split("<wbr>")
        # a break opportunity only after a dot; each label whole (no break at its hyphens)
        assert all(re.fullmatch(r"<span>[^<]+\.</span>", label) for label in labels[:-1]), shown
        assert re.fullmatch(r"<span>[^<.]+</span>", labels[-1]), shown
    assert "word-break" not in page and "break-all" not in page
    assert ".host>span{white-space:nowrap}" in page
    # Addresses never wrap: IPv4 in a nowrap span, whole.
    assert '<span class="ip">206.247.41.10:8801</span>' in page


def test_address_range_evidence_is_listed_once(page: str, built: BuiltReport) -> None:
    endpoint = next(e for e in built.document["endpoints"] if e["host"] == "206.247.41.10")
    kinds = [e["kind"] for e in endpoint["evidence"]]
    assert "ip-range" in kinds and "name" in kinds  # report.json keeps both records
    row = next(r for r in page.split('id="endpoints-table"')[1].split("<tr ")
               if '<span class="ip">206.247.41.10</span>' in r)
    assert row.count("is in 206.247.0.0/16 of rule zoom.ip-ranges") == 1


def test_small_categories_stay_visible_and_empty_ones_take_no_row(page: str) -> None:
    chart = page.split('aria-label="Bytes by category"')[1].split('<div class="legend">')[0]
    rows = re.findall(r'data-category="([a-z-]+)"', chart)
    assert rows == ["ad-tech", "third-party", "unknown", "first-party"]  # no analytics, local
    widths = {category: float(width) for category, width in re.findall(
        r'f-([a-z-]+) recv" x="0" y="1" height="16" width="([\d.]+)%"', chart)}
    assert widths["first-party"] == 100.0
    assert widths["ad-tech"] >= 3.0 and widths["unknown"] >= 3.0  # 7.9 kB and 20 B, not slivers
    assert "7.9 kB" in chart and "20 B" in chart  # the label gives the exact figure
    legend = page.split('aria-label="Bytes by category"')[1].split('<div class="legend">')[1]
    # worded for both colour schemes: in dark mode the faded part looks darker, not lighter
    assert legend.startswith("<span>full colour: sent by the device</span>"
                             "<span>faded: received</span>")


def test_the_timeline_shows_who_came_before_the_call(page: str) -> None:
    section = page.split('<section id="timeline">')[1].split("</section>")[0]
    text = unescape(re.sub(r"<[^>]+>", "", section.replace("<wbr>", "")))
    assert "The call's media began at +0:03.5 (the dashed line)." in text
    assert ("Meta (ad-tech, graph.facebook.com) was first contacted at +0:00.5, 3.0 s before "
            "the call's media began.") in text
    rows = re.findall(r'<summary class="tl-row"><div class="label">([^<]+?) <span', section)
    assert rows[:2] == ["Zoom", "Meta"]  # in order of first contact
    assert section.count('class="mark"') >= len(rows)  # the dashed line in every row


def test_the_call_is_drawn_from_the_report(page: str) -> None:
    section = page.split('<section id="call">')[1].split("</section>")[0]
    assert '<span class="ip">206.247.41.10:8801</span>' in section
    assert "zoom-media" in section and "server" in section


def test_everything_from_traffic_is_escaped(catalog: Catalog) -> None:
    hostile = "<img src=x onerror=alert(1)>.\u202eexample"
    flows = [tls("F1", hostile, "203.0.113.9", 1.0, 10, 10)]
    session = run_audit(catalog, flows, [], session_id="<b>id</b>", source="pcap",
                        inputs=["<i>.pcap"], requested_app=None)
    page = render(ReportFile.HTML, build_report(session))
    assert "<img" not in page and "<b>id" not in page and "<i>.pcap" not in page
    assert ("<span>&lt;img src=x onerror=alert(1)&gt;.</span><wbr><span>\\u202eexample</span>"
            in page)
    assert all(c.isprintable() or c == "\n" for c in page)


def test_a_report_without_flows_still_draws_its_timeline(built: BuiltReport) -> None:
    page = render_html(built.document)  # e.g. a document read back from report.json
    assert 'id="flows"' not in page
    assert page.count('<details class="tl">') == 4  # Meta, Zoom, Microsoft, the unknown one


def test_empty_session(catalog: Catalog) -> None:
    session = run_audit(catalog, [], [], session_id="e", source="pcap", inputs=[],
                        requested_app=None)
    page = render(ReportFile.HTML, build_report(session))
    assert "no traffic was recorded: there is nothing to judge" in page
    assert "No traffic: nothing to draw." in page and '<section id="call">' not in page


def test_long_silences_are_cut_out_of_the_timeline() -> None:
    three_years = 3 * 365 * 86400.0
    scale = time_scale([(0.0, 10.0), (20.0, 60.0), (three_years, three_years + 1.0)])
    assert scale is not None and len(scale.gaps) == 1
    assert scale.gaps[0][2] == pytest.approx(three_years - 60.0)
    # The minute fills most of the track; the second after the gap gets a readable stretch.
    assert scale.x(60.0) == pytest.approx(0.79, abs=0.01)
    assert scale.x(three_years) == pytest.approx(0.83, abs=0.01)
    ticks = [t.text for t in scale.ticks()]
    assert ticks[0] == "+0:00" and ticks[-1] == "+1095 d 00:00"
    assert all(t.anchor in ("start", "middle", "end") for t in scale.ticks())
    assert offset_text(3.64) == "+0:03.6" and offset_text(3723.0) == "+1:02:03"


def test_the_bundled_samples_render(tmp_path: Path, catalog: Catalog) -> None:
    analyze_files(catalog, [SAMPLES / "teams-linux-any.pcap"], out=tmp_path / "t", app=None)
    page = (tmp_path / "t" / "report.html").read_text()
    document = json.loads((tmp_path / "t" / "report.json").read_text())
    microsoft = next(row for row in page.split('id="organisations-table"')[1].split("<tr ")
                     if "<summary>Microsoft</summary>" in row)
    endpoints = [e for e in document["endpoints"] if e["entity"] == "Microsoft"]
    assert f'data-label="endpoints" data-v="{len(endpoints)}"' in microsoft
    flows = page.split('id="flows-table"')[1].split("</table>")[0]
    assert flows.count("<tr data-category=") == document["summary"]["flows"]


@pytest.mark.parametrize("start,end", [(1e300, float("inf")), (float("nan"), float("nan")),
                                       (-1e300, 5.0), (1.0, 1e300)])
def test_absurd_times_still_give_a_page(catalog: Catalog, start: float, end: float) -> None:
    flows = [Flow("F1", start, end, Transport.UDP, CLIENT, 5000, "192.0.2.1", 53),
             tls("F2", "zoom.us", "170.114.52.2", 10.0, 100, 100)]
    session = run_audit(catalog, flows, [], session_id="s", source="pcap", inputs=[],
                        requested_app=None)
    page = render(ReportFile.HTML, build_report(session))
    assert '<section id="timeline">' in page and "zoom.us" in page.replace("<wbr>", "")


def test_a_report_without_a_call_section_gets_one_from_the_media_flows(
        built: BuiltReport) -> None:
    document = {k: v for k, v in built.document.items() if k != "call"}  # an older report
    page = render_html(document, built.flows)
    section = page.split('<section id="call">')[1].split("</section>")[0]
    assert "an older vcaudit wrote it" in section
    assert '<span class="ip">206.247.41.10:8801</span>' in section
    assert "<td data-label=\"role\">server</td>" in section  # Zoom's framing: a server
    assert "The call's media began at +0:03.5" in page
