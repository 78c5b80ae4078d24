"""Images for a chat message: several results as one grid, and any image under an upload limit."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

from PIL import Image

GAP = 4  # pixels between the cells of a grid


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def grid(images: Sequence[bytes]) -> bytes:
    """The images as one PNG, in reading order: 2 side by side, 3-4 as 2x2, more in ceil(sqrt(n)) columns."""
    if not images:
        raise ValueError("a grid needs at least one image")
    if len(images) == 1:
        return images[0]
    opened = [_open(data).convert("RGB") for data in images]
    cell_w = max(i.width for i in opened)
    cell_h = max(i.height for i in opened)
    columns = math.ceil(math.sqrt(len(opened)))
    rows = math.ceil(len(opened) / columns)
    sheet = Image.new("RGB", (columns * cell_w + (columns - 1) * GAP, rows * cell_h + (rows - 1) * GAP), "white")
    for index, image in enumerate(opened):
        row, column = divmod(index, columns)
        sheet.paste(image, (column * (cell_w + GAP), row * (cell_h + GAP)))
    return _png(sheet)


def fit(data: bytes, limit: int) -> tuple[bytes, str]:
    """The image within `limit` bytes, and its file extension.

    A PNG that fits is kept as it is (it carries the recipe in its text chunks);
    otherwise it becomes a JPEG at high quality, then smaller and smaller.
    """
    if len(data) <= limit:
        return data, "png"
    image = _open(data).convert("RGB")
    scale = 1.0
    while True:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        resized = image if scale == 1.0 else image.resize(size, Image.Resampling.LANCZOS)
        for quality in (92, 80):
            buffer = io.BytesIO()
            resized.save(buffer, "JPEG", quality=quality, optimize=True)
            if buffer.tell() <= limit:
                return buffer.getvalue(), "jpg"
        if min(size) <= 16:
            raise ValueError(f"the image cannot be made smaller than {limit} bytes")
        scale *= 0.75
