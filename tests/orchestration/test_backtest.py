"""`cardwatch backtest` on a small simulated company: outputs, the cut-off, external-shaped data."""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from ml.backtest import SYSTEMS, evaluate, typology_table
from orchestration.backtest import (
    ID_COLUMNS,
    STAMP_FILE,
    BacktestError,
    ScratchPaths,
    Window,
    backtest,
    known_positive_mask,
    landing_fingerprint,
    outcomes_known_at,
    run_backtest,
    train_systems,
    training_warehouse,
)
from orchestration.scoring import read_features, read_rule_hits
from orchestration.settings import DBT_PROJECT_DIR

# The conftest company: 80 employees, January and February 2025.
WINDOW = Window(
    train_end=date(2025, 1, 31), test_start=date(2025, 2, 1), test_end=date(2025, 2, 28), label_delay_days=7
)
CUTOFF = WINDOW.cutoff


@pytest.fixture(scope="module")
def full_run(landed_company: Path, tmp_path_factory: pytest.TempPathFactory):
    """One backtest on every landing source, with the truth, keeping its scratch warehouse."""
    root = tmp_path_factory.mktemp("backtest")
    return run_backtest(
        landed_company / "landing",
        WINDOW,
        root / "out",
        budget=5,
        truth=landed_company / "truth",
        work=root / "work",
    )


def february_transactions(landing: Path) -> set[str]:
    frames = [pd.read_csv(f, dtype=str) for f in sorted((landing / "card_transactions").glob("*.csv"))]
    tx = pd.concat(frames)
    at = pd.to_datetime(tx["transacted_at"])
    return set(tx.loc[(at >= "2025-02-01") & (at < "2025-03-01"), "transaction_id"])


@pytest.mark.slow
def test_scores_every_test_transaction_with_six_systems(full_run, landed_company: Path) -> None:
    scores = pd.read_parquet(full_run.scores)
    assert list(scores.columns) == [*ID_COLUMNS, *SYSTEMS]
    assert set(scores["transaction_id"]) == february_transactions(landed_company / "landing")
    assert scores["transaction_id"].is_unique
    assert scores[["legacy_rules", "legacy_tree", "rules", "unsupervised", "hybrid"]].notna().all().all()
    assert (scores["legacy_rules"] > 0).any() and (scores["legacy_tree"] > 0).any()
    # two months of 80 employees leave too few matured labels for the trees: said, not faked
    assert scores["supervised"].isna().all()
    assert "not trained" in full_run.metrics["notes"]["supervised"]


@pytest.mark.slow
def test_metrics_per_system_and_against_the_legacy_volume(full_run) -> None:
    metrics = json.loads(full_run.metrics_json.read_text(encoding="utf-8"))
    evaluation = metrics["evaluation"]
    assert evaluation["budget"] == 5 and evaluation["not_in_truth"] == 0 and evaluation["misuse"] > 0
    for name in SYSTEMS:
        system = evaluation["systems"][name]
        if name == "supervised":
            assert system == {"available": False}
            continue
        assert 0 <= system["roc_auc"] <= 1 and 0 <= system["average_precision"] <= 1
        assert 0 <= system["employee_precision_at_k"] <= 1
        assert system["alerts_per_day_at_k"] <= 5
        for key in ("precision_at_k", "recall_at_k", "amount_precision_at_k", "amount_recall_at_k"):
            assert 0 <= system[key] <= 1, (name, key)
    legacy = evaluation["legacy"]
    combined = legacy["as_alerted"]["legacy_combined"]
    assert legacy["volume_k"] == max(1, round(combined["alerts"] / evaluation["days"]))
    assert set(legacy["at_legacy_volume"]) == {"rules", "unsupervised", "hybrid", "perfect_ranking"}
    assert set(legacy["target"]) >= {"amount_caught_ratio", "precision_ratio", "parts_held", "holds"}
    assert legacy["target"]["holds"] == all(legacy["target"]["parts_held"].values())
    assert metrics["training"]["cutoff"] == CUTOFF.isoformat()
    text = full_run.markdown.read_text(encoding="utf-8")
    assert all(f"| {name} |" in text for name in SYSTEMS)


def test_outcomes_known_at_the_cutoff_hide_later_cases_and_decisions() -> None:
    outcomes = pd.DataFrame(
        {
            "transaction_id": ["a", "b", "c"],
            "alerted_by": ["legacy_rule:night"] * 3,
            "opened_at": pd.to_datetime(["2025-01-10", "2025-01-20", "2025-02-03"]),
            "explanation_received_at": pd.to_datetime(["2025-01-12", "2025-02-02", None]),
            "decided_at": pd.to_datetime(["2025-01-15", "2025-02-05", "2025-02-06"]),
            "decision": ["confirmed", "confirmed", "confirmed"],
            "recovered_amount": [10.0, 20.0, 30.0],
        }
    )
    known = outcomes_known_at(outcomes, CUTOFF).set_index("transaction_id")
    assert list(known.index) == ["a", "b"]  # c was opened after the cut-off
    assert known.loc["a", "decision"] == "confirmed"
    assert pd.isna(known.loc["b", "decision"]) and pd.isna(known.loc["b", "decided_at"])
    assert pd.isna(known.loc["b", "recovered_amount"]) and pd.isna(known.loc["b", "explanation_received_at"])


@pytest.mark.slow
def test_nothing_after_the_cutoff_changes_the_trained_systems(full_run, tmp_path: Path) -> None:
    """Rewrite history after the cut-off (outcomes, new cases, alerts, transactions): same model."""
    original = full_run.work / "warehouse.duckdb"
    changed = tmp_path / "changed.duckdb"
    shutil.copy(full_run.metrics["known_at_cutoff"]["warehouse"], changed)  # the warehouse it trained on
    con = duckdb.connect(str(changed))
    try:
        flipped = con.execute(
            "UPDATE raw.case_outcomes SET decision = CASE WHEN decision = 'cleared' THEN 'confirmed' "
            "ELSE 'cleared' END WHERE decided_at >= ? RETURNING 1",
            [CUTOFF],
        ).fetchall()
        assert flipped, "the company has no decision after the cut-off to change"
        con.execute(
            "INSERT INTO raw.case_outcomes BY NAME SELECT transaction_id, 'random_audit' AS alerted_by, "
            "?::TIMESTAMP + INTERVAL 1 DAY AS opened_at, ?::TIMESTAMP + INTERVAL 2 DAY AS decided_at, "
            "'confirmed' AS decision FROM raw.card_transactions WHERE transacted_at < ? USING SAMPLE 50 ROWS",
            [CUTOFF, CUTOFF, CUTOFF],
        )
        con.execute("DELETE FROM raw.legacy_alerts WHERE alerted_at >= ?", [CUTOFF])
        con.execute(
            "UPDATE features.fct_transaction_features SET amount = amount * 7, amount_robust_z_own = 50 "
            "WHERE transacted_at >= ?",
            [CUTOFF],
        )
        con.execute("DELETE FROM marts.fct_rule_hits WHERE transacted_at >= ?", [CUTOFF])
        retrained = train_systems(con, WINDOW)
    finally:
        con.close()

    con = duckdb.connect(str(original), read_only=True)
    try:
        start, end = WINDOW.test_from, WINDOW.test_until
        features, hits = read_features(con, start, end), read_rule_hits(con, start, end)
        train_features = read_features(con, None, CUTOFF)
    finally:
        con.close()
    before = full_run.systems.detection.score(features, hits)
    after = retrained.detection.score(features, hits)
    for column in ("score", "score_unsupervised", "score_rules", "score_mode"):
        pd.testing.assert_series_equal(before[column], after[column])
    assert retrained.training == full_run.systems.training
    # and the training rows are exactly the transactions before the cut-off
    assert set(retrained.detection.hybrid.train_ids) == set(train_features["transaction_id"])
    assert pd.to_datetime(train_features["transacted_at"]).max() < pd.Timestamp(CUTOFF)


@pytest.mark.slow
def test_claims_filed_after_the_cutoff_do_not_reach_training(full_run, tmp_path: Path) -> None:
    """Expense claims submitted after the cut-off were not known then: the systems train on a warehouse
    without them, so rewriting them (even for transactions before the cut-off) changes nothing."""
    known = full_run.metrics["known_at_cutoff"]
    assert known["claims_filed_after_cutoff"] > 0, "the company has no claim filed after the cut-off"
    with duckdb.connect(known["warehouse"], read_only=True) as con:
        filed_late = con.execute(
            "SELECT count(*), count(f.attendee_count) FROM raw.expense_claims AS c "
            "JOIN features.fct_transaction_features AS f USING (transaction_id) "
            "WHERE f.transacted_at < ? AND c.submitted_at >= ?",
            [CUTOFF, CUTOFF],
        ).fetchone()
        late_in_staging = con.execute(
            "SELECT count(*) FROM staging.stg_expense__claims WHERE submitted_at >= ?", [CUTOFF]
        ).fetchone()[0]
    assert filed_late[0] > 0, "no transaction before the cut-off has its claim filed after it"
    assert filed_late[1] == 0  # their attendee counts are unknown at the cut-off
    assert late_in_staging == 0

    # rewrite every late claim in a copy of the built warehouse, and invent more for earlier payments
    work = ScratchPaths((tmp_path / "work").resolve())
    work.ensure()
    shutil.copyfile(full_run.work / "warehouse.duckdb", work.warehouse)
    shutil.copyfile(full_run.work / STAMP_FILE, work.home / STAMP_FILE)
    with duckdb.connect(str(work.warehouse)) as con:
        rewritten = con.execute(
            "UPDATE raw.expense_claims SET attendee_count = 40, purpose_category = 'client_entertainment', "
            "is_official_event = NOT coalesce(is_official_event, false) WHERE submitted_at >= ? RETURNING 1",
            [CUTOFF],
        ).fetchall()
        con.execute(
            "INSERT INTO raw.expense_claims BY NAME SELECT 'late-' || transaction_id AS claim_id, transaction_id, "
            "employee_id, ?::TIMESTAMP + INTERVAL 3 DAY AS submitted_at, 'meal' AS purpose_category, "
            "40 AS attendee_count, now() AS _loaded_at, 'late.csv' AS _file, 1 AS _line "
            "FROM raw.card_transactions WHERE transacted_at < ? ORDER BY transaction_id LIMIT 40",
            [CUTOFF, CUTOFF],
        )
    assert rewritten
    rebuilt, info = training_warehouse(work, WINDOW, lambda message: None)
    assert info["claims_filed_after_cutoff"] == known["claims_filed_after_cutoff"] + 40
    with duckdb.connect(str(rebuilt), read_only=True) as con:
        retrained = train_systems(con, WINDOW)
    with duckdb.connect(str(full_run.work / "warehouse.duckdb"), read_only=True) as con:
        features = read_features(con, WINDOW.test_from, WINDOW.test_until)
        hits = read_rule_hits(con, WINDOW.test_from, WINDOW.test_until)
    before = full_run.systems.detection.score(features, hits)
    after = retrained.detection.score(features, hits)
    for column in ("score", "score_unsupervised", "score_rules"):
        pd.testing.assert_series_equal(before[column], after[column])
    assert retrained.training == full_run.systems.training


@pytest.mark.slow
def test_daily_use_scores_a_payment_without_its_claim_then_again_when_it_is_filed(full_run) -> None:
    """The replay's own-day scores come from the warehouse as known at the cut-off, which holds no claim
    of a test transaction; its claim-day scores are the backtest's own (every claim joined)."""
    daily = full_run.metrics["daily_use"]
    evaluation = full_run.metrics["evaluation"]
    with duckdb.connect(full_run.metrics["known_at_cutoff"]["warehouse"], read_only=True) as con:
        claims_in_test = con.execute(
            "SELECT count(*) FROM staging.stg_expense__claims AS c JOIN features.fct_transaction_features AS f "
            "USING (transaction_id) WHERE f.transacted_at >= ?",
            [CUTOFF],
        ).fetchone()[0]
    assert claims_in_test == 0
    assert daily["claimed_transactions"] > 0
    budget = daily["at"]["budget"]
    assert budget["k"] == evaluation["budget"] == 5
    assert budget["alerts"] <= 5 * evaluation["days"]
    assert 0 < budget["on_claim_day"] < budget["alerts"]
    assert daily["at"]["legacy_volume"]["k"] == evaluation["legacy"]["volume_k"]
    markdown = full_run.markdown.read_text(encoding="utf-8")
    assert "## In daily use" in markdown
    assert f"| 5 | {budget['alerts']:,} | {budget['on_claim_day']:,} |" in markdown


@pytest.mark.slow
def test_runs_on_card_transactions_and_case_outcomes_alone(landed_company: Path, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    for source in ("card_transactions", "case_outcomes"):
        shutil.copytree(landed_company / "landing" / source, landing / source)
    out = tmp_path / "out"
    result = run_backtest(
        landing, WINDOW, out, budget=5, truth=landed_company / "truth" / "transactions.parquet"
    )
    scores = pd.read_parquet(result.scores)
    assert list(scores.columns) == [*ID_COLUMNS, *SYSTEMS]
    assert set(scores["transaction_id"]) == february_transactions(landed_company / "landing")
    assert scores["legacy_rules"].isna().all() and scores["legacy_tree"].isna().all()
    assert np.isfinite(scores["hybrid"]).all() and np.isfinite(scores["rules"]).all()
    evaluation = result.metrics["evaluation"]
    assert evaluation["systems"]["legacy_rules"] == {"available": False}
    assert "legacy" not in evaluation
    assert "legacy_alerts" in result.metrics["notes"]["legacy_rules"]
    assert evaluation["systems"]["hybrid"]["available"]
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json", "metrics.md", "scores.parquet"]


@pytest.mark.slow
def test_known_positives_are_cardholders_with_a_matured_confirmed_case(
    full_run, landed_company: Path
) -> None:
    scores = pd.read_parquet(full_run.scores)
    con = duckdb.connect(str(full_run.work / "warehouse.duckdb"), read_only=True)
    try:
        mask = known_positive_mask(con, scores, WINDOW)
    finally:
        con.close()
    landing = landed_company / "landing"
    cases = pd.concat(pd.read_csv(f) for f in sorted((landing / "case_outcomes").glob("*.csv")))
    tx = pd.concat(pd.read_csv(f, dtype=str) for f in sorted((landing / "card_transactions").glob("*.csv")))
    confirmed = cases[cases["decision"].isin(["confirmed", "partial"])].astype({"transaction_id": str})
    confirmed = confirmed.merge(tx[["transaction_id", "employee_id"]], on="transaction_id")
    delay = pd.Timedelta(days=WINDOW.label_delay_days)
    known_from = confirmed.groupby("employee_id")["decided_at"].min().map(pd.Timestamp) + delay
    expected = scores["employee_id"].map(known_from) <= scores["transacted_at"].dt.normalize()
    assert mask.any() and (mask == expected.to_numpy()).all()


def test_metrics_counted_by_hand_on_two_days() -> None:
    """Ranking by score, then tie-break, then transaction id; the legacy volume and recall."""
    ids = ["b4", "b3", "b2", "b1", "a4", "a3", "a2", "a1"]  # reversed: evaluation orders by id
    misuse = {"a2", "b3"}
    scores = pd.DataFrame(
        {
            "transaction_id": ids,
            "card_id": "card",
            "employee_id": [f"e{i[1]}" for i in ids],
            "transacted_at": pd.to_datetime(["2025-02-04 10:00"] * 4 + ["2025-02-03 10:00"] * 4),
            "amount": 100.0,
            "legacy_rules": [1.1 if i in {"a2", "a3", "b2", "b3"} else 0.0 for i in ids],
            "legacy_tree": [0.7 if i in {"a1", "b4"} else 0.0 for i in ids],
            "rules": 1.0,
            "unsupervised": 0.5,
            "supervised": np.nan,
            "hybrid": 0.5,
        }
    )
    ties = pd.DataFrame({"hybrid": [0.9 if i in misuse else 0.1 for i in ids]})
    truth = pd.DataFrame({"transaction_id": ids[1:], "is_misuse": [i in misuse for i in ids[1:]]})

    metrics = evaluate(scores, ties, truth, budget=1)
    assert (metrics["days"], metrics["misuse"], metrics["not_in_truth"]) == (2, 2, 1)
    systems = metrics["systems"]
    assert systems["supervised"] == {"available": False}
    # equal scores: the hybrid's tie-break finds both misuses; without one, a1 and b1 are alerted
    assert (systems["hybrid"]["hits_at_k"], systems["hybrid"]["misuse_amount_caught_at_k"]) == (2, 200.0)
    assert systems["rules"]["hits_at_k"] == 0 and systems["rules"]["alerts_at_k"] == 2
    assert metrics["perfect_ranking"]["roc_auc"] == 1.0
    legacy = metrics["legacy"]
    combined = legacy["as_alerted"]["legacy_combined"]
    assert (combined["alerts"], combined["hits"], combined["recall"]) == (6, 2, 1.0)
    assert legacy["volume_k"] == 3 and legacy["at_legacy_volume"]["hybrid"]["alerts"] == 6
    # the hybrid reaches the legacy recall with its top 1 a day: 2 alerts, a third of 6
    assert legacy["hybrid_at_legacy_recall"]["recall"]["k"] == 1
    assert legacy["target"]["alerts_ratio_at_legacy_recall"] == pytest.approx(1 / 3)

    without_a2 = evaluate(scores, ties, truth, budget=1, evaluated=scores["transaction_id"] != "a2")
    assert (without_a2["excluded_known_positive"], without_a2["misuse"]) == (1, 1)

    # with typologies in the truth: found per typology by the legacy filters and the hybrid
    truth["typology"] = [{"a2": "leave_use", "b3": "duplicate_claim"}.get(i, "") for i in ids[1:]]
    ties_low = pd.DataFrame({"hybrid": [0.1 if i == "b3" else 0.5 for i in ids]})
    typed = evaluate(scores, ties_low, truth, budget=1)
    by = typed["by_typology"]
    assert set(by) == {"leave_use", "duplicate_claim"}
    # a1..a4 tie on 2025-02-03: the top 1 is a1 (id order), the legacy volume's top 3 holds a2
    assert by["leave_use"] == {
        "misuse": 1,
        "amount": 100.0,
        "hybrid_at_k": 0,
        "hybrid_at_k_amount": 0.0,
        "hybrid_at_legacy_volume": 1,
        "hybrid_at_legacy_volume_amount": 100.0,
        "legacy_as_alerted": 1,
        "legacy_as_alerted_amount": 100.0,
    }
    # b3 ranks last on its day (tie-break 0.1): missed at both volumes; the legacy rule filter had it
    duplicate = by["duplicate_claim"]
    assert (
        duplicate["hybrid_at_k"],
        duplicate["hybrid_at_legacy_volume"],
        duplicate["legacy_as_alerted"],
    ) == (0, 0, 1)
    table = typology_table(typed)
    assert table.splitlines()[2].startswith(
        "| duplicate_claim | 1 | 100 | 1 (100%) | 0 (0%) | 0 (0%) | 100 |"
    )


@pytest.mark.slow
def test_seed_option_reseeds_the_systems_and_is_recorded(
    full_run, landed_company: Path, tmp_path: Path
) -> None:
    """`--seed` on the same warehouse: the detectors are fitted anew (other scores), metrics say so."""
    result = CliRunner().invoke(
        backtest,
        [
            "--landing",
            str(landed_company / "landing"),
            "--train-end",
            "2025-01-31",
            "--label-delay-days",
            "7",
            "--test-start",
            "2025-02-01",
            "--test-end",
            "2025-02-28",
            "--budget",
            "5",
            "--truth",
            str(landed_company / "truth"),
            "--work",
            str(full_run.work),
            "--seed",
            "3",
            "--out",
            str(tmp_path / "seed3"),
        ],
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "seed3" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["seed"] == 3 and full_run.metrics["seed"] is None
    seeded = pd.read_parquet(tmp_path / "seed3" / "scores.parquet")
    default = pd.read_parquet(full_run.scores)
    assert seeded["transaction_id"].tolist() == default["transaction_id"].tolist()
    assert not np.allclose(seeded["unsupervised"], default["unsupervised"])
    np.testing.assert_array_equal(seeded["rules"], default["rules"])  # rules have no seed


def test_a_changed_dbt_project_is_not_served_an_old_warehouse(tmp_path: Path) -> None:
    """The reuse stamp covers the rules and features: edit a model and the warehouse is rebuilt."""
    landing = tmp_path / "landing" / "card_transactions"
    landing.mkdir(parents=True)
    (landing / "part.csv").write_text("transaction_id\nT1\n", encoding="utf-8")
    project = tmp_path / "project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    before = landing_fingerprint(tmp_path / "landing", None, 14, project)
    assert landing_fingerprint(tmp_path / "landing", None, 14, project) == before
    model = project / "models" / "features" / "feat_employee_history.sql"
    model.write_text(model.read_text(encoding="utf-8") + "\n-- changed\n", encoding="utf-8")
    assert landing_fingerprint(tmp_path / "landing", None, 14, project) != before
    assert landing_fingerprint(tmp_path / "landing", None, 7, project) != landing_fingerprint(
        tmp_path / "landing", None, 14, project
    )


def test_work_folder_with_a_foreign_warehouse_is_refused(tmp_path: Path) -> None:
    (tmp_path / "landing" / "card_transactions").mkdir(parents=True)
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "warehouse.duckdb").write_bytes(b"not ours")
    with pytest.raises(BacktestError, match="did not build"):
        run_backtest(tmp_path / "landing", WINDOW, tmp_path / "out", work=tmp_path / "home")
    assert (tmp_path / "home" / "warehouse.duckdb").read_bytes() == b"not ours"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--train-end", "2025-13-01"], "--train-end: '2025-13-01' is not a date"),
        (["--test-start", "2025-01-15"], "must be after --train-end"),
        (["--landing", "{tmp}/nowhere"], "no card_transactions folder"),
    ],
)
def test_bad_arguments_fail_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "landing" / "card_transactions").mkdir(parents=True)
    options = {
        "--landing": str(tmp_path / "landing"),
        "--train-end": "2025-01-31",
        "--label-delay-days": "7",
        "--test-start": "2025-02-01",
        "--test-end": "2025-02-28",
        "--out": str(tmp_path / "out"),
    }
    options.update(dict(zip(args[::2], (a.format(tmp=tmp_path) for a in args[1::2]), strict=True)))
    result = CliRunner().invoke(backtest, [item for pair in options.items() for item in pair])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and message in result.output, result.output


def test_window_cutoff_is_the_midnight_after_training() -> None:
    assert WINDOW.cutoff == datetime(2025, 2, 1)
    assert WINDOW.test_until == datetime(2025, 3, 1)
