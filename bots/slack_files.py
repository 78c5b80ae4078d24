"""Images attached to a Slack message: described from the event's `files`, downloaded with the bot token.

Slack serves `url_private` only with `Authorization: Bearer <bot token>` and
the `files:read` scope; without them it answers 200 with its HTML sign-in
page, which is turned into a sentence saying what the app is missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp

from bots.detect import MAX_ATTACHMENT_BYTES, Attachment
from bots.policy import Refused

CHUNK = 256 * 1024
NO_IMAGE = "image: attach a picture to the message that mentions me, e.g. “@imagine detect” with a photo."


def described(file: Mapping[str, Any]) -> Attachment:
    return Attachment(str(file.get("name") or file.get("title") or "the file"), int(file.get("size") or 0),
                      str(file.get("mimetype") or ""))


def check_files(files: Sequence[Mapping[str, Any]], limit: int = MAX_ATTACHMENT_BYTES) -> None:
    """Refuse a message with no files, or with one that is not an image or is too large, before any download."""
    if not files:
        raise Refused(NO_IMAGE)
    for file in files:
        described(file).check(limit)


async def download(session: aiohttp.ClientSession, file: Mapping[str, Any], token: str,
                   limit: int = MAX_ATTACHMENT_BYTES) -> bytes:
    name = described(file).filename
    url = file.get("url_private_download") or file.get("url_private")
    if not url:
        raise Refused(f"image: Slack gave no address for “{name}”; please share it again.")
    async with session.get(str(url), headers={"Authorization": f"Bearer {token}"}) as response:
        if response.status != 200:
            raise Refused(f"image: I could not download “{name}” (HTTP {response.status}); please share it again.")
        if response.content_type == "text/html":
            raise Refused(f"image: Slack would not let me read “{name}”; this app needs the files:read scope.")
        chunks: list[bytes] = []
        async for chunk in response.content.iter_chunked(CHUNK):
            chunks.append(chunk)
            if sum(map(len, chunks)) > limit:  # the event's size was wrong: stop reading
                raise Refused(f"image: “{name}” is larger than {limit / 2**20:g} MiB; attach a smaller one.")
    return b"".join(chunks)


async def download_all(files: Sequence[Mapping[str, Any]], token: str) -> tuple[bytes, ...]:
    async with aiohttp.ClientSession() as session:
        return tuple([await download(session, file, token) for file in files])
