from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from imagine import types as t
from daemon.store import JobRecord, Store, with_state


def job(job_id: str, prompt: str = "a lighthouse", created: float = 1.0, **kw: object) -> JobRecord:
    spec = t.JobSpec(t.Txt2Img(prompt, width=64, height=64, steps=2, guidance=7.0, seed=5, count=1, scheduler="euler"), model="tiny-sd", request_id=str(kw.pop("request_id", "")))
    return JobRecord(t.Job(id=job_id, spec=spec, owner=str(kw.pop("owner", "alice")), state=t.JobState.QUEUED, created_at=created))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "db.sqlite")


def test_job_round_trip_keeps_the_spec(store: Store) -> None:
    record = job("j1")
    store.insert_job(record)
    loaded = store.get("j1")
    assert loaded is not None
    assert loaded.job.spec == record.job.spec
    assert loaded.job.state == t.JobState.QUEUED


def test_wal_mode(store: Store) -> None:
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_request_id_is_unique_per_owner(store: Store) -> None:
    store.insert_job(job("j1", request_id="r1"))
    store.insert_job(job("j2", request_id="r1", owner="bob"))
    with pytest.raises(sqlite3.IntegrityError):
        store.insert_job(job("j3", request_id="r1"))
    found = store.find_by_request("alice", "r1")
    assert found is not None and found.id == "j1"


def test_list_filters_search_and_pages(store: Store) -> None:
    for i, prompt in enumerate(["red fox", "blue fox", "red car", "100% cotton"]):
        store.insert_job(job(f"j{i}", prompt, created=float(i)))
    assert [r.id for r in store.list_jobs(words=["fox"])] == ["j1", "j0"]
    assert [r.id for r in store.list_jobs(words=["red", "fox"])] == ["j0"]
    assert [r.id for r in store.list_jobs(words=["%"])] == ["j3"]
    first = store.list_jobs(limit=2)
    assert [r.id for r in first] == ["j3", "j2"]
    last = first[-1].job
    assert [r.id for r in store.list_jobs(before=(last.created_at, last.id), limit=2)] == ["j1", "j0"]


def test_events_are_replayed_in_order(store: Store) -> None:
    store.insert_job(job("j1"))
    kinds: list[t.EventKind] = [t.Queued(1, None), t.Started("w", 1.5, 1), t.Progress(1, 2), t.Progress(2, 2), t.Finished(t.JobState.SUCCEEDED, "", t.Timings(run_ms=3.0))]
    for seq, kind in enumerate(kinds, start=1):
        store.append_event(t.JobEvent("j1", seq, float(seq), kind))
    assert [e.kind for e in store.events_after("j1", 1)] == kinds[1:]
    assert store.get("j1").job.last_seq == 5  # type: ignore[union-attr]


def test_typical_time_uses_similar_successful_jobs_only(store: Store) -> None:
    assert store.typical_seconds_per_image("tiny-sd", "txt2img", 64, 64, 2) is None
    done = with_state(job("j1"), state=t.JobState.SUCCEEDED, finished_at=2.0, timings=t.Timings(load_ms=1000, run_ms=2000, encode_ms=0))
    failed = with_state(job("j2"), state=t.JobState.FAILED, finished_at=3.0, timings=t.Timings(run_ms=90000))
    store.insert_job(done)
    store.insert_job(failed)
    assert store.typical_seconds_per_image("tiny-sd", "txt2img", 64, 64, 2) == pytest.approx(3.0)
    assert store.typical_seconds_per_image("tiny-sd", "txt2img", 128, 64, 2) is None


def test_delete_removes_outputs_and_events(store: Store) -> None:
    store.insert_job(job("j1"))
    store.add_output(t.Output("j1-0", "j1", 0, 5, 64, 64, "/x.png", "ab", 10))
    store.append_event(t.JobEvent("j1", 1, 1.0, t.Queued(1)))
    assert [o.id for o in store.delete_job("j1")] == ["j1-0"]
    assert store.get("j1") is None and store.get_output("j1-0") is None
    assert store.events_after("j1", 0) == []


def test_spec_json_shortcut_matches_the_generic_conversion() -> None:
    from imagine.types import spec_to_jsonable, to_jsonable

    spec = job("j1").job.spec
    assert spec_to_jsonable(spec) == to_jsonable(spec)


def test_saving_twice_updates_in_place(store: Store) -> None:
    record = job("j1")
    store.insert_job(record)
    store.save_job(with_state(record, state=t.JobState.FAILED, error="boom"))
    loaded = store.get("j1")
    assert loaded is not None and loaded.job.state == t.JobState.FAILED and loaded.job.error == "boom"
    assert store.db.execute("select count(*) from jobs").fetchone()[0] == 1
