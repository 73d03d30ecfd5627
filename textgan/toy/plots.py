"""Toy-mode figures, drawn through :mod:`textgan.plots` (matplotlib is the optional extra).

One PNG, two panels over the square $[-3, 3]^2$ that gan_toy.py plots:

- left: real points (orange) and generated points (green);
- right: the critic's value surface $D(x)$ on a 128 × 128 grid (filled contours with contour
  lines, as in the paper's Figure 1), with the real points on top.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from textgan.plots import new_figure, require_matplotlib, save_png

PLOT_RANGE = 3.0
GRID_POINTS = 128


def require_plotting() -> None:
    """Fail now, in one line, if the figures could not be drawn later."""
    require_matplotlib("toy plots", hint="; or pass --sample-every 0 to train without plots")


@torch.no_grad()
def critic_surface(critic: nn.Module, device: torch.device, points: int = GRID_POINTS,
                   extent: float = PLOT_RANGE) -> tuple[np.ndarray, np.ndarray]:
    """(axis values ``[points]``, $D$ on the grid ``[points, points]`` indexed [y, x])."""
    axis = torch.linspace(-extent, extent, points)
    ys, xs = torch.meshgrid(axis, axis, indexing="ij")
    grid = torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1).to(device)
    values = critic(grid).float().cpu().view(points, points)
    return axis.numpy(), values.numpy()


def plot_toy(path: str | Path, real: np.ndarray, fake: np.ndarray,
             surface: tuple[np.ndarray, np.ndarray] | None, title: str) -> Path:
    """Write the two-panel figure (see the module docstring) to ``path`` as PNG, atomically."""
    fig = new_figure(figsize=(10, 5), dpi=100)
    left, right = fig.subplots(1, 2)
    for ax in (left, right):
        ax.set_xlim(-PLOT_RANGE, PLOT_RANGE)
        ax.set_ylim(-PLOT_RANGE, PLOT_RANGE)
        ax.set_aspect("equal")
    left.scatter(real[:, 0], real[:, 1], c="orange", marker="+", s=12, linewidths=0.8,
                 label="real")
    left.scatter(fake[:, 0], fake[:, 1], c="green", marker="+", s=12, linewidths=0.8,
                 label="generated")
    left.legend(loc="upper right", fontsize=8)
    left.set_title("real vs generated")
    if surface is not None:
        axis, values = surface
        filled = right.contourf(axis, axis, values, levels=20, cmap="viridis")
        right.contour(axis, axis, values, levels=20, colors="k", linewidths=0.3)
        fig.colorbar(filled, ax=right, fraction=0.046, pad=0.04)
        right.scatter(real[:, 0], real[:, 1], c="orange", marker="+", s=8, linewidths=0.6)
        right.set_title("critic value surface D(x)")
    fig.suptitle(title)
    fig.tight_layout()
    return save_png(fig, path)
