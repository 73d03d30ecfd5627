"""The report's PNG plots, drawn through :mod:`textgan.plots`.

Each plot is drawn only when its keys are in the log: critic loss, Wasserstein estimate
``E[D(x)] - E[D(G(z))]``, gradient penalty, critic gradient norm on the interpolates (target 1),
generator loss, JS-1..4 with the real-vs-real floor (``js{n}`` and ``js{n}_floor``), steps per
second (``1 / sec_per_step``), the negative critic loss beside the sample score and on fixed
training vs held-out batches (``train_critic_loss``, ``valid_critic_loss``: Figure 5 of the
paper), and one plot for every other numeric metric. Noisy curves are drawn
raw (faint) with a moving average on top; several runs share the axes, one colour each. Runs with
a saved temperature sweep (``eval/sweep.json``) get one quality-diversity figure, a curve each.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from textgan.eval.sweep import plot_quality_diversity
from textgan.plots import cycle_color, new_figure, save_png
from textgan.report.data import JS_ORDERS, RunData

MAX_POINTS = 4000  # per drawn series; longer logs are averaged into this many buckets

# (file stem, title, metric key, y label); drawn in this order, before the other metrics.
CURVES: list[tuple[str, str, str, str]] = [
    ("critic_loss", "Critic loss", "critic_loss", "L_D"),
    ("wasserstein", "Wasserstein estimate  E[D(x)] − E[D(G(z))]", "wasserstein", "estimate"),
    ("penalty", "Gradient penalty  E[(‖∇D(x̂)‖ − 1)²]", "penalty", "penalty"),
    ("grad_norm", "Critic gradient norm on interpolates ‖∇D(x̂)‖ (target 1)", "grad_norm", "norm"),
    ("generator_loss", "Generator loss", "generator_loss", "L_G"),
    ("nll", "Training cross-entropy (maximum likelihood)", "nll", "nats / position"),
    ("valid_nll", "Held-out cross-entropy (maximum likelihood)", "valid_nll", "nats / position"),
]
# The sample scores drawn beside the negative critic loss (lower is better for each).
SCORE_KEYS = ("swd", "js4", "fid")
SPECIAL_KEYS = {"step", "sec_per_step", "train_critic_loss", "valid_critic_loss"} \
    | {c[2] for c in CURVES} \
    | {f"js{n}" for n in JS_ORDERS} | {f"js{n}_floor" for n in JS_ORDERS}


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    r"""Trailing mean over the last ``window`` finite values: $\bar v_t = \frac{1}{|W_t|}
    \sum_{s \in W_t} v_s$, $W_t$ = finite values among $v_{t-w+1..t}$ (NaN where none)."""
    if window <= 1 or len(values) == 0:
        return values.copy()
    finite = np.isfinite(values)
    csum = np.concatenate([[0.0], np.cumsum(np.where(finite, values, 0.0))])
    ccount = np.concatenate([[0], np.cumsum(finite)])
    idx = np.arange(1, len(values) + 1)
    lo = np.maximum(idx - window, 0)
    count = ccount[idx] - ccount[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, (csum[idx] - csum[lo]) / np.maximum(count, 1), np.nan)


def _thin(steps: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """At most MAX_POINTS points: bucket means (keeps the curve's shape, unlike striding)."""
    if len(steps) <= MAX_POINTS:
        return steps, values
    edges = np.linspace(0, len(steps), MAX_POINTS + 1).astype(int)
    with np.errstate(invalid="ignore"):
        s = np.add.reduceat(steps, edges[:-1]) / np.diff(edges)
        v = np.array([np.nanmean(values[a:b]) if np.isfinite(values[a:b]).any() else np.nan
                      for a, b in zip(edges[:-1], edges[1:], strict=True)])
    return s, v


def _window(n: int) -> int:
    return max(1, n // 50)


def _draw_curve(ax: Any, steps: np.ndarray, values: np.ndarray, color: str, label: str,
                smooth: bool = True) -> None:
    if smooth and len(values) > 20:
        ax.plot(*_thin(steps, values), color=color, alpha=0.25, linewidth=0.8)
        ax.plot(*_thin(steps, moving_average(values, _window(len(values)))), color=color,
                linewidth=1.6, label=label)
    else:
        ax.plot(steps, values, color=color, linewidth=1.4, label=label,
                marker="o" if len(values) <= 20 else None, markersize=3)


def _log_scale_fits(arrays: Sequence[np.ndarray]) -> bool:
    values = np.concatenate([a[np.isfinite(a)] for a in arrays]) if arrays else np.zeros(0)
    return bool(len(values)) and values.min() > 0 and values.max() / values.min() > 100


def _curve_figure(runs: Sequence[RunData], key: str, title: str, ylabel: str, path: Path,
                  transform: Callable[[np.ndarray], np.ndarray] | None = None,
                  hline: float | None = None) -> Path | None:
    fig = new_figure(figsize=(7.5, 3.8))
    ax = fig.add_subplot()
    drawn = []
    for i, run in enumerate(runs):
        steps, values = run.series(key)
        if not len(steps):
            continue
        if transform is not None:
            values = transform(values)
        _draw_curve(ax, steps, values, cycle_color(i), run.label)
        drawn.append(values)
    if not drawn:
        return None
    if hline is not None:
        ax.axhline(hline, color="0.4", linestyle=":", linewidth=1)
    if _log_scale_fits(drawn):
        ax.set_yscale("log")
    ax.set_title(title, fontsize=11)
    ax.set_xlabel("generator step")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if len(runs) > 1:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return save_png(fig, path, dpi=100)


def _js_figure(runs: Sequence[RunData], path: Path) -> Path | None:
    """JS-1..4 in a 2×2 grid; each run solid, its real-vs-real floor dashed in the same colour."""
    orders = [n for n in JS_ORDERS if any(r.has(f"js{n}") for r in runs)]
    if not orders:
        return None
    fig = new_figure(figsize=(9, 6.4))
    axes = fig.subplots(2, 2).ravel()
    for ax, n in zip(axes, JS_ORDERS, strict=True):
        if n not in orders:
            ax.set_axis_off()
            continue
        for i, run in enumerate(runs):
            color = cycle_color(i)
            steps, values = run.series(f"js{n}")
            if len(steps):
                ax.plot(steps, values, color=color, linewidth=1.5, label=run.label,
                        marker="o" if len(steps) <= 20 else None, markersize=3)
            steps, floor = run.series(f"js{n}_floor")
            if len(steps):
                ax.plot(steps, floor, color=color, linestyle="--", linewidth=1,
                        label=f"{run.label}: real vs real" if len(runs) > 1 else "real vs real")
        ax.set_title(f"JS-{n} (bits)", fontsize=10)
        ax.set_xlabel("generator step", fontsize=8)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("Jensen-Shannon divergence of character n-grams, samples vs. real text "
                 "(dashed: real vs. real floor)", fontsize=10)
    fig.tight_layout()
    return save_png(fig, path, dpi=100)


def _safe_stem(key: str) -> str:
    return "metric_" + re.sub(r"[^A-Za-z0-9_.-]+", "_", key)


def other_metric_keys(runs: Sequence[RunData]) -> list[str]:
    """Numeric metrics without a plot of their own above, in first-logged order."""
    keys: dict[str, None] = {}
    for run in runs:
        for r in run.metrics:
            for k, v in r.items():
                if k not in SPECIAL_KEYS and (v is None or isinstance(v, int | float)) \
                        and not isinstance(v, bool):
                    keys.setdefault(k)
    return list(keys)


def _per_second(sec_per_step: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.where(sec_per_step > 0, 1.0 / sec_per_step, np.nan)


def _sweep_figure(runs: Sequence[RunData], path: Path) -> Path | None:
    """The quality-diversity curves of the runs that have a sweep, each in its run's colour."""
    swept = [(i, r.label, r.sweep) for i, r in enumerate(runs) if r.sweep is not None]
    if not swept:
        return None
    return plot_quality_diversity([(label, sweep) for _, label, sweep in swept], path,
                                  colors=[cycle_color(i) for i, _, _ in swept])


def critic_loss_figure(runs: Sequence[RunData], path: Path) -> Path | None:
    """The paper's Figure 5: (a) the negative critic loss $-L_D$ over training with the sample
    score (SWD, JS-4 or FID: the first logged) on a second axis; (b) the negative critic loss on
    a fixed training batch (solid) and a fixed held-out batch (dashed), without the penalty — a
    widening gap is the critic fitting its training images."""
    has_b = any(r.has("valid_critic_loss") for r in runs)
    if not any(r.has("critic_loss") for r in runs) and not has_b:
        return None
    fig = new_figure(figsize=(11, 3.8) if has_b else (6.5, 3.8))
    axes = fig.subplots(1, 2 if has_b else 1)
    ax_a = axes[0] if has_b else axes
    score_ax = None
    for i, run in enumerate(runs):
        color = cycle_color(i)
        steps, values = run.series("critic_loss")
        if len(steps):
            _draw_curve(ax_a, steps, -values, color, f"{run.label}: −critic loss")
        key = next((k for k in SCORE_KEYS if run.has(k)), None)
        if key is not None:
            score_ax = score_ax or ax_a.twinx()
            steps, values = run.series(key)
            score_ax.plot(steps, values, color=color, linestyle=":", marker="s", markersize=3,
                          linewidth=1.2, label=f"{run.label}: {key}")
            score_ax.set_ylabel("sample score (dotted; lower is better)")
    ax_a.set_title("(a) negative critic loss and sample score", fontsize=10)
    ax_a.set_xlabel("generator step")
    ax_a.set_ylabel("−L_D")
    ax_a.grid(alpha=0.3)
    handles = ax_a.get_legend_handles_labels()
    if score_ax is not None:
        more = score_ax.get_legend_handles_labels()
        handles = (handles[0] + more[0], handles[1] + more[1])
    ax_a.legend(*handles, fontsize=7)
    if has_b:
        ax_b = axes[1]
        for i, run in enumerate(runs):
            color = cycle_color(i)
            for key, style, what in (("train_critic_loss", "-", "training"),
                                     ("valid_critic_loss", "--", "held-out")):
                steps, values = run.series(key)
                if len(steps):
                    ax_b.plot(steps, -values, color=color, linestyle=style, linewidth=1.4,
                              marker="o" if len(steps) <= 20 else None, markersize=3,
                              label=f"{run.label}: {what}")
        ax_b.set_title("(b) negative critic loss, training vs held-out images", fontsize=10)
        ax_b.set_xlabel("generator step")
        ax_b.set_ylabel("E[D(x)] − E[D(G(z))]")
        ax_b.grid(alpha=0.3)
        ax_b.legend(fontsize=7)
    fig.tight_layout()
    return save_png(fig, path, dpi=100)


def render_plots(runs: Sequence[RunData], out: Path) -> list[tuple[str, Path]]:
    """Every plot the logs allow, written into ``out``, as (caption, PNG path)."""
    plots: list[tuple[str, Path]] = []
    for stem, title, key, ylabel in CURVES:
        hline = 1.0 if key == "grad_norm" else None
        if (p := _curve_figure(runs, key, title, ylabel, out / f"{stem}.png", hline=hline)):
            plots.append((title, p))
    if any(r.has("valid_critic_loss") for r in runs) and (
            p := critic_loss_figure(runs, out / "critic_loss_curves.png")):
        plots.append(("Negative critic loss with the sample score, and on fixed training vs "
                      "held-out batches (overfitting shows as a gap)", p))
    if (p := _js_figure(runs, out / "js.png")):
        plots.append(("JS-1..4 with the real-vs-real floor", p))
    if (p := _sweep_figure(runs, out / "quality_diversity.png")):
        plots.append(("Quality vs diversity over sampling temperature (textgan eval --run R "
                      "--temperatures ...): forward vs reverse LM cross-entropy", p))
    if (p := _curve_figure(runs, "sec_per_step", "Training speed", "steps / s", out / "speed.png",
                           transform=_per_second)):
        plots.append(("Training speed (steps / s)", p))
    for key in other_metric_keys(runs):
        if (p := _curve_figure(runs, key, key, key, out / f"{_safe_stem(key)}.png")):
            plots.append((key, p))
    return plots
