"""The handbook adapter, features and protocol on a small synthetic frame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from ml.adapters.fdh import card_transactions, case_outcomes, truth, write_landing
from ml.benchmarks.fdh import add_day_index, handbook_sets, lightgbm_factory, run_folds
from ml.benchmarks.fdh_features import HANDBOOK_FEATURES, RICH_FEATURES, add_features
from ml.evaluation import prequential_folds, prequential_window
from tests.ml.conftest import REPO_ROOT


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """60 days, 40 cards, 30 terminals; card 3 compromised from day 40, terminal 7 from day 45."""
    rng = np.random.default_rng(11)
    n = 6000
    seconds = np.sort(rng.integers(0, 60 * 86400, n))
    data = pd.DataFrame(
        {
            "TRANSACTION_ID": np.arange(n),
            "TX_DATETIME": pd.Timestamp("2018-04-01") + pd.to_timedelta(seconds, unit="s"),
            "CUSTOMER_ID": rng.integers(0, 40, n),
            "TERMINAL_ID": rng.integers(0, 30, n),
            "TX_AMOUNT": rng.gamma(2.0, 25.0, n).round(2),
        }
    )
    day = seconds // 86400
    card = (data["CUSTOMER_ID"] == 3) & (day >= 40) & (rng.random(n) < 0.5)
    data.loc[card, "TX_AMOUNT"] *= 5
    terminal = (data["TERMINAL_ID"] == 7) & (day >= 45)
    data["TX_FRAUD"] = (card | terminal).astype(int)
    data["TX_FRAUD_SCENARIO"] = np.where(card, 3, np.where(terminal, 2, 0))
    return data


def test_adapter_follows_the_landing_contract(frame, tmp_path) -> None:
    contract = yaml.safe_load((REPO_ROOT / "orchestration" / "contract.yml").read_text(encoding="utf-8"))
    tx = card_transactions(frame)
    tx_columns = contract["sources"]["card_transactions"]["columns"]
    assert set(tx.columns) <= set(tx_columns)
    assert {c for c, spec in tx_columns.items() if spec.get("required")} <= set(tx.columns)
    assert tx["transaction_id"].is_unique
    assert (tx["card_id"] == tx["employee_id"]).all()

    outcomes = case_outcomes(frame, delay_days=7)
    assert set(outcomes.columns) <= set(contract["sources"]["case_outcomes"]["columns"])
    assert len(outcomes) == len(frame)
    assert (outcomes["decided_at"] - outcomes["opened_at"] == pd.Timedelta(days=7)).all()
    assert (outcomes["decision"] == "confirmed").sum() == frame["TX_FRAUD"].sum()
    assert set(outcomes["decision"]) <= set(
        contract["sources"]["case_outcomes"]["columns"]["decision"]["allowed"]
    )
    assert len(case_outcomes(frame, frauds_only=True)) == frame["TX_FRAUD"].sum()

    labels = truth(frame)
    assert list(labels.columns) == ["transaction_id", "is_misuse", "typology", "amount_at_stake"]
    assert set(labels["typology"].dropna()) == {"compromised_card", "compromised_terminal"}
    assert labels.loc[~labels["is_misuse"], "typology"].isna().all()

    source = tmp_path / "fdh.parquet"
    frame.to_parquet(source)
    report = write_landing(source, tmp_path / "landing", tmp_path / "truth")
    assert report.transactions == len(frame)
    assert all(path.exists() and tmp_path in path.parents for path in report.files)


def test_features_match_pandas_rolling(frame) -> None:
    feats = add_features(frame)
    assert set(RICH_FEATURES) <= set(feats.columns)
    card = frame[frame["CUSTOMER_ID"] == 5].set_index("TX_DATETIME")["TX_AMOUNT"]
    expected_count = card.rolling("7D").count().to_numpy()
    expected_mean = (card.rolling("7D").sum() / card.rolling("7D").count()).to_numpy()
    got = feats[frame["CUSTOMER_ID"] == 5]
    assert np.allclose(got["CUSTOMER_ID_NB_TX_7DAY_WINDOW"], expected_count)
    assert np.allclose(got["CUSTOMER_ID_AVG_AMOUNT_7DAY_WINDOW"], expected_mean)
    term = frame[frame["TERMINAL_ID"] == 7].set_index("TX_DATETIME")["TX_FRAUD"]
    frauds = term.rolling("8D").sum() - term.rolling("7D").sum()
    count = term.rolling("8D").count() - term.rolling("7D").count()
    risk = (frauds / count).fillna(0).to_numpy()
    assert np.allclose(feats.loc[frame["TERMINAL_ID"] == 7, "TERMINAL_ID_RISK_1DAY_WINDOW"], risk)


def test_terminal_risk_never_reads_labels_within_the_delay(frame) -> None:
    feats = add_features(frame)
    first_fraud = frame.loc[frame["TERMINAL_ID"] == 7, "TX_DATETIME"][frame["TX_FRAUD"] == 1].min()
    early = (frame["TERMINAL_ID"] == 7) & (frame["TX_DATETIME"] < first_fraud + pd.Timedelta(days=7))
    assert (feats.loc[early, "TERMINAL_ID_RISK_30DAY_WINDOW"] == 0).all()


def test_handbook_sets_drop_known_compromised_cards(frame) -> None:
    data = add_day_index(add_features(frame))
    window = prequential_window("2018-05-12")
    train, test = handbook_sets(data, window)
    assert train["TX_DATETIME"].max() < window.train_end
    assert test["TX_DATETIME"].min() >= window.test_start
    known = set(train.loc[train["TX_FRAUD"] == 1, "CUSTOMER_ID"])
    assert 3 in known
    assert not test["CUSTOMER_ID"].isin(known).any()


def test_prequential_run_scores_every_fold(frame) -> None:
    data = add_day_index(add_features(frame))
    folds = prequential_folds("2018-05-05", n_folds=2)
    params = {"n_estimators": 20, "num_leaves": 7}
    result = run_folds(data, folds, lightgbm_factory(params, n_jobs=1), HANDBOOK_FEATURES)
    assert len(result) == 2
    assert result["card_precision"].between(0, 1).all()
