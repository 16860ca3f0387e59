"""The daily-use accounting of the backtest: a claim is seen from the day it is filed."""

from __future__ import annotations

import pandas as pd

from ml.backtest import daily_use_alerts, daily_use_metrics, with_truth

D1, D2, D3 = (pd.Timestamp(f"2025-10-0{d}") for d in (1, 2, 3))


def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    approval = pd.DataFrame(
        [
            ("a", D1, 0.9),  # alerted on its own day; its claim on D2 raises nothing new
            ("b", D1, 0.8),
            ("c", D1, 0.1),  # low without its claim; the claim on D3 makes it the day's best
            ("d", D2, 0.5),
            ("e", D2, 0.2),  # its claim is filed the same day: that day's score is the claimed one
            ("f", D3, 0.6),
        ],
        columns=["transaction_id", "day", "score"],
    ).assign(tiebreak=0.0)
    claimed = pd.DataFrame(
        # x: not a test transaction; f's claim comes after the window, whose later days are not there
        [
            ("a", D2, 0.99),
            ("c", D3, 0.95),
            ("e", D2, 0.7),
            ("x", D2, 1.0),
            ("f", D3 + pd.Timedelta(days=1), 1.0),
        ],
        columns=["transaction_id", "claim_day", "score"],
    ).assign(tiebreak=0.0)
    return approval, claimed


def test_each_day_takes_its_top_k_of_its_own_and_the_newly_claimed() -> None:
    approval, claimed = frames()
    alerts = daily_use_alerts(approval, claimed, k=1)
    assert list(zip(alerts["transaction_id"], alerts["day"], alerts["on_claim"], strict=True)) == [
        ("a", D1, False),
        ("e", D2, False),  # 0.7 with its same-day claim beats d (0.5); a was alerted on D1 already
        ("c", D3, True),  # 0.95 on its claim's day beats f (0.6)
    ]
    two = daily_use_alerts(approval, claimed, k=2)
    assert two.groupby("day").size().tolist() == [2, 2, 2]
    assert not two["transaction_id"].duplicated().any(), "a transaction alerts once"
    assert "x" not in set(two["transaction_id"])
    assert two["day"].max() == D3 and not two.loc[two["transaction_id"] == "f", "on_claim"].any()


def test_equal_scores_fall_to_the_tiebreak_as_the_alert_policy_orders_them() -> None:
    approval = pd.DataFrame(
        {"transaction_id": ["a", "b"], "day": [D1, D1], "score": [0.5, 0.5], "tiebreak": [-1.0, 2.0]}
    )
    claimed = pd.DataFrame(columns=["transaction_id", "claim_day", "score", "tiebreak"])
    assert daily_use_alerts(approval, claimed, k=1)["transaction_id"].tolist() == ["b"]


def test_metrics_count_alerts_hits_and_amount_against_the_truth() -> None:
    approval, claimed = frames()
    alerts = daily_use_alerts(approval, claimed, k=1)
    paid = approval.assign(transacted_at=approval["day"] + pd.Timedelta(hours=12), amount=200.0)
    truth = pd.DataFrame(
        {
            "transaction_id": list("abcd"),  # e and f are missing: not misuse
            "is_misuse": [True, False, True, False],
            "amount_at_stake": [100.0, 0.0, 50.0, 0.0],
        }
    )
    frame = with_truth(paid[["transaction_id", "transacted_at", "amount"]], truth)
    m = daily_use_metrics(alerts, frame, {"misuse_amount_caught": 75.0, "precision": 0.5})
    assert (m["alerts"], m["hits"], m["on_claim_day"]) == (3, 2, 1)
    assert m["precision"] == 2 / 3
    assert m["recall"] == 1.0
    assert m["misuse_amount_caught"] == 150.0
    assert m["amount_recall"] == 1.0
    assert m["alerts_per_day"] == 1.0
    assert (m["amount_caught_ratio"], m["precision_ratio"]) == (2.0, 4 / 3)
