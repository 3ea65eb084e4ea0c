"""Which side of a captured flow is the client, and which the server (the flow's endpoint).

The endpoint is the remote side: what the user's device talked to. Who sent the first packet
often does not say: ICE connectivity checks go both ways, so a media relay or a peer may send
the first STUN Binding request to the user's device, and a capture may start in the middle of
a conversation. The rules, the first that applies deciding (its name is the flow's
`orientation`):

1. `tcp-syn`: the side that sent a SYN (without ACK) opened the connection: the client. This is
   the only proof of an inbound connection, so it comes before the address rules.
2. `tcp-syn-ack`: only the SYN-ACK was seen: its sender is the server.
3. `group`: a multicast or broadcast address is the server; such an address never sends.
4. `private-public`: between a private address (RFC 1918, CGNAT, ULA, link-local) and a public
   one, the public one is the server. A device behind a router is reached from outside only
   through a hole its own traffic opened (or a port forward, which rule 1 shows for TCP), so
   the public side is the remote party: a vendor's relay or another participant.
5. `protocol`: the side that sent a TLS/DTLS ClientHello, a QUIC Initial, an HTTP request, a DNS
   query or a STUN Binding request (or received an HTTP response or ServerHello).
6. `well-known-port`: exactly one side uses a port below 1024 or a registered service port
   (STUN/TURN 3478-3481, Zoom 8801/8802, Google's 19302-19309, SIP, ...): the server.
7. `lower-port`: the side on the lower port.
8. `first-sender`: whoever sent the first packet.
"""

from __future__ import annotations

from auditor.names.addresses import AddressScope, address_scope
from auditor.records import Orientation

# Registered service ports that sit above 1024 but mark the server side of a flow.
SERVICE_PORTS = frozenset({
    1194, 1433, 1701, 1723, 1812, 1900, 2049, 3074, 3306, 3389, 3478, 3479, 3480, 3481, 4500,
    5060, 5061, 5222, 5223, 5228, 5349, 5353, 5355, 5432, 6379, 8080, 8443, 8801, 8802, 8883,
    9000, 9443, 19302, 19303, 19304, 19305, 19306, 19307, 19308, 19309, 50000,
})


def client_direction(
    a: tuple[bytes, int], b: tuple[bytes, int], *, syn_dir: int | None,
    synack_dir: int | None, protocol_hint: int | None,
) -> tuple[int, Orientation]:
    """Which side is the client (0 for `a`, the sender of the flow's first packet; 1 for `b`)
    and the rule that decided it. `a` and `b` are (packed address, port); `syn_dir` and
    `synack_dir` the direction of the first SYN and SYN-ACK seen, `protocol_hint` the side
    that payloads show to be the client."""
    if syn_dir is not None:
        return syn_dir, Orientation.TCP_SYN
    if synack_dir is not None:
        return 1 - synack_dir, Orientation.TCP_SYN_ACK
    a_scope, b_scope = address_scope(a[0]), address_scope(b[0])
    if (a_scope is AddressScope.GROUP) != (b_scope is AddressScope.GROUP):
        return (1 if a_scope is AddressScope.GROUP else 0), Orientation.GROUP
    if {a_scope, b_scope} == {AddressScope.PRIVATE, AddressScope.PUBLIC}:
        return (1 if a_scope is AddressScope.PUBLIC else 0), Orientation.PRIVATE_PUBLIC
    if protocol_hint is not None:
        return protocol_hint, Orientation.PROTOCOL
    a_port, b_port = a[1], b[1]
    a_service = a_port < 1024 or a_port in SERVICE_PORTS
    b_service = b_port < 1024 or b_port in SERVICE_PORTS
    if a_service != b_service:
        return (1 if a_service else 0), Orientation.WELL_KNOWN_PORT
    if a_port != b_port and a_port and b_port:
        return (1 if a_port < b_port else 0), Orientation.LOWER_PORT
    return 0, Orientation.FIRST_SENDER
