"""Thresholds: operating points read off the curve, assumptions drive net value, proposals are saved."""

from __future__ import annotations

from pathlib import Path

from dashboards import i18n

from .conftest import no_exception, page, sql, store


def metrics(app) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for element in app.metric:
        found.setdefault(element.label, []).append(element.value)
    return found


def test_capacity_picks_the_point_on_each_systems_curve(dashboard_home: Path) -> None:
    app = page("app_pages/thresholds.py")
    app.number_input(key="thresholds_capacity").set_value(20)
    app.number_input(key="thresholds_review_cost").set_value(50000)
    app.number_input(key="thresholds_average_amount").set_value(200000)
    app.slider(key="thresholds_recovery").set_value(50).run()
    no_exception(app)
    curve = sql(
        dashboard_home,
        "select * from monitoring.threshold_curve where alerts_per_day <= 20 order by threshold",
    )
    shown = metrics(app)
    for position, system in enumerate(("cardwatch", "legacy")):
        point = curve[curve["system"] == system].iloc[0]
        net = point["alerts_per_day"] * (point["precision"] * 200000 * 0.5 - 50000)
        assert shown["Threshold"][position] == f"{point['threshold']:.3f}"
        assert shown["Projected alerts per day"][position] == i18n.number(point["alerts_per_day"], 1)
        assert shown["Precision"][position] == i18n.percent(point["precision"])
        assert shown["Recall"][position] == i18n.percent(point["recall"])
        assert shown["Net value per day"][position] == i18n.krw(net, "en")


def test_a_lower_capacity_means_fewer_alerts(dashboard_home: Path) -> None:
    app = page("app_pages/thresholds.py")
    app.number_input(key="thresholds_capacity").set_value(30).run()
    wide = metrics(app)["Projected alerts per day"][0]
    app.number_input(key="thresholds_capacity").set_value(10).run()
    narrow = metrics(app)["Projected alerts per day"][0]
    assert float(narrow) < float(wide) <= 30


def test_threshold_mode_compares_legacy_at_the_same_volume(dashboard_home: Path) -> None:
    app = page("app_pages/thresholds.py")
    app.radio(key="thresholds_mode").set_value("threshold").run()
    app.select_slider(key="thresholds_threshold").set_value(0.5).run()
    no_exception(app)
    shown = metrics(app)
    assert shown["Threshold"][0] == "0.500"
    assert shown["Projected alerts per day"][0] == shown["Projected alerts per day"][1] == "20.0"


def test_a_lead_saves_a_proposed_capacity_with_a_reason(dashboard_home: Path) -> None:
    app = page("app_pages/thresholds.py")
    app.number_input(key="thresholds_capacity").set_value(25).run()
    app.text_area(key="threshold_reason").input("Two more reviewers from May")
    next(button for button in app.button if button.label == "Save").click().run()
    no_exception(app)
    with store(dashboard_home) as cases:
        log = cases.threshold_changes(cases.actor("auditor.park", "auditor"))
    row = log.iloc[-1]
    assert (row["parameter"], row["new_value"], row["old_value"], row["reason"]) == (
        "policy.daily_capacity",
        25,
        40,
        "Two more reviewers from May",
    )
    assert any(header.value == "Threshold change log" for header in app.subheader)


def test_an_auditor_reads_but_cannot_propose(dashboard_home: Path) -> None:
    app = page("app_pages/thresholds.py", role="auditor")
    no_exception(app)
    assert not [button for button in app.button if button.label == "Save"]


def test_curve_not_computed_yet(bare_home: Path) -> None:
    app = page("app_pages/thresholds.py")
    no_exception(app)
    assert any("monitoring.threshold_curve" in info.value for info in app.info)
