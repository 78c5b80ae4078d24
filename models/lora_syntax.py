"""A1111's `<lora:name:weight>` prompt tags (placeholder until the LoRA work lands)."""

from __future__ import annotations

import re

from models.errors import InvalidParameter

_TAG = re.compile(r"<lora:([^:>]+)(?::([^>]*))?>")


def extract_loras(prompt: str) -> tuple[str, list[tuple[str, float]]]:
    found: list[tuple[str, float]] = []

    def take(match: re.Match[str]) -> str:
        name, weight = match.group(1).strip(), (match.group(2) or "1").strip()
        try:
            found.append((name, float(weight)))
        except ValueError:
            raise InvalidParameter("prompt", f"prompt: <lora:{name}:{weight}> needs a number as its weight") from None
        return ""

    return re.sub(r"\s{2,}", " ", _TAG.sub(take, prompt)).strip(), found
