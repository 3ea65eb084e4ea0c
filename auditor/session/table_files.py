"""The Parquet files of a session folder, by name only: what `vcaudit batch` and the session
folder's rules need to know of them without loading pyarrow (parquet_tables writes them).
"""

from __future__ import annotations

from enum import StrEnum


class SessionTable(StrEnum):
    """The Parquet files of a session folder; the value is the file name."""

    FLOWS = "flows.parquet"
    ENDPOINTS = "endpoints.parquet"
    FINDINGS = "findings.parquet"

    @property
    def table(self) -> str:
        """The table's name in a dataset: flows, endpoints, findings."""
        return self.value.removesuffix(".parquet")
