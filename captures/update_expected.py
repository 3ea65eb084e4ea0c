"""Regenerate the expected reports of the sample captures (captures/expected/*.json).

Run after a deliberate change to the reader, the classifier or the catalog:
    python captures/update_expected.py
then review `git diff captures/expected` before committing: every change there is a change in
what vcaudit reports for a known input.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from auditor.classify.catalog import load_catalog  # noqa: E402
from auditor.session.offline import analyze_files  # noqa: E402

SAMPLES = ("zoom-desktop-call.pcapng", "teams-linux-any.pcap")
ENDPOINT_KEYS = ("host", "category", "entity", "first_party", "host_sources", "protocols",
                 "ports", "ips", "flows", "bytes_up", "bytes_down", "packets_up", "packets_down")


def expected_report(capture: Path) -> dict[str, Any]:
    """The parts of a sample's report that must not change by accident."""
    with tempfile.TemporaryDirectory() as folder:
        outcome = analyze_files(load_catalog(), [capture], out=Path(folder), app=None)
    document = outcome.report.document
    coverage = document["coverage"]
    return {
        "capture": capture.name,
        "app": document["session"]["app"],
        "summary": document["summary"],
        "endpoints": [{k: e[k] for k in ENDPOINT_KEYS} for e in document["endpoints"]],
        "named_by": coverage["named_by"],
        "anomalies": coverage["anomalies"]["by_kind"],
    }


def main() -> None:
    """Write one expected-report file per sample capture."""
    for name in SAMPLES:
        target = HERE / "expected" / f"{Path(name).stem}.json"
        target.write_text(json.dumps(expected_report(HERE / name), indent=2) + "\n")
        print(f"wrote {target.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
