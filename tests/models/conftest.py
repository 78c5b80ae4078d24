"""tiny-sd built once per session; tests/conftest.py has already set HF_HUB_OFFLINE."""

from pathlib import Path

import pytest
import torch
from diffusers import DiffusionPipeline

from models.builtin import ensure_builtin
from models.diffusion import GenerateParams, Txt2ImgParams, load_pipeline, resolve_model


@pytest.fixture(scope="session")
def tiny_sd_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_builtin("tiny-sd", tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def tiny_pipe(tiny_sd_dir: Path) -> DiffusionPipeline:
    """One loaded tiny-sd for the session; tests must not change it beyond what txt2img does."""
    return load_pipeline(resolve_model("tiny-sd", tiny_sd_dir.parent), tiny_sd_dir.parent, torch.device("cpu"))


@pytest.fixture
def small_params() -> Txt2ImgParams:
    """Cheap parameters: 64x64, 2 steps."""
    return Txt2ImgParams(
        prompt="a lighthouse at dusk",
        negative_prompt="",
        width=64,
        height=64,
        steps=2,
        guidance=7.0,
        seed=1234,
        count=1,
        scheduler="euler",
    )


@pytest.fixture
def params(small_params: Txt2ImgParams) -> GenerateParams:
    """The same job as a GenerateParams, with 4 steps so that strength and hires denoise have steps to cut."""
    return GenerateParams(**{**small_params.__dict__, "steps": 4})


@pytest.fixture(scope="session")
def models_dir(tiny_sd_dir: Path) -> Path:
    """The session's models folder, where tiny-sd and the other built-ins are built."""
    return tiny_sd_dir.parent


@pytest.fixture(scope="session")
def tiny_sdxl_dir(models_dir: Path) -> Path:
    return ensure_builtin("tiny-sdxl", models_dir)


@pytest.fixture(scope="session")
def lora_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("loras")


@pytest.fixture(scope="session")
def sd_lora(lora_dir: Path, tiny_sd_dir: Path) -> Path:
    """A LoRA for tiny-sd's UNet and text encoder, seeded."""
    from models.tiny_lora import build_tiny_lora

    return build_tiny_lora(lora_dir / "sd-lora.safetensors", tiny_sd_dir, seed=1)


@pytest.fixture(scope="session")
def sdxl_lora(lora_dir: Path, tiny_sdxl_dir: Path) -> Path:
    """A LoRA for tiny-sdxl: the wrong model family for tiny-sd."""
    from models.tiny_lora import build_tiny_lora

    return build_tiny_lora(lora_dir / "sdxl-lora.safetensors", tiny_sdxl_dir, seed=2)
