"""Who may ask for what, where, how often, and at which priority.

`Gate.admit` raises `Refused` with a sentence to show the person; it checks
the allow-lists, the banned words and the person's rate, all without the
daemon. The cap on queued jobs needs the daemon and is `Gate.check_queued`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from imagine import types as t

from bots.buckets import TokenBucket
from bots.config import BotConfig


class Refused(Exception):
    """A request the bot turns down; the message is the reply."""


@dataclass(frozen=True)
class ChatUser:
    """A person on a chat platform; `owner` is who the daemon records the jobs as."""

    platform: str  # "discord" | "slack"
    user_id: str
    team_id: str = ""  # the Slack workspace
    roles: frozenset[str] = frozenset()  # Discord role ids and names
    name: str = ""

    @property
    def owner(self) -> str:
        if self.platform == "slack":
            return f"slack:{self.team_id}:{self.user_id}"
        return f"{self.platform}:{self.user_id}"


@dataclass(frozen=True)
class Place:
    """Where a request was made: a server (Discord guild, Slack team) and a channel."""

    server_id: str
    channel_id: str
    age_restricted: bool = False


class Gate:
    def __init__(self, config: BotConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        words = [re.escape(w.strip()) for w in config.banned_words if w.strip()]
        self._banned = re.compile(r"\b(" + "|".join(words) + r")\b", re.IGNORECASE) if words else None

    def check_place(self, place: Place) -> None:
        allow = self.config.allow
        if allow.servers and place.server_id not in allow.servers:
            raise Refused("Image generation is not enabled on this server.")
        if allow.channels and place.channel_id not in allow.channels:
            raise Refused("Image generation is not enabled in this channel; try one of the bot channels.")

    def check_words(self, *texts: str) -> None:
        if self._banned is None:
            return
        for text in texts:
            if match := self._banned.search(text):
                raise Refused(f"Your prompt contains a word that is not allowed here (“{match.group(0)}”).")

    def take_turn(self, user: ChatUser) -> None:
        """Spend one of the person's image starts, or refuse saying when they may start the next."""
        limits = self.config.limits
        bucket = self._buckets.get(user.owner)
        if bucket is None:
            bucket = TokenBucket(limits.jobs_per_minute / 60.0, max(1, limits.burst), self._clock)
            self._buckets[user.owner] = bucket
        if not bucket.try_take():
            wait = max(1, round(bucket.wait_time()))
            raise Refused(
                f"You're making images faster than this server allows ({limits.jobs_per_minute:g} a minute); "
                f"you can start the next one in {wait} s."
            )

    def give_back_turn(self, user: ChatUser) -> None:
        """The image was not started after all (the daemon refused it): the turn is not spent."""
        if bucket := self._buckets.get(user.owner):
            bucket.give_back()

    def admit(self, user: ChatUser, place: Place, *texts: str) -> None:
        self.check_place(place)
        self.check_words(*texts)
        self.take_turn(user)

    def check_queued(self, user: ChatUser, active_jobs: int) -> None:
        cap = self.config.limits.max_queued_per_user
        if active_jobs >= cap:
            raise Refused(
                f"You already have {active_jobs} images waiting or in progress (the most one person may have here "
                f"is {cap}); wait for one to finish or cancel one with /cancel."
            )

    def priority(self, user: ChatUser, place: Place) -> t.Priority:
        """The highest priority any of the person's roles, or the channel, is given; else the default."""
        settings = self.config.priority
        found = [settings.roles[r] for r in user.roles if r in settings.roles]
        if place.channel_id in settings.channels:
            found.append(settings.channels[place.channel_id])
        return max(found, key=lambda p: p.rank) if found else settings.default
