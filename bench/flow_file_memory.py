"""Peak memory of `vcaudit analyze` on big mitmproxy flow files and HAR files.

    .venv/bin/python bench/flow_file_memory.py [--body-mb 512] [--entries 100000]

Writes four files into bench/out/ with bench/make_flow_files.py: a flow file with one
`--body-mb` MB request body, a HAR file with one `--body-mb` MB response body, a HAR file of
`--entries` entries of about 5 kB, and a flow file of one TCP stream of 20 x `--entries`
messages. Each is analysed by `vcaudit analyze FILE --out DIR --quiet` as a fresh process;
reported: file size, wall-clock seconds and peak resident memory (the process's `ru_maxrss`
from `wait4`, measured through a small launcher process; see LAUNCHER). Target: every peak
under 500 MB, whatever the file's size; exit 1 when one is missed, 2 when an analysis fails.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_flow_files import MB, write_har, write_mitm, write_stream

OUT = Path(__file__).resolve().parent / "out"
TARGET_MB = 500


# Runs the command and prints its peak resident memory. It stands between this process and the
# measured one because a child's ru_maxrss counts the memory of the process it was forked from
# (this one, which has just written a big file); the launcher itself is small.
LAUNCHER = ("import os, subprocess, sys\n"
            "child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
            "_, status, usage = os.wait4(child.pid, 0)\n"
            "print(usage.ru_maxrss)\n"
            "sys.exit(os.waitstatus_to_exitcode(status))\n")


def measure(path: Path) -> tuple[float, float]:
    """Seconds and peak resident MB of one `vcaudit analyze` of `path`."""
    folder = OUT / f"session-{path.stem}"
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", LAUNCHER, sys.executable, "-c",
         "from auditor.cli.main import main; main()", "analyze", str(path), "--out",
         str(folder), "--quiet"], capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        print(f"flow_file_memory: {path.name} failed: {result.stderr[-400:]}", file=sys.stderr)
        sys.exit(2)
    shutil.rmtree(folder, ignore_errors=True)
    return elapsed, int(result.stdout.split()[-1]) / 1024


def main() -> int:
    """Write the files, measure each, check the target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--body-mb", type=int, default=512)
    parser.add_argument("--entries", type=int, default=100_000)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    files = {
        "body.mitm": lambda p: write_mitm(p, args.body_mb * MB, 10),
        "body.har": lambda p: write_har(p, args.body_mb * MB, 10),
        "entries.har": lambda p: write_har(p, 0, args.entries),
        "stream.mitm": lambda p: write_stream(p, args.entries * 20),
    }
    missed = []
    print(f"{'file':<14}{'size MB':>9}{'seconds':>9}{'peak MB':>9}")
    for name, write in files.items():
        path = OUT / name
        write(path)
        seconds, peak = measure(path)
        print(f"{name:<14}{path.stat().st_size / MB:>9.0f}{seconds:>9.1f}{peak:>9.0f}")
        path.unlink()
        if peak > TARGET_MB:
            missed.append(f"{name}: {peak:.0f} MB")
    if missed:
        print(f"target missed (peak under {TARGET_MB} MB): {', '.join(missed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
