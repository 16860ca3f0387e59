"""What the store hands back: a case as one reviewer may see it, and summary numbers."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd

from .lifecycle import STATUS_KO


def to_json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def from_json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def as_utc(value: datetime | None) -> datetime | None:
    """Stored timestamps are UTC without a zone; hand them out with the zone attached."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class Case:
    """One case, with employee and card ids pseudonymised when the viewer may not see them."""

    case_id: str
    transaction_id: str
    employee_id: str
    card_id: str
    amount: float
    score: float | None
    alerted_by: tuple[str, ...]
    alert_date: date
    status: str
    assignee: str | None
    decision: str | None
    recovered_amount: float | None
    version: int
    escalated: bool
    created_at: datetime
    updated_at: datetime
    explanation_due: date | None = None
    explanation_requested_at: datetime | None = None
    explanation_received_at: datetime | None = None
    decided_at: datetime | None = None
    closed_at: datetime | None = None
    details: dict[str, Any] = field(default_factory=dict)
    identity_masked: bool = False

    @property
    def status_ko(self) -> str:
        return STATUS_KO[self.status]

    def as_dict(self) -> dict[str, Any]:
        # a shallow copy: dataclasses.asdict deep-copies every value, seconds for a queue of 10,000 cases
        out = {item.name: getattr(self, item.name) for item in fields(self)}
        out["details"] = dict(self.details)
        out["alerted_by"] = list(self.alerted_by)
        out["status_ko"] = self.status_ko
        return out


@dataclass(frozen=True)
class OpenResult:
    """Counts from one hand-off of alerts to the store."""

    received: int  # rows in the alert frame
    unique: int  # distinct transactions among them
    opened: int  # new cases
    already_open: int  # transactions that already had a case
    duplicates_in_batch: int  # repeated rows merged into one case
    case_ids: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("case_ids")
        return out


@dataclass(frozen=True)
class Workload:
    """Queue numbers for a period: inflow, outflow, what is left and how long it takes."""

    opened: int
    decided: int
    closed: int
    backlog: int
    overdue_explanations: int
    median_days_to_explanation: float | None
    median_days_to_decision: float | None
    by_status: dict[str, int]
    by_assignee: pd.DataFrame

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k != "by_assignee"}
        out["by_assignee"] = self.by_assignee.to_dict("records")
        return out
