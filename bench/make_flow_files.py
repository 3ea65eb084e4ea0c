"""Big mitmproxy flow files and HAR files, written piece by piece (never held in memory), for
the memory benchmark (bench/flow_file_memory.py) and the tests of bounded reading.

    .venv/bin/python bench/make_flow_files.py mitm OUT.mitm --body-mb 512
    .venv/bin/python bench/make_flow_files.py har OUT.har --body-mb 512
    .venv/bin/python bench/make_flow_files.py har OUT.har --entries 100000
    .venv/bin/python bench/make_flow_files.py stream OUT.mitm --entries 2000000

A flow file (`mitm`) holds one HTTP flow (mitmproxy's own test flow, GET
http://address:22/path) whose request body is `--body-mb` MB, then `--entries` small flows. A
HAR file holds one entry whose response body (base64 text, as browsers export bodies) is
`--body-mb` MB, then `--entries` entries of about 5 kB each. A `stream` flow file holds one raw
TCP flow of `--entries` messages of 20 bytes.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from mitmproxy.test import tflow

MB = 1 << 20
CHUNK = MB


@dataclass(frozen=True)
class Filler:
    """`size` bytes of `byte`, written in chunks where the value is a byte string."""

    size: int
    byte: bytes = b"x"


def tnetstring_pieces(value: Any) -> tuple[list[bytes | Filler], int]:
    """A value as tnetstring pieces and their total length (a Filler stands for its bytes)."""
    if isinstance(value, Filler):
        return [f"{value.size}:".encode(), value, b","], _framed(value.size)
    if isinstance(value, bytes):
        return [f"{len(value)}:".encode() + value + b","], _framed(len(value))
    if isinstance(value, str):
        return tnetstring_pieces_tagged(value.encode(), b";")
    if isinstance(value, bool):
        return tnetstring_pieces_tagged(b"true" if value else b"false", b"!")
    if isinstance(value, int):
        return tnetstring_pieces_tagged(str(value).encode(), b"#")
    if isinstance(value, float):
        return tnetstring_pieces_tagged(repr(value).encode(), b"^")
    if value is None:
        return [b"0:~"], 3
    items = (list(value) if isinstance(value, (list, tuple))
             else [part for pair in value.items() for part in pair])
    tag = b"}" if isinstance(value, dict) else b"]"
    pieces: list[bytes | Filler] = []
    length = 0
    for item in items:
        item_pieces, item_length = tnetstring_pieces(item)
        pieces += item_pieces
        length += item_length
    return [f"{length}:".encode(), *pieces, tag], _framed(length)


def tnetstring_pieces_tagged(data: bytes, tag: bytes) -> tuple[list[bytes | Filler], int]:
    """A scalar's data with its length prefix and type tag."""
    return [f"{len(data)}:".encode() + data + tag], _framed(len(data))


def _framed(length: int) -> int:
    return len(str(length)) + 1 + length + 1


def write_pieces(out: BinaryIO, pieces: list[bytes | Filler]) -> None:
    """Write pieces, fillers in chunks."""
    for piece in pieces:
        if isinstance(piece, Filler):
            left = piece.size
            while left:
                step = min(left, CHUNK)
                out.write(piece.byte * step)
                left -= step
        else:
            out.write(piece)


def write_mitm(path: Path, body_bytes: int, small_flows: int = 0) -> None:
    """A flow file: one HTTP flow whose request body is `body_bytes` long, then small ones."""
    with path.open("wb") as out:
        big = tflow.tflow(resp=True).get_state()
        big["request"]["content"] = Filler(body_bytes)
        write_pieces(out, tnetstring_pieces(big)[0])
        for _ in range(small_flows):
            write_pieces(out, tnetstring_pieces(tflow.tflow(resp=True).get_state())[0])


def write_stream(path: Path, messages: int) -> None:
    """A flow file of one TCP flow with `messages` messages from the client."""
    state = tflow.ttcpflow().get_state()
    state["messages"] = [(True, b"x" * 20, 946681204.2)] * messages
    with path.open("wb") as out:
        write_pieces(out, tnetstring_pieces(state)[0])


def har_entry(url: str, text: str) -> dict[str, Any]:
    """A HAR entry as a browser exports it, with a response body."""
    return {
        "startedDateTime": "2026-11-02T14:00:00.000Z", "time": 42,
        "request": {"method": "GET", "url": url, "httpVersion": "HTTP/2.0",
                    "headers": [{"name": "accept", "value": "*/*"}], "queryString": [],
                    "cookies": [], "headersSize": -1, "bodySize": 0},
        "response": {"status": 200, "statusText": "", "httpVersion": "HTTP/2.0",
                     "headers": [{"name": "content-type", "value": "application/octet-stream"}],
                     "content": {"size": len(text) * 3 // 4, "mimeType": "application/octet-stream",
                                 "text": text, "encoding": "base64"},
                     "cookies": [], "redirectURL": "", "headersSize": -1, "bodySize": -1},
        "cache": {}, "timings": {"send": 0, "wait": 40, "receive": 2},
    }


def write_har(path: Path, body_bytes: int, entries: int = 0) -> None:
    """A HAR file: one entry whose response body is `body_bytes` of base64 text (0: none),
    then `entries` entries of about 5 kB."""
    placeholder = "@@FILLER@@"
    with path.open("wb") as out:
        out.write(b'{"log": {"version": "1.2", "creator": {"name": "bench", "version": "1"}, '
                  b'"entries": [')
        first = True
        if body_bytes:
            head, tail = json.dumps(har_entry("https://meet.example/big", placeholder)
                                    ).split(json.dumps(placeholder)[1:-1])
            out.write(head.encode())
            write_pieces(out, [Filler(body_bytes, b"A")])
            out.write(tail.encode())
            first = False
        for number in range(entries):
            out.write(b"" if first else b", ")
            first = False
            out.write(json.dumps(har_entry(f"https://meet.example/{number}", "QUJD" * 1200)
                                 ).encode())
        out.write(b"]}}")


def main() -> int:
    """Write one file as the arguments say."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["mitm", "har", "stream"])
    parser.add_argument("out", type=Path)
    parser.add_argument("--body-mb", type=int, default=0)
    parser.add_argument("--entries", type=int, default=0)
    args = parser.parse_args()
    if args.kind == "mitm":
        write_mitm(args.out, args.body_mb * MB, args.entries)
    elif args.kind == "stream":
        write_stream(args.out, args.entries)
    else:
        write_har(args.out, args.body_mb * MB, args.entries)
    print(f"{args.out}: {args.out.stat().st_size / MB:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
