"""The training loop around a trainer (:class:`~textgan.core.trainer.TrainerProtocol`): logging,
hooks, checkpoints.

Divergence is caught here, before anything is saved, so a poisoned state never replaces the last
good checkpoint.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from textgan.core.budget import BudgetDecision, Stopwatch, TimeBudget
from textgan.core.run import Run
from textgan.core.trainer import TrainerProtocol, resize_schedule, stats_to_host
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
    """What the loop reports after each step (the CLI renders it).

    ``budget``: the time budget sized the run at this step (``total`` is its new length);
    ``notes``: lines for the user (e.g. the budget ran out before the planned last step).
    """

    step: int
    total: int
    metrics: dict[str, float] | None = None
    checkpoint: Path | None = None
    notes: list[str] = field(default_factory=list)
    budget: BudgetDecision | None = None


def fit(trainer: TrainerProtocol, run: Run, *, extra_state: dict[str, Any] | None = None,
        hooks: Sequence[Hook] = (), should_stop: Callable[[], bool] = lambda: False,
        sinks: Sequence[MetricsSink] = (), best_metric: str | None = None,
        watch: Stopwatch | None = None, budget: TimeBudget | None = None,
        on_resize: Callable[[BudgetDecision], None] = lambda decision: None,
        ) -> Iterator[StepEvent]:
    """Train until ``config.steps``, logging, running hooks and checkpointing; yields each step.

    A non-finite loss or parameter raises :class:`DivergenceError` *before* anything is saved,
    so the last good checkpoint is never replaced by a poisoned one. Whenever a logged
    ``best_metric`` is lower than any before, the state is also saved as ``best.pt``, outside the
    rotation of the last ``keep`` checkpoints. When ``should_stop()``
    becomes true (Ctrl-C), a checkpoint is written and the loop returns. Every record written to
    ``metrics.jsonl`` is also handed to each of ``sinks``. Every checkpoint records
    ``training_seconds`` from ``watch``.

    With a ``budget`` (:mod:`textgan.core.budget`) the loop times its steps, sizes the run at
    ``budget.decide_at`` (``config.steps`` and the schedule change in place; ``on_resize`` is
    called on every rank) and stops with a checkpoint when the budget is spent.

    Data-parallel (``trainer.dist``): every rank runs this loop; logged losses are averaged over
    ranks, so every divergence check sees the same numbers on every rank (and the parameters are
    identical), hence every rank decides alike. Rank 0 alone runs the hooks, writes metrics and
    checkpoints; an agreement after that work, every step, stops all ranks together when rank 0
    failed or any rank was asked to stop (or its clock says the budget is spent).
    """
    cfg = trainer.config
    dist = trainer.dist
    extra_state = extra_state if extra_state is not None else {}
    watch = budget.watch if budget is not None else watch or Stopwatch()
    clock = watch.clock
    last_saved: int | None = trainer.step if run.checkpoints.paths() else None
    best = run.checkpoints.best_record() if trainer.is_main else None
    best_value = best["value"] if best and best.get("metric") == best_metric else math.inf
    if budget is not None and budget.left() <= 0:
        return
    previous: tuple[int, float, float] | None = None  # last step, its start, its hooks' seconds
    while trainer.step < cfg.steps or (budget is not None and budget.pending):
        started = clock()
        if budget is not None and previous is not None:
            budget.observe_step(previous[0], started - previous[1] - previous[2])
        stats = trainer.train_step()
        step = trainer.step
        sizing = budget is not None and budget.sizing_now(step)
        event = StepEvent(step=step, total=cfg.steps)
        record: dict[str, float] = {}
        host: dict[str, float] | None = None
        if step % cfg.log_every == 0 or step == cfg.steps:
            host = _host_stats(trainer, stats)
            _check_finite(host, step, last_saved)
            record = {**host, "sec_per_step": clock() - started}
        failure: BaseException | None = None
        extra = 0.0  # seconds in hooks and checkpoints, not part of the step's own time
        try:
            if trainer.is_main:  # no collective in here: the other ranks skip it
                ran = []
                for index, hook in enumerate(hooks):
                    if hook.every and (step % hook.every == 0 or sizing):
                        began = clock()
                        result = hook.fn(step) or {}
                        cost = clock() - began
                        ran.append((index, cost, best_metric in result))
                        extra += cost
                        record.update(result)
                if record:
                    run.log_metrics({"step": step, **record})
                    for sink in sinks:
                        sink.write(step, record)
                    event.metrics = record
                value = record.get(best_metric) if best_metric else None
                if value is not None and value < best_value and trainer.parameters_finite():
                    began = clock()
                    run.checkpoints.save_best(step, _with_seconds(trainer, extra_state, watch),
                                              best_metric, value)
                    best_value = value
                    saved = clock() - began
                    extra += saved
                    # the hook that logs the metric brings a best.pt now and then: count it there
                    ran = [(i, cost + saved if has else cost, has) for i, cost, has in ran]
                if budget is not None:
                    budget.hook_costs.update({i: cost for i, cost, _ in ran})
        except BaseException as err:  # agreed below (every rank raises), re-raised on this one
            failure = err
        spent = budget is not None and not sizing and budget.exhausted()
        stopping = dist.agree(failure, flag=should_stop() or spent)  # the same step everywhere
        if spent:
            event.notes.append(f"time budget spent at step {step:,} (planned: {cfg.steps:,})")
        if step % cfg.checkpoint_every == 0 or step == cfg.steps or stopping or sizing:
            # Never save a poisoned state: the losses of this step and every parameter must be
            # finite (a step that was not logged is checked here too).
            _check_finite(host if host is not None else _host_stats(trainer, stats), step,
                          last_saved)
            if not trainer.parameters_finite():
                raise DivergenceError(f"training diverged at step {step}: parameters are not finite; "
                                      f"{_kept(last_saved)} — lower --lr / --lr-critic or change the seed")
            began = clock()
            event.checkpoint = _save(trainer, run, step, extra_state, watch)
            last_saved = step
            if budget is not None:
                budget.checkpoint_cost = clock() - began
                extra += budget.checkpoint_cost
        if sizing and budget is not None and not stopping:
            decision = dist.share(functools.partial(
                budget.decide, step, {i: hook.every for i, hook in enumerate(hooks)},
                cfg.checkpoint_every))
            budget.decided(decision)
            if decision.steps != cfg.steps or not cfg.schedule_steps:  # else: kept as recorded
                resize_schedule(cfg, step, decision.steps)
            on_resize(decision)
            event.budget, event.total = decision, cfg.steps
        previous = (step, started, extra)
        yield event
        if stopping:
            break
    if not all(dist.all_equal(module) for module in trainer.models().values()):
        raise RuntimeError("data-parallel ranks ended with different parameters (a bug)")


def _host_stats(trainer: TrainerProtocol, stats: dict[str, Any]) -> dict[str, float]:
    """The step's stats as floats; data-parallel: the mean over ranks (one small all-reduce)."""
    return trainer.dist.average(stats_to_host(stats))


def _with_seconds(trainer: TrainerProtocol, extra_state: dict[str, Any],
                  watch: Stopwatch) -> dict[str, Any]:
    return {**trainer.state_dict(), **extra_state, "training_seconds": watch.seconds()}


def _save(trainer: TrainerProtocol, run: Run, step: int, extra_state: dict[str, Any],
          watch: Stopwatch) -> Path | None:
    """Rank 0 writes the checkpoint; it holds every rank's RNG state (exact resume) and the
    training seconds so far (a time budget's resume)."""
    dist = trainer.dist
    rank_rng = dist.gather_on_main(trainer.rng_state())
    return dist.on_main(lambda: run.checkpoints.save(
        step, {**_with_seconds(trainer, extra_state, watch), "rank_rng": rank_rng,
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
