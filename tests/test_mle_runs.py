"""The maximum-likelihood baseline end to end, under the same protocol as the GAN: the CLI's
train / resume / sample / eval / report, checkpoints, exact resume, SIGTERM, torchrun, and the
refusal in image and toy mode."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import torch
from helpers.signal_run import train_then_signal

from textgan.cli.main import run
from textgan.core.checkpoint import CheckpointStore, load_checkpoint
from textgan.core.likelihood import LikelihoodTrainer
from textgan.eval import load_sweep
from textgan.training import resolve_config, resume_training, start_training

ROOT = Path(__file__).resolve().parents[1]
SENTENCES = ["the cat sat .", "a dog ran .", "we like tea ."]
TINY = ["--dim", "8", "--batch-size", "8", "--seq-len", "16", "--device", "cpu"]


def run_cli(*args: str) -> int:
    return run(list(args))


def records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(SENTENCES * 200) + "\n")
    return path


def test_objective_brings_its_optimiser_and_user_settings_win() -> None:
    cfg = resolve_config("text", "cpu", None, {"train": {"objective": "mle"}}).train
    assert (cfg.objective, cfg.optimizer, cfg.lr, cfg.betas, cfg.lr_schedule) == (
        "mle", "adam", 2e-3, (0.9, 0.999), "constant")
    assert cfg.batch_size == 32 and cfg.steps == 22000  # the preset's budget stays
    cfg = resolve_config("text", "cpu", None, {"train": {"objective": "mle", "lr": 5e-4}}).train
    assert cfg.lr == 5e-4


@pytest.mark.parametrize("mode", ["image", "toy"])
def test_image_and_toy_modes_refuse_mle(tmp_path: Path, capsys, mode: str) -> None:
    out = tmp_path / "run"
    assert run_cli("train", "--mode", mode, "--objective", "mle", "--out", str(out)) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{mode} mode trains GANs only" in err, err
    assert "Traceback" not in err and not out.exists()


def test_train_sample_eval_through_the_cli(tmp_path: Path, corpus: Path, capsys) -> None:
    out = tmp_path / "run"
    assert run_cli("train", "--objective", "mle", "--corpus-path", str(corpus), "--data-dir",
                   str(tmp_path / "data"), "--out", str(out), "--steps", "4",
                   "--checkpoint-every", "2", "--sample-every", "2", "--eval-every", "2",
                   *TINY) == 0
    err = capsys.readouterr().err
    assert "LSTM language model" in err and "parameters (the GAN generator" in err
    config = tomllib.loads((out / "config.toml").read_text())
    assert config["train"]["objective"] == "mle" and config["train"]["lr"] == 2e-3
    logged = records(out)
    assert [r["step"] for r in logged] == [1, 2, 3, 4]
    assert all(isinstance(r["nll"], float) and r["nll"] > 0 for r in logged)
    assert not any("critic_loss" in r or "generator_loss" in r for r in logged)
    assert {"js4", "js4_floor", "valid_nll"} <= set(logged[1]) and "js4" not in logged[0]
    assert sorted(p.name for p in (out / "samples").iterdir()) == [
        "step_00000002.txt", "step_00000004.txt"]
    state = load_checkpoint(out / "checkpoints" / "step_00000004.pt")  # sha256 + weights_only
    assert "critic" not in state and {"generator", "optimizer", "rng", "data"} <= set(state)
    assert (out / "checkpoints" / "best.pt").is_file()  # ranked by js4, as a GAN run

    # sample: default decoding (temperature 1), reproducible with --seed
    assert run_cli("sample", "-n", "40", "--run", str(out), "--seed", "3") == 0
    captured = capsys.readouterr()
    first = captured.out.splitlines()
    assert "ancestral sampling at temperature 1" in captured.err
    assert len(first) == 40 and all(len(line) <= 16 and not line.endswith("`") for line in first)
    assert run_cli("sample", "-n", "40", "--run", str(out), "--seed", "3") == 0
    assert capsys.readouterr().out.splitlines() == first
    assert run_cli("sample", "-n", "40", "--run", str(out), "--seed", "3",
                   "--temperature", "1") == 0
    assert capsys.readouterr().out.splitlines() == first  # the default is T = 1
    assert run_cli("sample", "-n", "40", "--run", str(out), "--seed", "3",
                   "--temperature", "0.3") == 0
    cold = capsys.readouterr().out.splitlines()
    assert cold != first and len(cold) == 40

    # eval --run and the temperature sweep, unchanged
    assert run_cli("eval", "--run", str(out), "--samples", "60", "--temperatures", "0.5,1",
                   "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n_samples"] == 60
    for key in ("js1", "js4", "lm_forward_bpc", "lm_reverse_bpc", "texygen_bleu2",
                "texygen_self_bleu2"):
        assert isinstance(result[key], float), key
    assert [p["temperature"] for p in result["sweep"]["points"]] == [0.5, 1.0]
    saved = json.loads((out / "eval" / "sweep.json").read_text())
    assert saved["objective"] == "mle" and saved["step"] == 4
    assert load_sweep(out / "eval" / "sweep.json").to_dict() == result["sweep"]
    assert (out / "eval" / "quality_diversity.png").is_file()


def config(tmp_path: Path, corpus: Path, **train: object):
    return resolve_config("text", "cpu", None, {
        "train": {"objective": "mle", "steps": 6, "batch_size": 8, "seed": 0, "device": "cpu",
                  "eval_every": 0, "sample_every": 0, "checkpoint_every": 2, **train},
        "model": {"dim": 8},
        "data": {"corpus_path": str(corpus), "data_dir": str(tmp_path / "data"), "seq_len": 12},
    })


def test_resume_is_bit_identical(tmp_path: Path, corpus: Path) -> None:
    options = {"ema_decay": 0.9, "lr_schedule": "linear", "warmup_steps": 2}
    straight = start_training(config(tmp_path, corpus, **options), out=tmp_path / "a")
    assert isinstance(straight.trainer, LikelihoodTrainer)
    list(straight.events())
    cut = start_training(config(tmp_path, corpus, **options), out=tmp_path / "b")
    list(cut.events(should_stop=lambda: cut.trainer.step >= 3))
    assert cut.trainer.step == 3
    resumed = resume_training(tmp_path / "b")
    assert resumed.trainer.step == 3 and isinstance(resumed.trainer, LikelihoodTrainer)
    list(resumed.events())
    a = load_checkpoint(tmp_path / "a" / "checkpoints" / "step_00000006.pt")
    b = load_checkpoint(tmp_path / "b" / "checkpoints" / "step_00000006.pt")
    for part in ("generator", "generator_ema"):
        for key, value in a[part].items():
            assert torch.equal(value, b[part][key]), (part, key)
    assert a["optimizer"]["state"].keys() == b["optimizer"]["state"].keys()
    for index, moments in a["optimizer"]["state"].items():
        for name, value in moments.items():
            assert torch.equal(value, b["optimizer"]["state"][index][name]), (index, name)
    assert [r["nll"] for r in records(tmp_path / "a")] == [r["nll"] for r in records(tmp_path / "b")]


def test_the_language_model_learns_the_corpus(tmp_path: Path, corpus: Path) -> None:
    session = start_training(config(tmp_path, corpus, steps=300, checkpoint_every=300),
                             out=tmp_path / "run")
    list(session.events())
    nll = [r["nll"] for r in records(tmp_path / "run")]
    # The floor: log 3 nats per 12-position row (which of the three lines) = 0.092 per position.
    assert nll[0] > 2.0 and sum(nll[-10:]) / 10 < 0.3, (nll[0], nll[-10:])
    from textgan.sampling import sample_from

    lines = sample_from(50, run=tmp_path / "run", seed=0, temperature=0.5, device="cpu").lines
    real = {s[:12] for s in SENTENCES}  # lines are cut to seq_len 12
    assert sum(line in real for line in lines) >= 45, lines
    assert len(set(lines) & real) == 3


def test_report_overlays_a_gan_and_an_mle_run(tmp_path: Path, corpus: Path, capsys,
                                              monkeypatch) -> None:
    runs = {}
    for objective in ("wgan-gp", "mle"):
        out = tmp_path / objective
        assert run_cli("train", "--objective", objective, "--corpus-path", str(corpus),
                       "--data-dir", str(tmp_path / "data"), "--out", str(out), "--steps", "2",
                       "--eval-every", "2", "--sample-every", "2", "--critic-iters", "1",
                       *TINY) == 0
        assert run_cli("eval", "--run", str(out), "--samples", "40", "--temperatures",
                       "0.7,1,1.5", "--json", "--no-words") == 0
        runs[objective] = json.loads(capsys.readouterr().out)["sweep"]
    import textgan.report.plots as report_plots

    drawn = []
    original = report_plots.plot_quality_diversity

    def spy(curves, path, **kwargs):
        drawn.append([(label, sweep.to_dict()) for label, sweep in curves])
        return original(curves, path, **kwargs)

    monkeypatch.setattr(report_plots, "plot_quality_diversity", spy)
    report_dir = tmp_path / "report"
    assert run_cli("report", str(tmp_path / "wgan-gp"), str(tmp_path / "mle"),
                   "--out", str(report_dir)) == 0
    assert drawn == [[("wgan-gp", runs["wgan-gp"]), ("mle", runs["mle"])]]
    png = report_dir / "quality_diversity.png"
    assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (report_dir / "index.html").read_text()
    assert "quality_diversity.png" in page and "temperature sweep" in page
    assert "T=0.7:" in page and "cross-entropy, nats/position" in page


def test_sigterm_checkpoints_the_current_step(tmp_path: Path, corpus: Path) -> None:
    out = tmp_path / "run"
    argv = ["train", "--objective", "mle", "--corpus-path", str(corpus), "--data-dir",
            str(tmp_path / "data"), "--out", str(out), "--steps", "100000", "--eval-every", "0",
            "--sample-every", "0", "--checkpoint-every", "100000", *TINY]
    returncode, err = train_then_signal(argv, out, tmp_path, signal.SIGTERM,
                                        env={"PYTHONPATH": str(ROOT)})
    assert returncode == 0, err
    last_step = records(out)[-1]["step"]
    paths = CheckpointStore(out / "checkpoints").paths()
    assert len(paths) == 1 and load_checkpoint(paths[0])["step"] == last_step
    assert f"stopped at step {last_step}" in err and "Traceback" not in err


@pytest.mark.slow
def test_train_under_torchrun(tmp_path: Path, corpus: Path) -> None:
    """2 CPU ranks: one run directory, every rank ending with the checkpoint's parameters."""
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    out = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT),
           "TEXTGAN_DEBUG_RANK_STATE_DIR": str(dumps)}
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                           "--nproc-per-node", "2", "-m", "textgan.cli.main", "train",
                           "--objective", "mle", "--corpus-path", str(corpus), "--data-dir",
                           str(tmp_path / "data"), "--out", str(out), "--steps", "3",
                           "--eval-every", "0", "--sample-every", "0", *TINY],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    assert [r["step"] for r in records(out)] == [1, 2, 3]
    state = load_checkpoint(out / "checkpoints" / "step_00000003.pt")
    assert state["world_size"] == 2 and "critic" not in state
    for rank in (0, 1):
        held = torch.load(dumps / f"rank{rank}.pt", weights_only=True)
        assert set(held) == {"generator"}
        for key, value in held["generator"].items():
            assert torch.equal(value, state["generator"][key]), (rank, key)


# -- data-parallel: 2 ranks equal one process on the combined batch --------------------------
WORLD, LOCAL_BATCH = 2, 3


class _SeededRows:
    """Seeded random id rows, standing in for a corpus."""

    def __init__(self) -> None:
        self.gen = torch.Generator().manual_seed(7)

    def next_batch(self, batch_size: int, device: torch.device) -> torch.Tensor:
        return torch.randint(0, 6, (batch_size, 5), generator=self.gen)

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


def _train_lm(dist, batch: int) -> dict[str, torch.Tensor]:
    from textgan.core.distributed import RankShare, rank_seed
    from textgan.core.trainer import TrainConfig
    from textgan.text.lm import LSTMLanguageModel

    torch.manual_seed(0 if dist is None else rank_seed(0, dist.rank))  # ranks init differently
    model = LSTMLanguageModel(6, 5, embed_dim=4, hidden=5, layers=2, pad_id=1)
    data = _SeededRows() if dist is None else RankShare(_SeededRows(), dist.rank, WORLD)
    trainer = LikelihoodTrainer(model, data, TrainConfig(batch_size=batch, lr=1e-2),
                                torch.device("cpu"), dist=dist)
    for _ in range(3):
        trainer.train_step()
    return dict(model.state_dict())


def _rank_worker(rank: int, port: int, out: str) -> None:
    import torch.distributed as tdist

    from textgan.core.distributed import DistributedContext

    torch.set_num_threads(1)
    tdist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                             world_size=WORLD)
    try:
        state = _train_lm(DistributedContext(rank, WORLD, torch.device("cpu")), LOCAL_BATCH)
        torch.save(state, Path(out) / f"rank{rank}.pt")
        tdist.barrier()
    finally:
        tdist.destroy_process_group()


@pytest.mark.slow
def test_two_ranks_match_one_process_on_the_combined_batch(tmp_path: Path) -> None:
    import socket

    import torch.multiprocessing as mp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(_rank_worker, args=(port, str(tmp_path)), nprocs=WORLD, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(WORLD)]
    single = _train_lm(None, WORLD * LOCAL_BATCH)
    for key, value in single.items():
        assert torch.equal(ranks[0][key], ranks[1][key]), key
        torch.testing.assert_close(ranks[0][key], value, rtol=1e-5, atol=1e-6, msg=key)
    torch.manual_seed(0)
    from textgan.text.lm import LSTMLanguageModel

    initial = LSTMLanguageModel(6, 5, embed_dim=4, hidden=5, layers=2, pad_id=1).state_dict()
    assert not torch.allclose(initial["output.weight"], single["output.weight"])


def test_subword_language_model(tmp_path: Path, corpus: Path, capsys) -> None:
    out = tmp_path / "run"
    assert run_cli("train", "--objective", "mle", "--corpus-path", str(corpus), "--data-dir",
                   str(tmp_path / "data"), "--out", str(out), "--tokenizer", "sentencepiece",
                   "--vocab-size", "20", "--steps", "4", "--eval-every", "2", "--sample-every",
                   "4", "--dim", "8", "--batch-size", "8", "--seq-len", "6",
                   "--device", "cpu") == 0, capsys.readouterr().err
    logged = records(out)
    assert 0 <= logged[1]["js4"] <= 1 and logged[1]["valid_nll"] > 0  # on the decoded text
    state = load_checkpoint(out / "checkpoints" / "step_00000004.pt")
    assert state["generator"]["output.weight"].shape[0] == 20  # a softmax over the pieces
    samples = (out / "samples" / "step_00000004.txt").read_text(encoding="utf-8").splitlines()
    assert len(samples) == 64 and not any("\u2581" in s or "<pad>" in s for s in samples)
    capsys.readouterr()
    assert run_cli("sample", "-n", "5", "--run", str(out), "--seed", "1") == 0
    assert len(capsys.readouterr().out.splitlines()) == 5
