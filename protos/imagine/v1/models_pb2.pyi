from imagine.v1 import system_pb2 as _system_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ModelDefaults(_message.Message):
    __slots__ = ("width", "height", "steps", "guidance", "scheduler", "vae", "engine")
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    GUIDANCE_FIELD_NUMBER: _ClassVar[int]
    SCHEDULER_FIELD_NUMBER: _ClassVar[int]
    VAE_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    width: int
    height: int
    steps: int
    guidance: float
    scheduler: str
    vae: str
    engine: str
    def __init__(self, width: _Optional[int] = ..., height: _Optional[int] = ..., steps: _Optional[int] = ..., guidance: _Optional[float] = ..., scheduler: _Optional[str] = ..., vae: _Optional[str] = ..., engine: _Optional[str] = ...) -> None: ...

class Model(_message.Message):
    __slots__ = ("name", "kind", "source", "location", "description", "installed", "loaded", "defaults", "is_default", "origin", "size_bytes", "installed_at", "last_used_at", "files", "sha256")
    class Sha256Entry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    INSTALLED_FIELD_NUMBER: _ClassVar[int]
    LOADED_FIELD_NUMBER: _ClassVar[int]
    DEFAULTS_FIELD_NUMBER: _ClassVar[int]
    IS_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    INSTALLED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_USED_AT_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: str
    source: str
    location: str
    description: str
    installed: bool
    loaded: bool
    defaults: ModelDefaults
    is_default: bool
    origin: str
    size_bytes: int
    installed_at: float
    last_used_at: float
    files: _containers.RepeatedScalarFieldContainer[str]
    sha256: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[str] = ..., source: _Optional[str] = ..., location: _Optional[str] = ..., description: _Optional[str] = ..., installed: _Optional[bool] = ..., loaded: _Optional[bool] = ..., defaults: _Optional[_Union[ModelDefaults, _Mapping]] = ..., is_default: _Optional[bool] = ..., origin: _Optional[str] = ..., size_bytes: _Optional[int] = ..., installed_at: _Optional[float] = ..., last_used_at: _Optional[float] = ..., files: _Optional[_Iterable[str]] = ..., sha256: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("models", "schedulers")
    MODELS_FIELD_NUMBER: _ClassVar[int]
    SCHEDULERS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[Model]
    schedulers: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, models: _Optional[_Iterable[_Union[Model, _Mapping]]] = ..., schedulers: _Optional[_Iterable[str]] = ...) -> None: ...

class ShowModelRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class PullRequest(_message.Message):
    __slots__ = ("source", "name", "sha256")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    source: str
    name: str
    sha256: str
    def __init__(self, source: _Optional[str] = ..., name: _Optional[str] = ..., sha256: _Optional[str] = ...) -> None: ...

class PullProgress(_message.Message):
    __slots__ = ("name", "file", "file_bytes", "file_total", "bytes_done", "bytes_total", "files_done", "files_total", "rate_bytes_per_s", "done", "model")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FILE_FIELD_NUMBER: _ClassVar[int]
    FILE_BYTES_FIELD_NUMBER: _ClassVar[int]
    FILE_TOTAL_FIELD_NUMBER: _ClassVar[int]
    BYTES_DONE_FIELD_NUMBER: _ClassVar[int]
    BYTES_TOTAL_FIELD_NUMBER: _ClassVar[int]
    FILES_DONE_FIELD_NUMBER: _ClassVar[int]
    FILES_TOTAL_FIELD_NUMBER: _ClassVar[int]
    RATE_BYTES_PER_S_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    name: str
    file: str
    file_bytes: int
    file_total: int
    bytes_done: int
    bytes_total: int
    files_done: int
    files_total: int
    rate_bytes_per_s: float
    done: bool
    model: Model
    def __init__(self, name: _Optional[str] = ..., file: _Optional[str] = ..., file_bytes: _Optional[int] = ..., file_total: _Optional[int] = ..., bytes_done: _Optional[int] = ..., bytes_total: _Optional[int] = ..., files_done: _Optional[int] = ..., files_total: _Optional[int] = ..., rate_bytes_per_s: _Optional[float] = ..., done: _Optional[bool] = ..., model: _Optional[_Union[Model, _Mapping]] = ...) -> None: ...

class CancelPullRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class CancelPullResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AddModelRequest(_message.Message):
    __slots__ = ("path", "name", "config", "vae")
    PATH_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    VAE_FIELD_NUMBER: _ClassVar[int]
    path: str
    name: str
    config: str
    vae: str
    def __init__(self, path: _Optional[str] = ..., name: _Optional[str] = ..., config: _Optional[str] = ..., vae: _Optional[str] = ...) -> None: ...

class RemoveModelRequest(_message.Message):
    __slots__ = ("name", "force")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    name: str
    force: bool
    def __init__(self, name: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class RemoveModelResponse(_message.Message):
    __slots__ = ("deleted_files",)
    DELETED_FILES_FIELD_NUMBER: _ClassVar[int]
    deleted_files: bool
    def __init__(self, deleted_files: _Optional[bool] = ...) -> None: ...

class LoadModelRequest(_message.Message):
    __slots__ = ("name", "keep_alive")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KEEP_ALIVE_FIELD_NUMBER: _ClassVar[int]
    name: str
    keep_alive: float
    def __init__(self, name: _Optional[str] = ..., keep_alive: _Optional[float] = ...) -> None: ...

class LoadModelResponse(_message.Message):
    __slots__ = ("load_ms",)
    LOAD_MS_FIELD_NUMBER: _ClassVar[int]
    load_ms: float
    def __init__(self, load_ms: _Optional[float] = ...) -> None: ...

class UnloadModelRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class UnloadModelResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListLoadedRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListLoadedResponse(_message.Message):
    __slots__ = ("models",)
    MODELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[_system_pb2.LoadedModel]
    def __init__(self, models: _Optional[_Iterable[_Union[_system_pb2.LoadedModel, _Mapping]]] = ...) -> None: ...

class ListSamplersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Sampler(_message.Message):
    __slots__ = ("name", "label")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    name: str
    label: str
    def __init__(self, name: _Optional[str] = ..., label: _Optional[str] = ...) -> None: ...

class ListSamplersResponse(_message.Message):
    __slots__ = ("samplers",)
    SAMPLERS_FIELD_NUMBER: _ClassVar[int]
    samplers: _containers.RepeatedCompositeFieldContainer[Sampler]
    def __init__(self, samplers: _Optional[_Iterable[_Union[Sampler, _Mapping]]] = ...) -> None: ...
