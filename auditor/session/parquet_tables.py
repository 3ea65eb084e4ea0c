"""flows.parquet, endpoints.parquet and findings.parquet: a session's tables for analysis.

The same rows and columns as flows.csv and endpoints.csv (and as report.json's findings, which
have no CSV file), redacted the same way, but typed: whole numbers as int64, times as UTC
timestamps (microseconds), flags as booleans, lists as Parquet lists and a flow's `media` block
as a struct. Unknown is null. The flows schema derives from the `Flow` and `Media` dataclasses,
so a field added there is a column here; endpoints and findings name their columns' types
below, and a column the report gains that is not named here is still written (its type
inferred) rather than lost. Every file of every session has the same schema, empty tables
included, so the sessions of a batch read as one dataset (DuckDB, pandas, Spark, Dask).

Flows are written in batches as they are read (from flows.jsonl, or the report's rows), so
memory does not grow with the session; pandas is not needed. Files are written to a temporary
name and moved into place, so a reader never sees half a file. `vcaudit batch` writes them
into each session folder; `vcaudit report` keeps them current where they exist.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import types
import typing
from collections.abc import Iterable, Iterator
from enum import StrEnum
from itertools import islice
from pathlib import Path
from typing import Any, get_type_hints

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from auditor.errors import InputError
from auditor.records import CLASSIFICATION_COLUMNS, Flow
from auditor.report.build import BuiltReport
from auditor.report.flow_rows import shared_row
from auditor.session.folder import FLOW_LOG, SessionFolderError
from auditor.session.table_files import SessionTable

TIMESTAMP = pa.timestamp("us", tz="UTC")
STRINGS = pa.list_(pa.string())
TIME_COLUMNS = frozenset({"ts_start", "ts_end", "first_seen", "last_seen"})
COMPRESSION = "zstd"
BATCH_ROWS = 8192  # flows converted and written at a time


def arrow_type(hint: Any) -> pa.DataType:
    """The Arrow type of a record field's type hint: text and enums as strings, whole
    numbers as int64, tuples as lists, dicts as maps, a nested dataclass as a struct;
    `X | None` as X."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        (hint,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    if typing.get_origin(hint) is tuple:
        return pa.list_(arrow_type(typing.get_args(hint)[0]))
    if typing.get_origin(hint) is dict:
        key, value = typing.get_args(hint)
        return pa.map_(arrow_type(key), arrow_type(value))
    if dataclasses.is_dataclass(hint):
        return pa.struct([pa.field(name, arrow_type(field_hint))
                          for name, field_hint in get_type_hints(hint).items()])
    simple: dict[Any, pa.DataType] = {bool: pa.bool_(), int: pa.int64(),
                                      float: pa.float64(), str: pa.string()}
    if hint in simple:
        return simple[hint]
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        return pa.string()
    raise TypeError(f"no Arrow type for {hint!r}")


def _flow_schema() -> pa.Schema:
    fields = [pa.field(name, TIMESTAMP if name in TIME_COLUMNS else arrow_type(hint))
              for name, hint in get_type_hints(Flow).items()]
    classification = {"category": pa.string(), "entity": pa.string(), "first_party": pa.bool_()}
    fields += [pa.field(name, classification[name]) for name in CLASSIFICATION_COLUMNS]
    return pa.schema(fields)


FLOWS_SCHEMA = _flow_schema()
ENDPOINTS_SCHEMA = pa.schema([
    ("host", pa.string()), ("domain", pa.string()), ("ips", STRINGS), ("asn", pa.int64()),
    ("as_org", pa.string()), ("country", pa.string()), ("countries", STRINGS),
    ("ports", pa.list_(pa.int64())), ("protocols", STRINGS), ("host_sources", STRINGS),
    ("entity", pa.string()), ("category", pa.string()), ("first_party", pa.bool_()),
    ("label", pa.string()), ("flows", pa.int64()), ("bytes_up", pa.int64()),
    ("bytes_down", pa.int64()), ("packets_up", pa.int64()), ("packets_down", pa.int64()),
    ("first_seen", TIMESTAMP), ("last_seen", TIMESTAMP),
])
PLACE = pa.struct([("location", pa.string()), ("path", pa.string()),
                   ("encoding", pa.string())])
FINDINGS_SCHEMA = pa.schema([
    ("kind", pa.string()), ("label", pa.string()), ("host", pa.string()),
    ("entity", pa.string()), ("category", pa.string()), ("first_party", pa.bool_()),
    ("detail", pa.string()), ("flow_ids", STRINGS), ("places", pa.list_(PLACE)),
    ("values", STRINGS), ("sdk", pa.string()),
])
SCHEMAS = {SessionTable.FLOWS: FLOWS_SCHEMA, SessionTable.ENDPOINTS: ENDPOINTS_SCHEMA,
           SessionTable.FINDINGS: FINDINGS_SCHEMA}


def write_session_tables(folder: Path, report: BuiltReport,
                         flow_rows: Iterable[dict[str, Any]] | None = None) -> list[Path]:
    """Write the three tables into a session folder; return their paths. `flow_rows`:
    flows.csv's rows (default: the report's own, `report.flow_rows()`). Raises
    SessionFolderError."""
    rows = report.flow_rows() if flow_rows is None else flow_rows
    findings = report.document.get("findings", [])
    tables = ((SessionTable.FLOWS, FLOWS_SCHEMA, rows),
              (SessionTable.ENDPOINTS, table_schema(ENDPOINTS_SCHEMA, report.endpoint_rows),
               report.endpoint_rows),
              (SessionTable.FINDINGS, table_schema(FINDINGS_SCHEMA, findings), findings))
    written = []
    for kind, schema, table_rows in tables:
        path = folder / kind.value
        write_rows(path, schema, table_rows)
        written.append(path)
    return written


def logged_flow_rows(folder: Path, show_values: bool) -> Iterator[dict[str, Any]]:
    """flows.csv's rows made again from a session folder's flows.jsonl, one line at a time
    (each line is the flow's flows.jsonl form; the CSV row redacts it the same way)."""
    path = folder / FLOW_LOG
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield shared_row(json.loads(line), show_values)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot be read ({exc})") from exc


def table_schema(known: pa.Schema, rows: list[dict[str, Any]]) -> pa.Schema:
    """The schema of a table's rows: the known columns' types, in the rows' order, and an
    inferred type for a column the known schema does not name."""
    names = list(dict.fromkeys(key for row in rows[:1] for key in row)) or known.names
    fields = []
    for name in names:
        if name in known.names:
            fields.append(known.field(name))
        else:
            fields.append(pa.field(name, pa.array([row.get(name) for row in rows]).type))
    return pa.schema(fields)


def write_rows(path: Path, schema: pa.Schema, rows: Iterable[dict[str, Any]]) -> None:
    """Write rows (dicts; times as epoch seconds) as a Parquet file of `schema`, a batch at
    a time, replacing `path` atomically; raises SessionFolderError (nothing half-written is
    left)."""
    reading = pa.schema([pa.field(f.name, pa.float64()) if f.type == TIMESTAMP else f
                         for f in schema])
    temporary = path.with_name(f".{path.name}.tmp")
    iterator = iter(rows)
    try:
        with pq.ParquetWriter(temporary, schema, compression=COMPRESSION) as writer:
            while chunk := list(islice(iterator, BATCH_ROWS)):
                writer.write_batch(_batch(chunk, schema, reading))
        os.replace(temporary, path)
    except (OSError, pa.ArrowException) as exc:
        raise SessionFolderError(f"cannot write {path}: {exc}") from exc
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)


def _batch(rows: list[dict[str, Any]], schema: pa.Schema, reading: pa.Schema) -> pa.RecordBatch:
    try:
        read = pa.RecordBatch.from_pylist(rows, schema=reading)
    except UnicodeEncodeError:  # lone surrogates from traffic: escaped, as the text files do
        read = pa.RecordBatch.from_pylist([_encodable(row) for row in rows], schema=reading)
    columns = [_timestamps(read.column(i)) if field.type == TIMESTAMP else read.column(i)
               for i, field in enumerate(schema)]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _encodable(row: dict[str, Any]) -> dict[str, Any]:
    """The row with text UTF-8 cannot encode written with backslash escapes (`\\udced`)."""
    return {key: value.encode("utf-8", "backslashreplace").decode("utf-8")
            if isinstance(value, str) else value for key, value in row.items()}


def _timestamps(seconds: pa.Array) -> pa.Array:
    """Epoch seconds as UTC timestamps, rounded to the microsecond."""
    micros = pc.round(pc.multiply(seconds, 1_000_000))
    return pc.cast(pc.cast(micros, pa.int64()), TIMESTAMP)
