"""Cases: the review queue, and one case with its transaction, the cardholder's context, the rules and
model reasons behind the alert, its history, and the actions the role allows."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from dashboards import data, i18n, ui
from dashboards.ui import t
from orchestration.cases import EXPLANATION_CATEGORIES, STATUSES, Case, CaseError, ConcurrentUpdateError

OPEN_STATUSES = ("new", "assigned", "explanation_requested", "explanation_received")

st.title(t("page_cases"))
who = ui.current_actor()
if who is None:
    st.stop()
if not ui.can("view_queue"):
    st.warning(t("not_allowed", role=ui.named(i18n.ROLE_LABELS, ui.role()), what=t("queue")))
    st.stop()

flash = st.session_state.pop("cases_flash", None)
if flash:
    st.success(flash)

# -- the queue ----------------------------------------------------------------------------------------

st.subheader(t("queue"))
filters = st.columns([4, 2, 2, 1, 1])
statuses = filters[0].multiselect(
    t("status"),
    STATUSES,
    default=list(OPEN_STATUSES),
    format_func=ui.choices({name: ui.named(i18n.STATUS_LABELS, name) for name in STATUSES}),
    key="cases_status",
)
assigned = filters[1].radio(
    t("assignee"),
    ["all", "mine", "none"],
    format_func=ui.choices({"all": t("all"), "mine": t("assigned_mine"), "none": t("assigned_none")}),
    horizontal=True,
    key="cases_assignee",
)
dates = filters[2].date_input(t("alert_date"), value=(), key="cases_dates")
min_score = filters[3].number_input(t("min_score"), min_value=0.0, value=0.0, step=0.1, key="cases_min_score")
sort = filters[4].selectbox(
    t("sort_by"),
    ["score", "amount", "age"],
    format_func=ui.choices({name: t(f"sort_{name}") for name in ("score", "amount", "age")}),
    key="cases_sort",
)

queue, queue_total, queue_amount = data.case_queue(
    who,
    statuses=tuple(statuses),
    assignee=who.name if assigned == "mine" else None,
    unassigned=assigned == "none",
    date_from=dates[0] if len(dates) == 2 else None,
    date_to=dates[1] if len(dates) == 2 else None,
    min_score=min_score or None,
    sort=sort,
    limit=data.QUEUE_ROWS,
)
totals = st.columns(2)
totals[0].metric(t("cases_shown"), i18n.number(queue_total))
totals[1].metric(t("queue_amount"), ui.krw(queue_amount))
if queue_total > len(queue):
    st.caption(t("queue_listed", listed=i18n.number(len(queue)), total=i18n.number(queue_total)))
if queue.empty:
    st.info(t("no_cases"))
    st.stop()

shown = queue.assign(
    status_label=queue["status"].map(lambda name: ui.named(i18n.STATUS_LABELS, name)),
    alerted_by=queue["alerted_by"].map(lambda reasons: ", ".join(reasons)),
    age_days=queue["age_days"].round(1),
)
ui.table(
    shown,
    [
        "case_id",
        "alert_date",
        "amount",
        "score",
        "status_label",
        "assignee",
        "alerted_by",
        "employee_id",
        "age_days",
        "escalated",
    ],
    money=("amount",),
    key="cases_queue",
    height=300,
)

# -- one case -----------------------------------------------------------------------------------------

case_ids = queue["case_id"].tolist()
wanted = st.query_params.get("case")
if wanted and wanted in case_ids and st.session_state.get("cases_open") not in case_ids:
    st.session_state["cases_open"] = wanted
labels = {
    row.case_id: f"{row.case_id} · {ui.krw(row.amount)} · {ui.named(i18n.STATUS_LABELS, row.status)}"
    for row in queue.itertuples()
}
case_id = st.selectbox(t("open_case"), case_ids, format_func=labels.get, key="cases_open")
st.query_params["case"] = case_id
current: Case = data.case(who, case_id)
snapshot = data.current_snapshot()

st.header(f"{t('case')} {current.case_id} · {ui.named(i18n.STATUS_LABELS, current.status)}")
facts, holder = st.columns(2)
with facts:
    st.subheader(t("transaction"))
    found = data.transaction(snapshot, current.transaction_id) if snapshot else None
    details = found or {**current.details, "amount": current.amount}
    st.metric(t("amount"), ui.krw(details.get("amount")))
    when = details.get("transacted_at")
    when_text = (
        f"{pd.Timestamp(when):%Y-%m-%d %H:%M}"
        if when is not None and not pd.isna(when)
        else str(current.alert_date)
    )
    st.markdown(
        f"- {t('transaction')}: `{current.transaction_id}`\n"
        f"- {t('when')}: {when_text}\n"
        f"- {t('merchant')}: {details.get('merchant_name') or '-'} "
        f"({details.get('merchant_category') or '-'}, {details.get('merchant_region') or '-'})\n"
        f"- {t('score')}: {'-' if current.score is None else f'{current.score:.4f}'}\n"
        f"- {t('assignee')}: {current.assignee or '-'}"
    )
with holder:
    st.subheader(t("employee_context"))
    if current.identity_masked:
        st.caption(t("pseudonymised", employee=current.employee_id))
    else:
        st.caption(f"{i18n.column('employee_id', ui.lang())}: {current.employee_id}")
    profile = data.cardholder_profile(snapshot, current.transaction_id) if snapshot else None
    if profile:
        st.markdown(
            f"- {t('department')}: {profile['department']} · {profile['grade']} · {profile['job_family']}\n"
            f"- {profile['work_region']} / {profile['home_region']}"
            + (
                f"\n- ⚠ termination {profile['termination_date']:%Y-%m-%d}"
                if pd.notna(profile["termination_date"])
                else ""
            )
        )
    peers = data.peer_comparison(snapshot, current.transaction_id) if snapshot else None
    if peers:
        st.markdown(f"**{t('peers')}**")
        st.markdown(
            f"- {i18n.column('employee_90d', ui.lang())}: {ui.krw(peers['employee_90d'])}\n"
            f"- {i18n.column('mean_90d', ui.lang())}: {ui.krw(peers['mean_90d'])} "
            f"({i18n.column('peer_count', ui.lang())} {int(peers['peer_count'])})\n"
            f"- {i18n.column('percentile', ui.lang())}: {i18n.percent(peers['percentile'], 0)}"
        )

if snapshot is not None:
    spending, absences = st.columns(2)
    with spending:
        st.markdown(f"**{t('recent_spending')}**")
        ui.table(
            data.recent_spending(snapshot, current.transaction_id),
            money=("total_amount",),
            key="case_spending",
            height=220,
        )
    with absences:
        st.markdown(f"**{t('leave_and_trips')}**")
        away = data.leave_and_trips(snapshot, current.transaction_id)
        if away.empty:
            st.caption(t("nothing_here"))
        else:
            ui.table(away, key="case_absences")

    st.subheader(t("rules_fired"))
    fired = data.rules_fired(snapshot, current.transaction_id)
    if fired.empty:
        st.caption(", ".join(current.alerted_by) or t("nothing_here"))
    else:
        ui.table(
            fired.rename(columns={"name_ko" if ui.lang() == "ko" else "name_en": "name"}),
            ["rule_id", "name", "severity", "reason", "rule_status", "is_suppressed"],
            key="case_rules",
        )

    st.subheader(t("model_reasons"))
    explained = data.model_explanation(snapshot, current.transaction_id)
    if explained is None:
        ui.not_computed(data.SCORES)
    elif not explained["reasons"]:
        st.caption(t("no_model_scores"))
    else:
        st.caption(
            f"{t('score')} {explained['score']:.3f} · {explained['model_version']} ({explained['mode']})"
        )
        for reason in explained["reasons"]:
            text = (
                reason.get("text")
                or reason.get("text_ko" if ui.lang() == "ko" else "text_en")
                or reason.get("text_en")
                or reason.get("key")
            )
            st.markdown(f"- {text} ({float(reason.get('contribution') or 0):+.2f})")

st.subheader(t("history"))
history = data.case_history(who, current.case_id)
if not history.empty:
    history = history.assign(
        action=history["action_ko"] if ui.lang() == "ko" else history["action"],
        after=history["after"].map(lambda value: "" if value is None else str(value)),
    )
    ui.table(history, ["at", "actor", "role", "action", "note", "after"], key="case_history")

# -- actions ------------------------------------------------------------------------------------------

st.subheader(t("actions"))


def act(action: Callable[[], Case]) -> None:
    """Run one store action; a concurrent change or a refused action is shown, not raised."""
    try:
        done = action()
    except ConcurrentUpdateError as error:
        st.error(t("concurrent", error=error))
    except CaseError as error:
        st.error(t("action_failed", error=error))
    else:
        seen_versions[done.case_id] = done.version
        st.session_state["cases_flash"] = t(
            "done", case=done.case_id, status=ui.named(i18n.STATUS_LABELS, done.status)
        )
        st.rerun()


# An action applies to the case as it was shown, so a change by someone else in between is caught.
seen_versions: dict[str, int] = st.session_state.setdefault("cases_seen_versions", {})
version = seen_versions.get(current.case_id, current.version)
allowed = data.allowed_actions(who, current)
if not allowed:
    st.caption(t("no_actions"))

if "assign" in allowed:
    with st.form("assign_form"):
        st.markdown(f"**{t('assign')}**")
        if ui.can("assign_others"):
            assignee = st.text_input(t("assign_to"), value=current.assignee or who.name)
        else:
            assignee = who.name
            st.caption(f"{t('assign_to')}: {who.name}")
        if st.form_submit_button(t("assign")):
            act(lambda: data.assign_case(who, current.case_id, assignee, version))

if "request_explanation" in allowed:
    with st.form("request_form"):
        st.markdown(f"**{t('request_explanation')}**")
        due_days = st.number_input(t("due_days"), min_value=1, max_value=60, value=7)
        message = st.text_area(
            t("message"), value=data.explanation_preview(current, int(due_days)), height=260
        )
        if st.form_submit_button(t("request_explanation")):
            act(lambda: data.request_explanation(who, current.case_id, int(due_days), message, version))

if "record_explanation" in allowed:
    with st.form("explanation_form"):
        st.markdown(f"**{t('record_explanation')}**")
        category = st.selectbox(
            t("explanation_category"),
            EXPLANATION_CATEGORIES,
            format_func=ui.choices(
                {name: ui.named(i18n.EXPLANATION_LABELS, name) for name in EXPLANATION_CATEGORIES}
            ),
        )
        text = st.text_area(t("explanation_text"))
        if st.form_submit_button(t("record_explanation")):
            act(lambda: data.record_explanation(who, current.case_id, category, text, version))

if "decide" in allowed:
    with st.form("decide_form"):
        st.markdown(f"**{t('decide')}**")
        decision = st.radio(
            t("decision"),
            ["confirmed", "partial", "cleared"],
            format_func=ui.choices(
                {name: ui.named(i18n.DECISION_LABELS, name) for name in ("confirmed", "partial", "cleared")}
            ),
            horizontal=True,
        )
        recovered = st.number_input(
            t("recovered"),
            min_value=0,
            max_value=int(abs(current.amount)),
            value=int(abs(current.amount)),
            step=1000,
        )
        note = st.text_input(t("note"))
        if st.form_submit_button(t("decide")):
            amount = None if decision == "cleared" else float(recovered)
            act(lambda: data.decide_case(who, current.case_id, decision, amount, note or None, version))

other = [action for action in ("close", "escalate", "reopen", "comment") if action in allowed]
if other:
    with st.form("other_form"):
        labels_other = {
            "close": t("close_case"),
            "escalate": t("escalate"),
            "reopen": t("reopen"),
            "comment": t("comment"),
        }
        chosen = st.radio(t("actions"), other, format_func=labels_other.get, horizontal=True)
        note = st.text_input(t("note"))
        if st.form_submit_button(t("submit")):
            runs = {
                "close": lambda: data.close_case(who, current.case_id, note or None, version),
                "escalate": lambda: data.escalate_case(who, current.case_id, note, version),
                "reopen": lambda: data.reopen_case(who, current.case_id, note, version),
                "comment": lambda: data.comment_case(who, current.case_id, note, version),
            }
            act(runs[chosen])

seen_versions[current.case_id] = current.version
