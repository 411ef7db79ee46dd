"""Show text a remote party chose (a server's body, header or URL; a file's header line) safely.

Errors and reports quote such text to name what went wrong; quoted raw, it can clear an operator's
terminal, retitle it, reverse a line with a bidi override or bury the log under megabytes. Every quote
goes through :func:`untrusted` (one value) or :func:`untrusted_list` (several).
"""

from __future__ import annotations

from collections.abc import Iterable

UNTRUSTED_LIMIT = 120
UNTRUSTED_ITEMS = 10


def untrusted(value: object, limit: int = UNTRUSTED_LIMIT) -> str:
    """Truncated to ``limit`` characters, then ``repr``-escaped.

    ``repr`` escapes control characters, ANSI escapes and bidi overrides (all non-printable), so a log
    line shows ``\\x1b`` / ``\\u202e`` instead of obeying them.
    """
    text = value[: limit * 4].decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)
    suffix = f"… ({len(text) - limit} more characters)" if len(text) > limit else ""
    return repr(text[:limit]) + suffix


def untrusted_list(values: Iterable[object], items: int = UNTRUSTED_ITEMS, limit: int = 60) -> str:
    """``[...]`` of at most ``items`` escaped, truncated values, then how many were left out."""
    values = list(values)
    shown = ", ".join(untrusted(v, limit) for v in values[:items])
    more = f", … {len(values) - items} more" if len(values) > items else ""
    return f"[{shown}{more}]"
