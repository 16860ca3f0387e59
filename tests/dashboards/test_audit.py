"""Audit trail: every case event and change, for the roles that may read it."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboards import i18n

from .conftest import metric, no_exception, page, store


def test_auditor_reads_every_event(dashboard_home: Path) -> None:
    app = page("app_pages/audit.py", role="auditor")
    no_exception(app)
    with store(dashboard_home) as cases:
        trail = cases.audit_trail(cases.actor("auditor.park", "auditor"))
    assert metric(app, "Case events") == i18n.number(len(trail))
    events = app.dataframe[0].value
    assert set(events["action"]) == {"open", "assign"}


def test_reviewers_have_no_audit_page(dashboard_home: Path) -> None:
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        page("app_pages/audit.py", role="reviewer")
