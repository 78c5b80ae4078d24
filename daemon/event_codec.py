"""Job events as (kind, JSON) pairs for the events table."""

from __future__ import annotations

import base64
import json
from typing import Any

from imagine import types as t


def encode_event_kind(kind: t.EventKind) -> tuple[str, str]:
    if isinstance(kind, t.Snapshot):
        raise ValueError("snapshots are made on demand, never stored")
    data: dict[str, Any] = t.to_jsonable(kind)
    if isinstance(kind, t.Progress):
        data["preview"] = base64.b64encode(kind.preview).decode()
    return _NAMES[type(kind)], json.dumps(data)


def decode_event_kind(name: str, payload: str) -> t.EventKind:
    data = json.loads(payload)
    if name == "queued":
        return t.Queued(**data)
    if name == "started":
        return t.Started(**data)
    if name == "progress":
        return t.Progress(
            data["step"], data["total"], base64.b64decode(data.get("preview", "")),
            data.get("stage", ""), data.get("metrics", {}),
        )
    if name == "output":
        return t.from_jsonable(t.Output, data)
    if name == "finished":
        return t.from_jsonable(t.Finished, data | {"state": t.JobState(data["state"])})
    raise ValueError(f"unknown stored event kind {name!r}")


_NAMES: dict[type, str] = {
    t.Queued: "queued",
    t.Started: "started",
    t.Progress: "progress",
    t.Output: "output",
    t.Finished: "finished",
}
