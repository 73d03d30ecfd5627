"""PNG grids (own writer, checked by decoding) and the sliced Wasserstein distance."""

import struct
import zlib

import numpy as np
import pytest
import torch

from textgan.eval.swd import random_directions, sliced_wasserstein
from textgan.image.grid import encode_png, make_grid, to_uint8, write_grid


def decode_png(data: bytes) -> np.ndarray:
    """A minimal independent decoder for 8-bit grey/RGB PNGs with filter 0, checking every CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        chunks.append((kind, body))
        pos += 12 + length
    assert [k for k, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    width, height, depth, colour, _, _, _ = struct.unpack(">IIBBBBB", chunks[0][1])
    channels = {0: 1, 2: 3}[colour]
    assert depth == 8
    raw = np.frombuffer(zlib.decompress(chunks[1][1]), np.uint8).reshape(height, -1)
    assert (raw[:, 0] == 0).all()
    return raw[:, 1:].reshape(height, width, channels)


def test_png_round_trip_grey_and_rgb():
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 256, (5, 7), dtype=np.uint8)
    rgb = rng.integers(0, 256, (4, 3, 3), dtype=np.uint8)
    assert np.array_equal(decode_png(encode_png(grey))[:, :, 0], grey)
    assert np.array_equal(decode_png(encode_png(rgb)), rgb)
    with pytest.raises(ValueError):
        encode_png(np.zeros((2, 2, 2), np.uint8))


def test_png_readable_by_pillow(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    rgb = np.random.default_rng(1).integers(0, 256, (6, 9, 3), dtype=np.uint8)
    path = tmp_path / "x.png"
    path.write_bytes(encode_png(rgb))
    with Image.open(path) as im:
        assert im.size == (9, 6) and np.array_equal(np.asarray(im), rgb)


def test_grid_layout_and_scaling(tmp_path):
    images = torch.zeros(5, 1, 2, 3)
    for i in range(5):
        images[i] = i / 4  # in [0, 1]
    pixels = to_uint8(images, (0.0, 1.0))
    assert pixels.shape == (5, 2, 3, 1) and pixels[:, 0, 0, 0].tolist() == [0, 64, 128, 191, 255]
    assert to_uint8(torch.tensor([[[[-1.0, 0.0, 1.0, 2.0]]]]), (-1.0, 1.0))[0, 0, :, 0].tolist() \
        == [0, 128, 255, 255]
    grid = make_grid(pixels, columns=3, padding=1)
    assert grid.shape == (2 * 3 + 1, 3 * 4 + 1, 1)
    assert grid[1 + 3, 1 + 4, 0] == pixels[4, 0, 0, 0]  # image 4: row 1, column 1
    assert grid[0, :, 0].tolist() == [0] * 13
    path = write_grid(tmp_path / "s" / "g.png", images, (0.0, 1.0), columns=3)
    assert np.array_equal(decode_png(path.read_bytes()), make_grid(pixels, columns=3))


def test_sliced_wasserstein_exact_values():
    directions = random_directions(6, 16, seed=3)
    assert torch.allclose(directions.norm(dim=0), torch.ones(16, dtype=torch.float64))
    assert torch.equal(directions, random_directions(6, 16, seed=3))
    a = torch.randn(50, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert sliced_wasserstein(a, a, directions) == 0.0
    assert sliced_wasserstein(a, a[torch.randperm(50)], directions) == pytest.approx(0.0, abs=1e-12)
    # A translation by c moves every projection by θ·c: SW₁ = mean_k |θ_k·c|.
    c = torch.tensor([0.5, -1.0, 0.0, 2.0, 0.1, 0.0], dtype=torch.float64)
    expected = float((c @ directions).abs().mean())
    assert sliced_wasserstein(a + c, a, directions) == pytest.approx(expected, rel=1e-12)
    b = torch.randn(50, 6, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    assert sliced_wasserstein(a, b, directions) == pytest.approx(sliced_wasserstein(b, a, directions))
    # Image-shaped inputs are flattened per sample.
    assert sliced_wasserstein(a.view(50, 1, 2, 3), b.view(50, 1, 2, 3), directions) == \
        pytest.approx(sliced_wasserstein(a, b, directions))
    with pytest.raises(ValueError, match="equal-sized"):
        sliced_wasserstein(a, b[:10], directions)


def test_sliced_wasserstein_one_dimension_is_sorted_matching():
    a = torch.tensor([[0.0], [3.0], [1.0]], dtype=torch.float64)
    b = torch.tensor([[2.0], [2.0], [5.0]], dtype=torch.float64)
    one = torch.ones(1, 1, dtype=torch.float64)
    # sorted: (0, 1, 3) vs (2, 2, 5): |0−2| + |1−2| + |3−5| = 5, mean 5/3
    assert sliced_wasserstein(a, b, one) == pytest.approx(5 / 3)


def test_grid_scale_draws_blocks(tmp_path):
    images = torch.tensor([[[[0.0, 1.0]]]])  # one 1×2 image
    path = write_grid(tmp_path / "g.png", images, (0.0, 1.0), columns=1, scale=3)
    pixels = decode_png(path.read_bytes())[:, :, 0]
    plain = make_grid(to_uint8(images, (0.0, 1.0)), columns=1)[:, :, 0]
    assert pixels.shape == (plain.shape[0] * 3, plain.shape[1] * 3)
    assert np.array_equal(pixels[::3, ::3], plain) and np.array_equal(pixels[2::3, 2::3], plain)
