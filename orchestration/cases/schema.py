"""Tables of the case store and an engine tuned for a dashboard and a pipeline writing at once.

All timestamps are stored as UTC without a zone, the same on SQLite and PostgreSQL. The event and
threshold tables are append-only, enforced by triggers in the database as well as by the API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    create_engine,
    event,
    make_url,
    text,
)

from .lifecycle import DECISIONS, STATUSES

BUSY_TIMEOUT_SECONDS = 30

metadata = MetaData()

Id = BigInteger().with_variant(Integer, "sqlite")
Money = Numeric(18, 2, asdecimal=False)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} in ({', '.join(repr(v) for v in values)})"


cases = Table(
    "cases",
    metadata,
    Column("case_id", String(40), primary_key=True),
    Column("transaction_id", String(200), nullable=False, unique=True),
    Column("employee_id", String(200), nullable=False),
    Column("card_id", String(200), nullable=False),
    Column("amount", Money, nullable=False),
    Column("score", Float),
    Column("alerted_by", Text, nullable=False),  # JSON list of rule ids, models, random_audit
    Column("alert_date", Date, nullable=False),
    Column("details", Text),  # JSON: transaction facts for the explanation request, when known
    Column("status", String(32), nullable=False),
    Column("assignee", String(200)),
    Column("decision", String(16)),
    Column("recovered_amount", Money),
    Column("explanation_due", Date),
    Column("explanation_requested_at", DateTime),
    Column("explanation_received_at", DateTime),
    Column("decided_at", DateTime),
    Column("closed_at", DateTime),
    Column("version", Integer, nullable=False),
    Column("escalated", Boolean, nullable=False, default=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    CheckConstraint(_in("status", STATUSES), name="ck_cases_status"),
    CheckConstraint(f"decision is null or {_in('decision', DECISIONS)}", name="ck_cases_decision"),
    CheckConstraint("recovered_amount is null or recovered_amount >= 0", name="ck_cases_recovered"),
    Index("ix_cases_status_score", "status", "score"),
    Index("ix_cases_assignee", "assignee"),
    Index("ix_cases_alert_date", "alert_date"),
)

case_events = Table(
    "case_events",
    metadata,
    Column("event_id", Id, primary_key=True, autoincrement=True),
    Column("case_id", String(40), ForeignKey("cases.case_id"), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("role", String(32), nullable=False),
    Column("action", String(32), nullable=False),
    Column("version", Integer, nullable=False),  # the case version this event produced
    Column("before", Text),  # JSON of the changed fields before the action
    Column("after", Text),  # JSON of the changed fields after the action
    Column("note", Text),
    Index("ix_case_events_case", "case_id", "event_id"),
    Index("ix_case_events_at", "at"),
    sqlite_autoincrement=True,
)

threshold_changes = Table(
    "threshold_changes",
    metadata,
    Column("change_id", Id, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("role", String(32), nullable=False),
    Column("parameter", String(200), nullable=False),
    Column("old_value", Text),  # JSON
    Column("new_value", Text),  # JSON
    Column("reason", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("proposal_id", Id, ForeignKey("threshold_changes.change_id"), unique=True),
    CheckConstraint(_in("status", ("proposed", "applied", "rejected")), name="ck_threshold_status"),
    Index("ix_threshold_parameter", "parameter", "change_id"),
    sqlite_autoincrement=True,
)

store_meta = Table(
    "case_store_meta",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)

APPEND_ONLY = ("case_events", "threshold_changes")

SQLITE_TRIGGERS = [
    *(
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{verb} BEFORE {verb.upper()} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        for table in APPEND_ONLY
        for verb in ("update", "delete")
    ),
    "CREATE TRIGGER IF NOT EXISTS cases_no_delete BEFORE DELETE ON cases "
    "BEGIN SELECT RAISE(ABORT, 'cases are never deleted'); END",
]

POSTGRES_TRIGGERS = [
    "CREATE OR REPLACE FUNCTION cardwatch_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$",
    *(
        statement
        for table in APPEND_ONLY
        for statement in (
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION cardwatch_append_only()",
        )
    ),
    "DROP TRIGGER IF EXISTS cases_no_delete ON cases",
    "CREATE TRIGGER cases_no_delete BEFORE DELETE ON cases FOR EACH ROW EXECUTE FUNCTION cardwatch_append_only()",
]


def make_engine(url: str) -> Engine:
    """An engine; for SQLite: WAL, a busy timeout, and BEGIN IMMEDIATE on write transactions."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if not parsed.database or parsed.database == ":memory:":
        raise ValueError("the case store needs a SQLite file (sqlite:///path/cases.sqlite), not memory")
    Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (see _on_begin)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A write takes the lock up front so a read-then-write never fails half-way with a stale snapshot.
        write = connection.get_execution_options().get("cardwatch_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def create_schema(engine: Engine) -> None:
    """Create tables, indexes and append-only triggers; safe to run any number of times."""
    backend = engine.dialect.name
    with engine.connect().execution_options(cardwatch_write=True) as conn, conn.begin():
        metadata.create_all(conn, checkfirst=True)
        statements = (
            SQLITE_TRIGGERS if backend == "sqlite" else POSTGRES_TRIGGERS if backend == "postgresql" else []
        )
        if backend == "postgresql":
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(4242001)")
        for statement in statements:
            conn.execute(text(statement))
