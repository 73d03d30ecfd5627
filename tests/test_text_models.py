import torch

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
