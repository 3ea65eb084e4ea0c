"""Where failing inputs are kept: one folder per distinct failure (kind and innermost vcaudit
frame), holding the smallest input seen, what was done to which seed, the traceback or stack,
and the commands that reproduce it.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import sys
from pathlib import Path
from typing import Any

from case_runner import Outcome, describe

RUNNER = Path(__file__).resolve().parent / "run.py"


def store(folder: Path, outcome: Outcome, data: bytes, suffix: str,
          origin: dict[str, Any]) -> Path:
    """Keep a failing input (the smaller one when this failure is already kept); return its
    folder."""
    key = hashlib.sha256(outcome.signature.encode()).hexdigest()[:10]
    target = folder / f"{outcome.kind}-{key}"
    target.mkdir(parents=True, exist_ok=True)
    info_path = target / "info.json"
    info = json.loads(info_path.read_text()) if info_path.is_file() else {"seen": 0}
    info["seen"] += 1
    kept = target / f"input{suffix}"
    if "input" not in info or len(data) < info["input_bytes"]:
        for old in target.glob("input*"):
            old.unlink()
        kept.write_bytes(data)
        info.update(input=kept.name, input_bytes=len(data), outcome=describe(outcome),
                    origin=origin)
        (target / "REPRODUCE.txt").write_text(reproduction(target / kept.name, outcome))
    info_path.write_text(json.dumps(info, indent=2))
    return target


def reproduction(path: Path, outcome: Outcome) -> str:
    """How to see the failure again, in the fuzzer and with the command line."""
    python = shlex.quote(sys.executable)
    quoted = shlex.quote(str(path))
    return (f"{outcome.kind}: {outcome.detail}\n"
            f"signature: {outcome.signature}\n\n"
            "Replay the case under the fuzzer's bounds (prints the outcome and traceback):\n"
            f"  {python} {shlex.quote(str(RUNNER))} --replay {quoted}\n\n"
            "Make the input smaller while it still fails the same way:\n"
            f"  {python} {shlex.quote(str(RUNNER))} --minimize {quoted}\n\n"
            "The same input through the command line:\n"
            f"  vcaudit analyze {quoted} --out /tmp/vcaudit-repro --force\n\n"
            f"{outcome.trace}\n")
