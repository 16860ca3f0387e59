"""Streamlit dashboard for monitoring leads and reviewers."""
