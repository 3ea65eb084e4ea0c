"""HAR files read one entry at a time: entries that cannot be read are told apart from the
rest, huge strings are cut with their size noted, and broken JSON stops reading with a reason
after the entries before it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from auditor.mitm import har_reader
from auditor.mitm.har_reader import MAX_DEPTH, HarEntry, HarFileError, read_har_entries


def entry(url: str, **extra: Any) -> dict[str, Any]:
    return {"startedDateTime": "2026-11-02T14:00:00.000Z", "time": 42,
            "request": {"method": "GET", "url": url, "headers": []},
            "response": {"status": 200, "headers": [], "content": {"text": "{}"}}, **extra}


def read(tmp_path: Path, text: str | bytes) -> list[HarEntry]:
    path = tmp_path / "x.har"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    with path.open("rb") as handle:
        return list(read_har_entries(handle))


def test_entries_keep_only_the_fields_a_flow_is_made_from(tmp_path: Path) -> None:
    first = entry("https://zoom.us/", _initiator={"stack": {"parent": {}}}, cache={},
                  serverIPAddress="170.114.52.2")
    har = {"log": {"version": "1.2", "pages": [{"id": "p", "deep": [[[[1]]]]}],
                   "entries": [first, entry("https://meet.google.com/")]}}
    entries = read(tmp_path, json.dumps(har))
    assert [e.number for e in entries] == [1, 2]
    assert entries[0].entry is not None
    assert set(entries[0].entry) == {"startedDateTime", "time", "request", "response",
                                     "serverIPAddress"}
    assert entries[0].entry["request"] == first["request"]
    assert entries[1].entry is not None and entries[1].error is None


def test_an_entry_too_deep_or_too_large_is_skipped_and_the_next_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    deep: Any = "x"
    for _ in range(MAX_DEPTH + 5):
        deep = {"d": [deep]}
    bad = entry("https://a.example/")
    bad["request"]["postData"] = deep
    entries = read(tmp_path, json.dumps({"log": {"entries": [bad, entry("https://b.example/")]}}))
    assert entries[0].entry is None
    assert entries[0].error == f"entry 1 is nested deeper than {MAX_DEPTH} levels"
    assert entries[1].entry is not None
    monkeypatch.setattr(har_reader, "MAX_NODES", 50)
    many = entry("https://c.example/")
    many["request"]["headers"] = [{"name": f"h{n}", "value": "v"} for n in range(40)]
    entries = read(tmp_path, json.dumps({"log": {"entries": [many, entry("https://d.ex/")]}}))
    assert entries[0].error == "entry 1 holds more than 50 values"
    assert entries[1].entry is not None


def test_a_million_levels_of_nesting_cost_no_recursion(tmp_path: Path) -> None:
    text = '{"log": {"entries": [{"request": ' + "[" * 1_000_000 + "]" * 1_000_000 + "}]}}"
    (only,) = read(tmp_path, text)
    assert only.entry is None and "nested deeper" in (only.error or "")


def test_long_strings_are_cut_and_their_length_noted(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(har_reader, "KEPT_BYTES", 1000)
    big = entry("https://upload.example/")
    big["request"]["postData"] = {"text": "p" * 300_000}
    big["response"]["content"] = {"text": "QUJD" * 100_000, "encoding": "base64"}
    (only,) = read(tmp_path, json.dumps({"log": {"entries": [big]}}))
    assert only.entry is not None
    assert only.entry["request"]["postData"]["text"] == "p" * 1000
    assert only.cuts == {("request", "postData", "text"): 300_000,
                         ("response", "content", "text"): 400_000}


def test_a_file_that_holds_a_marker_of_its_own_only_lies_about_itself(tmp_path: Path) -> None:
    own = entry("https://a.example/", request={"method": "GET", "url": "https://a.example/",
                                               "headers": [],
                                               "postData": {"text": {"\u0000cut": 5,
                                                                     "\u0000length": "x"}}})
    (only,) = read(tmp_path, json.dumps({"log": {"entries": [own]}}))
    assert only.entry is not None and not only.cuts  # not one of ours: left as it is


def test_broken_json_stops_after_the_entries_before_it(tmp_path: Path) -> None:
    text = json.dumps({"log": {"entries": [entry("https://a.example/"),
                                           entry("https://b.example/")]}})
    cut = text[: text.index("https://b.example/")]
    path = tmp_path / "cut.har"
    path.write_text(cut)
    with path.open("rb") as handle:
        entries = read_har_entries(handle)
        assert next(entries).entry is not None
        with pytest.raises(HarFileError, match=r"^broken JSON \(parse error: premature EOF\)$"):
            next(entries)


@pytest.mark.parametrize(("text", "reason"), [
    ("[]", "no JSON object at the top"),
    ('{"log": {"version": "1.2"}}', "no log.entries list"),
    ('{"log": {"entries": {}}}', "no log.entries list"),
    ('{"log": {"entries": [' + "9" * 5000 + "]}}", "broken JSON (parse error: integer overflow)"),
])
def test_files_that_are_not_har(tmp_path: Path, text: str, reason: str) -> None:
    with pytest.raises(HarFileError) as caught:
        read(tmp_path, text)
    assert str(caught.value).startswith(reason)
    assert "\n" not in str(caught.value)


def test_entries_that_are_not_objects_are_reported(tmp_path: Path) -> None:
    entries = read(tmp_path, '\ufeff{"log": {"entries": [1, [2], {"time": 1}]}}')
    assert [e.error for e in entries] == ["entry 1 is not a JSON object",
                                          "entry 2 is not a JSON object", None]
