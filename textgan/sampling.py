"""Sampling from a trained run, whatever its mode (the ``textgan sample`` library side)."""

from __future__ import annotations

from pathlib import Path

from textgan.core.mode import SampleResult
from textgan.device import resolve_device
from textgan.errors import ConfigError
from textgan.opening import open_model


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
    opened = (open_model(model, folder=True) if model is not None else
              open_model(run=run, checkpoint=checkpoint, raw=raw, runs_dir=runs_dir))
    with opened.content():
        result = opened.mode.sample(opened.state, opened.source, n, seed=seed,
                                    temperature=temperature, out=out,
                                    device=resolve_device(device), label=label)
    if opened.folder_config is not None:
        result.notes = [f"model: {opened.source} ({opened.mode.name}, step {opened.step})"]
    else:
        result.notes = opened.notes + result.notes
    return result
