"""Opening a trained model, whatever it was saved as: the one way ``sample``, ``eval``,
``export`` and :func:`textgan.load` find the generator to use.

:func:`open_model` takes a run directory (its newest loadable checkpoint, or ``best``), a
checkpoint file or an exported model folder, and returns an :class:`OpenedModel`: its mode, a
checkpoint-shaped ``state`` whose generator is the one to use (the moving average where the run
kept one, unless ``raw``), where it came from, and :meth:`OpenedModel.content`, which words what a
damaged or foreign file raises while the mode reads ``state`` in one line.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textgan.errors import CheckpointError, ConfigError, TextganError


@dataclass
class OpenedModel:
    mode: Any  # textgan.core.mode.Mode
    state: dict[str, Any]  # a CheckpointState: a missing entry is a damaged file, not a bug
    source: Path  # the checkpoint file or model folder
    weights: str  # which generator: the moving average or the trained one
    run_dir: Path | None = None
    folder_config: dict[str, Any] | None = None  # config.json, for a model folder
    notes: list[str] = field(default_factory=list)

    @property
    def step(self) -> int:
        return int(self.state.get("step", 0))

    def content(self) -> AbstractContextManager[None]:
        """Around the mode reading :attr:`state`: a damaged file → one line naming it."""
        from textgan.core.mode import checkpoint_content
        from textgan.export import folder_content

        if self.folder_config is not None:
            return folder_content(self.source)
        return checkpoint_content(self.source, self.mode.name)


def open_model(path: str | Path | None = None, *, run: str | Path | None = None,
               checkpoint: str | Path | None = None, raw: bool = False,
               runs_dir: str | Path = "runs", folder: bool = False) -> OpenedModel:
    """The model at ``path``: an exported model folder, a run directory (its newest loadable
    checkpoint; ``checkpoint="best"``: its best.pt) or a checkpoint file; ``folder``: ``path``
    must be a model folder. Or, ``path`` None: the run directory ``run`` (default: the newest
    in ``runs_dir``) or the checkpoint file ``checkpoint``. The configuration is checked before
    anything is sampled."""
    from textgan.core.ema import sampling_state
    from textgan.core.mode import CheckpointState
    from textgan.core.run import Run, resolve_checkpoint
    from textgan.export import CONFIG_FILE, is_model_folder, read_model_folder, run_dir_of
    from textgan.modes import get_mode

    if path is not None:
        path = Path(path)
        if folder or path.is_dir() and (is_model_folder(path) or (
                (path / CONFIG_FILE).is_file() and not Run(path).exists())):  # damaged: say how
            if raw or checkpoint is not None:
                raise ConfigError(f"{path} is a model folder: it holds one generator (raw and "
                                  "checkpoint apply to runs)")
            read = read_model_folder(path)
            return OpenedModel(get_mode(read.state["mode"]), CheckpointState(read.state), path,
                               read.config["weights"]["generator"], folder_config=read.config)
        if path.is_file():
            if checkpoint is not None:
                raise ConfigError("give a run directory with checkpoint=, or a checkpoint file "
                                  "alone")
            path, checkpoint = None, path
        elif path.is_dir():
            Run.open(path)  # not a run: says so
        else:
            raise TextganError(f"{path} is neither a model folder, a run directory nor a "
                               "checkpoint file")
        run = path
    found, state, notes = resolve_checkpoint(run, checkpoint, runs_dir)
    if not isinstance(state, dict) or not isinstance(state.get("mode"), str):
        raise CheckpointError(f"{found} has no mode: not a textgan checkpoint")
    mode = get_mode(state["mode"])
    mode.config_from_checkpoint(state, found)  # a damaged configuration: one line, now
    ema = "generator_ema" in state and not raw
    weights = (f"the moving average of the generator's weights (ema_decay "
               f"{state['config']['train'].get('ema_decay')})" if ema
               else "the trained generator")
    return OpenedModel(mode, CheckpointState(sampling_state(state, raw)), found, weights,
                       run_dir=run_dir_of(found), notes=notes)
