"""A fake Discord HTTP API on loopback, for discord.py's real HTTP code; and gateway-shaped interaction payloads.

Point `discord.http.Route.BASE` at `FakeDiscord.base` and discord.py's REST
and webhook calls land here; every call is recorded with its JSON payload
and uploaded files. Interactions are fed to the client's own gateway parser
(`ConnectionState.parse_interaction_create`), as if they came from the gateway.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any

import discord
from aiohttp import web

from tests.bots.fake_http import Recorder

APP_ID = "700000000000000001"
BOT_ID = "700000000000000002"
GUILD_ID = "700000000000000003"
CHANNEL_ID = "700000000000000004"
BOT_USER = {"id": BOT_ID, "username": "imagine", "discriminator": "0", "avatar": None, "bot": True, "global_name": None}
_ids = itertools.count(1)


def snowflake() -> str:
    """A fresh id made of the current time, as Discord's are (interaction ages are read from it)."""
    return str(discord.utils.time_snowflake(discord.utils.utcnow()) + next(_ids))


@dataclass
class Call:
    method: str
    path: str
    payload: dict[str, Any]
    files: list[tuple[str, bytes]] = field(default_factory=list)
    at: float = 0.0

    @property
    def content(self) -> str:
        return str(self.payload.get("content") or self.payload.get("data", {}).get("content") or "")

    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for row in self.payload.get("components", []) for c in row.get("components", [])]


class FakeDiscord(Recorder[Call]):
    def __init__(self) -> None:
        super().__init__()
        self.expired_tokens: set[str] = set()  # editing these answers 401 Invalid Webhook Token
        self.rate_limit_once: set[str] = set()  # the first edit with these answers 429, as Discord's API does
        self.originals: dict[str, str] = {}  # interaction token -> the id of its response message
        self.cdn: dict[str, bytes] = {}  # attachment path -> its bytes, served as Discord's CDN serves them

    @property
    def base(self) -> str:
        """What `discord.http.Route.BASE` is set to."""
        return f"{self.url}/api/v10"

    def matching(self, method: str, pattern: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and re.fullmatch(pattern, c.path)]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path.removeprefix("/api/v10")
        payload, files = await _read_body(request)
        call = Call(request.method, path, payload, files, asyncio.get_running_loop().time())
        await self.record(call)
        return self._answer(call)

    def attach(self, data: bytes, filename: str, content_type: str | None) -> dict[str, Any]:
        """An attachment as an interaction's `resolved` data describes it; its URL serves `data`."""
        attachment_id = snowflake()
        path = f"/attachments/{CHANNEL_ID}/{attachment_id}/{filename}"
        self.cdn[path] = data
        url = f"{self.url}{path}"
        described = {"id": attachment_id, "filename": filename, "size": len(data), "url": url, "proxy_url": url}
        return described | ({"content_type": content_type} if content_type else {})

    def _answer(self, call: Call) -> web.StreamResponse:
        method, path = call.method, call.path
        if path.startswith("/attachments/"):
            data = self.cdn.get(path)
            return web.Response(body=data) if data is not None else web.Response(status=404)
        if path == "/users/@me":
            return _json(BOT_USER)
        if path == "/oauth2/applications/@me":
            return _json(APPLICATION)
        if method == "PUT" and path.endswith("/commands"):
            commands = call.payload if isinstance(call.payload, list) else []
            return _json([{**c, "id": snowflake(), "application_id": APP_ID, "version": "1"} for c in commands])
        if match := re.fullmatch(r"/interactions/(\d+)/[^/]+/callback", path):
            return _json({"interaction": {"id": match.group(1), "type": 2}})
        if match := re.fullmatch(r"/webhooks/\d+/([^/]+)/messages/@original", path):
            if match.group(1) in self.expired_tokens:
                return _json({"code": 50027, "message": "Invalid Webhook Token"}, status=401)
            if method == "PATCH" and match.group(1) in self.rate_limit_once:
                self.rate_limit_once.discard(match.group(1))
                return _rate_limited(RATE_LIMIT_RETRY)
            return _message_or_nothing(call, message_id=self.originals.setdefault(match.group(1), snowflake()))
        if match := re.fullmatch(r"/channels/(\d+)/messages(?:/(\d+))?", path):
            return _message_or_nothing(call, channel_id=match.group(1), message_id=match.group(2))
        if re.fullmatch(r"/webhooks/\d+/[^/]+", path):
            return _message_or_nothing(call)
        return _json({"code": 0, "message": f"the fake Discord has no {method} {path}"}, status=404)


def _json(data: Any, status: int = 200) -> web.Response:
    """JSON as Discord sends it: discord.py reads a body as JSON only under exactly `application/json`."""
    headers = {"Content-Type": "application/json", **RATE_LIMIT_HEADERS}
    return web.Response(body=json.dumps(data).encode(), status=status, headers=headers)


RATE_LIMIT_RETRY = 0.5


def _rate_limited(retry_after: float) -> web.Response:
    """A 429 as Discord's API sends it (the `Via` header tells it apart from a Cloudflare ban)."""
    body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": False}
    headers = {
        "Content-Type": "application/json",
        "Via": "1.1 google",
        "Retry-After": str(retry_after),
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset-After": str(retry_after),
        "X-RateLimit-Scope": "user",
    }
    return web.Response(body=json.dumps(body).encode(), status=429, headers=headers)


RATE_LIMIT_HEADERS = {  # read by discord.py's buckets, as Discord's are
    "X-RateLimit-Limit": "5",
    "X-RateLimit-Remaining": "4",
    "X-RateLimit-Reset-After": "1.0",
    "X-RateLimit-Bucket": "fake-bucket",
}

APPLICATION = {
    "id": APP_ID,
    "name": "imagine",
    "description": "",
    "icon": None,
    "bot_public": True,
    "bot_require_code_grant": False,
    "owner": BOT_USER,
    "verify_key": "0" * 64,
    "flags": 0,
}


def _message_or_nothing(call: Call, channel_id: str = CHANNEL_ID, message_id: str | None = None) -> web.StreamResponse:
    if call.method == "DELETE":
        return web.Response(status=204)
    return _json(message(call.content, channel_id, message_id or snowflake(), call.payload.get("components", [])))


def message(content: str, channel_id: str = CHANNEL_ID, message_id: str | None = None, components: list[Any] | None = None) -> dict[str, Any]:
    return {
        "id": message_id or snowflake(),
        "channel_id": channel_id,
        "type": 0,
        "content": content,
        "author": BOT_USER,
        "attachments": [],
        "embeds": [],
        "mentions": [],
        "mention_roles": [],
        "pinned": False,
        "mention_everyone": False,
        "tts": False,
        "timestamp": discord.utils.utcnow().isoformat(),
        "edited_timestamp": None,
        "flags": 0,
        "components": components or [],
    }


async def _read_body(request: web.Request) -> tuple[Any, list[tuple[str, bytes]]]:
    if request.content_type.startswith("multipart/"):
        payload: Any = {}
        files: list[tuple[str, bytes]] = []
        reader = await request.multipart()
        async for part in reader:
            data = await part.read()  # type: ignore[union-attr]
            if part.name == "payload_json":  # type: ignore[union-attr]
                payload = json.loads(data)
            else:
                files.append((part.filename or "", bytes(data)))  # type: ignore[union-attr]
        return payload, files
    body = await request.read()
    return (json.loads(body) if body else {}), []


def member(user_id: str, roles: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "user": {"id": user_id, "username": f"user{user_id[-4:]}", "discriminator": "0", "avatar": None, "global_name": None},
        "roles": list(roles),
        "joined_at": "2024-01-01T00:00:00+00:00",
        "deaf": False,
        "mute": False,
        "flags": 0,
        "permissions": "2147483647",
    }


def interaction(kind: int, data: dict[str, Any], user_id: str, *, nsfw: bool = False, size_limit: int = 10 * 1024 * 1024, **extra: Any) -> dict[str, Any]:
    interaction_id = snowflake()
    return {
        "id": interaction_id,
        "application_id": APP_ID,
        "type": kind,
        "token": f"token-{interaction_id}",
        "version": 1,
        "guild_id": GUILD_ID,
        "channel_id": CHANNEL_ID,
        "channel": {"id": CHANNEL_ID, "type": 0, "guild_id": GUILD_ID, "name": "art", "position": 0, "nsfw": nsfw, "permission_overwrites": []},
        "member": member(user_id),
        "data": data,
        "locale": "en-US",
        "app_permissions": "2147483647",
        "attachment_size_limit": size_limit,
        "entitlements": [],
        "authorizing_integration_owners": {},
        "context": 0,
        **extra,
    }


_OPTION_TYPES = {str: 3, int: 4, float: 10}
ATTACHMENT_OPTION = 11


def slash(name: str, user_id: str, **options: Any) -> dict[str, Any]:
    """The INTERACTION_CREATE payload of `/name option:value ...` typed by `user_id`."""
    limit = options.pop("size_limit", 10 * 1024 * 1024)
    data = {
        "id": "800000000000000001",
        "name": name,
        "type": 1,
        "options": [{"name": k, "type": _OPTION_TYPES[type(v)], "value": v} for k, v in options.items()],
    }
    return interaction(2, data, user_id, size_limit=limit)


def slash_with_attachment(name: str, user_id: str, attachment: dict[str, Any], **options: Any) -> dict[str, Any]:
    """`/name image:<attachment> option:value ...`; `attachment` as `FakeDiscord.attach` describes it."""
    payload = slash(name, user_id, **options)
    payload["data"]["options"].insert(0, {"name": "image", "type": ATTACHMENT_OPTION, "value": attachment["id"]})
    payload["data"]["resolved"] = {"attachments": {attachment["id"]: attachment}}
    return payload


def click(custom_id: str, user_id: str, on_message: dict[str, Any]) -> dict[str, Any]:
    """The INTERACTION_CREATE payload of `user_id` clicking the button `custom_id` under `on_message`."""
    return interaction(3, {"custom_id": custom_id, "component_type": 2}, user_id, message=on_message)
