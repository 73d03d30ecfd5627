import json

import numpy as np
import pytest

from textgan.errors import CorpusError
from textgan.text.prepare import PreparedCorpus, TextDataConfig, prepare_corpus, prepared_dir_for
from textgan.text.tokenizer import UNK, CharTokenizer


class ListSource:
    """A minimal in-memory source with the corpora interface."""

    def __init__(self, train, valid, name="listsrc"):
        self.name, self._train, self._valid = name, train, valid

    def train_lines(self):
        return iter(self._train)

    def valid_lines(self):
        return iter(self._valid)

    def describe(self):
        return {"kind": "list", "n": len(self._train)}


def test_fit_orders_by_frequency_with_unk_and_pad_first():
    tok = CharTokenizer.fit([["aab", "ab"]], seq_len=4, max_vocab=10)
    # padded: "aab`" + "ab``" → ` ×3, a ×3, b ×2; unk and pad always take ids 0 and 1
    assert tok.vocab == [UNK, "`", "a", "b"]
    capped = CharTokenizer.fit([["aab", "abc"]], seq_len=3, max_vocab=3)
    assert capped.vocab == [UNK, "`", "a"]


def test_encode_cuts_pads_and_maps_unknown_to_unk():
    tok = CharTokenizer(vocab=[UNK, "`", "a", "b", "é"])
    ids = tok.encode(["abé", "bbbbbbb", "", "az"], seq_len=4)
    assert ids.dtype == np.uint8 and ids.shape == (4, 4)
    assert ids.tolist() == [[2, 3, 4, 1], [3, 3, 3, 3], [1, 1, 1, 1], [2, 0, 1, 1]]
    assert tok.decode(ids[0]) == "abé`" and tok.decode(ids[0], strip_pad=True) == "abé"
    assert tok.decode(ids[3], strip_pad=True) == "a" + UNK


def test_encode_handles_astral_code_points_and_uint16():
    vocab = [UNK, "`"] + [chr(0x4E00 + i) for i in range(300)] + ["😀"]
    tok = CharTokenizer(vocab=vocab)
    assert tok.dtype == np.uint16
    ids = tok.encode(["😀" + chr(0x4E00 + 299)], seq_len=3)
    assert ids.tolist() == [[302, 301, 1]]


def test_json_round_trip():
    tok = CharTokenizer(vocab=[UNK, "`", "x", '"', "\\"])
    assert CharTokenizer.from_json(tok.to_json()).vocab == tok.vocab


def test_prepare_writes_memmaps_and_meta_last(tmp_path):
    train = ["the cat .", "a dog runs .", "the dog ."] * 10
    valid = ["the cat runs ."]
    cfg = TextDataConfig(data_dir=str(tmp_path), seq_len=8)
    corpus = prepare_corpus(ListSource(train, valid), cfg)
    assert corpus.dir == prepared_dir_for("listsrc", cfg)
    assert corpus.train.shape == (30, 8) and corpus.valid.shape == (1, 8)
    assert corpus.decode_rows(corpus.train[:2]) == ["the cat ", "a dog ru"]
    assert corpus.decode_rows(corpus.valid, strip_pad=True) == ["the cat "]
    meta = json.loads((corpus.dir / "meta.json").read_text())
    assert meta["train_lines"] == 30 and meta["source"] == {"kind": "list", "n": 30}
    assert not corpus.dir.with_name(corpus.dir.name + ".partial").exists()
    # Reopened from disk: same arrays.
    again = PreparedCorpus.open(corpus.dir)
    assert np.array_equal(np.asarray(again.train), np.asarray(corpus.train))


def test_prepare_is_reused_and_settings_change_the_directory(tmp_path):
    src = ListSource(["abc"] * 5, [])
    a = prepare_corpus(src, TextDataConfig(data_dir=str(tmp_path), seq_len=4))
    b = prepare_corpus(src, TextDataConfig(data_dir=str(tmp_path), seq_len=4))
    c = prepare_corpus(src, TextDataConfig(data_dir=str(tmp_path), seq_len=5))
    assert a.dir == b.dir != c.dir


def test_empty_corpus_is_an_error_and_leaves_nothing(tmp_path):
    with pytest.raises(CorpusError, match="no training lines"):
        prepare_corpus(ListSource([], []), TextDataConfig(data_dir=str(tmp_path)))
    assert list(tmp_path.iterdir()) == []


def test_half_prepared_directory_is_refused(tmp_path):
    d = tmp_path / "x"
    d.mkdir()
    (d / "train.bin").write_bytes(b"\0" * 64)
    with pytest.raises(CorpusError, match="not a fully prepared corpus"):
        PreparedCorpus.open(d)


def test_batches_read_rows_from_the_file_exactly(tmp_path):
    import torch

    from textgan.text.mode import CorpusBatches

    rng = np.random.default_rng(0)
    rows = rng.integers(0, 7, size=(500, 9)).astype(np.uint8)
    rows.tofile(tmp_path / "train.bin")
    mm = np.memmap(tmp_path / "train.bin", dtype=np.uint8, mode="r", shape=(500, 9))
    from_file, in_memory = CorpusBatches(mm, 7, seed=3), CorpusBatches(rows, 7, seed=3)
    assert from_file._file is not None  # the pread path
    for _ in range(5):
        a = from_file.next_batch(16, torch.device("cpu"))
        b = in_memory.next_batch(16, torch.device("cpu"))
        assert a.shape == (16, 9, 7) and torch.equal(a, b)
        assert torch.equal(a.sum(-1), torch.ones(16, 9))  # one-hot
    state = from_file.state_dict()
    expected = from_file.next_batch(4, torch.device("cpu"))
    from_file.load_state_dict(state)
    assert torch.equal(from_file.next_batch(4, torch.device("cpu")), expected)
