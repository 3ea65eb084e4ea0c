"""The records every part of vcaudit exchanges.

One `Flow` schema for every source (pcap, live proxy, flow files, HAR); derived records
(`DnsAnswer`, `Classification`, `Anomaly`) link to flows by `flow_id`, the way Zeek logs link by
`uid`. Column lists for JSONL, CSV and DataFrames derive from these dataclasses, so the schema
is written down once. Unknown values are `None`, never `0` or `""`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, get_type_hints


class Transport(StrEnum):
    """Transport protocol of a flow."""

    TCP = "tcp"
    UDP = "udp"
    ICMP = "icmp"


class HostSource(StrEnum):
    """Where a flow's host name was learned."""

    SNI = "sni"
    QUIC_SNI = "quic-sni"
    DTLS_SNI = "dtls-sni"
    HTTP_HOST = "http-host"
    DNS = "dns"
    IP_RANGE = "ip-range"
    NONE = "none"


class Orientation(StrEnum):
    """Which rule decided a flow's client and server sides (the first that applies, in this
    order, for captures; see capture/orientation.py). The server is the flow's endpoint."""

    TCP_SYN = "tcp-syn"  # the side that sent the SYN is the client
    TCP_SYN_ACK = "tcp-syn-ack"  # only the SYN-ACK was seen: its sender is the server
    GROUP = "group"  # a multicast or broadcast destination is the server (it never sends)
    PRIVATE_PUBLIC = "private-public"  # between a private and a public address, the public one
    PROTOCOL = "protocol"  # the sender of a ClientHello, HTTP request, DNS query, STUN request
    WELL_KNOWN_PORT = "well-known-port"  # the side on a port below 1024 or a service port
    LOWER_PORT = "lower-port"  # the side on the lower port
    FIRST_SENDER = "first-sender"  # nothing else told: whoever sent the first packet
    PROXY = "proxy"  # the proxy saw the client connect (live proxy, saved flows, HAR)


class Visibility(StrEnum):
    """How much of a flow's content vcaudit could see."""

    INTERCEPTED = "intercepted"  # decrypted by the proxy
    PINNED = "pinned"  # the client refused the proxy's certificate
    ENCRYPTED = "encrypted"  # TLS, QUIC, DTLS or unrecognised payload seen from outside
    PLAINTEXT = "plaintext"  # DNS, plain HTTP, STUN, ... readable as captured


class Category(StrEnum):
    """The one category every flow and endpoint gets (see DESIGN.md)."""

    FIRST_PARTY = "first-party"
    ANALYTICS = "analytics"
    AD_TECH = "ad-tech"
    THIRD_PARTY = "third-party"
    LOCAL = "local"
    UNKNOWN = "unknown"


# The one order categories are listed in everywhere (terminal, report.json, report.md,
# report.html): what a privacy reader looks for first.
CATEGORY_ORDER: tuple[Category, ...] = (
    Category.AD_TECH, Category.ANALYTICS, Category.THIRD_PARTY, Category.UNKNOWN,
    Category.FIRST_PARTY, Category.LOCAL,
)
TRACKER_CATEGORIES: tuple[Category, ...] = (Category.AD_TECH, Category.ANALYTICS)

# How a flow's `error` starts when it is a TLS handshake the client aborted because it refused
# the proxy's certificate (pinning): what tells a refusal from a relayed pinned connection that
# failed later.
PINNING_REFUSAL = "client refused the proxy's certificate"


def is_pinning_refusal(visibility: str | None, error: str | None) -> bool:
    """Whether a flow is a refused handshake (not a relayed connection to a pinned host)."""
    return visibility == Visibility.PINNED and error is not None \
        and error.startswith(PINNING_REFUSAL)


@dataclass(frozen=True, slots=True)
class Media:
    """What the payloads of a real-time media flow showed: STUN and TURN, DTLS, RTP/RTCP
    (SRTP/SRTCP), Zoom's framing, Agora's and Discord's handshakes. `Flow.media` holds it when
    any of them was recognised. Addresses are `host:port` text (`[v6]:port`); unknown is None.
    """

    protocols: tuple[str, ...]  # every media protocol recognised, in the order first seen
    stun_methods: tuple[str, ...] | None = None  # "binding", "allocate", "send", ...
    relay: bool | None = None  # True: TURN relaying seen (allocation, relayed data, channels)
    turn_realm: str | None = None  # REALM of a TURN server: names the relay's operator
    software: tuple[str, ...] | None = None  # STUN/TURN SOFTWARE values, both sides
    mapped_address: str | None = None  # the client's public address as the server saw it
    relayed_address: str | None = None  # the relay address a TURN server allocated
    peer_addresses: tuple[str, ...] | None = None  # peers the client reached through a relay
    ice: bool | None = None  # True: ICE connectivity checks (STUN with ICE attributes)
    srtp_evidence: str | None = None  # why RTP counts as SRTP: dtls, srtcp, zoom, discord, ice
    rtp_packets_read: int | None = None  # RTP/SRTP headers read (the first 512 at most)
    ssrc_count: int | None = None  # distinct SSRCs (RTP streams) among the headers read
    payload_types: tuple[int, ...] | None = None  # RTP payload types among the headers read
    packet_rate: float | None = None  # packets per second, both ways, of a flow carrying RTP
    zoom_kinds: tuple[str, ...] | None = None  # Zoom framing: audio, video, screen-share, rtcp


def split_address(text: str) -> tuple[str, int | None]:
    """A Media address (`host:port`, `[v6]:port`, or a bare host) as (host, port); the port
    is None when it is missing or not a number."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    else:
        host, port = text, ""
    return host, int(port) if port.isdigit() and len(port) <= 5 else None


@dataclass(frozen=True, slots=True)
class Flow:
    """One transport conversation, or one HTTP exchange inside a proxied connection.

    Oriented client -> server: `*_up` counts what the client sent, `*_down` what it received
    (bytes on the wire for captures; HTTP message sizes for proxied exchanges, where packets
    are unknown). Times are epoch seconds.
    """

    flow_id: str
    ts_start: float
    ts_end: float
    transport: Transport
    client_ip: str | None
    client_port: int | None
    server_ip: str | None  # None when only a name is known (e.g. a HAR entry without an IP)
    server_port: int | None
    orientation: Orientation | None = None  # how client and server were told apart
    host: str | None = None
    host_source: HostSource = HostSource.NONE
    app_proto: str | None = None
    bytes_up: int | None = None
    bytes_down: int | None = None
    packets_up: int | None = None
    packets_down: int | None = None
    messages_up: int | None = None  # WebSocket messages, or TCP/UDP reads the proxy relayed
    messages_down: int | None = None
    visibility: Visibility | None = None
    sni: str | None = None
    http_host: str | None = None
    alpn: tuple[str, ...] | None = None
    dns_names: tuple[str, ...] | None = None
    name_evidence: str | None = None
    tunnel: str | None = None
    vlan: tuple[int, ...] | None = None
    method: str | None = None
    url: str | None = None
    status: int | None = None
    http_version: str | None = None
    request_content_type: str | None = None
    response_content_type: str | None = None
    error: str | None = None
    media: Media | None = None


@dataclass(frozen=True, slots=True)
class DnsAnswer:
    """One address (or alias) a DNS response in the traffic gave for a name.

    `chain` is the CNAME path from the name the client asked for to the record's owner name,
    so `query` is what the app looked up and `chain[-1]` is the name holding the address.
    """

    flow_id: str
    ts: float
    query: str
    chain: tuple[str, ...]
    address: str
    ttl: int | None


@dataclass(frozen=True, slots=True)
class ListRef:
    """Which standard list (EasyList, a hosts file, Disconnect, ...) a piece of evidence comes
    from, so a reader can check the rule in the same version of the list."""

    name: str  # the configured name, e.g. "easyprivacy"
    title: str  # the list's own title, e.g. "EasyPrivacy"
    version: str | None  # the list's version or last-modified stamp, when it states one
    fetched: str | None  # when vcaudit downloaded it (ISO 8601 UTC); None for a local file
    licence: str


@dataclass(frozen=True, slots=True)
class Evidence:
    """One checkable reason behind a classification."""

    kind: str  # "rule" | "cname" | "ip-range" | "local-range" | "name" | "app" | "conflict"
    # | "list" (a standard tracker list's entry)
    detail: str
    rule: str | None = None
    file: str | None = None
    matched: str | None = None
    source: str | None = None
    tracker_list: ListRef | None = None  # set on evidence from a standard list


@dataclass(frozen=True, slots=True)
class Classification:
    """Who an endpoint belongs to, what it is for, and why vcaudit thinks so."""

    category: Category
    entity: str | None
    first_party: bool
    evidence: tuple[Evidence, ...] = ()
    label: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """One kind of personal data found in one place of what a flow sent.

    `location` is the part of the request (path, query, header, cookie, body, dns), `path`
    the field within it (`extinfo[5]`), `encoding` how the value was wrapped (`form>json-string`,
    `query>sha256`, ...). `value` is kept in the session folder; reports redact it unless asked.
    """

    flow_id: str
    kind: str
    location: str
    path: str
    encoding: str
    value: str
    detail: str
    sdk: str | None = None


@dataclass(frozen=True, slots=True)
class Anomaly:
    """Something in the input that could not be read as expected; counted, never fatal."""

    kind: str
    detail: str
    packet: int | None = None
    flow_id: str | None = None


@dataclass(slots=True)
class AnomalyLog:
    """Counts anomalies by kind and keeps the first few of each kind as examples."""

    examples_per_kind: int = 5
    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[Anomaly]] = field(default_factory=dict)

    def add(self, anomaly: Anomaly) -> None:
        """Record one anomaly."""
        self.counts[anomaly.kind] = self.counts.get(anomaly.kind, 0) + 1
        kept = self.examples.setdefault(anomaly.kind, [])
        if len(kept) < self.examples_per_kind:
            kept.append(anomaly)

    def merge(self, other: AnomalyLog) -> None:
        """Add another log's counts and examples to this one."""
        for kind, count in other.counts.items():
            self.counts[kind] = self.counts.get(kind, 0) + count
        for kind, examples in other.examples.items():
            kept = self.examples.setdefault(kind, [])
            kept.extend(examples[: self.examples_per_kind - len(kept)])

    def total(self) -> int:
        """Number of anomalies recorded."""
        return sum(self.counts.values())

    def summary(self) -> dict[str, Any]:
        """The report's form: `total`, `by_kind` and `examples` per kind."""
        return {
            "total": self.total(),
            "by_kind": dict(sorted(self.counts.items())),
            "examples": {kind: [record_to_dict(a) for a in items]
                         for kind, items in sorted(self.examples.items())},
        }


FLOW_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Flow))
CLASSIFICATION_COLUMNS: tuple[str, ...] = ("category", "entity", "first_party")
COUNTER_FIELDS: tuple[str, ...] = ("bytes_up", "bytes_down", "packets_up", "packets_down",
                                   "messages_up", "messages_down")
FLOW_COLUMNS: tuple[str, ...] = FLOW_FIELDS + CLASSIFICATION_COLUMNS
# Whole-number fields (ports, counters, HTTP status): integer columns in tables, never floats.
INTEGER_FIELDS: tuple[str, ...] = tuple(
    name for name, hint in get_type_hints(Flow).items() if hint in (int, int | None))


def record_to_dict(record: Any) -> dict[str, Any]:
    """A record as plain JSON-ready values: enums as their strings, tuples as lists."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(record):
        out[f.name] = _plain(getattr(record, f.name))
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, StrEnum):
        return str(value)
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return record_to_dict(value)
    return value


def flow_from_dict(data: dict[str, Any]) -> Flow:
    """Rebuild a Flow from its JSON form, ignoring unknown and derived keys.

    Raises ValueError (or TypeError/KeyError for a missing required field) on a bad record.
    """
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(Flow):
        if f.name not in data:
            continue
        value = data[f.name]
        if f.name == "transport":
            value = Transport(value)
        elif f.name == "host_source":
            value = HostSource(value)
        elif f.name == "visibility" and value is not None:
            value = Visibility(value)
        elif f.name == "orientation" and value is not None:
            value = Orientation(value)
        elif f.name == "vlan" and value is not None:
            value = tuple(int(v) for v in value)
        elif f.name in ("alpn", "dns_names") and value is not None:
            value = tuple(str(v) for v in value)
        elif f.name == "media" and value is not None:
            value = media_from_dict(value)
        elif f.name in ("ts_start", "ts_end"):
            value = _number(value, f.name)
        elif f.name in _WHOLE_NUMBER_FIELDS and value is not None:
            value = _whole(value, f.name)
        elif f.name in _TEXT_FIELDS and value is not None and not isinstance(value, str):
            raise ValueError(f"{f.name} must be text, not {type(value).__name__}")
        kwargs[f.name] = value
    return Flow(**kwargs)


_WHOLE_NUMBER_FIELDS = frozenset(INTEGER_FIELDS)
_TEXT_FIELDS = frozenset({"flow_id", "client_ip", "server_ip", "host", "app_proto", "sni",
                          "http_host", "name_evidence", "tunnel", "method", "url",
                          "http_version", "request_content_type", "response_content_type",
                          "error"})


def media_from_dict(data: Any) -> Media:
    """Rebuild a flow's Media block from its JSON form; raises ValueError on a bad one."""
    if not isinstance(data, dict) or not isinstance(data.get("protocols"), list):
        raise ValueError("media must be an object with a list of protocols")
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(Media):
        value = data.get(f.name)
        if value is None:
            continue
        hint = _MEDIA_HINTS[f.name]
        if isinstance(value, list) != hint.startswith("tuple"):
            raise ValueError(f"media.{f.name} has the wrong type")
        if isinstance(value, list):
            kind = int if "int" in hint else str
            if not all(isinstance(v, kind) and not isinstance(v, bool) for v in value):
                raise ValueError(f"media.{f.name} must be a list of {kind.__name__}")
            value = tuple(value)
        elif hint.startswith("bool") and not isinstance(value, bool):
            raise ValueError(f"media.{f.name} must be true or false")
        elif hint.startswith("int"):
            value = _whole(value, f"media.{f.name}")
        elif hint.startswith("float"):
            value = _number(value, f"media.{f.name}")
        elif hint.startswith("str") and not isinstance(value, str):
            raise ValueError(f"media.{f.name} must be text")
        kwargs[f.name] = value
    return Media(**kwargs)


_MEDIA_HINTS = {f.name: str(f.type) for f in dataclasses.fields(Media)}


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number of seconds")
    return float(value)


def _whole(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number")
    return value
