"""The paper's image models: the MNIST DCGAN-style pair and the CIFAR-10 ResNet (unconditional).

Shapes: images ``[B, C, H, W]`` with values in the data set's range ([0, 1] for MNIST-like data, a
sigmoid output; [-1, 1] for CIFAR-10, a tanh output). Neither critic uses batch norm: the penalty
is per sample, and batch norm would make each sample's score depend on the rest of the batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch.nn.functional as F
from torch import Tensor, nn

from textgan.config import setting
from textgan.errors import ConfigError


@dataclass
class ImageModelConfig:
    """``dcgan``: gan_mnist.py (DIM 64, 5×5 convs); ``resnet``: gan_cifar_resnet.py (DIM 128)."""

    arch: Literal["dcgan", "resnet"] = setting("dcgan", "dcgan (28- or 32-pixel images) or "
                                               "resnet (32-pixel images).")
    dim: int = setting(64, "Model width (paper: 64 for MNIST, 128 for CIFAR-10).", flag=True)
    noise_dim: int = setting(128, "Size of the generator's noise vector (paper: 128).")

    def validate(self) -> None:
        for name in ("dim", "noise_dim"):
            if getattr(self, name) < 1:
                raise ConfigError(f"model.{name} must be at least 1, got {getattr(self, name)}")


def _output(x: Tensor, value_range: tuple[float, float]) -> Tensor:
    """Squash into the data's range: sigmoid for [0, 1], tanh for [-1, 1]."""
    return x.sigmoid() if tuple(value_range) == (0.0, 1.0) else x.tanh()


class DCGANGenerator(nn.Module):
    r"""$z \in \mathbb{R}^{128}$ → Linear → ReLU → $[4D, 4, 4]$ → Deconv5×5/2 → ReLU → $[2D, 8, 8]$
    (cropped to 7×7 for 28-pixel images, as in gan_mnist.py) → Deconv → ReLU → $[D, 14|16]$ →
    Deconv → $[C, 28|32]$ → sigmoid (data in [0, 1]) or tanh (data in [-1, 1])."""

    def __init__(self, channels: int, size: int, value_range: tuple[float, float],
                 cfg: ImageModelConfig) -> None:
        super().__init__()
        if size not in (28, 32):
            raise ConfigError(f"the dcgan model makes 28- or 32-pixel images, not {size}")
        d = cfg.dim
        self.noise_dim, self.dim, self.size, self.value_range = cfg.noise_dim, d, size, value_range
        self.input = nn.Linear(cfg.noise_dim, 4 * 4 * 4 * d)
        # kernel 5, stride 2, "same" padding: each transposed conv doubles the side.
        self.up1 = nn.ConvTranspose2d(4 * d, 2 * d, 5, stride=2, padding=2, output_padding=1)
        self.up2 = nn.ConvTranspose2d(2 * d, d, 5, stride=2, padding=2, output_padding=1)
        self.up3 = nn.ConvTranspose2d(d, channels, 5, stride=2, padding=2, output_padding=1)

    def forward(self, z: Tensor) -> Tensor:
        h = F.relu(self.input(z)).view(-1, 4 * self.dim, 4, 4)
        h = F.relu(self.up1(h))
        if self.size == 28:
            h = h[:, :, :7, :7]
        h = F.relu(self.up2(h))
        return _output(self.up3(h), self.value_range)


class DCGANCritic(nn.Module):
    """Conv5×5/2 → LeakyReLU(0.2), three times (D, 2D, 4D channels; 28|32 → 4 pixels) → Linear."""

    def __init__(self, channels: int, size: int, cfg: ImageModelConfig) -> None:
        super().__init__()
        d = cfg.dim
        self.convs = nn.ModuleList([nn.Conv2d(channels, d, 5, stride=2, padding=2),
                                    nn.Conv2d(d, 2 * d, 5, stride=2, padding=2),
                                    nn.Conv2d(2 * d, 4 * d, 5, stride=2, padding=2)])
        self.output = nn.Linear(4 * 4 * 4 * d, 1)

    def forward(self, x: Tensor) -> Tensor:
        for conv in self.convs:
            x = F.leaky_relu(conv(x), 0.2)
        return self.output(x.flatten(1)).squeeze(1)


class UpsampleConv(nn.Module):
    """Nearest-neighbour ×2 upsampling, then a same-padded convolution."""

    def __init__(self, c_in: int, c_out: int, kernel: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class ConvMeanPool(nn.Module):
    """A same-padded convolution, then 2×2 mean pooling."""

    def __init__(self, c_in: int, c_out: int, kernel: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2)

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool2d(self.conv(x), 2)


class MeanPoolConv(nn.Module):
    """2×2 mean pooling, then a same-padded convolution."""

    def __init__(self, c_in: int, c_out: int, kernel: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(F.avg_pool2d(x, 2))


class ResidualBlock(nn.Module):
    r"""$\mathrm{out} = \mathrm{shortcut}(x) + \mathrm{conv}_2(\rho(N_2(\mathrm{conv}_1(\rho(N_1(x))))))$
    with $\rho$ = ReLU and $N$ = batch norm in the generator, identity in the critic.

    ``resample="up"``: conv₁ upsamples; ``"down"``: conv₂ mean-pools; the shortcut is then a 1×1
    conv that resamples the same way (identity when nothing changes shape). ReLUs are out of place
    so the shortcut sees the block's input untouched.
    """

    def __init__(self, c_in: int, c_out: int, resample: Literal["up", "down"] | None,
                 batchnorm: bool) -> None:
        super().__init__()
        if resample == "up":
            self.conv1: nn.Module = UpsampleConv(c_in, c_out, 3)
            self.conv2: nn.Module = nn.Conv2d(c_out, c_out, 3, padding=1)
            self.shortcut: nn.Module = UpsampleConv(c_in, c_out, 1)
        elif resample == "down":
            self.conv1 = nn.Conv2d(c_in, c_in, 3, padding=1)
            self.conv2 = ConvMeanPool(c_in, c_out, 3)
            self.shortcut = ConvMeanPool(c_in, c_out, 1)
        else:
            self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
            self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
            self.shortcut = nn.Identity() if c_in == c_out else nn.Conv2d(c_in, c_out, 1)
        mid = c_out if resample == "up" or resample is None else c_in
        self.norm1: nn.Module = nn.BatchNorm2d(c_in) if batchnorm else nn.Identity()
        self.norm2: nn.Module = nn.BatchNorm2d(mid) if batchnorm else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        h = self.conv1(F.relu(self.norm1(x)))
        h = self.conv2(F.relu(self.norm2(h)))
        return self.shortcut(x) + h


class OptimizedFirstBlock(nn.Module):
    """The critic's first block: conv → ReLU → conv+meanpool, shortcut meanpool+1×1 conv (no
    ReLU on the raw image)."""

    def __init__(self, channels: int, dim: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, dim, 3, padding=1)
        self.conv2 = ConvMeanPool(dim, dim, 3)
        self.shortcut = MeanPoolConv(channels, dim, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.shortcut(x) + self.conv2(F.relu(self.conv1(x)))


class ResNetGenerator(nn.Module):
    """z → Linear → $[D, 4, 4]$ → 3 up-blocks (8, 16, 32) → BN → ReLU → Conv3×3 → tanh."""

    def __init__(self, channels: int, size: int, value_range: tuple[float, float],
                 cfg: ImageModelConfig) -> None:
        super().__init__()
        if size != 32:
            raise ConfigError(f"the resnet model makes 32-pixel images (cifar10), not {size}; use "
                              "--preset cpu or model.arch = \"dcgan\" for 28-pixel data")
        d = cfg.dim
        self.noise_dim, self.dim, self.value_range = cfg.noise_dim, d, value_range
        self.input = nn.Linear(cfg.noise_dim, 4 * 4 * d)
        self.blocks = nn.Sequential(*[ResidualBlock(d, d, "up", batchnorm=True) for _ in range(3)])
        self.norm = nn.BatchNorm2d(d)
        self.output = nn.Conv2d(d, channels, 3, padding=1)

    def forward(self, z: Tensor) -> Tensor:
        h = self.blocks(self.input(z).view(-1, self.dim, 4, 4))
        return _output(self.output(F.relu(self.norm(h))), self.value_range)


class ResNetCritic(nn.Module):
    """First block (32→16) → down-block (→8) → 2 plain blocks → ReLU → mean over pixels → Linear.
    No normalisation (the paper's NORMALIZATION_D = False)."""

    def __init__(self, channels: int, size: int, cfg: ImageModelConfig) -> None:
        super().__init__()
        if size != 32:
            raise ConfigError(f"the resnet critic takes 32-pixel images, not {size}")
        d = cfg.dim
        self.blocks = nn.Sequential(OptimizedFirstBlock(channels, d),
                                    ResidualBlock(d, d, "down", batchnorm=False),
                                    ResidualBlock(d, d, None, batchnorm=False),
                                    ResidualBlock(d, d, None, batchnorm=False))
        self.output = nn.Linear(d, 1)

    def forward(self, x: Tensor) -> Tensor:
        h = F.relu(self.blocks(x)).mean(dim=(2, 3))
        return self.output(h).squeeze(1)


def build_image_models(channels: int, size: int, value_range: tuple[float, float],
                       cfg: ImageModelConfig) -> tuple[nn.Module, nn.Module]:
    """(generator, critic) for images ``[C, size, size]`` in ``value_range``."""
    if cfg.arch == "resnet":
        return (ResNetGenerator(channels, size, value_range, cfg),
                ResNetCritic(channels, size, cfg))
    return DCGANGenerator(channels, size, value_range, cfg), DCGANCritic(channels, size, cfg)
