"""The bounded flow-file reader: the same states as mitmproxy's reader on real flow files, and
no trust in what a hostile file claims (lengths, nesting, sizes)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from mitmproxy.io import FlowWriter, tnetstring
from mitmproxy.test import tflow

from auditor.mitm.tnetstring_reader import (
    IN_MEMORY,
    KEPT_BYTES,
    MAX_DEPTH,
    FlowFileError,
    SavedState,
    read_flow_states,
)


def read_all(path: Path) -> list[SavedState]:
    with path.open("rb") as handle:
        return list(read_flow_states(handle))


def nested(levels: int) -> bytes:
    """A flow that is a dict in a dict in a dict ... `levels` deep."""
    data = b"0:~"
    for _ in range(levels):
        data = b"1:a;" + data
        data = str(len(data)).encode() + b":" + data + b"}"
    return data


def test_states_match_mitmproxys_own_reader(tmp_path: Path) -> None:
    flows = [tflow.tflow(resp=True), tflow.twebsocketflow(), tflow.ttcpflow(),
             tflow.tudpflow(), tflow.tdnsflow(resp=True)]
    path = tmp_path / "flows.mitm"
    with path.open("wb") as handle:
        writer = FlowWriter(handle)
        for flow in flows:
            writer.add(flow)
    states = read_all(path)
    assert [s.number for s in states] == [1, 2, 3, 4, 5]
    for flow, saved in zip(flows, states, strict=True):
        expected: dict[str, Any] = tnetstring.loads(tnetstring.dumps(flow.get_state()))
        for where, counts in saved.streams.items():  # messages are counted, not kept
            holder = expected
            for key in where[:-1]:
                holder = holder[key]
            messages = holder[where[-1]]
            holder[where[-1]] = []
            up = [m for m in messages if next(v for v in m if isinstance(v, bool))]
            assert counts.messages_up == len(up)
            assert counts.messages_down == len(messages) - len(up)
        assert saved.error is None and saved.state == expected
    websocket, tcp = states[1].streams, states[2].streams
    assert websocket[("websocket", "messages")].bytes_up == sum(
        len(m.content) for m in flows[1].websocket.messages if m.from_client)
    assert tcp[("messages",)].as_tuple() == (1, 1, 5, 7)


def test_a_claimed_length_is_checked_against_the_file_before_anything_is_read(
        tmp_path: Path) -> None:
    path = tmp_path / "bomb.mitm"
    path.write_bytes(b"99999999999:4:host,1:a,}")  # the 24-byte MemoryError
    tracemalloc.start()
    with pytest.raises(FlowFileError, match="ends inside flow 1: it claims 99,999,999,999"):
        read_all(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1 << 20


def test_an_inner_length_is_checked_against_its_container(tmp_path: Path) -> None:
    path = tmp_path / "inner.mitm"
    path.write_bytes(frame(b"4:host,99999:a,") + nested(2))
    first, second = read_all(path)
    assert first.state is None and "more than its container holds" in (first.error or "")
    assert second.state == {"a": {"a": None}}  # the next flow is read all the same


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 1500])
def test_deep_nesting_is_refused_without_recursing(tmp_path: Path, levels: int) -> None:
    path = tmp_path / "deep.mitm"
    path.write_bytes(nested(levels) + nested(3))
    deep, fine = read_all(path)
    assert deep.state is None and deep.error == f"flow 1: nested deeper than {MAX_DEPTH} levels"
    assert fine.error is None
    assert read_all(_write(tmp_path / "ok.mitm", nested(MAX_DEPTH)))[0].error is None


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def frame(data: bytes, tag: bytes = b"}") -> bytes:
    return str(len(data)).encode() + b":" + data + tag


@pytest.mark.parametrize(("flow", "message"), [
    (frame(b"1:a;x"), "a missing or invalid length prefix"),
    (frame(b"1:a;1:x@"), "an unknown type tag"),
    (frame(b"1:a;2:1x#"), "a malformed number"),
    (frame(b"1:a;1:x!"), "a malformed '!' value"),
    (frame(b"1:a;2:\xff\xfe;"), "text that is not UTF-8"),
    (frame(b"3:0:~]0:~"), "a dict key of type list"),
    (frame(b"1:a;"), "a dict with a key but no value"),
    (frame(b"0:~", b"]"), "flow 1 is not a dict"),
])
def test_malformed_values_make_the_flow_unreadable(tmp_path: Path, flow: bytes,
                                                   message: str) -> None:
    saved, after = read_all(_write(tmp_path / "bad.mitm", flow + nested(1)))
    assert saved.state is None and message in (saved.error or "")
    assert after.state == {"a": None}


def test_a_number_too_long_for_python_is_an_error_not_a_crash(tmp_path: Path) -> None:
    saved = read_all(_write(tmp_path / "n.mitm", frame(b"1:a;" + frame(b"9" * 5000, b"#"))))[0]
    assert saved.error is not None and "malformed number" in saved.error


def test_a_cut_file_keeps_the_flows_before_the_cut(tmp_path: Path) -> None:
    whole = nested(2) + nested(2)
    with _write(tmp_path / "cut.mitm", whole[:-3]).open("rb") as handle:
        states = read_flow_states(handle)
        assert next(states).state == {"a": {"a": None}}
        with pytest.raises(FlowFileError, match="ends inside flow 2"):
            next(states)
    with _write(tmp_path / "junk.mitm", nested(1) + b"garbage").open("rb") as handle:
        states = read_flow_states(handle)
        next(states)
        with pytest.raises(FlowFileError, match="flow 2 has no valid length prefix at byte"):
            next(states)


def test_a_large_body_is_cut_and_its_length_kept(tmp_path: Path) -> None:
    flow = tflow.tflow(resp=True)
    flow.request.content = b"q" * (KEPT_BYTES + 12345)
    flow.response.content = b"r" * (IN_MEMORY + 5)  # read from disk, not cut
    websocket = tflow.twebsocketflow()
    websocket.websocket.messages[0].content = b"\x16" + b"w" * (KEPT_BYTES + 99)
    path = tmp_path / "big.mitm"
    with path.open("wb") as handle:
        FlowWriter(handle).add(flow)
        FlowWriter(handle).add(websocket)
    big, ws = read_all(path)
    assert big.state is not None and big.cuts == {("request", "content"): KEPT_BYTES + 12345}
    assert big.state["request"]["content"] == b"q" * KEPT_BYTES
    assert big.state["response"]["content"] == b"r" * (IN_MEMORY + 5)
    counts = ws.streams[("websocket", "messages")]
    expected_up = sum(len(m.content) for m in websocket.websocket.messages if m.from_client)
    assert counts.bytes_up == expected_up and counts.starts_like_tls
    assert not ws.cuts  # a message's cut content is counted in full, not reported as cut


def test_reading_a_large_flow_keeps_memory_bounded(tmp_path: Path) -> None:
    flow = tflow.tflow(resp=True)
    flow.request.content = b"z" * (40 << 20)
    path = tmp_path / "big.mitm"
    with path.open("wb") as handle:
        FlowWriter(handle).add(flow)
    del flow
    tracemalloc.start()
    states = read_all(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert states[0].cuts == {("request", "content"): 40 << 20}
    assert peak < KEPT_BYTES + (4 << 20)


def test_text_values_are_cut_between_characters(tmp_path: Path) -> None:
    text = ("é" * (KEPT_BYTES // 2 + 10)).encode()
    text = b"x" + text  # so that the cut at KEPT_BYTES falls inside a character
    saved = read_all(_write(tmp_path / "text.mitm", frame(b"1:a;" + frame(text, b";"))))[0]
    assert saved.state is not None
    assert saved.state["a"] == "x" + "é" * (KEPT_BYTES // 2 - 1)
    assert saved.cuts == {("a",): len(text)}


def test_a_long_stream_is_counted_not_kept(tmp_path: Path) -> None:
    flow = tflow.ttcpflow()
    state = flow.get_state()
    state["messages"] = [[True, b"x" * 20, 946681204.2], [False, b"yy", 946681204.3]] * 25_000
    path = _write(tmp_path / "stream.mitm", tnetstring.dumps(state))
    del state
    tracemalloc.start()
    (saved,) = read_all(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert saved.streams[("messages",)].as_tuple() == (25_000, 25_000, 500_000, 50_000)
    assert saved.state is not None and saved.state["messages"] == []
    assert peak < 3 << 20  # keeping the 50,000 messages would take over 7 MB
