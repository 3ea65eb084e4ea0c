"""The report's tables written a row at a time are the bytes pandas' to_csv writes for the
same typed table; a flow's line is record_to_dict's; coverage ranks addresses as pandas did;
and the report of a real capture does not depend on how its flows were kept."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from auditor.audit import run_audit
from auditor.capture.reading import read_capture
from auditor.classify.catalog import Catalog
from auditor.records import FLOW_COLUMNS, INTEGER_FIELDS, record_to_dict
from auditor.report.build import build_report
from auditor.report.coverage import top_addresses
from auditor.report.flow_rows import flow_dict
from auditor.report.render.tables import csv_table

from .conftest import SAMPLES

COLUMNS = ("name", "count", "size", "ratio", "flag", "items", "block")
ROWS = [
    {"name": "=cmd|' /c calc'!A0", "count": 3, "size": None, "ratio": 0.1 + 0.2, "flag": True,
     "items": ["a", "b;c"], "block": {"x": 1, "y": None, "z": [1, 2]}},
    {"name": 'quote " and, comma\nnewline', "count": None, "size": 2**40 + 1, "ratio": 1e16,
     "flag": False, "items": [], "block": None},
    {"name": None, "count": 0, "size": 7, "ratio": float("nan"), "flag": None, "items": None,
     "block": {}},
    {"name": "\x1b[2Jplain\u202e", "count": -1, "size": 0, "ratio": 1.5e-07, "flag": True,
     "items": [1, 2], "block": None},
    {"name": "x", "count": 12, "size": 1, "ratio": 1793628000.139394, "flag": False,
     "items": ["+1"], "block": None},
]


def pandas_csv(columns: tuple[str, ...], rows: list[dict[str, object]],
               integers: tuple[str, ...]) -> str:
    """How the report's tables were written before: a typed DataFrame through to_csv."""
    from auditor.report.render.tables import cell_text

    frame = pd.DataFrame(rows, columns=list(columns)).astype(dict.fromkeys(integers, "Int64"))

    def cell(value: object) -> object:
        if isinstance(value, (dict, list, tuple, str)):
            return cell_text(value)
        return value

    return frame.map(cell).to_csv(index=False, lineterminator="\n")


def test_rows_are_written_as_pandas_wrote_the_table() -> None:
    assert csv_table(COLUMNS, ROWS) == pandas_csv(COLUMNS, ROWS, ("count", "size"))


def test_floats_are_written_in_their_shortest_exact_form() -> None:
    rng = random.Random(13)
    values = [rng.uniform(-1e6, 1e6) for _ in range(300)] + [
        rng.uniform(1.6e9, 1.9e9) for _ in range(300)] + [
        10.0 ** rng.randint(-12, 20) * rng.random() for _ in range(300)] + [0.0, -0.0, 5.0]
    rows = [{"ratio": v} for v in values]
    assert csv_table(("ratio",), rows) == pandas_csv(("ratio",), rows, ())


def test_a_flow_line_is_record_to_dict() -> None:
    reading = read_capture(SAMPLES / "zoom-desktop-call.pcapng")
    flows = list(reading.flows)
    assert any(f.media is not None for f in flows) and any(f.alpn for f in flows)
    for flow in flows:
        assert flow_dict(flow) == record_to_dict(flow)
        assert list(flow_dict(flow)) == list(FLOW_COLUMNS[:len(flow_dict(flow))])


@pytest.mark.parametrize("seed", range(6))
def test_top_unnamed_addresses_rank_ties_as_pandas_did(seed: int) -> None:
    rng = random.Random(seed)
    counts = {f"198.51.100.{n}": rng.choice([0, 60, 60, 120, 500, 7]) for n in range(40)}
    series = pd.Series(counts, dtype="Int64").sort_index()
    expected = {str(k): int(v) for k, v in series.sort_values(ascending=False).head(10).items()}
    ranked = top_addresses(counts, 10)
    assert list(ranked.items()) == list(expected.items())


def test_the_report_of_flows_on_disk_equals_the_report_of_the_same_flows_in_a_list(
        catalog: Catalog) -> None:
    reading = read_capture(SAMPLES / "zoom-desktop-call.pcapng")
    on_disk = run_audit(catalog, list(reading.flows), reading.dns_answers, session_id="s",
                        source="pcap", inputs=[], requested_app=None)
    report = build_report(on_disk)
    assert report.document["summary"]["flows"] == 43
    assert report.endpoints.dtypes["bytes_up"] == "Int64"  # the DataFrame views still work
    assert list(report.flows.columns) == list(FLOW_COLUMNS)
    assert all(str(report.flows[c].dtype) == "Int64" for c in INTEGER_FIELDS)
    assert len(report.flows) == 43
