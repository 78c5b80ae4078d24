"""Tiny LoRA files for a diffusers pipeline folder, with seeded random weights, for tests and demos.

peft LoRA layers on the UNet's attention projections and the text encoders' self-attention, written
the way diffusers' training scripts write them (the pipeline's save_lora_weights) or the way kohya-ss
sd-scripts do (the naming most LoRAs on model sites have), so load_lora_weights reads either like any
downloaded LoRA.
"""

import inspect
from pathlib import Path
from typing import Any

import torch
from diffusers import DiffusionPipeline
from diffusers.utils import convert_state_dict_to_diffusers
from peft import LoraConfig
from peft.utils import get_peft_model_state_dict
from safetensors.torch import save_file

UNET_TARGETS = ["to_q", "to_k", "to_v", "to_out.0"]
TEXT_ENCODER_TARGETS = ["q_proj", "k_proj", "v_proj", "out_proj"]
_TEXT_ENCODERS = ("text_encoder", "text_encoder_2")


def _random_lora(model: Any, targets: list[str], rank: int, strength: float) -> dict[str, torch.Tensor]:
    """Add a LoRA adapter to model with random (not zero) up-projections; its peft state dict."""
    model.add_adapter(LoraConfig(r=rank, lora_alpha=rank, target_modules=targets, init_lora_weights=False))
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if ".lora_B." in name:
                parameter.normal_(0.0, strength / rank**0.5)
    state: dict[str, torch.Tensor] = get_peft_model_state_dict(model)
    return state


def _save_diffusers(pipe: Any, layers: dict[str, dict[str, torch.Tensor]], path: Path) -> None:
    """What diffusers' training scripts write, through the pipeline's own save_lora_weights."""
    accepted = inspect.signature(type(pipe).save_lora_weights).parameters
    named = {f"{component}_lora_layers": convert_state_dict_to_diffusers(state) for component, state in layers.items()}
    missing = [key for key in named if key not in accepted]
    if missing:
        raise ValueError(f"{type(pipe).__name__} cannot save LoRA layers for {', '.join(missing)}")
    type(pipe).save_lora_weights(path.parent, weight_name=path.name, safe_serialization=True, **named)


def _save_kohya(layers: dict[str, dict[str, torch.Tensor]], path: Path, rank: int) -> None:
    """kohya-ss sd-scripts naming, as most LoRAs on model sites: lora_unet_…_to_q.lora_down.weight and .alpha."""
    two_encoders = "text_encoder_2" in layers
    prefixes = {"unet": "lora_unet_", "text_encoder": "lora_te1_" if two_encoders else "lora_te_",
                "text_encoder_2": "lora_te2_"}  # fmt: skip
    out = {}
    for component, state in layers.items():
        for key, tensor in state.items():
            module, _, rest = key.partition(".lora_")
            if component != "unet" and not module.startswith("text_model."):
                module = f"text_model.{module}"  # transformers >= 5.6 flattened CLIPTextModel; kohya names keep it
            name = prefixes[component] + module.replace(".", "_")
            out[f"{name}.lora_{'down' if rest.startswith('A') else 'up'}.weight"] = tensor.contiguous()
            out[f"{name}.alpha"] = torch.tensor(float(rank))
    save_file(out, path)


def build_tiny_lora(
    path: Path,
    base_folder: Path,
    seed: int,
    rank: int = 4,
    strength: float = 1.0,
    text_encoder: bool = True,
    layout: str = "diffusers",
) -> Path:
    """Write a LoRA .safetensors file at path for the pipeline saved in base_folder; returns path.

    strength scales the random up-projections: at 1.0 the LoRA changes a tiny model's output clearly.
    layout is "diffusers" (diffusers' training scripts) or "kohya" (kohya-ss sd-scripts); the same
    seed gives the same weights in either.
    """
    if layout not in ("diffusers", "kohya"):
        raise ValueError(f"unknown LoRA layout '{layout}'; use diffusers or kohya")
    pipe = DiffusionPipeline.from_pretrained(base_folder)
    torch.manual_seed(seed)
    layers = {"unet": _random_lora(pipe.unet, UNET_TARGETS, rank, strength)}
    if text_encoder:
        for component in _TEXT_ENCODERS:
            if getattr(pipe, component, None) is not None:
                layers[component] = _random_lora(getattr(pipe, component), TEXT_ENCODER_TARGETS, rank, strength)
    path.parent.mkdir(parents=True, exist_ok=True)
    if layout == "kohya":
        _save_kohya(layers, path, rank)
    else:
        _save_diffusers(pipe, layers, path)
    return path
