"""Sampling from a trained run, whatever its mode (the ``textgan sample`` library side)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from textgan.core.checkpoint import load_checkpoint
from textgan.core.run import Run, latest_run
from textgan.device import resolve_device
from textgan.errors import CheckpointError, ConfigError
from textgan.training import mode_module


@dataclass
class SampleResult:
    lines: list[str] | None = None  # text modes: decoded samples
    files: list[Path] = field(default_factory=list)  # image/toy modes: written files
    notes: list[str] = field(default_factory=list)


def resolve_checkpoint(run: str | Path | None, checkpoint: str | Path | None,
                       runs_dir: str | Path = "runs") -> tuple[Path, dict, list[str]]:
    """(path, state, notes) of the checkpoint to sample from; the newest loadable of a run."""
    notes: list[str] = []
    if checkpoint is not None:
        path = Path(checkpoint)
        return path, load_checkpoint(path), notes
    if run is None:
        run = latest_run(runs_dir)
        notes.append(f"using the most recent run: {run}")
    point = Run.open(run).checkpoints.latest()
    if point is None:
        raise CheckpointError(f"run {run} has no checkpoint yet; train it first")
    notes += [f"skipped {p.name}: {why}" for p, why in point.skipped]
    return point.path, point.state, notes


def sample_from(n: int, *, run: str | Path | None = None, checkpoint: str | Path | None = None,
                runs_dir: str | Path = "runs", seed: int | None = None,
                temperature: float | None = None, out: Path | None = None,
                device: str = "auto") -> SampleResult:
    """Draw ``n`` samples from a run's newest checkpoint (or ``checkpoint``)."""
    if n < 1:
        raise ConfigError(f"-n must be at least 1, got {n}")
    if temperature is not None and not temperature > 0:
        raise ConfigError(f"--temperature must be positive, got {temperature}")
    path, state, notes = resolve_checkpoint(run, checkpoint, runs_dir)
    mode = state.get("mode")
    if not isinstance(mode, str):
        raise CheckpointError(f"{path} has no mode: not a textgan checkpoint")
    module, device_ = mode_module(mode), resolve_device(device)
    try:
        result = module.sample(state, path, n, seed=seed, temperature=temperature, out=out,
                               device=device_)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as err:
        # Loading was safe (weights_only), but the content is not what textgan writes: a
        # hand-made or damaged checkpoint. Say so instead of showing a traceback.
        first = str(err).splitlines()[0][:100] if str(err) else type(err).__name__
        raise CheckpointError(f"{path} is not a usable {mode} checkpoint ({type(err).__name__}: "
                              f"{first})") from None
    result.notes = notes + result.notes
    return result
