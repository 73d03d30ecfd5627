"""One downloader: HTTP Range resume, a checksum of any :mod:`hashlib` algorithm, progress.

``download(url, dest, checksum=Checksum("sha256", "..."))`` writes ``<dest>.part``, resuming it
with a Range request if an earlier attempt was interrupted, checks its size and checksum, then
renames it to ``dest`` (atomic: a reader never sees a half-downloaded file). A download whose
checksum does not match is deleted. What was checked is recorded in ``<dest>.verified.json``
(keyed on size and mtime), so a later call finds ``dest`` verified without re-hashing it; an
existing ``dest`` that fails its check is moved aside to ``<dest>.corrupt`` (it may not be ours
to delete). Without a published checksum, the sha256 of the first complete download is the
reference later calls check against. Every failure is one :class:`~textgan.errors.DownloadError`
line.
"""

from __future__ import annotations

import http.client
import json
import os
import urllib.error
import urllib.request
from contextlib import suppress
from pathlib import Path
from typing import Any, NamedTuple

from textgan._version import __version__
from textgan.errors import DownloadError
from textgan.io.atomic import atomic_write_text
from textgan.io.files import file_digest
from textgan.io.progress import ProgressFn

_CHUNK = 1 << 20
_RETRY = "check your connection and run again (the download resumes)"


class Checksum(NamedTuple):
    """The digest a file's publisher states: a :mod:`hashlib` algorithm name and its hex value."""

    algorithm: str
    hexdigest: str


def download(
    url: str,
    dest: str | Path,
    *,
    checksum: Checksum | None = None,
    size: int | None = None,
    progress: ProgressFn | None = None,
    timeout: float = 60.0,
    hint: str = "",
) -> Path:
    """Download ``url`` to ``dest`` unless it is there and verified already; return ``dest``.

    ``size`` (bytes) and ``checksum`` are checked when given. ``hint`` ends every error message
    (e.g. where to put a file downloaded by hand).
    """
    dest = Path(dest)
    if dest.exists():
        digest = verified_digest(dest, checksum=checksum, size=size, progress=progress)
        _write_marker(dest, digest, checksum)  # a file put there by hand is hashed only once
        return dest
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DownloadError(_message(f"cannot create download directory {dest.parent}: "
                                     f"{err.strerror or err}", hint)) from None
    part = dest.with_name(dest.name + ".part")
    _fetch(url, part, size=size, progress=progress, timeout=timeout, hint=hint)
    got = part.stat().st_size
    if size is not None and got < size:
        raise DownloadError(_message(f"could not download {url}: it stopped at {got} of {size} "
                                     f"bytes; {_RETRY}", hint))
    digest = _verify(part, dest, checksum=checksum, size=size, progress=progress, source=url,
                     hint=hint)
    os.replace(part, dest)
    _write_marker(dest, digest, checksum)
    return dest


def verified_digest(
    path: str | Path,
    *,
    checksum: Checksum | None = None,
    size: int | None = None,
    progress: ProgressFn | None = None,
) -> str:
    """Check an existing file against ``size`` and ``checksum``; return its hex digest.

    The digest is in the checksum's algorithm (sha256 without one) and is taken from
    ``<file>.verified.json`` when that still describes the file. A mismatch moves the file aside
    to ``<file>.corrupt`` and raises.
    """
    path = Path(path)
    return _verify(path, path, checksum=checksum, size=size, progress=progress)


def _message(text: str, hint: str) -> str:
    return f"{text}; {hint}" if hint else text


def _marker(path: Path) -> Path:
    return path.with_name(path.name + ".verified.json")


def _move_aside(path: Path, final: Path) -> Path:
    bad = final.with_name(final.name + ".corrupt")
    n = 1
    while bad.exists():
        bad = final.with_name(f"{final.name}.corrupt{n}")
        n += 1
    os.replace(path, bad)
    return bad


def _verify(path: Path, final: Path, *, checksum: Checksum | None, size: int | None,
            progress: ProgressFn | None, source: str | None = None, hint: str = "") -> str:
    """Check ``path`` and return its digest: ``final`` itself, or the ``.part`` just downloaded
    from ``source``.

    A fresh download that fails is deleted (run again fetches it afresh); an existing ``final``
    that fails is moved aside.
    """
    algorithm = checksum.algorithm if checksum is not None else "sha256"
    stat = path.stat()
    marker = _marker(final)
    recorded: dict[str, Any] = {}
    if marker.exists():
        try:
            recorded = json.loads(marker.read_text())
        except (OSError, ValueError):
            recorded = {}

    what = source or final.name

    def reject(problem: str) -> DownloadError:
        if source is not None:
            path.unlink(missing_ok=True)
            fate = "the download was deleted, run again to fetch it afresh"
        else:
            try:
                fate = f"it was moved to {_move_aside(path, final)}, run again to download it afresh"
            except OSError as err:
                fate = f"it cannot be moved aside ({err.strerror or err}): delete it and run again"
        return DownloadError(_message(f"{problem}; {fate}", hint))

    if size is not None and stat.st_size != size:
        raise reject(f"{what} has {stat.st_size} bytes, expected {size}")
    same_file = (recorded.get("size") == stat.st_size
                 and recorded.get("mtime_ns") == stat.st_mtime_ns)
    published = checksum.hexdigest.lower() if checksum is not None else None
    if same_file and recorded.get(algorithm) and published in (None, recorded[algorithm]):
        return str(recorded[algorithm])
    digest = file_digest(path, algorithm, progress, f"verifying {final.name}")
    expected = published or recorded.get(algorithm)
    if expected and digest != expected:
        with suppress(OSError):
            marker.unlink(missing_ok=True)
        raise reject(f"{algorithm} mismatch for {what}: expected {expected}, got {digest}")
    return digest


def _write_marker(path: Path, digest: str, checksum: Checksum | None) -> None:
    stat = path.stat()
    algorithm = checksum.algorithm if checksum is not None else "sha256"
    record = {
        algorithm: digest,
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "checked_against": f"published {algorithm}" if checksum is not None
        else "none published: recorded after the first complete download",
    }
    with suppress(OSError):  # only a cache: in a read-only directory the file is re-hashed next time
        atomic_write_text(_marker(path), json.dumps(record, indent=1) + "\n")


def _fetch(url: str, part: Path, *, size: int | None, progress: ProgressFn | None,
           timeout: float, hint: str) -> None:
    """Bring ``part`` up to the whole file, resuming it with a Range request if it has bytes."""
    have = part.stat().st_size if part.exists() else 0
    if size is not None and have > size:
        part.unlink()
        have = 0
    if size is not None and have == size:
        return  # complete already; verification decides whether it is good
    request = urllib.request.Request(url, headers={"User-Agent": f"textgan/{__version__}"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    desc = f"downloading {part.name.removesuffix('.part')}"

    def failed(reason: object) -> DownloadError:
        if part.exists() and part.stat().st_size == 0:
            part.unlink()  # nothing to resume from: leave no empty file behind
        return DownloadError(_message(f"could not download {url}: {reason}; {_RETRY}", hint))

    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            append = (
                have > 0
                and response.status == 206
                and response.headers.get("Content-Range", "").startswith(f"bytes {have}-")
            )
            if not append:
                have = 0  # the server sent the whole file
            length = response.headers.get("Content-Length")
            total = have + int(length) if length is not None and length.isdigit() else size
            with open(part, "ab" if append else "wb") as out:
                while chunk := response.read(_CHUNK):
                    out.write(chunk)
                    have += len(chunk)
                    if progress is not None:
                        progress(desc, have, total)
            if total is not None and have < total:
                raise failed(f"the connection closed after {have} of {total} bytes")
    except urllib.error.HTTPError as err:
        if err.code == 416 and have:
            # Our range starts at or past the end: the .part is stale; start over once.
            part.unlink()
            _fetch(url, part, size=size, progress=progress, timeout=timeout, hint=hint)
            return
        raise failed(f"HTTP {err.code} {err.reason}") from None
    except urllib.error.URLError as err:
        raise failed(err.reason) from None
    except (OSError, http.client.HTTPException) as err:
        raise failed(str(err) or type(err).__name__) from None
