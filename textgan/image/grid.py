"""Image grids as PNG files, written with zlib and struct (no imaging library needed).

PNG layout (RFC 2083): the 8-byte signature, then chunks ``length · type · data · CRC-32``:
``IHDR`` (width, height, bit depth 8, colour type 0 grey / 2 RGB), ``IDAT`` (the zlib-compressed
rows, each prefixed with filter byte 0), ``IEND``.
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

import numpy as np
from torch import Tensor

from textgan.io.atomic import atomic_write_bytes

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def to_uint8(images: Tensor | np.ndarray, value_range: tuple[float, float]) -> np.ndarray:
    """``[N, C, H, W]`` floats in ``value_range`` → uint8 ``[N, H, W, C]`` (clipped, rounded)."""
    array = images.detach().float().cpu().numpy() if isinstance(images, Tensor) else images
    low, high = value_range
    scaled = (np.asarray(array, dtype=np.float64) - low) / (high - low) * 255.0
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8).transpose(0, 2, 3, 1)


def make_grid(images: np.ndarray, columns: int | None = None, padding: int = 2,
              pad_value: int = 0) -> np.ndarray:
    """uint8 ``[N, H, W, C]`` → one uint8 ``[rows·(H+p)+p, cols·(W+p)+p, C]`` image, row-major."""
    n, h, w, c = images.shape
    columns = columns or max(1, math.ceil(math.sqrt(n)))
    rows = math.ceil(n / columns)
    grid = np.full((rows * (h + padding) + padding, columns * (w + padding) + padding, c),
                   pad_value, dtype=np.uint8)
    for i in range(n):
        r, col = divmod(i, columns)
        top, left = padding + r * (h + padding), padding + col * (w + padding)
        grid[top:top + h, left:left + w] = images[i]
    return grid


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def encode_png(image: np.ndarray) -> bytes:
    """uint8 ``[H, W]``, ``[H, W, 1]`` (grey) or ``[H, W, 3]`` (RGB) → PNG bytes."""
    if image.dtype != np.uint8:
        raise ValueError(f"PNG pixels must be uint8, got {image.dtype}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 2:
        colour_type = 0
    elif image.ndim == 3 and image.shape[2] == 3:
        colour_type = 2
    else:
        raise ValueError(f"cannot write an image of shape {image.shape} as PNG")
    height, width = image.shape[:2]
    rows = np.ascontiguousarray(image).reshape(height, -1)
    raw = np.concatenate([np.zeros((height, 1), np.uint8), rows], axis=1).tobytes()
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 6))
            + _chunk(b"IEND", b""))


def write_png(path: str | Path, image: np.ndarray) -> Path:
    """Write ``image`` as a PNG file atomically (a reader never sees half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = encode_png(image)
    atomic_write_bytes(path, lambda f: f.write(data))
    return path


def write_grid(path: str | Path, images: Tensor | np.ndarray, value_range: tuple[float, float],
               columns: int | None = None, scale: int = 1) -> Path:
    """Images ``[N, C, H, W]`` in ``value_range`` → a PNG grid at ``path``, each pixel drawn as a
    ``scale`` × ``scale`` block (nearest neighbour: small images stay legible, nothing is blurred)."""
    grid = make_grid(to_uint8(images, value_range), columns)
    if scale > 1:
        grid = grid.repeat(scale, axis=0).repeat(scale, axis=1)
    return write_png(path, grid)
