"""The chat core against a real daemon and worker with the built-in tiny model."""

from __future__ import annotations

import asyncio
import dataclasses
import io
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from imagine import errors
from imagine import types as t
from imagine.client import Client
from PIL import Image

from bots.config import Allow, BotConfig, Defaults, Limits, PrioritySettings
from bots.core import ChatCore
from bots.detect import DetectRequest
from bots.images import GAP
from bots.policy import ChatUser, Place, Refused
from bots.progress import JobView, status_line
from bots.replies import DAEMON_DOWN, reply_for
from bots.requests import Action, ActionKind, ImagineRequest
from tests.bots.pictures import shapes_png
from tests.e2e.daemon_process import DaemonProcess

pytestmark = pytest.mark.asyncio(loop_scope="module")

SMALL = Defaults(size="64x64", steps=2)
PLACE = Place("guild-1", "chan-1")


def config(**limits: object) -> BotConfig:
    return BotConfig(defaults=SMALL, limits=dataclasses.replace(Limits(jobs_per_minute=600, burst=50), **limits))


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def client(daemon: DaemonProcess) -> AsyncIterator[Client]:
    async with Client(daemon.target) as shared:
        yield shared


def user(name: str) -> ChatUser:
    return ChatUser("discord", name, name=name)


async def run(core: ChatCore, job_id: str) -> tuple[list[JobView], object]:
    seen: list[JobView] = []

    async def show(view: JobView) -> None:
        seen.append(view)

    result = await asyncio.wait_for(core.follow(job_id, show, []), 120)
    return seen, result


async def test_imagine_makes_an_image_owned_by_the_chat_user(client: Client) -> None:
    core = ChatCore(client, config())
    job = await core.start(user("1001"), PLACE, ImagineRequest("a lighthouse at dusk", seed=7))
    assert job.owner == "discord:1001"
    seen, result = await run(core, job.id)
    assert result.job.state is t.JobState.SUCCEEDED
    assert Image.open(io.BytesIO(result.image)).size == (64, 64)
    assert result.details.startswith("seed 7 · 64x64 · tiny-sd")
    assert result.buttons[0].action == Action(ActionKind.REROLL, job.id)
    assert result.buttons[-1].action == Action(ActionKind.DELETE, job.id)
    assert seen and all(not v.finished for v in seen)


async def test_several_images_come_as_one_grid(client: Client) -> None:
    core = ChatCore(client, config())
    job = await core.start(user("1002"), PLACE, ImagineRequest("two boats", count=2))
    _, result = await run(core, job.id)
    assert len(result.job.outputs) == 2
    assert Image.open(io.BytesIO(result.image)).size == (64 * 2 + GAP, 64)


async def test_reroll_runs_the_same_prompt_with_a_new_seed_for_the_clicker(client: Client) -> None:
    core = ChatCore(client, config())
    first = await core.start(user("1003"), PLACE, ImagineRequest("a red fox", seed=11))
    await run(core, first.id)
    again = await core.start_action(user("1004"), PLACE, Action(ActionKind.REROLL, first.id))
    _, result = await run(core, again.id)
    assert result.job.owner == "discord:1004"
    assert result.job.spec.task.prompt == "a red fox"
    assert result.job.spec.task.seed != 11
    assert result.job.state is t.JobState.SUCCEEDED


async def test_variations_and_upscale_start_from_an_output(client: Client) -> None:
    core = ChatCore(client, config())
    first = await core.start(user("1010"), PLACE, ImagineRequest("a blue door", seed=3))
    _, made = await run(core, first.id)
    output = made.job.outputs[0]
    assert [b.label for b in made.buttons] == ["🔄 Re-roll", "V1", "U1", "🗑️ Delete"]
    assert made.buttons[1].action == Action(ActionKind.VARIATIONS, output.id)

    varied = await core.start_action(user("1011"), PLACE, Action(ActionKind.VARIATIONS, output.id))
    _, variations = await run(core, varied.id)
    assert variations.job.state is t.JobState.SUCCEEDED and variations.job.owner == "discord:1011"
    assert len(variations.job.outputs) == 4 and len(variations.buttons) == 1 + 4 + 4 + 1
    assert Image.open(io.BytesIO(variations.image)).size == (64 * 2 + GAP, 64 * 2 + GAP)

    again = await core.start_action(user("1011"), PLACE, Action(ActionKind.REROLL, varied.id))
    _, rerolled = await run(core, again.id)  # the recorded img2img again, with a new seed
    assert rerolled.job.state is t.JobState.SUCCEEDED, rerolled.details
    assert rerolled.job.spec.kind == variations.job.spec.kind and rerolled.job.spec.task.seed != variations.job.spec.task.seed

    larger = await core.start_action(user("1011"), PLACE, Action(ActionKind.UPSCALE, output.id))
    _, upscaled = await run(core, larger.id)
    assert upscaled.job.state is t.JobState.SUCCEEDED
    assert Image.open(io.BytesIO(upscaled.image)).size == (128, 128)


async def test_delete_is_the_requesters_only(client: Client) -> None:
    core = ChatCore(client, config())
    job = await core.start(user("1012"), PLACE, ImagineRequest("mine"))
    await run(core, job.id)
    with pytest.raises(Refused, match="someone else's"):
        await core.delete(user("1013"), job.id)
    await core.delete(user("1012"), job.id)
    with pytest.raises(errors.NotFound):
        await client.get(job.id)


async def test_a_second_user_is_not_starved_by_the_first_users_ten_jobs(client: Client) -> None:
    core = ChatCore(client, config(max_queued_per_user=10))
    await client.pause_queue()  # everyone's jobs wait together; the daemon alone decides the order
    try:
        greedy = [await core.start(user("2001"), PLACE, ImagineRequest(f"crowd {i}")) for i in range(10)]
        patient = await core.start(user("2002"), PLACE, ImagineRequest("one quiet cat"))
    finally:
        await client.resume_queue()
    await run(core, patient.id)
    for job in greedy:
        await run(core, job.id)
    started = {j.id: (await client.get(j.id)).started_at for j in [*greedy, patient]}
    before_patient = [j for j in greedy if started[j.id] < started[patient.id]]
    assert len(before_patient) <= 1, f"{len(before_patient)} of the first user's jobs ran before the second's"


async def test_the_queued_cap_and_the_own_jobs_commands(client: Client) -> None:
    core = ChatCore(client, config(max_queued_per_user=2))
    someone = user("3001")
    await client.pause_queue()
    try:
        jobs = [await core.start(someone, PLACE, ImagineRequest(f"paused {i}")) for i in range(2)]
        with pytest.raises(Refused, match="already have 2 images waiting"):
            await core.start(someone, PLACE, ImagineRequest("one too many"))
        queue = await core.queue_text(someone)
        assert all(j.id in queue for j in jobs) and "paused" in queue
        with pytest.raises(Refused, match="someone else's"):
            await core.cancel(user("3002"), jobs[0].id)
        assert jobs[1].id in await core.cancel(someone)  # the newest by default
        assert (await client.get(jobs[1].id)).state is t.JobState.CANCELLED
    finally:
        await client.resume_queue()
    await run(core, jobs[0].id)
    history = await core.history_text(someone)
    assert jobs[0].id in history and "succeeded" in history and "cancelled" in history


async def test_priority_and_labels_come_from_the_place_and_the_roles(client: Client) -> None:
    settings = PrioritySettings(t.Priority.LOW, roles={"Patrons": t.Priority.HIGH}, channels={"chan-fast": t.Priority.NORMAL})
    core = ChatCore(client, dataclasses.replace(config(), priority=settings))
    patron = ChatUser("discord", "7001", roles=frozenset({"Patrons"}), name="pat")
    assert (await core.start(patron, PLACE, ImagineRequest("gold"))).spec.priority is t.Priority.HIGH
    fast = await core.start(user("7002"), Place("guild-1", "chan-fast"), ImagineRequest("quick"))
    assert fast.spec.priority is t.Priority.NORMAL
    slow = await core.start(user("7003"), PLACE, ImagineRequest("slow"))
    assert slow.spec.priority is t.Priority.LOW
    assert dict(slow.spec.labels) == {"via": "discord", "channel": "chan-1", "user": "7003"}


async def test_models_lists_the_image_models_but_not_add_ons(client: Client) -> None:
    text = await ChatCore(client, config()).models_text()
    assert "`tiny-sd` (default)" in text and "`tiny-sdxl`" in text
    assert "tiny-controlnet" not in text


async def test_a_rate_limited_user_is_refused_and_others_are_not(client: Client) -> None:
    core = ChatCore(client, config(jobs_per_minute=1, burst=1))
    await core.start(user("4001"), PLACE, ImagineRequest("first"))
    with pytest.raises(Refused, match=r"1 a minute\); you can start the next one in \d+ s"):
        await core.start(user("4001"), PLACE, ImagineRequest("second"))
    await core.start(user("4002"), PLACE, ImagineRequest("someone else"))


async def test_a_refused_submission_does_not_spend_the_users_turn(client: Client) -> None:
    core = ChatCore(client, config(jobs_per_minute=1, burst=1))
    with pytest.raises(Exception) as refused:
        await core.start(user("4003"), PLACE, ImagineRequest("x", model="no-such-model"))
    assert "no-such-model" in reply_for(refused.value)
    await core.start(user("4003"), PLACE, ImagineRequest("this one counts"))


async def test_daemon_down_is_said_plainly() -> None:
    async with Client("unix:/tmp/no-daemon-here/d.sock") as nowhere:
        core = ChatCore(nowhere, config())
        with pytest.raises(Exception) as down:
            await core.start(user("5001"), PLACE, ImagineRequest("anything"))
    assert reply_for(down.value) == DAEMON_DOWN


async def test_a_message_being_followed_survives_a_daemon_restart(daemon: DaemonProcess) -> None:
    """Last in this module: it restarts the module's daemon."""
    async with daemon.client() as admin, Client(daemon.target) as shared:
        await admin.pause_queue()
        core = ChatCore(shared, config(), retry_delay=0.2)
        job = await core.start(user("6001"), PLACE, ImagineRequest("through the storm"))
        seen: list[JobView] = []
        changed = asyncio.Event()

        async def show(view: JobView) -> None:
            seen.append(view)
            changed.set()

        async def until(predicate) -> None:  # type: ignore[no-untyped-def]
            while not any(predicate(v) for v in seen):
                changed.clear()
                await asyncio.wait_for(changed.wait(), 60)

        following = asyncio.create_task(core.follow(job.id, show, []))
        await until(lambda v: v.state is t.JobState.QUEUED)
        daemon.kill9()
        await until(lambda v: v.daemon_down)
        await daemon.start()
        await admin.resume_queue()
        result = await asyncio.wait_for(following, 120)
    assert result.job.state is t.JobState.SUCCEEDED and result.image
    assert "daemon is down" in status_line(next(v for v in seen if v.daemon_down))


# -- /detect ----------------------------------------------------------------------


async def test_detect_finds_objects_and_shows_the_annotated_image_with_a_summary(client: Client) -> None:
    core = ChatCore(client, config())
    picture = shapes_png()
    job = await core.start(user("1201"), PLACE, DetectRequest((picture,), conf=0.01))
    assert job.owner == "discord:1201" and isinstance(job.spec.task, t.Detect)
    _, result = await run(core, job.id)
    assert result.job.state is t.JobState.SUCCEEDED, result.job.error
    (output,) = result.job.outputs
    found = output.detections
    assert found is not None and found.objects  # random weights at conf 0.01 still find boxes
    annotated = Image.open(io.BytesIO(result.image))
    assert annotated.size == Image.open(io.BytesIO(picture)).size and result.image != picture  # boxes drawn on it
    best = max(found.objects, key=lambda o: o.score)
    counted, named = result.details.splitlines()[0].split(": ", 1)
    assert counted == f"{len(found.objects)} objects" and named.startswith(best.class_name + " ")
    assert f"{best.score:.2f}" in named
    assert "tiny-yolo" in result.details
    assert [b.action for b in result.buttons] == [Action(ActionKind.DELETE, job.id)]  # no re-roll of a detection
    history = await core.history_text(user("1201"))
    assert f"`{job.id}` succeeded: detect with tiny-yolo" in history and "seed" not in history


async def test_classify_shows_the_top_classes(client: Client) -> None:
    core = ChatCore(client, config())
    job = await core.start(user("1202"), PLACE, DetectRequest((shapes_png(),), task="classify"))
    _, result = await run(core, job.id)
    assert result.job.state is t.JobState.SUCCEEDED, result.job.error
    top = result.job.outputs[0].detections.top
    assert len(top) == 5
    assert result.details.splitlines()[0] == "top classes: " + ", ".join(f"{c.class_name} {c.score:.2f}" for c in top)


async def test_a_corrupt_image_is_refused_by_the_daemon_naming_the_field(client: Client) -> None:
    core = ChatCore(client, config(jobs_per_minute=1, burst=1))
    with pytest.raises(errors.InvalidArgument) as refused:
        await core.start(user("1203"), PLACE, DetectRequest((b"\x89PNG\r\n\x1a\n not really a picture",)))
    assert "detect.images[0]" in reply_for(refused.value)
    job = await core.start(user("1203"), PLACE, DetectRequest((shapes_png(),)))  # the refused one spent no turn
    assert job.owner == "discord:1203"


async def test_a_bad_detect_option_is_refused_naming_it(client: Client) -> None:
    core = ChatCore(client, config())
    with pytest.raises(Refused, match="^conf: "):
        core.prepare(user("1204"), PLACE, DetectRequest((shapes_png(),), conf=1.5))
    with pytest.raises(Refused, match="^task: "):
        core.prepare(user("1204"), PLACE, DetectRequest((shapes_png(),), task="count"))
    spec = core.prepare(user("1204"), PLACE, DetectRequest((shapes_png(),), classes="person, dog ,", model=" tiny-yolo "))
    assert spec.task.classes == ("person", "dog") and spec.model == "tiny-yolo"


async def test_detect_goes_through_the_same_gate(client: Client) -> None:
    core = ChatCore(client, BotConfig(defaults=SMALL, allow=Allow(channels=frozenset({"bots"}))))
    with pytest.raises(Refused, match="not enabled in this channel"):
        core.prepare(user("1205"), PLACE, DetectRequest((shapes_png(),)))


async def test_several_attached_images_get_a_line_each_and_one_grid(client: Client) -> None:
    core = ChatCore(client, config())
    job = await core.start(user("1206"), PLACE, DetectRequest((shapes_png(), shapes_png(64)), conf=0.01))
    _, result = await run(core, job.id)
    assert result.job.state is t.JobState.SUCCEEDED, result.job.error
    first, second, _model = result.details.splitlines()
    assert first.startswith("1. ") and second.startswith("2. ")
    assert Image.open(io.BytesIO(result.image)).size == (2 * 96 + GAP, 96)  # cells as large as the largest image
