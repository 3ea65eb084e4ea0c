"""Whether this process can hand work to a fork of itself that runs on another core, and
forking and ending such a process.

Two stages of an audit do: reading a large capture (capture.background_read) and writing a
session's flow files (session.flow_files). Both fork, as the state they need (the open flow
store, the loaded catalog) is already in memory and is shared with the fork for free, and both
do their work in this process instead when forking would not pay.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading


def spare_core() -> bool:
    """Whether a forked process would run beside this one, safely: the platform forks
    processes (Linux: the only one where vcaudit forks), this process runs a single thread
    (a fork of a process with other threads, e.g. an audit run by a Dask worker, may deadlock
    on a lock one of them held), and it may run on more than one CPU (its affinity, which
    `taskset` and container limits narrow, not the machine's count)."""
    if sys.platform != "linux" or not hasattr(os, "fork") or threading.active_count() > 1:
        return False
    try:
        usable = len(os.sched_getaffinity(0))
    except OSError:
        usable = os.cpu_count() or 1
    return usable > 1


def fork() -> int:
    """os.fork, with every object alive now moved out of the garbage collector's sight
    first (gc.freeze): in the child, the collector would otherwise write to every shared
    object it walks, copying the pages they are on, and in both processes it would walk them
    again at each full collection and at exit, though they live as long as the process."""
    gc.freeze()
    return os.fork()


def stop(pid: int) -> None:
    """End a forked process whose work is no longer wanted, and reap it."""
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
