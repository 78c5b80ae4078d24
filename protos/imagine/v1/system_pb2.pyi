import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Device(_message.Message):
    __slots__ = ("name", "kind", "index", "memory_total", "memory_used", "utilisation", "temperature_c")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    MEMORY_TOTAL_FIELD_NUMBER: _ClassVar[int]
    MEMORY_USED_FIELD_NUMBER: _ClassVar[int]
    UTILISATION_FIELD_NUMBER: _ClassVar[int]
    TEMPERATURE_C_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: str
    index: int
    memory_total: int
    memory_used: int
    utilisation: float
    temperature_c: float
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[str] = ..., index: _Optional[int] = ..., memory_total: _Optional[int] = ..., memory_used: _Optional[int] = ..., utilisation: _Optional[float] = ..., temperature_c: _Optional[float] = ...) -> None: ...

class Worker(_message.Message):
    __slots__ = ("pid", "state", "job_id", "restarts")
    PID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    RESTARTS_FIELD_NUMBER: _ClassVar[int]
    pid: int
    state: str
    job_id: str
    restarts: int
    def __init__(self, pid: _Optional[int] = ..., state: _Optional[str] = ..., job_id: _Optional[str] = ..., restarts: _Optional[int] = ...) -> None: ...

class LoadedModel(_message.Message):
    __slots__ = ("name", "device", "memory_bytes", "tier", "in_use", "last_used_at", "keep_alive_until")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    IN_USE_FIELD_NUMBER: _ClassVar[int]
    LAST_USED_AT_FIELD_NUMBER: _ClassVar[int]
    KEEP_ALIVE_UNTIL_FIELD_NUMBER: _ClassVar[int]
    name: str
    device: str
    memory_bytes: int
    tier: str
    in_use: bool
    last_used_at: float
    keep_alive_until: float
    def __init__(self, name: _Optional[str] = ..., device: _Optional[str] = ..., memory_bytes: _Optional[int] = ..., tier: _Optional[str] = ..., in_use: _Optional[bool] = ..., last_used_at: _Optional[float] = ..., keep_alive_until: _Optional[float] = ...) -> None: ...

class QueueStats(_message.Message):
    __slots__ = ("queued", "running", "paused")
    QUEUED_FIELD_NUMBER: _ClassVar[int]
    RUNNING_FIELD_NUMBER: _ClassVar[int]
    PAUSED_FIELD_NUMBER: _ClassVar[int]
    queued: int
    running: int
    paused: bool
    def __init__(self, queued: _Optional[int] = ..., running: _Optional[int] = ..., paused: _Optional[bool] = ...) -> None: ...

class Status(_message.Message):
    __slots__ = ("version", "started_at", "devices", "queue", "loaded_models", "workers")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    DEVICES_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    LOADED_MODELS_FIELD_NUMBER: _ClassVar[int]
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    version: str
    started_at: _timestamp_pb2.Timestamp
    devices: _containers.RepeatedCompositeFieldContainer[Device]
    queue: QueueStats
    loaded_models: _containers.RepeatedCompositeFieldContainer[LoadedModel]
    workers: _containers.RepeatedCompositeFieldContainer[Worker]
    def __init__(self, version: _Optional[str] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., devices: _Optional[_Iterable[_Union[Device, _Mapping]]] = ..., queue: _Optional[_Union[QueueStats, _Mapping]] = ..., loaded_models: _Optional[_Iterable[_Union[LoadedModel, _Mapping]]] = ..., workers: _Optional[_Iterable[_Union[Worker, _Mapping]]] = ...) -> None: ...

class GetStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class WatchStatusRequest(_message.Message):
    __slots__ = ("interval_ms",)
    INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    interval_ms: int
    def __init__(self, interval_ms: _Optional[int] = ...) -> None: ...

class PauseQueueRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ResumeQueueRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
