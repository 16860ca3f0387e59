"""Models: champion and challenger metrics over time, precision at capacity and estimated recall by
month, feature drift, and the log of promotions and rollbacks."""

from __future__ import annotations

import altair as alt
import streamlit as st

from dashboards import data, i18n, ui
from dashboards.ui import t

st.title(t("page_models"))
snapshot = ui.snapshot_or_stop()

st.subheader(t("champion_challenger"))
metrics = data.model_metrics(snapshot)
if metrics is None:
    ui.not_computed(data.MODEL_DECISIONS)
elif metrics.empty:
    st.info(t("nothing_here"))
else:
    names = sorted(metrics["metric"].unique())
    chosen = st.multiselect(t("metric"), names, default=names[: min(3, len(names))], key="models_metrics")
    st.altair_chart(
        alt.Chart(metrics[metrics["metric"].isin(chosen)])
        .mark_line(point=True)
        .encode(
            x=alt.X("decided_at:T", title=t("decisions"), axis=alt.Axis(format="%Y-%m-%d")),
            y=alt.Y("value:Q", title=t("value")),
            color=alt.Color("alias:N", title=i18n.column("alias", ui.lang())),
            strokeDash=alt.StrokeDash("metric:N", title=t("metric")),
            tooltip=["version", "alias", "metric", alt.Tooltip("value:Q", format=".3f"), "decided_at:T"],
        )
        .properties(height=280),
        width="stretch",
    )

left, right = st.columns(2)
with left:
    st.subheader(t("precision_at_capacity"))
    precision = data.precision_at_capacity(snapshot)
    if precision is None:
        ui.not_computed(data.PRECISION_AT_CAPACITY)
    else:
        st.altair_chart(
            alt.Chart(precision)
            .mark_line(point=True)
            .encode(
                x=alt.X("yearmonth(month):O", title=t("month"), axis=alt.Axis(format="%Y-%m", labelAngle=0)),
                y=alt.Y("precision:Q", title=t("precision"), axis=alt.Axis(format="%")),
                color=alt.Color("system:N", title=t("system")),
                tooltip=[
                    "system",
                    alt.Tooltip("precision:Q", format=".1%"),
                    "alerts",
                    "reviewed",
                    "confirmed",
                ],
            )
            .properties(height=240),
            width="stretch",
        )
with right:
    st.subheader(t("recall_by_month"))
    recall = data.estimated_recall(snapshot)
    if recall is None:
        ui.not_computed(data.ESTIMATED_RECALL)
    else:
        base = alt.Chart(recall).encode(
            x=alt.X("yearmonth(month):O", title=t("month"), axis=alt.Axis(format="%Y-%m", labelAngle=0)),
            color=alt.Color("system:N", title=t("system")),
        )
        st.altair_chart(
            (
                base.mark_errorbar().encode(
                    y=alt.Y("low:Q", title=t("estimated_recall"), axis=alt.Axis(format="%")), y2="high:Q"
                )
                + base.mark_point(filled=True, size=60).encode(
                    y="estimate:Q",
                    tooltip=[
                        "system",
                        alt.Tooltip("estimate:Q", format=".1%"),
                        alt.Tooltip("low:Q", format=".1%"),
                        alt.Tooltip("high:Q", format=".1%"),
                    ],
                )
            ).properties(height=240),
            width="stretch",
        )

st.subheader(t("drift"))
latest = data.latest_drift(snapshot)
if latest is None:
    ui.not_computed(data.FEATURE_DRIFT)
else:
    st.caption(t("drift_help"))
    features = latest["feature"].tolist()
    chosen_features = st.multiselect(
        t("features"), features, default=features[: min(5, len(features))], key="models_features"
    )
    drift = data.feature_drift(snapshot, tuple(chosen_features))
    if drift is not None and not drift.empty:
        st.altair_chart(
            alt.Chart(drift)
            .mark_line()
            .encode(
                x=alt.X("day:T", title=t("day"), axis=alt.Axis(format="%m-%d")),
                y=alt.Y("psi:Q", title="PSI"),
                color=alt.Color("feature:N", title=t("features")),
                tooltip=["feature", "day:T", alt.Tooltip("psi:Q", format=".3f")],
            )
            .properties(height=260),
            width="stretch",
        )
    st.markdown(f"**{t('latest_drift')}**")
    ui.table(latest, key="models_latest_drift", height=300)

st.subheader(t("decisions"))
decisions = data.model_decisions(snapshot)
if decisions is None:
    ui.not_computed(data.MODEL_DECISIONS)
else:
    ui.table(decisions.sort_values("decided_at", ascending=False), key="models_decisions")

st.subheader(t("scores_summary"))
scores = data.score_summary(snapshot)
if scores is None:
    ui.not_computed(data.SCORES)
else:
    ui.table(scores, key="models_scores")
