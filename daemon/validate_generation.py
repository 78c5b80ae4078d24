"""Filling in and checking generation jobs: txt2img, img2img, inpaint, and the variations and upscales that become img2img."""

from __future__ import annotations

import dataclasses
import math
import secrets

from imagine import types as t
from daemon.errors import InvalidRequest
from daemon.job_params import generate_params
from daemon.model_refs import resolve_pipeline
from daemon.validate import Context
from models.builtin import PIPELINE_KINDS

MAX_SEED = 2**32 - 1
MAX_PROMPT_CHARS = 4000
VARIATION_STRENGTH = 0.4
VARIATION_COUNT = 4
UPSCALE_DENOISE = 0.35
HIRES_DENOISE = 0.5
IMG2IMG_STRENGTH = 0.75
MASK_BLUR = 4
PREPROCESSORS = ("canny", "none")
UPSCALERS = ("latent", "pixel")


def derive(spec: t.JobSpec, ctx: Context) -> t.JobSpec:
    """A variation or upscale of an earlier output, as the img2img job it is."""
    request = spec.task
    assert isinstance(request, (t.Variations, t.Upscale))
    field = f"{spec.kind}.output_id"
    source = ctx.source(request.output_id, field)
    made = source.spec.task
    if not isinstance(made, (t.Txt2Img, t.Img2Img)):
        raise InvalidRequest(field, f"{field}: output '{request.output_id}' is not a generated image")
    common = dict(
        prompt=made.prompt,
        negative_prompt=made.negative_prompt,
        guidance=made.guidance,
        scheduler=made.scheduler,
        loras=made.loras,
        vae=made.vae,
        init_image=t.ImageInput(output_id=request.output_id),
    )
    out = source.output
    if isinstance(request, t.Variations):
        strength = VARIATION_STRENGTH if request.strength is None else request.strength
        task = t.Img2Img(
            **common,  # type: ignore[arg-type]
            width=out.width,
            height=out.height,
            steps=_steps_to_denoise(made.steps, strength),
            seed=request.seed,
            count=request.count or VARIATION_COUNT,
            strength=strength,
        )
        label = "variation_of"
    else:
        scale = request.scale or 2.0
        if not 1.0 < scale <= 4.0:
            raise InvalidRequest("upscale.scale", f"upscale.scale must be more than 1 and at most 4, got {scale}")
        task = t.Img2Img(
            **common,  # type: ignore[arg-type]
            width=_multiple_of_8(out.width * scale),
            height=_multiple_of_8(out.height * scale),
            steps=request.steps or _steps_to_denoise(made.steps, UPSCALE_DENOISE if request.denoise is None else request.denoise),
            seed=out.seed,
            count=1,
            strength=UPSCALE_DENOISE if request.denoise is None else request.denoise,
        )
        label = "upscale_of"
    return dataclasses.replace(
        spec, task=task, model=spec.model or source.spec.model, labels={**spec.labels, label: request.output_id}
    )


MIN_DENOISING_STEPS = 2


def _steps_to_denoise(steps: int, strength: float) -> int:
    """The source's steps, or more when img2img at this strength (which runs steps x strength) would run too few."""
    if strength <= 0:
        return steps
    return min(150, max(steps, math.ceil(MIN_DENOISING_STEPS / strength)))


def _multiple_of_8(value: float) -> int:
    return max(8, int(value) // 8 * 8)


def fill(spec: t.JobSpec, ctx: Context) -> t.JobSpec:
    from models import catalog

    kind = spec.kind
    task = spec.task
    assert isinstance(task, (t.Txt2Img, t.Img2Img))
    model = spec.model.strip() or ctx.default_model
    defaults, model = resolve_pipeline(model, ctx.models_dir, PIPELINE_KINDS)
    if len(task.prompt) > MAX_PROMPT_CHARS:
        raise InvalidRequest(f"{kind}.prompt", f"{kind}.prompt is {len(task.prompt)} characters; the limit is {MAX_PROMPT_CHARS}")
    if task.seed is not None and not 0 <= task.seed <= MAX_SEED:
        raise InvalidRequest(f"{kind}.seed", f"{kind}.seed must be between 0 and {MAX_SEED}, got {task.seed}")
    try:
        prompt, tagged = catalog.extract_loras(task.prompt)
    except catalog.InvalidParameter as exc:
        raise InvalidRequest(f"{kind}.prompt", f"{kind}.{exc}") from exc
    changes: dict[str, object] = dict(
        prompt=prompt,
        steps=task.steps or defaults.steps,
        guidance=defaults.guidance if task.guidance is None else task.guidance,
        seed=secrets.randbelow(MAX_SEED + 1) if task.seed is None else task.seed,
        count=task.count or 1,
        scheduler=task.scheduler.strip().lower() or defaults.scheduler,
        loras=_loras(task.loras + tuple(t.Lora(name, weight) for name, weight in tagged), kind, ctx),
        controlnets=tuple(_controlnet(c, f"{kind}.controlnets[{i}]", ctx) for i, c in enumerate(task.controlnets)),
        vae=task.vae.strip() or getattr(defaults, "vae", ""),
    )
    width, height = defaults.width, defaults.height
    if isinstance(task, t.Img2Img):
        init = ctx.image(task.init_image, f"{kind}.init_image")
        width, height = _size_of(ctx, init)
        changes.update(
            init_image=init,
            strength=(1.0 if isinstance(task, t.Inpaint) else IMG2IMG_STRENGTH) if task.strength is None else task.strength,
        )
        if isinstance(task, t.Inpaint):
            if not task.mask.given:
                raise InvalidRequest(f"{kind}.mask", f"{kind}.mask is required: white where to repaint, black elsewhere")
            mask = ctx.image(task.mask, f"{kind}.mask", mask=True)
            if _size_of(ctx, mask) != (width, height):
                mw, mh = _size_of(ctx, mask)
                raise InvalidRequest(
                    f"{kind}.mask", f"{kind}.mask is {mw}x{mh} but the init image is {width}x{height}; they must match"
                )
            changes.update(mask=mask, mask_blur=MASK_BLUR if task.mask_blur is None else task.mask_blur)
        width, height = _multiple_of_8(width), _multiple_of_8(height)
    elif task.hires is not None:
        hires = task.hires
        changes["hires"] = dataclasses.replace(
            hires,
            denoise=HIRES_DENOISE if hires.denoise is None else hires.denoise,
            upscaler=hires.upscaler.strip().lower() or "latent",
        )
        if changes["hires"].upscaler not in UPSCALERS:  # type: ignore[attr-defined]
            raise InvalidRequest(f"{kind}.hires.upscaler", f"{kind}.hires.upscaler must be one of {', '.join(UPSCALERS)}")
    filled = dataclasses.replace(task, width=task.width or width, height=task.height or height, **changes)  # type: ignore[arg-type]
    _check(filled, kind, ctx, spec.previews)
    return dataclasses.replace(spec, model=model, task=filled)


def _check(task: t.Txt2Img | t.Img2Img, kind: str, ctx: Context, previews: bool) -> None:
    """The worker's own parameter checks, on the parameters it will get (which resolves LoRAs, VAE and ControlNets:
    one that is not installed is ModelUnknown here)."""
    from models import catalog

    params = generate_params(task, models_dir=ctx.models_dir, inputs=ctx.inputs, previews=previews)
    try:
        catalog.check_generate(params)
    except catalog.InvalidParameter as exc:
        message = str(exc)
        if not message.startswith(exc.field):
            message = f"{exc.field}: {message}"
        raise InvalidRequest(f"{kind}.{exc.field}", f"{kind}.{message}") from exc


def _size_of(ctx: Context, image: t.ImageInput) -> tuple[int, int]:
    from PIL import Image

    with Image.open(ctx.inputs.path(image.input_id)) as opened:
        return opened.size


def _loras(loras: tuple[t.Lora, ...], kind: str, ctx: Context) -> tuple[t.Lora, ...]:
    for i, lora in enumerate(loras):
        if not lora.name.strip():
            raise InvalidRequest(f"{kind}.loras[{i}].name", f"{kind}.loras[{i}].name is empty; name a LoRA")
    return tuple(t.Lora(lora.name, 1.0 if lora.weight is None else lora.weight) for lora in loras)


def _controlnet(control: t.ControlNet, field: str, ctx: Context) -> t.ControlNet:
    preprocessor = control.preprocessor.strip().lower() or "canny"
    if preprocessor not in PREPROCESSORS:
        raise InvalidRequest(f"{field}.preprocessor", f"{field}.preprocessor must be one of {', '.join(PREPROCESSORS)}")
    if not control.image.given:
        raise InvalidRequest(f"{field}.image", f"{field}.image is required: the control image")
    return dataclasses.replace(
        control,
        image=ctx.image(control.image, f"{field}.image"),
        preprocessor=preprocessor,
        scale=1.0 if control.scale is None else control.scale,
        low_threshold=control.low_threshold or 100,
        high_threshold=control.high_threshold or 200,
    )


