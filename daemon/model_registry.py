"""The models the daemon knows: the built-ins plus those pulled or added, recorded in the `models` table.

Every registered model is reachable as MODELS_DIR/<name>: a pulled model is downloaded there, and an
added local folder or file gets a symlink there to where it is. The worker resolves a job's model
under MODELS_DIR (models.sources.resolve_model), so a job can name a registered model by its name.

`validate` fills job specs in a worker thread without the store, so the registry keeps a snapshot
of its rows in memory (`registered(models_dir)`), replaced whenever a model is added or removed.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imagine import types as t
from daemon.errors import DaemonError, InvalidRequest, ModelUnknown
from daemon.model_errors import ModelExists, ModelInUse
from daemon.store import AsyncStore, Store

NAME = re.compile(r"[A-Za-z0-9][\w.+-]{0,95}(?:/[A-Za-z0-9][\w.+-]{0,95})?")


@dataclass(frozen=True)
class Registered:
    """What validate needs to know about a registered model."""

    name: str
    kind: str
    location: str
    defaults: t.ModelDefaults
    config: str = ""  # single files: a diffusers folder or built-in name describing the checkpoint
    engine_model: str = ""  # vision models: the registered export that runs defaults.engine


_lock = threading.Lock()
_snapshots: dict[str, dict[str, Registered]] = {}


def registered(models_dir: Path) -> dict[str, Registered]:
    """The registered models of the daemon whose model store is models_dir (empty if none is open here)."""
    with _lock:
        return _snapshots.get(str(models_dir), {})


def kind_defaults(kind: str) -> t.ModelDefaults:
    """Defaults for a model of this kind: SDXL 1024x1024, turbo 512x512 in a few steps without guidance, else SD 1.5."""
    if kind == "sdxl":
        return t.ModelDefaults(1024, 1024, 30, 5.0, "euler_a")
    if kind == "turbo":
        return t.ModelDefaults(512, 512, 4, 0.0, "euler_a")
    return t.ModelDefaults(512, 512, 25, 7.0, "euler_a")


def check_name(name: str) -> str:
    from models.catalog import BUILTIN_MODELS
    from models.vision.registry import BUILTIN_VISION_MODELS

    name = name.strip()
    if not NAME.fullmatch(name):
        raise InvalidRequest(
            "name",
            f"'{name}' is not a usable model name: letters, digits, '.', '_', '-' and '+', "
            "at most one '/' (as in org/name), starting with a letter or digit",
        )
    if name in BUILTIN_MODELS or name in BUILTIN_VISION_MODELS:
        raise ModelExists(f"'{name}' is a built-in model; choose another name with --name")
    return name


def _row_defaults(row: dict[str, Any]) -> t.ModelDefaults:
    fallback = kind_defaults(row["kind"])
    return t.ModelDefaults(
        row["width"] or fallback.width,
        row["height"] or fallback.height,
        row["steps"] or fallback.steps,
        fallback.guidance if row["guidance"] is None else row["guidance"],
        row["scheduler"] or fallback.scheduler,
        row.get("vae") or "",
        row.get("engine") or "",
    )


def _installed(location: str) -> bool:
    path = Path(location)
    return path.is_file() or (path.is_dir() and any(path.iterdir()))


def model_from_row(row: dict[str, Any], *, loaded: bool, is_default: bool, detail: bool) -> t.Model:
    installed = _installed(row["location"])
    return t.Model(
        name=row["name"],
        kind=row["kind"],
        source=row["source"],
        location=row["location"],
        description=row["description"] or "",
        installed=installed,
        loaded=loaded,
        defaults=_row_defaults(row),
        is_default=is_default,
        origin=row["origin"] or "",
        size_bytes=(row["size_bytes"] or 0) if installed else 0,
        installed_at=row["installed_at"] or 0.0,
        last_used_at=row["last_used_at"] or 0.0,
        files=tuple(row["files"]) if detail else (),
        sha256=dict(row["sha256"]) if detail else {},
    )


def describe(probe: Any) -> str:
    """A line about a probed model: its format and what probing noticed."""
    return "; ".join((probe.format, *probe.notes))


class Registry:
    def __init__(self, store: AsyncStore, models_dir: Path) -> None:
        self.store = store
        self.models_dir = models_dir

    async def refresh(self) -> list[dict[str, Any]]:
        """Reload the snapshot validate reads; returns the rows."""
        rows = await self.store.run(Store.models)
        snapshot = {
            r["name"]: Registered(
                r["name"], r["kind"], r["location"], _row_defaults(r), r.get("config") or "", r.get("engine_model") or ""
            )
            for r in rows
        }
        with _lock:
            _snapshots[str(self.models_dir)] = snapshot
        return rows

    def path_of(self, name: str) -> Path:
        return self.models_dir / name

    async def get_row(self, name: str) -> dict[str, Any] | None:
        return await self.store.run(lambda s: s.get_model(name))

    async def rows(self) -> list[dict[str, Any]]:
        await self.store.run(Store.touch_models)
        return await self.refresh()

    async def ensure_free(self, name: str) -> None:
        if await self.get_row(name) is not None:
            raise ModelExists(f"a model named '{name}' is already registered; choose another --name or remove it first")

    async def register(self, row: dict[str, Any]) -> dict[str, Any]:
        defaults = kind_defaults(row["kind"])
        full = {
            "origin": "",
            "description": "",
            "files": (),
            "sha256": {},
            "size_bytes": 0,
            "installed_at": time.time(),
            "last_used_at": None,
            "width": defaults.width,
            "height": defaults.height,
            "steps": defaults.steps,
            "guidance": defaults.guidance,
            "scheduler": defaults.scheduler,
        } | row
        try:
            await self.store.run(lambda s: s.put_model(full))
        except sqlite3.IntegrityError:
            raise ModelExists(f"a model named '{row['name']}' is already registered; choose another name") from None
        await self.refresh()
        got = await self.get_row(row["name"])
        assert got is not None
        return got

    async def add(self, path_text: str, name: str, config: str = "", vae: str = "") -> dict[str, Any]:
        """Probe a local folder or file and register it where it is, linked as MODELS_DIR/<name>."""
        from models import probe as probing
        from models.errors import ModelNotFound

        if not path_text.strip():
            raise InvalidRequest("path", "path is required: a model folder or file on the daemon's machine")
        path = Path(path_text.strip()).expanduser()
        if not path.is_absolute():
            raise InvalidRequest("path", f"path '{path_text}' must be absolute: the daemon does not know your working directory")
        name = check_name(name or (path.name if path.is_dir() else path.stem))
        await self.ensure_free(name)
        try:
            found = await asyncio.to_thread(probing.probe, path)
        except ModelNotFound as exc:
            raise InvalidRequest("path", str(exc)) from exc
        config = self._check_config(config.strip(), path)
        vae = self._check_vae(vae.strip(), found.kind)
        link = self.path_of(name)
        resolved = path.resolve()
        if link.is_symlink() or link.exists():
            if link.resolve() != resolved:
                raise ModelExists(f"{link} already exists in the model store; choose another --name")
        else:
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(resolved, target_is_directory=resolved.is_dir())
        try:
            return await self.register(
                {
                    "name": name,
                    "kind": found.kind,
                    "source": "local",
                    "location": str(resolved),
                    "origin": str(resolved),
                    "files": found.files,
                    "size_bytes": found.size_bytes,
                    "description": describe(found),
                    "config": config,
                    "vae": vae,
                }
            )
        except BaseException:
            if link.is_symlink():
                link.unlink()
            raise

    async def set_engine(self, name: str, engine: str, engine_model: str = "") -> bool:
        """Make `engine` (run by the registered model engine_model, "" = the model itself) name's default engine.

        False when name is not registered (a built-in keeps its defaults)."""
        if await self.get_row(name) is None:
            return False
        await self.store.run(lambda s: s.set_engine(name, engine, engine_model))
        await self.refresh()
        return True

    def _check_vae(self, vae: str, kind: str) -> str:
        from daemon.model_refs import resolve_part
        from models.builtin import PIPELINE_KINDS

        if not vae:
            return ""
        if kind not in PIPELINE_KINDS:
            raise InvalidRequest("vae", f"vae: a default VAE is for pipelines; this is a {kind}")
        try:
            resolve_part(vae, "vae", self.models_dir)
        except DaemonError as exc:
            raise InvalidRequest("vae", f"vae: {exc}") from exc
        return vae

    @staticmethod
    def _check_config(config: str, path: Path) -> str:
        from models.catalog import BUILTIN_MODELS

        if not config:
            return ""
        if not path.is_file():
            raise InvalidRequest("config", "config is for single-file checkpoints only; a folder has its own configs")
        if config in BUILTIN_MODELS:
            return config
        folder = Path(config).expanduser()
        if not (folder / "model_index.json").is_file():
            raise InvalidRequest(
                "config", f"config '{config}' is not a diffusers folder (no model_index.json) nor a built-in model name"
            )
        return str(folder.resolve())

    async def remove(self, name: str, *, force: bool) -> bool:
        """Forget a model; returns whether files were deleted."""
        from models.catalog import BUILTIN_MODELS

        name = name.strip()
        row = await self.get_row(name)
        if row is None and name not in BUILTIN_MODELS:
            raise ModelUnknown(f"no model named '{name}'; `imagine models list` shows the models there are")
        waiting = await self.store.run(lambda s: s.jobs_naming(name))
        if waiting and not force:
            jobs = "1 queued or running job names" if waiting == 1 else f"{waiting} queued or running jobs name"
            raise ModelInUse(
                f"{jobs} model '{name}'; wait for them, cancel them, or remove it anyway with --force "
                "(they will fail)"
            )
        deleted = await asyncio.to_thread(self._remove_files, name, row)
        if row is not None:
            await self.store.run(lambda s: s.delete_model(name))
            await self.refresh()
        return deleted

    def _remove_files(self, name: str, row: dict[str, Any] | None) -> bool:
        target = self.path_of(name)
        if target.is_symlink():  # an added model: the link goes, the user's original stays
            target.unlink()
            self._prune(target.parent)
            return False
        if row is not None and row["source"] == "local":
            return False  # added from inside the model store: still the user's
        deleted = False
        if target.is_dir():
            shutil.rmtree(target)
            deleted = True
        elif target.is_file():
            target.unlink()
            deleted = True
        self._prune(target.parent)
        return deleted

    def _prune(self, folder: Path) -> None:
        """Remove the org folder of an org/name model once it is empty."""
        if folder != self.models_dir and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
