"""`textgan eval --labels tsv` (labelled samples, per class) and `eval --run` of a conditional
run; the library side is tests/test_eval_per_class.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import test_eval_per_class as per_class
from test_eval_per_class import NAMES, SEQ_LEN, PhraseGenerator, question, statement, write_samples

from textgan.cli.main import run
from textgan.core.checkpoint import save_checkpoint
from textgan.eval import EvalConfig
from textgan.text.evaluation import evaluate_labelled_file

tsv_reference, labelled_corpus = per_class.tsv_reference, per_class.labelled_corpus  # fixtures


@pytest.fixture()
def samples_tsv(tmp_path: Path) -> Path:
    pairs = [pair for i in range(20) for pair in (("question", question(i + 5)),
                                                  ("statement", statement(i + 3)))]
    return write_samples(tmp_path / "samples.tsv", pairs)


def test_labelled_samples_json_has_every_class(tmp_path, tsv_reference, samples_tsv, capsys):
    ref, _ = tsv_reference
    assert run(["eval", str(samples_tsv), "--labels", "tsv", "--reference", str(ref),
                "--seq-len", str(SEQ_LEN), "--lm-order", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out["per_class"]) == NAMES
    expected = evaluate_labelled_file(samples_tsv, str(ref), seq_len=SEQ_LEN,
                                      config=EvalConfig(lm_order=3)).classes
    for name in NAMES:
        assert out["per_class"][name] == pytest.approx(expected.per_class[name], abs=1e-12)
        assert out["per_class"][name]["label_accuracy"] == 1.0
        assert out["per_class"][name]["n_samples"] == 20
    assert out["label_classifier"] == {"train_lines": 189.0, "heldout_lines": 21.0,
                                       "accuracy": 1.0}
    assert out["js4"] == pytest.approx(expected.macro["js4"]) and out["n_samples"] == 40


def test_labelled_samples_table(tmp_path, tsv_reference, samples_tsv, capsys):
    ref, _ = tsv_reference
    assert run(["eval", str(samples_tsv), "--labels", "tsv", "--reference", str(ref),
                "--lm-order", "3", "--no-words", "--samples", "5"]) == 0
    out = capsys.readouterr().err  # tables and notes go to stderr
    assert "per class" in out and "overall: mean over the classes" in out
    assert "question" in out and "statement" in out and "label_accuracy" in out
    assert "label classifier (naive Bayes" in out


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_bad_labelled_input_exits_with_one_line(tmp_path, tsv_reference, samples_tsv, capsys):
    ref, _ = tsv_reference
    unknown = write_samples(tmp_path / "u.tsv", [("question", "who ?"), ("joke", "ha ha .")])
    assert run(["eval", str(unknown), "--labels", "tsv", "--reference", str(ref)]) == 1
    assert "u.tsv line 2: label 'joke' is not a class of the reference" in one_line_error(capsys)
    plain = tmp_path / "plain.tsv"
    plain.write_text("who sees the cat ?\n")
    assert run(["eval", str(plain), "--labels", "tsv", "--reference", str(ref)]) == 1
    assert "plain.tsv line 1 has no tab" in one_line_error(capsys)
    # a reference without labels
    assert run(["eval", str(samples_tsv), "--labels", "tsv", "--reference", str(plain)]) == 1
    assert "has no tab" in one_line_error(capsys)
    text = tmp_path / "text.txt"
    text.write_text("\n".join(statement(i) for i in range(60)) + "\n")
    assert run(["eval", str(samples_tsv), "--reference", str(text), "--data-dir",
                str(tmp_path / "d"), "--json", "--no-lm", "--no-words"]) == 0  # prepares it
    capsys.readouterr()
    prepared = next((tmp_path / "d").glob("files-*"))
    assert run(["eval", str(samples_tsv), "--labels", "tsv", "--reference", str(prepared)]) == 1
    assert "has no labels" in one_line_error(capsys)
    assert run(["eval", "--run", str(tmp_path), "--labels", "tsv"]) == 1
    assert "a conditional run (--run) is evaluated per class without it" in one_line_error(capsys)
    assert run(["eval", str(samples_tsv), "--labels", "csv", "--reference", str(ref)]) == 1
    assert "labels must be one of none, tsv" in one_line_error(capsys)
    assert run(["eval", str(samples_tsv), "--labels", "tsv"]) == 1
    assert "--labels tsv needs" in one_line_error(capsys)


def test_eval_run_of_a_conditional_checkpoint(tmp_path, labelled_corpus, monkeypatch, capsys):
    """A conditional text run's checkpoint (label names saved by the core) is evaluated per
    class against its own corpus. Building a conditional text generator from a checkpoint is
    the text mode's; here a hand-made one stands in for it."""
    import textgan.text.models as models

    corpus = labelled_corpus
    settings = corpus.meta["settings"]
    config = {"data": {"corpus_path": settings["corpus_path"],
                       "valid_path": settings["valid_path"],
                       "data_dir": str(corpus.dir.parent), "seq_len": SEQ_LEN}}
    path = tmp_path / "step_00000007.pt"
    save_checkpoint(path, {"mode": "text", "step": 7, "label_names": NAMES, "config": config,
                           "generator": {}})
    given = {}

    def from_checkpoint(state, device):
        given.update(state)
        return PhraseGenerator(corpus), corpus.tokenizer, state["config"]

    monkeypatch.setattr(models, "generator_from_checkpoint", from_checkpoint)
    assert run(["eval", "--run", str(tmp_path), "--checkpoint", str(path), "--samples", "8",
                "--lm-order", "3", "--no-words", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert given["label_names"] == NAMES
    assert list(out["per_class"]) == NAMES and out["n_samples"] == 16
    assert out["label_accuracy"] == 1.0 and out["label_classifier"]["accuracy"] == 1.0
    assert "js4_floor" in out["per_class"]["question"]
