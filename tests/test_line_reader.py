"""One reader of text lines: samples files, labelled files and corpus files read a byte-order
mark, CRLF endings, gzip and bad UTF-8 the same way (textgan.text.corpora.base.read_lines)."""

from __future__ import annotations

import gzip

import pytest

from textgan.errors import TextganError
from textgan.text.corpora.base import read_text_file
from textgan.text.evaluation import read_labelled_lines, read_samples

RAW = "\ufeffa\tfirst line\r\n\r\nb\tsecond\u2028same line\n  \nc\tthird".encode()
LINES = ["a\tfirst line", "b\tsecond\u2028same line", "c\tthird"]


@pytest.mark.parametrize("gz", [False, True])
def test_every_reader_reads_the_same_lines(tmp_path, gz):
    path = tmp_path / ("lines.txt.gz" if gz else "lines.txt")
    path.write_bytes(gzip.compress(RAW) if gz else RAW)
    assert list(read_text_file(path)) == LINES
    assert read_samples(path) == LINES
    assert read_samples(path, limit=2) == LINES[:2]
    assert [(n, f"{label}\t{text}") for n, label, text in read_labelled_lines(path)] == \
        list(zip([1, 3, 5], LINES, strict=True))


def test_bad_utf8_is_the_same_error_everywhere_unless_replaced(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"x\tok\ny\tcaf\xe9\n")
    messages = []
    for read in (lambda: list(read_text_file(path)), lambda: read_samples(path),
                 lambda: read_labelled_lines(path)):
        with pytest.raises(TextganError) as err:
            read()
        messages.append(str(err.value))
    assert messages == [f"{path}: line 2: invalid UTF-8 (byte 0xe9 at column 6); fix the file "
                        "or pass --encoding-errors replace"] * 3
    assert read_samples(path, encoding_errors="replace") == ["x\tok", "y\tcaf\ufffd"]
    assert read_labelled_lines(path, encoding_errors="replace")[1] == (2, "y", "caf\ufffd")


def test_missing_and_directory(tmp_path):
    with pytest.raises(TextganError, match="missing.txt does not exist$"):
        read_samples(tmp_path / "missing.txt")
    with pytest.raises(TextganError, match="is a directory; pass a text file$"):
        read_labelled_lines(tmp_path)
