"""Cardwatch dashboard: the sidebar (language, role, name) and the pages the chosen role may open."""

from __future__ import annotations

import streamlit as st

from dashboards import ui

st.set_page_config(page_title="Cardwatch", layout="wide")
ui.sidebar()

monitoring = [
    st.Page("app_pages/overview.py", title=ui.t("page_overview"), url_path="overview", default=True)
]
monitoring.append(st.Page("app_pages/rules.py", title=ui.t("page_rules"), url_path="rules"))
if ui.role() != "reviewer":
    monitoring.append(
        st.Page("app_pages/thresholds.py", title=ui.t("page_thresholds"), url_path="thresholds")
    )
    monitoring.append(st.Page("app_pages/models.py", title=ui.t("page_models"), url_path="models"))

review = [st.Page("app_pages/cases.py", title=ui.t("page_cases"), url_path="cases")]
if ui.can("view_audit_trail"):
    review.append(st.Page("app_pages/audit.py", title=ui.t("page_audit"), url_path="audit"))

operations = [st.Page("app_pages/data_quality.py", title=ui.t("page_data_quality"), url_path="data-quality")]

navigation = st.navigation(
    {
        ui.t("section_monitoring"): monitoring,
        ui.t("section_review"): review,
        ui.t("section_operations"): operations,
    }
)
navigation.run()
