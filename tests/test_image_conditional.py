"""Conditional image generation: labelled batches, class-conditional batch norm, conditional
models, a tiny conditional run end to end (CLI), exact resume, per-class sampling and the separate
label classifier."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from test_image_data import idx_bytes, write_idx_labels
from torch import nn

from textgan.core.conditional import ConditionalCriticHead
from textgan.image.data import DATASETS
from textgan.image.models import (
    ConditionalBatchNorm2d,
    ImageModelConfig,
    ResidualBlock,
    build_image_models,
)

FASHION = DATASETS["fashion-mnist"].label_names


def separable_images(labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """uint8 [N, 28, 28]: faint noise plus a bright 7×7 block whose place says the class (0..9)."""
    rng = np.random.default_rng(seed)
    out = rng.integers(0, 40, size=(len(labels), 28, 28)).astype(np.uint8)
    for i, k in enumerate(labels):
        row, col = divmod(int(k), 4)
        out[i, 7 * row:7 * row + 7, 7 * col:7 * col + 7] = 230
    return out


def write_labelled_idx(directory: Path, train_labels: list[int], test_labels: list[int],
                       seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A Fashion-MNIST-format directory (idx3 images, idx1 labels, gzipped) of separable images."""
    directory.mkdir(parents=True, exist_ok=True)
    train, test = np.array(train_labels), np.array(test_labels)
    for stem, labels, s in (("train-images-idx3-ubyte", train, seed),
                            ("t10k-images-idx3-ubyte", test, seed + 1)):
        import gzip

        (directory / f"{stem}.gz").write_bytes(gzip.compress(idx_bytes(separable_images(labels,
                                                                                        s))))
    write_idx_labels(directory, train, test)
    return train, test


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    data = path.read_bytes()
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


# --- models --------------------------------------------------------------------------------------


def test_conditional_batch_norm_is_per_class_scale_and_offset_of_normalised_activations():
    torch.manual_seed(0)
    norm = ConditionalBatchNorm2d(3, num_classes=4)
    assert torch.equal(norm.scale.weight, torch.ones(4, 3))  # γ starts at 1, β at 0
    assert torch.equal(norm.offset.weight, torch.zeros(4, 3))
    with torch.no_grad():
        norm.scale.weight.copy_(torch.randn(4, 3))
        norm.offset.weight.copy_(torch.randn(4, 3))
    x, y = torch.randn(5, 3, 2, 2) * 3 + 1, torch.tensor([0, 3, 3, 1, 2])
    # by hand: batch statistics over (N, H, W) per channel, biased variance, eps 1e-5
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    var = x.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
    hat = (x - mean) / torch.sqrt(var + 1e-5)
    gamma, beta = norm.scale.weight[y], norm.offset.weight[y]
    hand = gamma[:, :, None, None] * hat + beta[:, :, None, None]
    assert torch.allclose(norm(x, y), hand, atol=1e-5)
    # sample 1 and 2 share class 3: the same affine map of their normalised activations
    assert torch.allclose((norm(x, y)[1] - beta[1, :, None, None]) / gamma[1, :, None, None],
                          hat[1], atol=1e-5)
    # eval mode: running statistics (updated once above from the batch), still per class
    norm.eval()
    running = (x - norm.norm.running_mean[None, :, None, None]) / torch.sqrt(
        norm.norm.running_var[None, :, None, None] + 1e-5)
    assert torch.allclose(norm(x, y), gamma[:, :, None, None] * running
                          + beta[:, :, None, None], atol=1e-5)


def test_conditional_resnet_generator_conditions_only_its_blocks():
    torch.manual_seed(0)
    g, d = build_image_models(3, 32, (-1.0, 1.0), ImageModelConfig(arch="resnet", dim=4),
                              num_classes=10, conditional="ac")
    for block in g.blocks:
        assert isinstance(block.norm1, ConditionalBatchNorm2d)
        assert isinstance(block.norm2, ConditionalBatchNorm2d)
    assert type(g.norm) is nn.BatchNorm2d  # the paper's Generator.OutputN takes no labels
    z, y = torch.randn(4, 128), torch.tensor([0, 1, 2, 9])
    x = g(z, labels=y)
    assert x.shape == (4, 3, 32, 32)
    with torch.no_grad():  # the labels reach the output: another class, another image
        g.blocks[0].norm1.offset.weight[5].fill_(3.0)
    g.eval()
    assert not torch.allclose(g(z, labels=torch.full((4,), 5)), g(z, labels=torch.zeros(4).long()))
    # labels None: every class in turn
    assert torch.allclose(g(z), g(z, labels=torch.tensor([0, 1, 2, 3])))
    scores, logits = d(x.detach(), y)
    assert scores.shape == (4,) and logits.shape == (4, 10)
    assert isinstance(d.head, ConditionalCriticHead) and not hasattr(d, "output")
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in d.modules())


def test_the_block_calls_its_conditional_norms_with_the_labels():
    torch.manual_seed(0)
    block = ResidualBlock(2, 2, None, batchnorm=True, num_classes=3)
    x, y = torch.randn(4, 2, 3, 3), torch.tensor([0, 2, 1, 2])
    residual = block.conv2(torch.relu(block.norm2(block.conv1(torch.relu(block.norm1(x, y))), y)))
    assert torch.allclose(block(x, y), x + residual)
    with pytest.raises(ValueError, match="needs the labels"):
        block(x)


def test_dcgan_label_embedding_is_a_linear_on_z_and_a_one_hot():
    torch.manual_seed(0)
    g, d = build_image_models(1, 28, (0.0, 1.0), ImageModelConfig(dim=2), num_classes=10,
                              conditional="projection")
    z, y = torch.randn(3, 128), torch.tensor([4, 0, 9])
    one_hot = torch.nn.functional.one_hot(y, 10).float()
    weight = torch.cat([g.input.weight, g.label_embedding.weight.T], dim=1)  # W' = [W, E^T]
    assert torch.allclose(torch.cat([z, one_hot], 1) @ weight.T + g.input.bias,
                          g.input(z) + g.label_embedding(y), atol=1e-6)
    bound = 1 / np.sqrt(128 + 10)
    assert g.label_embedding.weight.abs().max() <= bound
    x = g(z, labels=y)
    assert x.shape == (3, 1, 28, 28)
    scores = d(x, y)  # projection: scores only
    assert scores.shape == (3,)
    assert torch.allclose(d(x, y)[1:2], d(x[1:2], y[1:2]), atol=1e-6)  # per sample


def test_unconditional_models_keep_their_layers_and_keys():
    for arch, channels, size in (("dcgan", 1, 28), ("resnet", 3, 32)):
        cfg = ImageModelConfig(arch=arch, dim=4)
        torch.manual_seed(0)
        g, d = build_image_models(channels, size, (-1.0, 1.0), cfg)
        torch.manual_seed(0)
        g2, d2 = build_image_models(channels, size, (-1.0, 1.0), cfg, 10, "none")
        assert g.state_dict().keys() == g2.state_dict().keys()
        assert not any("label" in k or "head" in k or "scale" in k for k in g.state_dict())
        assert "output.weight" in d.state_dict()
        with pytest.raises(ValueError, match="unconditional"):
            g(torch.randn(2, 128), labels=torch.zeros(2).long())
        with pytest.raises(ValueError, match="unconditional"):
            d(torch.zeros(2, channels, size, size), torch.zeros(2).long())
        gc, dc = build_image_models(channels, size, (-1.0, 1.0), cfg, 10, "ac")
        # the conditional critic: the same trunk, the head instead of `output`
        trunk = {k for k in d.state_dict() if not k.startswith("output.")}
        assert trunk == {k for k in dc.state_dict() if not k.startswith("head.")}
        assert {k for k in dc.state_dict() if k.startswith("head.")} == {
            "head.output.weight", "head.output.bias", "head.classes.weight", "head.classes.bias"}
    with pytest.raises(ValueError, match="number of classes"):
        build_image_models(1, 28, (0.0, 1.0), ImageModelConfig(dim=2), 0, "ac")
