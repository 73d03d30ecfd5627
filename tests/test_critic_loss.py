"""valid_critic_loss / train_critic_loss: a hand computation, and training left untouched."""

import json

import numpy as np
import pytest
import torch
from test_image_data import write_idx_dir
from torch import nn

from textgan.core.critic_loss import CriticLossHook
from textgan.training import resolve_config, resume_training, start_training


class BNGenerator(nn.Module):
    noise_dim = 3

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(3, 4)
        self.bn = nn.BatchNorm1d(4)

    def forward(self, z):
        return self.bn(self.linear(z))


class BNCritic(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.bn = nn.BatchNorm1d(4)
        self.linear = nn.Linear(4, 1)

    def forward(self, x):
        return self.linear(self.bn(x)).squeeze(1)


def test_critic_losses_equal_a_hand_computation():
    torch.manual_seed(0)
    G, D = BNGenerator(), BNCritic()
    for module in (G, D):  # non-trivial running statistics
        module.bn.running_mean.uniform_(-1, 1)
        module.bn.running_var.uniform_(0.5, 2)
    train, valid = torch.randn(5, 4), torch.randn(6, 4) + 1.0
    hook = CriticLossHook(G, D, train, valid, seed=3, device=torch.device("cpu"), n_fake=7)
    before = {k: v.clone() for k, v in {**G.state_dict(), **{
        f"D.{k}": v for k, v in D.state_dict().items()}}.items()}
    global_rng = torch.get_rng_state()
    got = hook()
    assert torch.equal(torch.get_rng_state(), global_rng)  # no draw from the training streams
    after = {**G.state_dict(), **{f"D.{k}": v for k, v in D.state_dict().items()}}
    assert all(torch.equal(before[k], after[k]) for k in before)  # no statistics updated
    assert G.training and D.training  # modes restored

    # By hand: G in training mode (batch statistics of the 7 fakes), D in eval mode.
    z = hook.noise
    h = G.linear(z).detach()
    fake = (h - h.mean(0)) / torch.sqrt(h.var(0, unbiased=False) + G.bn.eps) * G.bn.weight \
        + G.bn.bias

    def d(x):
        normed = (x - D.bn.running_mean) / torch.sqrt(D.bn.running_var + D.bn.eps)
        return (normed * D.bn.weight + D.bn.bias) @ D.linear.weight[0] + D.linear.bias[0]

    with torch.no_grad():
        d_fake = d(fake).double().mean()
        expected_train = float(d_fake - d(train).double().mean())
        expected_valid = float(d_fake - d(valid).double().mean())
    assert got["train_critic_loss"] == pytest.approx(expected_train, abs=1e-5)
    assert got["valid_critic_loss"] == pytest.approx(expected_valid, abs=1e-5)
    assert got == hook()  # fixed batches: the same value while nothing trains
    other = CriticLossHook(G, D, train, valid, seed=3, device=torch.device("cpu"), n_fake=7)
    assert torch.equal(other.noise, hook.noise)


TINY = {"train": {"steps": 4, "batch_size": 4, "critic_iters": 2, "eval_every": 2,
                  "sample_every": 0, "checkpoint_every": 2, "log_every": 1, "seed": 5},
        "model": {"dim": 2},
        "data": {"swd_images": 0}}


def _params(session):
    return [p.detach().clone() for m in session.trainer.models().values() for p in m.parameters()]


@pytest.mark.parametrize("objective", ["wgan-gp", "gan"])  # gan: a batch-norm critic
def test_critic_loss_leaves_training_unchanged(tmp_path, objective):
    write_idx_dir(tmp_path / "mnist", n_train=20, n_test=6)
    data = {**TINY["data"], "data_path": str(tmp_path / "mnist")}
    results = {}
    for every in (2, 0):
        overrides = {**TINY, "data": data,
                     "train": {**TINY["train"], "eval_every": every, "objective": objective}}
        out = tmp_path / f"run{every}"
        session = start_training(resolve_config("image", "cpu", None, overrides), out=out)
        list(session.events())
        results[every] = (_params(session), out)
    with_probe, without = results[2][0], results[0][0]
    assert len(with_probe) > 4
    assert all(torch.equal(a, b) for a, b in zip(with_probe, without, strict=True))
    records = [json.loads(line) for line in (results[2][1] / "metrics.jsonl").read_text()
               .splitlines()]
    probed = [r for r in records if "valid_critic_loss" in r]
    assert [r["step"] for r in probed] == [2, 4]
    assert all(np.isfinite(r["train_critic_loss"]) for r in probed)


def test_resume_with_the_probe_is_bit_identical(tmp_path):
    write_idx_dir(tmp_path / "mnist", n_train=20, n_test=6)
    data = {**TINY["data"], "data_path": str(tmp_path / "mnist")}
    straight = start_training(resolve_config("image", "cpu", None, {**TINY, "data": data}),
                              out=tmp_path / "a")
    list(straight.events())
    short = {**TINY, "data": data, "train": {**TINY["train"], "steps": 2}}
    first = start_training(resolve_config("image", "cpu", None, short), out=tmp_path / "b")
    list(first.events())
    resumed = resume_training(tmp_path / "b", overrides={"train": {"steps": 4}})
    list(resumed.events())
    assert all(torch.equal(a, b) for a, b in zip(_params(straight), _params(resumed), strict=True))
    logged = [json.loads(line) for line in (tmp_path / "a" / "metrics.jsonl").read_text()
              .splitlines()]
    again = [json.loads(line) for line in (tmp_path / "b" / "metrics.jsonl").read_text()
             .splitlines()]
    key = "valid_critic_loss"
    assert [r[key] for r in logged if key in r] == [r[key] for r in again if key in r]


def test_text_runs_log_the_held_out_critic_loss(tmp_path):
    def run(eval_every, out):
        config = resolve_config("text", "cpu", None, {
            "train": {"steps": 2, "batch_size": 4, "seed": 0, "device": "cpu", "critic_iters": 1,
                      "eval_every": eval_every, "sample_every": 0, "checkpoint_every": 2},
            "model": {"dim": 8, "blocks": 1},
            "data": {"corpus": "synthetic", "data_dir": str(tmp_path / "data"), "seq_len": 12,
                     "max_lines": 400},
        })
        session = start_training(config, out=out)
        list(session.events())
        return session

    probed, plain = run(2, tmp_path / "a"), run(0, tmp_path / "b")
    assert all(torch.equal(a, b) for a, b in zip(_params(probed), _params(plain), strict=True))
    records = [json.loads(line) for line in (tmp_path / "a" / "metrics.jsonl").read_text()
               .splitlines()]
    assert np.isfinite(records[-1]["valid_critic_loss"])
    assert np.isfinite(records[-1]["train_critic_loss"])
