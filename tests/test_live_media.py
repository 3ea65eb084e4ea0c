"""Media flows through the proxy: raw UDP and TCP streams that the live addon relays, and that
saved flow files hold, get the `app_proto`, `visibility` and `media` block a capture of the same
exchanges gets (auditor.media, fed by the addon's stream hooks and by the flow-file reader).

A real mitmdump in reverse:udp mode relays real STUN and RTP between a client and a loopback
STUN server, and saves the flows with -w; mitmproxy's own test flows exercise the hooks and the
flow-file reader with the exchanges the capture tests use."""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from mitmproxy import tcp, udp
from mitmproxy.io import FlowWriter
from mitmproxy.test import taddons, tflow

from auditor.cli.main import main
from auditor.live.addon import VcauditAddon
from auditor.media.observations import ENCRYPTED_LABELS, LABEL_ORDER, PLAINTEXT_LABELS
from auditor.media.sniffer import MAX_RTP_READ
from auditor.media.stream import FULL_MESSAGES, MAX_UDP_TRIED, MessageHead, StreamMedia
from auditor.mitm.saved_flows import read_saved_flows
from auditor.records import Flow, HostSource, Visibility, flow_from_dict

from .media_packets import T0, attribute, rtp, stun, udp_flow, xor_address
from .support.clients import flows_of, wait_for
from .support.proxy_process import MitmdumpProcess
from .support.upstream import free_port
from .test_live_proxy import assert_clean_stop
from .test_media_flows import PUBLIC, TXID, dtls_record, media_stream, only
from .test_tls_clienthello import dtls_client_hello

Exchanges = list[tuple[bool, bytes]]
CLIENT, SERVER = "192.168.1.20", "198.51.100.7"
STEP = 0.02
ICE = attribute(0x0024, b"\x6e\x7f\x1e\xff") + attribute(0x802A, bytes(8))
ZOOM_HELLO = bytes.fromhex("0100027d464d35fffda234495d0d6d3b51e89600") + bytes(40)
COMPARED = ("app_proto", "visibility", "media", "host", "host_source", "sni", "alpn")


def webrtc() -> Exchanges:
    return [(True, stun(0x001, 0, TXID, ICE)),
            (False, stun(0x001, 2, TXID, xor_address(0x0020, PUBLIC, 61000, TXID))),
            (True, dtls_record(dtls_client_hello(server_name=b"sfu.example.net"))),
            *media_stream(40, ssrcs=(0xA1, 0xB2))]


def turn_relay() -> Exchanges:
    relayed = [rtp(96, n, 0xC0FFEE) for n in range(6)]
    return [(True, stun(0x003, 0, TXID)),
            (False, stun(0x003, 3, TXID, attribute(0x0014, b"turn.example.net"))),
            (False, stun(0x003, 2, TXID, xor_address(0x0016, SERVER, 49152, TXID)
                         + xor_address(0x0020, PUBLIC, 50100, TXID))),
            *[(n % 2 == 0, b"\x40\x00" + len(p).to_bytes(2, "big") + p)
              for n, p in enumerate(relayed)]]


def long_call() -> Exchanges:
    """More RTP than is read: a third stream starts after MAX_RTP_READ headers."""
    return [(True, stun(0x001, 0, TXID, ICE)), *media_stream(600, ssrcs=(1, 2)),
            *media_stream(20, ssrcs=(3,), start=5000)]


def zoom() -> Exchanges:
    audio = [bytes([5, 0, n, 0, 0, 0, 0, 0, 15]) + bytes(18) + rtp(98, n, 0x5A5A)
             for n in range(10)]
    return [(True, ZOOM_HELLO), *[(bool(n % 2), a) for n, a in enumerate(audio)]]


CASES = {
    "webrtc": (webrtc, 19302),
    "turn": (turn_relay, 3478),
    "long-call": (long_call, 3480),
    "zoom": (zoom, 8801),
    "rtp-alone": (lambda: [(True, rtp(0, 5, 9)), (True, rtp(0, 6, 9))], 6000),
    "not-zoom-port": (lambda: [(True, ZOOM_HELLO)], 9999),
    "noise": (lambda: [(bool(n % 2), b"\x90" + bytes([n]) * 99) for n in range(30)], 40000),
}


def proxied_flow(kind: type[udp.UDPFlow] | type[tcp.TCPFlow], exchanges: Exchanges,
                 server_port: int) -> Any:
    """A mitmproxy flow of the exchanges, timed as the capture builders time packets."""
    flow = tflow.tudpflow(messages=[]) if kind is udp.UDPFlow else tflow.ttcpflow(messages=[])
    flow.client_conn.peername = (CLIENT, 50100)
    flow.client_conn.tls, flow.client_conn.timestamp_tls_setup = False, None
    flow.server_conn.address = flow.server_conn.peername = (SERVER, server_port)
    end = T0 + (len(exchanges) - 1) * STEP
    flow.client_conn.timestamp_start = flow.server_conn.timestamp_start = T0
    flow.client_conn.timestamp_end = flow.server_conn.timestamp_end = end
    message = udp.UDPMessage if kind is udp.UDPFlow else tcp.TCPMessage
    flow.messages = [message(up, content, T0 + n * STEP)
                     for n, (up, content) in enumerate(exchanges)]
    return flow


def saved(tmp_path: Path, *flows: Any) -> list[Flow]:
    """The flows written with mitmproxy's own writer and read back as a flow file."""
    path = tmp_path / "flows.mitm"
    with open(path, "wb") as handle:
        writer = FlowWriter(handle)
        for flow in flows:
            writer.add(flow)
    return read_saved_flows([path], None).flows


def live(tmp_path: Path, flow: Any) -> dict[str, Any]:
    """The flow through the addon's hooks, as mitmproxy calls them (messages trimmed)."""
    messages = list(flow.messages)
    flow.messages = []
    addon = VcauditAddon()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, vcaudit_out=str(tmp_path / "live"), vcaudit_refresh=0,
                       vcaudit_trim_messages=True)
        start, message_hook, end = ((addon.udp_start, addon.udp_message, addon.udp_end)
                                    if isinstance(flow, udp.UDPFlow) else
                                    (addon.tcp_start, addon.tcp_message, addon.tcp_end))
        start(flow)
        for message in messages:
            flow.messages.append(message)
            message_hook(flow)
        assert len(flow.messages) == 1  # trimmed: the addon keeps none of them
        end(flow)
    (record,) = flows_of(tmp_path / "live")
    return record


def fields(flow: Flow) -> dict[str, Any]:
    return {name: getattr(flow, name) for name in COMPARED}


@pytest.mark.parametrize("case", CASES)
def test_capture_flow_file_and_live_hooks_agree(tmp_path: Path, case: str) -> None:
    build, port = CASES[case]
    exchanges = build()
    captured = only(udp_flow(tmp_path / "c.pcap", exchanges, client=CLIENT, server=SERVER,
                             sport=port, step=STEP))
    (from_file,) = saved(tmp_path, proxied_flow(udp.UDPFlow, exchanges, port))
    assert fields(from_file) == fields(captured)
    record = live(tmp_path, proxied_flow(udp.UDPFlow, exchanges, port))
    assert fields(flow_from_dict(record)) == fields(from_file)


def test_what_the_cases_show(tmp_path: Path) -> None:
    """The shared cases are media (or not) as their names say, through a flow file."""
    found = {case: saved(tmp_path, proxied_flow(udp.UDPFlow, build(), port))[0]
             for case, (build, port) in CASES.items()}
    rtc = found["webrtc"]
    assert (rtc.app_proto, rtc.visibility, rtc.alpn) == ("srtp", Visibility.ENCRYPTED,
                                                        ("webrtc",))
    assert (rtc.host, rtc.host_source) == ("sfu.example.net", HostSource.DTLS_SNI)
    assert rtc.media is not None and rtc.media.mapped_address == f"{PUBLIC}:61000"
    assert rtc.media.packet_rate == round(len(webrtc()) / ((len(webrtc()) - 1) * STEP), 1)
    turn = found["turn"].media
    assert turn is not None and turn.turn_realm == "turn.example.net"
    assert turn.relayed_address == f"{SERVER}:49152" and found["turn"].app_proto == "rtp"
    call = found["long-call"].media
    assert call is not None and call.rtp_packets_read == MAX_RTP_READ
    assert call.ssrc_count == 2  # the third stream came after the headers read
    assert found["zoom"].app_proto == "zoom-media"
    assert found["rtp-alone"].app_proto == "rtp"
    for case in ("not-zoom-port", "noise"):
        assert found[case].app_proto is None and found[case].media is None
        assert found[case].visibility is None


def test_media_over_tcp_in_a_flow_file_and_live(tmp_path: Path) -> None:
    """TURN over TCP (STUN messages back to back, split across reads) and RTP framed as RFC
    4571 says; a TLS stream stays "tls" with no media."""
    allocate = stun(0x003, 0, TXID)
    answer = stun(0x003, 2, TXID, xor_address(0x0020, PUBLIC, 50100, TXID)
                  + attribute(0x8022, b"Coturn-4.6"))
    turn = proxied_flow(tcp.TCPFlow, [(True, allocate[:7]), (True, allocate[7:]),
                                      (False, answer + answer[:5])], 443)
    framed = b"".join(len(p).to_bytes(2, "big") + p for p in
                      (rtp(8, 1, 0xC6), rtp(8, 2, 0xC6), rtp(8, 3, 0xC6)))
    rfc4571 = proxied_flow(tcp.TCPFlow, [(True, framed)], 5000)
    tls = proxied_flow(tcp.TCPFlow, [(True, b"\x16\x03\x01\x02\x00\x01" + bytes(60))], 443)
    turn_tls = proxied_flow(tcp.TCPFlow, [(True, allocate), (False, answer)], 443)
    turn_tls.client_conn.tls, turn_tls.client_conn.timestamp_tls_setup = True, T0
    turn_flow, rtp_flow, tls_flow, decrypted = saved(tmp_path, turn, rfc4571, tls, turn_tls)
    # TURN over TLS that the proxy decrypted: what it read, it read intercepted.
    assert (decrypted.app_proto, decrypted.visibility) == ("turn", Visibility.INTERCEPTED)
    assert turn_flow.app_proto == "turn" and turn_flow.visibility is Visibility.PLAINTEXT
    assert turn_flow.media is not None and turn_flow.media.mapped_address == f"{PUBLIC}:50100"
    assert turn_flow.media.software == ("Coturn-4.6",)
    assert turn_flow.media.packet_rate is None  # TCP reads are not packets
    assert rtp_flow.app_proto == "rtp" and rtp_flow.media is not None
    assert rtp_flow.media.payload_types == (8,) and rtp_flow.media.ssrc_count == 1
    assert (tls_flow.app_proto, tls_flow.media) == ("tls", None)
    record = live(tmp_path, proxied_flow(tcp.TCPFlow, [(True, allocate[:7]),
                                                      (True, allocate[7:]),
                                                      (False, answer + answer[:5])], 443))
    assert record["app_proto"] == "turn"
    assert record["media"]["mapped_address"] == f"{PUBLIC}:50100"


def test_malformed_media_in_a_flow_file_is_an_anomaly(tmp_path: Path) -> None:
    good = stun(0x001, 0, TXID, attribute(0x0024, bytes(4)))
    broken = good[:20] + struct.pack("!HH", 0x8022, 200) + good[24:]  # runs past the end
    path = tmp_path / "bad.mitm"
    with open(path, "wb") as handle:
        FlowWriter(handle).add(proxied_flow(udp.UDPFlow, [(True, good), (True, broken)], 3478))
    records = read_saved_flows([path], None)
    assert records.flows[0].app_proto == "stun"
    assert records.anomalies.counts == {"stun-malformed": 1}


def test_reading_is_bounded() -> None:
    """What the addon's hooks cost: a stream that shows no media is given up after a dozen
    datagrams (TCP: as soon as its first bytes frame no media), a media stream once its
    sniffer has read what it reads; and a kept head replays exactly as if read live."""
    noise = StreamMedia(True, 50000, 40000)
    for n in range(100):
        if noise.wanted:
            noise.add(n % 2 == 0, b"hello %d" % n)
    assert noise.read == MAX_UDP_TRIED and noise.verdict(100, 1.0) is None
    tls = StreamMedia(False, 50000, 443)
    tls.add(True, b"\x16\x03\x01\x02\x00\x01" + bytes(60))
    tls.add(False, b"\x16\x03\x03\x00\x40\x02" + bytes(60))
    assert not tls.wanted
    call = long_call() * 3
    online, head = StreamMedia(True, 50000, 3480), MessageHead()
    for up, content in call:
        if online.wanted:
            online.add(up, content)
        if head.wanted:
            head.add(up, content)
    assert not online.wanted and online.read < len(call)
    assert len(head.whole) == FULL_MESSAGES
    replayed = head.replay(StreamMedia(True, 50000, 3480))
    assert replayed.read == online.read
    assert replayed.verdict(len(call), 10.0) == online.verdict(len(call), 10.0)


def test_every_media_label_has_one_visibility() -> None:
    assert set(LABEL_ORDER) == ENCRYPTED_LABELS | PLAINTEXT_LABELS
    assert not ENCRYPTED_LABELS & PLAINTEXT_LABELS
    assert {"srtp", "srtcp", "dtls", "zoom-media"} <= ENCRYPTED_LABELS


class StunRtpServer:
    """A loopback STUN server that also talks RTP: a Binding request gets a success response
    with the sender's address in XOR-MAPPED-ADDRESS, as a STUN server answers; an RTP packet
    gets one back from the server's own stream (SSRC 0xB2, payload type 96)."""

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.mapped: list[str] = []  # the addresses it reported
        self._sequence = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                data, peer = self.socket.recvfrom(65536)
                if data[0] < 4:  # STUN: answer a Binding request
                    txid = data[8:20]
                    self.mapped.append(f"{peer[0]}:{peer[1]}")
                    self.socket.sendto(stun(0x001, 2, txid, xor_address(
                        0x0020, peer[0], peer[1], txid) + attribute(0x8022, b"loopback")),
                                       peer)
                else:
                    self._sequence += 1
                    self.socket.sendto(rtp(96, self._sequence, 0xB2), peer)

    def close(self) -> None:
        self.socket.close()


def test_a_real_proxy_records_stun_then_rtp_and_saves_the_same(tmp_path: Path) -> None:
    server = StunRtpServer()
    port = free_port()
    flow_file = tmp_path / "saved.mitm"
    proxy = MitmdumpProcess(tmp_path, tmp_path / "session", 0, 0, [
        "--mode", f"reverse:udp://127.0.0.1:{server.port}@{port}",
        "--set", "vcaudit_refresh=0", "-w", str(flow_file)])
    try:
        with proxy, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.settimeout(5)
            txid = bytes(range(100, 112))
            client.sendto(stun(0x001, 0, txid, attribute(0x0006, b"alice:bob")),
                          ("127.0.0.1", port))
            assert client.recv(1000)[8:20] == txid
            for n in range(30):
                client.sendto(rtp(111, n, 0xA1), ("127.0.0.1", port))
                assert client.recv(1000)[8:12] == b"\x00\x00\x00\xb2"
            wait_for(lambda: len(server.mapped) == 1)
            assert_clean_stop(proxy)  # the UDP flow is still open: recorded at shutdown
    finally:
        server.close()
    (record,) = [f for f in flows_of(proxy.session) if f["transport"] == "udp"]
    assert (record["messages_up"], record["messages_down"]) == (31, 31)
    assert record["app_proto"] == "rtp" and record["visibility"] == "plaintext"
    media = record["media"]
    assert media["protocols"] == ["stun", "rtp"] and media["stun_methods"] == ["binding"]
    assert media["mapped_address"] == server.mapped[0]  # the proxy's side, as the server saw it
    assert media["software"] == ["loopback"]
    assert (media["ssrc_count"], media["payload_types"]) == (2, [96, 111])
    assert media["rtp_packets_read"] == 60 and media["packet_rate"] > 0
    report = json.loads((proxy.session / "report.json").read_text())
    assert report["coverage"]["media_flows"]["by_protocol"] == {"rtp": 1}

    out = tmp_path / "from-file"
    result = CliRunner().invoke(main, ["analyze", str(flow_file), "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    (from_file,) = [f for f in flows_of(out) if f["transport"] == "udp"]
    assert from_file["app_proto"] == "rtp" and from_file["visibility"] == "plaintext"
    # The same media block, but for its packet rate: the live record was made at shutdown,
    # the saved flow ends when mitmproxy wrote it.
    assert from_file["media"]["packet_rate"] > 0
    assert ({**from_file["media"], "packet_rate": None}
            == {**media, "packet_rate": None})
