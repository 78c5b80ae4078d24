"""Single-file checkpoints: tiny-sd written in the original (LDM) layout loads through from_single_file."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from diffusers import StableDiffusionInpaintPipeline, StableDiffusionPipeline, StableDiffusionXLPipeline
from safetensors.torch import save_file

from models.diffusion import load_pipeline, resolve_model
from models.errors import ModelError
from models.ldm_checkpoint import save_checkpoint, sd_folder_to_ldm, sdxl_folder_to_ldm
from models.probe import probe, safetensors_header
from models.single_file import single_file_pipeline_class
from tests.models.images import render

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def ldm_state(tiny_sd_dir: Path) -> dict[str, torch.Tensor]:
    return sd_folder_to_ldm(tiny_sd_dir)


@pytest.fixture(scope="module")
def checkpoints(ldm_state: dict[str, torch.Tensor], tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("checkpoints")
    save_checkpoint(ldm_state, folder / "tiny-sd.safetensors")
    save_checkpoint(ldm_state, folder / "tiny-sd.ckpt")
    return folder


def test_converted_checkpoint_has_the_original_layout(ldm_state: dict[str, torch.Tensor], checkpoints: Path) -> None:
    assert "model.diffusion_model.input_blocks.0.0.weight" in ldm_state
    assert "model.diffusion_model.middle_block.1.proj_in.weight" in ldm_state
    assert "first_stage_model.decoder.mid.attn_1.q.weight" in ldm_state
    assert "cond_stage_model.transformer.text_model.embeddings.token_embedding.weight" in ldm_state
    assert probe(checkpoints / "tiny-sd.safetensors").kind == "sd15"
    assert probe(checkpoints / "tiny-sd.ckpt").kind == "sd15"


@pytest.mark.parametrize("name", ["tiny-sd.safetensors", "tiny-sd.ckpt"])
def test_single_file_generates_what_the_folder_does(name: str, checkpoints: Path, tiny_sd_dir: Path) -> None:
    source = replace(resolve_model(str(checkpoints / name), tiny_sd_dir.parent), config=str(tiny_sd_dir))
    assert source.kind == "single_file"
    pipe = load_pipeline(source, tiny_sd_dir.parent, CPU)
    assert type(pipe) is StableDiffusionPipeline
    folder = load_pipeline(resolve_model("tiny-sd", tiny_sd_dir.parent), tiny_sd_dir.parent, CPU)  # as loaded
    np.testing.assert_array_equal(render(pipe), render(folder))  # the same weights, so the same bits


def test_sdxl_single_file_generates_what_the_folder_does(tiny_sdxl_dir: Path, tmp_path: Path) -> None:
    path = save_checkpoint(sdxl_folder_to_ldm(tiny_sdxl_dir), tmp_path / "tiny-sdxl.safetensors")
    assert "conditioner.embedders.1.model.transformer.resblocks.0.attn.in_proj_weight" in safetensors_header(path)
    assert probe(path).kind == "sdxl"
    models_dir = tiny_sdxl_dir.parent
    single = load_pipeline(replace(resolve_model(str(path), models_dir), config=str(tiny_sdxl_dir)), models_dir, CPU)
    folder = load_pipeline(resolve_model("tiny-sdxl", models_dir), models_dir, CPU)
    assert type(single) is StableDiffusionXLPipeline
    np.testing.assert_array_equal(render(single), render(folder))


def test_inpainting_checkpoint_gets_the_inpainting_pipeline(ldm_state: dict[str, torch.Tensor], tmp_path: Path) -> None:
    key = "model.diffusion_model.input_blocks.0.0.weight"
    weight = ldm_state[key]
    inpainting = {**ldm_state, key: torch.cat([weight, torch.zeros(weight.shape[0], 5, *weight.shape[2:])], dim=1)}
    assert single_file_pipeline_class(save_checkpoint(inpainting, tmp_path / "inpaint.safetensors")) is (
        StableDiffusionInpaintPipeline
    )
    assert single_file_pipeline_class(save_checkpoint(inpainting, tmp_path / "inpaint.ckpt")) is (
        StableDiffusionInpaintPipeline
    )


def test_sdxl_checkpoint_gets_the_sdxl_pipeline(tmp_path: Path) -> None:
    names = ["model.diffusion_model.input_blocks.0.0.weight", "conditioner.embedders.1.model.positional_embedding"]
    path = tmp_path / "xl.safetensors"
    save_file({name: torch.zeros(4, 4, 3, 3) for name in names}, path)
    assert single_file_pipeline_class(path) is StableDiffusionXLPipeline


def test_a_lora_is_not_loaded_as_a_model(sd_lora: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="is a lora, not a Stable Diffusion"):
        load_pipeline(resolve_model(str(sd_lora), tmp_path), tmp_path, CPU)


def test_unsafe_pickle_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {"x": torch.zeros(1)}, "payload": print}, path)
    with pytest.raises(ModelError, match="weights_only"):
        load_pipeline(resolve_model(str(path), tmp_path), tmp_path, CPU)


def test_without_config_offline_the_error_says_what_to_do(checkpoints: Path, tmp_path: Path) -> None:
    source = resolve_model(str(checkpoints / "tiny-sd.safetensors"), tmp_path)
    with pytest.raises(ModelError, match="config"):
        load_pipeline(source, tmp_path, CPU)
