"""A job's events as the line a chat message shows, and the throttled sender of those lines."""

from __future__ import annotations

import asyncio
import itertools

from imagine import types as t

from bots.buckets import TokenBucket
from bots.follow import LatestOnly
from bots.progress import JobView, status_line, step_bar


def event(seq: int, kind: t.EventKind, at: float = 0.0) -> t.JobEvent:
    return t.JobEvent("j1", seq, at, kind)


def test_the_line_follows_the_job_from_the_queue_to_the_end() -> None:
    view = JobView("j1")
    view.apply(event(1, t.Queued(position=3, eta_seconds=75)))
    assert status_line(view) == "⏳ Waiting: #3 in the queue · about 1m 15s left"
    view.apply(event(2, t.Started("w1", 0, 1)))
    assert status_line(view) == "🎨 Starting…"
    view.apply(event(3, t.Progress(1, 10), at=100.0))
    view.apply(event(4, t.Progress(5, 10, preview=b"png"), at=102.0))
    assert status_line(view) == f"🎨 {step_bar(5, 10)} steps · about 2s left"
    assert view.preview == b"png" and view.last_seq == 4
    view.daemon_down = True
    assert "daemon is down" in status_line(view)
    view.apply(event(100_005, t.Finished(t.JobState.FAILED, "out of memory")))
    assert not view.daemon_down and view.finished
    assert status_line(view) == "❌ Failed: out of memory"


def test_the_step_bar() -> None:
    assert step_bar(3, 12) == "▰▰▰▱▱▱▱▱▱▱▱▱ 3/12"
    assert step_bar(0, 0) == "▱" * 12 + " 0/0"


async def test_only_the_newest_update_is_sent_and_not_faster_than_the_bucket() -> None:
    sent: list[tuple[str, float]] = []
    loop = asyncio.get_running_loop()

    async def send(text: str) -> None:
        sent.append((text, loop.time()))

    updates: LatestOnly[str] = LatestOnly(send, [TokenBucket.every(0.2)])
    for n in range(5):
        updates.offer(f"step {n}")
    await asyncio.sleep(0.05)
    updates.offer("step 5")
    updates.offer("step 6")
    await updates.close("done")
    texts = [text for text, _ in sent]
    assert texts == ["step 4", "done"]  # 0-4 came at once; 5 and 6 were still waiting for the bucket at the end
    gaps = [b - a for (_, a), (_, b) in itertools.pairwise(sent)]
    assert all(gap >= 0.2 * 0.9 for gap in gaps), gaps
