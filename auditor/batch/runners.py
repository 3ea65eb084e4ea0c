"""Running a batch's sessions: here, in local worker processes, or on a Dask cluster. Each
runner yields one `SessionResult` per job as the jobs finish (in any order), so the caller can
show progress and failures as they come.

Local worker processes are forks of this process when that is safe (Linux, one thread: they
start at once, with the analysis imported and the catalog loaded), else come from a
forkserver and import and load them once each; each takes capture after capture, and at
most `workers` captures are in flight at a time. If a
worker process dies (killed, out of memory), the captures it may have held are run again one
at a time in a fresh process, so the one that kills its worker is the one reported, and the
rest of the batch goes on.

On a Dask cluster (`distributed`, the `vcaudit[cluster]` extra) each capture is one task
running the same function on whichever worker the scheduler picks; the workers write the
session folders and the dataset on the shared path, and the scheduler reruns a task whose
worker died (Dask's own `allowed-failures`).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from auditor.batch.dataset import discard_session
from auditor.batch.job import BatchSettings, SessionJob, SessionResult, run_session
from auditor.errors import UsageError

Run = Callable[[SessionJob, BatchSettings], SessionResult]
WORKER_DIED = ("the worker process analysing it died (killed, or out of memory); the other "
               "captures went on")
CONNECT_SECONDS = 20


def run_local(jobs: list[SessionJob], settings: BatchSettings, workers: int,
              run: Run = run_session) -> Iterator[SessionResult]:
    """The sessions run in this process (`workers` 1) or in that many worker processes."""
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield run(job, settings)
        return
    suspects: list[SessionJob] = []
    yield from _pool(jobs, settings, workers, run, suspects)
    for job in suspects:  # alone in a fresh process: a second death is its own
        discard_session(job.root, job.name)  # whatever the dead worker left half-written
        retried: list[SessionJob] = []
        yield from _pool([job], settings, 1, run, retried)
        if retried:
            discard_session(job.root, job.name)
            yield SessionResult(str(job.path), job.name, None, WORKER_DIED, "worker")


def _pool(jobs: list[SessionJob], settings: BatchSettings, workers: int, run: Run,
          suspects: list[SessionJob]) -> Iterator[SessionResult]:
    """Run jobs with at most `workers` in flight; the jobs in flight when a worker died go to
    `suspects`, and the rest go on in a fresh pool."""
    waiting = list(reversed(jobs))
    while waiting:
        context = multiprocessing.get_context(start_method())
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            running: dict[Future[SessionResult], SessionJob] = {}
            broken = False
            while (waiting or running) and not broken:
                while waiting and len(running) < workers:
                    job = waiting.pop()
                    running[pool.submit(run, job, settings)] = job
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        broken = True
                        continue
                    del running[future]
                    yield result
            if broken:
                for future, job in running.items():
                    if future.done() and future.exception() is None:
                        yield future.result()  # finished just before the pool broke
                    else:
                        suspects.append(job)


def connect(address: str) -> Any:
    """A client of the Dask scheduler at `address` (`tcp://HOST:PORT`). Raises UsageError
    when distributed is not installed or no scheduler answers there."""
    try:
        from distributed import Client
    except ImportError as exc:
        raise UsageError("--scheduler needs Dask's distributed package: pip install "
                         "'vcaudit[cluster]'") from exc
    try:
        return Client(address, timeout=CONNECT_SECONDS,  # type: ignore[no-untyped-call]
                      set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise UsageError(f"cannot connect to the Dask scheduler at {address}: "
                         f"{' '.join(str(exc).split())[:200]}") from exc


def start_method() -> str:
    """How worker processes start: on Linux, forked from this process while it has one
    thread (they then start at once, with the analysis imported and the catalog loaded);
    otherwise from a forkserver that imports nothing heavy, since forking a process that has
    other threads (pyarrow and numpy start native ones) can deadlock the child."""
    if sys.platform.startswith("linux") and _threads() == 1:
        import auditor.batch.dataset
        import auditor.compare.view
        import auditor.session.offline
        import auditor.session.session_audit  # noqa: F401 - imported once, here, for every worker

        if _threads() == 1:
            return "fork"
    return "forkserver"


def _threads() -> int:
    """This process's threads as the kernel counts them (native ones too)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count() + 1  # unknown: assume more than one


def run_on_cluster(jobs: list[SessionJob], settings: BatchSettings,
                   client: Any) -> Iterator[SessionResult]:
    """The sessions as tasks on the cluster of a `connect`ed client (closed at the end)."""
    from distributed import as_completed

    batch = uuid.uuid4().hex[:12]
    with client:
        futures = [client.submit(run_session, job, settings, pure=False,
                                 key=f"vcaudit-{batch}-{job.name}") for job in jobs]
        by_key = {future.key: job for future, job in zip(futures, jobs, strict=True)}
        for future in as_completed(futures, loop=client.loop):  # type: ignore[no-untyped-call]
            job = by_key[future.key]
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - a task the cluster gave up on
                result = SessionResult(str(job.path), job.name, None,
                                       f"the cluster could not run it: {type(exc).__name__}: "
                                       f"{' '.join(str(exc).split())[:200]}", "worker")
            future.release()  # the cluster forgets the result once it is here
            yield result
