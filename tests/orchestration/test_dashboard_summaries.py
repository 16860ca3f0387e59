"""The dashboard's summaries after a daily run on a small simulated company.

They are built in the run that wrote the alerts they sum, and every figure the overview and rules pages
show from them equals the one aggregated on the fly from the whole snapshot (a copy of the snapshot with the
summaries dropped, as one published before they existed), for every filter.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import pandas as pd
import pytest
import streamlit as st

from dashboards import data, i18n
from ml.analysis.rule_backtest import RuleBacktest, backtest_rule
from orchestration.runner import run_days
from orchestration.settings import Paths
from tests.dashboards.conftest import metric, no_exception, page

pytestmark = pytest.mark.slow

DAY = date(2025, 2, 20)

SUMMARIES = (
    data.ALERT_OUTCOMES,
    data.RULE_ALERT_OUTCOMES,
    data.CARDWATCH_ALERT_OUTCOMES,
    data.CARDWATCH_RULE_ALERT_OUTCOMES,
    data.RULE_OVERLAP,
    data.TRIAL_RULES,
    data.RULE_BACKTESTS,
)
# Department and rule pairs checked together (every department and every rule is checked alone).
COMBINED_FILTERS = 4


def _copy_without(snapshot: Path, copy: Path, tables: tuple[str, ...]) -> Path:
    shutil.copyfile(snapshot, copy)
    con = duckdb.connect(str(copy))
    try:
        for table in tables:
            con.execute(f"DROP TABLE IF EXISTS {table}")
    finally:
        con.close()
    return copy


@pytest.fixture(scope="module")
def company(landed_company: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """CARDWATCH_HOME after one daily run for DAY (ingest, dbt, detection, case handoff, monitoring,
    publish), and copies of its snapshot: without the summaries, and as before Cardwatch scored (no
    fct_alerts) with and without the dbt summaries."""
    home = tmp_path_factory.mktemp("summaries") / "cardwatch"
    shutil.copytree(landed_company / "landing", home / "landing")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CARDWATCH_HOME", str(home))
        patch.delenv("CARDWATCH_WAREHOUSE", raising=False)
        patch.delenv("CARDWATCH_CASE_STORE_URL", raising=False)
        paths = Paths.from_env()
        outcome = run_days(paths, DAY)
    assert outcome.success, outcome.failed_steps
    copies = home / "copies"
    copies.mkdir()
    unscored = (data.ALERTS, data.CARDWATCH_ALERT_OUTCOMES, data.CARDWATCH_RULE_ALERT_OUTCOMES)
    return {
        "home": home,
        "summarised": paths.snapshot,
        "on_the_fly": _copy_without(paths.snapshot, copies / "on_the_fly.duckdb", SUMMARIES),
        "unscored_summarised": _copy_without(paths.snapshot, copies / "unscored.duckdb", unscored),
        "unscored_on_the_fly": _copy_without(
            paths.snapshot, copies / "unscored_on_the_fly.duckdb", (*unscored, *SUMMARIES)
        ),
    }


@pytest.fixture
def snapshots(company: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("CARDWATCH_HOME", str(company["home"]))
    monkeypatch.delenv("CARDWATCH_CASE_STORE_URL", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    found = {}
    for name, path in company.items():
        if name != "home":
            stat = path.stat()
            found[name] = data.Snapshot(str(path), stat.st_mtime_ns, stat.st_ino)
    yield found
    st.cache_data.clear()
    st.cache_resource.clear()


def _filters(snapshot: data.Snapshot) -> list[tuple[str | None, str | None]]:
    departments = data.departments(snapshot)
    rules = data.rule_names(snapshot)["rule_id"].tolist()
    alone = [(None, None), *((name, None) for name in departments), *((None, rule) for rule in rules)]
    return alone + list(zip(departments[:COMBINED_FILTERS], rules[:COMBINED_FILTERS], strict=False))


def _overview(snapshot: data.Snapshot, systems: tuple[str, ...]) -> dict[tuple, Any]:
    """Every overview figure for every system and filter, over the whole period and its last ten days."""
    first, last = data.alert_period(snapshot)
    figures: dict[tuple, Any] = {("period",): (first, last)}
    for system in systems:
        for start in (first, last - timedelta(days=9)):
            for department, rule_id in _filters(snapshot):
                key = (system, start, department, rule_id)
                filters = (system, start, last, department, rule_id)
                figures[("totals", *key)] = data.overview_totals(snapshot, *filters)
                figures[("per_day", *key)] = data.alerts_per_day(snapshot, *filters)
                figures[("months", *key)] = data.monthly_outcomes(snapshot, *filters)
                figures[("missed", *key)] = data.estimated_missed(snapshot, *filters)
    return figures


def _assert_same(left: dict[tuple, Any], right: dict[tuple, Any]) -> None:
    assert left.keys() == right.keys()
    for key, value in left.items():
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(value, right[key], obj=str(key))
        else:
            assert value == right[key] or _both_nan(value, right[key]), key


def _both_nan(left: Any, right: Any) -> bool:
    if isinstance(left, dict) and isinstance(right, dict) and left.keys() == right.keys():
        return all(left[key] == right[key] or _both_nan(left[key], right[key]) for key in left)
    return isinstance(left, float) and isinstance(right, float) and math.isnan(left) and math.isnan(right)


def test_the_run_summarised_the_alerts_it_raised(snapshots: dict[str, Any], company: dict[str, Path]) -> None:
    snapshot = snapshots["summarised"]
    assert all(data.has(snapshot, table) for table in SUMMARIES)
    con = duckdb.connect(str(company["summarised"]), read_only=True)
    try:
        raised = con.execute(
            "SELECT alert_date, count(DISTINCT transaction_id) FROM marts.fct_alerts GROUP BY 1"
        ).fetchall()
        summed = con.execute(
            "SELECT alert_date, sum(alert_count)::BIGINT FROM monitoring.alert_outcomes_daily GROUP BY 1"
        ).fetchall()
        trials = con.execute(
            "SELECT count(*) FROM marts.dim_rules WHERE rule_status IN ('draft', 'shadow')"
        ).fetchall()
        stored = con.execute("SELECT count(*) FROM monitoring.rule_backtests").fetchall()
    finally:
        con.close()
    # this run's alerts (the only day scored) are summed in the snapshot the same run published
    assert [day for day, _ in raised] == [DAY] and raised[0][1] > 0
    assert summed == raised
    assert stored == trials and trials[0][0] > 0


def test_overview_figures_equal_the_on_the_fly_aggregates(snapshots: dict[str, Any]) -> None:
    summarised = _overview(snapshots["summarised"], data.SYSTEMS)
    on_the_fly = _overview(snapshots["on_the_fly"], data.SYSTEMS)
    _assert_same(summarised, on_the_fly)

    # before Cardwatch has scored, the rule candidates stand in for its alerts, summed by dbt
    assert data.uses_candidates(snapshots["unscored_summarised"], "cardwatch")
    _assert_same(
        _overview(snapshots["unscored_summarised"], ("cardwatch",)),
        _overview(snapshots["unscored_on_the_fly"], ("cardwatch",)),
    )


def test_filters_still_change_the_figures(snapshots: dict[str, Any]) -> None:
    snapshot = snapshots["summarised"]
    first, last = data.alert_period(snapshot)

    def alerts(
        system: str, start: Any = first, department: str | None = None, rule: str | None = None
    ) -> float:
        return data.overview_totals(snapshot, system, start, last, department, rule)["alerts"]

    legacy = alerts("legacy")
    assert legacy > 0 and alerts("cardwatch") > 0 and legacy != alerts("cardwatch")
    assert 0 < alerts("legacy", start=last - timedelta(days=9)) < legacy
    by_department = [alerts("legacy", department=name) for name in data.departments(snapshot)]
    assert sum(by_department) <= legacy and 0 < max(by_department) < legacy
    by_rule = [alerts("legacy", rule=rule) for rule in data.rule_names(snapshot)["rule_id"]]
    assert 0 < max(by_rule) < legacy and min(by_rule) < max(by_rule)


def test_rules_page_tables_equal_the_on_the_fly_aggregates(snapshots: dict[str, Any]) -> None:
    for rule_set in (None, "cardwatch", "legacy"):
        overlap = data.rule_overlap(snapshots["summarised"], rule_set)
        assert not overlap.empty
        pd.testing.assert_frame_equal(overlap, data.rule_overlap(snapshots["on_the_fly"], rule_set))
    trials = data.draft_rule_backtest(snapshots["summarised"])
    assert not trials.empty
    pd.testing.assert_frame_equal(trials, data.draft_rule_backtest(snapshots["on_the_fly"]))


def test_stored_backtests_equal_the_live_ones(snapshots: dict[str, Any], company: dict[str, Path]) -> None:
    snapshot = snapshots["summarised"]
    capacity = data.configured_capacity()
    rules = data.draft_rule_backtest(snapshot)["rule_id"].tolist()
    con = duckdb.connect(str(company["summarised"]), read_only=True)
    try:
        for rule_id in rules:
            stored = data.rule_backtest(snapshot, rule_id, capacity)
            live = backtest_rule(con, rule_id, capacity=capacity)
            assert isinstance(stored, SimpleNamespace), "the page reads the stored backtest"
            assert vars(stored).keys() == vars(live).keys()
            for name, value in vars(live).items():
                if isinstance(value, pd.DataFrame):
                    # the page never shows `daily`; its day index comes back at another resolution
                    daily = name == "daily"
                    pd.testing.assert_frame_equal(
                        getattr(stored, name),
                        value,
                        check_index_type=not daily,
                        check_freq=not daily,
                        obj=name,
                    )
                else:
                    assert getattr(stored, name) == value or _both_nan(getattr(stored, name), value), name
        # another capacity than the one stored: the page runs the backtest itself
        other = data.rule_backtest(snapshot, rules[0], capacity + 1)
        assert isinstance(other, RuleBacktest) and other.capacity == capacity + 1
    finally:
        con.close()


def test_pages_read_the_summaries_and_their_filters_move_the_figures(snapshots: dict[str, Any]) -> None:
    on_the_fly = snapshots["on_the_fly"]
    first, last = data.alert_period(on_the_fly)
    department = data.departments(on_the_fly)[0]
    rule = data.rule_names(on_the_fly)["rule_id"].iloc[0]

    def expected(system: str, department: str | None = None, rule: str | None = None) -> str:
        return i18n.number(data.overview_totals(on_the_fly, system, first, last, department, rule)["alerts"])

    app = page("app_pages/overview.py")
    no_exception(app)
    assert metric(app, "Alerts") == expected("cardwatch")
    app.selectbox(key="overview_system").set_value("legacy").run()
    assert metric(app, "Alerts") == expected("legacy") != expected("cardwatch")
    app.selectbox(key="overview_department").set_value(department).run()
    assert metric(app, "Alerts") == expected("legacy", department) != expected("legacy")
    app.selectbox(key="overview_department").set_value("")
    app.selectbox(key="overview_rule").set_value(rule).run()
    no_exception(app)
    assert metric(app, "Alerts") == expected("legacy", rule=rule)

    rules = page("app_pages/rules.py")
    no_exception(rules)
    chosen = rules.selectbox(key="rules_backtest_rule_en").value
    live = data.rule_backtest(on_the_fly, chosen, data.configured_capacity())
    assert isinstance(live, RuleBacktest)
    assert metric(rules, "Added alerts") == i18n.number(live.added_alerts)
    assert metric(rules, "Precision of added alerts") == i18n.percent(
        live.precision.loc["added", "precision"]
    )
