"""Conditional text runs end to end (issue 15): a labelled tsv corpus → `textgan train
--conditional ac|projection` → checkpoints with the class names → `textgan sample --label`, exact
resume, export and import; the synthetic classes' in-training class accuracy; refusals."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from textgan.cli.main import run
from textgan.core.checkpoint import load_checkpoint
from textgan.text.models import TextGenerator
from textgan.training import resolve_config, resume_training, start_training

TINY = ["--dim", "8", "--batch-size", "4", "--critic-iters", "1", "--seq-len", "12", "--device",
        "cpu", "--eval-every", "0", "--sample-every", "0"]


def write_tsv(path: Path, n: int = 300) -> Path:
    lines = [f"{['good', 'bad'][i % 2]}\t{['nice', 'awful'][i % 2]} food {i % 9} ." for i in range(n)]
    path.write_text("\n".join(lines) + "\n")
    return path


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def newest_checkpoint(run_dir: Path) -> Path:
    return sorted((run_dir / "checkpoints").glob("step_*.pt"))[-1]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two tiny conditional runs (AC and projection) on one labelled tsv corpus."""
    root = tmp_path_factory.mktemp("conditional_text")
    corpus = write_tsv(root / "reviews.tsv")
    out = {}
    for method in ("ac", "projection"):
        out[method] = root / method
        code = run(["train", "--corpus", str(corpus), "--labels", "tsv", "--conditional", method,
                    "--data-dir", str(root / "data"), "--out", str(out[method]), "--steps", "3",
                    "--checkpoint-every", "3", "--ema-decay", "0.9", *TINY])
        assert code == 0
    return out


@pytest.mark.parametrize("method", ["ac", "projection"])
def test_labels_flow_from_the_tsv_to_the_checkpoint(runs: dict[str, Path], method: str):
    state = load_checkpoint(newest_checkpoint(runs[method]))
    assert state["label_names"] == ["bad", "good"]
    assert state["config"]["train"]["conditional"] == method
    assert state["config"]["data"]["labels"] == "tsv"
    assert state["generator"]["label_embedding.weight"].shape == (2, 8)
    head = {"ac": "head.classes.weight", "projection": "head.embed.weight"}[method]
    assert head in state["critic"] and "output.weight" not in state["critic"]
    metrics = [json.loads(line) for line in (runs[method] / "metrics.jsonl").read_text().splitlines()]
    assert len(metrics) == 3
    assert ("ac_loss_real" in metrics[-1]) == (method == "ac")


@pytest.mark.parametrize("method", ["ac", "projection"])
def test_sample_label_gives_n_samples_of_that_class(runs: dict[str, Path], method: str,
                                                     capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch):
    seen: list[torch.Tensor] = []
    logits = TextGenerator.logits

    def recording(self: TextGenerator, z: torch.Tensor, labels: torch.Tensor | None = None):
        seen.append(labels.clone() if labels is not None else torch.tensor([-1]))
        return logits(self, z, labels)

    monkeypatch.setattr(TextGenerator, "logits", recording)
    code, out, err = cli(capsys, "sample", "--run", str(runs[method]), "-n", "7", "--label",
                         "good", "--seed", "1")
    assert code == 0, err
    assert len(out.splitlines()) == 7 and "\t" not in out  # plain lines of one class
    assert torch.cat(seen).tolist() == [1] * 7  # "good" is class 1 (sorted: bad, good)
    assert "class good" in err

    seen.clear()
    code, out, err = cli(capsys, "sample", "--run", str(runs[method]), "-n", "5", "--seed", "1")
    assert code == 0, err
    lines = out.splitlines()
    assert [line.split("\t", 1)[0] for line in lines] == ["bad", "good", "bad", "good", "bad"]
    assert torch.cat(seen).tolist() == [0, 1, 0, 1, 0]
    assert "the 2 classes in turn" in err

    code, out, err = cli(capsys, "sample", "--run", str(runs[method]), "-n", "2", "--label",
                         "meh")
    assert code == 1 and out == "" and len(err.strip().splitlines()) == 1
    assert "its classes: bad, good" in err


def test_a_conditional_model_exports_and_samples_as_its_checkpoint(
        runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    folder = tmp_path / "model"
    code, _, err = cli(capsys, "export", str(runs["ac"]), str(folder), "--no-eval")
    assert code == 0, err
    assert json.loads((folder / "config.json").read_text())["label_names"] == ["bad", "good"]
    for extra in (["--label", "bad"], []):
        _, by_run, _ = cli(capsys, "sample", "--run", str(runs["ac"]), "-n", "6", "--seed", "3",
                           *extra)
        code, by_model, err = cli(capsys, "sample", "--model", str(folder), "-n", "6", "--seed",
                                  "3", *extra)
        assert code == 0, err
        assert by_model == by_run and len(by_model.splitlines()) == 6
    assert "bad\t" in (folder / "README.md").read_text()  # the card's samples name their class


def test_the_python_api_generates_per_class(runs: dict[str, Path],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    import textgan

    model = textgan.load(runs["projection"])
    assert model.label_names == ["bad", "good"]
    in_turn = model.generate(4, seed=2)
    _, out, _ = cli(capsys, "sample", "--run", str(runs["projection"]), "-n", "4", "--seed", "2")
    # plain lines from the API; the CLI prefixes each with its class
    assert [f"{name}\t{line}" for name, line in zip(["bad", "good"] * 2, in_turn,
                                                      strict=True)] == out.splitlines()
    good = model.generate(3, seed=2, label="good")
    _, out, _ = cli(capsys, "sample", "--run", str(runs["projection"]), "-n", "3", "--seed", "2",
                    "--label", "good")
    assert good == out.splitlines() and all("\t" not in line for line in good)


def test_conditional_needs_labels_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    plain = tmp_path / "plain.txt"
    plain.write_text("the cat sat .\na dog ran .\n" * 50)
    for corpus in (["--corpus", str(plain)], ["--corpus", "synthetic"]):
        code, out, err = cli(capsys, "train", *corpus, "--conditional", "ac", "--data-dir",
                             str(tmp_path / "data"), "--runs-dir", str(tmp_path / "runs"), *TINY)
        assert code == 1 and out == ""
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
        assert "--conditional ac needs labelled data" in err and "--labels tsv" in err
    assert not (tmp_path / "data").exists() and not (tmp_path / "runs").exists()
    # an unconditional model refuses --label
    code, _, _ = cli(capsys, "train", "--corpus", str(plain), "--data-dir", str(tmp_path / "data"),
                     "--out", str(tmp_path / "plain_run"), "--steps", "1", *TINY)
    assert code == 0
    code, out, err = cli(capsys, "sample", "--run", str(tmp_path / "plain_run"), "-n", "2",
                         "--label", "good")
    assert code == 1 and "not a conditional model" in err and len(err.strip().splitlines()) == 1


def test_resume_is_bit_identical_with_labels(tmp_path: Path):
    corpus = write_tsv(tmp_path / "reviews.tsv")

    def config():
        return resolve_config("text", "cpu", None, {
            "train": {"steps": 6, "batch_size": 8, "seed": 0, "device": "cpu", "eval_every": 0,
                      "sample_every": 0, "checkpoint_every": 2, "conditional": "ac",
                      "ema_decay": 0.9},
            "model": {"dim": 8, "blocks": 1},
            "data": {"corpus_path": str(corpus), "labels": "tsv",
                     "data_dir": str(tmp_path / "data"), "seq_len": 12},
        })

    straight = start_training(config(), out=tmp_path / "a")
    list(straight.events())
    cut = start_training(config(), out=tmp_path / "b")
    list(cut.events(should_stop=lambda: cut.trainer.step >= 3))
    assert cut.trainer.step == 3
    resumed = resume_training(tmp_path / "b")
    assert resumed.trainer.step == 3
    list(resumed.events())
    a = load_checkpoint(tmp_path / "a" / "checkpoints" / "step_00000006.pt")
    b = load_checkpoint(tmp_path / "b" / "checkpoints" / "step_00000006.pt")
    assert a["label_names"] == b["label_names"] == ["bad", "good"]
    for part in ("generator", "generator_ema", "critic"):
        for key, value in a[part].items():
            assert torch.equal(value, b[part][key]), (part, key)
    metrics = [json.loads(line) for line in (tmp_path / "b" / "metrics.jsonl").read_text()
               .splitlines()]
    assert metrics[-1]["ac_loss_real"] == [json.loads(line) for line in (
        tmp_path / "a" / "metrics.jsonl").read_text().splitlines()][-1]["ac_loss_real"]


def test_resuming_on_other_classes_is_refused(tmp_path: Path):
    """A conditional checkpoint only continues on the classes it was trained on."""
    corpus = write_tsv(tmp_path / "reviews.tsv")
    settings = {"train": {"steps": 2, "batch_size": 4, "device": "cpu", "eval_every": 0,
                          "sample_every": 0, "checkpoint_every": 2, "conditional": "projection"},
                "model": {"dim": 8, "blocks": 1},
                "data": {"corpus_path": str(corpus), "labels": "tsv",
                         "data_dir": str(tmp_path / "data"), "seq_len": 12}}
    list(start_training(resolve_config("text", "cpu", None, settings), out=tmp_path / "r").events())
    corpus.write_text(corpus.read_text().replace("good\t", "fine\t"))
    os.utime(corpus, ns=(1, 1))  # another file for the preparation (fingerprint by mtime too)
    from textgan.errors import CheckpointError

    with pytest.raises(CheckpointError, match="other classes"):
        resume_training(tmp_path / "r", overrides={"train": {"steps": 4}}, reschedule=True)


def test_synthetic_classes_log_the_oracle_class_accuracy(tmp_path: Path):
    config = resolve_config("text", "cpu-conditional", None, {
        "train": {"steps": 2, "batch_size": 8, "device": "cpu", "eval_every": 2,
                  "sample_every": 2, "checkpoint_every": 2},
        "model": {"dim": 8, "blocks": 1},
        "data": {"data_dir": str(tmp_path / "data"), "max_lines": 300},
    })
    session = start_training(config, out=tmp_path / "run")
    list(session.events())
    last = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text()
            .splitlines()][-1]
    for key in ("class_accuracy", "class_accuracy_question", "class_accuracy_statement",
                "class_start", "class_end_question", "class_start_chance",
                "grammar_accept_rate", "js4", "ac_loss_real"):
        assert 0.0 <= last[key] <= 1.0 or key == "ac_loss_real", key
    assert last["class_accuracy"] == pytest.approx(
        (last["class_accuracy_question"] + last["class_accuracy_statement"]) / 2)
    samples = (tmp_path / "run" / "samples" / "step_00000002.txt").read_text().splitlines()
    assert [line.split("\t", 1)[0] for line in samples[:4]] == ["question", "statement",
                                                               "question", "statement"]
    state = load_checkpoint(newest_checkpoint(tmp_path / "run"))
    assert state["label_names"] == ["question", "statement"]
