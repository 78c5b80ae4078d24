"""Several compatible jobs as one pipeline call: each job's images equal running it alone, bit for bit."""

from dataclasses import replace

import numpy as np
import pytest
from diffusers import StableDiffusionPipeline
from PIL import Image

from models.errors import Cancelled
from models.generate import generate, generate_batch
from models.params import GenerateParams, HiresParams


@pytest.fixture
def jobs(params: GenerateParams) -> list[GenerateParams]:
    first = replace(params, width=32, height=32, steps=3, seed=11, scheduler="euler_a")
    return [
        first,
        replace(first, prompt="a red barn in snow", seed=500, count=2),
        replace(first, prompt="portrait", negative_prompt="blurry", seed=2**40),
    ]


def _alone(pipe: StableDiffusionPipeline, job: GenerateParams) -> list[np.ndarray]:
    return [np.asarray(im) for im in generate(pipe, job, lambda done, total: None, lambda: False)]


def _batched(pipe: StableDiffusionPipeline, jobs: list[GenerateParams]) -> list[list[Image.Image]]:
    return generate_batch(pipe, jobs, lambda job, done, total: None, lambda job: False)


def _assert_same_as_alone(pipe: StableDiffusionPipeline, jobs: list[GenerateParams]) -> None:
    results = _batched(pipe, jobs)
    assert [len(images) for images in results] == [job.count for job in jobs]
    for job, images in zip(jobs, results, strict=True):
        for alone, batched in zip(_alone(pipe, job), images, strict=True):
            assert np.array_equal(alone, np.asarray(batched)), job.prompt


@pytest.mark.parametrize("scheduler", ["euler_a", "dpmpp_sde", "heun"])
def test_each_jobs_images_equal_running_it_alone(
    tiny_pipe: StableDiffusionPipeline, jobs: list[GenerateParams], scheduler: str
) -> None:
    _assert_same_as_alone(tiny_pipe, [replace(job, scheduler=scheduler) for job in jobs])


def test_eight_images_in_one_call_equal_running_alone(
    tiny_pipe: StableDiffusionPipeline, jobs: list[GenerateParams]
) -> None:
    """With guidance the UNet sees 16 rows: where torch would switch to NNPACK's convolutions."""
    _assert_same_as_alone(tiny_pipe, [replace(jobs[0], steps=2), replace(jobs[1], steps=2, count=7)])


def test_hires_jobs_batch_too(tiny_pipe: StableDiffusionPipeline, jobs: list[GenerateParams]) -> None:
    hires = HiresParams(scale=1.5, steps=2, denoise=0.5, upscaler="latent")
    _assert_same_as_alone(tiny_pipe, [replace(job, hires=hires, count=1) for job in jobs[:2]])


def test_each_job_gets_its_own_progress_and_previews(
    tiny_pipe: StableDiffusionPipeline, jobs: list[GenerateParams]
) -> None:
    steps: list[tuple[int, int, int]] = []
    previews: list[tuple[int, int, int]] = []
    jobs = [jobs[0], replace(jobs[1], preview_every=1)]
    generate_batch(
        tiny_pipe,
        jobs,
        lambda job, done, total: steps.append((job, done, total)),
        lambda job: False,
        lambda job, step, total, png: previews.append((job, step, total)),
    )
    assert sorted(steps) == [(job, done, 3) for job in (0, 1) for done in (1, 2, 3)]
    assert previews == [(1, 1, 3), (1, 2, 3), (1, 3, 3)]


def test_a_cancelled_job_gets_no_images_and_the_others_finish(
    tiny_pipe: StableDiffusionPipeline, jobs: list[GenerateParams]
) -> None:
    steps: list[tuple[int, int]] = []

    def cancelled(job: int) -> bool:
        return job == 1 and len(steps) >= 2

    results = generate_batch(tiny_pipe, jobs, lambda job, done, total: steps.append((job, done)), cancelled)
    assert results[1] == []
    assert max(done for job, done in steps if job == 1) == 1  # no progress after it was cancelled
    for job in (0, 2):
        (alone,) = _alone(tiny_pipe, jobs[job])
        assert np.array_equal(np.asarray(results[job][0]), alone)


def test_the_batch_stops_when_every_job_is_cancelled(
    tiny_pipe: StableDiffusionPipeline, jobs: list[GenerateParams]
) -> None:
    steps: list[int] = []
    with pytest.raises(Cancelled):
        generate_batch(tiny_pipe, jobs, lambda job, done, total: steps.append(done), lambda job: bool(steps))
    assert steps == [1, 1, 1]


def test_incompatible_jobs_are_refused(tiny_pipe: StableDiffusionPipeline, jobs: list[GenerateParams]) -> None:
    with pytest.raises(ValueError, match="batch_key"):
        _batched(tiny_pipe, [jobs[0], replace(jobs[1], steps=4)])


def test_the_exact_kernels_hold_only_while_generating(
    tiny_pipe: StableDiffusionPipeline, jobs: list[GenerateParams]
) -> None:
    import torch

    seen: list[bool] = []
    generate(tiny_pipe, jobs[0], lambda done, total: seen.append(torch.backends.mkldnn.enabled), lambda: False)
    assert seen == [False] * jobs[0].steps
    assert torch.backends.mkldnn.enabled  # other work in the worker keeps oneDNN
