"""Who is calling: the owner of the jobs a request creates.

The owner never comes from the request body. A caller on the unix socket
(mode 0600, so only the daemon's own user can connect) is that local user,
and as a trusted front end (a chat bot) it may name the person it acts for
in the `x-imagine-on-behalf-of` metadata. A caller over TCP is identified by
its address, and may not act for anyone else.
"""

from __future__ import annotations

import getpass
import re

import grpc

from imagine.client import ON_BEHALF_OF
from daemon.errors import InvalidRequest, NotAllowed

_OWNER = re.compile(r"[\w.:@/+-]{1,128}")
LOCAL_USER = getpass.getuser()


def _metadata(context: grpc.aio.ServicerContext, key: str) -> str | None:
    for item in context.invocation_metadata() or ():
        if item.key == key:
            return str(item.value)
    return None


def owner_of(context: grpc.aio.ServicerContext) -> str:
    peer = context.peer() or ""
    on_behalf = _metadata(context, ON_BEHALF_OF)
    if peer.startswith("unix:"):
        if on_behalf is None:
            return LOCAL_USER
        if not _OWNER.fullmatch(on_behalf):
            raise InvalidRequest(
                ON_BEHALF_OF,
                f"{ON_BEHALF_OF} must be 1-128 letters, digits or . : @ / + - _, got {on_behalf!r}",
            )
        return on_behalf
    if on_behalf is not None:
        raise NotAllowed(f"{ON_BEHALF_OF} is honoured only on the daemon's local unix socket")
    host = peer.split(":", 1)[1].rsplit(":", 1)[0] if ":" in peer else peer
    return f"remote:{host}"
