"""Cardwatch orchestration: ingest, the command line, Dagster definitions."""
