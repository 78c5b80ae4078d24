"""The one place where the daemon's errors become gRPC status codes."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import grpc

from daemon import errors, model_errors

log = logging.getLogger(__name__)

_CODES: dict[type[errors.DaemonError], grpc.StatusCode] = {
    errors.InvalidRequest: grpc.StatusCode.INVALID_ARGUMENT,
    errors.JobNotFound: grpc.StatusCode.NOT_FOUND,
    errors.OutputNotFound: grpc.StatusCode.NOT_FOUND,
    errors.ModelUnknown: grpc.StatusCode.NOT_FOUND,
    errors.ModelNotInstalled: grpc.StatusCode.FAILED_PRECONDITION,
    errors.JobNotModifiable: grpc.StatusCode.FAILED_PRECONDITION,
    errors.QueueFull: grpc.StatusCode.RESOURCE_EXHAUSTED,
    errors.ShuttingDown: grpc.StatusCode.UNAVAILABLE,
    errors.NotAllowed: grpc.StatusCode.PERMISSION_DENIED,
    errors.LoadFailed: grpc.StatusCode.FAILED_PRECONDITION,  # the worker's sentence says why
    model_errors.ModelExists: grpc.StatusCode.ALREADY_EXISTS,
    model_errors.ModelInUse: grpc.StatusCode.FAILED_PRECONDITION,
    model_errors.PullNotFound: grpc.StatusCode.NOT_FOUND,
    model_errors.PullRefused: grpc.StatusCode.PERMISSION_DENIED,
    model_errors.PullUnavailable: grpc.StatusCode.UNAVAILABLE,
    model_errors.PullCorrupt: grpc.StatusCode.DATA_LOSS,
    model_errors.PullCancelled: grpc.StatusCode.CANCELLED,
    model_errors.NotSupported: grpc.StatusCode.UNIMPLEMENTED,
}

_R = TypeVar("_R")


def status_code(exc: errors.DaemonError) -> grpc.StatusCode:
    for cls in type(exc).__mro__:
        if cls in _CODES:
            return _CODES[cls]
    return grpc.StatusCode.INTERNAL


async def _abort(context: grpc.aio.ServicerContext, exc: Exception) -> None:
    if isinstance(exc, errors.DaemonError):
        await context.abort(status_code(exc), str(exc))
    log.exception("internal error", exc_info=exc)
    await context.abort(grpc.StatusCode.INTERNAL, f"internal error in the daemon: {type(exc).__name__}: {exc}")


def unary(method: Callable[..., Awaitable[_R]]) -> Callable[..., Awaitable[_R]]:
    @functools.wraps(method)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext) -> _R:
        try:
            return await method(self, request, context)
        except grpc.aio.AbortError:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure gets a status and a sentence
            await _abort(context, exc)
            raise AssertionError("unreachable") from exc

    return wrapper


def stream(method: Callable[..., AsyncIterator[_R]]) -> Callable[..., AsyncIterator[_R]]:
    @functools.wraps(method)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[_R]:
        try:
            async for item in method(self, request, context):
                yield item
        except grpc.aio.AbortError:
            raise
        except Exception as exc:  # noqa: BLE001
            await _abort(context, exc)

    return wrapper
