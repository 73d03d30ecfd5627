r"""Sliced Wasserstein distance between two sets of points (images flattened to vectors).

For unit directions $\theta_1, \dots, \theta_K$ drawn once from a seeded generator and equal-sized
sets $a, b$ of $N$ points in $\mathbb{R}^d$,

$$\mathrm{SW}_1(a, b) = \frac{1}{K} \sum_{k=1}^{K} \frac{1}{N} \sum_{i=1}^{N}
    \big| (\theta_k^\top a)_{(i)} - (\theta_k^\top b)_{(i)} \big|,$$

where $(\cdot)_{(i)}$ is the $i$-th smallest projection: in one dimension, the optimal transport
between two equal-sized samples pairs them in sorted order. It needs no pretrained network, so it
works offline; it is 0 for identical sets and grows as the distributions move apart.
"""

from __future__ import annotations

import torch
from torch import Tensor


def random_directions(dim: int, count: int, seed: int = 0) -> Tensor:
    """``count`` unit vectors in $\\mathbb{R}^{dim}$ (float64 ``[dim, count]``), the same for a seed:
    normalised Gaussians, i.e. uniform on the sphere."""
    generator = torch.Generator().manual_seed(seed)
    directions = torch.randn(dim, count, generator=generator, dtype=torch.float64)
    return directions / directions.norm(dim=0, keepdim=True)


def sliced_wasserstein(a: Tensor, b: Tensor, directions: Tensor) -> float:
    """$\\mathrm{SW}_1$ between ``a`` and ``b`` (``[N, ...]`` each, flattened per sample)."""
    a = a.detach().reshape(a.shape[0], -1).to("cpu", torch.float64)
    b = b.detach().reshape(b.shape[0], -1).to("cpu", torch.float64)
    if a.shape != b.shape:
        raise ValueError(f"sliced_wasserstein needs equal-sized sets, got {tuple(a.shape)} and "
                         f"{tuple(b.shape)}")
    if directions.shape[0] != a.shape[1]:
        raise ValueError(f"directions are {directions.shape[0]}-dimensional, points "
                         f"{a.shape[1]}-dimensional")
    pa = (a @ directions).sort(dim=0).values
    pb = (b @ directions).sort(dim=0).values
    return float((pa - pb).abs().mean())
