"""`cardwatch benchmark fdh-backtest`: the handbook's folds as backtest days, and the section it writes."""

from __future__ import annotations

from datetime import date

from orchestration.fdh_backtest import fold_windows, render

SYSTEMS = ("hybrid", "supervised", "unsupervised", "rules")


def test_folds_are_the_handbooks_chapter_5_test_folds() -> None:
    folds = fold_windows()
    assert [f["train_start"] for f in folds] == [
        date(2018, 6, 20),
        date(2018, 6, 27),
        date(2018, 7, 4),
        date(2018, 7, 11),
    ]
    for fold in folds:  # 7 labelled + 7 delay days of training, then 7 test days, inclusive
        assert (fold["train_end"] - fold["train_start"]).days == 13
        assert (fold["test_start"] - fold["train_end"]).days == 1
        assert (fold["test_end"] - fold["test_start"]).days == 6
    assert folds[-1]["test_end"] == date(2018, 7, 31)


def _fold(ap: float, cp: float, start: str) -> dict:
    system = {
        "average_precision": ap,
        "employee_precision_at_k": cp,
        "roc_auc": 0.9,
        "precision_at_k": 0.4,
        "recall_at_k": 0.7,
    }
    training = {"training_transactions": 134_000, "labeled": 67_000, "positives": 620, "mode": "stacked"}
    return {
        "window": {
            "train_start": "2018-06-20",
            "train_end": "2018-07-03",
            "test_start": start,
            "test_end": start,
        },
        "metrics": {
            "evaluation": {
                "systems": {name: dict(system) for name in SYSTEMS},
                "perfect_ranking": {"employee_precision_at_k": 0.4},
            },
            "training": training,
            "timings": {"warehouse (ingest + dbt build)": {"wall_seconds": 105.0}},
        },
        "wall_s": 30.0,
    }


def test_the_section_gives_means_and_says_whether_the_target_holds() -> None:
    below = render(
        {"folds": [_fold(0.66, 0.28, "2018-07-04"), _fold(0.68, 0.30, "2018-07-11")], "load_after": 1.0}, "c"
    )
    assert "| hybrid | 0.670 ± 0.014 | 0.290 ± 0.014 |" in below
    assert "0.660 / 0.280, 0.680 / 0.300" in below
    assert "does not hold" in below and "| handbook: XGBoost, tuned (15 features) | 0.687 | 0.303 |" in below
    assert "AP 0.670 (below 0.687) and CP@100 0.290 (below 0.303)" in below
    split = render(
        {"folds": [_fold(0.69, 0.28, "2018-07-04"), _fold(0.70, 0.29, "2018-07-11")], "load_after": 1.0}, "c"
    )
    assert "does not hold" in split and "AP 0.695 (at or above 0.687) and CP@100 0.285 (below 0.303)" in split
    above = render(
        {"folds": [_fold(0.70, 0.31, "2018-07-04"), _fold(0.72, 0.33, "2018-07-11")], "load_after": 1.0}, "c"
    )
    assert (
        "**Target (AP at least 0.687 and CP@100 at least 0.303, the handbook's best published): holds.**"
        in above
    )
    assert "ingest and dbt build 105 s" in above


def test_the_section_says_when_the_warehouse_was_reused() -> None:
    fold = _fold(0.66, 0.28, "2018-07-04")
    fold["metrics"]["timings"]["warehouse (ingest + dbt build)"]["wall_seconds"] = 0.0
    text = render({"folds": [fold, _fold(0.68, 0.30, "2018-07-11")], "load_after": 1.0}, "c")
    assert "the warehouse of an earlier run was reused" in text and "dbt build 0 s" not in text
