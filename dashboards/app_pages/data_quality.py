"""Data quality: the sources loaded, the latest file loads and whether their counts reconcile,
quarantined rows with their reasons, and every failed check."""

from __future__ import annotations

import streamlit as st

from dashboards import data, i18n, ui
from dashboards.ui import t

st.title(t("page_data_quality"))
snapshot = ui.snapshot_or_stop()

totals = data.load_totals(snapshot)
checks = data.failed_checks(snapshot)
numbers = st.columns(4)
numbers[0].metric(t("files_loaded"), i18n.number(totals["files_loaded"]))
numbers[1].metric(t("rows_quarantined"), i18n.number(totals["rows_quarantined"]))
numbers[2].metric(t("files_not_reconciled"), i18n.number(totals["files_not_reconciled"]))
numbers[3].metric(t("failed_checks"), i18n.number(len(checks)))

st.subheader(t("failed_checks"))
if checks.empty:
    st.success(t("no_failed_checks"))
else:
    ui.table(checks, key="dq_checks")

st.subheader(t("sources"))
ui.table(data.sources(snapshot), key="dq_sources")

st.subheader(t("latest_loads"))
st.caption(t("reconciliation"))
ui.table(data.latest_loads(snapshot, 50), key="dq_loads", height=300)

st.subheader(t("quarantine"))
source_names = data.sources(snapshot)["source"].tolist()
source = (
    st.columns(3)[0].selectbox(
        t("source"),
        ["", *source_names],
        format_func=ui.choices({"": t("all"), **{name: name for name in source_names}}),
        key="dq_source",
    )
    or None
)
reasons = data.quarantine_reasons(snapshot, source)
if reasons.empty:
    st.caption(t("nothing_here"))
else:
    ui.table(reasons, key="dq_reasons")
    st.markdown(f"**{t('quarantine_rows')}**")
    ui.table(data.quarantined_rows(snapshot, source, 200), key="dq_rows", height=300)
