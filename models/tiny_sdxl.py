"""tiny-sdxl: a Stable Diffusion XL-shaped pipeline with seeded random weights, small enough to build anywhere.

SDXL's structure with tiny sizes: two CLIP text encoders (the second with a projection, whose pooled
output joins the size and crop micro-conditioning in the UNet's text_time addition embedding), a UNet
that cross-attends to both encoders' hidden states side by side, an 8x VAE and SDXL's Euler scheduler.
"""

from pathlib import Path

import torch
from diffusers import EulerDiscreteScheduler, StableDiffusionXLPipeline, UNet2DConditionModel
from transformers import CLIPTextModel, CLIPTextModelWithProjection

from models.tiny_sd import SD_NOISE_SCHEDULE, TINY_UNET_SHAPE, build_tokenizer, build_vae, text_config

# Two different widths, as in SDXL (768 and 1280): diffusers' single-file loader tells the encoders apart by them.
_TEXT_HIDDEN_SIZE = 32
_TEXT_2_HIDDEN_SIZE = 64
_PROJECTION_DIM = _TEXT_2_HIDDEN_SIZE
_TIME_EMBED_DIM = 8  # per micro-conditioning number; SDXL passes 6 (original size, crop, target size)


def _build_text_encoders(vocab: dict[str, int]) -> tuple[CLIPTextModel, CLIPTextModelWithProjection]:
    torch.manual_seed(0)
    first = CLIPTextModel(text_config(vocab, _TEXT_HIDDEN_SIZE))
    torch.manual_seed(1)
    second = CLIPTextModelWithProjection(text_config(vocab, _TEXT_2_HIDDEN_SIZE, projection_dim=_PROJECTION_DIM))
    return first, second


def _build_unet(sample_size: int) -> UNet2DConditionModel:
    torch.manual_seed(0)
    return UNet2DConditionModel(
        sample_size=sample_size,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=(2, 4),
        use_linear_projection=True,
        addition_embed_type="text_time",
        addition_time_embed_dim=_TIME_EMBED_DIM,
        projection_class_embeddings_input_dim=_PROJECTION_DIM + 6 * _TIME_EMBED_DIM,
        cross_attention_dim=_TEXT_HIDDEN_SIZE + _TEXT_2_HIDDEN_SIZE,
        **TINY_UNET_SHAPE,  # type: ignore[arg-type]
    )


def _sdxl_scheduler() -> EulerDiscreteScheduler:
    """Stable Diffusion XL base 1.0's own scheduler settings."""
    return EulerDiscreteScheduler(
        **SD_NOISE_SCHEDULE,
        timestep_spacing="leading",
        interpolation_type="linear",
        prediction_type="epsilon",
        use_karras_sigmas=False,
    )


def build_tiny_sdxl(folder: Path, width: int) -> None:
    """Save the whole pipeline into folder; `width` is the default image width it is sized for."""
    tokenizer = build_tokenizer(folder)
    text_encoder, text_encoder_2 = _build_text_encoders(tokenizer.get_vocab())
    pipeline = StableDiffusionXLPipeline(
        vae=build_vae(width),
        text_encoder=text_encoder,
        text_encoder_2=text_encoder_2,
        tokenizer=tokenizer,
        tokenizer_2=tokenizer,
        unet=_build_unet(width // 8),
        scheduler=_sdxl_scheduler(),
        force_zeros_for_empty_prompt=True,
        add_watermarker=False,
    )
    pipeline.save_pretrained(folder, safe_serialization=True)
