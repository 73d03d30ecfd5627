"""The run at a glance: the summary table's rows (setup, and where the metrics ended)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from textgan.report.data import JS_ORDERS, RunData


def _tail_mean(run: RunData, key: str, frac: float = 0.1) -> float | None:
    _, values = run.series(key)
    values = values[np.isfinite(values)]
    if not len(values):
        return None
    return float(values[-max(1, int(len(values) * frac)):].mean())


def _last(run: RunData, key: str) -> float | None:
    _, values = run.series(key)
    return float(values[-1]) if len(values) else None


def summary_rows(run: RunData) -> list[tuple[str, Any]]:
    """(row name, value) pairs; values are numbers, strings or None (not logged)."""
    c = run.config
    train, model = c.get("train", {}), c.get("model", {})
    rows: list[tuple[str, Any]] = [
        ("directory", str(run.dir)),
        ("mode / preset", f"{c.get('mode', '?')} / {c.get('preset', '?')}"),
        ("steps logged / configured", f"{run.last_step} / {train.get('steps', '?')}"),
        ("objective", train.get("objective")),
        ("batch · critic iters · lr", f"{train.get('batch_size')} · {train.get('critic_iters')} · "
                                      f"{train.get('lr')}"),
        ("model dim · blocks", f"{model.get('dim')} · {model.get('blocks')}"),
    ]
    if isinstance(c.get("mode"), str):
        from textgan.modes import get_mode

        rows += get_mode(c["mode"]).summary_rows(c)
    _, sec = run.series("sec_per_step")
    sec = sec[np.isfinite(sec) & (sec > 0)]
    rows += [
        ("critic loss (last 10%)", _tail_mean(run, "critic_loss")),
        ("Wasserstein estimate (last 10%)", _tail_mean(run, "wasserstein")),
        ("gradient norm (last 10%)", _tail_mean(run, "grad_norm")),
        ("steps / s (median)", float(1.0 / np.median(sec)) if len(sec) else None),
    ]
    if run.has("nll"):
        rows.append(("cross-entropy, nats/position (last 10%)", _tail_mean(run, "nll")))
    if run.has("valid_nll"):
        rows.append(("held-out cross-entropy, nats/position (last)", _last(run, "valid_nll")))
    for n in JS_ORDERS:
        if run.has(f"js{n}"):
            floor = _last(run, f"js{n}_floor")
            value = _last(run, f"js{n}")
            rows.append((f"JS-{n} last (real-vs-real floor)",
                         f"{value:.4g}" + (f" ({floor:.4g})" if floor is not None else "")
                         if value is not None else None))
    if run.sweep is not None:
        rows.append(("temperature sweep: forward / reverse bits/char",
                     " · ".join(f"T={p.temperature:g}: {p.forward_bpc:.3f} / {p.reverse_bpc:.3f}"
                                for p in run.sweep.points)))
    return rows


def format_value(value: Any) -> str:
    """A table cell: 4 significant digits for floats, "–" for a value not logged."""
    if value is None:
        return "–"
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:.4g}"
    return str(value)


def summary_table(runs: Sequence[RunData]) -> list[tuple[str, list[str]]]:
    """(row name, one formatted cell per run): every row any run has, in first-seen order."""
    per_run = [dict(summary_rows(r)) for r in runs]
    names = list(dict.fromkeys(name for rows in per_run for name in rows))
    return [(name, [format_value(rows.get(name)) for rows in per_run]) for name in names]
