"""The One Billion Word benchmark (Chelba et al. 2013), as used by Gulrajani et al. 2017.

Training text is ``training-monolingual.tokenized.shuffled/news.en-000NN-of-00100`` for
NN = 01..99 (shard 00000 is excluded, as in the paper's code), held-out text is all 50
``heldout-monolingual.tokenized.shuffled/news.en.heldout-000NN-of-00050`` shards, always in shard
order. Lines are read straight out of the .tar.gz (or an extracted copy) without unpacking it
(:mod:`textgan.io.archive`); the tarball is fetched with :func:`textgan.io.download.download`.

The URL, size and sha256 below are also recorded, with where they come from, in ``sources.toml``.
"""

from __future__ import annotations

import re
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from textgan.errors import CorpusError
from textgan.io.archive import tar_members_in_order
from textgan.io.download import Checksum, download, verified_digest
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
_DOWNLOAD_HINT = "without internet, download it yourself and pass --corpus-path FILE"


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
            self._tarball = download(
                self.url,
                self.download_dir / self.url.rstrip("/").rsplit("/", 1)[-1],
                checksum=None if self.sha256 is None else Checksum("sha256", self.sha256),
                size=self.size,
                progress=self.progress,
                timeout=self.timeout,
                hint=_DOWNLOAD_HINT,
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
                self._digest = verified_digest(tarball, progress=self.progress)
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
