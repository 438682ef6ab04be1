"""Configuration read once per request: ``config_memo()`` and ``@memoized``.

A lead capture reads the same tenant configuration several times (the active model, the scoring engine, the
business calendar, the SLA policies, the time zone, attribute definitions), and on SQLite every statement
inside its ``BEGIN IMMEDIATE`` transaction holds the database's one write lock. Inside ``config_memo()`` the
functions marked ``@memoized`` answer each question once, so a caller can ask them before its transaction
opens (``leads.config.capture_prefetch``) and the transaction reads only what is about its own records.
Outside a memo every call reads afresh. A memo lives for one request: configuration changed meanwhile applies
from the next request on, as it would had it been saved a moment later.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any

_memo: ContextVar[dict | None] = ContextVar("leadwerk_config_memo", default=None)


@contextmanager
def config_memo() -> Iterator[None]:
    """Within this block, each memoized configuration read is done once (nested blocks share the outer one)."""
    if _memo.get() is not None:
        yield
        return
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def memoized[F: Callable[..., Any]](fn: F) -> F:
    """Remember ``fn``'s answer per arguments while a ``config_memo()`` block is open."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        memo = _memo.get()
        if memo is None:
            return fn(*args, **kwargs)
        key = (fn.__module__, fn.__qualname__, args, tuple(sorted(kwargs.items())))
        try:
            return memo[key]
        except KeyError:
            value = memo[key] = fn(*args, **kwargs)
            return value

    return wrapper  # type: ignore[return-value]
