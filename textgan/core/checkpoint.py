"""Checkpoints: written atomically, loaded without running code, the last K kept.

A checkpoint is one ``torch.save`` file of tensors and plain containers (dicts, lists, strings,
numbers). It is loaded with ``torch.load(weights_only=True)``, whose unpickler only rebuilds those
types: a file that tries to run code (a crafted pickle) is refused, never executed.
"""

from __future__ import annotations

import os
import pickle
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from textgan.errors import CheckpointError

CHECKPOINT_FORMAT = 1
_NAME = re.compile(r"^step_(\d{8})\.pt$")


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # some platforms cannot open directories; rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, write: Any) -> None:
    """Write a file so that ``path`` holds either its old content or the complete new one.

    ``write(f)`` writes into a temporary file beside ``path``; it is flushed, fsynced and renamed
    over ``path`` (rename is atomic on POSIX), then the directory is fsynced. On any error the
    temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def to_plain(value: Any) -> Any:
    """numpy arrays/scalars → lists/numbers, recursively, so ``weights_only`` loading accepts them
    (RNG states from numpy carry arrays)."""
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_plain(v) for v in value)
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    return value


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> None:
    """Atomically save ``state`` (tensors and plain containers only) to ``path``."""
    path = Path(path)
    payload = to_plain({"format": CHECKPOINT_FORMAT, **state})
    try:
        atomic_write_bytes(path, lambda f: torch.save(payload, f))
    except OSError as err:
        raise CheckpointError(
            f"could not write checkpoint {path}: {err.strerror or err}; the previous checkpoint is "
            "kept — free space or fix permissions, then continue with --resume"
        ) from None


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint safely (``weights_only=True``); a clear error for any bad file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else "unsafe content"
        if "weights_only" in str(err) or "Unsupported" in str(err) or "global" in str(err).lower():
            raise CheckpointError(
                f"refusing to load {path}: it contains objects other than tensors and plain data "
                "(it could run code); only load checkpoints written by textgan"
            ) from None
        raise CheckpointError(f"checkpoint {path} is corrupt ({first}); use an earlier one") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(
            f"checkpoint {path} is truncated or corrupt ({first[:120]}); use an earlier one"
        ) from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} is not a textgan checkpoint (format {CHECKPOINT_FORMAT})")
    return state


@dataclass
class ResumePoint:
    """The newest loadable checkpoint, and the newer ones that had to be skipped (with why)."""

    path: Path
    state: dict[str, Any]
    skipped: list[tuple[Path, str]] = field(default_factory=list)


class CheckpointStore:
    """``step_00001234.pt`` files in one directory; keeps the newest ``keep`` of them."""

    def __init__(self, directory: str | Path, keep: int = 3) -> None:
        self.directory = Path(directory)
        self.keep = keep

    def path_for(self, step: int) -> Path:
        return self.directory / f"step_{step:08d}.pt"

    def paths(self) -> list[Path]:
        """Checkpoint files, newest first."""
        if not self.directory.is_dir():
            return []
        found = [(int(m.group(1)), p) for p in self.directory.iterdir() if (m := _NAME.match(p.name))]
        return [p for _, p in sorted(found, reverse=True)]

    def save(self, step: int, state: dict[str, Any]) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path_for(step)
        save_checkpoint(path, {"step": step, **state})
        for old in self.paths()[self.keep:]:
            old.unlink(missing_ok=True)
        return path

    def iter_loadable(self, map_location: str | torch.device = "cpu") -> Iterator[tuple[Path, Any]]:
        """Yield ``(path, state or CheckpointError)`` newest first."""
        for path in self.paths():
            try:
                yield path, load_checkpoint(path, map_location)
            except CheckpointError as err:
                yield path, err

    def latest(self, map_location: str | torch.device = "cpu") -> ResumePoint | None:
        """The newest checkpoint that loads; corrupt newer ones are reported in ``skipped``."""
        skipped: list[tuple[Path, str]] = []
        for path, state in self.iter_loadable(map_location):
            if isinstance(state, CheckpointError):
                skipped.append((path, str(state)))
                continue
            return ResumePoint(path, state, skipped)
        if skipped:
            raise CheckpointError(
                f"no loadable checkpoint in {self.directory}: {skipped[0][1]}"
            )
        return None
