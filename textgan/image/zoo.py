r"""The architectures of the paper's Figure 2 (§5.2): gan_64x64.py's baseline DCGAN, its six hard
variants, and its "good" 64×64 ResNet.

| arch | generator | critic | sizes |
|---|---|---|---|
| ``dcgan64`` | DCGAN (batch norm, ReLU) | DCGAN (norm, LeakyReLU 0.2) | 32, 64, 128 |
| ``dcgan64-g-constant`` | no batch norm, a constant D filters | DCGAN | 32, 64, 128 |
| ``dcgan64-g-mlp`` | a 4-layer ReLU MLP, $8D$ wide (512 at $D = 64$) | DCGAN | 32, 64, 128 |
| ``dcgan64-no-norm`` | DCGAN without batch norm | DCGAN without norm | 32, 64, 128 |
| ``dcgan64-gated`` | gated $\sigma(a) \tanh(b)$ nonlinearities | the same | 32, 64, 128 |
| ``dcgan64-tanh`` | DCGAN with tanh | DCGAN with tanh | 32, 64, 128 |
| ``resnet101`` | 33 bottleneck blocks | 33 bottleneck blocks | 64 |
| ``resnet64`` | 4 residual up-blocks | 4 residual down-blocks | 32, 64, 128 |

28-pixel images (MNIST, Fashion-MNIST) enter the 32-pixel models padded (see the image mode).

As in gan_64x64.py: weights drawn uniformly with the code's standard deviations (DCGAN layers
$\sigma = 0.02$; elsewhere "He" $\sqrt{4/(\mathrm{fan_{in}} + \mathrm{fan_{out}})}$ for
convolutions, Glorot $\sqrt{2/(\mathrm{fan_{in}} + \mathrm{fan_{out}})}$ for Linear layers and
for the convolutions it marks ``he_init=False``, $\sqrt{2/\mathrm{fan_{in}}}$ for the MLP's ReLU
layers; a stride-$s$ convolution's $\mathrm{fan_{out}}$ divided by $s^2$, a transposed
convolution's $\mathrm{fan_{in}}$ by 4), zero biases, TensorFlow's "SAME" padding for strided and
transposed convolutions. The critic's normalisation follows the objective: layer norm over each
sample's $[C, H, W]$ (per-channel scale and offset) when the objective has a gradient penalty
(which is per sample), batch norm otherwise. The generator ends in tanh (the 101-layer ResNet:
$\tanh(x/5)$, and its critic's score is divided by 5), mapped affinely onto the data's range.

At size $s$ the DCGAN-style stacks have $\log_2(s/4)$ resolution changes and, at resolution $r$,
$D \cdot s/(2r)$ channels (at 64 pixels: $8D$ at 4×4 … $D$ at 32×32, the code's); the good
ResNet has $D \cdot \min(8, s/r)$ channels at resolution $r$ (at 64: $8D, 8D, 4D, 2D, D$).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from textgan.errors import ConfigError

# Every architecture of the zoo and the image sides each makes (28 is padded to 32).
ZOO_SIZES: dict[str, tuple[int, ...]] = {
    "dcgan64": (32, 64, 128),
    "dcgan64-g-constant": (32, 64, 128),
    "dcgan64-g-mlp": (32, 64, 128),
    "dcgan64-no-norm": (32, 64, 128),
    "dcgan64-gated": (32, 64, 128),
    "dcgan64-tanh": (32, 64, 128),
    "resnet101": (64,),
    "resnet64": (32, 64, 128),
}
ZOO_ARCHS: tuple[str, ...] = tuple(ZOO_SIZES)
DCGAN_STD = 0.02  # gan_64x64.py's set_weights_stdev(0.02) inside the DCGAN networks
MLP_WIDTH_FACTOR = 8  # the MLP generator is 512 wide at the paper's DIM 64
RESNET101_SCALE = 5.0  # tanh(x / 5) and the critic's score / 5
BOTTLENECK_SCALE = 0.3  # a bottleneck block adds 0.3 × its residual

# ------------------------------------------------------------------------- layers and their init


def _uniform_(weight: Tensor, std: float) -> None:
    """Uniform with standard deviation ``std``: $U(\\pm\\sqrt{3}\\,\\sigma)$."""
    with torch.no_grad():
        weight.uniform_(-std * math.sqrt(3), std * math.sqrt(3))


def linear(c_in: int, c_out: int, init: str = "glorot", std: float | None = None) -> nn.Linear:
    """A Linear layer initialised as tflib's: ``glorot`` $\\sqrt{2/(n_{in}+n_{out})}$, ``he``
    $\\sqrt{2/n_{in}}$, or a fixed ``std``."""
    layer = nn.Linear(c_in, c_out)
    if std is None:
        std = math.sqrt(2 / c_in) if init == "he" else math.sqrt(2 / (c_in + c_out))
    _uniform_(layer.weight, std)
    nn.init.zeros_(layer.bias)
    return layer


def _conv_std(fan_in: float, fan_out: float, he: bool) -> float:
    return math.sqrt((4.0 if he else 2.0) / (fan_in + fan_out))


class Conv(nn.Conv2d):
    """A convolution with TensorFlow's "SAME" padding (for stride 2 the extra pixel goes to the
    bottom and right) and tflib's initialisation."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, he: bool = True,
                 std: float | None = None, bias: bool = True) -> None:
        super().__init__(c_in, c_out, kernel, stride=stride, padding=0, bias=bias)
        total = max(kernel - stride, 0)
        self.pads = (total // 2, total - total // 2) * 2  # left, right, top, bottom
        if std is None:
            std = _conv_std(c_in * kernel ** 2, c_out * kernel ** 2 / stride ** 2, he)
        _uniform_(self.weight, std)
        if bias:
            nn.init.zeros_(self.bias)

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(F.pad(x, self.pads) if any(self.pads) else x)


class Deconv(nn.ConvTranspose2d):
    """tflib's Deconv2D: a stride-2 transposed convolution doubling the side, cropped as
    TensorFlow's "SAME" output is (from $\\lfloor (k-2)/2 \\rfloor$)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, he: bool = True,
                 std: float | None = None) -> None:
        super().__init__(c_in, c_out, kernel, stride=2, padding=0)
        self.crop = max(kernel - 2, 0) // 2
        if std is None:
            std = _conv_std(c_in * kernel ** 2 / 4, c_out * kernel ** 2, he)
        _uniform_(self.weight, std)
        nn.init.zeros_(self.bias)

    def forward(self, x: Tensor) -> Tensor:
        side = 2 * x.shape[-1]
        return super().forward(x)[:, :, self.crop:self.crop + side, self.crop:self.crop + side]


def depth_to_space(x: Tensor) -> Tensor:
    """TensorFlow's ``depth_to_space(·, 2)`` on NCHW: channel $(2i + j)C + c$ of pixel $(h, w)$
    becomes channel $c$ of pixel $(2h + i, 2w + j)$."""
    b, c4, h, w = x.shape
    c = c4 // 4
    return x.view(b, 2, 2, c, h, w).permute(0, 3, 4, 1, 5, 2).reshape(b, c, 2 * h, 2 * w)


class SubpixelConv(nn.Module):
    """A convolution to $4C$ channels, then :func:`depth_to_space`: twice the side."""

    def __init__(self, c_in: int, c_out: int, kernel: int, he: bool = True) -> None:
        super().__init__()
        self.conv = Conv(c_in, 4 * c_out, kernel, he=he)

    def forward(self, x: Tensor) -> Tensor:
        return depth_to_space(self.conv(x))


class UpsampleConv(nn.Module):
    """Nearest ×2 (the code's four copies through depth_to_space), then a convolution."""

    def __init__(self, c_in: int, c_out: int, kernel: int, he: bool = True,
                 bias: bool = True) -> None:
        super().__init__()
        self.conv = Conv(c_in, c_out, kernel, he=he, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class ConvMeanPool(nn.Module):
    """A convolution, then 2×2 mean pooling."""

    def __init__(self, c_in: int, c_out: int, kernel: int, he: bool = True) -> None:
        super().__init__()
        self.conv = Conv(c_in, c_out, kernel, he=he)

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool2d(self.conv(x), 2)


class MeanPoolConv(nn.Module):
    """2×2 mean pooling, then a convolution."""

    def __init__(self, c_in: int, c_out: int, kernel: int, he: bool = True) -> None:
        super().__init__()
        self.conv = Conv(c_in, c_out, kernel, he=he)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(F.avg_pool2d(x, 2))


def norm(kind: str, channels: int) -> nn.Module:
    """``batch``; ``layer``: over each sample's [C, H, W] with a per-channel affine (tflib's
    ``Layernorm(..., [1, 2, 3])``); ``none``."""
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":
        return nn.GroupNorm(1, channels)
    return nn.Identity()


def gated(x: Tensor) -> Tensor:
    r"""PixelCNN's gate on interleaved channel pairs: $\sigma(x_{2k}) \tanh(x_{2k+1})$."""
    return torch.sigmoid(x[:, ::2]) * torch.tanh(x[:, 1::2])


def leaky_relu(x: Tensor) -> Tensor:
    return F.leaky_relu(x, 0.2)


NONLINEARITY = {"relu": F.relu, "leakyrelu": leaky_relu, "tanh": torch.tanh, "gated": gated}


def to_range(x: Tensor, value_range: tuple[float, float]) -> Tensor:
    r"""$\tanh$ output mapped onto the data's range: $l + (h - l)(\tanh(x) + 1)/2$ (exactly
    $\tanh(x)$ for [-1, 1] data)."""
    low, high = value_range
    t = torch.tanh(x)
    if (low, high) == (-1.0, 1.0):
        return t
    return low + (high - low) * (t + 1) / 2


# ------------------------------------------------------------------------------ sizes and widths


def zoo_size(arch: str, size: int) -> int:
    """The side ``arch`` makes for ``size``-pixel data (28 → 32); a one-line error if it makes
    none."""
    sizes = ZOO_SIZES[arch]
    side = 32 if size == 28 else size
    if side not in sizes:
        shown = ", ".join(map(str, sizes)) + (" (28 padded to 32)" if 32 in sizes else "")
        raise ConfigError(f"the {arch} model makes {shown}-pixel images, not {size}; choose "
                          "another --arch or --image-size")
    return side


def stages(size: int) -> int:
    """Resolution changes from 4×4 to ``size``."""
    return int(math.log2(size // 4))


def dcgan_widths(dim: int, size: int) -> list[int]:
    """Channels at 4, 8, …, size/2 pixels: $D \\cdot s / (2r)$."""
    return [dim * size // (2 * 4 * 2 ** i) for i in range(stages(size))]


def resnet_widths(dim: int, size: int) -> list[int]:
    """Channels at 4, 8, …, size pixels: $D \\cdot \\min(8, s/r)$."""
    return [dim * min(8, size // (4 * 2 ** i)) for i in range(stages(size) + 1)]


class _Generator(nn.Module):
    """What every zoo generator shares: the noise size, unconditional, output in the range."""

    num_classes = 0

    def _setup(self, channels: int, size: int, value_range: tuple[float, float],
               noise_dim: int) -> None:
        self.channels, self.size, self.value_range = channels, size, value_range
        self.noise_dim = noise_dim

    def _check(self, labels: Tensor | None) -> None:
        if labels is not None:
            raise ValueError("this generator is unconditional: it takes no labels")


class _Critic(nn.Module):
    num_classes = 0

    def _check(self, labels: Tensor | None) -> None:
        if labels is not None:
            raise ValueError("this critic is unconditional: it takes no labels")


# ------------------------------------------------------------------------------ the DCGAN family


class DCGAN64Generator(_Generator):
    r"""$z$ → Linear → $[W_0, 4, 4]$ → (norm) → $\rho$ → Deconv5×5 … → Deconv5×5 → $[C, s, s]$ →
    tanh. ``kind``: ``dcgan`` (batch norm, ReLU; σ = 0.02 init), ``tanh`` (tanh for ρ),
    ``no-norm`` (no batch norm), ``constant`` (WGAN paper's: no batch norm, $D$ filters
    everywhere, ReLU after the Linear, default init), ``gated`` (each layer makes twice the
    channels and ρ is :func:`gated`; default init)."""

    def __init__(self, channels: int, size: int, value_range: tuple[float, float], dim: int,
                 noise_dim: int, kind: str = "dcgan") -> None:
        super().__init__()
        self._setup(channels, size, value_range, noise_dim)
        self.kind = kind
        widths = [dim] * stages(size) if kind == "constant" else dcgan_widths(dim, size)
        std = DCGAN_STD if kind in ("dcgan", "tanh", "no-norm") else None
        batchnorm = kind in ("dcgan", "tanh", "gated")
        self.rho = NONLINEARITY["tanh" if kind == "tanh" else "gated" if kind == "gated"
                                else "relu"]
        grow = 2 if kind == "gated" else 1  # the gate halves the channels
        self.first = widths[0]
        self.input = linear(noise_dim, 4 * 4 * widths[0] * grow, std=std)
        self.norms = nn.ModuleList([norm("batch" if batchnorm else "none", w * grow)
                                    for w in widths])
        outs = [*widths[1:], channels]
        self.deconvs = nn.ModuleList([
            Deconv(w, c * (grow if i < len(outs) - 1 else 1), 5, std=std)
            for i, (w, c) in enumerate(zip(widths, outs, strict=True))])

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        self._check(labels)
        h = self.input(z).view(len(z), -1, 4, 4)
        for i, deconv in enumerate(self.deconvs):
            h = deconv(self.rho(self.norms[i](h)))
        return to_range(h, self.value_range)


class MLPGenerator(_Generator):
    r"""$z$ → 4 × (Linear → ReLU), $8D$ wide (He init) → Linear → $C s^2$ → tanh (the paper's
    "4-layer 512-wide ReLU MLP" at $D = 64$)."""

    def __init__(self, channels: int, size: int, value_range: tuple[float, float], dim: int,
                 noise_dim: int) -> None:
        super().__init__()
        self._setup(channels, size, value_range, noise_dim)
        width = MLP_WIDTH_FACTOR * dim
        self.hidden = nn.ModuleList([linear(noise_dim if i == 0 else width, width, "he")
                                     for i in range(4)])
        self.output = linear(width, channels * size * size)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        self._check(labels)
        h = z
        for layer in self.hidden:
            h = F.relu(layer(h))
        return to_range(self.output(h), self.value_range).view(len(z), self.channels, self.size,
                                                               self.size)


class DCGAN64Critic(_Critic):
    r"""Conv5×5/2 → ρ, then (Conv5×5/2 → norm → ρ) at each halving down to 4×4 → Linear. ``kind``:
    ``dcgan`` (LeakyReLU 0.2, σ = 0.02 init), ``tanh``, ``no-norm``, ``gated`` (twice the
    channels, :func:`gated`, default init). ``critic_norm``: ``batch`` or ``layer``."""

    def __init__(self, channels: int, size: int, dim: int, kind: str, critic_norm: str) -> None:
        super().__init__()
        widths = dcgan_widths(dim, size)[::-1]  # at s/2, s/4, …, 4 pixels
        std = None if kind == "gated" else DCGAN_STD
        grow = 2 if kind == "gated" else 1
        self.rho = NONLINEARITY["tanh" if kind == "tanh" else "gated" if kind == "gated"
                                else "leakyrelu"]
        kind_norm = "none" if kind == "no-norm" else critic_norm
        ins = [channels, *widths[:-1]]
        self.convs = nn.ModuleList([Conv(c, w * grow, 5, stride=2, std=std)
                                    for c, w in zip(ins, widths, strict=True)])
        self.norms = nn.ModuleList([norm("none" if i == 0 else kind_norm, w * grow)
                                    for i, w in enumerate(widths)])
        self.output = linear(4 * 4 * widths[-1], 1, std=std)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        self._check(labels)
        for conv, n in zip(self.convs, self.norms, strict=True):
            x = self.rho(n(conv(x)))
        return self.output(x.flatten(1)).squeeze(1)


# ---------------------------------------------------------------------------- the good ResNet


class ResBlock(nn.Module):
    r"""$x + \mathrm{conv}_2(\mathrm{ReLU}(N_2(\mathrm{conv}_1(\mathrm{ReLU}(N_1(x))))))$ with a
    resampling shortcut (1×1, Glorot init): ``up`` (conv₁ upsamples) or ``down`` (conv₂
    mean-pools); conv₁ has no bias."""

    def __init__(self, c_in: int, c_out: int, resample: str, kind: str) -> None:
        super().__init__()
        if resample == "up":
            self.shortcut: nn.Module = UpsampleConv(c_in, c_out, 1, he=False)
            self.conv1: nn.Module = UpsampleConv(c_in, c_out, 3, bias=False)
            self.conv2: nn.Module = Conv(c_out, c_out, 3)
            mid = c_out
        else:
            self.shortcut = MeanPoolConv(c_in, c_out, 1, he=False)
            self.conv1 = Conv(c_in, c_in, 3, bias=False)
            self.conv2 = ConvMeanPool(c_in, c_out, 3)
            mid = c_in
        self.norm1, self.norm2 = norm(kind, c_in), norm(kind, mid)

    def forward(self, x: Tensor) -> Tensor:
        h = self.conv1(F.relu(self.norm1(x)))
        return self.shortcut(x) + self.conv2(F.relu(self.norm2(h)))


class ResNet64Generator(_Generator):
    """$z$ → Linear → $[8D, 4, 4]$ → up-blocks → BN → ReLU → Conv3×3 → tanh."""

    def __init__(self, channels: int, size: int, value_range: tuple[float, float], dim: int,
                 noise_dim: int) -> None:
        super().__init__()
        self._setup(channels, size, value_range, noise_dim)
        widths = resnet_widths(dim, size)
        self.first = widths[0]
        self.input = linear(noise_dim, 4 * 4 * widths[0])
        self.blocks = nn.Sequential(*[ResBlock(a, b, "up", "batch")
                                      for a, b in zip(widths, widths[1:], strict=False)])
        self.norm = nn.BatchNorm2d(widths[-1])
        self.output = Conv(widths[-1], channels, 3)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        self._check(labels)
        h = self.blocks(self.input(z).view(len(z), self.first, 4, 4))
        return to_range(self.output(F.relu(self.norm(h))), self.value_range)


class ResNet64Critic(_Critic):
    """Conv3×3 (Glorot) → down-blocks → Linear (no nonlinearity before it, as in the code)."""

    def __init__(self, channels: int, size: int, dim: int, critic_norm: str) -> None:
        super().__init__()
        widths = resnet_widths(dim, size)[::-1]  # at s, s/2, …, 4 pixels
        self.input = Conv(channels, widths[0], 3, he=False)
        self.blocks = nn.Sequential(*[ResBlock(a, b, "down", critic_norm)
                                      for a, b in zip(widths, widths[1:], strict=False)])
        self.output = linear(4 * 4 * widths[-1], 1)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        self._check(labels)
        return self.output(self.blocks(self.input(x)).flatten(1)).squeeze(1)


# -------------------------------------------------------------------------- the 101-layer ResNet


def _half(c: int) -> int:
    return max(1, c // 2)


class Bottleneck(nn.Module):
    r"""$\mathrm{shortcut}(x) + 0.3\,N(\mathrm{conv}_2(\rho(\mathrm{conv}_{1b}(\rho(
    \mathrm{conv}_1(\rho(x)))))))$, $\rho$ = ReLU: conv₁ 1×1 to half the input's channels,
    conv₁b 3×3 (stride 2 for ``down``, a transposed convolution for ``up``) to half the output's,
    conv₂ 1×1 (no bias) to the output's; the shortcut is the identity, or a 1×1 convolution
    (Glorot; for ``up`` a sub-pixel one, for ``down`` stride 2). Three weight layers on the
    residual path."""

    def __init__(self, c_in: int, c_out: int, resample: str | None, kind: str) -> None:
        super().__init__()
        self.conv1 = Conv(c_in, _half(c_in), 1)
        if resample == "down":
            self.conv1b: nn.Module = Conv(_half(c_in), _half(c_out), 3, stride=2)
            self.shortcut: nn.Module = Conv(c_in, c_out, 1, stride=2, he=False)
        elif resample == "up":
            self.conv1b = Deconv(_half(c_in), _half(c_out), 3)
            self.shortcut = SubpixelConv(c_in, c_out, 1, he=False)
        else:
            self.conv1b = Conv(_half(c_in), _half(c_out), 3)
            self.shortcut = nn.Identity() if c_in == c_out else Conv(c_in, c_out, 1, he=False)
        self.conv2 = Conv(_half(c_out), c_out, 1, bias=False)
        self.norm = norm(kind, c_out)

    def forward(self, x: Tensor) -> Tensor:
        h = self.conv1(F.relu(x))
        h = self.conv2(F.relu(self.conv1b(F.relu(h))))
        return self.shortcut(x) + BOTTLENECK_SCALE * self.norm(h)


def _resnet101_plan(dim: int) -> list[tuple[int, int, str | None]]:
    """The generator's 33 blocks (in, out, resample): 6 at 4×4 (8D), up, 6 at 8×8 (4D), up,
    6 at 16×16 (2D), up, 6 at 32×32 (D), up, 5 at 64×64 (D/2)."""
    plan: list[tuple[int, int, str | None]] = []
    widths = [8 * dim, 4 * dim, 2 * dim, dim, _half(dim)]
    for i, w in enumerate(widths):
        plan += [(w, w, None)] * (5 if i == 4 else 6)
        if i < 4:
            plan.append((w, widths[i + 1], "up"))
    return plan


class ResNet101Generator(_Generator):
    r"""$z$ → Linear → $[8D, 4, 4]$ → 33 bottleneck blocks → Conv1×1 (Glorot) → $\tanh(x/5)$.
    101 weight layers on the longest path: the Linear, 3 per block, the output convolution."""

    def __init__(self, channels: int, size: int, value_range: tuple[float, float], dim: int,
                 noise_dim: int) -> None:
        super().__init__()
        self._setup(channels, size, value_range, noise_dim)
        self.first = 8 * dim
        self.input = linear(noise_dim, 4 * 4 * 8 * dim)
        self.blocks = nn.Sequential(*[Bottleneck(a, b, r, "batch")
                                      for a, b, r in _resnet101_plan(dim)])
        self.output = Conv(_half(dim), channels, 1, he=False)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        self._check(labels)
        h = self.blocks(self.input(z).view(len(z), self.first, 4, 4))
        return to_range(self.output(h) / RESNET101_SCALE, self.value_range)


class ResNet101Critic(_Critic):
    """Conv1×1 (Glorot) → the generator's 33 blocks mirrored (stride-2 down-blocks) → Linear →
    ÷ 5. 101 weight layers on the longest path."""

    def __init__(self, channels: int, size: int, dim: int, critic_norm: str) -> None:
        super().__init__()
        plan = [(b, a, "down" if r else None) for a, b, r in reversed(_resnet101_plan(dim))]
        self.input = Conv(channels, _half(dim), 1, he=False)
        self.blocks = nn.Sequential(*[Bottleneck(a, b, r, critic_norm) for a, b, r in plan])
        self.output = linear(4 * 4 * 8 * dim, 1)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        self._check(labels)
        return self.output(self.blocks(self.input(x)).flatten(1)).squeeze(1) / RESNET101_SCALE


# --------------------------------------------------------------------------------------- build


def critic_norm_for(objective: str) -> str:
    """``layer`` for an objective with a gradient penalty (per sample), else ``batch``: the
    code's ``Normalize`` for the discriminator."""
    from textgan.core.objectives import has_penalty

    return "layer" if has_penalty(objective) else "batch"


def build_zoo(arch: str, channels: int, size: int, value_range: tuple[float, float], dim: int,
              noise_dim: int, objective: str) -> tuple[nn.Module, nn.Module]:
    """(generator, critic) of ``arch`` for ``size``-pixel images (28: padded to 32)."""
    side = zoo_size(arch, size)
    kind_norm = critic_norm_for(objective)
    args = (channels, side, value_range, dim, noise_dim)
    if arch == "resnet64":
        return ResNet64Generator(*args), ResNet64Critic(channels, side, dim, kind_norm)
    if arch == "resnet101":
        return ResNet101Generator(*args), ResNet101Critic(channels, side, dim, kind_norm)
    variant = arch.removeprefix("dcgan64").removeprefix("-") or "dcgan"
    g_kind = {"g-constant": "constant", "g-mlp": "dcgan"}.get(variant, variant)
    d_kind = "dcgan" if variant in ("g-constant", "g-mlp") else variant
    generator: nn.Module = (MLPGenerator(*args) if variant == "g-mlp"
                            else DCGAN64Generator(*args, kind=g_kind))
    return generator, DCGAN64Critic(channels, side, dim, d_kind, kind_norm)
