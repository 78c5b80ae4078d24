"""The daemon's parts wired together: store, scheduler, executor; and what they report."""

from __future__ import annotations

import asyncio
import importlib
import time

import imagine
from imagine import types as t
from daemon.config import Config
from daemon.errors import ModelUnknown
from daemon.executor import Executor
from daemon.scheduler import Scheduler
from daemon.store import AsyncStore


class Runtime:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.started_at = time.time()
        self.store = AsyncStore(config.db_path)
        self.scheduler = Scheduler(config, self.store)
        self.executor: Executor | None = None

    async def open(self) -> int:
        """Open the store, recover the queue and start the worker. Returns the jobs recovered."""
        await self.store.open()
        recovered = await self.scheduler.recover()
        self.executor = Executor(self.config, self.scheduler)
        self.executor.start()
        # load the model catalog (torch, diffusers) off the event loop while the server comes up
        self._preload = asyncio.create_task(asyncio.to_thread(importlib.import_module, "models.catalog"))
        return recovered

    async def close(self) -> None:
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
            workers = (t.Worker(pid, ex.state, ex.current or "", ex.restarts),)
        return t.Status(
            version=imagine.__version__,
            started_at=self.started_at,
            devices=devices,
            queue=t.QueueStats(len(self.scheduler.queue), len(self.scheduler.running), self.scheduler.paused),
            loaded_models=tuple(
                t.LoadedModel(m["name"], m["device"], m["memory_bytes"]) for m in worker_status.get("loaded", ())
            ),
            workers=workers,
        )

    async def unload(self, name: str) -> None:
        worker_status = await self.executor.status() if self.executor else {}
        if name not in {m["name"] for m in worker_status.get("loaded", ())}:
            raise ModelUnknown(f"model '{name}' is not loaded; `imagine status` lists the loaded models")
        assert self.executor is not None
        await self.executor.unload(name)

    async def models(self) -> tuple[list[t.Model], list[str]]:
        worker_status = await self.executor.status() if self.executor else {}
        loaded = {m["name"] for m in worker_status.get("loaded", ())}
        catalog = await asyncio.to_thread(importlib.import_module, "models.catalog")
        models = []
        for builtin in catalog.BUILTIN_MODELS.values():
            d = builtin.defaults
            models.append(
                t.Model(
                    name=builtin.name,
                    kind=builtin.kind,
                    source="builtin",
                    location=str(self.config.model_store / builtin.name),
                    description=builtin.description,
                    installed=(self.config.model_store / builtin.name / "model_index.json").is_file(),
                    loaded=builtin.name in loaded,
                    defaults=t.ModelDefaults(d.width, d.height, d.steps, d.guidance, d.scheduler),
                    is_default=builtin.name == self.config.default_model,
                )
            )
        return models, catalog.sampler_names()
