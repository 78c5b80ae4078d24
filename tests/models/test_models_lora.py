"""LoRA adapters on a loaded tiny-sd: they change the output, and switching them off restores it bit for bit."""

from pathlib import Path

import numpy as np
import pytest
import torch
from diffusers import DiffusionPipeline
from safetensors.torch import save_file

from models import lora as lora_module
from models.diffusion import load_pipeline, resolve_model
from models.errors import InvalidParameter, ModelError
from models.lora import applied_loras, loaded_adapters
from models.params import LoraParams
from models.probe import probe, safetensors_header
from models.tiny_lora import build_tiny_lora
from tests.models.images import mean_difference, render


@pytest.fixture(scope="module")
def pipe(models_dir: Path) -> DiffusionPipeline:
    """A tiny-sd of this module's own: LoRAs are loaded into it."""
    return load_pipeline(resolve_model("tiny-sd", models_dir), models_dir, torch.device("cpu"))


def test_lora_changes_the_output_and_a_plain_job_after_it_is_bit_identical(
    pipe: DiffusionPipeline, sd_lora: Path
) -> None:
    plain = render(pipe)
    with applied_loras(pipe, [LoraParams("style", str(sd_lora), 1.0)]):
        styled = render(pipe)
    after = render(pipe)
    assert mean_difference(styled, plain) > 2.0
    assert np.array_equal(after, plain)


def test_weight_scales_the_effect_and_zero_is_none(pipe: DiffusionPipeline, sd_lora: Path) -> None:
    plain = render(pipe)
    results = {}
    for weight in (0.0, 0.3, 1.0):
        with applied_loras(pipe, [LoraParams("style", str(sd_lora), weight)]):
            results[weight] = mean_difference(render(pipe), plain)
    assert results[0.0] < 0.5
    assert results[0.3] < results[1.0]


def test_adapters_are_loaded_once_and_reused(pipe: DiffusionPipeline, sd_lora: Path) -> None:
    with applied_loras(pipe, [LoraParams("style", str(sd_lora), 1.0)]):
        first = render(pipe)
    before = loaded_adapters(pipe)
    with applied_loras(pipe, [LoraParams("style", str(sd_lora), 1.0)]):
        again = render(pipe)
    assert loaded_adapters(pipe) == before
    assert lora_module.adapter_name(sd_lora) in before
    assert np.array_equal(first, again)


def test_two_loras_in_one_job_differ_from_each_alone(
    pipe: DiffusionPipeline, sd_lora: Path, lora_dir: Path, tiny_sd_dir: Path
) -> None:
    other = build_tiny_lora(lora_dir / "sd-lora-2.safetensors", tiny_sd_dir, seed=5, text_encoder=False)
    a, b = LoraParams("a", str(sd_lora), 0.7), LoraParams("b", str(other), 0.7)
    outputs = []
    for loras in ([a], [b], [a, b]):
        with applied_loras(pipe, loras):
            outputs.append(render(pipe))
    assert mean_difference(outputs[2], outputs[0]) > 1.0
    assert mean_difference(outputs[2], outputs[1]) > 1.0


def test_least_recently_used_adapters_are_dropped(
    pipe: DiffusionPipeline, lora_dir: Path, tiny_sd_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lora_module, "MAX_LOADED_ADAPTERS", 2)
    files = [
        build_tiny_lora(lora_dir / f"lru-{i}.safetensors", tiny_sd_dir, seed=10 + i, rank=2, text_encoder=False)
        for i in range(3)
    ]
    for path in files:
        with applied_loras(pipe, [LoraParams(path.stem, str(path), 1.0)]):
            pass
    names = loaded_adapters(pipe)
    assert len(names) <= 2
    assert lora_module.adapter_name(files[0]) not in names
    assert lora_module.adapter_name(files[2]) in names


def test_missing_lora_file_is_a_clear_error(pipe: DiffusionPipeline, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="LoRA 'ghost': file .* does not exist"):
        with applied_loras(pipe, [LoraParams("ghost", str(tmp_path / "ghost.safetensors"), 1.0)]):
            pass


def test_lora_for_another_model_family_is_a_clear_error_and_leaves_the_model_plain(
    pipe: DiffusionPipeline, sdxl_lora: Path
) -> None:
    plain = render(pipe)
    with pytest.raises(ModelError, match="LoRA 'xl-style' .* does not fit this model"):
        with applied_loras(pipe, [LoraParams("xl-style", str(sdxl_lora), 1.0)]):
            pass
    assert lora_module.adapter_name(sdxl_lora) not in loaded_adapters(pipe)
    assert np.array_equal(render(pipe), plain)


def test_a_file_that_is_not_a_lora_is_a_clear_error(pipe: DiffusionPipeline, tmp_path: Path) -> None:
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}")
    with pytest.raises(ModelError, match="LoRA 'broken': .* not a safetensors file"):
        with applied_loras(pipe, [LoraParams("broken", str(broken), 1.0)]):
            pass


def test_the_same_file_twice_in_a_job_is_refused(pipe: DiffusionPipeline, sd_lora: Path) -> None:
    with pytest.raises(InvalidParameter, match="same file"):
        with applied_loras(pipe, [LoraParams("a", str(sd_lora), 1.0), LoraParams("b", str(sd_lora), 0.5)]):
            pass


def test_loras_are_switched_off_when_the_job_fails(pipe: DiffusionPipeline, sd_lora: Path) -> None:
    plain = render(pipe)
    with pytest.raises(RuntimeError, match="job failed"):
        with applied_loras(pipe, [LoraParams("style", str(sd_lora), 1.0)]):
            raise RuntimeError("job failed")
    assert np.array_equal(render(pipe), plain)


def test_kohya_named_lora_gives_what_the_same_diffusers_lora_gives(
    pipe: DiffusionPipeline, sd_lora: Path, lora_dir: Path, tiny_sd_dir: Path
) -> None:
    kohya = build_tiny_lora(lora_dir / "sd-lora-kohya.safetensors", tiny_sd_dir, seed=1, layout="kohya")
    assert any(name.startswith("lora_te_text_model_encoder") for name in safetensors_header(kohya))
    assert probe(kohya).kind == "lora"
    plain = render(pipe)
    with applied_loras(pipe, [LoraParams("diffusers", str(sd_lora), 1.0)]):
        from_diffusers = render(pipe)
    with applied_loras(pipe, [LoraParams("kohya", str(kohya), 1.0)]):
        from_kohya = render(pipe)
    assert mean_difference(from_kohya, plain) > 2.0
    np.testing.assert_allclose(from_kohya, from_diffusers, atol=1)


def test_text_encoder_part_of_a_lora_counts(
    pipe: DiffusionPipeline, sd_lora: Path, lora_dir: Path, tiny_sd_dir: Path
) -> None:
    unet_only = build_tiny_lora(lora_dir / "sd-lora-unet-only.safetensors", tiny_sd_dir, seed=1, text_encoder=False)
    with applied_loras(pipe, [LoraParams("both", str(sd_lora), 1.0)]):
        both = render(pipe)
    with applied_loras(pipe, [LoraParams("unet", str(unet_only), 1.0)]):
        unet = render(pipe)
    assert mean_difference(both, unet) > 1.0  # same UNet weights (same seed): the text encoder's LoRA made the rest


def test_a_lora_naming_layers_the_model_does_not_have_is_refused(pipe: DiffusionPipeline, tmp_path: Path) -> None:
    stray = tmp_path / "stray.safetensors"
    save_file({"lora_unet_no_such_block_to_q.lora_down.weight": torch.zeros(4, 32),
               "lora_unet_no_such_block_to_q.lora_up.weight": torch.zeros(32, 4),
               "lora_unet_no_such_block_to_q.alpha": torch.tensor(4.0)}, stray)  # fmt: skip
    with pytest.raises(ModelError, match="LoRA 'stray' .* does not fit this model"):
        with applied_loras(pipe, [LoraParams("stray", str(stray), 1.0)]):
            pass
    assert lora_module.adapter_name(stray) not in loaded_adapters(pipe)


def test_a_checkpoint_that_is_not_a_lora_is_refused(pipe: DiffusionPipeline, tiny_sd_dir: Path) -> None:
    vae_weights = tiny_sd_dir / "vae" / "diffusion_pytorch_model.safetensors"
    with pytest.raises(ModelError, match="LoRA 'vae': .* is a vae model, not a LoRA"):
        with applied_loras(pipe, [LoraParams("vae", str(vae_weights), 1.0)]):
            pass
