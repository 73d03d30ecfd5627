"""Small file facts: a digest with progress, whether a file is gzip-compressed, and the parts of
a path that say nothing about the machine it is on."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from textgan.io.progress import ProgressFn

GZIP_MAGIC = b"\x1f\x8b"
_HASH_CHUNK = 1 << 22
# "/...", "~...", "C:\\..." or "C:/...", "\\\\server\\share": a path that means something on one machine only
_LOCAL_PATH = re.compile(r"^(/|~|[A-Za-z]:[\\/]|\\\\)")


def base_name(spec: str) -> str:
    """The last part of a file, directory or glob path, POSIX or Windows
    (``/home/me/texts/*.txt`` → ``*.txt``, ``C:\\data\\train.txt`` → ``train.txt``)."""
    return re.split(r"[\\/]", spec.rstrip("/\\"))[-1] or spec


def is_local_path(text: str) -> bool:
    """``text`` is an absolute or home-relative path (it names a place on one machine)."""
    return bool(_LOCAL_PATH.match(text))


def is_gzip(path: str | Path) -> bool:
    """True if the file starts with the gzip magic bytes (its name is not consulted)."""
    with open(path, "rb") as fh:
        return fh.read(len(GZIP_MAGIC)) == GZIP_MAGIC


def file_digest(path: str | Path, algorithm: str = "sha256", progress: ProgressFn | None = None,
                description: str | None = None) -> str:
    """Hex digest of a file with any :mod:`hashlib` algorithm, reporting bytes hashed."""
    path = Path(path)
    digest = hashlib.new(algorithm, usedforsecurity=False)  # md5 is a published checksum, not security
    total = path.stat().st_size
    done = 0
    desc = description or f"{algorithm} {path.name}"
    with open(path, "rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if progress is not None:
                progress(desc, done, total)
    return digest.hexdigest()
