"""tiny-sd: a Stable Diffusion 1.x-shaped pipeline with seeded random weights, small enough to build anywhere.

Every component has SD's structure (CLIP text encoder and byte-level BPE tokenizer, cross-attention
UNet, 8x VAE, SD 1.5 scheduler settings) so the code paths match a real model; only the sizes are tiny.
"""

import json
import shutil
from pathlib import Path

import torch
from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

BOS_TOKEN = "<|startoftext|>"
EOS_TOKEN = "<|endoftext|>"
TOKENIZER_MAX_LENGTH = 77
_TEXT_HIDDEN_SIZE = 32


def byte_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP's table giving every byte a printable character, so byte-level BPE never sees whitespace."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def byte_level_vocab() -> dict[str, int]:
    """Every byte character alone and as a word end, then the two special tokens, in CLIP's order."""
    chars = list(byte_to_unicode().values())
    tokens = [*chars, *(c + "</w>" for c in chars), BOS_TOKEN, EOS_TOKEN]
    return {token: index for index, token in enumerate(tokens)}


def build_tokenizer(folder: Path) -> CLIPTokenizer:
    source = folder / "tokenizer-source"
    source.mkdir()
    (source / "vocab.json").write_text(json.dumps(byte_level_vocab(), ensure_ascii=False), encoding="utf-8")
    (source / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    tokenizer = CLIPTokenizer.from_pretrained(source, model_max_length=TOKENIZER_MAX_LENGTH)
    shutil.rmtree(source)
    return tokenizer


def text_config(vocab: dict[str, int], hidden_size: int = _TEXT_HIDDEN_SIZE, projection_dim: int = 512) -> CLIPTextConfig:
    """A two-layer CLIP text encoder over the byte-level vocabulary; projection_dim serves only the projection model."""
    return CLIPTextConfig(
        vocab_size=len(vocab),
        hidden_size=hidden_size,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        max_position_embeddings=TOKENIZER_MAX_LENGTH,
        bos_token_id=vocab[BOS_TOKEN],
        eos_token_id=vocab[EOS_TOKEN],
        pad_token_id=vocab[EOS_TOKEN],
        projection_dim=projection_dim,
    )


def _build_text_encoder(vocab: dict[str, int]) -> CLIPTextModel:
    torch.manual_seed(0)
    return CLIPTextModel(text_config(vocab))


# What the tiny UNets share: SD's four latent channels, two levels of one layer each.
TINY_UNET_SHAPE: dict[str, object] = {
    "in_channels": 4,
    "out_channels": 4,
    "layers_per_block": 1,
    "block_out_channels": (16, 32),
    "norm_num_groups": 8,
}


def build_unet(sample_size: int) -> UNet2DConditionModel:
    torch.manual_seed(0)
    return UNet2DConditionModel(
        sample_size=sample_size,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=_TEXT_HIDDEN_SIZE,
        attention_head_dim=4,
        **TINY_UNET_SHAPE,  # type: ignore[arg-type]
    )


def build_vae(sample_size: int, seed: int = 0) -> AutoencoderKL:
    """Four blocks like SD's VAE, so an image is 8 times wider and taller than its latent."""
    torch.manual_seed(seed)
    return AutoencoderKL(
        sample_size=sample_size,
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        layers_per_block=1,
        block_out_channels=(8, 8, 16, 16),
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        norm_num_groups=4,
    )


# The noise schedule every Stable Diffusion 1.x/2.x/XL model was trained with.
SD_NOISE_SCHEDULE = {
    "num_train_timesteps": 1000,
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "steps_offset": 1,
}


def _sd15_scheduler() -> PNDMScheduler:
    """Stable Diffusion 1.5's own scheduler settings; samplers are made from this config."""
    return PNDMScheduler(
        **SD_NOISE_SCHEDULE,
        skip_prk_steps=True,
        set_alpha_to_one=False,
    )


def build_tiny_sd(folder: Path, width: int) -> None:
    """Save the whole pipeline into folder; `width` is the default image width it is sized for."""
    tokenizer = build_tokenizer(folder)
    pipeline = StableDiffusionPipeline(
        vae=build_vae(width),
        text_encoder=_build_text_encoder(tokenizer.get_vocab()),
        tokenizer=tokenizer,
        unet=build_unet(width // 8),
        scheduler=_sd15_scheduler(),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipeline.save_pretrained(folder, safe_serialization=True)
