"""Scoring in chunks gives the one-batch scores bit for bit, and predicts each row once."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from ml.detectors import AnomalyDetector
from ml.supervised import SupervisedModel
from ml.system import DetectionSystem, score_chunk_rows, train_system
from orchestration import scoring
from tests.ml.test_training_cost import CAPS, CUTOFF, company, warehouse


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    return company()


@pytest.fixture(scope="module")
def systems(data: dict[str, pd.DataFrame]) -> dict[str, DetectionSystem]:
    """The shipped detectors (Isolation Forest and ECOD): a stacked system and a cold-start one."""
    args = (data["features"], data["hits"])
    stacked = train_system(*args, data["outcomes"], data["alerts"], CUTOFF, **CAPS)
    cold = train_system(*args, data["outcomes"].iloc[:20], data["alerts"], CUTOFF, **CAPS)
    assert stacked.hybrid.model.mode_ == "stacked" and cold.hybrid.model.mode_ == "cold_start"
    assert sorted(stacked.detectors) == ["ecod", "iforest"]
    return {"stacked": stacked, "cold_start": cold}


def one_batch(system: DetectionSystem, features: pd.DataFrame, hits: pd.DataFrame) -> pd.DataFrame:
    """The whole frame as one chunk."""
    return system.score(features, hits, explain=False, chunk_rows=len(features))


@pytest.mark.parametrize("mode", ["stacked", "cold_start"])
def test_one_batch_scores_are_what_the_model_defines(
    systems: dict[str, DetectionSystem], data: dict[str, pd.DataFrame], mode: str
) -> None:
    """The reference itself: score, tie-break and the unsupervised rank as the models define them."""
    system = systems[mode]
    model = system.hybrid.model
    features = data["features"]
    stacked = system.stack(features, data["hits"])
    X = stacked.reindex(columns=system.hybrid.feature_names, fill_value=0)
    scored = one_batch(system, features, data["hits"])

    np.testing.assert_array_equal(scored["score"], model.score(X))
    np.testing.assert_array_equal(scored["tiebreak"], model.tiebreak(X))
    if mode == "stacked":
        np.testing.assert_array_equal(scored["score"], model.supervised_.predict_proba(X)[:, 1])
        np.testing.assert_array_equal(scored["probability"], scored["score"])
    else:
        assert scored["probability"].isna().all()
    anomaly = stacked[["anomaly__iforest", "anomaly__ecod"]]
    np.testing.assert_array_equal(scored["score_unsupervised"], anomaly.rank(pct=True).mean(axis=1))
    assert scored["transaction_id"].tolist() == features["transaction_id"].tolist()


@pytest.mark.parametrize("mode", ["stacked", "cold_start"])
@pytest.mark.parametrize("chunk_rows", [41, 1_333, 10_000])
def test_chunked_scores_equal_one_batch(
    systems: dict[str, DetectionSystem], data: dict[str, pd.DataFrame], mode: str, chunk_rows: int
) -> None:
    """Every column, score_unsupervised (a rank among all rows of the call) included, exactly."""
    system = systems[mode]
    features, hits = data["features"], data["hits"]
    expected = one_batch(system, features, hits)
    chunked = system.score(features, hits, explain=False, chunk_rows=chunk_rows)
    pd.testing.assert_frame_equal(chunked, expected, check_exact=True)


def test_reasons_do_not_depend_on_the_chunk(
    systems: dict[str, DetectionSystem], data: dict[str, pd.DataFrame]
) -> None:
    system = systems["stacked"]
    later = data["features"][data["features"]["transacted_at"] >= CUTOFF].iloc[:120]
    whole = system.score(later, data["hits"], chunk_rows=len(later))
    chunked = system.score(later, data["hits"], chunk_rows=11)
    assert chunked["reasons"].tolist() == whole["reasons"].tolist()
    assert any(len(r) for r in whole["reasons"])
    # alerts are explained from the stacking features they were scored with, without scoring again
    stacked = system.stack(later, data["hits"])
    some = np.arange(len(later)) % 5 == 0
    assert system.explain(stacked[some]) == whole.loc[some, "reasons"].tolist()


@pytest.mark.parametrize("mode", ["stacked", "cold_start"])
def test_a_rows_score_does_not_depend_on_the_rows_scored_with_it(
    systems: dict[str, DetectionSystem], data: dict[str, pd.DataFrame], mode: str
) -> None:
    """Alone, among other rows, in another order: the same score, probability and tie-break.

    (NumPy's row sum of ECOD's tails used to add in another order for a single row, so a row
    scored alone could differ from itself in a batch in the last bits.)
    """
    system = systems[mode]
    features, hits = data["features"], data["hits"]
    expected = one_batch(system, features, hits).set_index("transaction_id")
    columns = ["score", "probability", "tiebreak", "score_rules", "score_mode"]

    picks = np.random.default_rng(5).choice(len(features), 40, replace=False)
    alone = pd.concat(
        [one_batch(system, features.iloc[[i]], hits) for i in picks], ignore_index=True
    ).set_index("transaction_id")
    pd.testing.assert_frame_equal(alone[columns], expected.loc[alone.index, columns], check_exact=True)

    shuffled = features.sample(frac=1.0, random_state=2)
    again = system.score(shuffled, hits, explain=False, chunk_rows=97).set_index("transaction_id")
    pd.testing.assert_frame_equal(again[columns], expected.loc[again.index, columns], check_exact=True)
    # the unsupervised rank is among the call's rows: the same set of rows in any order, the same rank
    np.testing.assert_array_equal(
        again["score_unsupervised"], expected.loc[again.index, "score_unsupervised"]
    )


def test_ecod_scores_a_row_alone_exactly_as_in_a_batch() -> None:
    rng = np.random.default_rng(11)
    train = rng.lognormal(size=(3_000, 12))
    rows = np.asfortranarray(rng.lognormal(size=(400, 12)))  # column-major, as pandas hands frames over
    detector = AnomalyDetector(detector="ecod").fit(train)
    together = detector.decision_function(rows)
    alone = np.array([detector.decision_function(rows[i : i + 1])[0] for i in range(len(rows))])
    np.testing.assert_array_equal(alone, together)
    np.testing.assert_array_equal(detector.decision_function(np.ascontiguousarray(rows)), together)


def test_each_chunk_holds_at_most_chunk_rows(
    systems: dict[str, DetectionSystem], data: dict[str, pd.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stacking features, detector scores and the trees' input exist for one chunk at a time."""
    system = systems["stacked"]
    stacked_rows: list[int] = []
    predicted_rows: list[int] = []
    stack, margin = DetectionSystem.stack, SupervisedModel._margin

    def counting_stack(self: DetectionSystem, features: pd.DataFrame, hits: Any) -> pd.DataFrame:
        stacked_rows.append(len(features))
        return stack(self, features, hits)

    def counting_margin(self: SupervisedModel, frame: pd.DataFrame) -> np.ndarray:
        predicted_rows.append(len(frame))
        return margin(self, frame)

    monkeypatch.setattr(DetectionSystem, "stack", counting_stack)
    monkeypatch.setattr(SupervisedModel, "_margin", counting_margin)
    features = data["features"]
    system.score(features, data["hits"], explain=False, chunk_rows=900)

    assert stacked_rows == [900, 900, 900, 900, len(features) - 3_600]
    # the trees run once per row: the score is the calibrated log-odds, the tie-break the log-odds
    assert predicted_rows == stacked_rows


def test_chunk_size_comes_from_the_parameter_file() -> None:
    assert score_chunk_rows() >= 10_000
    assert score_chunk_rows(5) == 5
    with pytest.raises(ValueError, match="at least one row"):
        score_chunk_rows(0)


def test_score_window_reads_in_chunks_and_equals_the_one_batch_scores(
    systems: dict[str, DetectionSystem], data: dict[str, pd.DataFrame]
) -> None:
    con = warehouse(data)
    start, end = CUTOFF.to_pydatetime() - pd.Timedelta(days=90), pd.Timestamp("2025-06-01").to_pydatetime()
    features = scoring.read_features(con, start, end)
    chunks = list(scoring.read_feature_chunks(con, start, end, chunk_rows=1_000))
    assert len(features) > 2_048 + 1_000  # several chunks, the last one partial
    assert [len(c) for c in chunks[:-1]] == [2_048] * (len(chunks) - 1)  # whole DuckDB vectors
    assert (
        pd.concat(chunks, ignore_index=True)["transaction_id"].tolist() == features["transaction_id"].tolist()
    )

    for system in systems.values():
        expected = system.score(features, scoring.read_rule_hits(con, start, end), explain=False)
        windowed = scoring.score_window(con, system, start, end, chunk_rows=1_000)
        pd.testing.assert_frame_equal(windowed, expected, check_exact=True)
