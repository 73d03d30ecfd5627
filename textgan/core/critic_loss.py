r"""The critic's loss on fixed batches as a training signal (the paper's §5.6: the negative critic
loss tracks sample quality, and a gap between training and held-out images shows overfitting).

Every ``eval_every`` steps, with the same fixed fakes $\tilde x_j = G(z_j)$ for both:

$$\text{valid\_critic\_loss} = \tfrac1n\textstyle\sum_j D(\tilde x_j) - \tfrac1n\sum_i D(x^{v}_i),
  \qquad
  \text{train\_critic\_loss} = \tfrac1n\textstyle\sum_j D(\tilde x_j) - \tfrac1n\sum_i D(x^{t}_i)$$

with $x^v$ a fixed held-out batch, $x^t$ a fixed training batch and $z$ fixed noise: the
WGAN critic loss without its penalty, so their difference is $\bar D(x^t) - \bar D(x^v)$, how much
more the critic likes the images it trains on. Measured without touching training: the critic in
evaluation mode (batch norm uses its running statistics, which are not updated), the generator in
training mode as the critic sees it in a step but with its batch-norm statistics restored, no
gradients, and the batches and noise drawn once from RNGs of their own (seeded from the run's
seed), so the training random streams, and thus a resumed run, are unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch
from torch import Tensor, nn

from textgan.core.conditional import cycled_labels

CRITIC_LOSS_SAMPLES = 256  # fixed real and fake samples on each side
CRITIC_LOSS_STREAM = 7321  # the fixed batches' own RNG stream, apart from training's


def fixed_rows(n_rows: int, n: int, seed: int, which: int) -> np.ndarray:
    """``min(n, n_rows)`` distinct row indices, sorted, from an RNG of their own."""
    rng = np.random.default_rng([seed, CRITIC_LOSS_STREAM, which])
    return np.sort(rng.choice(n_rows, size=min(n, n_rows), replace=False))


@contextmanager
def kept_buffers(module: nn.Module) -> Iterator[None]:
    """Run ``module`` in training mode without a lasting effect on its buffers (batch-norm running
    statistics are restored afterwards)."""
    saved = [b.detach().clone() for b in module.buffers()]
    try:
        yield
    finally:
        with torch.no_grad():
            for buffer, value in zip(module.buffers(), saved, strict=True):
                buffer.copy_(value)


def _scores(critic: nn.Module, x: Tensor, labels: Tensor | None) -> Tensor:
    out = critic(x) if labels is None else critic(x, labels)
    if isinstance(out, tuple):  # an AC critic: (scores, class logits)
        out = out[0]
    return out.double()


class CriticLossHook:
    """``valid_critic_loss`` and ``train_critic_loss`` (module docstring) on fixed batches: the
    real ones given (tensors as the critic takes them, e.g. one-hot text or scaled images), the
    fakes from ``generator`` on noise drawn here once. ``*_labels``: a conditional run's real
    labels (the fakes then get every class in turn)."""

    def __init__(self, generator: nn.Module, critic: nn.Module, train_real: Tensor,
                 valid_real: Tensor, seed: int, device: torch.device,
                 train_labels: Tensor | None = None, valid_labels: Tensor | None = None,
                 n_fake: int = CRITIC_LOSS_SAMPLES) -> None:
        self.generator, self.critic, self.device = generator, critic, device
        self.train_real, self.valid_real = train_real.to(device), valid_real.to(device)
        self.train_labels = None if train_labels is None else train_labels.to(device)
        self.valid_labels = None if valid_labels is None else valid_labels.to(device)
        rng = torch.Generator(device="cpu").manual_seed(
            int(np.random.default_rng([seed, CRITIC_LOSS_STREAM]).integers(2**62)))
        self.noise = torch.randn(n_fake, generator.noise_dim, generator=rng).to(device)
        num_classes = int(getattr(generator, "num_classes", 0) or 0)
        self.fake_labels = (cycled_labels(n_fake, num_classes, device)
                            if num_classes and train_labels is not None else None)

    def __call__(self, step: int = 0) -> dict[str, float]:
        G, D = self.generator, self.critic
        g_training, d_training = G.training, D.training
        try:
            G.train()
            D.eval()
            with torch.no_grad(), kept_buffers(G), kept_buffers(D):
                fake = (G(self.noise) if self.fake_labels is None
                        else G(self.noise, labels=self.fake_labels)).float()
                d_fake = _scores(D, fake, self.fake_labels).mean()
                d_train = _scores(D, self.train_real, self.train_labels).mean()
                d_valid = _scores(D, self.valid_real, self.valid_labels).mean()
        finally:
            G.train(g_training)
            D.train(d_training)
        return {"train_critic_loss": float(d_fake - d_train),
                "valid_critic_loss": float(d_fake - d_valid)}
