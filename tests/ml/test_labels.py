"""Training labels: maturity, no unreviewed negatives, review propensities and weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.labels import UNALERTED, alert_source, build_training_set, matured_labels

CUTOFF = pd.Timestamp("2024-06-30")


def _day(offset: float) -> pd.Timestamp:
    return CUTOFF + pd.Timedelta(days=offset)


@pytest.fixture
def small_case() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Nine transactions, each a different label situation."""
    transactions = pd.DataFrame(
        {
            "transaction_id": [f"t{i}" for i in range(1, 10)],
            "transacted_at": [_day(-60)] * 7 + [_day(2), _day(-60)],
            "amount": np.arange(1, 10) * 10_000.0,
        }
    )
    outcomes = pd.DataFrame(
        [
            ("t1", "legacy_rule:late_night", _day(-58), _day(-30), "confirmed", 10_000),
            ("t2", "legacy_tree", _day(-58), _day(-20), "cleared", 0),
            ("t5", "legacy_rule:late_night", _day(-58), _day(-5), "confirmed", 50_000),
            ("t6", "legacy_tree", _day(-58), None, None, None),
            ("t7", "random_audit", _day(-50), _day(-40), "cleared", 0),
            ("t9", "legacy_rule:late_night", _day(-58), _day(-25), "partial", 45_000),
            ("t9", "random_audit", _day(-50), _day(-25), "cleared", 0),
        ],
        columns=["transaction_id", "alerted_by", "opened_at", "decided_at", "decision", "recovered_amount"],
    )
    alerts = pd.DataFrame(
        {
            "transaction_id": ["t1", "t2", "t3", "t5", "t6", "t9"],
            "alerted_by": [
                "legacy_rule:late_night",
                "legacy_tree",
                "legacy_rule:round_amount",
                "legacy_rule:late_night",
                "legacy_tree",
                "legacy_rule:late_night",
            ],
            "alerted_at": [_day(-59)] * 6,
        }
    )
    return transactions, outcomes, alerts


def test_alert_source_groups_prefixes() -> None:
    assert alert_source("legacy_rule:late_night") == "legacy_rule"
    assert alert_source("Random_Audit") == "random_audit"
    assert alert_source(None) == "unknown"
    # a Cardwatch case names the rules that fired and the route: its source is the routing system
    assert alert_source("late_night,cardwatch:ranked") == alert_source("cardwatch:ranked") == "cardwatch"
    assert alert_source("exploration") == "exploration"


def test_cardwatch_cases_weigh_by_the_share_of_its_alerts_reviewed() -> None:
    """40 Cardwatch alerts (the alerts table says ``cardwatch:ranked``), 10 of them decided as cases
    that also name the rules that fired: each decided one stands for 4 alerts."""
    ids = [f"c{i}" for i in range(40)]
    transactions = pd.DataFrame({"transaction_id": ids, "transacted_at": _day(-60)})
    alerts = pd.DataFrame({"transaction_id": ids, "alerted_by": "cardwatch:ranked"})
    outcomes = pd.DataFrame(
        {
            "transaction_id": ids[:10],
            "alerted_by": "late_night,round_amount,cardwatch:ranked",
            "opened_at": _day(-59),
            "decided_at": _day(-40),
            "decision": ["confirmed", "cleared"] * 5,
        }
    )
    ts = build_training_set(transactions, outcomes, CUTOFF, alerts, label_delay_days=14)
    assert ts.propensity_by_stratum["cardwatch"] == pytest.approx(0.25)
    weights = ts.frame.set_index("transaction_id").loc[ids[:10], "ipw_weight"]
    assert weights.to_numpy() == pytest.approx(np.full(10, 4.0))


def test_labels_by_case(small_case) -> None:
    transactions, outcomes, alerts = small_case
    ts = build_training_set(transactions, outcomes, CUTOFF, alerts, label_delay_days=14, audit_rate=0.02)
    frame = ts.frame.set_index("transaction_id")
    assert "t8" not in frame.index, "a transaction after the cut-off is not known yet"
    assert frame.loc["t1", "label"] == 1
    assert frame.loc["t2", "label"] == 0
    assert frame.loc["t7", "label"] == 0
    assert frame.loc["t9", "label"] == 1, "a confirmed case wins over a cleared one"
    for unlabeled in ("t3", "t4", "t5", "t6"):
        assert np.isnan(frame.loc[unlabeled, "label"]), unlabeled
        assert not frame.loc[unlabeled, "is_labeled"]
    assert set(ts.labeled()["transaction_id"]) == {"t1", "t2", "t7", "t9"}


def test_unreviewed_rows_are_never_negative(small_case) -> None:
    transactions, outcomes, alerts = small_case
    ts = build_training_set(transactions, outcomes, CUTOFF, alerts, label_delay_days=14, audit_rate=0.02)
    frame = ts.frame
    assert not ((frame["label"] == 0) & ~frame["is_reviewed"]).any()
    unreviewed = frame[~frame["is_reviewed"]]
    assert set(unreviewed["transaction_id"]) == {"t3", "t4"}
    assert unreviewed["label"].isna().all()
    assert unreviewed["ipw_weight"].isna().all()


def test_unreviewed_never_negative_on_random_history() -> None:
    rng = np.random.default_rng(3)
    n = 2_000
    transactions = pd.DataFrame(
        {
            "transaction_id": np.arange(n),
            "transacted_at": CUTOFF - pd.to_timedelta(rng.uniform(0, 120, n), "D"),
        }
    )
    reviewed = rng.random(n) < 0.3
    decided = transactions["transacted_at"] + pd.to_timedelta(rng.uniform(1, 60, n), "D")
    outcomes = pd.DataFrame(
        {
            "transaction_id": transactions["transaction_id"][reviewed],
            "alerted_by": "legacy_tree",
            "opened_at": transactions["transacted_at"][reviewed] + pd.Timedelta(days=1),
            "decided_at": decided[reviewed].where(rng.random(reviewed.sum()) < 0.8),
            "decision": rng.choice(["confirmed", "cleared", "partial"], reviewed.sum()),
        }
    )
    ts = build_training_set(transactions, outcomes, CUTOFF, label_delay_days=10)
    labeled = ts.labeled()
    reviewed_ids = set(outcomes["transaction_id"])
    assert set(labeled["transaction_id"]) <= reviewed_ids
    matured = outcomes[outcomes["decided_at"] + pd.Timedelta(days=10) <= CUTOFF]
    assert set(labeled["transaction_id"]) == set(matured["transaction_id"])


def test_labels_decided_after_cutoff_minus_delay_are_excluded() -> None:
    outcomes = pd.DataFrame(
        {
            "transaction_id": ["a", "b", "c"],
            "decided_at": [_day(-14), _day(-13.9), _day(-30)],
            "decision": ["confirmed", "confirmed", "cleared"],
        }
    )
    labels = matured_labels(outcomes, CUTOFF, label_delay_days=14)
    assert list(labels["transaction_id"]) == ["a", "c"], "exactly on the edge counts, later does not"
    later = matured_labels(outcomes, CUTOFF + pd.Timedelta(days=1), label_delay_days=14)
    assert set(later["transaction_id"]) == {"a", "b", "c"}


def test_ipw_weights_are_inverse_propensity() -> None:
    n_alerted, n_reviewed, n_plain, n_audit = 100, 25, 1_000, 20
    ids = [f"r{i}" for i in range(n_alerted)] + [f"p{i}" for i in range(n_plain)]
    transactions = pd.DataFrame({"transaction_id": ids, "transacted_at": _day(-60)})
    alerts = pd.DataFrame({"transaction_id": ids[:n_alerted], "alerted_by": "legacy_rule:round_amount"})
    reviewed = ids[:n_reviewed]
    audited = ids[n_alerted : n_alerted + n_audit]
    outcomes = pd.DataFrame(
        {
            "transaction_id": reviewed + audited,
            "alerted_by": ["legacy_rule:round_amount"] * n_reviewed + ["random_audit"] * n_audit,
            "opened_at": _day(-59),
            "decided_at": _day(-40),
            "decision": ["confirmed", "cleared"] * ((n_reviewed + n_audit) // 2)
            + ["cleared"] * ((n_reviewed + n_audit) % 2),
        }
    )
    ts = build_training_set(transactions, outcomes, CUTOFF, alerts, label_delay_days=14, audit_rate=0.02)
    frame = ts.frame.set_index("transaction_id")
    assert ts.propensity_by_stratum["legacy_rule"] == pytest.approx(0.25)
    assert frame.loc[reviewed, "ipw_weight"].to_numpy() == pytest.approx(np.full(n_reviewed, 4.0))
    np.testing.assert_allclose(frame.loc[reviewed, "ipw_weight"], 1.0 / frame.loc[reviewed, "propensity"])
    assert frame.loc[audited, "is_random_audit"].all()
    assert frame.loc[audited, "ipw_weight"].to_numpy() == pytest.approx(np.full(n_audit, 1 / 0.02))
    assert set(ts.validation()["transaction_id"]) == set(audited)
    assert (frame.loc[audited, "alert_stratum"] == UNALERTED).all()

    estimated = build_training_set(transactions, outcomes, CUTOFF, alerts, label_delay_days=14)
    assert estimated.audit_rate == pytest.approx(n_audit / n_plain)
    row = estimated.frame.set_index("transaction_id").loc[audited[0]]
    assert row["ipw_weight"] == pytest.approx(n_plain / n_audit)


def test_propensity_is_clipped() -> None:
    ids = [f"x{i}" for i in range(1_000)]
    transactions = pd.DataFrame({"transaction_id": ids, "transacted_at": _day(-60)})
    alerts = pd.DataFrame({"transaction_id": ids, "alerted_by": "legacy_tree"})
    outcomes = pd.DataFrame(
        {"transaction_id": ["x0"], "alerted_by": ["legacy_tree"], "opened_at": [_day(-59)],
         "decided_at": [_day(-30)], "decision": ["confirmed"]}
    )  # fmt: skip
    ts = build_training_set(transactions, outcomes, CUTOFF, alerts, min_propensity=0.01)
    weight = ts.frame.set_index("transaction_id").loc["x0", "ipw_weight"]
    assert weight == pytest.approx(100.0), "propensity 0.001 is floored at 0.01"
    summary = ts.summary()
    assert summary["positives"] == 1 and summary["negatives"] == 0 and summary["labeled"] == 1
