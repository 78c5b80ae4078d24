"""Generation: txt2img, img2img, inpainting and hires fix, alone or as one batched pipeline call.

A job alone makes its images one at a time, so image i is exactly the single image that seed + i
gives. `generate_batch` runs several compatible text-to-image jobs (equal `batch_key`) as one
pipeline call, with per-image prompts and one generator per image.

The pipeline each pass calls comes from `pipeline_for(base, mode)`, and `extra_kwargs` (what
models.conditioning yields: ControlNet maps and scales) go into the job's own pass as given; a pass
of another mode or size (hires fix's img2img pass, img2img at strength 1 run as txt2img) gets them
through controlnet.control_kwargs_for, which resizes the maps and moves them to that mode's argument.
A ControlNet job passes its ControlNet pipeline as the base; pipeline_for derives the other modes' classes.
"""

import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from diffusers import (
    AutoPipelineForImage2Image,
    AutoPipelineForInpainting,
    AutoPipelineForText2Image,
    DiffusionPipeline,
)
from PIL import Image, ImageChops, ImageFilter

from models.controlnet import control_kwargs_for
from models.errors import Cancelled, ModelError, OutOfDeviceMemory
from models.images import check_mask_matches, open_image
from models.kernels import batch_invariant_kernels
from models.loading import is_out_of_memory, loaded_scheduler
from models.params import GenerateParams, batch_key, check_generate, denoising_steps, hires_size, steps_per_image
from models.previews import latent_projection, preview_png
from models.samplers import make_scheduler

StepFn = Callable[[int, int], None]  # (done, total)
PreviewFn = Callable[[int, int, bytes], None]  # (step, total, png)
JobStepFn = Callable[[int, int, int], None]  # (job index, done, total)
JobPreviewFn = Callable[[int, int, int, bytes], None]  # (job index, step, total, png)
PassKwargsFn = Callable[[str, int, int], Mapping[str, Any]]  # (mode, width, height) -> extra call kwargs

_DERIVERS = {
    "txt2img": AutoPipelineForText2Image,
    "img2img": AutoPipelineForImage2Image,
    "inpaint": AutoPipelineForInpainting,
}

# Per base pipeline: the pipelines of its other modes, derived from it and sharing its components.
_derived: "weakref.WeakKeyDictionary[DiffusionPipeline, dict[str, DiffusionPipeline]]" = weakref.WeakKeyDictionary()


def pipeline_for(base: DiffusionPipeline, mode: str) -> DiffusionPipeline:
    """The pipeline for mode ("txt2img" | "img2img" | "inpaint"), sharing base's weights; no load, no copy.

    diffusers' AutoPipeline.from_pipe picks the class (SDXL, ControlNet ... variants map automatically).
    A component replaced on base since (a VAE override, another ControlNet) is passed on before use.
    """
    if mode == pipeline_mode(base):
        return base
    pipes = _derived.setdefault(base, {})
    pipe = pipes.get(mode)
    if pipe is None:
        pipe = pipes[mode] = _DERIVERS[mode].from_pipe(base)
        pipe.set_progress_bar_config(disable=True)
    for name, component in base.components.items():
        if name != "scheduler" and name in pipe.components and pipe.components[name] is not component:
            setattr(pipe, name, component)
    return pipe


def pipeline_mode(pipe: DiffusionPipeline) -> str:
    """The mode a pipeline class runs, from diffusers' naming: ...Inpaint..., ...Img2Img..., else txt2img."""
    name = type(pipe).__name__
    if "Inpaint" in name:
        return "inpaint"
    return "img2img" if "Img2Img" in name else "txt2img"


def use_sampler(pipe: DiffusionPipeline, base: DiffusionPipeline, name: str, seeds: Sequence[int] = ()) -> None:
    """Give pipe a fresh scheduler of the named kind, built from base's scheduler config as loaded.

    Always from the model's own config, so a sampler never inherits the previous sampler's settings.
    """
    config = loaded_scheduler(base).config
    pipe.scheduler = make_scheduler(name, config, noise_seeds=list(seeds) or None)


@contextmanager
def _sampler(pipe: DiffusionPipeline, base: DiffusionPipeline, name: str, seeds: Sequence[int]) -> Iterator[None]:
    """use_sampler for one call; pipe gets its scheduler back after, so a job leaves the pipeline as it found it."""
    before = pipe.scheduler
    use_sampler(pipe, base, name, seeds)
    try:
        yield
    finally:
        pipe.scheduler = before


@dataclass(frozen=True)
class _Image:
    """One image to make: a row of a pipeline call."""

    job: int
    params: GenerateParams
    seed: int


class _Progress:
    """Steps, previews and cancellation of the jobs in one generate / generate_batch call.

    Each job counts its own steps up to its own total; a step is reported once per job however
    many of the job's images are in the pipeline call.
    """

    def __init__(
        self,
        jobs: Sequence[GenerateParams],
        totals: Sequence[int],
        on_step: JobStepFn,
        should_cancel: Callable[[int], bool],
        on_preview: JobPreviewFn | None,
    ) -> None:
        self.jobs = jobs
        self.totals = totals
        self.done = [0] * len(jobs)
        self.cancelled: set[int] = set()
        self.on_step = on_step
        self.should_cancel = should_cancel
        self.on_preview = on_preview

    def check_cancelled(self, jobs: Sequence[int]) -> None:
        """Note newly cancelled jobs; raise Cancelled when every job of the call is cancelled."""
        self.cancelled.update(job for job in jobs if job not in self.cancelled and self.should_cancel(job))
        if all(job in self.cancelled for job in jobs):
            steps = ", ".join(f"{self.done[job]} of {self.totals[job]}" for job in jobs)
            raise Cancelled(f"job cancelled after step {steps}")

    def advance(self, rows: Sequence[_Image], latents: Any, projection: Any) -> None:
        """One more step of a pass for every job in rows; previews from each job's first row."""
        first_row: dict[int, int] = {}
        for index, row in enumerate(rows):
            first_row.setdefault(row.job, index)
        for job, index in first_row.items():
            if job in self.cancelled:
                continue
            self.done[job] += 1
            self.on_step(job, self.done[job], self.totals[job])
            every = self.jobs[job].preview_every
            if self.on_preview is not None and every and self.done[job] % every == 0 and latents is not None:
                self.on_preview(job, self.done[job], self.totals[job], preview_png(latents[index], *projection))


class _StepCallback:
    """callback_on_step_end for one pass over rows of `steps` denoising steps.

    Second-order samplers (heun, dpm2) and PNDM call back more often than once per step, so the calls
    are mapped proportionally onto the pass's steps and each step is reported exactly once.
    """

    def __init__(self, progress: _Progress, rows: Sequence[_Image], steps: int, pipe: DiffusionPipeline) -> None:
        self.progress = progress
        self.rows = rows
        self.steps = steps
        self.reached = 0
        wants_previews = progress.on_preview is not None and any(r.params.preview_every for r in rows)
        self.projection = latent_projection(pipe) if wants_previews else None

    def __call__(self, pipe: DiffusionPipeline, index: int, timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
        calls = max(1, pipe.num_timesteps)
        reached = min(self.steps, (index + 1) * self.steps // calls)
        while self.reached < reached:
            self.reached += 1
            self.progress.advance(self.rows, tensors.get("latents"), self.projection)
        self.progress.check_cancelled(sorted({row.job for row in self.rows}))
        return tensors


@contextmanager
def _one_image_at_a_time_in_vae(pipe: DiffusionPipeline) -> Iterator[None]:
    """VAE slicing: a batch is encoded and decoded image by image, which gives each image the bits it gets alone."""
    vae = getattr(pipe, "vae", None)
    if vae is None or not hasattr(vae, "use_slicing"):
        yield
        return
    before = vae.use_slicing
    vae.use_slicing = True
    try:
        yield
    finally:
        vae.use_slicing = before


def _resize(image: Image.Image, width: int, height: int) -> Image.Image:
    return image.resize((width, height), Image.Resampling.LANCZOS)


class _Run:
    """The passes of one pipeline call's worth of rows (one image alone, or a batch of compatible jobs)."""

    def __init__(
        self,
        base: DiffusionPipeline,
        rows: Sequence[_Image],
        inputs: "_Inputs",
        progress: _Progress,
        pass_kwargs: PassKwargsFn,
    ) -> None:
        self.base = base
        self.rows = rows
        self.params = rows[0].params  # every row shares size, steps, sampler, guidance and mode
        self.inputs = inputs
        self.progress = progress
        self.pass_kwargs = pass_kwargs

    def _call(self, mode: str, size: tuple[int, int], steps: int, denoising: int, **kwargs: Any) -> Any:
        """One pipeline call over all rows at size; `steps` as diffusers takes them, `denoising` = the steps it runs."""
        pipe = pipeline_for(self.base, mode)
        seeds = [row.seed for row in self.rows]
        generators = [torch.Generator(device=pipe.device).manual_seed(seed) for seed in seeds]
        with (
            torch.inference_mode(),
            batch_invariant_kernels(),
            _sampler(pipe, self.base, self.params.scheduler, seeds),
            _one_image_at_a_time_in_vae(pipe),
        ):
            output = pipe(
                prompt=[row.params.prompt for row in self.rows],
                negative_prompt=[row.params.negative_prompt for row in self.rows],
                num_inference_steps=steps,
                guidance_scale=self.params.guidance,
                num_images_per_prompt=1,
                generator=generators,
                callback_on_step_end=_StepCallback(self.progress, self.rows, denoising, pipe),
                **kwargs,
                **self.pass_kwargs(mode, *size),
            )
        _mark_flagged(output)
        return output.images

    def first_pass(self, output_type: str) -> Any:
        """The images (or, for output_type "latent", the latents) at width x height; None if it runs no step."""
        p = self.params
        if p.mode == "txt2img" or (p.mode == "img2img" and p.strength == 1.0):  # strength 1: nothing of the init image
            size = (p.width, p.height)
            images = self._call(
                "txt2img", size, p.steps, p.steps, width=p.width, height=p.height, output_type=output_type
            )
            if output_type == "pil" and images[0].size != (p.width, p.height):
                raise ModelError(
                    f"the model returned a {images[0].size[0]}x{images[0].size[1]} image instead of "
                    f"{p.width}x{p.height}; it may not support that size"
                )
            return images
        denoising = denoising_steps(p.steps, p.strength)
        if denoising == 0:
            return None
        init, mask = self.inputs.init, self.inputs.mask
        if mask is None:
            return self._call(
                "img2img", init.size, p.steps, denoising, image=[init] * len(self.rows), strength=p.strength,
                output_type=output_type,
            )  # fmt: skip
        images = self._call(
            "inpaint", init.size, p.steps, denoising, image=init, mask_image=mask, strength=p.strength,
            width=p.width, height=p.height, output_type="pil",
        )  # fmt: skip
        return [Image.composite(image, init, _feathered(mask, p.mask_blur)) for image in images]

    def images(self) -> list[Image.Image]:
        p = self.params
        hires = p.hires
        if hires is None:
            first = self.first_pass("pil")
            return first if first is not None else [self.inputs.init.copy() for _ in self.rows]
        latent = hires.upscaler == "latent"
        first = self.first_pass("latent" if latent else "pil")
        width, height = hires_size(p.width, p.height, hires.scale)
        if latent:  # check_generate refuses a latent upscale where the first pass runs no step
            image: Any = torch.nn.functional.interpolate(first, size=(height // 8, width // 8), mode="bilinear")
        else:
            image = [_resize(im, width, height) for im in (first or [self.inputs.init] * len(self.rows))]
        steps = hires.steps or p.steps
        return self._call(  # type: ignore[no-any-return]
            "img2img", (width, height), steps, denoising_steps(steps, hires.denoise), image=image,
            strength=hires.denoise, output_type="pil",
        )  # fmt: skip


@dataclass(frozen=True)
class _Inputs:
    """A job's init image and mask, decoded, checked and resized to width x height; Image.new for txt2img."""

    init: Image.Image
    mask: Image.Image | None

    @classmethod
    def load(cls, params: GenerateParams) -> "_Inputs":
        if not params.init_image:
            return cls(Image.new("RGB", (params.width, params.height)), None)
        init = open_image(params.init_image, "init_image")
        mask = open_image(params.mask_image, "mask_image", mode="L") if params.mask_image else None
        if mask is not None:
            check_mask_matches(init.size, mask.size)
            mask = mask.resize((params.width, params.height), Image.Resampling.BILINEAR)
        return cls(_resize(init, params.width, params.height), mask)


def _pass_kwargs(params: GenerateParams, extra: Mapping[str, Any] | None) -> PassKwargsFn:
    """extra as given for the job's own pass; for a pass of another mode or size, its ControlNet maps moved and resized."""

    def for_pass(mode: str, width: int, height: int) -> Mapping[str, Any]:
        if not extra:
            return {}
        if mode == params.mode and (width, height) == (params.width, params.height):
            return extra
        return control_kwargs_for(extra, mode, width, height)

    return for_pass


def _mark_flagged(output: Any) -> None:
    """Images the pipeline's safety checker flagged (diffusers blanks them) carry info["nsfw"] = True."""
    flags = getattr(output, "nsfw_content_detected", None) or ()
    for image, flagged in zip(output.images, flags):
        if flagged and isinstance(image, Image.Image):
            image.info["nsfw"] = True


def _feathered(mask: Image.Image, blur: int) -> Image.Image:
    """The mask softened inwards only: 0 wherever the mask is 0, so nothing outside it can change."""
    if blur == 0:
        return mask
    return ImageChops.darker(mask, mask.filter(ImageFilter.GaussianBlur(blur)))


@contextmanager
def _out_of_memory_explained(params: GenerateParams, images: int) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        if not is_out_of_memory(exc):
            raise
        raise OutOfDeviceMemory(
            f"the device ran out of memory generating {images} image(s) of {params.width}x{params.height} at once; "
            "lower width and height (or the hires scale), or unload other models"
        ) from exc


def generate(
    pipe: DiffusionPipeline,
    params: GenerateParams,
    on_step: StepFn,
    should_cancel: Callable[[], bool],
    on_preview: PreviewFn | None = None,
    *,
    extra_kwargs: Mapping[str, Any] | None = None,
) -> list[Image.Image]:
    """params.count images of one job; image i is exactly the single image that seed + i gives.

    on_step(done, total) comes once per denoising step actually run, total = count x the steps of
    every pass (img2img and inpainting run int(steps x strength)); on_preview(step, total, png)
    every params.preview_every steps. Cancellation is checked between steps.

    img2img at strength 0 (or with too few steps to run one) returns the init image resized to
    width x height without running the model; at strength 1 it is the txt2img image of that seed.
    Inpainting composites the original back wherever the (inwards-feathered) mask is 0, so pixels
    outside the mask are the init image's exactly.
    """
    check_generate(params)
    if should_cancel():
        raise Cancelled("job cancelled before it started")
    preview = None if on_preview is None else (lambda _job, step, total, png: on_preview(step, total, png))
    progress = _Progress(
        [params],
        [params.count * steps_per_image(params)],
        lambda _job, done, total: on_step(done, total),
        lambda _job: should_cancel(),
        preview,
    )
    inputs = _Inputs.load(params)
    images: list[Image.Image] = []
    with _out_of_memory_explained(params, 1):
        for i in range(params.count):
            row = [_Image(0, params, params.seed + i)]
            images += _Run(pipe, row, inputs, progress, _pass_kwargs(params, extra_kwargs)).images()
    return images


def generate_batch(
    pipe: DiffusionPipeline,
    jobs: Sequence[GenerateParams],
    on_step: JobStepFn,
    should_cancel: Callable[[int], bool],
    on_preview: JobPreviewFn | None = None,
    *,
    extra_kwargs: Mapping[str, Any] | None = None,
) -> list[list[Image.Image]]:
    """Jobs with equal batch_key as ONE pipeline call (per pass); result i holds job i's images.

    Each job's images equal running it alone (see the tests for how exactly on this CPU); a job of
    count n contributes n rows, seeds seed .. seed + n - 1. on_step(job, done, total) counts each
    job's steps (total = the steps of one image, as all rows advance together). A cancelled job
    stops getting progress and gets an empty list of images; the caller reports it cancelled. The
    call stops (Cancelled) only when every job in it is cancelled.
    """
    if not jobs:
        return []
    for params in jobs:
        check_generate(params)
    keys = {batch_key(params) for params in jobs}
    if None in keys or len(keys) > 1:
        raise ValueError("generate_batch needs text-to-image jobs with one and the same batch_key")
    progress = _Progress(jobs, [steps_per_image(p) for p in jobs], on_step, should_cancel, on_preview)
    progress.check_cancelled(range(len(jobs)))
    rows = [_Image(job, params, params.seed + i) for job, params in enumerate(jobs) for i in range(params.count)]
    with _out_of_memory_explained(jobs[0], len(rows)):
        images = _Run(pipe, rows, _Inputs.load(jobs[0]), progress, _pass_kwargs(jobs[0], extra_kwargs)).images()
    results: list[list[Image.Image]] = [[] for _ in jobs]
    for row, image in zip(rows, images, strict=True):
        if row.job not in progress.cancelled:
            results[row.job].append(image)
    return results
