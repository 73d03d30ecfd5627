"""Small file facts: a digest with progress, and whether a file is gzip-compressed."""

from __future__ import annotations

import hashlib
from pathlib import Path

from textgan.io.progress import ProgressFn

GZIP_MAGIC = b"\x1f\x8b"
_HASH_CHUNK = 1 << 22


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
