"""The case store: alerts in from the pipeline, reviewer actions in from the dashboard, labels out.

Every action is one transaction that updates the case only if its version is the one the actor read
(optimistic locking) and appends one event; two reviewers acting at once never overwrite each other.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, RowMapping, insert, select, update

from . import lifecycle as lc
from . import queries
from .errors import (
    CasePermissionError,
    InvalidTransitionError,
)
from .handoff import prepare_alerts
from .roles import PIPELINE_ACTOR, PIPELINE_ROLE, Actor, Pseudonymiser, RoleBook
from .schema import case_events, cases, create_schema, make_engine, store_meta
from .templates import render_explanation_request
from .thresholds import ThresholdLog
from .views import Case, OpenResult, Workload, as_utc, from_json, to_json

DEFAULT_EXPLANATION_DAYS = 7
PSEUDONYM_KEY = "pseudonym_key"


@dataclass
class _Plan:
    """What one action changes on the case row, and what the event records besides."""

    changes: dict[str, Any]
    note: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class CaseStore:
    """Cases and their audit trail in SQLite (default) or PostgreSQL, by SQLAlchemy URL."""

    def __init__(
        self,
        url: str | None = None,
        *,
        roles: RoleBook | str | Path | None = None,
        clock: Callable[[], datetime] | None = None,
        pseudonym_key: str | None = None,
    ) -> None:
        if url is None:
            from orchestration.settings import Paths

            url = Paths.from_env().case_store_url
        self.url = url
        self.engine = make_engine(url)
        self.roles = roles if isinstance(roles, RoleBook) else RoleBook.load(roles)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._key_override = pseudonym_key or os.environ.get("CARDWATCH_PSEUDONYM_KEY")
        self._pseudonymiser: Pseudonymiser | None = None
        self.thresholds = ThresholdLog(self)

    # -- setup -------------------------------------------------------------------------------------

    def create(self) -> CaseStore:
        """Create the schema if needed (idempotent) and the store's pseudonym key."""
        create_schema(self.engine)
        with self._write() as conn:
            found = conn.execute(select(store_meta.c.value).where(store_meta.c.key == PSEUDONYM_KEY)).first()
            if found is None:
                conn.execute(insert(store_meta).values(key=PSEUDONYM_KEY, value=secrets.token_hex(32)))
        return self

    def dispose(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> CaseStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.dispose()

    def actor(self, name: str, role: str | None = None) -> Actor:
        """An actor checked against the roles file."""
        return self.roles.actor(name, role)

    def now(self) -> datetime:
        """Current time as stored: UTC without a zone."""
        moment = self._clock()
        return (
            moment.replace(tzinfo=None)
            if moment.tzinfo is None
            else moment.astimezone(UTC).replace(tzinfo=None)
        )

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self.engine.connect().execution_options(cardwatch_write=True) as conn, conn.begin():
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @property
    def pseudonymiser(self) -> Pseudonymiser:
        if self._pseudonymiser is None:
            key = self._key_override
            if key is None:
                with self._read() as conn:
                    key = conn.execute(
                        select(store_meta.c.value).where(store_meta.c.key == PSEUDONYM_KEY)
                    ).scalar_one_or_none()
                if key is None:
                    raise RuntimeError("the case store has no schema yet; run CaseStore(url).create()")
            self._pseudonymiser = Pseudonymiser(key.encode(), self.roles)
        return self._pseudonymiser

    # -- pipeline ----------------------------------------------------------------------------------

    def open_cases(self, alerts: pd.DataFrame) -> OpenResult:
        """Open one case per alerted transaction not already in the store (safe to repeat)."""
        pipeline = Actor(PIPELINE_ACTOR, PIPELINE_ROLE)
        self.roles.require(pipeline, "open_cases", "open cases")
        rows, duplicates = prepare_alerts(alerts)
        with self._write() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(4242002)")
            existing = queries.existing_transactions(conn, [row["transaction_id"] for row in rows])
            new = [row for row in rows if row["transaction_id"] not in existing]
            now = self.now()
            if new:
                conn.execute(
                    insert(cases),
                    [
                        {
                            **row,
                            "alerted_by": to_json(row["alerted_by"]),
                            "details": to_json(row["details"]),
                            "status": lc.NEW,
                            "version": 1,
                            "escalated": False,
                            "created_at": now,
                            "updated_at": now,
                        }
                        for row in new
                    ],
                )
                conn.execute(
                    insert(case_events),
                    [
                        {
                            "case_id": row["case_id"],
                            "at": now,
                            "actor": pipeline.name,
                            "role": pipeline.role,
                            "action": lc.OPEN,
                            "version": 1,
                            "before": None,
                            "after": to_json({**row, "status": lc.NEW}),
                            "note": None,
                        }
                        for row in new
                    ],
                )
        return OpenResult(
            received=len(alerts),
            unique=len(rows),
            opened=len(new),
            already_open=len(rows) - len(new),
            duplicates_in_batch=duplicates,
            case_ids=tuple(row["case_id"] for row in new),
        )

    def outcomes(self, timezone: str = "Asia/Seoul") -> pd.DataFrame:
        """Decided cases in the landing contract's case_outcomes shape, timestamps in local time."""
        with self._read() as conn:
            return queries.outcomes(conn, timezone)

    # -- reviewer and lead actions -----------------------------------------------------------------

    def assign(
        self,
        actor: Actor,
        case_id: str,
        assignee: str | None = None,
        *,
        note: str | None = None,
        expected_version: int | None = None,
    ) -> Case:
        """Assign a case: a reviewer takes an unassigned case; a lead assigns anyone."""
        target = (assignee or actor.name).strip()
        others = target != actor.name
        self.roles.require(
            actor,
            "assign_others" if others else "assign_self",
            "assign cases to others" if others else "assign cases",
        )
        if self.roles.users and target not in self.roles.users:
            raise CasePermissionError(
                f"cannot assign case {case_id} to {target}: not listed in the roles file"
            )

        def plan(row: RowMapping) -> _Plan:
            current = row["assignee"]
            if current == target:
                raise InvalidTransitionError(f"case {case_id} is already assigned to {target}")
            if current and not self.roles.can(actor, "assign_others"):
                raise CasePermissionError(
                    f"{actor.name} ({actor.role}) may not take case {case_id}: it is assigned to {current}"
                )
            return _Plan({"assignee": target, "status": lc.target_status(lc.ASSIGN, row["status"])}, note)

        return self._act(actor, case_id, lc.ASSIGN, plan, expected_version, own_case_only=False)

    def request_explanation(
        self,
        actor: Actor,
        case_id: str,
        *,
        due_days: int = DEFAULT_EXPLANATION_DAYS,
        message: str | None = None,
        expected_version: int | None = None,
    ) -> Case:
        """Send the 소명 요청; the message comes from the template with the transaction facts."""
        self.roles.require(actor, "request_explanation", "request explanations")
        if due_days < 1:
            raise InvalidTransitionError(
                f"an explanation request needs at least one day to answer, not {due_days}"
            )

        def plan(row: RowMapping) -> _Plan:
            due = self.now().date() + timedelta(days=due_days)
            text = message or render_explanation_request(
                row["case_id"],
                row["transaction_id"],
                row["amount"],
                row["alert_date"],
                from_json(row["alerted_by"]) or [],
                from_json(row["details"]),
                due,
            )
            changes: dict[str, Any] = {"status": lc.EXPLANATION_REQUESTED, "explanation_due": due}
            if row["explanation_requested_at"] is None:
                changes["explanation_requested_at"] = self.now()
            return _Plan(changes, extra={"message": text})

        return self._act(actor, case_id, lc.REQUEST_EXPLANATION, plan, expected_version)

    def record_explanation(
        self, actor: Actor, case_id: str, category: str, text: str, *, expected_version: int | None = None
    ) -> Case:
        """Record the cardholder's explanation (소명 접수): a category and the text."""
        self.roles.require(actor, "record_explanation", "record explanations")
        if category not in lc.EXPLANATION_CATEGORIES:
            raise InvalidTransitionError(
                f"unknown explanation category {category!r}; use one of {', '.join(lc.EXPLANATION_CATEGORIES)}"
            )
        if not text or not text.strip():
            raise InvalidTransitionError(f"the explanation for case {case_id} is empty")

        def plan(_row: RowMapping) -> _Plan:
            return _Plan(
                {"status": lc.EXPLANATION_RECEIVED, "explanation_received_at": self.now()},
                extra={"category": category, "text": text.strip()},
            )

        return self._act(actor, case_id, lc.RECORD_EXPLANATION, plan, expected_version)

    def decide(
        self,
        actor: Actor,
        case_id: str,
        decision: str,
        recovered_amount: float | None = None,
        *,
        note: str | None = None,
        expected_version: int | None = None,
    ) -> Case:
        """Decide: confirmed (환수, full amount unless given), partial (환수 of a part) or cleared."""
        self.roles.require(actor, "decide", "decide cases")
        if decision not in lc.DECISIONS:
            raise InvalidTransitionError(
                f"unknown decision {decision!r}; use one of {', '.join(lc.DECISIONS)}"
            )

        def plan(row: RowMapping) -> _Plan:
            amount = abs(float(row["amount"]))
            if decision != lc.CLEARED and row["status"] not in lc.MISUSE_DECISION_FROM:
                raise InvalidTransitionError(
                    f"cannot decide {decision} on case {case_id} before an explanation request (소명 요청)"
                )
            recovered = _recovered(case_id, decision, recovered_amount, amount)
            changes = {
                "status": lc.DECIDED,
                "decision": decision,
                "recovered_amount": recovered,
                "decided_at": self.now(),
            }
            return _Plan(changes, note)

        return self._act(actor, case_id, lc.DECIDE, plan, expected_version)

    def close(
        self, actor: Actor, case_id: str, *, note: str | None = None, expected_version: int | None = None
    ) -> Case:
        """Close a decided case (종결) once recovery or clearance is done."""
        self.roles.require(actor, "close", "close cases")
        return self._act(
            actor,
            case_id,
            lc.CLOSE,
            lambda _row: _Plan({"status": lc.CLOSED, "closed_at": self.now()}, note),
            expected_version,
        )

    def reopen(self, actor: Actor, case_id: str, reason: str, *, expected_version: int | None = None) -> Case:
        """Reopen a decided or closed case (재조사); the earlier decision stays in the trail."""
        self.roles.require(actor, "reopen", "reopen cases")
        _need_text(reason, f"reopening case {case_id} needs a reason")

        def plan(row: RowMapping) -> _Plan:
            status = lc.ASSIGNED if row["assignee"] else lc.NEW
            changes = {
                "status": status,
                "decision": None,
                "recovered_amount": None,
                "decided_at": None,
                "closed_at": None,
            }
            return _Plan(changes, reason.strip())

        return self._act(actor, case_id, lc.REOPEN, plan, expected_version)

    def escalate(
        self, actor: Actor, case_id: str, reason: str, *, expected_version: int | None = None
    ) -> Case:
        """Escalate (상향 보고); reviewers then see the real employee id for this case."""
        self.roles.require(actor, "escalate", "escalate cases")
        _need_text(reason, f"escalating case {case_id} needs a reason")

        def plan(row: RowMapping) -> _Plan:
            if row["escalated"]:
                raise InvalidTransitionError(f"case {case_id} is already escalated")
            return _Plan({"escalated": True}, reason.strip())

        return self._act(actor, case_id, lc.ESCALATE, plan, expected_version)

    def comment(self, actor: Actor, case_id: str, text: str, *, expected_version: int | None = None) -> Case:
        """Add a note to the case's trail."""
        self.roles.require(actor, "comment", "comment on cases")
        _need_text(text, f"a comment on case {case_id} is empty")
        return self._act(
            actor,
            case_id,
            lc.COMMENT,
            lambda _row: _Plan({}, text.strip()),
            expected_version,
            own_case_only=False,
        )

    def _act(
        self,
        actor: Actor,
        case_id: str,
        action: str,
        plan: Callable[[RowMapping], _Plan],
        expected_version: int | None,
        *,
        own_case_only: bool = True,
    ) -> Case:
        """Check, update the row only at the version read, append the event: one transaction.

        The row is read under the write lock (BEGIN IMMEDIATE on SQLite, FOR UPDATE on PostgreSQL), so a
        call without `expected_version` acts on the latest state; with it, a stale screen is refused.
        """
        with self._write() as conn:
            row = queries.load_case(conn, case_id, lock=True)
            if expected_version is not None and row["version"] != expected_version:
                raise queries.conflict(conn, case_id, row["version"])
            lc.check_transition(case_id, action, row["status"])
            if (
                own_case_only
                and row["assignee"] != actor.name
                and not self.roles.can(actor, "act_on_any_case")
            ):
                raise CasePermissionError(
                    f"{actor.name} ({actor.role}) may not {action.replace('_', ' ')} case {case_id}: "
                    f"it is assigned to {row['assignee'] or 'nobody'}"
                )
            step = plan(row)
            now = self.now()
            version = row["version"] + 1
            result = conn.execute(
                update(cases)
                .where(cases.c.case_id == case_id, cases.c.version == row["version"])
                .values(**step.changes, version=version, updated_at=now)
            )
            if result.rowcount != 1:
                raise queries.conflict(conn, case_id, None)
            conn.execute(
                insert(case_events).values(
                    case_id=case_id,
                    at=now,
                    actor=actor.name,
                    role=actor.role,
                    action=action,
                    version=version,
                    before=to_json({key: row[key] for key in step.changes}) if step.changes else None,
                    after=to_json({**step.changes, **step.extra}) if step.changes or step.extra else None,
                    note=step.note,
                )
            )
        return self.get_case(actor, case_id)

    # -- thresholds (the change log lives in the same audit store) ----------------------------------

    def propose_threshold(
        self, actor: Actor, parameter: str, new_value: Any, reason: str, *, old_value: Any = None
    ) -> int:
        """Save a proposed threshold change (who, when, why, old, new); returns its change id."""
        return self.thresholds.propose(actor, parameter, new_value, reason, old_value=old_value)

    def apply_threshold(self, actor: Actor, change_id: int, *, note: str | None = None) -> int:
        return self.thresholds.apply(actor, change_id, note=note)

    def reject_threshold(self, actor: Actor, change_id: int, reason: str) -> int:
        return self.thresholds.reject(actor, change_id, reason)

    def threshold_changes(self, actor: Actor) -> pd.DataFrame:
        return self.thresholds.log(actor)

    def applied_thresholds(self) -> dict[str, Any]:
        return self.thresholds.applied()

    # -- reads -------------------------------------------------------------------------------------

    def _masked(self, actor: Actor, escalated: bool) -> bool:
        return not escalated and not self.roles.can(actor, "see_employee_ids")

    def get_case(self, actor: Actor, case_id: str) -> Case:
        """One case as this actor may see it."""
        self.roles.require(actor, "view_case", "view cases")
        with self._read() as conn:
            row = queries.load_case(conn, case_id)
        return self._case(actor, row)

    def _case(self, actor: Actor, row: RowMapping) -> Case:
        masked = self._masked(actor, bool(row["escalated"]))
        p = self.pseudonymiser
        return Case(
            case_id=row["case_id"],
            transaction_id=row["transaction_id"],
            employee_id=p.employee(row["employee_id"]) if masked else row["employee_id"],
            card_id=p.card(row["card_id"]) if masked else row["card_id"],
            amount=float(row["amount"]),
            score=None if row["score"] is None else float(row["score"]),
            alerted_by=tuple(from_json(row["alerted_by"]) or ()),
            alert_date=row["alert_date"],
            status=row["status"],
            assignee=row["assignee"],
            decision=row["decision"],
            recovered_amount=None if row["recovered_amount"] is None else float(row["recovered_amount"]),
            version=row["version"],
            escalated=bool(row["escalated"]),
            created_at=as_utc(row["created_at"]),
            updated_at=as_utc(row["updated_at"]),
            explanation_due=row["explanation_due"],
            explanation_requested_at=as_utc(row["explanation_requested_at"]),
            explanation_received_at=as_utc(row["explanation_received_at"]),
            decided_at=as_utc(row["decided_at"]),
            closed_at=as_utc(row["closed_at"]),
            details=from_json(row["details"]) or {},
            identity_masked=masked,
        )

    def allowed_actions(self, actor: Actor, case: Case) -> list[str]:
        """Actions this actor may take on this case now (for the dashboard's buttons)."""
        permission = {lc.ASSIGN: "assign_self"}
        out = []
        own = case.assignee == actor.name or self.roles.can(actor, "act_on_any_case")
        for action in lc.allowed_actions(case.status):
            if action == lc.ASSIGN:
                if self.roles.can(actor, "assign_others") or (
                    self.roles.can(actor, "assign_self") and case.assignee is None
                ):
                    out.append(action)
                continue
            if action == lc.ESCALATE and case.escalated:
                continue
            if not self.roles.can(actor, permission.get(action, action)):
                continue
            if action in (lc.COMMENT, lc.REOPEN, lc.ESCALATE) or own:
                out.append(action)
        return out

    def list_cases(
        self,
        actor: Actor,
        *,
        status: str | list[str] | None = None,
        assignee: str | None = None,
        unassigned: bool = False,
        min_score: float | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
        escalated: bool | None = None,
        sort: str = "score",
        descending: bool = True,
        limit: int | None = None,
        offset: int = 0,
    ) -> pd.DataFrame:
        """The queue: filters on status, assignee, score and alert date; sort by score, amount or age."""
        self.roles.require(actor, "view_queue", "view the case queue")
        with self._read() as conn:
            rows = queries.list_cases(
                conn,
                status=status,
                assignee=assignee,
                unassigned=unassigned,
                min_score=min_score,
                date_from=date_from,
                date_to=date_to,
                escalated=escalated,
                sort=sort,
                descending=descending,
                limit=limit,
                offset=offset,
            )
        now = as_utc(self.now())
        records = []
        for row in rows:
            record = self._case(actor, row).as_dict()
            record.pop("details")
            record["age_days"] = (now - record["created_at"]).total_seconds() / 86400
            records.append(record)
        return pd.DataFrame.from_records(records, columns=queries.QUEUE_COLUMNS)

    def queue_totals(
        self,
        actor: Actor,
        *,
        status: str | list[str] | None = None,
        assignee: str | None = None,
        unassigned: bool = False,
        min_score: float | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
        escalated: bool | None = None,
    ) -> tuple[int, float]:
        """How many cases the queue with these filters holds, and their absolute amount (KRW)."""
        self.roles.require(actor, "view_queue", "view the case queue")
        with self._read() as conn:
            return queries.queue_totals(
                conn,
                status=status,
                assignee=assignee,
                unassigned=unassigned,
                min_score=min_score,
                date_from=date_from,
                date_to=date_to,
                escalated=escalated,
            )

    def backlog(self, actor: Actor) -> tuple[int, int]:
        """Open cases, and those whose explanation request is past its due date (counted in the store)."""
        self.roles.require(actor, "view_queue", "view the case queue")
        with self._read() as conn:
            return queries.count_open(conn, self.now().date())

    def history(self, actor: Actor, case_id: str) -> pd.DataFrame:
        """The events of one case, oldest first."""
        self.roles.require(actor, "view_history", "view case history")
        with self._read() as conn:
            escalated = bool(queries.load_case(conn, case_id)["escalated"])
            events = queries.events(conn, case_id=case_id)
        return self._events_frame(actor, events, {case_id: escalated})

    def audit_trail(
        self,
        actor: Actor,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        case_id: str | None = None,
        by: str | None = None,
        latest: int | None = None,
    ) -> pd.DataFrame:
        """Every event of every case (optionally for a period, a case or a person, or only the ``latest``
        that many), oldest first."""
        self.roles.require(actor, "view_audit_trail", "read the audit trail")
        with self._read() as conn:
            events = queries.events(conn, case_id=case_id, since=since, until=until, by=by, latest=latest)
            escalated = queries.escalation_flags(conn, {event["case_id"] for event in events})
        return self._events_frame(actor, events, escalated)

    def count_events(
        self, actor: Actor, *, since: datetime | None = None, until: datetime | None = None
    ) -> int:
        """How many events the audit trail holds for the period."""
        self.roles.require(actor, "view_audit_trail", "read the audit trail")
        with self._read() as conn:
            return queries.count_events(conn, since=since, until=until)

    def _events_frame(
        self, actor: Actor, events: list[RowMapping], escalated: dict[str, bool]
    ) -> pd.DataFrame:
        records = []
        for event in events:
            masked = self._masked(actor, escalated.get(event["case_id"], False))
            before, after = from_json(event["before"]), from_json(event["after"])
            if masked:
                before, after = self.pseudonymiser.mask(before), self.pseudonymiser.mask(after)
            records.append(
                {
                    **{
                        key: event[key]
                        for key in ("event_id", "case_id", "actor", "role", "action", "version")
                    },
                    "at": as_utc(event["at"]),
                    "action_ko": lc.ACTION_KO.get(event["action"], event["action"]),
                    "before": before,
                    "after": after,
                    "note": event["note"],
                }
            )
        return pd.DataFrame.from_records(records, columns=queries.EVENT_COLUMNS)

    def workload(
        self, actor: Actor, *, date_from: date | None = None, date_to: date | None = None
    ) -> Workload:
        """Opened, decided, closed and backlog for a period, and the median days each step takes."""
        self.roles.require(actor, "view_queue", "view workload numbers")
        with self._read() as conn:
            return queries.workload(conn, self.now(), date_from, date_to)


def _need_text(text: str | None, message: str) -> None:
    if not text or not text.strip():
        raise InvalidTransitionError(message)


def _recovered(case_id: str, decision: str, recovered: float | None, amount: float) -> float:
    """Check the recovered amount against the decision and the transaction amount."""
    if decision == lc.CLEARED:
        if recovered:
            raise InvalidTransitionError(
                f"a cleared case recovers nothing (case {case_id}, got {recovered:,.0f})"
            )
        return 0.0
    if recovered is None:
        if decision == lc.PARTIAL:
            raise InvalidTransitionError(f"a partial decision on case {case_id} needs the recovered amount")
        return amount
    value = float(recovered)
    if value < 0 or value > amount:
        raise InvalidTransitionError(
            f"recovered amount {value:,.0f} for case {case_id} must be between 0 and the amount {amount:,.0f}"
        )
    if decision == lc.PARTIAL and not 0 < value < amount:
        raise InvalidTransitionError(
            f"a partial decision on case {case_id} recovers more than 0 and less than {amount:,.0f}"
        )
    return value
