"""Generation parameters as AUTOMATIC1111 writes them, and PNG files that carry them."""

import io
import json

from PIL import Image, PngImagePlugin

from models.params import Txt2ImgParams
from models.samplers import sampler_label


def _quote(value: str) -> str:
    """Quote a value the way A1111 does, so commas and colons in it do not break the key: value list."""
    if any(c in value for c in ",:\n"):
        return json.dumps(value, ensure_ascii=False)
    return value


def infotext(params: Txt2ImgParams, model_name: str) -> str:
    lines = [params.prompt]
    if params.negative_prompt:
        lines.append(f"Negative prompt: {params.negative_prompt}")
    settings = {
        "Steps": str(params.steps),
        "Sampler": sampler_label(params.scheduler),
        "CFG scale": str(float(params.guidance)),
        "Seed": str(params.seed),
        "Size": f"{params.width}x{params.height}",
        "Model": model_name,
    }
    lines.append(", ".join(f"{key}: {_quote(value)}" for key, value in settings.items()))
    return "\n".join(lines)


def encode_png(image: Image.Image, parameters: str, spec_json: str) -> bytes:
    """PNG bytes with text chunks "parameters" (A1111 infotext) and "imagine" (the job spec as JSON)."""
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", parameters)  # Pillow writes iTXt instead when the text is not latin-1
    info.add_text("imagine", spec_json)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def read_png_metadata(data: bytes) -> dict[str, str]:
    """The text chunks (tEXt, zTXt, iTXt) of a PNG file."""
    with Image.open(io.BytesIO(data)) as image:
        if not isinstance(image, PngImagePlugin.PngImageFile):
            raise ValueError(f"expected PNG data, got {image.format or 'an unknown format'}")
        return {key: str(value) for key, value in image.text.items()}
