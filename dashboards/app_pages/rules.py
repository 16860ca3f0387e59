"""Rules: the scorecard, how rules overlap, the suppression allowlist with its proposals, the rule
catalog, and draft rules backtested on history."""

from __future__ import annotations

from datetime import date, timedelta

import altair as alt
import streamlit as st

from dashboards import data, i18n, ui
from dashboards.ui import t
from orchestration.cases import CaseError

st.title(t("page_rules"))
snapshot = ui.snapshot_or_stop()
names = data.rule_names(snapshot)
name_column = "name_ko" if ui.lang() == "ko" else "name_en"

rule_set = (
    st.columns(3)[0].selectbox(
        t("rule_set"),
        ["", "cardwatch", "legacy"],
        format_func=ui.choices({"": t("all"), "cardwatch": "cardwatch", "legacy": "legacy"}),
        key="rules_set",
    )
    or None
)

st.subheader(t("scorecard"))
scorecard = data.rule_scorecard(snapshot, rule_set).rename(columns={name_column: "name"})
totals = st.columns(3)
totals[0].metric(t("active_rules"), i18n.number(int((scorecard["rule_status"] == "active").sum())))
totals[1].metric(t("hits"), i18n.number(int(scorecard["hit_count"].sum())))
totals[2].metric(t("confirmed"), i18n.number(int(scorecard["confirmed_hit_count"].sum())))
ui.table(
    scorecard,
    [
        "rule_id",
        "name",
        "rule_set",
        "rule_status",
        "severity",
        "hit_count",
        "suppressed_hit_count",
        "alert_candidate_count",
        "reviewed_hit_count",
        "confirmed_hit_count",
        "confirmed_share_of_reviewed",
        "confirmed_amount",
        "recovered_amount",
    ],
    money=("confirmed_amount", "recovered_amount"),
    share=("confirmed_share_of_reviewed",),
    key="rules_scorecard",
)

st.subheader(t("overlap"))
overlap = data.rule_overlap(snapshot, rule_set)
if overlap.empty:
    st.info(t("nothing_here"))
else:
    order = sorted(set(overlap["rule_a"]))
    heat = alt.Chart(overlap).encode(
        x=alt.X(
            "rule_a:N",
            sort=order,
            title=None,
            axis=alt.Axis(labelAngle=-60, labelLimit=200, labelOverlap=False),
        ),
        y=alt.Y("rule_b:N", sort=order, title=None, axis=alt.Axis(labelLimit=200, labelOverlap=False)),
    )
    st.altair_chart(
        (
            heat.mark_rect().encode(
                color=alt.Color(
                    "transactions:Q",
                    title=i18n.column("transactions", ui.lang()),
                    scale=alt.Scale(scheme="blues", type="sqrt"),
                ),
                tooltip=["rule_a", "rule_b", alt.Tooltip("transactions:Q", format=",")],
            )
            + heat.mark_text(fontSize=9).encode(
                text=alt.Text("transactions:Q", format=","),
                color=alt.condition(
                    alt.datum.transactions > overlap["transactions"].max() / 2,
                    alt.value("white"),
                    alt.value("black"),
                ),
            )
        ).properties(height=max(320, 26 * len(order))),
        width="stretch",
    )

st.subheader(t("suppressions"))
allowlist = data.suppressions(snapshot, date.today())
if not ui.can("see_employee_ids"):
    allowlist = data.pseudonymise_employees(allowlist)
ui.table(
    allowlist,
    [
        "suppression_id",
        "rule_id",
        "employee_id",
        "merchant_id",
        "reason",
        "owner",
        "valid_from",
        "expires_on",
        "is_expired",
    ],
    key="rules_suppressions",
)
who = ui.current_actor()
if who is not None and ui.can("view_thresholds"):
    st.markdown(f"**{t('suppression_proposals')}**")
    proposals = data.suppression_proposals(who)
    if proposals.empty:
        st.caption(t("nothing_here"))
    else:
        ui.table(proposals, key="rules_proposals")
if who is not None and ui.can("propose_threshold"):
    with st.form("suppression_form", clear_on_submit=True):
        st.markdown(f"**{t('add_suppression')}**")
        st.caption(t("suppression_note"))
        columns = st.columns(3)
        rule = columns[0].selectbox(
            t("rule"),
            names["rule_id"].tolist(),
            format_func=ui.choices({rule: ui.rule_label(rule, names) for rule in names["rule_id"]}),
        )
        employee_id = columns[1].text_input(t("employee_id_optional"))
        merchant_id = columns[2].text_input(t("merchant_id_optional"))
        reason = st.text_input(t("reason"))
        columns = st.columns(2)
        owner = columns[0].text_input(t("owner"), value=who.name)
        expires_on = columns[1].date_input(
            t("expires_on"), value=date.today() + timedelta(days=90), min_value=date.today()
        )
        if st.form_submit_button(t("submit")):
            try:
                change_id = data.propose_suppression(
                    who,
                    rule,
                    employee_id=employee_id.strip(),
                    merchant_id=merchant_id.strip(),
                    reason=reason,
                    owner=owner,
                    expires_on=expires_on,
                    valid_from=date.today(),
                )
            except CaseError as error:
                st.error(t("action_failed", error=error))
            else:
                st.success(t("suppression_saved", id=change_id))

st.subheader(t("rule_catalog"))
catalog = data.rule_catalog(snapshot).rename(columns={name_column: "name"})
ui.table(
    catalog,
    [
        "rule_id",
        "name",
        "rule_set",
        "rule_status",
        "is_active",
        "is_alerting",
        "missing_sources",
        "severity",
        "typology",
        "owner",
        "rule_version",
    ],
    key="rules_catalog",
)

st.subheader(t("backtest"))
backtest = data.draft_rule_backtest(snapshot).rename(columns={name_column: "name"})
if backtest.empty:
    st.info(t("no_drafts"))
else:
    ui.table(
        backtest,
        [
            "rule_id",
            "name",
            "rule_status",
            "hits",
            "hits_per_day",
            "hit_amount",
            "reviewed",
            "confirmed",
            "new_transactions",
            "new_confirmed",
        ],
        money=("hit_amount",),
        key="rules_backtest",
    )
    drafts = backtest["rule_id"].tolist()
    chosen = st.selectbox(
        t("backtest_rule"),
        drafts,
        format_func=ui.choices({rule: ui.rule_label(rule, names) for rule in drafts}),
        # A keyed selectbox keeps its first option labels; the language in the key redraws them.
        key=f"rules_backtest_rule_{ui.lang()}",
    )
    capacity = data.configured_capacity()
    result = data.rule_backtest(snapshot, chosen, capacity)
    if not result.days:
        st.info(t("backtest_no_data"))
    else:
        st.caption(
            t(
                "backtest_window",
                start=result.start,
                end=result.end,
                days=result.days,
                capacity=i18n.number(capacity),
                rule=chosen,
            )
        )
        if not result.rule.get("is_active", True):
            st.warning(t("backtest_missing_sources", sources=result.rule.get("missing_sources") or "?"))
        figures = st.columns(4)
        figures[0].metric(t("added_alerts"), i18n.number(result.added_alerts), help=t("added_alerts_help"))
        figures[1].metric(
            t("added_precision"),
            i18n.percent(result.precision.loc["added", "precision"]),
            help=t("added_precision_help"),
        )
        figures[2].metric(t("added_per_day"), i18n.number(result.load["added_per_day"], 1))
        figures[3].metric(t("share_of_capacity"), i18n.percent(result.load["added_share_of_capacity"]))

        st.markdown(f"**{t('backtest_precision', level=i18n.percent(result.confidence, 0))}**")
        precision = result.precision.reset_index()
        precision["subset"] = [t(f"subset_{subset}") for subset in precision["subset"]]
        shares = ("precision", "lower", "upper", "ipw_precision", "ipw_lower", "ipw_upper")
        ui.table(
            precision, ["subset", "hits", "reviewed", "confirmed", *shares, "unrepresented"], share=shares
        )
        st.caption(t("backtest_unrepresented"))

        st.markdown(f"**{t('backtest_overlap')}**")
        overlap = result.overlap[result.overlap["shared"] > 0].rename(columns={name_column: "name"})
        if overlap.empty:
            st.caption(t("no_overlap"))
        else:
            ui.table(
                overlap,
                ["rule_id", "name", "rule_alerts", "shared", "jaccard", "share_of_hits", "share_of_rule"],
                share=("share_of_hits", "share_of_rule"),
                key="rules_backtest_overlap",
                height=320,
            )
        st.caption(
            t(
                "backtest_load",
                before=result.load["days_over_capacity_before"],
                after=result.load["days_over_capacity_after"],
                days=result.days,
                peak=result.load["added_peak_per_day"],
            )
        )
