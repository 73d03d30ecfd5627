"""Quality-diversity sweep over sampling temperature (Caccia et al., "Language GANs Falling Short").

For each temperature ``t``: draw ``n`` samples, then
    quality   = forward cross-entropy: bits/char of the samples under a KN LM fit on real text
    diversity = reverse cross-entropy: bits/char of held-out real text under a KN LM fit on the
                samples
Lower is better for both; a model is judged by the whole curve, not by one temperature. The
real-vs-real point (real lines in place of samples) is reported beside the curve.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from textgan.errors import TextganError
from textgan.eval.kn import KneserNeyLM
from textgan.eval.reference import ReferenceSet
from textgan.plots import new_figure, save_png


@dataclass
class SweepPoint:
    temperature: float
    forward_bpc: float
    reverse_bpc: float
    n_samples: int


@dataclass
class SweepResult:
    points: list[SweepPoint]
    real_forward_bpc: float
    real_reverse_bpc: float
    n_real: int
    lm_order: int
    extra: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-able form."""
        return asdict(self)


def quality_diversity_sweep(sample_fn: Callable[[int, float], list[str]],
                            temperatures: Sequence[float], reference: ReferenceSet,
                            n_samples: int = 2000, lm_order: int = 6,
                            seed: int = 0) -> SweepResult:
    """Forward and reverse LM cross-entropy per temperature, with ``sample_fn(n, temperature)``
    returning ``n`` sample strings."""
    if not temperatures:
        raise TextganError("no temperatures to sweep; pass e.g. 0.5 0.75 1.0")
    if n_samples < 1:
        raise TextganError(f"n_samples must be >= 1, got {n_samples}")
    V = reference.vocab_size + 1
    fwd = reference.forward_lm(lm_order)
    held = reference.heldout.astype(np.int64)
    points = []
    for t in temperatures:
        samples = sample_fn(n_samples, float(t))
        if len(samples) == 0:
            raise TextganError(f"sample_fn returned no samples at temperature {t}")
        ids = reference.lm_ids(reference.encode(samples)[0])
        rev = KneserNeyLM.fit(ids, V, lm_order)
        points.append(SweepPoint(float(t), fwd.cross_entropy(ids), rev.cross_entropy(held),
                                 len(samples)))
    real = reference.real_subset(n_samples, seed)
    return SweepResult(points, fwd.cross_entropy(real),
                       KneserNeyLM.fit(real, V, lm_order).cross_entropy(held), real.shape[0],
                       lm_order)


def plot_quality_diversity(result: SweepResult, path: str | os.PathLike,
                           title: str = "quality-diversity (temperature sweep)") -> Path:
    """Write the curve (x: forward bits/char, y: reverse bits/char) as a PNG at ``path``."""
    fig = new_figure(figsize=(6, 4.5), dpi=120)
    ax = fig.add_subplot()
    xs = [p.forward_bpc for p in result.points]
    ys = [p.reverse_bpc for p in result.points]
    ax.plot(xs, ys, "o-", color="tab:blue", label="samples")
    for p in result.points:
        ax.annotate(f"T={p.temperature:g}", (p.forward_bpc, p.reverse_bpc),
                    textcoords="offset points", xytext=(5, 5), fontsize=8)
    ax.plot([result.real_forward_bpc], [result.real_reverse_bpc], "*", color="tab:red",
            markersize=12, label=f"real text (n={result.n_real})")
    ax.set_xlabel("forward cross-entropy, bits/char (quality; lower is better)")
    ax.set_ylabel("reverse cross-entropy, bits/char (diversity; lower is better)")
    ax.set_title(f"{title}, KN-{result.lm_order}")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return save_png(fig, path)
