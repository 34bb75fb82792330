"""The engine, per-connection settings, sessions and schema upgrades."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from bot.storage.writer_lock import WriterLock

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 5000
READ_ONLY = "escalation_read_only"  # execution option of Database.read_session's engine


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # check_same_thread off: work runs on worker threads; each session is still used by one
        # thread at a time. Only file databases: an in-memory one is private to each connection.
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - exercised by every sqlite test
            # We issue BEGIN ourselves (below): pysqlite's implicit BEGIN comes late and deferred.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")  # readers don't block the writer
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")  # wait for a lock instead of failing
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")  # safe with WAL, much faster commits
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn) -> None:  # pragma: no cover - exercised by every sqlite test
            # Take the write lock at the start: a deferred transaction that reads and then writes
            # fails at once with "database is locked" when another writer got in between, instead
            # of waiting out the busy timeout (thousands of such errors in the scheduler's load test).
            # Database.read_session's transactions only read: they take no lock (WAL snapshot).
            conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")

        return engine
    # No server-side prepared statements (psycopg prepares a statement after 5 runs): PostgreSQL then
    # plans it once for any parameters, and for full-text matching, whose best plan depends on the
    # words and the window, that generic plan read 3-4x more (similar-brief p50 90 -> 33 ms, p99
    # 225 -> 57-80 ms at 100,000 briefs). (Server-side prepared statements are also what PgBouncer's
    # transaction pooling could not carry before its 1.21.)
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, connect_args={"prepare_threshold": None})


class DatabaseUnavailable(Exception):
    """The database could not be opened or migrated; the message is the first line of the reason."""


def open_migrated(url: str) -> Database:
    """A Database at the latest schema, or DatabaseUnavailable (a wrong URL, a server down, no rights)."""
    db = Database(url)
    try:
        db.upgrade()
    except (SQLAlchemyError, OSError) as exc:
        raise DatabaseUnavailable(str(getattr(exc, "orig", None) or exc).splitlines()[0]) from None
    return db


def redacted(url: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        # Where running-log entries are forwarded (bot.ticketing): set once at start-up, read by
        # running_log.add_log so the outbox row is written in the log entry's own transaction.
        self.outbox_sinks: frozenset[str] = frozenset()
        self.outbox_private_details = False  # ESCALATION_SECURITY_DETAILS_OUTSIDE_SLACK (bot.storage.outbox.entry_payload)
        # SQLite has one writer at a time and every session here writes (BEGIN IMMEDIATE): writers
        # queue on this lock (threads and processes) instead of in SQLite's busy handler, which
        # sleeps up to 100 ms between tries; see writer_lock. Re-entrant: a nested session behaves
        # as before (it waits on SQLite).
        self._writer = WriterLock(self.engine.url.database, SQLITE_BUSY_TIMEOUT_MS / 1000) if url.startswith("sqlite") else None
        self._read_engine = self.engine.execution_options(**{READ_ONLY: True})

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work: commits on success, rolls back on error. Never held across a Slack call."""
        queued = self._writer is not None and self._writer.acquire()
        try:
            with Session(self.engine, expire_on_commit=False) as session:
                session.info["outbox_sinks"] = self.outbox_sinks
                session.info["outbox_private_details"] = self.outbox_private_details
                try:
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        finally:
            if queued:
                self._writer.release()

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A transaction that only reads: on SQLite it neither takes nor waits for the write lock
        (it reads a snapshot), so it can run beside writers. Rolled back at the end; never write in it."""
        with Session(self._read_engine, expire_on_commit=False) as session:
            try:
                yield session
            finally:
                session.rollback()

    def upgrade(self) -> None:
        """Apply every Alembic migration not yet applied (idempotent; safe at every start)."""
        command.upgrade(alembic_config(self.url, self.engine), "head")

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - health checks report, they don't raise
            log.warning("database ping failed", exc_info=True)
            return False

    def dispose(self) -> None:
        self.engine.dispose()
        if self._writer is not None:
            self._writer.close()


def alembic_config(url: str, engine: Engine | None = None) -> Config:
    cfg = Config(str(MIGRATIONS / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg
