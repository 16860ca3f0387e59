"""A transaction whose expense claim arrives after its own day is scored again on the claim's day."""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ml.policy import load_policy
from orchestration import scoring

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("retraining")]

CUTOFF = datetime(2025, 2, 1)
PAID_ON, CLAIM_DAY = date(2025, 2, 3), date(2025, 2, 20)
DAYS_AFTER = (CLAIM_DAY - PAID_ON).days


@pytest.fixture
def scene(built_warehouse: Path, tmp_path: Path):
    """A copy of the warehouse, a system trained on January, and three transactions of 3 February
    whose claims are moved to the 20th: one alerted on its own day (by hand), two not."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(built_warehouse, copy)
    con = duckdb.connect(str(copy))
    system = scoring.train(con, CUTOFF)
    claimed = [
        row[0]
        for row in con.execute(
            "SELECT DISTINCT c.transaction_id FROM staging.stg_expense__claims AS c "
            "JOIN features.fct_transaction_features AS f USING (transaction_id) "
            "WHERE f.transacted_date = ? ORDER BY 1 LIMIT 3",
            [PAID_ON],
        ).fetchall()
    ]
    assert len(claimed) == 3, "the small company claims its payments of 3 February"
    con.execute(
        "UPDATE staging.stg_expense__claims SET submitted_at = ? WHERE transaction_id IN (?, ?, ?)",
        [datetime.combine(CLAIM_DAY, datetime.min.time()) + timedelta(hours=10), *claimed],
    )
    # the first one was alerted on its own day
    scoring.score_and_alert(con, system, "v1", PAID_ON, PAID_ON, load_policy(claim_rescore_days=0))
    con.execute("DELETE FROM marts.fct_alerts")
    con.execute(
        "INSERT INTO marts.fct_alerts (transaction_id, alert_date, route, rank, score, amount) "
        "VALUES (?, ?, 'ranked', 1, 0.9, 1000)",
        [claimed[0], PAID_ON],
    )
    yield con, system, claimed
    con.close()


def claimed_on(con: duckdb.DuckDBPyConnection, day: date) -> set[str]:
    """Transactions paid before ``day`` with a claim submitted on it (the candidates, before filters)."""
    rows = con.execute(
        "SELECT DISTINCT c.transaction_id FROM staging.stg_expense__claims AS c "
        "JOIN features.fct_transaction_features AS f USING (transaction_id) "
        "WHERE c.submitted_at::DATE = ? AND f.transacted_date < ?",
        [day, day],
    ).fetchall()
    return {r[0] for r in rows}


def alerts_of(con: duckdb.DuckDBPyConnection, day: date) -> pd.DataFrame:
    return con.execute(
        "SELECT transaction_id, route, reasons, reason_text, reason_text_ko FROM marts.fct_alerts "
        "WHERE alert_date = ? ORDER BY transaction_id",
        [day],
    ).fetchdf()


def test_a_late_claim_is_scored_again_on_its_day_unless_already_alerted(scene) -> None:
    con, system, (alerted_before, *late) = scene
    everyone = load_policy(daily_capacity=100_000, exploration_rate=0.0)
    result = scoring.score_and_alert(con, system, "v1", CLAIM_DAY, CLAIM_DAY, everyone)

    candidates = claimed_on(con, CLAIM_DAY) - {alerted_before}
    assert set(late) <= candidates
    assert result.rescored == len(candidates)
    alerts = alerts_of(con, CLAIM_DAY)
    own_day = {
        r[0]
        for r in con.execute(
            "SELECT transaction_id FROM features.fct_transaction_features WHERE transacted_date = ?",
            [CLAIM_DAY],
        ).fetchall()
    }
    assert set(alerts["transaction_id"]) == own_day | candidates, "with room for all, every candidate alerts"
    assert alerted_before not in set(alerts["transaction_id"]), "an alerted transaction is not raised twice"
    for _, alert in alerts[alerts["transaction_id"].isin(late)].iterrows():
        last = json.loads(alert["reasons"])[-1]
        assert (last["source"], last["key"], last["value"]) == (
            "claim",
            "claim_submitted",
            CLAIM_DAY.isoformat(),
        )
        assert f"{DAYS_AFTER} days after the payment" in alert["reason_text"]
        assert "경비 청구" in alert["reason_text_ko"]
    assert not any(
        "claim_submitted" in r for r in alerts.loc[alerts["transaction_id"].isin(own_day), "reasons"]
    )

    # the score of record stays the one of the transaction's own day
    scored_days = con.execute(
        "SELECT DISTINCT transacted_date FROM marts.fct_scores WHERE transaction_id IN (?, ?)", late
    ).fetchall()
    assert scored_days == [(PAID_ON,)]

    again = scoring.score_and_alert(con, system, "v1", CLAIM_DAY, CLAIM_DAY, everyone)
    assert again.rescored == result.rescored
    pd.testing.assert_frame_equal(alerts_of(con, CLAIM_DAY), alerts)


def test_late_claims_share_the_day_capacity_and_skip_exploration(scene) -> None:
    con, system, (_, *late) = scene
    tight = load_policy(daily_capacity=3, exploration_rate=1.0, hard_min_severity=None, hard_rule_ids=[])
    result = scoring.score_and_alert(con, system, "v1", CLAIM_DAY, CLAIM_DAY, tight)
    assert result.rescored >= len(late)
    alerts = alerts_of(con, CLAIM_DAY)
    assert (alerts["route"] == "ranked").sum() == 3
    explored = set(alerts.loc[alerts["route"] == "exploration", "transaction_id"])
    assert explored, "at rate 1 every own-day transaction outside the ranking is sampled"
    assert not explored & claimed_on(con, CLAIM_DAY), "a rescored transaction had its draw on its own day"


def test_the_window_and_the_switch_bound_what_is_scored_again(scene) -> None:
    con, system, (_, first_late, _) = scene
    con.execute(
        "UPDATE staging.stg_expense__claims AS c SET submitted_at = f.transacted_at + to_days(?) "
        "FROM features.fct_transaction_features AS f "
        "WHERE c.transaction_id = f.transaction_id AND c.transaction_id = ?",
        [DAYS_AFTER, first_late],
    )

    def late_within(days: int) -> set[str]:
        return set(scoring.read_claimed_late(con, CLAIM_DAY, CLAIM_DAY, days)["transaction_id"])

    assert first_late in late_within(DAYS_AFTER), "exactly N days after the payment is within N days"
    assert first_late not in late_within(DAYS_AFTER - 1)
    off = load_policy(claim_rescore_days=0)
    assert scoring.score_and_alert(con, system, "v1", CLAIM_DAY, CLAIM_DAY, off).rescored == 0
    assert not any("claim_submitted" in r for r in alerts_of(con, CLAIM_DAY)["reasons"])
