"""What the daemon needs to know about models to accept a job, without loading any.

The daemon validates and fills in job specs with these; the worker does the
heavy work. Keep this module (and what it imports) free of torch and
diffusers at import time so the daemon starts fast and stays small.
"""

from __future__ import annotations

from pathlib import Path

from models.builtin import BUILTIN_MODELS, ModelDefaults
from models.errors import InvalidParameter, ModelNotFound, ModelNotInstalled
from models.lora_syntax import extract_loras
from models.images import MAX_IMAGE_PIXELS, check_mask_matches, decode_image
from models.params import (
    ControlParams,
    GenerateParams,
    HiresParams,
    LoraParams,
    Txt2ImgParams,
    batch_key,
    check_generate,
    check_txt2img,
    output_size,
    steps_per_image,
)
from models.probe import Probe, few_step_flavour, probe, steps_in_name
from models.samplers import sampler_names
from models.sources import ModelSource, check_hub_available, resolve_model

# Stable Diffusion 1.x defaults, for models that are not built in.
SD15_DEFAULTS = ModelDefaults(width=512, height=512, steps=25, guidance=7.0, scheduler="euler_a")
SDXL_DEFAULTS = ModelDefaults(width=1024, height=1024, steps=30, guidance=5.0, scheduler="euler_a")
# Few-step distilled models: the sampler each was distilled for. Turbo models were trained at 512x512
# whatever their family; LCM and Lightning keep their family's size.
_FEW_STEP_SAMPLERS = {"turbo": "euler_a", "lcm": "lcm", "lightning": "euler"}
FEW_STEP_STEPS = 4
_LCM_EMBEDDED_GUIDANCE = 8.0  # what LCM distillations that take the guidance scale as an input were trained with


def defaults_for_probe(found: Probe) -> ModelDefaults:
    """Defaults for a probed model: by family (SDXL 1024x1024), and few steps without guidance for turbo/LCM."""
    base = SDXL_DEFAULTS if (found.family or found.kind) == "sdxl" else SD15_DEFAULTS
    if not found.few_step:
        return base
    size = 512 if found.few_step == "turbo" else base.width
    return ModelDefaults(
        width=size,
        height=size,
        steps=found.steps_hint or FEW_STEP_STEPS,
        guidance=_LCM_EMBEDDED_GUIDANCE if found.guidance_embedded else 0.0,
        scheduler=_FEW_STEP_SAMPLERS[found.few_step],
    )


def _hub_defaults(source: ModelSource) -> ModelDefaults:
    """From the cached snapshot's configs when there is one, else from the repo id alone."""
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(source.location, "model_index.json", revision=source.revision)
    if isinstance(cached, str):
        try:
            return defaults_for_probe(probe(Path(cached).parent))
        except ModelNotFound:
            pass
    repo = source.location.lower()
    family = "sdxl" if "xl" in repo else "sd15"
    flavour = few_step_flavour([repo])
    found = Probe(kind=family, format="hub", files=(), size_bytes=0, family=family, few_step=flavour,
                  steps_hint=steps_in_name(repo) if flavour else 0)  # fmt: skip
    return defaults_for_probe(found)


def defaults_for(source: ModelSource) -> ModelDefaults:
    """A model's defaults, read from its files (never its weights); SD 1.5's when nothing tells otherwise."""
    if source.kind == "builtin":
        builtin = BUILTIN_MODELS.get(source.name)
        return builtin.defaults if builtin is not None else SD15_DEFAULTS
    if source.kind == "hub":
        return _hub_defaults(source)
    try:
        return defaults_for_probe(probe(Path(source.location)))
    except ModelNotFound:  # not a layout probe knows: loading will say what is wrong
        return SD15_DEFAULTS


__all__ = [
    "BUILTIN_MODELS",
    "MAX_IMAGE_PIXELS",
    "SD15_DEFAULTS",
    "ControlParams",
    "GenerateParams",
    "HiresParams",
    "SDXL_DEFAULTS",
    "InvalidParameter",
    "LoraParams",
    "ModelDefaults",
    "ModelNotFound",
    "ModelNotInstalled",
    "ModelSource",
    "Txt2ImgParams",
    "batch_key",
    "check_generate",
    "check_hub_available",
    "check_mask_matches",
    "extract_loras",
    "check_txt2img",
    "decode_image",
    "defaults_for",
    "output_size",
    "defaults_for_probe",
    "resolve_model",
    "sampler_names",
    "steps_per_image",
]
