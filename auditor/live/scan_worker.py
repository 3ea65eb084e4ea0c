"""Scanning off the proxy's event loop: one worker thread takes scans so a large body never
holds up other connections, with a bounded queue so a burst cannot grow memory without end."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

MAX_PENDING = 64

FailureSink = Callable[[BaseException], None]


class BackgroundScanner:
    """Runs jobs on one worker thread; refuses new ones while `MAX_PENDING` are waiting."""

    def __init__(self, on_failure: FailureSink, max_pending: int = MAX_PENDING) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vcaudit-scan")
        self._on_failure = on_failure
        self._max_pending = max_pending
        self._pending = 0
        self._lock = threading.Lock()

    def submit(self, job: Callable[[], None]) -> bool:
        """Queue a job; False (and nothing queued) when the queue is full."""
        with self._lock:
            if self._pending >= self._max_pending:
                return False
            self._pending += 1
        self._pool.submit(job).add_done_callback(self._finished)
        return True

    def _finished(self, future: Future[None]) -> None:
        with self._lock:
            self._pending -= 1
        error = future.exception()
        if error is not None:
            self._on_failure(error)

    def drain(self) -> None:
        """Wait for every queued job, then stop the worker."""
        self._pool.shutdown(wait=True)
