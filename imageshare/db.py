"""The database engine and sessions. Services receive a Session; nothing else opens one.

The app's one engine is built with the rest of its dependencies (wiring.py); these
helpers take the engine, or a session factory, they work with."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel, create_engine

from imageshare import events as events_module

# Named constraints, so migrations can refer to them on every database.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def create_db_engine(database_url: str) -> Engine:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    # pool_pre_ping: RDS fail-overs and idle timeouts drop connections under us.
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def _configure_sqlite(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    # SQLite ignores foreign keys unless asked; WAL lets readers run beside a writer.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()
    # SQLite's own lower() changes ASCII letters only ("ÉVORA" → "Évora"); the services
    # lower what people type with Python, as Postgres lowers every script.
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


# A session factory, as the wiring and the processing tier hand them around.
Sessions = Callable[[], AbstractContextManager[Session]]
# Database work run off the event loop in one transaction (run_in_session, or the
# wiring's `run`), as async code that needs the database is handed it.
Runner = Callable[[Callable[[Session], Any]], Awaitable[Any]]


@contextmanager
def session_scope(
    engine: Engine, *, events: events_module.Events | None = None
) -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back when it raises.

    `events` is where the events its services publish go once it commits
    (events.publish_after_commit); the app's sessions (wiring.py) always carry one."""
    with Session(engine, expire_on_commit=False) as session:
        if events is not None:
            events_module.deliver_to(session, events)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


T = TypeVar("T")


async def run_in_session(sessions: Sessions, work: Callable[[Session], T]) -> T:
    """Run blocking database work in a worker thread, in one transaction of `sessions`.

    Async code (routes, Reflex handlers) must not block the event loop that serves
    everyone else, so it hands its queries here (through the wiring's `run`).
    """

    def in_thread() -> T:
        with sessions() as session:
            return work(session)

    return await asyncio.to_thread(in_thread)


def utcnow() -> datetime:
    """The current time, timezone-aware, as every timestamp column stores it."""
    return datetime.now(UTC)


# Integer primary keys are 32-bit on Postgres: a larger number, which any client can
# send, is no row of ours, and asking Postgres for it would be an error, not an answer.
MAX_INTEGER_KEY = 2**31 - 1
M = TypeVar("M", bound=SQLModel)


def get_by_id(db: Session, model: type[M], row_id: int) -> M | None:
    """The row with this integer id, or None, for any integer a client may send."""
    if not 0 < row_id <= MAX_INTEGER_KEY:
        return None
    return db.get(model, row_id)
