"""Start-up time of the `vcaudit` command: what a user waits for before anything happens.

    .venv/bin/python bench/startup.py [--repeat 15]

Each command runs as a fresh process, alternating with the baseline measured in the same run:
the same interpreter starting and exiting (`python -c pass`). Reported per command: the median
wall-clock seconds, the median minus the baseline (what vcaudit itself costs) and the ratio to
the baseline. Targets: `vcaudit --version` and `--help` under 0.3 s, `vcaudit classify zoom.us`
(loads the catalog) under 0.5 s; it exits 1 when one is missed, 2 when a command fails.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGETS = {
    ("--version",): 0.3,
    ("--help",): 0.3,
    ("classify", "zoom.us"): 0.5,
}


def timed(command: list[str]) -> float:
    """Seconds one run of the command takes, start to exit."""
    started = time.perf_counter()
    result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"startup: {' '.join(command)} failed: {result.stderr.decode()[-400:]}")
    return elapsed


def main() -> int:
    """Measure, print, and check the targets."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15, help="runs of each command")
    args = parser.parse_args()
    vcaudit = Path(sys.executable).with_name("vcaudit")
    if not vcaudit.exists():
        found = shutil.which("vcaudit")
        if found is None:
            print("startup: no vcaudit command beside this Python or on PATH", file=sys.stderr)
            return 2
        vcaudit = Path(found)
    baseline_command = [sys.executable, "-c", "pass"]
    timings: dict[tuple[str, ...], list[float]] = {key: [] for key in TARGETS}
    baseline: list[float] = []
    for key in TARGETS:  # one warm-up each, so the first run does not pay for a cold cache
        timed([str(vcaudit), *key])
    for _ in range(args.repeat):
        for key in TARGETS:
            baseline.append(timed(baseline_command))
            timings[key].append(timed([str(vcaudit), *key]))
    base = statistics.median(baseline)
    print(f"baseline (python -c pass): {base:.3f} s, median of {len(baseline)} runs")
    missed = []
    for key, runs in timings.items():
        median = statistics.median(runs)
        target = TARGETS[key]
        verdict = "ok" if median < target else "MISSED"
        print(f"vcaudit {' '.join(key):<18} {median:.3f} s  (vcaudit's own {median - base:.3f} s,"
              f" {median / base:.1f}x the baseline; target < {target} s: {verdict})")
        if median >= target:
            missed.append(" ".join(key))
    if missed:
        print(f"startup: target missed for: {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
