"""Tiny LoRA files for a diffusers pipeline folder, with seeded random weights, for tests and demos.

The file is what diffusers' LoRA training scripts write: peft LoRA layers on the UNet's attention
projections and the text encoders' self-attention, saved with the pipeline's save_lora_weights
(diffusers naming, `unet.….lora_A.weight`), so load_lora_weights reads it like any downloaded LoRA.
"""

import inspect
from pathlib import Path
from typing import Any

import torch
from diffusers import DiffusionPipeline
from diffusers.utils import convert_state_dict_to_diffusers
from peft import LoraConfig
from peft.utils import get_peft_model_state_dict

UNET_TARGETS = ["to_q", "to_k", "to_v", "to_out.0"]
TEXT_ENCODER_TARGETS = ["q_proj", "k_proj", "v_proj", "out_proj"]
_TEXT_ENCODERS = ("text_encoder", "text_encoder_2")


def _random_lora(model: Any, targets: list[str], rank: int, strength: float) -> dict[str, torch.Tensor]:
    """Add a LoRA adapter to model with random (not zero) up-projections; its state dict in diffusers naming."""
    model.add_adapter(LoraConfig(r=rank, lora_alpha=rank, target_modules=targets, init_lora_weights=False))
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if ".lora_B." in name:
                parameter.normal_(0.0, strength / rank**0.5)
    return convert_state_dict_to_diffusers(get_peft_model_state_dict(model))


def build_tiny_lora(
    path: Path, base_folder: Path, seed: int, rank: int = 4, strength: float = 1.0, text_encoder: bool = True
) -> Path:
    """Write a LoRA .safetensors file at path for the pipeline saved in base_folder; returns path.

    strength scales the random up-projections: at 1.0 the LoRA changes a tiny model's output clearly.
    """
    pipe = DiffusionPipeline.from_pretrained(base_folder)
    torch.manual_seed(seed)
    layers = {"unet_lora_layers": _random_lora(pipe.unet, UNET_TARGETS, rank, strength)}
    if text_encoder:
        for component in _TEXT_ENCODERS:
            if getattr(pipe, component, None) is not None:
                layers[f"{component}_lora_layers"] = _random_lora(
                    getattr(pipe, component), TEXT_ENCODER_TARGETS, rank, strength
                )
    accepted = inspect.signature(type(pipe).save_lora_weights).parameters
    missing = [key for key in layers if key not in accepted]
    if missing:
        raise ValueError(f"{type(pipe).__name__} cannot save LoRA layers for {', '.join(missing)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    type(pipe).save_lora_weights(path.parent, weight_name=path.name, safe_serialization=True, **layers)
    return path
