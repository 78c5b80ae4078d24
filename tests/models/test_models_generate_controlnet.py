"""generate() with a ControlNet job's pipeline and kwargs (from conditioned()) in every pass it runs."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from diffusers import DiffusionPipeline
from PIL import Image

from models.conditioning import conditioned
from models.diffusion import load_pipeline, resolve_model
from models.generate import generate
from models.params import ControlParams, GenerateParams, HiresParams


@pytest.fixture(scope="module")
def pipe(models_dir: Path) -> DiffusionPipeline:
    return load_pipeline(resolve_model("tiny-sd", models_dir), models_dir, torch.device("cpu"))


@pytest.fixture(scope="module")
def controls(tmp_path_factory: pytest.TempPathFactory) -> list[ControlParams]:
    folder = tmp_path_factory.mktemp("control")
    checks, bars = folder / "checks.png", folder / "bars.png"
    Image.fromarray((np.indices((64, 64)).sum(axis=0) // 8 % 2 * 255).astype(np.uint8)).save(checks)
    Image.fromarray((np.indices((64, 64))[1] // 16 % 2 * 255).astype(np.uint8)).save(bars)
    return [ControlParams("tiny-controlnet", str(path), "none", 1.0) for path in (checks, bars)]


def _generate(pipe: DiffusionPipeline, params: GenerateParams, models_dir: Path) -> np.ndarray:
    with conditioned(pipe, params, models_dir) as (pipeline, extra):
        (image,) = generate(pipeline, params, lambda d, t: None, lambda: False, extra_kwargs=extra)
    return np.asarray(image).astype(np.int32)


@pytest.mark.parametrize(
    "change",
    [
        {"hires": HiresParams(scale=1.5, steps=2, denoise=0.6, upscaler="pixel")},
        {"init_image": "init", "strength": 1.0},  # run as txt2img: the maps move from control_image to image
        {"init_image": "init", "mask_image": "mask", "strength": 0.8},
    ],
    ids=["hires", "img2img-strength-1", "inpaint"],
)
def test_every_pass_follows_the_control_image(
    pipe: DiffusionPipeline, controls: list[ControlParams], models_dir: Path, tmp_path: Path, change: dict
) -> None:
    Image.new("RGB", (64, 64), (90, 120, 200)).save(tmp_path / "init.png")
    Image.new("L", (64, 64), 255).save(tmp_path / "mask.png")
    paths = {"init": str(tmp_path / "init.png"), "mask": str(tmp_path / "mask.png")}
    base = GenerateParams("a lighthouse at dusk", "", 64, 64, 4, 7.0, 7, 1, "euler")
    job = replace(base, **{k: paths.get(v, v) if isinstance(v, str) else v for k, v in change.items()})
    checks, bars = (_generate(pipe, replace(job, controlnets=(c,)), models_dir) for c in controls)
    assert checks.shape == bars.shape == ((96, 96, 3) if job.hires else (64, 64, 3))
    assert np.abs(checks - bars).mean() > 2.0
