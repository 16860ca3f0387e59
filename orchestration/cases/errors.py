"""Errors the case store raises; every message is one line a reviewer can act on."""

from __future__ import annotations

from datetime import datetime


class CaseError(Exception):
    """Base class for case-store errors."""


class CaseNotFoundError(CaseError, LookupError):
    """The case id is not in the store."""

    def __init__(self, case_id: str) -> None:
        super().__init__(f"case {case_id} does not exist")
        self.case_id = case_id


class InvalidTransitionError(CaseError, ValueError):
    """The action is not allowed in the case's current status (or with these arguments)."""


class CasePermissionError(CaseError, PermissionError):
    """The actor's role does not allow the action."""


class ConcurrentUpdateError(CaseError):
    """Someone else changed the case between reading it and acting on it."""

    def __init__(
        self, case_id: str, changed_by: str | None, changed_at: datetime | None, version: int | None
    ) -> None:
        who = changed_by or "someone else"
        when = f"{changed_at:%Y-%m-%d %H:%M:%S} UTC" if changed_at else "an unknown time"
        super().__init__(f"case {case_id} was changed by {who} at {when}; reload and try again")
        self.case_id = case_id
        self.changed_by = changed_by
        self.changed_at = changed_at
        self.version = version
