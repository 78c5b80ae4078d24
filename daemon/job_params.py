"""The parameters the worker runs a recorded generation job with: names resolved to files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from imagine import types as t
from daemon.inputs import Inputs
from daemon.model_refs import resolve_part

if TYPE_CHECKING:
    from models.params import GenerateParams

PREVIEWS_PER_JOB = 8  # a job that asks for previews gets about this many per image


def generate_params(task: t.Txt2Img | t.Img2Img, *, models_dir: Path, inputs: Inputs, previews: bool) -> GenerateParams:
    """A filled-in generation task as models.params.GenerateParams. Raises ModelUnknown for a part that is gone."""
    from models.params import ControlParams, GenerateParams, HiresParams, LoraParams

    hires = getattr(task, "hires", None)
    assert task.guidance is not None and task.seed is not None  # filled in by validation
    return GenerateParams(
        prompt=task.prompt,
        negative_prompt=task.negative_prompt,
        width=task.width,
        height=task.height,
        steps=task.steps,
        guidance=task.guidance,
        seed=task.seed,
        count=task.count,
        scheduler=task.scheduler,
        init_image=str(inputs.path(task.init_image.input_id)) if isinstance(task, t.Img2Img) else "",
        mask_image=str(inputs.path(task.mask.input_id)) if isinstance(task, t.Inpaint) else "",
        strength=task.strength if isinstance(task, t.Img2Img) and task.strength is not None else 1.0,
        mask_blur=task.mask_blur if isinstance(task, t.Inpaint) and task.mask_blur is not None else 0,
        hires=None
        if hires is None
        else HiresParams(hires.scale, hires.steps, hires.denoise if hires.denoise is not None else 0.5, hires.upscaler),
        loras=tuple(
            LoraParams(lora.name, resolve_part(lora.name, "lora", models_dir), 1.0 if lora.weight is None else lora.weight)
            for lora in task.loras
        ),
        controlnets=tuple(
            ControlParams(
                model=resolve_part(c.model, "controlnet", models_dir),
                image=str(inputs.path(c.image.input_id)),
                preprocessor=c.preprocessor,
                scale=1.0 if c.scale is None else c.scale,
                low_threshold=c.low_threshold,
                high_threshold=c.high_threshold,
            )
            for c in task.controlnets
        ),
        vae=resolve_part(task.vae, "vae", models_dir) if task.vae else "",
        preview_every=max(1, task.steps // PREVIEWS_PER_JOB) if previews else 0,
    )
