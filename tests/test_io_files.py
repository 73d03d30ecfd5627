"""textgan.io: atomic writes, file digests, the gzip check."""

from __future__ import annotations

import errno
import gzip
import hashlib
from pathlib import Path

import pytest

from textgan.io.atomic import atomic_write_bytes, atomic_write_text
from textgan.io.files import file_digest, is_gzip


def test_atomic_write_replaces_whole_file(tmp_path: Path):
    path = tmp_path / "f.txt"
    atomic_write_text(path, "old ünïcode\n")
    atomic_write_bytes(path, lambda f: f.write(b"new"))
    assert path.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]
    atomic_write_text(path, "é\n")
    assert path.read_bytes() == "é\n".encode()


def test_full_disk_keeps_the_old_file_and_no_temporary(tmp_path: Path):
    path = tmp_path / "f.txt"
    path.write_text("old")

    def write_then_fill_disk(f):
        f.write(b"half of the new cont")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        atomic_write_bytes(path, write_then_fill_disk)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


@pytest.mark.parametrize("algorithm", ["md5", "sha256"])
def test_file_digest_reports_progress(tmp_path: Path, algorithm: str):
    data = bytes(range(256)) * 40_000  # > one read chunk
    path = tmp_path / "blob"
    path.write_bytes(data)
    calls: list[tuple[str, int, int | None]] = []
    assert file_digest(path, algorithm, lambda *a: calls.append(a)) == hashlib.new(
        algorithm, data).hexdigest()
    assert calls[-1] == (f"{algorithm} blob", len(data), len(data)) and len(calls) > 1


def test_is_gzip_looks_at_content_not_name(tmp_path: Path):
    (tmp_path / "packed.txt").write_bytes(gzip.compress(b"x"))
    (tmp_path / "plain.gz").write_bytes(b"plain")
    (tmp_path / "empty").write_bytes(b"")
    assert is_gzip(tmp_path / "packed.txt")
    assert not is_gzip(tmp_path / "plain.gz") and not is_gzip(tmp_path / "empty")
