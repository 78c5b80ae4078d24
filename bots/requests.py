"""What a person asks for: `/imagine` options, Slack's `/imagine` text, and the buttons under a result.

`ImagineRequest.to_spec` checks the options against the bot's limits (each
error names the option) and builds the job spec; the daemon checks the rest.
Follow-up actions travel inside button ids as `imagine:<kind>:<id>`.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import secrets
import shlex
from collections.abc import Mapping
from dataclasses import dataclass

from imagine import types as t

from bots.config import Defaults
from bots.policy import Refused

SIZE = re.compile(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*")
MAX_SEED = 2**32 - 1


@dataclass(frozen=True)
class ImagineRequest:
    prompt: str
    negative: str = ""
    model: str = ""
    size: str = ""
    steps: int | None = None
    seed: int | None = None
    count: int | None = None

    def to_spec(self, defaults: Defaults, priority: t.Priority, labels: Mapping[str, str]) -> t.JobSpec:
        prompt = self.prompt.strip()
        if not prompt:
            raise Refused("prompt: say what to draw, e.g. `/imagine a lighthouse at dusk`.")
        width, height = parse_size(self.size or defaults.size, defaults.max_side)
        steps = defaults.steps if self.steps is None else self.steps
        if not 0 <= steps <= defaults.max_steps:
            raise Refused(f"steps: choose 1 to {defaults.max_steps}, not {steps}.")
        count = defaults.count if self.count is None else self.count
        if not 1 <= count <= defaults.max_count:
            raise Refused(f"count: choose 1 to {defaults.max_count} images, not {count}.")
        if self.seed is not None and not 0 <= self.seed <= MAX_SEED:
            raise Refused(f"seed: choose a whole number from 0 to {MAX_SEED}, not {self.seed}.")
        task = t.Txt2Img(
            prompt, self.negative.strip(), width, height, steps, seed=self.seed, count=count
        )
        return t.JobSpec(task, model=(self.model or defaults.model).strip(), priority=priority, labels=dict(labels))


def parse_size(text: str, max_side: int) -> tuple[int, int]:
    """`512x768` as (512, 768); empty as (0, 0), the model's own size."""
    if not text.strip():
        return 0, 0
    match = SIZE.fullmatch(text)
    if not match:
        raise Refused(f"size: write it as WIDTHxHEIGHT, e.g. 512x512, not “{text}”.")
    width, height = int(match.group(1)), int(match.group(2))
    for side in (width, height):
        if not 64 <= side <= max_side or side % 8:
            raise Refused(f"size: each side must be a multiple of 8 from 64 to {max_side}, not {text.strip()}.")
    return width, height


_FLAGS = {"--no": "negative", "--model": "model", "--size": "size", "--steps": "steps", "--seed": "seed", "--count": "count"}
_WHOLE = ("steps", "seed", "count")


def parse_command_text(text: str) -> ImagineRequest:
    """Slack's `/imagine a lighthouse --steps 20 --size 512x512 --no blur --count 2 --seed 7 --model tiny-sd`."""
    prompt, options = split_options(text, _FLAGS, whole=_WHOLE)
    return ImagineRequest(" ".join(prompt), **options)  # type: ignore[arg-type]


def split_options(
    text: str, flags: Mapping[str, str], whole: tuple[str, ...] = (), decimal: tuple[str, ...] = ()
) -> tuple[list[str], dict[str, object]]:
    """The words of `text` that are not options, and the options by field name (`flags`: `--flag` -> field);
    the `whole` fields as ints and the `decimal` ones as floats. Flags may stand anywhere; quotes group words."""
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    free: list[str] = []
    options: dict[str, object] = {}
    index = 0
    while index < len(words):
        word = words[index]
        if not word.startswith("--"):
            free.append(word)
            index += 1
            continue
        field = flags.get(word)
        if field is None:
            raise Refused(f"{word} is not an option; the options are {', '.join(flags)}.")
        if index + 1 >= len(words):
            raise Refused(f"{word} needs a value after it.")
        options[field] = _option_value(word, words[index + 1], field in whole, field in decimal)
        index += 2
    return free, options


def _option_value(flag: str, value: str, whole: bool, decimal: bool) -> object:
    if whole:
        if not value.isdigit():
            raise Refused(f"{flag} takes a whole number, not “{value}”.")
        return int(value)
    if decimal:
        try:
            return float(value)
        except ValueError:
            raise Refused(f"{flag} takes a number such as 0.25, not “{value}”.") from None
    return value


class ActionKind(str, enum.Enum):
    REROLL = "reroll"        # the same job spec with a new seed; target: job id
    VARIATIONS = "var"       # variations of one image; target: output id
    UPSCALE = "up"           # a larger version of one image; target: output id
    DELETE = "del"           # the message and the job (requester only); target: job id


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    target: str

    @property
    def custom_id(self) -> str:
        return f"imagine:{self.kind.value}:{self.target}"

    @classmethod
    def parse(cls, custom_id: str) -> Action | None:
        """The action a button id carries; None for ids that are not ours."""
        prefix, _, rest = custom_id.partition(":")
        kind, _, target = rest.partition(":")
        if prefix != "imagine" or not target:
            return None
        try:
            return cls(ActionKind(kind), target)
        except ValueError:
            return None


def reroll_spec(job: t.Job, priority: t.Priority) -> t.JobSpec:
    """The job's spec again with a fresh seed (the daemon recorded the seed it used)."""
    task = dataclasses.replace(job.spec.task, seed=secrets.randbelow(MAX_SEED + 1))
    return dataclasses.replace(job.spec, task=task, priority=priority, request_id="")
