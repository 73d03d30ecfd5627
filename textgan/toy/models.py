"""The paper's toy models (gan_toy.py): MLPs of 3 hidden ReLU layers of DIM = 512, He-initialised.

Generator: $z \\sim \\mathcal{N}(0, I_2)$ → 512 → 512 → 512 → 2. Critic: 2 → 512 → 512 → 512 → 1.
For the paper's Figure 1 the "generator" is held fixed at real data plus $\\mathcal{N}(0, I)$ noise
(:class:`FixedGenerator`), so only the critic learns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from textgan.config import setting
from textgan.toy.data import sample_toy


@dataclass
class ToyModelConfig:
    """Paper: DIM 512, 3 hidden layers, 2-D noise; ``fixed_generator`` for the Figure 1 setup."""

    dim: int = setting(512, "Hidden units per layer (paper: 512).", flag=True, min=1)
    hidden_layers: int = setting(3, "Hidden layers of the generator and of the critic (paper: 3).", min=1)
    noise_dim: int = setting(2, "Size of the generator's noise vector (paper: 2).", min=1)
    fixed_generator: bool = setting(False, "Hold the generator fixed at real data + N(0, I) and "
                                    "train only the critic (Figure 1).")



def he_uniform_(layer: nn.Linear) -> nn.Linear:
    r"""tflib's ``initialization='he'``: $W \sim U[-\sqrt{3}\,s, \sqrt{3}\,s]$, $s = \sqrt{2/n_{in}}$;
    zero biases."""
    bound = math.sqrt(3.0) * math.sqrt(2.0 / layer.in_features)
    with torch.no_grad():
        layer.weight.uniform_(-bound, bound)
        layer.bias.zero_()
    return layer


def mlp(n_in: int, dim: int, hidden_layers: int, n_out: int) -> nn.Sequential:
    """``hidden_layers`` × (He-initialised Linear → ReLU), then a default-initialised Linear
    (tflib's Glorot-style default for the output layer)."""
    layers: list[nn.Module] = []
    width = n_in
    for _ in range(hidden_layers):
        layers += [he_uniform_(nn.Linear(width, dim)), nn.ReLU()]
        width = dim
    output = nn.Linear(width, n_out)
    bound = math.sqrt(3.0) * math.sqrt(2.0 / (width + n_out))
    with torch.no_grad():
        output.weight.uniform_(-bound, bound)
        output.bias.zero_()
    return nn.Sequential(*layers, output)


class ToyGenerator(nn.Module):
    def __init__(self, cfg: ToyModelConfig) -> None:
        super().__init__()
        self.noise_dim = cfg.noise_dim
        self.net = mlp(cfg.noise_dim, cfg.dim, cfg.hidden_layers, 2)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class ToyCritic(nn.Module):
    def __init__(self, cfg: ToyModelConfig) -> None:
        super().__init__()
        self.net = mlp(2, cfg.dim, cfg.hidden_layers, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).squeeze(1)


class FixedGenerator(nn.Module):
    r"""$G(z) = x + z$, $x \sim P_r$, $z \sim \mathcal{N}(0, I_2)$: gan_toy.py's FIXED_GENERATOR.

    Real points come from the global torch RNG (which the trainer checkpoints). ``anchor`` is one
    parameter fixed at 0 that enters the output as $0 \cdot$anchor: it gives the generic trainer a
    parameter to hand its optimiser, and its gradient is always 0, so Adam's and RMSProp's
    updates are exactly 0 and the generator never changes.
    """

    def __init__(self, dataset: str) -> None:
        super().__init__()
        self.dataset = dataset
        self.noise_dim = 2
        self.anchor = nn.Parameter(torch.zeros(()))

    def forward(self, z: Tensor) -> Tensor:
        real = sample_toy(self.dataset, z.shape[0]).to(z.device)
        return real + z + 0.0 * self.anchor


def build_toy_models(dataset: str, cfg: ToyModelConfig) -> tuple[nn.Module, nn.Module]:
    generator = FixedGenerator(dataset) if cfg.fixed_generator else ToyGenerator(cfg)
    return generator, ToyCritic(cfg)
