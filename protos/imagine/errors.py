"""Errors raised by `imagine.client`.

    ImagineError                 any failure talking to the daemon
    ├── DaemonUnavailable        nothing answers at the address (not running?)
    ├── InvalidArgument          a field of the request is wrong (the message names it)
    ├── NotFound                 no such job, output or model
    ├── ResourceExhausted        the queue, or your share of it, is full
    ├── FailedPrecondition       e.g. the model is not installed
    └── PermissionDenied         not allowed for this caller

Each carries the daemon's sentence as its message.
"""

from __future__ import annotations

import grpc


class ImagineError(Exception):
    code: grpc.StatusCode | None = None


class DaemonUnavailable(ImagineError):
    code = grpc.StatusCode.UNAVAILABLE


class InvalidArgument(ImagineError):
    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(ImagineError):
    code = grpc.StatusCode.NOT_FOUND


class ResourceExhausted(ImagineError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class FailedPrecondition(ImagineError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class PermissionDenied(ImagineError):
    code = grpc.StatusCode.PERMISSION_DENIED


_BY_CODE: dict[grpc.StatusCode, type[ImagineError]] = {
    cls.code: cls
    for cls in (
        DaemonUnavailable,
        InvalidArgument,
        NotFound,
        ResourceExhausted,
        FailedPrecondition,
        PermissionDenied,
    )
    if cls.code is not None
}
_BY_CODE[grpc.StatusCode.UNAUTHENTICATED] = PermissionDenied


def from_rpc_error(error: grpc.aio.AioRpcError, target: str) -> ImagineError:
    code = error.code()
    if code == grpc.StatusCode.UNAVAILABLE and "connect" in (error.details() or "").lower():
        return DaemonUnavailable(
            f"the imagined daemon is not running at {target}; start it with `imagine serve`"
        )
    cls = _BY_CODE.get(code, ImagineError)
    exc = cls(error.details() or code.name)
    exc.code = code
    return exc
