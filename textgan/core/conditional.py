r"""Class-conditional training, modality-free: labels flow data → generator → critic.

A run is conditional when ``TrainConfig.conditional`` is ``"ac"`` or ``"projection"`` and its data
has labels (a :class:`LabelledBatchSource`, ``num_classes > 0``). The mode builds the conditional
models; the contract the trainer relies on is:

- the generator takes the labels as a keyword, ``G(z, labels=y)`` (``labels=None``: the labels
  :func:`cycled_labels` gives, so code that samples ``G(z)`` gets every class in turn);
- the critic takes them as the second argument, ``D(x, y)``, and returns the scores $[B]$
  (projection) or the pair (scores $[B]$, class logits $[B, K]$) (AC). :class:`ConditionalCriticHead`
  is that last layer, on any modality's features $\phi(x)$.

The two critic methods:

- ``"ac"``, the paper's supervised CIFAR-10 model (gan_cifar_resnet.py, after AC-GAN, Odena et al.
  2017): a classifier head $C$ on the critic's features. The critic step generates its fakes with
  the real batch's labels $y$ and adds the cross-entropy of the *real* batch; the generator step
  draws labels $y' \sim U\{0..K-1\}$ and adds the cross-entropy of its fakes:

  $$L_D = L_D^{\text{WGAN-GP}} + s_D\,\mathrm{CE}(C(x), y), \qquad
    L_G = -\mathbb{E}[D(G(z, y'))] + s_G\,\mathrm{CE}(C(G(z, y')), y')$$

  with the paper's $s_D$ = ACGAN_SCALE = 1 and $s_G$ = ACGAN_SCALE_G = 0.1. The penalty is on the
  interpolates' scores only, as the paper's code takes it.
- ``"projection"`` (Miyato & Koyama 2018): the label enters the score itself,
  $D(x, y) = \psi(\phi(x)) + \langle E_y, \phi(x) \rangle$, and the losses are the objective's own.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol, runtime_checkable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

CONDITIONAL_METHODS = ("ac", "projection")
Method = Literal["ac", "projection"]


@runtime_checkable
class LabelledBatchSource(Protocol):
    """Real data with a class label per example (its position/RNG is checkpointed as usual)."""

    num_classes: int

    def next_batch(self, batch_size: int, device: torch.device) -> Tensor: ...
    def next_labelled_batch(self, batch_size: int,
                            device: torch.device) -> tuple[Tensor, Tensor]: ...
    def state_dict(self) -> dict[str, Any]: ...
    def load_state_dict(self, state: dict[str, Any]) -> None: ...


def num_classes_of(data: Any) -> int:
    """How many classes ``data``'s labels have (0: the data is not labelled)."""
    if isinstance(data, LabelledBatchSource):
        return int(data.num_classes)
    return 0


def cycled_labels(n: int, num_classes: int, device: torch.device | str) -> Tensor:
    """Labels ``0, 1, ..., K-1, 0, 1, ...`` for ``n`` samples: every class equally often, with no
    random draw (so sampling ``G(z)`` from a conditional generator leaves the RNG alone)."""
    return torch.arange(n, device=device) % num_classes


class ConditionalCriticHead(nn.Module):
    r"""The critic's last layer for conditional runs, on features $\phi(x)$ $[B, F]$.

    AC: returns $(\psi(\phi), C(\phi))$ — the score and $K$ class logits, both linear in $\phi$.
    Projection: returns $\psi(\phi) + \langle E_y, \phi \rangle$, $E$ a learnt $[K, F]$ embedding.
    """

    def __init__(self, features: int, num_classes: int, method: Method) -> None:
        super().__init__()
        if method not in CONDITIONAL_METHODS:
            raise ValueError(f"unknown conditional method {method!r}")
        self.method = method
        self.output = nn.Linear(features, 1)
        if method == "ac":
            self.classes = nn.Linear(features, num_classes)
        else:
            self.embed = nn.Embedding(num_classes, features)

    def forward(self, phi: Tensor, labels: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        scores = self.output(phi).squeeze(-1)
        if self.method == "ac":
            return scores, self.classes(phi)
        return scores + (self.embed(labels) * phi).sum(-1)


class LabelledCritic:
    """A conditional critic bound to one batch's labels, called as the objectives call a critic:
    ``critic(x) → scores``.

    The objectives score the batch in parts or concatenated (real, fake and interpolates share
    the labels within a critic step, as in the paper's code), so a call on $mB$ rows repeats the
    labels $m$ times. Every objective scores the real batch first (alone, or as the first $B$ rows
    of a concatenation), so the AC logits of the real batch are the first $B$ rows of the first
    call's logits: :attr:`first_logits`. The generator step makes one call, on the fakes.
    """

    def __init__(self, critic: nn.Module, labels: Tensor) -> None:
        self.critic, self.labels = critic, labels
        self.first_logits: Tensor | None = None

    def __call__(self, x: Tensor) -> Tensor:
        n, b = x.shape[0], self.labels.shape[0]
        if n % b:
            raise ValueError(f"a critic call on {n} rows with {b} labels")
        out = self.critic(x, self.labels.repeat(n // b))
        if isinstance(out, tuple):
            scores, logits = out
            if self.first_logits is None:
                self.first_logits = logits[:b]
            return scores
        return out


def classification_loss(logits: Tensor | None, labels: Tensor, what: str) -> Tensor:
    r"""$\mathrm{CE}(C(x), y)$, the AC head's cross-entropy (mean over the batch), in fp32."""
    if logits is None:
        raise ValueError(f"the AC loss needs class logits from the critic's {what} call: its "
                         "critic must return (scores, logits)")
    return F.cross_entropy(logits.float(), labels)


def accuracy(logits: Tensor, labels: Tensor) -> Tensor:
    """Share of rows whose arg-max logit is the label (a detached tensor: no host sync)."""
    return (logits.detach().argmax(-1) == labels).float().mean()
