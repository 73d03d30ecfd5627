"""Sampling from a trained run, whatever its mode (the ``textgan sample`` library side)."""

from __future__ import annotations

from pathlib import Path

from textgan.core.ema import sampling_state
from textgan.core.mode import SampleResult, checkpoint_content
from textgan.core.run import resolve_checkpoint
from textgan.device import resolve_device
from textgan.errors import CheckpointError, ConfigError
from textgan.modes import get_mode


def sample_from(n: int, *, run: str | Path | None = None, checkpoint: str | Path | None = None,
                runs_dir: str | Path = "runs", seed: int | None = None,
                temperature: float | None = None, out: Path | None = None,
                device: str = "auto", raw: bool = False,
                model: str | Path | None = None, label: str | None = None) -> SampleResult:
    """Draw ``n`` samples from a run's newest checkpoint (or ``checkpoint``; ``"best"`` for its
    ``best.pt``), from the generator's moving average when it has one (``raw``: the trained
    generator); or from an exported ``model`` folder (:mod:`textgan.export`). ``label``: every
    sample of that class (a conditional model)."""
    if n < 1:
        raise ConfigError(f"-n must be at least 1, got {n}")
    if temperature is not None and not temperature > 0:
        raise ConfigError(f"--temperature must be positive, got {temperature}")
    if model is not None:
        if run is not None or checkpoint is not None or raw:
            raise ConfigError("give --model alone: a model folder holds one generator (--run, "
                              "--checkpoint and --raw are for runs)")
        return _sample_folder(Path(model), n, seed=seed, temperature=temperature, out=out,
                              device=device, label=label)
    path, state, notes = resolve_checkpoint(run, checkpoint, runs_dir)
    if not isinstance(state.get("mode"), str):
        raise CheckpointError(f"{path} has no mode: not a textgan checkpoint")
    mode = get_mode(state["mode"])
    with checkpoint_content(path, mode.name):
        result = mode.sample(sampling_state(state, raw), path, n, seed=seed,
                             temperature=temperature, out=out, device=resolve_device(device),
                             label=label)
    result.notes = notes + result.notes
    return result


def _sample_folder(path: Path, n: int, *, seed: int | None, temperature: float | None,
                   out: Path | None, device: str, label: str | None) -> SampleResult:
    from textgan.export import folder_content, read_model_folder

    folder = read_model_folder(path)
    mode = get_mode(folder.state["mode"])
    with folder_content(path):
        result = mode.sample(folder.state, path, n, seed=seed, temperature=temperature, out=out,
                             device=resolve_device(device), label=label)
    result.notes = [f"model: {path} ({mode.name}, step {folder.state['step']})"]
    return result
