"""`/detect`: an attached image and its options as a vision job, and what a job found as a few words per image.

`Attachment.check` refuses a file that is not an image, or is too large,
before it is downloaded (its declared type, name and size are enough);
`DetectRequest.to_spec` checks the options, each error naming the option.
The daemon decodes the bytes and refuses a corrupt image itself.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from imagine import types as t

from bots.policy import Refused
from bots.requests import split_options

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp"})  # what the daemon decodes
TASKS = ("detect", "segment", "pose", "classify")
SHOWN_OBJECTS = 8  # classes named in a summary line; the rest are counted
SHOWN_CLASSES = 5  # a classification's top classes
CLASS_SEPARATORS = re.compile(r"\s*,\s*")
MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
COMMAND_WORD = "detect"
_FLAGS = {"--task": "task", "--conf": "conf", "--classes": "classes", "--model": "model"}


@dataclass(frozen=True)
class Attachment:
    """A file attached to a chat message, as the platform describes it before it is downloaded."""

    filename: str
    size: int
    content_type: str = ""  # the platform's MIME type; guessed from the name when empty

    @property
    def mime_type(self) -> str:
        declared = self.content_type.split(";")[0].strip().lower()
        return declared or (mimetypes.guess_type(self.filename)[0] or "")

    def check(self, limit: int = MAX_ATTACHMENT_BYTES) -> None:
        """Refuse what the daemon could not read as an image, or a file over `limit` bytes."""
        if self.mime_type not in IMAGE_TYPES:
            kind = self.mime_type or "a file of unknown type"
            raise Refused(f"image: “{self.filename}” is {kind}, not a picture; attach a PNG, JPEG or WebP image.")
        if self.size > limit:
            raise Refused(
                f"image: “{self.filename}” is {self.size / 2**20:.1f} MiB; attach one of at most {limit / 2**20:g} MiB."
            )


@dataclass(frozen=True)
class DetectRequest:
    images: tuple[bytes, ...]  # the attachments' bytes, one annotated image and summary line each
    task: str = ""       # detect, segment, pose, classify; "" = the model's own
    conf: float | None = None
    classes: str = ""    # "person, dog"
    model: str = ""

    def to_spec(self, priority: t.Priority, labels: Mapping[str, str]) -> t.JobSpec:
        task = self.task.strip().lower()
        if task and task not in TASKS:
            raise Refused(f"task: choose one of {', '.join(TASKS)}, not “{self.task}”.")
        if self.conf is not None and not 0.0 <= self.conf <= 1.0:
            raise Refused(f"conf: choose a confidence from 0 to 1, not {self.conf:g}.")
        classes = tuple(c for c in CLASS_SEPARATORS.split(self.classes.strip()) if c)
        inputs = tuple(t.ImageInput(data=data) for data in self.images)
        detect = t.Detect(inputs, task=task, conf=self.conf, classes=classes)
        return t.JobSpec(detect, model=self.model.strip(), priority=priority, labels=dict(labels))


def parse_mention_text(text: str) -> DetectRequest | None:
    """`@imagine detect --task segment --conf 0.3 --classes "person, dog" --model NAME` as a request with no
    images yet; None when the message does not start with `detect` (it is not meant for this command)."""
    words, options = split_options(MENTION.sub(" ", text), _FLAGS, decimal=("conf",))
    if not words or words[0].lower() != COMMAND_WORD:
        return None
    if len(words) > 1:
        raise Refused(
            f"I only understand `{COMMAND_WORD}` and its options ({', '.join(_FLAGS)}); “{words[1]}” is neither."
        )
    return DetectRequest((), **options)  # type: ignore[arg-type]


def summary(found: t.Detections | None) -> str:
    """`3 objects: person 0.91, dog 0.88, car ×2 (up to 0.40)`, best first; or a classification's top classes."""
    if found is None:
        return "no results"
    if found.top:
        return "top classes: " + ", ".join(f"{c.class_name} {c.score:.2f}" for c in found.top[:SHOWN_CLASSES])
    if not found.objects:
        return "nothing found"
    by_class: dict[str, list[float]] = {}
    for found_object in sorted(found.objects, key=lambda o: o.score, reverse=True):
        by_class.setdefault(found_object.class_name, []).append(found_object.score)
    named = [
        f"{name} {scores[0]:.2f}" if len(scores) == 1 else f"{name} ×{len(scores)} (up to {scores[0]:.2f})"
        for name, scores in list(by_class.items())[:SHOWN_OBJECTS]
    ]
    rest = len(by_class) - SHOWN_OBJECTS
    more = f", and {rest} more {'class' if rest == 1 else 'classes'}" if rest > 0 else ""
    count = len(found.objects)
    return f"{count} {'object' if count == 1 else 'objects'}: {', '.join(named)}{more}"


def summaries(outputs: Sequence[t.Output]) -> str:
    """One line per image; numbered when there are several."""
    if len(outputs) == 1:
        return summary(outputs[0].detections)
    return "\n".join(f"{n}. {summary(o.detections)}" for n, o in enumerate(outputs, 1))
