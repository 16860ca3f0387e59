"""Dagster definitions by area: ingest, dbt, ml, cases, monitoring, publish."""

import warnings

import dagster as dg

# Single-run backfills (a year in one run) use BackfillPolicy, a beta parameter of @asset in Dagster 1.13.
warnings.filterwarnings("ignore", message=".*backfill_policy.*", category=dg.BetaWarning)
