"""tiny-controlnet: a ControlNet for tiny-sd with seeded random weights.

ControlNetModel.from_unet copies the UNet's encoder and starts the zero convolutions at zero, as
training does; untrained, that ControlNet would add nothing. Every layer is re-initialised from a
seed instead, zero convolutions included. Default initialisation shrinks a signal a little at every
layer, and the control image passes eight convolutions before it joins the latents, so those are
initialised to grow it instead: then the control image really steers the output.
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


_HINT_GAIN = 2.0  # x Kaiming's ReLU gain: with 1.0 moving the control image's shapes changes the output by <1/255


def amplify_hint_path(controlnet: ControlNetModel) -> None:
    """Kaiming-normal weights, doubled, for the convolutions that embed the control image (seeded by the caller)."""
    for module in controlnet.controlnet_cond_embedding.modules():
        if isinstance(module, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            with torch.no_grad():
                module.weight.mul_(_HINT_GAIN)


def build_tiny_controlnet(folder: Path, width: int, seed: int = 0) -> None:
    """Save a ControlNet shaped for tiny-sd (sized for `width`-pixel images) into folder."""
    controlnet = ControlNetModel.from_unet(build_unet(width // 8))
    reinitialise(controlnet, seed)
    amplify_hint_path(controlnet)
    controlnet.save_pretrained(folder, safe_serialization=True)
