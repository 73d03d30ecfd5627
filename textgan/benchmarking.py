"""The benchmark harness: budgets, evaluation grids, seeds and result files for ``benchmarks/``.

Every benchmark trains through the public training API (:func:`textgan.training.start_training`,
the code ``textgan train`` runs) and writes one result file (:mod:`textgan.results`). What this
module adds:

- :class:`Budget`: stop after so many seconds of *process CPU time* (``clock="cpu"``, the
  default: on a shared machine wall-clock time measures the neighbours, CPU time the model; use
  one thread) or of wall-clock time (``clock="wall"``), optionally after a number of steps too;
  time spent inside :meth:`Budget.paused` (evaluations) is not counted;
- :func:`train_within`: a new run trained until its budget is spent, evaluated every
  ``eval_every`` budget-seconds (a fixed grid on the budget's clock, evaluation time excluded);
- :func:`add_arguments` and friends: the flags every script shares (``--out``, ``--name``,
  ``--threads``, ``--seed``/``--seeds``, ``--corpus``/``--valid``/``--data-dir``,
  ``--budget``/``--clock``/``--eval-every``), and :func:`write_benchmark_result`, which records
  the script's own command line with the numbers.
"""

from __future__ import annotations

import argparse
import shlex
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from textgan.results import default_results_dir, write_result

Clock = Literal["cpu", "wall"]
CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.process_time, "wall": time.perf_counter}


class Budget:
    """Seconds of process CPU time (``cpu``) or wall-clock time (``wall``), and at most
    ``max_steps`` steps when given; :meth:`paused` time is excluded. Starts when created."""

    def __init__(self, seconds: float, clock: Clock = "cpu", max_steps: int | None = None) -> None:
        if clock not in CLOCKS:
            raise ValueError(f"unknown clock {clock!r}; use cpu or wall")
        if seconds < 0:
            raise ValueError(f"a budget must be 0 seconds or more, got {seconds}")
        self.seconds, self.clock, self.max_steps = float(seconds), clock, max_steps
        self.restart()

    def restart(self) -> None:
        """Start counting again from zero."""
        self._cpu_start, self._wall_start = time.process_time(), time.perf_counter()
        self._paused_cpu = self._paused_wall = 0.0

    def cpu_seconds(self) -> float:
        """Process CPU seconds since the start, paused time excluded."""
        return time.process_time() - self._cpu_start - self._paused_cpu

    def wall_seconds(self) -> float:
        """Wall-clock seconds since the start, paused time excluded."""
        return time.perf_counter() - self._wall_start - self._paused_wall

    def elapsed(self) -> float:
        """Seconds spent on the budget's clock."""
        return self.cpu_seconds() if self.clock == "cpu" else self.wall_seconds()

    def exhausted(self, step: int | None = None) -> bool:
        """Whether the seconds (or, given ``step``, the steps) are spent."""
        if self.max_steps is not None and step is not None and step >= self.max_steps:
            return True
        return self.elapsed() >= self.seconds

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Time spent inside is not counted (on either clock)."""
        cpu, wall = time.process_time(), time.perf_counter()
        try:
            yield
        finally:
            self._paused_cpu += time.process_time() - cpu
            self._paused_wall += time.perf_counter() - wall


@dataclass
class BudgetRun:
    """A run trained by :func:`train_within`: its session, what it spent, its evaluations."""

    session: Any  # textgan.training.TrainingSession
    steps: int
    cpu_seconds: float
    wall_seconds: float
    points: list[dict[str, Any]] = field(default_factory=list)

    @property
    def run_dir(self) -> Path:
        return Path(self.session.run.dir)

    @property
    def schedule_steps(self) -> int:
        """Where the run's schedule ends (as sized, when it was sized to the budget)."""
        return int(self.session.config.train.schedule_steps)


SIZE_AFTER = 20  # steps timed before a schedule is first sized to a budget (train_within)
SIZE_MARGIN = 0.03  # of the seconds left when a schedule is sized: the step time wanders


def size_schedule(session: Any, budget: Budget) -> int | None:
    """Re-size the run's linear schedule (and its steps) to end when ``budget`` is spent, at the
    mean budget-seconds per step so far, ``SIZE_MARGIN`` kept free: what ``--time-budget`` does
    for a run, on the budget's own clock. Returns the new last step (None: the budget is spent)."""
    from textgan.core.trainer import resize_schedule

    step = session.trainer.step
    left = (budget.seconds - budget.elapsed()) * (1 - SIZE_MARGIN)
    if step <= 0 or left <= 0:
        return None
    end = step + int(left / (budget.elapsed() / step))
    resize_schedule(session.config.train, step, end)
    return end


def train_within(config: Any, budget: Budget, *, out: str | Path,
                 evaluate: Callable[[Any], Mapping[str, Any]] | None = None,
                 eval_every: float = 0.0, dist: Any = None,
                 size_after: int = 0) -> BudgetRun:
    """Start a new run of ``config`` (a :class:`~textgan.core.mode.RunConfig`) in ``out`` and
    train it until ``budget`` is spent; the stop is checkpointed as by Ctrl-C.

    With ``evaluate(session) -> dict``, evaluates at step 0 and every ``eval_every`` seconds of
    the budget's clock (0: at the start and the end only), and after the last step; each point
    is ``{"step", "cpu_s", "wall_s", **evaluate(session)}``. Evaluation time is not counted.
    The budget's clock starts with the first step: building the run (preparing the corpus) is
    not counted either. ``size_after`` > 0: after that many steps, and again after 10 and 100
    times as many, the run's schedule is sized to end with the budget (:func:`size_schedule`),
    so a linear decay reaches 0 at its end.
    """
    from textgan.training import start_training

    session = start_training(config, out=out, dist=dist)
    points: list[dict[str, Any]] = []
    budget.restart()  # the run is built: what follows is training
    next_eval = 0.0

    def record() -> None:
        step = session.trainer.step
        if points and points[-1]["step"] == step:
            return
        cpu, wall = budget.cpu_seconds(), budget.wall_seconds()
        with budget.paused():
            measured = dict(evaluate(session))  # type: ignore[misc]
        points.append({"step": step, "cpu_s": round(cpu, 3), "wall_s": round(wall, 3),
                       **measured})

    if evaluate is not None:
        record()
        next_eval = eval_every if eval_every > 0 else float("inf")
    for _ in session.events(should_stop=lambda: budget.exhausted(session.trainer.step)):
        # sized after size_after steps, then again at 10x and 100x: the later estimates leave
        # the first steps' one-off costs behind, so the schedule ends nearer the budget's end
        if size_after and session.trainer.step in (size_after, 10 * size_after, 100 * size_after):
            size_schedule(session, budget)
        if evaluate is not None and budget.elapsed() >= next_eval:
            record()
            while next_eval <= budget.elapsed():
                next_eval += eval_every
    if evaluate is not None:
        record()
    return BudgetRun(session, session.trainer.step, budget.cpu_seconds(), budget.wall_seconds(),
                     points)


def configure(preset: str, *, mode: str = "text", train: Mapping[str, Any] | None = None,
              data: Mapping[str, Any] | None = None,
              model: Mapping[str, Any] | None = None) -> Any:
    """``preset`` with these settings over it (``None`` values: the preset's), as
    ``textgan train --preset PRESET --flag value ...`` resolves them."""
    from textgan.training import resolve_config

    return resolve_config(mode, preset, None, {"train": dict(train or {}),
                                               "data": dict(data or {}),
                                               "model": dict(model or {})})


def seeds(first: int, count: int) -> list[int]:
    """``count`` consecutive seeds from ``first``: repeating a measurement over them gives its
    seed-to-seed spread."""
    if count < 1:
        raise ValueError(f"need at least one seed, got {count}")
    return list(range(first, first + count))


def cpu_time(fn: Callable[[], Any], repeats: int = 1) -> float:
    """Process CPU seconds of ``repeats`` calls of ``fn``."""
    start = time.process_time()
    for _ in range(repeats):
        fn()
    return time.process_time() - start


# --- command line -------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser, name: str, *,
                  repeat_seeds: bool = False) -> None:
    """``--out DIR`` (the results directory), ``--name`` (the result's file name), ``--threads``
    and ``--seed`` (with ``repeat_seeds``, also ``--seeds N``)."""
    parser.add_argument("--out", type=Path, default=None,
                        help="Results directory [default: $TEXTGAN_RESULTS or results/].")
    parser.add_argument("--name", default=name, help=f"Result file name [default: {name}].")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads [default: 1, what CPU-time budgets assume].")
    parser.add_argument("--seed", type=int, default=0, help="Random seed (the first one).")
    if repeat_seeds:
        parser.add_argument("--seeds", type=int, default=1,
                            help="Repeat with seeds seed, seed+1, ... (the spread is seed noise).")


def add_recipe_files_arguments(parser: argparse.ArgumentParser, name: str, baseline: str,
                               baseline_help: str) -> None:
    """The flags of a script that reads ``benchmarks/recipes.py`` results: the files, the
    ``--baseline`` recipe, ``--out`` and ``--name``."""
    parser.add_argument("files", nargs="+", help="Result files of benchmarks/recipes.py.")
    parser.add_argument("--baseline", default=baseline, help=baseline_help)
    parser.add_argument("--out", default=None,
                        help="Results directory [default: $TEXTGAN_RESULTS or results/].")
    parser.add_argument("--name", default=name, help="Result file name.")


def add_corpus_arguments(parser: argparse.ArgumentParser, default: str = "synthetic") -> None:
    """``--corpus`` (a text file, directory or glob, or a corpus name), ``--valid``,
    ``--data-dir``, ``--seq-len``."""
    parser.add_argument("--corpus", default=default,
                        help="Training text (a file, directory or glob; one sentence a line) or "
                             f"a corpus name such as synthetic [default: {default}].")
    parser.add_argument("--valid", default=None,
                        help="Held-out text [default: carved off the corpus].")
    parser.add_argument("--data-dir", default="data",
                        help="Where the corpus is prepared [default: data].")
    parser.add_argument("--seq-len", type=int, default=None,
                        help="Characters per line [default: the preset's].")


def add_budget_arguments(parser: argparse.ArgumentParser, seconds: float,
                         eval_every: float | None = None) -> None:
    """``--budget SECONDS``, ``--clock cpu|wall`` and, with ``eval_every``, ``--eval-every``."""
    parser.add_argument("--budget", type=float, default=seconds,
                        help=f"Seconds of training per run [default: {seconds:g}].")
    parser.add_argument("--clock", choices=tuple(CLOCKS), default="cpu",
                        help="What the budget counts: process CPU time (with one thread, what a "
                             "shared machine leaves unchanged) or wall-clock time [default: cpu].")
    if eval_every is not None:
        parser.add_argument("--eval-every", type=float, default=eval_every,
                            help=f"Budget-seconds between evaluations [default: {eval_every:g}].")


def data_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The ``[data]`` settings of :func:`add_corpus_arguments`' flags."""
    return {"corpus": args.corpus, "valid_path": args.valid, "data_dir": args.data_dir,
            "seq_len": args.seq_len}


def corpus_label(args: argparse.Namespace) -> str:
    """The corpus as a result records it: a name, or a file's name (never a local path)."""
    return Path(args.corpus).name if Path(args.corpus).exists() else str(args.corpus)


def script_command(script: str | Path, argv: Sequence[str] | None) -> str:
    """``python benchmarks/NAME.py ARGS``: the script relative to the working directory when it
    is inside it (a result never records a home directory)."""
    import sys

    path = Path(script).resolve()
    try:
        shown = str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        shown = f"benchmarks/{path.name}" if path.parent.name == "benchmarks" else path.name
    return shlex.join(["python", shown, *(sys.argv[1:] if argv is None else argv)])


def write_benchmark_result(args: argparse.Namespace, question: str, results: Any, *,
                           script: str | Path, argv: Sequence[str] | None,
                           notes: str | None = None,
                           table: Sequence[Mapping[str, Any]] | None = None,
                           extra: Mapping[str, Any] | None = None) -> Path:
    """``<--out>/<--name>.json`` and ``.md`` (:func:`textgan.results.write_result`), recording
    ``python SCRIPT ARGV`` as the command and ``--threads`` as the thread count."""
    return write_result(args.out if args.out is not None else default_results_dir(), args.name,
                        question, results, command=script_command(script, argv),
                        threads=getattr(args, "threads", None), notes=notes, table=table,
                        extra=extra)
