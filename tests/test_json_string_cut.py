"""Long JSON strings cut on the way to the parser: the text stays valid JSON whatever the
strings hold and wherever chunks end, short strings arrive unchanged, long ones as a marker
with their start and length."""

from __future__ import annotations

import io
import json
import random
from typing import Any

import ijson
import pytest

from auditor.mitm.json_string_cut import CUT_KEY, LENGTH_KEY, LongStringCutter

PIECES = ["a", "é", "\u202e", '"', "\\", "\n", "😀", "/", "xxxxx", "\x00"]


def cut(text: bytes, keep: int, chunk: int, seed: int = 0) -> tuple[Any, LongStringCutter]:
    """The cut text parsed by ijson (C backend), read in reads of random sizes."""
    cutter = LongStringCutter(io.BytesIO(text), keep, chunk)
    reads = random.Random(seed)

    class Reader:
        def read(self, size: int = -1) -> bytes:
            return cutter.read(min(size, reads.randint(1, 64)) if size > 0 else size)

    return next(ijson.items(Reader(), "")), cutter


def check(original: Any, parsed: Any, keep: int, ascii_only: bool) -> None:
    """`parsed` is `original` with its strings longer than `keep` bytes (as written: escapes
    count in full) cut."""
    if isinstance(original, str):
        raw = len(json.dumps(original, ensure_ascii=ascii_only).encode()) - 2
        if parsed == original:
            return
        assert raw > keep, (original, parsed)
        assert set(parsed) == {CUT_KEY, LENGTH_KEY}
        assert original.startswith(parsed[CUT_KEY]) and parsed[LENGTH_KEY] == raw
        assert len(parsed[CUT_KEY].encode()) <= keep
        return
    if isinstance(original, list):
        assert len(parsed) == len(original)
        for a, b in zip(original, parsed, strict=True):
            check(a, b, keep, ascii_only)
        return
    if not isinstance(original, dict):
        assert parsed == original
        return
    assert len(parsed) == len(original)
    for (key, value), (got_key, got_value) in zip(original.items(), parsed.items(), strict=True):
        assert key.startswith(got_key) and len(got_key.encode()) <= max(keep, len(key.encode()))
        check(value, got_value, keep, ascii_only)


@pytest.mark.parametrize("seed", range(40))
def test_any_text_cut_anywhere_stays_valid_json(seed: int) -> None:
    rng = random.Random(seed)
    values = ["".join(rng.choice(PIECES) for _ in range(rng.randint(0, 80))) for _ in range(6)]
    document = {f"{n}{value}": [value, {"t": value, "n": n}, None, True, 1.5]
                for n, value in enumerate(values)}
    text = json.dumps(document, ensure_ascii=seed % 2 == 0).encode()
    keep = rng.randint(1, 60)
    chunk = rng.randint(1, 40)
    parsed, _ = cut(text, keep, chunk, seed)
    check(document, parsed, keep, seed % 2 == 0)


def test_a_long_value_becomes_a_marker_and_a_long_key_its_start() -> None:
    body = "B" * 1000
    text = json.dumps({"body": body, "k" * 900: 1, "tail": "ok"}).encode()
    parsed, cutter = cut(text, keep=100, chunk=64)
    assert parsed["body"] == {CUT_KEY: "B" * 100, LENGTH_KEY: 1000}
    assert parsed["k" * 100] == 1 and parsed["tail"] == "ok"
    assert cutter.cut == 2


def test_a_cut_never_splits_an_escape_a_character_or_a_surrogate_pair() -> None:
    for filler in ("\\n", "é", "😀", "\\ud83d\\ude00"):
        for offset in range(8):
            inside = "a" * offset + filler * 300
            text = b'{"v": "' + inside.encode() + b'"}'
            parsed, _ = cut(text, keep=50, chunk=16)
            kept = parsed["v"][CUT_KEY]
            decoded = json.loads(f'"{inside}"')
            as_written = json.dumps(kept, ensure_ascii=filler.startswith("\\u")).encode()
            assert decoded.startswith(kept) and 50 - 12 < len(as_written) - 2 <= 50


def test_a_byte_order_mark_is_dropped_and_a_cut_off_text_is_reported_by_the_parser() -> None:
    parsed, _ = cut(b'\xef\xbb\xbf{"a": "b"}', keep=10, chunk=4)
    assert parsed == {"a": "b"}
    with pytest.raises(ijson.JSONError):
        cut(b'{"a": "' + b"x" * 500, keep=10, chunk=16)


def test_memory_stays_at_keep_plus_a_chunk() -> None:
    size = 8 << 20
    text = b'{"v": "' + b"y" * size + b'"}'
    cutter = LongStringCutter(io.BytesIO(text), keep=1 << 16, chunk_bytes=1 << 16)
    largest = 0
    while piece := cutter.read(1 << 16):
        largest = max(largest, len(piece))
    assert largest <= 1 << 16
    assert cutter.cut == 1
