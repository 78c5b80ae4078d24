"""Errors of the daemon's core, mapped to gRPC status codes in `daemon.grpc_errors` only.

    DaemonError
    ├── InvalidRequest       a field is wrong (INVALID_ARGUMENT); .field names it
    ├── JobNotFound          (NOT_FOUND)
    ├── OutputNotFound       (NOT_FOUND)
    ├── ModelUnknown         (NOT_FOUND)
    ├── ModelNotInstalled    (FAILED_PRECONDITION); says how to install it
    ├── LoadFailed           the worker could not load a model (FAILED_PRECONDITION); says why
    ├── JobNotModifiable     e.g. changing the priority of a running job (FAILED_PRECONDITION)
    ├── QueueFull            global or per-owner cap (RESOURCE_EXHAUSTED)
    ├── NotAllowed           (PERMISSION_DENIED)
    └── ShuttingDown         (UNAVAILABLE)
"""

from __future__ import annotations


class DaemonError(Exception):
    pass


class InvalidRequest(DaemonError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class JobNotFound(DaemonError):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"no job with id '{job_id}'; `imagine jobs list` shows the jobs there are")


class OutputNotFound(DaemonError):
    def __init__(self, output_id: str, *, gone: bool = False) -> None:
        if gone:
            super().__init__(f"the output file {output_id} is no longer on disk; re-run the job to make it again")
        else:
            super().__init__(f"no output with id '{output_id}'; `imagine jobs show JOB` lists a job's outputs")


class ModelUnknown(DaemonError):
    pass


class ModelNotInstalled(DaemonError):
    pass


class LoadFailed(DaemonError):
    """The worker could not load a model that exists: broken files, out of memory, a dead worker."""


class JobNotModifiable(DaemonError):
    pass


class QueueFull(DaemonError):
    pass


class ShuttingDown(DaemonError):
    pass


class NotAllowed(DaemonError):
    pass
