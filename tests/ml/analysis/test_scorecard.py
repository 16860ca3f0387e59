"""Scorecard numbers on a hand-built alert and case table."""

from __future__ import annotations

import pandas as pd
import pytest

from ml.analysis.scorecard import scorecard, scorecard_trend, transaction_outcomes


@pytest.fixture
def alerts() -> pd.DataFrame:
    rows = [
        ("t1", "legacy_rule", "night", "2025-01-05", 100_000),
        ("t2", "legacy_rule", "night", "2025-01-06", 200_000),
        ("t3", "legacy_rule", "night", "2025-02-01", 300_000),
        ("t2", "legacy_rule", "weekend", "2025-01-06", 200_000),
        ("t4", "legacy_rule", "weekend", "2025-02-02", 400_000),
        ("t4", "legacy_tree", "legacy_tree", "2025-02-02", 400_000),
        ("t5", "legacy_tree", "legacy_tree", "2025-02-03", 500_000),
    ]
    return pd.DataFrame(rows, columns=["transaction_id", "system", "detector", "alerted_at", "amount"])


@pytest.fixture
def cases() -> pd.DataFrame:
    rows = [
        # t1 confirmed after an explanation, 3 days to decision, 80,000 recovered
        ("t1", "2025-01-05", "2025-01-06", "2025-01-08", "confirmed", 80_000),
        # t2 cleared after an explanation, 5 days
        ("t2", "2025-01-06", "2025-01-08", "2025-01-11", "cleared", 0),
        # t3 cleared without an explanation, 1 day
        ("t3", "2025-02-01", None, "2025-02-02", "cleared", 0),
        # t4 confirmed, no explanation, 2 days
        ("t4", "2025-02-02", None, "2025-02-04", "confirmed", 400_000),
        # t5 open
        ("t5", "2025-02-03", None, None, None, None),
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "transaction_id",
            "opened_at",
            "explanation_received_at",
            "decided_at",
            "decision",
            "recovered_amount",
        ],
    )
    return frame


def test_transaction_outcomes(cases: pd.DataFrame) -> None:
    out = transaction_outcomes(cases).set_index("transaction_id")
    assert out["is_reviewed"].tolist() == [True, True, True, True, False]
    assert out["is_confirmed"].tolist() == [True, False, False, True, False]
    assert out.loc["t1", "days_to_decision"] == pytest.approx(3.0)


def test_per_detector_scorecard(alerts: pd.DataFrame, cases: pd.DataFrame) -> None:
    card = scorecard(alerts, cases).set_index("detector")
    night = card.loc["night"]
    assert night["alerts"] == 3 and night["reviewed"] == 3 and night["confirmed"] == 1
    assert night["precision"] == pytest.approx(1 / 3)
    assert night["confirmed_amount"] == 100_000 and night["recovered_amount"] == 80_000
    # t1 is alerted only by night within legacy_rule
    assert night["unique_confirmed"] == 1
    # explanations: t1 (confirmed) and t2 (cleared) -> one of two accepted
    assert night["explanations"] == 2
    assert night["explanation_acceptance_rate"] == pytest.approx(0.5)
    assert night["median_days_to_decision"] == pytest.approx(3.0)

    weekend = card.loc["weekend"]
    assert weekend["alerts"] == 2 and weekend["confirmed"] == 1 and weekend["precision"] == pytest.approx(0.5)
    assert weekend["unique_confirmed"] == 1  # t4: no other legacy_rule detector
    tree = card.loc["legacy_tree"]
    assert tree["alerts"] == 2 and tree["reviewed"] == 1 and tree["review_rate"] == pytest.approx(0.5)
    assert tree["confirmed_amount"] == 400_000

    across = scorecard(alerts, cases, unique_within_system=False).set_index("detector")
    assert across.loc["weekend", "unique_confirmed"] == 0  # the tree also caught t4


def test_per_system_scorecard(alerts: pd.DataFrame, cases: pd.DataFrame) -> None:
    card = scorecard(alerts, cases, by="system").set_index("system")
    rule = card.loc["legacy_rule"]
    assert rule["alerts"] == 4 and rule["reviewed"] == 4 and rule["confirmed"] == 2
    assert rule["confirmed_amount"] == 500_000
    assert rule["unique_confirmed"] == 1  # t1 only; t4 is shared with the tree
    assert card.loc["legacy_tree", "unique_confirmed"] == 0


def test_monthly_trend(alerts: pd.DataFrame, cases: pd.DataFrame) -> None:
    trend = scorecard_trend(alerts, cases, by="system").set_index(["system", "period"])
    assert trend.loc[("legacy_rule", "2025-01"), "alerts"] == 2
    assert trend.loc[("legacy_rule", "2025-02"), "confirmed"] == 1
    assert trend.loc[("legacy_tree", "2025-02"), "precision"] == pytest.approx(1.0)
