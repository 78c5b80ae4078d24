"""`imagine vary OUTPUT_ID` and `imagine upscale OUTPUT_ID`: new images from an earlier output, followed like `run`."""

from __future__ import annotations

import argparse
import uuid

from imagine import types as t

from tui import options
from tui.commands.run import add_priority, check_detach
from tui.follow import add_follow_options, add_preview_options, preview_target, submit_and_follow
from tui.results import OutputTarget
from tui.session import with_client

VARY_EPILOG = """\
examples:
  imagine vary 3f2a9c1b7d4e-0                 # 4 variations at strength 0.4
  imagine vary 3f2a9c1b7d4e-0 -n 2 --strength 0.25 --seed 7 -o variations/

OUTPUT_ID is an output of an earlier job (`imagine jobs show JOB` lists them).
The variations are image to image of it with its prompt and new seeds; the job
is recorded as that img2img job. Prints one path per image, like `imagine run`.
"""

UPSCALE_EPILOG = """\
examples:
  imagine upscale 3f2a9c1b7d4e-0              # twice the size, denoise 0.35
  imagine upscale 3f2a9c1b7d4e-0 --scale 3 --denoise 0.2 --steps 30 -o big.png

OUTPUT_ID is an output of an earlier job (`imagine jobs show JOB` lists them).
The image is enlarged, then repainted lightly with its own prompt and seed (a
hires pass); the job is recorded as that img2img job.
"""


def _parser(subparsers: argparse._SubParsersAction, name: str, help: str, description: str, epilog: str) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name, help=help, description=description, epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("output_id", metavar="OUTPUT_ID", help="an earlier output, e.g. 3f2a9c1b7d4e-0")
    return parser


def _common(parser: argparse.ArgumentParser, func: object) -> None:
    parser.add_argument("-m", "--model", default="", metavar="NAME", help="model to use (default: the one that made the output)")
    add_priority(parser)
    add_preview_options(parser)
    add_follow_options(parser, detach=True)
    parser.set_defaults(func=func)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = _parser(
        subparsers, "vary", "new images like an earlier output",
        "Variations of an earlier output: image to image of it at a low strength with new seeds.", VARY_EPILOG,
    )
    p.add_argument("-n", "--count", type=options.whole_between(1, 16), metavar="COUNT", help="how many variations, 1..16 (default: 4)")
    p.add_argument("--strength", type=options.fraction, metavar="F", help="how far from the original, 0..1 (default: 0.4)")
    p.add_argument("--seed", type=options.seed, metavar="N", help="seed of the first variation (default: a random one, recorded)")
    _common(p, cmd_vary)
    p = _parser(
        subparsers, "upscale", "a larger version of an earlier output",
        "A larger version of an earlier output: enlarged, then repainted lightly at the new size (a hires pass).",
        UPSCALE_EPILOG,
    )
    p.add_argument("--scale", type=options.number_between(1.0, 4.0, above=True), default=2.0, metavar="F", help="how many times larger, >1..4 (default: 2)")
    p.add_argument("--denoise", type=options.fraction, metavar="F", help="how much the repaint may change, 0..1 (default: 0.35)")
    p.add_argument("--steps", type=options.positive_int, metavar="N", help="steps of the repaint (default: the original job's)")
    _common(p, cmd_upscale)


def vary_spec(args: argparse.Namespace) -> t.JobSpec:
    task = t.Variations(args.output_id, count=args.count or 0, strength=args.strength, seed=args.seed)
    return _spec(task, args)


def upscale_spec(args: argparse.Namespace) -> t.JobSpec:
    return _spec(t.Upscale(args.output_id, scale=args.scale, denoise=args.denoise, steps=args.steps or 0), args)


def _spec(task: t.Variations | t.Upscale, args: argparse.Namespace) -> t.JobSpec:
    return t.JobSpec(
        task=task,
        model=args.model,
        priority=t.Priority(args.priority),
        request_id=str(uuid.uuid4()),
        previews=bool(args.previews or args.preview_file),
    )


def _submit(args: argparse.Namespace, spec: t.JobSpec, count: int) -> int:
    check_detach(args)
    preview_target(args)
    target = OutputTarget.parse(args.output, count=count)
    return with_client(args, lambda client: submit_and_follow(client, spec, args, target))


def cmd_vary(args: argparse.Namespace) -> int:
    return _submit(args, vary_spec(args), args.count or 4)


def cmd_upscale(args: argparse.Namespace) -> int:
    return _submit(args, upscale_spec(args), 1)
