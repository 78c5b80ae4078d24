"""img2img and inpaint pipelines come from the loaded base pipeline: no load, no extra memory."""

from pathlib import Path

import numpy as np
import torch
from diffusers import DiffusionPipeline, StableDiffusionImg2ImgPipeline, StableDiffusionInpaintPipeline
from PIL import Image

from models.generate import generate, pipeline_for
from models.loading import PipelineCache, load_pipeline, pipeline_memory_bytes
from models.params import GenerateParams
from models.sources import ModelSource, resolve_model

WEIGHTS = ("unet", "vae", "text_encoder")


def test_switching_modes_loads_nothing_and_shares_every_weight(tiny_sd_dir: Path, tmp_path: Path) -> None:
    models_dir = tiny_sd_dir.parent
    loads: list[str] = []

    def counting_loader(source: ModelSource, folder: Path, device: torch.device) -> DiffusionPipeline:
        loads.append(source.name)
        return load_pipeline(source, folder, device)

    cache = PipelineCache(models_dir, torch.device("cpu"), budget_bytes=2**30, loader=counting_loader)
    source = resolve_model("tiny-sd", models_dir)
    Image.new("RGB", (32, 32), (120, 30, 200)).save(tmp_path / "init.png")
    Image.new("L", (32, 32), 255).save(tmp_path / "mask.png")
    txt = GenerateParams("a boat", "", 32, 32, 2, 7.0, 3, 1, "euler")
    img = GenerateParams("a boat", "", 32, 32, 2, 7.0, 3, 1, "euler", init_image=str(tmp_path / "init.png"))
    inpaint = GenerateParams(**{**img.__dict__, "mask_image": str(tmp_path / "mask.png")})

    with cache.use(source) as (base, _):
        memory = [m.memory_bytes for m in cache.loaded()]
        for params in (txt, img, inpaint, txt, img):
            (image,) = generate(base, params, lambda done, total: None, lambda: False)
            assert image.size == (32, 32)
        img2img, inpainting = pipeline_for(base, "img2img"), pipeline_for(base, "inpaint")
    assert loads == ["tiny-sd"]
    assert [m.memory_bytes for m in cache.loaded()] == memory == [pipeline_memory_bytes(base)]
    assert type(img2img) is StableDiffusionImg2ImgPipeline and type(inpainting) is StableDiffusionInpaintPipeline
    assert pipeline_for(base, "img2img") is img2img  # derived once, then kept
    for name in WEIGHTS:
        assert getattr(img2img, name) is getattr(base, name) is getattr(inpainting, name)


def test_a_component_replaced_on_the_base_reaches_the_derived_pipelines(tiny_sd_dir: Path) -> None:
    models_dir = tiny_sd_dir.parent
    base = load_pipeline(resolve_model("tiny-sd", models_dir), models_dir, torch.device("cpu"))
    img2img = pipeline_for(base, "img2img")
    other = load_pipeline(resolve_model("tiny-sd", models_dir), models_dir, torch.device("cpu"))
    base.vae = other.vae  # what a VAE override does
    assert pipeline_for(base, "img2img").vae is other.vae
    assert img2img.unet is base.unet


def test_derived_pipelines_leave_the_base_pipeline_as_it_was(tiny_sd_dir: Path, tmp_path: Path) -> None:
    models_dir = tiny_sd_dir.parent
    base = load_pipeline(resolve_model("tiny-sd", models_dir), models_dir, torch.device("cpu"))
    txt = GenerateParams("a boat", "", 32, 32, 2, 7.0, 3, 1, "euler_a")
    before = np.asarray(generate(base, txt, lambda done, total: None, lambda: False)[0])
    Image.new("RGB", (32, 32), (20, 90, 40)).save(tmp_path / "init.png")
    img = GenerateParams(**{**txt.__dict__, "init_image": str(tmp_path / "init.png"), "scheduler": "dpmpp_2m_karras"})
    generate(base, img, lambda done, total: None, lambda: False)
    after = np.asarray(generate(base, txt, lambda done, total: None, lambda: False)[0])
    assert np.array_equal(before, after)


def test_derived_pipelines_go_when_their_base_goes(tiny_sd_dir: Path) -> None:
    import gc
    import weakref

    models_dir = tiny_sd_dir.parent
    base = load_pipeline(resolve_model("tiny-sd", models_dir), models_dir, torch.device("cpu"))
    derived = weakref.ref(pipeline_for(base, "inpaint"))
    unet = weakref.ref(base.unet)
    del base
    gc.collect()  # what the cache's release_device_memory does after an eviction
    assert derived() is None and unet() is None


def test_a_job_leaves_the_pipelines_scheduler_as_it_found_it(tiny_pipe: DiffusionPipeline, tmp_path: Path) -> None:
    before = tiny_pipe.scheduler
    Image.new("RGB", (32, 32), (20, 90, 40)).save(tmp_path / "init.png")
    for params in (
        GenerateParams("a boat", "", 32, 32, 2, 7.0, 3, 1, "dpmpp_2m_karras"),
        GenerateParams("a boat", "", 32, 32, 2, 7.0, 3, 1, "lcm", init_image=str(tmp_path / "init.png")),
    ):
        generate(tiny_pipe, params, lambda done, total: None, lambda: False)
        assert tiny_pipe.scheduler is before
        assert pipeline_for(tiny_pipe, "img2img").scheduler is before
