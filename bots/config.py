"""The bots' settings: a TOML file, then environment variables for the secrets.

    [daemon]            socket = "/run/user/1000/imagined/imagined.sock"   (or address = "host:port")
    [defaults]          model, size = "512x512", steps, count; max_count, max_steps, max_side
    [limits]            jobs_per_minute, burst, max_queued_per_user
    [priority]          default = "normal"; roles = { "Patrons" = "high" }; channels = { "C0123" = "low" }
    [allow]             servers = [...] (Discord guild ids / Slack team ids), channels = [...]; empty = all
    banned_words        = ["..."]  (top level)
    state_dir           = "..."    (top level) where a bot keeps the messages it is still updating
    [discord]           edit_interval, previews, preview_interval, attachment_limit, token_lifetime, sync_guilds
    [slack]             mode = "socket" | "http", port, edit_interval, channel_interval, workspace_updates_per_minute

Tokens come from the environment only: DISCORD_TOKEN, SLACK_BOT_TOKEN,
SLACK_APP_TOKEN (Socket Mode) and SLACK_SIGNING_SECRET (HTTP mode).
Every mistake raises `ConfigError` naming the key and what it accepts.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imagine import types as t


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class DaemonSettings:
    socket: str = ""
    address: str = ""


@dataclass(frozen=True)
class Defaults:
    model: str = ""
    size: str = ""  # "WIDTHxHEIGHT"; empty = the model's own
    steps: int = 0
    count: int = 1
    max_count: int = 4
    max_steps: int = 60
    max_side: int = 1536


@dataclass(frozen=True)
class Limits:
    jobs_per_minute: float = 6.0  # a person's sustained rate of new images
    burst: int = 3                # how many they may start at once before the rate applies
    max_queued_per_user: int = 4  # their jobs queued or running at one time


@dataclass(frozen=True)
class PrioritySettings:
    default: t.Priority = t.Priority.NORMAL
    roles: Mapping[str, t.Priority] = field(default_factory=dict)     # Discord role id or name
    channels: Mapping[str, t.Priority] = field(default_factory=dict)  # channel id


@dataclass(frozen=True)
class Allow:
    servers: frozenset[str] = frozenset()   # Discord guild ids, Slack team ids; empty = every one
    channels: frozenset[str] = frozenset()  # empty = every channel


@dataclass(frozen=True)
class DiscordSettings:
    token: str = ""
    edit_interval: float = 1.5      # seconds between two progress edits of one message
    previews: bool = True           # show a small preview image while an image is being made
    preview_interval: float = 4.0   # seconds between two preview uploads
    attachment_limit: int = 10 * 1024 * 1024
    token_lifetime: float = 14 * 60.0  # an interaction token lasts 15 minutes; move on a minute early
    sync_guilds: tuple[str, ...] = ()  # sync commands to these guilds at start (instant); empty = global


@dataclass(frozen=True)
class SlackSettings:
    bot_token: str = ""
    app_token: str = ""
    signing_secret: str = ""
    mode: str = "socket"  # "socket" (no public URL needed) or "http"
    port: int = 3000
    edit_interval: float = 2.0                # seconds between two updates of one message
    channel_interval: float = 1.0             # Slack allows about one message a second per channel
    workspace_updates_per_minute: float = 50.0  # chat.update is a Tier 3 method: about 50 a minute


@dataclass(frozen=True)
class BotConfig:
    daemon: DaemonSettings = DaemonSettings()
    defaults: Defaults = Defaults()
    limits: Limits = Limits()
    priority: PrioritySettings = PrioritySettings()
    allow: Allow = Allow()
    banned_words: tuple[str, ...] = ()
    state_dir: str = ""  # where a bot remembers the messages it is updating; default: the user state dir
    discord: DiscordSettings = DiscordSettings()
    slack: SlackSettings = SlackSettings()


def pending_file(config: BotConfig, platform: str) -> Path:
    """The file a bot keeps the messages it is still updating in (one per platform)."""
    import platformdirs
    from imagine.address import APP_NAME

    folder = Path(config.state_dir).expanduser() if config.state_dir else Path(platformdirs.user_state_dir(APP_NAME))
    return folder / f"{platform}-messages.json"


_SECRETS = {
    ("discord", "token"): "DISCORD_TOKEN",
    ("slack", "bot_token"): "SLACK_BOT_TOKEN",
    ("slack", "app_token"): "SLACK_APP_TOKEN",
    ("slack", "signing_secret"): "SLACK_SIGNING_SECRET",
}


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> BotConfig:
    """The settings from `path` (none: every default) with the tokens from `environ`."""
    environ = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise ConfigError(f"the bot config file {path} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    return parse_config(data, environ)


def parse_config(data: Mapping[str, Any], environ: Mapping[str, str]) -> BotConfig:
    data = dict(data)
    for (section, key), variable in _SECRETS.items():
        if key in data.get(section, {}):
            raise ConfigError(f"[{section}] {key}: keep tokens out of the file; set ${variable} instead")
        if environ.get(variable):
            data[section] = dict(data.get(section, {})) | {key: environ[variable]}
    config = _build(BotConfig, data, "")
    if config.slack.mode not in ("socket", "http"):
        raise ConfigError(f'[slack] mode must be "socket" or "http", got {config.slack.mode!r}')
    return config


def _build(cls: type, data: Mapping[str, Any], where: str) -> Any:
    if not isinstance(data, Mapping):
        raise ConfigError(f"[{where}] must be a table")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(f"{_name(where, unknown[0])} is not a setting; known: {', '.join(fields)}")
    values = {}
    for name, value in data.items():
        default = getattr(cls(), name)
        key = _name(where, name)
        if dataclasses.is_dataclass(default):
            values[name] = _build(type(default), value, f"{where}.{name}".strip("."))
        else:
            values[name] = _value(key, default, value)
    return cls(**values)


def _name(where: str, key: str) -> str:
    return f"[{where}] {key}" if where else key


def _value(key: str, default: Any, value: Any) -> Any:
    if isinstance(default, t.Priority):
        return _priority(key, value)
    if isinstance(default, Mapping):
        if not isinstance(value, Mapping):
            raise ConfigError(f'{key} must be a table like {{ "name" = "high" }}')
        return {str(k): _priority(f"{key}.{k}", v) for k, v in value.items()}
    if isinstance(default, (tuple, frozenset)):
        if not isinstance(value, list):
            raise ConfigError(f"{key} must be a list, got {value!r}")
        return type(default)(str(v) for v in value)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{key} must be true or false, got {value!r}")
        return value
    if isinstance(default, (int, float)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ConfigError(f"{key} must be a number of zero or more, got {value!r}")
        if isinstance(default, int) and not isinstance(default, bool) and value != int(value):
            raise ConfigError(f"{key} must be a whole number, got {value!r}")
        return type(default)(value)
    if not isinstance(value, str):
        raise ConfigError(f"{key} must be a string, got {value!r}")
    return value


def _priority(key: str, value: Any) -> t.Priority:
    try:
        return t.Priority(str(value).lower())
    except ValueError:
        raise ConfigError(f'{key} must be "low", "normal" or "high", got {value!r}') from None
