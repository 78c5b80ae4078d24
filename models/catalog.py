"""What the daemon needs to know about models to accept a job, without loading any.

The daemon validates and fills in job specs with these; the worker does the
heavy work. Keep this module (and what it imports) free of torch and
diffusers at import time so the daemon starts fast and stays small.
"""

from __future__ import annotations

from models.builtin import BUILTIN_MODELS, ModelDefaults
from models.errors import InvalidParameter, ModelNotFound, ModelNotInstalled
from models.images import decode_image, decode_mask
from models.lora_syntax import extract_loras
from models.params import GenerateParams, Txt2ImgParams, check_txt2img
from models.samplers import sampler_names
from models.sources import ModelSource, check_hub_available, resolve_model

check_generate = check_txt2img  # until the generation core's own check lands

# Stable Diffusion 1.x defaults, for models that are not built in.
SD15_DEFAULTS = ModelDefaults(width=512, height=512, steps=25, guidance=7.0, scheduler="euler_a")


def defaults_for(source: ModelSource) -> ModelDefaults:
    builtin = BUILTIN_MODELS.get(source.name) if source.kind == "builtin" else None
    return builtin.defaults if builtin is not None else SD15_DEFAULTS


__all__ = [
    "BUILTIN_MODELS",
    "SD15_DEFAULTS",
    "InvalidParameter",
    "ModelDefaults",
    "ModelNotFound",
    "ModelNotInstalled",
    "ModelSource",
    "Txt2ImgParams",
    "GenerateParams",
    "check_generate",
    "check_hub_available",
    "decode_image",
    "decode_mask",
    "extract_loras",
    "check_txt2img",
    "defaults_for",
    "resolve_model",
    "sampler_names",
]
