"""Corpus sources: raw text lines for the preparation step.

``open_source(corpus, corpus_path, ...)`` picks one:

- ``synthetic`` (default when nothing is given): sentences of a known English-like grammar,
  generated on the fly, with an exact oracle (:mod:`textgan.eval.oracle`);
- ``billion_word``: the One Billion Word benchmark tarball, downloaded once and read in place;
- ``files`` (or no name, with ``corpus_path``): local text/gzip files, a directory or a glob;
- ``hf:NAME[/CONFIG][:SPLIT]``: a Hugging Face dataset, streamed;
- any other ``corpus`` that is an existing file or directory, or a glob matching files: those
  files, as ``corpus_path`` (``--corpus my_text.txt``). The names above take precedence.

Every source has a filesystem-safe ``name`` (``billion_word``, ``synthetic`` or
``synthetic-s<seed>``, ``files-<8 hex>``, ``hf-<name>[-<8 hex>]``), lazy ``train_lines()`` /
``valid_lines()`` iterators and ``describe()``.
"""

import glob
import os
from pathlib import Path

from textgan.errors import CorpusError
from textgan.io.progress import ProgressFn
from textgan.text.corpora.base import (
    CORPUS_CHOICES,
    Source,
    check_encoding_errors,
    check_max_lines,
)
from textgan.text.corpora.billion_word import BillionWordSource
from textgan.text.corpora.files import GLOB_CHARS, FilesSource
from textgan.text.corpora.grammar import GRAMMAR_VERSION
from textgan.text.corpora.hf import HFSource
from textgan.text.corpora.synthetic import SyntheticSource

__all__ = [
    "GRAMMAR_VERSION",
    "BillionWordSource",
    "FilesSource",
    "HFSource",
    "Source",
    "SyntheticSource",
    "open_source",
]


def open_source(
    corpus: str | None,
    corpus_path: str | None = None,
    *,
    valid_path: str | None = None,
    download_dir: Path,
    progress: ProgressFn | None = None,
    max_lines: int | None = None,
    encoding_errors: str = "strict",
    seed: int = 0,
) -> Source:
    """Open the corpus named by ``corpus`` / ``corpus_path`` (see the package docstring).

    Cheap checks (unknown name, missing path, ...) happen here; reading, downloading and the
    checks that need the data happen lazily when lines are iterated or described.
    """
    check_encoding_errors(encoding_errors)
    check_max_lines(max_lines)
    kind = corpus.strip() if corpus is not None else None
    if kind is None and corpus_path is None:
        kind = "synthetic"
    if kind is None or kind == "files":
        if corpus_path is None:
            raise CorpusError("--corpus files needs --corpus-path FILE, DIR or GLOB")
        return FilesSource(
            corpus_path, valid_path=valid_path, max_lines=max_lines, encoding_errors=encoding_errors
        )
    if kind == "synthetic":
        if corpus_path is not None or valid_path is not None:
            raise CorpusError(
                "the synthetic corpus is generated, it takes no --corpus-path/--valid-path; "
                "drop them or use --corpus files"
            )
        return SyntheticSource(seed=seed, max_lines=max_lines)
    if kind == "billion_word":
        if valid_path is not None:
            raise CorpusError(
                "billion_word uses its own held-out shards; drop --valid-path or use --corpus files"
            )
        return BillionWordSource(
            corpus_path,
            download_dir=Path(download_dir),
            progress=progress,
            max_lines=max_lines,
            encoding_errors=encoding_errors,
        )
    if kind.startswith("hf:"):
        return HFSource(
            kind[3:],
            data_files=corpus_path,
            valid_files=valid_path,
            max_lines=max_lines,
            encoding_errors=encoding_errors,
        )
    if _names_files(kind):
        if corpus_path is not None:
            raise CorpusError(f"--corpus {kind} is already a path; drop --corpus-path "
                              f"{corpus_path} (or give the path once, as --corpus-path)")
        return FilesSource(
            kind, valid_path=valid_path, max_lines=max_lines, encoding_errors=encoding_errors
        )
    raise CorpusError(f"unknown corpus {corpus!r}: neither a corpus name ({CORPUS_CHOICES}) nor "
                      "an existing file, directory or glob")


def _names_files(spec: str) -> bool:
    """``spec`` is an existing file or directory, or a glob that matches a file."""
    path = Path(spec).expanduser()
    if path.exists():
        return True
    if not GLOB_CHARS & set(spec):
        return False
    return any(Path(m).is_file() for m in glob.iglob(os.path.expanduser(spec), recursive=True))
