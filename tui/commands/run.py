"""`imagine run PROMPT`: submit a text-to-image job and follow it to the end."""

from __future__ import annotations

import argparse
import uuid

from imagine import types as t

from tui import options
from tui.follow import OutputTarget, add_follow_options, submit_and_follow
from tui.options import UsageError
from tui.session import with_client

EPILOG = """\
examples:
  imagine run "a lighthouse at dusk" --steps 20 --size 512x512 --seed 42
  imagine run "a red fox" --count 4 -o foxes/
  imagine run "a castle" --detach            # prints the job id; see `imagine jobs watch ID`

Prints one line per image on stdout: its path on the daemon's machine, or the
file written with -o. Progress goes to stderr. Exit status: 0 when the job
succeeded, 1 when it failed or was cancelled, 2 for a usage mistake, 130 when
you stop watching with Ctrl-C (the job keeps running).
"""


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "run",
        help="generate images from a prompt",
        description="Submit a text-to-image job to the daemon and follow it until it ends.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("prompt", metavar="PROMPT", help="what to draw")
    parser.add_argument("-m", "--model", default="", metavar="NAME", help="model name or path (default: the daemon's default)")
    parser.add_argument("--negative", default="", metavar="TEXT", help="negative prompt: what to avoid")
    parser.add_argument("--steps", type=options.positive_int, metavar="N", help="denoising steps (default: the model's)")
    parser.add_argument(
        "--size", type=options.parse_size, metavar="WxH", help="image size, multiples of 8, e.g. 512x512"
    )
    parser.add_argument("--seed", type=options.seed, metavar="N", help="random seed (default: a random one, recorded)")
    parser.add_argument("--count", type=options.positive_int, metavar="N", help="number of images; image i uses seed+i")
    parser.add_argument("--guidance", type=options.guidance, metavar="SCALE", help="guidance scale, 0..50 (default: the model's)")
    parser.add_argument("--scheduler", default="", metavar="NAME", help="sampler, e.g. euler; see `imagine models list`")
    parser.add_argument(
        "--priority",
        choices=options.PRIORITIES,
        default="normal",
        metavar="LEVEL",
        help="queue priority: low, normal or high (default: normal)",
    )
    add_follow_options(parser, detach=True)
    parser.set_defaults(func=run)


def spec_from_args(args: argparse.Namespace) -> t.JobSpec:
    """The job `imagine run` submits, with a fresh request id."""
    if not args.prompt.strip():
        raise UsageError("PROMPT is blank; say what to draw")
    width, height = args.size or (0, 0)
    task = t.Txt2Img(
        prompt=args.prompt,
        negative_prompt=args.negative,
        width=width,
        height=height,
        steps=args.steps or 0,
        guidance=args.guidance,
        seed=args.seed,
        count=args.count or 0,
        scheduler=args.scheduler,
    )
    return t.JobSpec(
        task=task, model=args.model, priority=t.Priority(args.priority), request_id=str(uuid.uuid4())
    )


def run(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    if args.detach and args.output:
        raise UsageError("-o waits for the images, --detach does not; use one of them")
    target = OutputTarget.parse(args.output, count=spec.task.count or 1)
    return with_client(args, lambda client: submit_and_follow(client, spec, args, target))
