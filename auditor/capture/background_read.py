"""A large capture read in another process, while this one gets ready for what follows.

Reading a capture (capture.reading) is one busy core. On a machine with two cores or more,
a capture large enough for it to pay is read by a fork of this process: it writes the named
flows into a flow store this process opened (flow_spill.FlowStore, an unnamed temporary file
both share) and sends back, pickled through a pipe, everything else it read. Meanwhile this
process runs `while_reading` (the session loads its address database and the public suffix
list, which classifying and reporting the flows need next) and shows the reader's progress.
The result is the same as reading in this process; a reader that fails or dies makes the
capture be read again here (in pieces, not through mapped windows: a file cut short under a
mapped window ends the process that reads it), which then fails the same way if the input is
the cause.
"""

from __future__ import annotations

import mmap
import os
import pickle
import select
import struct
from collections.abc import Callable
from pathlib import Path

from auditor.capture.flow_spill import FlowStore, StoreIndex
from auditor.capture.reader import ProgressCallback
from auditor.capture.reading import CaptureReading, read_capture
from auditor.cores import fork, spare_core, stop
from auditor.personal_data.scan import ScanContext

BACKGROUND_FROM = 32 << 20  # bytes: smaller captures are read in this process
PROGRESS_EVERY = 0.25  # seconds between progress reports while the reader reads
_POSITION = struct.Struct("qqq")  # bytes read, file size, packets read


def worth_reading_apart(path: Path) -> bool:
    """Whether this capture should be read by another process: it is large and a fork of this
    process would have a core of its own (cores.spare_core)."""
    try:
        size = path.stat().st_size
    except OSError:
        return False
    return size >= BACKGROUND_FROM and spare_core()


def read_in_background(path: Path, flow_id_prefix: str = "F",
                       progress: ProgressCallback | None = None,
                       scan: ScanContext | None = None,
                       while_reading: Callable[[], None] | None = None) -> CaptureReading:
    """The capture read as capture.reading.read_capture reads it, by a forked process, while
    this one runs `while_reading`."""
    shared = mmap.mmap(-1, _POSITION.size)  # the reader's progress
    store = FlowStore()
    try:
        pid, pipe = _start(path, flow_id_prefix, scan, store, shared)
        try:
            if while_reading is not None:
                while_reading()
            payload = _collect(pid, pipe, shared, progress)
        except BaseException:
            stop(pid)
            raise
        finally:
            os.close(pipe)
    except BaseException:
        store.close()
        raise
    finally:
        shared.close()
    if payload is None:  # the reader failed: read here, in pieces (if the file was cut short
        store.close()  # under a mapped window, reading it so would end this process too)
        return read_capture(path, flow_id_prefix, progress, scan, mapped=False)
    reading, index = payload
    store.adopt(index)
    reading.flows = store
    return reading


def _start(path: Path, prefix: str, scan: ScanContext | None, store: FlowStore,
           shared: mmap.mmap) -> tuple[int, int]:
    """Fork the reader; its pid and the pipe its result comes through."""
    read_end, write_end = os.pipe()
    pid = fork()
    if pid == 0:  # the reader: never returns
        status = 1
        try:
            os.close(read_end)

            def report(position: int, size: int, packets: int) -> None:
                shared[:_POSITION.size] = _POSITION.pack(position, size, packets)

            reading = read_capture(path, prefix, report, scan, store)
            store.flush()
            reading.flows = []
            payload = pickle.dumps((reading, store.handover()),
                                   protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as out:
                out.write(payload)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    return pid, read_end


def _collect(pid: int, pipe: int, shared: mmap.mmap,
             progress: ProgressCallback | None) -> tuple[CaptureReading, StoreIndex] | None:
    """The reader's result (None if it failed), reporting its progress meanwhile."""
    received = bytearray()
    while True:
        ready, _, _ = select.select([pipe], [], [], PROGRESS_EVERY)
        if ready:
            chunk = os.read(pipe, 1 << 20)
            if not chunk:
                break
            received += chunk
        if progress is not None:
            position, size, packets = _POSITION.unpack(shared[:_POSITION.size])
            if size:
                progress(position, size, packets)
    _pid, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0 or not received:
        return None
    reading, index = pickle.loads(bytes(received))
    assert isinstance(reading, CaptureReading)
    return reading, index
