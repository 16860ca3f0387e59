"""Audit trail: every case event and every threshold or suppression change, who did it, when and why."""

from __future__ import annotations

import streamlit as st

from dashboards import data, i18n, ui
from dashboards.ui import t

st.title(t("page_audit"))
who = ui.current_actor()
if who is None:
    st.stop()
if not ui.can("view_audit_trail"):
    st.warning(t("not_allowed", role=ui.named(i18n.ROLE_LABELS, ui.role()), what=t("page_audit")))
    st.stop()

period = st.date_input(t("period"), value=(), key="audit_period")
since, until = (period[0], period[1]) if len(period) == 2 else (None, None)

st.subheader(t("audit_events"))
events, total = data.audit_trail(who, since, until)
st.metric(t("audit_events"), i18n.number(total))
if total > len(events):
    st.caption(t("audit_listed", listed=i18n.number(len(events)), total=i18n.number(total)))
if events.empty:
    st.caption(t("nothing_here"))
else:
    events = events.assign(
        action=events["action_ko"] if ui.lang() == "ko" else events["action"],
        before=events["before"].map(lambda value: "" if value is None else str(value)),
        after=events["after"].map(lambda value: "" if value is None else str(value)),
    )
    ui.table(
        events,
        ["event_id", "at", "case_id", "actor", "role", "action", "note", "before", "after"],
        key="audit_events",
        height=400,
    )

st.subheader(t("threshold_log"))
log = data.threshold_log(who)
if log.empty:
    st.caption(t("nothing_here"))
else:
    log = log.assign(old_value=log["old_value"].map(str), new_value=log["new_value"].map(str))
    ui.table(
        log,
        ["change_id", "at", "actor", "role", "parameter", "old_value", "new_value", "reason", "status"],
        key="audit_thresholds",
    )
