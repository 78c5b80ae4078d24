"""Downloading models: a diffusers pipeline from a Hugging Face style hub, or one file from a URL.

Made to run on a worker thread: progress goes to on_progress, should_cancel is polled between
chunks, and nothing here imports torch or diffusers. Every file is written to a `.part` file,
resumed with an HTTP Range request when a pull is repeated, checked against its size and (when
known) its sha256, and only then renamed into place. A hub pipeline is assembled in a staging
folder beside dest and renamed to dest when every file is complete, so dest never holds half a model.
"""

from __future__ import annotations

import email.message
import hashlib
import http.client
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Self
from urllib.error import HTTPError
from urllib.parse import quote, unquote, urlsplit

from models.errors import DownloadFailed, ModelError, ModelNotFound

from models.hub_files import select_pipeline_files
from models.transfer import (
    DEFAULT_ENDPOINT,
    PullProgress,
    PulledModel,
    REPO_ID,
    SHA256,
    Tracker,
    Wanted,
    fetch,
    file_sha256,
    host_of,
    open_url,
    refusal,
    unreachable,
)

def _get_json(url: str, token: str | None, what: str) -> object:
    try:
        response, _ = open_url(url, {"Accept": "application/json"}, token, what)
    except HTTPError as exc:
        raise refusal(exc, what, host_of(url), token) from exc
    with response:
        try:
            return json.loads(response.read())
        except (OSError, http.client.HTTPException) as exc:
            raise unreachable(exc, what, host_of(url)) from exc
        except ValueError as exc:
            raise DownloadFailed(f"{what}: {host_of(url)} sent something that is not JSON ({exc})") from exc


def _listing(info: dict[str, object]) -> dict[str, tuple[int | None, str | None]]:
    """path -> (size, sha256) from the hub's siblings; sizes and hashes only when blobs=true was asked."""
    files: dict[str, tuple[int | None, str | None]] = {}
    siblings = info.get("siblings")
    for sibling in siblings if isinstance(siblings, list) else []:
        if not isinstance(sibling, dict) or not isinstance(sibling.get("rfilename"), str):
            continue
        lfs = sibling["lfs"] if isinstance(sibling.get("lfs"), dict) else {}
        size = sibling.get("size", lfs.get("size"))
        sha = lfs.get("sha256")
        files[sibling["rfilename"]] = (
            size if isinstance(size, int) else None,
            sha.lower() if isinstance(sha, str) and SHA256.fullmatch(sha.lower()) else None,
        )
    return files


def _safe_relative(path: str) -> bool:
    pure = PurePosixPath(path)
    return bool(path) and not pure.is_absolute() and ".." not in pure.parts and "\\" not in path


class _Lock:
    """One pull per staging folder or part file at a time, so two pulls never write the same file."""

    def __init__(self, path: Path, what: str, *, remove: bool = False) -> None:
        self._path = path
        self._what = what
        self._remove = remove  # delete the lock file on the way out, while still holding the lock
        self._file: BinaryIO | None = None

    def __enter__(self) -> Self:
        self._file = file = self._path.open("a+b")
        try:
            import fcntl  # not on Windows, where one pull at a time is the caller's business
        except ImportError:
            return self
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            file.close()
            self._file = None
            raise DownloadFailed(f"{self._what}: another pull into the same place is running; wait for it") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            if self._remove:
                self._path.unlink(missing_ok=True)
            self._file.close()


def pull_hub(
    repo_id: str,
    revision: str | None,
    dest: Path,
    *,
    endpoint: str | None = None,
    token: str | None = None,
    on_progress: Callable[[PullProgress], None],
    should_cancel: Callable[[], bool],
) -> PulledModel:
    """Download the diffusers pipeline repo_id@revision into dest, which must not exist yet.

    Files collect in a hidden staging folder beside dest (.<name>.pulling) that a repeated pull
    resumes from; dest appears, complete, only at the end. endpoint defaults to $HF_ENDPOINT or
    https://huggingface.co, token to $HF_TOKEN.
    """
    host = (endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
    token = token or os.environ.get("HF_TOKEN") or None
    ref = f"{repo_id}@{revision}" if revision else repo_id
    what = f"model {ref}"
    if not REPO_ID.fullmatch(repo_id):
        raise ModelNotFound(f"'{repo_id}' is not a hub repo id; it should look like org/name")
    if dest.exists():
        raise ModelError(f"cannot pull {ref} into {dest}: it already exists; remove it or choose another folder")

    # Without a revision the hub answers for the repo's default branch, whatever it is called.
    info_url = f"{host}/api/models/{repo_id}" + (f"/revision/{quote(revision, safe='')}" if revision else "")
    info_url += "?blobs=true"  # sizes and LFS sha256 in the listing
    info = _get_json(info_url, token, what)
    if not isinstance(info, dict):
        raise DownloadFailed(f"{what}: {host} sent an unexpected answer to the repo listing")
    sha = info.get("sha")
    commit = sha if isinstance(sha, str) and sha else (revision or "main")
    listing = _listing(info)
    if "model_index.json" not in listing:
        found = ", ".join(sorted(listing)[:8]) + (", ..." if len(listing) > 8 else "") or "no files"
        singles = [p for p in listing if p.endswith((".safetensors", ".ckpt")) and "/" not in p]
        advice = (
            f"; to use its single-file checkpoint, pull {host}/{repo_id}/resolve/{commit}/{singles[0]} as a URL"
            if singles
            else ""
        )
        raise ModelNotFound(f"{what} is not a diffusers pipeline: it has no model_index.json (found {found}){advice}")

    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_dir(dest)
    staging.mkdir(exist_ok=True)
    with _Lock(staging / ".lock", what):
        _forget_other_revision(staging, commit)
        index_path = staging / "model_index.json"
        base = f"{host}/{repo_id}/resolve/{quote(commit, safe='')}/"
        quiet = Tracker(1, None, lambda progress: None)  # reported with the others once the file list is known
        if not index_path.is_file():  # the index decides what else to fetch, so it comes first
            _pull_one(base, Wanted("model_index.json", "model_index.json", *listing["model_index.json"]),
                      staging, token, what, quiet, should_cancel)  # fmt: skip
        try:
            index = json.loads(index_path.read_text(encoding="utf-8"))
        except ValueError as exc:
            index_path.unlink()
            raise DownloadFailed(f"{what}: its model_index.json is not valid JSON ({exc})") from exc
        if not isinstance(index, dict):
            raise DownloadFailed(f"{what}: its model_index.json is not a JSON object")

        wanted = [
            Wanted(remote, local, *listing.get(remote, (None, None)))
            for remote, local in select_pipeline_files(sorted(listing), index)
            if _safe_relative(remote) and _safe_relative(local)
        ]
        sizes = [w.size for w in wanted if w.size is not None]
        tracker = Tracker(len(wanted), sum(sizes) if len(sizes) == len(wanted) else None, on_progress)
        _check_free_space(staging, wanted, what)
        digests: dict[str, str] = {}
        total = 0
        for item in wanted:
            size, digest = _pull_one(base, item, staging, token, what, tracker, should_cancel)
            digests[item.local] = digest
            total += size
        _clear_leftovers(staging, {w.local for w in wanted})
    for marker in (".lock", ".revision"):
        (staging / marker).unlink(missing_ok=True)
    try:
        os.rename(staging, dest)
    except OSError as exc:
        raise ModelError(f"cannot move the pulled {ref} into {dest}: {exc}") from exc
    return PulledModel(
        path=dest,
        files=tuple(w.local for w in wanted),
        size_bytes=total,
        sha256=digests,
        revision=commit,
        sources={w.local: w.remote for w in wanted if w.local != w.remote},
    )


def staging_dir(dest: Path) -> Path:
    """Where pull_hub collects the files for dest; it holds an unfinished pull, and deleting it discards one."""
    return dest.parent / f".{dest.name}.pulling"


def _check_free_space(staging: Path, wanted: list[Wanted], what: str) -> None:
    have = 0
    for item in wanted:
        for path in (staging / item.local, staging / (item.local + ".part")):
            if path.is_file():
                have += path.stat().st_size
    needed = sum(item.size or 0 for item in wanted) - have
    free = shutil.disk_usage(staging).free
    if needed > free:
        raise DownloadFailed(
            f"{what} needs {needed / 1e9:.1f} GB more disk space in {staging.parent}, which has "
            f"{free / 1e9:.1f} GB free; free some space or pull into another folder"
        )


def _pull_one(
    base: str,
    item: Wanted,
    staging: Path,
    token: str | None,
    what: str,
    tracker: Tracker,
    should_cancel: Callable[[], bool],
) -> tuple[int, str]:
    final = staging / item.local
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.is_file() and (item.size is None or final.stat().st_size == item.size):
        digest = file_sha256(final)  # finished by an earlier, interrupted pull
        if item.sha256 is None or digest == item.sha256:
            size = final.stat().st_size
            tracker.file_finished(item.local, size)
            return size, digest
        final.unlink()
    part = final.with_name(final.name + ".part")
    size, digest = fetch(
        base + quote(item.remote, safe="/"),
        part,
        name=item.local,
        what=f"{what} file {item.remote}",
        token=token,
        size=item.size,
        sha256=item.sha256,
        tracker=tracker,
        should_cancel=should_cancel,
    )
    os.replace(part, final)
    tracker.file_finished(item.local, size)
    return size, digest


def _forget_other_revision(staging: Path, commit: str) -> None:
    """Start staging afresh when it holds files of another commit than the one being pulled."""
    marker = staging / ".revision"
    if marker.is_file() and marker.read_text(encoding="utf-8").strip() != commit:
        for path in staging.iterdir():
            if path.name != ".lock":
                shutil.rmtree(path) if path.is_dir() else path.unlink()
    marker.write_text(commit + "\n", encoding="utf-8")


def _clear_leftovers(staging: Path, keep: set[str]) -> None:
    """Remove part files and anything else an earlier pull of another revision left in staging."""
    for path in sorted(staging.rglob("*"), reverse=True):
        relative = path.relative_to(staging).as_posix()
        if path.is_file() and relative not in keep and relative not in (".lock", ".revision"):
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


# ----------------------------------------------------------------------------- single files


def _name_from(response: http.client.HTTPResponse, url: str) -> str:
    """The file name the server gives in Content-Disposition, else the last part of the URL path."""
    name = None
    disposition = response.headers.get("Content-Disposition")
    if disposition:
        message = email.message.Message()
        message["Content-Disposition"] = disposition
        name = message.get_filename()
    if not name:
        name = unquote(urlsplit(response.url or url).path.rsplit("/", 1)[-1])
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name if name not in ("", ".", "..") and not name.startswith(".") else "download"


def pull_url(
    url: str,
    dest_dir: Path,
    *,
    sha256: str | None,
    on_progress: Callable[[PullProgress], None],
    should_cancel: Callable[[], bool],
    token: str | None = None,
) -> PulledModel:
    """Download one file (a checkpoint, a LoRA...) into dest_dir, named as the server or the URL says.

    The download goes to a hidden part file named after the URL, so pulling the same URL again
    resumes it; the file appears under its name only once complete and checked against sha256
    (or the server's sha256 ETag). A file of that name already in dest_dir is never overwritten.
    """
    if urlsplit(url).scheme not in ("http", "https"):
        raise ModelNotFound(f"'{url}' is not an http(s) URL")
    expected = sha256.lower() if sha256 else None
    if expected is not None and not SHA256.fullmatch(expected):
        raise ModelError(f"'{sha256}' is not a sha256 checksum: it should be 64 hexadecimal digits")
    dest_dir.mkdir(parents=True, exist_ok=True)
    part = dest_dir / f".{hashlib.sha256(url.encode()).hexdigest()[:16]}.part"
    names: list[str] = []

    def check_name(response: http.client.HTTPResponse) -> None:
        name = _name_from(response, url)
        if (dest_dir / name).exists():
            raise ModelError(f"cannot download {url}: {dest_dir / name} already exists; remove it first")
        names.append(name)

    tracker = Tracker(1, None, on_progress)
    with _Lock(part.with_suffix(".lock"), f"download {url}", remove=True):
        size, digest = fetch(
            url,
            part,
            name=urlsplit(url).path.rsplit("/", 1)[-1] or url,
            what=f"download {url}",
            token=token,
            size=None,
            sha256=expected,
            tracker=tracker,
            should_cancel=should_cancel,
            on_headers=check_name,
        )
        final = dest_dir / names[-1]
        os.replace(part, final)
    tracker.file_finished(final.name, size)
    return PulledModel(path=final, files=(final.name,), size_bytes=size, sha256={final.name: digest}, revision=None)


__all__ = [
    "DEFAULT_ENDPOINT",
    "PullProgress",
    "PulledModel",
    "pull_hub",
    "pull_url",
    "select_pipeline_files",
    "staging_dir",
]

