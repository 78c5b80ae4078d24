"""The worker's entry points: finding and loading models, and generating images with them."""

import dataclasses
from collections.abc import Callable

from diffusers import DiffusionPipeline
from PIL import Image

from models.generate import generate, generate_batch, pipeline_for, use_sampler
from models.loading import LoadedModel, PipelineCache, load_pipeline
from models.params import GenerateParams, Txt2ImgParams, batch_key, check_generate, check_txt2img
from models.sources import ModelSource, check_hub_available, resolve_model

__all__ = [
    "GenerateParams",
    "LoadedModel",
    "ModelSource",
    "PipelineCache",
    "Txt2ImgParams",
    "batch_key",
    "check_generate",
    "check_hub_available",
    "check_txt2img",
    "generate",
    "generate_batch",
    "load_pipeline",
    "pipeline_for",
    "resolve_model",
    "txt2img",
    "use_sampler",
]


def txt2img(
    pipe: DiffusionPipeline,
    params: Txt2ImgParams,
    on_step: Callable[[int, int], None],
    should_cancel: Callable[[], bool],
) -> list[Image.Image]:
    """generate() for a plain text-to-image job: params.count images, image i exactly what seed + i gives."""
    if not isinstance(params, GenerateParams):
        params = GenerateParams(**{field.name: getattr(params, field.name) for field in dataclasses.fields(params)})
    return generate(pipe, params, on_step, should_cancel)
