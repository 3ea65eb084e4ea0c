"""report.html in a real browser: Debian's Chromium, driven by Playwright (never a browser
Playwright downloads), at 390, 1280 and 1920 px, on the bundled samples, the shared captures
(when present) and a generated session with 1,200 endpoints.

Layout facts checked on every page and width: the page never scrolls sideways; no SVG text
leaves its SVG; axis labels do not overlap; no host name breaks inside a DNS label (the line
boxes of its characters, read with Range.getClientRects, change only after a dot) and no IPv4
address breaks at all; nothing is fetched but the page itself; no console error and no
Content-Security-Policy violation. On the desktop width: sorting by a header and filtering by
category and organisation work; dark mode and print render. Skipped, with the reason, where
no browser or no Playwright is installed.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auditor.audit import run_audit
from auditor.classify.catalog import Catalog
from auditor.records import Flow, HostSource, Media, Transport, Visibility
from auditor.report.build import build_report
from auditor.report.render.report_files import ReportFile, render
from auditor.session.offline import analyze_files

from .conftest import SAMPLES, SHARED_CAPTURES

CHROMIUM = Path(os.environ.get("VCAUDIT_CHROMIUM", "/usr/bin/chromium"))
# Nothing in the background: no updates, no sync, no first-run pages, no GPU.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
WIDTHS = (390, 1280, 1920)
DESKTOP = 1280
SHARED_PICK = ("teams.pcap", "zoom.pcap", "webex.pcap", "google_meet.pcapng",
               "skype-conference-call.pcap", "discord.pcap", "whatsapp_voice_and_message.pcap",
               "badpackets.pcap")

# Runs in the page: every layout fact at once, as a list of problems (empty: all good).
LAYOUT_PROBLEMS = """() => {
  const problems = [];
  document.querySelectorAll("details").forEach(d => { d.open = true; });
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth + 1)
    problems.push(`page scrolls sideways: ${root.scrollWidth} > ${root.clientWidth}`);
  const shown = el => el.getClientRects().length > 0;
  document.querySelectorAll("svg text").forEach(text => {
    const svg = text.ownerSVGElement.getBoundingClientRect();
    const box = text.getBoundingClientRect();
    if (!shown(text)) return;
    if (box.left < svg.left - 0.5 || box.right > svg.right + 0.5 ||
        box.top < svg.top - 0.5 || box.bottom > svg.bottom + 0.5)
      problems.push(`clipped SVG text "${text.textContent}": ${box.left}-${box.right} in ` +
                    `${svg.left}-${svg.right}`);
  });
  document.querySelectorAll("svg").forEach(svg => {
    const boxes = [...svg.querySelectorAll("text")].map(t => t.getBoundingClientRect());
    boxes.forEach((a, i) => boxes.slice(i + 1).forEach(b => {
      if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom)
        problems.push("overlapping SVG labels");
    }));
  });
  const lines = node => {
    // The top of each character's line box; a new top starts a new line.
    const tops = [];
    const range = document.createRange();
    const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
    let text = "";
    for (let t = walker.nextNode(); t; t = walker.nextNode()) {
      for (let i = 0; i < t.length; i++) {
        range.setStart(t, i); range.setEnd(t, i + 1);
        const rect = range.getClientRects()[0];
        if (rect) { tops.push([text.length, rect.top]); }
        text += t.data[i];
      }
    }
    return [text, tops];
  };
  let checked = 0;
  document.querySelectorAll(".host, .ip").forEach(el => {
    if (!shown(el) || el.getClientRects().length < 2) return;  // on one line: nothing to see
    checked += 1;
    const [text, tops] = lines(el);
    for (let k = 1; k < tops.length; k++) {
      if (tops[k][1] > tops[k - 1][1] + 2) {
        const before = text[tops[k][0] - 1];
        if (el.classList.contains("ip") || before !== ".")
          problems.push(`"${text}" breaks after "${text.slice(0, tops[k][0])}"`);
      }
    }
  });
  return {problems: problems.slice(0, 20), wrapped: checked};
}"""
CSP_LISTENER = """window.__csp = [];
document.addEventListener("securitypolicyviolation",
                          e => window.__csp.push(e.violatedDirective + " " + e.blockedURI));"""


def large_flows(count: int = 1200) -> list[Flow]:
    """A long session with `count` endpoints: trackers, the vendor's hosts, unknown hosts with
    long names, bare addresses, and a call with a peer; over ten minutes."""
    kinds = [("ads{}.doubleclick.net", "142.250.{}.{}"),
             ("c{}.google-analytics.com", "142.251.{}.{}"),
             ("zoomfrn{}mmr.zoom.us", "170.114.{}.{}"),
             ("edge-{}.eu-west.static.assets.cdn-provider-with-a-long-name.example",
              "198.18.{}.{}"),
             ("{}", "203.0.{}.{}"),
             ("telemetry{}.events.data.microsoft.com", "52.114.{}.{}")]
    flows = []
    for i in range(count):
        name, address = kinds[i % len(kinds)]
        ip = address.format(i // 250 % 250, i % 250 + 1)
        host = None if name == "{}" else name.format(i)
        start = (i * 0.5) % 600.0
        flows.append(Flow(
            f"F{i}", 1_700_000_000.0 + start, 1_700_000_000.0 + start + (i % 7) * 3.0,
            Transport.TCP, "192.168.1.23", 40000 + i % 20000, ip, 443, host=host,
            host_source=HostSource.SNI if host else HostSource.NONE, app_proto="tls",
            bytes_up=100 + i * 37 % 5000, bytes_down=(i * 7919) % 900_000 + 60, packets_up=4,
            packets_down=6, visibility=Visibility.ENCRYPTED, sni=host))
    flows.append(Flow("P1", 1_700_000_100.0, 1_700_000_400.0, Transport.UDP, "192.168.1.23",
                      50000, "93.71.110.205", 16332, app_proto="srtp", bytes_up=900_000,
                      bytes_down=1_100_000, packets_up=5000, packets_down=6000,
                      visibility=Visibility.ENCRYPTED,
                      media=Media(protocols=("stun", "srtp"), ice=True)))
    return flows


@pytest.fixture(scope="module")
def browser_context() -> Iterator[Any]:
    """A headless Chromium context with a fresh profile, or a skip saying what is missing."""
    if importlib.util.find_spec("playwright") is None:
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    if not CHROMIUM.is_file() and shutil.which("chromium") is None:
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    executable = CHROMIUM if CHROMIUM.is_file() else Path(str(shutil.which("chromium")))
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(executable), headless=True, args=CHROMIUM_ARGS)
        context.add_init_script(CSP_LISTENER)
        yield context
        context.close()


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> dict[str, Path]:
    """report.html of the samples, the picked shared captures and the large session."""
    folder = tmp_path_factory.mktemp("pages")
    captures = sorted(SAMPLES.glob("*.pcap*"))
    if (SHARED_CAPTURES / "pcap").is_dir():
        captures += [SHARED_CAPTURES / "pcap" / name for name in SHARED_PICK
                     if (SHARED_CAPTURES / "pcap" / name).is_file()]
    found = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VCAUDIT_CACHE", str(folder / "cache"))
        patch.setenv("XDG_CONFIG_HOME", str(folder / "config"))
        for capture in captures:
            out = folder / capture.name
            analyze_files(catalog, [capture], out=out, app=None)
            found[capture.name] = out / "report.html"
    session = run_audit(catalog, large_flows(), [], session_id="large", source="pcap",
                        inputs=["large.pcap"], requested_app="zoom")
    large = folder / "large.html"
    large.write_text(render(ReportFile.HTML, build_report(session)))
    found["large"] = large
    return found


def open_page(context: Any, path: Path, width: int, **media: str) -> tuple[Any, list[str]]:
    """The page at `width`, and the list its console errors, failed loads and requests for
    anything but the page itself go to."""
    page = context.new_page()
    trouble: list[str] = []
    url = path.resolve().as_uri()
    page.on("console", lambda m: trouble.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: trouble.append(f"script error: {e}"))
    page.on("request", lambda r: trouble.append(f"request: {r.url}") if r.url != url else None)
    page.set_viewport_size({"width": width, "height": 900})
    if media:
        page.emulate_media(**media)
    page.goto(url)
    return page, trouble


def test_every_page_lays_out_at_every_width(browser_context: Any,
                                            pages: dict[str, Path]) -> None:
    assert len(pages) >= 3 and "large" in pages
    wrapped = 0
    for name, path in pages.items():
        for width in WIDTHS:
            page, trouble = open_page(browser_context, path, width)
            found = page.evaluate(LAYOUT_PROBLEMS)
            trouble += found["problems"] + page.evaluate("window.__csp")
            page.close()
            assert not trouble, (name, width, trouble)
            wrapped += found["wrapped"]
    assert wrapped > 50  # host names did wrap somewhere, at their dots


def column(page: Any, table: str, label: str) -> list[str]:
    """The data-v values of a column's shown cells, top to bottom."""
    return page.evaluate(
        """([table, label]) => [...document.querySelectorAll(`#${table} tbody tr`)]
           .filter(r => !r.hidden && !r.classList.contains("more"))
           .map(r => r.querySelector(`td[data-label="${label}"]`).getAttribute("data-v"))""",
        [table, label])


def test_sorting_and_filtering(browser_context: Any, pages: dict[str, Path]) -> None:
    page, trouble = open_page(browser_context, pages["large"], DESKTOP)
    header = page.locator("#endpoints-table thead th", has_text="received")
    header.click()
    received = [int(v) for v in column(page, "endpoints-table", "received")]
    assert len(received) > 1000 and received == sorted(received, reverse=True)
    assert header.get_attribute("aria-sort") == "descending"
    header.click()
    received = [int(v) for v in column(page, "endpoints-table", "received")]
    assert received == sorted(received)
    page.locator("#endpoints-table thead th", has_text="host").click()
    hosts = page.evaluate("""[...document.querySelectorAll('#endpoints-table tbody tr')]
        .map(r => r.cells[0].querySelector('.host, .ip').textContent.toLowerCase())""")
    assert hosts == sorted(hosts, key=lambda h: h)  # localeCompare agrees on these names
    toolbar = page.locator("#endpoints .toolbar")
    toolbar.locator("select").first.select_option("ad-tech")
    categories = page.evaluate("""[...document.querySelectorAll('#endpoints-table tbody tr')]
        .filter(r => !r.hidden).map(r => r.dataset.category)""")
    assert categories and set(categories) == {"ad-tech"}
    assert f"{len(categories)} of " in toolbar.inner_text()
    toolbar.locator("select").first.select_option("")
    toolbar.locator("select").nth(1).select_option("Microsoft")
    organisations = page.evaluate("""[...document.querySelectorAll('#endpoints-table tbody tr')]
        .filter(r => !r.hidden).map(r => r.dataset.org)""")
    assert organisations and set(organisations) == {"Microsoft"}
    page.locator("#flows .toolbar input").fill("doubleclick")
    shown = page.evaluate("""[...document.querySelectorAll('#flows-table tbody tr')]
        .filter(r => !r.hidden).map(r => r.textContent)""")
    assert shown and all("doubleclick" in row for row in shown)
    trouble += page.evaluate("window.__csp")
    page.close()
    assert not trouble


def test_narrow_screens_sort_with_the_toolbar(browser_context: Any,
                                              pages: dict[str, Path]) -> None:
    page, trouble = open_page(browser_context, pages["teams-linux-any.pcap"], 390)
    assert not page.locator("#endpoints-table thead").is_visible() or page.evaluate(
        "document.querySelector('#endpoints-table thead').getBoundingClientRect().height <= 1")
    page.locator("#endpoints .toolbar select").nth(2).select_option(label="sent")
    sent = [int(v) for v in column(page, "endpoints-table", "sent") if v]
    assert len(sent) > 1 and sent == sorted(sent, reverse=True)
    page.close()
    assert not trouble


def test_dark_mode_and_print(browser_context: Any, pages: dict[str, Path]) -> None:
    path = pages["zoom-desktop-call.pcapng"]
    page, trouble = open_page(browser_context, path, DESKTOP, color_scheme="dark")
    colours = page.evaluate("""[getComputedStyle(document.body).backgroundColor,
                                getComputedStyle(document.body).color]""")
    assert colours == ["rgb(20, 21, 23)", "rgb(228, 230, 233)"]
    page.close()
    page, more = open_page(browser_context, path, DESKTOP, media="print")
    facts = page.evaluate("""() => ({
        toolbars: [...document.querySelectorAll('.toolbar')].filter(
            t => t.getClientRects().length).length,
        hiddenEvidence: [...document.querySelectorAll('details.evidence ul')].filter(
            u => !u.getClientRects().length).length,
        width: document.documentElement.scrollWidth - document.documentElement.clientWidth})""")
    assert facts == {"toolbars": 0, "hiddenEvidence": 0, "width": 0}
    page.close()
    assert not trouble + more


def test_the_page_is_complete_without_its_script(browser_context: Any,
                                                 pages: dict[str, Path]) -> None:
    page, trouble = open_page(browser_context, pages["teams-linux-any.pcap"], DESKTOP)
    with_script = page.locator("#endpoints-table tbody tr").count()
    page.close()
    raw = pages["teams-linux-any.pcap"].read_text()
    without = raw.split("<script>")[0] + "</body></html>"
    stripped = pages["teams-linux-any.pcap"].with_name("no-script.html")
    stripped.write_text(without)
    page, more = open_page(browser_context, stripped, DESKTOP)
    assert page.locator(".toolbar").count() == 0
    assert page.locator("#endpoints-table tbody tr").count() == with_script > 0
    assert page.locator("#verdict li").count() >= 2
    page.close()
    assert not trouble + more


def test_the_layout_check_sees_what_it_looks_for(browser_context: Any,
                                                 pages: dict[str, Path]) -> None:
    """The checks above can fail: a host allowed to break anywhere in a narrow box, an SVG
    label pushed out of its chart, a block wider than the screen and an image from the
    network are all reported."""
    page, trouble = open_page(browser_context, pages["teams-linux-any.pcap"], 390)
    page.evaluate("""() => {
        const host = document.querySelector("#endpoints-table .host");
        host.closest("td").style.width = "60px";
        host.closest("td").style.flex = "0 0 60px";
        host.style.wordBreak = "break-all";
        host.querySelectorAll("span").forEach(s => { s.style.whiteSpace = "normal"; });
        document.querySelector("svg text").setAttribute("x", "-50");
        const wide = document.createElement("div");
        wide.style.width = "2000px"; wide.textContent = "wide";
        document.body.appendChild(wide);
    }""")
    problems = " | ".join(page.evaluate(LAYOUT_PROBLEMS)["problems"])
    # Something that would load from the network is blocked, and both listeners see it.
    page.evaluate("""() => { const image = document.createElement("img");
                             image.src = "https://example.invalid/pixel.png";
                             document.body.appendChild(image); }""")
    page.wait_for_function("window.__csp.length > 0")
    violations = page.evaluate("window.__csp")
    page.close()
    assert "page scrolls sideways" in problems
    assert "clipped SVG text" in problems
    assert "breaks after" in problems
    assert violations == ["img-src https://example.invalid/pixel.png"]
    assert any("Content Security Policy" in line for line in trouble), trouble
