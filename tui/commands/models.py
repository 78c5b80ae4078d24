"""`imagine models list`: the models the daemon can run, and the scheduler names."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from imagine import types as t

from tui import options, render
from tui.session import print_json, with_client

if TYPE_CHECKING:
    from imagine.client import Client, ModelList


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "models",
        help="the models the daemon can run; unload one",
        description="The models the daemon knows, and freeing a loaded one.",
        epilog="examples:\n  imagine models list\n  imagine models unload tiny-sd",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(func=lambda args: options.missing_command(parser))
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    p = sub.add_parser(
        "list",
        help="name, kind, source, installed, loaded, default and description of each model",
        description="Each model with its kind, source, whether it is installed and loaded, and what "
        "it is for; * marks the default model. Ends with the scheduler names --scheduler accepts.",
        epilog="examples:\n  imagine models list\n  imagine models list --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--json", action="store_true", help='print {"models": [...], "schedulers": [...]}')
    p.set_defaults(func=cmd_list)
    p = sub.add_parser(
        "unload",
        help="free the memory a loaded model holds",
        description="Drop a loaded model from the worker's memory; the next job that needs it loads it again.",
        epilog="example:\n  imagine models unload tiny-sd",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("name", metavar="NAME", help="a model listed under loaded models in `imagine status`")
    p.set_defaults(func=cmd_unload)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def models_lines(listing: ModelList, *, width: int) -> list[str]:
    """The table (descriptions wrapped, never cut) and the scheduler names."""
    rows = [
        [
            "*" if m.is_default else "",
            m.name,
            m.kind or "-",
            m.source or "-",
            _yes(m.installed),
            _yes(m.loaded),
            m.description or "-",
        ]
        for m in listing.models
    ]
    lines = (
        render.render_table(
            ("", "NAME", "KIND", "SOURCE", "INSTALLED", "LOADED", "DESCRIPTION"),
            rows,
            width=width,
            overflow="wrap",
            gap=2,
        )
        if rows
        else ["no models"]
    )
    if any(m.is_default for m in listing.models):
        lines.append("* the default model, used when a job names none")
    if listing.schedulers:
        lines.append("")
        lines.append("schedulers: " + ", ".join(listing.schedulers))
    return lines


def cmd_list(args: argparse.Namespace) -> int:
    async def body(client: Client) -> int:
        listing = await client.list_models()
        if args.json:
            print_json(
                {"models": [t.to_jsonable(m) for m in listing.models], "schedulers": list(listing.schedulers)}
            )
        else:
            print("\n".join(models_lines(listing, width=render.terminal_width())))
        return 0

    return with_client(args, body)


def cmd_unload(args: argparse.Namespace) -> int:
    async def body(client: Client) -> int:
        await client.unload_model(args.name)
        print(f"unloaded {args.name}")
        return 0

    return with_client(args, body)
