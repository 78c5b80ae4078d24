"""img2img, inpainting, variations, upscale, LoRA errors, previews and samplers through a real daemon."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from imagine import errors
from imagine import types as t
from tests.e2e.daemon_process import DaemonProcess
from tests.e2e.jobs_helpers import events_until_end, pixels, run_to_end, spec

pytestmark = pytest.mark.asyncio(loop_scope="module")


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def gradient(width: int = 64, height: int = 64) -> Image.Image:
    x = np.linspace(0, 255, width, dtype=np.uint8)
    y = np.linspace(0, 255, height, dtype=np.uint8)
    rgb = np.stack([np.tile(x, (height, 1)), np.tile(y[:, None], (1, width)), np.full((height, width), 90, np.uint8)], -1)
    return Image.fromarray(rgb)


def img2img(image: t.ImageInput, **task: object) -> t.JobSpec:
    return t.JobSpec(t.Img2Img("a lighthouse", **({"steps": 4, "init_image": image} | task)))  # type: ignore[arg-type]


async def test_samplers_are_listed_with_their_labels(daemon: DaemonProcess) -> None:
    async with daemon.client() as client:
        samplers = {s.name: s.label for s in await client.list_samplers()}
    wanted = {"euler", "euler_a", "heun", "dpm2", "dpmpp_2m", "dpmpp_2m_karras", "dpmpp_sde", "ddim", "unipc", "lcm"}
    assert wanted <= set(samplers)
    assert samplers["dpmpp_2m_karras"] == "DPM++ 2M Karras"


async def test_a_corrupt_upload_is_refused_naming_the_field(daemon: DaemonProcess) -> None:
    async with daemon.client() as client:
        with pytest.raises(errors.InvalidArgument, match="img2img.init_image"):
            await client.submit(img2img(t.ImageInput(data=b"\x89PNG\r\n\x1a\nnot really a png")))
        with pytest.raises(errors.InvalidArgument, match="img2img.init_image"):
            await client.submit(img2img(t.ImageInput(input_id="0" * 64)))  # never uploaded


async def test_a_mask_of_the_wrong_size_is_refused(daemon: DaemonProcess) -> None:
    spec_ = t.JobSpec(
        t.Inpaint(
            "a boat",
            steps=2,
            init_image=t.ImageInput(data=png(gradient(64, 64))),
            mask=t.ImageInput(data=png(Image.new("L", (32, 64), 255))),
        )
    )
    async with daemon.client() as client:
        with pytest.raises(errors.InvalidArgument, match="inpaint.mask is 32x64 but the init image is 64x64"):
            await client.submit(spec_)


async def test_an_unknown_lora_is_not_found_in_a_field_or_in_the_prompt(daemon: DaemonProcess) -> None:
    async with daemon.client() as client:
        with pytest.raises(errors.NotFound, match="LoRA 'no-such-lora' is not installed"):
            await client.submit(t.JobSpec(t.Txt2Img("a cat", loras=(t.Lora("no-such-lora", 0.8),))))
        with pytest.raises(errors.NotFound, match="LoRA 'nor-this' is not installed"):
            await client.submit(t.JobSpec(t.Txt2Img("a cat <lora:nor-this:0.5>")))


async def test_variations_of_an_unknown_output_are_refused(daemon: DaemonProcess) -> None:
    async with daemon.client() as client:
        with pytest.raises(errors.InvalidArgument, match="variations.output_id: no output 'nope-0'"):
            await client.submit(t.JobSpec(t.Variations("nope-0")))


async def test_img2img_at_strength_0_keeps_the_init_image_and_at_1_does_not(daemon: DaemonProcess) -> None:
    init = gradient()
    async with daemon.client() as client:
        kept = await run_to_end(client, img2img(t.ImageInput(data=png(init)), strength=0.0, seed=1))
        redone = await run_to_end(client, img2img(t.ImageInput(data=png(init)), strength=1.0, seed=1))
        assert kept.state == redone.state == t.JobState.SUCCEEDED, (kept.error, redone.error)
        same = pixels(await client.read_output(kept.outputs[0].id)).astype(int)
        other = pixels(await client.read_output(redone.outputs[0].id)).astype(int)
    target = np.asarray(init).astype(int)
    assert np.abs(same - target).max() <= 2
    assert np.abs(other - target).mean() > 20
    assert kept.spec.task.init_image.input_id and not kept.spec.task.init_image.data  # recorded by content


async def test_inpainting_changes_only_the_masked_region(daemon: DaemonProcess) -> None:
    init = gradient()
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (16, 16, 48, 48))
    job_spec = t.JobSpec(
        t.Inpaint(
            "a red square", steps=4, seed=3, mask_blur=0,
            init_image=t.ImageInput(data=png(init)), mask=t.ImageInput(data=png(mask)),
        )
    )
    async with daemon.client() as client:
        job = await run_to_end(client, job_spec)
        assert job.state == t.JobState.SUCCEEDED, job.error
        result = pixels(await client.read_output(job.outputs[0].id)).astype(int)
    original = np.asarray(init).astype(int)
    outside = np.asarray(mask) == 0
    assert np.array_equal(result[outside], original[outside])
    assert np.abs(result[~outside] - original[~outside]).mean() > 5


async def test_variations_and_upscale_of_an_output_are_recorded_as_img2img(daemon: DaemonProcess) -> None:
    async with daemon.client() as client:
        source = await run_to_end(client, spec("a lighthouse", seed=7, steps=3))
        output = source.outputs[0]
        varied = await run_to_end(client, t.JobSpec(t.Variations(output.id, count=2)))
        upscaled = await run_to_end(client, t.JobSpec(t.Upscale(output.id, scale=2.0)))
    for job in (varied, upscaled):
        assert job.state == t.JobState.SUCCEEDED, job.error
        assert isinstance(job.spec.task, t.Img2Img) and job.spec.task.prompt == "a lighthouse"
    assert varied.spec.labels["variation_of"] == output.id and len(varied.outputs) == 2
    assert varied.spec.task.strength == pytest.approx(0.4)
    assert int(varied.spec.task.steps * varied.spec.task.strength) >= 2  # a 3-step source still gets denoised
    assert {o.seed for o in varied.outputs} != {output.seed}
    assert upscaled.spec.labels["upscale_of"] == output.id
    assert (upscaled.outputs[0].width, upscaled.outputs[0].height) == (output.width * 2, output.height * 2)


async def test_previews_arrive_as_small_pngs_when_asked_for(daemon: DaemonProcess) -> None:
    job_spec = t.JobSpec(t.Txt2Img("a lighthouse", width=64, height=64, steps=8), previews=True)
    async with daemon.client() as client:
        submitted = await client.submit(job_spec)
        events = await events_until_end(client, submitted.job.id)
        plain = await client.submit(spec(steps=8))
        plain_events = await events_until_end(client, plain.job.id)
    previews = [e.kind.preview for e in events if isinstance(e.kind, t.Progress) and e.kind.preview]
    assert len(previews) >= 2
    assert all(Image.open(io.BytesIO(p)).format == "PNG" for p in previews)
    assert not [e for e in plain_events if isinstance(e.kind, t.Progress) and e.kind.preview]
