"""A small typed async client for the imagined daemon.

    async with Client() as client:                      # default socket, or IMAGINED_SOCKET / IMAGINED_ADDRESS
        job = (await client.submit(JobSpec(Txt2Img("a lighthouse")))).job
        async for event in client.watch(job.id):
            ...

Every method raises a subclass of `imagine.errors.ImagineError` carrying the
daemon's sentence; nothing here returns protobuf messages.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from imagine import convert, errors
from imagine import types as t
from imagine.address import daemon_starting, resolve_target
from imagine.v1 import jobs_pb2, jobs_pb2_grpc, models_pb2, models_pb2_grpc, system_pb2, system_pb2_grpc

ON_BEHALF_OF = "x-imagine-on-behalf-of"
LAUNCH_GRACE = 1.5  # seconds to look for a daemon that is being launched right now
STARTUP_WAIT = 120.0  # seconds to wait for a daemon that is starting (first start builds the tiny model)
_R = TypeVar("_R")


@dataclass(frozen=True)
class Submitted:
    job: t.Job
    created: bool


@dataclass(frozen=True)
class JobPage:
    jobs: tuple[t.Job, ...]
    next_page_token: str


@dataclass(frozen=True)
class ModelList:
    models: tuple[t.Model, ...]
    schedulers: tuple[str, ...]


class Client:
    def __init__(
        self,
        target: str | None = None,
        *,
        socket: str | None = None,
        address: str | None = None,
        on_behalf_of: str | None = None,
    ) -> None:
        """`on_behalf_of` names the job owner for trusted front ends (bots) on the local socket."""
        self.target = target or resolve_target(socket, address)
        self._metadata: tuple[tuple[str, str], ...] = (
            ((ON_BEHALF_OF, on_behalf_of),) if on_behalf_of else ()
        )
        self._channel = grpc.aio.insecure_channel(
            self.target, options=[("grpc.max_receive_message_length", 64 * 1024 * 1024)]
        )
        self._jobs = jobs_pb2_grpc.JobsStub(self._channel)
        self._system = system_pb2_grpc.SystemStub(self._channel)
        self._models = models_pb2_grpc.ModelsStub(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._channel)

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._channel.close()

    def as_owner(self, owner: str) -> Client:
        """This client acting for `owner` (see `on_behalf_of`) over the same channel; close the original."""
        other = copy.copy(self)
        other._metadata = ((ON_BEHALF_OF, owner),)
        return other

    async def _call(self, call: Callable[..., Awaitable[_R]], request: object) -> _R:
        try:
            return await call(request, metadata=self._metadata)
        except grpc.aio.AioRpcError as exc:
            if not await self._daemon_was_starting(exc):
                raise errors.from_rpc_error(exc, self.target) from exc
        try:
            return await call(request, metadata=self._metadata)
        except grpc.aio.AioRpcError as exc:
            raise errors.from_rpc_error(exc, self.target) from exc

    async def _daemon_was_starting(self, exc: grpc.aio.AioRpcError) -> bool:
        """A daemon started a moment ago (`imagine serve & imagine run ...`): wait for it once."""
        if exc.code() != grpc.StatusCode.UNAVAILABLE:
            return False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LAUNCH_GRACE  # a daemon launched this instant has not written its pid file yet
        while not daemon_starting(self.target):
            if loop.time() > deadline:
                return False
            await asyncio.sleep(0.05)
        try:
            await self._health.Check(
                health_pb2.HealthCheckRequest(service=""), timeout=STARTUP_WAIT, wait_for_ready=True
            )
        except grpc.aio.AioRpcError:
            return False
        return True

    async def _stream(self, call: Callable[..., object], request: object) -> AsyncIterator[object]:
        for attempt in (1, 2):
            stream = call(request, metadata=self._metadata)
            received = False
            try:
                async for message in stream:  # type: ignore[attr-defined]
                    received = True
                    yield message
                return
            except grpc.aio.AioRpcError as exc:
                if received or attempt == 2 or not await self._daemon_was_starting(exc):
                    raise errors.from_rpc_error(exc, self.target) from exc
            finally:
                stream.cancel()  # type: ignore[attr-defined]

    # -- health ---------------------------------------------------------------

    async def wait_ready(self, timeout: float = 10.0) -> None:
        """Wait until the daemon reports SERVING on its health service (its worker is up)."""
        serving = health_pb2.HealthCheckResponse.SERVING
        try:
            async with asyncio.timeout(timeout):
                stream = self._health.Watch(health_pb2.HealthCheckRequest(service=""), wait_for_ready=True)
                try:
                    async for reply in stream:
                        if reply.status == serving:
                            return
                finally:
                    stream.cancel()
        except grpc.aio.AioRpcError as exc:
            raise errors.from_rpc_error(exc, self.target) from exc
        except TimeoutError:
            raise errors.DaemonUnavailable(
                f"the daemon at {self.target} did not become ready within {timeout:g} s"
            ) from None
        raise errors.DaemonUnavailable(f"the daemon at {self.target} stopped before it was ready")

    # -- jobs -----------------------------------------------------------------

    async def submit(self, spec: t.JobSpec) -> Submitted:
        reply = await self._call(
            self._jobs.Submit, jobs_pb2.SubmitRequest(spec=convert.spec_to_pb(spec))
        )
        return Submitted(convert.job_from_pb(reply.job), reply.created)

    async def watch(self, job_id: str, after_seq: int = 0) -> AsyncIterator[t.JobEvent]:
        """Events until the job ends; with after_seq=0 the first one is a Snapshot."""
        request = jobs_pb2.WatchRequest(job_id=job_id, after_seq=after_seq)
        async for msg in self._stream(self._jobs.Watch, request):
            yield convert.event_from_pb(msg)  # type: ignore[arg-type]

    async def generate(self, spec: t.JobSpec) -> AsyncIterator[t.JobEvent]:
        request = jobs_pb2.SubmitRequest(spec=convert.spec_to_pb(spec))
        async for msg in self._stream(self._jobs.Generate, request):
            yield convert.event_from_pb(msg)  # type: ignore[arg-type]

    async def get(self, job_id: str) -> t.Job:
        return convert.job_from_pb(await self._call(self._jobs.Get, jobs_pb2.GetJobRequest(job_id=job_id)))

    async def list_jobs(
        self,
        *,
        states: Sequence[t.JobState] = (),
        owner: str = "",
        text: str = "",
        page_size: int = 0,
        page_token: str = "",
    ) -> JobPage:
        request = jobs_pb2.ListJobsRequest(
            states=[convert.state_to_pb(s) for s in states],
            owner=owner,
            text=text,
            page_size=page_size,
            page_token=page_token,
        )
        reply = await self._call(self._jobs.List, request)
        return JobPage(tuple(convert.job_from_pb(j) for j in reply.jobs), reply.next_page_token)

    async def cancel(self, job_id: str) -> t.Job:
        reply = await self._call(self._jobs.Cancel, jobs_pb2.CancelJobRequest(job_id=job_id))
        return convert.job_from_pb(reply)

    async def set_priority(self, job_id: str, priority: t.Priority) -> t.Job:
        request = jobs_pb2.UpdateJobRequest(job_id=job_id, priority=convert.priority_to_pb(priority))
        return convert.job_from_pb(await self._call(self._jobs.Update, request))

    async def delete(self, job_id: str) -> None:
        await self._call(self._jobs.Delete, jobs_pb2.DeleteJobRequest(job_id=job_id))

    async def read_output(self, output_id: str) -> bytes:
        parts: list[bytes] = []
        request = jobs_pb2.GetOutputRequest(output_id=output_id)
        async for chunk in self._stream(self._jobs.GetOutput, request):
            parts.append(chunk.data)  # type: ignore[attr-defined]
        return b"".join(parts)

    async def save_output(self, output_id: str, path: Path) -> Path:
        data = await self.read_output(output_id)
        tmp = path.with_name(path.name + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)
        return path

    # -- system ---------------------------------------------------------------

    async def status(self) -> t.Status:
        return convert.status_from_pb(await self._call(self._system.GetStatus, system_pb2.GetStatusRequest()))

    async def watch_status(self, interval_ms: int = 0) -> AsyncIterator[t.Status]:
        request = system_pb2.WatchStatusRequest(interval_ms=interval_ms)
        async for msg in self._stream(self._system.WatchStatus, request):
            yield convert.status_from_pb(msg)  # type: ignore[arg-type]

    async def pause_queue(self) -> t.Status:
        return convert.status_from_pb(await self._call(self._system.PauseQueue, system_pb2.PauseQueueRequest()))

    async def resume_queue(self) -> t.Status:
        return convert.status_from_pb(await self._call(self._system.ResumeQueue, system_pb2.ResumeQueueRequest()))

    # -- models ---------------------------------------------------------------

    async def list_models(self) -> ModelList:
        reply = await self._call(self._models.List, models_pb2.ListModelsRequest())
        return ModelList(tuple(convert.model_from_pb(m) for m in reply.models), tuple(reply.schedulers))

    async def unload_model(self, name: str) -> None:
        await self._call(self._models.Unload, models_pb2.UnloadModelRequest(name=name))

    async def show_model(self, name: str) -> t.Model:
        return convert.model_from_pb(await self._call(self._models.Show, models_pb2.ShowModelRequest(name=name)))

    async def pull_model(self, source: str, name: str = "", sha256: str = "") -> AsyncIterator[t.PullProgress]:
        """Progress of a pull, ending with done=True and the model; leaving early does not stop the pull."""
        request = models_pb2.PullRequest(source=source, name=name, sha256=sha256)
        async for message in self._stream(self._models.Pull, request):
            yield convert.pull_progress_from_pb(message)  # type: ignore[arg-type]

    async def cancel_pull(self, name: str) -> None:
        await self._call(self._models.CancelPull, models_pb2.CancelPullRequest(name=name))

    async def add_model(self, path: str, name: str = "", config: str = "", vae: str = "") -> t.Model:
        request = models_pb2.AddModelRequest(path=path, name=name, config=config, vae=vae)
        return convert.model_from_pb(await self._call(self._models.Add, request))

    async def remove_model(self, name: str, force: bool = False) -> bool:
        """Returns whether files were deleted (an added model's own files never are)."""
        reply = await self._call(self._models.Remove, models_pb2.RemoveModelRequest(name=name, force=force))
        return reply.deleted_files

    async def load_model(self, name: str, keep_alive: float = 0.0) -> float:
        """Load now; keep_alive seconds (0 = the daemon's default, negative = forever). Returns load_ms."""
        reply = await self._call(self._models.Load, models_pb2.LoadModelRequest(name=name, keep_alive=keep_alive))
        return reply.load_ms

    async def list_loaded(self) -> tuple[t.LoadedModel, ...]:
        reply = await self._call(self._models.ListLoaded, models_pb2.ListLoadedRequest())
        return tuple(convert.loaded_from_pb(m) for m in reply.models)

    async def list_samplers(self) -> tuple[t.Sampler, ...]:
        reply = await self._call(self._models.ListSamplers, models_pb2.ListSamplersRequest())
        return tuple(t.Sampler(s.name, s.label) for s in reply.samplers)
