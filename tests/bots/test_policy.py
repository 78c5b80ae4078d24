"""Allow-lists, banned words, per-person rates and priorities: the checks that need no daemon."""

from __future__ import annotations

import asyncio

import pytest
from imagine import types as t

from bots.buckets import TokenBucket, take_all
from bots.config import Allow, BotConfig, Limits, PrioritySettings
from bots.policy import ChatUser, Gate, Place, Refused

ALICE = ChatUser("discord", "1", roles=frozenset({"Patrons"}))
BOB = ChatUser("slack", "U2", team_id="T1")
HERE = Place("guild", "chan")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_owners_name_the_platform_and_the_person() -> None:
    assert ALICE.owner == "discord:1" and BOB.owner == "slack:T1:U2"


def test_allow_lists_of_servers_and_channels() -> None:
    gate = Gate(BotConfig(allow=Allow(servers=frozenset({"guild"}), channels=frozenset({"chan"}))))
    gate.check_place(HERE)
    with pytest.raises(Refused, match="not enabled on this server"):
        gate.check_place(Place("elsewhere", "chan"))
    with pytest.raises(Refused, match="not enabled in this channel"):
        gate.check_place(Place("guild", "general"))


def test_banned_words_match_whole_words_in_any_case() -> None:
    gate = Gate(BotConfig(banned_words=("gore",)))
    with pytest.raises(Refused, match="“Gore”"):
        gate.check_words("a cat", "Gore everywhere")
    gate.check_words("a gorey story")  # only whole words


def test_a_person_may_burst_then_waits_for_the_rate() -> None:
    clock = Clock()
    gate = Gate(BotConfig(limits=Limits(jobs_per_minute=6, burst=2)), clock)
    gate.take_turn(ALICE)
    gate.take_turn(ALICE)
    with pytest.raises(Refused, match=r"\(6 a minute\); you can start the next one in 10 s"):
        gate.take_turn(ALICE)
    gate.take_turn(BOB)  # everyone has their own
    clock.now += 10
    gate.take_turn(ALICE)


def test_a_turn_given_back_can_be_taken_again() -> None:
    gate = Gate(BotConfig(limits=Limits(jobs_per_minute=1, burst=1)), Clock())
    gate.take_turn(ALICE)
    gate.give_back_turn(ALICE)
    gate.take_turn(ALICE)


def test_the_queued_cap() -> None:
    gate = Gate(BotConfig(limits=Limits(max_queued_per_user=3)))
    gate.check_queued(ALICE, 2)
    with pytest.raises(Refused, match="You already have 3 images waiting or in progress .* is 3"):
        gate.check_queued(ALICE, 3)


def test_the_highest_priority_of_roles_and_channel_wins() -> None:
    settings = PrioritySettings(t.Priority.LOW, {"Patrons": t.Priority.HIGH}, {"slow": t.Priority.NORMAL})
    gate = Gate(BotConfig(priority=settings))
    assert gate.priority(ALICE, Place("g", "slow")) is t.Priority.HIGH
    assert gate.priority(BOB, Place("g", "slow")) is t.Priority.NORMAL
    assert gate.priority(BOB, HERE) is t.Priority.LOW


def test_a_bucket_refills_at_its_rate_up_to_its_capacity() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=0.5, capacity=2, clock=clock)
    assert bucket.try_take() and bucket.try_take() and not bucket.try_take()
    assert bucket.wait_time() == pytest.approx(2.0)
    clock.now += 100
    assert bucket.try_take() and bucket.try_take() and not bucket.try_take()
    with pytest.raises(ValueError, match="rate > 0"):
        TokenBucket(0)


async def test_take_all_waits_for_the_slowest_bucket_and_spends_its_token() -> None:
    quick, slow = TokenBucket(rate=100, capacity=1), TokenBucket.every(0.2)
    slow.try_take()
    loop = asyncio.get_running_loop()
    started = loop.time()
    await take_all([quick, slow])
    assert loop.time() - started >= 0.2 * 0.9
    assert slow.wait_time() > 0
