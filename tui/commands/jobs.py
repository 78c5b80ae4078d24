"""`imagine jobs list|show|watch|cancel|rerun|rm`: the job history and single jobs."""

from __future__ import annotations

import argparse
import dataclasses
import time
import uuid
from typing import TYPE_CHECKING

from imagine import types as t

from tui import describe, options, render, vision_text
from tui.follow import (
    add_follow_options,
    add_preview_options,
    display_for,
    follow_and_report,
    preview_target,
    submit_and_follow,
)
from tui.progress import job_seed
from tui.results import OutputTarget
from tui.session import CommandFailed, print_json, with_client

if TYPE_CHECKING:
    from imagine.client import Client

EPILOG = """\
examples:
  imagine jobs list --state failed --limit 5
  imagine jobs show 3f2a9c
  imagine jobs watch 3f2a9c
  imagine jobs rerun 3f2a9c --new-seed
"""

MAX_PAGE = 500


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "jobs",
        help="list, inspect, watch, cancel, re-run and delete jobs",
        description="The daemon's jobs: the history and single jobs by id.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    parser.set_defaults(func=lambda args: options.missing_command(parser))

    def add(name: str, help: str, description: str, example: str) -> argparse.ArgumentParser:
        return sub.add_parser(  # type: ignore[no-any-return]
            name,
            help=help,
            description=description,
            epilog=f"example:\n  {example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    p = add(
        "list",
        "the job history, newest first",
        "The job history, newest first, as a table (prompts cut to the terminal width).",
        "imagine jobs list --state queued --state running --search lighthouse",
    )
    p.add_argument(
        "--state",
        action="append",
        choices=options.STATES,
        default=[],
        metavar="STATE",
        help="only jobs in STATE: " + ", ".join(options.STATES) + " (repeat for several)",
    )
    p.add_argument("--limit", type=options.positive_int, default=20, metavar="N", help="at most N jobs (default: 20)")
    p.add_argument("--owner", default="", metavar="NAME", help="only jobs of this owner")
    p.add_argument("--search", default="", metavar="TEXT", help="only jobs whose prompt has all these words")
    p.add_argument("--json", action="store_true", help='print {"jobs": [...]} as JSON')
    p.set_defaults(func=cmd_list)

    p = add("show", "everything about one job", "A job's spec, state, timings, error and outputs.", "imagine jobs show 3f2a9c")
    p.add_argument("job_id", metavar="ID")
    p.add_argument("--json", action="store_true", help="print the job as JSON")
    p.set_defaults(func=cmd_show)

    p = add(
        "watch",
        "follow a job to its end",
        "Follow a job from its current state to its end, then print its image paths "
        "(a finished job prints them at once). Ctrl-C stops watching, not the job.",
        "imagine jobs watch 3f2a9c -o out/",
    )
    p.add_argument("job_id", metavar="ID")
    add_preview_options(p, submitting=False)
    add_follow_options(p, detach=False)
    p.set_defaults(func=cmd_watch)

    p = add(
        "cancel",
        "cancel a queued or running job",
        "Cancel a queued job, or stop a running one after its current step.",
        "imagine jobs cancel 3f2a9c",
    )
    p.add_argument("job_id", metavar="ID")
    p.set_defaults(func=cmd_cancel)

    p = add(
        "rerun",
        "submit a job's recorded spec again",
        "Submit a job's recorded spec again as a new job. The recorded spec has the seed "
        "filled in, so the images come out identical; --new-seed draws a new one.",
        "imagine jobs rerun 3f2a9c --new-seed",
    )
    p.add_argument("job_id", metavar="ID")
    p.add_argument("--new-seed", action="store_true", help="use a new random seed")
    add_follow_options(p, detach=True)
    p.set_defaults(func=cmd_rerun)

    p = add(
        "rm",
        "delete a finished job and its images",
        "Delete a finished job: its record and its image files.",
        "imagine jobs rm 3f2a9c",
    )
    p.add_argument("job_id", metavar="ID")
    p.set_defaults(func=cmd_rm)


# -- list ------------------------------------------------------------------------


def job_row(job: t.Job, now: float) -> list[str]:
    task = job.spec.task
    seed = job_seed(job)
    steps = getattr(task, "steps", 0)
    return [
        job.id,
        job.state.value,
        job.owner or "-",
        job.spec.kind,
        job.spec.model or "-",
        describe.size_text(task),
        str(steps) if steps else "-",
        str(seed) if seed is not None else "-",
        render.format_relative(job.created_at, now),
        describe.task_text(job.spec),
    ]


JOB_HEADERS = ("ID", "STATE", "OWNER", "KIND", "MODEL", "SIZE", "STEPS", "SEED", "CREATED", "PROMPT")


def jobs_table(jobs: tuple[t.Job, ...] | list[t.Job], *, now: float, width: int) -> list[str]:
    """The `imagine jobs list` table; the prompt column is cut to fit `width`."""
    return render.render_table(JOB_HEADERS, [job_row(j, now) for j in jobs], width=width)


async def fetch_jobs(client: Client, args: argparse.Namespace) -> list[t.Job]:
    jobs: list[t.Job] = []
    token = ""
    while len(jobs) < args.limit:
        page = await client.list_jobs(
            states=[t.JobState(s) for s in args.state],
            owner=args.owner,
            text=args.search,
            page_size=min(MAX_PAGE, args.limit - len(jobs)),
            page_token=token,
        )
        jobs.extend(page.jobs)
        token = page.next_page_token
        if not token or not page.jobs:
            break
    return jobs[: args.limit]


def cmd_list(args: argparse.Namespace) -> int:
    async def body(client: Client) -> int:
        jobs = await fetch_jobs(client, args)
        if args.json:
            print_json({"jobs": [t.to_jsonable(j) for j in jobs]})
        elif not jobs:
            print("no jobs" if not (args.state or args.owner or args.search) else "no jobs match")
        else:
            print("\n".join(jobs_table(jobs, now=time.time(), width=render.terminal_width())))
        return 0

    return with_client(args, body)


# -- show ------------------------------------------------------------------------


def job_lines(job: t.Job, *, now: float) -> list[str]:
    """Every field of a job, for `imagine jobs show`."""
    spec, tm = job.spec, job.timings
    state = job.state.value
    if job.state is t.JobState.QUEUED and job.queue_position:
        state += f" (position {job.queue_position})"
    fields = [
        ("id", job.id),
        ("kind", spec.kind),
        ("state", state),
        ("owner", job.owner or "-"),
        ("model", spec.model or "(default)"),
        ("priority", spec.priority.value),
        *describe.recipe_fields(job),
    ]
    if spec.labels:
        fields.append(("labels", ", ".join(f"{k}={v}" for k, v in sorted(spec.labels.items()))))
    if spec.timeout_seconds:
        fields.append(("timeout", render.format_duration(spec.timeout_seconds)))
    fields += [
        ("request id", spec.request_id or "-"),
        ("attempts", str(job.attempts)),
        ("created", render.format_timestamp(job.created_at, now)),
        ("started", render.format_timestamp(job.started_at, now)),
        ("finished", render.format_timestamp(job.finished_at, now)),
    ]
    if tm.total_ms:
        fields.append(
            (
                "timings",
                f"queue {render.format_ms(tm.queue_ms)}, load {render.format_ms(tm.load_ms)}, "
                f"run {render.format_ms(tm.run_ms)}, encode {render.format_ms(tm.encode_ms)}, "
                f"total {render.format_ms(tm.total_ms)}",
            )
        )
    if job.error:
        fields.append(("error", job.error))
    lines = render.render_fields(fields)
    if job.report is not None:
        report = report_text(job)
        lines += ["report", *("  " + line for line in report)] if report else []
    if job.outputs:
        lines.append(f"outputs ({len(job.outputs)})")
        for o in job.outputs:
            lines.append(f"  #{o.index}  {o.path}")
            lines.append(
                f"      id {o.id}  seed {o.seed}  {o.width}x{o.height}  "
                f"{render.format_bytes(o.size_bytes)}  sha256 {o.sha256}"
            )
    return lines


def report_text(job: t.Job) -> list[str]:
    assert job.report is not None
    if job.report.benchmark:
        return vision_text.benchmark_lines(job.report, width=render.terminal_width() - 2)
    return vision_text.report_lines(job.report)


def cmd_show(args: argparse.Namespace) -> int:
    async def body(client: Client) -> int:
        job = await client.get(args.job_id)
        if args.json:
            print_json(t.to_jsonable(job))
        else:
            print("\n".join(job_lines(job, now=time.time())))
        return 0

    return with_client(args, body)


# -- watch, rerun --------------------------------------------------------------------


def cmd_watch(args: argparse.Namespace) -> int:
    target = OutputTarget.parse(args.output, count=None)
    preview_target(args)

    async def body(client: Client) -> int:
        return await follow_and_report(client, args.job_id, args, display_for(args), target)

    return with_client(args, body)


def rerun_spec(job: t.Job, *, new_seed: bool) -> t.JobSpec:
    """The job's recorded spec with a fresh request id; the same seed unless `new_seed` (jobs without seeds as they were)."""
    task = job.spec.task
    if hasattr(task, "seed"):
        task = dataclasses.replace(task, seed=None if new_seed else job_seed(job))  # type: ignore[arg-type]
    return dataclasses.replace(job.spec, task=task, request_id=str(uuid.uuid4()))


def cmd_rerun(args: argparse.Namespace) -> int:
    if args.detach and args.output:
        raise options.UsageError("-o waits for the images, --detach does not; use one of them")

    async def body(client: Client) -> int:
        spec = rerun_spec(await client.get(args.job_id), new_seed=args.new_seed)
        target = OutputTarget.parse(args.output, count=getattr(spec.task, "count", 0) or None)
        return await submit_and_follow(client, spec, args, target)

    return with_client(args, body)


# -- cancel, rm --------------------------------------------------------------------


def cmd_cancel(args: argparse.Namespace) -> int:
    async def body(client: Client) -> int:
        job = await client.cancel(args.job_id)
        if job.state is t.JobState.CANCELLED:
            print(f"cancelled job {job.id}")
        elif job.state is t.JobState.RUNNING:
            print(f"cancelling job {job.id}: it stops after the current step")
        elif job.state.terminal:
            raise CommandFailed(f"job {job.id} already {job.state.value}; there is nothing to cancel")
        else:
            print(f"asked the daemon to cancel job {job.id} (now {job.state.value})")
        return 0

    return with_client(args, body)


def cmd_rm(args: argparse.Namespace) -> int:
    async def body(client: Client) -> int:
        await client.delete(args.job_id)
        print(f"deleted job {args.job_id}")
        return 0

    return with_client(args, body)
