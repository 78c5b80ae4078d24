"""Single-file checkpoints (.safetensors / .ckpt as model sites share them) loaded through from_single_file.

The pipeline class comes from the checkpoint's own tensors: SD 1.x/2.x or SDXL from the text
encoders it holds (see models.probe), and the inpainting variant when the UNet's first convolution
takes 9 channels (latents, mask and masked image) instead of 4. diffusers then needs the model
family's diffusers configs: from `config` (a local diffusers folder of the same architecture)
when given, else from the Hugging Face cache or hub.
"""

from pathlib import Path
from typing import Any

import torch
from diffusers import (
    DiffusionPipeline,
    StableDiffusionInpaintPipeline,
    StableDiffusionPipeline,
    StableDiffusionXLInpaintPipeline,
    StableDiffusionXLPipeline,
)

from models.errors import ModelError
from models.probe import INPAINT_CHANNELS, UNET_INPUT_TENSOR, classify_tensor_names, probe

_PIPELINES: dict[tuple[bool, bool], type] = {
    (False, False): StableDiffusionPipeline,
    (False, True): StableDiffusionInpaintPipeline,
    (True, False): StableDiffusionXLPipeline,
    (True, True): StableDiffusionXLInpaintPipeline,
}


def _pickled_family(path: Path) -> tuple[str, bool]:
    """(kind, inpainting) of a .ckpt, whose tensor shapes only torch can read: mmap'd, weights_only."""
    try:  # tensors stay on disk; weights_only refuses anything but tensors and plain containers
        checkpoint: Any = torch.load(path, map_location="cpu", mmap=True, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises many kinds for a bad or unsafe pickle
        raise ModelError(
            f"cannot read checkpoint {path}: {exc}; only plain tensor checkpoints are loaded (weights_only), "
            "so convert it to .safetensors"
        ) from exc
    while isinstance(checkpoint, dict) and isinstance(checkpoint.get("state_dict"), dict):
        checkpoint = checkpoint["state_dict"]
    if not isinstance(checkpoint, dict):
        raise ModelError(f"checkpoint {path} does not hold a state dict of tensors")
    found = classify_tensor_names(checkpoint)
    tensor = checkpoint.get(UNET_INPUT_TENSOR)
    return (found[0] if found else ""), isinstance(tensor, torch.Tensor) and tensor.shape[1] == INPAINT_CHANNELS


def single_file_pipeline_class(path: Path) -> type:
    """StableDiffusion[XL][Inpaint]Pipeline, from the checkpoint's tensor names and UNet input channels."""
    if path.suffix.lower() == ".safetensors":
        found = probe(path)  # the header alone
        kind, inpainting = found.family or found.kind, found.inpainting
    else:
        kind, inpainting = _pickled_family(path)
    if kind not in ("sd15", "sd2", "sdxl"):
        what = f"a {kind}" if kind else "not a model layout known here"
        raise ModelError(
            f"{path.name} is {what}, not a Stable Diffusion 1.x/2.x/XL checkpoint, so it cannot be loaded as a model"
        )
    return _PIPELINES[(kind == "sdxl", inpainting)]


def load_single_file(path: Path, dtype: torch.dtype, config: str = "") -> DiffusionPipeline:
    """The pipeline in a single-file checkpoint; config is a local diffusers folder of its architecture, or ""."""
    cls = single_file_pipeline_class(path)
    extra: dict[str, Any] = {"config": config} if config else {}
    if cls in (StableDiffusionPipeline, StableDiffusionInpaintPipeline):
        extra.update(safety_checker=None, requires_safety_checker=False)
    pipe: DiffusionPipeline = cls.from_single_file(str(path), torch_dtype=dtype, **extra)
    return pipe
