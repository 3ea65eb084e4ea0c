"""Regenerate the expected results of the sample captures (captures/expected/).

Run after a deliberate change to the reader, the classifier, the catalog or the report:
    python captures/update_expected.py
then review `git diff captures/expected` before committing: every change there is a change in
what vcaudit reports for a known input.

Two kinds of expected results:

* `expected/<sample>.json`: the parts of a sample's report that must not change by accident
  (summary, endpoints, names, anomalies), readable in a diff.
* `expected/sessions/<capture>/`: every file of the session folder `vcaudit analyze` writes for
  each bundled sample, byte for byte, and `expected/shared-sessions.json`: the SHA-256 of every
  such file for the real captures in ../shared/captures (when present beside the checkout;
  they are never copied here). `tests/test_session_golden.py` checks that analyze writes
  exactly these bytes, so that work on speed or memory cannot change a report unnoticed.
  Parquet tables are left out: they hold the same rows as the CSV files, and their bytes
  depend on the pyarrow version.

Each capture is analysed from its own folder under its bare file name, so the paths the
reports quote do not depend on where the checkout is.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from auditor.classify.catalog import Catalog, load_catalog  # noqa: E402
from auditor.session.offline import analyze_files  # noqa: E402

SAMPLES = ("zoom-desktop-call.pcapng", "teams-linux-any.pcap")
ENDPOINT_KEYS = ("host", "category", "entity", "first_party", "host_sources", "protocols",
                 "ports", "ips", "flows", "bytes_up", "bytes_down", "packets_up", "packets_down")
EXPECTED = HERE / "expected"
SESSIONS = EXPECTED / "sessions"
SHARED = HERE.parent.parent / "shared" / "captures"
SHARED_FOLDERS = ("pcap", "media/pcap")
SHARED_DIGESTS = EXPECTED / "shared-sessions.json"
LEFT_OUT = (".parquet",)


@functools.cache
def _catalog() -> Catalog:
    return load_catalog()


def expected_report(capture: Path) -> dict[str, Any]:
    """The parts of a sample's report that must not change by accident."""
    with tempfile.TemporaryDirectory() as folder:
        outcome = analyze_files(_catalog(), [capture], out=Path(folder), app=None)
    document = outcome.report.document
    coverage = document["coverage"]
    return {
        "capture": capture.name,
        "app": document["session"]["app"],
        "summary": document["summary"],
        "endpoints": [{k: e[k] for k in ENDPOINT_KEYS} for e in document["endpoints"]],
        "named_by": coverage["named_by"],
        "anomalies": coverage["anomalies"]["by_kind"],
        "call": _call(document["call"]),
    }


def _call(call: dict[str, Any]) -> dict[str, Any]:
    """Where the call went: totals, verdicts, and who each relay, server and peer is."""
    return {
        "totals": call["totals"],
        "verdicts": call["verdicts"],
        "relays": [{k: r[k] for k in ("address", "role", "owner", "first_party", "country")}
                   for r in call["relays"]],
        "peers": [{k: p[k] for k in ("address", "scope", "direct", "exposed", "country")}
                  for p in call["peers"]],
    }


def session_files(capture: Path) -> dict[str, bytes]:
    """Every file (but Parquet tables) of the session folder analyze writes for `capture`,
    analysed from the capture's folder under its bare name."""
    with tempfile.TemporaryDirectory() as scratch, contextlib.chdir(capture.parent):
        folder = Path(scratch) / "session"
        analyze_files(_catalog(), [Path(capture.name)], out=folder, app=None)
        return {path.name: path.read_bytes() for path in sorted(folder.iterdir())
                if not path.name.endswith(LEFT_OUT)}


def digests(files: dict[str, bytes]) -> dict[str, str]:
    """SHA-256 of each file, by name."""
    return {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}


def shared_captures() -> list[Path]:
    """The real captures beside the checkout (none when ../shared/captures is absent)."""
    return sorted(path for folder in SHARED_FOLDERS if (SHARED / folder).is_dir()
                  for path in (SHARED / folder).iterdir() if path.is_file())


def shared_key(capture: Path) -> str:
    """A shared capture's key in shared-sessions.json: its path under ../shared/captures."""
    return capture.relative_to(SHARED).as_posix()


def write_sessions() -> None:
    """The session folders of the samples, and the digests of the shared captures' ones."""
    for name in SAMPLES:
        target = SESSIONS / name
        target.mkdir(parents=True, exist_ok=True)
        files = session_files(HERE / name)
        for stale in set(p.name for p in target.iterdir()) - set(files):
            (target / stale).unlink()
        for file_name, data in files.items():
            (target / file_name).write_bytes(data)
        print(f"wrote {target.relative_to(HERE.parent)}/ ({len(files)} files)")
    captures = shared_captures()
    if not captures:
        print(f"{SHARED} not present: {SHARED_DIGESTS.name} left as it is")
        return
    table = {shared_key(path): digests(session_files(path)) for path in captures}
    SHARED_DIGESTS.write_text(json.dumps(table, indent=2, sort_keys=True) + "\n")
    print(f"wrote {SHARED_DIGESTS.relative_to(HERE.parent)} ({len(table)} captures)")


def main() -> None:
    """Write one expected-report file per sample capture, and the expected session files."""
    for name in SAMPLES:
        target = EXPECTED / f"{Path(name).stem}.json"
        target.write_text(json.dumps(expected_report(HERE / name), indent=2) + "\n")
        print(f"wrote {target.relative_to(HERE.parent)}")
    write_sessions()


if __name__ == "__main__":
    main()
