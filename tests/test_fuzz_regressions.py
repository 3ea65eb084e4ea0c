"""Inputs the mutation fuzzer (tests/fuzz/run.py) found failing, each cut down to what makes
it fail: a pcapng block claiming gigabytes, and flow files whose values have the wrong type
or an absurd size. Each must end in a report (or one error line), never exit 70."""

from __future__ import annotations

import gzip
import io
import json
import resource
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from mitmproxy.io import FlowWriter, tnetstring
from mitmproxy.test import tflow

from auditor.cli.errors import EXIT_INTERNAL
from auditor.cli.main import main

ADDRESS_SPACE = 3 << 30  # the CLI needs about 1.5 GB of address space; a 4 GB read cannot fit


def pcapng(blocks: list[bytes]) -> bytes:
    """A little-endian pcapng section with one Ethernet interface and the given blocks."""
    shb = struct.pack("<IIIHHq", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1) + struct.pack("<I", 28)
    idb = struct.pack("<IIHHI", 1, 20, 1, 0, 262144) + struct.pack("<I", 20)
    return shb + idb + b"".join(blocks)


def epb(seconds: int) -> bytes:
    """An Enhanced Packet Block holding a 42-byte Ethernet/IPv4/UDP frame."""
    frame = (b"\x00" * 12 + b"\x08\x00" + bytes.fromhex("4500001c00010000401100000a000001"
                                                        "0a0000020035d43100080000"))
    micros = seconds * 1_000_000
    body = struct.pack("<IIIII", 0, micros >> 32, micros & 0xFFFFFFFF, len(frame), len(frame))
    body += frame + b"\x00" * (-len(frame) & 3)
    return struct.pack("<II", 6, 12 + len(body)) + body + struct.pack("<I", 12 + len(body))


def analyze_limited(path: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """`vcaudit analyze` in a process whose address space is bounded, so that a read of a
    claimed length of gigabytes fails as it would on a smaller machine."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))

    return subprocess.run([sys.executable, "-c", "from auditor.cli.main import main; main()",
                           "analyze", str(path), "--out", str(out), "-q"],
                          capture_output=True, text=True, preexec_fn=limit, check=False,
                          timeout=120, cwd=out.parent)  # the installed vcaudit, not ./auditor


# A block scapy reads and skips (an unknown type), after which it reads on by itself.
SKIPPED_BLOCK = struct.pack("<II", 0x0BAD, 16) + b"\x00" * 4 + struct.pack("<I", 16)


@pytest.mark.parametrize("compressed, skipped_first", [(False, False), (True, False),
                                                       (False, True), (True, True)])
def test_a_pcapng_block_claiming_4_gb_is_not_read_into_memory(
        tmp_path: Path, compressed: bool, skipped_first: bool) -> None:
    # Found by the fuzzer: scapy read a block's claimed body length at once (MemoryError).
    claiming = struct.pack("<II", 6, 0xFFFFFFF0) + b"\x00" * 64
    skipped = [SKIPPED_BLOCK] if skipped_first else []
    data = pcapng([epb(1_700_000_000), epb(1_700_000_001), *skipped, claiming])
    path = tmp_path / ("claims.pcapng.gz" if compressed else "claims.pcapng")
    path.write_bytes(gzip.compress(data) if compressed else data)
    result = analyze_limited(path, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "warning" in result.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["coverage"]["inputs"][0]["packets"] == 2
    assert report["coverage"]["inputs"][0]["truncated"]


@pytest.mark.parametrize("compressed", [False, True])
@pytest.mark.parametrize("byte_order", ["<", ">"])
def test_a_section_header_claiming_2_gb_is_refused_in_one_line(
        tmp_path: Path, compressed: bool, byte_order: str) -> None:
    # Found by the fuzzer: scapy reads the first block's claimed length when it opens the file.
    magic = struct.pack(byte_order + "I", 0x1A2B3C4D)
    shb = struct.pack(byte_order + "II", 0x0A0D0D0A, 0x7F0A0D0A) + magic + b"\x00" * 64
    path = tmp_path / ("claims.pcapng.gz" if compressed else "claims.pcapng")
    path.write_bytes(gzip.compress(shb) if compressed else shb)
    (tmp_path / "out").mkdir()
    result = analyze_limited(path, tmp_path / "out" / "s")
    assert result.returncode == 3, result.stderr
    assert result.stderr.count("\n") == 1 and "section header claims" in result.stderr
    assert not (tmp_path / "out" / "s").exists()


def flow_file(tmp_path: Path, change: dict[str, object]) -> Path:
    """A flow file of mitmproxy's test HTTP flow with top-level values of its state replaced
    (`client_conn.peername` style keys reach into nested dicts)."""
    handle = io.BytesIO()
    FlowWriter(handle).add(tflow.tflow(resp=True))
    state = tnetstring.loads(handle.getvalue())
    for dotted, value in change.items():
        *parents, key = dotted.split(".")
        node = state
        for parent in parents:
            node = node[parent]
        node[key] = value
    path = tmp_path / "mutated.mitm"
    path.write_bytes(tnetstring.dumps(state))
    return path


@pytest.mark.parametrize("flow_id, flows", [(b"ok.example.org;+1", 1),
                                            (b"ok.example.org;+1", 2),
                                            (2**63 - 1, 1)])
def test_a_flow_id_of_the_wrong_type_is_not_an_internal_error(tmp_path: Path, flow_id: object,
                                                              flows: int) -> None:
    handle = io.BytesIO()
    writer = FlowWriter(handle)
    for _ in range(flows):
        writer.add(tflow.tflow(resp=True))
    first = io.BytesIO(handle.getvalue())
    state = tnetstring.load(first)
    state["id"] = flow_id  # a flow file may hold any type anywhere
    path = tmp_path / "id.mitm"
    path.write_bytes(tnetstring.dumps(state) + first.read())
    result = CliRunner().invoke(main, ["analyze", str(path), "--out", str(tmp_path / "s")])
    assert result.exit_code != EXIT_INTERNAL, result.stderr
    assert result.exit_code == 0, result.stderr
    analysed = json.loads((tmp_path / "s" / "report.json").read_text())["summary"]["flows"]
    rebuilt = CliRunner().invoke(main, ["report", str(tmp_path / "s")])
    assert rebuilt.exit_code == 0 and "damaged" not in rebuilt.stderr, rebuilt.stderr
    assert json.loads((tmp_path / "s" / "report.json").read_text())["summary"]["flows"] == (
        analysed)


def test_a_port_out_of_range_is_unknown(tmp_path: Path) -> None:
    path = flow_file(tmp_path, {"client_conn.peername": ["127.0.0.1", 1e308]})
    result = CliRunner().invoke(main, ["analyze", str(path), "--out", str(tmp_path / "s")])
    assert result.exit_code != EXIT_INTERNAL, result.stderr
    assert result.exit_code == 0, result.stderr
    flow = json.loads((tmp_path / "s" / "flows.jsonl").read_text().splitlines()[0])
    assert flow["client_port"] is None or 0 <= flow["client_port"] <= 65535


def test_a_flow_saved_twice_is_two_flows_with_their_own_ids(tmp_path: Path) -> None:
    """The same flow in two files (a copy, or a file saved twice) keeps both records, the
    second under a new id, and the anomaly says so: no two lines of flows.jsonl share an id."""
    handle = io.BytesIO()
    FlowWriter(handle).add(tflow.tflow(resp=True))
    for name in ("first.mitm", "second.mitm"):
        (tmp_path / name).write_bytes(handle.getvalue())
    out = tmp_path / "s"
    result = CliRunner().invoke(main, ["analyze", str(tmp_path / "first.mitm"),
                                       str(tmp_path / "second.mitm"), "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    ids = [json.loads(line)["flow_id"] for line in (out / "flows.jsonl").read_text().splitlines()]
    assert len(ids) == 2 and len(set(ids)) == 2
    report = json.loads((out / "report.json").read_text())
    kinds = json.dumps(report["coverage"])
    assert "flow-id-replaced" in kinds


@pytest.mark.parametrize("status", ["False", True, 70000, None])
def test_a_har_status_that_is_not_a_number_keeps_the_flow_through_a_rebuild(
        tmp_path: Path, status: object) -> None:
    # Found by the fuzzer: a status of "False" was written to flows.jsonl as text, which
    # `vcaudit report` then dropped as a damaged line (3 flows analysed, 2 after a rebuild).
    from .test_flow_files import har_entry

    entries = [har_entry("https://zoom.us/join", ip="170.114.52.2"),
               har_entry("https://zoom.us/signin", ip="170.114.52.2")]
    entries[1]["response"]["status"] = status
    path = tmp_path / "status.har"
    path.write_text(json.dumps({"log": {"version": "1.2", "entries": entries}}))
    out = tmp_path / "s"
    result = CliRunner().invoke(main, ["analyze", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in (out / "flows.jsonl").read_text().splitlines()]
    assert len(lines) == 2 and sorted(str(line["status"]) for line in lines) == ["200", "None"]
    rebuilt = CliRunner().invoke(main, ["report", str(out)])
    assert rebuilt.exit_code == 0 and "damaged" not in rebuilt.stderr, rebuilt.stderr
    assert json.loads((out / "report.json").read_text())["summary"]["flows"] == 2


def test_a_block_claiming_4_gb_across_gzip_members_is_not_read_into_memory(
        tmp_path: Path) -> None:
    # Found by the fuzzer: the claimed length is checked on the bytes gzip has ready, which
    # stop at the end of a member, so a block whose header spans two members went unchecked.
    claiming = struct.pack("<II", 6, 0xEA0C_0A7C) + b"\x00" * 64
    data = pcapng([epb(1_700_000_000), epb(1_700_000_001)])
    cut = len(data) + 6  # the second member starts inside the claiming block's header
    whole = data + claiming
    path = tmp_path / "members.pcapng.gz"
    path.write_bytes(gzip.compress(whole[:cut]) + gzip.compress(whole[cut:]))
    result = analyze_limited(path, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "warning" in result.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["coverage"]["inputs"][0]["packets"] == 2
    assert report["coverage"]["inputs"][0]["truncated"]


@pytest.mark.parametrize("time", [1e308, -1e308])
def test_a_saved_time_of_1e308_still_gives_every_report_file(tmp_path: Path,
                                                              time: float) -> None:
    # Found by the fuzzer: one flow of a file at 1e308 and the others at normal times, and
    # the page's timeline divided by a span too wide for a float (OverflowError).
    normal = flow_file(tmp_path, {}).read_bytes()
    odd = flow_file(tmp_path, {"request.timestamp_start": time}).read_bytes()
    path = tmp_path / "two.mitm"
    path.write_bytes(normal + odd + normal)
    out = tmp_path / "s"
    result = CliRunner().invoke(main, ["analyze", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    assert '<section id="timeline">' in (out / "report.html").read_text()


def test_undecodable_bytes_in_a_saved_flow_are_written_escaped(tmp_path: Path) -> None:
    # Found by the fuzzer: mitmproxy decodes such bytes to lone surrogates, which UTF-8 cannot
    # encode (UnicodeEncodeError writing report.json, exit 70).
    handle = io.BytesIO()
    FlowWriter(handle).add(tflow.tflow(resp=True))
    state = tnetstring.loads(handle.getvalue())
    state["request"]["path"] = b"/join?x=\xed\xa0\x80"
    state["request"]["headers"].append((b"user-agent", b"app \xed\xa0\x80 \xff"))
    path = tmp_path / "surrogates.mitm"
    path.write_bytes(tnetstring.dumps(state))
    out = tmp_path / "s"
    result = CliRunner().invoke(main, ["analyze", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    for written in out.iterdir():
        text = written.read_bytes().decode("utf-8")  # every file is valid UTF-8
        if written.name == "flows.csv":
            assert "\\udced\\udca0\\udc80" in text  # shown escaped
    (line,) = (out / "flows.jsonl").read_text().splitlines()
    assert json.loads(line)["url"].endswith("x=\udced\udca0\udc80")  # reads back as it was
    rebuilt = CliRunner().invoke(main, ["report", str(out)])
    assert rebuilt.exit_code == 0 and "damaged" not in rebuilt.stderr, rebuilt.stderr


def test_undecodable_bytes_in_a_saved_host_reach_the_terminal_escaped(tmp_path: Path) -> None:
    # Found by the fuzzer: the terminal summary could not print a lone surrogate.
    handle = io.BytesIO()
    FlowWriter(handle).add(tflow.tflow(resp=True))
    state = tnetstring.loads(handle.getvalue())
    state["request"]["headers"] = [(b"host", b"tracker\xed\xa0\x80.example")]
    state["request"]["path"] = b"/collect?e=someone@example.com"  # named on the data: line
    path = tmp_path / "host.mitm"
    path.write_bytes(tnetstring.dumps(state))
    result = CliRunner().invoke(main, ["analyze", str(path), "--out", str(tmp_path / "s"),
                                       "--identity", "email=someone@example.com"])
    assert result.exit_code == 0, result.stderr
    assert "tracker\\udced\\udca0\\udc80.example" in result.stdout
