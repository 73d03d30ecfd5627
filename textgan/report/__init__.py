"""Run reports: PNG plots of a run's metrics and one HTML page with them and its samples.

``write_report([run])`` renders one run; ``write_report([run_a, run_b, ...])`` overlays several
(one colour per run, same axes). It reads only what a run directory holds — ``config.toml``,
``metrics.jsonl`` and ``samples/step_*.txt`` — so it works on finished, running or copied runs.

- :mod:`.data`: loading a run directory (:class:`~.data.RunData`);
- :mod:`.plots`: the PNG plots (matplotlib, imported when drawing);
- :mod:`.summary`: the summary table's rows;
- :mod:`.html`: the self-contained page, from the jinja2 template ``templates/report.html.j2``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from textgan.errors import TextganError
from textgan.io.atomic import atomic_write_bytes
from textgan.plots import require_matplotlib
from textgan.report.data import default_out, load_run, run_labels
from textgan.report.html import render_html
from textgan.report.plots import render_plots


@dataclass
class Report:
    """Where the report went."""

    html: Path
    images: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def write_report(runs: Sequence[str | Path], out: str | Path | None = None, *,
                 sample_points: int = 6, sample_lines: int = 8) -> Report:
    """Render the report of ``runs`` (one, or several overlaid) into ``out``.

    ``out`` defaults to :func:`~.data.default_out`. Returns the HTML path and the PNGs written.
    """
    if not runs:
        raise TextganError("name at least one run directory")
    require_matplotlib("textgan report")  # fail before writing anything
    dirs = [Path(r) for r in runs]
    data = [load_run(d, label) for d, label in zip(dirs, run_labels(dirs), strict=True)]
    out_dir = Path(out) if out is not None else default_out(dirs)
    out_dir.mkdir(parents=True, exist_ok=True)
    plots = render_plots(data, out_dir)
    page = render_html(data, plots, out_dir, sample_points=sample_points,
                       sample_lines=sample_lines).encode("utf-8")
    html_path = out_dir / "index.html"
    atomic_write_bytes(html_path, lambda f: f.write(page))
    notes = [f"{r.label}: no metrics logged yet" for r in data if not r.metrics]
    return Report(html_path, [p for _, p in plots], notes)
