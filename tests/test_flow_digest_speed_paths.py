"""report.html's fast reading of the flows gives what a straightforward reading gives: the page's
digest (flow_digest: the scale pass over the time columns only, tuples instead of dicts, rows
made into dicts only when kept, each endpoint's rows looked up once) equals a plain
one-dict-per-flow reference, on a generated capture's session and on stored rows full of odd
and hostile values; BuiltReport.flow_rows(columns) equals the dict rows' columns;
Occupancy.add_times and the run-finding `scale` count as `add` and a bucket-by-bucket loop
do; the flow table's repeated cells, the quick address test and host names escaped whole
change nothing."""

from __future__ import annotations

import heapq
import ipaddress
import json
import math
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from auditor.audit import run_audit
from auditor.capture.flow_spill import RecordSpill
from auditor.classify.catalog import Catalog
from auditor.records import FLOW_COLUMNS
from auditor.report.build import BuiltReport, build_report
from auditor.report.render.html_page import render_html
from auditor.report.render.page import flow_digest
from auditor.report.render.page.clock import parse_time
from auditor.report.render.page.flow_digest import (
    STREAM_PROTOCOLS,
    TIME_COLUMNS,
    FlowDigest,
    digest_flows,
    endpoint_key,
    media_protocols,
)
from auditor.report.render.page.fragments import LABEL_NOWRAP, _is_address, host
from auditor.report.render.page.organisations import group_organisations, organisation_key
from auditor.report.render.page.tables import Repeats
from auditor.report.render.page.time_scale import Occupancy, TimeScale, scale_of_runs
from auditor.report.render.page.timeline import drawn_keys, timeline_plan
from auditor.report.render.page.tracks import BINS, SPAN_MIN, WIDTH
from auditor.report.render.text_safety import html_cell
from auditor.session.offline import analyze_files

from .conftest import script_module
from .test_html_report import small_call

BENCH = Path(__file__).resolve().parents[1] / "bench"
Rows = Callable[[], Iterable[Mapping[str, Any]]]


# The reference: the page's digest as it was first written, one dict per flow per pass.

@dataclass(slots=True)
class PlainTrack:
    spans: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    columns: dict[str, list[float]] = field(default_factory=dict)
    flows: int = 0
    size: int = 0
    first: float | None = None
    last: float | None = None

    def add(self, start: float, end: float, size: int, category: str,
            scale: TimeScale) -> None:
        x0, x1 = scale.x(start) * WIDTH, scale.x(end) * WIDTH
        spans = self.spans.setdefault(category, [])
        if spans and x0 <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], x1, x0 + SPAN_MIN))
        else:
            spans.append((x0, max(x1, x0 + SPAN_MIN)))
        bins = self.columns.setdefault(category, [0.0] * BINS)
        width = WIDTH / BINS
        first = min(int(x0 / width), BINS - 1)
        if x1 - x0 < width:
            bins[first] += size
        else:
            for index in range(first, min(int(x1 / width), BINS - 1) + 1):
                overlap = min(x1, (index + 1) * width) - max(x0, index * width)
                bins[index] += size * max(overlap, 0.0) / (x1 - x0)
        self.flows += 1
        self.size += size
        self.first = start if self.first is None else min(self.first, start)
        self.last = end if self.last is None else max(self.last, end)


def plain_number(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def plain_times(row: Mapping[str, Any]) -> tuple[float | None, float | None]:
    start, end = plain_number(row.get("ts_start")), plain_number(row.get("ts_end"))
    if start is None:
        return None, None
    return start, max(start, end) if end is not None else start


def plain_count(value: object) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value) and value > 0 else 0


def plain_scale(occupancy: Occupancy) -> TimeScale | None:
    """Occupancy.scale as a loop over every bucket."""
    runs: list[tuple[float, float]] = []
    active, start, end = 0, math.inf, -math.inf
    for index in range(occupancy.buckets):
        active += occupancy.opened[index]
        if active > 0:
            start = min(start, occupancy.earliest[index])
            end = max(end, occupancy.latest[index])
        elif start < math.inf:
            runs.append((start, end))
            start, end = math.inf, -math.inf
    if start < math.inf:
        runs.append((start, end))
    return scale_of_runs(runs) if runs else None


def reference_digest(report: dict[str, Any], rows: Rows, owner: dict[str, str],
                     drawn: tuple[set[str], set[str]], keep: int, media_kept: int
                     ) -> FlowDigest:
    first = parse_time(report["session"].get("started"))
    last = parse_time(report["session"].get("ended"))
    if first is None or last is None:
        for row in rows():
            start, end = plain_times(row)
            if start is not None and end is not None:
                first = start if first is None else min(first, start)
                last = end if last is None else max(last, end)
    if first is None or last is None:
        return FlowDigest(None, {}, {}, [], 0, None, [])
    occupancy = Occupancy(first, last + 0.001)
    for row in rows():
        start, end = plain_times(row)
        if start is not None and end is not None:
            occupancy.add(start, end)
    scale = plain_scale(occupancy)
    digest = FlowDigest(scale, {}, {}, [], 0, None, [])
    earliest: list[tuple[float, int, dict[str, Any]]] = []
    for number, row in enumerate(rows()):
        start, end = plain_times(row)
        digest.flows = number + 1
        key = (-(start if start is not None else math.inf), -number)
        if len(earliest) < keep:
            heapq.heappush(earliest, (*key, dict(row)))
        elif key > earliest[0][:2]:
            heapq.heapreplace(earliest, (*key, dict(row)))
        protocols = media_protocols(row)
        if protocols:
            if start is not None and STREAM_PROTOCOLS & {*protocols, str(row.get("app_proto"))}:
                digest.media_start = start if digest.media_start is None else min(
                    digest.media_start, start)
            if len(digest.media_flows) < media_kept:
                digest.media_flows.append({**row, "endpoint": endpoint_key(row)})
        name = endpoint_key(row)
        if start is None or end is None or scale is None or name is None:
            continue
        organisation = owner.get(name, name)
        size = plain_count(row.get("bytes_up")) + plain_count(row.get("bytes_down"))
        category = str(row.get("category") or "unknown")
        if organisation in drawn[0]:
            digest.organisations.setdefault(organisation, PlainTrack()).add(
                start, end, size, category, scale)
        if name in drawn[1]:
            digest.endpoints.setdefault(name, PlainTrack()).add(
                start, end, size, category, scale)
    digest.earliest = [row for _, _, row in sorted((-s, -n, r) for s, n, r in earliest)]
    return digest


def shown(digest: FlowDigest) -> str:
    """Everything in a digest, exactly (repr tells -0.0 from 0.0 and NaN from NaN), the tracks
    by their fields whatever their class."""
    def tracks(table: dict[str, Any]) -> list[Any]:
        return [(key, t.spans, t.columns, t.flows, t.size, t.first, t.last)
                for key, t in table.items()]

    return repr((digest.scale, tracks(digest.organisations), tracks(digest.endpoints),
                 digest.earliest, digest.flows, digest.media_start, digest.media_flows))


# A generated capture's session, and stored rows full of odd values.

@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> BuiltReport:
    module = script_module(BENCH / "make_capture.py")
    folder = tmp_path_factory.mktemp("generated")
    module.build_capture(folder / "call.pcap", packets=20_000)
    return analyze_files(catalog, [folder / "call.pcap"], out=folder / "session",
                         app=None).report


def page_inputs(document: dict[str, Any]) -> tuple[dict[str, str], tuple[set[str], set[str]]]:
    """The owner map and the drawn rows the page itself gives the digest."""
    plan, _ = timeline_plan(group_organisations(document))
    owner = {str(e.get("host")): organisation_key(e) for e in document.get("endpoints") or []}
    return owner, drawn_keys(plan)


ODD_TIMES: list[object] = [math.nan, math.inf, -math.inf, None, True, False, "12.5", 7, -0.0]
HOSTS: list[object] = ["zoom.us", "www.zoom.us", "evil\u202e.com<script>", "a&b\"'.example",
                       None, "", 42, "192.0.2.7", "2001:db8::1", "x" * 300]
MEDIA: list[object] = [None, {"protocols": ["rtp"]}, {"protocols": ["stun"]},
                       {"protocols": "rtp"}, {"relay": True}, '{"protocols": ["srtp"]}',
                       '{"protocols": [1, null]}', "protocols{not json", "no list here", 7,
                       {"protocols": ("zoom-media",)}]
SIZES: list[object] = [100, 0, -5, None, 1.5, math.nan, math.inf, True, 10**20, "9"]
CATEGORIES: list[object] = ["first-party", "analytics", "ad-tech", "local", "unknown", None,
                            "", 7, "<b>new</b>"]


def odd_rows(count: int, seed: int) -> list[tuple[Any, ...]]:
    """Flows in FLOW_COLUMNS order: mostly in time order (many starting at the same moment,
    some a minute early), a silence of three years, and every kind of odd value in the cells
    the page reads."""
    rng = random.Random(seed)
    rows = []
    clock = 1_700_000_000.0
    for number in range(count):
        clock += rng.choice([0.0, 0.0, rng.expovariate(2.0)])
        if number == count - 5:
            clock += 3 * 365 * 86400.0  # a flow long after the others: a cut silence
        start: object = clock + rng.choice([0.0, 0.0, 0.0, -3.0, 2.5, -60.0])
        end: object = clock + rng.choice([0.0, 0.2, 30.0, 900.0, -1.0])
        if rng.random() < 0.08:  # a start that is no time, or a whole number
            start = rng.choice([*ODD_TIMES[:7], int(clock)])
        if rng.random() < 0.08:
            end = rng.choice(ODD_TIMES)
        values = dict.fromkeys(FLOW_COLUMNS)
        values.update(
            flow_id=f"F{number}", ts_start=start, ts_end=end, transport="udp",
            host=rng.choice(HOSTS), server_ip=rng.choice(["198.51.100.1", "198.51.100.2", None,
                                                          "", "2001:db8::2"]),
            server_port=rng.choice([443, 8801, None]),
            app_proto=rng.choice(["rtp", "tls", None, 5, "srtp"]),
            bytes_up=rng.choice(SIZES), bytes_down=rng.choice(SIZES),
            media=rng.choice(MEDIA) if rng.random() < 0.3 else None,
            category=rng.choice(CATEGORIES), entity=rng.choice(["Zoom", None, "<i>x</i>"]),
            url=rng.choice([None, "https://zoom.us/" + "a" * 200]),
        )
        rows.append(tuple(values[c] for c in FLOW_COLUMNS))
    return rows


def stored_report(document: dict[str, Any], rows: list[tuple[Any, ...]],
                  catalog: Catalog) -> BuiltReport:
    """A BuiltReport whose flows.csv rows wait on disk, as a large session's do."""
    spill = RecordSpill()
    for number, row in enumerate(rows):
        spill.put(number, row)
    session = run_audit(catalog, [], [], session_id="s", source="pcap", inputs=[],
                        requested_app=None)
    return BuiltReport(document, [], [], session, spill)


def odd_document(started: str | None, ended: str | None) -> dict[str, Any]:
    return {"session": {"started": started, "ended": ended}, "endpoints": []}


ODD_OWNER = {"zoom.us": "Zoom", "www.zoom.us": "Zoom", "198.51.100.1": "Net",
             "evil\u202e.com<script>": "Evil", "42": "Zoom"}
ODD_DRAWN = ({"Zoom", "Evil", "a&b\"'.example", "198.51.100.2"},
             {"zoom.us", "evil\u202e.com<script>", "198.51.100.1", "42", "2001:db8::1"})


# The tests.

def test_the_digest_of_a_generated_session_equals_the_reference(
        generated: BuiltReport, monkeypatch: pytest.MonkeyPatch) -> None:
    document = generated.document
    owner, drawn = page_inputs(document)
    fast = digest_flows(document, generated.flow_rows, owner, drawn)
    plain = reference_digest(document, generated.flow_rows, owner, drawn, 2000, 1000)
    assert fast.flows == document["summary"]["flows"] > 200
    assert fast.organisations and fast.endpoints and fast.media_flows
    assert shown(fast) == shown(plain)
    # fewer kept rows than flows: the earliest are chosen, the media flows cut off; most
    # endpoints' rows looked up again for each flow
    monkeypatch.setattr(flow_digest, "MAX_FLOW_ROWS", 37)
    monkeypatch.setattr(flow_digest, "MAX_MEDIA_FLOWS", 5)
    monkeypatch.setattr(flow_digest, "REMEMBERED_ENDPOINTS", 3)
    fast = digest_flows(document, generated.flow_rows, owner, drawn)
    assert len(fast.earliest) == 37 and len(fast.media_flows) == 5
    assert shown(fast) == shown(reference_digest(document, generated.flow_rows, owner, drawn,
                                                 37, 5))


@pytest.mark.parametrize("started,ended", [("2023-11-14T22:13:20.000Z",
                                            "2026-11-14T00:00:00.000Z"), (None, None)],
                         ids=["session-times", "times-from-the-flows"])
@pytest.mark.parametrize("seed", [1, 2])
def test_the_digest_of_odd_stored_rows_equals_the_reference(
        catalog: Catalog, started: str | None, ended: str | None, seed: int) -> None:
    document = odd_document(started, ended)
    report = stored_report(document, odd_rows(3000, seed), catalog)
    fast = digest_flows(document, report.flow_rows, ODD_OWNER, ODD_DRAWN)
    plain = reference_digest(document, report.flow_rows, ODD_OWNER, ODD_DRAWN, 2000, 1000)
    assert fast.flows == 3000 and len(fast.earliest) == 2000
    assert fast.scale is not None and fast.scale.gaps  # the three years are cut out
    assert {"Zoom", "Evil"} <= set(fast.organisations) and "42" in fast.endpoints
    assert fast.media_flows and fast.media_start is not None
    assert shown(fast) == shown(plain)


def test_a_digest_that_remembers_few_endpoints_is_the_same(
        catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    document = odd_document("2023-11-14T22:13:20.000Z", "2026-11-14T00:00:00.000Z")
    report = stored_report(document, odd_rows(1000, 4), catalog)
    monkeypatch.setattr(flow_digest, "REMEMBERED_ENDPOINTS", 2)
    fast = digest_flows(document, report.flow_rows, ODD_OWNER, ODD_DRAWN)
    assert len(fast.endpoints) > 2
    assert shown(fast) == shown(reference_digest(document, report.flow_rows, ODD_OWNER,
                                                 ODD_DRAWN, 2000, 1000))


def test_flows_without_a_usable_start_give_an_empty_digest(catalog: Catalog) -> None:
    start = FLOW_COLUMNS.index("ts_start")
    rows = [(*row[:start], math.nan, *row[start + 1:]) for row in odd_rows(50, 3)]
    document = odd_document(None, None)
    report = stored_report(document, rows, catalog)
    fast = digest_flows(document, report.flow_rows, ODD_OWNER, ODD_DRAWN)
    assert fast.scale is None and fast.flows == 0 and not fast.earliest
    assert shown(fast) == shown(reference_digest(document, report.flow_rows, ODD_OWNER,
                                                 ODD_DRAWN, 2000, 1000))


def test_the_page_from_stored_rows_equals_the_page_from_the_flows_table(
        generated: BuiltReport) -> None:
    assert render_html(generated.document, generated.flow_rows) == render_html(
        generated.document, generated.flows)
    older = {k: v for k, v in generated.document.items() if k != "call"}  # media flows drawn
    page = render_html(older, generated.flow_rows)
    assert "an older vcaudit wrote it" in page and page == render_html(older, generated.flows)


def test_flow_rows_give_the_columns_asked_for(generated: BuiltReport,
                                              catalog: Catalog) -> None:
    in_memory = build_report(run_audit(catalog, small_call(), [], session_id="s",
                                       source="pcap", inputs=["x.pcap"], requested_app="zoom"))
    assert generated.stored_rows is not None and in_memory.stored_rows is None
    for report in (generated, in_memory):
        rows = list(report.flow_rows())
        assert rows and all(list(row) == list(FLOW_COLUMNS) for row in rows)
        for columns in (TIME_COLUMNS, ("media",), ("category", "host", "ts_start"),
                        FLOW_COLUMNS, ()):
            assert list(report.flow_rows(columns)) == [tuple(row[c] for c in columns)
                                                       for row in rows]
        assert list(report.flow_rows(FLOW_COLUMNS)) == [tuple(row.values()) for row in rows]
        with pytest.raises(ValueError, match="no column 'nope'"):
            report.flow_rows(("ts_start", "nope"))


def test_add_times_counts_as_add_does() -> None:
    rng = random.Random(5)
    cells: list[tuple[object, object]] = []
    for _ in range(5000):
        start = rng.uniform(-50.0, 1100.0)
        end = start + rng.choice([0.0, 0.5, 90.0, -2.0])
        cells.append((rng.choice([start] * 9 + ODD_TIMES), rng.choice([end] * 9 + ODD_TIMES)))
    cells += [(-0.0, 0.0), (0.0, -0.0), (1e308, 1e308), (-1e308, 1e308), (3, 2)]
    for first, last in ((0.0, 1000.0), (-1e308, 1e308), (5.0, 5.0)):
        one_by_one, together = Occupancy(first, last, 512), Occupancy(first, last, 512)
        for start_cell, end_cell in cells:
            start = plain_number(start_cell)
            end = plain_number(end_cell)
            if start is not None:
                one_by_one.add(start, max(start, end) if end is not None else start)
        together.add_times(cells)
        assert together.opened == one_by_one.opened
        assert repr(together.earliest) == repr(one_by_one.earliest)
        assert repr(together.latest) == repr(one_by_one.latest)
        assert repr(together.scale()) == repr(plain_scale(one_by_one))
    for start_cell, end_cell in ((0.0, -0.0), (-0.0, 0.0), (2.0, 1.0)):  # ends as max gives
        one_by_one, together = Occupancy(0.0, 10.0), Occupancy(0.0, 10.0)
        one_by_one.add(start_cell, max(start_cell, end_cell))
        together.add_times([(start_cell, end_cell)])
        assert repr(together.latest[0]) == repr(one_by_one.latest[0])
    empty = Occupancy(0.0, 10.0)
    empty.add_times([(math.nan, 1.0), (None, None)])
    assert empty.scale() is None


def test_runs_of_activity_are_found_as_a_bucket_by_bucket_loop_finds_them() -> None:
    rng = random.Random(9)
    for _ in range(30):
        occupancy = Occupancy(0.0, 10_000.0, rng.choice([1, 7, 4096]))
        for _ in range(rng.randint(1, 60)):
            start = rng.choice([rng.uniform(0.0, 10_000.0), 0.0, 10_000.0])
            occupancy.add(start, start + rng.choice([0.0, 1.0, 400.0, 5000.0]))
        assert repr(occupancy.scale()) == repr(plain_scale(occupancy))


def test_repeated_cells_are_made_once_and_never_confused() -> None:
    made: list[tuple[object, ...]] = []

    def cell(*args: object) -> str:
        made.append(args)
        return repr(args)

    repeats = Repeats()
    assert repeats(cell, "zoom.us", 443) == repeats(cell, "zoom.us", 443) == "('zoom.us', 443)"
    assert made == [("zoom.us", 443)]
    # values equal across types keep cells of their own; values that cannot be kept are
    # made every time
    assert [repeats(cell, v) for v in (1, True, 1.0, None, "1")] == [
        "(1,)", "(True,)", "(1.0,)", "(None,)", "('1',)"]
    assert repeats(cell, ["a"]) == repeats(cell, ["a"]) == "(['a'],)"
    made.clear()
    assert [repeats(cell, v) for v in (1, True, 1.0, None, "1")] == [
        "(1,)", "(True,)", "(1.0,)", "(None,)", "('1',)"]
    assert [type(args[0]) for args in made] == [bool, float]  # the plain ones were kept


def test_the_quick_address_test_agrees_with_ipaddress() -> None:
    def is_address(name: str) -> bool:
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return False
        return True

    rng = random.Random(11)
    alphabet = "0123456789.:abcdefxyz%\u0661 \n"
    names = ["1.2.3.4", "01.2.3.4", "1.2.3", "::1", "fe80::1%eth0", "zoom.us", " 1.2.3.4",
             "\u0661.\u0662.\u0663.\u0664", "", "256.1.1.1", "1.2.3.4\n", "::ffff:1.2.3.4"]
    names += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
              for _ in range(20_000)]
    names += [".".join(str(rng.randint(0, 300)) for _ in range(rng.randint(1, 5)))
              for _ in range(5_000)]
    assert [_is_address(n) for n in names] == [is_address(n) for n in names]
    assert sum(map(_is_address, names)) > 300  # both answers are exercised


def test_media_cells_as_text_or_block() -> None:
    assert media_protocols({"media": '{"protocols": ["rtp", 5]}'}) == ["rtp", "5"]
    assert media_protocols({"media": json.dumps({"relay": True})}) == []
    assert media_protocols({"media": "protocols{"}) == []
    assert media_protocols({"media": {"protocols": ("srtp",)}}) == ["srtp"]
    assert media_protocols({}) == []


def test_host_names_are_shown_as_label_by_label_escaping_shows_them() -> None:
    def label_by_label(name: str) -> str:
        labels = [f"{label}." for label in name.split(".")]
        labels[-1] = labels[-1][:-1]
        shown = "<wbr>".join(f"<span>{html_cell(label)}</span>" if len(label) <= LABEL_NOWRAP
                             else html_cell(label) for label in labels if label)
        return f'<span class="host">{shown}</span>'

    rng = random.Random(13)
    alphabet = "ab.-<>&\"'\x1b\u202e\ud800\U000e0041\n\\x"
    names = [".", "..", "a.", ".a", "a..b", "zoom.us", "x" * 39 + ".y", "x" * 40 + ".y",
             "x" * 41, "evil\u202e.com<script>"]
    names += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 90)))
              for _ in range(5_000)]
    names += [".".join("q" * rng.randint(0, 45) for _ in range(rng.randint(1, 5)))
              for _ in range(2_000)]
    names = [n for n in names if n and not _is_address(n)]
    assert [host(n) for n in names] == [label_by_label(n) for n in names]
