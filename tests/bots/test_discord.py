"""The Discord bot through discord.py's real HTTP, webhook and interaction code, against a fake Discord API
on loopback, with a real daemon making the images."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import discord
import pytest
import pytest_asyncio
from imagine import errors
from imagine import types as t
from imagine.client import Client
from PIL import Image

from bots.config import BotConfig, Defaults, DiscordSettings, Limits
from bots.core import ChatCore, Result
from bots.discord_app import ImagineBot
from bots.pending import PendingMessages
from bots.policy import Place
from bots.replies import DAEMON_DOWN
from tests.bots.fake_discord import (
    APP_ID,
    ATTACHMENT_OPTION,
    CHANNEL_ID,
    RATE_LIMIT_RETRY,
    Call,
    FakeDiscord,
    click,
    message,
    slash,
    slash_with_attachment,
)
from tests.bots.pictures import SIZE, shapes_png
from tests.e2e.daemon_process import DaemonProcess
from tests.e2e.jobs_helpers import spec

pytestmark = pytest.mark.asyncio(loop_scope="module")

EDIT_INTERVAL = 0.3
GENEROUS = Limits(jobs_per_minute=600, burst=50)
DEFERRED_MESSAGE, CHANNEL_MESSAGE, DEFERRED_UPDATE, EPHEMERAL = 5, 4, 6, 64
AUTOCOMPLETE, AUTOCOMPLETE_RESULT = 4, 8  # an interaction's type, and the answer's


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def client(daemon: DaemonProcess) -> AsyncIterator[Client]:
    async with Client(daemon.target) as shared:
        yield shared


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    saved, discord.http.Route.BASE = discord.http.Route.BASE, server.base
    yield server
    discord.http.Route.BASE = saved
    await server.stop()


BotFactory = Callable[..., Awaitable[ImagineBot]]


@pytest_asyncio.fixture(loop_scope="module")
async def make_bot(client: Client, fake: FakeDiscord) -> AsyncIterator[BotFactory]:
    bots: list[ImagineBot] = []

    async def make(
        limits: Limits = GENEROUS, pending: PendingMessages | None = None, **settings: Any
    ) -> ImagineBot:
        discord_settings = DiscordSettings(edit_interval=EDIT_INTERVAL, **settings)
        config = BotConfig(defaults=Defaults(size="64x64", steps=2), limits=limits, discord=discord_settings)
        core = ChatCore(client, config, previews=discord_settings.previews)
        bot = ImagineBot(core, discord_settings, pending)
        await bot.login("a-fake-token")  # GET /users/@me, /oauth2/applications/@me, then setup_hook syncs commands
        bots.append(bot)
        return bot

    yield make
    for bot in bots:
        await bot.close()


def feed(bot: ImagineBot, payload: dict[str, Any]) -> None:
    """Hand an INTERACTION_CREATE to the client's own gateway parser."""
    bot._connection.parse_interaction_create(payload)  # type: ignore[arg-type]


def original(payload: dict[str, Any]) -> str:
    return f"/webhooks/{APP_ID}/{payload['token']}/messages/@original"


def callback(payload: dict[str, Any]) -> str:
    return f"/interactions/{payload['id']}/{payload['token']}/callback"


def final_edit(payload: dict[str, Any]) -> Callable[[Call], bool]:
    """The edit that shows the result: the image with the buttons under it."""
    return lambda c: c.method == "PATCH" and c.path == original(payload) and bool(c.files) and bool(c.custom_ids())


def channel_result_for(user_id: str) -> Callable[[Call], bool]:
    """A result posted (or edited) as a channel message, for `user_id`'s job."""
    return lambda c: c.path.startswith(f"/channels/{CHANNEL_ID}/messages") and bool(c.files) and f"<@{user_id}>" in c.content


def job_id_of(call: Call) -> str:
    return next(i.split(":")[2] for i in call.custom_ids() if i.startswith("imagine:reroll:"))


async def test_setup_syncs_the_commands(make_bot: BotFactory, fake: FakeDiscord) -> None:
    await make_bot()
    synced = fake.matching("PUT", rf"/applications/{APP_ID}/commands")[-1]
    assert {c["name"] for c in synced.payload} == {"imagine", "detect", "queue", "cancel", "models", "history"}
    imagine = next(c for c in synced.payload if c["name"] == "imagine")
    assert [o["name"] for o in imagine["options"]][:2] == ["prompt", "negative"]
    detect = next(c for c in synced.payload if c["name"] == "detect")
    image = detect["options"][0]
    assert image["name"] == "image" and image["type"] == ATTACHMENT_OPTION and image["required"]


async def test_imagine_defers_then_edits_progress_then_posts_the_image_with_buttons(
    make_bot: BotFactory, fake: FakeDiscord, client: Client
) -> None:
    bot = await make_bot()
    payload = slash("imagine", "1001", prompt="a lighthouse at dusk", steps=40, size="128x128", seed=5)
    feed(bot, payload)
    final = await fake.wait_for(final_edit(payload))

    calls = [c for c in fake.calls if c.path in (callback(payload), original(payload))]
    assert calls[0].path == callback(payload) and calls[0].payload["type"] == DEFERRED_MESSAGE
    edits = [c for c in calls[1:] if c.method == "PATCH"]
    assert edits[-1] is final
    progress = edits[:-1]
    assert any("steps" in c.content for c in progress), [c.content for c in progress]
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(edits)]
    assert all(gap >= EDIT_INTERVAL * 0.9 for gap in gaps), gaps  # the sender waits a full interval; leave for clock jitter

    (name, data), = final.files
    assert name.endswith(".png") and Image.open(io.BytesIO(data)).size == (128, 128)
    job = await client.get(job_id_of(final))
    assert job.owner == "discord:1001" and job.spec.task.seed == 5
    assert f"imagine:del:{job.id}" in final.custom_ids()
    assert "seed 5" in final.content and "<@1001>" in final.content
    assert not bot.persistent_views  # the buttons are handled by their ids: no view is kept per message


async def test_progress_edits_carry_a_preview_image(make_bot: BotFactory, fake: FakeDiscord, client: Client) -> None:
    bot = await make_bot(previews=True, preview_interval=0.0)
    payload = slash("imagine", "1013", prompt="a slow bloom", steps=60, size="128x128")
    feed(bot, payload)
    final = await fake.wait_for(final_edit(payload))
    job = await client.get(job_id_of(final))
    assert job.spec.previews
    progress = [c for c in fake.matching("PATCH", original(payload)) if c is not final]
    previews = [data for c in progress for name, data in c.files if name == "preview.png"]
    assert previews, [c.content for c in progress]
    assert Image.open(io.BytesIO(previews[-1])).format == "PNG"


async def test_without_previews_no_preview_is_asked_for(make_bot: BotFactory, fake: FakeDiscord, client: Client) -> None:
    bot = await make_bot(previews=False)
    payload = slash("imagine", "1014", prompt="plain")
    feed(bot, payload)
    final = await fake.wait_for(final_edit(payload))
    assert not (await client.get(job_id_of(final))).spec.previews


async def test_a_second_user_is_not_starved_by_the_first_users_ten_jobs(
    make_bot: BotFactory, fake: FakeDiscord, client: Client
) -> None:
    bot = await make_bot(Limits(jobs_per_minute=600, burst=50, max_queued_per_user=10))
    greedy = [slash("imagine", "1015", prompt=f"crowd {n}") for n in range(10)]
    patient = slash("imagine", "1016", prompt="one quiet cat")
    await client.pause_queue()  # everyone's jobs wait together; the daemon alone decides the order
    try:
        for payload in [*greedy, patient]:
            feed(bot, payload)
            await fake.wait_for(lambda c, p=payload: c.method == "PATCH" and c.path == original(p))  # submitted
    finally:
        await client.resume_queue()
    finals = [await fake.wait_for(final_edit(p)) for p in [*greedy, patient]]
    started = [(await client.get(job_id_of(f))).started_at or 0.0 for f in finals]
    ahead = [s for s in started[:-1] if s < started[-1]]
    assert len(ahead) <= 1, f"{len(ahead)} of the first user's jobs ran before the second user's one"


async def test_a_rate_limited_user_gets_a_private_reply(make_bot: BotFactory, fake: FakeDiscord) -> None:
    bot = await make_bot(Limits(jobs_per_minute=1, burst=1))
    first = slash("imagine", "1002", prompt="one")
    feed(bot, first)
    await fake.wait_for(final_edit(first))
    second = slash("imagine", "1002", prompt="two")
    feed(bot, second)
    reply = await fake.wait_for(lambda c: c.path == callback(second))
    assert reply.payload["type"] == CHANNEL_MESSAGE and reply.payload["data"]["flags"] == EPHEMERAL
    assert "you can start the next one in" in reply.content


async def test_the_daemon_being_down_is_said_privately(fake: FakeDiscord) -> None:
    async with Client("unix:/tmp/no-daemon-here/d.sock") as nowhere:
        settings = DiscordSettings(edit_interval=EDIT_INTERVAL)
        bot = ImagineBot(ChatCore(nowhere, BotConfig(discord=settings)), settings)
        await bot.login("a-fake-token")
        try:
            payload = slash("imagine", "1012", prompt="a cat")
            feed(bot, payload)
            said = await fake.wait_for(lambda c: c.method == "POST" and c.path == f"/webhooks/{APP_ID}/{payload['token']}")
        finally:
            await bot.close()
    assert said.content == DAEMON_DOWN and said.payload["flags"] == EPHEMERAL
    assert fake.matching("DELETE", original(payload))  # the public "thinking…" message is gone


async def test_a_bad_option_is_refused_naming_it(make_bot: BotFactory, fake: FakeDiscord) -> None:
    bot = await make_bot()
    payload = slash("imagine", "1003", prompt="a cat", size="huge")
    feed(bot, payload)
    reply = await fake.wait_for(lambda c: c.path == callback(payload))
    assert reply.payload["data"]["flags"] == EPHEMERAL and reply.content.startswith("size:")


async def test_buttons_reroll_and_upscale_for_the_clicker_and_delete_for_the_requester_only(
    make_bot: BotFactory, fake: FakeDiscord, client: Client
) -> None:
    bot = await make_bot()
    payload = slash("imagine", "1004", prompt="a red fox")
    feed(bot, payload)
    result = await fake.wait_for(final_edit(payload))
    job_id = job_id_of(result)
    on_message = message(result.content, components=result.payload["components"])

    reroll = click(f"imagine:reroll:{job_id}", "1005", on_message)
    feed(bot, reroll)
    rerolled = await fake.wait_for(final_edit(reroll))
    assert fake.matching("POST", callback(reroll))[0].payload["type"] == DEFERRED_MESSAGE
    new_job = await client.get(job_id_of(rerolled))
    assert new_job.id != job_id and new_job.owner == "discord:1005"
    assert new_job.spec.task.prompt == "a red fox"

    (output,) = (await client.get(job_id)).outputs
    assert f"imagine:var:{output.id}" in result.custom_ids()
    upscale = click(f"imagine:up:{output.id}", "1005", on_message)
    feed(bot, upscale)
    (_, data), = (await fake.wait_for(final_edit(upscale))).files
    assert Image.open(io.BytesIO(data)).size == (128, 128)

    not_yours = click(f"imagine:del:{job_id}", "1005", on_message)
    feed(bot, not_yours)
    refused = await fake.wait_for(lambda c: c.path == callback(not_yours))
    assert refused.payload["data"]["flags"] == EPHEMERAL and "someone else's" in refused.content

    yours = click(f"imagine:del:{job_id}", "1004", on_message)
    feed(bot, yours)
    await fake.wait_for(lambda c: c.method == "DELETE" and c.path == original(yours))
    assert fake.matching("POST", callback(yours))[0].payload["type"] == DEFERRED_UPDATE
    with pytest.raises(errors.NotFound):
        await client.get(job_id)


async def test_a_rate_limited_edit_waits_as_discord_says_and_still_lands(make_bot: BotFactory, fake: FakeDiscord) -> None:
    bot = await make_bot()
    payload = slash("imagine", "1010", prompt="patience")
    fake.rate_limit_once.add(payload["token"])
    feed(bot, payload)
    await fake.wait_for(final_edit(payload))
    limited, retried = fake.matching("PATCH", original(payload))[:2]
    assert retried.content == limited.content  # the same edit, sent again
    assert retried.at - limited.at >= RATE_LIMIT_RETRY * 0.9


async def test_a_job_outliving_its_token_finishes_in_a_channel_message(make_bot: BotFactory, fake: FakeDiscord) -> None:
    bot = await make_bot(token_lifetime=0.0)
    payload = slash("imagine", "1006", prompt="a slow sunrise")
    feed(bot, payload)
    final = await fake.wait_for(channel_result_for("1006"))
    assert not fake.matching("PATCH", original(payload))
    assert any(i.startswith("imagine:reroll:") for i in final.custom_ids())


async def test_an_expired_token_falls_back_to_a_channel_message(make_bot: BotFactory, fake: FakeDiscord) -> None:
    bot = await make_bot()
    payload = slash("imagine", "1007", prompt="a late answer")
    fake.expired_tokens.add(payload["token"])
    feed(bot, payload)
    await fake.wait_for(channel_result_for("1007"))
    assert fake.matching("PATCH", original(payload))  # tried the token first


async def test_an_image_over_the_upload_limit_is_shrunk(make_bot: BotFactory, fake: FakeDiscord) -> None:
    bot = await make_bot()
    payload = slash("imagine", "1008", prompt="fine detail", size="256x256", size_limit=4000)
    feed(bot, payload)
    final = await fake.wait_for(final_edit(payload))
    (name, data), = final.files
    assert name.endswith(".jpg") and len(data) <= 4000


async def test_the_model_option_suggests_installed_models(make_bot: BotFactory, fake: FakeDiscord) -> None:
    bot = await make_bot()
    payload = slash("imagine", "1017", prompt="a cat", model="tiny-s")
    payload["type"] = AUTOCOMPLETE
    payload["data"]["options"][-1]["focused"] = True
    feed(bot, payload)
    answer = await fake.wait_for(lambda c: c.path == callback(payload))
    assert answer.payload["type"] == AUTOCOMPLETE_RESULT
    assert {"name": "tiny-sd", "value": "tiny-sd"} in answer.payload["data"]["choices"]
    assert all("tiny-s" in choice["value"] for choice in answer.payload["data"]["choices"])


async def test_queue_and_models_answer_privately(make_bot: BotFactory, fake: FakeDiscord) -> None:
    bot = await make_bot()
    for name, expected in (("models", "`tiny-sd`"), ("queue", "The queue:"), ("history", "You have not made any images yet")):
        payload = slash(name, "1009")
        feed(bot, payload)
        answer = await fake.wait_for(lambda c, payload=payload: c.method == "PATCH" and c.path == original(payload))
        deferred = fake.matching("POST", callback(payload))[0]
        assert deferred.payload == {"type": DEFERRED_MESSAGE, "data": {"flags": EPHEMERAL}}
        assert expected in answer.content


async def test_a_flagged_image_is_a_spoiler_outside_age_restricted_channels(make_bot: BotFactory) -> None:
    bot = await make_bot()
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, "PNG")
    result = Result(t.Job("j1", spec(), "discord:1", t.JobState.SUCCEEDED), "text", png.getvalue(), flagged=True)
    (file,) = bot.result_files(result, Place("g", "c", age_restricted=False), 10_000)
    assert file.spoiler and file.filename.startswith("SPOILER_")
    (file,) = bot.result_files(result, Place("g", "c", age_restricted=True), 10_000)
    assert not file.spoiler
    (file,) = bot.result_files(dataclasses.replace(result, flagged=False), Place("g", "c"), 10_000)
    assert not file.spoiler


async def test_a_restarted_bot_finishes_the_messages_it_was_updating(
    make_bot: BotFactory, fake: FakeDiscord, client: Client, tmp_path: Path
) -> None:
    pending = PendingMessages(tmp_path / "discord-messages.json")
    await client.pause_queue()
    try:
        bot = await make_bot(pending=pending)
        payload = slash("imagine", "1011", prompt="a long night")
        feed(bot, payload)
        first = await fake.wait_for(lambda c: c.method == "PATCH" and c.path == original(payload))
        assert "Waiting" in first.content
        (job_id, where), = PendingMessages(pending.path).items()  # as a new run would read it
        assert where["message_id"] == fake.originals[payload["token"]] and where["channel_id"] == CHANNEL_ID
        await bot.close()  # the bot goes away with the job still queued

        restarted = await make_bot(pending=PendingMessages(pending.path))
    finally:
        await client.resume_queue()
    await asyncio.wait_for(asyncio.gather(*restarted.resumed), 60)
    final = fake.matching("PATCH", f"/channels/{CHANNEL_ID}/messages/{where['message_id']}")[-1]
    assert final.files and f"imagine:reroll:{job_id}" in final.custom_ids() and "<@1011>" in final.content
    assert not restarted.pending.items() and not PendingMessages(pending.path).items()


async def test_detect_downloads_the_attachment_and_posts_the_annotated_image_with_what_it_found(
    make_bot: BotFactory, fake: FakeDiscord, client: Client
) -> None:
    bot = await make_bot()
    attachment = fake.attach(shapes_png(), "shapes.png", "image/png")
    payload = slash_with_attachment("detect", "1301", attachment, conf=0.01, classes="")
    feed(bot, payload)
    final = await fake.wait_for(final_edit(payload))

    assert fake.matching("POST", callback(payload))[0].payload["type"] == DEFERRED_MESSAGE
    assert fake.matching("GET", rf"/attachments/{CHANNEL_ID}/{attachment['id']}/shapes\.png")  # read from the "CDN"
    (name, data), = final.files
    assert name.endswith(".png") and Image.open(io.BytesIO(data)).size == (SIZE, SIZE)
    (delete,) = final.custom_ids()
    job = await client.get(delete.split(":")[2])
    assert job.owner == "discord:1301" and isinstance(job.spec.task, t.Detect) and job.spec.task.conf == 0.01
    found = job.outputs[0].detections
    assert found is not None and (found.width, found.height) == (SIZE, SIZE) and found.objects
    assert f"{len(found.objects)} object" in final.content and "<@1301>" in final.content


async def test_detect_refuses_a_non_image_attachment_without_downloading_it(make_bot: BotFactory, fake: FakeDiscord) -> None:
    bot = await make_bot()
    attachment = fake.attach(b"%PDF-1.7 not a picture", "report.pdf", "application/pdf")
    payload = slash_with_attachment("detect", "1302", attachment)
    feed(bot, payload)
    reply = await fake.wait_for(lambda c: c.path == callback(payload))
    assert reply.payload["type"] == CHANNEL_MESSAGE and reply.payload["data"]["flags"] == EPHEMERAL
    assert reply.content.startswith("image: ") and "report.pdf" in reply.content
    assert not fake.matching("GET", rf"/attachments/.*/{attachment['id']}/.*")


async def test_detect_shows_the_daemons_sentence_for_a_corrupt_image(make_bot: BotFactory, fake: FakeDiscord) -> None:
    bot = await make_bot()
    attachment = fake.attach(b"\x89PNG\r\n\x1a\n truncated", "broken.png", None)  # no type given: guessed from the name
    payload = slash_with_attachment("detect", "1303", attachment)
    feed(bot, payload)
    said = await fake.wait_for(lambda c: c.method == "POST" and c.path == f"/webhooks/{APP_ID}/{payload['token']}")
    assert said.payload["flags"] == EPHEMERAL and "detect.images[0]" in said.content
    assert fake.matching("DELETE", original(payload))  # the public "thinking…" message is gone
