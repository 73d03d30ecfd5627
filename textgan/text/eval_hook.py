"""In-training evaluation for text runs: JS-1..4 of 640 samples against the held-out text."""

from __future__ import annotations

from torch import nn

from textgan.core.loop import Hook
from textgan.text.prepare import PreparedCorpus


def eval_hook(generator: nn.Module, corpus: PreparedCorpus, every: int,
              n_samples: int = 640) -> Hook | None:
    """Placeholder until the evaluation suite lands: no hook (evaluation off)."""
    return None
