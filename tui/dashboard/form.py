"""The submit form's values as a JobSpec, with a sentence for each mistake (pure)."""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from imagine import types as t

from tui import options

DEFAULT = ""  # the Select value for "the model's default"


class FormError(ValueError):
    """A field of the form is wrong; the message names it."""


@dataclass(frozen=True)
class FormValues:
    prompt: str
    negative: str = ""
    model: str = DEFAULT
    size: str = ""
    steps: str = ""
    seed: str = ""
    count: str = ""
    sampler: str = DEFAULT
    priority: str = "normal"
    previews: bool = False


def _whole(name: str, text: str, parse: Callable[[str], int]) -> int | None:
    if not text.strip():
        return None
    try:
        return parse(text.strip())
    except argparse.ArgumentTypeError as exc:
        raise FormError(f"{name}: {exc}") from None


def spec_from_form(values: FormValues) -> t.JobSpec:
    """The job the form describes; empty fields take the model's defaults. Raises FormError."""
    if not values.prompt.strip():
        raise FormError("prompt: say what to draw")
    width = height = 0
    if values.size.strip():
        try:
            width, height = options.parse_size(values.size)
        except argparse.ArgumentTypeError as exc:
            raise FormError(f"size: {exc}") from None
    task = t.Txt2Img(
        prompt=values.prompt.strip(),
        negative_prompt=values.negative.strip(),
        width=width,
        height=height,
        steps=_whole("steps", values.steps, options.positive_int) or 0,
        seed=_whole("seed", values.seed, options.seed),
        count=_whole("count", values.count, options.positive_int) or 0,
        scheduler=values.sampler,
    )
    return t.JobSpec(
        task=task,
        model=values.model,
        priority=t.Priority(values.priority),
        request_id=str(uuid.uuid4()),
        previews=values.previews,
    )
