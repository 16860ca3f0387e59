"""Rules: scorecard from the catalog, suppressions and their proposals, draft rules."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from dashboards import data, i18n
from ml.analysis.rule_backtest import RuleBacktest, backtest_rule

from .conftest import metric, no_exception, page, sql, store


def test_scorecard_equals_the_rule_catalog(dashboard_home: Path) -> None:
    app = page("app_pages/rules.py")
    no_exception(app)
    rules = sql(dashboard_home, "select * from marts.dim_rules")
    assert metric(app, "Hits") == i18n.number(rules["hit_count"].sum())
    assert metric(app, "Confirmed misuse") == i18n.number(rules["confirmed_hit_count"].sum())
    assert metric(app, "Alerting rules") == i18n.number((rules["rule_status"] == "active").sum())
    scorecard = app.dataframe[0].value
    assert sorted(scorecard["rule_id"]) == sorted(rules["rule_id"])

    app.selectbox(key="rules_set").set_value("legacy").run()
    legacy = rules[rules["rule_set"] == "legacy"]
    assert metric(app, "Hits") == i18n.number(legacy["hit_count"].sum())


def test_suppressions_and_draft_backtest_are_listed(dashboard_home: Path) -> None:
    app = page("app_pages/rules.py")
    frames = [frame.value for frame in app.dataframe]
    suppressions = next(frame for frame in frames if "suppression_id" in frame.columns)
    assert list(suppressions["suppression_id"]) == ["SUP-0001", "SUP-0002"]
    assert list(suppressions["is_expired"]) == [False, True]
    backtest = next(frame for frame in frames if "new_confirmed" in frame.columns)
    hits = sql(
        dashboard_home,
        "select count(distinct transaction_id) as n from marts.fct_rule_hits where rule_id = 'round_amount'",
    )
    assert backtest.set_index("rule_id").loc["round_amount", "hits"] == hits["n"][0]


def test_a_lead_proposes_a_suppression_into_the_change_log(dashboard_home: Path) -> None:
    app = page("app_pages/rules.py")
    next(widget for widget in app.text_input if widget.label == "Employee id (optional)").input("E007")
    reason = next(widget for widget in app.text_input if widget.label == "Reason")
    reason.input("Client dinners approved by sales director")
    next(button for button in app.button if button.label == "Save").click().run()
    no_exception(app)
    assert any("Suppression proposal" in message.value for message in app.success)
    with store(dashboard_home) as cases:
        log = cases.threshold_changes(cases.actor("auditor.park", "auditor"))
    row = log.iloc[-1]
    assert row["parameter"] == "suppression:late_night"
    assert row["new_value"]["employee_id"] == "E007"
    assert row["actor"] == "lead.lee" and row["status"] == "proposed"


def test_a_reviewer_cannot_propose_suppressions(dashboard_home: Path) -> None:
    app = page("app_pages/rules.py", role="reviewer")
    no_exception(app)
    assert not [widget for widget in app.text_input if widget.label == "Reason"]
    allowlist = next(frame.value for frame in app.dataframe if "suppression_id" in frame.value.columns)
    assert allowlist["employee_id"].iloc[0].startswith("EMP-") and allowlist["employee_id"].iloc[0] != "E004"


def test_the_selected_draft_rule_is_backtested(dashboard_home: Path) -> None:
    app = page("app_pages/rules.py")
    no_exception(app)
    assert app.selectbox(key="rules_backtest_rule_en").value == "round_amount"
    # Added alerts: the draft's unsuppressed hits that no alerting rule raises; precision on decided cases only.
    added = sql(
        dashboard_home,
        """
        with added as (
            select distinct transaction_id from marts.fct_rule_hits
            where rule_id = 'round_amount' and not is_suppressed
                and transaction_id not in (
                    select transaction_id from marts.fct_rule_hits where is_alert_candidate
                )
        )
        select
            count(*) as alerts,
            count(*) filter (where transaction_id in (
                select transaction_id from staging.stg_casework__case_outcomes where is_decided
            )) as reviewed,
            count(*) filter (where transaction_id in (
                select transaction_id from staging.stg_casework__case_outcomes
                where is_decided and decision in ('confirmed', 'partial')
            )) as confirmed
        from added
        """,
    ).iloc[0]
    assert metric(app, "Added alerts") == i18n.number(added["alerts"])
    assert metric(app, "Precision of added alerts") == i18n.percent(added["confirmed"] / added["reviewed"])
    frames = [frame.value for frame in app.dataframe]
    precision = next(frame for frame in frames if "unrepresented" in frame.columns)
    assert list(precision["subset"]) == ["All hits", "Added alerts", "Already alerted"]
    assert precision["hits"].iloc[1] == added["alerts"]
    overlap = next(frame for frame in frames if "jaccard" in frame.columns)
    sharing = sql(
        dashboard_home,
        """
        select distinct others.rule_id
        from marts.fct_rule_hits as mine
        join marts.fct_rule_hits as others on others.transaction_id = mine.transaction_id
        where mine.rule_id = 'round_amount' and not mine.is_suppressed
            and others.is_alert_candidate and others.rule_id <> 'round_amount'
        """,
    )
    assert sorted(overlap["rule_id"]) == sorted(sharing["rule_id"])
    # round_amount reads the leave source, which the snapshot lacks: the page says it cannot fire.
    assert any("leave" in warning.value for warning in app.warning)

    korean = page("app_pages/rules.py", lang="ko")
    no_exception(korean)
    assert metric(korean, "추가 경보") == i18n.number(added["alerts"])


def _live_backtest(home: Path, rule_id: str, capacity: float) -> RuleBacktest:
    connection = duckdb.connect(str(home / "published" / "snapshot.duckdb"), read_only=True)
    try:
        return backtest_rule(connection, rule_id, capacity=capacity)
    finally:
        connection.close()


def test_a_stored_backtest_reads_back_as_the_live_one(dashboard_home: Path) -> None:
    live = _live_backtest(dashboard_home, "round_amount", 40.0)
    stored = data.backtest_from_dict(json.loads(json.dumps(live.to_dict())))
    assert vars(stored).keys() == vars(live).keys()
    pd.testing.assert_frame_equal(stored.precision, live.precision)
    pd.testing.assert_frame_equal(stored.overlap, live.overlap)
    assert (stored.start, stored.end, stored.days, stored.added_alerts) == (
        live.start,
        live.end,
        live.days,
        live.added_alerts,
    )
    assert stored.load.keys() == live.load.keys()
    # a rule sharing no alert with any other: the page still finds the overlap's columns
    alone = data.backtest_from_dict({**live.to_dict(), "overlap": []})
    assert alone.overlap.empty and list(alone.overlap.columns) == list(live.overlap.columns)


def test_the_page_shows_the_stored_backtest_at_its_capacity_only(dashboard_home: Path) -> None:
    capacity = data.configured_capacity()
    live = _live_backtest(dashboard_home, "round_amount", capacity)
    # a stored result that differs from the live one, to see which the page shows
    document = {**live.to_dict(), "added_alerts": live.added_alerts + 1000}
    connection = duckdb.connect(str(dashboard_home / "published" / "snapshot.duckdb"))
    try:
        connection.execute(
            f"create table {data.RULE_BACKTESTS} (rule_id varchar, capacity double, backtest varchar)"
        )
        connection.execute(
            f"insert into {data.RULE_BACKTESTS} values ('round_amount', ?, ?)",
            [capacity, json.dumps(document)],
        )
    finally:
        connection.close()
    app = page("app_pages/rules.py")
    no_exception(app)
    assert metric(app, "Added alerts") == i18n.number(live.added_alerts + 1000)

    st.cache_data.clear()
    st.cache_resource.clear()  # closes the dashboard's read-only attachment of the file
    connection = duckdb.connect(str(dashboard_home / "published" / "snapshot.duckdb"))
    try:
        connection.execute(f"update {data.RULE_BACKTESTS} set capacity = ?", [capacity + 1])
    finally:
        connection.close()
    app = page("app_pages/rules.py")
    no_exception(app)
    assert metric(app, "Added alerts") == i18n.number(live.added_alerts)
