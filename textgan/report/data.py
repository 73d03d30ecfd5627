"""What the report reads from a run directory: config, metrics log, sample files, and the
temperature sweep ``textgan eval --run R --temperatures ...`` saved (``eval/sweep.json``)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from textgan.core.run import Run
from textgan.errors import TextganError
from textgan.eval.sweep import SweepResult, load_sweep

JS_ORDERS = (1, 2, 3, 4)  # the log's js{n} and js{n}_floor keys
SAMPLE_FILE = re.compile(r"step_(\d+)\.txt$")
SWEEP_FILE = Path("eval") / "sweep.json"


@dataclass
class RunData:
    """What the report needs from one run directory."""

    dir: Path
    label: str
    config: dict[str, Any]
    metrics: list[dict[str, Any]]
    samples: list[tuple[int, Path]]  # (step, file), by step
    sweep: SweepResult | None = None  # the saved quality-diversity sweep, if any

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


def load_run(directory: str | Path, label: str | None = None) -> RunData:
    run = Run.open(directory)
    samples = []
    if run.samples_dir.is_dir():
        for path in run.samples_dir.iterdir():
            if m := SAMPLE_FILE.search(path.name):
                samples.append((int(m.group(1)), path))
    sweep = None
    if (run.dir / SWEEP_FILE).is_file():
        try:
            sweep = load_sweep(run.dir / SWEEP_FILE)
        except TextganError:
            sweep = None  # a damaged file: the report goes on without that curve
    return RunData(run.dir, label or run.dir.name, run.read_config(), run.read_metrics(),
                   sorted(samples), sweep)


def run_labels(dirs: Sequence[Path]) -> list[str]:
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
