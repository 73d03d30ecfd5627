"""NaN/Inf stops training with a clear message; the last good checkpoint is kept, never replaced."""

from __future__ import annotations

import math

import pytest
import torch

from textgan.cli.main import main
from textgan.core.checkpoint import load_checkpoint
from textgan.errors import DivergenceError
from textgan.training import resolve_config, resume_training, start_training


@pytest.fixture()
def corpus(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("".join(f"a small line {i % 11}\n" for i in range(200)))
    return path


def session(tmp_path, corpus, log_every: int = 1, steps: int = 8):
    cfg = resolve_config("text", None, None, {
        "train": {"steps": steps, "batch_size": 4, "critic_iters": 1, "checkpoint_every": 2,
                  "sample_every": 0, "eval_every": 0, "log_every": log_every, "device": "cpu"},
        "model": {"dim": 8}, "data": {"corpus_path": str(corpus), "data_dir": str(tmp_path / "d"),
                                      "seq_len": 8}})
    return start_training(cfg, out=tmp_path / "run")


def all_finite(state: dict) -> bool:
    tensors = [*state["generator"].values(), *state["critic"].values()]
    return all(bool(torch.isfinite(t).all()) for t in tensors)


def checkpoint_files(s) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in s.run.checkpoints.directory.iterdir()}


def train_until(events, step: int) -> None:
    for event in events:
        if event.step == step:
            return


def test_huge_learning_rate_stops_and_keeps_the_last_good_checkpoint(tmp_path, corpus):
    s = session(tmp_path, corpus)
    events = s.events()
    train_until(events, 2)
    good = checkpoint_files(s)
    assert list(good) == ["step_00000002.pt"]
    for opt in (s.trainer.opt_g, s.trainer.opt_d):  # inject: lr 1e38 overflows within a step
        s.trainer.base_lr[opt] = 1e38
    with pytest.raises(DivergenceError) as err:
        list(events)
    message = str(err.value)
    assert message.startswith("training diverged at step 3") and "not finite" in message
    assert "the last good checkpoint (step 2) is kept" in message and "\n" not in message
    assert checkpoint_files(s) == good  # not overwritten, nothing poisoned added
    assert all_finite(load_checkpoint(s.run.checkpoints.path_for(2)))
    records = s.run.read_metrics()
    assert [r["step"] for r in records] == [1, 2]  # the non-finite step was never logged
    # The kept checkpoint resumes normally (with the run's own learning rate).
    resumed = resume_training(s.run.dir)
    assert resumed.trainer.step == 2
    assert [e.step for e in resumed.events()][-1] == 8
    assert all_finite(load_checkpoint(resumed.run.checkpoints.path_for(8)))


def test_nan_loss_on_an_unlogged_checkpoint_step_is_caught_before_saving(tmp_path, corpus):
    s = session(tmp_path, corpus, log_every=100)
    real_step = s.trainer.train_step

    def nan_at_4():
        stats = real_step()
        if s.trainer.step == 4:
            stats = {**stats, "critic_loss": torch.tensor(math.nan)}
        return stats

    s.trainer.train_step = nan_at_4
    with pytest.raises(DivergenceError, match="diverged at step 4: critic_loss is not finite"):
        list(s.events())
    assert list(checkpoint_files(s)) == ["step_00000002.pt"]


def test_inf_parameters_with_finite_losses_are_never_saved(tmp_path, corpus):
    s = session(tmp_path, corpus)
    real_step = s.trainer.train_step

    def poison_at_4():
        stats = real_step()
        if s.trainer.step == 4:  # after this step's losses were computed (they stay finite)
            with torch.no_grad():
                next(s.trainer.generator.parameters())[0].fill_(math.inf)
        return stats

    s.trainer.train_step = poison_at_4
    with pytest.raises(DivergenceError, match="diverged at step 4: parameters are not finite"):
        list(s.events())
    assert list(checkpoint_files(s)) == ["step_00000002.pt"]
    assert all_finite(load_checkpoint(s.run.checkpoints.path_for(2)))


def test_cli_divergence_is_one_clear_error_line(tmp_path, corpus, capsys):
    args = ["train", "--corpus-path", str(corpus), "--data-dir", str(tmp_path / "d"), "--out",
            str(tmp_path / "run"), "--steps", "6", "--dim", "8", "--batch-size", "4",
            "--critic-iters", "1", "--seq-len", "8", "--sample-every", "0", "--eval-every", "0",
            "--device", "cpu", "--lr", "1e38", "--lr-critic", "1e38", "--checkpoint-every", "1"]
    with pytest.raises(SystemExit) as done:
        main(args)
    assert done.value.code == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("error: training diverged at step 1:")
    assert "no checkpoint was written" in last and "lower --lr" in last
    assert not (tmp_path / "run" / "checkpoints").exists()
