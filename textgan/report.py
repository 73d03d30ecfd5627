"""Run reports: PNG plots of a run's metrics and one HTML page with them and its samples.

``write_report([run])`` renders one run; ``write_report([run_a, run_b, ...])`` overlays several
(one colour per run, same axes). It reads only what a run directory holds — ``config.toml``,
``metrics.jsonl`` and ``samples/step_*.txt`` — so it works on finished, running or copied runs.

Plots (each only when its keys are in the log): critic loss, Wasserstein estimate
``E[D(x)] - E[D(G(z))]``, gradient penalty, critic gradient norm on the interpolates (target 1),
generator loss, JS-1..4 with the real-vs-real floor (``js{n}`` and ``js{n}_floor``), steps per
second (``1 / sec_per_step``), and one plot for every other numeric metric. Noisy curves are drawn
raw (faint) with a moving average on top.

The HTML page is self-contained (images embedded as data URIs, each linking to its PNG file next
to it). matplotlib is optional (``pip install 'textgan[plots]'``); it is imported only here and
drawn with the Agg canvas, without touching pyplot's global state.
"""

from __future__ import annotations

import base64
import html
import io
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from textgan.core.run import Run
from textgan.errors import TextganError
from textgan.io.atomic import atomic_write_bytes

INSTALL_HINT = "pip install 'textgan[plots]'"
JS_ORDERS = (1, 2, 3, 4)
MAX_POINTS = 4000  # per drawn series; longer logs are averaged into this many buckets
SAMPLE_FILE = re.compile(r"step_(\d+)\.txt$")

# (file stem, title, metric key, y label); drawn in this order, before the other metrics.
CURVES: list[tuple[str, str, str, str]] = [
    ("critic_loss", "Critic loss", "critic_loss", "L_D"),
    ("wasserstein", "Wasserstein estimate  E[D(x)] − E[D(G(z))]", "wasserstein", "estimate"),
    ("penalty", "Gradient penalty  E[(‖∇D(x̂)‖ − 1)²]", "penalty", "penalty"),
    ("grad_norm", "Critic gradient norm on interpolates ‖∇D(x̂)‖ (target 1)", "grad_norm", "norm"),
    ("generator_loss", "Generator loss", "generator_loss", "L_G"),
]
SPECIAL_KEYS = {"step", "sec_per_step"} | {c[2] for c in CURVES} \
    | {f"js{n}" for n in JS_ORDERS} | {f"js{n}_floor" for n in JS_ORDERS}


@dataclass
class RunData:
    """What the report needs from one run directory."""

    dir: Path
    label: str
    config: dict[str, Any]
    metrics: list[dict[str, Any]]
    samples: list[tuple[int, Path]]  # (step, file), by step

    def series(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """Steps and values of ``key`` over the records that have it (null → NaN)."""
        steps, values = [], []
        for r in self.metrics:
            if key in r and isinstance(r.get("step"), int | float):
                v = r[key]
                if v is None or isinstance(v, int | float) and not isinstance(v, bool):
                    steps.append(r["step"])
                    values.append(math.nan if v is None else float(v))
        return np.asarray(steps, dtype=np.float64), np.asarray(values, dtype=np.float64)

    def has(self, key: str) -> bool:
        return any(key in r for r in self.metrics)

    @property
    def last_step(self) -> int:
        steps = [int(r["step"]) for r in self.metrics if isinstance(r.get("step"), int | float)]
        steps += [s for s, _ in self.samples]
        return max(steps, default=0)


@dataclass
class Report:
    """Where the report went."""

    html: Path
    images: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def load_run(directory: str | Path, label: str | None = None) -> RunData:
    run = Run.open(directory)
    samples = []
    if run.samples_dir.is_dir():
        for path in run.samples_dir.iterdir():
            if m := SAMPLE_FILE.search(path.name):
                samples.append((int(m.group(1)), path))
    return RunData(run.dir, label or run.dir.name, run.read_config(), run.read_metrics(),
                   sorted(samples))


def _labels(dirs: Sequence[Path]) -> list[str]:
    """Run names, made unique with their parent (or a number) when they clash."""
    names = [d.resolve().name for d in dirs]
    if len(set(names)) == len(names):
        return names
    names = [f"{d.resolve().parent.name}/{d.resolve().name}" for d in dirs]
    if len(set(names)) == len(names):
        return names
    return [f"{i + 1}: {n}" for i, n in enumerate(names)]


def default_out(dirs: Sequence[Path]) -> Path:
    """``RUN/report`` for one run; ``RUN_A/report-vs-RUN_B[+RUN_C...]`` for an overlay."""
    first = Path(dirs[0])
    if len(dirs) == 1:
        return first / "report"
    return first / ("report-vs-" + "+".join(Path(d).resolve().name for d in dirs[1:]))


# -- plotting -----------------------------------------------------------------------------------

def _matplotlib() -> Any:
    """The Figure class, or a one-line error naming the extra to install."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
        from matplotlib.figure import Figure
    except ImportError:
        raise TextganError(f"textgan report needs matplotlib: {INSTALL_HINT}") from None
    return Figure


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


def _save(fig: Any, path: Path) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    atomic_write_bytes(path, lambda f: f.write(buf.getvalue()))
    return path


def _colors(n: int) -> list[str]:
    return [f"C{i % 10}" for i in range(n)]


def _curve_figure(runs: Sequence[RunData], key: str, title: str, ylabel: str, path: Path,
                  transform: Any = None, hline: float | None = None) -> Path | None:
    Figure = _matplotlib()
    fig = Figure(figsize=(7.5, 3.8))
    ax = fig.add_subplot()
    drawn = []
    for run, color in zip(runs, _colors(len(runs)), strict=True):
        steps, values = run.series(key)
        if not len(steps):
            continue
        if transform is not None:
            values = transform(values)
        _draw_curve(ax, steps, values, color, run.label)
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
    return _save(fig, path)


def _js_figure(runs: Sequence[RunData], path: Path) -> Path | None:
    """JS-1..4 in a 2×2 grid; each run solid, its real-vs-real floor dashed in the same colour."""
    orders = [n for n in JS_ORDERS if any(r.has(f"js{n}") for r in runs)]
    if not orders:
        return None
    Figure = _matplotlib()
    fig = Figure(figsize=(9, 6.4))
    axes = fig.subplots(2, 2).ravel()
    for ax, n in zip(axes, JS_ORDERS, strict=True):
        if n not in orders:
            ax.set_axis_off()
            continue
        for run, color in zip(runs, _colors(len(runs)), strict=True):
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
    return _save(fig, path)


def _safe_stem(key: str) -> str:
    return "metric_" + re.sub(r"[^A-Za-z0-9_.-]+", "_", key)


def other_metric_keys(runs: Sequence[RunData]) -> list[str]:
    keys: dict[str, None] = {}
    for run in runs:
        for r in run.metrics:
            for k, v in r.items():
                if k not in SPECIAL_KEYS and (v is None or isinstance(v, int | float)) \
                        and not isinstance(v, bool):
                    keys.setdefault(k)
    return list(keys)


def render_plots(runs: Sequence[RunData], out: Path) -> list[tuple[str, Path]]:
    """Every plot the logs allow, as (title, PNG path)."""
    plots: list[tuple[str, Path]] = []
    for stem, title, key, ylabel in CURVES:
        hline = 1.0 if key == "grad_norm" else None
        if (p := _curve_figure(runs, key, title, ylabel, out / f"{stem}.png", hline=hline)):
            plots.append((title, p))
    if (p := _js_figure(runs, out / "js.png")):
        plots.append(("JS-1..4 with the real-vs-real floor", p))

    def per_second(v: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.where(v > 0, 1.0 / v, np.nan)

    if (p := _curve_figure(runs, "sec_per_step", "Training speed", "steps / s", out / "speed.png",
                           transform=per_second)):
        plots.append(("Training speed (steps / s)", p))
    for key in other_metric_keys(runs):
        if (p := _curve_figure(runs, key, key, key, out / f"{_safe_stem(key)}.png")):
            plots.append((key, p))
    return plots


# -- HTML ---------------------------------------------------------------------------------------

def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.4g}"
    return html.escape(str(value))


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
    """The run at a glance: setup and where its metrics ended."""
    c = run.config
    train, data, model = c.get("train", {}), c.get("data", {}), c.get("model", {})
    rows: list[tuple[str, Any]] = [
        ("directory", str(run.dir)),
        ("mode / preset", f"{c.get('mode', '?')} / {c.get('preset', '?')}"),
        ("steps logged / configured", f"{run.last_step} / {train.get('steps', '?')}"),
        ("objective", train.get("objective")),
        ("batch · critic iters · lr", f"{train.get('batch_size')} · {train.get('critic_iters')} · "
                                      f"{train.get('lr')}"),
        ("model dim · blocks", f"{model.get('dim')} · {model.get('blocks')}"),
    ]
    if c.get("mode", "text") == "text":
        tok = data.get("tokenizer", "char")
        if tok == "sentencepiece":
            shape = (f"{data.get('seq_len')} pieces · {data.get('vocab_size')} pieces "
                     f"({data.get('sp_model_type', 'unigram')})")
        else:
            shape = f"{data.get('seq_len')} characters · at most {data.get('max_vocab')} characters"
        rows += [("corpus", data.get("corpus") or data.get("corpus_path") or "synthetic"),
                 ("tokenizer · seq_len · vocabulary", f"{tok} · {shape}")]
    _, sec = run.series("sec_per_step")
    sec = sec[np.isfinite(sec) & (sec > 0)]
    rows += [
        ("critic loss (last 10%)", _tail_mean(run, "critic_loss")),
        ("Wasserstein estimate (last 10%)", _tail_mean(run, "wasserstein")),
        ("gradient norm (last 10%)", _tail_mean(run, "grad_norm")),
        ("steps / s (median)", float(1.0 / np.median(sec)) if len(sec) else None),
    ]
    for n in JS_ORDERS:
        if run.has(f"js{n}"):
            floor = _last(run, f"js{n}_floor")
            value = _last(run, f"js{n}")
            rows.append((f"JS-{n} last (real-vs-real floor)",
                         f"{value:.4g}" + (f" ({floor:.4g})" if floor is not None else "")
                         if value is not None else None))
    return rows


def pick_sample_points(steps: Sequence[int], k: int) -> list[int]:
    """Up to ``k`` of ``steps`` spread evenly over training, always the first and the last."""
    steps = sorted(steps)
    if len(steps) <= k:
        return steps
    idx = np.unique(np.round(np.linspace(0, len(steps) - 1, k)).astype(int))
    return [steps[i] for i in idx]


def _samples_html(run: RunData, points: int, lines_shown: int) -> str:
    if not run.samples:
        return "<p class=note>No samples written (sample_every = 0, or the run has not reached " \
               "its first sample step).</p>"
    by_step = dict(run.samples)
    parts = []
    for step in pick_sample_points(list(by_step), points):
        lines = by_step[step].read_text(encoding="utf-8", errors="replace").splitlines()
        shown = "\n".join(html.escape(line) for line in lines[:lines_shown])
        rest = lines[lines_shown:]
        more = (f"<details><summary>{len(rest)} more</summary><pre>"
                + "\n".join(html.escape(line) for line in rest) + "</pre></details>") if rest else ""
        parts.append(f"<h4>step {step:,}</h4><pre>{shown}</pre>{more}")
    return "\n".join(parts)


CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.5em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.92em; }
td, th { border: 1px solid #ddd; padding: 3px 10px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
.plots { display: flex; flex-wrap: wrap; gap: 12px; }
.plots figure { margin: 0; } .plots img { max-width: 100%; border: 1px solid #eee; }
pre { background: #f7f7f7; padding: 0.6em; overflow-x: auto; font-size: 0.9em; margin: 0.2em 0; }
.note { color: #666; } .swatch { display: inline-block; width: 0.9em; height: 0.9em; }
"""


def _color_hex(index: int) -> str:
    from matplotlib import colors

    return str(colors.to_hex(f"C{index % 10}"))


def render_html(runs: Sequence[RunData], plots: Sequence[tuple[str, Path]], out: Path, *,
                sample_points: int = 6, sample_lines: int = 8) -> str:
    title = "textgan report: " + " vs. ".join(r.label for r in runs)
    head = (f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}"
            f"</title><style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>"
            f"<p class=note>written {time.strftime('%Y-%m-%d %H:%M')}; each plot links to its "
            "PNG file next to this page.</p>")
    rows = [summary_rows(r) for r in runs]
    table = ["<table><tr><th></th>" + "".join(
        f"<th><span class=swatch style='background:{_color_hex(i)}'></span> {html.escape(r.label)}"
        "</th>" for i, r in enumerate(runs)) + "</tr>"]
    names = list(dict.fromkeys(name for rs in rows for name, _ in rs))
    for name in names:
        cells = [dict(rs).get(name) for rs in rows]
        table.append(f"<tr><th>{html.escape(name)}</th>" + "".join(
            f"<td>{_fmt(v)}</td>" for v in cells) + "</tr>")
    table.append("</table>")
    body = [head, "<h2>Summary</h2>", "\n".join(table), "<h2>Training curves</h2>"]
    if plots:
        figs = []
        for caption, path in plots:
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            rel = path.relative_to(out).as_posix()
            figs.append(f"<figure><a href=\"{html.escape(rel)}\"><img alt=\"{html.escape(caption)}\" "
                        f"src=\"data:image/png;base64,{data}\"></a></figure>")
        body.append("<div class=plots>" + "\n".join(figs) + "</div>")
    else:
        body.append("<p class=note>No metrics logged yet.</p>")
    body.append("<h2>Samples</h2><p class=note>The same fixed noise at every step (argmax "
                "decoding, padding stripped).</p>")
    for run in runs:
        if len(runs) > 1:
            body.append(f"<h3>{html.escape(run.label)}</h3>")
        body.append(_samples_html(run, sample_points, sample_lines))
    body.append("</body></html>\n")
    return "\n".join(body)


def write_report(runs: Sequence[str | Path], out: str | Path | None = None, *,
                 sample_points: int = 6, sample_lines: int = 8) -> Report:
    """Render the report of ``runs`` (one, or several overlaid) into ``out``.

    ``out`` defaults to :func:`default_out`. Returns the HTML path and the PNGs written.
    """
    if not runs:
        raise TextganError("name at least one run directory")
    _matplotlib()  # fail before writing anything
    dirs = [Path(r) for r in runs]
    data = [load_run(d, label) for d, label in zip(dirs, _labels(dirs), strict=True)]
    out_dir = Path(out) if out is not None else default_out(dirs)
    out_dir.mkdir(parents=True, exist_ok=True)
    plots = render_plots(data, out_dir)
    page = render_html(data, plots, out_dir, sample_points=sample_points,
                       sample_lines=sample_lines).encode("utf-8")
    html_path = out_dir / "index.html"
    atomic_write_bytes(html_path, lambda f: f.write(page))
    notes = [f"{r.label}: no metrics logged yet" for r in data if not r.metrics]
    return Report(html_path, [p for _, p in plots], notes)
