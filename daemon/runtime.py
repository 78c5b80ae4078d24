"""The daemon's parts wired together: store, scheduler, executor, model registry and pulls; and what they report."""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import inspect
import time
from pathlib import Path
from typing import Any

import imagine
from imagine import types as t
from daemon.config import Config
from daemon.errors import ModelUnknown
from daemon.executor import Executor
from daemon.model_errors import NotSupported
from daemon.model_registry import Registry, model_from_row
from daemon.pulls import Pulls
from daemon.scheduler import Scheduler
from daemon.store import AsyncStore


DEFAULT_KEEP_ALIVE = 300.0  # seconds; used only if Executor.load has no default of its own


class Runtime:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.started_at = time.time()
        self.store = AsyncStore(config.db_path)
        self.scheduler = Scheduler(config, self.store)
        self.executor: Executor | None = None
        self.registry = Registry(self.store, config.model_store)
        self.pulls = Pulls(self.registry)

    async def open(self) -> int:
        """Open the store, recover the queue and start the worker. Returns the jobs recovered."""
        await self.store.open()
        await self.registry.refresh()
        recovered = await self.scheduler.recover()
        self.executor = Executor(self.config, self.scheduler)
        self.executor.on_report = self._on_report
        self.executor.start()
        # load the model catalog (torch, diffusers) off the event loop while the server comes up
        self._preload = asyncio.create_task(asyncio.to_thread(importlib.import_module, "models.catalog"))
        return recovered

    async def _on_report(self, job: t.Job, report: t.Report, data: dict[str, Any]) -> t.Report:
        """Register what a job made (an export, trained weights) and apply a benchmark's engine choice."""
        made = data.get("register")
        if made is not None:
            await self.registry.register({**made, "source": "local", "origin": f"job {job.id}"})
        chosen = data.get("select")
        if chosen is not None and not await self.registry.set_engine(
            job.spec.model, chosen["engine"], chosen.get("engine_model", "")
        ):
            note = f"; {job.spec.model} is built in, so its default engine stays (register a copy to keep a choice)"
            report = dataclasses.replace(report, summary=report.summary + note)
        return report

    async def close(self) -> None:
        await self.pulls.close()
        if self.executor is not None:
            await self.executor.close()
        await self.store.close()

    async def status(self) -> t.Status:
        worker_status = await self.executor.status() if self.executor else {}
        device = worker_status.get("device")
        devices = (t.Device(**device),) if device else ()
        workers: tuple[t.Worker, ...] = ()
        if self.executor is not None:
            ex = self.executor
            pid = ex.worker.pid if ex.worker is not None and ex.state in ("idle", "busy") else 0
            workers = (t.Worker(pid, ex.state, ",".join(ex.current), ex.restarts),)
        return t.Status(
            version=imagine.__version__,
            started_at=self.started_at,
            devices=devices,
            queue=t.QueueStats(len(self.scheduler.queue), len(self.scheduler.running), self.scheduler.paused),
            loaded_models=tuple(loaded_model(m) for m in worker_status.get("loaded", ())),
            workers=workers,
        )

    async def unload(self, name: str) -> None:
        worker_status = await self.executor.status() if self.executor else {}
        if name not in {m["name"] for m in worker_status.get("loaded", ())}:
            raise ModelUnknown(f"model '{name}' is not loaded; `imagine status` lists the loaded models")
        assert self.executor is not None
        await self.executor.unload(name)

    async def loaded(self) -> tuple[t.LoadedModel, ...]:
        worker_status = await self.executor.status() if self.executor else {}
        return tuple(loaded_model(m) for m in worker_status.get("loaded", ()))

    async def load(self, name: str, keep_alive: float) -> float:
        """Load a model into the worker now; keep_alive seconds, 0 = the default, negative = forever."""
        assert self.executor is not None
        name = await self._check_model(name)
        load = getattr(self.executor, "load", None)
        if load is None:
            raise NotSupported("this daemon's worker cannot load a model ahead of a job yet; run a job with it instead")
        if keep_alive == 0:  # the cache's own keep-alive: leave the argument out where it may be
            parameter = inspect.signature(load).parameters.get("keep_alive")
            if parameter is None or parameter.default is not inspect.Parameter.empty:
                return float(await load(name))
            return float(await load(name, DEFAULT_KEEP_ALIVE))
        # the cache's convention: None = forever
        return float(await load(name, None if keep_alive <= 0 else float(keep_alive)))

    async def _check_model(self, name: str) -> str:
        """The model as a job would name it; NOT_FOUND / FAILED_PRECONDITION before the worker is bothered."""
        from daemon.model_refs import resolve_pipeline
        from models.builtin import PIPELINE_KINDS

        return (await asyncio.to_thread(resolve_pipeline, name, self.config.model_store, PIPELINE_KINDS))[1]

    async def models(self, *, show: str | None = None) -> tuple[list[t.Model], list[str]]:
        """Built-ins first, then registered models by name; with show, only that model, files included."""
        loaded = {m.name for m in await self.loaded()}
        catalog = await asyncio.to_thread(importlib.import_module, "models.catalog")
        rows = await self.registry.rows()
        last_used = await self.store.run(lambda s: s.last_used())
        models = []
        for builtin in catalog.BUILTIN_MODELS.values():
            if show is not None and builtin.name != show:
                continue
            d = builtin.defaults
            folder = self.config.model_store / builtin.name
            installed = builtin.is_complete(folder)
            models.append(
                t.Model(
                    name=builtin.name,
                    kind=builtin.kind,
                    source="builtin",
                    location=str(folder),
                    description=builtin.description,
                    installed=installed,
                    loaded=builtin.name in loaded,
                    defaults=t.ModelDefaults(d.width, d.height, d.steps, d.guidance, d.scheduler),
                    is_default=builtin.name == self.config.default_model,
                    origin="built on this machine from configs and seeded random weights",
                    size_bytes=await asyncio.to_thread(_size_of, folder) if installed else 0,
                    last_used_at=last_used.get(builtin.name, 0.0),
                    files=await asyncio.to_thread(_files_of, folder) if installed and show else (),
                )
            )
        vision = await asyncio.to_thread(importlib.import_module, "models.vision.registry")
        for seer in vision.BUILTIN_VISION_MODELS.values():
            if show is not None and seer.name != show:
                continue
            folder = self.config.model_store / seer.name
            installed = (folder / vision.INFO_FILE).is_file()
            models.append(
                t.Model(
                    name=seer.name,
                    kind="yolo",
                    source="builtin",
                    location=str(folder),
                    description=f"{seer.description} Task: {seer.task}.",
                    installed=installed,
                    loaded=seer.name in loaded,
                    origin="built on this machine from ultralytics' bundled config and seeded random weights",
                    size_bytes=await asyncio.to_thread(_size_of, folder) if installed else 0,
                    last_used_at=last_used.get(seer.name, 0.0),
                    files=await asyncio.to_thread(_files_of, folder) if installed and show else (),
                )
            )
        for row in rows:
            if show is not None and row["name"] != show:
                continue
            models.append(
                model_from_row(
                    row,
                    loaded=row["name"] in loaded or row["location"] in loaded,
                    is_default=row["name"] == self.config.default_model,
                    detail=show is not None,
                )
            )
        if show is not None and not models:
            raise ModelUnknown(f"no model named '{show}'; `imagine models list` shows the models there are")
        return models, catalog.sampler_names()


def loaded_model(m: dict) -> t.LoadedModel:  # type: ignore[type-arg]
    """A worker status entry as a LoadedModel; keys it lacks are unknown (zero)."""
    keep = m.get("keep_alive_until", 0.0)
    if keep is None:  # the cache's None: forever, or held by a running job
        keep_until = 0.0 if m.get("in_use") else -1.0
    elif keep == float("inf") or keep < 0:
        keep_until = -1.0
    else:
        keep_until = float(keep)
    return t.LoadedModel(
        name=str(m.get("name", "")),
        device=str(m.get("device", "")),
        memory_bytes=int(m.get("memory_bytes") or 0),
        tier=str(m.get("tier") or ""),
        in_use=bool(m.get("in_use", False)),
        last_used_at=float(m.get("last_used") or 0.0),
        keep_alive_until=keep_until,
    )


def _files_of(folder: Path) -> tuple[str, ...]:
    return tuple(sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()))


def _size_of(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
