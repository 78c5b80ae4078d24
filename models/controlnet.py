"""ControlNet for one job: the ControlNet pipeline for the job's mode, derived from the loaded base pipeline.

from_pipe shares every component of the base pipeline (nothing is reloaded or copied); only the
ControlNet models themselves are loaded, once, and kept in a small cache.
"""

import json
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from diffusers import (
    ControlNetModel,
    StableDiffusionControlNetImg2ImgPipeline,
    StableDiffusionControlNetInpaintPipeline,
    StableDiffusionControlNetPipeline,
    StableDiffusionXLControlNetImg2ImgPipeline,
    StableDiffusionXLControlNetInpaintPipeline,
    StableDiffusionXLControlNetPipeline,
)
from PIL import Image

from models.builtin import BUILTIN_MODELS, ensure_builtin
from models.errors import InvalidParameter, ModelError
from models.loading import loaded_scheduler
from models.lru import LoadedLRU
from models.params import ControlParams
from models.preprocess import control_image

MAX_SCALE = 2.0
# (SDXL?, mode) -> the ControlNet pipeline class; in img2img and inpaint modes `image` is the init image
# and the control map goes in `control_image`.
_PIPELINES: dict[tuple[bool, str], type] = {
    (False, "txt2img"): StableDiffusionControlNetPipeline,
    (False, "img2img"): StableDiffusionControlNetImg2ImgPipeline,
    (False, "inpaint"): StableDiffusionControlNetInpaintPipeline,
    (True, "txt2img"): StableDiffusionXLControlNetPipeline,
    (True, "img2img"): StableDiffusionXLControlNetImg2ImgPipeline,
    (True, "inpaint"): StableDiffusionXLControlNetInpaintPipeline,
}
# The call argument that takes the control map: in img2img and inpaint pipelines `image` is the init image.
CONTROL_ARGUMENT = {"txt2img": "image", "img2img": "control_image", "inpaint": "control_image"}
_cache: LoadedLRU[ControlNetModel] = LoadedLRU(capacity=4)


def controlnet_location(model: str, models_dir: Path) -> Path:
    """Where the ControlNet `model` is: a built-in ControlNet (built on first use), a folder or a file."""
    builtin = BUILTIN_MODELS.get(model)
    if builtin is not None:
        if builtin.kind != "controlnet":
            raise InvalidParameter(
                "controlnets", f"'{model}' is a built-in {builtin.kind} model, not a ControlNet; try tiny-controlnet"
            )
        return ensure_builtin(model, models_dir)
    path = Path(model).expanduser()
    if not path.exists():
        raise InvalidParameter(
            "controlnets", f"ControlNet '{model}' does not exist; give a ControlNet folder or file, or a built-in name"
        )
    return path


def _read(path: Path, unet: Any) -> ControlNetModel:
    """A ControlNet folder, or a single file read with the config of a ControlNet made from unet.

    ControlNets copy their base UNet's encoder, so a checkpoint for this model family has the
    architecture ControlNetModel.from_unet gives; that config is built on the meta device (no
    memory) and nothing is fetched from the hub.
    """
    if path.is_dir():
        return ControlNetModel.from_pretrained(path)
    with torch.device("meta"):
        shaped = ControlNetModel.from_unet(unet, load_weights_from_unet=False)
    with tempfile.TemporaryDirectory(prefix="controlnet-config-") as config:
        shaped.save_config(config)
        return ControlNetModel.from_single_file(str(path), config=config)


def forget_loaded() -> int:
    """Drop every kept ControlNet; returns how many there were."""
    return _cache.clear()


def load_controlnet(model: str, models_dir: Path, unet: Any) -> ControlNetModel:
    """The ControlNet named by `model`, for unet's model and on unet's device and dtype; the last few are kept."""
    path = controlnet_location(model, models_dir)
    shape = "" if path.is_dir() else json.dumps(dict(unet.config), sort_keys=True, default=str)
    key = (str(path.resolve()), path.stat().st_mtime_ns, str(unet.device), str(unet.dtype), shape)
    return _cache.get_or_load(key, lambda: _load(model, path, unet))


def _load(model: str, path: Path, unet: Any) -> ControlNetModel:
    try:
        net = _read(path, unet)
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise ModelError(
            f"could not load ControlNet '{model}' from {path}: {exc}; check that it is a diffusers ControlNet "
            "folder (config.json and weights) or a ControlNet checkpoint for this model's family"
        ) from exc
    return net.to(device=unet.device, dtype=unet.dtype).eval()


def _check_fits(name: str, net: ControlNetModel, unet: Any) -> None:
    for field in ("cross_attention_dim", "block_out_channels", "addition_embed_type"):
        theirs, ours = net.config.get(field), unet.config.get(field)
        if list(theirs or []) != list(ours or []) if field == "block_out_channels" else theirs != ours:
            raise ModelError(
                f"ControlNet '{name}' does not fit this model: its {field} is {theirs} where the model's UNet has "
                f"{ours}; use a ControlNet trained for this model's family (SD 1.x, SD 2.x or SDXL)"
            )


def is_sdxl(pipe: Any) -> bool:
    return getattr(pipe, "text_encoder_2", None) is not None or getattr(pipe, "tokenizer_2", None) is not None


def pipeline_class(pipe: Any, mode: str) -> type:
    """The ControlNet pipeline class for pipe's family and a job mode (txt2img, img2img or inpaint)."""
    cls = _PIPELINES.get((is_sdxl(pipe), mode))
    if cls is None:
        raise InvalidParameter("controlnets", f"ControlNet does not support mode '{mode}'")
    return cls


def _check_scale(control: ControlParams) -> None:
    if not 0.0 <= control.scale <= MAX_SCALE:
        raise InvalidParameter(
            "controlnets", f"ControlNet '{control.model}' scale must be between 0 and {MAX_SCALE}, got {control.scale}"
        )


@contextmanager
def controlled(
    pipe: Any, controlnets: Sequence[ControlParams], mode: str, width: int, height: int, models_dir: Path
) -> Iterator[tuple[Any, dict[str, Any]]]:
    """Yield (pipeline to call, extra call kwargs) for a job with these ControlNets at width x height.

    The extra kwargs hold the control images (under `image` for txt2img, `control_image` otherwise)
    and controlnet_conditioning_scale; pass them to the pipeline call with the job's own arguments.
    """
    if not controlnets:
        raise InvalidParameter("controlnets", "controlled() needs at least one ControlNet")
    cls = pipeline_class(pipe, mode)
    for control in controlnets:
        _check_scale(control)
    nets = [load_controlnet(c.model, models_dir, pipe.unet) for c in controlnets]
    for control, net in zip(controlnets, nets, strict=True):
        _check_fits(control.model, net, pipe.unet)
    images = [
        control_image(Path(c.image), c.preprocessor, width, height, c.low_threshold, c.high_threshold)
        for c in controlnets
    ]
    single = len(nets) == 1
    # The model's own scheduler, not the sampler the last job left on pipe: samplers are made from its config.
    derived = cls.from_pipe(pipe, controlnet=nets[0] if single else nets, scheduler=loaded_scheduler(pipe))
    derived.set_progress_bar_config(disable=True)
    kwargs = {
        CONTROL_ARGUMENT[mode]: images[0] if single else images,
        "controlnet_conditioning_scale": controlnets[0].scale if single else [c.scale for c in controlnets],
    }
    yield derived, kwargs


def control_kwargs_for(extra: Mapping[str, Any], mode: str, width: int, height: int) -> dict[str, Any]:
    """ControlNet call kwargs for another pass (hires fix's img2img pass at its larger size, say).

    The control maps are resized to width x height and move to the argument that mode's ControlNet
    pipeline takes (diffusers' ControlNet img2img takes its size from the control map, so it must match).
    """
    maps = [extra[key] for key in set(CONTROL_ARGUMENT.values()) if key in extra]
    if not maps:
        return dict(extra)
    rest = {k: v for k, v in extra.items() if k not in CONTROL_ARGUMENT.values()}
    images = maps[0]
    resized = [
        m.resize((width, height), Image.Resampling.BILINEAR) for m in (images if isinstance(images, list) else [images])
    ]
    return {**rest, CONTROL_ARGUMENT[mode]: resized if isinstance(images, list) else resized[0]}
