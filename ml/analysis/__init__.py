"""Detection-performance analysis: estimators, scorecards, overlap, thresholds, workload and the report.

Every module is pure (DataFrames in, DataFrames or dataclasses out) except `ml.analysis.report`,
which reads a warehouse read-only and writes the detection review.
"""
