"""Case store: the review workflow (alert → 소명 요청 → 소명 접수 → 환수 / 정상 종결) and its audit trail."""

from __future__ import annotations

from .errors import (
    CaseError,
    CaseNotFoundError,
    CasePermissionError,
    ConcurrentUpdateError,
    InvalidTransitionError,
)
from .lifecycle import DECISIONS, EXPLANATION_CATEGORIES, STATUS_KO, STATUSES
from .roles import Actor, RoleBook
from .store import CaseStore
from .views import Case, OpenResult, Workload

__all__ = [
    "DECISIONS",
    "EXPLANATION_CATEGORIES",
    "STATUSES",
    "STATUS_KO",
    "Actor",
    "Case",
    "CaseError",
    "CaseNotFoundError",
    "CasePermissionError",
    "CaseStore",
    "ConcurrentUpdateError",
    "InvalidTransitionError",
    "OpenResult",
    "RoleBook",
    "Workload",
]
