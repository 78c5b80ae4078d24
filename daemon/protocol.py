"""Frames between the daemon and its worker process: 4-byte length + pickle.

Daemon → worker: {"op": "run", ...}, {"op": "cancel", "job_id"}, {"op": "status"}.
Worker → daemon: {"ev": "ready" | "status" | "started" | "progress" | "output" |
"done" | "cancelled" | "failed", ...}. Both ends are our own code on one
machine, so pickle is safe here; nothing else may write to these pipes.
"""

from __future__ import annotations

import asyncio
import pickle
import struct
import threading
from typing import Any, BinaryIO

Message = dict[str, Any]
_HEADER = struct.Struct("!I")


def encode(message: Message) -> bytes:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(body)) + body


class FrameWriter:
    """Thread-safe blocking writer (worker side)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def send(self, message: Message) -> None:
        data = encode(message)
        with self._lock:
            self._stream.write(data)
            self._stream.flush()


def read_frame(stream: BinaryIO) -> Message | None:
    """Blocking read (worker side); None at end of stream."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    body = stream.read(size)
    if len(body) < size:
        return None
    message: Message = pickle.loads(body)
    return message


async def read_frame_async(reader: asyncio.StreamReader) -> Message | None:
    """Daemon side; None at end of stream (the worker exited)."""
    try:
        header = await reader.readexactly(_HEADER.size)
        (size,) = _HEADER.unpack(header)
        message: Message = pickle.loads(await reader.readexactly(size))
    except asyncio.IncompleteReadError:
        return None
    return message
