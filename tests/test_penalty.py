"""The gradient penalty against an independent computation (central finite differences)."""

import math

import torch

from textgan.core.objectives import WGANGP, gradient_penalty, interpolate, per_sample_grad_norm
from textgan.text.models import TextCritic, TextModelConfig


def tiny_critic(vocab: int = 5, seq_len: int = 4) -> TextCritic:
    torch.manual_seed(0)
    return TextCritic(vocab, seq_len, TextModelConfig(dim=3, blocks=1, kernel_size=3)).double()


def finite_difference_grad(f, x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """∂f/∂x for a scalar function of one sample, by central differences, element by element."""
    grad = torch.zeros_like(x)
    flat, gflat = x.view(-1), grad.view(-1)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + eps
        up = f(x).item()
        flat[i] = old - eps
        down = f(x).item()
        flat[i] = old
        gflat[i] = (up - down) / (2 * eps)
    return grad


def test_penalty_matches_finite_differences_per_sample():
    critic = tiny_critic()
    torch.manual_seed(1)
    vocab, seq_len, batch = 5, 4, 3
    real = torch.nn.functional.one_hot(torch.randint(0, vocab, (batch, seq_len)), vocab).double()
    fake = torch.softmax(torch.randn(batch, seq_len, vocab, dtype=torch.double), -1)
    alpha = torch.tensor([0.1, 0.5, 0.9], dtype=torch.double)
    penalty, norms = gradient_penalty(critic, real, fake, alpha=alpha)

    expected_norms = []
    for i in range(batch):
        x_hat = (real[i] + alpha[i] * (fake[i] - real[i])).clone()
        g = finite_difference_grad(lambda x: critic(x.unsqueeze(0))[0], x_hat)
        # The norm is over the sample's WHOLE (seq_len × vocab) input.
        expected_norms.append(math.sqrt(float((g**2).sum())))
    expected = sum((n - 1.0) ** 2 for n in expected_norms) / batch
    assert torch.allclose(norms, torch.tensor(expected_norms, dtype=torch.double), atol=1e-6)
    assert abs(penalty.item() - expected) < 1e-6


def test_norm_is_over_whole_sample_not_one_axis():
    grad = torch.zeros(2, 3, 4)
    grad[0, 0, 0], grad[0, 2, 3] = 3.0, 4.0  # two positions: whole-sample norm 5
    grad[1, 1, :] = 1.0  # four vocab entries at one position: norm 2
    assert per_sample_grad_norm(grad).tolist() == [5.0, 2.0]


def test_interpolates_lie_between_real_and_fake():
    real, fake = torch.zeros(4, 2, 3), torch.ones(4, 2, 3)
    alpha = torch.tensor([0.0, 0.25, 0.5, 1.0])
    x_hat = interpolate(real, fake, alpha)
    assert torch.equal(x_hat[:, 0, 0], alpha)
    assert torch.equal(x_hat[1], torch.full((2, 3), 0.25))


def test_one_sided_penalty_ignores_norms_below_one():
    # D(x) = c · sum(x): the gradient norm is |c|·sqrt(numel) for every sample.
    for c, two_sided, one_sided in [(0.1, (0.1 * math.sqrt(6) - 1) ** 2, 0.0),
                                    (1.0, (math.sqrt(6) - 1) ** 2, (math.sqrt(6) - 1) ** 2)]:
        def critic(x, c=c):
            return c * x.flatten(1).sum(1)

        real, fake = torch.zeros(2, 2, 3), torch.rand(2, 2, 3)
        p2, _ = gradient_penalty(critic, real, fake)
        p1, _ = gradient_penalty(critic, real, fake, one_sided=True)
        assert abs(p2.item() - two_sided) < 1e-5
        assert abs(p1.item() - one_sided) < 1e-5


def test_critic_loss_composition():
    """L_D = E[D(fake)] − E[D(real)] + λ·penalty, reported W = E[D(real)] − E[D(fake)]."""
    torch.manual_seed(0)
    critic = tiny_critic()
    real = torch.nn.functional.one_hot(torch.randint(0, 5, (6, 4)), 5).double()
    fake = torch.softmax(torch.randn(6, 4, 5, dtype=torch.double), -1)
    torch.manual_seed(5)
    loss, stats = WGANGP(gp_lambda=10.0).critic_loss(critic, real, fake)
    torch.manual_seed(5)  # same α
    penalty, norms = gradient_penalty(critic, real, fake)
    w = critic(real).mean() - critic(fake).mean()
    assert abs(loss.item() - (-w.item() + 10.0 * penalty.item())) < 1e-9
    assert abs(stats["wasserstein"].item() - w.item()) < 1e-9
    assert abs(stats["grad_norm"].item() - norms.mean().item()) < 1e-9


def test_penalty_backpropagates_into_critic_weights():
    critic = tiny_critic()
    real = torch.nn.functional.one_hot(torch.randint(0, 5, (2, 4)), 5).double()
    fake = torch.softmax(torch.randn(2, 4, 5, dtype=torch.double), -1)
    penalty, _ = gradient_penalty(critic, real, fake)
    penalty.backward()
    # ∇ₓD does not depend on additive biases (they only move ReLU kinks), but on every weight.
    grads = {n: p.grad for n, p in critic.named_parameters()}
    assert grads["output.bias"] is None
    weights = [g for n, g in grads.items() if n.endswith("weight")]
    assert len(weights) == 4 and all(float(g.abs().sum()) > 0 for g in weights)
