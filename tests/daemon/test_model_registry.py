"""The models table (and its migration) and how job specs inherit a registered model's defaults."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from imagine import types as t
from daemon import model_registry
from daemon.errors import InvalidRequest
from daemon.model_errors import ModelExists, ModelInUse
from daemon.model_registry import Registry, kind_defaults
from daemon.store import SCHEMA_VERSION, AsyncStore, Store
from daemon.inputs import Inputs
from daemon.validate import Context, fill_and_check
from tests.daemon.test_store import job


def v1_database(path: Path) -> None:
    """A database as schema version 1 left it: jobs, outputs and events, no models."""
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE jobs (id TEXT PRIMARY KEY, owner TEXT NOT NULL, request_id TEXT, kind TEXT, model TEXT,
          prompt TEXT, width INTEGER, height INTEGER, steps INTEGER, count INTEGER, priority TEXT,
          state TEXT NOT NULL, spec TEXT NOT NULL, attempts INTEGER DEFAULT 0, worker_deaths INTEGER DEFAULT 0,
          enqueued_at FLOAT, created_at FLOAT NOT NULL, started_at FLOAT, finished_at FLOAT, queue_ms FLOAT,
          load_ms FLOAT, run_ms FLOAT, encode_ms FLOAT, total_ms FLOAT, error TEXT DEFAULT '', last_seq INTEGER DEFAULT 0);
        CREATE TABLE outputs (id TEXT PRIMARY KEY, job_id TEXT, idx INTEGER, path TEXT, seed INTEGER, width INTEGER,
          height INTEGER, sha256 TEXT, size_bytes INTEGER, created_at FLOAT);
        CREATE TABLE events (job_id TEXT, seq INTEGER, time FLOAT, kind TEXT, payload TEXT, PRIMARY KEY (job_id, seq));
        INSERT INTO jobs (id, owner, state, spec, created_at, model) VALUES ('old', 'alice', 'succeeded', '{}', 1.0, 'tiny-sd');
        PRAGMA user_version=1;
        """
    )
    conn.close()


def test_a_version_1_database_gets_the_models_table(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    v1_database(path)
    store = Store(path)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert "models" in store.db.table_names()
    assert store.db.execute("SELECT id FROM jobs").fetchall() == [("old",)]  # history kept
    store.close()
    Store(path).close()  # opening again changes nothing


def test_a_new_database_is_at_version_2(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert {"jobs", "outputs", "events", "models"} <= set(store.db.table_names())


def row(name: str, **extra: object) -> dict[str, object]:
    return {
        "name": name, "kind": "sd15", "source": "hub", "location": f"/m/{name}", "origin": f"o/{name}@abc",
        "files": ("model_index.json", "unet/x.safetensors"), "size_bytes": 10, "sha256": {"unet/x.safetensors": "0" * 64},
        "installed_at": 5.0, "last_used_at": None, "description": "", "width": 512, "height": 512, "steps": 25,
        "guidance": 7.0, "scheduler": "euler_a",
    } | extra  # fmt: skip


def test_model_rows_round_trip_and_names_are_unique(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    store.put_model(row("a"))
    got = store.get_model("a")
    assert got is not None and got["files"] == ("model_index.json", "unet/x.safetensors")
    assert got["sha256"] == {"unet/x.safetensors": "0" * 64}
    with pytest.raises(sqlite3.IntegrityError):
        store.put_model(row("a"))
    store.delete_model("a")
    assert store.get_model("a") is None


def test_last_used_follows_jobs_that_succeeded(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    store.put_model(row("a"))
    record = job("j1")
    spec = t.JobSpec(record.job.spec.task, model="a")
    store.insert_job(type(record)(t.Job(id="j1", spec=spec, owner="x", state=t.JobState.SUCCEEDED, created_at=1.0, finished_at=42.0)))
    store.insert_job(type(record)(t.Job(id="j2", spec=spec, owner="x", state=t.JobState.QUEUED, created_at=2.0)))
    store.touch_models()
    assert store.get_model("a")["last_used_at"] == 42.0  # type: ignore[index]
    assert store.jobs_naming("a") == 1


def test_kind_defaults() -> None:
    assert (kind_defaults("sdxl").width, kind_defaults("sdxl").height) == (1024, 1024)
    turbo = kind_defaults("turbo")
    assert (turbo.width, turbo.height, turbo.guidance) == (512, 512, 0.0) and 1 <= turbo.steps <= 4
    assert kind_defaults("sd15") == t.ModelDefaults(512, 512, 25, 7.0, "euler_a")


def test_jobs_inherit_a_registered_models_defaults(tmp_path: Path) -> None:
    models_dir = tmp_path / "models"
    (models_dir / "xl").mkdir(parents=True)
    (models_dir / "lora.safetensors").write_bytes(b"x")

    async def register() -> None:
        store = AsyncStore(tmp_path / "db.sqlite")
        await store.open()
        registry = Registry(store, models_dir)
        await registry.register(row("xl", kind="sdxl", location=str(models_dir / "xl"), width=None, height=None, steps=None, guidance=None, scheduler=None))
        await registry.register(row("turbo", kind="turbo", location=str(models_dir / "xl"), steps=None, width=None, height=None, guidance=None, scheduler=None))
        await registry.register(row("mine", location=str(models_dir / "xl"), width=640, height=448, steps=12, guidance=3.5, scheduler="ddim"))
        await registry.register(row("a-lora", kind="lora", location=str(models_dir / "lora.safetensors")))
        with pytest.raises(ModelExists):
            await registry.register(row("mine"))
        await store.close()

    asyncio.run(register())
    fill = lambda model, **kw: fill_and_check(  # noqa: E731
        t.JobSpec(t.Txt2Img("p", **kw), model=model),
        Context(default_model="tiny-sd", models_dir=models_dir, inputs=Inputs(tmp_path / "inputs")),
    )
    xl = fill("xl").task
    assert (xl.width, xl.height) == (1024, 1024)
    turbo = fill("turbo").task
    assert (turbo.width, turbo.guidance) == (512, 0.0) and turbo.steps <= 4
    mine = fill("mine")
    assert mine.model == "mine"  # the name is recorded, not the path
    assert (mine.task.width, mine.task.height, mine.task.steps, mine.task.guidance, mine.task.scheduler) == (640, 448, 12, 3.5, "ddim")
    assert fill("mine", width=256, steps=3).task.width == 256  # what the job sets wins
    builtin = fill("").task
    assert (builtin.width, builtin.steps) == (256, 20)  # tiny-sd's own
    with pytest.raises(InvalidRequest, match="is a lora, not a model this job can run"):
        fill("a-lora")
    model_registry._snapshots.pop(str(models_dir))


def test_remove_refuses_while_jobs_name_the_model(tmp_path: Path) -> None:
    models_dir = tmp_path / "models"
    (models_dir / "m").mkdir(parents=True)
    (models_dir / "m" / "model_index.json").write_text("{}")

    async def scenario() -> None:
        store = AsyncStore(tmp_path / "db.sqlite")
        await store.open()
        registry = Registry(store, models_dir)
        await registry.register(row("m", location=str(models_dir / "m")))
        record = job("j1")
        await store.run(lambda s: s.insert_job(type(record)(t.Job(id="j1", spec=t.JobSpec(record.job.spec.task, model="m"), owner="x", state=t.JobState.QUEUED, created_at=1.0))))
        with pytest.raises(ModelInUse, match="1 queued or running job names model 'm'.*--force"):
            await registry.remove("m", force=False)
        assert await registry.remove("m", force=True) is True
        assert not (models_dir / "m").exists()
        await store.close()

    asyncio.run(scenario())
    model_registry._snapshots.pop(str(models_dir), None)
