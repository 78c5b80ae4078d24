from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from diffusers import StableDiffusionPipeline
from PIL import Image

from models.diffusion import Txt2ImgParams, load_pipeline, resolve_model, txt2img
from models.errors import Cancelled
from models.samplers import sampler_names


def _run(pipe: StableDiffusionPipeline, params: Txt2ImgParams) -> list[Image.Image]:
    return txt2img(pipe, params, on_step=lambda done, total: None, should_cancel=lambda: False)


def _pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image)


def test_returns_count_images_of_the_requested_size(
    tiny_pipe: StableDiffusionPipeline, small_params: Txt2ImgParams
) -> None:
    images = _run(tiny_pipe, replace(small_params, width=96, height=64, count=2))
    assert len(images) == 2
    assert all(isinstance(im, Image.Image) and im.size == (96, 64) and im.mode == "RGB" for im in images)


def test_same_seed_same_pixels_other_seed_other_pixels(
    tiny_pipe: StableDiffusionPipeline, small_params: Txt2ImgParams
) -> None:
    first = _pixels(_run(tiny_pipe, small_params)[0])
    again = _pixels(_run(tiny_pipe, small_params)[0])
    other = _pixels(_run(tiny_pipe, replace(small_params, seed=small_params.seed + 1))[0])
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_prompt_and_negative_prompt_change_the_image(
    tiny_pipe: StableDiffusionPipeline, small_params: Txt2ImgParams
) -> None:
    base = _pixels(_run(tiny_pipe, small_params)[0])
    assert not np.array_equal(base, _pixels(_run(tiny_pipe, replace(small_params, prompt="a red barn"))[0]))
    assert not np.array_equal(base, _pixels(_run(tiny_pipe, replace(small_params, negative_prompt="blurry"))[0]))


@pytest.mark.parametrize("scheduler", ["euler", "euler_a"])  # euler_a also draws noise at every step
def test_image_i_of_a_batch_equals_a_single_run_with_seed_plus_i(
    tiny_pipe: StableDiffusionPipeline, small_params: Txt2ImgParams, scheduler: str
) -> None:
    params = replace(small_params, scheduler=scheduler, count=3)
    batch = _run(tiny_pipe, params)
    for i, image in enumerate(batch):
        single = _run(tiny_pipe, replace(params, seed=params.seed + i, count=1))[0]
        assert np.array_equal(_pixels(image), _pixels(single)), f"image {i}"
    assert not np.array_equal(_pixels(batch[0]), _pixels(batch[1]))


def test_on_step_reports_every_step_once(tiny_pipe: StableDiffusionPipeline, small_params: Txt2ImgParams) -> None:
    calls: list[tuple[int, int]] = []
    txt2img(tiny_pipe, replace(small_params, steps=5), lambda i, t: calls.append((i, t)), lambda: False)
    assert calls == [(i, 5) for i in range(1, 6)]


def test_on_step_counts_across_images(tiny_pipe: StableDiffusionPipeline, small_params: Txt2ImgParams) -> None:
    calls: list[tuple[int, int]] = []
    txt2img(tiny_pipe, replace(small_params, steps=3, count=2), lambda i, t: calls.append((i, t)), lambda: False)
    assert calls == [(i, 6) for i in range(1, 7)]


def test_cancel_mid_run_stops_between_steps(tiny_pipe: StableDiffusionPipeline, small_params: Txt2ImgParams) -> None:
    calls: list[int] = []
    cancel = False

    def on_step(done: int, total: int) -> None:
        nonlocal cancel
        calls.append(done)
        cancel = done == 2

    with pytest.raises(Cancelled):
        txt2img(tiny_pipe, replace(small_params, steps=6), on_step, lambda: cancel)
    assert calls == [1, 2]


def test_cancel_before_start_runs_no_step(tiny_pipe: StableDiffusionPipeline, small_params: Txt2ImgParams) -> None:
    calls: list[int] = []
    with pytest.raises(Cancelled):
        txt2img(tiny_pipe, small_params, lambda done, total: calls.append(done), lambda: True)
    assert calls == []


@pytest.mark.parametrize("scheduler", sampler_names())
def test_every_sampler_runs(tiny_pipe: StableDiffusionPipeline, small_params: Txt2ImgParams, scheduler: str) -> None:
    calls: list[tuple[int, int]] = []
    images = txt2img(
        tiny_pipe, replace(small_params, scheduler=scheduler), lambda i, t: calls.append((i, t)), lambda: False
    )
    assert images[0].size == (64, 64)
    assert calls == [(1, 2), (2, 2)]


def test_switching_sampler_back_gives_the_same_image(tiny_sd_dir: Path, small_params: Txt2ImgParams) -> None:
    pipe = load_pipeline(resolve_model(str(tiny_sd_dir), tiny_sd_dir.parent), tiny_sd_dir.parent, torch.device("cpu"))
    # unipc accepts use_karras_sigmas but its sampler entry does not set it, so it would inherit it
    params = replace(small_params, scheduler="unipc", steps=3)
    before = _pixels(_run(pipe, params)[0])
    karras = _pixels(_run(pipe, replace(params, scheduler="dpmpp_2m_karras"))[0])
    after = _pixels(_run(pipe, params)[0])
    assert np.array_equal(before, after)
    assert not np.array_equal(before, karras)
