"""Simulator options and parameters.

Parameters live in ``params.yml`` next to this module, each as ``{value, doc}``; :func:`load_params`
returns the values only. :class:`SimOptions` holds what the command line chooses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PARAMS_FILE = Path(__file__).with_name("params.yml")


def _strip_docs(node: Any) -> Any:
    if isinstance(node, dict):
        if set(node) == {"value", "doc"}:
            return node["value"]
        return {key: _strip_docs(value) for key, value in node.items()}
    return node


def load_params(path: Path | None = None) -> dict[str, Any]:
    """Read a parameter file into nested plain values (``{value, doc}`` leaves become values)."""
    raw = yaml.safe_load((path or PARAMS_FILE).read_text(encoding="utf-8"))
    return _strip_docs(raw)


def param_docs(path: Path | None = None) -> dict[str, str]:
    """``{"section.name": doc}`` for every parameter, for documentation and ``--help``."""
    raw = yaml.safe_load((path or PARAMS_FILE).read_text(encoding="utf-8"))
    docs: dict[str, str] = {}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict):
            if set(node) == {"value", "doc"}:
                docs[prefix] = str(node["doc"])
                return
            for key, value in node.items():
                walk(value, f"{prefix}.{key}" if prefix else str(key))

    walk(raw, "")
    return docs


def typology_names(params: dict[str, Any] | None = None) -> list[str]:
    """Names of all misuse typologies, in parameter-file order."""
    params = params or load_params()
    return list(params["misuse"]["typologies"])


@dataclass
class SimOptions:
    """What one simulation run produces."""

    employees: int = 2000
    start: dt.date = dt.date(2025, 1, 1)
    months: int = 12
    seed: int = 7
    misuse_rate: float | None = None
    typologies: list[str] | None = None
    disabled: list[str] = field(default_factory=list)
    today: dt.date = field(default_factory=dt.date.today)
    params_file: Path | None = None

    def enabled_typologies(self, params: dict[str, Any]) -> list[str]:
        names = typology_names(params)
        chosen = list(self.typologies) if self.typologies is not None else names
        unknown = sorted(set(chosen + list(self.disabled)) - set(names))
        if unknown:
            raise ValueError(f"unknown typologies: {', '.join(unknown)}; known: {', '.join(names)}")
        return [name for name in names if name in chosen and name not in self.disabled]

    def typology_rates(self, params: dict[str, Any]) -> dict[str, float]:
        """Configured share of all transactions per enabled typology, after ``misuse_rate`` scaling."""
        table = params["misuse"]["typologies"]
        total = sum(float(spec["rate"]) for spec in table.values())
        target = self.misuse_rate if self.misuse_rate is not None else float(params["misuse"]["misuse_rate"])
        scale = target / total if total > 0 else 0.0
        return {name: float(table[name]["rate"]) * scale for name in self.enabled_typologies(params)}
