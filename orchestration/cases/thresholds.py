"""The threshold change log: leads propose a change with a reason, a lead applies or rejects it.

Rows are never edited: applying or rejecting appends a row that points at the proposal, so the log
answers who proposed what, when and why, and who let it take effect.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from .errors import InvalidTransitionError
from .roles import Actor
from .schema import threshold_changes
from .views import as_utc, from_json, to_json

if TYPE_CHECKING:
    from .store import CaseStore

PROPOSED, APPLIED, REJECTED = "proposed", "applied", "rejected"
COLUMNS = [
    "change_id",
    "at",
    "actor",
    "role",
    "parameter",
    "old_value",
    "new_value",
    "reason",
    "status",
    "proposal_id",
]


class ThresholdLog:
    """Proposals and decisions on rule and alerting parameters, kept in the case store's audit trail."""

    def __init__(self, store: CaseStore) -> None:
        self._store = store

    def propose(
        self, actor: Actor, parameter: str, new_value: Any, reason: str, *, old_value: Any = None
    ) -> int:
        """Save a proposed change; returns its change id."""
        self._store.roles.require(actor, "propose_threshold", "propose threshold changes")
        if not parameter or not parameter.strip():
            raise InvalidTransitionError("a threshold change needs the parameter name")
        if not reason or not reason.strip():
            raise InvalidTransitionError(f"a change to {parameter} needs a reason (why)")
        with self._store._write() as conn:
            result = conn.execute(
                insert(threshold_changes).values(
                    at=self._store.now(),
                    actor=actor.name,
                    role=actor.role,
                    parameter=parameter.strip(),
                    old_value=to_json(old_value),
                    new_value=to_json(new_value),
                    reason=reason.strip(),
                    status=PROPOSED,
                )
            )
            return int(result.inserted_primary_key[0])

    def apply(self, actor: Actor, change_id: int, *, note: str | None = None) -> int:
        """Apply a proposal; returns the id of the 'applied' row."""
        return self._settle(actor, change_id, APPLIED, note or "applied")

    def reject(self, actor: Actor, change_id: int, reason: str) -> int:
        """Reject a proposal with a reason; returns the id of the 'rejected' row."""
        if not reason or not reason.strip():
            raise InvalidTransitionError(f"rejecting threshold change {change_id} needs a reason")
        return self._settle(actor, change_id, REJECTED, reason.strip())

    def _settle(self, actor: Actor, change_id: int, status: str, reason: str) -> int:
        self._store.roles.require(actor, "apply_threshold", f"{status[:-2]} threshold changes")
        try:
            with self._store._write() as conn:
                proposal = (
                    conn.execute(select(threshold_changes).where(threshold_changes.c.change_id == change_id))
                    .mappings()
                    .first()
                )
                if proposal is None or proposal["status"] != PROPOSED:
                    raise InvalidTransitionError(f"threshold change {change_id} is not a proposal")
                settled = (
                    conn.execute(
                        select(threshold_changes).where(threshold_changes.c.proposal_id == change_id)
                    )
                    .mappings()
                    .first()
                )
                if settled is not None:
                    raise InvalidTransitionError(
                        f"threshold change {change_id} was already {settled['status']} by {settled['actor']}"
                    )
                result = conn.execute(
                    insert(threshold_changes).values(
                        at=self._store.now(),
                        actor=actor.name,
                        role=actor.role,
                        parameter=proposal["parameter"],
                        old_value=proposal["old_value"],
                        new_value=proposal["new_value"],
                        reason=reason,
                        status=status,
                        proposal_id=change_id,
                    )
                )
                return int(result.inserted_primary_key[0])
        except IntegrityError as exc:
            raise InvalidTransitionError(
                f"threshold change {change_id} was settled by someone else at the same time; reload"
            ) from exc

    def log(self, actor: Actor) -> pd.DataFrame:
        """Every proposal, application and rejection, oldest first."""
        self._store.roles.require(actor, "view_thresholds", "view threshold changes")
        with self._store._read() as conn:
            rows = list(
                conn.execute(select(threshold_changes).order_by(threshold_changes.c.change_id)).mappings()
            )
        records = [
            {
                **dict(row),
                "at": as_utc(row["at"]),
                "old_value": from_json(row["old_value"]),
                "new_value": from_json(row["new_value"]),
            }
            for row in rows
        ]
        return pd.DataFrame.from_records(records, columns=COLUMNS)

    def applied(self) -> dict[str, Any]:
        """The value in force per parameter: the latest applied change (for the pipeline)."""
        query = (
            select(threshold_changes.c.parameter, threshold_changes.c.new_value)
            .where(threshold_changes.c.status == APPLIED)
            .order_by(threshold_changes.c.change_id)
        )
        with self._store._read() as conn:
            return {parameter: from_json(value) for parameter, value in conn.execute(query)}
