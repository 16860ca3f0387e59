"""The detection review builds offline from a tiny hand-made warehouse, in both languages."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from ml.analysis import plots
from ml.analysis.report import build_report
from ml.analysis.texts import TEXT

SECTIONS = ("s1", "s2", "s3", "s4")


def _frames(seed: int = 5) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n = 400
    start = pd.Timestamp("2025-01-01")
    at = start + pd.to_timedelta(rng.integers(0, 40 * 24 * 60, n), unit="min")
    tx = pd.DataFrame(
        {
            "transaction_id": [f"T{i:04d}" for i in range(n)],
            "employee_id": [f"E{i % 20:02d}" for i in range(n)],
            "transacted_at": at,
            "transacted_date": at.normalize(),
            "amount": rng.choice([12_000, 45_000, 150_000, 470_000, 520_000, 1_200_000], n).astype(float),
            "is_purchase": True,
            "category_group": rng.choice(["restaurant", "bar", "retail"], n),
        }
    )
    misuse = rng.random(n) < 0.08
    legacy_ids = tx.index[(tx["amount"] >= 500_000) | (rng.random(n) < 0.1)]
    legacy = pd.DataFrame(
        {
            "alert_id": [f"LA{i}" for i in range(len(legacy_ids))],
            "transaction_id": tx.loc[legacy_ids, "transaction_id"].to_numpy(),
            "alerted_by": np.where(
                rng.random(len(legacy_ids)) < 0.8, "legacy_rule:large_amount", "legacy_tree"
            ),
            "alerted_at": tx.loc[legacy_ids, "transacted_at"].to_numpy() + pd.Timedelta(hours=8),
            "legacy_score": np.nan,
        }
    )
    legacy["legacy_filter"] = np.where(legacy["alerted_by"] == "legacy_tree", "tree", "rule")
    reviewed = legacy.sample(frac=0.85, random_state=seed)
    audit_pool = tx.index.difference(legacy_ids)
    audit = tx.loc[rng.choice(audit_pool, 40, replace=False)]
    case_tx = pd.concat(
        [
            pd.DataFrame(
                {"transaction_id": reviewed["transaction_id"], "alerted_by": reviewed["alerted_by"]}
            ),
            pd.DataFrame({"transaction_id": audit["transaction_id"], "alerted_by": "random_audit"}),
        ],
        ignore_index=True,
    )
    opened = case_tx["transaction_id"].map(tx.set_index("transaction_id")["transacted_at"]) + pd.Timedelta(
        days=1
    )
    is_misuse = case_tx["transaction_id"].map(pd.Series(misuse, index=tx["transaction_id"]))
    decided = opened + pd.to_timedelta(rng.integers(1, 15, len(case_tx)), unit="D")
    cases = pd.DataFrame(
        {
            "case_id": [f"C{i}" for i in range(len(case_tx))],
            "transaction_id": case_tx["transaction_id"],
            "alerted_by": case_tx["alerted_by"],
            "opened_at": opened,
            "explanation_requested_at": opened + pd.Timedelta(hours=5),
            "explanation_received_at": opened + pd.Timedelta(days=3),
            "decided_at": decided,
            "decision": np.where(is_misuse, "confirmed", "cleared"),
            "is_confirmed_misuse": is_misuse.to_numpy(),
            "is_decided": True,
            "recovered_amount": np.where(
                is_misuse, case_tx["transaction_id"].map(tx.set_index("transaction_id")["amount"]), 0.0
            ),
        }
    )
    hit_rows = []
    for rule, severity, mask in (
        ("late_night", 2, rng.random(n) < 0.15),
        ("on_leave", 4, misuse & (rng.random(n) < 0.6)),
        ("round_amount", 3, tx["amount"].to_numpy() >= 470_000),
    ):
        for i in np.flatnonzero(mask):
            hit_rows.append((tx.at[i, "transaction_id"], rule, severity))
    hits = pd.DataFrame(hit_rows, columns=["transaction_id", "rule_id", "severity"])
    hits = hits.merge(tx[["transaction_id", "transacted_at", "amount"]], on="transaction_id")
    hits["rule_set"] = "cardwatch"
    hits["rule_status"] = "active"
    hits["is_suppressed"] = False
    hits["reason"] = "test"
    rules = pd.DataFrame(
        {
            "rule_id": ["late_night", "on_leave", "round_amount", "legacy_amount_over_line"],
            "rule_set": ["cardwatch", "cardwatch", "cardwatch", "legacy"],
            "rule_status": ["active", "active", "shadow", "shadow"],
        }
    )
    parameters = pd.DataFrame(
        {
            "rule_id": ["legacy_amount_over_line"],
            "parameter": ["line_krw"],
            "value": ["500000"],
            "unit": ["KRW"],
        }
    )
    truth = pd.DataFrame(
        {
            "transaction_id": tx["transaction_id"],
            "is_misuse": misuse,
            "typology": np.where(misuse, rng.choice(["leave_use", "split_across_days"], n), None),
            "amount_at_stake": np.where(misuse, tx["amount"], 0.0),
        }
    )
    return {
        "tx": tx,
        "legacy": legacy,
        "cases": cases,
        "hits": hits,
        "rules": rules,
        "params": parameters,
        "truth": truth,
    }


def _warehouse(path: Path, frames: dict[str, pd.DataFrame], with_scores: bool = False) -> Path:
    connection = duckdb.connect(str(path))
    for schema in ("intermediate", "staging", "marts", "seeds"):
        connection.execute(f"create schema if not exists {schema}")
    tables = {
        "intermediate.int_transactions_enriched": frames["tx"],
        "staging.stg_casework__case_outcomes": frames["cases"],
        "staging.stg_casework__legacy_alerts": frames["legacy"],
        "marts.fct_rule_hits": frames["hits"],
        "marts.dim_rules": frames["rules"],
        "seeds.rule_parameters": frames["params"],
    }
    if with_scores:
        rng = np.random.default_rng(1)
        tx = frames["tx"]
        truth = frames["truth"]
        tables["marts.fct_scores"] = pd.DataFrame(
            {
                "transaction_id": tx["transaction_id"],
                "score": rng.random(len(tx)) + truth["is_misuse"].to_numpy(),
            }
        )
    for name, frame in tables.items():
        connection.register("frame", frame)
        connection.execute(f"create table {name} as select * from frame")
        connection.unregister("frame")
    connection.close()
    return path


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return _frames()


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory, frames) -> dict[str, dict[str, Path]]:
    """A Korean report without the new system's scores, an English one with scores and truth."""
    root = tmp_path_factory.mktemp("review")
    plain = _warehouse(root / "plain.duckdb", frames)
    scored = _warehouse(root / "scored.duckdb", frames, with_scores=True)
    truth = root / "truth"
    truth.mkdir()
    frames["truth"].to_parquet(truth / "transactions.parquet")
    return {
        "ko": build_report(plain, root / "ko", lang="ko"),
        "en": build_report(scored, root / "en", lang="en", truth_path=truth),
    }


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_report_has_the_four_sections_offline(reports, lang: str) -> None:
    paths = reports[lang]
    html = paths["html"].read_text(encoding="utf-8")
    md = paths["md"].read_text(encoding="utf-8")
    index = 1 if lang == "ko" else 0
    positions = [html.find(TEXT[key][index]) for key in SECTIONS]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)
    assert all(f"## {TEXT[key][index]}" in md for key in SECTIONS)
    assert "data:image/png;base64," in html
    assert not re.search(r"https?://", html)
    assert "<link" not in html and "<script" not in html
    images = re.findall(r"\]\((figures/[^)]+)\)", md)
    assert images
    for image in images:
        assert (paths["md"].parent / image).exists()


def test_missing_scores_are_reported_as_pending(reports) -> None:
    md = reports["ko"]["md"].read_text(encoding="utf-8")
    html = reports["ko"]["html"].read_text(encoding="utf-8")
    assert TEXT["pending"][1].split(":")[0] in md
    assert "marts.fct_scores" in html


def test_report_with_scores_and_truth(reports) -> None:
    md = reports["en"]["md"].read_text(encoding="utf-8")
    assert TEXT["pending"][0].split(":")[0] not in md
    assert "Score: score" in md
    assert "Against the truth" in md
    assert "leave_use" in md
    assert "Capacity-optimal threshold" in md
    assert "card (employee) precision@k" in md
    # reviewer error: the corrected precision, the assumption per route and the truth's accuracy
    assert TEXT["s1_precision"][0] in md
    assert "alert_review_accuracy" in md and "random_sample_review_accuracy" in md
    assert "| alert_review_accuracy.specificity |" in md
    assert "Measured against the truth" in md


def test_report_refuses_an_unknown_language(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        build_report(tmp_path / "missing.duckdb", tmp_path, lang="fr")


def test_plots_fall_back_to_english_without_a_korean_font(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plots, "korean_font", lambda: None)
    assert plots.plot_language("ko") == "en"
    assert plots.label("recall", "ko") == "Recall"
    rows = pd.DataFrame({"name": ["legacy"], "recall": [0.4], "lower": [0.2], "upper": [0.6], "true": [0.3]})
    assert plots.recall_plot(rows, "ko").startswith(b"\x89PNG")
