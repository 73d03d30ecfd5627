import math

import pytest
import torch

from textgan.errors import ConfigError
from textgan.text.models import ResBlock, TextCritic, TextGenerator, TextModelConfig


def test_resblock_skip_carries_input_unchanged():
    torch.manual_seed(0)
    block = ResBlock(4, kernel_size=5, res_scale=0.3)
    x = torch.randn(2, 4, 7)  # has negative entries an in-place ReLU would zero
    x_before = x.clone()
    out = block(x)
    assert torch.equal(x, x_before), "the block modified its input (in-place ReLU?)"
    residual = block.conv2(torch.relu(block.conv1(torch.relu(x_before))))
    assert torch.allclose(out, x_before + 0.3 * residual)


def test_generator_emits_distributions_and_critic_scores():
    cfg = TextModelConfig(dim=8, blocks=2)
    g, d = TextGenerator(11, 6, cfg), TextCritic(11, 6, cfg)
    probs = g(torch.randn(3, cfg.noise_dim))
    assert probs.shape == (3, 6, 11)
    assert torch.allclose(probs.sum(-1), torch.ones(3, 6))
    assert (probs >= 0).all()
    assert d(probs).shape == (3,)


def test_paper_architecture_sizes():
    cfg = TextModelConfig()  # paper: DIM 512, 5 blocks, k=5, noise 128
    g, d = TextGenerator(2048, 32, cfg), TextCritic(2048, 32, cfg)
    assert len(g.blocks) == 5 and len(d.blocks) == 5
    assert g.input.in_features == 128 and g.input.out_features == 512 * 32
    assert g.blocks[0].conv1.kernel_size == (5,) and g.output.kernel_size == (1,)
    assert d.input.kernel_size == (1,) and d.output.in_features == 32 * 512
    assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in d.modules())


def test_temperature_sharpens():
    torch.manual_seed(0)
    g = TextGenerator(7, 4, TextModelConfig(dim=8, blocks=1))
    z = torch.randn(2, g.noise_dim)
    hot, cold = g(z, temperature=2.0), g(z, temperature=0.5)
    assert (cold.max(-1).values >= hot.max(-1).values).all()
    assert torch.equal(cold.argmax(-1), hot.argmax(-1))


def test_paper_initialisation_matches_tflib_scales():
    """Default init = the paper code's: He-uniform convs over channels·k, Glorot-uniform linears,
    zero biases; init="torch" keeps PyTorch's ~2.4x smaller defaults."""
    torch.manual_seed(0)
    cfg = TextModelConfig(dim=96, blocks=2)
    gen, critic = TextGenerator(50, 32, cfg), TextCritic(50, 32, cfg)
    conv = gen.blocks[0].conv1.weight  # 96 -> 96, k = 5
    assert conv.std().item() == pytest.approx(math.sqrt(4 / (96 * 5 + 96 * 5)), rel=0.03)
    assert conv.abs().max().item() <= math.sqrt(3) * math.sqrt(4 / 960) + 1e-6  # uniform bound
    lin = critic.output.weight  # 32·96 -> 1
    assert lin.std().item() == pytest.approx(math.sqrt(2 / (32 * 96 + 1)), rel=0.05)
    for module in (gen, critic):
        for name, p in module.named_parameters():
            if name.endswith("bias"):
                assert torch.count_nonzero(p) == 0, name
    torch_gen = TextGenerator(50, 32, TextModelConfig(dim=96, blocks=2, init="torch"))
    torch_conv = torch_gen.blocks[0].conv1.weight
    assert torch_conv.std().item() == pytest.approx(1 / math.sqrt(3 * 96 * 5), rel=0.03)
    with pytest.raises(ConfigError):
        TextModelConfig(init="xavier").validate()
