"""Generation parameters as AUTOMATIC1111 writes them, and PNG files that carry them."""

import io
import json
from pathlib import Path

from PIL import Image, PngImagePlugin

from models.params import GenerateParams, Txt2ImgParams
from models.samplers import sampler_label


def _quote(value: str) -> str:
    """Quote a value the way A1111 does, so commas and colons in it do not break the key: value list."""
    if any(c in value for c in ",:\n"):
        return json.dumps(value, ensure_ascii=False)
    return value


# A1111's names for our hires upscalers: its "Latent" is bilinear on the latents, like ours
_UPSCALER_LABELS = {"latent": "Latent", "pixel": "Lanczos"}


def _prompt_with_loras(params: Txt2ImgParams) -> str:
    """A1111 reads LoRAs from <lora:name:weight> in the prompt; add the job's that the prompt does not already carry."""
    if not isinstance(params, GenerateParams):
        return params.prompt
    missing = [
        f"<lora:{lora.name}:{lora.weight:g}>" for lora in params.loras if f"<lora:{lora.name}:" not in params.prompt
    ]
    return " ".join([params.prompt, *missing]) if missing else params.prompt


def _generation_settings(params: GenerateParams) -> dict[str, str]:
    """The keys A1111 (and its ControlNet extension) write for img2img, inpainting, hires fix and ControlNet."""
    settings: dict[str, str] = {}
    if params.vae:
        settings["VAE"] = Path(params.vae).name
    if params.init_image:
        settings["Denoising strength"] = f"{params.strength:g}"
    if params.mask_image:
        settings["Mask blur"] = str(params.mask_blur)
    if params.hires is not None:
        key = "Hires denoising strength" if params.init_image else "Denoising strength"  # A1111 has no img2img hires
        settings[key] = f"{params.hires.denoise:g}"
        settings["Hires upscale"] = f"{params.hires.scale:g}"
        if params.hires.steps:
            settings["Hires steps"] = str(params.hires.steps)
        settings["Hires upscaler"] = _UPSCALER_LABELS[params.hires.upscaler]
    for i, control in enumerate(params.controlnets):
        unit = {"Module": control.preprocessor, "Model": Path(control.model).name, "Weight": f"{control.scale:g}"}
        if control.preprocessor == "canny":
            unit |= {"Threshold A": str(control.low_threshold), "Threshold B": str(control.high_threshold)}
        settings[f"ControlNet {i}"] = ", ".join(f"{k}: {v}" for k, v in unit.items())  # quoted as one value
    return settings


def infotext(params: Txt2ImgParams, model_name: str) -> str:
    lines = [_prompt_with_loras(params)]
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
    if isinstance(params, GenerateParams):
        settings |= _generation_settings(params)
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
