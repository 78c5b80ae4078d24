"""`imagine samplers`: the sampler names a generation job may use, with the names other UIs give them."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from imagine import types as t

from tui import render
from tui.session import print_json, with_client

if TYPE_CHECKING:
    from imagine.client import Client


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "samplers",
        help="the samplers --scheduler accepts, with AUTOMATIC1111's names for them",
        description="The sampler names `imagine run --scheduler` accepts, each with the label "
        "AUTOMATIC1111's web UI gives it.",
        epilog='examples:\n  imagine samplers\n  imagine samplers --json\n  imagine run "a fox" --scheduler dpmpp_2m_karras',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--json", action="store_true", help='print {"samplers": [{"name": ..., "label": ...}]}')
    p.set_defaults(func=cmd_samplers)


def samplers_lines(samplers: tuple[t.Sampler, ...], *, width: int) -> list[str]:
    if not samplers:
        return ["no samplers"]
    return render.render_table(("NAME", "LABEL"), [[s.name, s.label or "-"] for s in samplers], width=width)


def cmd_samplers(args: argparse.Namespace) -> int:
    async def body(client: Client) -> int:
        samplers = await client.list_samplers()
        if args.json:
            print_json({"samplers": [t.to_jsonable(s) for s in samplers]})
        else:
            print("\n".join(samplers_lines(samplers, width=render.terminal_width())))
        return 0

    return with_client(args, body)
