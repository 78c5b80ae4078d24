"""Control images for ControlNet: the job's image resized to the output size, then turned into a control map."""

from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from models.errors import InvalidParameter

PREPROCESSORS = ("canny", "none")
MAX_CONTROL_PIXELS = 4096 * 4096


def check_preprocessor(name: str, low_threshold: int, high_threshold: int) -> None:
    if name not in PREPROCESSORS:
        raise InvalidParameter(
            "controlnets", f"unknown ControlNet preprocessor '{name}'; choose one of: {', '.join(PREPROCESSORS)}"
        )
    if name == "canny" and not 0 <= low_threshold <= high_threshold <= 255:
        raise InvalidParameter(
            "controlnets",
            f"canny thresholds must satisfy 0 <= low <= high <= 255, got low {low_threshold} and high {high_threshold}",
        )


def canny(image: Image.Image, low_threshold: int, high_threshold: int) -> Image.Image:
    """OpenCV's Canny edges as a white-on-black RGB image, the form canny ControlNets were trained on."""
    gray = cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2GRAY)
    edges = cv2.Canny(gray, low_threshold, high_threshold)
    return Image.fromarray(np.stack([edges] * 3, axis=-1))


def _open(path: Path) -> Image.Image:
    try:
        with Image.open(path) as image:
            if image.width * image.height > MAX_CONTROL_PIXELS:
                raise InvalidParameter(
                    "controlnets",
                    f"control image {path.name} is {image.width}x{image.height}; at most {MAX_CONTROL_PIXELS} pixels",
                )
            return image.convert("RGB")
    except (OSError, UnidentifiedImageError) as exc:
        raise InvalidParameter(
            "controlnets", f"control image {path.name} cannot be read as PNG, JPEG or WebP: {exc}"
        ) from exc


def control_image(
    path: Path, preprocessor: str, width: int, height: int, low_threshold: int = 100, high_threshold: int = 200
) -> Image.Image:
    """The control map for a width x height output: resized first, so edges are found at the output's scale."""
    check_preprocessor(preprocessor, low_threshold, high_threshold)
    image = _open(path).resize((width, height), Image.Resampling.LANCZOS)
    if preprocessor == "canny":
        return canny(image, low_threshold, high_threshold)
    return image
