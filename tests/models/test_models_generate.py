"""img2img, inpainting, hires fix, previews and progress through generate(), on tiny-sd at 64x64."""

import io
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from diffusers import StableDiffusionPipeline
from PIL import Image

from models.errors import Cancelled, InvalidParameter
from models.generate import generate
from models.params import GenerateParams, HiresParams
from models.previews import PREVIEW_MAX_SIDE
from models.samplers import sampler_names


@pytest.fixture
def init_path(tmp_path: Path) -> Path:
    """A 96x80 photo-like test image: smooth gradients plus seeded noise (not 64x64, so it gets resized)."""
    y, x = np.mgrid[0:80, 0:96]
    noise = np.random.default_rng(7).integers(0, 40, size=(80, 96, 3))
    pixels = np.stack([x * 2, y * 3, (x + y)], axis=-1) + noise
    path = tmp_path / "init.png"
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(path)
    return path


@pytest.fixture
def mask_path(tmp_path: Path) -> Path:
    """White (repaint) rectangle in the middle of a black (keep) 96x80 mask."""
    mask = Image.new("L", (96, 80), 0)
    mask.paste(255, (30, 20, 70, 60))
    path = tmp_path / "mask.png"
    mask.save(path)
    return path


class Recorder:
    def __init__(self) -> None:
        self.steps: list[tuple[int, int]] = []
        self.previews: list[tuple[int, int, bytes]] = []

    def on_step(self, done: int, total: int) -> None:
        self.steps.append((done, total))

    def on_preview(self, step: int, total: int, png: bytes) -> None:
        self.previews.append((step, total, png))


def _run(pipe: StableDiffusionPipeline, params: GenerateParams, recorder: Recorder | None = None) -> list[Image.Image]:
    recorder = recorder or Recorder()
    return generate(pipe, params, recorder.on_step, lambda: False, recorder.on_preview)


def _pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image).astype(np.int16)


def _resized_init(init_path: Path) -> np.ndarray:
    return _pixels(Image.open(init_path).convert("RGB").resize((64, 64), Image.Resampling.LANCZOS))


def test_img2img_strength_0_returns_the_init_image_without_running_the_model(
    tiny_pipe: StableDiffusionPipeline, params: GenerateParams, init_path: Path
) -> None:
    recorder = Recorder()
    images = _run(tiny_pipe, replace(params, init_image=str(init_path), strength=0.0, count=2), recorder)
    assert [im.size for im in images] == [(64, 64), (64, 64)]
    assert all(np.array_equal(_pixels(im), _resized_init(init_path)) for im in images)
    assert recorder.steps == []


def test_img2img_strength_changes_the_image_and_runs_steps_times_strength(
    tiny_pipe: StableDiffusionPipeline, params: GenerateParams, init_path: Path
) -> None:
    half, full = Recorder(), Recorder()
    at_half = _pixels(_run(tiny_pipe, replace(params, init_image=str(init_path), strength=0.5), half)[0])
    at_full = _pixels(_run(tiny_pipe, replace(params, init_image=str(init_path), strength=1.0), full)[0])
    assert half.steps == [(1, 2), (2, 2)]
    assert full.steps == [(i, 4) for i in range(1, 5)]
    assert not np.array_equal(at_full, _resized_init(init_path))
    assert not np.array_equal(at_full, at_half)
    assert np.array_equal(at_full, _pixels(_run(tiny_pipe, params)[0]))  # strength 1 ignores the init image
    again = _pixels(_run(tiny_pipe, replace(params, init_image=str(init_path), strength=0.5))[0])
    assert np.array_equal(at_half, again)


def test_img2img_image_i_equals_a_single_run_with_seed_plus_i(
    tiny_pipe: StableDiffusionPipeline, params: GenerateParams, init_path: Path
) -> None:
    job = replace(params, init_image=str(init_path), strength=0.75, scheduler="euler_a", count=2)
    recorder = Recorder()
    pair = _run(tiny_pipe, job, recorder)
    second = _run(tiny_pipe, replace(job, seed=job.seed + 1, count=1))[0]
    assert np.array_equal(_pixels(pair[1]), _pixels(second))
    assert not np.array_equal(_pixels(pair[0]), _pixels(pair[1]))
    assert recorder.steps == [(i, 6) for i in range(1, 7)]  # int(4 x 0.75) = 3 steps per image


def test_inpainting_changes_only_the_masked_region(
    tiny_pipe: StableDiffusionPipeline, params: GenerateParams, init_path: Path, mask_path: Path
) -> None:
    recorder = Recorder()
    job = replace(params, init_image=str(init_path), mask_image=str(mask_path), strength=1.0, mask_blur=4)
    result = _pixels(_run(tiny_pipe, job, recorder)[0])
    init = _resized_init(init_path)
    inside = np.asarray(Image.open(mask_path).resize((64, 64), Image.Resampling.BILINEAR)) > 0
    assert np.array_equal(result[~inside], init[~inside])  # bit for bit outside the mask
    changed = np.abs(result - init).max(axis=-1) > 10
    assert changed[inside].mean() > 0.5
    assert recorder.steps == [(i, 4) for i in range(1, 5)]


def test_mask_blur_feathers_the_edge_inwards(
    tiny_pipe: StableDiffusionPipeline, params: GenerateParams, init_path: Path, mask_path: Path
) -> None:
    job = replace(params, init_image=str(init_path), mask_image=str(mask_path), strength=1.0)
    sharp = _pixels(_run(tiny_pipe, replace(job, mask_blur=0))[0])
    soft = _pixels(_run(tiny_pipe, replace(job, mask_blur=6))[0])
    init = _resized_init(init_path)
    inside = np.asarray(Image.open(mask_path).resize((64, 64), Image.Resampling.BILINEAR)) > 0
    assert np.array_equal(soft[~inside], init[~inside])
    # the blurred edge mixes in the original, so it lies closer to it than the sharp result does
    edge = np.zeros_like(inside)
    edge[20:44, 20:44] = True  # the mask covers about 20..46 x 16..48 after resizing
    edge &= inside
    assert np.abs(soft - init)[edge].mean() < np.abs(sharp - init)[edge].mean()


def test_a_mask_of_another_size_is_refused(
    tiny_pipe: StableDiffusionPipeline, params: GenerateParams, init_path: Path, tmp_path: Path
) -> None:
    Image.new("L", (64, 64), 255).save(tmp_path / "small-mask.png")
    job = replace(params, init_image=str(init_path), mask_image=str(tmp_path / "small-mask.png"))
    with pytest.raises(InvalidParameter) as info:
        _run(tiny_pipe, job)
    assert info.value.field == "mask_image" and "96x80" in str(info.value)


def test_a_corrupt_init_image_is_refused(
    tiny_pipe: StableDiffusionPipeline, params: GenerateParams, tmp_path: Path
) -> None:
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(InvalidParameter) as info:
        _run(tiny_pipe, replace(params, init_image=str(tmp_path / "broken.png")))
    assert info.value.field == "init_image"


@pytest.mark.parametrize("upscaler", ["latent", "pixel"])
def test_hires_fix_doubles_the_size_and_is_not_a_plain_upscale(
    tiny_pipe: StableDiffusionPipeline, params: GenerateParams, upscaler: str
) -> None:
    recorder = Recorder()
    small = replace(params, width=32, height=32)
    job = replace(small, hires=HiresParams(scale=2.0, steps=4, denoise=0.5, upscaler=upscaler))
    result = _run(tiny_pipe, job, recorder)[0]
    assert result.size == (64, 64)
    plain = _run(tiny_pipe, small)[0].resize((64, 64), Image.Resampling.LANCZOS)
    assert np.abs(_pixels(result) - _pixels(plain)).mean() > 2
    assert recorder.steps == [(i, 6) for i in range(1, 7)]  # 4 first-pass steps, then int(4 x 0.5)


def test_hires_on_an_init_image_at_strength_0_upscales_it_and_refines(
    tiny_pipe: StableDiffusionPipeline, params: GenerateParams, init_path: Path
) -> None:
    recorder = Recorder()
    hires = HiresParams(scale=1.5, steps=0, denoise=0.5, upscaler="pixel")
    job = replace(params, init_image=str(init_path), strength=0.0, hires=hires)
    result = _run(tiny_pipe, job, recorder)[0]
    assert result.size == (96, 96)
    assert recorder.steps == [(1, 2), (2, 2)]


def test_previews_arrive_every_n_steps_as_small_pngs(
    tiny_pipe: StableDiffusionPipeline, params: GenerateParams
) -> None:
    recorder = Recorder()
    job = replace(params, width=128, height=64, steps=4, preview_every=2, count=2)
    _run(tiny_pipe, job, recorder)
    assert [(step, total) for step, total, _ in recorder.previews] == [(2, 8), (4, 8), (6, 8), (8, 8)]
    for _, _, png in recorder.previews:
        assert png.startswith(b"\x89PNG")
        with Image.open(io.BytesIO(png)) as preview:
            assert preview.mode == "RGB"
            assert preview.size == (16, 8)  # the latent's size: 1/8 of the image
            assert max(preview.size) <= PREVIEW_MAX_SIDE
    first, last = (np.asarray(Image.open(io.BytesIO(p[2]))) for p in recorder.previews[:2])
    assert not np.array_equal(first, last)  # they follow the denoising


def test_no_previews_unless_asked(tiny_pipe: StableDiffusionPipeline, params: GenerateParams) -> None:
    recorder = Recorder()
    _run(tiny_pipe, params, recorder)
    assert recorder.previews == []


def test_cancel_during_img2img_stops_between_steps(
    tiny_pipe: StableDiffusionPipeline, params: GenerateParams, init_path: Path
) -> None:
    steps: list[int] = []
    job = replace(params, init_image=str(init_path), strength=1.0, steps=6)
    with pytest.raises(Cancelled):
        generate(tiny_pipe, job, lambda done, total: steps.append(done), lambda: len(steps) >= 2)
    assert steps == [1, 2]


@pytest.mark.parametrize("scheduler", sampler_names())
def test_every_sampler_runs_img2img_and_repeats(
    tiny_pipe: StableDiffusionPipeline, params: GenerateParams, init_path: Path, scheduler: str
) -> None:
    recorder = Recorder()
    job = replace(params, init_image=str(init_path), strength=0.5, scheduler=scheduler, width=32, height=32)
    first = _run(tiny_pipe, job, recorder)[0]
    assert first.size == (32, 32)
    assert recorder.steps == [(1, 2), (2, 2)]
    assert np.array_equal(_pixels(first), _pixels(_run(tiny_pipe, job)[0]))


@pytest.mark.parametrize("scheduler", ["dpmpp_sde", "euler_a", "lcm"])  # the ones that draw noise while sampling
def test_noisy_samplers_repeat_with_the_seed_in_txt2img(
    tiny_pipe: StableDiffusionPipeline, params: GenerateParams, scheduler: str
) -> None:
    job = replace(params, scheduler=scheduler, width=32, height=32, steps=3)
    first = _pixels(_run(tiny_pipe, job)[0])
    assert np.array_equal(first, _pixels(_run(tiny_pipe, job)[0]))
    assert not np.array_equal(first, _pixels(_run(tiny_pipe, replace(job, seed=job.seed + 1))[0]))


def test_extra_kwargs_reach_the_pipeline_call(tiny_pipe: StableDiffusionPipeline, params: GenerateParams) -> None:
    job = replace(params, width=32, height=32)
    plain = _pixels(_run(tiny_pipe, job)[0])
    rescaled = generate(tiny_pipe, job, lambda d, t: None, lambda: False, extra_kwargs={"guidance_rescale": 0.9})[0]
    assert not np.array_equal(plain, _pixels(rescaled))
