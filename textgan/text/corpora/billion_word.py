"""The One Billion Word benchmark (Chelba et al. 2013), as used by Gulrajani et al. 2017.

Training text is ``training-monolingual.tokenized.shuffled/news.en-000NN-of-00100`` for
NN = 01..99 (shard 00000 is excluded, as in the paper's code), held-out text is all 50
``heldout-monolingual.tokenized.shuffled/news.en.heldout-000NN-of-00050`` shards, always in shard
order. Lines are read straight out of the .tar.gz (or an extracted copy) without unpacking it
(:mod:`textgan.io.archive`).

The URL, size and sha256 below are also recorded, with where they come from, in ``sources.toml``.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import tarfile
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from textgan import __version__
from textgan.errors import CorpusError
from textgan.io.archive import tar_members_in_order
from textgan.io.files import file_digest
from textgan.io.progress import ProgressFn
from textgan.text.corpora.base import (
    cap,
    check_encoding_errors,
    check_max_lines,
    decode_lines,
    read_text_file,
    require_lines,
    split_lines,
)

FILENAME = "1-billion-word-language-modeling-benchmark-r13output.tar.gz"
URL = "http://www.statmt.org/lm-benchmark/" + FILENAME
SIZE = 1_792_209_805
SHA256 = "01ba60381110baf7f189dfd2b8374de371e8c9a340835793f190bdae9e90a34e"
TOP_DIR = "1-billion-word-language-modeling-benchmark-r13output"
TRAIN_DIR = "training-monolingual.tokenized.shuffled"
HELDOUT_DIR = "heldout-monolingual.tokenized.shuffled"

_SHARDS = {
    # kind: (directory, file-name pattern, shard numbers used)
    "train": (TRAIN_DIR, re.compile(r"news\.en-(\d{5})-of-00100"), range(1, 100)),
    "valid": (HELDOUT_DIR, re.compile(r"news\.en\.heldout-(\d{5})-of-00050"), range(0, 50)),
}
_CHUNK = 1 << 20
_DOWNLOAD_HINT = (
    "check your connection (running again resumes), or download it yourself and pass "
    "--corpus-path FILE"
)


class BillionWordSource:
    """Billion Word lines from a tarball (downloaded on first use if needed) or extracted dir."""

    name = "billion_word"

    def __init__(
        self,
        corpus_path: str | None = None,
        *,
        download_dir: Path,
        progress: ProgressFn | None = None,
        max_lines: int | None = None,
        encoding_errors: str = "strict",
        url: str = URL,
        size: int | None = SIZE,
        sha256: str | None = SHA256,
        timeout: float = 60.0,
    ) -> None:
        self.download_dir = Path(download_dir)
        self.progress = progress
        self.max_lines = check_max_lines(max_lines)
        self.encoding_errors = check_encoding_errors(encoding_errors)
        self.url = url
        self.size = size
        self.sha256 = sha256
        self.timeout = timeout
        self._tarball: Path | None = None
        self._root: Path | None = None
        self._digest: str | None = None
        if corpus_path is not None:
            path = Path(corpus_path).expanduser()
            if not path.exists():
                raise CorpusError(
                    f"--corpus-path {path} does not exist; pass the downloaded {FILENAME} "
                    "or the directory extracted from it"
                )
            if path.is_dir():
                self._root = find_root(path)
            else:
                self._tarball = path

    def tarball(self) -> Path:
        """The tarball to read, downloading and verifying it into ``download_dir`` if needed."""
        if self._tarball is None:
            self._tarball = fetch(
                self.url,
                self.download_dir,
                size=self.size,
                sha256=self.sha256,
                progress=self.progress,
                timeout=self.timeout,
            )
        return self._tarball

    def _lines(self, kind: str) -> Iterator[str]:
        if self._root is not None:
            shards = dir_shards(self._root, kind)
            if not shards:
                where = self._root / _SHARDS[kind][0]
                raise CorpusError(f"{where} holds no {kind} shards; is the extraction complete?")
            for path in shards:
                yield from read_text_file(path, self.encoding_errors)
            return
        tarball = self.tarball()
        yield from tar_shard_lines(tarball, kind, self.encoding_errors)

    def train_lines(self) -> Iterator[str]:
        """Lines of training shards 01..99 in order, capped at ``max_lines``."""
        return cap(require_lines(self._lines("train"), self._where()), self.max_lines)

    def valid_lines(self) -> Iterator[str]:
        """Lines of the 50 held-out shards in order."""
        return require_lines(self._lines("valid"), self._where() + " (held-out shards)")

    def _where(self) -> str:
        return str(self._root or self._tarball or self.download_dir / FILENAME)

    def describe(self) -> dict[str, Any]:
        """Location, sha256 of the tarball (or of each shard used), shards and settings."""
        info: dict[str, Any] = {
            "kind": "billion_word",
            "name": self.name,
            "url": self.url,
            "published_sha256": self.sha256,
            "train_shards": f"{TRAIN_DIR}/news.en-000{{01..99}}-of-00100",
            "held_out_shards": f"{HELDOUT_DIR}/news.en.heldout-000{{00..49}}-of-00050",
            "settings": {"max_lines": self.max_lines, "encoding_errors": self.encoding_errors},
        }
        if self._root is not None:
            info["format"] = "directory"
            info["location"] = str(self._root.resolve())
            info["files"] = [
                {
                    "path": str(p.relative_to(self._root)),
                    "size": p.stat().st_size,
                    "sha256": file_digest(p, "sha256", self.progress),
                }
                for kind in ("train", "valid")
                for p in dir_shards(self._root, kind)
            ]
        else:
            tarball = self.tarball()
            if self._digest is None:
                self._digest = verified_sha256(
                    tarball, size=None, sha256=None, progress=self.progress
                )
            digest = self._digest
            info["format"] = "tarball"
            info["location"] = str(tarball.resolve())
            info["size"] = tarball.stat().st_size
            info["sha256"] = digest
            info["sha256_matches_published"] = None if self.sha256 is None else (
                digest == self.sha256
            )
        return info


# --- extracted directory ------------------------------------------------------------------------


def find_root(path: Path) -> Path:
    """The extracted top-level directory, given it or its parent."""
    for root in (path, path / TOP_DIR):
        if (root / TRAIN_DIR).is_dir():
            return root
    raise CorpusError(
        f"{path} is not an extracted Billion Word corpus (no {TRAIN_DIR}/ in it or in {TOP_DIR}/); "
        f"pass the {FILENAME} tarball or the directory extracted from it"
    )


def shard_number(member: str, kind: str) -> int | None:
    """The shard number if ``member`` (a "/"-separated path) is a shard of ``kind`` we use."""
    directory, pattern, used = _SHARDS[kind]
    parts = member.rstrip("/").split("/")
    if len(parts) < 2 or parts[-2] != directory:
        return None
    match = pattern.fullmatch(parts[-1])
    if match is None or int(match[1]) not in used:
        return None
    return int(match[1])


def dir_shards(root: Path, kind: str) -> list[Path]:
    """The shard files of ``kind`` under an extracted root, in shard order."""
    directory = root / _SHARDS[kind][0]
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        number = shard_number(f"{directory.name}/{path.name}", kind)
        if number is not None and path.is_file():
            found.append((number, path))
    return [path for _, path in sorted(found)]


# --- reading the tarball ------------------------------------------------------------------------


def tar_shard_lines(path: Path, kind: str, encoding_errors: str = "strict") -> Iterator[str]:
    """Lines of the ``kind`` shards inside a .tar.gz (or plain .tar), in shard order."""
    try:
        members = tar_members_in_order(
            path, lambda name: shard_number(name, kind), expected=_SHARDS[kind][2]
        )
        for name, chunks in members:
            yield from decode_lines(split_lines(chunks), f"{path}:{name}", encoding_errors)
    except (tarfile.TarError, zlib.error, EOFError, OSError) as err:
        raise CorpusError(
            f"{path} is not a readable .tar.gz or .tar ({err}); delete it and download it again, "
            "or pass the extracted directory as --corpus-path"
        ) from None


# --- downloading --------------------------------------------------------------------------------


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


def verified_sha256(
    path: Path,
    *,
    size: int | None,
    sha256: str | None,
    progress: ProgressFn | None = None,
    final: Path | None = None,
) -> str:
    """Check ``path`` against the expected size/sha256 and return its sha256.

    The result is cached in ``<file>.verified.json`` (keyed on size and mtime) so later runs do not
    re-hash 1.7 GB. Without an expected sha256, the one recorded after the first complete
    download is the reference. A mismatch moves the file aside (``.corrupt``) and raises.
    """
    final = final or path
    stat = path.stat()
    marker = _marker(final)
    recorded: dict[str, Any] = {}
    if marker.exists():
        try:
            recorded = json.loads(marker.read_text())
        except (OSError, ValueError):
            recorded = {}
    if size is not None and stat.st_size != size:
        bad = _move_aside(path, final)
        raise CorpusError(
            f"{final.name} has {stat.st_size} bytes, expected {size}; it was moved to {bad}, "
            "run again to download it afresh"
        )
    same_file = (
        recorded.get("size") == stat.st_size and recorded.get("mtime_ns") == stat.st_mtime_ns
    )
    if same_file and recorded.get("sha256") and sha256 in (None, recorded["sha256"]):
        return str(recorded["sha256"])
    digest = file_digest(path, "sha256", progress, f"verifying {final.name}")
    expected = sha256 or recorded.get("sha256")
    if expected and digest != expected:
        bad = _move_aside(path, final)
        marker.unlink(missing_ok=True)
        raise CorpusError(
            f"sha256 mismatch for {final.name}: expected {expected}, got {digest}; the file was "
            f"moved to {bad}, run again to download it afresh"
        )
    return digest


def _write_marker(path: Path, digest: str, published: bool) -> None:
    stat = path.stat()
    record = {
        "sha256": digest,
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "checked_against": "published sha256"
        if published
        else "none published: recorded after the first complete download",
    }
    tmp = _marker(path).with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=1) + "\n")
    os.replace(tmp, _marker(path))


def fetch(
    url: str,
    download_dir: Path,
    *,
    size: int | None,
    sha256: str | None,
    progress: ProgressFn | None = None,
    timeout: float = 60.0,
    filename: str | None = None,
) -> Path:
    """Download ``url`` into ``download_dir`` (resuming a ``.part``), verify it, and return it."""
    final = Path(download_dir) / (filename or url.rstrip("/").rsplit("/", 1)[-1])
    if final.exists():
        digest = verified_sha256(final, size=size, sha256=sha256, progress=progress)
        _write_marker(final, digest, published=sha256 is not None)
        return final
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CorpusError(f"cannot create download directory {final.parent}: {err}") from None
    part = final.with_name(final.name + ".part")
    _download(url, part, size=size, progress=progress, timeout=timeout)
    got = part.stat().st_size
    if size is not None and got < size:
        raise CorpusError(
            f"could not download {url}: it stopped at {got} of {size} bytes; {_DOWNLOAD_HINT}"
        )
    digest = verified_sha256(part, size=size, sha256=sha256, progress=progress, final=final)
    os.replace(part, final)  # atomic: a reader never sees a half-written tarball
    _write_marker(final, digest, published=sha256 is not None)
    return final


def _download(
    url: str, part: Path, *, size: int | None, progress: ProgressFn | None, timeout: float
) -> None:
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
                raise CorpusError(
                    f"could not download {url}: the connection closed after {have} of {total} "
                    f"bytes; {_DOWNLOAD_HINT}"
                )
    except urllib.error.HTTPError as err:
        if err.code == 416 and have:
            # Our range starts at or past the end: the .part is stale; start over once.
            part.unlink()
            _download(url, part, size=size, progress=progress, timeout=timeout)
            return
        raise CorpusError(
            f"could not download {url}: HTTP {err.code} {err.reason}; {_DOWNLOAD_HINT}"
        ) from None
    except urllib.error.URLError as err:
        raise CorpusError(f"could not download {url}: {err.reason}; {_DOWNLOAD_HINT}") from None
    except (OSError, http.client.HTTPException) as err:
        reason = str(err) or type(err).__name__
        raise CorpusError(f"could not download {url}: {reason}; {_DOWNLOAD_HINT}") from None
