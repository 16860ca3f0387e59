"""Overview: alert volume against capacity, hit rate, confirmed and recovered amounts, estimated missed
misuse and the review backlog, for a period, department, rule and system."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import data, i18n, ui
from dashboards.ui import t

st.title(t("page_overview"))
snapshot = ui.snapshot_or_stop()

period = data.alert_period(snapshot)
if period is None:
    st.info(t("nothing_here"))
    st.stop()

rules = data.rule_names(snapshot)
filters = st.columns([2, 1, 1, 2])
chosen = filters[0].date_input(
    t("period"), value=period, min_value=period[0], max_value=period[1], key="overview_period"
)
system = filters[1].selectbox(
    t("system"),
    data.SYSTEMS,
    format_func=ui.choices({name: t(f"system_{name}") for name in data.SYSTEMS}),
    key="overview_system",
)
department_names = data.departments(snapshot)
department = (
    filters[2].selectbox(
        t("department"),
        ["", *department_names],
        format_func=ui.choices({"": t("all"), **{name: name for name in department_names}}),
        key="overview_department",
    )
    or None
)
rule_id = (
    filters[3].selectbox(
        t("rule"),
        ["", *rules["rule_id"]],
        format_func=ui.choices(
            {"": t("all"), **{rule: ui.rule_label(rule, rules) for rule in rules["rule_id"]}}
        ),
        key="overview_rule",
    )
    or None
)
start, end = (chosen[0], chosen[-1]) if isinstance(chosen, tuple | list) and chosen else period
if data.uses_candidates(snapshot, system):
    st.caption(t("cardwatch_fallback"))

totals = data.overview_totals(snapshot, system, start, end, department, rule_id)
per_day = data.alerts_per_day(snapshot, system, start, end, department, rule_id)
months = data.monthly_outcomes(snapshot, system, start, end, department, rule_id)
missed = data.estimated_missed(snapshot, system, start, end, department, rule_id)

first_row = st.columns(4)
first_row[0].metric(t("alerts"), i18n.number(totals["alerts"]))
first_row[1].metric(t("alerts_per_day"), i18n.number(totals["alerts_per_day"], 1))
first_row[2].metric(
    t("days_over_capacity"), i18n.number(int((per_day["alerts"] > per_day["capacity"]).sum()))
)
first_row[3].metric(
    t("hit_rate"),
    i18n.percent(totals["hit_rate"]),
    help=f"{t('confirmed')} {i18n.number(totals['confirmed'])} / {t('reviewed')} {i18n.number(totals['reviewed'])}",
)

second_row = st.columns(4)
second_row[0].metric(t("confirmed_amount"), ui.krw(totals["confirmed_amount"]))
second_row[1].metric(t("recovered_amount"), ui.krw(totals["recovered_amount"]))
recall_computed = data.has(snapshot, data.ESTIMATED_RECALL)
no_estimate = t("no_recall_estimate") if recall_computed else t("not_computed", table=data.ESTIMATED_RECALL)
if missed is None:
    second_row[2].metric(t("estimated_missed"), "-", help=no_estimate)
else:
    second_row[2].metric(
        t("estimated_missed"),
        i18n.number(missed["missed"]),
        help=t("missed_interval", low=missed["missed_low"], high=missed["missed_high"]),
    )
    st.caption(
        f"{t('estimated_missed')}: {t('missed_interval', low=missed['missed_low'], high=missed['missed_high'])} · "
        f"{t('estimated_recall')} {i18n.percent(missed['recall'])} "
        f"({i18n.percent(missed['recall_low'])}–{i18n.percent(missed['recall_high'])})"
    )
who = ui.current_actor()
if who is not None and ui.can("view_queue"):
    queue = data.backlog(who)
    second_row[3].metric(
        t("backlog"), i18n.number(queue["backlog"]), help=f"{t('overdue_explanations')}: {queue['overdue']}"
    )

st.subheader(t("alerts_vs_capacity"))
volume = per_day.melt("day", ["alerts", "capacity"], var_name="series", value_name="value")
volume["series"] = volume["series"].map({"alerts": t("alerts"), "capacity": t("capacity")})
st.altair_chart(
    alt.Chart(volume)
    .mark_line(point=False)
    .encode(
        x=alt.X("day:T", title=t("day"), axis=alt.Axis(format="%m-%d")),
        y=alt.Y("value:Q", title=None),
        color=alt.Color("series:N", title=None, legend=alt.Legend(orient="top")),
        strokeDash=alt.StrokeDash("series:N", legend=None),
    )
    .properties(height=260),
    width="stretch",
)

left, right = st.columns(2)
with left:
    st.subheader(t("hit_rate_over_time"))
    if months["reviewed"].sum() == 0:
        st.info(t("nothing_here"))
    else:
        st.altair_chart(
            alt.Chart(months.dropna(subset=["hit_rate"]))
            .mark_bar()
            .encode(
                x=alt.X("yearmonth(month):O", title=t("month"), axis=alt.Axis(format="%Y-%m", labelAngle=0)),
                y=alt.Y("hit_rate:Q", title=None, axis=alt.Axis(format="%")),
                tooltip=[
                    alt.Tooltip("yearmonth(month):O", title=t("month")),
                    alt.Tooltip("hit_rate:Q", format=".1%"),
                    "reviewed",
                    "confirmed",
                ],
            )
            .properties(height=240),
            width="stretch",
        )
with right:
    st.subheader(t("amounts_by_month"))
    amounts = months.melt(
        "month", ["confirmed_amount", "recovered_amount"], var_name="series", value_name="value"
    )
    amounts["series"] = amounts["series"].map(
        {"confirmed_amount": t("confirmed_amount"), "recovered_amount": t("recovered_amount")}
    )
    if amounts.empty:
        st.info(t("nothing_here"))
    else:
        st.altair_chart(
            alt.Chart(amounts)
            .mark_bar()
            .encode(
                x=alt.X("yearmonth(month):O", title=t("month"), axis=alt.Axis(format="%Y-%m", labelAngle=0)),
                xOffset="series:N",
                y=alt.Y("value:Q", title=None, axis=alt.Axis(format=",.0f")),
                color=alt.Color("series:N", title=None, legend=alt.Legend(orient="top")),
                tooltip=[alt.Tooltip("value:Q", format=",.0f", title=t("amount_krw")), "series:N"],
            )
            .properties(height=240),
            width="stretch",
        )

if missed is None:
    st.info(no_estimate)
st.caption(pd.Timestamp(start).strftime("%Y-%m-%d") + " – " + pd.Timestamp(end).strftime("%Y-%m-%d"))
