"""Offline speed and memory: `vcaudit analyze` against tshark on the same large capture.

Run from the repository root as ``.venv/bin/python bench/pcap_speed.py`` (options: ``--help``).
It builds the benchmark capture with bench/make_capture.py into bench/out/ unless it is there
already, then, in the same run and alternating, times

* ``vcaudit analyze FILE --out DIR --quiet`` (the venv's vcaudit, the whole audit: reading,
  naming, classification and the report files), and
* ``tshark -r FILE -T fields -e ip.dst -e tls.handshake.extensions_server_name
  -e dns.qry.name`` (output to /dev/null),

each as its own child process: wall-clock seconds (best of --repeat runs; the CPU seconds of
that run are shown too) and peak resident memory (the child's own ru_maxrss from wait4, the
highest of the runs). It prints packets,
seconds, packets/s and peak MB for both and vcaudit's throughput as a multiple of tshark's,
and exits 1 if vcaudit is under --min-ratio times tshark's packets/s (default 5) or over
--max-rss-mb (default 150), 2 if it could not measure (tshark missing, a tool failed).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

import make_capture  # noqa: E402 - a sibling script, not a package

TSHARK_FIELDS = ["-T", "fields", "-e", "ip.dst", "-e", "tls.handshake.extensions_server_name",
                 "-e", "dns.qry.name"]


@dataclass(slots=True)
class Measurement:
    tool: str
    command: list[str]
    packets: int
    seconds: float  # best run, wall clock
    runs: list[float]
    cpu_seconds: float  # user + system time of that best run
    peak_mb: float  # highest of the runs

    @property
    def packets_per_second(self) -> float:
        return self.packets / self.seconds if self.seconds else 0.0


class MeasureError(RuntimeError):
    """A tool could not be run or failed."""


def run_child(command: list[str], cwd: Path | None = None) -> tuple[float, float, float]:
    """Run one command as a child of this process alone; its wall-clock seconds, its CPU
    seconds and its peak resident memory in MB (ru_maxrss of that child, from wait4)."""
    with tempfile.TemporaryFile() as errors:
        began = time.perf_counter()
        child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=errors, cwd=cwd)
        _pid, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - began
        child.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        stderr = errors.read()
    if child.returncode != 0:
        raise MeasureError(f"{command[0]} exited with {child.returncode}: "
                           f"{stderr.decode(errors='replace').strip()[-500:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, cpu, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def ensure_capture(packets: int, pcapng: bool, seed: int,
                   workdir: Path) -> tuple[Path, dict[str, Any]]:
    """The benchmark capture for these settings, built unless an identical one is there."""
    suffix = "pcapng" if pcapng else "pcap"
    path = workdir / f"bench-{packets}-seed{seed}.{suffix}"
    manifest_file = make_capture.manifest_path(path)
    if path.exists() and manifest_file.exists():
        summary = json.loads(manifest_file.read_text())
        if (summary.get("generator_version") == make_capture.GENERATOR_VERSION
                and summary.get("seed") == seed and path.stat().st_size > 0):
            return path, summary
    print(f"building {path} ({packets:,} packets) ...", file=sys.stderr)
    manifest_file.unlink(missing_ok=True)  # written last: a cut-off build is never reused
    began = time.perf_counter()
    manifest = make_capture.build_capture(path, packets, pcapng, seed)
    summary = manifest.summary()
    summary["generation_seconds"] = round(time.perf_counter() - began, 2)
    manifest_file.write_text(json.dumps(summary, indent=2) + "\n")
    return path, summary


def warm_page_cache(path: Path) -> None:
    """Read the file once so neither tool pays for the first read from disk."""
    with path.open("rb") as handle:
        while handle.read(1 << 24):
            pass


def vcaudit_command() -> str:
    venv = REPO / ".venv" / "bin" / "vcaudit"
    if venv.exists():
        return str(venv)
    found = shutil.which("vcaudit")
    if found is None:
        raise MeasureError("vcaudit is not installed: run ./dev.sh setup first")
    return found


def check_vcaudit_output(folder: Path, packets: int) -> None:
    """The audit must have read the whole capture, or its time means nothing."""
    meta = json.loads((folder / "session.json").read_text())
    read = meta.get("coverage", {}).get("packets")
    if read != packets:
        raise MeasureError(f"vcaudit read {read} packets of {packets}")


def measure(capture: Path, packets: int, repeat: int) -> tuple[Measurement, Measurement]:
    tshark = shutil.which("tshark")
    if tshark is None:
        raise MeasureError("tshark is not installed (apt-get install tshark)")
    vcaudit = vcaudit_command()
    tshark_cmd = [tshark, "-r", str(capture), *TSHARK_FIELDS]
    results: dict[str, list[tuple[float, float, float]]] = {"vcaudit": [], "tshark": []}
    with tempfile.TemporaryDirectory(prefix="vcaudit-bench-") as scratch:
        for run in range(repeat):  # alternate, so both see the same machine conditions
            out = Path(scratch) / f"session-{run}"
            vc_cmd = [vcaudit, "analyze", str(capture), "--out", str(out), "--quiet"]
            results["vcaudit"].append(run_child(vc_cmd, cwd=Path(scratch)))
            check_vcaudit_output(out, packets)
            shutil.rmtree(out)
            results["tshark"].append(run_child(tshark_cmd, cwd=Path(scratch)))
    generic_vc = ["vcaudit", "analyze", "FILE", "--out", "DIR", "--quiet"]
    generic_ts = ["tshark", "-r", "FILE", *TSHARK_FIELDS]
    vc, ts = (_summarise(tool, command, packets, results[tool])
              for tool, command in (("vcaudit", generic_vc), ("tshark", generic_ts)))
    return vc, ts


def _summarise(tool: str, command: list[str], packets: int,
               runs: list[tuple[float, float, float]]) -> Measurement:
    best = min(runs)
    return Measurement(tool, command, packets, best[0], [round(r[0], 3) for r in runs], best[1],
                       max(r[2] for r in runs))


def table(rows: list[Measurement], ratio: float) -> str:
    lines = [f"{'tool':<8} {'packets':>11} {'seconds':>8} {'packets/s':>11} {'peak MB':>8} "
             f"{'cpu s':>6}"]
    for row in rows:
        lines.append(f"{row.tool:<8} {row.packets:>11,} {row.seconds:>8.2f} "
                     f"{row.packets_per_second:>11,.0f} {row.peak_mb:>8.0f} "
                     f"{row.cpu_seconds:>6.2f}")
    lines.append(f"vcaudit/tshark throughput: {ratio:.2f}x")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--packets", type=int, default=1_000_000,
                        help="size of the capture (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool; best time counts")
    parser.add_argument("--pcapng", action="store_true", help="benchmark a pcapng file")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated session")
    parser.add_argument("--workdir", type=Path, default=BENCH / "out",
                        help="where the capture is kept (default bench/out/, gitignored)")
    parser.add_argument("--min-ratio", type=float, default=5.0,
                        help="vcaudit packets/s needed, as a multiple of tshark's (default 5)")
    parser.add_argument("--max-rss-mb", type=float, default=150.0,
                        help="vcaudit's peak memory limit in MB (default 150)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.packets < 2000:
        parser.error("--repeat must be at least 1 and --packets at least 2000")

    capture, summary = ensure_capture(args.packets, args.pcapng, args.seed, args.workdir)
    packets = summary["packets"]
    warm_page_cache(capture)
    try:
        vc, ts = measure(capture, packets, args.repeat)
    except MeasureError as exc:
        print(f"pcap_speed: cannot measure: {exc}", file=sys.stderr)
        return 2
    ratio = vc.packets_per_second / ts.packets_per_second
    print(f"capture: {capture} ({capture.stat().st_size / 1e6:,.0f} MB, {packets:,} packets, "
          f"{summary['flows']:,} flows; {os.cpu_count()} CPUs; best of {args.repeat})")
    print(table([vc, ts], ratio))
    failures = []
    if ratio < args.min_ratio:
        failures.append(f"vcaudit reads {ratio:.2f}x tshark's packets/s, under the "
                        f"{args.min_ratio:g}x target")
    if vc.peak_mb >= args.max_rss_mb:
        failures.append(f"vcaudit's peak memory {vc.peak_mb:.0f} MB is over the "
                        f"{args.max_rss_mb:g} MB target")
    if args.json:
        print(json.dumps({
            "capture": str(capture), "file_format": summary["file_format"],
            "file_bytes": capture.stat().st_size, "packets": packets, "flows": summary["flows"],
            "repeat": args.repeat, "cpus": os.cpu_count(),
            "results": [dict(asdict(m), packets_per_second=round(m.packets_per_second))
                        for m in (vc, ts)],
            "ratio": round(ratio, 3),
            "targets": {"min_ratio": args.min_ratio, "max_rss_mb": args.max_rss_mb},
            "passed": not failures,
        }, indent=2))
    for failure in failures:
        print(f"pcap_speed: FAILED: {failure}", file=sys.stderr)
    if not failures:
        print(f"targets met: >= {args.min_ratio:g}x tshark's packets/s, "
              f"peak < {args.max_rss_mb:g} MB")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
