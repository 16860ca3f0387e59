"""The landing contract (contract.yml) as Python objects, and the raw tables it defines."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

CONTRACT_FILE = Path(__file__).with_name("contract.yml")

SQL_TYPES = {
    "varchar": "VARCHAR",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "decimal": "DECIMAL(18, 2)",
    "integer": "BIGINT",
    "boolean": "BOOLEAN",
}

# Bookkeeping columns every raw table carries after the contract's own columns.
META_COLUMNS: dict[str, str] = {
    "_file": "VARCHAR",
    "_line": "BIGINT",
    "_file_sha256": "VARCHAR",
    "_loaded_at": "TIMESTAMP",
    "_extra": "VARCHAR",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False
    default: Any = None
    allowed: tuple[str, ...] | None = None
    min: Any = None
    max: Any = None
    pattern: str | None = None
    description: str = ""

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]


@dataclass(frozen=True)
class Source:
    name: str
    required: bool
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = field(default_factory=tuple)
    expectations: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    def create_table_sql(self, schema: str = "raw") -> str:
        cols = [f'"{c.name}" {c.sql_type}' for c in self.columns]
        cols += [f"{name} {sql_type}" for name, sql_type in META_COLUMNS.items()]
        return f"CREATE TABLE IF NOT EXISTS {schema}.{self.name} (\n    " + ",\n    ".join(cols) + "\n)"


@cache
def load_contract(path: Path = CONTRACT_FILE) -> dict[str, Source]:
    """Read contract.yml into ``{source name: Source}`` in file order."""
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    sources: dict[str, Source] = {}
    for name, body in spec["sources"].items():
        columns = []
        for col_name, col in body["columns"].items():
            if col["type"] not in SQL_TYPES:
                raise ValueError(f"contract.yml: {name}.{col_name} has unknown type {col['type']!r}")
            columns.append(
                Column(
                    name=col_name,
                    type=col["type"],
                    required=bool(col.get("required", False)),
                    default=col.get("default"),
                    allowed=tuple(col["allowed"]) if col.get("allowed") else None,
                    min=col.get("min"),
                    max=col.get("max"),
                    pattern=col.get("pattern"),
                    description=str(col.get("description", "")),
                )
            )
        sources[name] = Source(
            name=name,
            required=bool(body.get("required", False)),
            description=str(body.get("description", "")),
            columns=tuple(columns),
            primary_key=tuple(body.get("primary_key", ())),
            expectations=tuple(body.get("expectations") or ()),
        )
    return sources
