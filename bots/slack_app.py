"""The Slack bot: `/imagine <prompt> [--steps N --size WxH --seed N --count N --model NAME --no WORDS]`,
and `@imagine detect [--task T --conf C --classes A,B --model NAME]` in a message with attached pictures.

    bot = SlackBot(ChatCore(client, config), config.slack, PendingMessages(path))
    bot.resume()
    await AsyncSocketModeHandler(bot.app, config.slack.app_token).start_async()   # or serve bot.app over HTTP

The command is acknowledged at once; a message in the channel then shows the
progress (`chat.update`, kept within its Tier 3 budget of about 50 a minute
per workspace and one message a second per channel), and the result is
uploaded into that message's thread with `files_upload_v2`, its buttons
(re-roll, variations, upscale, delete) under the message.

Slash commands carry no files, so detection answers an `app_mention` event
whose message has image files, or the "Detect objects" message shortcut
(callback id `imagine_detect`) on a message with pictures (scopes:
app_mentions:read, files:read); the files are downloaded with the bot token
and the result goes in the message's thread.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from imagine import errors
from imagine import types as t
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    async_default_handlers,
)
from slack_sdk.web.async_client import AsyncWebClient

from bots.buckets import TokenBucket
from bots.config import SlackSettings
from bots.core import Button, ChatCore, Result, describe
from bots.detect import COMMAND_WORD, parse_mention_text
from bots.pending import PendingMessages
from bots.policy import ChatUser, Place, Refused
from bots.progress import JobView, status_line
from bots.replies import reply_for
from bots.requests import Action, ActionKind, parse_command_text
from bots.slack_files import check_files, download_all

BUTTON_ID = re.compile(r"^imagine:")
SLACK_API = "https://slack.com/api/"
MENTION_HELP = "Mention me with `detect` in a message with a picture attached to find what is in it; /imagine makes images."
DETECT_SHORTCUT = "imagine_detect"  # the message shortcut's callback id
WORKSPACE_BURST = 5  # chat.update calls a workspace may make at once before the per-minute rate applies


class SlackBot:
    """The Bolt app (`.app`), its listeners, and the buckets shared by the messages of a channel or a workspace."""

    def __init__(
        self, core: ChatCore, settings: SlackSettings, pending: PendingMessages | None = None, api_url: str = SLACK_API
    ) -> None:
        """`api_url` points the Web API elsewhere (tests, proxies)."""
        self.core = core
        self.settings = settings
        self.pending = pending or PendingMessages(None)
        self._channels: dict[str, TokenBucket] = {}
        self._workspaces: dict[str, TokenBucket] = {}
        self.resumed: set[asyncio.Task[None]] = set()  # finishing the messages of an earlier run
        self.app = AsyncApp(
            signing_secret=settings.signing_secret,
            client=AsyncWebClient(
                token=settings.bot_token,
                base_url=api_url,
                # a 429 is retried after the Retry-After Slack sends, rather than dropping the update
                retry_handlers=[*async_default_handlers(), AsyncRateLimitErrorRetryHandler(max_retry_count=3)],
            ),
            request_verification_enabled=settings.mode == "http" or bool(settings.signing_secret),
        )
        self.app.command("/imagine")(self.on_imagine)
        self.app.action(BUTTON_ID)(self.on_button)
        self.app.event("app_mention")(self.on_mention)
        self.app.message_shortcut(DETECT_SHORTCUT)(self.on_detect_shortcut)

    def resume(self) -> None:
        """Finish the messages a previous run of the bot was still updating."""
        for job_id, where in self.pending.items():
            message = SlackMessage(where["channel"], where["ts"], where["header"], Place(where["team"], where["channel"]))
            self.resumed.add(asyncio.create_task(self.follow_into(self.app.client, message, job_id)))

    def buckets(self, place: Place) -> list[TokenBucket]:
        """One message's own interval, its channel's, and its workspace's share of chat.update."""
        settings = self.settings
        channel = self._channels.setdefault(place.channel_id, TokenBucket.every(settings.channel_interval))
        workspace = self._workspaces.setdefault(
            place.server_id, TokenBucket(settings.workspace_updates_per_minute / 60.0, WORKSPACE_BURST)
        )
        return [TokenBucket.every(settings.edit_interval), channel, workspace]

    async def on_imagine(self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], client: AsyncWebClient,
                         respond: Callable[..., Awaitable[Any]]) -> None:
        user = ChatUser("slack", body["user_id"], team_id=body["team_id"], name=body.get("user_name", ""))
        place = Place(body["team_id"], body["channel_id"])
        try:
            spec = self.core.prepare(user, place, parse_command_text(body.get("text", "")))
        except Refused as exc:
            await ack(text=str(exc))  # only the person sees a command's acknowledgement
            return
        await ack()
        try:
            job = await self.core.submit(user, spec)
        except (Refused, errors.ImagineError) as exc:
            await respond(text=reply_for(exc), response_type="ephemeral")
            return
        await self.show_job(client, user, place, job)

    async def on_mention(self, event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:
        """`@imagine detect ...` with pictures attached: the job's message goes in the mention's thread."""
        team = body.get("team_id") or event.get("team", "")
        user = ChatUser("slack", event["user"], team_id=team)
        await self.detect_files(client, user, Place(team, event["channel"]), event.get("thread_ts") or event["ts"],
                                event.get("text", ""), event.get("files", []))

    async def on_detect_shortcut(self, ack: Callable[..., Awaitable[None]], body: dict[str, Any],
                                 client: AsyncWebClient) -> None:
        """The "Detect objects" message shortcut, on any message with pictures: default options."""
        await ack()
        team = body["team"]["id"]
        user = ChatUser("slack", body["user"]["id"], team_id=team, name=body["user"].get("username", ""))
        message = body["message"]
        await self.detect_files(client, user, Place(team, body["channel"]["id"]),
                                message.get("thread_ts") or message["ts"], COMMAND_WORD, message.get("files", []))

    async def detect_files(self, client: AsyncWebClient, user: ChatUser, place: Place, thread_ts: str, text: str,
                           files: list[dict[str, Any]]) -> None:
        """Check the files, download them and start the detection; refusals only the person sees."""
        try:
            request = parse_mention_text(text)
            if request is None:
                raise Refused(MENTION_HELP)
            check_files(files)  # before downloading anything
            images = await download_all(files, self.settings.bot_token)
            job = await self.core.start(user, place, dataclasses.replace(request, images=images))
        except (Refused, errors.ImagineError) as exc:
            await client.chat_postEphemeral(
                channel=place.channel_id, user=user.user_id, text=reply_for(exc), thread_ts=thread_ts
            )
            return
        await self.show_job(client, user, place, job, thread_ts=thread_ts)

    async def on_button(self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], client: AsyncWebClient,
                        respond: Callable[..., Awaitable[Any]]) -> None:
        await ack()
        action = Action.parse(body["actions"][0]["action_id"])
        if action is None:
            return
        team = body["team"]["id"] if body.get("team") else body["user"]["team_id"]
        user = ChatUser("slack", body["user"]["id"], team_id=team, name=body["user"].get("username", ""))
        channel = body["channel"]["id"]
        message = body["message"]
        place = Place(team, channel)
        try:
            if action.kind is ActionKind.DELETE:
                await self.core.delete(user, action.target)
                await client.chat_delete(channel=channel, ts=message["ts"])
                return
            job = await self.core.start_action(user, place, action)
        except (Refused, errors.ImagineError) as exc:
            if isinstance(exc, errors.NotFound) and action.kind is ActionKind.DELETE:
                await client.chat_delete(channel=channel, ts=message["ts"])
                return
            await respond(text=reply_for(exc), response_type="ephemeral", replace_original=False)
            return
        await self.show_job(client, user, place, job, thread_ts=message.get("thread_ts") or message["ts"])

    async def show_job(self, client: AsyncWebClient, user: ChatUser, place: Place, job: t.Job,
                       thread_ts: str | None = None) -> None:
        header = f"*{describe(job)}* — <@{user.user_id}>"
        posted = await client.chat_postMessage(
            channel=place.channel_id, thread_ts=thread_ts, text=f"{header}\n{status_line(JobView(job.id))}"
        )
        message = SlackMessage(posted["channel"], posted["ts"], header, place)
        self.pending.put(job.id, {"channel": message.channel, "ts": message.ts, "header": header, "team": place.server_id})
        await self.follow_into(client, message, job.id)

    async def follow_into(self, client: AsyncWebClient, message: SlackMessage, job_id: str) -> None:
        """Progress updates until the job ends; then the result, its buttons, and the image in the thread."""

        async def show_progress(view: JobView) -> None:
            await client.chat_update(channel=message.channel, ts=message.ts, text=f"{message.header}\n{status_line(view)}")

        try:
            await self.show_result(client, message, job_id, show_progress)
        finally:  # finished, or failed for good: a restart would fail the same way
            self.pending.remove(job_id)

    async def show_result(self, client: AsyncWebClient, message: SlackMessage, job_id: str,
                          show_progress: Callable[[JobView], Awaitable[None]]) -> None:
        channel, ts = message.channel, message.ts
        try:
            result = await self.core.follow(job_id, show_progress, self.buckets(message.place))
        except errors.ImagineError as exc:
            await client.chat_update(channel=channel, ts=ts, text=f"{message.header}\n{reply_for(exc)}")
            return
        text = f"{message.header}\n{result.details}"
        if result.flagged:
            text += "\n⚠️ The safety checker flagged this image."
        await client.chat_update(channel=channel, ts=ts, text=text, blocks=result_blocks(text, result))
        if result.image is not None:
            await client.files_upload_v2(channel=channel, thread_ts=ts, content=result.image,
                                         filename=f"{job_id}.png", title=describe(result.job))


@dataclass(frozen=True)
class SlackMessage:
    """The message a job is shown in."""

    channel: str
    ts: str
    header: str
    place: Place


def result_blocks(text: str, result: Result) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    if result.buttons:
        blocks.append({"type": "actions", "block_id": "imagine", "elements": [button(b) for b in result.buttons]})
    return blocks


def button(item: Button) -> dict[str, Any]:
    element = {
        "type": "button",
        "text": {"type": "plain_text", "text": item.label, "emoji": True},
        "action_id": item.action.custom_id,
        "value": item.action.custom_id,
    }
    if item.action.kind is ActionKind.DELETE:
        element["style"] = "danger"
    return element
