"""The `imagine` command line: the parser, the plugged-in commands, and how failures are reported.

Subcommands are registered by `register(subparsers)` callables: the built-in
ones in `tui.commands`, the rest (the daemon's `serve`, ...) through the
`imagine.commands` entry-point group. Each sets `func(args) -> int`.

Every failure ends in one sentence on stderr, prefixed `imagine: `, and a
non-zero status: 1 for a failure, 2 for a usage mistake, 130 for Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points
from typing import NoReturn

ENTRY_POINT_GROUP = "imagine.commands"
GLOBAL_WITH_VALUE = ("--socket", "--address")

DESCRIPTION = "Make and inspect images on the imagined daemon (Stable Diffusion, YOLO), and look after its queue and models."

EPILOG = """\
examples:
  imagine serve                                   # start the daemon (in another terminal)
  imagine run "a lighthouse at dusk" --steps 20
  imagine jobs list
  imagine --address gpu-box:50051 status

The daemon is found at --socket / --address, else $IMAGINED_SOCKET / $IMAGINED_ADDRESS,
else the default socket in the per-user runtime directory.
"""


class Parser(argparse.ArgumentParser):
    """argparse with usage errors as one `imagine: ...` sentence (status 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"imagine: {message} (see `{self.prog} --help`)\n")


def _version() -> str:
    from imagine import __version__

    return f"imagine {__version__}"


def build_parser(argv: Sequence[str] | None = None) -> Parser:
    """The whole parser; with `argv`, plugged-in commands not named in it are left unloaded."""
    from tui.commands import BUILTIN

    parser = Parser(
        prog="imagine",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--socket", metavar="PATH", help="the daemon's unix socket")
    where.add_argument("--address", metavar="HOST:PORT", help="the daemon's TCP address")
    parser.add_argument("--version", action="version", version=_version())
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for register in BUILTIN:
        register(subparsers)
    command = command_word(argv) if argv is not None else None
    if command not in subparsers.choices:
        load_plugins(subparsers, only=command)
    return parser


def command_word(argv: Sequence[str]) -> str | None:
    """The subcommand `argv` names, or None when there is none or help comes first."""
    words = iter(argv)
    for word in words:
        if word in GLOBAL_WITH_VALUE:
            next(words, None)
        elif word in ("-h", "--help"):
            return None
        elif not word.startswith("-"):
            return word
    return None


def load_plugins(subparsers: argparse._SubParsersAction, only: str | None = None) -> None:  # type: ignore[type-arg]
    """Add the commands other packages register under the `imagine.commands` entry points.

    With `only`, just the entry point of that name when there is one (so
    `imagine status` does not import the daemon). A plugin that fails to load
    becomes a command that says so, instead of breaking every other command.
    """
    found = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)
    if only is not None and any(ep.name == only for ep in found):
        found = [ep for ep in found if ep.name == only]
    for ep in found:
        if ep.name in subparsers.choices:
            continue
        try:
            ep.load()(subparsers)
        except Exception as exc:  # noqa: BLE001 - any plugin bug
            if ep.name not in subparsers.choices:
                _add_broken(subparsers, ep.name, f"{type(exc).__name__}: {exc}")


def _add_broken(subparsers: argparse._SubParsersAction, name: str, reason: str) -> None:  # type: ignore[type-arg]
    def func(args: argparse.Namespace) -> int:
        print(f"imagine: the `{name}` command could not be loaded ({reason})", file=sys.stderr)
        return 1

    parser = subparsers.add_parser(name, help=f"(could not be loaded: {reason})", add_help=False)
    parser.add_argument("rest", nargs=argparse.REMAINDER)
    parser.set_defaults(func=func)


def main(argv: Sequence[str] | None = None) -> int:
    """Run `imagine` with `argv` (default: the command line); the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else 2
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    return run_command(func, args)


def run_command(func: object, args: argparse.Namespace) -> int:
    from tui.options import UsageError
    from tui.session import CommandFailed, Detached

    try:
        return int(func(args) or 0)  # type: ignore[operator]
    except UsageError as exc:
        return _fail(str(exc), 2)
    except CommandFailed as exc:
        return _fail(str(exc), exc.exit_code)
    except Detached as exc:
        return _fail(str(exc), 130)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:
        # the reader went away (`imagine jobs list | head`): quietly stop
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one sentence, no traceback
        errors = sys.modules.get("imagine.errors")
        if errors is not None and isinstance(exc, errors.ImagineError):
            return _fail(str(exc) or type(exc).__name__, 1)
        if os.environ.get("IMAGINE_DEBUG"):
            raise
        return _fail(
            f"unexpected error: {type(exc).__name__}: {exc} (set IMAGINE_DEBUG=1 for the traceback)", 1
        )


def _fail(message: str, status: int) -> int:
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        pass
    print(f"imagine: {message}", file=sys.stderr, flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
