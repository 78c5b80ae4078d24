"""The chat core: what both bots do, with no Discord or Slack in it.

    core = ChatCore(client, config)
    job = await core.start(user, place, ImagineRequest("a lighthouse"))    # Refused / ImagineError
    job = await core.start(user, place, DetectRequest((image_bytes,)))     # /detect, the same way
    result = await core.follow(job.id, show_progress, buckets)              # progress edits, then the result

Each person's jobs are submitted as theirs (`discord:<id>`, `slack:<team>:<id>`)
over one shared channel, so the daemon's per-owner fairness and caps apply.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from imagine import errors
from imagine import types as t
from imagine.client import Client

from bots import images
from bots.buckets import TokenBucket, take_all
from bots.config import BotConfig
from bots.detect import DetectRequest, summaries
from bots.follow import follow_job, when_daemon_answers
from bots.policy import ChatUser, Gate, Place, Refused
from bots.progress import JobView, format_seconds
from bots.requests import Action, ActionKind, ImagineRequest, reroll_spec

MAX_BUTTON_IMAGES = 4  # V1-V4 / U1-U4
ACTIVE = (t.JobState.QUEUED, t.JobState.RUNNING)
# the model kinds that make images on their own, as the daemon's (its contract does not list them);
# add-ons (lora, vae, controlnet) and vision models are not offered to /imagine
IMAGE_MODEL_KINDS = frozenset({"sd15", "sd2", "sdxl", "turbo", "pipeline"})
VISION_MODEL_KINDS = frozenset({"yolo", "onnx"})  # the models `/detect` can name


@dataclass(frozen=True)
class Button:
    label: str
    action: Action


@dataclass(frozen=True)
class Result:
    """A finished job as a message shows it."""

    job: t.Job
    details: str                # under the title line: seeds, size, model, time; or why it failed
    image: bytes | None = None  # the one image, or a grid of them (PNG)
    flagged: bool = False       # a safety checker flagged an image
    buttons: tuple[Button, ...] = ()


class ChatCore:
    def __init__(
        self,
        client: Client,
        config: BotConfig,
        clock: Callable[[], float] = time.monotonic,
        retry_delay: float = 2.0,
        previews: bool = False,
    ) -> None:
        """`retry_delay`: seconds before the first try to reattach when the daemon has gone away;
        `previews`: ask for preview images while an image is made (for a platform that shows them)."""
        self.client = client
        self.config = config
        self.gate = Gate(config, clock)
        self.retry_delay = retry_delay
        self.previews = previews

    def client_for(self, user: ChatUser) -> Client:
        return self.client.as_owner(user.owner)

    # -- starting jobs ---------------------------------------------------------

    async def start(self, user: ChatUser, place: Place, request: ImagineRequest | DetectRequest) -> t.Job:
        """Submit `/imagine` or `/detect`; raises Refused (a limit, a bad option) or an ImagineError from the daemon."""
        return await self.submit(user, self.prepare(user, place, request))

    def prepare(self, user: ChatUser, place: Place, request: ImagineRequest | DetectRequest) -> t.JobSpec:
        """The checks that need no daemon (place, words, rate, options), spending one of the person's turns."""
        if isinstance(request, DetectRequest):
            self.gate.admit(user, place)
        else:
            self.gate.admit(user, place, request.prompt, request.negative)
        priority, labels = self.gate.priority(user, place), self._labels(user, place)
        try:
            if isinstance(request, DetectRequest):
                return request.to_spec(priority, labels)
            return dataclasses.replace(request.to_spec(self.config.defaults, priority, labels), previews=self.previews)
        except Refused:
            self.gate.give_back_turn(user)
            raise

    async def submit(self, user: ChatUser, spec: t.JobSpec) -> t.Job:
        """Check the person's queued cap and submit as them; the turn is given back when nothing started."""
        try:
            self.gate.check_queued(user, len(await self.active_jobs(user)))
            return (await self.client_for(user).submit(spec)).job
        except BaseException:
            self.gate.give_back_turn(user)
            raise

    async def start_action(self, user: ChatUser, place: Place, action: Action) -> t.Job:
        """Submit the job a button asks for (re-roll, variations, upscale), as the person who clicked it."""
        self.gate.check_place(place)
        original: t.Job | None = None
        if action.kind is ActionKind.REROLL:
            original = await self.client.get(action.target)
            self.gate.check_words(original.spec.prompt, getattr(original.spec.task, "negative_prompt", ""))
        self.gate.take_turn(user)
        try:
            spec = self._follow_up_spec(action, self.gate.priority(user, place), original, self._labels(user, place))
        except Refused:
            self.gate.give_back_turn(user)
            raise
        return await self.submit(user, spec)

    def _follow_up_spec(
        self, action: Action, priority: t.Priority, original: t.Job | None, labels: dict[str, str]
    ) -> t.JobSpec:
        task: t.Task
        model = ""
        if original is not None:
            rerolled = reroll_spec(original, priority)
            task, model = rerolled.task, rerolled.model
        elif action.kind is ActionKind.VARIATIONS:
            task = t.Variations(output_id=action.target)
        elif action.kind is ActionKind.UPSCALE:
            task = t.Upscale(output_id=action.target)
        else:
            raise Refused(f"The {action.kind.value} button does not start an image.")
        return t.JobSpec(task, model=model, priority=priority, labels=labels, previews=self.previews)

    def _labels(self, user: ChatUser, place: Place) -> dict[str, str]:
        labels = {"via": user.platform, "channel": place.channel_id}
        return labels | ({"user": user.name} if user.name else {})

    # -- following -------------------------------------------------------------

    async def follow(
        self, job_id: str, on_progress: Callable[[JobView], Awaitable[None]], buckets: Sequence[TokenBucket]
    ) -> Result:
        """Progress through `on_progress` (throttled by `buckets`) until the job ends; then its result.

        It returns once the buckets allow one more edit, which is the result's.
        """
        view = await follow_job(self.client, job_id, on_progress, buckets, retry_delay=self.retry_delay)
        job = await when_daemon_answers(lambda: self.client.get(job_id), self.retry_delay)
        result = await when_daemon_answers(lambda: self.result(job, view), self.retry_delay)
        await take_all(buckets)
        return result

    async def result(self, job: t.Job, view: JobView | None = None) -> Result:
        if job.state is not t.JobState.SUCCEEDED:
            reason = job.error or (view.error if view else "") or "no reason given"
            details = "🚫 Cancelled." if job.state is t.JobState.CANCELLED else f"❌ That image failed: {reason}"
            return Result(job, details)
        data = [await self.client.read_output(o.id) for o in job.outputs]
        image = await asyncio.to_thread(images.grid, data) if data else None
        flagged = any(o.flagged for o in job.outputs)
        return Result(job, result_details(job), image, flagged, self.buttons(job))

    def buttons(self, job: t.Job) -> tuple[Button, ...]:
        if isinstance(job.spec.task, t.Detect):  # nothing to re-roll or vary: the same image finds the same things
            return (Button("🗑️ Delete", Action(ActionKind.DELETE, job.id)),)
        row = [Button("🔄 Re-roll", Action(ActionKind.REROLL, job.id))]
        shown = job.outputs[:MAX_BUTTON_IMAGES]
        row += [Button(f"V{n}", Action(ActionKind.VARIATIONS, o.id)) for n, o in enumerate(shown, 1)]
        row += [Button(f"U{n}", Action(ActionKind.UPSCALE, o.id)) for n, o in enumerate(shown, 1)]
        row.append(Button("🗑️ Delete", Action(ActionKind.DELETE, job.id)))
        return tuple(row)

    # -- the person's jobs -----------------------------------------------------

    async def active_jobs(self, user: ChatUser) -> tuple[t.Job, ...]:
        page = await self.client.list_jobs(states=ACTIVE, owner=user.owner, page_size=100)
        return page.jobs

    async def own_job(self, user: ChatUser, job_id: str) -> t.Job:
        job = await self.client.get(job_id)
        if job.owner != user.owner:
            raise Refused("That is someone else's image; only the person who asked for it can do that.")
        return job

    async def delete(self, user: ChatUser, job_id: str) -> None:
        """Delete the job and its images (requester only); its message is the platform's to remove."""
        job = await self.own_job(user, job_id)
        if not job.state.terminal:
            await self.client.cancel(job_id)
        await self.client.delete(job_id)

    async def cancel(self, user: ChatUser, job_id: str = "") -> str:
        """Cancel the job (default: the person's newest waiting or running one); the reply."""
        if not job_id:
            active = await self.active_jobs(user)
            if not active:
                return "You have no images waiting or in progress."
            job_id = max(active, key=lambda j: j.created_at).id
        job = await self.own_job(user, job_id)
        if job.state.terminal:
            return f"`{job_id}` has already {job.state.value}; nothing to cancel."
        await self.client.cancel(job_id)
        return f"Cancelled `{job_id}` ({describe(job)})."

    async def queue_text(self, user: ChatUser) -> str:
        status = await self.client.status()
        active = sorted(await self.active_jobs(user), key=lambda j: j.created_at)
        head = f"The queue: {status.queue.queued} waiting, {status.queue.running} running."
        if status.queue.paused:
            head += " It is paused for now."
        if not active:
            return head + "\nYou have nothing waiting."
        lines = [head, "Yours:"]
        for job in active:
            where = "running" if job.state is t.JobState.RUNNING else f"#{job.queue_position} in the queue"
            eta = f", about {format_seconds(job.eta_seconds)}" if job.eta_seconds is not None else ""
            lines.append(f"• `{job.id}` {where}{eta}: {describe(job)}")
        return "\n".join(lines)

    async def history_text(self, user: ChatUser, limit: int = 5) -> str:
        page = await self.client.list_jobs(owner=user.owner, page_size=limit)
        if not page.jobs:
            return "You have not made any images yet; try /imagine."
        lines = [f"Your last {len(page.jobs)} jobs:"]
        for job in page.jobs:
            seeds = "" if isinstance(job.spec.task, t.Detect) else ", ".join(str(o.seed) for o in job.outputs)
            seed = f" · seed {seeds}" if seeds else ""
            lines.append(f"• `{job.id}` {job.state.value}{seed}: {describe(job)}")
        return "\n".join(lines)

    async def image_models(self, kinds: frozenset[str] = IMAGE_MODEL_KINDS) -> list[t.Model]:
        """The models a command can name: installed (or built in) and of `kinds` (by default, making images on their own)."""
        listing = await self.client.list_models()
        return [m for m in listing.models if (m.installed or m.source == "builtin") and m.kind in kinds]

    async def model_names(self, typed: str = "", limit: int = 25, kinds: frozenset[str] = IMAGE_MODEL_KINDS) -> list[str]:
        """Models of `kinds` whose name contains `typed`, for a command's suggestions; none when the daemon is down."""
        try:
            models = await self.image_models(kinds)
        except errors.ImagineError:
            return []
        return [m.name for m in models if typed.lower() in m.name.lower()][:limit]

    async def models_text(self) -> str:
        usable = await self.image_models()
        if not usable:
            return "No models are installed yet; the daemon's owner can add some with `imagine models pull`."
        lines = ["Models you can use with `model:`:"]
        for model in usable:
            default = " (default)" if model.is_default else ""
            size = f" · {model.defaults.width}x{model.defaults.height}" if model.defaults else ""
            lines.append(f"• `{model.name}`{default}{size}: {clip(model.description, 80)}")
        return "\n".join(lines)


def clip(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def result_details(job: t.Job) -> str:
    took = f" · {format_seconds(job.timings.total_ms / 1000)}" if job.timings.total_ms else ""
    if isinstance(job.spec.task, t.Detect):
        return f"{summaries(job.outputs)}\n{job.spec.model}{took}"
    seeds = ", ".join(str(o.seed) for o in job.outputs)
    size = f"{job.outputs[0].width}x{job.outputs[0].height}" if job.outputs else ""
    return f"seed {seeds} · {size} · {job.spec.model}{took}"


def describe(job: t.Job) -> str:
    """The job in a few words: its prompt, or what kind of job it is and on which image."""
    if job.spec.prompt:
        return clip(job.spec.prompt)
    if isinstance(job.spec.task, t.Detect):
        return f"{job.spec.task.task or 'detect'} with {job.spec.model}" if job.spec.model else "detect"
    target = getattr(job.spec.task, "output_id", "")
    return f"{job.spec.kind} of `{target}`" if target else job.spec.kind
