"""Daily workload, backlog and turnaround."""

from __future__ import annotations

import pandas as pd
import pytest

from ml.analysis.workload import daily_workload, turnaround, workload_summary


def test_daily_backlog_and_capacity() -> None:
    cases = pd.DataFrame(
        {
            "opened_at": pd.to_datetime(["2025-01-01 09:00", "2025-01-01 10:00", "2025-01-02 09:00"]),
            "explanation_requested_at": pd.to_datetime(["2025-01-01 12:00", "2025-01-02 09:00", None]),
            "explanation_received_at": pd.to_datetime(["2025-01-03 12:00", None, None]),
            "decided_at": pd.to_datetime(["2025-01-04 09:00", "2025-01-02 10:00", None]),
        }
    )
    alerts = pd.DataFrame({"alerted_at": pd.to_datetime(["2025-01-01"] * 3 + ["2025-01-02"])})
    table = daily_workload(cases, capacity=2, alerts=alerts)
    assert table["opened"].tolist() == [2, 1, 0, 0]
    assert table["closed"].tolist() == [0, 1, 0, 1]
    assert table["backlog"].tolist() == [2, 2, 2, 1]
    assert table["over_capacity"].tolist() == [1, 0, 0, 0]
    summary = workload_summary(table, alerted=4, reviewed=2)
    assert summary["days_over_capacity"] == 1
    assert summary["unreviewed_share"] == pytest.approx(0.5)
    steps = turnaround(cases)
    assert steps.loc["days_to_decision", "cases"] == 2
    assert steps.loc["days_to_explanation", "median_days"] == pytest.approx(2.0)
