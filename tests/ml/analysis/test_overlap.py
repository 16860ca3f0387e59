"""Jaccard matrix and greedy marginal-value ordering on a hand-built case."""

from __future__ import annotations

import pandas as pd
import pytest

from ml.analysis.overlap import greedy_marginal_order, jaccard_matrix


@pytest.fixture
def alerts() -> pd.DataFrame:
    sets = {"a": ["t1", "t2", "t3", "t4"], "b": ["t3", "t4", "t5"], "c": ["t6"], "d": ["t1", "t2"]}
    return pd.DataFrame(
        [(tx, name) for name, ids in sets.items() for tx in ids], columns=["transaction_id", "detector"]
    )


def test_jaccard(alerts: pd.DataFrame) -> None:
    matrix = jaccard_matrix(alerts)
    assert matrix.loc["a", "b"] == pytest.approx(2 / 5)
    assert matrix.loc["b", "a"] == matrix.loc["a", "b"]
    assert matrix.loc["a", "d"] == pytest.approx(2 / 4)
    assert matrix.loc["a", "c"] == 0.0
    assert (matrix.to_numpy().diagonal() == 1.0).all()


def test_greedy_order(alerts: pd.DataFrame) -> None:
    confirmed = pd.Series({"t1": 100.0, "t3": 300.0, "t5": 600.0, "t6": 50.0})
    order = greedy_marginal_order(alerts, confirmed, review_cost=10.0).set_index("detector")
    # b: 900 / 3 = 300 per alert first; then a adds t1, t2 -> 100 / 2 = 50; c adds 50 / 1 = 50 with fewer
    # alerts ... a and c tie on 50 per alert, a adds more amount; d adds nothing new -> last
    assert order["step"].to_dict() == {"b": 1, "a": 2, "c": 3, "d": 4}
    assert order.loc["b", "added_confirmed_amount"] == 900.0
    assert order.loc["a", "added_alerts"] == 2 and order.loc["a", "added_confirmed_amount"] == 100.0
    assert order.loc["d", "added_alerts"] == 0
    assert order.loc["c", "cumulative_alerts"] == 6
    assert order.loc["c", "cumulative_confirmed_amount"] == 1050.0
    assert order.loc["a", "added_net_value"] == pytest.approx(100.0 - 20.0)
