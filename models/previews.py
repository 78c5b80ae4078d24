"""Cheap previews of images still being denoised: a linear latent-to-RGB projection, no VAE decode.

The factors are the least-squares fits of decoded RGB on the four latent channels that AUTOMATIC1111
and ComfyUI use for their "approx cheap" previews (one set for SD 1.x/2.x, one for SDXL's VAE).
"""

import io

import torch
from diffusers import DiffusionPipeline
from PIL import Image

PREVIEW_MAX_SIDE = 128

_SD15_FACTORS = (
    (0.3512, 0.2297, 0.3227),
    (0.3250, 0.4974, 0.2350),
    (-0.2829, 0.1762, 0.2721),
    (-0.2120, -0.2616, -0.7177),
)
_SD15_BIAS = (0.0, 0.0, 0.0)
_SDXL_FACTORS = (
    (0.3651, 0.4232, 0.4341),
    (-0.2533, -0.0042, 0.1068),
    (0.1076, 0.1111, -0.0362),
    (-0.3165, -0.2492, -0.2188),
)
_SDXL_BIAS = (0.1084, -0.0175, -0.0011)


def latent_projection(pipe: DiffusionPipeline) -> tuple[torch.Tensor, torch.Tensor]:
    """(factors 4x3, bias 3) for the pipeline's latent space."""
    is_sdxl = getattr(pipe, "text_encoder_2", None) is not None or "XL" in type(pipe).__name__
    factors, bias = (_SDXL_FACTORS, _SDXL_BIAS) if is_sdxl else (_SD15_FACTORS, _SD15_BIAS)
    return torch.tensor(factors), torch.tensor(bias)


def preview_image(latents: torch.Tensor, factors: torch.Tensor, bias: torch.Tensor) -> Image.Image:
    """One image's latents (4 x h x w) as an RGB image of the latent's size, at most PREVIEW_MAX_SIDE wide or tall."""
    rgb = torch.einsum("chw,cr->hwr", latents.detach().float().cpu(), factors) + bias
    pixels = ((rgb.clamp(-1.0, 1.0) + 1.0) * 127.5).round().to(torch.uint8).numpy()
    image = Image.fromarray(pixels)
    image.thumbnail((PREVIEW_MAX_SIDE, PREVIEW_MAX_SIDE))
    return image


def preview_png(latents: torch.Tensor, factors: torch.Tensor, bias: torch.Tensor) -> bytes:
    buffer = io.BytesIO()
    preview_image(latents, factors, bias).save(buffer, format="PNG")
    return buffer.getvalue()
