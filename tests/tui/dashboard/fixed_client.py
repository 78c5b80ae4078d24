"""A client-like object serving fixed jobs, status and images: deterministic screens for snapshots.

It has the methods of `imagine.client.Client` the dashboard uses. Streams send
their fixed items and then stay open, as the daemon's do while nothing happens.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
from collections.abc import AsyncIterator, Sequence

from PIL import Image

from imagine import errors
from imagine import types as t
from imagine.client import JobPage, ModelList, Submitted

NOW = 1_760_000_000.0  # the fixed "now" of every snapshot
GIB = 1024**3


def _job(n: int, prompt: str, state: t.JobState, **fields: object) -> t.Job:
    spec_fields = {k: fields.pop(k) for k in ("priority", "model") if k in fields}
    task = t.Txt2Img(prompt, width=512, height=512, steps=20, seed=1000 + n, scheduler="euler")
    spec = t.JobSpec(task, model=str(spec_fields.get("model", "sd-1.5")), priority=spec_fields.get("priority", t.Priority.NORMAL))  # type: ignore[arg-type]
    base = t.Job(id=f"{n:02d}c0ffee{n:04d}", spec=spec, owner="alice", state=state, created_at=NOW - 600 + n * 10)
    return dataclasses.replace(base, **fields)  # type: ignore[arg-type]


def _output(job_id: str, index: int = 0) -> t.Output:
    return t.Output(
        id=f"out-{job_id}-{index}", job_id=job_id, index=index, seed=1000 + index, width=512, height=512,
        path=f"/var/lib/imagined/outputs/{job_id}-{index}.png", sha256="0" * 64, size_bytes=412_345,
    )


def sample_jobs() -> tuple[t.Job, ...]:
    running = _job(1, "a lighthouse at dusk, oil painting, dramatic sky", t.JobState.RUNNING, started_at=NOW - 20)
    queued = [
        _job(2, "a red fox in fresh snow, telephoto", t.JobState.QUEUED, queue_position=1, eta_seconds=42.0,
             priority=t.Priority.HIGH),
        dataclasses.replace(
            _job(3, "isometric pixel-art castle on a floating island", t.JobState.QUEUED, queue_position=2,
                 eta_seconds=95.0), owner="bob"),
        _job(4, "macro photo of a dew drop on a leaf", t.JobState.QUEUED, queue_position=3, eta_seconds=150.0,
             priority=t.Priority.LOW),
    ]
    done = []
    for n, prompt in enumerate(("a watercolor harbour at dawn", "a robot reading a book in a library",
                                "a bowl of ramen, studio lighting", "mountains above the clouds"), start=5):
        job = _job(n, prompt, t.JobState.SUCCEEDED, started_at=NOW - 300 + n, finished_at=NOW - 290 + n * 30,
                   timings=t.Timings(total_ms=8400.0))
        done.append(dataclasses.replace(job, outputs=(_output(job.id),)))
    failed = _job(9, "a cat made of smoke", t.JobState.FAILED, error="out of GPU memory; try a smaller size",
                  finished_at=NOW - 100)
    return (running, *queued, *reversed(done), failed, *vision_jobs())


def vision_jobs() -> tuple[t.Job, ...]:
    """A training job waiting in the queue, and a detection and a benchmark from before the image jobs."""
    train = t.Job("10c0ffee0010", t.JobSpec(t.Train("/data/parts", epochs=20), model="yolo11n", priority=t.Priority.LOW),
                  "carol", t.JobState.QUEUED, created_at=NOW - 700, queue_position=4)
    found = t.Detections(0, 512, 512, objects=(t.Detection(0, "person", 0.91, 40, 60, 200, 480),
                                              t.Detection(2, "car", 0.55, 260, 300, 500, 470)),
                         engine="pytorch", inference_ms=14.0)
    detect = t.Job("11c0ffee0011", t.JobSpec(t.Detect((t.ImageInput(input_id="in1"),)), model="tiny-yolo"), "alice",
                   t.JobState.SUCCEEDED, created_at=NOW - 5000, finished_at=NOW - 4990,
                   outputs=(dataclasses.replace(_output("11c0ffee0011"), detections=found),))
    rows = (t.BenchmarkRow("pytorch", "", 1, 21.0, 24.5, 30.1, 47.6, 150 * 1024**2, "process RSS growth", 1.0),
            t.BenchmarkRow("onnxruntime", "CPUExecutionProvider", 1, 9.2, 10.4, 12.9, 108.7, 60 * 1024**2,
                           "process RSS growth", 0.99))
    bench = t.Job("12c0ffee0012", t.JobSpec(t.Benchmark(select=True), model="tiny-yolo"), "alice", t.JobState.SUCCEEDED,
                  created_at=NOW - 6000, finished_at=NOW - 5900,
                  report=t.Report(benchmark=rows, selected_engine="onnxruntime"))
    return (train, detect, bench)


def sample_status(utilisation: float = 63.0) -> t.Status:
    return t.Status(
        version="0.1.0",
        started_at=NOW - 3723,
        devices=(t.Device("NVIDIA GeForce RTX 4090", "cuda", 0, 24 * GIB, int(9.5 * GIB), utilisation, 61.0),),
        queue=t.QueueStats(queued=3, running=1),
        loaded_models=(t.LoadedModel("sd-1.5", "cuda:0", int(2.1 * GIB)), t.LoadedModel("tiny-sd", "cuda:0", 1_250_000)),
        workers=(t.Worker(4242, "busy", "01c0ffee0001"),),
    )


UTILISATION = (12, 35, 60, 88, 97, 91, 75, 64, 70, 63)


def sample_png(seed: int = 0) -> bytes:
    """A small deterministic picture: a two-colour gradient."""
    ramp = Image.linear_gradient("L").resize((64, 64))
    picture = Image.merge("RGB", (ramp, ramp.rotate(90), Image.new("L", (64, 64), 120 + seed)))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


class FixedClient:
    target = "unix:/run/user/1000/imagined/imagined.sock"

    def __init__(self, jobs: Sequence[t.Job] | None = None) -> None:
        self.jobs = {job.id: job for job in (sample_jobs() if jobs is None else jobs)}
        self.submitted: list[t.JobSpec] = []

    async def _forever(self) -> None:
        await asyncio.Event().wait()

    async def watch_status(self, interval_ms: int = 0) -> AsyncIterator[t.Status]:
        for value in UTILISATION:
            yield sample_status(float(value))
        await self._forever()

    async def watch(self, job_id: str, after_seq: int = 0) -> AsyncIterator[t.JobEvent]:
        job = await self.get(job_id)
        yield t.JobEvent(job_id, 1, NOW - 20, t.Snapshot(job))
        if job.state is t.JobState.RUNNING:
            yield t.JobEvent(job_id, 2, NOW - 10, t.Progress(3, 20))
            yield t.JobEvent(job_id, 3, NOW - 4, t.Progress(7, 20))
        await self._forever()

    async def get(self, job_id: str) -> t.Job:
        try:
            return self.jobs[job_id]
        except KeyError:
            raise errors.NotFound(f"no job {job_id}") from None

    async def list_jobs(self, *, states: Sequence[t.JobState] = (), owner: str = "", text: str = "",
                        page_size: int = 0, page_token: str = "") -> JobPage:
        words = text.lower().split()
        found = [j for j in self.jobs.values()
                 if (not states or j.state in states) and all(w in j.spec.prompt.lower() for w in words)]
        if not states or t.JobState.SUCCEEDED in states:
            found.sort(key=lambda j: -j.created_at)
        start = int(page_token or 0)
        end = start + (page_size or 50)
        return JobPage(tuple(found[start:end]), str(end) if end < len(found) else "")

    async def submit(self, spec: t.JobSpec) -> Submitted:
        self.submitted.append(spec)
        job = t.Job(id=f"new{len(self.submitted):09d}", spec=spec, owner="alice", state=t.JobState.QUEUED,
                    created_at=NOW, queue_position=4)
        self.jobs[job.id] = job
        return Submitted(job, True)

    async def cancel(self, job_id: str) -> t.Job:
        job = dataclasses.replace(await self.get(job_id), state=t.JobState.CANCELLED)
        self.jobs[job_id] = job
        return job

    async def set_priority(self, job_id: str, priority: t.Priority) -> t.Job:
        job = await self.get(job_id)
        job = dataclasses.replace(job, spec=dataclasses.replace(job.spec, priority=priority))
        self.jobs[job_id] = job
        return job

    async def delete(self, job_id: str) -> None:
        await self.get(job_id)
        del self.jobs[job_id]

    async def read_output(self, output_id: str) -> bytes:
        return sample_png()

    async def pause_queue(self) -> t.Status:
        return dataclasses.replace(sample_status(), queue=t.QueueStats(3, 1, paused=True))

    async def resume_queue(self) -> t.Status:
        return sample_status()

    async def list_models(self) -> ModelList:
        defaults = t.ModelDefaults(512, 512, 20, 7.5, "euler")
        return ModelList(
            (t.Model("sd-1.5", "diffusion", "hub", "", "Stable Diffusion 1.5", True, True, defaults, True),
             t.Model("tiny-sd", "diffusion", "builtin", "", "tiny test model", True, True, defaults)),
            ("ddim", "euler", "euler_a", "dpmpp_2m"),
        )

    async def unload_model(self, name: str) -> None:
        return None

    async def close(self) -> None:
        return None
