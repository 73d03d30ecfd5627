"""Quality-diversity sweep over sampling temperature (Caccia et al., "Language GANs Falling Short").

For each temperature ``t``: draw ``n`` samples, then
    quality   = forward cross-entropy: bits/char of the samples under a KN LM fit on real text
    diversity = reverse cross-entropy: bits/char of held-out real text under a KN LM fit on the
                samples
Lower is better for both; a model is judged by the whole curve, not by one temperature. The
real-vs-real point (real lines in place of samples) is reported beside the curve.

``textgan eval --run R --temperatures ...`` saves its result as ``R/eval/sweep.json``
(:func:`save_sweep`); ``textgan report`` draws the curve of every run that has one in one figure
(:func:`plot_quality_diversity` with several labelled results), e.g. a GAN against the MLE
baseline.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

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

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SweepResult:
        """The inverse of :meth:`to_dict`."""
        return cls(points=[SweepPoint(**p) for p in d["points"]],
                   real_forward_bpc=float(d["real_forward_bpc"]),
                   real_reverse_bpc=float(d["real_reverse_bpc"]), n_real=int(d["n_real"]),
                   lm_order=int(d["lm_order"]), extra=dict(d.get("extra", {})))


def save_sweep(result: SweepResult, path: str | os.PathLike, **about: Any) -> Path:
    """Write ``result`` as JSON at ``path`` (atomically), with ``about`` (e.g. the checkpoint it
    was measured on) beside it."""
    from textgan.io.atomic import atomic_write_text

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps({"sweep": result.to_dict(), **about}, indent=1) + "\n")
    return path


def load_sweep(path: str | os.PathLike) -> SweepResult:
    """A sweep written by :func:`save_sweep`; a one-line error if it is not one."""
    try:
        return SweepResult.from_dict(json.loads(Path(path).read_text(encoding="utf-8"))["sweep"])
    except FileNotFoundError:
        raise TextganError(f"{path} does not exist") from None
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise TextganError(f"{path} is not a saved temperature sweep ({type(err).__name__})") \
            from None


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


def plot_quality_diversity(result: SweepResult | Sequence[tuple[str, SweepResult]],
                           path: str | os.PathLike,
                           title: str = "quality-diversity (temperature sweep)",
                           colors: Sequence[str] | None = None) -> Path:
    """Write the curve (x: forward bits/char, y: reverse bits/char) as a PNG at ``path``; given
    several ``(label, result)`` pairs, one curve each in one figure (``colors``, default
    matplotlib's cycle), each with its real-text point (drawn once when they coincide)."""
    from textgan.plots import cycle_color

    curves = [("samples", result)] if isinstance(result, SweepResult) else list(result)
    if not curves:
        raise TextganError("no temperature sweep to plot")
    colors = list(colors) if colors is not None else [cycle_color(i) for i in range(len(curves))]
    fig = new_figure(figsize=(6.5, 4.8), dpi=120)
    ax = fig.add_subplot()
    for color, (label, curve) in zip(colors, curves, strict=True):
        xs = [p.forward_bpc for p in curve.points]
        ys = [p.reverse_bpc for p in curve.points]
        ax.plot(xs, ys, "o-", color=color, label=label)
        for p in curve.points:
            ax.annotate(f"T={p.temperature:g}", (p.forward_bpc, p.reverse_bpc),
                        textcoords="offset points", xytext=(5, 5), fontsize=8, color=color)
    # Real text after the curves (the legend lists the models first); once per distinct point.
    real_drawn: set[tuple[float, float]] = set()
    for color, (label, curve) in zip(colors, curves, strict=True):
        real = (round(curve.real_forward_bpc, 6), round(curve.real_reverse_bpc, 6))
        if real in real_drawn:
            continue
        real_drawn.add(real)
        first = len(real_drawn) == 1
        name = f"real text (n={curve.n_real})" if first else \
            f"real text (n={curve.n_real}), {label}'s reference"
        ax.plot([curve.real_forward_bpc], [curve.real_reverse_bpc], "*", markersize=12,
                color=("tab:red" if len(curves) == 1 else "black") if first else color,
                label=name)
    ax.set_xlabel("forward cross-entropy, bits/char (quality; lower is better)")
    ax.set_ylabel("reverse cross-entropy, bits/char (diversity; lower is better)")
    orders = sorted({c.lm_order for _, c in curves})
    ax.set_title(f"{title}, KN-{'/'.join(map(str, orders))}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_png(fig, path)
