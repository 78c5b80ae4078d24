"""The gRPC services (imagine.v1 Jobs, System, Models, plus health and reflection)."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from imagine import convert
from imagine import types as t
from imagine.v1 import jobs_pb2, jobs_pb2_grpc, models_pb2, models_pb2_grpc, system_pb2, system_pb2_grpc
from daemon.errors import InvalidRequest, ModelUnknown, OutputNotFound
from daemon.grpc_errors import stream, unary
from daemon.identity import owner_of
from daemon.runtime import Runtime

CHUNK = 256 * 1024
MAX_PAGE = 500


def _page_token(job: t.Job) -> str:
    return base64.urlsafe_b64encode(f"{job.created_at!r}|{job.id}".encode()).decode()


def _parse_page_token(token: str) -> tuple[float, str] | None:
    if not token:
        return None
    try:
        created, job_id = base64.urlsafe_b64decode(token.encode()).decode().split("|", 1)
        return float(created), job_id
    except ValueError:
        raise InvalidRequest("page_token", "page_token is not one this daemon gave out; start again without it") from None


def _spec(request: jobs_pb2.SubmitRequest) -> t.JobSpec:
    if not request.HasField("spec"):
        raise InvalidRequest("spec", "spec is required: say what to run, e.g. spec.txt2img.prompt")
    try:
        return convert.spec_from_pb(request.spec)
    except ValueError as exc:
        raise InvalidRequest("spec", str(exc)) from exc


def _job_id(value: str, field: str = "job_id") -> str:
    if not value.strip():
        raise InvalidRequest(field, f"{field} is required")
    return value.strip()


class JobsService(jobs_pb2_grpc.JobsServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    @unary
    async def Submit(self, request: jobs_pb2.SubmitRequest, context: grpc.aio.ServicerContext) -> jobs_pb2.SubmitResponse:
        job, created = await self.rt.scheduler.submit(_spec(request), owner_of(context))
        return jobs_pb2.SubmitResponse(job=convert.job_to_pb(job), created=created)

    async def _events(self, job_id: str, after_seq: int) -> AsyncIterator[jobs_pb2.JobEvent]:
        async for event in self.rt.scheduler.watch(job_id, after_seq):
            yield convert.event_to_pb(event)

    @stream
    async def Watch(self, request: jobs_pb2.WatchRequest, context: grpc.aio.ServicerContext) -> AsyncIterator[jobs_pb2.JobEvent]:
        async for message in self._events(_job_id(request.job_id), request.after_seq):
            yield message

    @stream
    async def Generate(self, request: jobs_pb2.SubmitRequest, context: grpc.aio.ServicerContext) -> AsyncIterator[jobs_pb2.JobEvent]:
        job, _ = await self.rt.scheduler.submit(_spec(request), owner_of(context))
        async for message in self._events(job.id, 0):
            yield message

    @unary
    async def Get(self, request: jobs_pb2.GetJobRequest, context: grpc.aio.ServicerContext) -> jobs_pb2.Job:
        return convert.job_to_pb(await self.rt.scheduler.get(_job_id(request.job_id)))

    @unary
    async def List(self, request: jobs_pb2.ListJobsRequest, context: grpc.aio.ServicerContext) -> jobs_pb2.ListJobsResponse:
        if request.page_size > MAX_PAGE:
            raise InvalidRequest("page_size", f"page_size is at most {MAX_PAGE}, got {request.page_size}")
        try:
            states = [convert.state_from_pb(s) for s in request.states]
        except ValueError as exc:
            raise InvalidRequest("states", f"states: {exc}") from exc
        size = request.page_size or 50
        jobs = await self.rt.scheduler.list_jobs(
            states=states,
            owner=request.owner,
            words=request.text.split(),
            before=_parse_page_token(request.page_token),
            limit=size + 1,
        )
        more = len(jobs) > size
        jobs = jobs[:size]
        return jobs_pb2.ListJobsResponse(
            jobs=[convert.job_to_pb(j) for j in jobs],
            next_page_token=_page_token(jobs[-1]) if more else "",
        )

    @unary
    async def Cancel(self, request: jobs_pb2.CancelJobRequest, context: grpc.aio.ServicerContext) -> jobs_pb2.Job:
        return convert.job_to_pb(await self.rt.scheduler.cancel(_job_id(request.job_id)))

    @unary
    async def Update(self, request: jobs_pb2.UpdateJobRequest, context: grpc.aio.ServicerContext) -> jobs_pb2.Job:
        if request.priority == jobs_pb2.PRIORITY_UNSPECIFIED:
            raise InvalidRequest("priority", "priority is required: low, normal or high")
        try:
            priority = convert.priority_from_pb(request.priority)
        except ValueError as exc:
            raise InvalidRequest("priority", str(exc)) from exc
        return convert.job_to_pb(await self.rt.scheduler.set_priority(_job_id(request.job_id), priority))

    @unary
    async def Delete(self, request: jobs_pb2.DeleteJobRequest, context: grpc.aio.ServicerContext) -> jobs_pb2.DeleteJobResponse:
        await self.rt.scheduler.delete(_job_id(request.job_id))
        return jobs_pb2.DeleteJobResponse()

    @stream
    async def GetOutput(self, request: jobs_pb2.GetOutputRequest, context: grpc.aio.ServicerContext) -> AsyncIterator[jobs_pb2.OutputChunk]:
        output = await self.rt.scheduler.output(_job_id(request.output_id, "output_id"))
        data = await asyncio.to_thread(_read_file, output.path)
        for offset in range(0, max(len(data), 1), CHUNK):
            yield jobs_pb2.OutputChunk(
                data=data[offset : offset + CHUNK], offset=offset, total_size=len(data), mime_type="image/png"
            )


def _read_file(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise OutputNotFound(path, gone=True) from None


class SystemService(system_pb2_grpc.SystemServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    @unary
    async def GetStatus(self, request: system_pb2.GetStatusRequest, context: grpc.aio.ServicerContext) -> system_pb2.Status:
        return convert.status_to_pb(await self.rt.status())

    @stream
    async def WatchStatus(self, request: system_pb2.WatchStatusRequest, context: grpc.aio.ServicerContext) -> AsyncIterator[system_pb2.Status]:
        interval = (request.interval_ms or 2000) / 1000
        if interval < 0.1:
            raise InvalidRequest("interval_ms", "interval_ms is at least 100")
        changed = self.rt.scheduler.changed
        while True:
            yield convert.status_to_pb(await self.rt.status())
            async with changed:
                try:
                    await asyncio.wait_for(changed.wait(), interval)
                except asyncio.TimeoutError:
                    pass
            await asyncio.sleep(0.05)  # coalesce bursts of changes

    @unary
    async def PauseQueue(self, request: system_pb2.PauseQueueRequest, context: grpc.aio.ServicerContext) -> system_pb2.Status:
        await self.rt.scheduler.set_paused(True)
        return convert.status_to_pb(await self.rt.status())

    @unary
    async def ResumeQueue(self, request: system_pb2.ResumeQueueRequest, context: grpc.aio.ServicerContext) -> system_pb2.Status:
        await self.rt.scheduler.set_paused(False)
        return convert.status_to_pb(await self.rt.status())


class ModelsService(models_pb2_grpc.ModelsServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    @unary
    async def List(self, request: models_pb2.ListModelsRequest, context: grpc.aio.ServicerContext) -> models_pb2.ListModelsResponse:
        models, schedulers = await self.rt.models()
        return models_pb2.ListModelsResponse(models=[convert.model_to_pb(m) for m in models], schedulers=schedulers)

    @unary
    async def Show(self, request: models_pb2.ShowModelRequest, context: grpc.aio.ServicerContext) -> models_pb2.Model:
        models, _ = await self.rt.models(show=_name(request.name))
        return convert.model_to_pb(models[0])

    @stream
    async def Pull(self, request: models_pb2.PullRequest, context: grpc.aio.ServicerContext) -> AsyncIterator[models_pb2.PullProgress]:
        pull = await self.rt.pulls.start(request.source, request.name, request.sha256.strip())
        async for progress in self.rt.pulls.watch(pull):
            yield convert.pull_progress_to_pb(progress)

    @unary
    async def CancelPull(self, request: models_pb2.CancelPullRequest, context: grpc.aio.ServicerContext) -> models_pb2.CancelPullResponse:
        name = _name(request.name)
        if not self.rt.pulls.cancel(name):
            raise ModelUnknown(f"no pull of '{name}' is running")
        return models_pb2.CancelPullResponse()

    @unary
    async def Add(self, request: models_pb2.AddModelRequest, context: grpc.aio.ServicerContext) -> models_pb2.Model:
        row = await self.rt.registry.add(request.path, request.name, request.config, request.vae)
        models, _ = await self.rt.models(show=row["name"])
        return convert.model_to_pb(models[0])

    @unary
    async def Remove(self, request: models_pb2.RemoveModelRequest, context: grpc.aio.ServicerContext) -> models_pb2.RemoveModelResponse:
        name = _name(request.name)
        if name in {m.name for m in await self.rt.loaded()}:
            await self.rt.unload(name)
        deleted = await self.rt.registry.remove(name, force=request.force)
        return models_pb2.RemoveModelResponse(deleted_files=deleted)

    @unary
    async def Load(self, request: models_pb2.LoadModelRequest, context: grpc.aio.ServicerContext) -> models_pb2.LoadModelResponse:
        load_ms = await self.rt.load(_name(request.name), request.keep_alive)
        return models_pb2.LoadModelResponse(load_ms=load_ms)

    @unary
    async def Unload(self, request: models_pb2.UnloadModelRequest, context: grpc.aio.ServicerContext) -> models_pb2.UnloadModelResponse:
        if not request.name.strip():
            raise InvalidRequest("name", "name is required: a model listed by `imagine models ps`")
        await self.rt.unload(request.name.strip())
        return models_pb2.UnloadModelResponse()

    @unary
    async def ListLoaded(self, request: models_pb2.ListLoadedRequest, context: grpc.aio.ServicerContext) -> models_pb2.ListLoadedResponse:
        return models_pb2.ListLoadedResponse(models=[convert.loaded_to_pb(m) for m in await self.rt.loaded()])

    @unary
    async def ListSamplers(self, request: models_pb2.ListSamplersRequest, context: grpc.aio.ServicerContext) -> models_pb2.ListSamplersResponse:
        from models.samplers import sampler_label, sampler_names

        return models_pb2.ListSamplersResponse(
            samplers=[models_pb2.Sampler(name=name, label=sampler_label(name)) for name in sampler_names()]
        )


def _name(value: str) -> str:
    if not value.strip():
        raise InvalidRequest("name", "name is required: a model listed by `imagine models list`")
    return value.strip()


SERVICE_NAMES = (
    jobs_pb2.DESCRIPTOR.services_by_name["Jobs"].full_name,
    system_pb2.DESCRIPTOR.services_by_name["System"].full_name,
    models_pb2.DESCRIPTOR.services_by_name["Models"].full_name,
)


def build_server(runtime: Runtime) -> tuple[grpc.aio.Server, health.aio.HealthServicer]:
    server = grpc.aio.server(options=[("grpc.max_send_message_length", 64 * 1024 * 1024)])
    jobs_pb2_grpc.add_JobsServicer_to_server(JobsService(runtime), server)
    system_pb2_grpc.add_SystemServicer_to_server(SystemService(runtime), server)
    models_pb2_grpc.add_ModelsServicer_to_server(ModelsService(runtime), server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (*SERVICE_NAMES, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME),
        server,
    )
    return server, health_servicer

