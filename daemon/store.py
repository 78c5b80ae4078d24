"""The history and the model registry: jobs, outputs, events and models in SQLite (WAL), via sqlite-utils.

`Store` is synchronous and owns one connection; the daemon reaches it only
through `AsyncStore`, which runs every call on one dedicated thread so the
event loop never blocks on disk and writes never interleave.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils

from imagine import types as t
from daemon.event_codec import decode_event_kind, encode_event_kind

log = logging.getLogger(__name__)
SCHEMA_VERSION = 3  # 1: jobs, outputs, events; 2: models; 3: reports, detections, per-model vae/engine
_T = TypeVar("_T")


@dataclass(frozen=True)
class JobRecord:
    """A job row as the daemon sees it: the public job plus bookkeeping."""

    job: t.Job
    worker_deaths: int = 0
    enqueued_at: float = 0.0  # when it last entered the queue (for aging)

    @property
    def id(self) -> str:
        return self.job.id


def _job_columns(job: t.Job) -> dict[str, Any]:
    task = job.spec.task
    return {
        "id": job.id,
        "owner": job.owner,
        "request_id": job.spec.request_id,
        "kind": job.spec.kind,
        "model": job.spec.model,
        "prompt": job.spec.prompt,
        "width": getattr(task, "width", 0),
        "height": getattr(task, "height", 0),
        "steps": getattr(task, "steps", 0),
        "count": getattr(task, "count", 0),
        "priority": job.spec.priority.value,
        "state": job.state.value,
        "spec": json.dumps(t.spec_to_jsonable(job.spec)),
        "attempts": job.attempts,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "queue_ms": job.timings.queue_ms,
        "load_ms": job.timings.load_ms,
        "run_ms": job.timings.run_ms,
        "encode_ms": job.timings.encode_ms,
        "total_ms": job.timings.total_ms,
        "error": job.error,
        "last_seq": job.last_seq,
        "report": None if job.report is None else json.dumps(t.to_jsonable(job.report)),
    }


def _record_columns(record: JobRecord) -> dict[str, Any]:
    return _job_columns(record.job) | {"worker_deaths": record.worker_deaths, "enqueued_at": record.enqueued_at}


def _output_from_row(row: dict[str, Any]) -> t.Output:
    return t.Output(
        id=row["id"],
        job_id=row["job_id"],
        index=row["idx"],
        seed=row["seed"],
        width=row["width"],
        height=row["height"],
        path=row["path"],
        sha256=row["sha256"],
        size_bytes=row["size_bytes"],
        flagged=bool(row.get("flagged")),
        detections=t.from_jsonable(t.Detections, json.loads(row["detections"])) if row.get("detections") else None,
        mime_type=row.get("mime_type") or "image/png",
    )


class Store:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite_utils.Database(path)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA busy_timeout=5000")
        self._migrate()

    def close(self) -> None:
        self.db.close()

    def _migrate(self) -> None:
        """Bring the schema up to SCHEMA_VERSION, each step in one transaction with its user_version."""
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version < 1:
            self._create_v1()
        if version < 2:
            with self.db.conn:
                self.db["models"].create(
                    {
                        "name": str, "kind": str, "source": str, "location": str, "origin": str,
                        "files": str, "size_bytes": int, "sha256": str, "installed_at": float,
                        "last_used_at": float, "description": str, "width": int, "height": int,
                        "steps": int, "guidance": float, "scheduler": str,
                    },
                    pk="name",
                    not_null={"kind", "source", "location"},
                    defaults={"files": "[]", "sha256": "{}", "description": "", "origin": ""},
                )
                self.db.execute("PRAGMA user_version=2")
        if version < 3:
            with self.db.conn:
                self.db["jobs"].add_column("report", str)
                self.db["outputs"].add_column("flagged", int)
                self.db["outputs"].add_column("detections", str)
                self.db["outputs"].add_column("mime_type", str)
                self.db["models"].add_column("vae", str)
                self.db["models"].add_column("engine", str)
                self.db["models"].add_column("config", str)
                self.db["models"].add_column("engine_model", str)
                self.db.execute("PRAGMA user_version=3")

    def _create_v1(self) -> None:
        with self.db.conn:
            self.db["jobs"].create(
                {
                    "id": str, "owner": str, "request_id": str, "kind": str, "model": str,
                    "prompt": str, "width": int, "height": int, "steps": int, "count": int,
                    "priority": str, "state": str, "spec": str, "attempts": int,
                    "worker_deaths": int, "enqueued_at": float, "created_at": float,
                    "started_at": float, "finished_at": float, "queue_ms": float,
                    "load_ms": float, "run_ms": float, "encode_ms": float, "total_ms": float,
                    "error": str, "last_seq": int,
                },
                pk="id",
                not_null={"owner", "state", "spec", "created_at"},
                defaults={"worker_deaths": 0, "attempts": 0, "last_seq": 0, "error": ""},
            )
            self.db["jobs"].create_index(["state"])
            self.db["jobs"].create_index(["created_at"])
            self.db["jobs"].create_index(["model", "width", "height", "steps", "state", "finished_at"])
            self.db.execute(
                "CREATE UNIQUE INDEX idx_jobs_request ON jobs(owner, request_id) WHERE request_id != ''"
            )
            self.db["outputs"].create(
                {
                    "id": str, "job_id": str, "idx": int, "path": str, "seed": int, "width": int,
                    "height": int, "sha256": str, "size_bytes": int, "created_at": float,
                },
                pk="id",
                foreign_keys=[("job_id", "jobs", "id")],
            )
            self.db["outputs"].create_index(["job_id"])
            self.db["events"].create(
                {"job_id": str, "seq": int, "time": float, "kind": str, "payload": str},
                pk=("job_id", "seq"),
            )
            self.db.execute("PRAGMA user_version=1")

    # -- jobs -----------------------------------------------------------------

    # The hot paths write with plain SQL: sqlite-utils' insert/upsert introspect the
    # table on every call, which cost more than the rest of a tiny job's bookkeeping.

    def _write(self, table: str, row: dict[str, Any], *, upsert_on: str | None = None) -> None:
        columns = ", ".join(row)
        sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' for _ in row)})"
        if upsert_on:
            updates = ", ".join(f"{c} = excluded.{c}" for c in row if c != upsert_on)
            sql += f" ON CONFLICT({upsert_on}) DO UPDATE SET {updates}"
        self.db.conn.execute(sql, list(row.values()))

    def insert_job(self, record: JobRecord) -> None:
        with self.db.conn:
            self._write("jobs", _record_columns(record))

    def save_job(self, record: JobRecord) -> None:
        with self.db.conn:
            self._write("jobs", _record_columns(record), upsert_on="id")

    def _record(self, row: dict[str, Any]) -> JobRecord:
        spec = t.spec_from_jsonable(json.loads(row["spec"]))
        job = t.Job(
            id=row["id"],
            spec=spec,
            owner=row["owner"],
            state=t.JobState(row["state"]),
            attempts=row["attempts"] or 0,
            created_at=row["created_at"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            timings=t.Timings(
                row["queue_ms"] or 0.0,
                row["load_ms"] or 0.0,
                row["run_ms"] or 0.0,
                row["encode_ms"] or 0.0,
                row["total_ms"] or 0.0,
            ),
            error=row["error"] or "",
            outputs=tuple(self.outputs_of(row["id"])),
            last_seq=row["last_seq"] or 0,
            report=t.from_jsonable(t.Report, json.loads(row["report"])) if row.get("report") else None,
        )
        return JobRecord(job, row["worker_deaths"] or 0, row["enqueued_at"] or row["created_at"])

    def get(self, job_id: str) -> JobRecord | None:
        rows = list(self.db["jobs"].rows_where("id = ?", [job_id], limit=1))
        return self._record(rows[0]) if rows else None

    def find_by_request(self, owner: str, request_id: str) -> JobRecord | None:
        rows = list(
            self.db["jobs"].rows_where("owner = ? and request_id = ?", [owner, request_id], limit=1)
        )
        return self._record(rows[0]) if rows else None

    def in_states(self, states: Iterable[t.JobState]) -> list[JobRecord]:
        names = [s.value for s in states]
        where = f"state in ({', '.join('?' for _ in names)})"
        return [self._record(r) for r in self.db["jobs"].rows_where(where, names, order_by="created_at")]

    def list_jobs(
        self,
        *,
        states: Sequence[t.JobState] = (),
        owner: str = "",
        words: Sequence[str] = (),
        before: tuple[float, str] | None = None,
        limit: int = 50,
    ) -> list[JobRecord]:
        """Newest first; `before` is the (created_at, id) of the last job of the previous page."""
        clauses: list[str] = []
        params: list[Any] = []
        if states:
            clauses.append(f"state in ({', '.join('?' for _ in states)})")
            params += [s.value for s in states]
        if owner:
            clauses.append("owner = ?")
            params.append(owner)
        for word in words:
            clauses.append("prompt like ? escape '\\'")
            escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params.append(f"%{escaped}%")
        if before is not None:
            clauses.append("(created_at < ? or (created_at = ? and id < ?))")
            params += [before[0], before[0], before[1]]
        rows = self.db["jobs"].rows_where(
            " and ".join(clauses) or None,
            params,
            order_by="created_at desc, id desc",
            limit=limit,
        )
        return [self._record(r) for r in rows]

    def delete_job(self, job_id: str) -> list[t.Output]:
        outputs = self.outputs_of(job_id)
        with self.db.conn:
            self.db.execute("DELETE FROM events WHERE job_id = ?", [job_id])
            self.db.execute("DELETE FROM outputs WHERE job_id = ?", [job_id])
            self.db.execute("DELETE FROM jobs WHERE id = ?", [job_id])
        return outputs

    def typical_seconds_per_image(self, model: str, kind: str, width: int, height: int, steps: int) -> float | None:
        """Mean load+run+encode time per image of the last 20 similar jobs that succeeded."""
        row = self.db.execute(
            """
            SELECT avg((load_ms + run_ms + encode_ms) / max(count, 1)), count(*) FROM (
              SELECT load_ms, run_ms, encode_ms, count FROM jobs
              WHERE model = ? AND width = ? AND height = ? AND steps = ? AND state = 'succeeded' AND kind = ?
              ORDER BY finished_at DESC LIMIT 20)
            """,
            [model, width, height, steps, kind],
        ).fetchone()
        return row[0] / 1000.0 if row and row[1] else None

    # -- outputs --------------------------------------------------------------

    def add_output(self, output: t.Output) -> None:
        row = {
            "id": output.id,
            "job_id": output.job_id,
            "idx": output.index,
            "path": output.path,
            "seed": output.seed,
            "width": output.width,
            "height": output.height,
            "sha256": output.sha256,
            "size_bytes": output.size_bytes,
            "created_at": time.time(),
            "flagged": int(output.flagged),
            "detections": None if output.detections is None else json.dumps(t.to_jsonable(output.detections)),
            "mime_type": output.mime_type,
        }
        with self.db.conn:
            self._write("outputs", row, upsert_on="id")

    def outputs_of(self, job_id: str) -> list[t.Output]:
        rows = self.db["outputs"].rows_where("job_id = ?", [job_id], order_by="idx")
        return [_output_from_row(r) for r in rows]

    def get_output(self, output_id: str) -> t.Output | None:
        rows = list(self.db["outputs"].rows_where("id = ?", [output_id], limit=1))
        return _output_from_row(rows[0]) if rows else None

    # -- events ---------------------------------------------------------------

    def append_event(self, event: t.JobEvent) -> None:
        kind, payload = encode_event_kind(event.kind)
        with self.db.conn:
            self.db.conn.execute(
                "INSERT OR REPLACE INTO events (job_id, seq, time, kind, payload) VALUES (?, ?, ?, ?, ?)",
                [event.job_id, event.seq, event.time, kind, payload],
            )
            self.db.conn.execute("UPDATE jobs SET last_seq = ? WHERE id = ?", [event.seq, event.job_id])

    def events_after(self, job_id: str, seq: int) -> list[t.JobEvent]:
        rows = self.db["events"].rows_where("job_id = ? and seq > ?", [job_id, seq], order_by="seq")
        return [
            t.JobEvent(r["job_id"], r["seq"], r["time"], decode_event_kind(r["kind"], r["payload"]))
            for r in rows
        ]


    # -- models ---------------------------------------------------------------

    def put_model(self, row: dict[str, Any]) -> None:
        """Insert a model row (files and sha256 as Python values); IntegrityError when the name is taken."""
        row = row | {"files": json.dumps(list(row.get("files", ()))), "sha256": json.dumps(dict(row.get("sha256", {})))}
        with self.db.conn:
            self._write("models", row)

    def models(self) -> list[dict[str, Any]]:
        return [_model_row(r) for r in self.db["models"].rows_where(order_by="name")]

    def get_model(self, name: str) -> dict[str, Any] | None:
        rows = list(self.db["models"].rows_where("name = ?", [name], limit=1))
        return _model_row(rows[0]) if rows else None

    def set_engine(self, name: str, engine: str, engine_model: str) -> None:
        with self.db.conn:
            self.db.execute("UPDATE models SET engine = ?, engine_model = ? WHERE name = ?", [engine, engine_model, name])

    def delete_model(self, name: str) -> None:
        with self.db.conn:
            self.db.execute("DELETE FROM models WHERE name = ?", [name])

    def touch_models(self) -> None:
        """Set last_used_at from the jobs that succeeded since; one indexed query."""
        with self.db.conn:
            self.db.execute(
                """
                UPDATE models SET last_used_at = (
                  SELECT max(finished_at) FROM jobs WHERE jobs.model = models.name AND state = 'succeeded')
                WHERE EXISTS (SELECT 1 FROM jobs WHERE jobs.model = models.name AND state = 'succeeded'
                              AND finished_at > coalesce(models.last_used_at, 0))
                """
            )

    def last_used(self) -> dict[str, float]:
        """When each model (built-ins included) was last used by a job that succeeded."""
        rows = self.db.execute("SELECT model, max(finished_at) FROM jobs WHERE state = 'succeeded' GROUP BY model")
        return {model: when for model, when in rows.fetchall() if when}

    def jobs_naming(self, name: str) -> int:
        """How many queued or running jobs name model `name`."""
        row = self.db.execute(
            "SELECT count(*) FROM jobs WHERE model = ? AND state IN ('queued', 'running')", [name]
        ).fetchone()
        return int(row[0])


def _model_row(row: dict[str, Any]) -> dict[str, Any]:
    return row | {"files": tuple(json.loads(row["files"] or "[]")), "sha256": json.loads(row["sha256"] or "{}")}


class AsyncStore:
    """The Store behind one thread: `await store.run(lambda s: s.get(job_id))`."""

    def __init__(self, path: Path) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self._path = path
        self._store: Store | None = None

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        self._store = await loop.run_in_executor(self._pool, Store, self._path)

    async def run(self, fn: Callable[[Store], _T]) -> _T:
        store = self._store
        if store is None:
            raise RuntimeError("AsyncStore.open() was not awaited")
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, store)

    def submit(self, fn: Callable[[Store], object]) -> asyncio.Future[object]:
        """Queue a call behind those already queued, without waiting for it."""
        store = self._store
        if store is None:
            raise RuntimeError("AsyncStore.open() was not awaited")
        future = asyncio.get_running_loop().run_in_executor(self._pool, fn, store)
        future.add_done_callback(_log_failure)
        return future

    async def close(self) -> None:
        if self._store is not None:
            await self.run(Store.close)
        self._pool.shutdown(wait=True)


def _log_failure(future: asyncio.Future[object]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("store write failed", exc_info=future.exception())


def with_state(record: JobRecord, **changes: Any) -> JobRecord:
    """A copy of the record with fields of its job changed (and bookkeeping via `_record`)."""
    record_changes = {k: changes.pop(k) for k in ("worker_deaths", "enqueued_at") if k in changes}
    return replace(record, job=replace(record.job, **changes), **record_changes)
