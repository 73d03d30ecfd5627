"""Starting and resuming training runs: config resolution, run directories, the session.

The CLI calls :func:`resolve_config` and :func:`start_training` (a new run) or
:func:`resume_training`, then iterates :meth:`TrainingSession.events`; every decision lives here,
the CLI only renders.

Under torchrun (:func:`join_torchrun`) every rank calls the same functions with the job's
:class:`~textgan.core.distributed.DistributedContext`: rank 0 picks the run directory and
configuration and writes every file; the others receive what rank 0 decided. Alone, the context
is a :class:`~textgan.core.distributed.LocalContext` and the same code runs.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from textgan.config import apply_overrides, load_toml, marked
from textgan.core.budget import BudgetDecision, Stopwatch, TimeBudget
from textgan.core.checkpoint import CheckpointError, load_checkpoint
from textgan.core.conditional import num_classes_of
from textgan.core.distributed import Context, LocalContext, RankShare, init_from_env, rank_seed
from textgan.core.likelihood import LikelihoodTrainer
from textgan.core.loop import StepEvent, fit
from textgan.core.mode import SECTIONS, Mode, ModeSetup, RunConfig
from textgan.core.objectives import REGISTRY as OBJECTIVE_REGISTRY
from textgan.core.objectives import is_likelihood, objective_defaults
from textgan.core.run import Run, latest_run, new_run_dir
from textgan.core.trainer import (
    BatchSource,
    TrainConfig,
    Trainer,
    TrainerProtocol,
    linear_decay,
    resize_schedule,
    seed_everything,
)
from textgan.device import resolve_device
from textgan.errors import ConfigError, TextganError
from textgan.io.progress import ProgressFn
from textgan.modes import get_mode

# What may change when a run resumes: how long and where it runs, how often it reports
# (settings declared resumable=True).
RESUMABLE = marked(TrainConfig, "resumable")
# Recorded when a run starts (its schedule; recorded=True); a resume keeps them, --reschedule
# re-sizes them.
RECORDED = marked(TrainConfig, "recorded")


def run_config_from_dict(d: dict[str, Any]) -> RunConfig:
    """A run's configuration from its ``config.toml`` (or a checkpoint's copy of it)."""
    return get_mode(d.get("mode", "text")).run_config(d)


def resolve_config(mode: str = "text", preset: str | None = None, config_file: str | None = None,
                   overrides: dict[str, dict[str, Any]] | None = None) -> RunConfig:
    """defaults < preset < config file < overrides (``None`` values mean "not given")."""
    overrides = {s: {k: v for k, v in (overrides or {}).get(s, {}).items() if v is not None}
                 for s in SECTIONS}
    file_cfg = load_toml(config_file) if config_file else {}
    unknown = set(file_cfg) - set(SECTIONS) - {"mode", "preset"}
    if unknown:
        raise ConfigError(f"unknown section(s) {', '.join(sorted(unknown))} in {config_file}; "
                          f"use {', '.join(SECTIONS)}")
    chosen = get_mode(file_cfg.get("mode", mode))
    preset = preset or file_cfg.get("preset")
    if preset in (None, "auto"):
        preset = chosen.default_preset({**file_cfg.get("data", {}), **overrides["data"]})
    if preset not in chosen.presets:
        raise ConfigError(f"unknown preset '{preset}' for {chosen.name} mode; choose one of "
                          f"{', '.join(chosen.presets)}")
    parts: dict[str, Any] = {section: config_type()
                             for section, config_type in chosen.config_types().items()}
    layers = (chosen.presets[preset], _objective_layer(chosen.presets[preset], file_cfg, overrides),
              file_cfg, overrides)
    for layer in layers:
        for section in SECTIONS:
            parts[section] = apply_overrides(parts[section], layer.get(section, {}), section)
    chosen.check_objective(parts["train"].objective)
    if overrides["train"].get("steps") is not None and parts["train"].budget_seconds:
        raise ConfigError("give --steps or --time-budget, not both: a time budget chooses the "
                          "steps")
    return RunConfig(chosen.name, preset, parts["train"], parts["data"], parts["model"])


def _objective_layer(preset: dict[str, Any], file_cfg: dict[str, Any],
                     overrides: dict[str, Any]) -> dict[str, Any]:
    """The chosen objective's paper settings (its registry entry's ``defaults``), when it is not the preset's.

    They go over the preset and under the config file and flags, so ``--objective wgan-clip``
    alone trains with RMSProp(5e-5) and c = 0.01, while ``--objective wgan-clip --lr 1e-4`` keeps
    the user's rate.
    """
    chosen = overrides.get("train", {}).get("objective") or file_cfg.get("train", {}).get("objective")
    if chosen is None:
        return {}
    own = preset.get("train", {}).get("objective", TrainConfig().objective)
    row = objective_defaults(chosen)
    own_row = OBJECTIVE_REGISTRY[own].defaults if own in OBJECTIVE_REGISTRY else None
    return {} if row == own_row else {"train": row}


def _check_new_run_dir(run_dir: Path) -> None:
    """``--out`` must be new, or a directory holding nothing a run would write into."""
    if run_dir.exists() and not run_dir.is_dir():
        raise TextganError(f"--out {run_dir} is a file; choose a directory")
    if run_dir.is_dir():
        clash = [n for n in ("metrics.jsonl", "checkpoints", "samples") if (run_dir / n).exists()]
        if clash:
            raise TextganError(f"{run_dir} holds {', '.join(clash)} but no config.toml; choose "
                               "another --out (nothing was changed)")


def _missing_dirs(path: Path) -> list[Path]:
    """``path`` and those of its ancestors that do not exist yet, deepest first."""
    missing, p = [], path.absolute()
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    return missing


def _remove_new_run(run: Run, created: list[Path]) -> None:
    """Undo what starting a new run wrote: the directories it created, or its config.toml."""
    if not created:
        run.config_path.unlink(missing_ok=True)
        return
    shutil.rmtree(created[0], ignore_errors=True)
    for directory in created[1:]:
        try:
            directory.rmdir()  # only if still empty
        except OSError:
            break


@dataclass
class TrainingSession:
    """A run ready to train; iterate :meth:`events` to train it.

    ``trained_seconds``: the training seconds recorded in the checkpoint resumed from;
    ``budget_keeps``: a time budget keeps the run's recorded steps if they still fit (a resume
    with the budget it was sized for); ``clock``: what training time is read from (tests fake it).
    """

    config: RunConfig
    run: Run
    trainer: TrainerProtocol
    setup: ModeSetup
    resumed_from: Path | None = None
    notes: list[str] = field(default_factory=list)
    sinks: list[Any] = field(default_factory=list)  # MetricsSinks (TensorBoard), closed at the end
    trained_seconds: float = 0.0
    budget_keeps: bool = False
    clock: Callable[[], float] = time.perf_counter

    def events(self, should_stop: Callable[[], bool] = lambda: False) -> Iterator[StepEvent]:
        """Train, yielding each step. Under torchrun every rank iterates this; ``should_stop``
        on any rank stops them all after the same step (rank 0 checkpoints it). With a time
        budget, the event of the step at which it sized the run carries the decision, and
        ``config.toml`` is rewritten with it."""
        extra_state = {"mode": self.config.mode, "config": self.config.to_dict(),
                       **self.setup.extra_state}
        if self.setup.label_names:
            extra_state["label_names"] = list(self.setup.label_names)
        train, dist = self.config.train, self.trainer.dist
        watch = Stopwatch(self.trained_seconds, self.clock)
        budget = (TimeBudget(train.budget_seconds, watch, self.trainer.step, train.steps,
                             keep=self.budget_keeps) if train.budget_seconds else None)

        def resized(decision: BudgetDecision) -> None:
            extra_state["config"] = self.config.to_dict()
            dist.on_main(lambda: self.run.write_config(self.config.to_dict()))

        try:
            with dist.peer_errors():
                yield from fit(self.trainer, self.run, extra_state=extra_state,
                               hooks=self.setup.hooks, should_stop=should_stop, sinks=self.sinks,
                               best_metric=self.config.train.best_metric or self.setup.best_metric,
                               watch=watch, budget=budget, on_resize=resized)
            _dump_rank_state(self.trainer)
        finally:
            for sink in self.sinks:
                sink.close()


def _dump_rank_state(trainer: TrainerProtocol) -> None:
    """Test hook: with ``TEXTGAN_DEBUG_RANK_STATE_DIR`` set, every rank of a torchrun job saves
    the parameters it ended with there (``rank<N>.pt``), to compare with the checkpoint."""
    directory = os.environ.get("TEXTGAN_DEBUG_RANK_STATE_DIR")
    if directory:
        import torch

        state = {name: module.state_dict() for name, module in trainer.models().items()}
        torch.save(state, Path(directory) / f"rank{trainer.dist.rank}.pt")


def make_trainer(setup: ModeSetup, data: BatchSource, config: TrainConfig, device: Any,
                 dist: Context) -> TrainerProtocol:
    """The trainer for ``config.objective``: the GAN trainer (generator and critic), or the
    maximum-likelihood one for a likelihood objective (the mode built no critic)."""
    if is_likelihood(config.objective):
        return LikelihoodTrainer(setup.generator, data, config, device, dist=dist)
    if setup.critic is None:
        raise ConfigError(f"objective {config.objective} needs a critic, and this mode built none")
    return Trainer(setup.generator, setup.critic, data, config, device, dist=dist)


def join_torchrun() -> Context:
    """This process's torchrun job, joined (gloo on the CPU, NCCL for CUDA tensors); a
    :class:`LocalContext` when not started by torchrun. Call
    :func:`textgan.core.distributed.shutdown` at the end."""
    try:
        return init_from_env(device=None)
    except (RuntimeError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise TextganError(f"could not join the torchrun job: {first[:200]}") from None


def _resumed_config(run: Run, overrides: dict[str, dict[str, Any]],
                    reschedule: bool = False) -> tuple[RunConfig, bool]:
    """The run's configuration with the ``RESUMABLE`` overrides, and whether a time budget keeps
    the recorded steps (the budget is the one the run was sized for)."""
    saved = run_config_from_dict(run.read_config())
    if saved.train.lr_schedule == "linear" and not saved.train.schedule_steps:
        if not saved.train.budget_seconds:  # recorded by older code: the steps it was started to
            saved.train.schedule_steps = saved.train.steps
    saved_dict = saved.to_dict()
    defaults = TrainConfig()
    for section, values in overrides.items():
        for key, value in values.items():
            if value is None or (section == "train" and key in RESUMABLE):
                continue
            if section == "train" and key in RECORDED:
                if value == getattr(defaults, key) or value == saved_dict["train"][key]:
                    continue  # (a whole config handed back, as textgan.api's resume does)
                raise ConfigError(f"cannot change train.{key} when resuming {run.dir}: it was "
                                  "recorded when the run started; --reschedule re-sizes the "
                                  "schedule to --steps")
            if saved_dict.get(section, {}).get(key) != value:
                raise ConfigError(
                    f"cannot change {section}.{key} when resuming {run.dir} (it was "
                    f"{saved_dict.get(section, {}).get(key)!r}); start a new run with --out"
                )
    resumable = {k: v for k, v in overrides.get("train", {}).items() if k in RESUMABLE}
    was_budget = saved.train.budget_seconds
    steps = resumable.get("steps")
    saved.train = apply_overrides(saved.train, resumable, "train")
    train = saved.train
    if train.budget_seconds and steps is not None and steps != saved_dict["train"]["steps"]:
        raise ConfigError(f"{run.dir} trains to a time budget ({train.time_budget}), which "
                          "chooses its steps; add --time-budget 0 to train to --steps instead")
    if reschedule and train.budget_seconds:
        raise ConfigError(f"{run.dir} trains to a time budget ({train.time_budget}), which sizes "
                          "its schedule; drop --reschedule, or add --time-budget 0 to re-size "
                          "it to --steps")
    if reschedule and train.lr_schedule != "linear":
        raise ConfigError(f"--reschedule re-sizes a linear learning-rate schedule; {run.dir} "
                          f"has a {train.lr_schedule} one")
    if (train.lr_schedule == "linear" and not train.budget_seconds and not reschedule
            and train.steps > train.schedule_steps > 0):
        raise ConfigError(f"--steps {train.steps} goes past the end of {run.dir}'s linear "
                          f"schedule (rate 0 at step {train.schedule_steps}); add --reschedule "
                          "for a new linear decay from the current rate to 0 at --steps, or "
                          f"give --steps {train.schedule_steps} or fewer")
    if not train.budget_seconds and not train.schedule_steps:
        train.schedule_steps = train.steps  # a budget dropped before it had sized the run
    keep = train.budget_seconds == was_budget and train.schedule_steps > 0
    return saved, keep


def _recorded_schedule(config: RunConfig) -> RunConfig:
    """A new run's schedule: its length is its steps (schedule_steps, when given, may be longer:
    the start of a longer schedule); a time budget sizes it after timing the first steps."""
    train = config.train
    if train.budget_seconds:
        train = dataclasses.replace(train, schedule_steps=0, decay_from_step=0,
                                    decay_from_factor=1.0)
    else:
        train = dataclasses.replace(train, schedule_steps=train.schedule_steps or train.steps)
        if train.lr_schedule == "linear" and train.schedule_steps < train.steps:
            raise ConfigError(f"schedule_steps {train.schedule_steps} is less than steps "
                              f"{train.steps}: the last steps would train at rate 0")
    return dataclasses.replace(config, train=train)


def start_training(config: RunConfig, *, out: str | Path | None = None,
                   runs_dir: str | Path = "runs", progress: ProgressFn | None = None,
                   tensorboard: bool = False, dist: Context | None = None) -> TrainingSession:
    """Create a new run directory for ``config`` and build everything to train it.

    ``tensorboard`` also logs every metric to ``<run>/tensorboard/``. A start that fails leaves
    nothing behind. Under torchrun (``dist``) every rank calls this; rank 0's configuration and
    run directory (a default name is rank 0's clock) are used by all.
    """
    dist = dist or LocalContext()
    with dist.peer_errors():
        def locate() -> tuple[Path, RunConfig]:
            _check_tensorboard(tensorboard)
            run_dir = Path(out) if out else new_run_dir(runs_dir, config.mode)
            if Run(run_dir).exists():
                raise TextganError(f"{run_dir} already holds a run; continue it with --resume or "
                                   "choose another --out")
            _check_new_run_dir(run_dir)
            return run_dir, _recorded_schedule(config)

        run_dir, cfg = dist.share(locate)
        run = Run(run_dir, keep_checkpoints=cfg.train.keep_checkpoints)
        created = _missing_dirs(run_dir) if dist.is_main else []
        try:
            # config.toml first: a run killed at any moment from here on (even while its corpus
            # is being prepared) can be continued with --resume.
            dist.on_main(lambda: run.write_config(cfg.to_dict()))
            return _assemble(cfg, run, dist, progress, tensorboard, resume=False)
        except BaseException:
            if dist.is_main:  # a new run that failed to start leaves nothing behind
                _remove_new_run(run, created)
            raise


def resume_training(out: str | Path | None = None, *, runs_dir: str | Path = "runs",
                    overrides: dict[str, dict[str, Any]] | None = None,
                    progress: ProgressFn | None = None, tensorboard: bool = False,
                    dist: Context | None = None, reschedule: bool = False) -> TrainingSession:
    """Reopen the run in ``out`` (default: the latest under ``runs_dir``) at its newest loadable
    checkpoint; corrupt newer ones are skipped and named in ``notes``. Metrics logged after that
    checkpoint are dropped (they will be redone). ``overrides`` may change only ``RESUMABLE``
    settings. Under torchrun rank 0 chooses the run and the checkpoint; every rank loads it.

    The run's linear schedule stays the one recorded when it started, so a resume continues it
    exactly; ``steps`` past its end is an error unless ``reschedule``: a new linear decay from
    the rate of the step resumed at to 0 at ``steps``. With a time budget, what is left of it
    (minus the training seconds recorded in the checkpoint) sizes the rest of the run.
    """
    dist = dist or LocalContext()
    with dist.peer_errors():
        def locate() -> tuple[Path, RunConfig]:
            _check_tensorboard(tensorboard)
            run_dir = Path(out) if out else latest_run(runs_dir, hint="pass --out RUN_DIR")
            if not Run(run_dir).exists():
                raise TextganError(f"cannot resume: {run_dir} is not a run directory (no "
                                   "config.toml)")
            return (run_dir, *_resumed_config(Run(run_dir), overrides or {}, reschedule))

        run_dir, cfg, keep = dist.share(locate)
        run = Run(run_dir, keep_checkpoints=cfg.train.keep_checkpoints)
        session = _assemble(cfg, run, dist, progress, tensorboard, resume=True,
                            reschedule=reschedule)
        session.budget_keeps = keep
        return session


def _check_tensorboard(tensorboard: bool) -> None:
    if tensorboard:
        from textgan.tensorboard import require_tensorboard

        require_tensorboard()  # before anything is written


def _assemble(cfg: RunConfig, run: Run, dist: Context, progress: ProgressFn | None,
              tensorboard: bool, *, resume: bool, reschedule: bool = False) -> TrainingSession:
    """Device, data, models and trainer for a run whose directory and configuration are
    settled; with ``resume``, the newest good checkpoint loaded into them."""
    device = dist.everywhere(lambda: resolve_device(cfg.train.device, dist.local_rank))
    dist.set_device(device)
    if cfg.train.threads:
        torch.set_num_threads(cfg.train.threads)
    seed_everything(cfg.train.seed)
    setup = _build(cfg, run, device, progress, dist)
    get_mode(cfg.mode).check_labels(cfg, num_classes_of(setup.data))
    # Same data seed everywhere, each rank keeps its rows of the global batch; own noise.
    data = RankShare(setup.data, dist.rank, dist.world_size)
    seed_everything(rank_seed(cfg.train.seed, dist.rank))
    notes: list[str] = []
    if dist.world_size > 1:
        notes.append(f"data-parallel: {dist.world_size} ranks × batch {cfg.train.batch_size} = "
                     f"{dist.world_size * cfg.train.batch_size} samples per step; rank 0 logs "
                     "and checkpoints")
    trainer = make_trainer(setup, data, cfg.train, device, dist)
    if trainer.ema is not None:  # samples and in-training evaluations use the moving average
        setup.sampler.module = trainer.ema.module
    notes += setup.notes
    resumed_from, trained = (_resume(trainer, setup, get_mode(cfg.mode), run, device, dist, notes)
                             if resume else (None, 0.0))
    if resume:
        notes += _schedule_on_resume(cfg.train, trainer.step, trained, reschedule)
    sinks: list[Any] = []

    def finish_files() -> None:
        if resume:
            run.truncate_metrics(trainer.step)
        run.write_config(cfg.to_dict())
        if tensorboard:
            from textgan.tensorboard import TensorBoardSink

            sinks.append(TensorBoardSink.for_run(run, trainer.step))
            notes.append(f"TensorBoard: tensorboard --logdir {sinks[-1].logdir}")

    dist.on_main(finish_files)
    return TrainingSession(cfg, run, trainer, setup, resumed_from, notes, sinks, trained)


def _schedule_on_resume(train: TrainConfig, step: int, trained: float,
                        reschedule: bool) -> list[str]:
    """Re-size the schedule when asked (in place); what the resumed run will do, in words."""
    if train.budget_seconds:
        left = train.budget_seconds - trained
        if left <= 0:
            return [f"time budget {train.time_budget} is spent ({trained:.1f} s trained): "
                    "nothing to train; a longer --time-budget continues"]
        return [f"time budget {train.time_budget}: {trained:.1f} s trained, {left:.1f} s left"]
    if train.lr_schedule != "linear":
        return []
    if reschedule:
        resize_schedule(train, step, train.steps)
        return [f"rescheduled: both learning rates decay linearly from "
                f"{train.decay_from_factor:.4g} × their base at step {step} to 0 at step "
                f"{train.steps}"]
    if train.steps < train.schedule_steps:
        return [f"the linear schedule reaches rate 0 at step {train.schedule_steps}; this run "
                f"stops at step {train.steps} at {linear_decay(train, train.steps):.3g} × the "
                "base rates (--reschedule decays to 0 at --steps)"]
    return []


def _build(config: RunConfig, run: Run, device: Any, progress: ProgressFn | None,
           dist: Context) -> ModeSetup:
    """The mode's models, data and hooks. Under torchrun in three turns, each agreed: rank 0
    (downloads and prepares), the first rank of every other node (its own copy when nodes share
    no file system; else it finds rank 0's), then the rest. Only rank 0 builds hooks."""
    mode = get_mode(config.mode)
    hookless = dataclasses.replace(config, train=dataclasses.replace(config.train, sample_every=0,
                                                                     eval_every=0))
    turn = 0 if dist.is_main else 1 if dist.local_rank == 0 else 2
    setup: ModeSetup | None = None
    for now in range(3):
        if now == turn:
            setup = dist.everywhere(lambda: mode.build(
                config if dist.is_main else hookless, run, device,
                progress if dist.is_main else None))
        else:
            dist.agree()
    assert setup is not None
    return setup


def _resume(trainer: TrainerProtocol, setup: ModeSetup, mode: Mode, run: Run, device: Any,
            dist: Context, notes: list[str]) -> tuple[Path | None, float]:
    """Load the newest good checkpoint (rank 0 chooses it; every rank loads that file); its path
    and the training seconds it records (0 for checkpoints older than that record)."""
    found: dict[str, Any] = {}

    def choose() -> tuple[Path, list[tuple[Path, str]]] | None:
        point = run.checkpoints.latest(map_location=device)
        if point is None:
            return None
        found["state"] = point.state
        return point.path, point.skipped

    chosen = dist.share(choose)
    if chosen is None:
        notes.append(f"no checkpoint in {run.dir}: starting from step 0")
        return None, 0.0
    path, skipped = chosen
    for skipped_path, reason in skipped:
        notes.append(f"falling back past {skipped_path.name}: {reason}")

    def load() -> dict[str, Any]:
        state = found.get("state") or load_checkpoint(path, map_location=device)
        mode.check_checkpoint(state, path)
        try:
            setup.check_state(state, path)
            trainer.load_state_dict(state)
        except (KeyError, RuntimeError, ValueError, TypeError, IndexError) as err:
            first = str(err).splitlines()[0][:100] if str(err) else type(err).__name__
            raise CheckpointError(f"{path} does not fit this run's models "
                                  f"({first}); start a new run with --out") from None
        return state

    state = dist.everywhere(load)
    # Each rank continues its own noise stream when the job has the same size (a checkpoint of
    # a single process, before rank_rng was saved, holds just its "rng"); otherwise fresh
    # per-rank streams (the continuation is then not bit-identical to an uninterrupted run).
    rank_rng = state.get("rank_rng") or [state["rng"]]
    if isinstance(rank_rng, list) and len(rank_rng) == dist.world_size:
        trainer.load_rng_state(rank_rng[dist.rank])
    else:
        seed_everything(rank_seed(trainer.config.seed + trainer.step, dist.rank))
    saved_world = state.get("world_size", 1)
    if saved_world != dist.world_size:
        notes.append(f"the checkpoint was trained by {saved_world} process(es), this job has "
                     f"{dist.world_size}: each step now sees "
                     f"{dist.world_size * trainer.config.batch_size} samples")
    notes.append(f"resumed from {path} (step {trainer.step})")
    return path, float(state.get("training_seconds", 0.0))
