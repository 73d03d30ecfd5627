r"""An exponential moving average of the generator's weights (Yazıcı et al. 2019, "The Unusual
Effectiveness of Averaging in GAN Training"; StyleGAN, BigGAN).

After generator step $t$ (counted from 1), with decay $\beta$ and warm-up,

$$\beta_t = \min\Big(\beta, \frac{1 + t}{10 + t}\Big), \qquad
  \bar\theta_t = \beta_t\,\bar\theta_{t-1} + (1 - \beta_t)\,\theta_t,$$

starting from $\bar\theta_0 = \theta_0$. The warm-up keeps early averages from being dominated by
the random initialisation. Buffers (batch-norm statistics) are copied, not averaged. The shadow
never receives gradients; it is what samples and evaluations use by default.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn


def ema_decay_at(step: int, decay: float) -> float:
    """$\\beta_t = \\min(\\beta, (1 + t) / (10 + t))$."""
    return min(decay, (1.0 + step) / (10.0 + step))


class GeneratorEMA:
    """A shadow copy of ``generator`` updated by :meth:`update` after every generator step.

    The update is one fused ``torch._foreach_lerp_`` over all parameters (and one
    ``_foreach_copy_`` over buffers): no Python loop per tensor, no host synchronisation
    (:math:`\\beta_t` is computed from the step count, a Python int).
    """

    def __init__(self, generator: nn.Module, decay: float) -> None:
        self.decay = decay
        self.module = copy.deepcopy(generator).requires_grad_(False)
        self._source = generator
        self._shadow_params = list(self.module.parameters())
        self._params = list(generator.parameters())
        self._shadow_buffers = list(self.module.buffers())
        self._buffers = list(generator.buffers())

    @torch.no_grad()
    def update(self, step: int) -> None:
        r"""$\bar\theta \leftarrow \bar\theta + (1 - \beta_t)(\theta - \bar\theta)$ for step $t$."""
        weight = 1.0 - ema_decay_at(step, self.decay)
        torch._foreach_lerp_(self._shadow_params, self._params, weight)
        if self._buffers:
            torch._foreach_copy_(self._shadow_buffers, self._buffers)

    def state_dict(self) -> dict[str, Any]:
        return self.module.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.module.load_state_dict(state)


def sampling_state(state: dict[str, Any], raw: bool = False) -> dict[str, Any]:
    """A checkpoint whose ``generator`` is the moving average when it has one (what samples,
    evaluations and exports use by default); ``raw`` keeps the trained generator."""
    if raw or "generator_ema" not in state:
        return state
    return {**state, "generator": state["generator_ema"]}
