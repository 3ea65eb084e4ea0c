"""Many captures: `vcaudit batch` with --jobs 1 against --jobs 2, and what a batch adds to
one capture's analysis (the Parquet tables, the dataset, the summary).

Run from the repository root as ``.venv/bin/python bench/batch_speed.py`` (options: ``--help``).
It builds --captures generated calls (bench/make_capture.py, seeds 1..N, --packets each) into
bench/out/batch-<packets>/ unless they are there already, then, alternating in the same run,

* ``vcaudit batch DIR --out OUT --jobs 1 --quiet`` and the same with ``--jobs 2`` (fresh
  processes; wall-clock seconds, best of --repeat; CPU seconds of that run, the worker
  processes included; the peak resident memory of the largest single process), checking that
  every capture became a session and that the dataset holds all of them;
* ``vcaudit analyze FILE`` and ``vcaudit batch FILE --jobs 1`` on one --analyze-packets
  capture (median of at least 5 runs each; peak memory): what the batch adds to a session,
  pyarrow and the Parquet tables above all (the reason `analyze` does not write them).

It prints both tables and exits 1 when --jobs 2 is under --min-speedup times as fast as
--jobs 1, 2 when it cannot measure (a run failed, a session is missing).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

import make_capture  # noqa: E402 - a sibling script, not a package


class MeasureError(RuntimeError):
    """A run failed or its output is not what it should be."""


@dataclass(slots=True)
class Run:
    seconds: float
    cpu_seconds: float
    peak_mb: float


# Runs a command as a child subreaper: worker processes whose parent (the forkserver) exits
# before them are reparented to it and reaped here, so wait4 on this launcher counts the CPU
# time and peak memory of every process of the batch.
REAPER = """
import ctypes, os, subprocess, sys
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
code = subprocess.call(sys.argv[1:])
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
sys.exit(code)
"""


def run_child(command: list[str], cwd: Path) -> Run:
    """One command in a subreaper child: wall seconds until every process of it ended, CPU
    seconds of all of them, and the largest peak resident memory of any one of them."""
    with tempfile.TemporaryFile() as errors:
        began = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-c", REAPER, *command],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=errors, cwd=cwd)
        _pid, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - began
        errors.seek(0)
        stderr = errors.read().decode(errors="replace").strip()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise MeasureError(f"{' '.join(command[:3])} ... exited with {code}: {stderr[-500:]}")
    return Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def ensure_capture(path: Path, packets: int, seed: int) -> int:
    """A generated capture at `path`, built unless an identical one is there; its packets."""
    manifest_file = make_capture.manifest_path(path)
    summary = json.loads(manifest_file.read_text()) if manifest_file.exists() else {}
    if (summary.get("generator_version") != make_capture.GENERATOR_VERSION
            or summary.get("seed") != seed or not path.exists()):
        print(f"building {path} ({packets:,} packets) ...", file=sys.stderr)
        manifest_file.unlink(missing_ok=True)  # written last: a cut-off build is never reused
        summary = make_capture.build_capture(path, packets, False, seed).summary()
        manifest_file.write_text(json.dumps(summary, indent=2) + "\n")
    return int(summary["packets"])


def ensure_captures(count: int, packets: int, workdir: Path) -> tuple[Path, int]:
    """The folder of `count` generated captures (seeds 1..count) and their packets in all."""
    folder = workdir / f"batch-{packets}"
    folder.mkdir(parents=True, exist_ok=True)
    total = sum(ensure_capture(folder / f"call-{seed:02d}.pcap", packets, seed)
                for seed in range(1, count + 1))
    for extra in sorted(folder.glob("call-*.pcap"))[count:]:
        extra.unlink()  # a larger earlier run's captures are not part of this batch
        make_capture.manifest_path(extra).unlink(missing_ok=True)
    return folder, total


def vcaudit_command() -> list[str]:
    venv = REPO / ".venv" / "bin" / "vcaudit"
    found = str(venv) if venv.exists() else shutil.which("vcaudit")
    if found is None:
        raise MeasureError("vcaudit is not installed: run ./dev.sh setup first")
    return [found]


def check_batch(out: Path, count: int) -> None:
    record = json.loads((out / "batch.json").read_text())
    if not record["complete"] or record["failed"] or len(record["sessions"]) != count:
        raise MeasureError(f"the batch did not analyse all {count} captures: "
                           f"{len(record['sessions'])} sessions, {len(record['failed'])} failed")
    parts = list((out / "dataset" / "flows").glob("app=*/session=*/part-0.parquet"))
    if len(parts) != count:
        raise MeasureError(f"the dataset holds {len(parts)} sessions of {count}")


def measure_batch(captures: Path, count: int, repeat: int) -> dict[int, list[Run]]:
    runs: dict[int, list[Run]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory(prefix="vcaudit-batch-bench-") as scratch:
        for number in range(repeat):
            for jobs in (1, 2):  # alternate, so both see the same machine conditions
                out = Path(scratch) / f"out-{jobs}-{number}"
                command = [*vcaudit_command(), "batch", str(captures), "--out", str(out),
                           "--jobs", str(jobs), "--quiet"]
                runs[jobs].append(run_child(command, Path(scratch)))
                check_batch(out, count)
                shutil.rmtree(out)
    return runs


def measure_one(capture: Path, repeat: int) -> dict[str, list[Run]]:
    """`vcaudit analyze FILE` against `vcaudit batch FILE --jobs 1`, alternating."""
    runs: dict[str, list[Run]] = {"analyze": [], "batch": []}
    with tempfile.TemporaryDirectory(prefix="vcaudit-one-bench-") as scratch:
        for number in range(repeat):
            for kind in ("analyze", "batch"):
                out = Path(scratch) / f"{kind}-{number}"
                extra = ["--jobs", "1"] if kind == "batch" else []
                command = [*vcaudit_command(), kind, str(capture), "--out", str(out), "-q",
                           *extra]
                runs[kind].append(run_child(command, Path(scratch)))
                if kind == "batch":
                    check_batch(out, 1)
                shutil.rmtree(out)
    return runs


def report_one(runs: dict[str, list[Run]], packets: int) -> dict[str, dict[str, float]]:
    """Print analyze against a batch of one (medians; the highest peak) and return them."""
    print(f"one capture of {packets:,} packets (median of {len(runs['analyze'])}):")
    print(f"{'command':>12} {'seconds':>8} {'cpu s':>6} {'peak MB':>8}")
    medians = {}
    for kind, kind_runs in runs.items():
        row = Run(statistics.median(r.seconds for r in kind_runs),
                  statistics.median(r.cpu_seconds for r in kind_runs),
                  max(r.peak_mb for r in kind_runs))
        medians[kind] = row
        print(f"{kind:>12} {row.seconds:>8.2f} {row.cpu_seconds:>6.2f} {row.peak_mb:>8.0f}")
    added = medians["batch"].cpu_seconds / medians["analyze"].cpu_seconds - 1
    print(f"a batch of one adds {added:+.1%} CPU time and "
          f"{medians['batch'].peak_mb - medians['analyze'].peak_mb:+.0f} MB peak memory")
    return {kind: _plain(row) for kind, row in medians.items()}


def best(runs: list[Run]) -> Run:
    return min(runs, key=lambda r: r.seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--captures", type=int, default=20, help="captures in the batch")
    parser.add_argument("--packets", type=int, default=100_000, help="packets per capture")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; best time counts")
    parser.add_argument("--analyze-packets", type=int, default=1_000_000,
                        help="size of the capture for analyze against a batch of one "
                             "(0: skip it)")
    parser.add_argument("--min-speedup", type=float, default=1.5,
                        help="--jobs 2 must be this many times as fast as --jobs 1")
    parser.add_argument("--workdir", type=Path, default=BENCH / "out")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    args = parser.parse_args(argv)
    if args.captures < 2 or args.repeat < 1 or args.packets < 2000:
        parser.error("--captures at least 2, --repeat at least 1, --packets at least 2000")
    try:
        captures, packets = ensure_captures(args.captures, args.packets, args.workdir)
        batch = measure_batch(captures, args.captures, args.repeat)
    except MeasureError as exc:
        print(f"batch_speed: cannot measure: {exc}", file=sys.stderr)
        return 2
    one, two = best(batch[1]), best(batch[2])
    speedup = one.seconds / two.seconds
    print(f"batch: {args.captures} captures, {packets:,} packets in all; {os.cpu_count()} CPUs; "
          f"best of {args.repeat}")
    print(f"{'jobs':>4} {'seconds':>8} {'captures/s':>10} {'packets/s':>10} {'cpu s':>6} "
          f"{'peak MB':>8}")
    for jobs, row in ((1, one), (2, two)):
        print(f"{jobs:>4} {row.seconds:>8.2f} {args.captures / row.seconds:>10.2f} "
              f"{packets / row.seconds:>10,.0f} {row.cpu_seconds:>6.2f} {row.peak_mb:>8.0f}")
    print(f"--jobs 2 / --jobs 1: {speedup:.2f}x as fast", flush=True)
    failures = []
    if speedup < args.min_speedup:
        failures.append(f"--jobs 2 is {speedup:.2f}x as fast as --jobs 1, under "
                        f"{args.min_speedup}x")
    results: dict[str, object] = {"captures": args.captures, "packets": packets,
                                  "jobs_1": _plain(one), "jobs_2": _plain(two),
                                  "speedup": round(speedup, 3)}
    if args.analyze_packets:
        capture = args.workdir / f"bench-{args.analyze_packets}-seed1.pcap"
        ensure_capture(capture, args.analyze_packets, 1)  # bench/pcap_speed.py's capture
        try:
            one_capture = measure_one(capture, max(args.repeat, 5))
        except MeasureError as exc:
            print(f"batch_speed: cannot measure: {exc}", file=sys.stderr)
            return 2
        results["one_capture"] = report_one(one_capture, args.analyze_packets)
    if args.json:
        print(json.dumps(results, indent=2))
    for failure in failures:
        print(f"batch_speed: target missed: {failure}", file=sys.stderr)
    return 1 if failures else 0


def _plain(run: Run) -> dict[str, float]:
    return {"seconds": round(run.seconds, 3), "cpu_seconds": round(run.cpu_seconds, 3),
            "peak_mb": round(run.peak_mb, 1)}


if __name__ == "__main__":
    sys.exit(main())
