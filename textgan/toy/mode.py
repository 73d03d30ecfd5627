"""Toy mode: the paper's 2-D distributions and MLPs on the shared trainer.

Every ``sample_every`` steps a run writes ``samples/step_XXXXXXXX.png`` (real vs generated points,
and the critic's value surface); every ``eval_every`` steps it logs ``interp_grad_norm`` (the mean
$\\lVert\\nabla_{\\hat x} D(\\hat x)\\rVert_2$ on random interpolates, the quantity the penalty drives to 1),
``swd`` (sliced Wasserstein distance between real and generated points) and, for the Gaussian
mixtures, ``modes_covered`` and ``high_quality``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from torch import Tensor, nn

from textgan.config import setting
from textgan.core.loop import Hook
from textgan.core.mode import (
    ExportParts,
    Mode,
    ModeSetup,
    RunConfig,
    Sampler,
    SampleResult,
    sample_seed,
)
from textgan.core.objectives import interpolate, per_sample_grad_norm
from textgan.core.run import Run, sample_output_for
from textgan.eval.swd import random_directions, sliced_wasserstein
from textgan.io.progress import ProgressFn
from textgan.toy import presets as toy_presets
from textgan.toy.data import ToyBatches, centers, component_std, sample_toy
from textgan.toy.models import ToyModelConfig, build_toy_models

PLOT_SEED = 1234  # the same noise and real points in every frame
EVAL_SEED = 4321


@dataclass
class ToyDataConfig:
    """Which distribution, and how many points the plots and metrics use."""

    dataset: Literal["8gaussians", "25gaussians", "swissroll"] = setting(
        "8gaussians", "8gaussians, 25gaussians or swissroll.", flag=True)
    plot_points: int = setting(1000, "Real and generated points in each plot.", min=2)
    eval_points: int = setting(2560, "Generated points the in-training metrics use.", min=2)



@torch.no_grad()
def generate_points(generator: nn.Module, n: int, *, seed: int | None, device: torch.device,
                    temperature: float = 1.0) -> Tensor:
    r"""``n`` points $G(z)$, $z \sim \mathcal{N}(0, T^2 I)$, on the CPU. The global RNG (which a
    fixed generator draws its real points from) is forked, so training is not disturbed."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(sample_seed(seed))
        z = torch.randn(n, generator.noise_dim) * temperature
        return generator(z.to(device)).float().cpu()


def real_points(dataset: str, n: int, seed: int) -> Tensor:
    return sample_toy(dataset, n, torch.Generator().manual_seed(seed))


def mode_statistics(points: Tensor, dataset: str, radius: float | None = None
                    ) -> dict[str, float]:
    r"""For a Gaussian mixture with centres $c_1..c_K$ and component std $\sigma$:

    - ``high_quality``: the fraction of points within $3\sigma$ of their nearest centre (the usual
      sharpness measure);
    - ``modes_covered``: how many centres have at least a tenth of their fair share
      ($0.1 \cdot n / K$) of the points within ``radius`` of them — by default a quarter of the
      smallest distance between two centres, so a point counts for one mode only and a collapsed
      generator covers few.

    Empty for the Swiss roll."""
    c = centers(dataset)
    if c is None:
        return {}
    distance, nearest = torch.cdist(points.float(), c).min(dim=1)
    if radius is None:
        gaps = torch.cdist(c, c) + torch.eye(len(c)) * 1e9
        radius = 0.25 * float(gaps.min())
    near = distance <= radius
    counts = torch.bincount(nearest[near], minlength=len(c))
    covered = int((counts >= 0.1 * len(points) / len(c)).sum())
    good = distance <= 3.0 * component_std(dataset)
    return {"modes_covered": float(covered), "high_quality": float(good.float().mean())}


def interpolate_grad_norms(critic: nn.Module, real: Tensor, fake: Tensor,
                           seed: int = EVAL_SEED) -> Tensor:
    r"""$\lVert\nabla_{\hat x} D(\hat x)\rVert_2$ per interpolate $\hat x = x + \alpha(\tilde x - x)$."""
    alpha = torch.rand(real.shape[0], generator=torch.Generator().manual_seed(seed))
    x_hat = interpolate(real, fake, alpha.to(real.device)).requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat)
    return per_sample_grad_norm(grad).detach()


class ToyEval:
    """The toy metrics on fixed real points and fixed noise (comparable across steps)."""

    def __init__(self, sampler: Sampler, critic: nn.Module, dataset: str, n: int,
                 device: torch.device) -> None:
        self.sampler, self.critic, self.dataset, self.device = sampler, critic, dataset, device
        self.real = real_points(dataset, n, EVAL_SEED)
        self.n = n
        self.directions = random_directions(2, 64, EVAL_SEED)

    def __call__(self, step: int = 0) -> dict[str, float]:
        fake = generate_points(self.sampler.module, self.n, seed=EVAL_SEED, device=self.device)
        norms = interpolate_grad_norms(self.critic, self.real.to(self.device),
                                       fake.to(self.device))
        return {"interp_grad_norm": float(norms.mean()),
                "swd": sliced_wasserstein(fake, self.real, self.directions),
                **mode_statistics(fake, self.dataset)}


def plot_state(path: Path, generator: nn.Module, critic: nn.Module, dataset: str, n: int,
               device: torch.device, title: str, seed: int | None = PLOT_SEED,
               temperature: float = 1.0) -> Path:
    from textgan.toy.plots import critic_surface, plot_toy

    fake = generate_points(generator, n, seed=seed, device=device, temperature=temperature)
    real = real_points(dataset, n, PLOT_SEED)
    return plot_toy(path, real.numpy(), fake.numpy(), critic_surface(critic, device), title)


def _title(config: dict[str, Any], step: int) -> str:
    train, model = config.get("train", {}), config.get("model", {})
    objective = train.get("objective", "wgan-gp")
    fixed = ", generator fixed at data + N(0, I)" if model.get("fixed_generator") else ""
    return f"{config.get('data', {}).get('dataset')} · {objective} · step {step}{fixed}"


class ToyMode(Mode):
    """The paper's 2-D distributions (8 and 25 Gaussians, Swiss roll) and MLPs."""

    name = "toy"
    data_config = ToyDataConfig
    model_config = ToyModelConfig
    presets = toy_presets.PRESETS

    def build(self, config: RunConfig, run: Run, device: torch.device,
              progress: ProgressFn | None = None) -> ModeSetup:
        """Distribution, models, batches and hooks for a toy run."""
        data_cfg, model_cfg, train_cfg = config.data, config.model, config.train
        generator, critic = build_toy_models(data_cfg.dataset, model_cfg)
        generator.to(device)
        critic.to(device)
        sampler = Sampler(generator)
        hooks: list[Hook] = []
        config_dict = config.to_dict()
        if train_cfg.sample_every:
            from textgan.toy.plots import require_plotting

            require_plotting()  # a missing extra is a one-line error now, not at the first plot

            def plot(step: int) -> None:
                run.write_sample_file(step, ".png", lambda path: plot_state(
                    path, sampler.module, critic, data_cfg.dataset, data_cfg.plot_points, device,
                    _title(config_dict, step)))

            hooks.append(Hook(train_cfg.sample_every, plot))
        if train_cfg.eval_every:
            hooks.append(Hook(train_cfg.eval_every, ToyEval(sampler, critic, data_cfg.dataset,
                                                            data_cfg.eval_points, device)))
        kind = "fixed at data + N(0, I)" if model_cfg.fixed_generator else \
            f"MLP {model_cfg.hidden_layers}×{model_cfg.dim}"
        notes = [f"toy data: {data_cfg.dataset}; generator {kind}, critic MLP "
                 f"{model_cfg.hidden_layers}×{model_cfg.dim}; objective {train_cfg.objective}"]
        return ModeSetup(generator, critic, ToyBatches(data_cfg.dataset, train_cfg.seed), sampler,
                         hooks, best_metric="swd", notes=notes)

    def sample(self, state: dict[str, Any], path: Path, n: int, *, seed: int | None,
               temperature: float | None, out: Path | None, device: torch.device,
               label: str | None = None) -> SampleResult:
        """A PNG of ``n`` generated points against real ones, with the critic's value surface."""
        config = self.config_from_checkpoint(state, path)
        self.label_index(state, label, path)  # toy models are never conditional: refuses a label
        generator, critic = build_toy_models(config.data.dataset, config.model)
        generator.load_state_dict(state["generator"])
        critic.load_state_dict(state["critic"])
        generator.to(device).eval()
        critic.to(device).eval()
        step = int(state.get("step", 0))
        target = plot_state(out or sample_output_for(path), generator, critic,
                            config.data.dataset, n, device, _title(config.to_dict(), step),
                            seed=seed, temperature=1.0 if temperature is None else temperature)
        return SampleResult(files=[target], notes=[f"checkpoint: {path} (step {step}); {n} points"])

    # model folders (textgan export): a toy sample also draws the critic's value surface
    def export_parts(self, state: dict[str, Any]) -> ExportParts:
        return ExportParts({"generator": state["generator"], "critic": state["critic"]},
                           summary={"dataset": state["config"]["data"]["dataset"]},
                           sample_count=1000, sample_file="samples.png")

    def import_parts(self, weights: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        return {"generator": weights["generator"], "critic": weights["critic"]}
