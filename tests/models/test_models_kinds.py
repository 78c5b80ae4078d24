"""Telling model kinds apart from their files (LoRA, VAE, ControlNet, few-step models) and the defaults that follow."""

import json
import shutil
from pathlib import Path

import pytest
import torch

from models.catalog import SD15_DEFAULTS, SDXL_DEFAULTS, defaults_for, resolve_model
from models.diffusion import load_pipeline
from models.errors import ModelError
from models.params import LoraParams
from models.probe import probe
from tests.models.images import render


def _copy(tiny_sd_dir: Path, target: Path) -> Path:
    shutil.copytree(tiny_sd_dir, target)
    return target


def _use_scheduler(folder: Path, class_name: str) -> None:
    index = json.loads((folder / "model_index.json").read_text())
    index["scheduler"] = ["diffusers", class_name]
    (folder / "model_index.json").write_text(json.dumps(index))
    config_path = folder / "scheduler" / "scheduler_config.json"
    config = json.loads(config_path.read_text())
    config["_class_name"] = class_name
    config_path.write_text(json.dumps(config))


def test_builtin_defaults(models_dir: Path) -> None:
    assert defaults_for(resolve_model("tiny-sdxl", models_dir)).guidance == 5.0
    assert defaults_for(resolve_model("tiny-sd", models_dir)).width == 256


def test_a_turbo_folder_runs_few_steps_without_guidance(tiny_sd_dir: Path, tmp_path: Path) -> None:
    folder = _copy(tiny_sd_dir, tmp_path / "tiny-sd-turbo")
    found = probe(folder)
    assert (found.kind, found.family, found.few_step) == ("turbo", "sd15", "turbo")
    defaults = defaults_for(resolve_model(str(folder), tmp_path))
    assert (defaults.steps, defaults.guidance, defaults.scheduler, defaults.width) == (4, 0.0, "euler_a", 512)


def test_an_lcm_folder_gets_the_lcm_sampler_and_generates(tiny_sd_dir: Path, tmp_path: Path) -> None:
    folder = _copy(tiny_sd_dir, tmp_path / "dreamshaper-distilled")
    _use_scheduler(folder, "LCMScheduler")
    source = resolve_model(str(folder), tmp_path)
    defaults = defaults_for(source)
    assert (defaults.scheduler, defaults.guidance, defaults.steps) == ("lcm", 0.0, 4)
    pipe = load_pipeline(source, tmp_path, torch.device("cpu"))
    assert type(pipe.scheduler).__name__ == "LCMScheduler"
    image = render(pipe, num_inference_steps=defaults.steps, guidance_scale=defaults.guidance)
    assert image.shape == (64, 64, 3)


def test_lightning_step_count_comes_from_the_name(tiny_sd_dir: Path, tmp_path: Path) -> None:
    folder = _copy(tiny_sd_dir, tmp_path / "sdxl-lightning-2step")
    defaults = defaults_for(resolve_model(str(folder), tmp_path))
    assert (defaults.steps, defaults.scheduler, defaults.guidance) == (2, "euler", 0.0)


def test_sdxl_folder_gets_sdxl_defaults(tiny_sdxl_dir: Path, tmp_path: Path) -> None:
    folder = shutil.copytree(tiny_sdxl_dir, tmp_path / "my-xl")
    assert defaults_for(resolve_model(str(folder), tmp_path)) == SDXL_DEFAULTS


def test_turbo_single_file_by_its_name(tiny_sd_dir: Path, tmp_path: Path) -> None:
    from models.ldm_checkpoint import save_checkpoint, sd_folder_to_ldm

    path = save_checkpoint(sd_folder_to_ldm(tiny_sd_dir), tmp_path / "sd_turbo.safetensors")
    found = probe(path)
    assert (found.kind, found.family, found.few_step) == ("turbo", "sd15", "turbo")
    assert defaults_for(resolve_model(str(path), tmp_path)).guidance == 0.0


def test_hub_ids_without_a_cache_are_judged_by_name(tmp_path: Path) -> None:
    assert defaults_for(resolve_model("stabilityai/sdxl-turbo", tmp_path)).steps == 4
    assert defaults_for(resolve_model("stabilityai/stable-diffusion-xl-base-1.0", tmp_path)) == SDXL_DEFAULTS
    assert defaults_for(resolve_model("someone/plain-model", tmp_path)) == SD15_DEFAULTS


def test_lora_vae_and_controlnet_are_recognised(sd_lora: Path, models_dir: Path, tmp_path: Path) -> None:
    assert probe(sd_lora).kind == "lora"
    assert probe(models_dir / "tiny-sd" / "vae").kind == "vae"
    from models.builtin import ensure_builtin

    assert probe(ensure_builtin("tiny-controlnet", models_dir)).kind == "controlnet"
    repo = tmp_path / "lcm-lora-sdv1-5"
    repo.mkdir()
    shutil.copy(sd_lora, repo / "pytorch_lora_weights.safetensors")
    (repo / "README.md").write_text("a LoRA")
    found = probe(repo)
    assert (found.kind, found.format) == ("lora", "weights-folder")


def test_a_lora_folder_is_used_through_its_weights_file(sd_lora: Path, tmp_path: Path, models_dir: Path) -> None:
    from models.lora import applied_loras, loaded_adapters

    repo = tmp_path / "style-repo"
    repo.mkdir()
    shutil.copy(sd_lora, repo / "pytorch_lora_weights.safetensors")
    pipe = load_pipeline(resolve_model("tiny-sd", models_dir), models_dir, torch.device("cpu"))
    with applied_loras(pipe, [LoraParams("style", str(repo), 1.0)]):
        assert len(loaded_adapters(pipe)) == 1
    with pytest.raises(ModelError, match="no single .safetensors"):
        with applied_loras(pipe, [LoraParams("empty", str(tmp_path), 1.0)]):
            pass


def test_inpainting_models_are_marked(tiny_sd_dir: Path, tmp_path: Path) -> None:
    from models.ldm_checkpoint import save_checkpoint, sd_folder_to_ldm

    state = sd_folder_to_ldm(tiny_sd_dir)
    key = "model.diffusion_model.input_blocks.0.0.weight"
    state[key] = torch.cat([state[key], torch.zeros(state[key].shape[0], 5, 3, 3)], dim=1)
    found = probe(save_checkpoint(state, tmp_path / "sd-inpainting.safetensors"))
    assert (found.kind, found.inpainting) == ("sd15", True)
    assert any("inpainting model" in note for note in found.notes)
    folder = _copy(tiny_sd_dir, tmp_path / "inpaint-folder")
    config = json.loads((folder / "unet" / "config.json").read_text())
    (folder / "unet" / "config.json").write_text(json.dumps({**config, "in_channels": 9}))
    assert probe(folder).inpainting
    assert not probe(tiny_sd_dir).inpainting
