"""`textgan eval` on a samples file and on a run; the in-training JS hook."""

import json

import pytest

from textgan.cli.main import run
from textgan.eval import js_divergence


def run_cli(*args: str) -> int:
    return run(list(args))


@pytest.fixture()
def corpus_file(tmp_path):
    words = ["the", "cat", "dog", "sat", "on", "a", "mat", "runs", "."]
    lines = [" ".join(words[(i * 5 + j * 2) % len(words)] for j in range(3 + i % 4))
             for i in range(400)]
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(lines) + "\n")
    return path, lines


def test_eval_samples_file_json(tmp_path, corpus_file, capsys):
    path, lines = corpus_file
    samples = tmp_path / "samples.txt"
    samples.write_text("\n".join(lines[:50]) + "\n\n")  # blank lines are ignored
    code = run_cli("eval", str(samples), "--reference", str(path), "--data-dir",
                   str(tmp_path / "data"), "--seq-len", "16", "--json", "--lm-order", "3")
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    for key in ("js1", "js2", "js3", "js4", "js1_floor", "js4_floor", "lm_forward_bpc",
                "lm_reverse_bpc", "lm_forward_bpc_real", "bleu4", "self_bleu4", "memorized",
                "distinct1", "unique_share", "texygen_bleu2", "texygen_bleu5_real",
                "texygen_self_bleu2", "texygen_self_bleu5_real"):
        assert key in result, key
    assert result["n_samples"] == 50
    # A reference file is the reference, all of it (tests/test_eval_whole_reference.py).
    direct = js_divergence(lines[:50], lines, seq_len=16)
    for k in (1, 2, 3, 4):
        assert abs(result[f"js{k}"] - direct[k]) < 1e-9


def test_eval_run_and_training_hook(tmp_path, corpus_file, capsys):
    path, _ = corpus_file
    out = tmp_path / "run"
    assert run_cli("train", "--corpus-path", str(path), "--data-dir", str(tmp_path / "d"),
                   "--out", str(out), "--steps", "2", "--eval-every", "2", "--sample-every", "0",
                   "--dim", "8", "--batch-size", "4", "--critic-iters", "1", "--seq-len", "16",
                   "--device", "cpu") == 0
    records = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert "js4" not in records[0] and 0 <= records[1]["js4"] <= 1
    assert 0 <= records[1]["js4_floor"] <= records[1]["js4"]  # an untrained G is worse than real
    capsys.readouterr()
    assert run_cli("eval", "--run", str(out), "--samples", "30", "--json", "--no-lm",
                   "--no-words") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n_samples"] == 30 and "lm_forward_bpc" not in result and "js3" in result


@pytest.mark.parametrize("content,message", [
    (b"", "has no non-empty lines"),
    (b"\n  \n", "has no non-empty lines"),
    (b"caf\xe9\n", "line 1: invalid UTF-8"),
])
def test_eval_bad_samples_files(tmp_path, corpus_file, capsys, content, message):
    path, _ = corpus_file
    samples = tmp_path / "s.txt"
    samples.write_bytes(content)
    assert run_cli("eval", str(samples), "--reference", str(path), "--data-dir",
                   str(tmp_path / "d")) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_eval_argument_errors(tmp_path, capsys):
    assert run_cli("eval", str(tmp_path / "missing.txt"), "--reference", "synthetic") == 1
    assert "does not exist" in capsys.readouterr().err
    assert run_cli("eval") == 1
    assert "--run" in capsys.readouterr().err
    assert run_cli("eval", "x.txt") == 1
    assert "--reference is required" in capsys.readouterr().err
    assert run_cli("eval", "--run", str(tmp_path), "--temperatures", "1,abc") == 1
    assert "--temperatures" in capsys.readouterr().err
