"""Turn the pipeline's alert frame into case rows: one per transaction, reasons merged, ids made."""

from __future__ import annotations

import hashlib
import json
import math
import re
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

REQUIRED = ("transaction_id", "card_id", "amount", "reasons", "alert_date")
DETAIL_COLUMNS = ("transacted_at", "merchant_name", "merchant_category", "merchant_region")


def case_id_for(transaction_id: str) -> str:
    """A stable case id: the same alert always maps to the same case."""
    return "C-" + hashlib.sha256(transaction_id.encode()).hexdigest()[:16]


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        return bool(pd.isna(value)) if np.ndim(value) == 0 else False
    except (TypeError, ValueError):
        return False


def parse_reasons(value: Any) -> list[str]:
    """Reasons as a list: accepts a list/array, a JSON list, or text separated by , ; or |."""
    if _missing(value):
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                return parse_reasons(json.loads(text))
            except json.JSONDecodeError:
                pass
        items: list[Any] = re.split(r"[,;|]", text)
    else:
        items = list(value)
    out: list[str] = []
    for item in items:
        name = str(item).strip()
        if name and name not in out:
            out.append(name)
    return out


def _date(value: Any) -> date:
    stamp = pd.Timestamp(value)
    if pd.isna(stamp):
        raise ValueError(f"alert_date {value!r} is not a date")
    return stamp.date()


def _scalar(value: Any) -> Any:
    if _missing(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp | datetime):
        return pd.Timestamp(value).isoformat(sep=" ")
    return value


def prepare_alerts(alerts: pd.DataFrame) -> tuple[list[dict[str, Any]], int]:
    """Validate and collapse the alert frame; returns (one row per transaction, duplicates merged)."""
    missing = [column for column in REQUIRED if column not in alerts.columns]
    if missing:
        raise ValueError(f"alerts are missing column(s): {', '.join(missing)}")
    rows: dict[str, dict[str, Any]] = {}
    duplicates = 0
    no_reason: list[str] = []
    for record in alerts.to_dict("records"):
        if _missing(record["transaction_id"]):
            raise ValueError("an alert has no transaction_id")
        tid = str(record["transaction_id"]).strip()
        reasons = parse_reasons(record["reasons"])
        if not reasons:
            no_reason.append(tid)
        score = record.get("score")
        score = None if _missing(score) else float(score)
        if tid in rows:
            duplicates += 1
            kept = rows[tid]
            kept["alerted_by"] += [r for r in reasons if r not in kept["alerted_by"]]
            if score is not None and (kept["score"] is None or score > kept["score"]):
                kept["score"] = score
            continue
        if _missing(record["card_id"]) or _missing(record["amount"]):
            raise ValueError(f"alert for transaction {tid} has no card_id or amount")
        card_id = str(record["card_id"]).strip()
        employee = record.get("employee_id")
        details = {key: _scalar(record.get(key)) for key in DETAIL_COLUMNS if key in alerts.columns}
        rows[tid] = {
            "case_id": case_id_for(tid),
            "transaction_id": tid,
            "employee_id": card_id if _missing(employee) else str(employee).strip(),
            "card_id": card_id,
            "amount": float(record["amount"]),
            "score": score,
            "alerted_by": reasons,
            "alert_date": _date(record["alert_date"]),
            "details": {k: v for k, v in details.items() if v is not None} or None,
        }
    if no_reason:
        raise ValueError(
            f"{len(no_reason)} alert(s) have no reasons (e.g. transaction {no_reason[0]}); every alert "
            "needs the rule, model or random_audit that raised it"
        )
    return list(rows.values()), duplicates
