"""Text-to-image generation, and the entry points for finding and loading models."""

import weakref
from collections.abc import Callable, Mapping
from typing import Any

import torch
from diffusers import DiffusionPipeline
from PIL import Image

from models.errors import Cancelled, ModelError, OutOfDeviceMemory
from models.loading import LoadedModel, PipelineCache, load_pipeline
from models.params import Txt2ImgParams, check_txt2img
from models.samplers import make_scheduler
from models.sources import ModelSource, check_hub_available, resolve_model

__all__ = [
    "LoadedModel",
    "ModelSource",
    "PipelineCache",
    "Txt2ImgParams",
    "check_hub_available",
    "check_txt2img",
    "load_pipeline",
    "resolve_model",
    "txt2img",
]

# Each pipeline's scheduler config as loaded, so that switching sampler never inherits the previous sampler's settings.
_original_scheduler_configs: "weakref.WeakKeyDictionary[DiffusionPipeline, Mapping[str, Any]]" = (
    weakref.WeakKeyDictionary()
)


def use_sampler(pipe: DiffusionPipeline, name: str) -> None:
    """Give the pipeline a fresh scheduler of the named kind, built from the model's own scheduler config."""
    base = _original_scheduler_configs.setdefault(pipe, pipe.scheduler.config)
    pipe.scheduler = make_scheduler(name, base)


class _StepCallback:
    """callback_on_step_end for one image: reports steps on a count x steps scale and stops the run when asked.

    Second-order samplers (heun, dpm2) and PNDM call back more often than once per step, so the calls
    are mapped proportionally onto the image's steps and each step is reported exactly once.
    """

    def __init__(
        self, params: Txt2ImgParams, image: int, on_step: Callable[[int, int], None], should_cancel: Callable[[], bool]
    ) -> None:
        self.steps = params.steps
        self.first = image * params.steps  # steps of the images before this one
        self.total = params.count * params.steps
        self.on_step = on_step
        self.should_cancel = should_cancel
        self.reported = 0

    def __call__(self, pipe: DiffusionPipeline, index: int, timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
        calls = max(1, pipe.num_timesteps)
        reached = min(self.steps, (index + 1) * self.steps // calls)
        while self.reported < reached:
            self.reported += 1
            self.on_step(self.first + self.reported, self.total)
        if self.should_cancel():
            raise Cancelled(f"job cancelled after step {self.first + self.reported} of {self.total}")
        return tensors


def _is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, torch.OutOfMemoryError):
        return True
    message = str(exc).lower()
    return isinstance(exc, RuntimeError) and ("out of memory" in message or "can't allocate memory" in message)


def _generate_one(
    pipe: DiffusionPipeline,
    params: Txt2ImgParams,
    image: int,
    on_step: Callable[[int, int], None],
    should_cancel: Callable[[], bool],
) -> Image.Image:
    use_sampler(pipe, params.scheduler)  # fresh sampler state, exactly as in a single-image run
    with torch.inference_mode():
        output = pipe(
            prompt=params.prompt,
            negative_prompt=params.negative_prompt,
            width=params.width,
            height=params.height,
            num_inference_steps=params.steps,
            guidance_scale=params.guidance,
            num_images_per_prompt=1,
            generator=torch.Generator(device=pipe.device).manual_seed(params.seed + image),
            callback_on_step_end=_StepCallback(params, image, on_step, should_cancel),
            output_type="pil",
        )
    result: Image.Image = output.images[0]
    if result.size != (params.width, params.height):
        raise ModelError(
            f"the model returned a {result.size[0]}x{result.size[1]} image instead of "
            f"{params.width}x{params.height}; it may not support that size"
        )
    return result


def txt2img(
    pipe: DiffusionPipeline,
    params: Txt2ImgParams,
    on_step: Callable[[int, int], None],
    should_cancel: Callable[[], bool],
) -> list[Image.Image]:
    """Generate params.count images; image i is exactly the single image that seed + i gives.

    The images are made one at a time: oneDNN convolutions and MKL matrix products pick their
    kernels by batch size, so a batched run differs from single runs in the last bits. One at a
    time costs nothing on a CPU, keeps peak memory at one image, and makes every image reproducible.
    on_step(done, total) is called once per denoising step, with total = count * steps.
    """
    check_txt2img(params)
    if should_cancel():
        raise Cancelled("job cancelled before it started")
    try:
        return [_generate_one(pipe, params, i, on_step, should_cancel) for i in range(params.count)]
    except Exception as exc:
        if not _is_out_of_memory(exc):
            raise
        raise OutOfDeviceMemory(
            f"{pipe.device} ran out of memory generating a {params.width}x{params.height} image; "
            "lower width and height, or unload other models"
        ) from exc


def generate(pipe, params, on_step, should_cancel, on_preview=None):  # type: ignore[no-untyped-def]
    """Interim: txt2img only, until the generation core lands."""
    return txt2img(pipe, params, on_step, should_cancel)


def generate_batch(pipe, jobs, on_step, should_cancel, on_preview=None):  # type: ignore[no-untyped-def]
    """Interim: one job after another, until the generation core lands."""
    return [
        txt2img(pipe, p, lambda s, n, i=i: on_step(i, s, n), lambda i=i: should_cancel(i)) for i, p in enumerate(jobs)
    ]
