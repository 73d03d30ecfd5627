"""The four objectives on any input shape, and --objective bringing its paper settings."""

import math

import pytest
import torch
from torch import nn

from textgan.config import apply_overrides
from textgan.core.objectives import (
    GAN_OBJECTIVES,
    LSGAN,
    OBJECTIVE_DEFAULTS,
    OBJECTIVES,
    WGANGP,
    StandardGAN,
    WGANClip,
    gradient_penalty,
    make_objective,
    objective_defaults,
)
from textgan.core.trainer import TrainConfig, Trainer
from textgan.errors import ConfigError
from textgan.image.models import DCGANCritic, ImageModelConfig
from textgan.toy.models import ToyCritic, ToyGenerator, ToyModelConfig
from textgan.training import resolve_config


def image_critic() -> nn.Module:
    torch.manual_seed(0)
    return DCGANCritic(1, 28, ImageModelConfig(dim=2)).double()


def point_critic() -> nn.Module:
    torch.manual_seed(0)
    return ToyCritic(ToyModelConfig(dim=8, hidden_layers=2)).double()


def per_sample_reference(critic: nn.Module, x_hat: torch.Tensor) -> torch.Tensor:
    """‖∇D‖ computed independently: each interpolate alone through the critic (batch of one)."""
    norms = []
    for i in range(x_hat.shape[0]):
        xi = x_hat[i:i + 1].clone().requires_grad_(True)
        (g,) = torch.autograd.grad(critic(xi).sum(), xi)
        norms.append(math.sqrt(float((g.double() ** 2).sum())))
    return torch.tensor(norms, dtype=torch.double)


@pytest.mark.parametrize("make_critic,shape", [(image_critic, (3, 1, 28, 28)),
                                               (point_critic, (5, 2))])
def test_penalty_is_per_sample_norm_over_all_non_batch_dims(make_critic, shape):
    critic = make_critic()
    gen = torch.Generator().manual_seed(1)
    real = torch.rand(shape, generator=gen, dtype=torch.double)
    fake = torch.rand(shape, generator=gen, dtype=torch.double)
    alpha = torch.linspace(0.1, 0.9, shape[0], dtype=torch.double)
    penalty, norms = gradient_penalty(critic, real, fake, alpha=alpha)

    x_hat = real + alpha.view(-1, *[1] * (len(shape) - 1)) * (fake - real)
    expected = per_sample_reference(critic, x_hat)
    assert torch.allclose(norms, expected, rtol=1e-10, atol=1e-12)
    assert penalty.item() == pytest.approx(float(((expected - 1) ** 2).mean()), rel=1e-10)
    one_sided, _ = gradient_penalty(critic, real, fake, alpha=alpha, one_sided=True)
    assert one_sided.item() == pytest.approx(float(((expected - 1).clamp(min=0) ** 2).mean()),
                                             rel=1e-10, abs=1e-15)


def test_penalty_on_images_matches_finite_differences():
    critic = DCGANCritic(1, 28, ImageModelConfig(dim=1)).double()
    x = torch.rand(1, 1, 28, 28, dtype=torch.double)
    _, norms = gradient_penalty(critic, x, x.clone(), alpha=torch.zeros(1, dtype=torch.double))
    # Central differences along a few random directions u: D'(x)·u ≈ (D(x+εu) − D(x−εu)) / 2ε.
    xr = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(critic(xr).sum(), xr)
    eps = 1e-6
    for seed in range(3):
        u = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.double)
        fd = (critic(x + eps * u) - critic(x - eps * u)).item() / (2 * eps)
        assert fd == pytest.approx(float((g * u).sum()), rel=1e-5, abs=1e-9)
    assert norms.item() == pytest.approx(float(g.norm()), rel=1e-12)


def test_wgan_clip_loss_and_clipping():
    critic = point_critic()
    real, fake = torch.randn(6, 2, dtype=torch.double), torch.randn(6, 2, dtype=torch.double)
    objective = WGANClip(clip=0.01)
    loss, stats = objective.critic_loss(critic, real, fake)
    w = critic(real).mean() - critic(fake).mean()
    assert loss.item() == pytest.approx(-w.item(), rel=1e-12)
    assert stats["wasserstein"].item() == pytest.approx(w.item(), rel=1e-12)
    assert "penalty" not in stats
    assert any(p.abs().max() > 0.01 for p in critic.parameters())
    objective.after_critic_step(critic)
    assert all(p.abs().max() <= 0.01 for p in critic.parameters())
    assert objective.generator_loss(critic, fake).item() == pytest.approx(
        -critic(fake).mean().item(), rel=1e-12)


def test_standard_gan_losses_on_known_logits():
    class Constant(nn.Module):
        def __init__(self, value: float) -> None:
            super().__init__()
            self.value = value

        def forward(self, x):
            return torch.full((x.shape[0],), self.value, dtype=torch.double)

    x = torch.zeros(4, 2)
    for a in (-2.0, 0.0, 1.5):
        critic = Constant(a)
        loss, _ = StandardGAN().critic_loss(critic, x, x)
        softplus = lambda v: math.log1p(math.exp(v))  # noqa: E731
        # −log σ(a) − log(1 − σ(a)) = softplus(−a) + softplus(a); non-saturating G: softplus(−a).
        assert loss.item() == pytest.approx(softplus(-a) + softplus(a), rel=1e-12)
        assert StandardGAN().generator_loss(critic, x).item() == pytest.approx(softplus(-a))


def test_lsgan_losses_against_a_hand_computation():
    class Scores(nn.Module):  # D(x) = the first feature of each sample
        def forward(self, x):
            return x[:, 0].double()

    real = torch.tensor([[1.5, 0.0], [0.5, 9.0]], dtype=torch.double)
    fake = torch.tensor([[-1.0, 2.0], [2.0, 0.0], [0.0, 0.0]], dtype=torch.double)
    loss, stats = LSGAN().critic_loss(Scores(), real, fake)
    # ½((0.5² + 0.5²)/2 + (1 + 4 + 0)/3) = ½(0.25 + 5/3)
    assert loss.item() == pytest.approx(0.5 * (0.25 + 5.0 / 3.0), rel=1e-12)
    assert stats["critic_loss"].item() == loss.item()
    # ((−2)² + 1² + (−1)²)/3 = 2
    assert LSGAN().generator_loss(Scores(), fake).item() == pytest.approx(2.0, rel=1e-12)
    lsgan = resolve_config("image", "cpu", None, {"train": {"objective": "lsgan"}}).train
    assert (lsgan.optimizer, lsgan.lr, lsgan.critic_iters) == ("rmsprop", 1e-4, 1)


def test_make_objective_by_name():
    assert isinstance(make_objective("wgan-gp", gp_lambda=3.0), WGANGP)
    one_sided = make_objective("wgan-gp-one-sided")
    assert isinstance(one_sided, WGANGP) and one_sided.one_sided
    assert make_objective("wgan-clip", clip=0.05).clip == 0.05
    assert isinstance(make_objective("gan"), StandardGAN)
    assert {make_objective(n).name for n in GAN_OBJECTIVES} == set(GAN_OBJECTIVES)
    assert set(OBJECTIVES) == set(GAN_OBJECTIVES) | {"mle"}
    with pytest.raises(ConfigError, match="trains without a critic"):
        make_objective("mle")
    with pytest.raises(ConfigError, match="unknown objective"):
        make_objective("wgan")
    with pytest.raises(ConfigError, match="unknown objective"):
        objective_defaults("wgan")
    assert set(OBJECTIVE_DEFAULTS) == set(OBJECTIVES)


def test_objective_brings_its_paper_settings():
    clip = resolve_config("toy", "paper", None, {"train": {"objective": "wgan-clip"}}).train
    assert (clip.optimizer, clip.lr, clip.clip, clip.critic_iters) == ("rmsprop", 5e-5, 0.01, 5)
    assert clip.gp_lambda == 0.1 and clip.batch_size == 256  # the mode's own settings stay
    gan = resolve_config("image", "cpu", None, {"train": {"objective": "gan"}}).train
    assert (gan.optimizer, gan.lr, gan.betas, gan.critic_iters) == ("adam", 2e-4, (0.5, 0.999), 1)
    text = resolve_config("text", None, None, {"train": {"objective": "wgan-clip"}}).train
    assert (text.optimizer, text.lr) == ("rmsprop", 5e-5)


def test_user_settings_win_over_objective_defaults(tmp_path):
    cfg = resolve_config("toy", None, None, {"train": {"objective": "wgan-clip", "lr": 1e-3,
                                                       "clip": 0.1}}).train
    assert (cfg.optimizer, cfg.lr, cfg.clip) == ("rmsprop", 1e-3, 0.1)
    file = tmp_path / "c.toml"
    file.write_text('[train]\nobjective = "gan"\ncritic_iters = 2\n')
    cfg = resolve_config("toy", None, str(file), {}).train
    assert (cfg.objective, cfg.lr, cfg.critic_iters) == ("gan", 2e-4, 2)


def test_same_family_keeps_the_presets_optimiser():
    # The CIFAR-10 ResNet's own Adam(2e-4, β = (0, 0.9)) stays for the one-sided penalty.
    cfg = resolve_config("image", "paper-cifar10", None,
                         {"train": {"objective": "wgan-gp-one-sided"}}).train
    assert (cfg.objective, cfg.lr, cfg.betas) == ("wgan-gp-one-sided", 2e-4, (0.0, 0.9))
    cfg = resolve_config("image", "paper-cifar10", None, {"train": {"objective": "wgan-gp"}}).train
    assert (cfg.lr, cfg.betas) == (2e-4, (0.0, 0.9))


class _Points:
    def next_batch(self, batch_size, device):
        return torch.randn(batch_size, 2, device=device)

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass


@pytest.mark.parametrize("name", GAN_OBJECTIVES)
def test_trainer_runs_each_objective_with_its_optimiser(name):
    torch.manual_seed(0)
    cfg = apply_overrides(TrainConfig(), {**objective_defaults(name), "objective": name,
                                          "batch_size": 8, "critic_iters": 2}, "train")
    model_cfg = ToyModelConfig(dim=8, hidden_layers=1)
    trainer = Trainer(ToyGenerator(model_cfg), ToyCritic(model_cfg), _Points(), cfg,
                      torch.device("cpu"))
    expected = torch.optim.RMSprop if name in ("wgan-clip", "lsgan") else torch.optim.Adam
    assert isinstance(trainer.opt_d, expected) and isinstance(trainer.opt_g, expected)
    stats = trainer.train_step()
    assert all(math.isfinite(float(v)) for v in stats.values())
    assert ("penalty" in stats) == name.startswith("wgan-gp")
    if name == "wgan-clip":
        assert all(p.abs().max() <= cfg.clip for p in trainer.critic.parameters())


class _Hinge(StandardGAN):
    r"""The hinge loss (not one of textgan's): $L_D = \mathbb{E}[\max(0, 1 - D(x))] +
    \mathbb{E}[\max(0, 1 + D(\tilde x))]$, $L_G = -\mathbb{E}[D(G(z))]$."""

    name: str = "hinge"

    def critic_loss(self, critic, real, fake, critic_step=0):
        loss = (torch.relu(1 - critic(real)).mean() + torch.relu(1 + critic(fake)).mean())
        return loss, {"critic_loss": loss.detach()}

    def generator_loss(self, critic, fake):
        return -critic(fake).mean()


def test_a_registered_objective_needs_no_other_edit(monkeypatch, tmp_path):
    """One registry entry makes an objective a choice of --objective, with its optimiser
    settings, and buildable by the trainer."""
    import textgan.cli.train
    from textgan.cli.main import run
    from textgan.core.objectives import REGISTRY, ObjectiveSpec, is_likelihood

    assert run(["train", "--mode", "toy", "--objective", "hinge", "--out", str(tmp_path / "a")]) == 1
    monkeypatch.setitem(REGISTRY, "hinge", ObjectiveSpec(
        lambda options: _Hinge(), {"optimizer": "rmsprop", "lr": 3e-4, "critic_iters": 2}))
    from textgan.core import objectives

    assert "hinge" in objectives.OBJECTIVES and not is_likelihood("hinge")
    seen = {}
    real_train = textgan.cli.train._train

    def keep_config(mode, preset, config, overrides, **kw):
        seen["config"] = resolve_config(mode, None, config, overrides)
        return real_train(mode, preset, config, overrides, **kw)

    monkeypatch.setattr(textgan.cli.train, "_train", keep_config)
    out = tmp_path / "b"
    assert run(["train", "--mode", "toy", "--objective", "hinge", "--steps", "2", "--dim", "8",
                "--batch-size", "8", "--sample-every", "0", "--eval-every", "0",
                "--out", str(out)]) == 0
    train = seen["config"].train
    assert (train.objective, train.optimizer, train.lr, train.critic_iters) == (
        "hinge", "rmsprop", 3e-4, 2)
    assert isinstance(make_objective("hinge"), _Hinge)
    assert (out / "checkpoints").is_dir()


def test_an_unregistered_objective_is_one_line_naming_the_choices():
    with pytest.raises(ConfigError, match="^unknown objective 'hinge'; choose one of wgan-gp, "
                       "wgan-gp-one-sided, wgan-clip, gan, lsgan, mle$"):
        resolve_config("toy", None, None, {"train": {"objective": "hinge"}})
    # a config read without a preset layer (a run's config.toml) is checked by the setting
    with pytest.raises(ConfigError, match="^train.objective must be one of wgan-gp, "
                       "wgan-gp-one-sided, wgan-clip, gan, lsgan, mle; got 'hinge'$"):
        apply_overrides(TrainConfig(), {"objective": "hinge"}, "train")
