"""Local files source and open_source dispatch."""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

import pytest

from textgan.errors import CorpusError
from textgan.text.corpora import FilesSource, Source, SyntheticSource, open_source
from textgan.text.corpora.files import resolve_paths


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def numbered(n: int, prefix: str = "line") -> list[str]:
    return [f"{prefix} {i} ." for i in range(n)]


def test_single_file_terminators_blank_lines_and_bom(tmp_path: Path):
    path = write(tmp_path / "c.txt", "\ufeffone .\r\ntwo .\n\n   \nthree\u2028same line .\nlast")
    source = FilesSource(str(path))
    assert list(source.train_lines()) == ["one .", "two .", "three\u2028same line .", "last"]
    assert list(source.valid_lines()) == []  # fewer than 100 lines: nothing carved off
    assert isinstance(source, Source)


def test_directory_recursive_sorted_gzip_and_hidden(tmp_path: Path):
    root = tmp_path / "corpus"
    write(root / "b.txt", "b1\nb2\n")
    write(root / "a" / "z.txt.gz", gzip.compress(b"az1\naz2\n"))
    write(root / "c.data", gzip.compress(b"gzip by magic\n"))  # no .gz suffix
    write(root / ".hidden.txt", "never\n")
    write(root / ".git" / "x", "never\n")
    source = FilesSource(str(root))
    assert [p.name for p in source.files] == ["z.txt.gz", "b.txt", "c.data"]
    assert list(source.train_lines()) == ["az1", "az2", "b1", "b2", "gzip by magic"]


def test_glob(tmp_path: Path):
    write(tmp_path / "x1.txt", "one\n")
    write(tmp_path / "x2.txt", "two\n")
    write(tmp_path / "y.txt", "other\n")
    assert list(FilesSource(str(tmp_path / "x*.txt")).train_lines()) == ["one", "two"]
    assert [p.name for p in resolve_paths(str(tmp_path / "**" / "*.txt"))] == [
        "x1.txt", "x2.txt", "y.txt"]


def test_carving_is_deterministic_and_complementary(tmp_path: Path):
    lines = numbered(250)
    # Blank lines do not count towards the index.
    write(tmp_path / "a.txt", "\n".join(lines[:120]) + "\n\n\n")
    write(tmp_path / "b.txt", "\n".join(lines[120:]) + "\n")
    source = FilesSource(str(tmp_path))
    train, valid = list(source.train_lines()), list(source.valid_lines())
    assert valid == ["line 99 .", "line 199 ."]
    assert len(train) == 248 and not set(train) & set(valid)
    assert sorted(train + valid, key=lambda s: int(s.split()[1])) == lines
    source10 = FilesSource(str(tmp_path), valid_every=10)
    assert list(source10.valid_lines()) == [f"line {i} ." for i in range(9, 250, 10)]
    with pytest.raises(CorpusError):
        FilesSource(str(tmp_path), valid_every=1)


def test_max_lines_with_carving_stops_both_sides_at_the_same_place(tmp_path: Path):
    write(tmp_path / "c.txt", "\n".join(numbered(1000)) + "\n")
    source = FilesSource(str(tmp_path / "c.txt"), max_lines=150)
    train, valid = list(source.train_lines()), list(source.valid_lines())
    assert len(train) == 150 and train[-1] == "line 150 ."
    assert valid == ["line 99 ."]


def test_valid_path(tmp_path: Path):
    write(tmp_path / "train.txt", "\n".join(numbered(300)))
    write(tmp_path / "valid.txt.gz", gzip.compress(b"v1\nv2\n"))
    source = FilesSource(str(tmp_path / "train.txt"), valid_path=str(tmp_path / "valid.txt.gz"),
                         max_lines=200)
    assert list(source.train_lines()) == numbered(200)
    assert list(source.valid_lines()) == ["v1", "v2"]
    assert source.describe()["held_out"] == "valid_path"


def test_errors_name_the_path_on_one_line(tmp_path: Path):
    cases = [
        (str(tmp_path / "missing.txt"), "does not exist"),
        (str(tmp_path / "nothing*.txt"), "matches no files"),
    ]
    (tmp_path / "empty_dir").mkdir()
    cases.append((str(tmp_path / "empty_dir"), "contains no files"))
    for spec, what in cases:
        with pytest.raises(CorpusError, match=what) as err:
            FilesSource(spec)
        assert spec in str(err.value) and "\n" not in str(err.value)
    blank = write(tmp_path / "blank.txt", "\n  \n\r\n")
    with pytest.raises(CorpusError, match="no non-empty lines") as err:
        list(FilesSource(str(blank)).train_lines())
    assert str(blank) in str(err.value)
    train = write(tmp_path / "train.txt", "x\n")
    with pytest.raises(CorpusError, match="no non-empty lines"):
        list(FilesSource(str(train), valid_path=str(blank)).valid_lines())
    corrupt = write(tmp_path / "bad.gz", b"\x1f\x8b" + b"not really gzip")
    with pytest.raises(CorpusError, match="corrupt gzip"):
        list(FilesSource(str(corrupt)).train_lines())


def test_invalid_utf8(tmp_path: Path):
    path = write(tmp_path / "c.txt", b"good .\n\nbad \xc3\x28 here .\n")
    with pytest.raises(CorpusError) as err:
        list(FilesSource(str(path)).train_lines())
    message = str(err.value)
    assert str(path) in message and "line 3" in message
    assert "--encoding-errors replace" in message and "\n" not in message
    lines = list(FilesSource(str(path), encoding_errors="replace").train_lines())
    assert lines == ["good .", "bad \ufffd( here ."]
    with pytest.raises(CorpusError, match="encoding-errors"):
        FilesSource(str(path), encoding_errors="ignore-please")


def test_name_and_describe(tmp_path: Path):
    path = write(tmp_path / "c.txt", "hello .\n")
    source = FilesSource(str(path))
    assert source.name.startswith("files-") and len(source.name) == len("files-") + 8
    int(source.name[6:], 16)
    assert FilesSource(str(tmp_path)).name == source.name  # same files, same name
    info = source.describe()
    assert info["kind"] == "files"
    assert info["train_files"] == [{
        "path": str(path.resolve()), "size": 8,
        "sha256": hashlib.sha256(b"hello .\n").hexdigest(),
    }]
    assert info["settings"] == {"valid_every": 100, "max_lines": None, "encoding_errors": "strict"}
    write(path, "hello again .\n")
    os.utime(path, ns=(10**18, 10**18))
    assert FilesSource(str(path)).name != source.name


def test_open_source_dispatch(tmp_path: Path):
    path = write(tmp_path / "c.txt", "a\n")
    dl = tmp_path / "dl"
    assert isinstance(open_source(None, str(path), download_dir=dl), FilesSource)
    assert isinstance(open_source("files", str(path), download_dir=dl), FilesSource)
    default = open_source(None, None, download_dir=dl, seed=3, max_lines=10)
    assert isinstance(default, SyntheticSource) and default.name == "synthetic-s3"
    assert open_source(None, None, download_dir=dl).name == "synthetic"
    assert default.describe()["seed"] == 3 and len(list(default.train_lines())) == 10
    assert open_source("billion_word", None, download_dir=dl).name == "billion_word"
    assert not dl.exists()  # opening is cheap: nothing downloaded yet
    assert open_source("hf:json", str(path), download_dir=dl).name.startswith("hf-json-")
    for corpus, path_arg, extra, what in [
        ("nonsense", None, {}, "billion_word, synthetic, synthetic-classes, files"),
        ("files", None, {}, "--corpus-path"),
        ("synthetic", str(path), {}, "takes no --corpus-path"),
        ("billion_word", None, {"valid_path": str(path)}, "--valid-path"),
        (None, str(path), {"max_lines": 0}, "max-lines"),
        (None, str(path), {"encoding_errors": "bogus"}, "encoding-errors"),
    ]:
        with pytest.raises(CorpusError, match=what) as err:
            open_source(corpus, path_arg, download_dir=dl, **extra)
        assert "\n" not in str(err.value)
