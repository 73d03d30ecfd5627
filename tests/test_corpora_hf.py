"""Hugging Face source, offline, on local JSON-lines / parquet data the tests write."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from textgan.errors import CorpusError
from textgan.text.corpora import HFSource, open_source
from textgan.text.corpora.hf import parse_spec


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_local_directory_with_train_and_validation(tmp_path: Path):
    root = tmp_path / "mydata"
    write_jsonl(root / "train.jsonl", [
        {"id": 1, "text": "first line ."},
        {"id": 2, "text": "two lines .\r\nin one row .\n\n"},
        {"id": 3, "text": ""},
        {"id": 4, "text": None},
        {"id": 5, "text": "last ."},
    ])
    write_jsonl(root / "validation.jsonl", [{"id": 9, "text": "held out ."}])
    source = HFSource(str(root), cache_dir=tmp_path / "cache", max_lines=3)
    assert list(source.train_lines()) == ["first line .", "two lines .", "in one row ."]
    assert list(source.valid_lines()) == ["held out ."]
    assert source.name.startswith("hf-mydata-") and len(source.name) == len("hf-mydata-") + 8
    info = source.describe()
    assert (info["kind"], info["split"], info["held_out"], info["text_column"]) == (
        "hf", "train", "validation", "text")
    hashes = {Path(f["path"]).name: f["sha256"] for f in info["local_files"]}
    assert hashes["train.jsonl"] == hashlib.sha256((root / "train.jsonl").read_bytes()).hexdigest()


def test_parquet_builder_with_data_files_carves_held_out(tmp_path: Path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "rows.parquet"
    lines = [f"row {i} ." for i in range(250)]
    pq.write_table(pa.table({"n": list(range(250)), "body": lines}), path)
    source = open_source("hf:parquet", str(path), download_dir=tmp_path / "dl")
    assert isinstance(source, HFSource)
    source.cache_dir = tmp_path / "cache"
    train, valid = list(source.train_lines()), list(source.valid_lines())
    assert valid == ["row 99 .", "row 199 ."]  # no validation split: every 100th line
    assert train == [line for line in lines if line not in valid]
    assert source.describe()["text_column"] == "body"  # the only string column


def test_json_builder_with_valid_path_and_explicit_split(tmp_path: Path):
    train = write_jsonl(tmp_path / "t.jsonl", [{"text": f"t{i}"} for i in range(3)])
    valid = write_jsonl(tmp_path / "v.jsonl", [{"text": "v0"}])
    source = HFSource("json:train", data_files=str(train), valid_files=str(valid),
                      cache_dir=tmp_path / "cache")
    assert list(source.train_lines()) == ["t0", "t1", "t2"]
    assert list(source.valid_lines()) == ["v0"]
    bad = HFSource("json:nosuchsplit", data_files=str(train), cache_dir=tmp_path / "cache")
    with pytest.raises(CorpusError, match="no split 'nosuchsplit'"):
        list(bad.train_lines())


def test_unloadable_datasets_raise_corpus_error(tmp_path: Path):
    source = HFSource("no-such-owner-xyz/no-such-dataset", cache_dir=tmp_path / "cache")
    with pytest.raises(CorpusError, match="could not load Hugging Face dataset") as err:
        list(source.train_lines())
    assert "\n" not in str(err.value)
    numbers = write_jsonl(tmp_path / "n.jsonl", [{"a": 1, "b": 2.0}])
    with pytest.raises(CorpusError, match="no text column"):
        list(HFSource("json", data_files=str(numbers), cache_dir=tmp_path / "c").train_lines())
    with pytest.raises(CorpusError, match="does not exist"):
        HFSource("json", data_files=str(tmp_path / "missing.jsonl"))


def test_parse_spec(tmp_path: Path):
    assert parse_spec("wikitext") == ("wikitext", None, None)
    assert parse_spec("owner/name") == ("owner/name", None, None)
    assert parse_spec("owner/name/cfg:validation") == ("owner/name", "cfg", "validation")
    assert parse_spec("json:train") == ("json", None, "train")
    (tmp_path / "d").mkdir()
    assert parse_spec(f"{tmp_path / 'd'}:test") == (str(tmp_path / "d"), None, "test")
    assert parse_spec(f"{tmp_path / 'd'}/cfg") == (str(tmp_path / "d"), "cfg", None)
    with pytest.raises(CorpusError):
        parse_spec(":train")
