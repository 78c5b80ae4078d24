"""A small picture to detect things in: a few filled shapes on a light background, as PNG bytes."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

SIZE = 96


def shapes_png(size: int = SIZE) -> bytes:
    image = Image.new("RGB", (size, size), (235, 235, 225))
    draw = ImageDraw.Draw(image)
    draw.rectangle((8, 10, 40, 44), fill=(200, 40, 40))
    draw.ellipse((50, 20, 88, 60), fill=(40, 90, 200))
    draw.polygon([(20, 88), (44, 56), (68, 88)], fill=(40, 160, 60))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()
