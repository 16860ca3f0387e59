"""Column mappings: load a foreign export into the landing contract without code.

A mapping file (YAML) names, per source, how to read the files and where each contract column
comes from. Header names are matched after normalisation (lower case, letters and digits only),
so "Transaction Amt." and "TRANSACTION_AMT" are the same header. See docs/mappings.md.

Example::

    sources:
      card_transactions:
        files: "**/*.csv.gz"
        encoding: latin-1
        separator: auto
        columns:
          transaction_id: {template: "{_file_stem}/{batch_transaction_id}"}
          card_id: {from: [Division, Divison]}
          transacted_at: {from: [Transaction Date], formats: ["%Y-%m-%d", "%m-%d-%Y"]}
          amount: {from: [Transaction Amt., Transaction Amount], thousands: ","}
          status: {constant: approved, negative_amount: refund}
        set_aside:
          - when: {column: transacted_at, is_empty: true}
            reason: subtotal row
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from orchestration.contract import Source, load_contract
from orchestration.ingest.reader import separator_char

MAPPING_FILE_NAME = "_mapping.yml"
COLUMN_KEYS = {
    "from", "constant", "template", "formats", "thousands", "values", "negative_amount", "default", "zfill",
    "description",
}  # fmt: skip


class MappingError(ValueError):
    """A mapping file that cannot be used; the message is one line naming the file."""


def normalize_header(name: str) -> str:
    return re.sub(r"[^0-9a-z가-힣]", "", name.strip().lower())


@dataclass(frozen=True)
class ColumnRule:
    """Where one contract column comes from."""

    aliases: tuple[str, ...] = ()  # normalised header names, first present wins
    constant: str | None = None
    template: str | None = None
    formats: tuple[str, ...] = ()  # strptime formats for dates and timestamps, tried in order
    thousands: str | None = None  # thousands separator to strip from numbers
    values: dict[str, str] = field(default_factory=dict)  # value map applied after reading
    negative_amount: str | None = None  # status value when the amount is negative
    default: str | None = None  # value for an empty cell (overrides the contract's default)
    zfill: int | None = None  # left-pad digits with zeros to this width (e.g. MCC 780 -> 0780)


@dataclass(frozen=True)
class SetAsideRule:
    """Rows a mapping filters out on purpose, with the reason stored beside each row."""

    column: str
    is_empty: bool = False
    matches: str | None = None
    reason: str = "set aside by mapping"


@dataclass(frozen=True)
class MisalignedRepair:
    """Rows whose cells are out of place: where ``column`` does not match ``expect``, the
    ``blank`` columns are stored as unknown and their original cells kept in ``_extra``."""

    column: str  # contract column that reveals the misalignment
    expect: str  # regular expression a well-aligned cell matches
    blank: tuple[str, ...]  # contract columns set to unknown in such rows
    reason: str


@dataclass(frozen=True)
class SourceMapping:
    source: Source
    files: str = "**/*"
    encoding: str = "auto"
    separator: str = "auto"
    columns: dict[str, ColumnRule] = field(default_factory=dict)
    set_aside: tuple[SetAsideRule, ...] = ()
    misaligned_rows: tuple[MisalignedRepair, ...] = ()
    origin: str = "default"

    def rule_for(self, column: str) -> ColumnRule:
        return self.columns.get(column) or ColumnRule(aliases=(normalize_header(column),))


def default_mapping(source: Source) -> SourceMapping:
    """The contract's own column names, ISO dates, encoding detected."""
    return SourceMapping(source=source)


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def load_mapping_file(path: Path) -> dict[str, SourceMapping]:
    """Parse a mapping YAML into ``{source: SourceMapping}``; raise MappingError with one line."""
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise MappingError(f"{path}: cannot read mapping: {str(exc).splitlines()[0]}") from exc
    contract = load_contract()
    result: dict[str, SourceMapping] = {}
    for source_name, body in (spec.get("sources") or {}).items():
        if source_name not in contract:
            raise MappingError(f"{path}: unknown source {source_name!r} (known: {', '.join(contract)})")
        source = contract[source_name]
        body = body or {}
        columns: dict[str, ColumnRule] = {}
        for col_name, col in (body.get("columns") or {}).items():
            if col_name not in source.column_names:
                raise MappingError(f"{path}: {source_name} has no contract column {col_name!r}")
            col = col or {}
            unknown = set(col) - COLUMN_KEYS
            if unknown:
                raise MappingError(f"{path}: {source_name}.{col_name}: unknown keys {sorted(unknown)}")
            columns[col_name] = ColumnRule(
                aliases=tuple(normalize_header(a) for a in _as_tuple(col.get("from")))
                or (() if ("constant" in col or "template" in col) else (normalize_header(col_name),)),
                constant=None if col.get("constant") is None else str(col["constant"]),
                template=col.get("template"),
                formats=_as_tuple(col.get("formats")),
                thousands=col.get("thousands"),
                values={str(k): str(v) for k, v in (col.get("values") or {}).items()},
                negative_amount=col.get("negative_amount"),
                default=None if col.get("default") is None else str(col["default"]),
                zfill=col.get("zfill"),
            )
        set_aside = []
        for item in body.get("set_aside") or []:
            when = item.get("when") or {}
            if "column" not in when or "reason" not in item:
                raise MappingError(f"{path}: {source_name}.set_aside needs when.column and reason")
            set_aside.append(
                SetAsideRule(
                    column=str(when["column"]),
                    is_empty=bool(when.get("is_empty", False)),
                    matches=when.get("matches"),
                    reason=str(item["reason"]),
                )
            )
        misaligned = []
        for item in body.get("misaligned_rows") or []:
            when = item.get("when") or {}
            if not {"column", "expect"} <= set(when) or "blank" not in item:
                raise MappingError(
                    f"{path}: {source_name}.misaligned_rows needs when.column, when.expect, blank"
                )
            misaligned.append(
                MisalignedRepair(
                    column=str(when["column"]),
                    expect=str(when["expect"]),
                    blank=_as_tuple(item["blank"]),
                    reason=str(item.get("reason", "misaligned row")),
                )
            )
        separator = str(body.get("separator", "auto"))
        if separator != "auto" and len(separator_char(separator)) != 1:
            raise MappingError(
                f"{path}: {source_name}.separator must be one character or auto, not {separator!r}"
            )
        result[source_name] = SourceMapping(
            source=source,
            files=str(body.get("files", "**/*")),
            encoding=str(body.get("encoding", "auto")),
            separator=separator,
            columns=columns,
            set_aside=tuple(set_aside),
            misaligned_rows=tuple(misaligned),
            origin=str(path),
        )
    return result
