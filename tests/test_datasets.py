"""The Parquet tables of a session folder and the batch's dataset: the same rows and columns as
the CSV files and report.json, typed; one schema for every session; read by pyarrow, pandas,
Dask and DuckDB, with the queries of docs/datasets.md run as written."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from auditor.cli.main import main
from auditor.records import FLOW_COLUMNS, Media
from auditor.session.parquet_tables import (
    ENDPOINTS_SCHEMA,
    FINDINGS_SCHEMA,
    FLOWS_SCHEMA,
    SCHEMAS,
    TIMESTAMP,
    SessionTable,
    arrow_type,
    table_schema,
    write_rows,
)

from .conftest import SAMPLES
from .test_diff import app_events_entry, write_har, zoom_entries
from .test_flow_files import har_entry

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "datasets.md"
ZOOM = SAMPLES / "zoom-desktop-call.pcapng"
TEAMS = SAMPLES / "teams-linux-any.pcap"


def run(*args: object) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A batch of five sessions: the 2020 Zoom app events (advertising ID to Meta) in two HAR
    files, the update without them, the bundled Zoom call, and a HAR file of no app."""
    folder = tmp_path_factory.mktemp("dataset")
    inputs = folder / "inputs"
    inputs.mkdir()
    write_har(inputs / "zoom-5.0.1.har", [*zoom_entries(), app_events_entry()])
    write_har(inputs / "zoom-5.0.2.har", [*zoom_entries(), app_events_entry()])
    write_har(inputs / "zoom-5.0.3.har", zoom_entries())
    write_har(inputs / "web.har", [har_entry("https://www.example.org/", ip="93.184.215.14")])
    shutil.copy(ZOOM, inputs / ZOOM.name)
    with pytest.MonkeyPatch.context() as patch:  # no user lists or config, as every test
        patch.setenv("VCAUDIT_CACHE", str(folder / "cache"))
        patch.setenv("XDG_CONFIG_HOME", str(folder / "config"))
        patch.delenv("VCAUDIT_CONFIG", raising=False)
        result = run("batch", inputs, "--out", folder / "out", "--jobs", "1", "-q")
    assert result.exit_code == 0, result.stderr
    return folder / "out"


def csv_header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle))


def test_the_flows_schema_derives_from_the_records() -> None:
    assert FLOWS_SCHEMA.names == list(FLOW_COLUMNS)
    assert FLOWS_SCHEMA.field("ts_start").type == TIMESTAMP
    assert FLOWS_SCHEMA.field("server_port").type == pa.int64()
    assert FLOWS_SCHEMA.field("alpn").type == pa.list_(pa.string())
    assert FLOWS_SCHEMA.field("vlan").type == pa.list_(pa.int64())
    assert FLOWS_SCHEMA.field("first_party").type == pa.bool_()
    media = FLOWS_SCHEMA.field("media").type
    assert [media.field(i).name for i in range(media.num_fields)] == list(Media.__annotations__)
    assert media.field("payload_types").type == pa.list_(pa.int64())
    assert media.field("packet_rate").type == pa.float64()
    assert media.field("relay").type == pa.bool_()
    assert arrow_type(dict[str, int] | None) == pa.map_(pa.string(), pa.int64())
    with pytest.raises(TypeError, match="no Arrow type"):
        arrow_type(bytes)


def test_a_column_the_schema_does_not_name_is_kept(tmp_path: Path) -> None:
    rows = [{"host": "a.example", "flows": 3, "first_seen": 1_700_000_000.25, "new": "x"},
            {"host": None, "flows": None, "first_seen": None, "new": None}]
    schema = table_schema(ENDPOINTS_SCHEMA, rows)
    write_rows(tmp_path / "t.parquet", schema, rows)
    table = pq.read_table(tmp_path / "t.parquet")
    assert table.schema.names == ["host", "flows", "first_seen", "new"]
    assert table.schema.field("new").type == pa.string()  # inferred, not dropped
    assert table.schema.field("first_seen").type == TIMESTAMP
    assert table.column("flows").to_pylist() == [3, None]
    seen = table.column("first_seen").to_pylist()
    assert seen[0].timestamp() == 1_700_000_000.25 and seen[1] is None
    write_rows(tmp_path / "empty.parquet", FLOWS_SCHEMA, [])
    assert pq.read_table(tmp_path / "empty.parquet").schema.equals(FLOWS_SCHEMA)


def test_session_tables_match_the_csv_files_and_report(batch: Path) -> None:
    out = batch / "zoom-desktop-call"
    tables = {kind: pq.read_table(out / kind.value) for kind in SessionTable}
    for kind, table in tables.items():
        assert table.schema.equals(SCHEMAS[kind]), kind  # every column declared, none inferred
    assert tables[SessionTable.FLOWS].schema.names == csv_header(out / "flows.csv")
    assert tables[SessionTable.ENDPOINTS].schema.names == csv_header(out / "endpoints.csv")
    document = json.loads((out / "report.json").read_text())
    flows = list(csv.DictReader((out / "flows.csv").open(encoding="utf-8")))
    parquet_flows = tables[SessionTable.FLOWS].to_pylist()
    assert [f["flow_id"] for f in parquet_flows] == [f["flow_id"] for f in flows]
    assert [f["bytes_up"] for f in parquet_flows] == [int(f["bytes_up"]) for f in flows]
    assert [f["url"] or "" for f in parquet_flows] == [f["url"] for f in flows]  # redacted
    first = parquet_flows[0]
    assert first["ts_start"].timestamp() == pytest.approx(float(flows[0]["ts_start"]), abs=1e-6)
    logged = {json.loads(line)["flow_id"]: json.loads(line)
              for line in (out / "flows.jsonl").read_text().splitlines()}
    with_media = [f for f in parquet_flows if f["media"] is not None]
    assert with_media and all(f["media"] == logged[f["flow_id"]]["media"] for f in with_media)
    unknown = [f for f in parquet_flows if logged[f["flow_id"]]["client_port"] is None]
    assert all(f["client_port"] is None for f in unknown)  # null, never 0
    endpoints = tables[SessionTable.ENDPOINTS].to_pylist()
    assert [e["host"] for e in endpoints] == [e["host"] for e in document["endpoints"]]
    assert [e["ips"] for e in endpoints] == [e["ips"] for e in document["endpoints"]]
    assert [e["asn"] for e in endpoints] == [e["asn"] for e in document["endpoints"]]
    assert tables[SessionTable.FINDINGS].num_rows == len(document["findings"])


def test_findings_table_and_redaction(batch: Path) -> None:
    out = batch / "zoom-5.0.2"
    document = json.loads((out / "report.json").read_text())
    rows = pq.read_table(out / "findings.parquet").to_pylist()
    assert rows == document["findings"]  # places as structs, lists as lists, values redacted
    advertising = next(r for r in rows if r["kind"] == "advertising-id")
    assert advertising["entity"] == "Meta" and advertising["places"][0]["location"]
    assert all(v.startswith("sha256:") for v in advertising["values"])


def test_analyze_writes_no_tables_and_report_keeps_them_current(tmp_path: Path,
                                                                batch: Path) -> None:
    alone = tmp_path / "alone"
    assert run("analyze", TEAMS, "--out", alone, "-q").exit_code == 0
    assert not list(alone.glob("*.parquet"))  # pyarrow would double analyze's peak memory
    assert run("report", alone, "-q").exit_code == 0
    assert not list(alone.glob("*.parquet"))
    session = tmp_path / "batch-session"
    shutil.copytree(batch / "zoom-desktop-call", session)
    before = pq.read_table(session / "flows.parquet")
    (session / "flows.parquet").write_bytes(b"stale")
    assert run("report", session, "-q").exit_code == 0
    assert pq.read_table(session / "flows.parquet").equals(before)
    assert not list(session.glob(".*.tmp"))


def test_the_dataset_layout(batch: Path) -> None:
    names = {"zoom-5.0.1", "zoom-5.0.2", "zoom-5.0.3", "zoom-desktop-call"}
    for kind in SessionTable:
        table_root = batch / "dataset" / kind.table
        assert {p.name for p in table_root.iterdir()} == {"app=zoom", "app=not-detected"}
        assert {p.name for p in (table_root / "app=zoom").iterdir()} == {
            f"session={n}" for n in names}
        assert [p.name for p in (table_root / "app=not-detected").iterdir()] == ["session=web"]
        for session in names:
            part = table_root / "app=zoom" / f"session={session}" / "part-0.parquet"
            assert part.read_bytes() == (batch / session / kind.value).read_bytes()
            assert pq.read_schema(part).equals(SCHEMAS[kind])  # no app/session column inside


def test_pyarrow_pandas_and_dask_read_the_dataset(batch: Path) -> None:
    frame = pd.read_parquet(batch / "dataset" / "flows", dtype_backend="numpy_nullable")
    per_session = {p.name: len(pd.read_csv(p / "flows.csv")) for p in batch.iterdir()
                   if (p / "flows.csv").is_file()}
    counts = frame.groupby("session", observed=True).size().to_dict()
    assert counts == per_session
    assert set(frame["app"].astype(str)) == {"zoom", "not-detected"}
    assert str(frame["server_port"].dtype) == "Int64"  # whole numbers stay whole
    dd = pytest.importorskip("dask.dataframe", reason="dask is not installed")
    findings = dd.read_parquet(str(batch / "dataset" / "findings"))
    receivers = (findings[findings.kind == "advertising-id"].groupby("entity")
                 .session.nunique().compute())
    assert receivers.to_dict() == {"Meta": 2}


def doc_queries() -> list[tuple[str, str]]:
    """The SQL blocks of docs/datasets.md in order, each with its `-- name` (or "setup")."""
    blocks = re.findall(r"```sql\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    named = []
    for block in blocks:
        first = block.splitlines()[0]
        named.append((first[3:].strip() if first.startswith("-- ") else "setup", block))
    return named


def test_the_documented_queries(batch: Path) -> None:
    duckdb = pytest.importorskip("duckdb", reason="duckdb is not installed")
    connection = duckdb.connect()
    answers: dict[str, list[tuple[Any, ...]]] = {}
    for name, sql in doc_queries():
        text = sql.replace("'out/dataset/", f"'{batch.as_posix()}/dataset/")
        if name == "setup":
            connection.execute(text)
        else:
            answers[name] = connection.execute(text).fetchall()
    assert set(answers) == {"advertising-id", "data-outside", "bytes-by-category",
                            "countries", "media"}
    assert answers["advertising-id"] == [("Meta", "ad-tech", 2, ["zoom"])]
    outside = {(app, kind): (sessions, receivers)
               for app, kind, sessions, receivers in answers["data-outside"]}
    assert outside[("zoom", "advertising-id")] == (2, ["Meta"])
    assert all(app == "zoom" for app, _ in outside)
    by_category = {(app, category): (sessions, up)
                   for app, category, sessions, up, _ in answers["bytes-by-category"]}
    assert by_category[("zoom", "ad-tech")][0] == 3  # the app events, and the call's SDK
    assert by_category[("zoom", "first-party")][0] == 4
    assert by_category[("not-detected", "unknown")] == (1, 63)
    flows = pd.read_csv(batch / "zoom-desktop-call" / "flows.csv")
    assert sum(up for (app, _), (_, up) in by_category.items() if app == "zoom") == (
        flows["bytes_up"].sum() + sum(pd.read_csv(batch / f"zoom-5.0.{n}" / "flows.csv")
                                      ["bytes_up"].sum() for n in (1, 2, 3)))
    assert all(country and len(country) == 2 for _, country, _, _ in answers["countries"])
    media = {(app, protocol): count for app, protocol, count, _ in answers["media"]}
    assert media and all(app == "zoom" for app, _ in media)  # the HAR files carry no media
    assert {"rtp", "stun"} <= {protocol for _, protocol in media}


def test_the_doc_names_every_column() -> None:
    text = DOC.read_text(encoding="utf-8")
    for schema in (FLOWS_SCHEMA, ENDPOINTS_SCHEMA, FINDINGS_SCHEMA):
        for name in schema.names:
            assert f"`{name}`" in text, name
    media = FLOWS_SCHEMA.field("media").type
    for index in range(media.num_fields):
        assert f"`{media.field(index).name}`" in text


def test_text_utf8_cannot_encode_is_written_escaped(tmp_path: Path) -> None:
    """Lone surrogates from traffic (mitmproxy's surrogateescape) in a Parquet table: escaped
    as in the CSV files, not a failed session."""
    schema = pa.schema([pa.field("host", pa.string()), pa.field("flows", pa.int64())])
    path = tmp_path / "t.parquet"
    write_rows(path, schema, [{"host": "ok.example", "flows": 1},
                              {"host": "x\udced\udca0.example", "flows": 2}])
    assert pq.read_table(path).to_pylist() == [{"host": "ok.example", "flows": 1},
                                               {"host": "x\\udced\\udca0.example", "flows": 2}]
