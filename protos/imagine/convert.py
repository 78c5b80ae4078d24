"""Conversion between the protobuf messages and `imagine.types`, both ways.

This is the one place that knows both shapes; the client and the daemon's
servicers call it at their edges.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import typing
from typing import Mapping, TypeVar

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from imagine import types as t
from imagine.v1 import jobs_pb2 as jpb
from imagine.v1 import models_pb2 as mpb
from imagine.v1 import system_pb2 as spb

_PRIORITY_TO_PB = {
    t.Priority.LOW: jpb.PRIORITY_LOW,
    t.Priority.NORMAL: jpb.PRIORITY_NORMAL,
    t.Priority.HIGH: jpb.PRIORITY_HIGH,
}
_PRIORITY_FROM_PB = {v: k for k, v in _PRIORITY_TO_PB.items()} | {
    jpb.PRIORITY_UNSPECIFIED: t.Priority.NORMAL
}
_STATE_TO_PB = {
    t.JobState.QUEUED: jpb.JOB_STATE_QUEUED,
    t.JobState.RUNNING: jpb.JOB_STATE_RUNNING,
    t.JobState.SUCCEEDED: jpb.JOB_STATE_SUCCEEDED,
    t.JobState.FAILED: jpb.JOB_STATE_FAILED,
    t.JobState.CANCELLED: jpb.JOB_STATE_CANCELLED,
}
_STATE_FROM_PB = {v: k for k, v in _STATE_TO_PB.items()}
_T = TypeVar("_T")
_M = TypeVar("_M", bound=Message)


def priority_to_pb(priority: t.Priority) -> int:
    return _PRIORITY_TO_PB[priority]


def priority_from_pb(value: int) -> t.Priority:
    try:
        return _PRIORITY_FROM_PB[value]
    except KeyError:
        raise ValueError(f"unknown priority {value}; use low, normal or high") from None


def state_to_pb(state: t.JobState) -> int:
    return _STATE_TO_PB[state]


def state_from_pb(value: int) -> t.JobState:
    try:
        return _STATE_FROM_PB[value]
    except KeyError:
        raise ValueError(f"unknown job state {value}") from None


def _seconds(ts: object) -> float | None:
    seconds = ts.seconds + ts.nanos / 1e9  # type: ignore[attr-defined]
    return seconds or None


def _set_time(ts: object, value: float | None) -> None:
    if value:
        ts.FromNanoseconds(int(value * 1e9))  # type: ignore[attr-defined]


# -- dataclass <-> message, by field name ------------------------------------
#
# The task, result and report dataclasses mirror their messages field for field:
# `X | None` is a proto3 `optional` (or a message field that may be unset),
# `tuple[X, ...]` a repeated field, Mapping a map. Empty scalars are left unset,
# which is what proto3 reads back and keeps oneofs such as ImageInput's intact.


def fill_pb(msg: _M, value: object) -> _M:
    """Copy a dataclass's fields into `msg` (same names); returns msg."""
    hints = t.field_types(type(value))
    for f in dataclasses.fields(value):  # type: ignore[arg-type]
        item = getattr(value, f.name)
        if item is None:
            continue
        hint = t.optional_inner(hints[f.name]) or hints[f.name]
        target = getattr(msg, f.name)
        if typing.get_origin(hint) is tuple:
            element = typing.get_args(hint)[0]
            if dataclasses.is_dataclass(element):
                for element_value in item:
                    fill_pb(target.add(), element_value)
            else:
                target.extend(item)
        elif isinstance(item, Mapping):
            target.update(item)
        elif dataclasses.is_dataclass(item):
            fill_pb(target, item)
            if not target.ListFields():
                target.SetInParent()  # present even when every field is at its default
        elif item or t.optional_inner(hints[f.name]) is not None:
            setattr(msg, f.name, item)
    return msg


def read_pb(cls: type[_T], msg: Message) -> _T:
    """The dataclass `cls` from a message with the same field names."""
    hints = t.field_types(cls)
    fields = msg.DESCRIPTOR.fields_by_name
    kwargs: dict[str, object] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        hint = hints[f.name]
        inner = t.optional_inner(hint)
        if inner is not None and not msg.HasField(f.name):
            kwargs[f.name] = None
            continue
        hint = inner or hint
        item = getattr(msg, f.name)
        if typing.get_origin(hint) is tuple:
            element = typing.get_args(hint)[0]
            kwargs[f.name] = tuple(read_pb(element, x) if dataclasses.is_dataclass(element) else x for x in item)
        elif typing.get_origin(hint) in (Mapping, dict, collections.abc.Mapping):
            kwargs[f.name] = dict(item)
        elif dataclasses.is_dataclass(hint):
            kwargs[f.name] = read_pb(hint, item)  # type: ignore[arg-type]
        elif fields[f.name].type == FieldDescriptor.TYPE_FLOAT:
            kwargs[f.name] = round(item, 6)  # float32 on the wire: 7.5 stays 7.5, 0.1 comes back as 0.1
        else:
            kwargs[f.name] = item
    return cls(**kwargs)


# -- specs -----------------------------------------------------------------


def spec_to_pb(spec: t.JobSpec) -> jpb.JobSpec:
    msg = jpb.JobSpec(
        model=spec.model,
        priority=priority_to_pb(spec.priority),
        labels=dict(spec.labels),
        request_id=spec.request_id,
        timeout_seconds=spec.timeout_seconds,
        previews=spec.previews,
    )
    task = getattr(msg, spec.kind)
    fill_pb(task, spec.task)
    task.SetInParent()
    return msg


def spec_from_pb(msg: jpb.JobSpec) -> t.JobSpec:
    """Raises ValueError naming the field when the message has no usable task."""
    kind = msg.WhichOneof("task")
    if kind is None:
        raise ValueError(f"spec.task: set one task: {', '.join(t.TASK_TYPES)}")
    return t.JobSpec(
        task=read_pb(t.TASK_TYPES[kind], getattr(msg, kind)),
        model=msg.model,
        priority=priority_from_pb(msg.priority),
        labels=dict(msg.labels),
        request_id=msg.request_id,
        timeout_seconds=msg.timeout_seconds,
        previews=msg.previews,
    )


# -- jobs and events ---------------------------------------------------------


def timings_to_pb(value: t.Timings) -> jpb.Timings:
    return fill_pb(jpb.Timings(), value)


def timings_from_pb(msg: jpb.Timings) -> t.Timings:
    return read_pb(t.Timings, msg)


def output_to_pb(value: t.Output) -> jpb.Output:
    return fill_pb(jpb.Output(), value)


def output_from_pb(msg: jpb.Output) -> t.Output:
    return read_pb(t.Output, msg)


def report_from_pb(msg: jpb.Report) -> t.Report | None:
    return read_pb(t.Report, msg) if msg.ListFields() else None


def job_to_pb(job: t.Job) -> jpb.Job:
    msg = jpb.Job(
        id=job.id,
        spec=spec_to_pb(job.spec),
        owner=job.owner,
        state=state_to_pb(job.state),
        attempts=job.attempts,
        timings=timings_to_pb(job.timings),
        error=job.error,
        outputs=[output_to_pb(o) for o in job.outputs],
        queue_position=job.queue_position,
        last_seq=job.last_seq,
    )
    if job.eta_seconds is not None:
        msg.eta_seconds = job.eta_seconds
    if job.report is not None:
        fill_pb(msg.report, job.report)
    _set_time(msg.created_at, job.created_at)
    _set_time(msg.started_at, job.started_at)
    _set_time(msg.finished_at, job.finished_at)
    return msg


def job_from_pb(msg: jpb.Job) -> t.Job:
    return t.Job(
        id=msg.id,
        spec=spec_from_pb(msg.spec),
        owner=msg.owner,
        state=state_from_pb(msg.state),
        attempts=msg.attempts,
        created_at=_seconds(msg.created_at) or 0.0,
        started_at=_seconds(msg.started_at),
        finished_at=_seconds(msg.finished_at),
        timings=timings_from_pb(msg.timings),
        error=msg.error,
        outputs=tuple(output_from_pb(o) for o in msg.outputs),
        queue_position=msg.queue_position,
        last_seq=msg.last_seq,
        eta_seconds=msg.eta_seconds if msg.HasField("eta_seconds") else None,
        report=report_from_pb(msg.report),
    )


def event_to_pb(event: t.JobEvent) -> jpb.JobEvent:
    msg = jpb.JobEvent(job_id=event.job_id, seq=event.seq)
    _set_time(msg.time, event.time)
    kind = event.kind
    if isinstance(kind, t.Snapshot):
        msg.snapshot.CopyFrom(job_to_pb(kind.job))
    elif isinstance(kind, t.Queued):
        msg.queued.position = kind.position
        msg.queued.eta_known = kind.eta_seconds is not None
        msg.queued.eta_seconds = kind.eta_seconds or 0.0
    elif isinstance(kind, t.Started):
        fill_pb(msg.started, kind)
        msg.started.SetInParent()
    elif isinstance(kind, t.Progress):
        fill_pb(msg.progress, kind)
        msg.progress.SetInParent()
    elif isinstance(kind, t.Output):
        fill_pb(msg.output, kind)
    else:
        msg.finished.CopyFrom(jpb.Finished(state=state_to_pb(kind.state), error=kind.error, timings=timings_to_pb(kind.timings)))
        if kind.report is not None:
            fill_pb(msg.finished.report, kind.report)
    return msg


def event_from_pb(msg: jpb.JobEvent) -> t.JobEvent:
    which = msg.WhichOneof("kind")
    kind: t.EventKind
    if which == "snapshot":
        kind = t.Snapshot(job_from_pb(msg.snapshot))
    elif which == "queued":
        q = msg.queued
        kind = t.Queued(q.position, q.eta_seconds if q.eta_known else None)
    elif which == "started":
        kind = read_pb(t.Started, msg.started)
    elif which == "progress":
        kind = read_pb(t.Progress, msg.progress)
    elif which == "output":
        kind = output_from_pb(msg.output)
    elif which == "finished":
        f = msg.finished
        kind = t.Finished(state_from_pb(f.state), f.error, timings_from_pb(f.timings), report_from_pb(f.report))
    else:
        raise ValueError(f"event {msg.seq} of job {msg.job_id} has no kind")
    return t.JobEvent(job_id=msg.job_id, seq=msg.seq, time=_seconds(msg.time) or 0.0, kind=kind)


# -- status and models -------------------------------------------------------


def status_to_pb(status: t.Status) -> spb.Status:
    msg = spb.Status(
        version=status.version,
        queue=spb.QueueStats(
            queued=status.queue.queued, running=status.queue.running, paused=status.queue.paused
        ),
        loaded_models=[loaded_to_pb(m) for m in status.loaded_models],
        workers=[
            spb.Worker(pid=w.pid, state=w.state, job_id=w.job_id, restarts=w.restarts)
            for w in status.workers
        ],
    )
    _set_time(msg.started_at, status.started_at)
    for d in status.devices:
        dev = msg.devices.add(
            name=d.name,
            kind=d.kind,
            index=d.index,
            memory_total=d.memory_total,
            memory_used=d.memory_used,
        )
        if d.utilisation is not None:
            dev.utilisation = d.utilisation
        if d.temperature_c is not None:
            dev.temperature_c = d.temperature_c
    return msg


def status_from_pb(msg: spb.Status) -> t.Status:
    return t.Status(
        version=msg.version,
        started_at=_seconds(msg.started_at) or 0.0,
        devices=tuple(
            t.Device(
                name=d.name,
                kind=d.kind,
                index=d.index,
                memory_total=d.memory_total,
                memory_used=d.memory_used,
                utilisation=d.utilisation if d.HasField("utilisation") else None,
                temperature_c=d.temperature_c if d.HasField("temperature_c") else None,
            )
            for d in msg.devices
        ),
        queue=t.QueueStats(msg.queue.queued, msg.queue.running, msg.queue.paused),
        loaded_models=tuple(loaded_from_pb(m) for m in msg.loaded_models),
        workers=tuple(t.Worker(w.pid, w.state, w.job_id, w.restarts) for w in msg.workers),
    )


def model_to_pb(model: t.Model) -> mpb.Model:
    msg = mpb.Model(
        name=model.name,
        kind=model.kind,
        source=model.source,
        location=model.location,
        description=model.description,
        installed=model.installed,
        loaded=model.loaded,
        is_default=model.is_default,
        origin=model.origin,
        size_bytes=model.size_bytes,
        installed_at=model.installed_at,
        last_used_at=model.last_used_at,
        files=list(model.files),
        sha256=dict(model.sha256),
    )
    if model.defaults is not None:
        fill_pb(msg.defaults, model.defaults)
        msg.defaults.SetInParent()
    return msg


def model_from_pb(msg: mpb.Model) -> t.Model:
    defaults = None
    if msg.HasField("defaults"):
        defaults = read_pb(t.ModelDefaults, msg.defaults)
    return t.Model(
        name=msg.name,
        kind=msg.kind,
        source=msg.source,
        location=msg.location,
        description=msg.description,
        installed=msg.installed,
        loaded=msg.loaded,
        defaults=defaults,
        is_default=msg.is_default,
        origin=msg.origin,
        size_bytes=msg.size_bytes,
        installed_at=msg.installed_at,
        last_used_at=msg.last_used_at,
        files=tuple(msg.files),
        sha256=dict(msg.sha256),
    )


def loaded_to_pb(m: t.LoadedModel) -> spb.LoadedModel:
    return spb.LoadedModel(
        name=m.name,
        device=m.device,
        memory_bytes=m.memory_bytes,
        tier=m.tier,
        in_use=m.in_use,
        last_used_at=m.last_used_at,
        keep_alive_until=m.keep_alive_until,
    )


def loaded_from_pb(m: spb.LoadedModel) -> t.LoadedModel:
    return t.LoadedModel(m.name, m.device, m.memory_bytes, m.tier, m.in_use, m.last_used_at, m.keep_alive_until)


def pull_progress_to_pb(p: t.PullProgress) -> mpb.PullProgress:
    msg = mpb.PullProgress(
        name=p.name,
        file=p.file,
        file_bytes=p.file_bytes,
        file_total=p.file_total,
        bytes_done=p.bytes_done,
        bytes_total=p.bytes_total,
        files_done=p.files_done,
        files_total=p.files_total,
        rate_bytes_per_s=p.rate_bytes_per_s,
        done=p.done,
    )
    if p.model is not None:
        msg.model.CopyFrom(model_to_pb(p.model))
    return msg


def pull_progress_from_pb(msg: mpb.PullProgress) -> t.PullProgress:
    return t.PullProgress(
        name=msg.name,
        file=msg.file,
        file_bytes=msg.file_bytes,
        file_total=msg.file_total,
        bytes_done=msg.bytes_done,
        bytes_total=msg.bytes_total,
        files_done=msg.files_done,
        files_total=msg.files_total,
        rate_bytes_per_s=msg.rate_bytes_per_s,
        done=msg.done,
        model=model_from_pb(msg.model) if msg.HasField("model") else None,
    )
