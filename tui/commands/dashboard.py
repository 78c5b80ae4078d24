"""`imagine tui`: the terminal dashboard (Textual is imported only when it runs)."""

from __future__ import annotations

import argparse
import asyncio
import os

EPILOG = """\
examples:
  imagine tui
  imagine --address gpu-box:50051 tui --light

Keys are listed at the bottom of each screen; ? shows them all.
Leaving the dashboard (q) leaves the jobs running on the daemon.
"""


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "tui",
        help="the terminal dashboard: device, queue, submit, history",
        description="A live dashboard of the daemon: device, queue with progress, loaded models, "
        "latest images; submit jobs, search the history, cancel, reprioritise, pause the queue.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--light", action="store_true", help="start with the light theme (t switches)")
    parser.set_defaults(func=cmd_tui)


def cmd_tui(args: argparse.Namespace) -> int:
    # no animations: over a slow SSH link every animation frame is bytes on the wire
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    import textual_image.widget  # noqa: F401 - asks the terminal what it can draw, before Textual takes it over
    from imagine.client import Client

    from tui.dashboard.app import DARK, LIGHT, create_app

    async def main() -> None:
        async with Client(socket=args.socket, address=args.address) as client:
            await create_app(client, theme=LIGHT if args.light else DARK).run_async()

    asyncio.run(main())
    return 0
