"""Memory and time as captures grow: `vcaudit analyze` on the benchmark call at 1x, 2x and 4x
its length, and on a flood of a million distinct flows.

Run from the repository root as ``.venv/bin/python bench/capture_scaling.py`` (options:
``--help``). It builds, into bench/out/ unless they are there already,

* the benchmark capture of pcap_speed.py (``--packets``, default 1,000,000),
* its 2x and 4x versions: time-shifted copies merged in time order (scaled_captures), so the
  same call runs two or four times in a row: more packets and flows, the same load at once,
* a flood: ``--flood`` (default 1,000,000) distinct one-datagram UDP flows within 10 seconds,
  every one open at once (a scan, or issue 9's million-flow case),

then runs ``vcaudit analyze FILE --out DIR --quiet`` on each as its own child process
(``--repeat`` times; best wall time, highest peak) and ``tshark -r FILE -T fields ...`` on the
1x capture in the same run, as the baseline. It prints, per capture, packets, wall and CPU
seconds, packets/s, peak resident MB, and each figure as a ratio: peak and CPU seconds against
the 1x run, packets/s against tshark's on the 1x capture.

Targets (exit 1 when one is missed, 2 when nothing could be measured): peak memory under
--max-mb (150) on every scaled capture and under --max-flood-mb (500) on the flood; peak
memory flat in the capture's length (the 4x peak under --max-growth, 1.4, times the 1x peak:
what grows is the index of the flows kept on disk and the DNS answers, a few MB per million
packets).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from pcap_speed import (  # noqa: E402 - sibling scripts, not a package
    TSHARK_FIELDS,
    MeasureError,
    check_vcaudit_output,
    ensure_capture,
    run_child,
    vcaudit_command,
    warm_page_cache,
)
from scaled_captures import flood_capture, scaled_capture  # noqa: E402


def scaled(base: Path, copies: int) -> Path:
    """The `copies`x version of `base`, built once."""
    if copies == 1:
        return base
    path = base.with_name(f"{base.stem}-x{copies}.pcap")
    if not path.exists() or path.stat().st_mtime < base.stat().st_mtime:
        print(f"building {path.name} ...", file=sys.stderr)
        partial = path.with_suffix(".partial")
        scaled_capture(base, copies, partial)
        partial.replace(path)
    return path


def flood(workdir: Path, flows: int) -> Path:
    """The flood capture of `flows` flows, built once."""
    path = workdir / f"flood-{flows}.pcap"
    if not path.exists():
        print(f"building {path.name} ...", file=sys.stderr)
        partial = path.with_suffix(".partial")
        flood_capture(partial, flows)
        partial.replace(path)
    return path


def packets_in(session: Path) -> int:
    """How many packets the audit read, from its session.json."""
    meta = json.loads((session / "session.json").read_text())
    return int(meta["coverage"]["packets"])


def run_vcaudit(capture: Path, repeat: int, expected: int | None) -> dict[str, float]:
    """Best wall time, its CPU time, the highest peak MB and the packets read, over runs."""
    vcaudit = vcaudit_command()
    runs = []
    packets = 0
    with tempfile.TemporaryDirectory(prefix="vcaudit-scaling-") as scratch:
        for run in range(repeat):
            out = Path(scratch) / f"s{run}"
            runs.append(run_child([vcaudit, "analyze", str(capture), "--out", str(out),
                                   "--quiet"], cwd=Path(scratch)))
            if expected is not None:
                check_vcaudit_output(out, expected)
            packets = packets_in(out)
            shutil.rmtree(out)
    best = min(runs)
    return {"packets": packets, "seconds": best[0], "cpu_seconds": best[1],
            "peak_mb": max(r[2] for r in runs)}


def run_tshark(capture: Path, repeat: int, packets: int) -> dict[str, float]:
    """tshark's best wall time on `capture`, as the baseline."""
    tshark = shutil.which("tshark")
    if tshark is None:
        raise MeasureError("tshark is not installed (apt-get install tshark)")
    runs = [run_child([tshark, "-r", str(capture), *TSHARK_FIELDS]) for _ in range(repeat)]
    best = min(runs)
    return {"packets": packets, "seconds": best[0], "cpu_seconds": best[1],
            "peak_mb": max(r[2] for r in runs)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--packets", type=int, default=1_000_000,
                        help="packets of the 1x capture (default 1,000,000)")
    parser.add_argument("--scales", default="1,2,4", help="lengths to run (default 1,2,4)")
    parser.add_argument("--flood", type=int, default=1_000_000,
                        help="flows of the flood capture (default 1,000,000; 0: none)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per capture (default 1)")
    parser.add_argument("--no-tshark", action="store_true", help="skip the tshark baseline")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated call")
    parser.add_argument("--workdir", type=Path, default=BENCH / "out",
                        help="where captures are kept (default bench/out/, gitignored)")
    parser.add_argument("--max-mb", type=float, default=150.0)
    parser.add_argument("--max-flood-mb", type=float, default=500.0)
    parser.add_argument("--max-growth", type=float, default=1.4)
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    scales = sorted({int(s) for s in args.scales.split(",")})
    if args.repeat < 1 or not scales or scales[0] < 1:
        parser.error("--repeat and every scale must be at least 1")

    args.workdir.mkdir(parents=True, exist_ok=True)
    base, summary = ensure_capture(args.packets, False, args.seed, args.workdir)
    rows: dict[str, dict[str, float]] = {}
    try:
        for copies in scales:
            capture = scaled(base, copies)
            warm_page_cache(capture)
            rows[f"{copies}x"] = run_vcaudit(capture, args.repeat,
                                             summary["packets"] * copies)
            print(f"{copies}x: {rows[f'{copies}x']}", file=sys.stderr)
        if args.flood:
            capture = flood(args.workdir, args.flood)
            warm_page_cache(capture)
            rows["flood"] = run_vcaudit(capture, args.repeat, args.flood)
        baseline = None
        if not args.no_tshark:
            warm_page_cache(base)
            baseline = run_tshark(base, args.repeat, summary["packets"])
    except MeasureError as exc:
        print(f"capture_scaling: cannot measure: {exc}", file=sys.stderr)
        return 2

    first = rows[f"{scales[0]}x"]
    print(f"1x capture: {base.name} ({summary['packets']:,} packets, {summary['flows']:,} flows);"
          f" {os.cpu_count()} CPUs; best of {args.repeat}")
    print(f"{'capture':<8} {'packets':>11} {'wall s':>7} {'cpu s':>7} {'packets/s':>10} "
          f"{'peak MB':>8} {'peak/1x':>8} {'cpu/1x':>7} {'vs tshark':>9}")
    for name, row in rows.items():
        rate = row["packets"] / row["seconds"]
        versus = (f"{rate / (baseline['packets'] / baseline['seconds']):.2f}x"
                  if baseline else "-")
        print(f"{name:<8} {row['packets']:>11,} {row['seconds']:>7.2f} {row['cpu_seconds']:>7.2f} "
              f"{rate:>10,.0f} {row['peak_mb']:>8.0f} {row['peak_mb'] / first['peak_mb']:>7.2f}x "
              f"{row['cpu_seconds'] / first['cpu_seconds']:>6.2f}x {versus:>9}")
    if baseline:
        rate = baseline["packets"] / baseline["seconds"]
        print(f"{'tshark 1x':<8} {baseline['packets']:>11,} {baseline['seconds']:>7.2f} "
              f"{baseline['cpu_seconds']:>7.2f} {rate:>10,.0f} {baseline['peak_mb']:>8.0f}")

    failures = []
    for name, row in rows.items():
        limit = args.max_flood_mb if name == "flood" else args.max_mb
        if row["peak_mb"] >= limit:
            failures.append(f"{name}: peak {row['peak_mb']:.0f} MB, target under {limit:g} MB")
    last = rows[f"{scales[-1]}x"]
    if len(scales) > 1 and last["peak_mb"] > args.max_growth * first["peak_mb"]:
        failures.append(f"peak grows {last['peak_mb'] / first['peak_mb']:.2f}x from "
                        f"{scales[0]}x to {scales[-1]}x (target under {args.max_growth:g}x)")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "tshark_1x": baseline,
                                         "failures": failures}, indent=2) + "\n")
    for failure in failures:
        print(f"capture_scaling: FAILED: {failure}", file=sys.stderr)
    if not failures:
        print("targets met: peak memory flat and under the limits")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
