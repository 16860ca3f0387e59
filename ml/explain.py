"""Reasons in reviewer words, and the parameter files under ``ml/config`` that the models read.

A parameter file is YAML with a ``description`` of the file and a ``parameters`` mapping, each
parameter holding its ``value`` and a ``description`` an analyst can read before changing it.
Feature phrases (``feature_phrases.yml``) turn a model contribution into a sentence such as
"amount 3.2 robust deviations above the employee's 90-day history raised the score".
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

CONFIG_DIR = Path(__file__).resolve().parent / "config"


def read_parameter_file(path: str | Path) -> dict[str, Any]:
    """Values of a parameter file as a flat ``{name: value}`` mapping.

    Parameters
    ----------
    path : str or Path
        A YAML file with ``parameters: {name: {value: ..., description: ...}}``.
    """
    document = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    parameters = document.get("parameters", {})
    values: dict[str, Any] = {}
    for name, entry in parameters.items():
        if not isinstance(entry, dict) or "value" not in entry:
            raise ValueError(f"{path}: parameter {name!r} needs a 'value' and a 'description'")
        values[name] = entry["value"]
    return values


def load_parameters(
    name: str, path: str | Path | None = None, overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Parameters of ``ml/config/<name>.yml`` (or ``path``), with ``overrides`` applied.

    Unknown override names fail, so a typo never silently leaves a default in force.
    """
    values = read_parameter_file(path or CONFIG_DIR / f"{name}.yml")
    for key, value in (overrides or {}).items():
        if key not in values:
            raise ValueError(f"unknown parameter {key!r} for {name}; known: {', '.join(sorted(values))}")
        values[key] = value
    return values


@dataclass(frozen=True)
class Reason:
    """One reason behind a score or an alert.

    Attributes
    ----------
    source : str
        ``rule`` (a rule hit), ``model`` (a supervised-model contribution) or ``anomaly``
        (an unsupervised score or rank).
    key : str
        Rule id or feature name.
    value : Any
        The feature value, or the rule's severity.
    contribution : float
        Contribution to the score (log-odds for the model, rank share in cold start,
        severity for a rule).
    text_en, text_ko : str
        The reason in English and Korean.
    """

    source: str
    key: str
    value: Any
    contribution: float
    text_en: str
    text_ko: str

    def to_dict(self) -> dict[str, Any]:
        """Plain mapping (JSON-ready)."""
        record = asdict(self)
        record["value"] = _plain(self.value)
        return record


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@lru_cache(maxsize=4)
def _phrase_document(path: str) -> dict[str, Any]:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}


def feature_phrases(path: str | Path | None = None) -> dict[str, Any]:
    """The phrase file: ``generic`` templates, ``verbs`` and per-feature ``features`` templates."""
    return _phrase_document(str(path or CONFIG_DIR / "feature_phrases.yml"))


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)
    except (TypeError, ValueError):
        return False


def _format(template: str, feature: str, value: Any, name: str) -> str:
    try:
        return template.format(feature=feature, value=value, name=name)
    except (ValueError, TypeError, KeyError, IndexError):
        plain = template.split("{value")[0] + str(value)
        return plain.format(feature=feature, value=value, name=name)


def _entry(document: dict[str, Any], feature: str) -> tuple[dict[str, Any] | None, str]:
    entry = (document.get("features") or {}).get(feature)
    if entry is not None:
        return entry, feature
    for prefix, template in (document.get("prefixes") or {}).items():
        if feature.startswith(prefix):
            return template, feature[len(prefix) :]
    return None, feature


def _is_flag(value: Any) -> bool:
    try:
        return float(value) in (0.0, 1.0)
    except (TypeError, ValueError):
        return False


def describe_feature(
    feature: str, value: Any, direction: str = "raised", phrases: dict[str, Any] | None = None
) -> tuple[str, str]:
    """English and Korean sentence for one feature's contribution.

    Boolean features use the ``when_true`` / ``when_false`` templates; numeric ones the ``en`` /
    ``ko`` templates with ``{value}`` (format specs allowed, e.g. ``{value:.1f}``). A feature
    without an entry falls back to the ``generic`` template, so every feature gets a sentence.

    Parameters
    ----------
    feature : str
        Feature name.
    value : Any
        The row's value of the feature.
    direction : {"raised", "lowered"}
        Whether the feature raised or lowered the score.
    phrases : dict, optional
        A loaded phrase document; defaults to ``ml/config/feature_phrases.yml``.
    """
    document = phrases if phrases is not None else feature_phrases()
    entry, name = _entry(document, feature)
    generic = document.get("generic") or {"en": "{feature} = {value}", "ko": "{feature} = {value}"}
    verbs = (document.get("verbs") or {}).get(direction) or {"en": direction + " the score", "ko": ""}
    if _is_missing(value):
        templates = (entry or {}).get("when_missing") or document.get("missing") or generic
        value = "—"
    elif entry and ("when_true" in entry or "when_false" in entry) and _is_flag(value):
        key = "when_true" if bool(value) else "when_false"
        templates = entry.get(key) or generic
    else:
        templates = entry or generic
        if isinstance(value, float) and "{value:" not in templates.get("en", ""):
            value = int(value) if value.is_integer() else float(f"{value:.3g}")
    text_en = _format(templates.get("en", generic["en"]), feature, value, name)
    text_ko = _format(templates.get("ko", generic["ko"]), feature, value, name)
    return f"{text_en} {verbs['en']}".strip(), f"{text_ko} {verbs['ko']}".strip()


def model_reason(
    feature: str,
    value: Any,
    contribution: float,
    phrases: dict[str, Any] | None = None,
    source: str = "model",
) -> Reason:
    """A `Reason` for a feature contribution (positive = raised the score)."""
    direction = "raised" if contribution >= 0 else "lowered"
    text_en, text_ko = describe_feature(feature, value, direction, phrases)
    return Reason(source, feature, _plain(value), round(float(contribution), 4), text_en, text_ko)


def rule_reason(rule_id: str, severity: Any, reason: str | None = None, name_ko: str | None = None) -> Reason:
    """A `Reason` for a rule hit, using the rule's own reason text when it has one."""
    text = reason or f"rule {rule_id} flagged the transaction"
    text_ko = f"{name_ko or rule_id} 규칙 적발: {reason}" if reason else f"{name_ko or rule_id} 규칙 적발"
    severity_value = _plain(severity)
    contribution = float(severity_value) if isinstance(severity_value, int | float) else 0.0
    return Reason("rule", rule_id, severity_value, contribution, text, text_ko)
