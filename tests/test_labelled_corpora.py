"""Labelled text prepared once with the corpus: ``--labels tsv`` files, an ``hf:`` label column,
the synthetic classes; ``train_labels.bin`` / ``valid_labels.bin`` and ``meta.json``'s labels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from textgan.errors import CorpusError
from textgan.text.corpora import HFSource, open_source
from textgan.text.prepare import PreparedCorpus, TextDataConfig, load_corpus

# every 100th line is held out: 300 lines, 3 of them held out (indices 99, 199, 299)
TSV = "".join(f"{['pos', 'neg', 'meh'][i % 3]}\t{['good', 'bad', 'so so'][i % 3]} {i} .\n"
              for i in range(300))


def labelled(tmp_path: Path, text: str = TSV, name: str = "l.tsv", **settings: object
             ) -> PreparedCorpus:
    path = tmp_path / name
    path.write_text(text)
    cfg = TextDataConfig(corpus_path=str(path), labels="tsv", data_dir=str(tmp_path / "data"),
                         seq_len=12, **settings)  # type: ignore[arg-type]
    return load_corpus(cfg)


def test_tsv_labels_are_prepared_next_to_the_ids(tmp_path: Path):
    corpus = labelled(tmp_path)
    assert corpus.label_names == ["meh", "neg", "pos"]  # sorted labels of the training lines
    meta = json.loads((corpus.dir / "meta.json").read_text())
    assert meta["labels"] == {"names": ["meh", "neg", "pos"], "dtype": "uint8"}
    assert meta["settings"]["labels"] == "tsv"
    assert len(corpus.train) == 297 and len(corpus.valid) == 3
    assert corpus.train_labels is not None and corpus.valid_labels is not None
    assert corpus.train_labels.dtype == np.uint8 and corpus.train_labels.shape == (297,)
    assert (corpus.dir / "train_labels.bin").stat().st_size == 297
    # each row keeps its own label: "good" lines are pos (2), "bad" neg (1), "so so" meh (0)
    expected = {"good": 2, "bad": 1, "so": 0}
    for rows, labels in ((corpus.train, corpus.train_labels), (corpus.valid, corpus.valid_labels)):
        texts = corpus.decode_rows(rows, strip_pad=True)
        assert [expected[t.split()[0]] for t in texts] == labels.tolist()
    assert corpus.decode_rows(corpus.valid, strip_pad=True) == ["good 99 .", "bad 199 .",
                                                                "so so 299 ."]


def test_an_unlabelled_preparation_of_the_same_file_is_unchanged_and_apart(tmp_path: Path):
    corpus = labelled(tmp_path)
    plain = load_corpus(TextDataConfig(corpus_path=str(tmp_path / "l.tsv"),
                                       data_dir=str(tmp_path / "data"), seq_len=12))
    assert plain.dir != corpus.dir and plain.dir.name.split("-")[:2] == corpus.dir.name.split("-")[:2]
    assert sorted(p.name for p in plain.dir.iterdir()) == ["meta.json", "train.bin", "valid.bin",
                                                           "vocab.json"]
    meta = json.loads((plain.dir / "meta.json").read_text())
    assert "labels" not in meta and "labels" not in meta["settings"]
    assert "label_column" not in meta["settings"]
    assert plain.label_names == [] and plain.train_labels is None and plain.valid_labels is None
    assert plain.decode_rows(plain.train[:1]) == ["pos\tgood 0 ."]  # the tab is text here


def test_many_classes_take_uint16_ids(tmp_path: Path):
    text = "".join(f"c{i % 257:03d}\tline {i} .\n" for i in range(1000))
    corpus = labelled(tmp_path, text)
    assert len(corpus.label_names) == 257 and corpus.meta["labels"]["dtype"] == "uint16"
    assert corpus.train_labels is not None and corpus.train_labels.dtype == np.uint16
    assert (corpus.dir / "train_labels.bin").stat().st_size == 2 * len(corpus.train)
    texts = corpus.decode_rows(corpus.train, strip_pad=True)
    numbers = [int(t.split()[1]) for t in texts]
    assert [corpus.label_names[k] for k in corpus.train_labels] == [f"c{n % 257:03d}"
                                                                   for n in numbers]


@pytest.mark.parametrize("text, message", [
    ("pos\tfine .\nno tab here\n", r"l\.tsv: line 2: no tab"),
    ("pos\tfine .\n\n\t  missing label\n", r"l\.tsv: line 3: empty label"),
    ("pos\tfine .\n  \tmissing label\n", r"l\.tsv: line 2: empty label"),
])
def test_malformed_tsv_is_one_line_naming_file_and_line(tmp_path: Path, text: str, message: str):
    with pytest.raises(CorpusError, match=message) as err:
        labelled(tmp_path, text)
    assert "\n" not in str(err.value)
    assert not list((tmp_path / "data").glob("*.partial"))  # nothing half-prepared is left


def test_a_held_out_label_no_training_line_has_is_an_error(tmp_path: Path):
    (tmp_path / "held.tsv").write_text("odd\tnever seen .\n")
    with pytest.raises(CorpusError, match="held-out line has the label 'odd'"):
        labelled(tmp_path, valid_path=str(tmp_path / "held.tsv"))


def test_blank_texts_are_skipped_and_labels_trimmed(tmp_path: Path):
    text = "pos\tgood .\n  neg \tbad .\nneg\t   \nneg\t\n" * 40
    corpus = labelled(tmp_path, text)
    assert corpus.label_names == ["neg", "pos"]
    assert len(corpus.train) + len(corpus.valid) == 80


def test_label_options_fit_their_corpora(tmp_path: Path):
    path = tmp_path / "l.tsv"
    path.write_text(TSV)
    cases = [
        (dict(corpus="files", corpus_path=str(path), label_column="label"), "hf: dataset"),
        (dict(corpus="hf:json", corpus_path=str(path), labels="tsv"), "--label-column NAME"),
        (dict(corpus="synthetic", labels="tsv"), "synthetic-classes is the labelled"),
        (dict(corpus="billion_word", labels="tsv"), "billion_word corpus is not one"),
        (dict(corpus=None, corpus_path=str(path), labels="csv"), "unknown --labels 'csv'"),
    ]
    for kwargs, message in cases:
        with pytest.raises(CorpusError, match=message):
            open_source(download_dir=tmp_path / "dl", **kwargs)  # type: ignore[arg-type]


def test_a_damaged_labels_file_is_refused(tmp_path: Path):
    corpus = labelled(tmp_path)
    with open(corpus.dir / "train_labels.bin", "ab") as f:
        f.write(b"\x00")
    with pytest.raises(CorpusError, match="train_labels.bin has the wrong size"):
        PreparedCorpus.open(corpus.dir)
    (corpus.dir / "train_labels.bin").write_bytes(bytes([7]) * len(corpus.train))
    with pytest.raises(CorpusError, match="label ids beyond its 3 classes"):
        PreparedCorpus.open(corpus.dir)


def test_the_synthetic_classes_prepare_with_their_own_order(tmp_path: Path):
    corpus = load_corpus(TextDataConfig(corpus="synthetic-classes", data_dir=str(tmp_path),
                                        max_lines=200))
    assert corpus.dir.name.startswith("synthetic-classes-char-L32-")
    assert corpus.label_names == ["question", "statement"] and corpus.has_class_oracle
    assert corpus.is_synthetic  # the whole grammar's oracle applies too
    assert corpus.train_labels is not None and corpus.train_labels[:4].tolist() == [0, 1, 0, 1]
    texts = corpus.decode_rows(corpus.train[:4], strip_pad=True)
    assert [t.endswith("?") for t in texts] == [True, False, True, False]
    plain = load_corpus(TextDataConfig(corpus="synthetic", data_dir=str(tmp_path), max_lines=200))
    assert not plain.has_class_oracle and plain.label_names == []


# --- hf: datasets with a label column (offline, local files, as tests/test_corpora_hf.py) -------

@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


@pytest.mark.usefixtures("offline")
def test_hf_label_column_of_strings(tmp_path: Path):
    rows = [{"label": ["sport", "music"][i % 2], "body": f"line {i} .\nmore {i} ."}
            for i in range(60)]
    train = write_jsonl(tmp_path / "t.jsonl", rows)
    valid = write_jsonl(tmp_path / "v.jsonl", [{"label": "music", "body": "held ."}])
    source = HFSource("json", data_files=str(train), valid_files=str(valid),
                      cache_dir=tmp_path / "cache", label_column="label")
    examples = list(source.train_examples())
    # a row of two lines gives two examples of its label; the text column is not the label's
    assert examples[:3] == [("sport", "line 0 ."), ("sport", "more 0 ."), ("music", "line 1 .")]
    assert source.defined_labels() is None
    assert source.describe()["label_column"] == "label"
    assert source.describe()["text_column"] == "body"
    cfg = TextDataConfig(corpus="hf:json", corpus_path=str(train), valid_path=str(valid),
                         label_column="label", data_dir=str(tmp_path / "data"), seq_len=12)
    corpus = load_corpus(cfg)
    assert corpus.label_names == ["music", "sport"]
    assert corpus.valid_labels is not None and corpus.valid_labels.tolist() == [0]
    assert corpus.train_labels is not None and corpus.train_labels[:4].tolist() == [1, 1, 0, 0]
    plain = load_corpus(TextDataConfig(corpus="hf:json", corpus_path=str(train),
                                       valid_path=str(valid), data_dir=str(tmp_path / "data"),
                                       seq_len=12))
    assert plain.dir != corpus.dir and plain.label_names == []


@pytest.mark.usefixtures("offline")
def test_hf_class_label_column_gives_its_names_in_its_order(tmp_path: Path):
    datasets = pytest.importorskip("datasets")
    features = datasets.Features({"text": datasets.Value("string"),
                                  "label": datasets.ClassLabel(names=["pos", "neg"])})
    data = datasets.Dataset.from_dict(
        {"text": [f"row {i} ." for i in range(200)], "label": [i % 2 for i in range(200)]},
        features=features)
    data.to_parquet(str(tmp_path / "rows.parquet"))
    cfg = TextDataConfig(corpus="hf:parquet", corpus_path=str(tmp_path / "rows.parquet"),
                         label_column="label", data_dir=str(tmp_path / "data"), seq_len=10)
    corpus = load_corpus(cfg)
    assert corpus.label_names == ["pos", "neg"]  # the dataset's ids, not sorted
    texts = corpus.decode_rows(corpus.train, strip_pad=True)
    assert corpus.train_labels is not None
    assert corpus.train_labels.tolist() == [int(t.split()[1]) % 2 for t in texts]


@pytest.mark.usefixtures("offline")
def test_hf_label_column_errors(tmp_path: Path):
    train = write_jsonl(tmp_path / "t.jsonl", [{"text": "a .", "label": "x"},
                                               {"text": "b .", "label": None}])
    missing = HFSource("json", data_files=str(train), cache_dir=tmp_path / "c",
                       label_column="topic")
    with pytest.raises(CorpusError, match="no label column 'topic'; columns: text, label"):
        list(missing.train_examples())
    source = HFSource("json", data_files=str(train), cache_dir=tmp_path / "c",
                      label_column="label")
    with pytest.raises(CorpusError, match=r"row 2 has no label in column 'label'"):
        list(source.train_examples())
