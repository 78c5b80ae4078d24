"""LoRA, ControlNet, SDXL and single-file checkpoints through a real daemon."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from imagine import errors
from imagine import types as t
from models.builtin import ensure_builtin
from models.ldm_checkpoint import save_checkpoint, sd_folder_to_ldm
from models.tiny_lora import build_tiny_lora
from models.tiny_sd import build_vae
from tests.e2e.daemon_process import DaemonProcess
from tests.e2e.jobs_helpers import pixels, run_to_end, spec

pytestmark = pytest.mark.asyncio(loop_scope="module")


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


async def image_of(client, job: t.Job) -> np.ndarray:  # type: ignore[no-untyped-def]
    assert job.state == t.JobState.SUCCEEDED, job.error
    return pixels(await client.read_output(job.outputs[0].id)).astype(int)


async def test_a_lora_changes_the_image_and_the_next_plain_job_is_plain_again(
    daemon: DaemonProcess, tmp_path: Path
) -> None:
    lora = build_tiny_lora(tmp_path / "sketchy.safetensors", ensure_builtin("tiny-sd", daemon.models_dir), seed=3)
    async with daemon.client() as client:
        added = await client.add_model(str(lora), name="sketchy")
        assert added.kind == "lora"
        plain = await image_of(client, await run_to_end(client, spec("a house", seed=11, steps=3)))
        tagged = await image_of(client, await run_to_end(client, spec("a house <lora:sketchy:1.0>", seed=11, steps=3)))
        by_field = await run_to_end(client, spec("a house", seed=11, steps=3, loras=(t.Lora("sketchy", 1.0),)))
        by_field_image = await image_of(client, by_field)
        again = await image_of(client, await run_to_end(client, spec("a house", seed=11, steps=3)))
    assert np.abs(tagged - plain).mean() > 1
    assert np.array_equal(by_field_image, tagged)  # the tag and the field are the same request
    assert by_field.spec.task.loras == (t.Lora("sketchy", 1.0),)
    assert np.array_equal(again, plain)  # the adapter is off again: bit for bit


async def test_the_prompt_tag_is_recorded_as_a_lora_and_removed_from_the_prompt(daemon: DaemonProcess, tmp_path: Path) -> None:
    lora = build_tiny_lora(tmp_path / "tagged.safetensors", ensure_builtin("tiny-sd", daemon.models_dir), seed=4)
    async with daemon.client() as client:
        await client.add_model(str(lora), name="tagged")
        job = await run_to_end(client, spec("a tower <lora:tagged:0.7>, at night", seed=2, steps=2))
    assert job.state == t.JobState.SUCCEEDED, job.error
    assert "<lora" not in job.spec.task.prompt and job.spec.task.prompt.startswith("a tower")
    assert job.spec.task.loras == (t.Lora("tagged", 0.7),)


async def test_a_controlnet_follows_its_control_image(daemon: DaemonProcess) -> None:
    def control(box: tuple[int, int, int, int]) -> t.ImageInput:
        image = Image.new("RGB", (64, 64), "black")
        ImageDraw.Draw(image).rectangle(box, outline="white", width=3)
        return t.ImageInput(data=png(image))

    def job_spec(box: tuple[int, int, int, int]) -> t.JobSpec:
        unit = t.ControlNet("tiny-controlnet", control(box), preprocessor="canny", scale=1.0)
        return spec("a window", seed=5, steps=3, controlnets=(unit,))

    async with daemon.client() as client:
        left = await image_of(client, await run_to_end(client, job_spec((4, 4, 30, 60))))
        right = await image_of(client, await run_to_end(client, job_spec((34, 4, 60, 60))))
        with pytest.raises(errors.NotFound, match="ControlNet 'no-such-net' is not installed"):
            await client.submit(spec(controlnets=(t.ControlNet("no-such-net", control((1, 1, 9, 9))),)))
        with pytest.raises(errors.InvalidArgument, match="is a controlnet, not a model this job can run"):
            await client.submit(t.JobSpec(t.Txt2Img("x"), model="tiny-controlnet"))
    assert np.abs(left - right).mean() > 1


async def test_sdxl_generates_and_repaints(daemon: DaemonProcess) -> None:
    async with daemon.client() as client:
        made = await run_to_end(client, t.JobSpec(t.Txt2Img("a dune", width=64, height=64, steps=2, seed=1), model="tiny-sdxl"))
        first = await image_of(client, made)
        again = await run_to_end(
            client,
            t.JobSpec(t.Img2Img("a dune at noon", steps=4, seed=2, init_image=t.ImageInput(output_id=made.outputs[0].id)), model="tiny-sdxl"),
        )
        second = await image_of(client, again)
    assert first.shape == second.shape == (64, 64, 3)
    assert np.abs(first - second).mean() > 0


async def test_a_single_file_checkpoint_runs_like_its_folder(daemon: DaemonProcess, tmp_path: Path) -> None:
    folder = ensure_builtin("tiny-sd", daemon.models_dir)
    checkpoint = save_checkpoint(sd_folder_to_ldm(folder), tmp_path / "tiny-single.safetensors")
    async with daemon.client() as client:
        added = await client.add_model(str(checkpoint), name="tiny-single", config="tiny-sd")
        assert added.kind == "sd15"
        single = await image_of(client, await run_to_end(client, t.JobSpec(t.Txt2Img("a bridge", width=64, height=64, steps=2, seed=9, scheduler="euler", guidance=7.0), model="tiny-single")))
        original = await image_of(client, await run_to_end(client, t.JobSpec(t.Txt2Img("a bridge", width=64, height=64, steps=2, seed=9, scheduler="euler", guidance=7.0), model="tiny-sd")))
        with pytest.raises(errors.InvalidArgument, match="config"):
            await client.add_model(str(checkpoint), name="tiny-single-2", config=str(tmp_path))
    assert np.array_equal(single, original)  # the same weights in another layout: the same image


async def test_a_vae_override_per_job_and_per_model(daemon: DaemonProcess, tmp_path: Path) -> None:
    other_vae = tmp_path / "other-vae"
    build_vae(256, seed=5).save_pretrained(other_vae)  # tiny-sd's architecture, other weights
    checkpoint = save_checkpoint(sd_folder_to_ldm(ensure_builtin("tiny-sd", daemon.models_dir)), tmp_path / "with-vae.safetensors")
    job = lambda model, **kw: t.JobSpec(  # noqa: E731
        t.Txt2Img("a harbour", width=64, height=64, steps=2, seed=4, scheduler="euler", guidance=7.0, **kw), model=model
    )
    async with daemon.client() as client:
        vae = await client.add_model(str(other_vae), name="other-vae")
        assert vae.kind == "vae"
        own = await image_of(client, await run_to_end(client, job("tiny-sd")))
        swapped_job = await run_to_end(client, job("tiny-sd", vae="other-vae"))
        swapped = await image_of(client, swapped_job)
        back = await image_of(client, await run_to_end(client, job("tiny-sd")))
        model = await client.add_model(str(checkpoint), name="tiny-with-vae", config="tiny-sd", vae="other-vae")
        assert model.defaults is not None and model.defaults.vae == "other-vae"
        by_default = await run_to_end(client, job("tiny-with-vae"))
        by_default_image = await image_of(client, by_default)
        with pytest.raises(errors.InvalidArgument, match="vae"):
            await client.add_model(str(checkpoint), name="tiny-bad-vae", config="tiny-sd", vae="no-such-vae")
    assert np.abs(swapped - own).mean() > 1
    assert np.array_equal(back, own)  # the model's own VAE is back for the next job
    assert by_default.spec.task.vae == "other-vae"  # recorded, so a re-run uses it too
    assert np.array_equal(by_default_image, swapped)
