"""Model pulls as daemon tasks: they outlive the RPC that started them, and any number of callers watch one.

A pull runs models.download on a worker thread (HF_ENDPOINT and HF_TOKEN come from the daemon's
environment), then probes and registers what arrived. Callers follow it through `watch`, which
yields the latest progress as it changes and ends with the registered model or the pull's error.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from imagine import types as t
from daemon.errors import DaemonError, InvalidRequest
from daemon.model_errors import (
    ModelExists,
    PullCancelled,
    PullCorrupt,
    PullNotFound,
    PullRefused,
    PullUnavailable,
)
from daemon.model_registry import Registry, check_name, describe

log = logging.getLogger(__name__)
SHA256 = re.compile(r"[0-9a-fA-F]{64}")
HUB_REF = re.compile(r"(?P<repo>[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95})(?:@(?P<revision>[\w./-]+))?")


@dataclass
class Pull:
    name: str
    source: str
    progress: t.PullProgress
    cancelled: threading.Event = field(default_factory=threading.Event)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[dict[str, Any]] | None = None
    result: t.Model | None = None
    error: BaseException | None = None
    finished: bool = False


def _daemon_error(exc: BaseException, what: str) -> BaseException:
    """models.download's errors as the daemon's, keeping their sentences."""
    from models.errors import Cancelled, DownloadFailed, ModelError, ModelNotFound

    message = str(exc)
    if isinstance(exc, Cancelled):
        return PullCancelled(f"the pull of {what} was cancelled; pull it again to resume where it stopped")
    if isinstance(exc, ModelNotFound):
        return PullNotFound(message)
    if isinstance(exc, DownloadFailed):
        if "checksum mismatch" in message:
            return PullCorrupt(message)
        if "token" in message and re.search(r"HTTP 40[13]", message):
            return PullRefused(message)
        return PullUnavailable(message)
    if isinstance(exc, ModelError):
        return InvalidRequest("source", message)
    return exc


def _same_origin(origin: str, source: str, kind: str) -> bool:
    if kind == "url":
        return origin == source
    return origin.split("@")[0] == source.split("@")[0]


class Pulls:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.running: dict[str, Pull] = {}

    def _plan(self, source: str, name: str, sha256: str) -> tuple[str, str, str | None]:
        """(kind "hub" or "url", the model name, the hub revision)."""
        source = source.strip()
        if not source:
            raise InvalidRequest("source", "source is required: a hub repo id (org/name[@revision]) or an http(s) URL")
        if sha256 and not SHA256.fullmatch(sha256):
            raise InvalidRequest("sha256", f"'{sha256}' is not a sha256 checksum: it should be 64 hexadecimal digits")
        if urlsplit(source).scheme in ("http", "https"):
            stem = unquote(urlsplit(source).path.rsplit("/", 1)[-1]).rsplit(".", 1)[0]
            return "url", name.strip() or stem, None
        match = HUB_REF.fullmatch(source)
        if match is None:
            raise InvalidRequest(
                "source", f"'{source}' is neither a hub repo id (org/name or org/name@revision) nor an http(s) URL"
            )
        if sha256:
            raise InvalidRequest("sha256", "sha256 is for URL pulls; a hub pull checks every file against the hub's own sha256")
        return "hub", name.strip() or match["repo"], match["revision"]

    async def start(self, source: str, name: str, sha256: str) -> Pull:
        """The running pull for this name (reattaching), or a new one."""
        kind, name, revision = self._plan(source, name, sha256)
        if name in self.running:
            return self.running[name]
        name = check_name(name)
        row = await self.registry.get_row(name)
        if row is not None and row["source"] == kind and _same_origin(row["origin"], source.strip(), kind):
            # pulled already (perhaps by a pull this caller left): report it done
            from daemon.model_registry import model_from_row

            done = Pull(name=name, source=source.strip(), progress=t.PullProgress(name=name), finished=True)
            done.result = model_from_row(row, loaded=False, is_default=False, detail=False)
            return done
        await self.registry.ensure_free(name)
        dest = self.registry.path_of(name)
        if dest.exists() or dest.is_symlink():
            raise ModelExists(f"{dest} already exists in the model store; choose another --name or remove it")
        pull = Pull(name=name, source=source.strip(), progress=t.PullProgress(name=name))
        self.running[name] = pull
        pull.task = asyncio.create_task(self._run(pull, kind, revision, sha256 or None, dest))
        return pull

    def cancel(self, name: str) -> bool:
        pull = self.running.get(name.strip())
        if pull is None:
            return False
        pull.cancelled.set()
        return True

    async def close(self) -> None:
        for pull in list(self.running.values()):
            pull.cancelled.set()
        tasks = [p.task for p in self.running.values() if p.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=10)

    async def _run(self, pull: Pull, kind: str, revision: str | None, sha256: str | None, dest: Path) -> dict[str, Any]:
        from models import download, probe

        loop = asyncio.get_running_loop()

        def on_progress(p: Any) -> None:
            progress = t.PullProgress(
                name=pull.name,
                file=p.file,
                file_bytes=p.file_bytes,
                file_total=p.file_total or 0,
                bytes_done=p.bytes_done,
                bytes_total=p.bytes_total or 0,
                files_done=p.files_done,
                files_total=p.files_total,
                rate_bytes_per_s=p.rate_bytes_per_s,
            )
            loop.call_soon_threadsafe(self._update, pull, progress)

        token = os.environ.get("HF_TOKEN") or None
        try:
            if kind == "hub":
                repo = HUB_REF.fullmatch(pull.source)
                assert repo is not None
                pulled = await asyncio.to_thread(
                    download.pull_hub,
                    repo["repo"],
                    revision,
                    dest,
                    endpoint=os.environ.get("HF_ENDPOINT") or None,
                    token=token,
                    on_progress=on_progress,
                    should_cancel=pull.cancelled.is_set,
                )
                origin = f"{repo['repo']}@{pulled.revision}" if pulled.revision else repo["repo"]
                location = pulled.path
            else:
                pulled = await asyncio.to_thread(
                    download.pull_url,
                    pull.source,
                    dest,
                    sha256=sha256,
                    on_progress=on_progress,
                    should_cancel=pull.cancelled.is_set,
                )
                origin = pull.source
                location = pulled.path
            try:
                found = await asyncio.to_thread(probe.probe, location)
                kind_found, description = found.kind, describe(found)
            except Exception as exc:  # noqa: BLE001 - downloaded but not a layout we know: keep it, say so
                kind_found, description = "unknown", f"not probed: {exc}"
            row = await self.registry.register(
                {
                    "name": pull.name,
                    "kind": kind_found,
                    "source": kind,
                    "location": str(location),
                    "origin": origin,
                    "files": pulled.files,
                    "size_bytes": pulled.size_bytes,
                    "sha256": pulled.sha256,
                    "description": description,
                }
            )
            from daemon.model_registry import model_from_row

            pull.result = model_from_row(row, loaded=False, is_default=False, detail=False)
            return row
        except BaseException as exc:  # noqa: BLE001 - kept for the watchers
            error = _daemon_error(exc, pull.source)
            pull.error = error
            if not isinstance(error, DaemonError):
                log.exception("pull of %s failed", pull.source, exc_info=exc)
            return {}  # what was downloaded stays staged (hidden), so pulling again resumes
        finally:
            pull.finished = True
            self.running.pop(pull.name, None)
            pull.changed.set()

    def _update(self, pull: Pull, progress: t.PullProgress) -> None:
        pull.progress = progress
        pull.changed.set()

    async def watch(self, pull: Pull) -> AsyncIterator[t.PullProgress]:
        """The progress now, then as it changes (at most 10 a second); ends done, or raises the pull's error."""
        sent: t.PullProgress | None = None
        while True:
            pull.changed.clear()
            if pull.finished:
                break
            if pull.progress != sent:
                sent = pull.progress
                yield sent
            try:
                await asyncio.wait_for(pull.changed.wait(), 1.0)
            except asyncio.TimeoutError:
                continue
            await asyncio.sleep(0.1)
        if pull.error is not None:
            raise pull.error
        last = pull.progress
        assert pull.result is not None
        yield t.PullProgress(
            name=pull.name,
            file=last.file,
            file_bytes=last.file_bytes,
            file_total=last.file_total,
            bytes_done=pull.result.size_bytes or last.bytes_done,
            bytes_total=pull.result.size_bytes or last.bytes_total,
            files_done=len(pull.result.files) or last.files_total,
            files_total=last.files_total,
            rate_bytes_per_s=last.rate_bytes_per_s,
            done=True,
            model=pull.result,
        )
