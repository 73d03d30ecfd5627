"""Reading samples files: one sample a line, or ``label<TAB>text`` lines, with the one reader of
text files (:func:`textgan.text.corpora.base.read_lines`)."""

from __future__ import annotations

from pathlib import Path

from textgan.errors import TextganError
from textgan.text.prepare import TextDataConfig


def read_samples(path: str | Path, limit: int | None = None,
                 encoding_errors: str = TextDataConfig.encoding_errors) -> list[str]:
    """Non-blank lines of a samples file, one sample a line (UTF-8, plain or gzip: the corpora's
    reader, :func:`textgan.text.corpora.base.read_lines`)."""
    from textgan.text.corpora.base import read_lines

    lines = [text for _, text in read_lines(Path(path), encoding_errors)]
    if not lines:
        raise TextganError(f"samples file {path} has no non-empty lines")
    return lines[:limit] if limit else lines


def read_labelled_lines(path: str | Path, encoding_errors: str = TextDataConfig.encoding_errors
                        ) -> list[tuple[int, str, str]]:
    """``(line number, label, text)`` of each ``label<TAB>text`` line of a UTF-8 file (plain or
    gzip, read as every text file is: :func:`textgan.text.corpora.base.read_lines`). Blank
    lines, and lines whose text is blank, are skipped; a line without a tab or with an empty
    label is a one-line error naming the line."""
    from textgan.text.corpora.base import read_lines

    records = []
    for number, text in read_lines(Path(path), encoding_errors):
        label, tab, sample = text.partition("\t")
        if not tab:
            raise TextganError(f"{path} line {number} has no tab: labelled lines are "
                               "label<TAB>text")
        if not label.strip():
            raise TextganError(f"{path} line {number} has an empty label")
        if sample.strip():
            records.append((number, label, sample))
    if not records:
        raise TextganError(f"{path} has no labelled lines (label<TAB>text)")
    return records
