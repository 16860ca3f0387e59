"""Great Expectations suites for the landing contract, kept in the repository.

``orchestration/expectations/<source>.json`` are the suites ingest validates with. They are written
from contract.yml by ``python -m orchestration.ingest.expectations`` and a test keeps them in step.
Every expectation is checked row by row: the rows it flags are quarantined with its reason.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import warnings
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from orchestration.contract import Source, load_contract

SUITES_DIR = Path(__file__).resolve().parent.parent / "expectations"
NOW = {"$PARAMETER": "now"}
# Integers below this in magnitude are exact as float64 (its 53-bit significand).
FLOAT64_EXACT_INTEGERS = 2**53


def suite_from_contract(source: Source) -> dict[str, Any]:
    """The expectation suite (as GE's JSON dict) that a source's contract implies."""
    expectations: list[dict[str, Any]] = []

    def add(kind: str, reason: str, **kwargs: Any) -> None:
        expectations.append({"type": kind, "kwargs": kwargs, "meta": {"reason": reason}})

    for column in source.columns:
        name = column.name
        if column.required:
            add("expect_column_values_to_not_be_null", f"{name} is empty", column=name)
        if column.allowed:
            add(
                "expect_column_values_to_be_in_set",
                f"{name} not in {', '.join(column.allowed)}",
                column=name,
                value_set=list(column.allowed),
            )
        if column.pattern:
            add(
                "expect_column_values_to_match_regex",
                f"{name} does not match {column.pattern}",
                column=name,
                regex=column.pattern,
            )
        bounds: dict[str, Any] = {}
        if column.min is not None:
            bounds["min_value"] = column.min
        if column.max == "now":
            bounds["max_value"] = NOW
        elif column.max is not None:
            bounds["max_value"] = column.max
        if bounds:
            reason = f"{name} is in the future" if column.max == "now" else f"{name} out of range"
            add("expect_column_values_to_be_between", reason, column=name, **bounds)
    for key in source.primary_key:
        add("expect_column_values_to_be_unique", f"duplicate {key} within the file", column=key)
    expectations.extend(source.expectations)
    return {"name": f"landing.{source.name}", "expectations": expectations, "meta": {"source": source.name}}


def write_suites(directory: Path = SUITES_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for source in load_contract().values():
        path = directory / f"{source.name}.json"
        path.write_text(json.dumps(suite_from_contract(source), ensure_ascii=False, indent=2) + "\n", "utf-8")
        written.append(path)
    return written


@cache
def load_suite(source_name: str, directory: Path = SUITES_DIR) -> dict[str, Any]:
    return json.loads((directory / f"{source_name}.json").read_text(encoding="utf-8"))


@cache
def _batch_definition() -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("landing").add_dataframe_asset("batch")
    return asset.add_batch_definition_whole_dataframe("whole")


def warm_up() -> None:
    """Import Great Expectations and build its ephemeral context (a validation worker's initializer)."""
    _batch_definition()


def failing_rows(source_name: str, frame: pd.DataFrame, now: datetime) -> dict[int, list[str]]:
    """Validate ``frame`` with the source's suite; return ``{row position: [reasons]}``.

    ``frame`` must have a RangeIndex. Uniqueness within the file is handled by the loader
    (it keeps the first occurrence), so those results are skipped here.
    """
    import great_expectations as gx

    spec = load_suite(source_name)
    expectations = [e for e in spec["expectations"] if e["type"] != "expect_column_values_to_be_unique"]
    if frame.empty or not expectations:
        return {}
    suite = gx.ExpectationSuite(name=spec["name"], expectations=expectations)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = (
            _batch_definition()
            .get_batch(batch_parameters={"dataframe": _for_validation(frame)})
            .validate(suite, expectation_parameters={"now": now}, result_format={"result_format": "COMPLETE"})
        )
    failures: dict[int, list[str]] = {}
    for item in result.results:
        if item.success:
            continue
        reason = item.expectation_config.meta.get("reason") or item.expectation_config.type
        indices = item.result.get("unexpected_index_list")
        if indices is None:
            raise RuntimeError(
                f"expectation {item.expectation_config.type} on {source_name} failed: {item.exception_info}"
            )
        column = item.expectation_config.kwargs.get("column")
        for index in indices:
            position = int(index)
            value = frame.at[position, column] if column in frame.columns else None
            shown = "" if value is None or pd.isna(value) else f" ({_show(value)})"
            failures.setdefault(position, []).append(f"{reason}{shown}")
    return failures


def _for_validation(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame in the dtypes Great Expectations compares column-wise instead of cell by cell.

    GE's pandas range check is vectorised only for float/int and nanosecond datetimes; other
    dtypes (microsecond timestamps, nullable integers) go through a Python call per cell.
    The values are the same: timestamps outside the nanosecond range and integers too large for
    float64 stay as they are.
    """
    converted = {}
    for name, column in frame.items():
        if pd.api.types.is_datetime64_dtype(column.dtype) and not pd.api.types.is_datetime64_ns_dtype(
            column.dtype
        ):
            with contextlib.suppress(OverflowError, ValueError, pd.errors.OutOfBoundsDatetime):
                converted[name] = column.astype("datetime64[ns]")
        elif isinstance(column.dtype, pd.Int64Dtype):
            largest = column.abs().max()
            if pd.isna(largest) or largest < FLOAT64_EXACT_INTEGERS:
                converted[name] = column.astype("float64")
    return frame.assign(**converted) if converted else frame


def _show(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


if __name__ == "__main__":
    for written in write_suites():
        print(written)
