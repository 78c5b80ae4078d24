"""HTTP transfers for model downloads: one file at a time, resumable, size- and sha256-checked.

Redirects are followed by hand so a token goes only to the host it was meant for; a `.part`
file is resumed with a Range request; progress is smoothed over a few seconds.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import ssl
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urljoin, urlsplit
from urllib.request import HTTPRedirectHandler, HTTPSHandler, Request, build_opener

from models.errors import Cancelled, DownloadFailed, ModelError, ModelNotFound

DEFAULT_ENDPOINT = "https://huggingface.co"
CHUNK_BYTES = 64 * 1024
TIMEOUT_S = 30.0
MAX_REDIRECTS = 10
_RATE_WINDOW_S = 3.0
SHA256 = re.compile(r"[0-9a-f]{64}")
REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}")
# stem[.variant][-00001-of-00002].ext, the names diffusers and transformers give weights files
# stem.ext.index[.variant].json: the map from tensor names to the shards of a sharded weights file
# Best first: half-size fp16 safetensors, full safetensors, then pickled .bin weights.


@dataclass(frozen=True)
class PullProgress:
    file: str  # the file being downloaded, relative to the model
    file_bytes: int
    file_total: int | None  # None until the server says how big the file is
    bytes_done: int  # over all files, including bytes a resumed pull already had
    bytes_total: int | None
    files_done: int
    files_total: int
    rate_bytes_per_s: float  # averaged over the last few seconds


@dataclass(frozen=True)
class PulledModel:
    path: Path  # the model folder (hub) or file (URL)
    files: tuple[str, ...]  # relative to path for a folder; the file name for a single file
    size_bytes: int
    sha256: dict[str, str]  # file -> hex digest
    revision: str | None  # the hub commit sha the files came from; None for a URL
    sources: dict[str, str] = field(default_factory=dict)  # file -> the name it has on the hub, where different


@dataclass(frozen=True)
class Wanted:
    remote: str  # path in the repo
    local: str  # path under the model folder
    size: int | None
    sha256: str | None


class _NoRedirects(HTTPRedirectHandler):
    """Redirects are followed by open_url, which decides per hop whether the token goes along."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None


def _tls_context() -> ssl.SSLContext:
    """Verify certificates against certifi's bundle when it is installed (it comes with requests), else the system's."""
    try:
        import certifi
    except ImportError:
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


_OPENER = build_opener(_NoRedirects, HTTPSHandler(context=_tls_context()))


class Tracker:
    """Counts bytes over a whole pull and reports them; knows nothing about HTTP."""

    def __init__(self, files_total: int, bytes_total: int | None, on_progress: Callable[[PullProgress], None]) -> None:
        self.files_total = files_total
        self.bytes_total = bytes_total
        self.files_done = 0
        self.bytes_before = 0  # bytes of the files already finished
        self._on_progress = on_progress
        self._samples: deque[tuple[float, int]] = deque()
        self._transferred = 0  # bytes that actually came over the network in this pull

    def _rate(self) -> float:
        now = time.monotonic()
        self._samples.append((now, self._transferred))
        while len(self._samples) > 2 and now - self._samples[0][0] > _RATE_WINDOW_S:
            self._samples.popleft()
        first_t, first_b = self._samples[0]
        return (self._transferred - first_b) / (now - first_t) if now > first_t else 0.0

    def report(self, name: str, file_bytes: int, file_total: int | None, received: int = 0) -> None:
        self._transferred += received
        self._on_progress(
            PullProgress(
                file=name,
                file_bytes=file_bytes,
                file_total=file_total,
                bytes_done=self.bytes_before + file_bytes,
                bytes_total=self.bytes_total,
                files_done=self.files_done,
                files_total=self.files_total,
                rate_bytes_per_s=self._rate(),
            )
        )

    def file_finished(self, name: str, size: int) -> None:
        self.bytes_before += size
        self.files_done += 1
        if self.bytes_total is None and self.files_done == self.files_total:
            self.bytes_total = self.bytes_before  # sizes were not known up front; now they are
        self._on_progress(
            PullProgress(
                file=name,
                file_bytes=size,
                file_total=size,
                bytes_done=self.bytes_before,
                bytes_total=self.bytes_total,
                files_done=self.files_done,
                files_total=self.files_total,
                rate_bytes_per_s=self._rate(),
            )
        )


def host_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def refusal(exc: HTTPError, what: str, host: str, token: str | None) -> ModelError:
    """Turn an HTTP error answer into a sentence saying what went wrong and what to do."""
    code = exc.headers.get("X-Error-Code", "") if exc.headers is not None else ""
    if code == "RevisionNotFound":
        return ModelNotFound(f"{what}: revision not found on {host}; check the branch, tag or commit name")
    if code == "EntryNotFound":
        return ModelNotFound(f"{what}: file not found on {host}")
    if code == "RepoNotFound" or exc.code == 404:
        private = "" if token else " (if it is private, set HF_TOKEN to an access token that can read it)"
        return ModelNotFound(f"{what}: repo or revision not found on {host}; check the repo id and revision{private}")
    if exc.code in (401, 403) or code == "GatedRepo":
        if token:
            return DownloadFailed(
                f"{what}: {host} refused the token (HTTP {exc.code}); check that HF_TOKEN can read this repo "
                "and, for a gated model, that its licence was accepted on the model page"
            )
        return DownloadFailed(
            f"{what} needs a token: set HF_TOKEN to an access token that can read it (HTTP {exc.code} from {host}); "
            "for a gated model, accept its licence on the model page first"
        )
    return DownloadFailed(f"{what}: {host} answered HTTP {exc.code} {exc.reason}; try again later")


def unreachable(exc: BaseException, what: str, host: str) -> DownloadFailed:
    reason = exc.reason if isinstance(exc, URLError) else exc
    return DownloadFailed(
        f"{what}: cannot reach {host} ({reason}); check the network connection, or set HF_ENDPOINT to a mirror"
    )


def open_url(
    url: str, headers: dict[str, str], token: str | None, what: str
) -> tuple[http.client.HTTPResponse, dict[str, str]]:
    """GET url following redirects; the token goes only to the host first asked.

    Also returns the hub's X-Linked-* headers met on the way: the hub puts a file's sha256 and
    size on the redirect to its storage, whose own ETag is something else.
    """
    origin = host_of(url)
    linked: dict[str, str] = {}
    for _ in range(MAX_REDIRECTS):
        sent = {"User-Agent": "imagined-models/0.1", "Accept-Encoding": "identity", **headers}
        if token and host_of(url) == origin:
            sent["Authorization"] = f"Bearer {token}"
        try:
            response = _OPENER.open(Request(url, headers=sent), timeout=TIMEOUT_S)
        except HTTPError as exc:
            location = exc.headers.get("Location") if exc.headers is not None else None
            if exc.code in (301, 302, 303, 307, 308) and location:
                for key in ("X-Linked-Etag", "X-Linked-Size"):
                    if key in exc.headers:
                        linked.setdefault(key, exc.headers[key])
                exc.close()
                url = urljoin(url, location)
                continue
            raise
        except (URLError, OSError, http.client.HTTPException) as exc:
            raise unreachable(exc, what, origin) from exc
        for key in ("X-Linked-Etag", "X-Linked-Size", "ETag"):
            if key in response.headers:
                linked.setdefault(key, response.headers[key])
        return response, linked
    raise DownloadFailed(f"{what}: more than {MAX_REDIRECTS} redirects from {origin}")


def _sha256_from_etag(headers: dict[str, str]) -> str | None:
    for key in ("X-Linked-Etag", "ETag"):
        value = headers.get(key)
        if value:
            value = value.removeprefix("W/").strip('"').lower()
            if SHA256.fullmatch(value):
                return value
    return None


def _total_size(response: http.client.HTTPResponse, start: int) -> int | None:
    content_range = response.headers.get("Content-Range", "")
    match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", content_range.strip())
    if match:
        return int(match[3])
    length = response.headers.get("Content-Length")
    return start + int(length) if length and length.isdigit() else None


def _hash_prefix(part: Path) -> hashlib._Hash:
    digest = hashlib.sha256()
    with part.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return digest


def fetch(
    url: str,
    part: Path,
    *,
    name: str,
    what: str,
    token: str | None,
    size: int | None,
    sha256: str | None,
    tracker: Tracker,
    should_cancel: Callable[[], bool],
    on_headers: Callable[[http.client.HTTPResponse], None] | None = None,
) -> tuple[int, str]:
    """Complete `part` from url, resuming what it already holds; returns its size and sha256.

    The part file is kept when the transfer stops early, so the next call resumes it, and
    deleted when its size or checksum is wrong, so the next call starts over.
    """
    if should_cancel():
        raise Cancelled(f"download of {name} cancelled")
    start = part.stat().st_size if part.exists() else 0
    if size is not None and start > size:
        part.unlink()
        start = 0
    if size is not None and start == size and sha256 is not None:  # complete but never renamed: no request needed
        digest = file_sha256(part)
        if digest == sha256:
            tracker.report(name, size, size)
            return size, digest
        part.unlink()
        start = 0
    for _attempt in range(2):  # the second attempt starts over after the server ignored or refused the Range
        headers = {"Range": f"bytes={start}-"} if start else {}
        try:
            response, linked = open_url(url, headers, token, what)
        except HTTPError as exc:
            if exc.code == 416 and start:  # the part file is not a prefix the server can continue
                exc.close()
                part.unlink()
                start = 0
                continue
            raise refusal(exc, what, host_of(url), token) from exc
        with response:
            resumed = response.status == 206 and response.headers.get("Content-Range", "").startswith(f"bytes {start}-")
            if start and not resumed:  # the server sent the whole file (or another range): start over
                start = 0
            if on_headers is not None:
                on_headers(response)
            total = _total_size(response, start)
            if size is not None and total is not None and total != size:
                raise DownloadFailed(f"{what}: the server offers {total} bytes where the hub listed {size}")
            expected = {sha for sha in (sha256, _sha256_from_etag(linked)) if sha}
            return _stream(response, part, start, total or size, expected, name, what, tracker, should_cancel)
    raise DownloadFailed(f"{what}: the server refused to resume the download")


def _stream(
    response: http.client.HTTPResponse,
    part: Path,
    start: int,
    total: int | None,
    expected: set[str],
    name: str,
    what: str,
    tracker: Tracker,
    should_cancel: Callable[[], bool],
) -> tuple[int, str]:
    digest = _hash_prefix(part) if start else hashlib.sha256()
    done = start
    tracker.report(name, done, total)
    with part.open("r+b" if start else "wb") as out:
        out.seek(start)
        out.truncate()
        while True:
            if should_cancel():
                raise Cancelled(f"download of {name} cancelled after {done} bytes; pull again to resume it")
            try:
                chunk = response.read(CHUNK_BYTES)
            except (OSError, http.client.HTTPException) as exc:
                raise DownloadFailed(
                    f"{what}: the connection to {host_of(response.url or '')} broke after {done} bytes ({exc}); "
                    "pull again to resume"
                ) from exc
            if not chunk:
                break
            out.write(chunk)
            digest.update(chunk)
            done += len(chunk)
            tracker.report(name, done, total, received=len(chunk))
        out.flush()
        os.fsync(out.fileno())
    if total is not None and done != total:
        raise DownloadFailed(
            f"{what}: the connection to {host_of(response.url or '')} ended after {done} of {total} bytes; "
            "pull again to resume"
        )
    actual = digest.hexdigest()
    if expected and expected != {actual}:
        part.unlink()
        raise DownloadFailed(
            f"{what}: checksum mismatch for {name} (sha256 {actual}, expected {' or '.join(sorted(expected))}); "
            "the broken download was deleted, pull again to fetch it afresh"
        )
    return done, actual


def file_sha256(path: Path) -> str:
    return _hash_prefix(path).hexdigest()


# ----------------------------------------------------------------------------- hub


