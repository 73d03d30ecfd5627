"""The text model's levers past the paper's recipe: the critic's view of its input (multiple
representations, width, layer norm, dropout), the generator's output (annealed temperature,
Gumbel, straight-through), self-attention and a curriculum over sequence length. Each changes
what it claims; the defaults are the paper's networks exactly; resume stays bit-identical."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from textgan.config import apply_overrides
from textgan.core.checkpoint import load_checkpoint
from textgan.core.objectives import WGANGP
from textgan.errors import ConfigError
from textgan.text.models import (
    SelfAttention,
    TextCritic,
    TextGenerator,
    TextModelConfig,
    curriculum_length,
    generator_parameters,
    inverse_temperature,
)
from textgan.training import resolve_config, resume_training, start_training

V, L = 9, 12


def tiny(**changes: object) -> TextModelConfig:
    return dataclasses.replace(TextModelConfig(dim=8, blocks=2, noise_dim=4), **changes)


def one_hot(seed: int = 0, n: int = 3) -> torch.Tensor:
    ids = torch.randint(0, V, (n, L), generator=torch.Generator().manual_seed(seed))
    return F.one_hot(ids, V).float()


def entropy(probs: torch.Tensor) -> float:
    return float(-(probs * probs.clamp_min(1e-30).log()).sum(-1).mean().detach())


# -- defaults: the paper's networks -------------------------------------------------------------

def test_defaults_build_the_papers_networks_bit_for_bit() -> None:
    torch.manual_seed(0)
    g, d = TextGenerator(V, L, tiny()), TextCritic(V, L, tiny())
    assert g.attention is None and d.attention is None and d.representations == 1
    assert sorted(d.state_dict()) == sorted(
        ["input.weight", "input.bias", "output.weight", "output.bias"]
        + [f"blocks.{i}.conv{j}.{p}" for i in range(2) for j in (1, 2) for p in ("weight", "bias")])
    z = torch.randn(5, 4)
    assert torch.equal(g(z), torch.softmax(g.logits(z).float(), dim=-1))
    g.follow_step(10, 100)  # no annealing: β stays 1
    assert g.beta == 1.0 and torch.equal(g(z), torch.softmax(g.logits(z).float(), dim=-1))
    x = one_hot()
    h = d.input(x.transpose(1, 2))
    for block in d.blocks:
        h = h + 0.3 * block.conv2(F.relu(block.conv1(F.relu(h))))
    d.follow_step(0, 100)
    assert torch.equal(d(x), d.output(h.flatten(1)).squeeze(1))


# -- the critic's view ------------------------------------------------------------------------

def test_multiple_representations_average_k_embeddings_through_shared_blocks() -> None:
    torch.manual_seed(0)
    d = TextCritic(V, L, tiny(critic_representations=4))
    assert d.input.out_channels == 8 and d.dim == 2  # 4 embeddings, each 8/4 wide
    assert d.blocks[0].conv1.in_channels == 2 and d.output.in_features == L * 2
    x = one_hot()
    embedded = d.input(x.transpose(1, 2))  # [B, 4·2, L]
    per_rep = [d.output(d.blocks(embedded[:, 2 * k:2 * k + 2]).flatten(1)).squeeze(1)
               for k in range(4)]
    assert torch.allclose(d(x), torch.stack(per_rep, 1).mean(1), atol=1e-6)
    torch.manual_seed(0)
    assert not torch.allclose(d(x), TextCritic(V, L, tiny())(x))


def test_multiple_representations_with_a_conditional_head() -> None:
    for method in ("ac", "projection"):
        d = TextCritic(V, L, tiny(critic_representations=2), num_classes=3, method=method)
        out = d(one_hot(), torch.tensor([0, 1, 2]))
        scores = out[0] if isinstance(out, tuple) else out
        assert scores.shape == (3,)
        if isinstance(out, tuple):
            assert out[1].shape == (3, 3)


def test_critic_dim_widens_the_critic_only() -> None:
    cfg = tiny(critic_dim=24)
    g, d = TextGenerator(V, L, cfg), TextCritic(V, L, cfg)
    assert g.blocks[0].conv1.in_channels == 8
    assert d.input.out_channels == 24 and d.blocks[0].conv1.in_channels == 24
    assert TextCritic(V, L, tiny(critic_dim=24, critic_representations=3)).dim == 8


def test_layer_norm_in_the_critic_is_per_sample() -> None:
    torch.manual_seed(0)
    d = TextCritic(V, L, tiny(critic_norm="layer"))
    norms = [m for m in d.modules() if isinstance(m, torch.nn.GroupNorm)]
    assert len(norms) == 4 and all(n.num_groups == 1 for n in norms)
    assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in d.modules())
    x = one_hot(n=4)
    assert torch.allclose(d(x)[:1], d(x[:1]), atol=1e-6)  # no coupling across the batch
    torch.manual_seed(0)
    assert not torch.allclose(d(x), TextCritic(V, L, tiny())(x))
    # the block normalises before each ReLU: N(h) has zero mean and unit variance per sample
    h = torch.randn(2, 8, L) * 5 + 3
    normed = d.blocks[0].norm1(h)
    assert torch.allclose(normed.mean((1, 2)), torch.zeros(2), atol=1e-5)


def test_critic_dropout_drops_while_training_only() -> None:
    torch.manual_seed(0)
    d = TextCritic(V, L, tiny(critic_dropout=0.5))
    x = one_hot()
    assert not torch.equal(d(x), d(x))  # a new mask each pass
    d.eval()
    assert torch.equal(d(x), d(x))
    plain = TextCritic(V, L, tiny())
    assert torch.equal(plain(x), plain(x))


# -- the generator's output -------------------------------------------------------------------

def test_inverse_temperature_schedule_values() -> None:
    exp = tiny(gen_beta_max=100.0, gen_anneal_steps=100)
    assert inverse_temperature(exp, 0, 7) == 1.0
    assert inverse_temperature(exp, 50, 7) == pytest.approx(10.0)
    assert inverse_temperature(exp, 100, 7) == pytest.approx(100.0)
    assert inverse_temperature(exp, 500, 7) == pytest.approx(100.0)
    linear = tiny(gen_beta_max=100.0, gen_anneal="linear", gen_temperature=0.5)
    assert inverse_temperature(linear, 0, 200) == 2.0  # β0 = 1/τ0
    assert inverse_temperature(linear, 100, 200) == pytest.approx(51.0)  # over the run's 200
    assert inverse_temperature(tiny(gen_temperature=0.25), 10**6, 10) == 4.0  # no annealing


def test_lower_temperature_lowers_the_outputs_entropy_and_follows_the_schedule() -> None:
    torch.manual_seed(0)
    g = TextGenerator(V, L, tiny(gen_temperature=1.0, gen_beta_max=50.0, gen_anneal_steps=10))
    z = torch.randn(6, 4)
    logits = g.logits(z).float()
    start = g(z)
    assert torch.equal(start, torch.softmax(logits, -1))
    g.follow_step(5, 1000)
    assert g.beta == pytest.approx(50.0 ** 0.5)
    middle = g(z)
    assert torch.allclose(middle, torch.softmax(logits * 50.0 ** 0.5, -1), atol=1e-6)
    g.follow_step(10, 1000)
    end = g(z)
    assert entropy(end) < entropy(middle) < entropy(start)
    cold = TextGenerator(V, L, tiny(gen_temperature=0.5))
    cold.load_state_dict(g.state_dict())
    assert entropy(cold(z)) < entropy(start)


def test_gumbel_output_is_the_softmax_of_noisy_logits_while_training() -> None:
    torch.manual_seed(0)
    g = TextGenerator(V, L, tiny(gen_output="gumbel", gen_temperature=0.5))
    z = torch.randn(4, 4)
    logits = g.logits(z).float()
    torch.manual_seed(1)
    out = g(z)
    torch.manual_seed(1)
    gumbel = -torch.empty_like(logits).exponential_().log()
    assert torch.allclose(out, torch.softmax((logits + gumbel) / 0.5, -1), atol=1e-6)
    assert not torch.allclose(out, torch.softmax(logits / 0.5, -1))
    g.eval()
    assert torch.equal(g(z), torch.softmax(logits / 0.5, -1))


def test_straight_through_is_exactly_one_hot_forward_and_trains_the_generator() -> None:
    torch.manual_seed(0)
    g = TextGenerator(V, L, tiny(gen_output="straight-through"))
    d = TextCritic(V, L, tiny())
    out = g(torch.randn(5, 4))
    assert set(out.unique().tolist()) == {0.0, 1.0}
    assert torch.equal(out.sum(-1), torch.ones(5, L))
    (-d(out).mean()).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in g.parameters())
    # the penalty interpolates one-hot reals and these one-hot fakes, as the critic sees them
    loss, stats = WGANGP().critic_loss(d, one_hot(n=5), out.detach())
    assert math.isfinite(float(loss.detach())) and float(stats["penalty"]) >= 0


# -- self-attention ---------------------------------------------------------------------------

def test_attention_keeps_shapes_and_changes_the_output() -> None:
    torch.manual_seed(0)
    g0, d0 = TextGenerator(V, L, tiny()), TextCritic(V, L, tiny())
    torch.manual_seed(0)
    g1 = TextGenerator(V, L, tiny(attention=1))
    torch.manual_seed(1)
    d1 = TextCritic(V, L, tiny(attention=2))
    assert isinstance(g1.attention, SelfAttention) and isinstance(d1.attention, SelfAttention)
    for key, value in g0.state_dict().items():  # the paper's layers start as without attention
        assert torch.equal(value, g1.state_dict()[key]), key
    z = torch.randn(3, 4)
    assert g1(z).shape == g0(z).shape == (3, L, V)
    assert not torch.allclose(g1(z), g0(z))
    d1.load_state_dict({**d1.state_dict(), **d0.state_dict()})
    x = one_hot()
    assert d1(x).shape == (3,) and not torch.allclose(d1(x), d0(x))
    # the penalty's double backward runs through it and reaches its weights
    loss, _ = WGANGP().critic_loss(d1, x, g1(z).detach())
    loss.backward()
    assert d1.attention.qkv.weight.grad.abs().sum() > 0
    cfg = tiny(attention=1)
    assert generator_parameters(V, L, cfg) == sum(p.numel() for p in g1.parameters())


def test_attention_mixes_positions() -> None:
    torch.manual_seed(0)
    block = SelfAttention(4)
    x = torch.randn(1, 4, 6)
    changed = x.clone()
    changed[0, :, 5] += 1.0
    # a change at the last position reaches the first one (a 1-wide convolution could not)
    assert not torch.allclose(block(x)[0, :, 0], block(changed)[0, :, 0])


# -- curriculum -------------------------------------------------------------------------------

def test_curriculum_length_schedule() -> None:
    cfg = tiny(curriculum_start=4, curriculum_steps=8)
    assert [curriculum_length(cfg, 12, t) for t in (0, 1, 4, 7, 8, 100)] == [4, 5, 8, 11, 12, 12]
    assert curriculum_length(tiny(), 12, 0) == 12


def test_curriculum_masks_the_critics_input_beyond_l() -> None:
    torch.manual_seed(0)
    d = TextCritic(V, L, tiny(curriculum_start=4, curriculum_steps=8), pad_id=0)
    x, other = one_hot(0), one_hot(1)
    mixed = torch.cat([x[:, :8], other[:, 8:]], dim=1)  # the same first 8 positions
    d.follow_step(4, 1000)  # L = 8
    assert d.length == 8
    assert torch.equal(d(x), d(mixed))
    padded = torch.cat([x[:, :8], F.one_hot(torch.zeros(3, 4, dtype=torch.long), V).float()], 1)
    assert torch.equal(d(x), d(padded))  # beyond L the critic reads padding
    x_hat = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(d(x_hat).sum(), x_hat)
    assert grad[:, 8:].abs().sum() == 0 and grad[:, :8].abs().sum() > 0
    d.follow_step(8, 1000)  # the whole line
    assert not torch.equal(d(x), d(mixed))


# -- validation -------------------------------------------------------------------------------

@pytest.mark.parametrize("changes, words", [
    ({"critic_representations": 3}, "must divide the critic's width"),
    ({"critic_dropout": 1.0}, "critic_dropout must be in [0, 1)"),
    ({"critic_dropout": -0.1}, "critic_dropout must be a non-negative number"),
    ({"gen_temperature": 0.0}, "gen_temperature must be a positive number"),
    ({"attention": 6}, "names a residual block after the last one"),
    ({"critic_norm": "batch"}, "critic_norm must be one of none, layer"),
    ({"gen_output": "argmax"}, "gen_output must be one of softmax, gumbel, straight-through"),
    ({"curriculum_steps": 0}, "curriculum_steps must be at least 1"),
])
def test_bad_values_are_one_line_errors(changes: dict, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        apply_overrides(TextModelConfig(dim=64), changes, "model")
    assert words in str(err.value) and "\n" not in str(err.value)


def test_a_curriculum_longer_than_the_lines_is_refused() -> None:
    with pytest.raises(ConfigError, match="curriculum_start .* is longer than the lines"):
        TextCritic(V, L, tiny(curriculum_start=L + 1))


# -- training: the trainer moves the schedules; resume is exact with everything on --------------

EVERYTHING = {"critic_representations": 2, "critic_dim": 12, "critic_norm": "layer",
              "critic_dropout": 0.2, "gen_output": "straight-through", "gen_temperature": 2.0,
              "gen_beta_max": 20.0, "attention": 1, "curriculum_start": 4, "curriculum_steps": 4}


def config(tmp_path: Path, model: dict):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(["the cat sat .", "a dog ran .", "we like tea ."] * 200) + "\n")
    return resolve_config("text", "cpu", None, {
        "train": {"steps": 6, "batch_size": 8, "seed": 0, "device": "cpu", "eval_every": 0,
                  "sample_every": 0, "checkpoint_every": 2},
        "model": {"dim": 8, "blocks": 1, **model},
        "data": {"corpus_path": str(corpus), "data_dir": str(tmp_path / "data"), "seq_len": 12},
    })


def test_resume_is_bit_identical_with_every_lever_on(tmp_path: Path) -> None:
    straight = start_training(config(tmp_path, EVERYTHING), out=tmp_path / "a")
    list(straight.events())
    generator, critic = straight.trainer.generator, straight.trainer.critic
    cfg = straight.config.model
    assert generator.beta == inverse_temperature(cfg, 5, 6)  # the last step's, over the run's 6
    assert critic.length == curriculum_length(cfg, 12, 5) == 12
    cut = start_training(config(tmp_path, EVERYTHING), out=tmp_path / "b")
    list(cut.events(should_stop=lambda: cut.trainer.step >= 3))
    assert cut.trainer.step == 3
    resumed = resume_training(tmp_path / "b")
    list(resumed.events())
    a = load_checkpoint(tmp_path / "a" / "checkpoints" / "step_00000006.pt")
    b = load_checkpoint(tmp_path / "b" / "checkpoints" / "step_00000006.pt")
    for part in ("generator", "generator_ema", "critic"):
        assert a[part].keys() == b[part].keys()
        for key, value in a[part].items():
            assert torch.equal(value, b[part][key]), (part, key)
    assert "attention.qkv.weight" in a["critic"] and a["critic"]["input.weight"].shape[0] == 12


def test_the_schedules_change_training(tmp_path: Path) -> None:
    """The trainer moves β: the same run with annealing ends with other weights."""
    runs = {}
    for name, model in (("plain", {"gen_output": "gumbel"}),
                        ("annealed", {"gen_output": "gumbel", "gen_beta_max": 50.0})):
        session = start_training(config(tmp_path, model), out=tmp_path / name)
        list(session.events())
        runs[name] = session.trainer.generator.state_dict()
    assert any(not torch.equal(v, runs["annealed"][k]) for k, v in runs["plain"].items())


def test_every_lever_has_a_recipe_of_valid_settings() -> None:
    """benchmarks/recipes.py screens each lever: the cpu preset with that change, valid."""
    from test_benchmarks import load

    from textgan.benchmarking import configure

    recipes = load("recipes").RECIPES
    # every cpu recipe but "cpu" names the softmax output it was measured with: a lever changes
    # something else, or the output itself
    levers = {name: r for name, r in recipes.items()
              if {k for k, v in r.model.items() if (k, v) != ("gen_output", "softmax")}
              - {"dim", "blocks", "init"}}
    changed = {key for r in levers.values() for key in r.model}
    assert changed >= {"critic_representations", "critic_dim", "critic_norm", "critic_dropout",
                       "gen_beta_max", "gen_output", "attention", "curriculum_start"}
    for name, recipe in levers.items():
        assert recipe.preset == "cpu" and not recipe.train, name
        config = configure("cpu", model=recipe.model)
        for key, value in recipe.model.items():
            assert getattr(config.model, key) == value, (name, key)
