"""The Slack bot through Bolt's real request dispatch (signed requests) and slack_sdk's real Web API client,
against a fake Slack API on loopback, with a real daemon making the images."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import pytest_asyncio
from imagine import errors
from imagine import types as t
from imagine.client import Client
from PIL import Image
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bots.config import BotConfig, Defaults, Limits, SlackSettings
from bots.core import ChatCore
from bots.pending import PendingMessages
from bots.policy import Refused
from bots.replies import DAEMON_DOWN
from bots.slack_app import DETECT_SHORTCUT, MENTION_HELP, SlackBot
from bots.slack_files import NO_IMAGE, download_all
from tests.bots.fake_slack import (
    BOT_TOKEN,
    CHANNEL_ID,
    SIGNING_SECRET,
    FakeSlack,
    SlackCall,
    button_click,
    mention,
    message_shortcut,
    signed,
    slash_command,
    slash_command_fields,
)
from tests.bots.pictures import SIZE, shapes_png
from tests.e2e.daemon_process import DaemonProcess

pytestmark = pytest.mark.asyncio(loop_scope="module")

EDIT_INTERVAL = 0.3
GENEROUS = Limits(jobs_per_minute=600, burst=50)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def client(daemon: DaemonProcess) -> AsyncIterator[Client]:
    async with Client(daemon.target) as shared:
        yield shared


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def fake() -> AsyncIterator[FakeSlack]:
    server = FakeSlack()
    await server.start()
    yield server
    await server.stop()


def make_bot(client: Client, fake: FakeSlack, limits: Limits = GENEROUS,
             mode: str = "http", pending: PendingMessages | None = None) -> SlackBot:
    secret = SIGNING_SECRET if mode == "http" else ""
    settings = SlackSettings(bot_token=BOT_TOKEN, app_token="xapp-fake", signing_secret=secret, mode=mode,
                             edit_interval=EDIT_INTERVAL, channel_interval=0.1)
    config = BotConfig(defaults=Defaults(size="64x64", steps=2), limits=limits, slack=settings)
    return SlackBot(ChatCore(client, config), settings, pending, api_url=f"{fake.url}/api/")


def make_app(client: Client, fake: FakeSlack, limits: Limits = GENEROUS,
             mode: str = "http") -> AsyncApp:
    return make_bot(client, fake, limits, mode).app


async def send(app: AsyncApp, body: str, headers: dict[str, str] | None = None) -> Any:
    """Dispatch a request as Bolt's HTTP adapters do; the answer is the acknowledgement."""
    return await app.async_dispatch(AsyncBoltRequest(body=body, headers=headers or signed(body)))


def mentions(user_id: str) -> Callable[[SlackCall], bool]:
    return lambda c: f"<@{user_id}>" in c.args.get("text", "")


async def result_of(fake: FakeSlack, user_id: str, after: int = 0) -> tuple[SlackCall, SlackCall, SlackCall]:
    """The message posted for `user_id`'s job (the first after call number `after`), its last update
    (with the buttons) and the upload into its thread."""
    posted = await fake.wait_for(
        lambda c: c.method == "chat.postMessage" and mentions(user_id)(c) and fake.calls.index(c) >= after
    )
    ts = posted.reply["ts"]
    final = await fake.wait_for(lambda c: c.method == "chat.update" and c.args["ts"] == ts and "blocks" in c.args)
    upload = await fake.wait_for(lambda c: c.method == "files.completeUploadExternal" and c.args.get("thread_ts") == ts)
    return posted, final, upload


def action_ids(final: SlackCall) -> list[str]:
    blocks = final.args["blocks"]
    blocks = blocks if isinstance(blocks, list) else json.loads(blocks)
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


async def test_imagine_acks_then_updates_progress_then_uploads_into_the_thread(client: Client, fake: FakeSlack) -> None:
    app = make_app(client, fake)
    ack = await send(app, slash_command("a lighthouse --steps 40 --size 128x128 --seed 9", "U1001", f"{fake.url}/respond/1"))
    assert ack.status == 200 and ack.body == ""
    posted, final, upload = await result_of(fake, "U1001")
    assert posted.args["channel"] == CHANNEL_ID

    updates = [c for c in fake.calls if c.method == "chat.update" and c.args["ts"] == final.args["ts"]]
    assert updates[-1] is final and any("steps" in c.args["text"] for c in updates[:-1])
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(updates)]
    assert all(gap >= EDIT_INTERVAL * 0.9 for gap in gaps), gaps

    uploaded = next(c for c in fake.calls if c.method == "upload")
    assert Image.open(io.BytesIO(uploaded.body)).size == (128, 128)
    job_id = next(i.split(":")[2] for i in action_ids(final) if i.startswith("imagine:reroll:"))
    job = await client.get(job_id)
    assert job.owner == "slack:T0001:U1001" and job.spec.task.seed == 9 and job.spec.task.steps == 40
    assert upload.args["channel_id"] == CHANNEL_ID


async def test_a_rate_limited_update_is_sent_again_after_retry_after(client: Client, fake: FakeSlack) -> None:
    app = make_app(client, fake)
    fake.rate_limit_once.add("chat.update")
    await send(app, slash_command("a patient owl", "U1007", f"{fake.url}/respond/8"))
    posted, _, _ = await result_of(fake, "U1007")
    updates = fake.calls_of("chat.update", lambda c: c.args["ts"] == posted.reply["ts"])
    limited = next(c for c in updates if not c.reply["ok"])
    again = updates[updates.index(limited) + 1]
    assert again.args["text"] == limited.args["text"] and again.reply["ok"]


async def test_a_rate_limited_user_gets_a_clear_reply(client: Client, fake: FakeSlack) -> None:
    app = make_app(client, fake, Limits(jobs_per_minute=1, burst=1))
    await send(app, slash_command("first", "U1002", f"{fake.url}/respond/2"))
    second = await send(app, slash_command("second", "U1002", f"{fake.url}/respond/2"))
    assert "you can start the next one in" in second.body


async def test_an_unknown_option_is_named(client: Client, fake: FakeSlack) -> None:
    answer = await send(make_app(client, fake), slash_command("a cat --stepz 3", "U1003", f"{fake.url}/respond/3"))
    assert "--stepz is not an option" in answer.body


async def test_an_unsigned_request_is_rejected(client: Client, fake: FakeSlack) -> None:
    body = slash_command("a cat", "U1004", f"{fake.url}/respond/4")
    answer = await send(make_app(client, fake), body, signed(body, secret="someone-elses-secret"))
    assert answer.status == 401


async def test_a_button_click_starts_the_follow_up_in_the_thread(client: Client, fake: FakeSlack) -> None:
    app = make_app(client, fake)
    await send(app, slash_command("a red fox", "U1005", f"{fake.url}/respond/5"))
    _, final, _ = await result_of(fake, "U1005")
    reroll = next(i for i in action_ids(final) if i.startswith("imagine:reroll:"))
    ack = await send(app, button_click(reroll, "U1006", final.args["ts"], f"{fake.url}/respond/6"))
    assert ack.status == 200
    posted, second, _ = await result_of(fake, "U1006")
    assert posted.args["thread_ts"] == final.args["ts"]
    new_job = await client.get(next(i.split(":")[2] for i in action_ids(second) if i.startswith("imagine:reroll:")))
    assert new_job.owner == "slack:T0001:U1006" and new_job.spec.task.prompt == "a red fox"

    variations = next(i for i in action_ids(final) if i.startswith("imagine:var:"))
    clicked_at = len(fake.calls)
    await send(app, button_click(variations, "U1006", final.args["ts"], f"{fake.url}/respond/6"))
    _, varied, _ = await result_of(fake, "U1006", after=clicked_at)
    assert sum(i.startswith("imagine:up:") for i in action_ids(varied)) == 4  # U1-U4 under four variations
    delete = next(i for i in action_ids(final) if i.startswith("imagine:del:"))
    await send(app, button_click(delete, "U1006", final.args["ts"], f"{fake.url}/respond/7"))
    refusal = await fake.wait_for(lambda c: c.method == "respond" and "someone else's" in c.body.decode())
    assert b'"ephemeral"' in refusal.body
    assert not fake.calls_of("chat.delete", lambda c: c.args["ts"] == final.args["ts"])

    await send(app, button_click(delete, "U1005", final.args["ts"], f"{fake.url}/respond/7"))
    await fake.wait_for(lambda c: c.method == "chat.delete" and c.args["ts"] == final.args["ts"])
    with pytest.raises(errors.NotFound):
        await client.get(delete.split(":")[2])


async def test_socket_mode_acks_the_envelope_and_answers_the_command(client: Client, fake: FakeSlack) -> None:
    app = make_app(client, fake, mode="socket")
    handler = AsyncSocketModeHandler(app, "xapp-fake")  # opens its connection with apps.connections.open
    await handler.connect_async()
    try:
        fields = slash_command_fields("a lantern --seed 4", "U1008", f"{fake.url}/respond/9")
        await fake.envelopes.put({"envelope_id": "env-1", "type": "slash_commands", "accepts_response_payload": True, "payload": fields})
        ack = await fake.wait_for(lambda c: c.method == "socket-mode-ack" and c.args.get("envelope_id") == "env-1")
        assert "payload" not in ack.args or not ack.args["payload"]  # an empty acknowledgement: nothing to show yet
        _, final, _ = await result_of(fake, "U1008")
        assert "seed 4" in final.args["text"]
    finally:
        await handler.close_async()


async def test_a_restarted_bot_finishes_the_messages_it_was_updating(client: Client, fake: FakeSlack, tmp_path: Path) -> None:
    pending = PendingMessages(tmp_path / "slack-messages.json")
    before_restart = FakeSlack()  # the Slack the first run talks to, cut off when that run "dies"
    await before_restart.start()
    await client.pause_queue()
    try:
        first = make_bot(client, before_restart, pending=pending)
        await send(first.app, slash_command("a long night", "U1009", f"{fake.url}/respond/10"))
        posted = await before_restart.wait_for(lambda c: c.method == "chat.postMessage")
        await before_restart.wait_for(lambda c: c.method == "chat.update")
        await before_restart.stop()
        (job_id, where), = PendingMessages(pending.path).items()  # as a new run reads it
        assert where["ts"] == posted.reply["ts"] and where["channel"] == CHANNEL_ID

        restarted = make_bot(client, fake, pending=PendingMessages(pending.path))
        restarted.resume()
    finally:
        await client.resume_queue()
    await asyncio.wait_for(asyncio.gather(*restarted.resumed), 60)
    final = fake.calls_of("chat.update", lambda c: c.args["ts"] == where["ts"] and "blocks" in c.args)[-1]
    assert f"imagine:reroll:{job_id}" in action_ids(final) and "<@U1009>" in final.args["text"]
    assert fake.calls_of("files.completeUploadExternal", lambda c: c.args.get("thread_ts") == where["ts"])
    assert not PendingMessages(pending.path).items()


async def test_the_daemon_being_down_is_said_plainly(fake: FakeSlack) -> None:
    async with Client("unix:/tmp/no-daemon-here/d.sock") as nowhere:
        app = make_app(nowhere, fake)
        ack = await send(app, slash_command("a cat", "U1010", f"{fake.url}/respond/11"))
        assert ack.status == 200
        said = await fake.wait_for(lambda c: c.method == "respond" and DAEMON_DOWN in json.loads(c.body)["text"])
    assert json.loads(said.body)["response_type"] == "ephemeral"


async def send_event(app: AsyncApp, body: str) -> Any:
    return await send(app, body, signed(body, content_type="application/json"))


async def test_detect_in_a_mention_downloads_the_picture_and_answers_in_its_thread(client: Client, fake: FakeSlack) -> None:
    app = make_app(client, fake)
    picture = fake.share(shapes_png(), "shapes.png", "image/png")
    body = mention("<@UBOT> detect --conf 0.01", "U1401", [picture])
    ack = await send_event(app, body)
    assert ack.status == 200
    posted, final, upload = await result_of(fake, "U1401")
    assert posted.args["thread_ts"] == json.loads(body)["event"]["ts"]  # in the thread of the asking message

    (download,) = fake.calls_of("files-pri", lambda c: picture["id"] in c.args["path"])
    assert download.args["authorization"] == f"Bearer {BOT_TOKEN}"
    uploaded = [c for c in fake.calls[: fake.calls.index(upload)] if c.method == "upload"][-1]
    assert Image.open(io.BytesIO(uploaded.body)).size == (SIZE, SIZE)
    (delete,) = action_ids(final)
    job = await client.get(delete.split(":")[2])
    assert job.owner == "slack:T0001:U1401" and isinstance(job.spec.task, t.Detect) and job.spec.task.conf == 0.01
    found = job.outputs[0].detections
    assert found is not None and found.objects
    assert f"{len(found.objects)} object" in final.args["text"]


@pytest.mark.parametrize(("text", "files", "said"), [
    ("<@UBOT> detect", [("report.pdf", "application/pdf")], "“report.pdf” is application/pdf, not a picture"),
    ("<@UBOT> detect", [], NO_IMAGE),
    ("<@UBOT> what can you do?", [("shapes.png", "image/png")], MENTION_HELP),
])  # fmt: skip
async def test_a_mention_that_cannot_be_detected_gets_a_private_reply_and_nothing_is_downloaded(
    client: Client, fake: FakeSlack, text: str, files: list[tuple[str, str]], said: str
) -> None:
    user_id = f"U15{len(fake.calls):04d}"
    shared = [fake.share(b"%PDF-1.7" if kind == "application/pdf" else shapes_png(), name, kind) for name, kind in files]
    await send_event(make_app(client, fake), mention(text, user_id, shared))
    reply = await fake.wait_for(lambda c: c.method == "chat.postEphemeral" and c.args["user"] == user_id)
    assert said in reply.args["text"] and reply.args["channel"] == CHANNEL_ID
    assert not [c for c in fake.calls_of("files-pri") if any(f["id"] in c.args["path"] for f in shared)]


async def test_without_the_files_read_scope_slacks_sign_in_page_is_said_plainly(fake: FakeSlack) -> None:
    picture = fake.share(shapes_png(), "shapes.png", "image/png")
    with pytest.raises(Refused, match="needs the files:read scope"):
        await download_all([picture], "xoxb-a-token-without-files-read")
    assert await download_all([picture], BOT_TOKEN) == (shapes_png(),)


async def test_the_detect_shortcut_on_someone_elses_picture_answers_in_its_thread(client: Client, fake: FakeSlack) -> None:
    picture = fake.share(shapes_png(), "theirs.png", "image/png")
    body = message_shortcut(DETECT_SHORTCUT, "U1601", [picture])
    ack = await send(make_app(client, fake), body)
    assert ack.status == 200
    posted, final, _ = await result_of(fake, "U1601")
    assert posted.args["thread_ts"] == json.loads(parse_qs(body)["payload"][0])["message"]["ts"]
    assert fake.calls_of("files-pri", lambda c: picture["id"] in c.args["path"])
    job = await client.get(action_ids(final)[0].split(":")[2])
    assert job.owner == "slack:T0001:U1601" and isinstance(job.spec.task, t.Detect)
