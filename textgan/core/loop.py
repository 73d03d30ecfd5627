"""The training loop around a trainer (:class:`~textgan.core.trainer.TrainerProtocol`): logging,
hooks, checkpoints.

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
from textgan.core.trainer import TrainerProtocol, stats_to_host
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


def fit(trainer: TrainerProtocol, run: Run, *, extra_state: dict[str, Any] | None = None,
        hooks: Sequence[Hook] = (), should_stop: Callable[[], bool] = lambda: False,
        sinks: Sequence[MetricsSink] = (), best_metric: str | None = None) -> Iterator[StepEvent]:
    """Train until ``config.steps``, logging, running hooks and checkpointing; yields each step.

    A non-finite loss or parameter raises :class:`DivergenceError` *before* anything is saved,
    so the last good checkpoint is never replaced by a poisoned one. Whenever a logged
    ``best_metric`` is lower than any before, the state is also saved as ``best.pt``, outside the
    rotation of the last ``keep`` checkpoints. When ``should_stop()``
    becomes true (Ctrl-C), a checkpoint is written and the loop returns. Every record written to
    ``metrics.jsonl`` is also handed to each of ``sinks``.

    Data-parallel (``trainer.dist``): every rank runs this loop; logged losses are averaged over
    ranks, so every divergence check sees the same numbers on every rank (and the parameters are
    identical), hence every rank decides alike. Rank 0 alone runs the hooks, writes metrics and
    checkpoints; an agreement after that work, every step, stops all ranks together when rank 0
    failed or any rank was asked to stop.
    """
    cfg = trainer.config
    dist = trainer.dist
    extra_state = extra_state or {}
    last_saved: int | None = trainer.step if run.checkpoints.paths() else None
    best = run.checkpoints.best_record() if trainer.is_main else None
    best_value = best["value"] if best and best.get("metric") == best_metric else math.inf
    while trainer.step < cfg.steps:
        started = time.perf_counter()
        stats = trainer.train_step()
        step = trainer.step
        event = StepEvent(step=step, total=cfg.steps)
        record: dict[str, float] = {}
        host: dict[str, float] | None = None
        if step % cfg.log_every == 0 or step == cfg.steps:
            host = _host_stats(trainer, stats)
            _check_finite(host, step, last_saved)
            record = {**host, "sec_per_step": time.perf_counter() - started}
        failure: BaseException | None = None
        try:
            if trainer.is_main:  # no collective in here: the other ranks skip it
                for hook in hooks:
                    if hook.every and step % hook.every == 0:
                        record.update(hook.fn(step) or {})
                if record:
                    run.log_metrics({"step": step, **record})
                    for sink in sinks:
                        sink.write(step, record)
                    event.metrics = record
                value = record.get(best_metric) if best_metric else None
                if value is not None and value < best_value and trainer.parameters_finite():
                    run.checkpoints.save_best(step, {**trainer.state_dict(), **extra_state},
                                              best_metric, value)
                    best_value = value
        except BaseException as err:  # agreed below (every rank raises), re-raised on this one
            failure = err
        stopping = dist.agree(failure, flag=should_stop())  # every rank stops at the same step
        if step % cfg.checkpoint_every == 0 or step == cfg.steps or stopping:
            # Never save a poisoned state: the losses of this step and every parameter must be
            # finite (a step that was not logged is checked here too).
            _check_finite(host if host is not None else _host_stats(trainer, stats), step,
                          last_saved)
            if not trainer.parameters_finite():
                raise DivergenceError(f"training diverged at step {step}: parameters are not finite; "
                                      f"{_kept(last_saved)} — lower --lr / --lr-critic or change the seed")
            event.checkpoint = _save(trainer, run, step, extra_state)
            last_saved = step
        yield event
        if stopping:
            break
    if not all(dist.all_equal(module) for module in trainer.models().values()):
        raise RuntimeError("data-parallel ranks ended with different parameters (a bug)")


def _host_stats(trainer: TrainerProtocol, stats: dict[str, Any]) -> dict[str, float]:
    """The step's stats as floats; data-parallel: the mean over ranks (one small all-reduce)."""
    return trainer.dist.average(stats_to_host(stats))


def _save(trainer: TrainerProtocol, run: Run, step: int, extra_state: dict[str, Any]) -> Path | None:
    """Rank 0 writes the checkpoint; it holds every rank's RNG state (exact resume)."""
    dist = trainer.dist
    rank_rng = dist.gather_on_main(trainer.rng_state())
    return dist.on_main(lambda: run.checkpoints.save(
        step, {**trainer.state_dict(), **extra_state, "rank_rng": rank_rng,
               "world_size": dist.world_size}))


def _kept(last_saved: int | None) -> str:
    if last_saved is None:
        return "no checkpoint was written"
    return f"the last good checkpoint (step {last_saved}) is kept"


def _check_finite(values: dict[str, float], step: int, last_saved: int | None) -> None:
    bad = [k for k, v in values.items() if not math.isfinite(v)]
    if bad:
        raise DivergenceError(f"training diverged at step {step}: {', '.join(bad)} is not finite; "
                              f"{_kept(last_saved)} — lower --lr / --lr-critic or change the seed")
