"""Atomic file writes: a reader (or a crash) sees the old file or the complete new one, never a torn one."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def fsync_dir(path: Path) -> None:
    """Flush a directory entry (a rename) to disk; a no-op where directories cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # some platforms cannot open directories; rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | Path, write: Callable[[BinaryIO], object]) -> None:
    """Write a file so that ``path`` holds either its old content or the complete new one.

    ``write(f)`` writes into a temporary file beside ``path``; it is flushed, fsynced and renamed
    over ``path`` (rename is atomic on POSIX), then the directory is fsynced. On any error (a full
    disk raises ``OSError`` here) the temporary file is removed, ``path`` is untouched and the
    error propagates for the caller to turn into a one-line message.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def atomic_write_text(path: str | Path, text: str) -> None:
    """:func:`atomic_write_bytes` of ``text`` encoded as UTF-8."""
    data = text.encode("utf-8")
    atomic_write_bytes(path, lambda f: f.write(data))
