"""What the daemon sends the worker to run a job: the recorded spec with every name and image resolved."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

from imagine import types as t
from daemon.config import Config
from daemon.inputs import Inputs
from daemon.job_params import generate_params
from daemon.model_refs import engine_model
from daemon.protocol import Message
from daemon.store import JobRecord


def worker_job(record: JobRecord, config: Config, inputs: Inputs) -> Message:
    """Raises ModelUnknown / ModelNotInstalled when a part the job names has gone since it was queued."""
    job = record.job
    spec = job.spec
    message: dict[str, Any] = {
        "job_id": job.id,
        "model": spec.model,
        "model_config": model_config(spec.model, config.model_store),
        # the recipe embedded in each PNG: everything that shapes the pixels, not the request's bookkeeping
        "spec_json": json.dumps(t.to_jsonable(dataclasses.replace(spec, request_id="")), sort_keys=True),
        "output_dir": str(config.outputs_dir / time.strftime("%Y-%m-%d", time.localtime(job.created_at))),
    }
    task = spec.task
    if isinstance(task, (t.Txt2Img, t.Img2Img)):
        params = generate_params(task, models_dir=config.model_store, inputs=inputs, previews=spec.previews)
        return message | {"kind": "generate", "params": params}
    fields = {f.name: getattr(task, f.name) for f in dataclasses.fields(task)}
    if isinstance(task, t.Detect):
        fields["images"] = [str(inputs.path(image.input_id)) for image in task.images]
        message["engine_model"] = engine_model(spec.model, task.engine, config.model_store)
    return message | {"kind": spec.kind, "params": fields, "run_dir": str(config.runs_dir / job.id)}


def model_config(model: str, models_dir: Path) -> str:
    """The config folder (or built-in name) registered with a single-file model the job names, else ""."""
    from daemon.model_registry import registered

    for entry in registered(models_dir).values():
        if model in (entry.name, entry.location):
            return entry.config
    return ""


def batch_key(spec: t.JobSpec) -> tuple[Any, ...] | None:
    """Jobs with equal keys can run as one pipeline call; None for a job that always runs alone.

    The daemon's side of models.params.batch_key: the same fields, read from the recorded spec
    (prompts, seeds, counts and previews may differ within a batch).
    """
    task = spec.task
    if type(task) is not t.Txt2Img:
        return None
    shape = (task.width, task.height, task.steps, task.scheduler, task.guidance, task.hires, task.loras)
    return (spec.model, *shape, task.controlnets, task.vae)
