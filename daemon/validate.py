"""Check a submitted job spec and fill in what it leaves to defaults, before it is stored.

After this the recorded spec names every parameter, the seed included, and every
image by its stored input id, so re-running it gives the same result. Variations
and upscales of an earlier output are recorded as the img2img jobs they become.
Defaults come from the model: a registered model's own (daemon.model_registry),
else the built-in's, else those of its kind.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from imagine import types as t
from daemon.errors import InvalidRequest
from daemon.inputs import Inputs

MAX_LABELS = 32


@dataclass(frozen=True)
class SourceOutput:
    """An earlier output a spec refers to, with the spec of the job that made it."""

    output: t.Output
    spec: t.JobSpec


@dataclass(frozen=True)
class Context:
    default_model: str
    models_dir: Path
    inputs: Inputs
    outputs: Mapping[str, SourceOutput] = dataclasses.field(default_factory=dict)

    def image(self, image: t.ImageInput, field: str, *, mask: bool = False) -> t.ImageInput:
        """The image as an input id, kept on disk; InvalidRequest naming the field when it is unusable."""
        given = [name for name in ("data", "output_id", "input_id") if getattr(image, name)]
        if len(given) != 1:
            raise InvalidRequest(field, f"{field}: give the image as exactly one of data, output_id or input_id")
        if image.data:
            return t.ImageInput(input_id=self.inputs.keep_upload(image.data, field, mask=mask))
        if image.output_id:
            return t.ImageInput(input_id=self.inputs.keep_file(Path(self.source(image.output_id, field).output.path)))
        return t.ImageInput(input_id=self.inputs.check(image.input_id, field))

    def source(self, output_id: str, field: str) -> SourceOutput:
        found = self.outputs.get(output_id)
        if found is None or not Path(found.output.path).is_file():
            raise InvalidRequest(
                field, f"{field}: no output '{output_id}' (or its file is gone); `imagine jobs show JOB` lists outputs"
            )
        return found


def referenced_outputs(spec: t.JobSpec) -> set[str]:
    """Output ids the spec names, which the scheduler looks up before calling fill_and_check."""
    found: set[str] = set()

    def visit(value: object) -> None:
        if isinstance(value, t.ImageInput):
            if value.output_id:
                found.add(value.output_id)
        elif isinstance(value, (t.Variations, t.Upscale)):
            found.add(value.output_id)
        elif isinstance(value, tuple):
            for item in value:
                visit(item)
        if dataclasses.is_dataclass(value) and not isinstance(value, t.ImageInput):
            for f in dataclasses.fields(value):
                visit(getattr(value, f.name))

    visit(spec.task)
    return found


def fill_and_check(spec: t.JobSpec, ctx: Context) -> t.JobSpec:
    """Raises InvalidRequest (naming the field), ModelUnknown or ModelNotInstalled."""
    from daemon import validate_generation, validate_vision

    if spec.kind in ("variations", "upscale"):
        spec = validate_generation.derive(spec, ctx)
    if spec.kind in t.GENERATION_KINDS:
        spec = validate_generation.fill(spec, ctx)
    else:
        spec = validate_vision.fill(spec, ctx)
    if len(spec.labels) > MAX_LABELS:
        raise InvalidRequest("labels", f"labels: at most {MAX_LABELS} labels, got {len(spec.labels)}")
    if spec.timeout_seconds > 7 * 24 * 3600:
        raise InvalidRequest("timeout_seconds", "timeout_seconds: at most one week")
    return spec


def is_builtin(model: str) -> bool:
    from models.catalog import BUILTIN_MODELS

    return model.strip() in BUILTIN_MODELS
