"""Failures as plain replies for the person who asked."""

from __future__ import annotations

from imagine import errors

from bots.follow import daemon_is_down
from bots.policy import Refused

DAEMON_DOWN = "The image generator is not running right now, so I can't make images. Please try again in a few minutes."


def reply_for(exc: Exception) -> str:
    """The sentence to show for a failure of a request (a `Refused` or an error from the daemon)."""
    if isinstance(exc, Refused):
        return str(exc)
    if isinstance(exc, errors.ImagineError) and daemon_is_down(exc):
        return DAEMON_DOWN
    if isinstance(exc, errors.ResourceExhausted):
        return f"The queue is full right now ({exc}). Please try again in a little while."
    if isinstance(exc, errors.NotFound):
        return f"I can't find that any more; it may have been deleted ({exc})."
    if isinstance(exc, errors.InvalidArgument):
        return f"That request has a problem: {exc}."
    if isinstance(exc, errors.FailedPrecondition):
        return f"That can't be done yet: {exc}."
    if isinstance(exc, errors.PermissionDenied):
        return f"The image generator refused this: {exc}."
    if isinstance(exc, errors.ImagineError):
        return f"Something went wrong talking to the image generator: {exc}."
    raise exc
