"""Starting and resuming training runs: config resolution, run directories, the session.

The CLI calls :func:`resolve_config` and :func:`start_training`, then iterates
:meth:`TrainingSession.events`; every decision lives here, the CLI only renders.

Under torchrun (:func:`join_torchrun`) every rank calls the same functions with the job's
:class:`~textgan.core.distributed.DistributedContext`: rank 0 resolves the configuration, picks
the run directory and writes every file; the others receive what rank 0 decided.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from textgan.config import apply_overrides, as_dict, load_toml
from textgan.core.checkpoint import CheckpointError, load_checkpoint
from textgan.core.distributed import (
    DistributedContext,
    RankShare,
    init_from_env,
    peer_errors,
    rank_seed,
)
from textgan.core.loop import StepEvent, fit
from textgan.core.mode import ModeSetup
from textgan.core.objectives import OBJECTIVE_DEFAULTS, objective_defaults
from textgan.core.run import Run, latest_run, new_run_dir
from textgan.core.trainer import TrainConfig, Trainer, seed_everything
from textgan.device import resolve_device
from textgan.errors import ConfigError, TextganError

MODES = {"text": "textgan.text.mode", "image": "textgan.image.mode", "toy": "textgan.toy.mode"}
PRESET_MODULES = {"text": "textgan.text.presets", "image": "textgan.image.presets",
                  "toy": "textgan.toy.presets"}
SECTIONS = ("train", "data", "model")
# What may change when a run resumes: how long and where it runs, how often it reports.
RESUMABLE = {"steps", "device", "checkpoint_every", "sample_every", "eval_every", "log_every",
             "keep_checkpoints"}


def mode_module(mode: str) -> ModuleType:
    if mode not in MODES:
        raise ConfigError(f"unknown mode '{mode}'; choose one of {', '.join(MODES)}")
    try:
        return importlib.import_module(MODES[mode])
    except ModuleNotFoundError as err:
        if err.name is None or not MODES[mode].startswith(err.name):
            raise  # a missing dependency inside the mode is a real problem: keep the traceback
        raise ConfigError(f"{mode} mode is not available in this version of textgan") from None


def config_types(mode: str) -> dict[str, type]:
    """The config dataclass of each section of a ``mode`` run (what its settings are)."""
    module = mode_module(mode)
    return {"train": TrainConfig, "data": module.DataConfig, "model": module.ModelConfig}


def presets_for(mode: str) -> dict[str, dict[str, dict[str, Any]]]:
    mode_module(mode)
    return importlib.import_module(PRESET_MODULES[mode]).PRESETS


@dataclass
class RunConfig:
    """The effective configuration of a run, saved as its ``config.toml``."""

    mode: str
    preset: str
    train: TrainConfig
    data: Any
    model: Any

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "preset": self.preset, "train": as_dict(self.train),
                "data": as_dict(self.data), "model": as_dict(self.model)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunConfig:
        mode = d.get("mode", "text")
        parts = {section: apply_overrides(config_type(), d.get(section, {}), section)
                 for section, config_type in config_types(mode).items()}
        return cls(mode=mode, preset=d.get("preset", "custom"), **parts)


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
    mode = file_cfg.get("mode", mode)
    types = config_types(mode)
    presets = presets_for(mode)
    preset = preset or file_cfg.get("preset")
    if preset in (None, "auto"):
        data_hints = {**file_cfg.get("data", {}), **overrides["data"]}
        preset = importlib.import_module(PRESET_MODULES[mode]).default_preset(data_hints)
    if preset not in presets:
        raise ConfigError(f"unknown preset '{preset}' for {mode} mode; choose one of "
                          f"{', '.join(presets)}")
    parts: dict[str, Any] = {section: config_type() for section, config_type in types.items()}
    objective_layer = _objective_layer(presets[preset], file_cfg, overrides)
    for layer in (presets[preset], objective_layer, file_cfg, overrides):
        for section in SECTIONS:
            parts[section] = apply_overrides(parts[section], layer.get(section, {}), section)
    return RunConfig(mode, preset, parts["train"], parts["data"], parts["model"])


def _objective_layer(preset: dict[str, Any], file_cfg: dict[str, Any],
                     overrides: dict[str, Any]) -> dict[str, Any]:
    """The chosen objective's paper settings (``OBJECTIVE_DEFAULTS``), when it is not the preset's.

    They go over the preset and under the config file and flags, so ``--objective wgan-clip``
    alone trains with RMSProp(5e-5) and c = 0.01, while ``--objective wgan-clip --lr 1e-4`` keeps
    the user's rate.
    """
    chosen = overrides.get("train", {}).get("objective") or file_cfg.get("train", {}).get("objective")
    if chosen is None:
        return {}
    own = preset.get("train", {}).get("objective", TrainConfig().objective)
    row = objective_defaults(chosen)
    return {} if row == OBJECTIVE_DEFAULTS.get(own) else {"train": row}


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
    """A run ready to train; iterate :meth:`events` to train it."""

    config: RunConfig
    run: Run
    trainer: Trainer
    setup: ModeSetup
    resumed_from: Path | None = None
    notes: list[str] = field(default_factory=list)
    sinks: list[Any] = field(default_factory=list)  # MetricsSinks (TensorBoard), closed at the end

    def events(self, should_stop: Callable[[], bool] = lambda: False) -> Iterator[StepEvent]:
        """Train, yielding each step. Under torchrun every rank iterates this; ``should_stop``
        on any rank stops them all after the same step (rank 0 checkpoints it)."""
        try:
            with peer_errors(self.trainer.dist):
                yield from fit(self.trainer, self.run, extra_state=self.setup.extra_state,
                               hooks=self.setup.hooks, should_stop=should_stop, sinks=self.sinks)
            _dump_rank_state(self.trainer)
        finally:
            for sink in self.sinks:
                sink.close()


def _dump_rank_state(trainer: Trainer) -> None:
    """Test hook: with ``TEXTGAN_DEBUG_RANK_STATE_DIR`` set, every rank of a torchrun job saves
    the parameters it ended with there (``rank<N>.pt``), to compare with the checkpoint."""
    directory = os.environ.get("TEXTGAN_DEBUG_RANK_STATE_DIR")
    if directory and trainer.dist is not None:
        import torch

        state = {"generator": trainer.generator.state_dict(), "critic": trainer.critic.state_dict()}
        torch.save(state, Path(directory) / f"rank{trainer.dist.rank}.pt")


def join_torchrun() -> DistributedContext | None:
    """This process's torchrun job, joined (gloo on the CPU, NCCL for CUDA tensors); ``None``
    when not started by torchrun. Call :func:`textgan.core.distributed.shutdown` at the end."""
    try:
        return init_from_env(device=None)
    except (RuntimeError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise TextganError(f"could not join the torchrun job: {first[:200]}") from None


def _on_main(dist: DistributedContext | None, fn: Callable[[], Any]) -> Any:
    """``fn()`` on rank 0 (or the only process), its result on every rank; failures agreed."""
    return fn() if dist is None else dist.share(fn)


def _everywhere(dist: DistributedContext | None, fn: Callable[[], Any]) -> Any:
    return fn() if dist is None else dist.everywhere(fn)


def _resumed_config(run: Run, overrides: dict[str, dict[str, Any]]) -> RunConfig:
    saved = RunConfig.from_dict(run.read_config())
    saved_dict = saved.to_dict()
    for section, values in overrides.items():
        for key, value in values.items():
            if value is None or (section == "train" and key in RESUMABLE):
                continue
            if saved_dict.get(section, {}).get(key) != value:
                raise ConfigError(
                    f"cannot change {section}.{key} when resuming {run.dir} (it was "
                    f"{saved_dict.get(section, {}).get(key)!r}); start a new run with --out"
                )
    resumable = {k: v for k, v in overrides.get("train", {}).items() if k in RESUMABLE}
    saved.train = apply_overrides(saved.train, resumable, "train")
    return saved


def start_training(config: RunConfig | Callable[[], RunConfig] | None, *,
                   out: str | Path | None = None, runs_dir: str | Path = "runs",
                   resume: bool = False, overrides: dict[str, dict[str, Any]] | None = None,
                   progress: Callable[[str, int, int | None], None] | None = None,
                   tensorboard: bool = False,
                   dist: DistributedContext | None = None) -> TrainingSession:
    """Create (or, with ``resume``, reopen) a run directory and build everything to train it.

    Resuming loads the newest loadable checkpoint; corrupt newer ones are skipped and named
    in ``notes``. Metrics logged after that checkpoint are dropped (they will be redone).
    ``tensorboard`` also logs every metric to ``<run>/tensorboard/``. ``config`` may be a
    function returning it (called on rank 0 only under torchrun).

    With ``dist`` every rank of the torchrun job calls this. Rank 0 resolves the configuration,
    picks the run directory (a new default name is rank 0's clock), writes config.toml and
    prepares the data; then the first rank of each other node builds (preparing its own copy if
    the nodes share no file system), then the rest, which find the data prepared. Hooks are built
    on rank 0 only. Each rank keeps its share of every global batch (``batch_size`` is per rank)
    and draws its own noise; resuming, every rank loads the checkpoint rank 0 chose. A failure
    on any rank is raised on all of them.
    """
    with peer_errors(dist):
        return _start_training(config, out=out, runs_dir=runs_dir, resume=resume,
                               overrides=overrides, progress=progress, tensorboard=tensorboard,
                               dist=dist)


def _start_training(config: RunConfig | Callable[[], RunConfig] | None, *, out: str | Path | None,
                    runs_dir: str | Path, resume: bool,
                    overrides: dict[str, dict[str, Any]] | None,
                    progress: Callable[[str, int, int | None], None] | None, tensorboard: bool,
                    dist: DistributedContext | None) -> TrainingSession:
    main = dist is None or dist.is_main
    notes: list[str] = []

    def locate() -> tuple[Path, RunConfig]:
        """Which run directory and configuration (rank 0's decision)."""
        if tensorboard:
            from textgan.tensorboard import require_tensorboard

            require_tensorboard()  # before anything is written
        if resume:
            run_dir = Path(out) if out else latest_run(runs_dir, hint="pass --out RUN_DIR")
            if not Run(run_dir).exists():
                raise TextganError(f"cannot resume: {run_dir} is not a run directory (no config.toml)")
            return run_dir, _resumed_config(Run(run_dir), overrides or {})
        resolved = config() if callable(config) else config
        if resolved is None:
            raise ConfigError("no configuration given")
        run_dir = Path(out) if out else new_run_dir(runs_dir, resolved.mode)
        if Run(run_dir).exists():
            raise TextganError(f"{run_dir} already holds a run; continue it with --resume or "
                               "choose another --out")
        _check_new_run_dir(run_dir)
        return run_dir, resolved

    run_dir, cfg = _on_main(dist, locate)
    local_rank = None if dist is None else dist.local_rank
    device = _everywhere(dist, lambda: resolve_device(cfg.train.device, local_rank))
    if dist is not None:
        dist.set_device(device)
    run = Run(run_dir, keep_checkpoints=cfg.train.keep_checkpoints)
    created = _missing_dirs(run_dir) if main and not resume else []
    try:
        if not resume:
            # config.toml first: a run killed at any moment from here on (even while its corpus
            # is being prepared) can be continued with --resume.
            _on_main(dist, lambda: run.write_config(cfg.to_dict()))
        seed_everything(cfg.train.seed)
        setup = _build(cfg, run, device, progress, dist)
    except BaseException:
        if main and not resume:  # a new run that failed to build leaves nothing behind
            _remove_new_run(run, created)
        raise
    data = setup.data
    if dist is not None:
        # Same data seed everywhere, each rank keeps its rows of the global batch; own noise.
        data = RankShare(setup.data, dist.rank, dist.world_size)
        seed_everything(rank_seed(cfg.train.seed, dist.rank))
        notes.append(f"data-parallel: {dist.world_size} ranks × batch {cfg.train.batch_size} = "
                     f"{dist.world_size * cfg.train.batch_size} samples per step; rank 0 logs "
                     "and checkpoints")
    trainer = Trainer(setup.generator, setup.critic, data, cfg.train, device, dist=dist)
    notes += setup.notes
    resumed_from = None
    if resume:
        resumed_from = _resume(trainer, setup, run, device, dist, notes)
    sinks: list[Any] = []

    def finish_files() -> None:
        if resume:
            run.truncate_metrics(trainer.step)
        run.write_config(cfg.to_dict())
        if tensorboard:
            from textgan.tensorboard import TensorBoardSink

            sinks.append(TensorBoardSink.for_run(run, trainer.step))
            notes.append(f"TensorBoard: tensorboard --logdir {sinks[-1].logdir}")

    if dist is None:
        finish_files()
    else:
        dist.on_main(finish_files)
    return TrainingSession(cfg, run, trainer, setup, resumed_from, notes, sinks)


def _build(config: RunConfig, run: Run, device: Any,
           progress: Callable[[str, int, int | None], None] | None,
           dist: DistributedContext | None) -> ModeSetup:
    """The mode's models, data and hooks. Under torchrun in three turns, each agreed: rank 0
    (downloads and prepares), the first rank of every other node (its own copy when nodes share
    no file system; else it finds rank 0's), then the rest. Only rank 0 builds hooks."""
    module = mode_module(config.mode)
    if dist is None:
        return module.build(config, run, device, progress)
    hookless = dataclasses.replace(config, train=dataclasses.replace(config.train, sample_every=0,
                                                                     eval_every=0))
    turn = 0 if dist.is_main else 1 if dist.local_rank == 0 else 2
    setup: ModeSetup | None = None
    for now in range(3):
        if now == turn:
            setup = dist.everywhere(lambda: module.build(
                config if dist.is_main else hookless, run, device,
                progress if dist.is_main else None))
        else:
            dist.agree()
    assert setup is not None
    return setup


def _resume(trainer: Trainer, setup: ModeSetup, run: Run, device: Any,
            dist: DistributedContext | None, notes: list[str]) -> Path | None:
    """Load the newest good checkpoint (rank 0 chooses it; every rank loads that file)."""
    found: dict[str, Any] = {}

    def choose() -> tuple[Path, list[tuple[Path, str]]] | None:
        point = run.checkpoints.latest(map_location=device)
        if point is None:
            return None
        found["state"] = point.state
        return point.path, point.skipped

    chosen = _on_main(dist, choose)
    if chosen is None:
        notes.append(f"no checkpoint in {run.dir}: starting from step 0")
        return None
    path, skipped = chosen
    for skipped_path, reason in skipped:
        notes.append(f"falling back past {skipped_path.name}: {reason}")

    def load() -> dict[str, Any]:
        state = found.get("state") or load_checkpoint(path, map_location=device)
        try:
            setup.check_state(state, path)
            trainer.load_state_dict(state)
        except (KeyError, RuntimeError, ValueError, TypeError, IndexError) as err:
            first = str(err).splitlines()[0][:100] if str(err) else type(err).__name__
            raise CheckpointError(f"{path} does not fit this run's models "
                                  f"({first}); start a new run with --out") from None
        return state

    state = _everywhere(dist, load)
    if dist is not None:
        # Each rank continues its own noise stream when the job has the same size; otherwise
        # fresh per-rank streams (the continuation is then not bit-identical to an
        # uninterrupted run).
        rank_rng = state.get("rank_rng")
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
    return path
