"""Failures become sentences a person can act on."""

from __future__ import annotations

import pytest
from imagine import errors

from bots.policy import Refused
from bots.replies import DAEMON_DOWN, reply_for


@pytest.mark.parametrize(
    ("failure", "reply"),
    [
        (Refused("You already have 4 images waiting."), "You already have 4 images waiting."),
        (errors.DaemonUnavailable("the imagined daemon is not running at unix:/x"), DAEMON_DOWN),
        (errors.ResourceExhausted("the queue holds 1000 jobs, its limit"), "The queue is full right now (the queue holds 1000 jobs, its limit). Please try again in a little while."),
        (errors.NotFound("no output 'abc'"), "I can't find that any more; it may have been deleted (no output 'abc')."),
        (errors.InvalidArgument("txt2img.width must be a multiple of 8"), "That request has a problem: txt2img.width must be a multiple of 8."),
        (errors.FailedPrecondition("model 'sdxl' is not installed; run `imagine models pull sdxl`"), "That can't be done yet: model 'sdxl' is not installed; run `imagine models pull sdxl`."),
        (errors.PermissionDenied("not allowed"), "The image generator refused this: not allowed."),
    ],
)
def test_each_failure_has_its_reply(failure: Exception, reply: str) -> None:
    assert reply_for(failure) == reply


def test_a_broken_stream_counts_as_the_daemon_being_down() -> None:
    broken = errors.ImagineError("Socket closed")
    broken.code = errors.DaemonUnavailable.code
    assert reply_for(broken) == DAEMON_DOWN


def test_anything_else_is_not_swallowed() -> None:
    with pytest.raises(KeyError):
        reply_for(KeyError("a bug"))
