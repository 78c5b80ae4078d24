import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from models.errors import InvalidParameter
from models.images import MAX_IMAGE_PIXELS, check_mask_matches, decode_image


def _encoded(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny, valid-looking PNG whose header claims width x height; decoding it would need that much memory."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_png_jpeg_and_webp_decode_to_rgb(fmt: str) -> None:
    source = Image.new("RGBA" if fmt != "JPEG" else "RGB", (24, 16), (200, 40, 10))
    image = decode_image(_encoded(source, fmt), "init_image")
    assert image.mode == "RGB" and image.size == (24, 16)
    assert np.abs(np.asarray(image).astype(int) - [200, 40, 10]).max() <= 8  # JPEG and WebP are lossy


def test_mask_decodes_to_one_channel() -> None:
    mask = decode_image(_encoded(Image.new("RGB", (8, 8), (255, 255, 255)), "PNG"), "mask_image", mode="L")
    assert mask.mode == "L" and mask.getextrema() == (255, 255)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"this is not an image at all", "not a PNG, JPEG or WebP"),
        (_encoded(Image.new("RGB", (8, 8)), "GIF"), "not a PNG, JPEG or WebP"),
        (_encoded(Image.new("RGB", (64, 64), (1, 2, 3)), "PNG")[:60], "damaged"),
    ],
    ids=["empty", "garbage", "gif", "truncated"],
)
def test_bad_uploads_get_a_clear_error_naming_the_field(data: bytes, words: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        decode_image(data, "init_image")
    assert info.value.field == "init_image"
    assert words in str(info.value)


@pytest.mark.parametrize("side", [5000, 100_000])  # over our cap; over PIL's decompression-bomb limit too
def test_an_oversized_image_is_refused_from_its_header_before_decoding(side: int) -> None:
    data = _png_claiming(side, side)  # 5000: 75 MB decoded, 100000: 30 GB
    assert len(data) < 200
    with pytest.raises(InvalidParameter) as info:
        decode_image(data, "mask_image")
    assert info.value.field == "mask_image"
    assert str(MAX_IMAGE_PIXELS) in str(info.value)
    assert f"{side}x{side}" in str(info.value) or str(side * side) in str(info.value)


def test_the_pixel_cap_can_be_lowered() -> None:
    data = _encoded(Image.new("RGB", (40, 30)), "PNG")
    assert decode_image(data, "init_image", max_pixels=1200).size == (40, 30)
    with pytest.raises(InvalidParameter, match="40x30"):
        decode_image(data, "init_image", max_pixels=1199)


def test_a_mask_of_another_size_than_its_image_is_refused() -> None:
    check_mask_matches((64, 48), (64, 48))
    with pytest.raises(InvalidParameter) as info:
        check_mask_matches((64, 48), (48, 64))
    assert info.value.field == "mask_image"
    assert "48x64" in str(info.value) and "64x48" in str(info.value)
