"""Read queries on an open connection: the queue, events, workload numbers and the outcome export."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Connection, RowMapping, and_, case, func, or_, select

from . import lifecycle as lc
from .errors import CaseNotFoundError, ConcurrentUpdateError
from .schema import case_events, cases
from .views import Workload, as_utc, from_json

CHUNK = 500

QUEUE_COLUMNS = [
    "case_id",
    "transaction_id",
    "employee_id",
    "card_id",
    "amount",
    "score",
    "alerted_by",
    "alert_date",
    "status",
    "status_ko",
    "assignee",
    "decision",
    "recovered_amount",
    "escalated",
    "version",
    "explanation_due",
    "explanation_requested_at",
    "explanation_received_at",
    "decided_at",
    "closed_at",
    "created_at",
    "updated_at",
    "age_days",
    "identity_masked",
]

EVENT_COLUMNS = [
    "event_id",
    "case_id",
    "at",
    "actor",
    "role",
    "action",
    "action_ko",
    "version",
    "before",
    "after",
    "note",
]

OUTCOME_COLUMNS = [
    "transaction_id",
    "alerted_by",
    "opened_at",
    "explanation_requested_at",
    "explanation_received_at",
    "decided_at",
    "decision",
    "recovered_amount",
]

SORTS = {"score": cases.c.score, "amount": cases.c.amount, "age": cases.c.created_at}


def load_case(conn: Connection, case_id: str, *, lock: bool = False) -> RowMapping:
    """One case row; `lock` holds it until commit (PostgreSQL; SQLite's write lock already covers it)."""
    query = select(cases).where(cases.c.case_id == case_id)
    row = conn.execute(query.with_for_update() if lock else query).mappings().first()
    if row is None:
        raise CaseNotFoundError(case_id)
    return row


def conflict(conn: Connection, case_id: str, version: int | None) -> ConcurrentUpdateError:
    """Name who changed the case last, for the one-line 'reload and try again' message."""
    last = (
        conn.execute(
            select(case_events.c.actor, case_events.c.at, case_events.c.version)
            .where(case_events.c.case_id == case_id)
            .order_by(case_events.c.event_id.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    if last is None:
        return ConcurrentUpdateError(case_id, None, None, version)
    return ConcurrentUpdateError(case_id, last["actor"], last["at"], last["version"])


def existing_transactions(conn: Connection, transaction_ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(transaction_ids), CHUNK):
        chunk = transaction_ids[start : start + CHUNK]
        found.update(
            conn.execute(select(cases.c.transaction_id).where(cases.c.transaction_id.in_(chunk))).scalars()
        )
    return found


def count_open(conn: Connection, today: date) -> tuple[int, int]:
    """Open (undecided) cases, and those of them whose explanation is past its due date."""
    overdue = and_(
        cases.c.status == lc.EXPLANATION_REQUESTED,
        cases.c.explanation_due.is_not(None),
        cases.c.explanation_due < today,
    )
    query = select(func.count(), func.coalesce(func.sum(case((overdue, 1), else_=0)), 0)).where(
        cases.c.status.in_(lc.OPEN_STATUSES)
    )
    total, late = conn.execute(query).one()
    return int(total), int(late)


def _queue_filters(
    *,
    status: str | list[str] | None,
    assignee: str | None,
    unassigned: bool,
    min_score: float | None,
    date_from: date | None,
    date_to: date | None,
    escalated: bool | None,
) -> list[Any]:
    """The WHERE clauses of a queue: status, assignee, score and alert-date filters."""
    where: list[Any] = []
    if status is not None:
        wanted = [status] if isinstance(status, str) else list(status)
        unknown = [s for s in wanted if s not in lc.STATUSES]
        if unknown:
            raise ValueError(f"unknown status {', '.join(unknown)}; use one of {', '.join(lc.STATUSES)}")
        where.append(cases.c.status.in_(wanted))
    if assignee is not None:
        where.append(cases.c.assignee == assignee)
    if unassigned:
        where.append(cases.c.assignee.is_(None))
    if min_score is not None:
        where.append(cases.c.score >= min_score)
    if date_from is not None:
        where.append(cases.c.alert_date >= date_from)
    if date_to is not None:
        where.append(cases.c.alert_date <= date_to)
    if escalated is not None:
        where.append(cases.c.escalated.is_(escalated))
    return where


def queue_totals(conn: Connection, **filters: Any) -> tuple[int, float]:
    """How many cases a queue holds and their absolute amount, whatever part of it is listed."""
    query = select(func.count(), func.coalesce(func.sum(func.abs(cases.c.amount)), 0.0))
    total, amount = conn.execute(query.where(*_queue_filters(**filters))).one()
    return int(total), float(amount)


def list_cases(
    conn: Connection,
    *,
    sort: str,
    descending: bool,
    limit: int | None,
    offset: int,
    **filters: Any,
) -> list[RowMapping]:
    """The queue's cases: ``filters`` as in `_queue_filters`, in the chosen order, a page of them."""
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}; use one of {', '.join(SORTS)}")
    query = select(cases).where(*_queue_filters(**filters))
    column = SORTS[sort]
    # "age" descending means oldest first
    newest_first = descending if sort != "age" else not descending
    key = column.desc() if newest_first else column.asc()
    query = query.order_by(key.nulls_last(), cases.c.case_id).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(conn.execute(query).mappings())


def _event_filters(
    case_id: str | None, since: datetime | None, until: datetime | None, by: str | None
) -> list[Any]:
    where: list[Any] = []
    if case_id is not None:
        where.append(case_events.c.case_id == case_id)
    if since is not None:
        where.append(case_events.c.at >= _naive_utc(since))
    if until is not None:
        where.append(case_events.c.at < _naive_utc(until))
    if by is not None:
        where.append(case_events.c.actor == by)
    return where


def events(
    conn: Connection,
    *,
    case_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    by: str | None = None,
    latest: int | None = None,
) -> list[RowMapping]:
    """Events oldest first; with ``latest``, only the newest that many of them (still oldest first)."""
    query = select(case_events).where(*_event_filters(case_id, since, until, by))
    if latest is None:
        return list(conn.execute(query.order_by(case_events.c.event_id)).mappings())
    newest = conn.execute(query.order_by(case_events.c.event_id.desc()).limit(latest)).mappings()
    return list(reversed(list(newest)))


def count_events(
    conn: Connection,
    *,
    case_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    by: str | None = None,
) -> int:
    query = select(func.count()).select_from(case_events).where(*_event_filters(case_id, since, until, by))
    return int(conn.execute(query).scalar_one())


def escalation_flags(conn: Connection, case_ids: Iterable[str]) -> dict[str, bool]:
    ids = list(case_ids)
    flags: dict[str, bool] = {}
    for start in range(0, len(ids), CHUNK):
        query = select(cases.c.case_id, cases.c.escalated).where(
            cases.c.case_id.in_(ids[start : start + CHUNK])
        )
        flags.update({case_id: bool(flag) for case_id, flag in conn.execute(query)})
    return flags


def _naive_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is None else as_utc(moment).replace(tzinfo=None)  # type: ignore[union-attr]


def _days(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return (pd.to_datetime(later) - pd.to_datetime(earlier)).dt.total_seconds() / 86400


def _median(values: pd.Series) -> float | None:
    values = values.dropna()
    return round(float(values.median()), 2) if len(values) else None


def workload(conn: Connection, now: datetime, date_from: date | None, date_to: date | None) -> Workload:
    """Numbers for [date_from, date_to] (whole days, UTC); backlog is as of the end of the period."""
    start = datetime.combine(date_from, datetime.min.time()) if date_from else datetime.min
    end = (
        datetime.combine(date_to + timedelta(days=1), datetime.min.time())
        if date_to
        else now + timedelta(microseconds=1)
    )
    columns = [
        cases.c.case_id,
        cases.c.status,
        cases.c.assignee,
        cases.c.created_at,
        cases.c.explanation_due,
        cases.c.explanation_requested_at,
        cases.c.explanation_received_at,
        cases.c.decided_at,
        cases.c.closed_at,
    ]
    frame = pd.DataFrame(list(conn.execute(select(*columns).where(cases.c.created_at < end)).mappings()))
    if frame.empty:
        frame = pd.DataFrame(columns=[c.name for c in columns])
    for name in (
        "created_at",
        "explanation_requested_at",
        "explanation_received_at",
        "decided_at",
        "closed_at",
    ):
        frame[name] = pd.to_datetime(frame[name])

    def within(column: str) -> pd.Series:
        return frame[column].notna() & (frame[column] >= start) & (frame[column] < end)

    opened, decided, closed = within("created_at"), within("decided_at"), within("closed_at")
    received = within("explanation_received_at")
    pending = frame["decided_at"].isna() | (frame["decided_at"] >= end)
    today = now.date()
    due = pd.to_datetime(frame["explanation_due"])
    overdue = (frame["status"] == lc.EXPLANATION_REQUESTED) & due.notna() & (due < pd.Timestamp(today))
    to_explanation = _days(
        frame.loc[received, "explanation_received_at"], frame.loc[received, "explanation_requested_at"]
    )
    to_decision = _days(frame.loc[decided, "decided_at"], frame.loc[decided, "created_at"])
    by_status = {status: int((frame["status"] == status).sum()) for status in lc.STATUSES}
    assignees = frame.assign(assignee=frame["assignee"].fillna("(unassigned)"), open=pending, decided=decided)
    by_assignee = (
        assignees.groupby("assignee", dropna=False)[["open", "decided"]].sum().astype(int).reset_index()
        if len(assignees)
        else pd.DataFrame(columns=["assignee", "open", "decided"])
    )
    return Workload(
        opened=int(opened.sum()),
        decided=int(decided.sum()),
        closed=int(closed.sum()),
        backlog=int(pending.sum()),
        overdue_explanations=int(overdue.sum()),
        median_days_to_explanation=_median(to_explanation),
        median_days_to_decision=_median(to_decision),
        by_status=by_status,
        by_assignee=by_assignee.sort_values(["open", "assignee"], ascending=[False, True]).reset_index(
            drop=True
        ),
    )


def outcomes(conn: Connection, timezone: str) -> pd.DataFrame:
    """Decided cases as case_outcomes rows; alerted_by joins a case's reasons with commas."""
    query = (
        select(cases)
        .where(
            and_(cases.c.decision.is_not(None), cases.c.decided_at.is_not(None)),
            or_(cases.c.status == lc.DECIDED, cases.c.status == lc.CLOSED),
        )
        .order_by(cases.c.decided_at, cases.c.case_id)
    )
    records: list[dict[str, Any]] = [
        {
            "transaction_id": row["transaction_id"],
            "alerted_by": ",".join(from_json(row["alerted_by"]) or []),
            "opened_at": row["created_at"],
            "explanation_requested_at": row["explanation_requested_at"],
            "explanation_received_at": row["explanation_received_at"],
            "decided_at": row["decided_at"],
            "decision": row["decision"],
            "recovered_amount": float(row["recovered_amount"] or 0.0),
        }
        for row in conn.execute(query).mappings()
    ]
    frame = pd.DataFrame.from_records(records, columns=OUTCOME_COLUMNS)
    for name in ("opened_at", "explanation_requested_at", "explanation_received_at", "decided_at"):
        stamps = pd.to_datetime(frame[name]).astype("datetime64[us]")
        frame[name] = stamps.dt.tz_localize("UTC").dt.tz_convert(timezone).dt.tz_localize(None)
    frame["recovered_amount"] = frame["recovered_amount"].astype(float)
    return frame


def count(conn: Connection, table: Any) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())
