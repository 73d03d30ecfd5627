"""Members of a .tar.gz (or plain .tar) read in a chosen order, streaming, without unpacking.

A .tar.gz can only be decompressed front to back. :func:`tar_members_in_order` still yields the
selected members in the caller's order: a member met early is remembered by a saved decompressor
state (:class:`GzipCursor`, ~100 KB) and replayed when its turn comes, so a sorted archive costs
one pass and an unsorted one at most two, with bounded memory and nothing written to disk.
"""

from __future__ import annotations

import os
import tarfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from textgan.io.files import is_gzip

_CHUNK = 1 << 20

MemberChunks = tuple[str, Iterator[bytes]]
"""A member's name and its data as byte chunks (read them before asking for the next member)."""


class GzipCursor:
    """Forward reader of a gzip file's decompressed bytes whose position can be saved and restored.

    ``tarfile`` reads member headers through it; a saved state (a copy of the zlib decompressor
    plus a few buffers) lets a reader come back to a member later without re-reading the archive
    from the start.
    """

    _IN = 1 << 16
    _OUT = 1 << 16
    _HISTORY = 4096  # tarfile seeks back at most one byte; keep a little more

    def __init__(self, path: Path) -> None:
        self._file = open(path, "rb")  # closed by close()
        self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 16)
        self._buf = b""  # decompressed bytes at [pos, pos + len(buf))
        self._hist = b""  # decompressed bytes at [pos - len(hist), pos)
        self._pos = 0
        self._eof = False

    def close(self) -> None:
        self._file.close()

    def tell(self) -> int:
        return self._pos

    def _raw(self) -> bytes:
        return self._file.read(self._IN)

    def _fill(self) -> None:
        """Decompress some more into ``_buf`` or set ``_eof``."""
        while True:
            if self._zlib.eof:
                # Another gzip member may follow (concatenated gzip), possibly after zero padding.
                data = self._zlib.unused_data.lstrip(b"\0")
                while not data:
                    more = self._raw()
                    if not more:
                        self._eof = True
                        return
                    data = more.lstrip(b"\0")
                self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 16)
            elif self._zlib.unconsumed_tail:
                data = self._zlib.unconsumed_tail
            else:
                data = self._raw()
                if not data:
                    raise EOFError("the file ends before the end of the compressed stream")
            out = self._zlib.decompress(data, self._OUT)
            if out:
                self._buf += out  # _fill is only called with an empty buffer
                return

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            parts = []
            while chunk := self.read(_CHUNK):
                parts.append(chunk)
            return b"".join(parts)
        parts = []
        need = size
        while need > 0:
            if not self._buf:
                if self._eof:
                    break
                self._fill()
                continue
            part = self._buf[:need] if len(self._buf) > need else self._buf
            self._buf = self._buf[len(part) :]
            parts.append(part)
            need -= len(part)
        out = parts[0] if len(parts) == 1 else b"".join(parts)
        self._pos += len(out)
        self._hist = (self._hist + out)[-self._HISTORY :]
        return out

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        target = offset if whence == os.SEEK_SET else self._pos + offset
        if whence not in (os.SEEK_SET, os.SEEK_CUR):
            raise OSError("gzip cursor cannot seek from the end")
        if target < self._pos:
            back = self._pos - target
            if back > len(self._hist):
                raise OSError("gzip cursor cannot seek that far back")
            self._buf = self._hist[-back:] + self._buf
            self._hist = self._hist[:-back]
            self._pos = target
        while self._pos < target:
            if not self.read(min(target - self._pos, _CHUNK)):
                break
        return self._pos

    def save(self) -> tuple[Any, ...]:
        return (self._file.tell(), self._zlib.copy(), self._buf, self._hist, self._pos, self._eof)

    def restore(self, state: tuple[Any, ...]) -> None:
        file_pos, decompressor, self._buf, self._hist, self._pos, self._eof = state
        self._file.seek(file_pos)
        self._zlib = decompressor.copy()


def tar_members_in_order(
    path: Path, rank: Callable[[str], int | None], expected: Iterable[int]
) -> Iterator[MemberChunks]:
    """The regular-file members that ``rank`` numbers, in increasing number, as (name, chunks).

    ``rank(name)`` gives a member's place, or None to skip it; of several members with one
    number the first counts. ``expected`` lists the numbers that may occur: a member is yielded
    as soon as every smaller expected number has been, and reading stops once all have been.
    Raises ``tarfile.TarError``, ``zlib.error``, ``EOFError`` or ``OSError`` on a bad archive.
    """
    read = _gzip_members if is_gzip(path) else _plain_members
    return read(path, rank, set(expected))


def _plain_members(path: Path, rank: Callable[[str], int | None],
                   expected: set[int]) -> Iterator[MemberChunks]:
    # An uncompressed tar can be read in any order: list the headers, then read members in order.
    with tarfile.open(path, "r:") as archive:
        members: dict[int, tarfile.TarInfo] = {}
        for member in archive:
            number = rank(member.name) if member.isfile() else None
            if number is not None:
                members.setdefault(number, member)
        for number in sorted(members):
            member = members[number]
            fh = archive.extractfile(member)
            assert fh is not None  # regular files always have data
            yield member.name, iter(lambda fh=fh: fh.read(_CHUNK), b"")


def _member_chunks(cursor: GzipCursor, member: tarfile.TarInfo) -> Iterator[bytes]:
    cursor.seek(member.offset_data)
    remaining = member.size
    while remaining:
        chunk = cursor.read(min(remaining, _CHUNK))
        if not chunk:
            raise EOFError(f"member {member.name} is truncated")
        remaining -= len(chunk)
        yield chunk


def _gzip_members(path: Path, rank: Callable[[str], int | None],
                  expected: set[int]) -> Iterator[MemberChunks]:
    scan = GzipCursor(path)
    replay: GzipCursor | None = None
    saved: dict[int, tuple[tarfile.TarInfo, tuple[Any, ...]]] = {}
    seen: set[int] = set()
    done: set[int] = set()

    def is_next(number: int) -> bool:
        return all(n in done for n in expected if n < number)

    try:
        archive = tarfile.open(fileobj=scan, mode="r:")
        for member in archive:
            number = rank(member.name) if member.isfile() else None
            if number is None or number in seen:
                continue
            seen.add(number)
            if is_next(number):
                yield member.name, _member_chunks(scan, member)
                done.add(number)
                # Members met earlier may now be next in order.
                for n in sorted(saved):
                    if not is_next(n):
                        break
                    replay = replay or GzipCursor(path)
                    entry, state = saved.pop(n)
                    replay.restore(state)
                    yield entry.name, _member_chunks(replay, entry)
                    done.add(n)
            else:
                scan.seek(member.offset_data)
                saved[number] = (member, scan.save())
            if expected <= done:
                return  # every member read: no need to decompress the rest of the archive
        for n in sorted(saved):
            replay = replay or GzipCursor(path)
            entry, state = saved.pop(n)
            replay.restore(state)
            yield entry.name, _member_chunks(replay, entry)
    finally:
        scan.close()
        if replay is not None:
            replay.close()
