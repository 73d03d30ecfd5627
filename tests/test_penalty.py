"""The gradient penalty against an independent computation (central finite differences)."""

import math

import pytest
import torch
from torch import nn

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


def _critic_and_batch():
    torch.manual_seed(0)
    critic = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.Tanh(), nn.Linear(8, 1),
                           nn.Flatten(0))
    real = torch.nn.functional.one_hot(torch.randint(0, 4, (6, 3)), 4).float()
    fake = torch.softmax(torch.randn(6, 3, 4), dim=-1)
    return critic, real, fake


def test_lazy_penalty_is_lambda_k_on_every_kth_critic_step_and_absent_otherwise() -> None:
    critic, real, fake = _critic_and_batch()
    d_gap = (critic(fake).mean() - critic(real).mean()).item()
    lazy = WGANGP(gp_lambda=10.0, penalty_every=4)
    for step in range(9):
        torch.manual_seed(7)  # the same interpolation weights as the hand computation
        loss, stats = lazy.critic_loss(critic, real, fake, critic_step=step)
        if step % 4 == 0:
            torch.manual_seed(7)
            penalty, _ = gradient_penalty(critic, real, fake)
            assert stats["penalty"].item() == pytest.approx(penalty.item(), rel=1e-6)
            assert loss.item() == pytest.approx(d_gap + 40.0 * penalty.item(), rel=1e-6)
        else:
            assert "penalty" not in stats and "grad_norm" not in stats
            assert loss.item() == pytest.approx(d_gap, rel=1e-6)


def test_scoring_real_fake_and_interpolates_in_one_pass_is_the_same_math() -> None:
    critic, real, fake = _critic_and_batch()
    results = {}
    for batching in ("separate", "joint", "joint-penalty"):
        critic.zero_grad(set_to_none=True)
        torch.manual_seed(3)
        loss, stats = WGANGP(critic_batching=batching).critic_loss(critic, real, fake)
        loss.backward()
        results[batching] = (loss.item(), stats["penalty"].item(),
                             [p.grad.clone() for p in critic.parameters()])
    for batching in ("joint", "joint-penalty"):
        assert results[batching][0] == pytest.approx(results["separate"][0], rel=1e-6)
        assert results[batching][1] == pytest.approx(results["separate"][1], rel=1e-6)
        for a, b in zip(results[batching][2], results["separate"][2], strict=True):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
