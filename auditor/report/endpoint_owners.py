"""The `asn`, `as_org`, `country` and `countries` columns of the endpoints table.

An endpoint may have several addresses (a name that resolved to many). Its `asn`, `as_org`
and `country` are those of the address that carried most of its bytes (ties: the most flows,
then the earliest); `countries` lists every country its addresses are in, so an endpoint
served from several countries says so. Local addresses and endpoints without an address have
none (null), as have addresses no database knows.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from auditor.classify.address_owner import AddressOwner

OWNER_COLUMNS = ("asn", "as_org", "country", "countries")


def owner_columns(flows: pd.DataFrame, endpoints: pd.Series,
                  owners: dict[str, AddressOwner]) -> dict[str, dict[str, Any]]:
    """Per endpoint key, its owner columns (only endpoints with a known public address)."""
    if flows.empty or not owners:
        return {}
    usage = pd.DataFrame({
        "endpoint": endpoints,
        "ip": flows["server_ip"],
        "bytes": flows["bytes_up"].fillna(0) + flows["bytes_down"].fillna(0),
        "start": flows["ts_start"],
    })
    usage = usage[usage["ip"].isin(list(owners))]
    if usage.empty:
        return {}
    per_ip = usage.groupby(["endpoint", "ip"], sort=False).agg(
        bytes=("bytes", "sum"), flows=("bytes", "size"), start=("start", "min")).reset_index()
    per_ip = per_ip.sort_values(["endpoint", "bytes", "flows", "start"],
                                ascending=[True, False, False, True])
    out: dict[str, dict[str, Any]] = {}
    for endpoint, group in per_ip.groupby("endpoint", sort=False):
        ips = list(group["ip"])
        main = owners[ips[0]]
        countries = sorted({c for c in (owners[ip].facts.country for ip in ips) if c})
        out[str(endpoint)] = {**main.record(), "countries": countries}
    return out


def add_owner_columns(table: pd.DataFrame, columns: dict[str, dict[str, Any]]) -> None:
    """Fill the owner columns of the endpoints table in place (null where unknown)."""
    for name in OWNER_COLUMNS:
        empty: Any = [] if name == "countries" else None
        table[name] = [columns.get(host, {}).get(name, empty) for host in table["host"]]
