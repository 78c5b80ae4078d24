"""A fake Slack Web API on loopback for slack_sdk's real AsyncWebClient, and signed Slack requests for Bolt.

Web API methods are answered at `/api/<method>`; `files.getUploadURLExternal`
hands out upload URLs on the same server, and `response_url`s point here too.
Files shared into the fake (`share`) are served at their `url_private`, to the
bot token only (anyone else gets Slack's HTML sign-in page, as from Slack).
Every call is recorded with its arguments.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from tests.bots.fake_http import Recorder

TEAM_ID = "T0001"
CHANNEL_ID = "C0001"
SIGNING_SECRET = "a-fake-signing-secret"
BOT_TOKEN = "xoxb-fake"
_ts = itertools.count(1)


@dataclass
class SlackCall:
    method: str  # the Web API method, "upload", "respond" or "files-pri" (a file download)
    args: dict[str, Any]
    body: bytes
    at: float
    reply: dict[str, Any]


class FakeSlack(Recorder[SlackCall]):
    def __init__(self) -> None:
        super().__init__()
        self.rate_limit_once: set[str] = set()  # the next call of these methods answers 429 ratelimited
        self.envelopes: asyncio.Queue[dict[str, Any]] = asyncio.Queue()  # to send over Socket Mode
        self.files: dict[str, bytes] = {}  # download path -> bytes

    def share(self, data: bytes, name: str, mimetype: str) -> dict[str, Any]:
        """A file as a message event lists it; its `url_private` serves `data` to the bot token."""
        file_id = f"F{next(_ts):06d}"
        path = f"/files-pri/{TEAM_ID}-{file_id}/{name}"
        self.files[path] = data
        return {"id": file_id, "name": name, "title": name, "mimetype": mimetype, "filetype": name.rpartition(".")[2],
                "size": len(data), "url_private": f"{self.url}{path}", "url_private_download": f"{self.url}{path}/download"}

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.path == "/socket-mode":
            return await self._socket_mode(request)
        if request.path.startswith("/files-pri/"):
            return await self._download(request)
        body = await request.read()
        path = request.path
        if path.startswith("/api/"):
            method, args = path.removeprefix("/api/"), _args(request, body)
        else:
            method, args = path.strip("/").split("/")[0], {}
        if method in self.rate_limit_once:
            self.rate_limit_once.discard(method)
            reply = {"ok": False, "error": "ratelimited"}
            await self.record(SlackCall(method, args, body, asyncio.get_running_loop().time(), reply))
            return web.json_response(reply, status=429, headers={"Retry-After": "0"})
        reply = {"ok": True, **self._answer(method, args)}
        await self.record(SlackCall(method, args, body, asyncio.get_running_loop().time(), reply))
        if method == "upload":
            return web.Response(text=f"OK - {len(body)}")
        if method == "respond":
            return web.Response(text="ok")
        return web.json_response(reply)

    async def _socket_mode(self, request: web.Request) -> web.WebSocketResponse:
        """Slack's Socket Mode: hello, then each queued envelope; every message the app sends back is recorded."""
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0001"}})

        async def send_envelopes() -> None:
            while True:
                await socket.send_json(await self.envelopes.get())

        sender = asyncio.create_task(send_envelopes())
        try:
            async for frame in socket:
                if frame.type == web.WSMsgType.TEXT:
                    data = frame.json()
                    await self.record(SlackCall("socket-mode-ack", data, frame.data.encode(), asyncio.get_running_loop().time(), {}))
        finally:
            sender.cancel()
        return socket

    async def _download(self, request: web.Request) -> web.Response:
        authorization = request.headers.get("Authorization", "")
        await self.record(SlackCall("files-pri", {"path": request.path, "authorization": authorization}, b"",
                                    asyncio.get_running_loop().time(), {}))
        data = self.files.get(request.path.removesuffix("/download"))
        if data is None:
            return web.Response(status=404)
        if authorization != f"Bearer {BOT_TOKEN}":
            return web.Response(text="<html>Sign in to Slack</html>", content_type="text/html")
        return web.Response(body=data, content_type="application/octet-stream")

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "apps.connections.open":
            return {"url": self.url.replace("http://", "ws://") + "/socket-mode"}
        if method == "auth.test":
            return {"url": "https://fake.slack.com/", "team": "fake", "user": "imagine", "team_id": TEAM_ID,
                    "user_id": "UBOT", "bot_id": "BBOT", "is_enterprise_install": False}
        if method == "chat.postMessage":
            return {"channel": args["channel"], "ts": f"{time.time():.0f}.{next(_ts):06d}", "message": {"text": args.get("text", "")}}
        if method in ("chat.update", "chat.delete"):
            return {"channel": args["channel"], "ts": args["ts"]}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(_ts):06d}"
            return {"upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            return {"files": [{"id": f["id"], "title": f.get("title", "")} for f in json.loads(args["files"])]}
        return {}

    def calls_of(self, method: str, predicate: Callable[[SlackCall], bool] = lambda c: True) -> list[SlackCall]:
        return [c for c in self.calls if c.method == method and predicate(c)]


def _args(request: web.Request, body: bytes) -> dict[str, Any]:
    """A method's arguments: slack_sdk sends them as JSON, a form, or query parameters."""
    if request.content_type == "application/json":
        return dict(request.query) | json.loads(body or b"{}")
    return dict(request.query) | dict(parse_qsl(body.decode()))


def signed(body: str, secret: str = SIGNING_SECRET,
           content_type: str = "application/x-www-form-urlencoded") -> dict[str, str]:
    """The headers Slack sends with `body`, signed as Slack signs it."""
    timestamp = str(int(time.time()))
    return {
        "content-type": content_type,
        "x-slack-request-timestamp": timestamp,
        "x-slack-signature": SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body),
    }


def slash_command(text: str, user_id: str, response_url: str) -> str:
    return urlencode(slash_command_fields(text, user_id, response_url))


def slash_command_fields(text: str, user_id: str, response_url: str) -> dict[str, str]:
    return {
        "token": "legacy", "team_id": TEAM_ID, "team_domain": "fake", "channel_id": CHANNEL_ID, "channel_name": "art",
        "user_id": user_id, "user_name": f"user-{user_id}", "command": "/imagine", "text": text,
        "api_app_id": "A0001", "response_url": response_url, "trigger_id": "1.2.3",
    }


def button_click(action_id: str, user_id: str, message_ts: str, response_url: str) -> str:
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "fake"},
        "user": {"id": user_id, "username": f"user-{user_id}", "team_id": TEAM_ID},
        "api_app_id": "A0001",
        "token": "legacy",
        "container": {"type": "message", "message_ts": message_ts, "channel_id": CHANNEL_ID, "is_ephemeral": False},
        "trigger_id": "1.2.3",
        "channel": {"id": CHANNEL_ID, "name": "art"},
        "message": {"type": "message", "ts": message_ts, "text": "", "user": "UBOT"},
        "response_url": response_url,
        "actions": [{"action_id": action_id, "block_id": "imagine", "value": action_id, "type": "button",
                     "action_ts": f"{time.time():.6f}", "text": {"type": "plain_text", "text": "x"}}],
    }
    return urlencode({"payload": json.dumps(payload)})


def mention(text: str, user_id: str, files: list[dict[str, Any]]) -> str:
    """The Events API body of `user_id` posting `text` (mentioning the bot) with `files` attached."""
    ts = f"{time.time():.0f}.{next(_ts):06d}"
    event = {"type": "app_mention", "user": user_id, "text": text, "ts": ts, "event_ts": ts, "channel": CHANNEL_ID,
             "team": TEAM_ID, "files": files, "upload": bool(files)}
    return json.dumps({
        "token": "legacy", "team_id": TEAM_ID, "api_app_id": "A0001", "type": "event_callback", "event": event,
        "event_id": f"Ev{next(_ts):08d}", "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM_ID, "user_id": "UBOT", "is_bot": True, "is_enterprise_install": False}],
    })


def message_shortcut(callback_id: str, user_id: str, files: list[dict[str, Any]]) -> str:
    """`user_id` choosing the message shortcut `callback_id` on a message with `files`."""
    ts = f"{time.time():.0f}.{next(_ts):06d}"
    payload = {
        "type": "message_action", "callback_id": callback_id, "trigger_id": "1.2.3", "action_ts": ts,
        "team": {"id": TEAM_ID, "domain": "fake"}, "channel": {"id": CHANNEL_ID, "name": "art"},
        "user": {"id": user_id, "username": f"user-{user_id}", "team_id": TEAM_ID}, "token": "legacy",
        "message": {"type": "message", "user": "U0OTHER", "ts": ts, "text": "look at this", "files": files},
        "response_url": "", "message_ts": ts,
    }
    return urlencode({"payload": json.dumps(payload)})
