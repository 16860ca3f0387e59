"""Reviewer workload: cases opened, closed and waiting per day, turnaround, against capacity."""

from __future__ import annotations

import numpy as np
import pandas as pd


def daily_workload(
    cases: pd.DataFrame,
    capacity: float,
    alerts: pd.DataFrame | None = None,
    start: object | None = None,
    end: object | None = None,
) -> pd.DataFrame:
    """Per calendar day: alerts raised, cases opened and closed, backlog at day end, capacity.

    Parameters
    ----------
    cases : DataFrame
        opened_at and decided_at (empty while open).
    capacity : float
        Cases reviewers can open per day.
    alerts : DataFrame, optional
        One row per alerted transaction with ``alerted_at``; counted per day when given.
    start, end : date-like, optional
        Range of days (default: first to last event).

    Returns
    -------
    DataFrame indexed by day: alerts, opened, closed, backlog (opened so far - closed so far),
    capacity, over_capacity (alerts, or opened without alerts, above capacity).
    """
    opened = pd.to_datetime(cases["opened_at"]).dt.normalize()
    closed = pd.to_datetime(cases["decided_at"]).dt.normalize()
    raised = (
        pd.to_datetime(alerts["alerted_at"]).dt.normalize()
        if alerts is not None and len(alerts)
        else pd.Series(dtype="datetime64[ns]")
    )
    events = pd.concat([opened.dropna(), closed.dropna(), raised.dropna()])
    if events.empty and (start is None or end is None):
        return pd.DataFrame(columns=["alerts", "opened", "closed", "backlog", "capacity", "over_capacity"])
    first = pd.Timestamp(start).normalize() if start is not None else events.min()
    last = pd.Timestamp(end).normalize() if end is not None else events.max()
    days = pd.date_range(first, last, freq="D", name="day")
    table = pd.DataFrame(index=days)
    table["alerts"] = raised.value_counts().reindex(days, fill_value=0).astype(int)
    table["opened"] = opened.value_counts().reindex(days, fill_value=0).astype(int)
    table["closed"] = closed.value_counts().reindex(days, fill_value=0).astype(int)
    before = int((opened < first).sum() - (closed < first).sum())
    table["backlog"] = before + (table["opened"] - table["closed"]).cumsum()
    table["capacity"] = float(capacity)
    demand = table["alerts"] if alerts is not None else table["opened"]
    table["over_capacity"] = np.maximum(demand - capacity, 0)
    return table


def turnaround(cases: pd.DataFrame) -> pd.DataFrame:
    """Days between case steps: median, 90th percentile and count for each step.

    Steps: opened -> explanation requested, requested -> explanation received, opened -> decided.
    """
    frame = cases.copy()
    steps = {
        "days_to_request": ("opened_at", "explanation_requested_at"),
        "days_to_explanation": ("explanation_requested_at", "explanation_received_at"),
        "days_to_decision": ("opened_at", "decided_at"),
    }
    records = []
    for name, (begin, finish) in steps.items():
        if begin not in frame or finish not in frame:
            continue
        delta = (pd.to_datetime(frame[finish]) - pd.to_datetime(frame[begin])).dt.total_seconds() / 86400
        delta = delta.dropna()
        records.append(
            {
                "step": name,
                "cases": len(delta),
                "median_days": float(delta.median()) if len(delta) else float("nan"),
                "p90_days": float(delta.quantile(0.9)) if len(delta) else float("nan"),
            }
        )
    return pd.DataFrame(records).set_index("step")


def workload_summary(table: pd.DataFrame, alerted: int | None = None, reviewed: int | None = None) -> dict:
    """Headline numbers of a `daily_workload` table.

    Returns
    -------
    dict with days, days_over_capacity, share_days_over_capacity, mean_alerts_per_day,
    peak_alerts_per_day, final_backlog, max_backlog and, when given, unreviewed_share
    (1 - reviewed / alerted).
    """
    demand = table["alerts"] if table["alerts"].sum() > 0 else table["opened"]
    working = demand[demand > 0]
    summary = {
        "days": len(table),
        "days_over_capacity": int((table["over_capacity"] > 0).sum()),
        "share_days_over_capacity": float((table["over_capacity"] > 0).mean())
        if len(table)
        else float("nan"),
        "mean_alerts_per_day": float(demand.mean()) if len(table) else float("nan"),
        "mean_alerts_per_active_day": float(working.mean()) if len(working) else float("nan"),
        "peak_alerts_per_day": int(demand.max()) if len(table) else 0,
        "final_backlog": int(table["backlog"].iloc[-1]) if len(table) else 0,
        "max_backlog": int(table["backlog"].max()) if len(table) else 0,
    }
    if alerted:
        summary["unreviewed_share"] = 1 - (reviewed or 0) / alerted
    return summary
