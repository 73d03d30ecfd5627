r"""The paper's toy 2-D distributions (gan_toy.py), sampled with torch from a given RNG.

- ``8gaussians``: centres $2(\cos\frac{k\pi}{4}, \sin\frac{k\pi}{4})$, $k = 0..7$, chosen uniformly;
  noise $\mathcal{N}(0, 0.02^2 I)$; everything divided by 1.414.
- ``25gaussians``: centres $(2i, 2j)$, $i, j \in \{-2..2\}$, uniformly; noise
  $\mathcal{N}(0, 0.05^2 I)$; divided by 2.828. (The paper draws a fixed pool of 100,000 such
  points and cycles through it; fresh draws here have the same distribution.)
- ``swissroll``: scikit-learn's ``make_swiss_roll(noise=0.25)`` keeping its x and z coordinates:
  $t = \frac{3\pi}{2}(1 + 2u)$, $u \sim U[0, 1]$, point $(t\cos t, t\sin t) + \mathcal{N}(0, 0.25^2 I)$;
  divided by 7.5.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from textgan.errors import ConfigError

TOY_DATASETS = ("8gaussians", "25gaussians", "swissroll")


def centers(dataset: str) -> Tensor | None:
    """The mixture's centres in the data's (normalised) coordinates; None for the Swiss roll."""
    if dataset == "8gaussians":
        r = 1.0 / math.sqrt(2.0)
        unit = [(1, 0), (-1, 0), (0, 1), (0, -1), (r, r), (r, -r), (-r, r), (-r, -r)]
        return torch.tensor(unit, dtype=torch.float32) * 2.0 / 1.414
    if dataset == "25gaussians":
        grid = [(2.0 * i, 2.0 * j) for i in range(-2, 3) for j in range(-2, 3)]
        return torch.tensor(grid, dtype=torch.float32) / 2.828
    return None


def component_std(dataset: str) -> float:
    """Standard deviation of one mixture component, normalised like the data."""
    return {"8gaussians": 0.02 / 1.414, "25gaussians": 0.05 / 2.828}.get(dataset, 0.25 / 7.5)


def sample_toy(dataset: str, n: int, generator: torch.Generator | None = None) -> Tensor:
    """``n`` points ``[n, 2]`` (float32, CPU) of ``dataset``; see the module docstring."""
    if dataset in ("8gaussians", "25gaussians"):
        c = centers(dataset)
        assert c is not None
        which = torch.randint(0, len(c), (n,), generator=generator)
        return c[which] + component_std(dataset) * torch.randn(n, 2, generator=generator)
    if dataset == "swissroll":
        t = 1.5 * math.pi * (1.0 + 2.0 * torch.rand(n, generator=generator))
        points = torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1)
        return (points + 0.25 * torch.randn(n, 2, generator=generator)) / 7.5
    raise ConfigError(f"unknown toy dataset '{dataset}'; choose one of {', '.join(TOY_DATASETS)}")


class ToyBatches:
    """Fresh draws every batch from a seeded torch RNG whose state is checkpointed."""

    def __init__(self, dataset: str, seed: int) -> None:
        sample_toy(dataset, 1)  # validates the name now, not at the first step
        self.dataset = dataset
        self.rng = torch.Generator().manual_seed(seed)

    def next_batch(self, batch_size: int, device: torch.device) -> Tensor:
        return sample_toy(self.dataset, batch_size, self.rng).to(device)

    def state_dict(self) -> dict[str, Any]:
        return {"rng": self.rng.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.set_state(state["rng"])
