"""Generator EMA: the moving average against a hand computation."""

from __future__ import annotations

import torch
from torch import nn

from textgan.core.ema import GeneratorEMA, ema_decay_at


def test_decay_warms_up_then_holds() -> None:
    assert ema_decay_at(0, 0.999) == 0.1
    assert ema_decay_at(1, 0.999) == 2 / 11
    assert ema_decay_at(10_000, 0.999) == 0.999
    assert ema_decay_at(5, 0.5) == 0.4 and ema_decay_at(50, 0.5) == 0.5


def test_ema_matches_a_hand_computation() -> None:
    torch.manual_seed(0)
    g = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    ema = GeneratorEMA(g, decay=0.9)
    expected = {k: v.clone().double() for k, v in g.state_dict().items()}
    for step in range(1, 6):
        with torch.no_grad():
            for p in g.parameters():
                p.add_(torch.randn_like(p))
            g[1].running_mean.add_(1.0)
        ema.update(step)
        beta = min(0.9, (1 + step) / (10 + step))
        for name, value in g.state_dict().items():
            if name.startswith("1.running") or name.endswith("num_batches_tracked"):
                expected[name] = value.clone().double()  # buffers are copied
            else:
                expected[name] = beta * expected[name] + (1 - beta) * value.double()
    for name, value in ema.state_dict().items():
        torch.testing.assert_close(value.double(), expected[name], rtol=1e-6, atol=1e-6)
    # the shadow is a separate module that takes no gradients
    assert all(not p.requires_grad for p in ema.module.parameters())
    assert ema.module[0].weight.data_ptr() != g[0].weight.data_ptr()
