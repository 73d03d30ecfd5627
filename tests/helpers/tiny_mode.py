"""A mode that exists only in the tests: numbers drawn from N(mean, std²), learnt by a 1-D WGAN-GP.

Nothing in textgan names it. A test registers it through the environment
(``TEXTGAN_MODES="tiny=tests.helpers.tiny_mode:TinyMode"``, :mod:`textgan.modes`) and drives
every command through the CLI. It keeps the whole :class:`~textgan.core.mode.Mode` contract in a
few lines: samples are lines (one number each), a model folder holds the generator and critic,
``eval --run`` compares the samples' mean and standard deviation with the target's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from textgan.config import setting
from textgan.core.loop import Hook
from textgan.core.mode import (
    CardText,
    EvalRequest,
    EvalResult,
    ExportParts,
    Mode,
    ModeSetup,
    RunConfig,
    Sampler,
    SampleResult,
    sample_seed,
)
from textgan.core.run import Run
from textgan.device import resolve_device
from textgan.errors import ConfigError
from textgan.io.progress import ProgressFn
from textgan.opening import open_model

EVAL_SEED = 99


@dataclass
class TinyDataConfig:
    mean: float = setting(2.0, "Mean of the target normal distribution.")
    std: float = setting(0.5, "Standard deviation of the target.")

    def validate(self) -> None:
        if not self.std > 0:
            raise ConfigError(f"data.std must be positive, got {self.std}")


@dataclass
class TinyModelConfig:
    dim: int = setting(8, "Width of the critic's hidden layer.")


class TinyGenerator(nn.Module):
    noise_dim = 1

    def __init__(self) -> None:
        super().__init__()
        self.affine = nn.Linear(1, 1)

    def forward(self, z: Tensor) -> Tensor:
        return self.affine(z)


def build_models(cfg: TinyModelConfig) -> tuple[nn.Module, nn.Module]:
    critic = nn.Sequential(nn.Linear(1, cfg.dim), nn.ReLU(), nn.Linear(cfg.dim, 1))
    return TinyGenerator(), critic


class NormalBatches:
    """Fresh draws of N(mean, std²) from a checkpointed RNG."""

    def __init__(self, cfg: TinyDataConfig, seed: int) -> None:
        self.cfg = cfg
        self.rng = torch.Generator().manual_seed(seed)

    def next_batch(self, batch_size: int, device: torch.device) -> Tensor:
        x = torch.randn(batch_size, 1, generator=self.rng) * self.cfg.std + self.cfg.mean
        return x.to(device)

    def state_dict(self) -> dict[str, Any]:
        return {"rng": self.rng.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.set_state(state["rng"])


@torch.no_grad()
def draw(generator: nn.Module, n: int, seed: int | None) -> Tensor:
    z = torch.randn(n, 1, generator=torch.Generator().manual_seed(sample_seed(seed)))
    return generator(z.to(next(generator.parameters()).device)).cpu()[:, 0]


def gaps(points: Tensor, cfg: TinyDataConfig) -> dict[str, float]:
    """How far the points' mean and standard deviation are from the target's."""
    return {"mean_gap": abs(float(points.mean()) - cfg.mean),
            "std_gap": abs(float(points.std()) - cfg.std)}


class TinyMode(Mode):
    name = "tiny"
    data_config = TinyDataConfig
    model_config = TinyModelConfig
    presets = {"cpu": {"train": {"batch_size": 16, "critic_iters": 2, "lr": 1e-2}}}
    draws_lines = True

    def build(self, config: RunConfig, run: Run, device: torch.device,
              progress: ProgressFn | None = None) -> ModeSetup:
        generator, critic = build_models(config.model)
        generator.to(device)
        critic.to(device)
        sampler = Sampler(generator)
        hooks = []
        if config.train.eval_every:
            hooks.append(Hook(config.train.eval_every,
                              lambda step: gaps(draw(sampler.module, 256, EVAL_SEED), config.data)))
        return ModeSetup(generator, critic, NormalBatches(config.data, config.train.seed), sampler,
                         hooks, best_metric="mean_gap")

    def _generator(self, state: dict[str, Any], path: Path, device: torch.device) -> nn.Module:
        config = self.config_from_checkpoint(state, path)
        generator, _ = build_models(config.model)
        generator.load_state_dict(state["generator"])
        return generator.to(device).eval()

    def sample(self, state: dict[str, Any], path: Path, n: int, *, seed: int | None,
               temperature: float | None, out: Path | None, device: torch.device,
               label: str | None = None) -> SampleResult:
        self.label_index(state, label, path)
        points = draw(self._generator(state, path, device), n, seed)
        lines = [f"{float(x):.4f}" for x in points]
        if out is not None:
            out.write_text("\n".join(lines) + "\n", encoding="utf-8")
            return SampleResult(files=[out])
        return SampleResult(lines=lines)

    def export_parts(self, state: dict[str, Any]) -> ExportParts:
        return ExportParts({"generator": state["generator"], "critic": state["critic"]},
                           summary={"dataset": "normal"}, sample_count=5)

    def import_parts(self, weights: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        return {"generator": weights["generator"], "critic": weights["critic"]}

    def card(self) -> CardText:
        return CardText(tags=["tabular"], real="the target",
                        python=["print(model.generate(5, seed=0))  # numbers, one a line"])

    def evaluate_run(self, run: Path, request: EvalRequest) -> EvalResult:
        opened = open_model(run=run, checkpoint=request.checkpoint, raw=request.raw)
        path, state, notes = opened.source, opened.state, opened.notes
        config = self.config_from_checkpoint(state, path)
        generator = self._generator(state, path, resolve_device(request.device))
        metrics = gaps(draw(generator, request.n, request.seed), config.data)
        real = config.data.mean + config.data.std * torch.randn(
            request.n, generator=torch.Generator().manual_seed(request.seed))
        metrics.update({f"{k}_real": v for k, v in gaps(real, config.data).items()})
        metrics["n_samples"] = float(request.n)
        return EvalResult(metrics, notes + [f"checkpoint {path} (step {state.get('step')})"])

    def summary_rows(self, config: dict[str, Any]) -> list[tuple[str, Any]]:
        data = config.get("data", {})
        return [("target", f"N({data.get('mean')}, {data.get('std')}²)")]


