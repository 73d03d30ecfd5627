"""Trainer performance options: joint critic batching (same math), bf16 autocast (fp32 losses and
penalty norm), no wasted work (critic frozen in the generator step)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from textgan.core.objectives import WGANGP
from textgan.core.trainer import TrainConfig, Trainer
from textgan.errors import ConfigError
from textgan.text.mode import CorpusBatches
from textgan.text.models import TextCritic, TextGenerator, TextModelConfig

VOCAB, SEQ = 9, 8
MODEL = TextModelConfig(dim=8, blocks=1, kernel_size=3, noise_dim=6)


def make_trainer(**train: object) -> Trainer:
    torch.manual_seed(0)
    ids = np.random.default_rng(0).integers(0, VOCAB, size=(50, SEQ), dtype=np.uint8)
    cfg = TrainConfig(**{"batch_size": 5, "critic_iters": 2, **train})  # type: ignore[arg-type]
    cfg.validate()
    return Trainer(TextGenerator(VOCAB, SEQ, MODEL), TextCritic(VOCAB, SEQ, MODEL),
                   CorpusBatches(ids, VOCAB, 0), cfg, torch.device("cpu"))


def test_joint_critic_batching_is_the_same_math() -> None:
    trainer = make_trainer(critic_batching="joint")
    assert isinstance(trainer.objective, WGANGP) and trainer.objective.critic_batching == "joint"
    assert make_trainer().objective.critic_batching == "separate"  # type: ignore[attr-defined]
    critic = trainer.critic
    real = trainer.data.next_batch(5, torch.device("cpu"))
    fake = torch.softmax(torch.randn(5, SEQ, VOCAB), dim=-1)
    results = {}
    for joint in (False, True):
        critic.zero_grad(set_to_none=True)
        torch.manual_seed(3)  # the same interpolation weights
        loss, stats = WGANGP(critic_batching="joint" if joint else "separate").critic_loss(critic, real, fake)
        loss.backward()
        results[joint] = (stats, [p.grad.clone() for p in critic.parameters()])
    for key, value in results[False][0].items():
        torch.testing.assert_close(results[True][0][key], value, rtol=1e-6, atol=1e-6)
    for g_joint, g_separate in zip(results[True][1], results[False][1], strict=True):
        torch.testing.assert_close(g_joint, g_separate, rtol=1e-5, atol=1e-6)


def test_bf16_keeps_losses_and_penalty_norms_in_fp32() -> None:
    trainer = make_trainer(precision="bf16")
    calls: list[tuple[torch.dtype, torch.dtype]] = []  # (input, result) of every norm taken
    original = torch.Tensor.norm

    def spy(self: torch.Tensor, *args: object, **kwargs: object) -> torch.Tensor:
        result = original(self, *args, **kwargs)
        calls.append((self.dtype, result.dtype))
        return result

    torch.Tensor.norm = spy  # type: ignore[method-assign]
    try:
        stats = trainer.train_step()
    finally:
        torch.Tensor.norm = original  # type: ignore[method-assign]
    # One penalty per critic step (critic_iters = 2), each taken on and giving fp32.
    assert len(calls) >= trainer.config.critic_iters, calls
    assert set(calls) == {(torch.float32, torch.float32)}, calls
    for key, value in stats.items():
        assert value.dtype == torch.float32, key
        assert torch.isfinite(value), key
    # Parameters (and so checkpoints) stay fp32; only the compute inside autocast is bf16.
    assert all(p.dtype == torch.float32 for p in trainer.critic.parameters())


def test_bf16_autocast_runs_the_critic_convolutions_in_bf16() -> None:
    trainer = make_trainer(precision="bf16")
    dtypes: list[torch.dtype] = []
    hook = trainer.critic.blocks[0].conv1.register_forward_hook(
        lambda module, inputs, output: dtypes.append(output.dtype))
    trainer.train_step()
    hook.remove()
    assert dtypes and set(dtypes) == {torch.bfloat16}


def test_critic_gets_no_gradient_in_the_generator_step() -> None:
    trainer = make_trainer(critic_iters=1)
    grads: list[bool] = []
    step = trainer.opt_g.step

    def check() -> None:  # at the generator's optimiser step the critic must hold no fresh grads
        grads.extend(p.grad is not None for p in trainer.critic.parameters())
        step()

    trainer.opt_d.zero_grad(set_to_none=True)
    orig_d_step = trainer.opt_d.step

    def d_step() -> None:
        orig_d_step()
        trainer.opt_d.zero_grad(set_to_none=True)

    trainer.opt_d.step, trainer.opt_g.step = d_step, check  # type: ignore[method-assign]
    trainer.train_step()
    assert grads and not any(grads)
    assert all(p.requires_grad for p in trainer.critic.parameters())  # unfrozen afterwards


def test_unknown_critic_batching_is_rejected() -> None:
    from textgan.config import apply_overrides

    with pytest.raises(ConfigError):
        apply_overrides(TrainConfig(), {"critic_batching": "fused"}, "train")


def test_stats_to_host_is_one_copy_with_the_same_values() -> None:
    from textgan.core.trainer import stats_to_host

    stats = {"a": torch.tensor(0.1), "b": torch.tensor(1 / 3, dtype=torch.float64),
             "c": torch.tensor(2.5, dtype=torch.bfloat16), "d": torch.tensor(float("nan"))}
    host = stats_to_host(stats)
    assert list(host) == ["a", "b", "c", "d"]
    assert host["a"] == float(stats["a"]) and host["b"] == 1 / 3 and host["c"] == 2.5
    assert host["d"] != host["d"]  # NaN survives (the loop's divergence check needs it)
    assert stats_to_host({}) == {}


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop"])
def test_foreach_optimisers_train_bit_for_bit_like_the_per_tensor_loop(optimizer: str) -> None:
    """The trainer's optimisers take foreach steps (less time in the optimiser); the weights
    after a few steps equal those of the per-tensor loop exactly."""
    weights = {}
    for foreach in (True, False):
        trainer = make_trainer(optimizer=optimizer, lr=1e-2)
        before = next(trainer.generator.parameters()).detach().clone()
        assert all(opt.defaults["foreach"] is True for opt in (trainer.opt_g, trainer.opt_d))
        if not foreach:
            for opt in (trainer.opt_g, trainer.opt_d):
                for group in opt.param_groups:
                    group["foreach"] = False
        for _ in range(3):
            trainer.train_step()
        weights[foreach] = [p.detach().clone() for m in (trainer.generator, trainer.critic)
                            for p in m.parameters()]
    assert not torch.equal(weights[True][0], before)  # the steps moved the weights
    assert all(torch.equal(a, b) for a, b in zip(weights[True], weights[False], strict=True))
