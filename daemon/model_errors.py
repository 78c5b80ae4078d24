"""Errors of model management (registry and pulls), mapped to gRPC codes in `daemon.grpc_errors` only.

    DaemonError
    ├── ModelExists        the name is taken (ALREADY_EXISTS)
    ├── ModelInUse         queued or running jobs name it (FAILED_PRECONDITION); says --force
    ├── PullNotFound       no such repo, revision or file on the server (NOT_FOUND)
    ├── PullRefused        the hub wants a token, or refused the one given (PERMISSION_DENIED)
    ├── PullUnavailable    network or server failure; pulling again resumes (UNAVAILABLE)
    ├── PullCorrupt        a checksum did not match (DATA_LOSS)
    ├── PullCancelled      CancelPull stopped it (CANCELLED)
    └── NotSupported       the worker cannot do this yet (UNIMPLEMENTED)
"""

from __future__ import annotations

from daemon.errors import DaemonError


class ModelExists(DaemonError):
    pass


class ModelInUse(DaemonError):
    pass


class PullNotFound(DaemonError):
    pass


class PullRefused(DaemonError):
    pass


class PullUnavailable(DaemonError):
    pass


class PullCorrupt(DaemonError):
    pass


class PullCancelled(DaemonError):
    pass


class NotSupported(DaemonError):
    pass
