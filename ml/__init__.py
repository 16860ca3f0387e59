"""Pure model code: detectors, supervised model, fusion, thresholds, evaluation, registry access.

Imports neither Dagster nor Streamlit."""
