"""Input formats recognised from content: pcap in both byte orders and precisions, pcapng,
gzip-compressed pcap, HAR, mitmproxy flow files, and what is none of them."""

from __future__ import annotations

import gzip
import json
import os
import random
import struct
import threading
from pathlib import Path
from typing import Any

import pytest
from mitmproxy.io import FlowWriter
from mitmproxy.test import tflow
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.utils import PcapWriter

from auditor.errors import InputError
from auditor.input_format import InputFormat, detect_format

from .conftest import write_pcap, write_pcapng

PACKET = Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=5000, dport=53) / b"x"


def pcap_header(magic: int, endian: str) -> bytes:
    return struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, 262144, 1)


@pytest.mark.parametrize("magic, endian", [
    pytest.param(0xA1B2C3D4, "<", id="little-endian-usec"),
    pytest.param(0xA1B2C3D4, ">", id="big-endian-usec"),
    pytest.param(0xA1B23C4D, "<", id="little-endian-nsec"),
    pytest.param(0xA1B23C4D, ">", id="big-endian-nsec"),
])
def test_pcap_in_every_byte_order_and_precision(tmp_path: Path, magic: int, endian: str) -> None:
    path = tmp_path / "capture.bin"
    path.write_bytes(pcap_header(magic, endian) + struct.pack(endian + "IIII", 1, 2, 0, 0))
    assert detect_format(path) is InputFormat.PCAP


def test_pcap_written_by_scapy(tmp_path: Path) -> None:
    assert detect_format(write_pcap(tmp_path / "call.dat", [PACKET])) is InputFormat.PCAP
    nano = tmp_path / "nano.pcap"
    with PcapWriter(str(nano), nano=True, sync=True) as writer:
        writer.write(PACKET)
    assert nano.read_bytes()[:4] in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    assert detect_format(nano) is InputFormat.PCAP


def test_pcapng(tmp_path: Path) -> None:
    path = write_pcapng(tmp_path / "call.pcap", [PACKET])  # the extension does not matter
    assert detect_format(path) is InputFormat.PCAPNG


def test_gzip_compressed_pcap(tmp_path: Path) -> None:
    plain = write_pcap(tmp_path / "call.pcap", [PACKET] * 3)
    packed = tmp_path / "call.pcap.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert detect_format(packed) is InputFormat.PCAP


def test_gzip_compressed_pcapng(tmp_path: Path) -> None:
    plain = write_pcapng(tmp_path / "call.pcapng", [PACKET])
    packed = tmp_path / "call.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert detect_format(packed) is InputFormat.PCAPNG


def test_gzip_of_text_and_broken_gzip_are_unknown(tmp_path: Path) -> None:
    text = tmp_path / "notes.gz"
    text.write_bytes(gzip.compress(b"meeting notes\n" * 10))
    assert detect_format(text) is InputFormat.UNKNOWN
    broken = tmp_path / "broken.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00" + b"\xff" * 60)
    assert detect_format(broken) is InputFormat.UNKNOWN
    cut = tmp_path / "cut.gz"
    cut.write_bytes(gzip.compress(b"x" * 10000)[:20])
    assert detect_format(cut) is InputFormat.UNKNOWN


def test_har_json(tmp_path: Path) -> None:
    har = {"log": {"version": "1.2", "creator": {"name": "Firefox", "version": "140"},
                   "entries": [{"request": {"url": "https://zoom.us/"}}]}}
    path = tmp_path / "session.har"
    path.write_text(json.dumps(har, indent=2))
    assert detect_format(path) is InputFormat.HAR


def test_har_with_bom_and_larger_than_the_sniffed_head(tmp_path: Path) -> None:
    entries = [{"request": {"url": f"https://zoom.us/{i}", "headers": []}} for i in range(400)]
    text = json.dumps({"log": {"version": "1.2", "entries": entries}})
    assert len(text) > 4096
    path = tmp_path / "big.har"
    path.write_bytes(b"\xef\xbb\xbf\n" + text.encode())
    assert detect_format(path) is InputFormat.HAR


@pytest.mark.parametrize("content", [
    b"10:42:07 INFO call started\n10:42:09 INFO joined\n",
    b"12:30 stand-up notes\n",
    b"2025:11:02 capture of the call\n",
])
def test_text_starting_with_digits_and_a_colon_is_not_a_flow_file(
    tmp_path: Path, content: bytes
) -> None:
    """A log or notes file that starts with a time of day is text, not a tnetstring: the
    bytes after `<length>:` of a flow file are themselves a tnetstring (the first key)."""
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    assert detect_format(path) is InputFormat.UNKNOWN


def test_json_without_log_is_not_har(tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    path.write_text(json.dumps({"entries": [1, 2, 3]}))
    assert detect_format(path) is InputFormat.UNKNOWN


@pytest.mark.parametrize("body_size", [0, 20000])
def test_mitmproxy_flow_file_written_by_mitmproxy(tmp_path: Path, body_size: int) -> None:
    """A real flow file (mitmproxy's own writer), with a first flow shorter and longer than
    the sniffed head."""
    flow = tflow.tflow(resp=True)
    assert flow.response is not None
    flow.response.content = b"z" * body_size
    path = tmp_path / "flows.mitm"
    with path.open("wb") as handle:
        writer = FlowWriter(handle)
        writer.add(flow)
        writer.add(tflow.tflow())
    assert (path.stat().st_size > 4096) is (body_size > 0)
    assert detect_format(path) is InputFormat.MITM


def test_mitmproxy_flow_file_head(tmp_path: Path) -> None:
    # A tnetstring dictionary: `<length>:<items>}`, the items themselves tnetstrings.
    items = b"7:version;2:20#4:type;4:http;"
    flow = str(len(items)).encode() + b":" + items + b"}"
    path = tmp_path / "flows"
    path.write_bytes(flow * 3)
    assert detect_format(path) is InputFormat.MITM


@pytest.mark.parametrize("content", [
    b"hello, this is not a capture\n",
    b"Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n" * 100,
    b"time,src,dst\n1,10.0.0.1,10.0.0.2\n",
    b"\x00\x00\x00\x00\x00\x00\x00\x00",
    b"<html><body>capture</body></html>",
    b"[1, 2, 3]",
    b"{not json",
    bytes(range(256)),
    b":123",
])
def test_other_content_is_unknown(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "input.pcap"
    path.write_bytes(content)
    assert detect_format(path) is InputFormat.UNKNOWN


def test_empty_file_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.pcap"
    path.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        detect_format(path)


def test_folder_is_an_input_error(tmp_path: Path) -> None:
    folder = tmp_path / "captures"
    folder.mkdir()
    with pytest.raises(InputError, match=r"captures: is a folder, not a capture file$"):
        detect_format(folder)


def test_pipe_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    """Opening a FIFO nobody writes to would block forever; the readers also need to seek."""
    fifo = tmp_path / "live.pcap"
    os.mkfifo(fifo)
    # A writer that closes at once: a reader that opens the pipe sees an empty file, not a hang.
    writer = threading.Thread(target=lambda: open(fifo, "wb").close(), daemon=True)
    writer.start()
    with pytest.raises(InputError, match=r"not a regular file .*save the capture to a file"):
        detect_format(fifo)
    os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))  # lets the writer's open return
    writer.join(5)


def test_path_through_a_file_cannot_be_read(tmp_path: Path) -> None:
    """What an unreadable file gives (chmod 000 does not stop root, who runs the tests here)."""
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(InputError, match=r"notes.txt/call.pcap: cannot be read \(Not a dir"):
        detect_format(tmp_path / "notes.txt" / "call.pcap")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_is_an_input_error(tmp_path: Path) -> None:
    path = write_pcap(tmp_path / "call.pcap", [PACKET])
    path.chmod(0)
    with pytest.raises(InputError, match=r"cannot be read .*ermission denied"):
        detect_format(path)


@pytest.mark.parametrize("writer, expected", [(write_pcap, InputFormat.PCAP),
                                              (write_pcapng, InputFormat.PCAPNG)])
def test_gzip_cut_off_early_is_still_recognised(tmp_path: Path, writer: Any,
                                                expected: InputFormat) -> None:
    """`head -c 100000 call.pcap.gz`: recognised, so the reader can report the cut."""
    packets = [PACKET / random.Random(n).randbytes(1000) for n in range(50)]  # encrypted-like
    packed = gzip.compress(writer(tmp_path / "call", packets).read_bytes())
    cut = tmp_path / "cut.gz"
    cut.write_bytes(packed[:2000])
    assert detect_format(cut) is expected


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot be read"):
        detect_format(tmp_path / "nope.pcap")


def test_error_message_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        detect_format(tmp_path / "missing")
    assert "\n" not in str(info.value) and str(tmp_path / "missing") in str(info.value)
