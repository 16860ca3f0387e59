"""Monitoring marts: estimated recall per month and system, and the threshold curves.

A small warehouse is built by hand in tmp_path (no dbt, no Dagster) with rows whose answer is
known: how many alerts were reviewed and confirmed, how large the non-alerted population is and
what its random sample found.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
import streamlit as st

from ml.analysis.compute import analysis_parameters, review_accuracy
from ml.analysis.estimators import estimate_detected, estimate_misses, estimate_recall
from orchestration.monitoring import refresh_monitoring
from orchestration.monitoring_estimates import (
    CURVE_COLUMNS,
    RECALL_COLUMNS,
    case_route,
    estimated_recall,
    threshold_curves,
)

AS_OF = datetime(2025, 6, 30)
AMOUNT = 50_000.0
LOW_SCORE = 0.05
PERFECT = {"sensitivity": 1.0, "specificity": 1.0}


@pytest.fixture(scope="module")
def perfect() -> dict[str, Any]:
    """The analysis parameters with reviewers who never err: estimates have a known answer."""
    return analysis_parameters({"alert_review_accuracy": PERFECT, "random_sample_review_accuracy": PERFECT})


@pytest.fixture(scope="module")
def configured() -> dict[str, Any]:
    """``ml/config/analysis.yml`` as it is (reviewer accuracy per route corrected for)."""
    return analysis_parameters()


@dataclass
class Company:
    """Warehouse rows of a constructed company: transactions, scores, alerts and cases."""

    transactions: list[dict[str, Any]] = field(default_factory=list)
    scores: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    legacy_alerts: list[dict[str, Any]] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0

    def transaction(self, day: date, score: float | None, amount: float = AMOUNT) -> str:
        self.count += 1
        tid = f"t{self.count:06d}"
        at = datetime.combine(day, datetime.min.time()) + timedelta(hours=12)
        self.transactions.append(
            {
                "transaction_id": tid,
                "transacted_at": at,
                "transacted_date": day,
                "amount": amount,
                "is_purchase": True,
            }
        )
        if score is not None:
            self.scores.append(
                {
                    "transaction_id": tid,
                    "transacted_at": at,
                    "transacted_date": day,
                    "amount": amount,
                    "score": score,
                }
            )
        return tid

    def case(
        self, tid: str, alerted_by: str, opened: date, decided_at: datetime | None, decision: str | None
    ) -> None:
        self.cases.append(
            {
                "transaction_id": tid,
                "alerted_by": alerted_by,
                "opened_at": datetime.combine(opened, datetime.min.time()) + timedelta(hours=9),
                "decided_at": decided_at,
                "decision": decision,
            }
        )

    def cardwatch_month(
        self,
        month: date,
        *,
        alerts: int,
        reviewed: int,
        confirmed: int,
        pool: int,
        sample: int,
        found: int,
        decided_at: datetime | None = None,
        route: str = "ranked",
    ) -> dict[str, list[str]]:
        """``alerts`` Cardwatch alerts (``reviewed`` decided, ``confirmed`` of them misuse) and
        ``pool`` scored transactions it did not alert, ``sample`` of them exploration picks
        (decided, ``found`` misuse)."""
        decided_at = decided_at or datetime.combine(month, datetime.min.time()) + timedelta(days=45)
        made: dict[str, list[str]] = {"alerts": [], "pool": []}
        for i in range(alerts):
            day = month + timedelta(days=i % 28)
            tid = self.transaction(day, 0.9 + 0.09 * (i % 10) / 10)
            self.alerts.append(
                {"transaction_id": tid, "alert_date": day, "route": route, "rule_ids": "late_night"}
            )
            if i < reviewed:
                decision = "confirmed" if i < confirmed else "cleared"
                self.case(tid, f"late_night,cardwatch:{route}", day, decided_at, decision)
            made["alerts"].append(tid)
        for i in range(pool):
            day = month + timedelta(days=i % 28)
            tid = self.transaction(day, 0.1 + 0.7 * (i % 50) / 50)
            if i < sample:
                self.alerts.append(
                    {"transaction_id": tid, "alert_date": day, "route": "exploration", "rule_ids": ""}
                )
                self.case(tid, "exploration", day, decided_at, "confirmed" if i < found else "cleared")
            made["pool"].append(tid)
        return made

    def legacy_month(
        self, month: date, strata: dict[str, tuple[int, int, int]], *, pool: int, sample: int, found: int
    ) -> None:
        """Legacy alerts per reason ``{alerted_by: (alerts, reviewed, confirmed)}`` and ``pool``
        purchases they did not alert, ``sample`` of them audited at random (``found`` misuse).
        Cardwatch scores them all low and alerts none of them."""
        decided_at = datetime.combine(month, datetime.min.time()) + timedelta(days=45)
        for reason, (alerts, reviewed, confirmed) in strata.items():
            for i in range(alerts):
                day = month + timedelta(days=i % 28)
                tid = self.transaction(day, LOW_SCORE)
                tree = reason == "legacy_tree"
                self.legacy_alerts.append(
                    {
                        "transaction_id": tid,
                        "alerted_by": reason,
                        "alerted_at": datetime.combine(day, datetime.min.time()) + timedelta(hours=13),
                        "legacy_filter": "tree" if tree else "rule",
                        "legacy_score": 0.8 if tree else None,
                    }
                )
                if i < reviewed:
                    self.case(tid, reason, day, decided_at, "confirmed" if i < confirmed else "cleared")
        for i in range(pool):
            tid = self.transaction(month + timedelta(days=i % 28), LOW_SCORE)
            if i < sample:
                self.case(
                    tid,
                    "random_audit",
                    month + timedelta(days=32),
                    decided_at,
                    "confirmed" if i < found else "cleared",
                )

    def write(self, path: Path) -> Path:
        con = duckdb.connect(str(path))
        try:
            for schema in ("staging", "marts", "raw"):
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            frames = {
                "staging.stg_issuer__card_transactions": (
                    self.transactions,
                    "transaction_id VARCHAR, transacted_at TIMESTAMP, transacted_date DATE, amount DECIMAL(18, 2), "
                    "is_purchase BOOLEAN",
                ),
                "marts.fct_scores": (
                    self.scores,
                    "transaction_id VARCHAR, transacted_at TIMESTAMP, transacted_date DATE, amount DOUBLE, score DOUBLE",
                ),
                "marts.fct_alerts": (
                    self.alerts,
                    "transaction_id VARCHAR, alert_date DATE, route VARCHAR, rule_ids VARCHAR",
                ),
                "staging.stg_casework__legacy_alerts": (
                    self.legacy_alerts,
                    "transaction_id VARCHAR, alerted_by VARCHAR, alerted_at TIMESTAMP, legacy_filter VARCHAR, "
                    "legacy_score DOUBLE",
                ),
                "raw.case_outcomes": (
                    self.cases,
                    "transaction_id VARCHAR, alerted_by VARCHAR, opened_at TIMESTAMP, decided_at TIMESTAMP, "
                    "decision VARCHAR",
                ),
            }
            for table, (rows, columns) in frames.items():
                con.execute(f"CREATE TABLE {table} ({columns})")
                if rows:
                    frame = pd.DataFrame(rows)
                    con.register("_rows", frame)
                    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _rows")
                    con.unregister("_rows")
            # the staging view's flags, as dbt derives them
            con.execute(
                """
                CREATE VIEW staging.stg_casework__case_outcomes AS
                SELECT *, decision IN ('confirmed', 'partial') AS is_confirmed_misuse,
                       decided_at IS NOT NULL AND decision IS NOT NULL AS is_decided,
                       0::DECIMAL(18, 2) AS recovered_amount
                FROM raw.case_outcomes
                """
            )
            con.execute("CREATE TABLE raw._sources AS SELECT 'legacy_alerts' AS source, true AS is_present")
        finally:
            con.close()
        return path


def _recall(path: Path, params: dict[str, Any], as_of: datetime = AS_OF) -> pd.DataFrame:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return estimated_recall(con, params, as_of)
    finally:
        con.close()


def _row(frame: pd.DataFrame, month: date, system: str) -> pd.Series:
    rows = frame[(frame["month"] == month) & (frame["system"] == system)]
    assert len(rows) == 1, frame
    return rows.iloc[0]


def test_case_routes() -> None:
    assert case_route("exploration") == "exploration"
    assert case_route("random_audit") == "random_audit"
    assert case_route("late_night,round_amount,cardwatch:ranked") == "cardwatch.ranked"
    assert case_route("cardwatch:hard") == "cardwatch.hard"
    assert case_route("legacy_rule:night") == "legacy"
    assert case_route("legacy_tree") == "legacy"
    assert case_route("exploration,late_night") == "other"  # not the random sample alone


def test_recall_interval_contains_the_constructed_truth(tmp_path: Path, perfect: dict[str, Any]) -> None:
    """2,000 non-alerted transactions hold 100 misuse; a seeded random sample of 200 is reviewed.
    The alerts detected 40 misuse, so the true recall is 40 / 140."""
    company = Company()
    month = date(2025, 1, 1)
    made = company.cardwatch_month(month, alerts=50, reviewed=50, confirmed=40, pool=2000, sample=0, found=0)
    pool = made["pool"]
    rng = np.random.default_rng(7)
    misuse = set(rng.choice(pool, size=100, replace=False))
    decided = datetime(2025, 2, 20)
    picks = rng.choice(pool, size=200, replace=False)
    for tid in picks:
        company.alerts.append(
            {"transaction_id": tid, "alert_date": month, "route": "exploration", "rule_ids": ""}
        )
        company.case(tid, "exploration", month, decided, "confirmed" if tid in misuse else "cleared")
    found = sum(tid in misuse for tid in picks)

    row = _row(_recall(company.write(tmp_path / "w.duckdb"), perfect), month, "cardwatch")

    truth = 40 / 140
    assert row["low"] < truth < row["high"]
    assert row["low"] < row["estimate"] < row["high"]
    assert row["detected"] == pytest.approx(40.0)
    assert row["missed"] == pytest.approx(found / 200 * 2000)
    assert row["estimate"] == pytest.approx(40 / (40 + found / 200 * 2000))
    assert (row["alerts"], row["reviewed_alerts"], row["population"], row["sampled"], row["found"]) == (
        50,
        50,
        2000,
        200,
        found,
    )


def test_recall_is_the_reports_estimate_corrected_for_reviewer_error(
    tmp_path: Path, configured: dict[str, Any], perfect: dict[str, Any]
) -> None:
    company = Company()
    month = date(2025, 1, 1)
    company.cardwatch_month(month, alerts=50, reviewed=50, confirmed=40, pool=2000, sample=200, found=10)
    path = company.write(tmp_path / "w.duckdb")

    row = _row(_recall(path, configured), month, "cardwatch")

    accuracy = review_accuracy(configured)
    confidence = configured["confidence"]
    alerts = pd.DataFrame({"stratum": "ranked", "is_misuse": [1.0] * 40 + [0.0] * 10})
    detected = estimate_detected(
        alerts.assign(misuse_amount=alerts["is_misuse"] * AMOUNT),
        {"ranked": 50},
        confidence,
        {"ranked": AMOUNT},
        accuracy["alert_review"],
    )
    sample = pd.DataFrame({"stratum": "all", "is_misuse": [1.0] * 10 + [0.0] * 190})
    missed = estimate_misses(
        sample.assign(misuse_amount=sample["is_misuse"] * AMOUNT),
        {"all": 2000},
        confidence,
        population_mean_amount={"all": AMOUNT},
        accuracy=accuracy["random_sample"],
    )
    expected = estimate_recall(detected, missed)
    assert (row["estimate"], row["low"], row["high"]) == pytest.approx(
        (expected.recall, expected.lower, expected.upper)
    )
    assert row["missed"] == pytest.approx(missed.count)
    assert row["missed"] < 100  # false confirmations of the sample taken out (apparent 10 / 200 x 2,000)
    uncorrected = _row(_recall(path, perfect), month, "cardwatch")
    assert row["estimate"] != pytest.approx(uncorrected["estimate"])


def test_a_month_without_a_reviewed_sample_gets_no_row(tmp_path: Path, perfect: dict[str, Any]) -> None:
    company = Company()
    company.cardwatch_month(
        date(2025, 1, 1), alerts=50, reviewed=50, confirmed=40, pool=2000, sample=200, found=10
    )
    # February: alerts reviewed, no exploration pick at all
    company.cardwatch_month(
        date(2025, 2, 1), alerts=50, reviewed=50, confirmed=40, pool=2000, sample=0, found=0
    )
    # March: exploration picks opened but none decided yet
    made = company.cardwatch_month(
        date(2025, 3, 1), alerts=50, reviewed=50, confirmed=40, pool=500, sample=0, found=0
    )
    for tid in made["pool"][:50]:
        company.alerts.append({"transaction_id": tid, "alert_date": date(2025, 3, 3), "route": "exploration"})
        company.case(tid, "exploration", date(2025, 3, 3), None, None)
    # April: a sample, but no Cardwatch alert was reviewed
    company.cardwatch_month(
        date(2025, 4, 1), alerts=50, reviewed=0, confirmed=0, pool=2000, sample=200, found=10
    )

    frame = _recall(company.write(tmp_path / "w.duckdb"), perfect)

    assert frame["month"].tolist() == [date(2025, 1, 1)]
    assert not frame[list(RECALL_COLUMNS)].isna().any().any()


def test_unreviewed_alerts_are_not_counted_as_clean(tmp_path: Path, perfect: dict[str, Any]) -> None:
    """60 alerts, 30 decided (all misuse), 10 opened but undecided, 20 never opened: the misuse
    the alerts detected is estimated at 60, not 30."""
    company = Company()
    month = date(2025, 1, 1)
    made = company.cardwatch_month(
        month, alerts=60, reviewed=30, confirmed=30, pool=2000, sample=200, found=10
    )
    for tid in made["alerts"][30:40]:
        company.case(tid, "late_night,cardwatch:ranked", month, None, None)

    row = _row(_recall(company.write(tmp_path / "w.duckdb"), perfect), month, "cardwatch")

    assert (row["alerts"], row["reviewed_alerts"]) == (60, 30)
    assert row["detected"] == pytest.approx(60.0)
    assert row["estimate"] == pytest.approx(60 / (60 + 100))


def test_decisions_younger_than_the_label_delay_are_not_counted(
    tmp_path: Path, perfect: dict[str, Any]
) -> None:
    delay = perfect["label_delay_days"]
    company = Company()
    month = date(2025, 1, 1)
    made = company.cardwatch_month(
        month, alerts=50, reviewed=50, confirmed=40, pool=2000, sample=200, found=10
    )
    young = AS_OF - timedelta(days=delay / 2)
    for tid in made["pool"][200:230]:  # 30 more picks, all misuse, decided too recently
        company.alerts.append({"transaction_id": tid, "alert_date": month, "route": "exploration"})
        company.case(tid, "exploration", month, young, "confirmed")
    for tid in made["alerts"][:5]:  # a revision of five confirmed alerts to cleared, too recent
        company.case(tid, "late_night,cardwatch:ranked", month, young, "cleared")
    path = company.write(tmp_path / "w.duckdb")

    row = _row(_recall(path, perfect), month, "cardwatch")
    assert (row["sampled"], row["found"]) == (200, 10)
    assert row["missed"] == pytest.approx(100.0)
    assert row["detected"] == pytest.approx(40.0)

    later = _row(_recall(path, perfect, as_of=AS_OF + timedelta(days=delay)), month, "cardwatch")
    assert (later["sampled"], later["found"]) == (230, 40)

    assert _recall(path, perfect, as_of=datetime(2025, 2, 20)).empty  # nothing decided 14 days before


def test_legacy_recall_from_the_internal_audit(tmp_path: Path, perfect: dict[str, Any]) -> None:
    """Night rule: 30 alerts, 15 reviewed, 3 misuse (6 of 30 estimated); tree: 10 alerts, all
    reviewed, 5 misuse. The audit found 2 in 100 of 1,000 non-alerted purchases (20 missed)."""
    company = Company()
    month = date(2025, 2, 1)
    strata = {"legacy_rule:night": (30, 15, 3), "legacy_tree": (10, 10, 5)}
    company.legacy_month(month, strata, pool=1000, sample=100, found=2)
    company.legacy_month(date(2025, 3, 1), strata, pool=1000, sample=0, found=0)  # no audit: no row

    frame = _recall(company.write(tmp_path / "w.duckdb"), perfect)

    assert frame["system"].tolist() == ["legacy"]
    row = _row(frame, month, "legacy")
    assert (row["alerts"], row["reviewed_alerts"], row["population"], row["sampled"], row["found"]) == (
        40,
        25,
        1000,
        100,
        2,
    )
    assert row["detected"] == pytest.approx(11.0)
    assert row["missed"] == pytest.approx(20.0)
    assert row["estimate"] == pytest.approx(11 / 31)
    assert row["low"] < row["estimate"] < row["high"]


def _curve_company() -> Company:
    company = Company()
    for offset in range(3):
        month = date(2025, 1 + offset, 1)
        company.cardwatch_month(month, alerts=40, reviewed=30, confirmed=12, pool=400, sample=40, found=2)
        strata = {"legacy_rule:night": (20, 10, 2), "legacy_tree": (10, 10, 3)}
        company.legacy_month(month, strata, pool=0, sample=0, found=0)
    return company


def test_threshold_curves_fall_with_the_threshold(tmp_path: Path, configured: dict[str, Any]) -> None:
    """Three months of 40 Cardwatch alerts (30 reviewed, 12 misuse), 400 transactions it did not
    alert and 30 the legacy filters alerted (a night rule and the tree)."""
    path = _curve_company().write(tmp_path / "w.duckdb")
    con = duckdb.connect(str(path), read_only=True)
    try:
        delay = timedelta(days=configured["label_delay_days"])
        curve = threshold_curves(con, configured, datetime(2025, 3, 31) + delay)
        late = threshold_curves(con, configured, AS_OF)  # the window has moved past most of the data
        early = threshold_curves(
            con, configured, datetime(2025, 1, 10) + timedelta(days=configured["label_delay_days"])
        )
    finally:
        con.close()

    assert list(curve.columns) == list(CURVE_COLUMNS)
    assert set(curve["system"]) == {"cardwatch", "legacy"}
    for system, rows in curve.groupby("system"):
        assert rows["threshold"].is_monotonic_increasing, system
        assert (np.diff(rows["alerts_per_day"]) <= 1e-12).all(), system
        assert (np.diff(rows["recall"]) <= 1e-12).all(), system
        assert rows["precision"].between(0, 1).all(), system
        expected_cost = rows["alerts"] * configured["review_cost_krw"]
        assert np.allclose(rows["review_cost_krw"], expected_cost)
        assert np.allclose(rows["net_value_krw"], rows["recovered_amount_krw"] - rows["review_cost_krw"])
    cardwatch = curve[curve["system"] == "cardwatch"]
    scored = 3 * (40 + 400 + 30)
    assert (cardwatch["alerts"].iloc[0], cardwatch["days"].iloc[0]) == (scored, 3 * 28)  # the lowest score
    assert cardwatch["alerts_per_day"].iloc[0] == pytest.approx(scored / (3 * 28))
    window_start = (AS_OF - delay - timedelta(days=configured["monitoring_curve_days"])).date()
    late_days = (date(2025, 3, 28) - window_start).days  # the scored days inside the window
    assert late[late["system"] == "cardwatch"]["days"].iloc[0] == late_days
    # the alerts: 12 of 30 reviewed are misuse and the 10 unreviewed are unknown, not clean
    top = cardwatch[cardwatch["threshold"] >= 0.9].iloc[0]
    assert top["precision"] == pytest.approx(0.4)
    assert set(curve.loc[curve["system"] == "legacy", "threshold"]) == {0.8, 1.0}  # tree score, rule alerts
    # only the days whose outcomes had the label delay to mature
    assert set(early["days"]) == {10}


def _snapshot(path: Path) -> Any:
    from dashboards import data

    stat = path.stat()
    return data.Snapshot(str(path), stat.st_mtime_ns, stat.st_ino)


def test_refresh_writes_the_tables_the_dashboard_reads(tmp_path: Path, configured: dict[str, Any]) -> None:
    from dashboards import data

    company = _curve_company()
    company.legacy_month(date(2025, 1, 1), {"legacy_rule:night": (20, 10, 2)}, pool=1000, sample=100, found=2)
    path = company.write(tmp_path / "w.duckdb")
    con = duckdb.connect(str(path))
    try:
        first = refresh_monitoring(con, 40, configured, AS_OF)
        second = refresh_monitoring(con, 40, configured, AS_OF)  # rebuilt whole, never appended to
        counts = con.execute(
            "SELECT (SELECT count(*) FROM monitoring.estimated_recall), (SELECT count(*) FROM monitoring.threshold_curve)"
        ).fetchall()[0]
    finally:
        con.close()
    assert first == second
    assert (first["estimated_recall_rows"], first["threshold_curve_rows"]) == counts
    assert first["estimated_recall_rows"] == 4  # Cardwatch Jan-Mar, legacy Jan
    assert "recall_cardwatch_latest" in first and "recall_legacy_latest" in first

    st.cache_data.clear()
    try:
        snapshot = _snapshot(path)
        recall = data.estimated_recall(snapshot)
        curve = data.threshold_curve(snapshot)
        assert recall is not None and curve is not None
        assert list(recall.columns) == ["month", "system", "estimate", "low", "high"]
        assert set(recall["system"]) == {"cardwatch", "legacy"}
        assert recall[["estimate", "low", "high"]].stack().between(0, 1).all()
        point = data.operating_point(
            curve, "cardwatch", capacity=10, review_cost=30000, average_amount=AMOUNT, recovery_rate=1.0
        )
        assert point is not None and point["alerts_per_day"] <= 10
        assert data.operating_point(
            curve, "legacy", capacity=10, review_cost=30000, average_amount=AMOUNT, recovery_rate=1.0
        )
        # precision per month and system: alerts raised (reviewed or not) beside their outcomes, and
        # the random samples (exploration picks, the internal audit) kept out of Cardwatch's precision
        precision = data.precision_at_capacity(snapshot)
        assert precision is not None
        january = precision[precision["month"] == pd.Timestamp("2025-01-01")].set_index("system")
        assert january.loc["cardwatch", ["alerts", "reviewed", "confirmed"]].tolist() == [40, 30, 12]
        assert january.loc["cardwatch", "precision"] == pytest.approx(12 / 30)
        assert january.loc["exploration", ["alerts", "reviewed", "confirmed"]].tolist() == [40, 40, 2]
        assert january.loc["legacy_rules", ["alerts", "reviewed", "confirmed"]].tolist() == [40, 20, 4]
        assert january.loc["legacy_tree", ["alerts", "reviewed", "confirmed"]].tolist() == [10, 10, 3]
    finally:
        st.cache_data.clear()


def test_refresh_on_a_warehouse_with_nothing_scored_yet(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE SCHEMA staging")
        con.execute(
            "CREATE TABLE staging.stg_casework__case_outcomes (transaction_id VARCHAR, alerted_by VARCHAR, "
            "opened_at TIMESTAMP, decided_at TIMESTAMP, decision VARCHAR, is_decided BOOLEAN, "
            "is_confirmed_misuse BOOLEAN, recovered_amount DECIMAL(18, 2))"
        )
        metadata = refresh_monitoring(con, 40)
        recall = con.execute("SELECT * FROM monitoring.estimated_recall").fetchdf()
        curve = con.execute("SELECT * FROM monitoring.threshold_curve").fetchdf()
    finally:
        con.close()
    assert metadata["estimated_recall_rows"] == 0 and metadata["threshold_curve_rows"] == 0
    assert list(recall.columns) == list(RECALL_COLUMNS) and recall.empty
    assert list(curve.columns) == list(CURVE_COLUMNS) and curve.empty
