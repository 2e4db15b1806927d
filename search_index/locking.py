"""One writer at a time per index file, across threads and processes.

A rebuild loads new tables and swaps them in at the end; a change written
to the old tables meanwhile (say by the portal's background sync in another
gunicorn worker) would vanish with the swap.  So every write, rebuild
included, holds an exclusive ``flock`` on ``search.sqlite3.lock``: other
writers wait and then write into the new tables.  Searches never lock.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import IO

try:
    import fcntl
except ImportError:  # Windows: only the in-process lock applies
    fcntl = None  # type: ignore[assignment]


class WriteLock:
    """Reentrant within a thread; exclusive across threads and processes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._rlock = threading.RLock()
        self._depth = 0
        self._file: IO[bytes] | None = None

    def __enter__(self) -> WriteLock:
        self._rlock.acquire()
        try:
            if self._depth == 0 and fcntl is not None:
                self._file = open(self.path, "a+b")  # noqa: SIM115 - closed in __exit__
                fcntl.flock(self._file, fcntl.LOCK_EX)
        except BaseException:
            self._release_file()
            self._rlock.release()
            raise
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._release_file()
        self._rlock.release()

    def _release_file(self) -> None:
        if self._file is not None:
            self._file.close()  # closing releases the flock
            self._file = None
