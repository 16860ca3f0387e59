"""Models and data quality: tables shown as the snapshot has them; 'not computed yet' before scoring."""

from __future__ import annotations

from pathlib import Path

from dashboards import i18n

from .conftest import metric, no_exception, page, sql


def test_models_page_shows_decisions_and_drift(dashboard_home: Path) -> None:
    app = page("app_pages/models.py")
    no_exception(app)
    frames = [frame.value for frame in app.dataframe]
    decisions = next(frame for frame in frames if "action" in frame.columns)
    assert list(decisions["action"]) == ["promote", "evaluate", "promote"]
    latest = next(frame for frame in frames if "psi" in frame.columns)
    expected = sql(
        dashboard_home,
        "select feature, psi from monitoring.feature_drift_daily qualify row_number() over (partition by feature order by day desc) = 1 order by psi desc",
    )
    assert list(latest["feature"]) == list(expected["feature"])
    assert list(latest["psi"]) == list(expected["psi"])
    scores = next(frame for frame in frames if "scored" in frame.columns)
    assert int(scores["scored"].sum()) == int(
        sql(dashboard_home, "select count(*) as n from marts.fct_scores")["n"][0]
    )
    assert not app.info


def test_models_page_before_the_models_run(bare_home: Path) -> None:
    app = page("app_pages/models.py")
    no_exception(app)
    messages = " ".join(info.value for info in app.info)
    for table in (
        "monitoring.model_decisions",
        "monitoring.precision_at_capacity",
        "monitoring.estimated_recall",
        "monitoring.feature_drift_daily",
        "marts.fct_scores",
    ):
        assert table in messages


def test_data_quality_figures_equal_the_load_log(dashboard_home: Path) -> None:
    app = page("app_pages/data_quality.py")
    no_exception(app)
    log = sql(dashboard_home, "select * from raw._load_log")
    loaded = log[log["status"].isin(["loaded", "empty"])]
    assert metric(app, "Files loaded") == i18n.number(len(loaded))
    assert metric(app, "Rows quarantined") == i18n.number(log["rows_quarantined"].sum())
    assert metric(app, "Files not reconciled") == "0"
    rejected = (log["status"] == "rejected").sum()
    inactive = sql(dashboard_home, "select count(*) as n from marts.dim_rules where not is_active")["n"][0]
    assert metric(app, "Failed checks") == i18n.number(rejected + inactive)
    checks = next(frame.value for frame in app.dataframe if "check" in frame.value.columns)
    assert set(checks["check"]) == {"file_rejected", "rule_inactive"}
    reasons = next(
        frame.value
        for frame in app.dataframe
        if "reason" in frame.value.columns and "rows" in frame.value.columns
    )
    assert dict(zip(reasons["reason"], reasons["rows"], strict=True)) == {
        "amount is not a number": 3,
        "transacted_at missing": 2,
    }

    app.selectbox(key="dq_source").set_value("employees").run()
    assert any("Nothing to show" in caption.value for caption in app.caption)
