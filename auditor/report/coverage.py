"""The report's coverage section: what vcaudit could not see, and why.

Combines what the source counted (packets skipped, anomalies by kind, truncated files) with
what the flows show (flows without a name, encrypted flows, payloads not recognised), and
says it in sentences as well as numbers.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from auditor.audit import SessionData
from auditor.quantities import byte_size, counted, plural
from auditor.records import PINNING_REFUSAL, Transport, Visibility

READABLE = (Visibility.PLAINTEXT.value, Visibility.INTERCEPTED.value)
TOP_UNNAMED = 10
# How protocol labels are written in sentences; others are upper-cased (tls -> TLS).
PROTOCOL_NAMES = {"gquic": "gQUIC", "quic": "QUIC", "zoom-media": "Zoom media",
                  "discord-voice": "Discord voice", "sd-rtn": "Agora SD-RTN"}


def build_coverage(session: SessionData, flows: pd.DataFrame) -> dict[str, Any]:
    """The coverage section of report.json."""
    source = dict(session.coverage)
    unnamed = flows[(flows["host_source"] == "none") & (flows["category"] != "local")]
    encrypted = flows[flows["visibility"] == Visibility.ENCRYPTED.value]
    readable = flows[flows["visibility"].isin(READABLE)]
    # ICMP carries no application payload to recognise.
    opaque = flows[flows["app_proto"].isna() & (flows["transport"] != Transport.ICMP.value)]
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
        "readable_flows": {  # content vcaudit could read: plaintext or intercepted
            "flows": len(readable),
            "bytes": int(readable["bytes_up"].sum() + readable["bytes_down"].sum()),
        },
        "unrecognised_payload_flows": {
            "flows": len(opaque),
            "bytes": int(opaque["bytes_up"].sum() + opaque["bytes_down"].sum()),
        },
        "media_flows": _media_flows(flows),
    }
    pinned = flows[flows["visibility"] == "pinned"]
    refused = pinned["error"].fillna("").str.startswith(PINNING_REFUSAL)
    relayed = pinned[~refused]
    coverage["pinned"] = {
        "hosts": sorted({str(h) for h in pinned["host"].dropna()}),
        "handshakes_refused": int(refused.sum()),
        "connections_passed_through": len(relayed),
        "bytes_passed_through": int(relayed["bytes_up"].fillna(0).sum()
                                    + relayed["bytes_down"].fillna(0).sum()),
    }
    coverage["notes"] = _notes(coverage, session.source) + session.list_notes
    return coverage


def _media_flows(flows: pd.DataFrame) -> dict[str, Any]:
    """Flows whose payloads showed a media protocol (STUN, TURN, DTLS, RTP, Zoom's framing,
    ...), by the protocol that names them."""
    media = flows[flows["media"].notna()]
    return {
        "flows": len(media),
        "bytes": int(media["bytes_up"].fillna(0).sum() + media["bytes_down"].fillna(0).sum()),
        "by_protocol": {str(k): int(v) for k, v in media["app_proto"].value_counts().items()},
    }


def _notes(coverage: dict[str, Any], source: str) -> list[str]:
    notes = []
    unnamed = coverage["flows_without_name"]
    if unnamed["flows"]:
        notes.append(
            f"{counted(unnamed['flows'], 'flow')} ({byte_size(unnamed['bytes'])}) to non-local "
            "addresses had no name: no SNI, Host or DNS answer in the input, and no published "
            f"IP range covers the address; {plural(unnamed['flows'], 'it is', 'they are')} "
            "listed by address."
        )
    encrypted = coverage["encrypted_flows"]
    if encrypted["flows"] and source == "pcap":
        protocols = ", ".join(f"{number} {PROTOCOL_NAMES.get(name, name.upper())}"
                              for name, number in encrypted["by_protocol"].items())
        count = encrypted["flows"]
        notes.append(
            f"{counted(count, 'flow')} ({byte_size(encrypted['bytes'])}) "
            f"{plural(count, 'was', 'were')} encrypted{f' ({protocols})' if protocols else ''}: "
            f"a capture shows where "
            f"{plural(count, 'it', 'they')} went, not what {plural(count, 'it', 'they')} "
            f"carried. Run `vcaudit proxy` to see inside {plural(count, 'it', 'them')}."
        )
    opaque = coverage["unrecognised_payload_flows"]
    if opaque["flows"]:
        notes.append(
            f"{counted(opaque['flows'], 'flow')} ({byte_size(opaque['bytes'])}) matched no "
            "protocol vcaudit decodes (proprietary or encrypted media, or a connection that "
            "carried no data)."
        )
    pinned = coverage["pinned"]
    if pinned["hosts"]:
        notes.append(
            "The client refused the proxy's certificate for "
            f"{counted(len(pinned['hosts']), 'host')} (certificate pinning, or the CA is not "
            f"trusted): {', '.join(pinned['hosts'])}. "
            f"{plural(len(pinned['hosts']), 'Its', 'Their')} contents could not be inspected; "
            "later connections were relayed untouched and are listed with their SNI and byte "
            "counts."
        )
    anomalies = coverage.get("anomalies", {})
    if anomalies.get("total"):
        kinds = ", ".join(f"{k} ({v})" for k, v in sorted(anomalies["by_kind"].items()))
        notes.append(f"{counted(anomalies['total'], 'malformed or undecodable item')} "
                     f"{plural(anomalies['total'], 'was', 'were')} skipped: {kinds}.")
    for item in coverage.get("inputs", []):
        if item.get("truncated"):
            notes.append(f"{item['path']}: {item['truncated']}; analysed up to that point.")
    skipped = coverage.get("packets_not_ip", {})
    if skipped:
        frames = sum(skipped.values())
        notes.append(f"{counted(frames, 'frame')} carried no IP traffic (ARP, LLDP, ...) and "
                     f"{plural(frames, 'was', 'were')} not analysed.")
    return notes
