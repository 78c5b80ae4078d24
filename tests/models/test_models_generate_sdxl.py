"""The generation core on tiny-sdxl: every mode derives the SDXL pipeline class, and batches stay exact."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from diffusers import DiffusionPipeline, StableDiffusionXLImg2ImgPipeline, StableDiffusionXLInpaintPipeline
from PIL import Image

from models.diffusion import load_pipeline, resolve_model
from models.generate import generate, generate_batch, pipeline_for
from models.params import GenerateParams, HiresParams
from models.previews import latent_projection


@pytest.fixture(scope="module")
def sdxl(tiny_sdxl_dir: Path) -> DiffusionPipeline:
    models_dir = tiny_sdxl_dir.parent
    return load_pipeline(resolve_model("tiny-sdxl", models_dir), models_dir, torch.device("cpu"))


@pytest.fixture
def job() -> GenerateParams:
    return GenerateParams("a lighthouse at dusk", "", 64, 64, 4, 5.0, 3, 1, "euler_a")


def _pixels(images: list[Image.Image]) -> list[np.ndarray]:
    return [np.asarray(im).astype(np.int16) for im in images]


def _run(pipe: DiffusionPipeline, params: GenerateParams) -> np.ndarray:
    return _pixels(generate(pipe, params, lambda d, t: None, lambda: False))[0]


def test_img2img_inpaint_and_hires_on_sdxl(sdxl: DiffusionPipeline, job: GenerateParams, tmp_path: Path) -> None:
    init = Image.fromarray(np.random.default_rng(3).integers(0, 255, (64, 64, 3), dtype=np.uint8))
    init.save(tmp_path / "init.png")
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (16, 16, 48, 48))
    mask.save(tmp_path / "mask.png")
    inside = np.asarray(mask) > 0

    img2img = _run(sdxl, replace(job, init_image=str(tmp_path / "init.png"), strength=0.5))
    inpainted = _run(sdxl, replace(job, init_image=str(tmp_path / "init.png"), mask_image=str(tmp_path / "mask.png")))
    hires = _run(sdxl, replace(job, hires=HiresParams(scale=1.5, steps=2, denoise=0.5, upscaler="latent")))

    assert type(pipeline_for(sdxl, "img2img")) is StableDiffusionXLImg2ImgPipeline
    assert type(pipeline_for(sdxl, "inpaint")) is StableDiffusionXLInpaintPipeline
    assert img2img.shape == (64, 64, 3) and not np.array_equal(img2img, np.asarray(init))
    assert np.array_equal(inpainted[~inside], np.asarray(init).astype(np.int16)[~inside])
    assert hires.shape == (96, 96, 3)


def test_sdxl_batch_equals_each_job_alone(sdxl: DiffusionPipeline, job: GenerateParams) -> None:
    jobs = [replace(job, steps=2), replace(job, steps=2, prompt="a red barn", seed=40, count=2)]
    batched = generate_batch(sdxl, jobs, lambda j, d, t: None, lambda j: False)
    for params, images in zip(jobs, batched, strict=True):
        alone = _pixels(generate(sdxl, params, lambda d, t: None, lambda: False))
        assert all(np.array_equal(a, b) for a, b in zip(alone, _pixels(images), strict=True))


def test_sdxl_previews_use_the_sdxl_projection(
    sdxl: DiffusionPipeline, tiny_pipe: DiffusionPipeline, job: GenerateParams
) -> None:
    sdxl_factors, sdxl_bias = latent_projection(sdxl)
    sd_factors, sd_bias = latent_projection(tiny_pipe)
    assert not torch.equal(sdxl_factors, sd_factors) and sdxl_bias.abs().sum() > 0 and sd_bias.abs().sum() == 0
    previews: list[bytes] = []
    generate(
        sdxl, replace(job, preview_every=2), lambda d, t: None, lambda: False, lambda s, t, png: previews.append(png)
    )
    assert len(previews) == 2 and all(png.startswith(b"\x89PNG") for png in previews)
