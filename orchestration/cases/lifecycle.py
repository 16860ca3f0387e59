"""The case lifecycle as data: statuses, actions and which action is allowed from which status.

new → assigned → explanation_requested (소명 요청) → explanation_received (소명 접수) → decided (결정)
→ closed (종결), with reopen (재조사) by a lead. Keeping the table here, not in the store, lets the
dashboard show the same names and the allowed next steps.
"""

from __future__ import annotations

from .errors import InvalidTransitionError

NEW = "new"
ASSIGNED = "assigned"
EXPLANATION_REQUESTED = "explanation_requested"
EXPLANATION_RECEIVED = "explanation_received"
DECIDED = "decided"
CLOSED = "closed"

STATUSES: tuple[str, ...] = (NEW, ASSIGNED, EXPLANATION_REQUESTED, EXPLANATION_RECEIVED, DECIDED, CLOSED)
OPEN_STATUSES: tuple[str, ...] = (NEW, ASSIGNED, EXPLANATION_REQUESTED, EXPLANATION_RECEIVED)
FINISHED_STATUSES: tuple[str, ...] = (DECIDED, CLOSED)

STATUS_KO: dict[str, str] = {
    NEW: "신규",
    ASSIGNED: "배정",
    EXPLANATION_REQUESTED: "소명 요청",
    EXPLANATION_RECEIVED: "소명 접수",
    DECIDED: "결정",
    CLOSED: "종결",
}

CONFIRMED = "confirmed"
PARTIAL = "partial"
CLEARED = "cleared"
DECISIONS: tuple[str, ...] = (CONFIRMED, PARTIAL, CLEARED)
DECISION_KO: dict[str, str] = {
    CONFIRMED: "부정사용 확정(전액 환수)",
    PARTIAL: "일부 환수",
    CLEARED: "정상 종결",
}

# The cardholder's stated reason, recorded with the explanation (소명 사유).
EXPLANATION_CATEGORIES: tuple[str, ...] = (
    "business_meal",
    "client_entertainment",
    "official_event",
    "business_trip",
    "overtime_or_shift",
    "supplies",
    "merchant_error",
    "personal_use_admitted",
    "no_response",
    "other",
)

OPEN = "open"
ASSIGN = "assign"
REQUEST_EXPLANATION = "request_explanation"
RECORD_EXPLANATION = "record_explanation"
DECIDE = "decide"
CLOSE = "close"
REOPEN = "reopen"
ESCALATE = "escalate"
COMMENT = "comment"

ACTION_KO: dict[str, str] = {
    OPEN: "사건 생성",
    ASSIGN: "배정",
    REQUEST_EXPLANATION: "소명 요청",
    RECORD_EXPLANATION: "소명 접수",
    DECIDE: "결정",
    CLOSE: "종결",
    REOPEN: "재조사",
    ESCALATE: "상향 보고",
    COMMENT: "메모",
}

# action -> statuses it may start from
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    ASSIGN: OPEN_STATUSES,
    REQUEST_EXPLANATION: (ASSIGNED, EXPLANATION_RECEIVED),
    RECORD_EXPLANATION: (EXPLANATION_REQUESTED,),
    DECIDE: (ASSIGNED, EXPLANATION_REQUESTED, EXPLANATION_RECEIVED),
    CLOSE: (DECIDED,),
    REOPEN: FINISHED_STATUSES,
    ESCALATE: (*OPEN_STATUSES, DECIDED),
    COMMENT: STATUSES,
}

# A misuse finding needs the cardholder to have been asked first (소명 기회 부여).
MISUSE_DECISION_FROM: tuple[str, ...] = (EXPLANATION_REQUESTED, EXPLANATION_RECEIVED)


def target_status(action: str, status: str) -> str:
    """The status after `action`; unchanged for actions that do not move the case."""
    if action == ASSIGN:
        return ASSIGNED if status in (NEW, ASSIGNED) else status
    return {
        REQUEST_EXPLANATION: EXPLANATION_REQUESTED,
        RECORD_EXPLANATION: EXPLANATION_RECEIVED,
        DECIDE: DECIDED,
        CLOSE: CLOSED,
        REOPEN: ASSIGNED,
    }.get(action, status)


def check_transition(case_id: str, action: str, status: str) -> str:
    """Return the next status or raise a one-line InvalidTransitionError."""
    allowed = ALLOWED_FROM.get(action)
    if allowed is None:
        raise InvalidTransitionError(f"unknown action {action!r} on case {case_id}")
    if status not in allowed:
        raise InvalidTransitionError(
            f"cannot {action.replace('_', ' ')} case {case_id} in status {status} ({STATUS_KO[status]}); "
            f"allowed from: {', '.join(allowed)}"
        )
    return target_status(action, status)


def allowed_actions(status: str) -> list[str]:
    """Actions the lifecycle allows from `status`, before permissions."""
    return [action for action, sources in ALLOWED_FROM.items() if status in sources]
