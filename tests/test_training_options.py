"""Issue 12's training options end to end: generator EMA, learning-rate schedules, the
generator batch multiple, and checkpoints/best.pt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from textgan.core.checkpoint import load_checkpoint
from textgan.core.trainer import TrainConfig, Trainer
from textgan.sampling import sample_from
from textgan.training import resolve_config, resume_training, start_training

SENTENCES = ["the cat sat .", "a dog ran .", "we like tea ."]


def config(tmp_path: Path, **train: object):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(SENTENCES * 200) + "\n")
    return resolve_config("text", "cpu", None, {
        "train": {"steps": 6, "batch_size": 8, "seed": 0, "device": "cpu", "eval_every": 0,
                  "sample_every": 0, "checkpoint_every": 2, **train},
        "model": {"dim": 8, "blocks": 1},
        "data": {"corpus_path": str(corpus), "data_dir": str(tmp_path / "data"), "seq_len": 12},
    })


def test_resume_is_bit_identical_with_ema_and_a_linear_schedule(tmp_path: Path) -> None:
    options = {"ema_decay": 0.9, "lr_schedule": "linear", "warmup_steps": 2}
    straight = start_training(config(tmp_path, **options), out=tmp_path / "a")
    list(straight.events())
    cut = start_training(config(tmp_path, **options), out=tmp_path / "b")
    list(cut.events(should_stop=lambda: cut.trainer.step >= 3))  # a checkpoint at step 3
    assert cut.trainer.step == 3
    resumed = resume_training(tmp_path / "b")
    assert resumed.trainer.step == 3
    list(resumed.events())
    a = load_checkpoint(tmp_path / "a" / "checkpoints" / "step_00000006.pt")
    b = load_checkpoint(tmp_path / "b" / "checkpoints" / "step_00000006.pt")
    for part in ("generator", "generator_ema", "critic"):
        for key, value in a[part].items():
            assert torch.equal(value, b[part][key]), (part, key)
    # the average differs from the trained weights (it is really averaged)
    assert any(not torch.equal(a["generator"][k], v) for k, v in a["generator_ema"].items())
    # ... and sampling uses it by default, the trained generator with raw=True (after 6 steps
    # the two differ by ~2e-4: enough draws that some of them tell the two apart)
    ema = sample_from(300, checkpoint=tmp_path / "a" / "checkpoints" / "step_00000006.pt",
                      seed=1, temperature=1.0, device="cpu").lines
    raw = sample_from(300, checkpoint=tmp_path / "a" / "checkpoints" / "step_00000006.pt",
                      seed=1, temperature=1.0, device="cpu", raw=True).lines
    assert ema != raw


def test_learning_rate_follows_warm_up_then_linear_decay(tmp_path: Path) -> None:
    session = start_training(config(tmp_path, lr_schedule="linear", warmup_steps=2, steps=4,
                                    lr=1e-3, lr_critic=3e-3), out=tmp_path / "run")
    seen = []
    for _ in session.events():
        seen.append((session.trainer.opt_g.param_groups[0]["lr"],
                     session.trainer.opt_d.param_groups[0]["lr"]))
    # step t (from 0): min(1, (t+1)/2) * (1 - t/4)
    factors = [0.5 * 1.0, 1.0 * 0.75, 1.0 * 0.5, 1.0 * 0.25]
    assert [g for g, _ in seen] == pytest.approx([1e-3 * f for f in factors])
    assert [d for _, d in seen] == pytest.approx([3e-3 * f for f in factors])


def test_generator_batch_multiple() -> None:
    batches = []

    class Gen(torch.nn.Module):
        noise_dim = 3

        def __init__(self) -> None:
            super().__init__()
            self.w = torch.nn.Linear(3, 4)

        def forward(self, z: torch.Tensor) -> torch.Tensor:
            batches.append(z.shape[0])
            return self.w(z)

    class Data:
        def next_batch(self, n: int, device: torch.device) -> torch.Tensor:
            return torch.randn(n, 4)

        def state_dict(self) -> dict:
            return {}

        def load_state_dict(self, state: dict) -> None:
            pass

    cfg = TrainConfig(batch_size=5, critic_iters=2, gen_batch_multiple=2)
    Trainer(Gen(), torch.nn.Linear(4, 1), Data(), cfg, torch.device("cpu")).train_step()
    assert batches == [5, 5, 10]  # two critic steps, then the generator step at 2 × 5


def test_trainer_applies_the_lazy_penalty_setting() -> None:
    """--penalty-every reaches the objective: with k = 3 and 2 critic steps per generator step,
    the penalty is on critic steps 0, 3, 6, ... — the last critic step of generator steps 0 and 3
    has none, that of steps 1 and 2 has one (critic steps 3 and 5: only 3 of them)."""

    class Data:
        def next_batch(self, n: int, device: torch.device) -> torch.Tensor:
            return torch.randn(n, 4)

        def state_dict(self) -> dict:
            return {}

        def load_state_dict(self, state: dict) -> None:
            pass

    class Gen(torch.nn.Linear):
        noise_dim = 3

    cfg = TrainConfig(batch_size=4, critic_iters=2, penalty_every=3)
    critic = torch.nn.Sequential(torch.nn.Linear(4, 1), torch.nn.Flatten(0))
    trainer = Trainer(Gen(3, 4), critic, Data(), cfg, torch.device("cpu"))
    assert trainer.objective.penalty_every == 3
    # the stats are the last critic step's: critic steps 1, 3, 5, 7 → penalty only on 3
    has_penalty = ["penalty" in trainer.train_step() for _ in range(4)]
    assert has_penalty == [False, True, False, False]


def test_best_checkpoint_survives_rotation(tmp_path: Path) -> None:
    cfg = config(tmp_path, steps=8, eval_every=1, checkpoint_every=1, keep_checkpoints=1)
    session = start_training(cfg, out=tmp_path / "run")
    list(session.events())
    run = tmp_path / "run"
    metrics = [r for r in session.run.read_metrics() if "js4" in r]
    best = min(metrics, key=lambda r: r["js4"])
    names = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert names == ["best.json", "best.pt", "step_00000008.pt"]
    record = json.loads((run / "checkpoints" / "best.json").read_text())
    assert record == {"metric": "js4", "value": best["js4"], "step": best["step"]}
    assert load_checkpoint(run / "checkpoints" / "best.pt")["step"] == best["step"]
    result = sample_from(3, run=run, checkpoint="best", device="cpu")
    assert len(result.lines) == 3
    # a resumed run keeps the best so far and only replaces it by a better one
    resumed = resume_training(run, overrides={"train": {"steps": 10}}, reschedule=True)
    list(resumed.events())
    metrics = [r for r in resumed.run.read_metrics() if "js4" in r]
    record = json.loads((run / "checkpoints" / "best.json").read_text())
    assert record["value"] == min(r["js4"] for r in metrics)


def test_cli_samples_and_evaluates_the_best_checkpoint_and_the_raw_generator(tmp_path: Path,
                                                                           capsys) -> None:
    from textgan.cli.main import run as run_cli

    cfg = config(tmp_path, steps=4, eval_every=2, ema_decay=0.9)
    list(start_training(cfg, out=tmp_path / "run").events())
    best_step = json.loads((tmp_path / "run" / "checkpoints" / "best.json").read_text())["step"]
    capsys.readouterr()
    # enough lines that draws from the average and from the raw weights differ somewhere
    args = ["sample", "--run", str(tmp_path / "run"), "--checkpoint", "best", "-n", "300",
            "--seed", "2", "--temperature", "1", "--device", "cpu"]
    assert run_cli(args) == 0
    ema_out = capsys.readouterr()
    assert f"(step {best_step})" in ema_out.err and len(ema_out.out.splitlines()) == 300
    assert run_cli(args + ["--raw"]) == 0
    assert capsys.readouterr().out != ema_out.out
    assert run_cli(["eval", "--run", str(tmp_path / "run"), "--checkpoint", "best", "--raw",
                    "--samples", "20", "--no-lm", "--no-words", "--json", "--device", "cpu"]) == 0
    assert 0.0 <= json.loads(capsys.readouterr().out)["js4"] <= 1.0


def test_threads_setting_sets_torch_threads_and_may_change_on_resume(tmp_path: Path) -> None:
    before = torch.get_num_threads()
    try:
        start_training(config(tmp_path, steps=1, threads=2), out=tmp_path / "run")
        assert torch.get_num_threads() == 2
        resume_training(tmp_path / "run", overrides={"train": {"threads": 1}})
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
