"""A mutation fuzzer for vcaudit's offline pipeline: captures (pcap, pcapng, .pcap.gz),
mitmproxy flow files and HAR files, mutated from seeds and run through analyze, report and the
terminal summary, each case in a forked child bounded in time and memory.

    .venv/bin/python tests/fuzz/run.py --seconds 1800 --seed 7 --out bench/out/fuzz
    .venv/bin/python tests/fuzz/run.py --replay bench/out/fuzz/crash-0123456789/input.pcap
    .venv/bin/python tests/fuzz/run.py --minimize bench/out/fuzz/crash-0123456789/input.pcap

A run is reproducible from its seed (the same seeds present): case N uses its own generator
seeded with "SEED-N". Every failing input is stored under --out (see crash_store) with the
commands that reproduce it; --summary writes the counts as JSON. The exit status is 1 when a
case failed. tests/test_fuzz_smoke.py runs a short pass of this script in the suite.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

# The fuzzer's own modules sit beside this script; `python -P` (as the suite runs it) does not
# put the script's folder on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from capture_mutations import gzipped, mutate_capture
from case_runner import Outcome, Pipeline, run_case
from crash_store import store
from seed_corpus import Seed, all_seeds
from tree_mutations import mutate_har, mutate_mitm

# Families in turn, so that even a short run covers all three: half captures, a quarter each
# flow files and HAR.
FAMILY_TURNS = ("capture", "mitm", "capture", "har")
MUTATORS = {"capture": mutate_capture, "mitm": mutate_mitm, "har": mutate_har}
MAX_INPUT = 8 << 20  # larger mutants are drawn again: they test speed, not robustness
GZIP_SHARE = 0.3


def capture_suffix(data: bytes) -> str:
    """.pcap or .pcapng (the content decides the format; the name only helps a reader)."""
    return ".pcapng" if data[:4] == b"\x0a\x0d\x0d\x0a" else ".pcap"


def make_case(seeds: dict[str, list[Seed]], seed: int, number: int
              ) -> tuple[bytes, str, dict[str, Any]]:
    """Case `number` of run `seed`: the mutated input, its file suffix and where it came from."""
    rng = random.Random(f"{seed}-{number}")
    families = [f for f in FAMILY_TURNS if seeds.get(f)]
    family = families[number % len(families)]
    while True:
        origin = rng.choice(seeds[family])
        donors = [s.data for s in seeds[family]]
        data, steps = origin.data, []
        for _ in range(rng.choice((1, 1, 2, 3, 4))):
            try:
                data, what = MUTATORS[family](rng, data, donors)
            except Exception as exc:  # noqa: BLE001 - a mutant the mutator cannot parse
                what = f"mutation skipped ({type(exc).__name__})"
            steps.append(what)
        suffix = capture_suffix(data) if family == "capture" else f".{family}"
        if family == "capture" and rng.random() < GZIP_SHARE:
            data, what = gzipped(rng, data)
            steps.append(what)
            suffix += ".gz"
        if len(data) <= MAX_INPUT:
            return data, suffix, {"family": family, "seed_file": origin.name, "run_seed": seed,
                                  "case": number, "mutations": steps}


def fuzz(seconds: float, max_cases: int | None, seed: int, out: Path, case_seconds: float,
         memory_mb: int, check_seeds: bool = True) -> dict[str, Any]:
    """Run cases until the time or the case count is used up; return the summary."""
    seeds = all_seeds()
    pipeline = ready_pipeline(seeds)
    started = time.monotonic()
    outcomes: Counter[str] = Counter()
    families: Counter[str] = Counter()
    by_family: dict[str, Counter[str]] = {family: Counter() for family in seeds}
    failures: dict[str, dict[str, Any]] = {}
    slowest = peak = 0.0
    for family, members in seeds.items():  # the seeds themselves first, unmutated
        for member in members if check_seeds else []:
            suffix = capture_suffix(member.data) if family == "capture" else f".{family}"
            outcome = run_case(pipeline, member.data, suffix, case_seconds, memory_mb)
            if outcome.failed:
                _record(failures, out, outcome, member.data, suffix,
                        {"family": family, "seed_file": member.name, "mutations": []})
    number = 0
    while time.monotonic() - started < seconds and (max_cases is None or number < max_cases):
        data, suffix, origin = make_case(seeds, seed, number)
        outcome = run_case(pipeline, data, suffix, case_seconds, memory_mb)
        number += 1
        families[origin["family"]] += 1
        outcomes[outcome.kind] += 1
        by_family[origin["family"]][outcome.kind] += 1
        slowest, peak = max(slowest, outcome.seconds), max(peak, outcome.memory_mb)
        if outcome.failed:
            _record(failures, out, outcome, data, suffix, origin)
    return {"seed": seed, "seconds": round(time.monotonic() - started, 1), "cases": number,
            "seeds": {f: len(m) for f, m in seeds.items()},
            "families": dict(families), "outcomes": dict(outcomes),
            "outcomes_by_family": {f: dict(c) for f, c in by_family.items()},
            "slowest_case_seconds": slowest, "peak_memory_mb": peak,
            "bounds": {"case_seconds": case_seconds, "memory_mb": memory_mb},
            "failures": sorted(failures.values(), key=lambda f: f["folder"])}


def ready_pipeline(seeds: dict[str, list[Seed]] | None = None) -> Pipeline:
    """The pipeline, warmed up on a seed of each family."""
    pipeline = Pipeline()
    pipeline.warm_up(_warm_up_inputs(seeds if seeds is not None else all_seeds()))
    return pipeline


def _warm_up_inputs(seeds: dict[str, list[Seed]]) -> list[tuple[bytes, str]]:
    """The first seed of each family, and the first capture gzipped."""
    inputs = []
    for family, members in seeds.items():
        if members:
            data = members[0].data
            inputs.append((data, capture_suffix(data) if family == "capture" else f".{family}"))
    if seeds.get("capture"):
        data = seeds["capture"][0].data
        inputs.append((_gzip(data),
                       capture_suffix(data) + ".gz"))
    return inputs


def _gzip(data: bytes) -> bytes:
    import gzip

    return gzip.compress(data, mtime=0)


def _record(failures: dict[str, dict[str, Any]], out: Path, outcome: Outcome, data: bytes,
            suffix: str, origin: dict[str, Any]) -> None:
    folder = store(out, outcome, data, suffix, origin)
    entry = failures.setdefault(outcome.signature, {
        "kind": outcome.kind, "signature": outcome.signature, "detail": outcome.detail,
        "folder": str(folder), "count": 0})
    entry["count"] += 1
    print(f"fuzz: {outcome.kind}: {outcome.detail} -> {folder}", file=sys.stderr)


def replay(paths: list[Path], case_seconds: float, memory_mb: int) -> int:
    """Run stored inputs again; 1 when one still fails."""
    pipeline = ready_pipeline()
    failed = False
    for path in paths:
        outcome = run_case(pipeline, path.read_bytes(), _suffix_of(path), case_seconds,
                           memory_mb)
        print(f"{path}: {outcome.kind} {outcome.detail} ({outcome.seconds} s, "
              f"{outcome.memory_mb} MB)")
        if outcome.failed:
            print(outcome.trace)
            failed = True
    return 1 if failed else 0


def minimize(path: Path, case_seconds: float, memory_mb: int) -> int:
    """Cut chunks out of a failing input while it fails with the same signature; the result
    goes beside it as NAME.min.SUFFIX."""
    pipeline = ready_pipeline()
    suffix = _suffix_of(path)
    data = path.read_bytes()
    target = run_case(pipeline, data, suffix, case_seconds, memory_mb)
    if not target.failed:
        print(f"{path}: does not fail ({target.kind})")
        return 0
    chunk = max(len(data) // 2, 1)
    while chunk >= 1:
        at, progressed = 0, False
        while at < len(data):
            candidate = data[:at] + data[at + chunk:]
            outcome = run_case(pipeline, candidate, suffix, case_seconds, memory_mb)
            if outcome.signature == target.signature:
                data, progressed = candidate, True
            else:
                at += chunk
        if not progressed:
            chunk //= 2
    small = path.with_name(path.name.split(".")[0] + ".min" + suffix)
    small.write_bytes(data)
    print(f"{small}: {len(data)} bytes, {target.kind}: {target.signature}")
    return 1


def _suffix_of(path: Path) -> str:
    name = path.name
    return name[name.index("."):] if "." in name else ""


def main(argv: list[str] | None = None) -> int:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="time budget of the run")
    parser.add_argument("--cases", type=int, default=None, help="stop after this many cases")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("bench/out/fuzz"),
                        help="folder for failing inputs")
    parser.add_argument("--summary", type=Path, help="write the run's counts here as JSON")
    parser.add_argument("--case-seconds", type=float, default=20.0, help="time bound of a case")
    parser.add_argument("--memory-mb", type=int, default=500,
                        help="memory bound of a case, over the parent process")
    parser.add_argument("--skip-seeds", action="store_true",
                        help="do not run the unmutated seeds first")
    parser.add_argument("--replay", type=Path, nargs="+", help="run stored inputs again")
    parser.add_argument("--minimize", type=Path, help="make a failing input smaller")
    args = parser.parse_args(argv)
    # Forking with OpenBLAS's idle threads is safe (it registers fork handlers).
    warnings.filterwarnings("ignore", "This process .* is multi-threaded")
    sys.setrecursionlimit(20_000)  # for writing deeply nested mutants; cases run at 1,000
    if args.replay:
        return replay(args.replay, args.case_seconds, args.memory_mb)
    if args.minimize:
        return minimize(args.minimize, args.case_seconds, args.memory_mb)
    summary = fuzz(args.seconds, args.cases, args.seed, args.out, args.case_seconds,
                   args.memory_mb, check_seeds=not args.skip_seeds)
    text = json.dumps(summary, indent=2)
    if args.summary:
        args.summary.write_text(text)
    print(text)
    return 1 if summary["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
