"""Argument types and usage errors shared by the commands.

Each type raises `argparse.ArgumentTypeError` with a sentence; argparse puts
the option's name in front of it, so the user learns which option is wrong.
"""

from __future__ import annotations

import argparse
import re
import sys

PRIORITIES = ("low", "normal", "high")
STATES = ("queued", "running", "succeeded", "failed", "cancelled")

_SIZE = re.compile(r"^\s*(\d+)\s*[x×X]\s*(\d+)\s*$")


class UsageError(Exception):
    """A mistake in the command line found after parsing; exits with status 2."""


def parse_size(text: str) -> tuple[int, int]:
    """`WIDTHxHEIGHT` (or one number for a square) as (width, height), each a positive multiple of 8."""
    match = _SIZE.match(text)
    if match:
        width, height = int(match.group(1)), int(match.group(2))
    elif text.strip().isdigit():
        width = height = int(text.strip())
    else:
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT, e.g. 512x512")
    if width <= 0 or height <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: width and height must be positive")
    if width % 8 or height % 8:
        raise argparse.ArgumentTypeError(f"{text!r}: width and height must be multiples of 8")
    return width, height


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be 1 or more")
    return value


def seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value < 2**64:
        raise argparse.ArgumentTypeError(f"{text!r} must be between 0 and 2^64-1")
    return value


def guidance(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 50:
        raise argparse.ArgumentTypeError(f"{text!r} must be between 0 and 50")
    return value


def missing_command(parser: argparse.ArgumentParser) -> int:
    """A command group given without its command (`imagine jobs`): its help on stderr, usage status."""
    parser.print_help(sys.stderr)
    return 2
