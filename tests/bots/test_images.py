"""Grids of several images, and images shrunk under an upload limit."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from bots.images import GAP, fit, grid


def png(width: int, height: int, seed: int = 0, noise: bool = False) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8) if noise else np.full((height, width, 3), seed, np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def test_one_image_is_its_own_grid() -> None:
    one = png(8, 8)
    assert grid([one]) == one


@pytest.mark.parametrize(("count", "size"), [(2, (2 * 32 + GAP, 32)), (3, (2 * 32 + GAP, 2 * 32 + GAP)), (4, (2 * 32 + GAP, 2 * 32 + GAP)), (5, (3 * 32 + 2 * GAP, 2 * 32 + GAP))])
def test_a_grid_reads_left_to_right_then_down(count: int, size: tuple[int, int]) -> None:
    sheet = Image.open(io.BytesIO(grid([png(32, 32, seed=40 * i) for i in range(count)]))).convert("RGB")
    assert sheet.size == size
    assert sheet.getpixel((0, 0)) == (0, 0, 0)
    assert sheet.getpixel((32 + GAP, 0)) == (40, 40, 40)
    if count > 2:
        columns = (size[0] + GAP) // (32 + GAP)
        assert sheet.getpixel((0, 32 + GAP)) == (40 * columns,) * 3


def test_a_png_under_the_limit_is_kept() -> None:
    data = png(64, 64, noise=True)
    assert fit(data, len(data)) == (data, "png")


def test_a_large_image_is_reencoded_and_downscaled_under_the_limit() -> None:
    data = png(512, 512, noise=True)
    small, extension = fit(data, 20_000)
    assert extension == "jpg" and len(small) <= 20_000
    assert Image.open(io.BytesIO(small)).width < 512
