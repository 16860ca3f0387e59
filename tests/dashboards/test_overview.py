"""Overview: the figures equal the snapshot's, and every filter moves them."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from dashboards import i18n

from .conftest import metric, no_exception, page, sql

ALERTS = """
    with alerts as (
        select transaction_id, min(alert_date) as alert_date from marts.fct_alerts group by 1
    ),
    outcomes as (
        select transaction_id, bool_or(is_decided) as reviewed, bool_or(is_decided and is_confirmed_misuse) as confirmed,
               max(coalesce(recovered_amount, 0)) as recovered
        from staging.stg_casework__case_outcomes group by 1
    )
    select alerts.transaction_id, alerts.alert_date, abs(transactions.amount) as amount, employees.department,
           coalesce(outcomes.reviewed, false) as reviewed, coalesce(outcomes.confirmed, false) as confirmed,
           coalesce(outcomes.recovered, 0) as recovered
    from alerts
    join staging.stg_issuer__card_transactions as transactions using (transaction_id)
    join staging.stg_hr__employees as employees using (employee_id)
    left join outcomes using (transaction_id)
"""


def default_period(home: Path) -> tuple[date, date]:
    frame = sql(
        home,
        "select min(day) as first, max(day) as last from (select alert_date as day from marts.fct_alerts "
        "union all select cast(alerted_at as date) from staging.stg_casework__legacy_alerts)",
    )
    return pd.Timestamp(frame["first"][0]).date(), pd.Timestamp(frame["last"][0]).date()


def test_overview_figures_equal_the_snapshot(dashboard_home: Path) -> None:
    app = page("app_pages/overview.py")
    no_exception(app)
    alerts = sql(dashboard_home, ALERTS)
    first, last = default_period(dashboard_home)
    days = (last - first).days + 1
    confirmed = alerts[alerts["confirmed"]]
    assert metric(app, "Alerts") == i18n.number(len(alerts))
    assert metric(app, "Alerts per day") == i18n.number(len(alerts) / days, 1)
    assert metric(app, "Hit rate") == i18n.percent(len(confirmed) / alerts["reviewed"].sum())
    assert metric(app, "Confirmed amount") == i18n.krw(confirmed["amount"].sum(), "en")
    assert metric(app, "Recovered amount") == i18n.krw(confirmed["recovered"].sum(), "en")
    assert metric(app, "Open cases (backlog)") == "12"

    capacity = sql(dashboard_home, "select day, capacity from monitoring.alert_volume_daily")
    per_day = alerts.groupby(pd.to_datetime(alerts["alert_date"])).size()
    over = sum(
        int(per_day.get(pd.Timestamp(day), 0) > cap)
        for day, cap in capacity.itertuples(index=False)
        if first <= pd.Timestamp(day).date() <= last
    )
    assert metric(app, "Days over capacity") == i18n.number(over)

    recall = sql(
        dashboard_home, "select month, estimate from monitoring.estimated_recall where system = 'cardwatch'"
    )
    by_month = confirmed.groupby(pd.to_datetime(confirmed["alert_date"]).dt.to_period("M")).size()
    missed = sum(
        by_month.get(pd.Timestamp(month).to_period("M"), 0) * (1 / estimate - 1)
        for month, estimate in recall.itertuples(index=False)
    )
    assert metric(app, "Estimated missed misuse") == i18n.number(missed)


def test_period_filter_changes_the_alert_count(dashboard_home: Path) -> None:
    app = page("app_pages/overview.py")
    first = date(2025, 3, 1)
    last = first + timedelta(days=9)
    app.date_input(key="overview_period").set_value((first, last)).run()
    no_exception(app)
    alerts = sql(dashboard_home, ALERTS)
    inside = alerts[
        (pd.to_datetime(alerts["alert_date"]) >= pd.Timestamp(first))
        & (pd.to_datetime(alerts["alert_date"]) <= pd.Timestamp(last))
    ]
    assert 0 < len(inside) < len(alerts)
    assert metric(app, "Alerts") == i18n.number(len(inside))
    assert metric(app, "Alerts per day") == i18n.number(len(inside) / 10, 1)


def test_system_department_and_rule_filters(dashboard_home: Path) -> None:
    app = page("app_pages/overview.py")
    app.selectbox(key="overview_system").set_value("legacy").run()
    no_exception(app)
    legacy = sql(
        dashboard_home, "select count(distinct transaction_id) as n from staging.stg_casework__legacy_alerts"
    )
    assert metric(app, "Alerts") == i18n.number(legacy["n"][0])

    app.selectbox(key="overview_system").set_value("cardwatch")
    app.selectbox(key="overview_department").set_value("재무팀").run()
    alerts = sql(dashboard_home, ALERTS)
    assert metric(app, "Alerts") == i18n.number((alerts["department"] == "재무팀").sum())

    app.selectbox(key="overview_department").set_value("")
    app.selectbox(key="overview_rule").set_value("restricted_merchant").run()
    hit = sql(
        dashboard_home,
        "select distinct transaction_id from marts.fct_rule_hits where rule_id = 'restricted_merchant'",
    )
    assert metric(app, "Alerts") == i18n.number(alerts["transaction_id"].isin(hit["transaction_id"]).sum())


def test_korean_labels_and_won_amounts(dashboard_home: Path) -> None:
    app = page("app_pages/overview.py", lang="ko")
    no_exception(app)
    alerts = sql(dashboard_home, ALERTS)
    confirmed = alerts[alerts["confirmed"]]
    value = metric(app, "확정 금액")
    assert value == i18n.krw(confirmed["amount"].sum(), "ko")
    assert value.endswith("원") and "," in value


def test_rule_candidates_stand_in_until_alerts_are_computed(bare_home: Path) -> None:
    app = page("app_pages/overview.py")
    no_exception(app)
    candidates = sql(bare_home, "select count(distinct transaction_id) as n from marts.fct_alert_candidates")
    assert metric(app, "Alerts") == i18n.number(candidates["n"][0])
    assert any("not computed yet" in caption.value for caption in app.caption)
    assert any("monitoring.estimated_recall" in info.value for info in app.info)


def test_recall_table_without_this_systems_months_says_why(dashboard_home: Path) -> None:
    import duckdb

    snapshot = dashboard_home / "published" / "snapshot.duckdb"
    con = duckdb.connect(str(snapshot))
    con.execute("delete from monitoring.estimated_recall where system = 'cardwatch'")
    con.close()
    app = page("app_pages/overview.py")
    no_exception(app)
    infos = [info.value for info in app.info]
    assert i18n.label("no_recall_estimate", "en") in infos
    assert not any("monitoring.estimated_recall" in value for value in infos)
