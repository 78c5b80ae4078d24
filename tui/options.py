"""Argument types and usage errors shared by the commands.

Each type raises `argparse.ArgumentTypeError` with a sentence; argparse puts
the option's name in front of it, so the user learns which option is wrong.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from imagine import types as t

_T = TypeVar("_T")

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


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value != value:  # NaN
        raise argparse.ArgumentTypeError(f"{text!r} is not a number")
    return value


def number_between(low: float, high: float, *, above: bool = False) -> Callable[[str], float]:
    """A parser of numbers from `low` (excluded when `above`) to `high`."""

    rule = f"more than {low:g} and at most {high:g}" if above else f"between {low:g} and {high:g}"

    def parse(text: str) -> float:
        value = _number(text)
        if not ((low < value) if above else (low <= value)) or value > high:
            raise argparse.ArgumentTypeError(f"{text!r} must be {rule}")
        return value

    return parse


fraction = number_between(0.0, 1.0)


def whole_between(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text!r} must be between {low} and {high}")
        return value

    return parse


LORA_WEIGHT = number_between(-4.0, 4.0)
CONTROL_SCALE = number_between(0.0, 2.0)


def lora(text: str) -> t.Lora:
    """`NAME` or `NAME:WEIGHT` (weight -4..4, default 1)."""
    name, sep, weight = text.rpartition(":") if ":" in text else (text, "", "")
    if not name.strip():
        raise argparse.ArgumentTypeError(f"{text!r}: give a LoRA name, as NAME or NAME:WEIGHT, e.g. detail:0.8")
    if not sep:
        return t.Lora(name.strip())
    try:
        return t.Lora(name.strip(), LORA_WEIGHT(weight))
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: the weight after ':' must be a number between -4 and 4; use NAME or NAME:WEIGHT, e.g. detail:0.8"
        ) from None


@dataclass(frozen=True)
class ControlArg:
    """`--controlnet MODEL=IMAGE[:SCALE]` as given; the image is read when the job is built."""

    model: str
    image: str
    scale: float | None = None


def controlnet(text: str) -> ControlArg:
    model, sep, rest = text.partition("=")
    if not sep or not model.strip() or not rest.strip():
        raise argparse.ArgumentTypeError(
            f"{text!r} is not MODEL=IMAGE[:SCALE], e.g. tiny-controlnet=edges.png:0.8"
        )
    image, colon, scale = rest.rpartition(":")
    if not colon:
        return ControlArg(model.strip(), rest)
    try:
        return ControlArg(model.strip(), image, CONTROL_SCALE(scale))
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: the scale after ':' must be a number between 0 and 2, as in MODEL=IMAGE:0.8"
        ) from None


def comma_list(item: Callable[[str], _T]) -> Callable[[str], tuple[_T, ...]]:
    """A parser of `a,b,c`, each item parsed by `item`."""

    def parse(text: str) -> tuple[_T, ...]:
        words = [w.strip() for w in text.split(",") if w.strip()]
        if not words:
            raise argparse.ArgumentTypeError(f"{text!r} is empty; give a comma-separated list, e.g. 1,4")
        return tuple(item(w) for w in words)

    return parse


def imgsz(text: str) -> int:
    value = positive_int(text)
    if value % 32:
        raise argparse.ArgumentTypeError(f"{text!r} must be a multiple of 32, e.g. 640")
    return value
