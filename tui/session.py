"""Running a command's coroutine against the daemon, and the failures commands raise.

The `imagine` client (and with it grpc) is imported here lazily, when a
command actually talks to the daemon, so `imagine --help` and usage errors
stay fast.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from imagine.client import Client


class CommandFailed(Exception):
    """The command could not do its job; main prints `imagine: <message>` and exits with `exit_code`."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Detached(Exception):
    """The user pressed Ctrl-C while watching a job; the job keeps running on the daemon."""

    def __init__(self, job_id: str) -> None:
        super().__init__(job_id)
        self.job_id = job_id

    def __str__(self) -> str:
        return (
            f"stopped watching; job {self.job_id} keeps running. "
            f"Watch it with `imagine jobs watch {self.job_id}` "
            f"or cancel it with `imagine jobs cancel {self.job_id}`."
        )


def with_client(args: argparse.Namespace, body: Callable[["Client"], Awaitable[int]]) -> int:
    """Open a client on the address the global options name, run `body` with it, close it."""

    async def main() -> int:
        from imagine.client import Client

        async with Client(socket=args.socket, address=args.address) as client:
            return await body(client)

    return asyncio.run(main())


def print_json(value: Any) -> None:
    """One JSON document on stdout."""
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    sys.stdout.flush()


def say(text: str) -> None:
    """A line for the person on stderr (stdout is kept for results)."""
    print(text, file=sys.stderr, flush=True)
