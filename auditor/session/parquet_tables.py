"""flows.parquet, endpoints.parquet and findings.parquet: a session's tables for analysis.

The same rows and columns as flows.csv and endpoints.csv (and as report.json's findings, which
have no CSV file), redacted the same way, but typed: whole numbers as int64, times as UTC
timestamps (microseconds), flags as booleans, lists as Parquet lists and a flow's `media` block
as a struct. Unknown is null. The flows schema derives from the `Flow` and `Media` dataclasses,
so a field added there is a column here; endpoints and findings name their columns below, and
a column the report gains that is not named here is still written (its type inferred) rather
than lost. Every file of every session has the same schema, empty tables included, so the
sessions of a batch read as one dataset (DuckDB, pandas, Spark, Dask).

Files are written to a temporary name and moved into place, so a reader never sees half a file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import types
import typing
from enum import StrEnum
from pathlib import Path
from typing import Any, get_type_hints

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from auditor.records import CLASSIFICATION_COLUMNS, Flow
from auditor.report.build import BuiltReport
from auditor.session.folder import SessionFolderError

TIMESTAMP = pa.timestamp("us", tz="UTC")
STRINGS = pa.list_(pa.string())
TIME_COLUMNS = frozenset({"ts_start", "ts_end", "first_seen", "last_seen"})
COMPRESSION = "zstd"


class SessionTable(StrEnum):
    """The Parquet files of a session folder; the value is the file name."""

    FLOWS = "flows.parquet"
    ENDPOINTS = "endpoints.parquet"
    FINDINGS = "findings.parquet"

    @property
    def table(self) -> str:
        """The table's name in a dataset: flows, endpoints, findings."""
        return self.value.removesuffix(".parquet")


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


def session_tables(report: BuiltReport) -> dict[SessionTable, pa.Table]:
    """The three tables of a report as Arrow tables."""
    findings = pd.DataFrame(report.document.get("findings", []),
                            columns=FINDINGS_SCHEMA.names)
    return {
        SessionTable.FLOWS: frame_table(report.flows, FLOWS_SCHEMA),
        SessionTable.ENDPOINTS: frame_table(report.endpoints, ENDPOINTS_SCHEMA),
        SessionTable.FINDINGS: frame_table(findings, FINDINGS_SCHEMA),
    }


def frame_table(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """A report table as an Arrow table of `schema`: its columns in the frame's order, times
    (epoch seconds) as timestamps; a column the schema does not name keeps an inferred type."""
    columns = []
    fields = []
    for name in frame.columns:
        values = frame[name]
        known = schema.field(name) if name in schema.names else None
        if known is None:
            array = pa.array(values.astype(object).where(values.notna(), None).tolist(),
                             from_pandas=True)
        elif known.type == TIMESTAMP:
            array = _timestamps(values)
        else:
            array = pa.array(values, type=known.type, from_pandas=True)
        columns.append(array)
        fields.append(pa.field(name, array.type))
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


def _timestamps(seconds: pd.Series) -> pa.Array:
    """Epoch seconds (floats) as UTC timestamps, rounded to the microsecond."""
    floats = pa.array(seconds, type=pa.float64(), from_pandas=True)
    micros = pc.round(pc.multiply(floats, 1_000_000))
    return pc.cast(pc.cast(micros, pa.int64()), TIMESTAMP)


def write_table(table: pa.Table, path: Path) -> None:
    """Write one table as a Parquet file, replacing `path` atomically; raises
    SessionFolderError (nothing half-written is left)."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        pq.write_table(table, temporary, compression=COMPRESSION)
        os.replace(temporary, path)
    except (OSError, pa.ArrowException) as exc:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise SessionFolderError(f"cannot write {path}: {exc}") from exc


def write_session_tables(folder: Path, report: BuiltReport) -> list[Path]:
    """Write flows.parquet, endpoints.parquet and findings.parquet into a session folder;
    return their paths."""
    written = []
    for kind, table in session_tables(report).items():
        path = folder / kind.value
        write_table(table, path)
        written.append(path)
    return written
