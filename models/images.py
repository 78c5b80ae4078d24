"""Decoding images that come with a job (placeholder until the generation core lands)."""

from __future__ import annotations

import io

from PIL import Image

from models.errors import InvalidParameter

MAX_INPUT_PIXELS = 4096 * 4096
FORMATS = ("PNG", "JPEG", "WEBP")


def decode_image(data: bytes, *, field: str, mode: str = "RGB") -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)
        if image.width * image.height > MAX_INPUT_PIXELS:
            raise InvalidParameter(field, f"{field} is {image.width}x{image.height}; at most 4096x4096 pixels")
        image.load()
    except InvalidParameter:
        raise
    except Exception as exc:  # noqa: BLE001
        raise InvalidParameter(field, f"{field} is not a readable PNG, JPEG or WebP image ({exc})") from exc
    return image.convert(mode)


def decode_mask(data: bytes, *, field: str) -> Image.Image:
    return decode_image(data, field=field, mode="L")
