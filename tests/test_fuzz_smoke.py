"""The mutation fuzzer (tests/fuzz/run.py) in the suite: a short pass with a fixed seed over
captures, flow files and HAR files finds no crash, hang, memory blow-up or unsafe terminal
text; and the fuzzer does catch and store a failure, with the command that replays it."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

FUZZ = Path(__file__).resolve().parent / "fuzz"
RUNNER = FUZZ / "run.py"
SMOKE_SECONDS = 60
SMOKE_SEED = 1
# Failures the fuzzer finds that wait for a fix in code being changed elsewhere, by signature,
# each with a strict xfail test in test_fuzz_regressions.py. None is open.
KNOWN_OPEN: dict[str, str] = {}


def fuzz(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(RUNNER), *args], capture_output=True,
                          text=True, timeout=timeout, check=False)


def load(name: str) -> ModuleType:
    """A module of tests/fuzz, as the runner imports it (its folder on the path)."""
    if str(FUZZ) not in sys.path:
        sys.path.insert(0, str(FUZZ))
    spec = importlib.util.spec_from_file_location(name, FUZZ / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_a_short_fuzzing_pass_finds_nothing(tmp_path: Path) -> None:
    summary_path = tmp_path / "summary.json"
    result = fuzz("--seconds", str(SMOKE_SECONDS), "--seed", str(SMOKE_SEED),
                  "--out", str(tmp_path / "failures"), "--summary", str(summary_path),
                  timeout=SMOKE_SECONDS + 50)
    assert result.returncode in (0, 1), result.stderr[-3000:]
    summary = json.loads(summary_path.read_text())
    new = [f for f in summary["failures"] if f["signature"] not in KNOWN_OPEN]
    stored = "\n\n".join((Path(f["folder"]) / "REPRODUCE.txt").read_text()[:3000]
                         for f in new)
    assert new == [], stored
    assert summary["cases"] >= 12, summary  # 35 to 600 a minute, by the load
    assert set(summary["families"]) == {"capture", "mitm", "har"}, summary
    assert summary["outcomes"].get("ok", 0) > summary["cases"] // 4, summary


def test_a_case_over_its_time_bound_is_stored_with_a_replay_command(tmp_path: Path) -> None:
    out = tmp_path / "failures"
    result = fuzz("--cases", "2", "--skip-seeds", "--case-seconds", "0.001", "--out", str(out),
                  "--summary", str(tmp_path / "summary.json"), timeout=120)
    assert result.returncode == 1
    summary = json.loads((tmp_path / "summary.json").read_text())
    kinds = {failure["kind"] for failure in summary["failures"]}
    assert "hang" in kinds, summary
    folder = Path(next(f["folder"] for f in summary["failures"] if f["kind"] == "hang"))
    info = json.loads((folder / "info.json").read_text())
    kept = folder / info["input"]
    assert kept.stat().st_size == info["input_bytes"] > 0
    assert f"--replay {kept}" in (folder / "REPRODUCE.txt").read_text()
    replayed = fuzz("--replay", str(kept), "--case-seconds", "0.001", timeout=120)
    assert replayed.returncode == 1 and f"{kept}: hang" in replayed.stdout


def test_exceptions_are_judged_by_the_exit_code_they_would_give() -> None:
    from auditor.errors import InputError

    case_runner = load("case_runner")
    assert case_runner.judge(None).kind == "ok"
    assert case_runner.judge(InputError("x.pcap: not a capture")).kind == "rejected"
    assert case_runner.judge(InputError("bad \x1b[2J name")).kind == "error-text"
    assert case_runner.judge(InputError("two\nlines")).kind == "error-text"
    try:
        int("not a number")
    except ValueError as exc:
        crash = case_runner.judge(exc)
    assert crash.kind == "crash" and crash.failed
    assert crash.signature.startswith("ValueError:") and "ValueError" in crash.trace
    assert case_runner.judge(MemoryError()).kind == "memory"


@pytest.mark.parametrize("name", ["teams-linux-any.pcap", "zoom-desktop-call.pcapng"])
def test_capture_mutations_find_the_records(name: str) -> None:
    capture_mutations = load("capture_mutations")
    seed_corpus = load("seed_corpus")
    data = (Path(__file__).resolve().parents[1] / "captures" / name).read_bytes()
    cut = seed_corpus.cut_capture(data, 64 * 1024)
    shape = capture_mutations.layout(cut)
    assert shape is not None and len(shape.records) > 10
    last_at, last_size = shape.records[-1]
    assert last_at + last_size == len(cut) <= 64 * 1024  # cut on a record boundary


def test_a_case_is_the_same_every_time_from_its_seed_and_number() -> None:
    run = load("run")
    first, second = run.all_seeds(), run.all_seeds()
    cases = [(run.make_case(first, 7, number), run.make_case(second, 7, number))
             for number in range(12)]
    assert all(one == other for one, other in cases)
    assert {origin["family"] for (_, _, origin), _ in cases} == {"capture", "mitm", "har"}
    assert len({data for (data, _, _), _ in cases}) == 12  # every case mutated differently
