"""Detection-performance analysis: estimators, scorecards, overlap, thresholds, workload and the report.

Every module is pure (DataFrames in, DataFrames or dataclasses out) except those that read a warehouse
read-only: `ml.analysis.loaders` and `ml.analysis.report` (which also writes the detection review) and
`ml.analysis.rule_backtest` (queries a DuckDB connection, so the CLI and the dashboard share it).
"""
