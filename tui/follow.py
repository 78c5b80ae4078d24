"""Follow a job to its end and report the result: shared by `run`, `jobs watch` and `jobs rerun`.

    JobProgress       what is known about a job, updated event by event (pure)
    ProgressDisplay   draws it on stderr: redrawn in place on a terminal, a few plain lines otherwise
    OutputTarget      where `-o FILE|DIR` puts the images
    follow_and_report watch, display, save, print paths or JSON, and decide the exit status
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from imagine import types as t

from tui import render
from tui.options import UsageError
from tui.session import CommandFailed, Detached, print_json

if TYPE_CHECKING:
    from imagine.client import Client


# -- state ---------------------------------------------------------------------


@dataclass
class JobProgress:
    """A job as its events describe it; `apply` them in order."""

    job_id: str
    job: t.Job | None = None
    state: t.JobState = t.JobState.QUEUED
    position: int = 0
    eta_seconds: float | None = None
    worker: str = ""
    load_ms: float = 0.0
    step: int = 0
    total: int = 0
    sec_per_step: float | None = None
    outputs: dict[int, t.Output] = field(default_factory=dict)
    error: str = ""
    timings: t.Timings | None = None
    finished: bool = False
    last_seq: int = 0
    _rate_from: tuple[float, int] | None = None

    def apply(self, event: t.JobEvent) -> None:
        self.last_seq = max(self.last_seq, event.seq)
        kind = event.kind
        if isinstance(kind, t.Snapshot):
            job = kind.job
            self.job = job
            self.state = job.state
            self.position = job.queue_position
            self.outputs.update({o.index: o for o in job.outputs})
            self.error = job.error
            if job.state.terminal:
                self.timings = job.timings
                self.finished = True
        elif isinstance(kind, t.Queued):
            self.state = t.JobState.QUEUED
            self.position = kind.position
            self.eta_seconds = kind.eta_seconds
        elif isinstance(kind, t.Started):
            self.state = t.JobState.RUNNING
            self.worker = kind.worker
            self.load_ms = kind.load_ms
            self.step = 0
            self.sec_per_step = None
            self._rate_from = None  # measured from the first step: setting up is not a step
        elif isinstance(kind, t.Progress):
            self.state = t.JobState.RUNNING
            if kind.step < self.step or (self._rate_from is None and event.time):
                # first step we see, or a new image / attempt started over
                self._rate_from = (event.time, kind.step) if event.time else None
                self.sec_per_step = None
            self.step, self.total = kind.step, kind.total
            if self._rate_from is not None and event.time and kind.step > self._rate_from[1]:
                since, from_step = self._rate_from
                self.sec_per_step = max(0.0, event.time - since) / (kind.step - from_step)
        elif isinstance(kind, t.Output):
            self.outputs[kind.index] = kind
        elif isinstance(kind, t.Finished):
            self.state = kind.state
            self.error = kind.error
            self.timings = kind.timings
            self.finished = True

    def result(self) -> t.Job:
        """The job as it ended: the snapshot with the final state, error, timings and outputs."""
        base = self.job or t.Job(id=self.job_id, spec=t.JobSpec(t.Txt2Img("")), owner="", state=self.state)
        return dataclasses.replace(
            base,
            state=self.state,
            error=self.error,
            timings=self.timings or base.timings,
            outputs=tuple(self.outputs[i] for i in sorted(self.outputs)),
        )


def job_seed(job: t.Job) -> int | None:
    """The job's base seed: the recorded one, else the first image's."""
    if job.spec.task.seed is not None:
        return job.spec.task.seed
    return min(job.outputs, key=lambda o: o.index).seed if job.outputs else None


# -- display -------------------------------------------------------------------


class ProgressDisplay:
    """Draws a job's progress on a text stream (stderr).

    On a terminal the queue position and the progress bar are one line redrawn
    with `\\r`; otherwise it writes a plain line when the queue position changes,
    one when the job starts and one when all steps are done, never one per step.
    """

    def __init__(self, stream: TextIO, *, tty: bool, quiet: bool = False) -> None:
        self.stream = stream
        self.tty = tty
        self.quiet = quiet
        self._live = False
        self._keep = False
        self._last_queued: str | None = None
        self._done_steps = False
        self._ended = False

    @classmethod
    def for_stderr(cls, *, quiet_unless_tty: bool = False) -> ProgressDisplay:
        tty = sys.stderr.isatty()
        return cls(sys.stderr, tty=tty, quiet=quiet_unless_tty and not tty)

    def note(self, text: str) -> None:
        """A whole line, below any line being redrawn."""
        if self.quiet:
            return
        self.clear()
        self.stream.write(text + "\n")
        self.stream.flush()

    def live(self, text: str, *, keep: bool = False) -> None:
        """Replace the line being redrawn (a plain line when not on a terminal).

        When the next whole line comes, a `keep` line stays on screen (the
        progress bar); any other (queue position, "running") is wiped.
        """
        if self.quiet:
            return
        if not self.tty:
            self.note(text)
            return
        self.stream.write("\r" + text + "\x1b[K")
        self.stream.flush()
        self._live, self._keep = True, keep

    def clear(self) -> None:
        """End the line being redrawn: keep it on screen, or wipe it."""
        if self._live:
            self.stream.write("\n" if self._keep else "\r\x1b[K")
            self.stream.flush()
            self._live = False

    def update(self, event: t.JobEvent, progress: JobProgress) -> None:
        kind = event.kind
        if isinstance(kind, t.Snapshot):
            if progress.state is t.JobState.QUEUED:
                self._queued(progress)
            elif progress.state is t.JobState.RUNNING and self.tty:
                self.live("running")
        elif isinstance(kind, t.Queued):
            self._queued(progress)
        elif isinstance(kind, t.Started):
            self._last_queued = None
            self._done_steps = False
            where = f" on worker {kind.worker}" if kind.worker else ""
            load = f" (model loaded in {render.format_ms(kind.load_ms)})" if kind.load_ms else ""
            again = f", attempt {kind.attempt}" if kind.attempt > 1 else ""
            self.note(f"started{where}{load}{again}")
        elif isinstance(kind, t.Progress):
            bar = render.progress_bar(progress.step, progress.total, sec_per_step=progress.sec_per_step)
            if self.tty:
                self.live(bar, keep=True)
            elif progress.total and progress.step >= progress.total and not self._done_steps:
                self._done_steps = True
                self.note(bar)
        if progress.finished:
            self._end(progress)

    def _queued(self, progress: JobProgress) -> None:
        line = render.queued_line(progress.position, progress.eta_seconds)
        if self.tty:
            self.live(line)
        elif line != self._last_queued:
            self.note(line)
        self._last_queued = line

    def _end(self, progress: JobProgress) -> None:
        if self._ended:
            return
        self._ended = True
        self.clear()
        if progress.state is t.JobState.SUCCEEDED:
            timings = progress.timings
            took = f" in {render.format_ms(timings.total_ms)}" if timings and timings.total_ms else ""
            count = len(progress.outputs)
            images = f", {count} image{'s' if count != 1 else ''}" if count != 1 else ""
            self.note(f"succeeded{took}{images}")


# -- outputs -------------------------------------------------------------------


@dataclass(frozen=True)
class OutputTarget:
    """`-o PATH`: one file, or a folder taking `<output id>.png` files."""

    path: Path
    is_dir: bool

    @classmethod
    def parse(cls, text: str | None, *, count: int | None) -> OutputTarget | None:
        """Check `-o` before submitting; `count` is the number of images when known."""
        if text is None:
            return None
        path = Path(text).expanduser()
        if path.is_dir() or text.endswith((os.sep, "/")):
            return cls(path, is_dir=True)
        if not path.parent.is_dir():
            raise UsageError(f"-o {text}: the folder {path.parent} does not exist")
        if count is not None and count > 1:
            raise UsageError(f"-o {text}: a file holds one image and this job makes {count}; give a folder")
        return cls(path, is_dir=False)

    def destinations(self, outputs: tuple[t.Output, ...]) -> list[Path]:
        if self.is_dir:
            return [self.path / f"{o.id}.png" for o in outputs]
        if len(outputs) > 1:
            raise UsageError(
                f"-o {self.path}: a file holds one image and the job made {len(outputs)}; give a folder"
            )
        return [self.path for _ in outputs]


async def save_outputs(client: Client, job: t.Job, target: OutputTarget) -> list[str]:
    """Download the job's images into `target`; their local paths in output order."""
    destinations = target.destinations(job.outputs)
    if target.is_dir:
        target.path.mkdir(parents=True, exist_ok=True)
    for output, dest in zip(job.outputs, destinations):
        await client.save_output(output.id, dest)
    return [str(dest) for dest in destinations]


# -- the whole thing -----------------------------------------------------------


def summary(job: t.Job, paths: list[str] | None = None) -> dict[str, Any]:
    """The JSON object `run`, `jobs watch` and `jobs rerun --json` print."""
    paths = paths if paths is not None else [o.path for o in job.outputs]
    return {
        "job_id": job.id,
        "state": job.state.value,
        "seed": job_seed(job),
        "outputs": [
            {
                "id": o.id,
                "path": path,
                "seed": o.seed,
                "width": o.width,
                "height": o.height,
                "sha256": o.sha256,
            }
            for o, path in zip(job.outputs, paths)
        ],
        "timings": t.to_jsonable(job.timings),
        "error": job.error,
    }


async def follow(client: Client, job_id: str, display: ProgressDisplay) -> t.Job:
    """Watch `job_id` to its end, drawing progress on `display`; the job as it ended.

    Ctrl-C raises `Detached` (the job keeps running); losing the daemon mid-way
    says how to reattach.
    """
    from imagine.errors import DaemonUnavailable, ImagineError

    progress = JobProgress(job_id)
    try:
        async with contextlib.aclosing(client.watch(job_id)) as events:
            async for event in events:
                progress.apply(event)
                display.update(event, progress)
                if progress.finished:
                    break
    except asyncio.CancelledError:
        display.clear()
        raise Detached(job_id) from None
    except ImagineError as exc:
        display.clear()
        seen_any = progress.job is not None or progress.last_seq > 0
        if seen_any and (isinstance(exc, DaemonUnavailable) or exc.code is DaemonUnavailable.code):
            raise CommandFailed(
                f"lost the daemon while watching job {job_id} ({exc}); "
                f"the job is kept, reattach with `imagine jobs watch {job_id}`"
            ) from exc
        raise
    if progress.finished:
        return progress.result()
    job = await client.get(job_id)
    if not job.state.terminal:
        raise CommandFailed(
            f"the daemon stopped sending events for job {job_id} while it was {job.state.value}; "
            f"reattach with `imagine jobs watch {job_id}`"
        )
    return job


async def follow_and_report(
    client: Client,
    job_id: str,
    args: argparse.Namespace,
    display: ProgressDisplay,
    target: OutputTarget | None,
) -> int:
    """Follow the job; then print its image paths (or the JSON summary) and return the exit status."""
    job = await follow(client, job_id, display)
    paths: list[str] | None = None
    if job.state is t.JobState.SUCCEEDED and target is not None:
        paths = await save_outputs(client, job, target)
    if args.json:
        print_json(summary(job, paths))
    else:
        for path in paths if paths is not None else [o.path for o in job.outputs]:
            print(path, flush=True)
    if job.state is t.JobState.FAILED:
        raise CommandFailed(f"job {job.id} failed: {job.error or 'no reason given'}")
    if job.state is t.JobState.CANCELLED:
        raise CommandFailed(f"job {job.id} was cancelled")
    return 0


async def submit_and_follow(
    client: Client, spec: t.JobSpec, args: argparse.Namespace, target: OutputTarget | None
) -> int:
    """Submit `spec`; with --detach print the job id, else follow it like `imagine jobs watch`."""
    submitted = await client.submit(spec)
    job = submitted.job
    if args.detach:
        if args.json:
            print_json({"job_id": job.id, "state": job.state.value})
        else:
            print(job.id, flush=True)
        return 0
    display = ProgressDisplay.for_stderr(quiet_unless_tty=args.json)
    display.note(f"submitted job {job.id}")
    return await follow_and_report(client, job.id, args, display, target)


def add_follow_options(parser: argparse.ArgumentParser, *, detach: bool) -> None:
    """The options of every command that follows a job: -o, --json and (when submitting) --detach."""
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE|DIR",
        help="download the images: to FILE (one image) or into DIR as <output id>.png",
    )
    if detach:
        parser.add_argument(
            "--detach", action="store_true", help="print the job id and return without waiting"
        )
    parser.add_argument("--json", action="store_true", help="print one JSON object at the end")

