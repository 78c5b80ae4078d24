"""The part of `imagine.client.Client` the dashboard uses, so tests can hand in another object."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from imagine import types as t
from imagine.client import JobPage, ModelList, Submitted


class DashboardClient(Protocol):
    target: str

    async def submit(self, spec: t.JobSpec) -> Submitted: ...

    def watch(self, job_id: str, after_seq: int = 0) -> AsyncIterator[t.JobEvent]: ...

    async def get(self, job_id: str) -> t.Job: ...

    async def list_jobs(
        self,
        *,
        states: Sequence[t.JobState] = (),
        owner: str = "",
        text: str = "",
        page_size: int = 0,
        page_token: str = "",
    ) -> JobPage: ...

    async def cancel(self, job_id: str) -> t.Job: ...

    async def set_priority(self, job_id: str, priority: t.Priority) -> t.Job: ...

    async def delete(self, job_id: str) -> None: ...

    async def read_output(self, output_id: str) -> bytes: ...

    def watch_status(self, interval_ms: int = 0) -> AsyncIterator[t.Status]: ...

    async def pause_queue(self) -> t.Status: ...

    async def resume_queue(self) -> t.Status: ...

    async def list_models(self) -> ModelList: ...

    async def unload_model(self, name: str) -> None: ...

    async def close(self) -> None: ...
