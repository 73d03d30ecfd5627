"""The report's HTML page, rendered from ``templates/report.html.j2`` with autoescaping.

The page is self-contained: each PNG is embedded as a data URI and links to its file next to the
page. Everything shown (run names, metric names, samples) is escaped by the template engine.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jinja2
import numpy as np

from textgan.plots import color_hex, cycle_color
from textgan.report.data import RunData
from textgan.report.summary import summary_table

TEMPLATE = "report.html.j2"


@dataclass(frozen=True)
class _Plot:
    caption: str
    href: str  # the PNG, relative to the page
    png_base64: str


@dataclass(frozen=True)
class _Sample:
    step: str  # "12,000"
    shown: str  # the first lines
    folded: str  # the rest, behind a <details>
    folded_count: int


@dataclass(frozen=True)
class _SampleSection:
    label: str | None  # the run's name, when there are several
    samples: list[_Sample]


@cache
def _environment() -> jinja2.Environment:
    # autoescape=True outright: select_autoescape() goes by the file extension, and ours is .j2.
    return jinja2.Environment(loader=jinja2.PackageLoader("textgan.report", "templates"),
                              autoescape=True, undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def pick_sample_points(steps: Sequence[int], k: int) -> list[int]:
    """Up to ``k`` of ``steps`` spread evenly over training, always the first and the last."""
    steps = sorted(steps)
    if len(steps) <= k:
        return steps
    idx = np.unique(np.round(np.linspace(0, len(steps) - 1, k)).astype(int))
    return [steps[i] for i in idx]


def _samples(run: RunData, points: int, lines_shown: int) -> list[_Sample]:
    by_step = dict(run.samples)
    out = []
    for step in pick_sample_points(list(by_step), points):
        lines = by_step[step].read_text(encoding="utf-8", errors="replace").splitlines()
        rest = lines[lines_shown:]
        out.append(_Sample(f"{step:,}", "\n".join(lines[:lines_shown]), "\n".join(rest), len(rest)))
    return out


def render_html(runs: Sequence[RunData], plots: Sequence[tuple[str, Path]], out: Path, *,
                sample_points: int = 6, sample_lines: int = 8) -> str:
    """The page for ``runs`` with ``plots`` (caption, PNG path inside ``out``) embedded."""
    several = len(runs) > 1
    return _environment().get_template(TEMPLATE).render(
        title="textgan report: " + " vs. ".join(r.label for r in runs),
        written=time.strftime("%Y-%m-%d %H:%M"),
        columns=[(r.label, color_hex(cycle_color(i))) for i, r in enumerate(runs)],
        summary=summary_table(runs),
        plots=[_Plot(caption, path.relative_to(out).as_posix(),
                     base64.b64encode(path.read_bytes()).decode("ascii"))
               for caption, path in plots],
        sample_sections=[_SampleSection(r.label if several else None,
                                        _samples(r, sample_points, sample_lines)) for r in runs],
    )
