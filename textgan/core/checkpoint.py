"""Checkpoints: written atomically, verified, loaded without running code, the last K kept.

A checkpoint is one ``torch.save`` file of tensors and plain containers (dicts, lists, strings,
numbers) followed by a 56-byte footer::

    payload (torch zip)  ·  b"textgan-ckpt-v2\n" (16 B)  ·  sha256(payload) (32 B)  ·  len(payload) (8 B, LE)

* Atomic: the file is written to a temporary name beside the target, flushed, fsynced and renamed
  over it, then the directory is fsynced. A crash (kill -9, power loss) or a full disk leaves
  either the old complete file or the new complete file, never a torn one; a leftover temporary
  file is removed by the next save.
* Verified: the footer's length and sha256 are checked before anything is unpickled, so a
  truncated file or a flipped bit (which ``torch.load`` alone would load silently: tensor bytes
  carry no checksum) is reported as corrupt, naming the file.
* Safe: the payload is loaded with ``torch.load(weights_only=True)``, whose unpickler only rebuilds
  tensors and plain containers; a file that tries to run code (a crafted pickle, even with a valid
  footer) is refused, never executed. The footer is an integrity check, not a signature.

``torch.load(path, weights_only=True)`` still reads the file directly (the footer trails the zip).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from textgan.errors import CheckpointError
from textgan.io.atomic import atomic_write_bytes

CHECKPOINT_FORMAT = 2
FOOTER_MAGIC = b"textgan-ckpt-v2\n"
FOOTER_SIZE = len(FOOTER_MAGIC) + 32 + 8
_NAME = re.compile(r"^step_(\d{8})\.pt$")
_STALE_TMP = re.compile(r"^\.(step_\d{8}|best)\.(pt|json)\.tmp-\d+$")
BEST = "best.pt"  # the best checkpoint by a metric, outside the rotation
BEST_RECORD = "best.json"  # {"metric", "value", "step"} of best.pt, written after it
_READ_CHUNK = 1 << 22


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


class _HashingWriter:
    """A write-only file wrapper that hashes and counts what passes through it."""

    def __init__(self, f: Any) -> None:
        self.f, self.digest, self.size = f, hashlib.sha256(), 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.f.write(data)

    def flush(self) -> None:
        self.f.flush()


def _write_with_footer(f: Any, payload: dict[str, Any]) -> None:
    writer = _HashingWriter(f)
    torch.save(payload, writer)
    f.write(FOOTER_MAGIC + writer.digest.digest() + struct.pack("<Q", writer.size))


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> None:
    """Atomically save ``state`` (tensors and plain containers only) to ``path``, with a footer."""
    path = Path(path)
    payload = to_plain({"format": CHECKPOINT_FORMAT, **state})
    try:
        atomic_write_bytes(path, lambda f: _write_with_footer(f, payload))
    except OSError as err:
        raise CheckpointError(
            f"could not write checkpoint {path}: {err.strerror or err}; the previous checkpoint is "
            "kept — free space or fix permissions, then continue with --resume"
        ) from None


def verify_checkpoint(path: str | Path) -> None:
    """Check the footer of ``path``: complete (length) and intact (sha256); reads no pickle."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size < FOOTER_SIZE:
            raise CheckpointError(f"checkpoint {path} is truncated ({size} bytes); use an earlier one")
        with open(path, "rb") as f:
            f.seek(size - FOOTER_SIZE)
            footer = f.read(FOOTER_SIZE)
            magic, digest = footer[:len(FOOTER_MAGIC)], footer[len(FOOTER_MAGIC):-8]
            (length,) = struct.unpack("<Q", footer[-8:])
            if magic != FOOTER_MAGIC:
                raise CheckpointError(
                    f"checkpoint {path} is truncated or not a textgan checkpoint (no integrity "
                    "footer); use an earlier one"
                )
            if length != size - FOOTER_SIZE:
                raise CheckpointError(f"checkpoint {path} is truncated or padded ({size - FOOTER_SIZE} "
                                      f"payload bytes, expected {length}); use an earlier one")
            f.seek(0)
            h, left = hashlib.sha256(), length
            while left and (chunk := f.read(min(_READ_CHUNK, left))):
                h.update(chunk)
                left -= len(chunk)
    except OSError as err:
        raise CheckpointError(f"cannot read checkpoint {path}: {err.strerror or err}") from None
    if h.digest() != digest:
        raise CheckpointError(f"checkpoint {path} is corrupt (sha256 mismatch: its bytes changed "
                              "after it was written); use an earlier one")


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint safely: footer verified, then ``weights_only=True``; a clear error for any
    bad file, always naming it."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    verify_checkpoint(path)
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else "unsafe content"
        if "weights_only" in str(err) or "Unsupported" in str(err) or "global" in str(err).lower():
            raise CheckpointError(
                f"refusing to load {path}: it contains objects other than tensors and plain data "
                "(it could run code); only load checkpoints written by textgan"
            ) from None
        raise CheckpointError(f"checkpoint {path} is corrupt ({first[:120]}); use an earlier one") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError, TypeError,
            AttributeError, IndexError, KeyError) as err:
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
        """Write ``step_XXXXXXXX.pt`` atomically, then delete all but the newest ``keep``.

        Older files are deleted only after the new one is complete, and temporary files left by a
        killed earlier save are removed first (they can be as large as a checkpoint).
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        self.remove_stale_temporaries()
        path = self.path_for(step)
        save_checkpoint(path, {"step": step, **state})
        for old in self.paths()[self.keep:]:
            old.unlink(missing_ok=True)
        return path

    @property
    def best_path(self) -> Path:
        return self.directory / BEST

    def best_record(self) -> dict[str, Any] | None:
        """``{"metric", "value", "step"}`` of ``best.pt``, or None when there is none (yet)."""
        try:
            record = json.loads((self.directory / BEST_RECORD).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return record if self.best_path.is_file() and isinstance(record, dict) else None

    def save_best(self, step: int, state: dict[str, Any], metric: str, value: float) -> Path:
        """Replace ``best.pt`` (never rotated away), then its record; both atomically."""
        self.directory.mkdir(parents=True, exist_ok=True)
        save_checkpoint(self.best_path, {"step": step, **state})
        record = json.dumps({"metric": metric, "value": value, "step": step}).encode()
        atomic_write_bytes(self.directory / BEST_RECORD, lambda f: f.write(record))
        return self.best_path

    def remove_stale_temporaries(self) -> None:
        """Delete ``.step_*.pt.tmp-PID`` files of saves that never finished (killed processes)."""
        own = f".tmp-{os.getpid()}"
        for p in self.directory.iterdir():
            if _STALE_TMP.match(p.name) and not p.name.endswith(own):
                p.unlink(missing_ok=True)

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
