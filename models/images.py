"""Decoding uploaded images (init images, masks, control images) safely; PIL only, so the daemon can check uploads.

Only PNG, JPEG and WebP are opened. The pixel count is read from the header and checked before any
pixel is decoded, and PIL's own decompression-bomb guard is an error too, so a small file that claims
a huge size never allocates it.
"""

import io
import warnings
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from models.errors import InvalidParameter

IMAGE_FORMATS = ("PNG", "JPEG", "WEBP")
MAX_IMAGE_PIXELS = 4096 * 4096  # uploads may be larger than the output; they are resized to width x height


def decode_image(data: bytes, field: str, mode: str = "RGB", max_pixels: int = MAX_IMAGE_PIXELS) -> Image.Image:
    """The image in data, converted to mode ("RGB" for images, "L" for masks), or InvalidParameter(field, ...).

    A JPEG's EXIF orientation is applied, so the image is the way up its viewer shows it.
    """
    if not data:
        raise InvalidParameter(field, f"{field} is empty; upload a PNG, JPEG or WebP image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=IMAGE_FORMATS) as image:
                _check_pixels(field, image.size, max_pixels)
                image.load()
                upright = ImageOps.exif_transpose(image)
                return upright.convert(mode)
    except InvalidParameter:
        raise
    except UnidentifiedImageError as exc:
        raise InvalidParameter(
            field, f"{field} is not a PNG, JPEG or WebP image (or it is damaged); upload one of those formats"
        ) from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InvalidParameter(
            field, f"{field} is too large to decode safely ({exc}); at most {max_pixels} pixels are accepted"
        ) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InvalidParameter(
            field, f"{field} could not be decoded, the file is damaged or cut short ({exc}); upload it again"
        ) from exc


def open_image(path: str | Path, field: str, mode: str = "RGB", max_pixels: int = MAX_IMAGE_PIXELS) -> Image.Image:
    """decode_image for a file the daemon stored; a missing file is an InvalidParameter too."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InvalidParameter(
            field, f"{field} '{path}' cannot be read ({exc.strerror}); upload the image again"
        ) from exc
    return decode_image(data, field, mode, max_pixels)


def check_mask_matches(init_size: tuple[int, int], mask_size: tuple[int, int]) -> None:
    """A mask must cover its init image pixel for pixel."""
    if init_size != mask_size:
        raise InvalidParameter(
            "mask_image",
            f"mask_image is {mask_size[0]}x{mask_size[1]} but init_image is {init_size[0]}x{init_size[1]}; "
            "the mask must have exactly the init image's size",
        )


def _check_pixels(field: str, size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise InvalidParameter(field, f"{field} has no pixels ({width}x{height}); upload a real image")
    if width * height > max_pixels:
        raise InvalidParameter(
            field,
            f"{field} is {width}x{height} = {width * height} pixels; at most {max_pixels} are accepted, "
            "so scale it down before uploading",
        )
