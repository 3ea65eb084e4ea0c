"""Captures at the edges of what the reader accepts: records longer than it keeps, times past
what a calendar can show. Whole files are never called truncated; damaged times are counted
as anomalies and the report is written."""

from __future__ import annotations

import gzip
import json
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditor.cli.main import main
from auditor.records import Flow, Transport, record_to_dict
from auditor.timefmt import iso_utc

IPV4_UDP = bytes.fromhex("4500001c0001000040110000c0a80001c0a800020035d4310008000000000000")[:28]
ETHERNET = b"\x00" * 12 + b"\x08\x00"


def classic_pcap(sizes: list[int]) -> bytes:
    """A little-endian pcap of Ethernet frames of the given lengths."""
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 300_000, 1)
    for number, size in enumerate(sizes):
        frame = (ETHERNET + IPV4_UDP).ljust(size, b"\x00")
        out += struct.pack("<IIII", 1_700_000_000 + number, 0, size, size) + frame
    return out


def analyze(path: Path, out: Path) -> tuple[int, str, dict[str, object]]:
    result = CliRunner().invoke(main, ["analyze", str(path), "--out", str(out), "-q"])
    report = json.loads((out / "report.json").read_text()) if result.exit_code == 0 else {}
    return result.exit_code, result.stderr, report


@pytest.mark.parametrize("size, compressed", [(262_144, False), (262_145, False),
                                              (300_000, False), (262_144, True),
                                              (262_145, True)])
def test_a_whole_file_with_a_long_record_is_not_truncated(tmp_path: Path, size: int,
                                                          compressed: bool) -> None:
    data = classic_pcap([100, size, 100])
    path = tmp_path / ("long.pcap.gz" if compressed else "long.pcap")
    path.write_bytes(gzip.compress(data) if compressed else data)
    code, stderr, report = analyze(path, tmp_path / "out")
    assert code == 0 and "warning" not in stderr, stderr
    inputs = report["coverage"]["inputs"]  # type: ignore[index]
    assert inputs[0]["truncated"] is None and inputs[0]["packets"] == 3


@pytest.mark.parametrize("compressed", [False, True])
def test_a_file_cut_inside_a_long_record_is_truncated(tmp_path: Path, compressed: bool) -> None:
    data = classic_pcap([100, 262_145, 100])[:200_000]
    path = tmp_path / ("cut.pcap.gz" if compressed else "cut.pcap")
    path.write_bytes(gzip.compress(data) if compressed else data)
    code, stderr, report = analyze(path, tmp_path / "out")
    assert code == 0 and "file ends inside packet 2" in stderr
    assert report["coverage"]["inputs"][0]["truncated"]  # type: ignore[index]


def _block(kind: int, body: bytes) -> bytes:
    body += b"\x00" * (-len(body) % 4)
    return struct.pack("<II", kind, 12 + len(body)) + body + struct.pack("<I", 12 + len(body))


def _epb(ts: int) -> bytes:
    frame = ETHERNET + IPV4_UDP
    return _block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(frame), len(frame))
                  + frame)


def test_a_time_past_year_9999_is_an_anomaly_and_the_report_is_written(tmp_path: Path) -> None:
    good = 1_700_000_000_000_000  # microseconds
    path = tmp_path / "future.pcapng"
    path.write_bytes(_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
                     + _block(1, struct.pack("<HHI", 1, 0, 65535))
                     + _epb(good) + _epb(2 * 10**18) + _epb(good + 1000))
    code, stderr, report = analyze(path, tmp_path / "out")
    assert code == 0, stderr
    assert report["coverage"]["anomalies"]["by_kind"] == {"time-out-of-range": 1}  # type: ignore[index]
    assert report["session"]["ended"] == "2023-11-14T22:13:20.001Z"  # type: ignore[index]


@pytest.mark.parametrize("ts", [2e18, 1e300, -1e300, float("inf"), float("nan")])
def test_times_no_calendar_can_show_are_unknown(ts: float) -> None:
    assert iso_utc(ts) is None


def test_a_log_with_absurd_times_still_gives_a_report(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    flow = Flow(flow_id="F1", ts_start=1e300, ts_end=float("inf"), transport=Transport.UDP,
                client_ip="10.0.0.1", client_port=5000, server_ip="192.0.2.1", server_port=53)
    (folder / "flows.jsonl").write_text(json.dumps(record_to_dict(flow)) + "\n")
    result = CliRunner().invoke(main, ["report", str(folder), "-q"])
    assert result.exit_code == 0, result.stderr
    assert json.loads((folder / "report.json").read_text())["summary"]["flows"] == 1
