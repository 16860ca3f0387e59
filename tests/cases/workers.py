"""Work done in a separate process by the concurrency tests (importable under the spawn start method)."""

from __future__ import annotations

from typing import Any

from orchestration.cases import CaseStore


def decide_all(url: str, reviewer: str, case_ids: list[str], start: Any) -> int:
    """Record a confirmed decision on each case, as one reviewer in their own process."""
    with CaseStore(url) as store:
        actor = store.actor(reviewer, "reviewer")
        start.wait(120)  # a barrier: both writers begin together
        for case_id in case_ids:
            version = store.get_case(actor, case_id).version
            store.decide(actor, case_id, "confirmed", note=f"decided by {reviewer}", expected_version=version)
    return len(case_ids)
