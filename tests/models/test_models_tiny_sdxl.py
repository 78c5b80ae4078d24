"""tiny-sdxl: built deterministically, loaded as SDXL, and usable for txt2img, img2img, inpainting and LoRA."""

from pathlib import Path

import numpy as np
import pytest
import torch
from diffusers import (
    AutoPipelineForImage2Image,
    AutoPipelineForInpainting,
    DiffusionPipeline,
    StableDiffusionXLImg2ImgPipeline,
    StableDiffusionXLInpaintPipeline,
    StableDiffusionXLPipeline,
)
from PIL import Image

from models.builtin import BUILTIN_MODELS, ensure_builtin
from models.diffusion import load_pipeline, resolve_model
from models.lora import applied_loras
from models.params import LoraParams
from models.probe import probe
from tests.models.images import mean_difference, render


@pytest.fixture(scope="module")
def xl(tiny_sdxl_dir: Path) -> DiffusionPipeline:
    models_dir = tiny_sdxl_dir.parent
    return load_pipeline(resolve_model("tiny-sdxl", models_dir), models_dir, torch.device("cpu"))


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_build_is_deterministic_and_small(tiny_sdxl_dir: Path, tmp_path: Path) -> None:
    first = _files(tiny_sdxl_dir)
    assert _files(ensure_builtin("tiny-sdxl", tmp_path)) == first
    assert sum(len(data) for data in first.values()) < 4 * 1024 * 1024
    assert len([name for name in first if name.endswith(".safetensors")]) == 4  # unet, vae, two text encoders


def test_it_is_an_sdxl_model(tiny_sdxl_dir: Path, xl: DiffusionPipeline) -> None:
    assert type(xl) is StableDiffusionXLPipeline
    assert probe(tiny_sdxl_dir).kind == "sdxl" == BUILTIN_MODELS["tiny-sdxl"].kind
    assert xl.unet.config.addition_embed_type == "text_time"
    assert xl.unet.config.cross_attention_dim == (
        xl.text_encoder.config.hidden_size + xl.text_encoder_2.config.hidden_size
    )
    assert xl.vae_scale_factor == 8


def test_txt2img_follows_the_prompt_and_the_seed(xl: DiffusionPipeline) -> None:
    image = render(xl)
    assert image.shape == (64, 64, 3)
    assert np.array_equal(render(xl), image)
    assert mean_difference(render(xl, prompt="a red square"), image) > 0.5
    assert mean_difference(render(xl, seed=8), image) > 5.0


def test_img2img_and_inpaint_pipelines_from_it(xl: DiffusionPipeline) -> None:
    init = Image.fromarray(render(xl).astype(np.uint8))
    img2img = AutoPipelineForImage2Image.from_pipe(xl)
    assert type(img2img) is StableDiffusionXLImg2ImgPipeline and img2img.unet is xl.unet
    varied = render(img2img, size=None, image=init, strength=0.6)
    assert varied.shape == (64, 64, 3) and mean_difference(varied, np.asarray(init)) > 1.0
    inpaint = AutoPipelineForInpainting.from_pipe(xl)
    assert type(inpaint) is StableDiffusionXLInpaintPipeline
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (16, 16, 48, 48))
    repainted = render(inpaint, image=init, mask_image=mask, strength=0.9)
    assert repainted.shape == (64, 64, 3)
    assert mean_difference(repainted[20:44, 20:44], np.asarray(init)[20:44, 20:44]) > 2.0


def test_sdxl_lora_with_both_text_encoders(xl: DiffusionPipeline, sdxl_lora: Path) -> None:
    plain = render(xl)
    with applied_loras(xl, [LoraParams("xl-style", str(sdxl_lora), 1.0)]):
        styled = render(xl)
    assert set(xl.get_list_adapters()) == {"unet", "text_encoder", "text_encoder_2"}
    assert mean_difference(styled, plain) > 2.0
    assert np.array_equal(render(xl), plain)
