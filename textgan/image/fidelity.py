"""FID and Inception Score through torch-fidelity — optional, and only with the Inception weights.

textgan never downloads the Inception network itself. When ``data.fid = true``, the run checks
before training that torch-fidelity is importable and that its weights file is already in the
torch hub cache, and stops with a one-line message naming what is missing otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from textgan.errors import ConfigError

INCEPTION_WEIGHTS = "weights-inception-2015-12-05-6726825d.pth"
INCEPTION_URL = ("https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/"
                 + INCEPTION_WEIGHTS)


def inception_weights_path() -> Path:
    """Where torch-fidelity looks for its Inception weights (the torch hub checkpoint cache)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_WEIGHTS


def check_fidelity() -> Any:
    """The torch_fidelity module, or a one-line ConfigError saying what to install or fetch."""
    try:
        import torch_fidelity  # type: ignore[import-not-found]
    except ImportError:
        raise ConfigError("FID/IS need the optional package torch-fidelity (pip install "
                          "torch-fidelity, keeping your torch version); or set data.fid = false "
                          "and use the built-in sliced Wasserstein distance") from None
    weights = inception_weights_path()
    if not weights.is_file():
        raise ConfigError(f"FID/IS need the Inception weights at {weights} (download {INCEPTION_URL}"
                          " there once); or set data.fid = false and use the sliced Wasserstein "
                          "distance")
    return torch_fidelity


class _Uint8Images(torch.utils.data.Dataset):
    """uint8 ``[N, 3, H, W]`` images, as torch-fidelity's dataset inputs expect."""

    def __init__(self, images: np.ndarray) -> None:
        self.images = torch.from_numpy(np.ascontiguousarray(images))

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.images[i]


def fidelity_metrics(real: np.ndarray, fake: np.ndarray, device: torch.device) -> dict[str, float]:
    """FID(real, fake) and the Inception Score of ``fake``; uint8 ``[N, C, H, W]`` inputs
    (grey images are repeated to three channels)."""
    torch_fidelity = check_fidelity()
    if real.shape[1] == 1:
        real, fake = real.repeat(3, axis=1), fake.repeat(3, axis=1)
    result = torch_fidelity.calculate_metrics(
        input1=_Uint8Images(fake), input2=_Uint8Images(real), cuda=device.type == "cuda",
        isc=True, fid=True, verbose=False)
    return {"fid": float(result["frechet_inception_distance"]),
            "inception_score": float(result["inception_score_mean"])}
