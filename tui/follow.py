"""Follow a job to its end and report the result: shared by `run`, `vary`, `upscale`, `detect`, `bench`, `train`, `jobs watch` and `jobs rerun`.

    follow             watch the events, keep a JobProgress and draw it on a ProgressDisplay
    follow_and_report  then save, print the result (or JSON) and decide the exit status
    submit_and_follow  submit first; with --detach only print the job id
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from imagine import types as t

from tui import render
from tui.display import ProgressDisplay
from tui.preview import PreviewFile
from tui.progress import JobProgress
from tui.results import OutputTarget, result_lines, save_outputs, summary
from tui.session import CommandFailed, Detached, print_json

if TYPE_CHECKING:
    from imagine.client import Client


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
    names: Sequence[str] = (),
) -> int:
    """Follow the job; then print its result (or the JSON summary) and return the exit status.

    `names` name a detect job's input images in its report (file names or output ids).
    """
    job = await follow(client, job_id, display)
    paths: list[str] | None = None
    if job.state is t.JobState.SUCCEEDED and target is not None:
        paths = await save_outputs(client, job, target)
    if args.json:
        data = summary(job, paths)
        if names:
            data["inputs"] = list(names)  # what each detect output was made from, in order
        print_json(data)
    else:
        lines = result_lines(job, paths, width=render.terminal_width(), names=names)
        if lines:
            print("\n".join(lines), flush=True)
    if job.state is t.JobState.FAILED:
        raise CommandFailed(f"job {job.id} failed: {job.error or 'no reason given'}")
    if job.state is t.JobState.CANCELLED:
        raise CommandFailed(f"job {job.id} was cancelled")
    return 0


def display_for(args: argparse.Namespace) -> ProgressDisplay:
    """The progress display the options ask for: quiet with --json off a terminal, previews when asked."""
    preview_file = getattr(args, "preview_target", None)
    previews = bool(getattr(args, "previews", False) or preview_file)
    return ProgressDisplay.for_stderr(quiet_unless_tty=args.json, preview_file=preview_file, previews=previews)


async def submit_and_follow(
    client: Client,
    spec: t.JobSpec,
    args: argparse.Namespace,
    target: OutputTarget | None,
    names: Sequence[str] = (),
) -> int:
    """Submit `spec`; with --detach print the job id, else follow it like `imagine jobs watch`."""
    submitted = await client.submit(spec)
    job = submitted.job
    if getattr(args, "detach", False):
        if args.json:
            print_json({"job_id": job.id, "state": job.state.value})
        else:
            print(job.id, flush=True)
        return 0
    display = display_for(args)
    display.note(f"submitted job {job.id}")
    return await follow_and_report(client, job.id, args, display, target, names)


IMAGES_HELP = "download the images: to FILE (one image) or into DIR as <output id>.png"


def add_follow_options(parser: argparse.ArgumentParser, *, detach: bool, output: str | None = IMAGES_HELP) -> None:
    """The options of every command that follows a job: -o (help `output`; none when None), --json and --detach."""
    if output is None:
        parser.set_defaults(output=None)
    else:
        parser.add_argument(
            "-o", "--output", metavar="FILE|DIR" if output is IMAGES_HELP else "DIR", help=output
        )
    if detach:
        parser.add_argument(
            "--detach", action="store_true", help="print the job id and return without waiting"
        )
    parser.add_argument("--json", action="store_true", help="print one JSON object at the end")


def add_preview_options(parser: argparse.ArgumentParser, *, submitting: bool = True) -> None:
    """--previews and --preview-file: ask the worker for previews (when `submitting`) and show them while the job runs."""
    parser.add_argument(
        "--previews",
        action="store_true",
        help="ask for a small preview every few steps; on a terminal it is drawn above the progress bar"
        if submitting
        else "draw the previews of a job that asked for them above the progress bar (on a terminal)",
    )
    parser.add_argument(
        "--preview-file",
        metavar="PATH",
        help="write the latest preview to PATH (a PNG, replaced at every update)"
        + ("; implies --previews" if submitting else ""),
    )


def preview_target(args: argparse.Namespace) -> PreviewFile | None:
    """Check --preview-file before submitting; kept on `args` for the display."""
    args.preview_target = PreviewFile.parse(getattr(args, "preview_file", None))
    return args.preview_target  # type: ignore[no-any-return]
