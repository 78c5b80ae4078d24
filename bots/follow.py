"""Follow a job into a chat message: throttled progress edits, and reattaching when the daemon restarts.

The follower keeps only the job id and the last event number; when the daemon
goes away it says so in the message, waits, and watches again from that
number, so a restarted daemon's job still finishes its message.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from imagine import errors
from imagine.client import Client

from bots.buckets import TokenBucket, take_all
from bots.progress import JobView

log = logging.getLogger(__name__)
U = TypeVar("U")
T = TypeVar("T")


class LatestOnly(Generic[U]):
    """Sends the newest update given to it, whenever every bucket has a token; older ones are dropped."""

    def __init__(self, send: Callable[[U], Awaitable[None]], buckets: Sequence[TokenBucket]) -> None:
        self._send = send
        self._buckets = buckets
        self._pending: U | None = None
        self._wake = asyncio.Event()
        self._sending = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def offer(self, update: U) -> None:
        self._pending = update
        self._wake.set()
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            await take_all(self._buckets)
            self._wake.clear()
            update, self._pending = self._pending, None
            if update is None:
                continue
            async with self._sending:
                try:
                    await self._send(update)
                except Exception:
                    log.warning("a progress update failed", exc_info=True)

    async def close(self, final: U | None = None) -> None:
        """Let an update under way land, drop what is pending; then send `final` (waiting for the buckets)."""
        if self._task is not None:
            async with self._sending:  # never cut an edit off half-sent: it could land after the next one
                self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._pending = None
        if final is not None:
            await take_all(self._buckets)
            await self._send(final)


def daemon_is_down(exc: errors.ImagineError) -> bool:
    return isinstance(exc, errors.DaemonUnavailable) or exc.code is errors.DaemonUnavailable.code


async def when_daemon_answers(call: Callable[[], Awaitable[T]], retry_delay: float, max_retry_delay: float = 30.0) -> T:
    """`call()`, tried again (waiting longer each time) for as long as the daemon is down."""
    delay = retry_delay
    while True:
        try:
            return await call()
        except errors.ImagineError as exc:
            if not daemon_is_down(exc):
                raise
            log.info("daemon unavailable; trying again in %.0f s", delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_retry_delay)


async def follow_job(
    client: Client,
    job_id: str,
    on_progress: Callable[[JobView], Awaitable[None]],
    buckets: Sequence[TokenBucket],
    *,
    retry_delay: float = 2.0,
    max_retry_delay: float = 30.0,
) -> JobView:
    """Watch the job to its end, showing each state through `on_progress` (throttled); the final view.

    The final view is not shown here: the caller shows the result with the same buckets.
    """
    view = JobView(job_id)
    updates: LatestOnly[JobView] = LatestOnly(on_progress, buckets)
    delay = retry_delay
    try:
        while not view.finished:
            seen = view.last_seq
            try:
                async with contextlib.aclosing(client.watch(job_id, view.last_seq)) as events:
                    async for event in events:
                        view.apply(event)
                        delay = retry_delay
                        if view.finished:
                            break
                        updates.offer(dataclasses.replace(view, outputs=dict(view.outputs)))
                if not view.finished and view.last_seq == seen:  # a stream that ended with nothing new
                    await asyncio.sleep(delay)
            except errors.ImagineError as exc:
                if not daemon_is_down(exc):
                    raise
                log.info("daemon unavailable while following job %s; retrying in %.0f s", job_id, delay)
                view.daemon_down = True
                updates.offer(dataclasses.replace(view, outputs=dict(view.outputs)))
                await asyncio.sleep(delay)
                delay = min(delay * 2, max_retry_delay)
    finally:
        await updates.close()
    return view
