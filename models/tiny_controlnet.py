"""tiny-controlnet: a ControlNet for tiny-sd with seeded random weights.

ControlNetModel.from_unet copies the UNet's encoder and starts the zero convolutions at zero, as
training does; untrained, that ControlNet would add nothing. Every layer is re-initialised from a
seed instead, zero convolutions included, so the control image really steers the output.
"""

from pathlib import Path

import torch
from diffusers import ControlNetModel

from models.tiny_sd import build_unet


def reinitialise(model: torch.nn.Module, seed: int) -> None:
    """Fresh default-initialised weights for every layer that has its own initialiser, drawn from seed."""
    torch.manual_seed(seed)
    for module in model.modules():
        reset = getattr(module, "reset_parameters", None)
        if callable(reset):
            reset()


def build_tiny_controlnet(folder: Path, width: int, seed: int = 0) -> None:
    """Save a ControlNet shaped for tiny-sd (sized for `width`-pixel images) into folder."""
    controlnet = ControlNetModel.from_unet(build_unet(width // 8))
    reinitialise(controlnet, seed)
    controlnet.save_pretrained(folder, safe_serialization=True)
