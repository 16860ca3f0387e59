"""Rule backtest on a hand-made warehouse whose answers are worked out below, and `cardwatch rules backtest`.

The warehouse (ten days, 2025-01-01 .. 2025-01-10):

- ``draft_rule`` (draft) hits T1-T7 and T12; T8 too, but an allowlist entry suppresses it.
- ``active_a`` alerts T1, T2, T9, T10; ``active_b`` alerts T2, T3, T11 and has a suppressed hit on
  T4 (no alert); ``shadow_x`` hits T5 (no alert). So T1-T3 are already alerted and T4-T7, T12 are added.
- Reviews: the legacy filter alerted T1-T4 and all four have a case (T1 confirmed, T2 cleared, T3
  still open, T4 confirmed with 40,000 KRW recovered); the random audit picked T5 (cleared) among
  the unalerted hits T5-T7, a propensity of 1/3; Cardwatch alerted T12 and nobody reviewed it.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from ml.analysis.estimators import wilson_interval
from ml.analysis.overlap import jaccard_matrix
from ml.analysis.rule_backtest import RuleBacktestError, backtest_rule, backtestable_rules
from orchestration.cli import cli

DAY = {n: date(2025, 1, n) for n in range(1, 11)}
TX_DAY = {
    "T1": 1, "T2": 1, "T3": 2, "T4": 3, "T5": 3, "T6": 3, "T7": 4, "T8": 5,
    "T9": 1, "T10": 2, "T11": 2, "T12": 10,
}  # fmt: skip
AMOUNT = {tx: 10_000.0 * int(tx[1:]) for tx in TX_DAY}
RULES = [
    # rule_id, status, is_alerting
    ("draft_rule", "draft", False),
    ("active_a", "active", True),
    ("active_b", "active", True),
    ("shadow_x", "shadow", False),
]
HITS = [
    # transaction_id, rule_id, is_suppressed
    *[(tx, "draft_rule", False) for tx in ("T1", "T2", "T3", "T4", "T5", "T6", "T7", "T12")],
    ("T8", "draft_rule", True),
    *[(tx, "active_a", False) for tx in ("T1", "T2", "T9", "T10")],
    *[(tx, "active_b", False) for tx in ("T2", "T3", "T11")],
    ("T4", "active_b", True),
    ("T5", "shadow_x", False),
]
CASES = [
    # transaction_id, alerted_by, decision (None = open), recovered
    ("T1", "legacy_rule:night", "confirmed", 10_000.0),
    ("T2", "legacy_rule:night", "cleared", 0.0),
    ("T3", "legacy_rule:night", None, None),
    ("T4", "legacy_rule:night", "confirmed", 40_000.0),
    ("T5", "random_audit", "cleared", 0.0),
]


def _at(tx: str) -> datetime:
    return datetime.combine(DAY[TX_DAY[tx]], datetime.min.time()).replace(hour=20)


def build_warehouse(path: Path, *, with_outcomes: bool = True) -> Path:
    """Write the warehouse described in the module docstring at ``path``."""
    status = dict((rule, (s, alerting)) for rule, s, alerting in RULES)
    tables = {
        "staging.stg_issuer__card_transactions": pd.DataFrame(
            {
                "transaction_id": list(TX_DAY),
                "transacted_at": [_at(tx) for tx in TX_DAY],
                "transacted_date": [DAY[TX_DAY[tx]] for tx in TX_DAY],
                "amount": [AMOUNT[tx] for tx in TX_DAY],
            }
        ),
        "marts.dim_rules": pd.DataFrame(
            [
                {
                    "rule_id": rule,
                    "name_en": rule.replace("_", " ").title(),
                    "name_ko": f"{rule} 규칙",
                    "rule_set": "cardwatch",
                    "rule_status": s,
                    "rule_version": 1,
                    "severity": 2,
                    "is_active": True,
                    "is_alerting": alerting,
                    "missing_sources": None,
                }
                for rule, s, alerting in RULES
            ]
        ),
        "marts.fct_rule_hits": pd.DataFrame(
            [
                {
                    "transaction_id": tx,
                    "rule_id": rule,
                    "rule_status": status[rule][0],
                    "transacted_at": _at(tx),
                    "transacted_date": DAY[TX_DAY[tx]],
                    "amount": AMOUNT[tx],
                    "is_suppressed": suppressed,
                    "is_alert_candidate": status[rule][1] and not suppressed,
                }
                for tx, rule, suppressed in HITS
            ]
        ),
        "staging.stg_casework__legacy_alerts": pd.DataFrame(
            {
                "transaction_id": ["T1", "T2", "T3", "T4"],
                "alerted_by": ["legacy_rule:night"] * 4,
                "alerted_at": [_at(tx) for tx in ("T1", "T2", "T3", "T4")],
            }
        ),
        "marts.fct_alerts": pd.DataFrame(
            {"transaction_id": ["T12"], "alert_date": [DAY[10]], "route": ["ranked"]}
        ),
    }
    if with_outcomes:
        tables["staging.stg_casework__case_outcomes"] = pd.DataFrame(
            [
                {
                    "case_id": f"C{n}",
                    "transaction_id": tx,
                    "alerted_by": source,
                    "opened_at": _at(tx) + pd.Timedelta(days=1),
                    "decided_at": _at(tx) + pd.Timedelta(days=5) if decision else None,
                    "decision": decision,
                    "is_decided": decision is not None,
                    "is_confirmed_misuse": decision == "confirmed",
                    "recovered_amount": recovered,
                }
                for n, (tx, source, decision, recovered) in enumerate(CASES)
            ]
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect(str(path))
    try:
        for name, frame in tables.items():
            connection.execute(f"create schema if not exists {name.split('.')[0]}")
            connection.register("frame", frame)
            connection.execute(f"create table {name} as select * from frame")
            connection.unregister("frame")
    finally:
        connection.close()
    return path


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return build_warehouse(tmp_path / "warehouse.duckdb")


def _backtest(path: Path, rule_id: str = "draft_rule", **options):
    connection = duckdb.connect(str(path), read_only=True)
    try:
        return backtest_rule(connection, rule_id, capacity=2, **options)
    finally:
        connection.close()


def test_added_alerts_are_hits_no_active_rule_raises(warehouse: Path) -> None:
    result = _backtest(warehouse)
    assert (result.start, result.end, result.days) == (DAY[1], DAY[10], 10)
    assert result.hits == 8  # T1-T7, T12; the suppressed T8 would not alert
    assert result.suppressed_hits == 1
    assert result.overlapping == 3  # T1, T2 (active_a), T2, T3 (active_b); T4's active_b hit is suppressed
    assert result.added_alerts == 5  # T4, T5, T6, T7, T12
    assert result.added_amount == sum(AMOUNT[tx] for tx in ("T4", "T5", "T6", "T7", "T12"))
    assert result.added_confirmed == 1  # T4
    assert result.added_confirmed_amount == AMOUNT["T4"]
    assert result.added_recovered_amount == 40_000.0


def test_precision_counts_reviewed_hits_only_and_reweights_the_biased_sample(warehouse: Path) -> None:
    table = _backtest(warehouse).precision
    # all hits: decided T1 (1), T2 (0), T4 (1), T5 (0); T3 is open and T6, T7, T12 unreviewed: unknown
    row = table.loc["all"]
    assert (row["hits"], row["reviewed"], row["confirmed"]) == (8, 4, 2)
    assert row["precision"] == pytest.approx(0.5)
    assert (row["lower"], row["upper"]) == pytest.approx(wilson_interval(2, 4))
    # legacy-alerted hits were all reviewed (weight 1); T5 stands for the three unalerted hits (weight 3)
    assert row["ipw_precision"] == pytest.approx(2 / 6)
    effective = 6**2 / (1 + 1 + 1 + 9)  # Kish: (sum w)^2 / sum w^2
    assert (row["ipw_lower"], row["ipw_upper"]) == pytest.approx(wilson_interval(effective / 3, effective))
    assert row["unrepresented"] == 1  # T12: Cardwatch alerted it and nobody reviewed that stratum

    added = table.loc["added"]
    assert (added["hits"], added["reviewed"], added["confirmed"]) == (5, 2, 1)
    assert added["precision"] == pytest.approx(0.5)
    assert added["ipw_precision"] == pytest.approx(1 / 4)
    assert added["unrepresented"] == 1

    overlapping = table.loc["overlapping"]
    assert (overlapping["hits"], overlapping["reviewed"], overlapping["confirmed"]) == (3, 2, 1)
    assert overlapping["ipw_precision"] == pytest.approx(0.5)
    assert overlapping["unrepresented"] == 0


def test_overlap_matches_the_jaccard_matrix(warehouse: Path) -> None:
    result = _backtest(warehouse)
    overlap = result.overlap.set_index("rule_id")
    assert list(result.overlap["rule_id"]) == [
        "active_b",
        "active_a",
    ]  # same shared count, higher Jaccard first
    assert overlap.loc["active_a", ["rule_alerts", "shared"]].tolist() == [4, 2]
    assert overlap.loc["active_b", ["rule_alerts", "shared"]].tolist() == [3, 2]
    assert overlap.loc["active_a", "jaccard"] == pytest.approx(2 / (8 + 4 - 2))
    assert overlap.loc["active_b", "share_of_hits"] == pytest.approx(2 / 8)
    assert overlap.loc["active_b", "share_of_rule"] == pytest.approx(2 / 3)

    hits = pd.DataFrame(HITS, columns=["transaction_id", "detector", "is_suppressed"])
    alerts = hits[~hits["is_suppressed"] & (hits["detector"] != "shadow_x")]
    expected = jaccard_matrix(alerts)
    for rule in ("active_a", "active_b"):
        assert overlap.loc[rule, "jaccard"] == pytest.approx(expected.loc["draft_rule", rule])


def test_reviewer_load_against_capacity(warehouse: Path) -> None:
    result = _backtest(warehouse)
    daily = result.daily
    assert len(daily) == 10
    assert daily["added"].tolist() == [0, 0, 3, 1, 0, 0, 0, 0, 0, 1]
    assert daily["existing"].tolist() == [3, 3, 0, 0, 0, 0, 0, 0, 0, 0]
    load = result.load
    assert load["capacity"] == 2
    assert load["added_per_day"] == pytest.approx(0.5)
    assert load["added_peak_per_day"] == 3
    assert load["added_share_of_capacity"] == pytest.approx(0.25)
    assert load["existing_per_day"] == pytest.approx(0.6)
    assert (load["days_over_capacity_before"], load["days_over_capacity_after"]) == (2, 3)


def test_a_window_limits_hits_days_and_load(warehouse: Path) -> None:
    result = _backtest(warehouse, start=date(2025, 1, 3), end="2025-01-04")
    assert (result.start, result.end, result.days) == (DAY[3], DAY[4], 2)
    assert (result.hits, result.overlapping, result.added_alerts) == (4, 0, 4)
    assert result.load["added_per_day"] == pytest.approx(2.0)
    assert result.overlap["shared"].sum() == 0
    with pytest.raises(RuleBacktestError, match="no data between"):
        _backtest(warehouse, start=date(2026, 1, 1))


def test_an_active_rule_is_refused_unless_any_status_and_then_measured_against_the_others(
    warehouse: Path,
) -> None:
    with pytest.raises(RuleBacktestError, match="already active"):
        _backtest(warehouse, "active_a")
    result = _backtest(warehouse, "active_a", statuses=None)
    assert (result.hits, result.overlapping, result.added_alerts) == (4, 1, 3)  # T2 is active_b's too
    assert "active_a" not in set(result.overlap["rule_id"])


def test_unknown_rule_and_missing_tables(warehouse: Path, tmp_path: Path) -> None:
    with pytest.raises(
        RuleBacktestError, match="unknown rule 'nope'; draft and shadow rules: draft_rule, shadow_x"
    ):
        _backtest(warehouse, "nope")
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert backtestable_rules(connection) == ["draft_rule", "shadow_x"]
    finally:
        connection.close()
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(RuleBacktestError, match="not built yet"):
        _backtest(empty)


def test_without_case_outcomes_precision_is_unknown_not_zero(tmp_path: Path) -> None:
    result = _backtest(build_warehouse(tmp_path / "no_cases.duckdb", with_outcomes=False))
    row = result.precision.loc["all"]
    assert (row["reviewed"], row["confirmed"]) == (0, 0)
    assert np.isnan(row["precision"]) and np.isnan(row["ipw_precision"])
    assert result.added_alerts == 5 and result.added_confirmed == 0


def test_a_rule_without_hits(warehouse: Path) -> None:
    connection = duckdb.connect(str(warehouse))
    try:
        connection.execute("delete from marts.fct_rule_hits where rule_id = 'draft_rule'")
    finally:
        connection.close()
    result = _backtest(warehouse)
    assert (result.hits, result.added_alerts, result.days) == (0, 0, 10)
    assert result.precision.loc["all", "reviewed"] == 0
    assert result.load["added_per_day"] == 0
    json.dumps(result.to_dict(), allow_nan=False)  # JSON-safe (None, not NaN) when every ratio is undefined


# -- the command line -------------------------------------------------------------------------------


def _run(*args: str) -> object:
    return CliRunner().invoke(cli, ["rules", "backtest", *args])


def test_cli_prints_the_tables(warehouse: Path) -> None:
    result = _run("draft_rule", "--warehouse", str(warehouse), "--capacity", "2")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "Backtest of draft_rule" in lines[0] and "draft" in lines[0]
    assert "2025-01-01 to 2025-01-10 (10 days)" in lines[1]
    added = next(line for line in lines if "added alerts (new work for reviewers)" in line)
    assert added.split("│")[-2].strip() == "5"
    precision = next(line for line in lines if line.startswith("│ added alerts ") and "new work" not in line)
    assert "50.0%" in precision and "25.0%" in precision  # naive and IPW
    assert any("active_b" in line and "0.222" in line for line in lines)  # 2 / (8 + 3 - 2)
    over = next(line for line in lines if "days over capacity" in line)
    assert "2 -> 3 of 10" in over


def test_cli_json_reads_the_home_warehouse_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_warehouse(tmp_path / "home" / "warehouse.duckdb")
    monkeypatch.setenv("CARDWATCH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CARDWATCH_WAREHOUSE", raising=False)
    result = _run("draft_rule", "--json", "--capacity", "2", "--start", "2025-01-03")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["start"] == "2025-01-03" and payload["days"] == 8
    assert payload["added_alerts"] == 5 and payload["hits"] == 5
    assert {row["subset"] for row in payload["precision"]} == {"all", "added", "overlapping"}


def test_cli_errors_are_one_line(warehouse: Path, tmp_path: Path) -> None:
    cases = {
        ("nope",): "unknown rule 'nope'",
        ("active_a",): "already active",
        ("draft_rule", "--start", "2025-01-05", "--end", "2025-01-01"): "is after --end",
    }
    for args, message in cases.items():
        result = _run(*args, "--warehouse", str(warehouse))
        assert result.exit_code == 1 and message in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1
    result = _run("active_a", "--warehouse", str(warehouse), "--any-status", "--json")
    assert result.exit_code == 0 and json.loads(result.output)["added_alerts"] == 3
    missing = _run("draft_rule", "--warehouse", str(tmp_path / "absent.duckdb"))
    assert missing.exit_code == 1 and "no warehouse there" in missing.output
