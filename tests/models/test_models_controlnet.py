"""ControlNet: the control image steers tiny-sd, several nets combine, and every mode gets its pipeline."""

from pathlib import Path

import numpy as np
import pytest
import torch
from diffusers import (
    ControlNetModel,
    DiffusionPipeline,
    StableDiffusionControlNetImg2ImgPipeline,
    StableDiffusionControlNetInpaintPipeline,
    StableDiffusionControlNetPipeline,
    StableDiffusionXLControlNetPipeline,
    UNet2DConditionModel,
)
from PIL import Image, ImageDraw

from models.controlnet import controlled
from models.diffusion import load_pipeline, resolve_model
from models.errors import InvalidParameter, ModelError
from models.params import ControlParams
from models.preprocess import canny, control_image
from models.tiny_controlnet import amplify_hint_path, reinitialise
from tests.models.images import mean_difference, render

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def pipe(models_dir: Path) -> DiffusionPipeline:
    return load_pipeline(resolve_model("tiny-sd", models_dir), models_dir, CPU)


def _shapes(path: Path, box: tuple[int, int, int, int], size: int = 96) -> Path:
    image = Image.new("RGB", (size, size), "black")
    ImageDraw.Draw(image).rectangle(box, fill="white")
    image.save(path)
    return path


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("control")
    return _shapes(folder / "left.png", (8, 8, 40, 88)), _shapes(folder / "right.png", (50, 20, 90, 60))


def _canny(image: Path, scale: float = 1.0) -> ControlParams:
    return ControlParams(model="tiny-controlnet", image=str(image), preprocessor="canny", scale=scale)


def test_canny_gives_an_edge_map(images: tuple[Path, Path]) -> None:
    edges = np.asarray(control_image(images[0], "canny", 96, 96))
    assert edges.shape == (96, 96, 3)
    assert set(np.unique(edges)) == {0, 255}
    gray = edges[..., 0]
    assert gray[8:88, 6:11].any() and gray[8:88, 37:43].any()  # the rectangle's left and right sides
    assert not gray[20:76, 14:34].any()  # inside it: no edges
    assert not gray[:, 50:].any()  # and none where the image is flat black


def test_canny_thresholds_matter() -> None:
    image = Image.fromarray(np.tile(np.linspace(0, 255, 64, dtype=np.uint8), (64, 1)))
    image.paste(255, (20, 20, 40, 40))
    soft = (np.asarray(canny(image, 1, 2)) > 0).sum()
    strict = (np.asarray(canny(image, 200, 250)) > 0).sum()
    assert soft > strict > 0


def test_control_image_changes_the_output(pipe: DiffusionPipeline, models_dir: Path, images: tuple[Path, Path]) -> None:
    results = []
    for image in images:
        with controlled(pipe, [_canny(image)], "txt2img", 64, 64, models_dir) as (derived, extra):
            assert type(derived) is StableDiffusionControlNetPipeline
            assert derived.unet is pipe.unet and derived.vae is pipe.vae  # shared, not reloaded
            results.append(render(derived, **extra))
    assert mean_difference(results[0], results[1]) > 2.0


def test_scale_zero_is_the_plain_model(pipe: DiffusionPipeline, models_dir: Path, images: tuple[Path, Path]) -> None:
    with controlled(pipe, [_canny(images[0], scale=0.0)], "txt2img", 64, 64, models_dir) as (derived, extra):
        unscaled = render(derived, **extra)
    np.testing.assert_allclose(unscaled, render(pipe), atol=1)


def test_two_controlnets_in_one_job(pipe: DiffusionPipeline, models_dir: Path, images: tuple[Path, Path]) -> None:
    with controlled(pipe, [_canny(images[0])], "txt2img", 64, 64, models_dir) as (derived, extra):
        single = render(derived, **extra)
    both = [_canny(images[0], 1.0), _canny(images[1], 0.8)]
    with controlled(pipe, both, "txt2img", 64, 64, models_dir) as (derived, extra):
        assert len(extra["image"]) == 2 and extra["controlnet_conditioning_scale"] == [1.0, 0.8]
        double = render(derived, **extra)
    assert mean_difference(single, double) > 1.0


def test_img2img_and_inpaint_modes(pipe: DiffusionPipeline, models_dir: Path, images: tuple[Path, Path]) -> None:
    init = Image.new("RGB", (64, 64), (90, 120, 200))
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (16, 16, 48, 48))
    with controlled(pipe, [_canny(images[0])], "img2img", 64, 64, models_dir) as (derived, extra):
        assert type(derived) is StableDiffusionControlNetImg2ImgPipeline and "control_image" in extra
        out = render(derived, size=None, image=init, strength=0.5, **extra)
        assert out.shape == (64, 64, 3)
    with controlled(pipe, [_canny(images[0])], "inpaint", 64, 64, models_dir) as (derived, extra):
        assert type(derived) is StableDiffusionControlNetInpaintPipeline
        out = render(derived, image=init, mask_image=mask, strength=0.9, **extra)
        assert out.shape == (64, 64, 3)


def test_sdxl_controlnet(models_dir: Path, tiny_sdxl_dir: Path, images: tuple[Path, Path], tmp_path: Path) -> None:
    xl = load_pipeline(resolve_model("tiny-sdxl", models_dir), models_dir, CPU)
    net = ControlNetModel.from_unet(UNet2DConditionModel.from_pretrained(tiny_sdxl_dir / "unet"))
    reinitialise(net, seed=4)
    amplify_hint_path(net)
    net.save_pretrained(tmp_path / "xl-controlnet")
    control = ControlParams(model=str(tmp_path / "xl-controlnet"), image=str(images[0]), preprocessor="none", scale=1.0)
    with controlled(xl, [control], "txt2img", 64, 64, models_dir) as (derived, extra):
        assert type(derived) is StableDiffusionXLControlNetPipeline
        steered = render(derived, **extra)
    assert mean_difference(steered, render(xl)) > 1.0
    with pytest.raises(ModelError, match="does not fit this model"):
        with controlled(load_pipeline(resolve_model("tiny-sd", models_dir), models_dir, CPU), [control], "txt2img",
                        64, 64, models_dir):  # fmt: skip
            pass


@pytest.mark.parametrize(
    ("control", "words"),
    [
        (ControlParams("tiny-controlnet", "IMAGE", "sobel", 1.0), "unknown ControlNet preprocessor 'sobel'"),
        (ControlParams("tiny-controlnet", "IMAGE", "canny", 1.0, 200, 100), "low <= high"),
        (ControlParams("tiny-controlnet", "IMAGE", "canny", 3.0), "scale must be between 0 and 2"),
        (ControlParams("tiny-sd", "IMAGE", "canny", 1.0), "not a ControlNet"),
        (ControlParams("/nowhere/controlnet", "IMAGE", "canny", 1.0), "does not exist"),
    ],
)
def test_bad_controlnet_parameters_name_the_field(
    pipe: DiffusionPipeline, models_dir: Path, images: tuple[Path, Path], control: ControlParams, words: str
) -> None:
    from dataclasses import replace

    with pytest.raises(InvalidParameter, match=words) as caught:
        with controlled(pipe, [replace(control, image=str(images[0]))], "txt2img", 64, 64, models_dir):
            pass
    assert caught.value.field == "controlnets"


def test_unreadable_control_image(pipe: DiffusionPipeline, models_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    with pytest.raises(InvalidParameter, match="cannot be read"):
        with controlled(pipe, [_canny(broken)], "txt2img", 64, 64, models_dir):
            pass


def test_the_builtin_controlnet_is_not_a_model_to_run(models_dir: Path) -> None:
    with pytest.raises(ModelError, match="is a controlnet, not a model that makes images"):
        load_pipeline(resolve_model("tiny-controlnet", models_dir), models_dir, CPU)


def test_the_controlnet_pipeline_starts_from_the_models_own_scheduler(
    pipe: DiffusionPipeline, models_dir: Path, images: tuple[Path, Path]
) -> None:
    from models.samplers import make_scheduler

    loaded = dict(pipe.scheduler.config)
    pipe.scheduler = make_scheduler("dpmpp_2m_karras", pipe.scheduler.config)  # what an earlier job leaves behind
    try:
        with controlled(pipe, [_canny(images[0])], "txt2img", 64, 64, models_dir) as (derived, _extra):
            assert type(derived.scheduler).__name__ == loaded["_class_name"]
            assert dict(derived.scheduler.config) == loaded
    finally:
        pipe.scheduler = make_scheduler("pndm", loaded)


def test_a_second_img2img_pass_takes_the_control_map_as_control_image(
    pipe: DiffusionPipeline, models_dir: Path, images: tuple[Path, Path]
) -> None:
    from diffusers import AutoPipelineForImage2Image

    from models.controlnet import control_kwargs_for

    with controlled(pipe, [_canny(images[0])], "txt2img", 64, 64, models_dir) as (derived, extra):
        first = Image.fromarray(render(derived, **extra).astype(np.uint8)).resize((96, 96))
        second_pass = AutoPipelineForImage2Image.from_pipe(derived)
        assert type(second_pass) is StableDiffusionControlNetImg2ImgPipeline
        kwargs = control_kwargs_for(extra, "img2img", 96, 96)
        assert set(kwargs) == {"control_image", "controlnet_conditioning_scale"}
        assert kwargs["control_image"].size == (96, 96)
        upscaled = render(second_pass, size=None, image=first, strength=0.5, **kwargs)
    assert upscaled.shape == (96, 96, 3)


def test_tiny_controlnet_builds_byte_identical(models_dir: Path, tmp_path: Path) -> None:
    from models.builtin import BUILTIN_MODELS, ensure_builtin

    first = ensure_builtin("tiny-controlnet", models_dir)
    again = ensure_builtin("tiny-controlnet", tmp_path)
    assert BUILTIN_MODELS["tiny-controlnet"].is_complete(first)
    files = sorted(p.name for p in first.iterdir())
    assert files == ["config.json", "diffusion_pytorch_model.safetensors"]
    assert all((first / name).read_bytes() == (again / name).read_bytes() for name in files)


def test_a_single_file_controlnet_loads_offline_and_steers_like_its_folder(
    pipe: DiffusionPipeline, models_dir: Path, images: tuple[Path, Path], tmp_path: Path
) -> None:
    import shutil

    from models.builtin import ensure_builtin
    from models.probe import probe

    single = shutil.copy(ensure_builtin("tiny-controlnet", models_dir) / "diffusion_pytorch_model.safetensors",
                         tmp_path / "tiny-canny.safetensors")  # fmt: skip
    assert probe(Path(single)).kind == "controlnet"
    outputs = []
    for model in ("tiny-controlnet", str(single)):
        control = ControlParams(model=model, image=str(images[0]), preprocessor="canny", scale=1.0)
        with controlled(pipe, [control], "txt2img", 64, 64, models_dir) as (derived, extra):
            outputs.append(render(derived, **extra))
    np.testing.assert_allclose(outputs[1], outputs[0], atol=1)
