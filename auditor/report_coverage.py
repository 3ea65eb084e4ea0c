"""The report's coverage section: what vcaudit could not see, and why.

Combines what the source counted (packets skipped, anomalies by kind, truncated files) with
what the flows show (flows without a name, encrypted flows, payloads not recognised), and
says it in sentences as well as numbers.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from auditor.audit import SessionData

ENCRYPTED = "encrypted"
TOP_UNNAMED = 10


def build_coverage(session: SessionData, flows: pd.DataFrame) -> dict[str, Any]:
    """The coverage section of report.json."""
    source = dict(session.coverage)
    unnamed = flows[(flows["host_source"] == "none") & (flows["category"] != "local")]
    encrypted = flows[flows["visibility"] == ENCRYPTED]
    opaque = flows[flows["app_proto"].isna()]
    top_unnamed = (
        unnamed.assign(bytes=unnamed["bytes_up"].fillna(0) + unnamed["bytes_down"].fillna(0))
        .groupby("server_ip")["bytes"].sum().sort_values(ascending=False).head(TOP_UNNAMED)
    )
    coverage: dict[str, Any] = {
        **source,
        "named_by": {str(k): int(v) for k, v in flows["host_source"].value_counts().items()},
        "flows_without_name": {
            "flows": len(unnamed),
            "bytes": int(unnamed["bytes_up"].sum() + unnamed["bytes_down"].sum()),
            "top_addresses": {str(k): int(v) for k, v in top_unnamed.items()},
        },
        "encrypted_flows": {
            "flows": len(encrypted),
            "bytes": int(encrypted["bytes_up"].sum() + encrypted["bytes_down"].sum()),
            "by_protocol": {str(k): int(v)
                            for k, v in encrypted["app_proto"].value_counts().items()},
        },
        "unrecognised_payload_flows": {
            "flows": len(opaque),
            "bytes": int(opaque["bytes_up"].sum() + opaque["bytes_down"].sum()),
        },
    }
    pinned = flows[flows["visibility"] == "pinned"]
    relayed = pinned[pinned["error"].isna()]
    coverage["pinned"] = {
        "hosts": sorted({str(h) for h in pinned["host"].dropna()}),
        "handshakes_refused": int(pinned["error"].notna().sum()),
        "connections_passed_through": len(relayed),
        "bytes_passed_through": int(relayed["bytes_up"].fillna(0).sum()
                                    + relayed["bytes_down"].fillna(0).sum()),
    }
    coverage["notes"] = _notes(coverage, session.source) + session.list_notes
    return coverage


def _notes(coverage: dict[str, Any], source: str) -> list[str]:
    notes = []
    unnamed = coverage["flows_without_name"]
    if unnamed["flows"]:
        notes.append(
            f"{unnamed['flows']} flows ({unnamed['bytes']} bytes) to non-local addresses had "
            "no SNI, Host or DNS answer in the input; they are listed by address, named only "
            "where a published IP range covers them."
        )
    encrypted = coverage["encrypted_flows"]
    if encrypted["flows"] and source == "pcap":
        notes.append(
            f"{encrypted['flows']} flows were encrypted (TLS, QUIC, DTLS, SSH): a capture shows "
            "where they went, not what they carried. Run `vcaudit proxy` to see inside them."
        )
    opaque = coverage["unrecognised_payload_flows"]
    if opaque["flows"]:
        notes.append(
            f"{opaque['flows']} flows carried payloads no decoder recognised (e.g. proprietary "
            "or encrypted media)."
        )
    pinned = coverage["pinned"]
    if pinned["hosts"]:
        notes.append(
            f"The client refused the proxy's certificate for {len(pinned['hosts'])} hosts "
            f"(certificate pinning, or the CA is not trusted): {', '.join(pinned['hosts'])}. "
            "Their contents could not be inspected; later connections were relayed untouched "
            "and are listed with their SNI and byte counts."
        )
    anomalies = coverage.get("anomalies", {})
    if anomalies.get("total"):
        kinds = ", ".join(f"{k} ({v})" for k, v in sorted(anomalies["by_kind"].items()))
        notes.append(f"{anomalies['total']} malformed or undecodable items were skipped: {kinds}.")
    for item in coverage.get("inputs", []):
        if item.get("truncated"):
            notes.append(f"{item['path']}: {item['truncated']}; analysed up to that point.")
    skipped = coverage.get("packets_not_ip", {})
    if skipped:
        notes.append(f"{sum(skipped.values())} frames carried no IP traffic (ARP, LLDP, ...) "
                     "and were not analysed.")
    return notes
