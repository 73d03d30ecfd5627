"""An exclusive inter-process lock on a path, so two runs never prepare the same thing at once.

Two ``textgan train`` processes (or the ranks of a ``torchrun`` job) that need the same prepared
corpus must not both write its ``.partial`` directory: one would delete the other's files. The
second waits here, then finds the first one's finished result.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no flock; preparation there is not guarded against concurrency
    fcntl = None  # type: ignore[assignment]


@contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created if needed, removed on release).

    The lock file is unlinked on release so nothing is left behind. That opens a race — a waiter
    may get the lock on the unlinked inode while a newcomer creates a fresh file — so after
    acquiring, the holder checks the path still names the inode it locked, and retries if not.
    """
    if fcntl is None:
        yield
        return
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # locked a file that was unlinked meanwhile: try again
    try:
        yield
    finally:
        with suppress(OSError):
            os.unlink(path)
        os.close(fd)
