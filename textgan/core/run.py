"""A run directory: ``config.toml`` · ``metrics.jsonl`` · ``samples/`` · ``checkpoints/``.

``sample``, ``eval`` and ``report`` read a run through this class, never the trainer's internals.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from textgan.config import load_toml, to_toml
from textgan.core.checkpoint import CheckpointStore, load_checkpoint
from textgan.errors import CheckpointError, ConfigError, TextganError
from textgan.io.atomic import atomic_write_text

CONFIG_FILE = "config.toml"
METRICS_FILE = "metrics.jsonl"


class Run:
    """Paths and small I/O helpers of one run directory."""

    def __init__(self, directory: str | Path, keep_checkpoints: int = 3) -> None:
        self.dir = Path(directory)
        self.checkpoints = CheckpointStore(self.dir / "checkpoints", keep=keep_checkpoints)

    @property
    def config_path(self) -> Path:
        return self.dir / CONFIG_FILE

    @property
    def metrics_path(self) -> Path:
        return self.dir / METRICS_FILE

    @property
    def samples_dir(self) -> Path:
        return self.dir / "samples"

    def exists(self) -> bool:
        return self.config_path.is_file()

    @classmethod
    def open(cls, directory: str | Path, keep_checkpoints: int = 3) -> Run:
        run = cls(directory, keep_checkpoints)
        if not run.exists():
            raise TextganError(f"{directory} is not a textgan run directory (no {CONFIG_FILE})")
        return run

    def write_config(self, config: dict[str, Any]) -> None:
        with _disk_errors(self.config_path):
            self.dir.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.config_path, to_toml(config))

    def read_config(self) -> dict[str, Any]:
        try:
            return load_toml(self.config_path)
        except ConfigError as err:
            raise TextganError(f"run {self.dir}: {err}") from None

    def log_metrics(self, record: dict[str, Any]) -> None:
        """Append one JSON line; non-finite floats are written as null (JSON has no NaN)."""
        clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                 for k, v in record.items()}
        with _disk_errors(self.metrics_path), self.metrics_path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(clean) + "\n")

    def read_metrics(self) -> list[dict[str, Any]]:
        """All metric records; a torn last line (killed mid-write) is ignored."""
        if not self.metrics_path.exists():
            return []
        records = []
        for line in self.metrics_path.read_text(encoding="utf-8").splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return records

    def truncate_metrics(self, after_step: int) -> None:
        """Drop records logged after ``after_step`` (they are redone when a run resumes)."""
        kept = [r for r in self.read_metrics() if r.get("step", 0) <= after_step]
        text = "".join(json.dumps(r) + "\n" for r in kept)
        if self.metrics_path.exists():
            with _disk_errors(self.metrics_path):
                atomic_write_text(self.metrics_path, text)

    def sample_path(self, step: int, suffix: str = ".txt") -> Path:
        """``samples/step_XXXXXXXX<suffix>``: where a step's samples go, in every mode."""
        return self.samples_dir / f"step_{step:08d}{suffix}"

    def write_sample_file(self, step: int, suffix: str, write: Callable[[Path], Any]) -> Path:
        """Write a step's samples with ``write(path)`` (which writes atomically), with this run's
        handling of a full disk."""
        path = self.sample_path(step, suffix)
        with _disk_errors(path):
            self.samples_dir.mkdir(parents=True, exist_ok=True)
            write(path)
        return path

    def write_samples(self, step: int, lines: list[str]) -> Path:
        text = "".join(line + "\n" for line in lines)
        return self.write_sample_file(step, ".txt", lambda path: atomic_write_text(path, text))


@contextmanager
def _disk_errors(path: Path) -> Iterator[None]:
    """A full disk or a permission problem while writing a run file → one-line TextganError."""
    try:
        yield
    except OSError as err:
        raise TextganError(f"could not write {path}: {err.strerror or err}; checkpoints already "
                           "written are kept — free space or fix permissions, then --resume") from None


def latest_run(root: str | Path, hint: str = "pass --run") -> Path:
    """The most recently modified run directory under ``root``."""
    root = Path(root)
    candidates = [p for p in root.iterdir() if (p / CONFIG_FILE).is_file()] if root.is_dir() else []
    if not candidates:
        raise TextganError(f"no runs found under {root}; train one with `textgan train` or {hint}")

    def last_touched(p: Path) -> float:
        ckpts = p / "checkpoints"
        times = [os.path.getmtime(p / CONFIG_FILE)]
        if ckpts.is_dir():
            times += [os.path.getmtime(c) for c in ckpts.iterdir()]
        return max(times)

    return max(candidates, key=last_touched)


def new_run_dir(root: str | Path, name: str) -> Path:
    """``root/name-YYYYmmdd-HHMMSS`` (with a suffix if that exists already)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = Path(root) / f"{name}-{stamp}"
    path, i = base, 1
    while path.exists():
        path, i = Path(f"{base}-{i}"), i + 1
    return path


def sample_output_for(checkpoint: Path, suffix: str = ".png") -> Path:
    """Where ``textgan sample`` writes a file by default: ``<run>/samples/sample<suffix>`` for a
    checkpoint inside a run, else beside the checkpoint."""
    if checkpoint.parent.name == "checkpoints":
        return checkpoint.parent.parent / "samples" / f"sample{suffix}"
    return checkpoint.with_suffix(suffix)


def resolve_checkpoint(run: str | Path | None, checkpoint: str | Path | None,
                       runs_dir: str | Path = "runs") -> tuple[Path, dict, list[str]]:
    """(path, state, notes) of the checkpoint to use: ``checkpoint`` (a file, or ``best`` for the
    run's ``best.pt``), else the newest loadable of ``run`` (default: the latest run)."""
    notes: list[str] = []
    if checkpoint is not None and (str(checkpoint) != "best" or Path(checkpoint).is_file()):
        path = Path(checkpoint)
        return path, load_checkpoint(path), notes
    if run is None:
        run = latest_run(runs_dir)
        notes.append(f"using the most recent run: {run}")
    store = Run.open(run).checkpoints
    if checkpoint is not None:  # "best"
        if not store.best_path.is_file():
            raise CheckpointError(f"run {run} has no best checkpoint ({store.best_path}); it is "
                                  "kept when in-training evaluation is on (--eval-every)")
        return store.best_path, load_checkpoint(store.best_path), notes
    point = store.latest()
    if point is None:
        raise CheckpointError(f"run {run} has no checkpoint yet; train it first")
    notes += [f"skipped {p.name}: {why}" for p, why in point.skipped]
    return point.path, point.state, notes
