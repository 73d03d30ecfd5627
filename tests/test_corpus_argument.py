"""`--corpus PATH`: an existing file, directory or glob works as `--corpus-path` does; corpus
names win; anything else is the one-line "unknown corpus"."""

import tomllib

import pytest

from textgan.cli.main import run
from textgan.errors import CorpusError
from textgan.text.corpora import FilesSource, SyntheticSource, open_source
from textgan.text.prepare import TextDataConfig, prepared_dir_for


@pytest.fixture()
def texts(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    books = tmp_path / "books"
    books.mkdir()
    for name in ("a", "b"):
        (books / f"{name}.txt").write_text("".join(f"{name} line {i} here\n" for i in range(150)))
    (tmp_path / "my_text.txt").write_text("".join(f"my line {i}\n" for i in range(300)))
    return tmp_path


def source(corpus, corpus_path=None, **kw):
    return open_source(corpus, corpus_path, download_dir=kw.pop("download_dir", "dl"), **kw)


def test_a_path_as_corpus_is_the_files_source(texts):
    for spec in ("my_text.txt", "books", "books/*.txt", str(texts / "my_text.txt")):
        by_corpus, by_path = source(spec), source(None, spec)
        assert isinstance(by_corpus, FilesSource)
        assert by_corpus.name == by_path.name  # so both prepare into the same directory
        assert list(by_corpus.train_lines()) == list(by_path.train_lines())
        assert list(by_corpus.valid_lines()) == list(by_path.valid_lines())
    with_valid = source("books", valid_path="my_text.txt")
    assert list(with_valid.valid_lines())[:2] == ["my line 0", "my line 1"]


def test_names_win_and_everything_else_is_unknown(texts):
    (texts / "synthetic").write_text("a file called synthetic\n")
    assert isinstance(source("synthetic"), SyntheticSource)
    for spec in ("wikipedia", "nothing/*.txt", "missing.txt"):
        with pytest.raises(CorpusError) as err:
            source(spec)
        message = str(err.value)
        assert message.startswith(f"unknown corpus '{spec}': neither a corpus name (")
        assert message.endswith("nor an existing file, directory or glob")
    with pytest.raises(CorpusError, match="--corpus my_text.txt is already a path; drop "
                       "--corpus-path books"):
        source("my_text.txt", "books")


def test_train_and_prepare_take_a_path_as_corpus(texts, capsys):
    assert run(["prepare", "--corpus", "my_text.txt", "--seq-len", "12"]) == 0
    expected = prepared_dir_for(source(None, "my_text.txt").name,
                                TextDataConfig(corpus_path="my_text.txt", seq_len=12))
    assert (expected / "meta.json").is_file()
    assert f"prepared {expected}" in capsys.readouterr().err
    assert run(["train", "--corpus", "books/*.txt", "--out", "run", "--steps", "1", "--dim", "8",
                "--batch-size", "2", "--seq-len", "12", "--sample-every", "0",
                "--eval-every", "0", "--device", "cpu"]) == 0
    assert tomllib.loads((texts / "run" / "config.toml").read_text())["data"]["corpus"] == "books/*.txt"
    capsys.readouterr()
    assert run(["train", "--corpus", "wikipedia", "--steps", "1"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown corpus 'wikipedia': neither a corpus name" in err
    assert not (texts / "runs").exists()  # a failed start leaves nothing behind


def test_eval_reference_takes_a_path(texts, capsys):
    (texts / "samples.txt").write_text("my line 3\nmy line 40\n")
    assert run(["eval", "samples.txt", "--reference", "my_text.txt", "--seq-len", "12",
                "--json", "--no-lm"]) == 0
    assert '"memorized": 1.0' in capsys.readouterr().out  # both are lines of the reference


def test_corpus_names_come_from_one_registry(tmp_path, monkeypatch):
    """--corpus's help, its parsing and the unknown-corpus error read textgan.text.corpora.CORPORA;
    a corpus registered there opens by name with no other edit."""
    import dataclasses

    import pytest

    from textgan.errors import CorpusError
    from textgan.text.corpora import (
        CORPORA,
        NAMED_CORPORA,
        NamedCorpus,
        SyntheticSource,
        is_labelled_corpus,
        open_source,
    )
    from textgan.text.prepare import TextDataConfig

    assert NAMED_CORPORA == tuple(CORPORA) == ("billion_word", "synthetic", "synthetic-classes")
    (corpus,) = [f for f in dataclasses.fields(TextDataConfig) if f.name == "corpus"]
    for name, entry in CORPORA.items():
        assert f"{name} ({entry.description})" in corpus.metadata["help"]
    assert is_labelled_corpus(" synthetic-classes") and not is_labelled_corpus("synthetic")
    assert not is_labelled_corpus(None)
    with pytest.raises(CorpusError, match="billion_word, synthetic, synthetic-classes, files"):
        open_source("tiny", download_dir=tmp_path)
    monkeypatch.setitem(CORPORA, "tiny", NamedCorpus(
        "three lines", lambda name, a: SyntheticSource(seed=a.seed, max_lines=3)))
    source = open_source("tiny", download_dir=tmp_path)
    assert isinstance(source, SyntheticSource) and len(list(source.train_lines())) <= 3
