"""One writer at a time for the warehouse: an exclusive file lock under the state directory."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class WarehouseBusyError(RuntimeError):
    """Another run holds the warehouse lock."""


@contextmanager
def warehouse_lock(home: Path, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold ``$CARDWATCH_HOME/warehouse.lock`` exclusively; the OS releases it if the process dies."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / "warehouse.lock"
    handle = path.open("a+")
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseBusyError(
                        f"{path}: another Cardwatch run is writing the warehouse; try again when it ends"
                    ) from None
                time.sleep(0.5)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()
