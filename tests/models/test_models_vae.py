"""VAE override for one job: a different VAE changes the image, and the model's own is back afterwards."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from diffusers import AutoencoderKL, DiffusionPipeline
from safetensors.torch import load_file

from models.diffusion import load_pipeline, resolve_model
from models.errors import ModelError
from models.ldm_checkpoint import save_checkpoint, vae_to_ldm
from models.probe import probe
from models.tiny_sd import build_vae
from models.vae import load_vae, vae_override
from tests.models.images import mean_difference, render


@pytest.fixture(scope="module")
def pipe(models_dir: Path) -> DiffusionPipeline:
    return load_pipeline(resolve_model("tiny-sd", models_dir), models_dir, torch.device("cpu"))


@pytest.fixture(scope="module")
def other_vae(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A VAE of tiny-sd's architecture with other seeded weights, as a diffusers folder."""
    folder = tmp_path_factory.mktemp("other-vae")
    build_vae(256, seed=3).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def other_vae_file(other_vae: Path) -> Path:
    """The same VAE as one original-layout file, as VAEs are shared on model sites."""
    weights = load_file(next(other_vae.glob("*.safetensors")))
    config = json.loads((other_vae / "config.json").read_text())
    return save_checkpoint(vae_to_ldm(weights, config), other_vae.parent / "other-vae.safetensors")


def test_override_changes_the_image_and_the_own_vae_returns(pipe: DiffusionPipeline, other_vae: Path) -> None:
    own = pipe.vae
    plain = render(pipe)
    with vae_override(pipe, str(other_vae)) as overridden:
        assert overridden.vae is not own
        swapped = render(overridden)
    assert pipe.vae is own
    assert mean_difference(swapped, plain) > 5.0
    assert np.array_equal(render(pipe), plain)


def test_single_file_vae_equals_its_folder(pipe: DiffusionPipeline, other_vae: Path, other_vae_file: Path) -> None:
    assert probe(other_vae_file).kind == "vae"
    with vae_override(pipe, str(other_vae)):
        from_folder = render(pipe)
    with vae_override(pipe, str(other_vae_file)):
        from_file = render(pipe)
    np.testing.assert_allclose(from_file, from_folder, atol=1)


def test_loaded_vaes_are_reused(pipe: DiffusionPipeline, other_vae: Path) -> None:
    assert load_vae(other_vae, pipe.vae) is load_vae(other_vae, pipe.vae)


def test_no_vae_keeps_the_models_own(pipe: DiffusionPipeline) -> None:
    own = pipe.vae
    with vae_override(pipe, "") as same:
        assert same.vae is own


def test_missing_vae_is_a_clear_error(pipe: DiffusionPipeline, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        with vae_override(pipe, str(tmp_path / "nope.safetensors")):
            pass


def test_vae_of_another_shape_is_refused(pipe: DiffusionPipeline, tmp_path: Path) -> None:
    torch.manual_seed(0)
    AutoencoderKL(
        block_out_channels=(8, 16), down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2, norm_num_groups=4, latent_channels=4,
    ).save_pretrained(tmp_path / "small-vae")  # fmt: skip
    own = pipe.vae
    with pytest.raises(ModelError, match="does not fit this model: its block_out_channels"):
        with vae_override(pipe, str(tmp_path / "small-vae")):
            pass
    assert pipe.vae is own
