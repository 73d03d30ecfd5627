"""Corpus sources: raw text lines for the preparation step.

``open_source(corpus, corpus_path, ...)`` picks one:

- ``synthetic`` (default when nothing is given): sentences of a known English-like grammar,
  generated on the fly, with an exact oracle (:mod:`textgan.text.oracle`);
- ``synthetic-classes``: the same grammar's questions and statements, labelled with their class;
- ``billion_word``: the One Billion Word benchmark tarball, downloaded once and read in place;
- ``files`` (or no name, with ``corpus_path``): local text/gzip files, a directory or a glob;
- ``hf:NAME[/CONFIG][:SPLIT]``: a Hugging Face dataset, streamed;
- any other ``corpus`` that is an existing file or directory, or a glob matching files: those
  files, as ``corpus_path`` (``--corpus my_text.txt``). The names above take precedence.

Every source has a filesystem-safe ``name`` (``billion_word``, ``synthetic`` or
``synthetic-s<seed>``, ``files-<8 hex>``, ``hf-<name>[-<8 hex>]``), lazy ``train_lines()`` /
``valid_lines()`` iterators and ``describe()``. A labelled source (``labels="tsv"`` for files,
``label_column`` for ``hf:``, ``synthetic-classes``) also yields (label, text) examples
(:class:`~.base.LabelledSource`).
"""

import glob
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textgan.errors import CorpusError
from textgan.io.progress import ProgressFn
from textgan.text.corpora.base import (
    LabelledSource,
    Source,
    check_encoding_errors,
    check_labels_setting,
    check_max_lines,
    is_labelled,
)
from textgan.text.corpora.billion_word import BillionWordSource
from textgan.text.corpora.files import GLOB_CHARS, FilesSource
from textgan.text.corpora.grammar import GRAMMAR_VERSION
from textgan.text.corpora.hf import HFSource
from textgan.text.corpora.synthetic import SyntheticClassesSource, SyntheticSource


@dataclass(frozen=True)
class _OpenArgs:
    corpus_path: str | None
    valid_path: str | None
    download_dir: Path
    progress: ProgressFn | None
    max_lines: int | None
    encoding_errors: str
    seed: int


@dataclass(frozen=True)
class NamedCorpus:
    """A corpus known by name: what ``--corpus``'s help says of it, how to open it, whether its
    lines come labelled, and the name of its labelled variant (if it has one)."""

    description: str
    open: Callable[[str, _OpenArgs], Source]
    labelled: bool = False
    labelled_variant: str | None = None


def _generated(source: Callable[..., Source]) -> Callable[[str, _OpenArgs], Source]:
    def open_generated(name: str, a: _OpenArgs) -> Source:
        if a.corpus_path is not None or a.valid_path is not None:
            raise CorpusError(
                f"the {name} corpus is generated, it takes no --corpus-path/--valid-path; "
                "drop them or use --corpus files"
            )
        return source(seed=a.seed, max_lines=a.max_lines)

    return open_generated


def _billion_word(name: str, a: _OpenArgs) -> Source:
    if a.valid_path is not None:
        raise CorpusError(
            "billion_word uses its own held-out shards; drop --valid-path or use --corpus files"
        )
    return BillionWordSource(a.corpus_path, download_dir=Path(a.download_dir), progress=a.progress,
                             max_lines=a.max_lines, encoding_errors=a.encoding_errors)


# The corpora known by name (besides hf:DATASET and files), as --corpus and --reference take
# them: a new one is an entry here.
CORPORA: dict[str, NamedCorpus] = {
    "billion_word": NamedCorpus("the paper's One Billion Word benchmark, downloaded once",
                                _billion_word),
    "synthetic": NamedCorpus("sentences of a built-in grammar, the default",
                             _generated(SyntheticSource), labelled_variant="synthetic-classes"),
    "synthetic-classes": NamedCorpus("labelled: the grammar's questions and statements",
                                     _generated(SyntheticClassesSource), labelled=True),
}
NAMED_CORPORA = tuple(CORPORA)


def corpus_choices(described: bool = False) -> str:
    """What ``--corpus`` takes, in words: every named corpus (``described``: with what it is),
    then ``files`` and ``hf:``."""
    names = [f"{name} ({c.description})" if described else name for name, c in CORPORA.items()]
    return ", ".join([*names, "files (with --corpus-path)", "hf:NAME[/CONFIG][:SPLIT]"])


def is_labelled_corpus(corpus: str | None) -> bool:
    """Whether the named corpus ``corpus`` comes labelled (``synthetic-classes``)."""
    entry = CORPORA.get((corpus or "").strip())
    return entry is not None and entry.labelled

__all__ = [
    "CORPORA",
    "NAMED_CORPORA",
    "NamedCorpus",
    "corpus_choices",
    "is_labelled_corpus",
    "GRAMMAR_VERSION",
    "BillionWordSource",
    "FilesSource",
    "HFSource",
    "LabelledSource",
    "Source",
    "SyntheticClassesSource",
    "SyntheticSource",
    "is_labelled",
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
    labels: str = "none",
    label_column: str | None = None,
) -> Source:
    """Open the corpus named by ``corpus`` / ``corpus_path`` (see the package docstring).
    ``labels="tsv"`` (local files) or ``label_column`` (``hf:``) makes it a labelled source.

    Cheap checks (unknown name, missing path, ...) happen here; reading, downloading and the
    checks that need the data happen lazily when lines are iterated or described.
    """
    check_encoding_errors(encoding_errors)
    check_max_lines(max_lines)
    check_labels_setting(labels)
    kind = corpus.strip() if corpus is not None else None
    if kind is None and corpus_path is None:
        kind = "synthetic"
    _check_label_options(kind, labels, label_column)
    if kind is None or kind == "files":
        if corpus_path is None:
            raise CorpusError("--corpus files needs --corpus-path FILE, DIR or GLOB")
        return FilesSource(
            corpus_path, valid_path=valid_path, max_lines=max_lines, encoding_errors=encoding_errors,
            labels=labels,
        )
    if kind in CORPORA:
        return CORPORA[kind].open(kind, _OpenArgs(corpus_path, valid_path, Path(download_dir),
                                                  progress, max_lines, encoding_errors, seed))
    if kind.startswith("hf:"):
        return HFSource(
            kind[3:],
            data_files=corpus_path,
            valid_files=valid_path,
            max_lines=max_lines,
            encoding_errors=encoding_errors,
            label_column=label_column,
        )
    if _names_files(kind):
        if corpus_path is not None:
            raise CorpusError(f"--corpus {kind} is already a path; drop --corpus-path "
                              f"{corpus_path} (or give the path once, as --corpus-path)")
        return FilesSource(
            kind, valid_path=valid_path, max_lines=max_lines, encoding_errors=encoding_errors,
            labels=labels,
        )
    raise CorpusError(f"unknown corpus {corpus!r}: neither a corpus name ({corpus_choices()}) nor "
                      "an existing file, directory or glob")


def _check_label_options(kind: str | None, labels: str, label_column: str | None) -> None:
    """--labels tsv is for local text files, --label-column for hf: datasets; the generated and
    downloaded corpora have their own labels or none."""
    hf = kind is not None and kind.startswith("hf:")
    if label_column is not None and not hf:
        raise CorpusError("--label-column names a column of an hf: dataset; label local text "
                          "files with --labels tsv (lines LABEL<TAB>TEXT)")
    if labels == "tsv":
        if hf:
            raise CorpusError("an hf: dataset takes its labels from a column: --label-column NAME "
                              "(not --labels tsv)")
        if kind in CORPORA:
            variant = CORPORA[kind].labelled_variant
            extra = f" (--corpus {variant} is the labelled {kind} corpus)" if variant else ""
            raise CorpusError(f"--labels tsv reads LABEL<TAB>TEXT text files; the {kind} corpus "
                              f"is not one{extra}")


def _names_files(spec: str) -> bool:
    """``spec`` is an existing file or directory, or a glob that matches a file."""
    path = Path(spec).expanduser()
    if path.exists():
        return True
    if not GLOB_CHARS & set(spec):
        return False
    return any(Path(m).is_file() for m in glob.iglob(os.path.expanduser(spec), recursive=True))
