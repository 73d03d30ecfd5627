"""The paper's image models: the MNIST DCGAN-style pair and the CIFAR-10 ResNet.

Shapes: images ``[B, C, H, W]`` with values in the data set's range ([0, 1] for MNIST-like data, a
sigmoid output; [-1, 1] for CIFAR-10, a tanh output). Neither critic uses batch norm: the penalty
is per sample, and batch norm would make each sample's score depend on the rest of the batch.

Conditional models (``num_classes`` > 0, :mod:`textgan.core.conditional`): the generator takes
``labels=`` (None: :func:`cycled_labels`), the critic ``(x, labels)`` and ends in a
:class:`ConditionalCriticHead` instead of its ``output`` Linear.

- ResNet: the paper's supervised CIFAR-10 model (gan_cifar_resnet.py, CONDITIONAL = ACGAN = True):
  class-conditional batch norm in the generator's residual blocks (its ``Normalize`` with labels;
  the final norm stays unconditional, as there), the critic unchanged but for the head.
- DCGAN: gan_mnist.py's generator has no batch norm to condition, so the label enters at the
  input, as a one-hot concatenated to $z$ would: $h = W z + b + E_y$ (:class:`DCGANGenerator`).
Unconditional models keep their layers and state-dict keys exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch.nn.functional as F
from torch import Tensor, nn

from textgan.config import setting
from textgan.core.conditional import CONDITIONAL_METHODS, ConditionalCriticHead, cycled_labels
from textgan.errors import ConfigError
from textgan.image.zoo import ZOO_ARCHS, ZOO_SIZES, build_zoo

Nonlinearity = Literal["relu", "leakyrelu", "softplus", "tanh"]
NONLINEARITIES: tuple[str, ...] = ("relu", "leakyrelu", "softplus", "tanh")


@dataclass
class ImageModelConfig:
    """``dcgan``: gan_mnist.py (DIM 64, 5×5 convs); ``resnet``: gan_cifar_resnet.py (DIM 128)."""

    arch: Literal["dcgan", "resnet", "dcgan-cifar", "dcgan64", "dcgan64-g-constant",
                  "dcgan64-g-mlp", "dcgan64-no-norm", "dcgan64-gated", "dcgan64-tanh",
                  "resnet101", "resnet64"] = setting(
        "dcgan", "dcgan (gan_mnist.py; 28- or 32-pixel images), resnet (32-pixel images), "
        "dcgan-cifar (gan_cifar.py's DCGAN, 32-pixel images, 28-pixel ones padded to 32; every "
        "factor of the paper's random-architecture set configurable below), or one of "
        "gan_64x64.py's Figure 2 networks: dcgan64 (the baseline), dcgan64-g-constant (G without "
        "batch norm, constant filters), dcgan64-g-mlp (G a 4-layer ReLU MLP, 8×dim wide), "
        "dcgan64-no-norm, dcgan64-gated, dcgan64-tanh, resnet64 (32, 64 or 128 pixels; 28 padded "
        "to 32), resnet101 (64 pixels); their critic norm is layer norm under a gradient penalty, "
        "batch norm otherwise.", flag=True)
    dim: int = setting(64, "Model width (paper: 64 for MNIST and the 64×64 networks, 128 for "
                       "CIFAR-10).", flag=True, min=1)
    noise_dim: int = setting(128, "Size of the generator's noise vector (paper: 128).", min=1)
    # dcgan-cifar only: the factors of the paper's Table 1 (defaults: gan_cifar.py's DCGAN).
    g_nonlinearity: Nonlinearity = setting("relu", "dcgan-cifar: the generator's nonlinearity "
                                           "(relu, leakyrelu, softplus: softplus(2x+2)/2-1, tanh).")
    d_nonlinearity: Nonlinearity = setting("leakyrelu", "dcgan-cifar: the critic's nonlinearity.")
    g_depth: int = setting(4, "dcgan-cifar: the generator's layers (4: Linear + 3 upsampling "
                           "convolutions; more add 3×3 convolutions between them).")
    d_depth: int = setting(4, "dcgan-cifar: the critic's layers (4: 3 strided convolutions + "
                           "Linear; more add 3×3 convolutions between them).")
    g_batchnorm: bool = setting(True, "dcgan-cifar: batch norm in the generator.")
    d_norm: Literal["none", "batch", "layer"] = setting(
        "none", "dcgan-cifar: the critic's normalisation (none, batch, or layer: per-sample, for "
        "the gradient penalty).")
    g_dim: int = setting(0, "dcgan-cifar: the generator's base filter count (0: model.dim).",
                         min=0, zero="model.dim")
    d_dim: int = setting(0, "dcgan-cifar: the critic's base filter count (0: model.dim).",
                         min=0, zero="model.dim")

    def validate(self) -> None:
        for name in ("g_depth", "d_depth"):
            if getattr(self, name) < 4:
                raise ConfigError(f"model.{name} must be at least 4 (the layers that change the "
                                  f"resolution), got {getattr(self, name)}")


def _output(x: Tensor, value_range: tuple[float, float]) -> Tensor:
    """Squash into the data's range: sigmoid for [0, 1], tanh for [-1, 1]."""
    return x.sigmoid() if tuple(value_range) == (0.0, 1.0) else x.tanh()


def _generator_labels(num_classes: int, z: Tensor, labels: Tensor | None) -> Tensor | None:
    """The labels a generator uses: the given ones, or every class in turn; None when it is
    unconditional (which refuses labels rather than ignore them)."""
    if not num_classes:
        if labels is not None:
            raise ValueError("this generator is unconditional: it takes no labels")
        return None
    return cycled_labels(len(z), num_classes, z.device) if labels is None else labels


class ConditionalBatchNorm2d(nn.Module):
    r"""Class-conditional batch norm (Dumoulin et al. 2017; the paper's ``cond_batchnorm``):

    $$y_{nchw} = \gamma_{y_n c}\,\frac{x_{nchw} - \mu_c}{\sqrt{\sigma_c^2 + \epsilon}}
      + \beta_{y_n c}$$

    batch norm without its own affine (batch statistics in training, running ones in eval mode,
    like the unconditional generator's), then a per-class scale $\gamma$ [K, C] (initialised to 1)
    and offset $\beta$ [K, C] (initialised to 0), looked up by each sample's label $y_n$.
    """

    def __init__(self, channels: int, num_classes: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.scale = nn.Embedding(num_classes, channels)
        self.offset = nn.Embedding(num_classes, channels)
        nn.init.ones_(self.scale.weight)
        nn.init.zeros_(self.offset.weight)

    def forward(self, x: Tensor, labels: Tensor) -> Tensor:
        gamma = self.scale(labels)[:, :, None, None]
        beta = self.offset(labels)[:, :, None, None]
        return gamma * self.norm(x) + beta


def _check_conditional(num_classes: int, method: str) -> None:
    if num_classes and method not in CONDITIONAL_METHODS:
        raise ValueError(f"a conditional critic needs a method ({', '.join(CONDITIONAL_METHODS)}), "
                         f"got {method!r}")


class DCGANGenerator(nn.Module):
    r"""$z \in \mathbb{R}^{128}$ → Linear → ReLU → $[4D, 4, 4]$ → Deconv5×5/2 → ReLU → $[2D, 8, 8]$
    (cropped to 7×7 for 28-pixel images, as in gan_mnist.py) → Deconv → ReLU → $[D, 14|16]$ →
    Deconv → $[C, 28|32]$ → sigmoid (data in [0, 1]) or tanh (data in [-1, 1]).

    Conditional (``num_classes`` K > 0): the first layer's output gets a learnt row $E_y$ of a
    $[K, 4·4·4D]$ table, $h = W z + b + E_y$: exactly a Linear on $[z; \mathrm{onehot}(y)]$, and
    initialised as that Linear's one-hot columns would be, $U(\pm 1/\sqrt{128 + K})$."""

    def __init__(self, channels: int, size: int, value_range: tuple[float, float],
                 cfg: ImageModelConfig, num_classes: int = 0) -> None:
        super().__init__()
        if size not in (28, 32):
            raise ConfigError(f"the dcgan model makes 28- or 32-pixel images, not {size}")
        d = cfg.dim
        self.noise_dim, self.dim, self.size, self.value_range = cfg.noise_dim, d, size, value_range
        self.num_classes = num_classes
        self.input = nn.Linear(cfg.noise_dim, 4 * 4 * 4 * d)
        if num_classes:
            self.label_embedding = nn.Embedding(num_classes, 4 * 4 * 4 * d)
            bound = 1.0 / math.sqrt(cfg.noise_dim + num_classes)
            nn.init.uniform_(self.label_embedding.weight, -bound, bound)
        # kernel 5, stride 2, "same" padding: each transposed conv doubles the side.
        self.up1 = nn.ConvTranspose2d(4 * d, 2 * d, 5, stride=2, padding=2, output_padding=1)
        self.up2 = nn.ConvTranspose2d(2 * d, d, 5, stride=2, padding=2, output_padding=1)
        self.up3 = nn.ConvTranspose2d(d, channels, 5, stride=2, padding=2, output_padding=1)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        h = self.input(z)
        labels = _generator_labels(self.num_classes, z, labels)
        if labels is not None:
            h = h + self.label_embedding(labels)
        h = F.relu(h).view(-1, 4 * self.dim, 4, 4)
        h = F.relu(self.up1(h))
        if self.size == 28:
            h = h[:, :, :7, :7]
        h = F.relu(self.up2(h))
        return _output(self.up3(h), self.value_range)


class DCGANCritic(nn.Module):
    """Conv5×5/2 → LeakyReLU(0.2), three times (D, 2D, 4D channels; 28|32 → 4 pixels) → Linear
    (conditional: a :class:`ConditionalCriticHead` on the same features)."""

    def __init__(self, channels: int, size: int, cfg: ImageModelConfig, num_classes: int = 0,
                 method: str = "none") -> None:
        super().__init__()
        _check_conditional(num_classes, method)
        d = cfg.dim
        self.num_classes = num_classes
        self.convs = nn.ModuleList([nn.Conv2d(channels, d, 5, stride=2, padding=2),
                                    nn.Conv2d(d, 2 * d, 5, stride=2, padding=2),
                                    nn.Conv2d(2 * d, 4 * d, 5, stride=2, padding=2)])
        if num_classes:
            self.head = ConditionalCriticHead(4 * 4 * 4 * d, num_classes, method)  # type: ignore[arg-type]
        else:
            self.output = nn.Linear(4 * 4 * 4 * d, 1)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor | tuple[Tensor, Tensor]:
        for conv in self.convs:
            x = F.leaky_relu(conv(x), 0.2)
        return _critic_output(self, x.flatten(1), labels)


def _critic_output(critic: nn.Module, phi: Tensor, labels: Tensor | None
                   ) -> Tensor | tuple[Tensor, Tensor]:
    """The unconditional critic's Linear score, or the conditional head on the labels."""
    if not critic.num_classes:
        if labels is not None:
            raise ValueError("this critic is unconditional: it takes no labels")
        return critic.output(phi).squeeze(1)
    if labels is None:
        raise ValueError("a conditional critic scores an image with its label: D(x, y)")
    return critic.head(phi, labels)


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
    so the shortcut sees the block's input untouched. ``num_classes`` > 0 (with batch norm): $N$ is
    :class:`ConditionalBatchNorm2d` and the block is called with the labels.
    """

    def __init__(self, c_in: int, c_out: int, resample: Literal["up", "down"] | None,
                 batchnorm: bool, num_classes: int = 0) -> None:
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
        self.conditional = bool(batchnorm and num_classes)
        if self.conditional:
            self.norm1: nn.Module = ConditionalBatchNorm2d(c_in, num_classes)
            self.norm2: nn.Module = ConditionalBatchNorm2d(mid, num_classes)
        else:
            self.norm1 = nn.BatchNorm2d(c_in) if batchnorm else nn.Identity()
            self.norm2 = nn.BatchNorm2d(mid) if batchnorm else nn.Identity()

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        if self.conditional:
            if labels is None:
                raise ValueError("a class-conditional block needs the labels")
            h = self.conv1(F.relu(self.norm1(x, labels)))
            h = self.conv2(F.relu(self.norm2(h, labels)))
        else:
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
    """z → Linear → $[D, 4, 4]$ → 3 up-blocks (8, 16, 32) → BN → ReLU → Conv3×3 → tanh.
    Conditional: the blocks' batch norms are class-conditional (the final BN is not, as in the
    paper's code)."""

    def __init__(self, channels: int, size: int, value_range: tuple[float, float],
                 cfg: ImageModelConfig, num_classes: int = 0) -> None:
        super().__init__()
        if size != 32:
            raise ConfigError(f"the resnet model makes 32-pixel images (cifar10), not {size}; use "
                              "--preset cpu or model.arch = \"dcgan\" for 28-pixel data")
        d = cfg.dim
        self.noise_dim, self.dim, self.value_range = cfg.noise_dim, d, value_range
        self.num_classes = num_classes
        self.input = nn.Linear(cfg.noise_dim, 4 * 4 * d)
        self.blocks = nn.Sequential(*[ResidualBlock(d, d, "up", batchnorm=True,
                                                    num_classes=num_classes) for _ in range(3)])
        self.norm = nn.BatchNorm2d(d)
        self.output = nn.Conv2d(d, channels, 3, padding=1)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        h = self.input(z).view(-1, self.dim, 4, 4)
        labels = _generator_labels(self.num_classes, z, labels)
        if labels is None:
            h = self.blocks(h)
        else:
            for block in self.blocks:
                h = block(h, labels)
        return _output(self.output(F.relu(self.norm(h))), self.value_range)


class ResNetCritic(nn.Module):
    """First block (32→16) → down-block (→8) → 2 plain blocks → ReLU → mean over pixels → Linear
    (conditional: a :class:`ConditionalCriticHead` on the pooled features, the paper's
    ``Discriminator.Output`` and ``ACGANOutput``). No normalisation (NORMALIZATION_D = False)."""

    def __init__(self, channels: int, size: int, cfg: ImageModelConfig, num_classes: int = 0,
                 method: str = "none") -> None:
        super().__init__()
        if size != 32:
            raise ConfigError(f"the resnet critic takes 32-pixel images, not {size}")
        _check_conditional(num_classes, method)
        d = cfg.dim
        self.num_classes = num_classes
        self.blocks = nn.Sequential(OptimizedFirstBlock(channels, d),
                                    ResidualBlock(d, d, "down", batchnorm=False),
                                    ResidualBlock(d, d, None, batchnorm=False),
                                    ResidualBlock(d, d, None, batchnorm=False))
        if num_classes:
            self.head = ConditionalCriticHead(d, num_classes, method)  # type: ignore[arg-type]
        else:
            self.output = nn.Linear(d, 1)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor | tuple[Tensor, Tensor]:
        h = F.relu(self.blocks(x)).mean(dim=(2, 3))
        return _critic_output(self, h, labels)


def build_image_models(channels: int, size: int, value_range: tuple[float, float],
                       cfg: ImageModelConfig, num_classes: int = 0,
                       conditional: str = "none", *, objective: str = "wgan-gp"
                       ) -> tuple[nn.Module, nn.Module]:
    """(generator, critic) for images ``[C, size, size]`` in ``value_range``; class-conditional
    on ``num_classes`` labels when ``conditional`` is ``"ac"`` or ``"projection"``. ``objective``
    chooses the Figure 2 networks' critic norm (:mod:`textgan.image.zoo`)."""
    if conditional == "none":
        num_classes = 0
    elif num_classes < 1:
        raise ValueError(f"a conditional ({conditional}) model needs the number of classes")
    if cfg.arch in ZOO_ARCHS:
        if num_classes:
            raise ConfigError(f"the {cfg.arch} model is unconditional; use dcgan or resnet with "
                              "--conditional")
        return build_zoo(cfg.arch, channels, size, value_range, cfg.dim, cfg.noise_dim, objective)
    if cfg.arch == "dcgan-cifar":
        if num_classes:
            raise ConfigError("the dcgan-cifar model is unconditional; use dcgan or resnet with "
                              "--conditional")
        return (FlexGenerator(channels, size, value_range, cfg),
                FlexCritic(channels, size, cfg))
    if cfg.arch == "resnet":
        return (ResNetGenerator(channels, size, value_range, cfg, num_classes),
                ResNetCritic(channels, size, cfg, num_classes, conditional))
    return (DCGANGenerator(channels, size, value_range, cfg, num_classes),
            DCGANCritic(channels, size, cfg, num_classes, conditional))


# --- gan_cifar.py's DCGAN with the factors of the paper's random-architecture set ---------------

PAD_TO = 32  # dcgan-cifar works at 32 pixels; 28-pixel images are padded to it
# The architectures that take 28-pixel images padded to PAD_TO.
PADDED_ARCHS: tuple[str, ...] = ("dcgan-cifar", *(a for a in ZOO_ARCHS if PAD_TO in ZOO_SIZES[a]))


def activation(name: str) -> nn.Module:
    r"""One of the set's nonlinearities; ``softplus`` is $\mathrm{softplus}(2x + 2)/2 - 1$, the
    paper's smooth stand-in for ELU (Appendix D); LeakyReLU has the paper's slope 0.2."""
    if name == "relu":
        return nn.ReLU()
    if name == "leakyrelu":
        return nn.LeakyReLU(0.2)
    if name == "tanh":
        return nn.Tanh()
    if name == "softplus":
        return SmoothELU()
    raise ConfigError(f"unknown nonlinearity {name!r}; choose one of {', '.join(NONLINEARITIES)}")


class SmoothELU(nn.Module):
    r"""$f(x) = \mathrm{softplus}(2x + 2)/2 - 1$: ELU-like, but smooth."""

    def forward(self, x: Tensor) -> Tensor:
        return F.softplus(2 * x + 2) / 2 - 1


def _extras(depth: int) -> list[int]:
    """How many same-resolution 3×3 convolutions each of the three stages gets: the ``depth - 4``
    extra layers dealt out in turn, the lowest resolution first (the cheapest)."""
    counts = [0, 0, 0]
    for i in range(depth - 4):
        counts[i % 3] += 1
    return counts


def _critic_norm(kind: str, channels: int) -> nn.Module:
    """Batch norm, or layer norm over each sample's [C, H, W] with a per-channel affine (the
    paper's ``Layernorm(..., [1, 2, 3])``), or nothing."""
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":
        return nn.GroupNorm(1, channels)
    return nn.Identity()


def _size_for_flex(size: int) -> None:
    if size not in (28, PAD_TO):
        raise ConfigError(f"the dcgan-cifar model takes 32-pixel images (28-pixel ones are padded "
                          f"to 32), not {size}")


class FlexGenerator(nn.Module):
    r"""gan_cifar.py's generator, every factor a setting: $z$ → Linear → $[4D, 4, 4]$ →
    Deconv5×5/2 → $[2D, 8, 8]$ → Deconv → $[D, 16, 16]$ → Deconv → $[C, 32, 32]$ → sigmoid/tanh,
    each hidden layer followed by (batch norm, if on) and the nonlinearity $\rho$. Depth $L > 4$
    adds $L - 4$ Conv3×3 (norm, $\rho$) layers at 4, 8 and 16 pixels in turn. Defaults (ReLU,
    batch norm, depth 4) are gan_cifar.py's."""

    def __init__(self, channels: int, size: int, value_range: tuple[float, float],
                 cfg: ImageModelConfig) -> None:
        super().__init__()
        _size_for_flex(size)
        d = cfg.g_dim or cfg.dim
        self.noise_dim, self.dim, self.value_range = cfg.noise_dim, d, value_range
        self.num_classes = 0
        norm1 = nn.BatchNorm1d if cfg.g_batchnorm else (lambda c: nn.Identity())
        norm2 = nn.BatchNorm2d if cfg.g_batchnorm else (lambda c: nn.Identity())
        self.input = nn.Sequential(nn.Linear(cfg.noise_dim, 4 * 4 * 4 * d), norm1(4 * 4 * 4 * d),
                                   activation(cfg.g_nonlinearity))
        widths = [4 * d, 2 * d, d]
        layers: list[nn.Module] = []
        for stage, extra in enumerate(_extras(cfg.g_depth)):
            c = widths[stage]
            for _ in range(extra):
                layers += [nn.Conv2d(c, c, 3, padding=1), norm2(c), activation(cfg.g_nonlinearity)]
            c_out = widths[stage + 1] if stage < 2 else channels
            layers.append(nn.ConvTranspose2d(c, c_out, 5, stride=2, padding=2, output_padding=1))
            if stage < 2:
                layers += [norm2(c_out), activation(cfg.g_nonlinearity)]
        self.layers = nn.Sequential(*layers)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        _generator_labels(0, z, labels)
        h = self.input(z).view(-1, 4 * self.dim, 4, 4)
        return _output(self.layers(h), self.value_range)


class FlexCritic(nn.Module):
    r"""gan_cifar.py's critic, every factor a setting: Conv5×5/2 → $\rho$ → $[D, 16, 16]$ →
    Conv/2 → norm → $\rho$ → $[2D, 8, 8]$ → Conv/2 → norm → $\rho$ → $[4D, 4, 4]$ → Linear (no
    norm on the first layer, as there). Depth $L > 4$ adds $L - 4$ Conv3×3 (norm, $\rho$) layers
    at 4, 8 and 16 pixels in turn."""

    def __init__(self, channels: int, size: int, cfg: ImageModelConfig) -> None:
        super().__init__()
        _size_for_flex(size)
        d = cfg.d_dim or cfg.dim
        self.num_classes = 0
        widths = [d, 2 * d, 4 * d]  # at 16, 8, 4 pixels
        extras = _extras(cfg.d_depth)[::-1]  # extras[0] at 16 pixels; the 4-pixel one first
        layers: list[nn.Module] = []
        c_in = channels
        for stage in range(3):
            c = widths[stage]
            layers.append(nn.Conv2d(c_in, c, 5, stride=2, padding=2))
            if stage:
                layers.append(_critic_norm(cfg.d_norm, c))
            layers.append(activation(cfg.d_nonlinearity))
            for _ in range(extras[stage]):
                layers += [nn.Conv2d(c, c, 3, padding=1), _critic_norm(cfg.d_norm, c),
                           activation(cfg.d_nonlinearity)]
            c_in = c
        self.layers = nn.Sequential(*layers)
        self.output = nn.Linear(4 * 4 * 4 * d, 1)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor | tuple[Tensor, Tensor]:
        return _critic_output(self, self.layers(x).flatten(1), labels)

