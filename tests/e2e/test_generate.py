"""Text-to-image through a real daemon and worker: events, outputs, seeds, history."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import stat

import pytest
from PIL import Image

from imagine import errors
from imagine import types as t
from tests.e2e.daemon_process import DaemonProcess
from tests.e2e.jobs_helpers import events_until_end, pixels, run_to_end, spec

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_progress_events_match_steps_and_png_carries_its_recipe(daemon: DaemonProcess) -> None:
    async with daemon.client() as client:
        submitted = await client.submit(spec("a red lighthouse", steps=3, width=64, height=48, seed=42))
        events = await events_until_end(client, submitted.job.id)
        progress = [e.kind for e in events if isinstance(e.kind, t.Progress)]
        assert [(p.step, p.total) for p in progress] == [(1, 3), (2, 3), (3, 3)]
        assert isinstance(events[0].kind, t.Snapshot)
        assert isinstance(events[-1].kind, t.Finished) and events[-1].kind.state == t.JobState.SUCCEEDED
        seqs = [e.seq for e in events[1:]]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)

        job = await client.get(submitted.job.id)
        assert job.state == t.JobState.SUCCEEDED and len(job.outputs) == 1
        output = job.outputs[0]
        data = await client.read_output(output.id)
        assert hashlib.sha256(data).hexdigest() == output.sha256
        with open(output.path, "rb") as f:
            assert f.read() == data
        image = Image.open(io.BytesIO(data))
        assert image.size == (64, 48)
        assert "Seed: 42" in image.text["parameters"] and image.text["parameters"].startswith("a red lighthouse")
        assert '"prompt": "a red lighthouse"' in image.text["imagine"]
        assert job.timings.run_ms > 0 and job.timings.total_ms >= job.timings.run_ms


async def test_same_seed_same_pixels_and_count_uses_consecutive_seeds(daemon: DaemonProcess) -> None:
    async with daemon.client() as client:
        first = await run_to_end(client, spec(seed=7, count=2))
        again = await run_to_end(client, spec(seed=8))
        other = await run_to_end(client, spec(seed=9))
        a0, a1 = [pixels(await client.read_output(o.id)) for o in first.outputs]
        b = pixels(await client.read_output(again.outputs[0].id))
        c = pixels(await client.read_output(other.outputs[0].id))
        assert [o.seed for o in first.outputs] == [7, 8]
        assert (a1 == b).all()
        assert not (a0 == a1).all() and not (b == c).all()


async def test_unset_seed_is_recorded_and_rerunning_the_spec_gives_the_same_image(daemon: DaemonProcess) -> None:
    async with daemon.client() as client:
        job = await run_to_end(client, spec("a random seed"))
        seed = job.spec.task.seed
        assert seed is not None and job.outputs[0].seed == seed
        rerun = await run_to_end(client, job.spec)
        assert rerun.id != job.id
        assert rerun.outputs[0].sha256 == job.outputs[0].sha256


async def test_submit_is_idempotent_on_request_id(daemon: DaemonProcess) -> None:
    async with daemon.client("idem-owner") as client:
        one = await client.submit(spec(request_id="req-1"))
        two = await client.submit(spec("something else", request_id="req-1"))
        assert one.created and not two.created
        assert two.job.id == one.job.id
    async with daemon.client("another-owner") as other:
        three = await other.submit(spec(request_id="req-1"))
        assert three.created and three.job.id != one.job.id


async def test_reattaching_with_last_seq_misses_nothing_and_watchers_do_not_cancel(daemon: DaemonProcess) -> None:
    async with daemon.client() as client:
        submitted = await client.submit(spec(steps=6))
        job_id = submitted.job.id
        first_seen: list[t.JobEvent] = []
        async for event in client.watch(job_id):  # leave early, as a dropped client would
            first_seen.append(event)
            if isinstance(event.kind, t.Progress):
                break
        second = asyncio.create_task(events_until_end(client, job_id))
        rest = await events_until_end(client, job_id, after_seq=first_seen[-1].seq)
        everything = await second
        assert isinstance(rest[-1].kind, t.Finished) and rest[-1].kind.state == t.JobState.SUCCEEDED
        assert [e.seq for e in rest] == list(range(first_seen[-1].seq + 1, rest[-1].seq + 1))
        steps = [e.kind.step for e in first_seen + rest if isinstance(e.kind, t.Progress)]
        assert steps == list(range(1, 7))
        assert everything[-1].seq == rest[-1].seq


async def test_generate_streams_from_the_first_event(daemon: DaemonProcess) -> None:
    async with daemon.client() as client:
        events = [e async for e in client.generate(spec(steps=2))]
        assert isinstance(events[0].kind, t.Snapshot)
        assert sum(isinstance(e.kind, t.Progress) for e in events) == 2
        assert isinstance(events[-1].kind, t.Finished)


async def test_queued_job_reports_position_and_an_eta_from_similar_jobs(daemon: DaemonProcess) -> None:
    async with daemon.client("eta-owner") as client:
        await run_to_end(client, spec(steps=3, width=72, height=72))  # history for this shape
        await client.pause_queue()
        try:
            similar = await client.submit(spec(steps=3, width=72, height=72))
            novel = await client.submit(spec(steps=3, width=80, height=72))
            assert (similar.job.queue_position, novel.job.queue_position) == (1, 2)
            assert similar.job.eta_seconds is not None and similar.job.eta_seconds > 0
            assert novel.job.eta_seconds is None  # nothing like it has run: no guess
            first = await anext(client.watch(novel.job.id))
            assert isinstance(first.kind, t.Snapshot) and first.kind.job.queue_position == 2
        finally:
            await client.resume_queue()
        events = await events_until_end(client, novel.job.id, after_seq=first.seq)
        assert events[-1].kind.state == t.JobState.SUCCEEDED  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("task", "code", "field"),
    [
        ({"width": 100}, errors.InvalidArgument, "width"),
        ({"width": 4096, "height": 4096}, errors.InvalidArgument, "width"),
        ({"steps": 500}, errors.InvalidArgument, "steps"),
        ({"count": 17}, errors.InvalidArgument, "count"),
        ({"prompt": "   "}, errors.InvalidArgument, "prompt"),
        ({"scheduler": "warp-drive"}, errors.InvalidArgument, "scheduler"),
        ({"guidance": 99.0}, errors.InvalidArgument, "guidance"),
    ],
)
async def test_invalid_input_is_refused_naming_the_field(daemon: DaemonProcess, task: dict, code: type, field: str) -> None:
    prompt = task.pop("prompt", "fine prompt")
    async with daemon.client() as client:
        with pytest.raises(code) as raised:
            await client.submit(spec(prompt, **task))
        assert field in str(raised.value)


async def test_unknown_model_and_job_are_not_found(daemon: DaemonProcess) -> None:
    async with daemon.client() as client:
        with pytest.raises(errors.NotFound, match="no-such-model"):
            await client.submit(t.JobSpec(t.Txt2Img("x"), model="no-such-model"))
        with pytest.raises(errors.NotFound, match="nope"):
            await client.get("nope")
        with pytest.raises(errors.NotFound):
            await client.read_output("nope-0")
        with pytest.raises(errors.FailedPrecondition, match="HF_HUB_OFFLINE|download"):
            await client.submit(t.JobSpec(t.Txt2Img("x"), model="someorg/some-model"))


async def test_list_filters_by_words_and_pages(daemon: DaemonProcess) -> None:
    async with daemon.client("lister") as client:
        for word in ("zebra", "zebra crossing", "yak"):
            await client.submit(spec(word))
        found = await client.list_jobs(text="zebra", owner="lister")
        assert sorted(j.spec.task.prompt for j in found.jobs) == ["zebra", "zebra crossing"]
        page1 = await client.list_jobs(owner="lister", page_size=2)
        page2 = await client.list_jobs(owner="lister", page_size=2, page_token=page1.next_page_token)
        assert len(page1.jobs) == 2 and page1.next_page_token
        assert [j.id for j in page2.jobs] and not set(j.id for j in page1.jobs) & set(j.id for j in page2.jobs)
        with pytest.raises(errors.InvalidArgument, match="page_token"):
            await client.list_jobs(page_token="garbage!")


async def test_status_models_health_and_socket_mode(daemon: DaemonProcess) -> None:
    assert stat.S_IMODE(os.stat(daemon.socket).st_mode) == 0o600
    async with daemon.client() as client:
        await client.wait_ready()
        status = await client.status()
        assert status.devices and status.devices[0].kind == "cpu"
        assert status.workers and status.workers[0].pid > 0
        listing = await client.list_models()
        tiny = next(m for m in listing.models if m.name == "tiny-sd")
        assert tiny.is_default and "noise" in tiny.description
        assert {"euler", "euler_a", "dpmpp_2m", "ddim"} <= set(listing.schedulers)


async def test_unloading_a_model_frees_it_and_the_next_job_loads_it_again(daemon: DaemonProcess) -> None:
    async with daemon.client() as client:
        await run_to_end(client, spec())
        assert "tiny-sd" in {m.name for m in (await client.status()).loaded_models}
        await client.unload_model("tiny-sd")
        assert "tiny-sd" not in {m.name for m in (await client.status()).loaded_models}
        with pytest.raises(errors.NotFound, match="not loaded"):
            await client.unload_model("tiny-sd")
        again = await run_to_end(client, spec())
        assert again.state == t.JobState.SUCCEEDED and again.timings.load_ms > 0
        warm = await run_to_end(client, spec())
        assert warm.timings.load_ms == 0


async def test_a_diffusers_folder_path_runs_as_a_model(daemon: DaemonProcess) -> None:
    folder = daemon.models_dir / "tiny-sd"  # built by earlier jobs of this daemon
    async with daemon.client() as client:
        by_name = await run_to_end(client, spec(seed=3, scheduler="euler", guidance=7.0))
        same = t.Txt2Img("a lighthouse at dusk", width=64, height=64, steps=2, seed=3, scheduler="euler", guidance=7.0)
        by_path = await run_to_end(client, t.JobSpec(same, model=str(folder)))
    assert by_path.state == t.JobState.SUCCEEDED and by_path.spec.model == str(folder)
    assert by_path.outputs[0].sha256 != "" and by_path.timings.load_ms > 0  # loaded as its own source
    assert pixels(open(by_path.outputs[0].path, "rb").read()).tolist() == pixels(open(by_name.outputs[0].path, "rb").read()).tolist()
