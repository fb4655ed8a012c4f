"""XML-safe text: feedgen raises at serialisation on characters XML 1.0 forbids, so we replace them first."""

from __future__ import annotations

import re
from typing import Any

REPLACEMENT = "\ufffd"

# Everything outside XML 1.0's Char production that a Python str can hold.
_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean(text: str) -> str:
    """The text with XML-invalid characters replaced by U+FFFD; emoji and right-to-left text pass unchanged."""
    if _SURROGATE.search(text):
        # Join surrogate pairs into the characters they spell, so only lone halves get replaced.
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return _INVALID.sub(REPLACEMENT, text)


def clean_tree(value: Any) -> Any:
    """A copy of a JSON-like value with every string in it, keys included, made XML-safe."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean_tree(key): clean_tree(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_tree(item) for item in value]
    return value
