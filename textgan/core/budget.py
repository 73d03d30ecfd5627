r"""A run sized to a wall-clock budget (``--time-budget``), and the training clock every run keeps.

Every checkpoint records ``training_seconds``: the wall clock spent in the training loop (steps,
hooks, checkpoints; not start-up) by this process and the runs it resumed. A budget of $B$ seconds
then works in three parts, all in :func:`textgan.core.loop.fit`:

1. **Timing.** The first ``SKIP_STEPS`` steps of a session pay one-off costs and are not timed;
   the next ``TIMED_STEPS`` are, each from the start of one step to the start of the next
   (training, logging and whatever the caller does with the step), without hooks and
   checkpoints. A budgeted run whose schedule is not sized yet trains them at the full rates.
2. **Sizing**, at the step $s$ after them (``decide_at``: a step number, so every rank of a
   torchrun job gets there together): every hook runs and a checkpoint is written, each timed
   once. With $c$ the mean timed step, $h_k$ the cost of hook $k$ run every $e_k$ steps, $k_c$ a
   checkpoint every $e_c$ steps and $R$ the seconds left ($B$ minus the recorded seconds),

   $$n = \left\lfloor \frac{R - m - (k_c + \sum_k h_k)}{c + \sum_k h_k / e_k + k_c / e_c}
        \right\rfloor,$$

   the steps still to train, the last step's checkpoint and hooks reserved and a safety margin
   $m = \max(0.05 R, 3 c_{max})$ kept free (``MARGIN``, ``MARGIN_STEPS``; $c_{max}$ the slowest
   timed step: in a short budget a few steps are more than a percentage). The run then trains
   to $s + n$ and its linear schedule, if any, is re-sized to end there
   (:func:`textgan.core.trainer.resize_schedule`); a resume with the budget the run was sized
   for keeps its recorded steps and schedule when they still fit. Under torchrun rank 0 sizes
   (it alone runs the hooks) and every rank gets its number.
3. **Backstop.** After every step, when the seconds spent plus the last step's time and a
   checkpoint's would pass $B$, the run saves a checkpoint and stops, whatever the estimate was.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

SKIP_STEPS = 2  # not timed: the first steps allocate memory, fill caches, initialise lazily
TIMED_STEPS = 8
MARGIN = 0.05  # of the seconds left, kept free for the estimate's error ...
MARGIN_STEPS = 3  # ... and at least this many of the slowest timed step


class Stopwatch:
    """Training seconds: those recorded before (the checkpoint resumed from) plus this process's."""

    def __init__(self, before: float = 0.0, clock: Callable[[], float] = time.perf_counter) -> None:
        self.before, self.clock = before, clock
        self.started = clock()

    def seconds(self) -> float:
        return self.before + self.clock() - self.started


@dataclass
class BudgetDecision:
    """What the budget chose at step ``step``: train to ``steps`` (it was ``previous``)."""

    budget: float  # seconds
    spent: float  # training seconds when it decided (this process and those it resumed)
    step: int
    steps: int
    previous: int
    sec_per_step: float  # the mean timed step
    overhead_per_step: float  # hooks and checkpoints, amortised over their intervals
    reserved: float  # the last step's checkpoint and hooks
    margin: float  # seconds kept free

    def describe(self) -> str:
        change = "" if self.steps == self.previous else f" (was {self.previous:,})"
        return (f"time budget {_seconds(self.budget)}: training to step {self.steps:,}{change} — "
                f"{self.sec_per_step:.3g} s/step + {self.overhead_per_step:.3g} s/step for "
                f"evaluations, samples and checkpoints, {_seconds(self.spent)} spent at step "
                f"{self.step:,}, {_seconds(self.margin)} kept free")


def _seconds(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.3g} h"
    if seconds >= 60:
        return f"{seconds / 60:.3g} min"
    return f"{seconds:.3g} s"


@dataclass
class TimeBudget:
    """The budget of one training session (see the module's docstring).

    ``keep``: the run's recorded steps stand if they still fit (a resume with the budget it was
    sized for); otherwise (a new run, a changed budget) the budget alone sizes it.
    """

    seconds: float
    watch: Stopwatch
    start_step: int
    steps: int  # what the run trains to before sizing
    keep: bool = False
    timed: list[float] = field(default_factory=list)
    hook_costs: dict[int, float] = field(default_factory=dict)  # hook index -> seconds
    checkpoint_cost: float = 0.0
    last_step: float = 0.0
    decision: BudgetDecision | None = None

    def __post_init__(self) -> None:
        self.decide_at = self.start_step + SKIP_STEPS + TIMED_STEPS + 1
        # A resume that keeps its steps and has too few left to time just runs them out (the
        # backstop still holds).
        self.pending = not self.keep or self.decide_at <= self.steps

    def left(self) -> float:
        return self.seconds - self.watch.seconds()

    def observe_step(self, step: int, seconds: float) -> None:
        """Step ``step`` took ``seconds`` (without hooks and checkpoints)."""
        self.last_step = seconds
        if self.pending and step > self.start_step + SKIP_STEPS:
            self.timed.append(seconds)

    def sizing_now(self, step: int) -> bool:
        return self.pending and step == self.decide_at

    def decide(self, step: int, every: dict[int, int], checkpoint_every: int) -> BudgetDecision:
        """The steps to train to, from step ``step`` (``every``: hook index → its interval)."""
        per_step = statistics.fmean(self.timed) if self.timed else self.last_step
        hooks = [(every[i], cost) for i, cost in self.hook_costs.items() if every.get(i)]
        overhead = (sum(cost / e for e, cost in hooks)
                    + self.checkpoint_cost / max(1, checkpoint_every))
        reserved = self.checkpoint_cost + sum(cost for _, cost in hooks)
        spent = self.watch.seconds()
        margin = max(MARGIN * (self.seconds - spent), MARGIN_STEPS * max(self.timed or [per_step]))
        usable = self.seconds - spent - margin - reserved
        more = max(0, math.floor(usable / (per_step + overhead))) if per_step + overhead > 0 else 0
        total = step + more
        if self.keep:
            total = min(total, self.steps)
        return BudgetDecision(self.seconds, spent, step, max(total, step), self.steps, per_step,
                              overhead, reserved, margin)

    def decided(self, decision: BudgetDecision) -> None:
        self.decision, self.pending = decision, False

    def exhausted(self) -> bool:
        """Whether another step and a checkpoint would end past the budget (the backstop)."""
        return self.watch.seconds() + self.last_step + self.checkpoint_cost > self.seconds
