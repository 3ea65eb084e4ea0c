"""TLS as a client and server send it: records, ClientHellos in three styles, the server's
first flight, and a whole TLS 1.3 connection laid out on a `flows.TcpFlow`.

ClientHellos are built with scapy's TLS layer, so every length and extension is well formed;
encrypted records hold random bytes.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from scapy.layers.tls.extensions import (
    ProtocolName,
    ServerName,
    TLS_Ext_ALPN,
    TLS_Ext_EncryptThenMAC,
    TLS_Ext_ExtendedMasterSecret,
    TLS_Ext_PSKKeyExchangeModes,
    TLS_Ext_RenegotiationInfo,
    TLS_Ext_ServerName,
    TLS_Ext_SessionTicket,
    TLS_Ext_SignatureAlgorithms,
    TLS_Ext_SupportedGroups,
    TLS_Ext_SupportedPointFormat,
    TLS_Ext_SupportedVersion_CH,
    TLS_Ext_SupportedVersion_SH,
    TLS_Ext_Unknown,
)
from scapy.layers.tls.handshake import TLS13ServerHello, TLSClientHello
from scapy.layers.tls.keyexchange_tls13 import (
    KeyShareEntry,
    TLS_Ext_KeyShare_CH,
    TLS_Ext_KeyShare_SH,
)
from scapy.layers.tls.record import TLS
from scapy.packet import Packet

from trafficgen.flows import TcpFlow

GREASE = tuple(0x0A0A + 0x1010 * i for i in range(16))
X25519, SECP256R1, SECP384R1, SECP521R1, X448 = 0x001D, 0x0017, 0x0018, 0x0019, 0x001E
X25519MLKEM768 = 0x11EC
MLKEM768_X25519_CLIENT_SHARE = 1184 + 32  # ML-KEM-768 encapsulation key || X25519 share
MLKEM768_X25519_SERVER_SHARE = 1088 + 32  # ML-KEM-768 ciphertext || X25519 share
TLS_AES_128_GCM_SHA256 = 0x1301
REC_CCS, REC_HANDSHAKE, REC_APPDATA = 20, 22, 23
QUIC_TRANSPORT_PARAMETERS = 0x39


def tls_record(content_type: int, body: bytes) -> bytes:
    """One TLS 1.2-versioned record."""
    return struct.pack("!BHH", content_type, 0x0303, len(body)) + body


def app_data(rng: random.Random, size: int) -> bytes:
    """Encrypted application data: random bytes in records of at most 16 KiB + overhead."""
    out = bytearray()
    while size > 0:
        chunk = min(size, 16401)
        out += tls_record(REC_APPDATA, rng.randbytes(chunk))
        size -= chunk
    return bytes(out)


CHANGE_CIPHER_SPEC = tls_record(REC_CCS, b"\x01")
FINISHED_RECORD_LEN = 53  # Finished (4 + 32 bytes) + content type + 16-byte AEAD tag


def hello_record(
    rng: random.Random, ciphers: Sequence[int], ext: list[Packet], session_id: bool = True
) -> bytes:
    """A TLS 1.0-versioned handshake record holding one ClientHello, as clients send it
    (QUIC's hellos carry no legacy session id)."""
    hello = TLSClientHello(
        version=0x0303,
        gmt_unix_time=rng.getrandbits(32),
        random_bytes=rng.randbytes(28),
        sid=rng.randbytes(32) if session_id else b"",
        ciphers=list(ciphers),
        comp=[0],
        ext=ext,
    )
    return bytes(TLS(type=REC_HANDSHAKE, version=0x0301, msg=[hello]))


def alpn_ext(protocols: Sequence[str]) -> Packet:
    """The ALPN extension offering `protocols`."""
    return TLS_Ext_ALPN(protocols=[ProtocolName(protocol=p.encode()) for p in protocols])


def optional_alpn(protocols: Sequence[str]) -> list[Packet]:
    """The ALPN extension, or nothing when the client offers no protocol."""
    return [alpn_ext(protocols)] if protocols else []


def sni_ext(host: str) -> Packet:
    """The server_name extension naming `host`."""
    return TLS_Ext_ServerName(servernames=[ServerName(servername=host.encode())])


def chromium_hello(rng: random.Random, sni: str, alpn: Sequence[str], post_quantum: bool) -> bytes:
    """A Chromium-style ClientHello (GREASE, ECH GREASE), optionally with X25519MLKEM768."""
    grease = rng.sample(GREASE, 4)
    groups = [grease[0], X25519, SECP256R1, SECP384R1]
    shares = [
        KeyShareEntry(group=grease[0], key_exchange=b"\x00"),
        KeyShareEntry(group=X25519, key_exchange=rng.randbytes(32)),
    ]
    if post_quantum:
        groups.insert(1, X25519MLKEM768)
        shares.insert(
            1,
            KeyShareEntry(
                group=X25519MLKEM768, key_exchange=rng.randbytes(MLKEM768_X25519_CLIENT_SHARE)
            ),
        )
    ech_grease = b"\x00\x00\x01\x00\x01" + bytes([rng.randrange(256)]) + b"\x00\x20"
    ech_grease += rng.randbytes(32) + struct.pack("!H", 176) + rng.randbytes(176)
    ext = [
        TLS_Ext_Unknown(type=grease[1], val=b""),
        sni_ext(sni),
        TLS_Ext_ExtendedMasterSecret(),
        TLS_Ext_RenegotiationInfo(renegotiated_connection=b""),
        TLS_Ext_SupportedGroups(groups=groups),
        TLS_Ext_SupportedPointFormat(ecpl=[0]),
        TLS_Ext_SessionTicket(),
        *optional_alpn(alpn),
        TLS_Ext_Unknown(type=5, val=b"\x01\x00\x00\x00\x00"),  # status_request: OCSP
        TLS_Ext_SignatureAlgorithms(
            sig_algs=[0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]
        ),
        TLS_Ext_Unknown(type=18, val=b""),  # signed_certificate_timestamp
        TLS_Ext_KeyShare_CH(client_shares=shares),
        TLS_Ext_PSKKeyExchangeModes(kxmodes=[1]),
        TLS_Ext_SupportedVersion_CH(versions=[grease[2], 0x0304, 0x0303]),
        TLS_Ext_Unknown(type=27, val=b"\x02\x00\x02"),  # compress_certificate: brotli
        TLS_Ext_Unknown(type=17613, val=b"\x00\x03\x02h2"),  # application_settings
        TLS_Ext_Unknown(type=0xFE0D, val=ech_grease),  # encrypted_client_hello (GREASE)
        TLS_Ext_Unknown(type=grease[3], val=b"\x00"),
    ]
    ciphers = [grease[0], 0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9,
               0xCCA8, 0xC013, 0xC014, 0x009C, 0x009D, 0x002F, 0x0035]
    return hello_record(rng, ciphers, ext)


def native_hello(rng: random.Random, sni: str, alpn: Sequence[str]) -> bytes:
    """An OpenSSL-style ClientHello (a desktop client's own HTTP stack): X25519 only."""
    ext = [
        sni_ext(sni),
        TLS_Ext_SupportedPointFormat(ecpl=[0, 1, 2]),
        TLS_Ext_SupportedGroups(groups=[X25519, SECP256R1, X448, SECP521R1, SECP384R1]),
        TLS_Ext_SessionTicket(),
        *optional_alpn(alpn),
        TLS_Ext_EncryptThenMAC(),
        TLS_Ext_ExtendedMasterSecret(),
        TLS_Ext_SignatureAlgorithms(
            sig_algs=[0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806, 0x0401,
                      0x0501, 0x0601]
        ),
        TLS_Ext_SupportedVersion_CH(versions=[0x0304, 0x0303]),
        TLS_Ext_PSKKeyExchangeModes(kxmodes=[1]),
        TLS_Ext_KeyShare_CH(
            client_shares=[KeyShareEntry(group=X25519, key_exchange=rng.randbytes(32))]
        ),
    ]
    ciphers = [0x1302, 0x1303, 0x1301, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0xC02B, 0xC02F, 0xC024,
               0xC028, 0xC023, 0xC027, 0x009D, 0x009C, 0x003D, 0x003C, 0x0035, 0x002F]
    return hello_record(rng, ciphers, ext)


def compact_hello(rng: random.Random, sni: str, alpn: Sequence[str], quic: bool = False) -> bytes:
    """A short TLS 1.3 ClientHello record (SNI, ALPN, one X25519 share); for QUIC: TLS 1.3
    only, no session id, and a quic_transport_parameters extension."""
    ext = [
        sni_ext(sni),
        TLS_Ext_SupportedGroups(groups=[X25519, SECP256R1, SECP384R1]),
        TLS_Ext_SignatureAlgorithms(sig_algs=[0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501]),
        alpn_ext(alpn),
        TLS_Ext_SupportedVersion_CH(versions=[0x0304] if quic else [0x0304, 0x0303]),
        TLS_Ext_KeyShare_CH(
            client_shares=[KeyShareEntry(group=X25519, key_exchange=rng.randbytes(32))]
        ),
    ]
    if quic:  # initial_max_data and a source connection id
        params = bytes.fromhex("04048010000005048010000f00")
        ext.append(TLS_Ext_Unknown(type=QUIC_TRANSPORT_PARAMETERS, val=params))
    ciphers = [0x1301, 0x1302, 0x1303]
    if not quic:
        ciphers += [0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8]
    return hello_record(rng, ciphers, ext, session_id=not quic)


def server_first_flight(
    rng: random.Random, client_hello: bytes, post_quantum: bool, encrypted_size: int
) -> bytes:
    """ServerHello (TLS 1.3), ChangeCipherSpec, then the encrypted EE/Certificate/Finished."""
    sid = client_hello[5 + 4 + 2 + 32 + 1 : 5 + 4 + 2 + 32 + 1 + 32]
    group, size = (X25519MLKEM768, MLKEM768_X25519_SERVER_SHARE) if post_quantum else (X25519, 32)
    hello = TLS13ServerHello(
        version=0x0303,
        random_bytes=rng.randbytes(32),
        sid=sid,
        cipher=TLS_AES_128_GCM_SHA256,
        ext=[
            TLS_Ext_SupportedVersion_SH(version=0x0304),
            TLS_Ext_KeyShare_SH(
                server_share=KeyShareEntry(group=group, key_exchange=rng.randbytes(size))
            ),
        ],
    )
    server_hello = bytes(TLS(type=REC_HANDSHAKE, version=0x0303, msg=[hello]))
    return server_hello + CHANGE_CIPHER_SPEC + app_data(rng, encrypted_size)


def opaque_server_flight(hello_body: bytes, encrypted: bytes) -> bytes:
    """A server's first flight with nothing parsed in it: a ServerHello whose body after the
    version is `hello_body`, ChangeCipherSpec, and one record of `encrypted` bytes."""
    hello = b"\x02" + (len(hello_body) + 2).to_bytes(3, "big") + b"\x03\x03" + hello_body
    handshake = tls_record(REC_HANDSHAKE, hello)
    return handshake + CHANGE_CIPHER_SPEC + tls_record(REC_APPDATA, encrypted)


@dataclass(frozen=True)
class TlsPlan:
    """What one TLS connection does after the handshake.

    `exchanges` are (seconds after the previous step, request bytes, response bytes);
    `close_after` is the pause before the client's FIN, or None to leave the connection open.
    """

    sni: str
    alpn: tuple[str, ...] = ("h2", "http/1.1")
    chromium: bool = False
    post_quantum: bool = False
    cert_flight: int = 3400
    exchanges: tuple[tuple[float, int, int], ...] = ((0.0, 480, 2200),)
    close_after: float | None = 0.8


def run_tls(flow: TcpFlow, t: float, plan: TlsPlan) -> float:
    """Handshake, the plan's exchanges and (optionally) the close; returns the end time."""
    rng = flow.rng
    if plan.chromium:
        hello = chromium_hello(rng, plan.sni, plan.alpn, plan.post_quantum)
    else:
        hello = native_hello(rng, plan.sni, plan.alpn)
    t = flow.open(t)
    flight = server_first_flight(rng, hello, plan.post_quantum, plan.cert_flight)
    t = flow.exchange(t + 0.0003, hello, flight, think=0.0035)
    finished = CHANGE_CIPHER_SPEC + app_data(rng, FINISHED_RECORD_LEN)
    tickets = app_data(rng, 233) + app_data(rng, 233)
    for index, (pause, request, response) in enumerate(plan.exchanges):
        prefix, reply_prefix = (finished, tickets) if index == 0 else (b"", b"")
        reply = reply_prefix + (app_data(rng, response) if response else b"")
        t = flow.exchange(t + 0.0004 + pause, prefix + app_data(rng, request), reply)
    if plan.close_after is not None:
        t = flow.close(t + plan.close_after)
    return t
