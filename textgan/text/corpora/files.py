"""Local text files: a file, a directory (recursively) or a glob; plain text or gzip.

One sentence a line. Held-out lines come from ``valid_path`` if given, otherwise every
``valid_every``-th non-blank line (0-based index ``i`` with ``i % valid_every == valid_every - 1``)
is carved off, so train and valid are complementary and deterministic. With ``labels="tsv"``
every line is ``LABEL<TAB>TEXT`` and the source is labelled (:func:`.base.read_tsv_examples`).
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from textgan.errors import CorpusError
from textgan.io.files import file_digest
from textgan.text.corpora.base import (
    Example,
    cap,
    check_encoding_errors,
    check_labels_setting,
    check_max_lines,
    fingerprint,
    read_text_file,
    read_tsv_examples,
    require_lines,
)

GLOB_CHARS = frozenset("*?[")


def resolve_paths(spec: str, option: str = "--corpus-path") -> list[Path]:
    """Expand a file, directory or glob into a sorted list of regular files."""
    path = Path(spec).expanduser()
    if path.is_file():
        return [path]
    if path.is_dir():
        # Hidden files (.DS_Store, .git/...) are never corpus text.
        files = sorted(
            (f for f in path.rglob("*") if f.is_file() and not _hidden(f.relative_to(path))),
            key=lambda f: f.relative_to(path).as_posix(),
        )
        if not files:
            raise CorpusError(f"{option} directory {path} contains no files; add text files to it")
        return files
    if path.exists():
        raise CorpusError(f"{option} {path} is not a regular file or directory")
    if GLOB_CHARS & set(spec):
        matches = sorted(
            Path(m) for m in glob.glob(os.path.expanduser(spec), recursive=True) if os.path.isfile(m)
        )
        if not matches:
            raise CorpusError(f"{option} pattern {spec!r} matches no files; check the pattern")
        return matches
    raise CorpusError(f"{option} {path} does not exist; check the path")


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def carve(
    lines: Iterable[str], *, every: int, want_valid: bool, max_lines: int | None
) -> Iterator[str]:
    """Split one line stream into train (``want_valid=False``) or held-out lines.

    Line ``i`` is held out iff ``i % every == every - 1``. With ``max_lines`` both sides stop at
    the ``max_lines``-th training line, so they stay complementary over the part that was read.
    """
    n_train = 0
    for i, line in enumerate(lines):
        if i % every == every - 1:
            if want_valid:
                yield line
            continue
        if not want_valid:
            yield line
        n_train += 1
        if max_lines is not None and n_train >= max_lines:
            break


class FilesSource:
    """Lines from local text files (see the module docstring)."""

    def __init__(
        self,
        corpus_path: str,
        *,
        valid_path: str | None = None,
        valid_every: int = 100,
        max_lines: int | None = None,
        encoding_errors: str = "strict",
        labels: str = "none",
        flag: str = "--corpus-path",
    ) -> None:
        # ``flag``: the option that named ``corpus_path`` (``textgan eval --reference``), so that
        # errors name what the user typed.
        if valid_every < 2:
            raise CorpusError(f"valid_every must be at least 2 (got {valid_every})")
        self.corpus_path = corpus_path
        self.valid_path = valid_path
        self.valid_every = valid_every
        self.max_lines = check_max_lines(max_lines)
        self.encoding_errors = check_encoding_errors(encoding_errors)
        self.labels = check_labels_setting(labels)
        self.labelled = labels == "tsv"
        self.flag = flag
        self.files = resolve_paths(corpus_path, flag)
        self.valid_files = resolve_paths(valid_path, "--valid-path") if valid_path else None
        self.name = "files-" + fingerprint([*self.files, *(self.valid_files or [])])

    def _lines(self, files: list[Path], spec: str) -> Iterator[Any]:
        """Lines of ``files``; labelled: (label, text) examples."""
        def all_lines() -> Iterator[Any]:
            for path in files:
                if self.labelled:
                    yield from read_tsv_examples(path, self.encoding_errors)
                else:
                    yield from read_text_file(path, self.encoding_errors)

        return require_lines(all_lines(), spec, self.flag)

    @classmethod
    def of_files(cls, files: list[Path], valid_files: list[Path] | None = None,
                 **options: Any) -> FilesSource:
        """The source of exactly these files, in this order (as a prepared corpus's meta.json
        lists them), with the same name as when it was first opened if none changed since."""
        source = cls(str(files[0]), **options)
        source.files = [Path(f) for f in files]
        source.valid_files = [Path(f) for f in valid_files] if valid_files is not None else None
        source.valid_path = str(source.valid_files[0]) if source.valid_files else None
        source.name = "files-" + fingerprint([*source.files, *(source.valid_files or [])])
        return source

    def _train(self) -> Iterator[Any]:
        lines = self._lines(self.files, self.corpus_path)
        if self.valid_files is not None:
            return cap(lines, self.max_lines)
        return carve(lines, every=self.valid_every, want_valid=False, max_lines=self.max_lines)

    def _valid(self) -> Iterator[Any]:
        if self.valid_files is not None:
            return self._lines(self.valid_files, str(self.valid_path))
        lines = self._lines(self.files, self.corpus_path)
        return carve(lines, every=self.valid_every, want_valid=True, max_lines=self.max_lines)

    def train_lines(self) -> Iterator[str]:
        """Training lines, capped at ``max_lines`` (labelled: the texts of the examples)."""
        lines = self._train()
        return (text for _, text in lines) if self.labelled else lines

    def valid_lines(self) -> Iterator[str]:
        """Held-out lines: all of ``valid_path``, or the carved-off lines."""
        lines = self._valid()
        return (text for _, text in lines) if self.labelled else lines

    def train_examples(self) -> Iterator[Example]:
        """Labelled training lines, (label, text)."""
        self._need_labels()
        return self._train()

    def valid_examples(self) -> Iterator[Example]:
        """Labelled held-out lines, (label, text)."""
        self._need_labels()
        return self._valid()

    def defined_labels(self) -> None:
        return None  # a tsv file defines no order: the sorted labels of the training lines

    def _need_labels(self) -> None:
        if not self.labelled:
            raise CorpusError("these files are not labelled; read them with --labels tsv")

    def describe(self) -> dict[str, Any]:
        """Kind, files with sizes and sha256, and the settings that shape the lines."""
        return {
            "kind": "files",
            "name": self.name,
            "corpus_path": self.corpus_path,
            "train_files": [_file_info(p) for p in self.files],
            "valid_files": None
            if self.valid_files is None
            else [_file_info(p) for p in self.valid_files],
            "held_out": "valid_path"
            if self.valid_files is not None
            else f"line i where i % {self.valid_every} == {self.valid_every - 1}",
            "settings": {
                "valid_every": self.valid_every,
                "max_lines": self.max_lines,
                "encoding_errors": self.encoding_errors,
                **({"labels": self.labels} if self.labelled else {}),
            },
        }


def _file_info(path: Path) -> dict[str, Any]:
    return {
        "path": str(path.resolve()),
        "size": path.stat().st_size,
        "sha256": file_digest(path),
    }
