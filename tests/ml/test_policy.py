"""The alert policy: hard violations, capacity, exploration, suppressions, expected value."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from ml.policy import PolicyConfig, alert_summary, decide_alerts, exploration_draw, load_policy

DAYS = pd.date_range("2024-05-01", periods=10, freq="D")


def scored_days(per_day: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = per_day * len(DAYS)
    return pd.DataFrame(
        {
            "transaction_id": [f"t{i:05d}" for i in range(n)],
            "transacted_date": np.repeat(DAYS, per_day),
            "employee_id": rng.choice([f"e{j}" for j in range(50)], n),
            "amount": rng.lognormal(10.5, 0.8, n).round(-2),
            "score": rng.random(n),
            "probability": rng.beta(1, 20, n),
            "reasons": [[{"source": "model", "key": "amount", "value": 1, "contribution": 0.5,
                          "text_en": "amount raised the score", "text_ko": "금액 → 점수 상승"}]] * n,
        }
    )  # fmt: skip


def hard_hits(scored: pd.DataFrame, per_day: dict[int, int]) -> pd.DataFrame:
    rows = []
    for day_index, count in per_day.items():
        ids = scored.loc[scored["transacted_date"] == DAYS[day_index], "transaction_id"].iloc[:count]
        rows += [(tx, "after_termination", 5, "used after termination", False) for tx in ids]
    return pd.DataFrame(rows, columns=["transaction_id", "rule_id", "severity", "reason", "is_suppressed"])


def config(**changes) -> PolicyConfig:
    base = PolicyConfig(
        mode="capacity",
        daily_capacity=20,
        hard_rule_ids=("after_termination",),
        hard_min_severity=5,
        exploration_rate=0.0,
        seed=7,
    )
    return dataclasses.replace(base, **changes)


def test_capacity_never_exceeded_and_hard_always_alerts() -> None:
    scored = scored_days()
    hits = hard_hits(scored, {0: 3, 1: 35, 2: 20})
    alerts = decide_alerts(scored, hits, config(exploration_rate=0.01))
    summary = alert_summary(alerts)
    assert (summary["ranked"] <= 20).all()
    assert set(hits["transaction_id"]) <= set(alerts.loc[alerts["route"] == "hard", "transaction_id"])
    assert summary.loc[DAYS[1], "hard"] == 35 and summary.loc[DAYS[1], "ranked"] == 0
    assert summary.loc[DAYS[0], "hard"] + summary.loc[DAYS[0], "ranked"] == 20
    assert summary.loc[DAYS[5], "ranked"] == 20
    assert ((summary["hard"] + summary["ranked"]) <= np.maximum(20, summary["hard"])).all()
    ranked = alerts[alerts["route"] == "ranked"]
    for day, rows in ranked.groupby("alert_day"):
        pool = scored[
            (scored["transacted_date"] == day) & ~scored["transaction_id"].isin(hits["transaction_id"])
        ]
        assert rows["score"].min() >= pool["score"].nlargest(len(rows)).min()
    independent = decide_alerts(scored, hits, config(hard_counts_against_capacity=False))
    assert (alert_summary(independent)["ranked"] == 20).all()


def test_every_alert_has_route_reasons_and_propensity() -> None:
    scored = scored_days(per_day=200)
    alerts = decide_alerts(scored, hard_hits(scored, {0: 2}), config(exploration_rate=0.05))
    assert set(alerts["route"]) == {"hard", "ranked", "exploration"}
    assert alerts["reasons"].map(len).min() >= 1
    hard = alerts[alerts["route"] == "hard"].iloc[0]
    assert hard["reasons"][0]["source"] == "rule" and hard["reasons"][0]["key"] == "after_termination"
    assert "used after termination" in hard["reason_text"]
    assert "amount raised the score" in hard["reason_text"]
    explored = alerts[alerts["route"] == "exploration"]
    assert explored["reason_text"].str.contains("random exploration sample").all()
    assert (explored["propensity"] == 0.05).all()
    assert (alerts.loc[alerts["route"] != "exploration", "propensity"] == 1.0).all()
    assert not alerts["transaction_id"].duplicated().any()


def test_rule_reasons_most_severe_first_then_by_rule_id() -> None:
    scored = scored_days(per_day=50)
    first, second = scored["transaction_id"].iloc[0], scored["transaction_id"].iloc[1]
    hits = pd.DataFrame(
        [
            (first, "weekend_use", 2, "on a Saturday", False),
            (second, "on_leave", 5, "while on leave", False),
            (first, "after_termination", 5, "after termination", False),
            (first, "late_night", 3, "at 02:10", False),
            (first, "holiday_use", 3, "on a holiday", False),
            (first, "late_night", 3, "again at 02:15", False),
        ],
        columns=["transaction_id", "rule_id", "severity", "reason", "is_suppressed"],
    )
    alerts = decide_alerts(scored, hits, config()).set_index("transaction_id")
    rule_reasons = [r["text_en"] for r in alerts.loc[first, "reasons"] if r["source"] == "rule"]
    # severity 5, then the severity-3 hits by rule id, two hits of one rule in their given order
    assert rule_reasons == [
        "after termination",
        "on a holiday",
        "at 02:10",
        "again at 02:15",
        "on a Saturday",
    ], rule_reasons
    assert alerts.loc[first, "rule_ids"] == "after_termination,holiday_use,late_night,late_night,weekend_use"
    assert alerts.loc[second, "rule_ids"] == "on_leave"


def test_exploration_rate_randomness_and_reproducibility() -> None:
    scored = scored_days(per_day=1_000, seed=1)
    rate = 0.03
    alerts = decide_alerts(scored, None, config(exploration_rate=rate))
    explored = alerts[alerts["route"] == "exploration"]
    pool = len(scored) - (alerts["route"] == "ranked").sum()
    expected, sd = pool * rate, np.sqrt(pool * rate * (1 - rate))
    assert abs(len(explored) - expected) < 4 * sd
    taken = scored.set_index("transaction_id").loc[explored["transaction_id"]]
    assert abs(taken["score"].mean() - 0.5) < 0.08, "the sample is not steered by the score"
    assert taken["transacted_date"].nunique() == len(DAYS)

    again = decide_alerts(scored, None, config(exploration_rate=rate))
    pd.testing.assert_frame_equal(alerts.drop(columns="reasons"), again.drop(columns="reasons"))
    other_days = scored.copy()
    later = other_days["transacted_date"] > DAYS[0]
    other_days.loc[later, "score"] = np.random.default_rng(9).random(later.sum())
    first_day = decide_alerts(other_days, None, config(exploration_rate=rate))
    day0 = lambda a: set(a.loc[(a["alert_day"] == DAYS[0]) & (a["route"] == "exploration"), "transaction_id"])  # noqa: E731
    assert day0(first_day) == day0(alerts), "a day's sample does not depend on other days"
    reseeded = decide_alerts(scored, None, config(exploration_rate=rate, seed=8))
    assert day0(reseeded) != day0(alerts)
    assert 0.0 <= exploration_draw(7, DAYS[0], "t1") < 1.0


def test_stratified_exploration_rates() -> None:
    scored = scored_days(per_day=1_000, seed=2)
    scored["category_group"] = np.where(np.arange(len(scored)) % 2 == 0, "meal", "golf")
    cfg = config(
        daily_capacity=0,
        exploration_rate=0.01,
        exploration_strata="category_group",
        exploration_stratum_rates={"golf": 0.1},
    )
    alerts = decide_alerts(scored, None, cfg)
    merged = alerts.merge(scored[["transaction_id", "category_group"]], on="transaction_id")
    share = merged.groupby("category_group").size() / (len(scored) / 2)
    assert share["golf"] == pytest.approx(0.1, abs=0.015)
    assert share["meal"] == pytest.approx(0.01, abs=0.005)


def test_rows_not_eligible_for_exploration_are_never_drawn_but_still_ranked() -> None:
    """A transaction scored again on its claim's day had its draw on its own day: no second one."""
    scored = scored_days(per_day=1_000, seed=3)
    scored["exploration_eligible"] = np.arange(len(scored)) % 2 == 0
    alerts = decide_alerts(scored, None, config(daily_capacity=5, exploration_rate=0.5))
    routes = alerts.merge(scored[["transaction_id", "exploration_eligible"]], on="transaction_id")
    explored = routes[routes["route"] == "exploration"]
    assert len(explored) > 0.4 * len(scored) / 2, "eligible rows are still sampled at the rate"
    assert explored["exploration_eligible"].all()
    ranked = routes[routes["route"] == "ranked"]
    assert len(ranked) == 5 * len(DAYS)
    top = scored.sort_values("score", ascending=False).groupby("transacted_date").head(5)
    assert set(ranked["transaction_id"]) == set(top["transaction_id"]), (
        "eligibility does not touch the ranking"
    )


def test_suppressed_hits_never_alert_by_themselves() -> None:
    scored = scored_days(per_day=100)
    scored["score"] = np.linspace(1.0, 0.5, len(scored))
    target = scored["transaction_id"].iloc[-1]
    scored.loc[scored["transaction_id"] == target, "score"] = 0.0
    hits = pd.DataFrame(
        {
            "transaction_id": [target, target],
            "rule_id": ["restricted_merchant", "late_night"],
            "severity": [5, 2],
            "reason": ["golf course", "paid at 23:40"],
            "is_suppressed": [True, True],
        }
    )
    alerts = decide_alerts(scored, hits, config(exploration_rate=0.0))
    assert target not in set(alerts["transaction_id"])
    unsuppressed = decide_alerts(scored, hits.assign(is_suppressed=False), config(exploration_rate=0.0))
    row = unsuppressed.set_index("transaction_id").loc[target]
    assert row["route"] == "hard" and row["rule_ids"] == "late_night,restricted_merchant"
    shadow = hits.assign(is_suppressed=False, is_alert_candidate=False)
    assert target not in set(decide_alerts(scored, shadow, config())["transaction_id"])


def test_expected_value_mode_alerts_exactly_where_value_exceeds_cost() -> None:
    scored = scored_days(per_day=300, seed=3)
    cost = 20_000.0
    cfg = config(mode="expected_value", daily_capacity=10_000, review_cost_krw=cost, recoverable_share=0.8)
    alerts = decide_alerts(scored, None, cfg)
    value = scored["probability"] * scored["amount"] * 0.8
    expected = set(scored.loc[value > cost, "transaction_id"])
    assert 0 < len(expected) < len(scored)
    assert set(alerts.loc[alerts["route"] == "ranked", "transaction_id"]) == expected
    capped = decide_alerts(scored, None, dataclasses.replace(cfg, daily_capacity=5))
    assert (alert_summary(capped)["ranked"] <= 5).all()
    with pytest.raises(ValueError, match="calibrated probability"):
        decide_alerts(scored.assign(probability=np.nan), None, cfg)


def test_policy_file_loads_with_overrides() -> None:
    cfg = load_policy(daily_capacity=12)
    assert cfg.daily_capacity == 12 and cfg.mode in {"capacity", "expected_value"}
    assert "restricted_merchant" in cfg.hard_rule_ids
    with pytest.raises(ValueError):
        PolicyConfig(mode="everything")
