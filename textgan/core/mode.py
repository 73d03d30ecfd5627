"""What a mode (text, image, toy) hands the modality-free trainer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from textgan.core.loop import Hook
from textgan.core.trainer import BatchSource


@dataclass
class ModeSetup:
    """Models, real data and hooks for one run, plus what goes into every checkpoint."""

    generator: nn.Module
    critic: nn.Module
    data: BatchSource
    hooks: list[Hook] = field(default_factory=list)
    extra_state: dict[str, Any] = field(default_factory=dict)
    # Raises CheckpointError when a checkpoint does not fit this setup (other vocab, shapes...).
    check_state: Callable[[dict[str, Any], Path], None] = lambda state, path: None
    notes: list[str] = field(default_factory=list)
