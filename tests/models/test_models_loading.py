from pathlib import Path

import pytest
import torch
from diffusers import StableDiffusionPipeline

from models.diffusion import PipelineCache, load_pipeline, resolve_model
from models.errors import ModelError, ModelNotInstalled
from models.loading import pipeline_memory_bytes

CPU = torch.device("cpu")


def test_load_diffusers_folder(tiny_sd_dir: Path, tmp_path: Path) -> None:
    pipe = load_pipeline(resolve_model(str(tiny_sd_dir), tmp_path), tmp_path, CPU)
    assert isinstance(pipe, StableDiffusionPipeline)
    assert pipe.device == CPU and pipe.unet.dtype == torch.float32


def test_load_hub_model_offline_without_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(ModelNotInstalled):
        load_pipeline(resolve_model("org/name", tmp_path), tmp_path, CPU)


def test_broken_folder_is_a_model_error(tmp_path: Path) -> None:
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline"}')
    with pytest.raises(ModelError, match="broken"):
        load_pipeline(resolve_model("broken", tmp_path), tmp_path, CPU)


def test_cache_keeps_pipelines(tiny_sd_dir: Path) -> None:
    models_dir = tiny_sd_dir.parent
    cache = PipelineCache(models_dir, CPU)
    source = resolve_model("tiny-sd", models_dir)
    first, first_ms = cache.get(source)
    second, second_ms = cache.get(source)
    assert first_ms > 0.0 and second_ms == 0.0
    assert second is first
    [loaded] = cache.loaded()
    assert (loaded.name, loaded.device) == ("tiny-sd", "cpu")
    unet_bytes = sum(p.numel() * p.element_size() for p in first.unet.parameters())
    assert loaded.memory_bytes == pipeline_memory_bytes(first) > unet_bytes
    assert cache.unload("tiny-sd") and not cache.unload("tiny-sd")
    assert cache.loaded() == []
    third, third_ms = cache.get(source)
    assert third is not first and third_ms > 0.0


def test_cache_builds_builtin_on_first_get(tmp_path: Path) -> None:
    cache = PipelineCache(tmp_path, CPU)
    pipe, _ = cache.get(resolve_model("tiny-sd", tmp_path))
    assert (tmp_path / "tiny-sd" / "model_index.json").is_file()
    assert isinstance(pipe, StableDiffusionPipeline)


def test_broken_checkpoint_is_a_model_error(tmp_path: Path) -> None:
    checkpoint = tmp_path / "garbage.safetensors"
    checkpoint.write_bytes(b"these are not weights")
    with pytest.raises(ModelError, match=r"garbage\.safetensors"):
        load_pipeline(resolve_model(str(checkpoint), tmp_path), tmp_path, CPU)
