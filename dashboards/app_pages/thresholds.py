"""Thresholds: what a review capacity or a score threshold would mean in alerts per day, precision,
recall and net value, Cardwatch beside the legacy filter, and a proposal saved with its reason."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import data, i18n, ui
from dashboards.ui import t
from orchestration.cases import CaseError

st.title(t("page_thresholds"))
snapshot = ui.snapshot_or_stop()
who = ui.current_actor()

economics = data.outcome_economics(snapshot)
defaults = data.policy_defaults()
assumptions = st.columns(3)
review_cost = assumptions[0].number_input(
    t("review_cost"),
    min_value=0,
    value=int(defaults.get("review_cost_krw") or 30000),
    step=5000,
    key="thresholds_review_cost",
)
average_amount = assumptions[1].number_input(
    t("avg_misuse_amount"),
    min_value=0,
    value=round(economics["average_amount"]),
    step=10000,
    key="thresholds_average_amount",
)
recovery_percent = assumptions[2].slider(
    t("recovery_rate"),
    min_value=0,
    max_value=100,
    value=round(economics["recovery_rate"] * 100),
    key="thresholds_recovery",
)
recovery_rate = recovery_percent / 100

st.subheader(t("tradeoff"))
curve = data.threshold_curve(snapshot)
mode = st.radio(
    t("choose_by"),
    ["capacity", "threshold"],
    format_func=ui.choices({name: t(f"by_{name}") for name in ("capacity", "threshold")}),
    horizontal=True,
    key="thresholds_mode",
)
capacity: float | None = None
threshold: float | None = None
if mode == "capacity":
    capacity = float(
        st.number_input(
            t("by_capacity"),
            min_value=1,
            value=int(data.configured_capacity()),
            step=5,
            key="thresholds_capacity",
        )
    )
elif curve is not None and not curve[curve["system"] == "cardwatch"].empty:
    steps = sorted(curve.loc[curve["system"] == "cardwatch", "threshold"].unique().tolist())
    start = min(steps, key=lambda value: abs(value - data.configured_min_score()))
    threshold = float(
        st.select_slider(
            t("by_threshold"),
            options=steps,
            value=start,
            format_func=lambda value: f"{value:.3f}",
            key="thresholds_threshold",
        )
    )

if curve is None:
    ui.not_computed(data.THRESHOLD_CURVE)
else:
    points = {}
    for system in data.SYSTEMS:
        # The legacy filter has its own score scale: it is compared at the same alerts per day.
        at_capacity = capacity
        if threshold is not None and system != "cardwatch" and points.get("cardwatch"):
            at_capacity = points["cardwatch"]["alerts_per_day"]
        points[system] = data.operating_point(
            curve,
            system,
            capacity=at_capacity,
            threshold=threshold if system == "cardwatch" else None,
            review_cost=review_cost,
            average_amount=average_amount,
            recovery_rate=recovery_rate,
        )
    for column, system in zip(st.columns(len(data.SYSTEMS)), data.SYSTEMS, strict=True):
        with column:
            st.markdown(f"**{t(f'system_{system}')}**")
            point = points[system]
            if point is None:
                st.info(t("nothing_here"))
                continue
            first, second = st.columns(2)
            first.metric(t("threshold"), f"{point['threshold']:.3f}")
            second.metric(t("projected_alerts"), i18n.number(point["alerts_per_day"], 1))
            first.metric(t("precision"), i18n.percent(point["precision"]))
            second.metric(t("recall"), i18n.percent(point["recall"]))
            st.metric(t("net_value"), ui.krw(point["net_value"]))

    st.markdown(f"**{t('curve_chart')}**")
    shown = curve.copy()
    shown["net_value"] = data.net_value(
        shown["alerts_per_day"], shown["precision"], review_cost, average_amount, recovery_rate
    )
    shown["system"] = shown["system"].map(lambda name: t(f"system_{name}"))
    chosen = pd.DataFrame(
        [
            {
                "system": t(f"system_{name}"),
                "alerts_per_day": point["alerts_per_day"],
                "net_value": point["net_value"],
            }
            for name, point in points.items()
            if point
        ]
    )
    base = alt.Chart(shown).encode(
        x=alt.X("alerts_per_day:Q", title=t("projected_alerts")),
        y=alt.Y("net_value:Q", title=t("net_value"), axis=alt.Axis(format=",.0f")),
        color=alt.Color("system:N", title=t("system")),
    )
    marks = (
        alt.Chart(chosen)
        .mark_point(size=120, filled=True)
        .encode(x="alerts_per_day:Q", y="net_value:Q", color="system:N")
    )
    st.altair_chart(
        (
            base.mark_line()
            + base.mark_circle(size=30).encode(
                tooltip=[
                    "system",
                    "threshold",
                    "alerts_per_day",
                    alt.Tooltip("precision:Q", format=".1%"),
                    alt.Tooltip("recall:Q", format=".1%"),
                    alt.Tooltip("net_value:Q", format=",.0f"),
                ]
            )
            + marks
        ).properties(height=300),
        width="stretch",
    )

if who is not None and ui.can("propose_threshold"):
    parameter = data.CAPACITY_PARAMETER if mode == "capacity" else data.MIN_SCORE_PARAMETER
    value = capacity if mode == "capacity" else threshold
    old = data.configured_capacity() if mode == "capacity" else data.configured_min_score()
    if value is not None:
        with st.form("threshold_form", clear_on_submit=True):
            st.markdown(
                f"**{t('propose_threshold')}**: `{parameter}` {i18n.number(old, 3 if mode == 'threshold' else 0)} → {i18n.number(value, 3 if mode == 'threshold' else 0)}"
            )
            reason = st.text_area(t("reason"), key="threshold_reason")
            if st.form_submit_button(t("submit")):
                try:
                    change_id = data.propose_threshold(
                        who,
                        parameter,
                        int(value) if mode == "capacity" else value,
                        int(old) if mode == "capacity" else old,
                        reason,
                    )
                except CaseError as error:
                    st.error(t("action_failed", error=error))
                else:
                    st.success(t("threshold_saved", id=change_id))

if who is not None and ui.can("view_thresholds"):
    st.subheader(t("threshold_log"))
    log = data.threshold_log(who)
    if log.empty:
        st.caption(t("nothing_here"))
    else:
        log = log.assign(old_value=log["old_value"].map(str), new_value=log["new_value"].map(str))
        ui.table(
            log,
            ["change_id", "at", "actor", "role", "parameter", "old_value", "new_value", "reason", "status"],
            key="thresholds_log",
        )
