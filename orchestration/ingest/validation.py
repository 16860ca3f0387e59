"""Great Expectations validation beside the load.

Importing Great Expectations takes about 6 s, validating a source's rows a few more. When this process
has not imported it yet, one worker process (spawned once, kept for the life of this process) imports it
and validates each source's rows while this process reads, types and writes the other sources: on two
cores, the ingest takes the longer of the two instead of their sum. A process that has imported it
already (a long-running one that validated before) validates inline. The results are the same either
way: the worker runs the same `failing_rows` on a copy of the same frame, and the rows it names are
quarantined here, in load order, before each file is written.
"""

from __future__ import annotations

import logging
import multiprocessing
import sys
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime

import pandas as pd

from orchestration.ingest.expectations import failing_rows, warm_up

log = logging.getLogger(__name__)

Failures = dict[int, list[str]]

_worker: ProcessPoolExecutor | None = None


def _pool() -> ProcessPoolExecutor:
    global _worker
    if _worker is None:
        _worker = ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=warm_up
        )
    return _worker


def in_worker() -> bool:
    """Whether the next validation goes to the worker (Great Expectations not imported here)."""
    return "great_expectations" not in sys.modules


def start() -> None:
    """Start the worker's import now, so it runs while the first files are read."""
    if in_worker():
        _pool()


class Validation:
    """One source's pending validation: ``result()`` gives ``{row position: [reasons]}``."""

    def __init__(self, source_name: str, frame: pd.DataFrame | None, now: datetime) -> None:
        self.source_name, self.frame, self.now = source_name, frame, now
        self._future: Future[Failures] | None = None
        self._failures: Failures | None = None
        if frame is None or frame.empty:
            self._failures = {}
        elif in_worker():
            try:
                self._future = _pool().submit(failing_rows, source_name, frame, now)
            except BrokenProcessPool:
                self._failures = self._inline()
        else:
            self._failures = failing_rows(source_name, frame, now)

    def done(self) -> bool:
        """Whether `result` returns without waiting."""
        return self._future is None or self._future.done()

    def result(self) -> Failures:
        if self._failures is None:
            assert self._future is not None and self.frame is not None
            try:
                self._failures = self._future.result()
            except BrokenProcessPool:
                self._failures = self._inline()
        self.frame = None
        return self._failures

    def _inline(self) -> Failures:
        """The worker died (killed, out of memory): validate in this process instead, same result."""
        assert self.frame is not None
        log.warning("validation worker stopped; validating %s in this process", self.source_name)
        _reset()
        return failing_rows(self.source_name, self.frame, self.now)


def _reset() -> None:
    global _worker
    if _worker is not None:
        _worker.shutdown(wait=False, cancel_futures=True)
    _worker = None
