"""Prepare a corpus once into compact arrays that training memory-maps.

A prepared corpus is a directory::

    train.bin   token ids, uint8 (≤ 256 entries) or uint16, shape [n_train, seq_len], row-major
    valid.bin   held-out ids, same layout
    vocab.json  the tokenizer (kind + vocabulary)
    meta.json   source description, settings, counts, dtype — written LAST

and for a labelled corpus (``--labels tsv``, ``--label-column``, ``synthetic-classes``) also::

    train_labels.bin  one class id per row of train.bin, uint8 (≤ 256 classes) or uint16
    valid_labels.bin  one class id per row of valid.bin

with ``meta.json``'s ``"labels": {"names": [...], "dtype": "uint8"}``: the class names in id
order (the source's own order where it defines one, else the sorted labels of the training
lines; a held-out label no training line has is an error). The label source is part of the
prepared directory's name (its settings hash), so labelled and unlabelled preparations of the
same files do not collide; an unlabelled corpus is prepared exactly as before labels existed.

It is built in a ``.partial`` sibling directory and renamed into place when complete, so a
prepared directory is either whole or absent: an interrupted preparation never leaves something
training could mistake for a corpus, and re-running simply starts over. A preparation that fails
with an error removes its ``.partial`` directory; one that was killed leaves it for the next run to
delete. A directory without ``meta.json``, or whose arrays do not have the sizes it records, is
never opened.

How raw text becomes ids (character tokenizer; any input either maps like this or is refused
with a one-line :class:`~textgan.errors.CorpusError`, never a traceback):

* Lines end at ``\n``; a ``\r`` right before it is dropped (CRLF = LF). A lone ``\r``, form
  feed, U+2028 and other separators stay inside the line as ordinary characters.
* Text is UTF-8. An invalid byte sequence is an error naming file, line and byte (default,
  ``encoding_errors="strict"``); with ``"replace"`` each one becomes U+FFFD, which is unk.
  A UTF-8 byte-order mark at the start of a file is dropped. Gzip input (``.gz`` or gzip magic
  bytes) is decompressed; corrupt gzip is an error.
* Empty lines and lines of only whitespace (``str.isspace``) are skipped; a corpus with no other
  line is an error.
* Every other code point is a character: NUL and control characters included (they get a
  vocabulary entry if frequent enough). No Unicode normalisation: a combining accent is its own
  position (``"e\u0301"`` is two characters).
* Each line is cut to ``seq_len`` code points (a huge line like any other) and right-padded with
  the pad character. A literal pad character is indistinguishable from padding, so a line of only
  pad characters becomes an all-padding row.
* Characters outside the ``max_vocab - 2`` most frequent, and a literal U+FFFD, become unk.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Literal

import numpy as np
from filelock import FileLock

from textgan.config import as_dict, setting
from textgan.errors import ConfigError, CorpusError
from textgan.io.atomic import atomic_write_text
from textgan.io.progress import ProgressFn
from textgan.text.corpora import corpus_choices
from textgan.text.corpora.base import is_labelled
from textgan.text.tokenizer import CharTokenizer

PREPARED_FORMAT = 1
CHUNK_LINES = 65_536


@dataclass
class TextDataConfig:
    """Where text comes from and how it becomes ids (paper: 32 chars, 2048-entry vocabulary)."""

    corpus: str | None = setting(None, f"{corpus_choices(described=True)}, or text file(s) to "
                                 "train on: a file, directory or glob (as --corpus-path).",
                                 flag=True)
    corpus_path: str | None = setting(None, "Text file(s): a file, directory or glob (plain or "
                                      ".gz); or an already downloaded Billion Word tarball/dir.",
                                      flag=True)
    valid_path: str | None = setting(None, "Held-out text (default: carved off the corpus).",
                                     flag=True)
    data_dir: str = setting("data", "Where corpora are downloaded and prepared.", flag=True)
    seq_len: int = setting(32, "Characters (SentencePiece: pieces) per line.", flag=True, min=1)
    pad: str = setting("`", "The pad character (one character).")
    tokenizer: Literal["char", "sentencepiece"] = setting("char", "char or sentencepiece.",
                                                          flag=True)
    max_vocab: int = setting(2048, "Character vocabulary cap incl. unk and pad.", flag=True, min=3)
    vocab_size: int = setting(4000, "SentencePiece vocabulary size.", flag=True)
    sp_model_type: Literal["unigram", "bpe"] = setting("unigram", "SentencePiece model: unigram "
                                                       "or bpe.", flag=True)
    # 1.0 keeps every character of SentencePiece's training sample, as small alphabets need.
    sp_character_coverage: float = setting(1.0, "Share of character occurrences SentencePiece "
                                           "must cover (rarer characters become unk), 0.98-1.")
    max_lines: int | None = setting(None, "Use at most this many training lines (paper: 10M).",
                                    flag=True, min=1)
    encoding_errors: Literal["strict", "replace"] = setting(
        "strict", "strict (invalid UTF-8 is an error) or replace (invalid bytes become unk).",
        flag=True)
    # Class labels, for --conditional (prepared once with the corpus).
    labels: Literal["none", "tsv"] = setting("none", "Class labels of text files: none, or tsv "
                                             "(every line is LABEL<TAB>TEXT).", flag=True)
    label_column: str | None = setting(None, "hf: datasets: the column holding each row's class "
                                       "label (ClassLabel names are used).", flag=True)

    def validate(self) -> None:
        if len(self.pad) != 1:
            raise ConfigError(f"pad must be exactly one character, got {self.pad!r}")
        if self.vocab_size < 3:
            raise ConfigError(f"vocab_size must be at least 3 (unk, pad, one piece), got {self.vocab_size}")
        if not 0.98 <= self.sp_character_coverage <= 1.0:
            raise ConfigError("sp_character_coverage must be between 0.98 and 1.0 (SentencePiece's "
                              f"range), got {self.sp_character_coverage}")

    def tokenizer_settings(self) -> dict[str, Any]:
        keys = ["tokenizer", "seq_len", "pad"]
        keys += ["max_vocab"] if self.tokenizer == "char" else ["vocab_size", "sp_model_type",
                                                                "sp_character_coverage"]
        return {k: getattr(self, k) for k in keys} | {"max_lines": self.max_lines}

    def label_settings(self) -> dict[str, Any]:
        """Where labels come from, as it names the prepared directory ({} when unlabelled, so an
        unlabelled corpus keeps the name it always had)."""
        out: dict[str, Any] = {}
        if self.labels != "none":
            out["labels"] = self.labels
        if self.label_column is not None:
            out["label_column"] = self.label_column
        return out


class Tokenizer:  # structural type shared by the char and SentencePiece tokenizers
    vocab: list[str]
    kind: str
    pad: str  # the pad character (how a pad id decodes)
    pad_id: int
    dtype: np.dtype

    def encode(self, lines: list[str], seq_len: int) -> np.ndarray: ...
    def decode(self, ids: Any, strip_pad: bool = False) -> str: ...
    def to_json(self) -> str: ...


def load_tokenizer(directory: Path) -> Tokenizer:
    data = json.loads((directory / "vocab.json").read_text(encoding="utf-8"))
    if data.get("kind") == "sentencepiece":
        from textgan.text.sentencepiece import SentencePieceTokenizer

        return SentencePieceTokenizer.load(directory)  # type: ignore[return-value]
    return CharTokenizer(vocab=list(data["vocab"]))  # type: ignore[return-value]


def tokenizer_from_json(text: str) -> Tokenizer:
    """The tokenizer a checkpoint carries (``Tokenizer.to_json``), of either kind."""
    if json.loads(text).get("kind") == "sentencepiece":
        from textgan.text.sentencepiece import SentencePieceTokenizer

        return SentencePieceTokenizer.from_json(text)  # type: ignore[return-value]
    return CharTokenizer.from_json(text)  # type: ignore[return-value]


@dataclass
class PreparedCorpus:
    """A prepared corpus opened for reading: memory-mapped id arrays plus the tokenizer."""

    dir: Path
    train: np.ndarray  # memmap [n_train, seq_len]
    valid: np.ndarray  # memmap [n_valid, seq_len]
    tokenizer: Tokenizer
    meta: dict[str, Any]
    # Labelled corpora: class names in id order, and one id per row of train / valid (memmaps).
    label_names: list[str] = field(default_factory=list)
    train_labels: np.ndarray | None = None
    valid_labels: np.ndarray | None = None

    @property
    def seq_len(self) -> int:
        return int(self.meta["seq_len"])

    @property
    def vocab(self) -> list[str]:
        return self.tokenizer.vocab

    @property
    def is_synthetic(self) -> bool:
        """Built from the synthetic grammar (whose oracle can judge samples)."""
        return self.meta.get("source", {}).get("kind") == "synthetic"

    @classmethod
    def open(cls, directory: str | Path) -> PreparedCorpus:
        directory = Path(directory)
        meta_path = directory / "meta.json"
        if not meta_path.is_file():
            raise CorpusError(
                f"{directory} is not a fully prepared corpus (no meta.json); prepare it again"
            )
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            if meta.get("format") != PREPARED_FORMAT:
                raise CorpusError(f"{directory} was prepared by another textgan version; prepare again")
            tokenizer = load_tokenizer(directory)
            shape = (meta["seq_len"],)
            arrays = [_open_array(directory / f"{split}.bin", int(meta[f"{split}_lines"]),
                                  shape, meta["dtype"])
                      for split in ("train", "valid")]
            labels = meta.get("labels")
            names: list[str] = []
            label_arrays: list[np.ndarray | None] = [None, None]
            if labels is not None:
                names = [str(name) for name in labels["names"]]
                label_arrays = [_open_array(directory / f"{split}_labels.bin",
                                            int(meta[f"{split}_lines"]), (), labels["dtype"])
                                for split in ("train", "valid")]
                for array in label_arrays:
                    if len(array) and int(array.max()) >= len(names):  # type: ignore[arg-type]
                        raise CorpusError(f"{directory} has label ids beyond its {len(names)} "
                                          "classes (corrupt); delete it and prepare again")
        except (OSError, KeyError, ValueError, TypeError, AttributeError) as err:
            raise CorpusError(f"prepared corpus {directory} is unreadable ({err}); delete it and "
                              "prepare again") from None
        return cls(directory, arrays[0], arrays[1], tokenizer, meta, names, *label_arrays)

    def decode_rows(self, rows: np.ndarray, strip_pad: bool = False) -> list[str]:
        return [self.tokenizer.decode(r, strip_pad=strip_pad) for r in np.asarray(rows)]

    @property
    def has_class_oracle(self) -> bool:
        """Built from the synthetic grammar's labelled classes, whose oracle can judge whether a
        sample is of its class (:func:`textgan.text.oracle.class_accuracy`)."""
        from textgan.text.corpora.grammar import SENTENCE_CLASSES

        return (self.is_synthetic and self.tokenizer.kind == "char"
                and self.meta.get("source", {}).get("classes") == list(SENTENCE_CLASSES)
                and self.label_names == list(SENTENCE_CLASSES))


def _open_array(path: Path, rows: int, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """A read-only memmap ``[rows, *shape]`` of ``path``, checked to have exactly that size."""
    directory = path.parent
    expected = rows * int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    if path.stat().st_size != expected:
        raise CorpusError(f"{path} has the wrong size (corrupt); delete {directory} and prepare "
                          "again")
    if not rows:
        return np.zeros((0, *shape), dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r", shape=(rows, *shape))


def chunks(lines: Iterable[str], size: int = CHUNK_LINES) -> Iterator[list[str]]:
    it = iter(lines)
    while chunk := list(islice(it, size)):
        yield chunk


def prepared_dir_for(source_name: str, cfg: TextDataConfig) -> Path:
    """``data_dir/<source>-<tokenizer>-L<seq_len>-<hash of settings>`` (the tokenizer's settings,
    and where labels come from when they do)."""
    identity = cfg.tokenizer_settings() | cfg.label_settings()
    digest = hashlib.sha1(json.dumps(identity, sort_keys=True).encode()).hexdigest()
    return Path(cfg.data_dir) / f"{source_name}-{cfg.tokenizer}-L{cfg.seq_len}-{digest[:8]}"


def _progress_lines(lines: Iterable[str], progress: ProgressFn | None, what: str,
                    total: int | None) -> Iterator[list[str]]:
    done = 0
    for chunk in chunks(lines):
        yield chunk
        done += len(chunk)
        if progress:
            progress(what, done, total)


def _fit_tokenizer(source: Any, cfg: TextDataConfig, workdir: Path,
                   progress: ProgressFn | None) -> tuple[Tokenizer, int]:
    """First pass over the training text: fit the tokenizer and count lines."""
    line_chunks = _progress_lines(source.train_lines(), progress, "fitting tokenizer", cfg.max_lines)
    if cfg.tokenizer == "sentencepiece":
        from textgan.text.sentencepiece import SentencePieceTokenizer

        tok = SentencePieceTokenizer.fit(line_chunks, workdir, vocab_size=cfg.vocab_size,
                                         model_type=cfg.sp_model_type, pad=cfg.pad,
                                         character_coverage=cfg.sp_character_coverage)
        return tok, tok.trained_lines  # type: ignore[return-value]
    from textgan.text.tokenizer import CharCounter

    counter = CharCounter(cfg.seq_len, cfg.pad)
    for chunk in line_chunks:
        counter.update(chunk)
    return counter.tokenizer(cfg.max_vocab), counter.lines  # type: ignore[return-value]


def _write_split(lines: Iterable[str], tokenizer: Tokenizer, seq_len: int, path: Path,
                 progress: ProgressFn | None, what: str, total: int | None) -> int:
    n = 0
    with open(path, "wb") as f:
        for chunk in _progress_lines(lines, progress, what, total):
            ids = tokenizer.encode(chunk, seq_len)
            f.write(np.ascontiguousarray(ids, dtype=tokenizer.dtype).tobytes())
            n += len(chunk)
    return n


def _write_labelled_split(examples: Iterable[tuple[str, str]], tokenizer: Tokenizer,
                          seq_len: int, path: Path, progress: ProgressFn | None, what: str,
                          total: int | None, index: dict[str, int], grow: bool
                          ) -> np.ndarray:
    """Write the texts' ids to ``path`` as :func:`_write_split` does; return each row's label id
    in ``index`` (uint32). ``grow``: labels not in ``index`` get the next id (the training
    split); otherwise such a label is an error (the held-out split)."""
    ids_of_rows: list[np.ndarray] = []
    with open(path, "wb") as f:
        for chunk in _progress_lines(examples, progress, what, total):
            labels = [label for label, _ in chunk]  # type: ignore[misc]
            texts = [text for _, text in chunk]  # type: ignore[misc]
            codes = np.empty(len(labels), dtype=np.uint32)
            for i, label in enumerate(labels):
                code = index.get(label)
                if code is None:
                    if not grow:
                        raise CorpusError(f"a held-out line has the label {label!r}, which no "
                                          "training line has; every class needs training lines")
                    code = index[label] = len(index)
                codes[i] = code
            ids = tokenizer.encode(texts, seq_len)
            f.write(np.ascontiguousarray(ids, dtype=tokenizer.dtype).tobytes())
            ids_of_rows.append(codes)
    return np.concatenate(ids_of_rows) if ids_of_rows else np.zeros(0, dtype=np.uint32)


def _write_labelled(source: Any, tokenizer: Tokenizer, seq_len: int, workdir: Path,
                    progress: ProgressFn | None, n_seen: int) -> tuple[int, int, dict[str, Any]]:
    """Both splits of a labelled source, with ``train_labels.bin`` / ``valid_labels.bin``:
    (training rows, held-out rows, meta.json's ``labels`` entry)."""
    from textgan.text.corpora.base import MAX_CLASSES

    seen: dict[str, int] = {}  # label -> id in order of first appearance
    first_ids = _write_labelled_split(source.train_examples(), tokenizer, seq_len,
                                      workdir / "train.bin", progress, "encoding training text",
                                      n_seen, seen, grow=True)
    defined = source.defined_labels()
    if defined is not None:
        unknown = [label for label in seen if label not in defined]
        if unknown:
            raise CorpusError(f"label {unknown[0]!r} is not one of the dataset's "
                              f"{len(defined)} classes")
        names = list(defined)
    else:
        names = sorted(seen)
    if len(names) > MAX_CLASSES:
        raise CorpusError(f"{len(names):,} distinct labels: at most {MAX_CLASSES:,} classes "
                          "(is the label column the right one?)")
    dtype = np.dtype(np.uint8 if len(names) <= 256 else np.uint16)
    final = {name: i for i, name in enumerate(names)}
    renumber = np.array([final[label] for label in seen], dtype=np.int64)
    train_ids = renumber[first_ids] if len(first_ids) else first_ids
    (workdir / "train_labels.bin").write_bytes(train_ids.astype(dtype).tobytes())
    valid_ids = _write_labelled_split(source.valid_examples(), tokenizer, seq_len,
                                      workdir / "valid.bin", progress, "encoding held-out text",
                                      None, final, grow=False)
    (workdir / "valid_labels.bin").write_bytes(valid_ids.astype(dtype).tobytes())
    return len(train_ids), len(valid_ids), {"names": names, "dtype": dtype.name}


def prepare_corpus(source: Any, cfg: TextDataConfig, progress: ProgressFn | None = None,
                   force: bool = False) -> PreparedCorpus:
    """Prepare ``source`` (train/valid line iterators) under ``cfg.data_dir``; reuse if done.

    On any error or interruption the ``.partial`` directory is removed (it may hold gigabytes);
    a full disk or an unwritable ``data_dir`` becomes a one-line :class:`CorpusError`. Concurrent
    calls for the same corpus (two runs, or torchrun ranks) are serialised by a lock file.
    """
    _check_label_identity(source, cfg)
    target = prepared_dir_for(source.name, cfg)
    partial = target.with_name(target.name + ".partial")
    if not force and (target / "meta.json").is_file():
        return PreparedCorpus.open(target)  # prepared already (maybe read-only): no lock needed
    new_data_dir = not Path(cfg.data_dir).exists()
    lock = target.with_name(target.name + ".lock")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # Another process preparing the same corpus: wait for it, then reuse its result.
        with FileLock(lock):
            try:
                return _prepare_corpus(source, cfg, progress, force)
            except BaseException:
                shutil.rmtree(partial, ignore_errors=True)  # still under the lock: only ours
                raise
            finally:
                # Leave no lock file behind (filelock keeps it by default). It is unlinked while
                # still held: a waiter that then locks the old file finds it unlinked and
                # retries on a fresh one (filelock re-checks st_nlink after locking), and after
                # a success whoever locks next finds the result and writes nothing.
                lock.unlink(missing_ok=True)
    except BaseException as err:
        if new_data_dir:  # created for nothing: leave no trace (rmdir refuses a non-empty one)
            with suppress(OSError):
                Path(cfg.data_dir).rmdir()
        if isinstance(err, OSError):
            where = f" ({err.filename})" if err.filename else ""
            raise CorpusError(f"preparing the corpus in {cfg.data_dir} failed: "
                              f"{err.strerror or err}{where}; fix that (disk space, permissions, "
                              "network) and run again") from None
        raise


def _prepare_corpus(source: Any, cfg: TextDataConfig, progress: ProgressFn | None = None,
                    force: bool = False) -> PreparedCorpus:
    """Prepare ``source`` (train/valid line iterators) under ``cfg.data_dir``; reuse if done.

    Streams twice over the training text (fit, then encode): memory stays bounded whatever the
    corpus size.
    """
    target = prepared_dir_for(source.name, cfg)
    if target.exists() and not force:
        if (target / "meta.json").is_file():
            return PreparedCorpus.open(target)
        shutil.rmtree(target)  # a half-written directory from an older layout: start over
    partial = target.with_name(target.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)  # an interrupted earlier attempt
    partial.mkdir(parents=True)
    started = time.time()
    tokenizer, n_seen = _fit_tokenizer(source, cfg, partial, progress)
    if n_seen == 0:
        shutil.rmtree(partial)
        raise CorpusError(f"corpus '{source.name}' has no training lines; check the path or source")
    atomic_write_text(partial / "vocab.json", tokenizer.to_json())
    labels: dict[str, Any] | None = None
    if is_labelled(source):
        n_train, n_valid, labels = _write_labelled(source, tokenizer, cfg.seq_len, partial,
                                                   progress, n_seen)
    else:
        n_train = _write_split(source.train_lines(), tokenizer, cfg.seq_len,
                               partial / "train.bin", progress, "encoding training text", n_seen)
        n_valid = _write_split(source.valid_lines(), tokenizer, cfg.seq_len,
                               partial / "valid.bin", progress, "encoding held-out text", None)
    settings = as_dict(cfg) | {"data_dir": None}
    if not cfg.label_settings():  # an unlabelled corpus's meta.json is as it always was
        settings = {k: v for k, v in settings.items() if k not in ("labels", "label_column")}
    meta = {
        "format": PREPARED_FORMAT,
        "source": source.describe(),
        "settings": settings,
        "tokenizer": tokenizer.kind,
        "seq_len": cfg.seq_len,
        "vocab_size": len(tokenizer.vocab),
        "dtype": np.dtype(tokenizer.dtype).name,
        "train_lines": n_train,
        "valid_lines": n_valid,
        "seconds": round(time.time() - started, 2),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        **({"labels": labels} if labels is not None else {}),
    }
    atomic_write_text(partial / "meta.json", json.dumps(meta, indent=2, ensure_ascii=False))
    if target.exists():
        shutil.rmtree(target)
    partial.rename(target)
    return PreparedCorpus.open(target)


def open_source_for(cfg: TextDataConfig, progress: ProgressFn | None = None) -> Any:
    """The corpus source ``cfg`` names (with its labels, if any), not yet read."""
    from textgan.text.corpora import open_source

    return open_source(cfg.corpus, cfg.corpus_path, valid_path=cfg.valid_path,
                       download_dir=Path(cfg.data_dir) / "downloads", progress=progress,
                       max_lines=cfg.max_lines, encoding_errors=cfg.encoding_errors,
                       labels=cfg.labels, label_column=cfg.label_column)


def load_corpus(cfg: TextDataConfig, progress: ProgressFn | None = None) -> PreparedCorpus:
    """Open (downloading/preparing once if needed) the corpus ``cfg`` describes.

    The data does not depend on the training seed: runs with different seeds share one corpus.
    """
    return prepare_corpus(open_source_for(cfg, progress), cfg, progress=progress)


def _check_label_identity(source: Any, cfg: TextDataConfig) -> None:
    """A source labelled by a setting (tsv, a label column) is prepared under a ``cfg`` that
    names it, so its directory name says it is labelled (the synthetic classes' name does)."""
    settings = cfg.label_settings()
    by_setting = bool(getattr(source, "labels", "none") != "none"
                      or getattr(source, "label_column", None))
    if by_setting and not settings:
        raise ValueError("a labelled source needs the data config that labels it "
                         "(labels / label_column), which names its prepared directory")
