"""The bots' settings file and environment."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from imagine import types as t

from bots.config import ConfigError, load_config, parse_config

EXAMPLE = """
banned_words = ["gore"]
[daemon]
socket = "/tmp/imagined.sock"
[defaults]
size = "512x512"
max_count = 2
[limits]
jobs_per_minute = 2.5
max_queued_per_user = 1
[priority]
roles = { "Patrons" = "high" }
channels = { "C9" = "LOW" }
[allow]
servers = ["123"]
[slack]
mode = "http"
"""


def test_a_file_and_the_environment_make_the_settings(tmp_path: Path) -> None:
    path = tmp_path / "bots.toml"
    path.write_text(EXAMPLE)
    config = load_config(path, {"DISCORD_TOKEN": "d-token", "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"})
    assert config.banned_words == ("gore",)
    assert config.daemon.socket == "/tmp/imagined.sock"
    assert (config.defaults.size, config.defaults.max_count, config.defaults.max_steps) == ("512x512", 2, 60)
    assert config.limits.jobs_per_minute == 2.5 and config.limits.max_queued_per_user == 1
    assert config.priority.roles == {"Patrons": t.Priority.HIGH} and config.priority.channels == {"C9": t.Priority.LOW}
    assert config.allow.servers == frozenset({"123"}) and not config.allow.channels
    assert config.discord.token == "d-token"
    assert (config.slack.bot_token, config.slack.app_token, config.slack.mode) == ("xoxb-1", "xapp-1", "http")


def test_no_file_means_every_default() -> None:
    config = load_config(None, {})
    assert config.discord.attachment_limit == 10 * 1024 * 1024 and config.slack.mode == "socket"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[limits]\nburst = -1", r"\[limits\] burst must be a number of zero or more, got -1"),
        ("[limits]\nmax_queued_per_user = 1.5", r"\[limits\] max_queued_per_user must be a whole number"),
        ("[limitz]\nburst = 1", r"limitz is not a setting"),
        ("[limits]\nbrust = 1", r"\[limits\] brust is not a setting; known: jobs_per_minute, burst"),
        ('[priority]\nroles = { "Mods" = "urgent" }', r'\[priority\] roles.Mods must be "low", "normal" or "high"'),
        ('[discord]\ntoken = "abc"', r"\[discord\] token: keep tokens out of the file; set \$DISCORD_TOKEN"),
        ('[slack]\nmode = "rtm"', r'\[slack\] mode must be "socket" or "http"'),
        ('[allow]\nservers = "123"', r"\[allow\] servers must be a list"),
    ],
)
def test_mistakes_name_the_setting(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(tomllib.loads(text), {})


def test_a_missing_or_broken_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml", {})
    broken = tmp_path / "broken.toml"
    broken.write_text("[limits\n")
    with pytest.raises(ConfigError, match="broken.toml is not valid TOML"):
        load_config(broken, {})
