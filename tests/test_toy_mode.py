"""Toy mode: the paper's distributions, models, plots, and a short run that learns 8 Gaussians."""

import json
import math
import tomllib

import pytest
import torch

from textgan.cli.main import run
from textgan.errors import TextganError
from textgan.toy.data import ToyBatches, centers, component_std, sample_toy
from textgan.toy.mode import (
    generate_points,
    interpolate_grad_norms,
    mode_statistics,
    real_points,
)
from textgan.toy.models import FixedGenerator, ToyCritic, ToyGenerator, ToyModelConfig
from textgan.training import resolve_config, resume_training, start_training


def run_cli(*args: str) -> int:
    return run(list(args))


def test_eight_gaussians_as_in_gan_toy():
    c = centers("8gaussians")
    assert torch.allclose(c.norm(dim=1), torch.full((8,), 2 / 1.414))
    angles = sorted(round(math.degrees(math.atan2(y, x))) % 360 for x, y in c.tolist())
    assert angles == [0, 45, 90, 135, 180, 225, 270, 315]
    x = sample_toy("8gaussians", 20000, torch.Generator().manual_seed(0))
    distance, nearest = torch.cdist(x, c).min(dim=1)
    assert float(distance.max()) < 6 * 0.02 / 1.414
    residual = x - c[nearest]
    assert float(residual.std()) == pytest.approx(0.02 / 1.414, rel=0.03)
    assert torch.bincount(nearest).min() > 20000 / 8 * 0.9


def test_twenty_five_gaussians_and_swiss_roll():
    c = centers("25gaussians")
    assert len(c) == 25 and float(c.abs().max()) == pytest.approx(4 / 2.828)
    x = sample_toy("25gaussians", 5000, torch.Generator().manual_seed(1))
    assert float(torch.cdist(x, c).min(dim=1).values.max()) < 6 * component_std("25gaussians")
    roll = sample_toy("swissroll", 20000, torch.Generator().manual_seed(2))
    radius = roll.norm(dim=1) * 7.5  # ≈ t ∈ [1.5π, 4.5π] plus noise of std 0.25
    assert 1.5 * math.pi - 1.5 < float(radius.min()) and float(radius.max()) < 4.5 * math.pi + 1.5
    assert centers("swissroll") is None


def test_batches_resume_exactly_and_bad_names_fail():
    a = ToyBatches("25gaussians", 3)
    a.next_batch(7, torch.device("cpu"))
    b = ToyBatches("25gaussians", 99)
    b.load_state_dict(a.state_dict())
    assert torch.equal(a.next_batch(5, torch.device("cpu")), b.next_batch(5, torch.device("cpu")))
    with pytest.raises(TextganError, match="unknown toy dataset"):
        ToyBatches("9gaussians", 0)


def test_models_match_the_paper():
    cfg = ToyModelConfig()
    g, d = ToyGenerator(cfg), ToyCritic(cfg)
    linears = [m for m in g.net if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(2, 512), (512, 512),
                                                                  (512, 512), (512, 2)]
    assert d(g(torch.randn(5, 2))).shape == (5,)
    # He-uniform: std √(2/n_in) for the hidden layers.
    assert float(linears[1].weight.detach().std()) == pytest.approx(math.sqrt(2 / 512), rel=0.02)


def test_fixed_generator_never_moves():
    from textgan.core.trainer import TrainConfig, Trainer

    torch.manual_seed(0)
    gen = FixedGenerator("8gaussians")
    critic = ToyCritic(ToyModelConfig(dim=8, hidden_layers=1))
    trainer = Trainer(gen, critic, ToyBatches("8gaussians", 0),
                      TrainConfig(batch_size=16, critic_iters=2, gp_lambda=0.1),
                      torch.device("cpu"))
    for _ in range(3):
        trainer.train_step()
    assert float(gen.anchor.detach()) == 0.0
    # G(z) = x + z with x ~ data: subtracting z leaves points on the mixture.
    z = torch.randn(200, 2)
    x = (gen(z) - z).detach()
    assert float(torch.cdist(x, centers("8gaussians")).min(dim=1).values.max()) < 0.1


def test_plot_and_missing_matplotlib(tmp_path, monkeypatch):
    from textgan.toy import plots

    critic = ToyCritic(ToyModelConfig(dim=8, hidden_layers=1))
    axis, values = plots.critic_surface(critic, torch.device("cpu"), points=16)
    assert values.shape == (16, 16) and axis[0] == -3 and axis[-1] == 3
    # values[i, j] is D at (x = axis[j], y = axis[i]).
    assert values[3, 5] == pytest.approx(
        float(critic(torch.tensor([[axis[5], axis[3]]])).detach()), rel=1e-5)
    real = real_points("8gaussians", 50, 0).numpy()
    path = plots.plot_toy(tmp_path / "f.png", real, real + 0.1, (axis, values), "title")
    assert path.read_bytes().startswith(b"\x89PNG")

    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(TextganError, match="matplotlib"):
        plots.plot_toy(tmp_path / "g.png", real, real, None, "t")


def test_mode_statistics():
    c = centers("8gaussians")
    assert mode_statistics(c.repeat(10, 1), "8gaussians") == {"modes_covered": 8.0,
                                                               "high_quality": 1.0}
    collapsed = c[:2].repeat(40, 1)
    assert mode_statistics(collapsed, "8gaussians")["modes_covered"] == 2.0
    far = c.repeat(10, 1) + 0.5
    assert mode_statistics(far, "8gaussians") == {"modes_covered": 0.0, "high_quality": 0.0}
    assert mode_statistics(far, "swissroll") == {}


# A short CPU run of the paper's toy setup, scaled to finish in seconds: narrower MLPs
# (32 instead of 512), batch 64, λ = 1 and a larger step. Measured on this config (seed 0): the
# untrained generator covers at most one mode; after 300 steps all 8, with ‖∇D‖ ≈ 1.
SHORT = {"train": {"steps": 300, "batch_size": 64, "critic_iters": 5, "gp_lambda": 1.0,
                   "lr": 2e-3, "sample_every": 0, "eval_every": 100, "checkpoint_every": 300,
                   "device": "cpu", "seed": 0},
         "model": {"dim": 32}, "data": {"dataset": "8gaussians", "eval_points": 2000}}


def test_short_run_learns_all_eight_modes_with_unit_gradient_norm(tmp_path):
    session = start_training(resolve_config("toy", "cpu", None, SHORT), out=tmp_path / "run")
    device = torch.device("cpu")
    before = generate_points(session.trainer.generator, 2000, seed=1, device=device)
    assert mode_statistics(before, "8gaussians", radius=0.2)["modes_covered"] <= 2
    list(session.events())
    fake = generate_points(session.trainer.generator, 2000, seed=1, device=device)
    real = real_points("8gaussians", 2000, 2)
    norms = interpolate_grad_norms(session.trainer.critic, real, fake)
    assert abs(float(norms.mean()) - 1.0) < 0.25, float(norms.mean())
    stats = mode_statistics(fake, "8gaussians", radius=0.2)
    assert stats["modes_covered"] == 8, stats
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text()
               .splitlines()]
    logged = [r for r in records if "interp_grad_norm" in r]
    assert [r["step"] for r in logged] == [100, 200, 300]
    assert logged[-1]["swd"] < logged[0]["swd"]


def test_cli_toy_figure1_commands(tmp_path):
    for objective in ("wgan-clip", "wgan-gp"):
        out = tmp_path / objective
        code = run_cli("train", "--mode", "toy", "--preset", "figure1", "--dataset", "8gaussians",
                       "--objective", objective, "--out", str(out), "--steps", "2", "--dim", "8",
                       "--sample-every", "2", "--eval-every", "1", "--device", "cpu")
        assert code == 0
        config = tomllib.loads((out / "config.toml").read_text())
        assert config["model"]["fixed_generator"] is True
        assert config["train"]["optimizer"] == ("rmsprop" if objective == "wgan-clip" else "adam")
        assert (out / "samples" / "step_00000002.png").is_file()
        assert run_cli("sample", "--run", str(out), "-n", "50", "--out", str(tmp_path / "s.png"),
                       "--seed", "0") == 0
        assert (tmp_path / "s.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("fixed", [False, True])
def test_resume_continues_exactly(tmp_path, fixed):
    tiny = {"train": {"steps": 4, "batch_size": 16, "critic_iters": 2, "sample_every": 0,
                      "eval_every": 0, "checkpoint_every": 2, "device": "cpu"},
            "model": {"dim": 8, "fixed_generator": fixed}, "data": {"dataset": "25gaussians"}}
    straight = start_training(resolve_config("toy", "cpu", None, tiny), out=tmp_path / "a")
    list(straight.events())
    cut = {**tiny, "train": {**tiny["train"], "steps": 2}}
    list(start_training(resolve_config("toy", "cpu", None, cut), out=tmp_path / "b").events())
    resumed = resume_training(tmp_path / "b",
                             overrides={"train": {"steps": 4}})
    list(resumed.events())
    a, b = ([json.loads(line) for line in (tmp_path / d / "metrics.jsonl").read_text().splitlines()]
            for d in ("a", "b"))
    drop = lambda r: {k: v for k, v in r.items() if k != "sec_per_step"}  # noqa: E731
    assert [drop(r) for r in a] == [drop(r) for r in b]
