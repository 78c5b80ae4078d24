"""conditioned(): VAE, LoRAs and ControlNets of one job together, and nothing of them left afterwards."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from diffusers import DiffusionPipeline, StableDiffusionControlNetImg2ImgPipeline
from PIL import Image

from models.conditioning import conditioned
from models.diffusion import load_pipeline, resolve_model
from models.params import ControlParams, GenerateParams, LoraParams
from models.tiny_sd import build_vae
from tests.models.images import mean_difference, render


@pytest.fixture(scope="module")
def pipe(models_dir: Path) -> DiffusionPipeline:
    return load_pipeline(resolve_model("tiny-sd", models_dir), models_dir, torch.device("cpu"))


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> GenerateParams:
    return GenerateParams(
        prompt="a lighthouse at dusk", negative_prompt="", width=64, height=64, steps=2, guidance=7.0,
        seed=7, count=1, scheduler="euler",
    )  # fmt: skip


@pytest.fixture(scope="module")
def control(tmp_path_factory: pytest.TempPathFactory) -> ControlParams:
    path = tmp_path_factory.mktemp("control") / "stripes.png"
    Image.fromarray(np.kron(np.indices((8, 8)).sum(axis=0) % 2 * 255, np.ones((8, 8))).astype(np.uint8)).save(path)
    return ControlParams(model="tiny-controlnet", image=str(path), preprocessor="canny", scale=1.0)


def test_a_plain_job_gets_the_base_pipeline(pipe: DiffusionPipeline, job: GenerateParams, models_dir: Path) -> None:
    with conditioned(pipe, job, models_dir) as (pipeline, extra):
        assert pipeline is pipe and extra == {}


def test_everything_at_once_then_a_plain_job_is_bit_identical(
    pipe: DiffusionPipeline, job: GenerateParams, models_dir: Path, sd_lora: Path, control: ControlParams,
    tmp_path: Path,
) -> None:  # fmt: skip
    build_vae(256, seed=9).save_pretrained(tmp_path / "vae")
    plain = render(pipe)
    full = replace(
        job, loras=(LoraParams("style", str(sd_lora), 0.8),), controlnets=(control,), vae=str(tmp_path / "vae")
    )
    outputs = {}
    for name, params in {
        "lora": replace(job, loras=full.loras),
        "vae": replace(job, vae=full.vae),
        "all": full,
    }.items():
        with conditioned(pipe, params, models_dir) as (pipeline, extra):
            outputs[name] = render(pipeline, **extra)
    assert all(mean_difference(out, plain) > 2.0 for out in outputs.values())
    assert mean_difference(outputs["all"], outputs["lora"]) > 2.0
    assert mean_difference(outputs["all"], outputs["vae"]) > 2.0
    assert np.array_equal(render(pipe), plain)


def test_img2img_with_controlnet_gets_the_controlnet_img2img_pipeline(
    pipe: DiffusionPipeline, job: GenerateParams, models_dir: Path, control: ControlParams, tmp_path: Path
) -> None:
    init = tmp_path / "init.png"
    Image.new("RGB", (64, 64), (200, 80, 40)).save(init)
    params = replace(job, init_image=str(init), controlnets=(control,))
    with conditioned(pipe, params, models_dir) as (pipeline, extra):
        assert type(pipeline) is StableDiffusionControlNetImg2ImgPipeline
        assert set(extra) == {"control_image", "controlnet_conditioning_scale"}
        out = render(pipeline, size=None, image=Image.open(init), strength=0.6, **extra)
    assert out.shape == (64, 64, 3)


def test_kept_vaes_and_controlnets_can_be_forgotten(
    pipe: DiffusionPipeline, job: GenerateParams, models_dir: Path, control: ControlParams, tmp_path: Path
) -> None:
    from models.conditioning import forget_loaded_addons
    from models.controlnet import load_controlnet
    from models.vae import load_vae

    build_vae(256, seed=11).save_pretrained(tmp_path / "vae")
    with conditioned(pipe, replace(job, controlnets=(control,), vae=str(tmp_path / "vae")), models_dir):
        pass
    kept_vae = load_vae(tmp_path / "vae", pipe.vae)
    kept_net = load_controlnet("tiny-controlnet", models_dir, pipe.unet)
    assert forget_loaded_addons() >= 2
    assert load_vae(tmp_path / "vae", pipe.vae) is not kept_vae
    assert load_controlnet("tiny-controlnet", models_dir, pipe.unet) is not kept_net
