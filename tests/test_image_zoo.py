"""The Figure 2 networks (gan_64x64.py): every one builds at its sizes, trains a step under each
objective, has the critic norm its objective asks for and the sizes the paper's code gives."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from textgan.cli.main import run
from textgan.config import apply_overrides
from textgan.core.objectives import objective_defaults
from textgan.core.trainer import TrainConfig, Trainer
from textgan.errors import ConfigError
from textgan.image.models import ImageModelConfig, build_image_models
from textgan.image.zoo import ZOO_SIZES, Conv, Deconv, depth_to_space

OBJECTIVES = ("wgan-gp", "gan", "lsgan", "wgan-clip")
DIM = 2


def models(arch: str, size: int, objective: str = "wgan-gp", channels: int = 3,
           value_range: tuple[float, float] = (-1.0, 1.0), dim: int = DIM):
    return build_image_models(channels, size, value_range, ImageModelConfig(arch=arch, dim=dim),
                              objective=objective)


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


class Images:
    """Random images in [-1, 1] from a seeded generator."""

    def __init__(self, size: int) -> None:
        self.size, self.rng = size, torch.Generator().manual_seed(0)

    def next_batch(self, batch_size: int, device: torch.device) -> torch.Tensor:
        return torch.rand(batch_size, 3, self.size, self.size, generator=self.rng) * 2 - 1

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


@pytest.mark.parametrize("arch", list(ZOO_SIZES))
def test_every_size_builds_with_its_shapes_and_range(arch):
    torch.manual_seed(0)
    for size in ZOO_SIZES[arch]:
        g, d = models(arch, size)
        x = g(torch.randn(3, 128))
        assert x.shape == (3, 3, size, size)
        assert x.abs().max() <= 1.0 and x.std() > 0
        assert d(x).shape == (3,)
    # [0, 1] data (MNIST-like, grey, 28 pixels padded to 32): the tanh mapped onto [0, 1]
    if 32 in ZOO_SIZES[arch]:
        g, d = models(arch, 28, channels=1, value_range=(0.0, 1.0))
        x = g(torch.randn(2, 128))
        assert x.shape == (2, 1, 32, 32) and 0.0 <= x.min() and x.max() <= 1.0
        assert d(x).shape == (2,)


@pytest.mark.parametrize("arch", list(ZOO_SIZES))
def test_one_training_step_under_each_objective(arch):
    size = min(ZOO_SIZES[arch])
    for objective in OBJECTIVES:
        torch.manual_seed(1)
        g, d = models(arch, size, objective)
        before = [p.detach().clone() for p in g.parameters()]
        settings = {**objective_defaults(objective), "objective": objective, "critic_iters": 1,
                    "batch_size": 4, "ema_decay": 0.0}
        cfg = apply_overrides(TrainConfig(), settings, "train")
        trainer = Trainer(g, d, Images(size), cfg, torch.device("cpu"))
        stats = trainer.train_step()
        assert stats and all(torch.isfinite(v).all() for v in stats.values()), stats
        assert any(not torch.equal(a, b) for a, b in zip(before, g.parameters(), strict=True))
        if objective == "wgan-clip":
            assert all(p.abs().max() <= cfg.clip + 1e-7 for p in d.parameters())


@pytest.mark.parametrize("arch", [a for a in ZOO_SIZES if a != "dcgan64-no-norm"])
def test_critic_norm_follows_the_objective(arch):
    size = min(ZOO_SIZES[arch])
    for objective, norm in (("wgan-gp", nn.GroupNorm), ("wgan-gp-one-sided", nn.GroupNorm),
                            ("gan", nn.BatchNorm2d), ("lsgan", nn.BatchNorm2d),
                            ("wgan-clip", nn.BatchNorm2d)):
        _, d = models(arch, size, objective)
        kinds = {type(m) for m in d.modules() if isinstance(m, (nn.GroupNorm, nn.BatchNorm2d))}
        assert kinds == {norm}, (arch, objective, kinds)
    # Layer norm scores each sample on its own: the penalty's per-sample gradients stay exact.
    torch.manual_seed(2)
    x = torch.randn(4, 3, size, size)
    _, d = models(arch, size, "wgan-gp")
    assert torch.allclose(d(x)[:1], d(x[:1]), atol=1e-5)
    _, d = models(arch, size, "gan")
    assert not torch.allclose(d(x)[:1], d(x[:1]), atol=1e-5)


def test_no_norm_has_no_normalisation_anywhere():
    for objective in OBJECTIVES:
        g, d = models("dcgan64-no-norm", 64, objective)
        assert not [m for m in [*g.modules(), *d.modules()]
                    if isinstance(m, (nn.GroupNorm, nn.BatchNorm1d, nn.BatchNorm2d))]


def test_parameter_counts_by_hand():
    d, c, s, z = 4, 3, 64, 128
    # the MLP generator: 4 ReLU layers 8D wide, then a Linear to every pixel
    w = 8 * d
    mlp = (z * w + w) + 3 * (w * w + w) + (w * c * s * s + c * s * s)
    g, critic = models("dcgan64-g-mlp", s, "gan", dim=d)
    assert count(g) == mlp == 412_800
    # the DCGAN baseline: Linear to [8D, 4, 4], BN, Deconv5×5 8D→4D→2D→D→C with BN between
    widths = [8 * d, 4 * d, 2 * d, d]
    dcgan_g = (z * 16 * 8 * d + 16 * 8 * d) + sum(2 * x for x in widths) + sum(
        a * b * 25 + b for a, b in zip(widths, [*widths[1:], c], strict=True))
    g, _ = models("dcgan64", s, "gan", dim=d)
    assert count(g) == dcgan_g
    # its critic: Conv5×5/2 C→D→2D→4D→8D, norm (2 per channel) on all but the first, Linear
    ins, outs = [c, d, 2 * d, 4 * d], [d, 2 * d, 4 * d, 8 * d]
    dcgan_d = sum(a * b * 25 + b for a, b in zip(ins, outs, strict=True)) + sum(
        2 * x for x in outs[1:]) + (16 * 8 * d + 1)
    assert count(critic) == dcgan_d
    _, ln_critic = models("dcgan64", s, "wgan-gp", dim=d)
    assert count(ln_critic) == dcgan_d  # layer norm: one scale and offset per channel too
    # the paper's width: the MLP is 512 wide
    g, _ = models("dcgan64-g-mlp", 64, dim=64)
    assert g.hidden[0].out_features == 512 and len(g.hidden) == 4


def test_resnet101_has_101_layers():
    """Layers: the weight layers (Linear, convolutions) on the path from input to output, i.e.
    every one outside a shortcut: input + 3 per bottleneck block × 33 + output = 101."""
    g, d = models("resnet101", 64, dim=4)
    for net in (g, d):
        layers = [name for name, m in net.named_modules()
                  if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d))
                  and "shortcut" not in name]
        assert len(layers) == 101
        assert len(net.blocks) == 33


def test_tensorflow_same_padding_and_depth_to_space():
    # stride 2, kernel 5: TF pads 1 above and 2 below (the extra pixel at the end)
    conv = Conv(1, 1, 5, stride=2, std=0.0)
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[0, 0, 0, 0] = 1.0  # picks the top-left of each window
    x = torch.arange(64.0).view(1, 1, 8, 8)
    out = conv(x)
    assert out.shape == (1, 1, 4, 4)
    assert out[0, 0, 0, 0] == 0.0 and out[0, 0, 1, 1] == x[0, 0, 1, 1]
    # transposed, kernel 5: the full output cropped from 1, side doubled
    deconv = Deconv(1, 1, 5)
    assert deconv(torch.ones(1, 1, 4, 4)).shape == (1, 1, 8, 8)
    # depth_to_space: channel (2i + j)C + c of (h, w) → channel c of (2h + i, 2w + j)
    x = torch.arange(8.0).view(1, 8, 1, 1)  # C = 2
    y = depth_to_space(x)
    assert y.shape == (1, 2, 2, 2)
    assert y[0, 0].tolist() == [[0.0, 2.0], [4.0, 6.0]]
    assert y[0, 1].tolist() == [[1.0, 3.0], [5.0, 7.0]]


def test_dcgan_initialisation_is_the_codes():
    g, d = models("dcgan64", 64, dim=8)
    bound = 0.02 * math.sqrt(3)
    for layer in (g.input, g.deconvs[0], d.convs[0], d.output):
        assert layer.weight.abs().max() <= bound
        assert abs(layer.weight.std().item() - 0.02) < 0.005
        assert torch.count_nonzero(layer.bias) == 0


def test_unsupported_size_and_conditional_are_one_line_errors():
    with pytest.raises(ConfigError, match=r"resnet101 model makes 64-pixel images, not 32"):
        models("resnet101", 32)
    with pytest.raises(ConfigError, match=r"dcgan64 model makes 32, 64, 128"):
        models("dcgan64", 48)
    with pytest.raises(ConfigError, match="unconditional"):
        build_image_models(3, 64, (-1.0, 1.0), ImageModelConfig(arch="dcgan64", dim=2), 10, "ac")


def _folder(root, n=12, side=72):
    rng = np.random.default_rng(0)
    root.mkdir(parents=True)
    for i in range(n):
        buffer = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (side, side + 8, 3), dtype=np.uint8)).save(
            buffer, format="PNG")
        (root / f"{i:02d}.png").write_bytes(buffer.getvalue())


def test_cli_trains_a_64_pixel_folder_then_samples_evaluates_exports_reports(tmp_path, capsys):
    _folder(tmp_path / "imgs")
    out = tmp_path / "run"
    assert run(["train", "--mode", "image", "--arch", "dcgan64-gated", "--dim", "2",
                "--dataset", "folder", "--data-path", str(tmp_path / "imgs"), "--image-size",
                "64", "--data-dir", str(tmp_path / "d"), "--objective", "lsgan", "--steps", "2",
                "--batch-size", "4", "--eval-every", "2", "--sample-every", "2",
                "--checkpoint-every", "2", "--out", str(out)]) == 0
    assert (out / "samples" / "step_00000002.png").is_file()
    assert run(["sample", "--run", str(out), "-n", "4", "--out", str(tmp_path / "s.png")]) == 0
    assert Image.open(tmp_path / "s.png").size[0] >= 64
    assert run(["eval", "--run", str(out), "--samples", "4", "--json"]) == 0
    assert run(["export", str(out), str(tmp_path / "model"), "--no-eval"]) == 0
    assert run(["sample", "--model", str(tmp_path / "model"), "-n", "2", "--out",
                str(tmp_path / "m.png")]) == 0
    assert run(["report", str(out)]) == 0
    capsys.readouterr()
    code = run(["train", "--mode", "image", "--arch", "resnet101", "--dataset", "folder",
                "--data-path", str(tmp_path / "imgs"), "--image-size", "32", "--data-dir",
                str(tmp_path / "d"), "--out", str(tmp_path / "bad")])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.startswith("error: ") and "\n" not in err and "resnet101" in err
    code = run(["train", "--mode", "image", "--arch", "dcgan65", "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err.strip()
    assert code != 0 and "dcgan65" in err and "\n" not in err
