"""Configuration read once per request: ``config_memo()`` and ``@memoized``; shared between requests while a
stamp says it is unchanged: ``config_share()``.

A lead capture reads the same tenant configuration several times (the active model, the scoring engine, the
business calendar, the SLA policies, the time zone, attribute definitions), and on SQLite every statement
inside its ``BEGIN IMMEDIATE`` transaction holds the database's one write lock. Inside ``config_memo()`` the
functions marked ``@memoized`` answer each question once, so a caller can ask them before its transaction
opens (``leads.config.capture_prefetch``) and the transaction reads only what is about its own records.
Outside a memo every call reads afresh. A memo lives for one request: configuration changed meanwhile applies
from the next request on, as it would had it been saved a moment later.

``config_share(tenant_id, stamp, names)`` goes one step further for the functions it names: their answers for
that tenant are kept in the process and reused by later requests that read the same ``stamp`` — one query
over the configuration tables (``updated_stamp_sql``) instead of one query per table. The stamp is read at
the start of the request, before any answer it covers: an answer is stored only under a stamp read before
the answer was, so a shared answer is never older than its stamp (configuration saved between the two reads
is newer than the stamp, and the next request's stamp no longer matches). Several threads may fill the
store at once: the worst case is an answer computed twice or an entry replaced by an older stamp's, which
only costs a read. Each process keeps its own store and checks the stamp per request.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any

_memo: ContextVar[dict | None] = ContextVar("leadwerk_config_memo", default=None)
# The request's shared scope: (tenant id, stamp, names of the functions it covers), under a key no function has.
_SCOPE = ("leadwerk.core.memo", "scope")
# tenant id → (stamp, {memo key: answer}); replaced whole when the stamp changes, so it holds one tenant once.
_shared: dict[int, tuple[Hashable, dict]] = {}


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


def config_share(tenant_id: int, stamp: Hashable, names: Collection[str]) -> None:
    """Let the open memo reuse, and keep for later requests, the answers of ``names`` (``module.qualname`` of
    ``@memoized`` functions whose first argument is the tenant id) for this tenant while ``stamp`` is unchanged.

    ``stamp`` must change whenever anything those functions read changes, and must have been read before any
    of them runs in this request (answers computed earlier in the memo stay the request's own)."""
    memo = _memo.get()
    if memo is None:
        raise RuntimeError("config_share() needs an open config_memo()")
    names = frozenset(names)
    # Answers this request read before the stamp could be older than it: they must not be shared, nor kept.
    for key in [k for k in memo if k != _SCOPE and f"{k[0]}.{k[1]}" in names and k[2][:1] == (tenant_id,)]:
        del memo[key]
    memo[_SCOPE] = (tenant_id, stamp, names)


def config_shared_clear() -> None:
    """Forget every shared answer (tests: a rolled-back test may leave answers under a stamp a later one has)."""
    _shared.clear()


def memoized[F: Callable[..., Any]](fn: F) -> F:
    """Remember ``fn``'s answer per arguments while a ``config_memo()`` block is open."""
    name = f"{fn.__module__}.{fn.__qualname__}"

    @wraps(fn)
    def wrapper(*args, **kwargs):
        memo = _memo.get()
        if memo is None:
            return fn(*args, **kwargs)
        key = (fn.__module__, fn.__qualname__, args, tuple(sorted(kwargs.items())))
        try:
            return memo[key]
        except KeyError:
            pass
        scope = memo.get(_SCOPE)
        if scope is None or not args or args[0] != scope[0] or name not in scope[2]:
            value = memo[key] = fn(*args, **kwargs)
            return value
        tenant_id, stamp = scope[0], scope[1]
        entry = _shared.get(tenant_id)
        if entry is not None and entry[0] == stamp and key in entry[1]:
            value = memo[key] = entry[1][key]
            return value
        value = memo[key] = fn(*args, **kwargs)
        entry = _shared.get(tenant_id)
        if entry is None or entry[0] != stamp:
            entry = (stamp, {})
            _shared[tenant_id] = entry
        entry[1][key] = value
        return value

    wrapper.memo_name = name  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def updated_stamp_sql(table: str, vendor: str) -> str:
    """Two scalar subqueries, ``COUNT(*)`` and the sum of ``updated_at`` in microseconds, over one tenant's rows
    of ``table`` (two ``%s``, each the tenant id). Every insert or delete changes the count and every save the sum
    (``auto_now``): unlike the newest ``updated_at``, the sum also changes when a save that began earlier
    commits after a later one. Writes that bypass ``save()`` must set ``updated_at`` themselves."""
    if vendor == "postgresql":
        micros = "(EXTRACT(EPOCH FROM updated_at) * 1000000)::bigint"
    else:  # SQLite keeps 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC
        micros = (
            "CAST(strftime('%%s', updated_at) AS INTEGER) * 1000000"
            " + CAST(substr(updated_at || '.000000', 21, 6) AS INTEGER)"
        )
    where = f"FROM {table} WHERE tenant_id = %s"
    return f"(SELECT COUNT(*) {where}), (SELECT COALESCE(SUM({micros}), 0) {where})"
