"""AUTOMATIC1111's `<lora:name:weight>` prompt syntax; torch-free, so the daemon parses prompts at submit.

Supported forms: `<lora:name>` (weight 1.0), `<lora:name:0.8>`, and the keyword form
`<lora:name:unet=0.8>`; `te=` may be given too but must equal the UNet weight, since a job
has one weight per LoRA.
"""

import math
import re

from models.errors import InvalidParameter

MAX_LORA_WEIGHT = 4.0  # as models.params allows for a job's LoRA weights
_TAG = re.compile(r"<lora:([^<>]*)>", re.IGNORECASE)
_UNCLOSED = re.compile(r"<lora:[^>]*$", re.IGNORECASE)
_SPACES = re.compile(r"[ \t]{2,}")


def _number(tag: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InvalidParameter(
            "prompt", f"LoRA tag {tag} has weight '{text}', which is not a number; write e.g. <lora:name:0.8>"
        ) from None
    if not math.isfinite(value) or abs(value) > MAX_LORA_WEIGHT:
        raise InvalidParameter(
            "prompt",
            f"LoRA tag {tag} has weight {text}; a LoRA weight must be between -{MAX_LORA_WEIGHT} and {MAX_LORA_WEIGHT}",
        )
    return value


def _weight(tag: str, parts: list[str]) -> float:
    positional = [p for p in parts if "=" not in p]
    keywords: dict[str, float] = {}
    for part in (p for p in parts if "=" in p):
        key, _, value = part.partition("=")
        key = key.strip().lower()
        if key not in ("te", "unet"):
            raise InvalidParameter(
                "prompt", f"LoRA tag {tag} has an unknown option '{key}'; only te= and unet= are understood"
            )
        keywords[key] = _number(tag, value.strip())
    if positional and keywords or len(positional) > 1:
        raise InvalidParameter(
            "prompt", f"LoRA tag {tag} gives more than one weight; write <lora:name:weight> with a single weight"
        )
    if positional:
        return _number(tag, positional[0].strip())
    if "te" in keywords and "unet" in keywords and keywords["te"] != keywords["unet"]:
        raise InvalidParameter(
            "prompt",
            f"LoRA tag {tag} gives different te= and unet= weights; separate text-encoder and UNet weights are "
            "not supported, so give one weight",
        )
    return keywords.get("unet", keywords.get("te", 1.0))


def _parse_tag(tag: str, body: str) -> tuple[str, float]:
    name, *parts = body.split(":")
    name = name.strip()
    if not name:
        raise InvalidParameter("prompt", f"LoRA tag {tag} has no name; write <lora:name> or <lora:name:weight>")
    return name, _weight(tag, parts)


def extract_loras(prompt: str) -> tuple[str, list[tuple[str, float]]]:
    """The prompt without its <lora:...> tags, and the (name, weight) of each tag in order.

    A name given twice is an error, since its weights would be ambiguous.
    """
    unclosed = _UNCLOSED.search(prompt)
    if unclosed is not None:
        raise InvalidParameter(
            "prompt", f"LoRA tag '{unclosed.group(0)[:40]}' is not closed; end it with '>' as in <lora:name:0.8>"
        )
    loras: list[tuple[str, float]] = []
    for match in _TAG.finditer(prompt):
        name, weight = _parse_tag(match.group(0), match.group(1))
        if any(name == seen for seen, _ in loras):
            raise InvalidParameter("prompt", f"LoRA '{name}' is named twice in the prompt; name each LoRA once")
        loras.append((name, weight))
    text = _TAG.sub("", prompt)
    cleaned = "\n".join(_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return cleaned.strip(), loras
