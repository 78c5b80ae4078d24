"""A loopback imitation of a Hugging Face style hub, for download tests; it never leaves 127.0.0.1.

It answers the two requests models.download makes, the way the hub does:
  GET /api/models/{org}/{name}[/revision/{rev}]?blobs=true -> {"sha": ..., "siblings": [{"rfilename", "size", "lfs"}]}
  GET /{org}/{name}/resolve/{rev}/{path}                  -> the file; LFS files (weights) by a 302 to /cdn/...
      carrying X-Linked-Etag (the sha256) and X-Linked-Size, as the hub's redirect to its storage does
plus GET /files/{name} for plain single-file downloads. Range requests get 206. Every request is recorded,
and a test can make one file drop its connection part-way once, or be served with corrupted bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

LFS_SUFFIXES = (".safetensors", ".bin", ".ckpt", ".onnx", ".msgpack", ".png", ".pt")


@dataclass
class Repo:
    files: dict[str, bytes]
    sha: str = "0123456789abcdef0123456789abcdef01234567"
    branches: tuple[str, ...] = ("main",)
    token: str | None = None  # when set, the repo is private: requests need "Authorization: Bearer <token>"


@dataclass
class Served:
    method: str
    path: str
    headers: dict[str, str]
    status: int = 0
    body_bytes: int = 0


@dataclass
class FakeHub:
    repos: dict[str, Repo] = field(default_factory=dict)
    plain_files: dict[str, tuple[bytes, dict[str, str]]] = field(default_factory=dict)  # /files/<name>
    drop_once: dict[str, int] = field(default_factory=dict)  # url path -> bytes to send before hanging up, once
    corrupt: dict[str, bytes] = field(default_factory=dict)  # url path -> bytes served instead (same ETag)
    ignore_range: bool = False  # answer Range requests with the whole file, as some servers do
    requests: list[Served] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def served(self, fragment: str) -> list[Served]:
        with self.lock:
            return [r for r in self.requests if fragment in r.path]

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _git_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        hub = self.server.hub
        record = Served("GET", self.path, {k: v for k, v in self.headers.items()})
        with hub.lock:
            hub.requests.append(record)
        path = unquote(urlsplit(self.path).path)
        try:
            self._route(hub, path, record)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _json(self, status: int, body: object, record: Served, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        record.status = status
        self.send_response(status)
        for key, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        record.body_bytes = len(data)

    def _repo(self, hub: FakeHub, repo_id: str, rev: str, record: Served) -> Repo | None:
        repo = hub.repos.get(repo_id)
        if repo is None:
            self._json(404, {"error": "Repository not found"}, record, {"X-Error-Code": "RepoNotFound"})
            return None
        if repo.token is not None and self.headers.get("Authorization") != f"Bearer {repo.token}":
            self._json(401, {"error": "Invalid credentials"}, record)
            return None
        if rev != repo.sha and rev not in repo.branches:
            self._json(404, {"error": f"Invalid rev id: {rev}"}, record, {"X-Error-Code": "RevisionNotFound"})
            return None
        return repo

    def _route(self, hub: FakeHub, path: str, record: Served) -> None:
        if m := re.fullmatch(r"/api/models/([^/]+/[^/]+)(?:/revision/([^/]+))?", path):
            repo = self._repo(hub, m[1], m[2] or "main", record)  # no revision: the default branch
            if repo is not None:
                siblings = []
                for name, data in sorted(repo.files.items()):
                    sibling: dict[str, object] = {"rfilename": name, "size": len(data), "blobId": _git_sha1(data)}
                    if name.endswith(LFS_SUFFIXES):
                        sibling["lfs"] = {"sha256": _sha256(data), "size": len(data), "pointerSize": 134}
                    siblings.append(sibling)
                self._json(200, {"id": m[1], "sha": repo.sha, "siblings": siblings}, record)
            return
        if m := re.fullmatch(r"/([^/]+/[^/]+)/resolve/([^/]+)/(.+)", path):
            repo = self._repo(hub, m[1], m[2], record)
            if repo is None:
                return
            name = m[3]
            if name not in repo.files:
                self._json(404, {"error": "Entry not found"}, record, {"X-Error-Code": "EntryNotFound"})
                return
            data = repo.files[name]
            if name.endswith(LFS_SUFFIXES):  # the hub sends LFS files to its storage, naming the sha256 on the way
                record.status = 302
                self.send_response(302)
                self.send_header("Location", f"/cdn/{m[1]}/{_sha256(data)}/{name}")
                self.send_header("X-Linked-Etag", f'"{_sha256(data)}"')
                self.send_header("X-Linked-Size", str(len(data)))
                self.send_header("ETag", f'"{_git_sha1(data)}"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self._send_file(hub, path, data, {"ETag": f'"{_git_sha1(data)}"'}, record)
            return
        if m := re.fullmatch(r"/cdn/([^/]+/[^/]+)/([0-9a-f]{64})/(.+)", path):
            stored = hub.repos.get(m[1])
            blob = stored.files.get(m[3]) if stored is not None else None
            if stored is None or blob is None or _sha256(blob) != m[2]:
                self._json(404, {"error": "no such object"}, record)
                return
            # Storage's own ETag is an MD5, not the sha256: the client must take the hash from the redirect.
            self._send_file(hub, f"/{m[1]}/resolve/{stored.sha}/{m[3]}", blob,
                            {"ETag": f'"{hashlib.md5(blob).hexdigest()}"'}, record)  # fmt: skip
            return
        if m := re.fullmatch(r"/files/(.+)", path):
            entry = hub.plain_files.get(m[1])
            if entry is None:
                self._json(404, {"error": "not found"}, record)
                return
            self._send_file(hub, path, entry[0], entry[1], record)
            return
        self._json(404, {"error": "no route"}, record)

    def _send_file(self, hub: FakeHub, key: str, data: bytes, headers: dict[str, str], record: Served) -> None:
        """Serve data, honouring Range; `key` names the file for drop_once and corrupt (its resolve path)."""
        with hub.lock:
            body_of_file = hub.corrupt.get(key, data)
            drop_after = hub.drop_once.pop(key, None)
        start = 0
        wanted = self.headers.get("Range")
        if wanted and not hub.ignore_range and (m := re.fullmatch(r"bytes=(\d+)-", wanted.strip())):
            start = int(m[1])
            if start >= len(data):
                record.status = 416
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        body = body_of_file[start:]
        status = 206 if start else 200
        record.status = status
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if drop_after is not None:
            self.wfile.write(body[:drop_after])
            self.wfile.flush()
            record.body_bytes = min(drop_after, len(body))
            self.connection.shutdown(socket.SHUT_RDWR)  # hang up mid-file
            self.close_connection = True
            return
        self.wfile.write(body)
        record.body_bytes = len(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    hub: FakeHub


@contextmanager
def running_hub(hub: FakeHub, handler: type[_Handler] | None = None) -> Iterator[FakeHub]:
    """Serve hub on 127.0.0.1 at a free port, in a thread, until the block ends."""
    server = _Server(("127.0.0.1", 0), handler or _Handler)
    server.hub = hub
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
