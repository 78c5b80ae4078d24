"""Check a submitted job spec and fill in what it leaves to defaults, before it is stored.

After this the recorded spec names every parameter, the seed included, so
re-running it gives the same images. Defaults come from the model: a registered model's own
(daemon.model_registry), else the built-in's, else those of its kind (SDXL 1024x1024, turbo
512x512 in a few steps without guidance), else Stable Diffusion 1.5's.
"""

from __future__ import annotations

import dataclasses
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from imagine import types as t
from daemon.errors import InvalidRequest, ModelNotInstalled, ModelUnknown

if TYPE_CHECKING:
    from models.catalog import ModelDefaults

MAX_SEED = 2**32 - 1
MAX_LABELS = 32
MAX_PROMPT_CHARS = 4000


def fill_and_check(spec: t.JobSpec, *, default_model: str, models_dir: Path) -> t.JobSpec:
    """Raises InvalidRequest (naming the field), ModelUnknown or ModelNotInstalled."""
    from models import catalog
    model = spec.model.strip() or default_model
    defaults, model = resolve_for_job(model, models_dir)
    task = spec.task
    if len(task.prompt) > MAX_PROMPT_CHARS:
        raise InvalidRequest("txt2img.prompt", f"txt2img.prompt is {len(task.prompt)} characters; the limit is {MAX_PROMPT_CHARS}")
    if task.seed is not None and not 0 <= task.seed <= MAX_SEED:
        raise InvalidRequest("txt2img.seed", f"txt2img.seed must be between 0 and {MAX_SEED}, got {task.seed}")
    filled = dataclasses.replace(
        task,
        width=task.width or defaults.width,
        height=task.height or defaults.height,
        steps=task.steps or defaults.steps,
        guidance=defaults.guidance if task.guidance is None else task.guidance,
        seed=secrets.randbelow(MAX_SEED + 1) if task.seed is None else task.seed,
        count=task.count or 1,
        scheduler=task.scheduler.strip().lower() or defaults.scheduler,
    )
    try:
        catalog.check_txt2img(catalog.Txt2ImgParams(**dataclasses.asdict(filled)))  # type: ignore[arg-type]
    except catalog.InvalidParameter as exc:
        message = str(exc)
        if not message.startswith(exc.field):
            message = f"{exc.field}: {message}"
        raise InvalidRequest(f"txt2img.{exc.field}", f"txt2img.{message}") from exc
    if len(spec.labels) > MAX_LABELS:
        raise InvalidRequest("labels", f"labels: at most {MAX_LABELS} labels, got {len(spec.labels)}")
    if spec.timeout_seconds > 7 * 24 * 3600:
        raise InvalidRequest("timeout_seconds", "timeout_seconds: at most one week")
    return dataclasses.replace(spec, model=model, task=filled)


def resolve_for_job(model: str, models_dir: Path) -> tuple[ModelDefaults | t.ModelDefaults, str]:
    """The defaults a job naming `model` inherits, and the model as the job records it.

    A registered model keeps its name, except a single-file one, recorded by its path because
    the worker finds only folders by name. Raises InvalidRequest, ModelUnknown or ModelNotInstalled.
    """
    from daemon.model_registry import PIPELINE_KINDS, registered

    entry = registered(models_dir).get(model)
    if entry is None:
        return _model_defaults(model, models_dir), model
    if entry.kind not in PIPELINE_KINDS:
        raise InvalidRequest(
            "model",
            f"model '{model}' is a {entry.kind}, not a pipeline a job can run; name a "
            f"{', '.join(PIPELINE_KINDS[:-1])} model (`imagine models list` shows the kinds)",
        )
    location = Path(entry.location)
    if not location.exists():
        raise ModelNotInstalled(
            f"the files of model '{model}' are gone from {location}; remove it with `imagine models rm {model}` "
            "and pull or add it again"
        )
    return entry.defaults, (str(location) if location.is_file() else model)


def _model_defaults(model: str, models_dir: Path) -> ModelDefaults:
    from models import catalog

    try:
        source = catalog.resolve_model(model, models_dir)
        catalog.check_hub_available(source)
    except catalog.ModelNotInstalled as exc:
        raise ModelNotInstalled(str(exc)) from exc
    except catalog.ModelNotFound as exc:
        raise ModelUnknown(str(exc)) from exc
    return catalog.defaults_for(source)  # an unregistered path or hub id is not probed: SD 1.5 defaults


def is_builtin(model: str) -> bool:
    from models.catalog import BUILTIN_MODELS

    return model.strip() in BUILTIN_MODELS
