from __future__ import annotations

import pytest

from imagine.types import Priority
from daemon.errors import QueueFull
from daemon.queue import JobQueue, QueueEntry


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_queue(clock: Clock, **kwargs: float) -> JobQueue:
    return JobQueue(clock=clock, **kwargs)  # type: ignore[arg-type]


def push(queue: JobQueue, clock: Clock, job_id: str, owner: str, priority: Priority = Priority.NORMAL) -> None:
    queue.push(QueueEntry(job_id, owner, priority, clock.now, order=len(queue) + int(clock.now * 1000)))


def drain(queue: JobQueue) -> list[str]:
    out = []
    while (entry := queue.pop_next()) is not None:
        out.append(entry.job_id)
    return out


def test_higher_priority_runs_first_and_one_owner_is_fifo() -> None:
    clock = Clock()
    queue = make_queue(clock)
    push(queue, clock, "low", "alice", Priority.LOW)
    push(queue, clock, "n1", "alice")
    push(queue, clock, "high", "alice", Priority.HIGH)
    push(queue, clock, "n2", "alice")
    assert drain(queue) == ["high", "n1", "n2", "low"]


def test_owners_take_turns_inside_a_class() -> None:
    clock = Clock()
    queue = make_queue(clock)
    for i in range(4):
        push(queue, clock, f"a{i}", "alice")
    for i in range(2):
        push(queue, clock, f"b{i}", "bob")
    push(queue, clock, "c0", "carol")
    assert drain(queue) == ["a0", "b0", "c0", "a1", "b1", "a2", "a3"]


def test_round_robin_remembers_who_was_served_across_pops() -> None:
    clock = Clock()
    queue = make_queue(clock)
    push(queue, clock, "a0", "alice")
    assert queue.pop_next().job_id == "a0"  # type: ignore[union-attr]
    push(queue, clock, "a1", "alice")
    push(queue, clock, "b0", "bob")
    assert drain(queue) == ["b0", "a1"]


def test_order_predicts_pops_and_positions_are_one_based() -> None:
    clock = Clock()
    queue = make_queue(clock)
    for job, owner, prio in [("a", "x", Priority.LOW), ("b", "y", Priority.HIGH), ("c", "x", Priority.NORMAL), ("d", "y", Priority.NORMAL)]:
        push(queue, clock, job, owner, prio)
    predicted = [e.job_id for e in queue.order()]
    assert queue.positions() == {job: i for i, job in enumerate(predicted, start=1)}
    assert drain(queue) == predicted


def test_low_priority_ages_into_higher_classes() -> None:
    clock = Clock()
    queue = make_queue(clock, aging_seconds=60)
    push(queue, clock, "old-low", "alice", Priority.LOW)
    clock.now += 130  # two aging steps: low -> normal -> high
    push(queue, clock, "new-high", "bob", Priority.HIGH)
    push(queue, clock, "new-normal", "bob", Priority.NORMAL)
    # the aged job now competes in the high class and came first
    assert drain(queue) == ["old-low", "new-high", "new-normal"]


def test_without_aging_low_waits_behind_normal() -> None:
    clock = Clock()
    queue = make_queue(clock, aging_seconds=60)
    push(queue, clock, "low", "alice", Priority.LOW)
    clock.now += 30
    push(queue, clock, "normal", "bob", Priority.NORMAL)
    assert drain(queue) == ["normal", "low"]


def test_caps_per_owner_and_global() -> None:
    clock = Clock()
    queue = make_queue(clock, max_total=3, max_per_owner=2)
    push(queue, clock, "a0", "alice")
    push(queue, clock, "a1", "alice")
    with pytest.raises(QueueFull, match="2 jobs waiting"):
        queue.check_room("alice")
    queue.check_room("bob")
    push(queue, clock, "b0", "bob")
    with pytest.raises(QueueFull, match="queue is full"):
        queue.check_room("carol")
    queue.remove("a0")
    queue.check_room("alice")


def test_remove_and_reprioritise() -> None:
    clock = Clock()
    queue = make_queue(clock)
    push(queue, clock, "a0", "alice")
    push(queue, clock, "a1", "alice")
    push(queue, clock, "a2", "alice")
    assert queue.remove("a1") is not None
    assert queue.remove("a1") is None
    queue.set_priority("a2", Priority.HIGH)
    assert drain(queue) == ["a2", "a0"]
    assert queue.owner_count("alice") == 0


def test_a_loaded_model_may_take_one_turn_but_never_starves_an_owner() -> None:
    clock = Clock()
    queue = make_queue(clock)
    for i in range(3):
        queue.push(QueueEntry(f"cold{i}", "alice", Priority.NORMAL, clock.now, order=i, shape=("big", 64, 64, 2, 1)))
    for i in range(3):
        queue.push(QueueEntry(f"warm{i}", "bob", Priority.NORMAL, clock.now, order=10 + i, shape=("tiny", 64, 64, 2, 1)))
    loaded = {"tiny"}
    order = [queue.pop_next(loaded).job_id for _ in range(6)]  # type: ignore[union-attr]
    # alice's turn comes first, bob's warm job takes it once, then alice runs before bob again
    assert order == ["warm0", "cold0", "warm1", "cold1", "warm2", "cold2"]


def test_loaded_preference_stays_inside_the_highest_class() -> None:
    clock = Clock()
    queue = make_queue(clock)
    queue.push(QueueEntry("cold-high", "alice", Priority.HIGH, clock.now, order=0, shape=("big", 64, 64, 2, 1)))
    queue.push(QueueEntry("warm-normal", "bob", Priority.NORMAL, clock.now, order=1, shape=("tiny", 64, 64, 2, 1)))
    assert queue.pop_next({"tiny"}).job_id == "cold-high"  # type: ignore[union-attr]


def test_without_loaded_models_the_order_is_plain_round_robin() -> None:
    clock = Clock()
    queue = make_queue(clock)
    for job, owner in [("a0", "alice"), ("a1", "alice"), ("b0", "bob")]:
        push(queue, clock, job, owner)
    assert [queue.pop_next({"other"}).job_id for _ in range(3)] == ["a0", "b0", "a1"]  # type: ignore[union-attr]
