"""Per-rule and per-system scorecards from alerts and case outcomes (DOMAIN.md, section 3.1).

``alerts`` is long: one row per transaction per detector, with ``transaction_id``, ``system``
(``legacy_rule``, ``legacy_tree``, ``cardwatch_rule``, ``unsupervised``, ``hybrid`` ...),
``detector`` (rule id or model name), and optionally ``alerted_at`` and ``amount``. ``cases`` has the
columns of ``stg_casework__case_outcomes``. A transaction's outcome is shared by every detector that
alerted it; unreviewed alerts are never counted as clean.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

POSITIVE_DECISIONS = ("confirmed", "partial")
CLEARED = "cleared"


def transaction_outcomes(cases: pd.DataFrame, positive: tuple[str, ...] = POSITIVE_DECISIONS) -> pd.DataFrame:
    """One row per reviewed-or-open transaction: outcome, amounts and timings.

    Returns
    -------
    DataFrame with transaction_id, is_reviewed (a decided case), is_confirmed, recovered_amount,
    has_explanation (a decided case after an explanation arrived), is_cleared_after_explanation,
    opened_at (first case), decided_at (first decision), days_to_decision.
    """
    frame = cases.copy()
    for column in ("opened_at", "decided_at", "explanation_received_at"):
        frame[column] = pd.to_datetime(frame[column]) if column in frame else pd.NaT
    decision = frame["decision"].astype("string").str.strip().str.lower()
    decided = frame["decided_at"].notna() & decision.notna()
    frame["_decided"] = decided
    frame["_confirmed"] = decided & decision.isin(positive)
    frame["_explained"] = decided & frame["explanation_received_at"].notna()
    frame["_cleared_explained"] = frame["_explained"] & (decision == CLEARED)
    recovered = frame.get("recovered_amount", pd.Series(0.0, index=frame.index))
    frame["_recovered"] = pd.to_numeric(recovered, errors="coerce").fillna(0.0)
    frame["_decided_at"] = frame["decided_at"].where(decided)
    grouped = frame.groupby("transaction_id", sort=True)
    out = pd.DataFrame(
        {
            "is_reviewed": grouped["_decided"].any(),
            "is_confirmed": grouped["_confirmed"].any(),
            "recovered_amount": grouped["_recovered"].sum(),
            "has_explanation": grouped["_explained"].any(),
            "is_cleared_after_explanation": grouped["_cleared_explained"].any()
            & ~grouped["_confirmed"].any(),
            "opened_at": grouped["opened_at"].min(),
            "decided_at": grouped["_decided_at"].min(),
        }
    )
    out["days_to_decision"] = (out["decided_at"] - out["opened_at"]).dt.total_seconds() / 86400
    return out.reset_index()


def _with_outcomes(alerts: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    frame = alerts.drop_duplicates(["transaction_id", "system", "detector"]).copy()
    if "amount" not in frame:
        frame["amount"] = np.nan
    frame["amount"] = pd.to_numeric(frame["amount"], errors="coerce")
    frame = frame.merge(outcomes, on="transaction_id", how="left")
    for column in ("is_reviewed", "is_confirmed", "has_explanation", "is_cleared_after_explanation"):
        frame[column] = frame[column].astype("boolean").fillna(False).astype(bool)
    frame["recovered_amount"] = frame["recovered_amount"].fillna(0.0)
    return frame


def _summarise(frame: pd.DataFrame, keys: list[str], unique_ids: set) -> pd.DataFrame:
    frame = frame.assign(
        _confirmed_amount=np.where(frame["is_confirmed"], frame["amount"].abs(), 0.0),
        _recovered=np.where(frame["is_confirmed"], frame["recovered_amount"], 0.0),
        _unique=frame["is_confirmed"] & frame["_key"].isin(unique_ids),
    )
    grouped = frame.groupby(keys, sort=True, dropna=False)
    table = pd.DataFrame(
        {
            "alerts": grouped["transaction_id"].nunique(),
            "reviewed": grouped["is_reviewed"].sum(),
            "confirmed": grouped["is_confirmed"].sum(),
            "alerted_amount": grouped["amount"].apply(lambda s: s.abs().sum()),
            "confirmed_amount": grouped["_confirmed_amount"].sum(),
            "recovered_amount": grouped["_recovered"].sum(),
            "unique_confirmed": grouped["_unique"].sum(),
            "explanations": grouped["has_explanation"].sum(),
            "cleared_after_explanation": grouped["is_cleared_after_explanation"].sum(),
            "median_days_to_decision": grouped["days_to_decision"].median(),
        }
    )
    table["review_rate"] = table["reviewed"] / table["alerts"].where(table["alerts"] > 0)
    table["precision"] = table["confirmed"] / table["reviewed"].where(table["reviewed"] > 0)
    table["explanation_acceptance_rate"] = table["cleared_after_explanation"] / table["explanations"].where(
        table["explanations"] > 0
    )
    for column in ("alerts", "reviewed", "confirmed", "unique_confirmed", "explanations"):
        table[column] = table[column].astype(int)
    table["cleared_after_explanation"] = table["cleared_after_explanation"].astype(int)
    return table.reset_index()


def scorecard(
    alerts: pd.DataFrame, cases: pd.DataFrame, by: str = "detector", unique_within_system: bool = True
) -> pd.DataFrame:
    """Scorecard per detector (``by='detector'``) or per system (``by='system'``).

    Parameters
    ----------
    alerts : DataFrame
        transaction_id, system, detector, optionally amount and alerted_at.
    cases : DataFrame
        Case outcomes (transaction_id, opened_at, explanation_received_at, decided_at, decision,
        recovered_amount).
    by : {'detector', 'system'}
    unique_within_system : bool, default=True
        With ``by='detector'``, a confirmed hit is unique when no other detector *of the same
        system* alerted it (a rule's marginal value within its rule set); False compares with every
        detector of every system.

    Returns
    -------
    DataFrame, one row per system (and detector): alerts, reviewed, confirmed, precision
    (confirmed / reviewed), review_rate, alerted, confirmed and recovered amount,
    unique_confirmed (confirmed transactions no other detector alerted; with ``by='system'``, no
    other system), explanations, cleared_after_explanation, explanation_acceptance_rate,
    median_days_to_decision.
    """
    if by not in ("detector", "system"):
        raise ValueError("by must be 'detector' or 'system'")
    frame = _with_outcomes(alerts, transaction_outcomes(cases))
    keys = ["system", "detector"] if by == "detector" else ["system"]
    frame["_key"] = frame["transaction_id"]
    group = ["transaction_id", "system"] if by == "detector" and unique_within_system else ["transaction_id"]
    owners = frame.drop_duplicates(["transaction_id", *keys]).groupby(group).size()
    unique = owners[owners == 1].reset_index()
    if len(group) == 2:
        frame["_key"] = list(zip(frame["transaction_id"], frame["system"], strict=True))
        unique_ids = set(zip(unique["transaction_id"], unique["system"], strict=True))
    else:
        unique_ids = set(unique["transaction_id"])
    if by == "system":
        frame = frame.sort_values("amount", na_position="last").drop_duplicates(["transaction_id", "system"])
    return _summarise(frame, keys, unique_ids)


def scorecard_trend(
    alerts: pd.DataFrame, cases: pd.DataFrame, by: str = "system", freq: str = "M"
) -> pd.DataFrame:
    """Alerts, reviewed, confirmed and precision per period (month by default) and ``by`` key.

    The period comes from ``alerted_at`` (or ``transacted_at``) of the alert.
    """
    time_column = "alerted_at" if "alerted_at" in alerts else "transacted_at"
    frame = _with_outcomes(alerts, transaction_outcomes(cases))
    frame["period"] = pd.to_datetime(frame[time_column]).dt.to_period(freq).astype(str)
    keys = [by, "period"] if by == "system" else ["system", by, "period"]
    frame = frame.drop_duplicates(["transaction_id", *keys])
    grouped = frame.groupby(keys, sort=True)
    table = pd.DataFrame(
        {
            "alerts": grouped["transaction_id"].nunique(),
            "reviewed": grouped["is_reviewed"].sum().astype(int),
            "confirmed": grouped["is_confirmed"].sum().astype(int),
        }
    )
    table["precision"] = table["confirmed"] / table["reviewed"].where(table["reviewed"] > 0)
    return table.reset_index()
