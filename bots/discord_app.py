"""The Discord bot: `/imagine`, `/detect`, `/queue`, `/cancel`, `/models`, `/history`, and the buttons under results.

    bot = ImagineBot(ChatCore(client, config), config.discord)
    await bot.start(config.discord.token)

A command is deferred at once (Discord wants an answer within 3 s); the
"thinking" response is then edited with the progress and finally with the
image and its buttons. Interaction tokens last 15 minutes: a job that
outlives its token finishes in a channel message instead. discord.py reads
Discord's rate-limit headers and waits its buckets out; the bot's own
throttle only bounds how often one message is edited.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import io
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands
from imagine import errors
from imagine import types as t

from bots.buckets import TokenBucket
from bots.config import DiscordSettings
from bots.core import VISION_MODEL_KINDS, Button, ChatCore, Result, describe
from bots.detect import TASKS, Attachment, DetectRequest
from bots.images import fit
from bots.pending import PendingMessages
from bots.policy import ChatUser, Place, Refused
from bots.progress import JobView, status_line
from bots.replies import reply_for
from bots.requests import Action, ActionKind, ImagineRequest

log = logging.getLogger(__name__)
INVALID_WEBHOOK_TOKEN = 50027


def chat_user(interaction: discord.Interaction) -> ChatUser:
    who = interaction.user
    roles = getattr(who, "roles", [])
    names = {str(r.id) for r in roles} | {r.name for r in roles}
    return ChatUser("discord", str(who.id), roles=frozenset(names), name=who.name)


def place_of(interaction: discord.Interaction) -> Place:
    channel = interaction.channel
    nsfw = bool(getattr(channel, "is_nsfw", lambda: False)())
    return Place(str(interaction.guild_id or "dm"), str(interaction.channel_id or ""), age_restricted=nsfw)


class JobMessage:
    """Where a job is shown: the interaction's response while its token lives, else a message in the channel.

    Past the token's life (or when Discord calls it invalid) the next edit
    posts a channel message and later edits go to that. A bot that restarted
    has no interaction: it edits the message it remembered through the channel.
    """

    def __init__(
        self,
        settings: DiscordSettings,
        channel: discord.abc.Messageable,
        channel_id: int,
        interaction: discord.Interaction | None = None,
        message: discord.Message | discord.PartialMessage | None = None,
    ) -> None:
        self.channel = channel
        self.channel_id = channel_id
        self.interaction = interaction
        self.message = message  # the message being edited, once known
        self.expires = interaction.created_at + dt.timedelta(seconds=settings.token_lifetime) if interaction else None

    def token_alive(self) -> bool:
        return self.interaction is not None and self.expires is not None and discord.utils.utcnow() < self.expires

    async def edit(self, content: str, files: list[discord.File] | None = None, view: discord.ui.View | None = None) -> None:
        fields: dict[str, Any] = {"content": content, "view": view}
        if files is not None:
            fields["attachments"] = files
        if self.interaction is not None and self.token_alive():
            try:
                self.message = await self.interaction.edit_original_response(**fields)
                return
            except discord.HTTPException as exc:
                if exc.code != INVALID_WEBHOOK_TOKEN and exc.status != 401:
                    raise
        if self.interaction is None and self.message is not None:
            try:
                await self.message.edit(**fields)
                return
            except (discord.NotFound, discord.Forbidden):
                log.info("cannot edit message %s any more; posting a new one", self.message.id)
        self.interaction = None
        if view is None:
            self.message = await self.channel.send(content, files=files or [])
        else:
            self.message = await self.channel.send(content, files=files or [], view=view)


@dataclass(frozen=True)
class ShownJob:
    """A job and what its message needs to show it; as a record, what a restarted bot needs to finish it."""

    job_id: str
    header: str
    place: Place
    attachment_limit: int

    def record(self, channel_id: int, message_id: int) -> dict[str, str]:
        return {
            "channel_id": str(channel_id),
            "message_id": str(message_id),
            "header": self.header,
            "server_id": self.place.server_id,
            "age_restricted": "1" if self.place.age_restricted else "",
            "attachment_limit": str(self.attachment_limit),
        }

    @classmethod
    def from_record(cls, job_id: str, where: dict[str, str]) -> ShownJob:
        place = Place(where["server_id"], where["channel_id"], age_restricted=bool(where["age_restricted"]))
        return cls(job_id, where["header"], place, int(where["attachment_limit"]))


def result_view(buttons: tuple[Button, ...]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for button in buttons:
        kind = button.action.kind
        row = {ActionKind.VARIATIONS: 1, ActionKind.UPSCALE: 2}.get(kind, 0)
        style = discord.ButtonStyle.danger if kind is ActionKind.DELETE else discord.ButtonStyle.secondary
        view.add_item(discord.ui.Button(label=button.label, custom_id=button.action.custom_id, style=style, row=row))
    view.stop()  # only drawn: clicks reach `on_interaction` by their ids, so discord.py need not keep a view a message
    return view


class ImagineBot(discord.Client):
    def __init__(
        self, core: ChatCore, settings: DiscordSettings, pending: PendingMessages | None = None, **options: Any
    ) -> None:
        super().__init__(intents=discord.Intents.default(), **options)
        self.core = core
        self.settings = settings
        self.pending = pending or PendingMessages(None)
        self.resumed: set[asyncio.Task[None]] = set()  # finishing the messages of an earlier run
        self.tree = app_commands.CommandTree(self)
        add_commands(self)

    async def setup_hook(self) -> None:
        guilds = [discord.Object(int(g)) for g in self.settings.sync_guilds]
        for guild in guilds:
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)
        if not guilds:
            await self.tree.sync()
        await self.resume()

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        if interaction.type is not discord.InteractionType.component or not interaction.data:
            return
        action = Action.parse(str(interaction.data.get("custom_id", "")))
        if action is None:
            return
        if action.kind is ActionKind.DELETE:
            await self.delete_result(interaction, action.target)
        else:
            await self.follow_up(interaction, action)

    # -- making images ---------------------------------------------------------

    async def imagine(self, interaction: discord.Interaction, request: ImagineRequest) -> None:
        user, place = chat_user(interaction), place_of(interaction)
        try:
            spec = self.core.prepare(user, place, request)
        except Refused as exc:
            await interaction.response.send_message(str(exc), ephemeral=True)
            return
        await interaction.response.defer(thinking=True)
        try:
            job = await self.core.submit(user, spec)
        except (Refused, errors.ImagineError) as exc:
            await self.refuse_after_defer(interaction, exc)
            return
        await self.show_job(interaction, user, place, job)

    async def detect(self, interaction: discord.Interaction, image: discord.Attachment, options: DetectRequest) -> None:
        """`/detect`: the attachment is checked from its description, then downloaded after the deferral
        (a large file can take longer than the 3 s an interaction may wait)."""
        user, place = chat_user(interaction), place_of(interaction)
        try:
            Attachment(image.filename, image.size, image.content_type or "").check()
        except Refused as exc:
            await interaction.response.send_message(str(exc), ephemeral=True)
            return
        await interaction.response.defer(thinking=True)
        try:
            data = await image.read()  # through discord.py's HTTP session, from Discord's CDN
        except discord.HTTPException as exc:
            failed = Refused(f"image: I could not download “{image.filename}” ({exc.status}); please attach it again.")
            await self.refuse_after_defer(interaction, failed)
            return
        try:
            job = await self.core.start(user, place, dataclasses.replace(options, images=(data,)))
        except (Refused, errors.ImagineError) as exc:
            await self.refuse_after_defer(interaction, exc)
            return
        await self.show_job(interaction, user, place, job)

    async def follow_up(self, interaction: discord.Interaction, action: Action) -> None:
        """Re-roll, V<n>, U<n>: a new message (deferred at once) that follows the new job."""
        user, place = chat_user(interaction), place_of(interaction)
        await interaction.response.defer(thinking=True)
        try:
            job = await self.core.start_action(user, place, action)
        except (Refused, errors.ImagineError) as exc:
            await self.refuse_after_defer(interaction, exc)
            return
        await self.show_job(interaction, user, place, job)

    async def refuse_after_defer(self, interaction: discord.Interaction, exc: Exception) -> None:
        """Swap the public "thinking…" message for a reply only the person sees."""
        await interaction.delete_original_response()
        await interaction.followup.send(reply_for(exc), ephemeral=True)

    async def show_job(self, interaction: discord.Interaction, user: ChatUser, place: Place, job: t.Job) -> None:
        channel_id = interaction.channel_id or 0
        channel = interaction.channel or self.get_partial_messageable(channel_id)
        message = JobMessage(self.settings, channel, channel_id, interaction)  # type: ignore[arg-type]
        limit = min(self.settings.attachment_limit, interaction.filesize_limit or self.settings.attachment_limit)
        shown = ShownJob(job.id, f"**{describe(job)}** — <@{user.user_id}>", place, limit)
        await self.follow_into(message, shown)

    async def resume(self) -> None:
        """Finish the messages a previous run of the bot was still updating."""
        for job_id, where in self.pending.items():
            shown = ShownJob.from_record(job_id, where)
            channel_id = int(where["channel_id"])
            channel = self.get_partial_messageable(channel_id)
            message = JobMessage(
                self.settings, channel, channel_id, message=channel.get_partial_message(int(where["message_id"]))
            )
            self.resumed.add(asyncio.create_task(self.follow_into(message, shown)))

    async def follow_into(self, message: JobMessage, shown: ShownJob) -> None:
        """Progress edits until the job ends, then the result with its buttons; remembered until then."""
        last_preview, remembered = [0.0], [0]

        async def show_progress(view: JobView) -> None:
            files = None
            now = time.monotonic()
            if self.settings.previews and view.preview and now - last_preview[0] >= self.settings.preview_interval:
                files, last_preview[0] = [discord.File(io.BytesIO(view.preview), "preview.png")], now
            await message.edit(f"{shown.header}\n{status_line(view)}", files)
            if message.message is not None and message.message.id != remembered[0]:
                remembered[0] = message.message.id
                self.pending.put(shown.job_id, shown.record(message.channel_id, message.message.id))

        buckets = [TokenBucket.every(self.settings.edit_interval)]
        try:
            result = await self.core.follow(shown.job_id, show_progress, buckets)
        except errors.ImagineError as exc:
            await message.edit(f"{shown.header}\n{reply_for(exc)}", [])
        else:
            files = await asyncio.to_thread(self.result_files, result, shown.place, shown.attachment_limit)
            view = result_view(result.buttons) if result.buttons else None
            await message.edit(f"{shown.header}\n{result.details}", files, view)
        finally:  # finished, or failed for good: a restart would fail the same way
            self.pending.remove(shown.job_id)

    def result_files(self, result: Result, place: Place, limit: int) -> list[discord.File]:
        if result.image is None:
            return []
        data, extension = fit(result.image, limit)
        spoiler = result.flagged and not place.age_restricted
        return [discord.File(io.BytesIO(data), f"{result.job.id}.{extension}", spoiler=spoiler)]

    async def delete_result(self, interaction: discord.Interaction, job_id: str) -> None:
        try:
            await self.core.delete(chat_user(interaction), job_id)
        except errors.NotFound:
            pass  # the job is gone already; the message can still go
        except (Refused, errors.ImagineError) as exc:
            await interaction.response.send_message(reply_for(exc), ephemeral=True)
            return
        await interaction.response.defer()
        await interaction.delete_original_response()  # for a button, the message it is on

    # -- the person's own jobs ---------------------------------------------------

    async def answer(self, interaction: discord.Interaction, text_of: Any) -> None:
        """A private answer that needs the daemon: deferred first, then the text (or what went wrong)."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            text = await text_of()
        except (Refused, errors.ImagineError) as exc:
            text = reply_for(exc)
        await interaction.edit_original_response(content=text)


def choices(names: Sequence[str]) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=name, value=name) for name in names]


def add_commands(bot: ImagineBot) -> None:
    """The slash commands. A command that starts a job builds its request (`bots.requests`, `bots.detect`),
    submits it through the core and hands the job to `bot.show_job`, which works for any task."""
    core = bot.core

    @bot.tree.command(name="imagine", description="Make an image from a text prompt")
    @app_commands.describe(
        prompt="what to draw",
        negative="what to keep out of the image",
        model="which model (see /models); empty for the default",
        size="WIDTHxHEIGHT, e.g. 512x512; empty for the model's own",
        steps="denoising steps; more is slower and finer",
        seed="a number to make the same image again",
        count="how many images",
    )
    async def imagine(
        interaction: discord.Interaction,
        prompt: str,
        negative: str = "",
        model: str = "",
        size: str = "",
        steps: app_commands.Range[int, 1, 500] | None = None,
        seed: app_commands.Range[int, 0, 2**32 - 1] | None = None,
        count: app_commands.Range[int, 1, 16] | None = None,
    ) -> None:
        await bot.imagine(interaction, ImagineRequest(prompt, negative, model, size, steps, seed, count))

    @imagine.autocomplete("model")
    async def model_choices(interaction: discord.Interaction, typed: str) -> list[app_commands.Choice[str]]:
        return choices(await core.model_names(typed))

    @bot.tree.command(name="detect", description="Find objects in an image (or segment, pose, classify)")
    @app_commands.describe(
        image="the picture: PNG, JPEG or WebP",
        task="what to look for; empty for the model's own",
        conf="the least confidence to show, 0 to 1",
        classes="only these classes, comma-separated, e.g. person, dog",
        model="which vision model; empty for the default",
    )
    @app_commands.choices(task=choices(TASKS))
    async def detect(
        interaction: discord.Interaction,
        image: discord.Attachment,
        task: str = "",
        conf: app_commands.Range[float, 0.0, 1.0] | None = None,
        classes: str = "",
        model: str = "",
    ) -> None:
        await bot.detect(interaction, image, DetectRequest((), task, conf, classes, model))

    @detect.autocomplete("model")
    async def vision_model_choices(interaction: discord.Interaction, typed: str) -> list[app_commands.Choice[str]]:
        return choices(await core.model_names(typed, kinds=VISION_MODEL_KINDS))

    @bot.tree.command(name="queue", description="Your images waiting or in progress, and the queue's length")
    async def queue(interaction: discord.Interaction) -> None:
        await bot.answer(interaction, lambda: core.queue_text(chat_user(interaction)))

    @bot.tree.command(name="cancel", description="Cancel one of your images (default: the newest)")
    @app_commands.describe(job="the job id (see /queue); empty for your newest")
    async def cancel(interaction: discord.Interaction, job: str = "") -> None:
        await bot.answer(interaction, lambda: core.cancel(chat_user(interaction), job.strip()))

    @bot.tree.command(name="models", description="The models you can use")
    async def models(interaction: discord.Interaction) -> None:
        await bot.answer(interaction, core.models_text)

    @bot.tree.command(name="history", description="Your last images")
    async def history(interaction: discord.Interaction) -> None:
        await bot.answer(interaction, lambda: core.history_text(chat_user(interaction)))
