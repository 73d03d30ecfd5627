"""Subword mode: the SentencePiece tokenizer, prepared corpora of pieces, training and sampling."""

import json
import random
import shutil

import numpy as np
import pytest
import torch

from textgan.cli.main import run
from textgan.errors import CorpusError
from textgan.text.prepare import PreparedCorpus, TextDataConfig, prepare_corpus
from textgan.text.sentencepiece import MODEL_FILE, SAMPLE_FILE, SentencePieceTokenizer

WORDS = ["the", "cat", "dog", "sat", "on", "a", "mat", "runs", "quickly", "under", "table",
         "big", "small", "red", "house", "garden", "sleeps", "eats", "fish", "and", "walked",
         "talking", "window", "yellow", "people", "played", "jumping", "over", "river", "bright",
         "morning", "evening", "friends", "kitchen", "slowly", "quietly", "green", "blue"]


def make_lines(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 7))) for _ in range(n)]


def run_cli(*args: str) -> int:
    return run(list(args))


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    lines = make_lines(800)
    return SentencePieceTokenizer.fit([lines[:300], lines[300:]], tmp_path_factory.mktemp("sp"),
                                      vocab_size=60, model_type="unigram")


@pytest.fixture()
def corpus_file(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text("\n".join(make_lines(600)) + "\n")
    return path


def test_fit_layout_and_files(tmp_path):
    lines = make_lines(500)
    tok = SentencePieceTokenizer.fit([lines[:200], lines[200:]], tmp_path, vocab_size=50)
    assert tok.trained_lines == 500
    assert tok.kind == "sentencepiece" and len(tok.vocab) == 50
    assert (tok.unk_id, tok.pad_id) == (0, 1)
    assert tok.vocab[:2] == ["<unk>", "<pad>"]
    assert tok.dtype == np.uint16
    assert (tmp_path / MODEL_FILE).read_bytes() == tok.model_proto
    assert not (tmp_path / SAMPLE_FILE).exists()  # the training sample is temporary


def test_bounded_sample_still_counts_every_line(tmp_path):
    lines = make_lines(900)
    tok = SentencePieceTokenizer.fit([lines[:400], lines[400:]], tmp_path, vocab_size=40,
                                     max_sample_lines=100)
    assert tok.trained_lines == 900


def test_encode_cuts_to_pieces_and_pads(tokenizer):
    lines = ["the cat sat on the mat under the big red table and eats fish", "dog", ""]
    ids = tokenizer.encode(lines, 6)
    assert ids.shape == (3, 6) and ids.dtype == np.uint16
    full = tokenizer.sp.encode(lines)
    assert ids[0].tolist() == full[0][:6]  # cut to 6 PIECES, not characters
    assert len(full[0]) > 6
    k = len(full[1])
    assert ids[1, :k].tolist() == full[1] and (ids[1, k:] == tokenizer.pad_id).all()
    assert (ids[2] == tokenizer.pad_id).all()
    assert tokenizer.pad_id not in ids[0] and tokenizer.unk_id not in ids[:2]


def test_decode_round_trip_and_padding(tokenizer):
    lines = make_lines(50, seed=7)
    ids = tokenizer.encode(lines, 64)  # long enough: nothing is cut
    assert [tokenizer.decode(row, strip_pad=True) for row in ids] == lines
    row = tokenizer.encode(["dog"], 5)[0]
    n_pad = int((row == tokenizer.pad_id).sum())
    assert n_pad > 0
    assert tokenizer.decode(row) == "dog" + "`" * n_pad  # pads visible, as in char mode
    assert tokenizer.decode(row, strip_pad=True) == "dog"


def test_interior_pad_keeps_the_word_boundary(tokenizer):
    a, b = tokenizer.sp.encode(["dog"])[0], tokenizer.sp.encode(["cat"])[0]
    assert tokenizer.decode(a + [tokenizer.pad_id] + b) == "dog` cat"


def test_decode_matches_sentencepiece_on_real_rows(tokenizer):
    lines = make_lines(300, seed=11) + ["  two  spaces ", "Zebra", "dog ."]
    for seq_len in (3, 6, 40):
        for row in tokenizer.encode(lines, seq_len):
            pieces = [int(i) for i in row if i != tokenizer.pad_id]
            assert tokenizer.decode(row, strip_pad=True) == tokenizer.sp.decode(pieces)


def test_malformed_rows_are_not_cleaned_up(tokenizer):
    space = tokenizer.vocab.index("\u2581") if "\u2581" in tokenizer.vocab else None
    word = tokenizer.sp.encode(["dog"])[0]
    if space is None:
        pytest.skip("this model has no bare space piece")
    assert tokenizer.decode([space, space] + word) == "  dog"  # SentencePiece would say "dog"
    with pytest.raises(CorpusError):
        tokenizer.decode([len(tokenizer.vocab)])


def test_unknown_characters_become_unk(tokenizer):
    row = tokenizer.encode(["the Ω cat"], 8)[0]
    assert tokenizer.unk_id in row
    assert tokenizer.decode(row, strip_pad=True) == "the \ufffd cat"


def test_json_carries_the_model(tokenizer, tmp_path):
    text = tokenizer.to_json()
    data = json.loads(text)
    assert data["kind"] == "sentencepiece" and data["vocab"] == tokenizer.vocab
    again = SentencePieceTokenizer.from_json(text)
    lines = make_lines(30, seed=3)
    assert np.array_equal(again.encode(lines, 7), tokenizer.encode(lines, 7))
    (tmp_path / "vocab.json").write_text(text)
    loaded = SentencePieceTokenizer.load(tmp_path)
    assert loaded.vocab == tokenizer.vocab
    with pytest.raises(CorpusError):
        SentencePieceTokenizer.from_json(json.dumps({**data, "model": "not base64!"}))


def test_rare_characters_keep_their_pieces(tmp_path):
    lines = make_lines(800) + ["Zebra eats fish"]  # 'Z' is 1 of ~20k characters
    kept = SentencePieceTokenizer.fit([lines], tmp_path / "a", vocab_size=60)
    assert kept.unk_id not in kept.encode(["Zebra"], 8)[0]
    dropped = SentencePieceTokenizer.fit([lines], tmp_path / "b", vocab_size=60,
                                         character_coverage=0.9995)  # SentencePiece's default
    assert dropped.unk_id in dropped.encode(["Zebra"], 8)[0]


def test_character_coverage_is_validated():
    from textgan.config import apply_overrides
    from textgan.errors import ConfigError

    with pytest.raises(ConfigError, match="sp_character_coverage"):
        apply_overrides(TextDataConfig(), {"sp_character_coverage": 0.5}, "data")


def test_bpe(tmp_path):
    lines = make_lines(400)
    tok = SentencePieceTokenizer.fit([lines], tmp_path, vocab_size=60, model_type="bpe")
    assert len(tok.vocab) == 60
    ids = tok.encode(lines[:20], 64)
    assert [tok.decode(r, strip_pad=True) for r in ids] == lines[:20]


@pytest.mark.parametrize("vocab_size, hint", [(5000, "or less"), (5, "or more")])
def test_impossible_vocab_size_is_one_clear_line(tmp_path, vocab_size, hint):
    with pytest.raises(CorpusError) as err:
        SentencePieceTokenizer.fit([make_lines(200)], tmp_path, vocab_size=vocab_size)
    message = str(err.value)
    assert "\n" not in message and "--vocab-size" in message and hint in message


def test_prepare_corpus_of_pieces(tmp_path, corpus_file):
    from textgan.text.corpora import open_source

    cfg = TextDataConfig(corpus_path=str(corpus_file), data_dir=str(tmp_path / "data"), seq_len=9,
                         tokenizer="sentencepiece", vocab_size=50)
    source = open_source(None, str(corpus_file), download_dir=tmp_path / "dl")
    prepared = prepare_corpus(source, cfg)
    assert prepared.meta["tokenizer"] == "sentencepiece" and prepared.meta["vocab_size"] == 50
    assert prepared.meta["dtype"] == "uint16" and prepared.train.shape[1] == 9
    assert (prepared.dir / MODEL_FILE).is_file()
    again = PreparedCorpus.open(prepared.dir)
    assert isinstance(again.tokenizer, SentencePieceTokenizer)
    assert again.tokenizer.vocab == prepared.vocab
    rows = again.decode_rows(again.train[:5], strip_pad=True)
    originals = set(corpus_file.read_text().splitlines())
    assert all(isinstance(r, str) and r for r in rows)
    # a decoded row is a whole line or a prefix cut at a piece boundary
    assert all(any(o.startswith(r) for o in originals) for r in rows)


def test_failed_preparation_leaves_nothing(tmp_path, corpus_file):
    from textgan.text.corpora import open_source

    cfg = TextDataConfig(corpus_path=str(corpus_file), data_dir=str(tmp_path / "data"),
                         tokenizer="sentencepiece", vocab_size=100_000)
    with pytest.raises(CorpusError):
        prepare_corpus(open_source(None, str(corpus_file), download_dir=tmp_path / "dl"), cfg)
    data = tmp_path / "data"
    assert not data.exists() or list(data.iterdir()) == []


def test_subword_training_samples_decode_to_text(tmp_path, corpus_file, capsys):
    out, data = tmp_path / "run", tmp_path / "data"
    code = run_cli("train", "--corpus-path", str(corpus_file), "--data-dir", str(data),
                   "--out", str(out), "--tokenizer", "sentencepiece", "--vocab-size", "48",
                   "--sp-model-type", "bpe", "--seq-len", "6", "--steps", "4", "--dim", "8",
                   "--batch-size", "4", "--critic-iters", "2", "--checkpoint-every", "4",
                   "--sample-every", "2", "--eval-every", "2", "--device", "cpu")
    assert code == 0, capsys.readouterr().err
    # in-training evaluation scores the decoded text: JS-1..4 and their floors, in bits
    logged = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    evals = [r for r in logged if "js4" in r]
    assert [r["step"] for r in evals] == [2, 4]
    for n in range(1, 5):
        assert all(0 <= r[f"js{n}"] <= 1 and 0 <= r[f"js{n}_floor"] <= 1 for r in evals)
    state = torch.load(out / "checkpoints" / "step_00000004.pt", weights_only=True)
    assert state["generator"]["output.weight"].shape[0] == 48  # softmax over the pieces
    assert state["critic"]["input.weight"].shape[1] == 48  # the critic reads one-hot pieces
    samples = (out / "samples" / "step_00000004.txt").read_text(encoding="utf-8").splitlines()
    assert len(samples) == 64
    assert not any("<pad>" in s or "\u2581" in s or s.endswith("`") for s in samples)

    shutil.rmtree(data)  # sampling needs the checkpoint only
    capsys.readouterr()
    assert run_cli("sample", "-n", "5", "--run", str(out), "--seed", "1") == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5 and not any("\u2581" in s for s in lines)


class FixedGenerator(torch.nn.Module):
    """Always the same id rows: ``ids`` at every sample (as one-hot logits)."""

    def __init__(self, ids: list[int], vocab_size: int) -> None:
        super().__init__()
        self.noise_dim, self.seq_len = 4, len(ids)
        self.table = torch.nn.Parameter(torch.nn.functional.one_hot(torch.tensor(ids), vocab_size)
                                        .float() * 10)

    def logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.table.expand(len(z), -1, -1)


def test_sample_hook_decodes_pieces_and_strips_pad(tmp_path, corpus_file):
    from textgan.core.mode import Sampler
    from textgan.core.run import Run
    from textgan.text.corpora import open_source
    from textgan.text.mode import sample_hook

    cfg = TextDataConfig(corpus_path=str(corpus_file), data_dir=str(tmp_path / "data"), seq_len=8,
                         tokenizer="sentencepiece", vocab_size=60)
    corpus = prepare_corpus(open_source(None, str(corpus_file), download_dir=tmp_path / "dl"), cfg)
    tok = corpus.tokenizer
    words = tok.sp.encode(["big cat"])[0]
    assert len(words) < 8
    ids = words + [tok.pad_id] * (8 - len(words))
    run = Run(tmp_path / "run")
    assert sample_hook(run, Sampler(FixedGenerator(ids, len(tok.vocab))), corpus, every=1,
                       n=3).fn(1) == {}
    lines = (run.samples_dir / "step_00000001.txt").read_text().splitlines()
    assert lines == ["big cat"] * 3
