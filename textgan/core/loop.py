"""The training loop around :class:`~textgan.core.trainer.Trainer`: logging, hooks, checkpoints.

Divergence is caught here, before anything is saved, so a poisoned state never replaces the last
good checkpoint.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from textgan.core.run import Run
from textgan.core.trainer import Trainer, stats_to_host
from textgan.errors import DivergenceError


@dataclass
class Hook:
    """Called every ``every`` steps with the step number; returns extra metrics (or None)."""

    every: int
    fn: Callable[[int], dict[str, float] | None]


class MetricsSink(Protocol):
    """Somewhere else every logged record goes too (e.g. TensorBoard), after ``metrics.jsonl``."""

    def write(self, step: int, metrics: dict[str, float]) -> None: ...


@dataclass
class StepEvent:
    """What the loop reports after each step (the CLI renders it)."""

    step: int
    total: int
    metrics: dict[str, float] | None = None
    checkpoint: Path | None = None
    notes: list[str] = field(default_factory=list)


def fit(trainer: Trainer, run: Run, *, extra_state: dict[str, Any] | None = None,
        hooks: Sequence[Hook] = (), should_stop: Callable[[], bool] = lambda: False,
        sinks: Sequence[MetricsSink] = ()) -> Iterator[StepEvent]:
    """Train until ``config.steps``, logging, running hooks and checkpointing; yields each step.

    A non-finite loss or parameter raises :class:`DivergenceError` *before* anything is saved,
    so the last good checkpoint is never replaced by a poisoned one. When ``should_stop()``
    becomes true (Ctrl-C), a checkpoint is written and the loop returns. Every record written to
    ``metrics.jsonl`` is also handed to each of ``sinks``.
    """
    cfg = trainer.config
    extra_state = extra_state or {}
    last_saved: int | None = trainer.step if run.checkpoints.paths() else None
    while trainer.step < cfg.steps:
        started = time.perf_counter()
        stats = trainer.train_step()
        step = trainer.step
        event = StepEvent(step=step, total=cfg.steps)
        record: dict[str, float] = {}
        if step % cfg.log_every == 0 or step == cfg.steps:
            record = stats_to_host(stats)
            _check_finite(record, step, last_saved)
            record["sec_per_step"] = time.perf_counter() - started
        for hook in hooks:
            if hook.every and step % hook.every == 0:
                record.update(hook.fn(step) or {})
        if record:
            run.log_metrics({"step": step, **record})
            for sink in sinks:
                sink.write(step, record)
            event.metrics = record
        stopping = should_stop()
        if step % cfg.checkpoint_every == 0 or step == cfg.steps or stopping:
            # Never save a poisoned state: the losses of this step and every parameter must be
            # finite (a step that was not logged is checked here too).
            _check_finite(stats_to_host(stats), step, last_saved)
            if not trainer.parameters_finite():
                raise DivergenceError(f"training diverged at step {step}: parameters are not finite; "
                                      f"{_kept(last_saved)} — lower --lr or change the seed")
            event.checkpoint = run.checkpoints.save(step, {**trainer.state_dict(), **extra_state})
            last_saved = step
        yield event
        if stopping:
            return


def _kept(last_saved: int | None) -> str:
    if last_saved is None:
        return "no checkpoint was written"
    return f"the last good checkpoint (step {last_saved}) is kept"


def _check_finite(values: dict[str, float], step: int, last_saved: int | None) -> None:
    bad = [k for k, v in values.items() if not math.isfinite(v)]
    if bad:
        raise DivergenceError(f"training diverged at step {step}: {', '.join(bad)} is not finite; "
                              f"{_kept(last_saved)} — lower --lr or change the seed")
