"""Pick the torch device: CUDA when present, CPU otherwise, or what the user asked for."""

from __future__ import annotations

import torch

from textgan.errors import ConfigError


def resolve_device(name: str = "auto", local_rank: int | None = None) -> torch.device:
    """``auto`` → ``cuda`` if available else ``cpu``; ``cpu``, ``cuda``, ``cuda:N`` as given.

    Under torchrun (``local_rank`` given) ``auto`` and ``cuda`` mean this process's own GPU,
    ``cuda:LOCAL_RANK``; an explicit ``cuda:N`` is kept.
    """
    if name == "auto":
        if not torch.cuda.is_available():
            return torch.device("cpu")
        if local_rank is None:
            return torch.device("cuda")
        name = "cuda"
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise ConfigError(f"unknown device '{name}'; use auto, cpu, cuda or cuda:N") from None
    if device.type not in ("cpu", "cuda"):
        raise ConfigError(f"unsupported device '{name}'; use auto, cpu, cuda or cuda:N")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"device '{name}' requested but CUDA is not available; use --device cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ConfigError(
                f"device '{name}' does not exist: {torch.cuda.device_count()} CUDA device(s)"
            )
        if device.index is None and local_rank is not None:
            if local_rank >= torch.cuda.device_count():
                raise ConfigError(
                    f"torchrun started local rank {local_rank} but this node has "
                    f"{torch.cuda.device_count()} CUDA device(s); use --nproc-per-node "
                    f"{torch.cuda.device_count()} or --device cpu"
                )
            device = torch.device("cuda", local_rank)
    return device
