"""Generation jobs in the worker: one job, or a batch of compatible jobs as one pipeline call."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from daemon.protocol import FrameWriter
from daemon.worker_outputs import send_output

if TYPE_CHECKING:
    from PIL import Image

    from models.loading import PipelineCache
    from models.params import GenerateParams
    from models.sources import ModelSource


class GenerationRunner:
    def __init__(
        self, out: FrameWriter, cache: PipelineCache, models_dir: Path, is_cancelled: Callable[[str], bool]
    ) -> None:
        self.out = out
        self.cache = cache
        self.models_dir = models_dir
        self.is_cancelled = is_cancelled

    def _progress(self, job_id: str) -> Callable[[int, int], None]:
        def on_step(step: int, total: int) -> None:
            self.out.send({"ev": "progress", "job_id": job_id, "step": step, "total": total})

        return on_step

    def _preview(self, job_id: str) -> Callable[[int, int, bytes], None]:
        def on_preview(step: int, total: int, png: bytes) -> None:
            self.out.send({"ev": "progress", "job_id": job_id, "step": step, "total": total, "preview": png})

        return on_preview

    def run(self, source: ModelSource, jobs: Sequence[dict[str, Any]]) -> None:
        """Run the jobs (one, or a batch with equal batch keys) and send their events.

        Raises what the model raised for a single job; a batch that fails fails every job in it.
        """
        from models.conditioning import conditioned
        from models.diffusion import generate, generate_batch

        params: list[GenerateParams] = [job["params"] for job in jobs]
        # a batch shares its VAE, LoRAs and ControlNets (the batch key), so the first job's apply to all
        with self.cache.use(source) as (base, load_ms), conditioned(base, params[0], self.models_dir) as (pipe, extra):
            for job in jobs:
                self.out.send({"ev": "started", "job_id": job["job_id"], "load_ms": load_ms, "batch_size": len(jobs)})
            started = time.perf_counter()
            first = params[0]
            what = f"{sum(p.count for p in params)} image(s) of {first.width}x{first.height}"
            if len(jobs) == 1:
                job_id = jobs[0]["job_id"]
                results = [
                    self.cache.run_with_retry(
                        source,
                        lambda: generate(
                            pipe,
                            first,
                            on_step=self._progress(job_id),
                            should_cancel=lambda: self.is_cancelled(job_id),
                            on_preview=self._preview(job_id) if first.preview_every else None,
                            extra_kwargs=extra,
                        ),
                        what,
                    )
                ]
            else:
                ids = [job["job_id"] for job in jobs]
                results = self.cache.run_with_retry(
                    source,
                    lambda: generate_batch(
                        pipe,
                        params,
                        on_step=lambda i, step, total: self._progress(ids[i])(step, total),
                        should_cancel=lambda i: self.is_cancelled(ids[i]),
                        on_preview=(lambda i, step, total, png: self._preview(ids[i])(step, total, png))
                        if first.preview_every
                        else None,
                        extra_kwargs=extra,
                    ),
                    what,
                )
            run_ms = (time.perf_counter() - started) * 1000 / len(jobs)
        for job, images in zip(jobs, results):
            if self.is_cancelled(job["job_id"]):
                self.out.send({"ev": "cancelled", "job_id": job["job_id"]})
                continue
            self._save(source, job, images, load_ms, run_ms)

    def _save(self, source: ModelSource, job: dict[str, Any], images: list[Image.Image], load_ms: float, run_ms: float) -> None:
        from models.infotext import encode_png, infotext

        params: GenerateParams = job["params"]
        started = time.perf_counter()
        parameters = infotext(params, source.name)
        for index, image in enumerate(images):
            data = encode_png(image, parameters, job["spec_json"])
            send_output(
                self.out, job, index, data, image.size, seed=params.seed + index, flagged=bool(image.info.get("nsfw"))
            )
        encode_ms = (time.perf_counter() - started) * 1000
        self.out.send({"ev": "done", "job_id": job["job_id"], "load_ms": load_ms, "run_ms": run_ms, "encode_ms": encode_ms})
