"""Cases: the queue from the case store, one case in context, and every action through the store."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import streamlit as st

from dashboards import i18n

from .conftest import metric, no_exception, page, sql, store


def open_case_id(app) -> str:
    return app.selectbox(key="cases_open").value


def test_queue_equals_the_case_store(dashboard_home: Path) -> None:
    app = page("app_pages/cases.py")
    no_exception(app)
    with store(dashboard_home) as cases:
        queue = cases.list_cases(
            cases.actor("lead.lee", "lead"),
            status=["new", "assigned", "explanation_requested", "explanation_received"],
        )
    assert metric(app, "Cases shown") == i18n.number(len(queue))
    assert metric(app, "Amount in queue") == i18n.krw(queue["amount"].abs().sum(), "en")
    shown = app.dataframe[0].value
    assert list(shown["case_id"]) == list(
        queue.sort_values(["score", "case_id"], ascending=[False, True])["case_id"]
    )

    app.selectbox(key="cases_sort").set_value("amount").run()
    assert app.dataframe[0].value["amount"].iloc[0] == queue["amount"].max()

    app.radio(key="cases_assignee").set_value("none").run()
    assert metric(app, "Cases shown") == i18n.number(queue["assignee"].isna().sum())


def test_reviewers_see_pseudonyms_and_only_their_cases_when_asked(dashboard_home: Path) -> None:
    app = page("app_pages/cases.py", role="reviewer")
    no_exception(app)
    assert app.dataframe[0].value["employee_id"].str.startswith("EMP-").all()
    app.radio(key="cases_assignee").set_value("mine").run()
    assert metric(app, "Cases shown") == "1"
    assert any("pseudonymised" in caption.value for caption in app.caption)


def test_the_case_shows_transaction_rules_and_model_reasons(dashboard_home: Path) -> None:
    app = page("app_pages/cases.py")
    with store(dashboard_home) as cases:
        current = cases.get_case(cases.actor("lead.lee", "lead"), open_case_id(app))
    fired = sql(
        dashboard_home,
        "select rule_id from marts.fct_rule_hits where transaction_id = ?",
        [current.transaction_id],
    )
    rules = next(frame.value for frame in app.dataframe if "severity" in frame.value.columns)
    assert sorted(rules["rule_id"]) == sorted(fired["rule_id"])
    amount = sql(
        dashboard_home,
        "select amount from staging.stg_issuer__card_transactions where transaction_id = ?",
        [current.transaction_id],
    )["amount"][0]
    assert metric(app, "Amount") == i18n.krw(amount, "en")
    text = " ".join(block.value for block in app.markdown)
    assert "Late-night use (23:40)" in text and "Amount far above peers" in text
    assert text.index("Late-night use") < text.index("Amount far above peers")  # strongest first
    spending = next(frame.value for frame in app.dataframe if "total_amount" in frame.value.columns)
    assert spending["transactions"].sum() >= 1


def test_a_case_goes_from_assignment_to_decision(dashboard_home: Path) -> None:
    app = page("app_pages/cases.py", role="reviewer")
    app.radio(key="cases_assignee").set_value("none").run()
    case_id = open_case_id(app)
    next(button for button in app.button if button.label == "Assign").click().run()
    no_exception(app)
    assert any("assigned" in message.value.lower() for message in app.success)

    app.radio(key="cases_assignee").set_value("mine").run()
    app.selectbox(key="cases_open").set_value(case_id).run()
    message = next(area for area in app.text_area if area.label == "Message")
    assert "소명 요청" in message.value
    next(button for button in app.button if button.label == "Request explanation (소명 요청)").click().run()
    no_exception(app)

    next(area for area in app.text_area if area.label == "Explanation").input(
        "Dinner with client from 한빛상사"
    )
    next(button for button in app.button if button.label == "Record explanation (소명 접수)").click().run()
    no_exception(app)

    with store(dashboard_home) as cases:
        amount = cases.get_case(cases.actor("lead.lee", "lead"), case_id).amount
    decision = next(radio for radio in app.radio if radio.label == "Decision")
    decision.set_value("partial")
    next(widget for widget in app.number_input if widget.label == "Recovered amount (KRW)").set_value(
        int(amount) // 2
    )
    next(widget for widget in app.text_input if widget.label == "Note").input("half was personal")
    next(button for button in app.button if button.label == "Decide").click().run()
    no_exception(app)

    with store(dashboard_home) as cases:
        lead = cases.actor("lead.lee", "lead")
        decided = cases.get_case(lead, case_id)
        actions = list(cases.history(lead, case_id)["action"])
    assert (decided.status, decided.decision, decided.recovered_amount) == (
        "decided",
        "partial",
        float(int(amount) // 2),
    )
    assert actions == ["open", "assign", "request_explanation", "record_explanation", "decide"]


def test_a_concurrent_change_is_shown_not_raised(dashboard_home: Path) -> None:
    app = page("app_pages/cases.py")
    case_id = open_case_id(app)
    with store(dashboard_home) as cases:
        cases.comment(cases.actor("lead.kang", "lead"), case_id, "looking at this one")
    next(button for button in app.button if button.label == "Assign").click().run()
    no_exception(app)
    assert any(
        "Someone else changed this case" in error.value and "lead.kang" in error.value for error in app.error
    )


def test_an_auditor_has_no_actions(dashboard_home: Path) -> None:
    app = page("app_pages/cases.py", role="auditor")
    no_exception(app)
    assert not [button for button in app.button if button.label in ("Assign", "Decide")]
    assert any("No actions available" in caption.value for caption in app.caption)


def test_a_case_raised_when_its_claim_arrived_shows_that_alerts_score_and_why(dashboard_home: Path) -> None:
    """The score of record is of the payment's day; the case shows the score its claim's arrival gave."""
    app = page("app_pages/cases.py")
    with store(dashboard_home) as cases:
        current = cases.get_case(cases.actor("lead.lee", "lead"), open_case_id(app))
    reasons = [
        {"source": "rule", "key": "per_person_cap", "text_en": "62,000 KRW a head over the cap", "contribution": 3.0},
        {"source": "model", "key": "attendee_count", "text_en": "Few attendees for the amount", "contribution": 1.2},
        {"source": "claim", "key": "claim_submitted", "value": "2025-04-20", "contribution": 0.0,
         "text_en": "expense claim submitted on 2025-04-20, 9 days after the payment: scored again with it",
         "text_ko": "결제 9일 후 2025-04-20에 경비 청구가 제출되어 청구 내용으로 다시 평가"},
    ]  # fmt: skip
    st.cache_resource.clear()  # the pages' connection to the snapshot, so it can be written here
    connection = duckdb.connect(str(dashboard_home / "published" / "snapshot.duckdb"))
    try:
        connection.execute(
            "UPDATE marts.fct_alerts SET score = 0.987, reasons = ? WHERE transaction_id = ?",
            [json.dumps(reasons), current.transaction_id],
        )
    finally:
        connection.close()
    st.cache_data.clear()
    app = page("app_pages/cases.py")
    assert open_case_id(app) == current.case_id
    text = " ".join(block.value for block in app.markdown)
    assert "expense claim submitted on 2025-04-20" in text
    assert text.index("expense claim submitted") < text.index("Few attendees for the amount")
    assert "Amount far above peers" not in text, "the reasons are the claim day's, not the payment day's"
    assert any("0.987" in caption.value for caption in app.caption)
