"""The corpus-source interface, shared line-reading helpers, and :func:`open_source`.

A source yields raw text lines (terminator stripped, blank lines skipped); the preparation step
(tokenizer, padding, memmaps) lives elsewhere and consumes them.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from textgan.errors import CorpusError
from textgan.io.files import is_gzip

ENCODING_ERRORS = ("strict", "replace")
LABEL_SOURCES = ("none", "tsv")
MAX_CLASSES = 65_536  # label ids are stored as uint16 at most

_READ_CHUNK = 1 << 20


@runtime_checkable
class Source(Protocol):
    """A corpus: lazily yields training and held-out lines and describes itself."""

    name: str
    """Short filesystem-safe id naming the prepared directory."""

    def train_lines(self) -> Iterator[str]:
        """Training lines without terminator; blank lines skipped."""
        ...

    def valid_lines(self) -> Iterator[str]:
        """Held-out lines, same conventions as :meth:`train_lines`."""
        ...

    def describe(self) -> dict[str, Any]:
        """JSON-able provenance: kind, locations, checksums of the inputs, settings."""
        ...


Example = tuple[str, str]
"""A labelled line: (class label, text)."""


@runtime_checkable
class LabelledSource(Source, Protocol):
    """A corpus whose lines carry class labels (``labelled`` is True). ``train_lines`` /
    ``valid_lines`` are the texts of ``train_examples`` / ``valid_examples``."""

    labelled: bool

    def train_examples(self) -> Iterator[Example]:
        """(label, text) of the training lines, in the order of :meth:`train_lines`."""
        ...

    def valid_examples(self) -> Iterator[Example]:
        """(label, text) of the held-out lines."""
        ...

    def defined_labels(self) -> list[str] | None:
        """The class names in label-id order when the source defines them (a dataset's
        ClassLabel names, the synthetic classes); None: the sorted labels of the training lines.
        Called after the training examples were read."""
        ...


def is_labelled(source: Any) -> bool:
    """Whether ``source`` yields labelled examples (a :class:`LabelledSource` switched on)."""
    return bool(getattr(source, "labelled", False))


def check_labels_setting(value: str) -> str:
    """Validate a ``labels`` setting (where a corpus's class labels come from)."""
    if value not in LABEL_SOURCES:
        raise CorpusError(f"unknown --labels {value!r}; use one of: {', '.join(LABEL_SOURCES)}")
    return value


def check_encoding_errors(value: str) -> str:
    """Validate an ``encoding_errors`` setting."""
    if value not in ENCODING_ERRORS:
        raise CorpusError(
            f"unknown encoding-errors mode {value!r}; use one of: {', '.join(ENCODING_ERRORS)}"
        )
    return value


def check_max_lines(value: int | None) -> int | None:
    """Validate a ``max_lines`` cap (None means no cap)."""
    if value is not None and value < 1:
        raise CorpusError(f"max-lines must be at least 1 (got {value}); omit it to read everything")
    return value


def split_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Re-cut a stream of byte chunks into lines on b"\\n", dropping the "\\n" / "\\r\\n"."""
    carry = b""
    for chunk in chunks:
        if not chunk:
            continue
        parts = (carry + chunk).split(b"\n")
        carry = parts.pop()
        for part in parts:
            yield part[:-1] if part.endswith(b"\r") else part
    if carry:
        yield carry[:-1] if carry.endswith(b"\r") else carry


def decode_lines(raw_lines: Iterable[bytes], where: str, encoding_errors: str) -> Iterator[str]:
    """Decode UTF-8 lines, skipping blank ones; ``where`` names the input in error messages.

    Splitting happens on bytes (not ``str.splitlines``) so that U+2028, form feeds etc. inside a
    sentence do not start new lines.
    """
    return (text for _, text in decode_numbered_lines(raw_lines, where, encoding_errors))


def decode_numbered_lines(raw_lines: Iterable[bytes], where: str,
                          encoding_errors: str) -> Iterator[tuple[int, str]]:
    """:func:`decode_lines` with each line's number in the input (1-based, blank lines counted)."""
    for lineno, raw in enumerate(raw_lines, start=1):
        try:
            text = raw.decode("utf-8", errors=encoding_errors)
        except UnicodeDecodeError as err:
            raise CorpusError(
                f"{where}: line {lineno}: invalid UTF-8 (byte 0x{raw[err.start]:02x} at column "
                f"{err.start + 1}); fix the file or pass --encoding-errors replace"
            ) from None
        if lineno == 1 and text.startswith("\ufeff"):
            text = text[1:]  # a UTF-8 byte-order mark is not part of the first sentence
        if text.strip():
            yield lineno, text


def _file_chunks(path: Path) -> Iterator[bytes]:
    try:
        # A .gz name counts too, so a corrupt .gz file is reported as corrupt, not read as text.
        opener = gzip.open if path.suffix == ".gz" or is_gzip(path) else open
        with opener(path, "rb") as fh:
            while chunk := fh.read(_READ_CHUNK):
                yield chunk
    except (gzip.BadGzipFile, EOFError, zlib.error) as err:
        raise CorpusError(
            f"{path}: corrupt gzip data ({err}); re-create or re-download the file"
        ) from None
    except FileNotFoundError:
        raise CorpusError(f"{path} does not exist") from None
    except IsADirectoryError:
        raise CorpusError(f"{path} is a directory; pass a text file") from None
    except OSError as err:
        raise CorpusError(f"cannot read {path}: {err.strerror or err}") from None


def read_lines(path: Path, encoding_errors: str = "strict") -> Iterator[tuple[int, str]]:
    """(line number, text) of each non-blank line of a plain or gzip-compressed UTF-8 file: the
    one reader of text files (corpora, samples files, labelled files). Lines end at "\n" or
    "\r\n" only; a byte-order mark before the first line is dropped; bad UTF-8 is an error
    naming the line, unless ``encoding_errors`` is ``replace`` or ``ignore``."""
    return decode_numbered_lines(split_lines(_file_chunks(path)), str(path), encoding_errors)


def read_text_file(path: Path, encoding_errors: str = "strict") -> Iterator[str]:
    """Non-blank lines of a plain or gzip-compressed UTF-8 text file (:func:`read_lines`)."""
    return (text for _, text in read_lines(path, encoding_errors))


def read_tsv_examples(path: Path, encoding_errors: str = "strict") -> Iterator[Example]:
    """(label, text) of each non-blank ``LABEL<TAB>TEXT`` line of a text file (``--labels tsv``):
    the label is what comes before the first tab, spaces around it dropped; the text is the rest,
    as is. A line without a tab or with an empty label is a one-line error naming the file and
    line; a line whose text is empty or whitespace is skipped, as blank lines are."""
    for lineno, line in read_lines(path, encoding_errors):
        label, tab, text = line.partition("\t")
        if not tab:
            raise CorpusError(f"{path}: line {lineno}: no tab; with --labels tsv every line is "
                              "LABEL<TAB>TEXT")
        label = label.strip()
        if not label:
            raise CorpusError(f"{path}: line {lineno}: empty label before the tab; with --labels "
                              "tsv every line is LABEL<TAB>TEXT")
        if text.strip():
            yield label, text


def require_lines(lines: Iterable[str], what: str, flag: str = "--corpus-path") -> Iterator[str]:
    """Pass ``lines`` through, raising CorpusError if there were none at all (naming ``flag``,
    the option the user gave the text with)."""
    empty = True
    for line in lines:
        empty = False
        yield line
    if empty:
        raise CorpusError(f"{what} has no non-empty lines; point {flag} at UTF-8 text")


def cap(lines: Iterable[str], max_lines: int | None) -> Iterator[str]:
    """The first ``max_lines`` items of ``lines`` (all of them if None), closing it early."""
    if max_lines is None:
        yield from lines
        return
    count = 0
    for line in lines:
        yield line
        count += 1
        if count >= max_lines:
            break
    close = getattr(lines, "close", None)
    if close is not None:
        close()  # release open files of an abandoned generator now, not at garbage collection


def fingerprint(paths: Iterable[Path]) -> str:
    """8 hex digits identifying files by sorted absolute path, size and mtime (cheap, no reads)."""
    digest = hashlib.sha256()
    for path in sorted({str(Path(p).resolve()) for p in paths}):
        st = os.stat(path)
        digest.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:8]
