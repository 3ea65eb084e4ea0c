"""The proxy's scan worker: jobs run off the caller's thread, the queue is bounded, failures
are reported."""

from __future__ import annotations

import threading

from auditor.live.scan_worker import BackgroundScanner


def test_jobs_run_on_another_thread_and_a_full_queue_refuses() -> None:
    failures: list[BaseException] = []
    scanner = BackgroundScanner(failures.append, max_pending=2)
    release = threading.Event()
    ran: list[str] = []

    def blocked() -> None:
        release.wait(10)
        ran.append(threading.current_thread().name)

    assert scanner.submit(blocked)
    assert scanner.submit(blocked)
    assert not scanner.submit(blocked)  # two waiting: the third is refused, not queued
    release.set()
    scanner.drain()
    assert len(ran) == 2 and all(name.startswith("vcaudit-scan") for name in ran)
    assert failures == []


def test_a_failing_job_is_reported() -> None:
    failures: list[BaseException] = []
    scanner = BackgroundScanner(failures.append)

    def broken() -> None:
        raise ValueError("bad body")

    assert scanner.submit(broken)
    scanner.drain()
    assert [str(f) for f in failures] == ["bad body"]
