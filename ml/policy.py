"""The daily alert policy: hard violations, the ranked grey zone, and exploration.

Routes, in order, for each day:

``hard``
    A transaction with an unsuppressed hit of a hard rule (``hard_rule_ids``) or of severity at
    least ``hard_min_severity`` always alerts, beyond capacity if need be.
``ranked``
    The rest (the grey zone) is cut at the capacity: the top ``daily_capacity`` by score in
    ``capacity`` mode, or those with probability x recoverable amount > review cost in
    ``expected_value`` mode (highest expected value first, still at most the capacity).
``exploration``
    Each non-alerted transaction enters the random sample with probability ``exploration_rate``
    (per stratum if configured), drawn from a hash of (seed, day, transaction id). A row marked
    ``exploration_eligible`` = False (a transaction scored again on the day its expense claim
    arrived, after its own day's draw) is never drawn: each transaction gets one draw.

A suppressed hit, or a hit of a rule that may not alert (draft, shadow), never makes a hard
alert and never appears as a rule reason; the fused score is built without it as well (see
`ml.fusion.stacking_features`). Every alert carries its route, its propensity (1, or the
exploration rate) and its reasons: the rule hits first, then the model's contributions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ml.explain import Reason, load_parameters, rule_reason
from ml.labels import isin

MODES = ("capacity", "expected_value")
EXPLORATION = "exploration"  # the random-sample route
ROUTES = ("hard", "ranked", EXPLORATION)


@dataclass(frozen=True)
class PolicyConfig:
    """Alert policy parameters (``ml/config/policy.yml`` describes each)."""

    mode: str = "capacity"
    daily_capacity: int = 40
    hard_counts_against_capacity: bool = True
    review_cost_krw: float = 30000.0
    recoverable_share: float = 1.0
    min_score: float = 0.0
    hard_rule_ids: tuple[str, ...] = ()
    hard_min_severity: int | None = 5
    exploration_rate: float = 0.002
    exploration_strata: str | None = None
    exploration_stratum_rates: dict[str, float] = field(default_factory=dict)
    seed: int = 0
    top_n_model_reasons: int = 3
    claim_rescore_days: int = 60

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        if self.daily_capacity < 0:
            raise ValueError("daily_capacity must be non-negative")
        if self.claim_rescore_days < 0:
            raise ValueError("claim_rescore_days must be non-negative")
        rates = [self.exploration_rate, *self.exploration_stratum_rates.values()]
        if any(not 0.0 <= r <= 1.0 for r in rates):
            raise ValueError("exploration rates must lie in [0, 1]")

    def to_dict(self) -> dict[str, Any]:
        """Plain mapping for run records."""
        record = asdict(self)
        record["hard_rule_ids"] = list(self.hard_rule_ids)
        return record


def load_policy(path: str | None = None, **overrides: Any) -> PolicyConfig:
    """`PolicyConfig` from ``ml/config/policy.yml`` (or ``path``), with keyword overrides."""
    values = load_parameters("policy", path=path, overrides=overrides)
    values["hard_rule_ids"] = tuple(values.get("hard_rule_ids") or ())
    values["exploration_stratum_rates"] = dict(values.get("exploration_stratum_rates") or {})
    return PolicyConfig(**values)


def exploration_draw(seed: int, day: Any, transaction_id: Any) -> float:
    """Uniform number in [0, 1) fixed by (seed, day, transaction id)."""
    return _draw(seed, pd.Timestamp(day).date().isoformat(), transaction_id)


def _draw(seed: int, day_iso: str, transaction_id: Any) -> float:
    """`exploration_draw` with the day already written as ``YYYY-MM-DD``."""
    key = f"{seed}|{day_iso}|{transaction_id}".encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") / 2.0**64


def _eligible_hits(rule_hits: pd.DataFrame | None) -> pd.DataFrame:
    if rule_hits is None or len(rule_hits) == 0:
        return pd.DataFrame(columns=["transaction_id", "rule_id", "severity", "reason"])
    keep = np.ones(len(rule_hits), dtype=bool)
    if "is_alert_candidate" in rule_hits:
        keep &= rule_hits["is_alert_candidate"].fillna(False).astype(bool).to_numpy()
    if "is_suppressed" in rule_hits:
        keep &= ~rule_hits["is_suppressed"].fillna(False).astype(bool).to_numpy()
    hits = rule_hits[keep].copy()
    hits["severity"] = pd.to_numeric(hits["severity"], errors="coerce").fillna(0).astype(int)
    if "reason" not in hits:
        hits["reason"] = None
    return hits


def _hard_ids(hits: pd.DataFrame, config: PolicyConfig) -> set[Any]:
    hard = hits["rule_id"].isin(set(config.hard_rule_ids)).to_numpy().copy()
    if config.hard_min_severity is not None:
        hard |= (hits["severity"] >= config.hard_min_severity).to_numpy()
    return set(hits.loc[hard, "transaction_id"])


def _as_reason_dicts(value: Any, limit: int) -> list[dict[str, Any]]:
    if not isinstance(value, list | tuple):
        return []
    out = []
    for item in value[:limit]:
        out.append(item.to_dict() if isinstance(item, Reason) else dict(item))
    return out


def decide_alerts(
    scored: pd.DataFrame,
    rule_hits: pd.DataFrame | None = None,
    config: PolicyConfig | None = None,
    day_column: str = "transacted_date",
    explain: Callable[[pd.DataFrame], Sequence[Any]] | None = None,
) -> pd.DataFrame:
    """Pick the day's alerts and say why each was raised.

    Parameters
    ----------
    scored : DataFrame
        One row per transaction: ``transaction_id``, the day (``day_column``, or
        ``transacted_at`` when that column is absent), ``score`` (higher = review first),
        ``amount``; optionally ``probability`` (calibrated; required in ``expected_value``
        mode), ``recoverable_amount``, ``tiebreak``, ``reasons`` (model reasons per row, as
        `Reason` objects or dicts), the exploration stratum column and ``exploration_eligible``
        (False keeps a row out of the random sample).
    rule_hits : DataFrame, optional
        ``fct_rule_hits`` rows: transaction_id, rule_id, severity, reason, and is_suppressed /
        is_alert_candidate when known.
    config : PolicyConfig, optional
        Default: `load_policy()`.
    day_column : str
    explain : callable, optional
        Called once with the chosen alerts (rows of ``scored``); returns their model reasons in
        that order, replacing ``scored["reasons"]``. Lets a caller explain only what is alerted.

    Returns
    -------
    DataFrame, one row per alert: transaction_id, alert_day, route, route_rank, score,
    probability, expected_value, amount, propensity, rule_ids, reasons (list of dicts),
    reason_text, reason_text_ko.
    """
    cfg = config or load_policy()
    frame = scored.copy().reset_index(drop=True)
    if day_column in frame:
        frame["alert_day"] = pd.to_datetime(frame[day_column]).dt.normalize()
    else:
        frame["alert_day"] = pd.to_datetime(frame["transacted_at"]).dt.normalize()
    frame["score"] = pd.to_numeric(frame["score"], errors="coerce")
    if "tiebreak" not in frame:
        frame["tiebreak"] = 0.0
    amount = pd.to_numeric(frame.get("amount", pd.Series(0.0, index=frame.index)), errors="coerce").fillna(
        0.0
    )
    frame["amount"] = amount
    probability = frame["probability"] if "probability" in frame else pd.Series(np.nan, index=frame.index)
    frame["probability"] = pd.to_numeric(probability, errors="coerce")
    recoverable = (
        pd.to_numeric(frame["recoverable_amount"], errors="coerce")
        if "recoverable_amount" in frame
        else amount.clip(lower=0.0) * cfg.recoverable_share
    )
    frame["expected_value"] = frame["probability"] * recoverable
    if cfg.mode == "expected_value" and frame["probability"].isna().any():
        raise ValueError("expected_value mode needs a calibrated probability on every row (stacked model)")

    hits = _eligible_hits(rule_hits)
    hard_ids = _hard_ids(hits, cfg)
    frame["route"] = np.where(frame["transaction_id"].isin(hard_ids), "hard", "")
    frame["propensity"] = np.where(frame["route"] == "hard", 1.0, np.nan)

    for _, rows in frame.groupby("alert_day", sort=True):
        hard_today = int((rows["route"] == "hard").sum())
        slots = cfg.daily_capacity - (hard_today if cfg.hard_counts_against_capacity else 0)
        grey = rows[(rows["route"] == "") & (rows["score"] >= cfg.min_score)]
        if cfg.mode == "expected_value":
            grey = grey[grey["expected_value"] > cfg.review_cost_krw]
            order = grey.sort_values(
                ["expected_value", "score", "tiebreak", "transaction_id"],
                ascending=[False, False, False, True],
                kind="stable",
            )
        else:
            order = grey.sort_values(
                ["score", "tiebreak", "transaction_id"], ascending=[False, False, True], kind="stable"
            )
        chosen = order.index[: max(0, slots)]
        frame.loc[chosen, "route"] = "ranked"
        frame.loc[chosen, "propensity"] = 1.0

    rest = frame["route"] == ""
    if "exploration_eligible" in frame:
        rest &= frame["exploration_eligible"].fillna(True).astype(bool)
    if cfg.exploration_strata:
        strata = frame[cfg.exploration_strata].astype("string").fillna("")
        rate = strata.map(lambda s: cfg.exploration_stratum_rates.get(s, cfg.exploration_rate)).astype(float)
    else:
        rate = pd.Series(cfg.exploration_rate, index=frame.index, dtype=float)
    day_iso = {day: pd.Timestamp(day).date().isoformat() for day in frame["alert_day"].unique()}
    draws = np.array(
        [
            _draw(cfg.seed, day_iso[day], tx) if open_ else 1.0
            for day, tx, open_ in zip(frame["alert_day"], frame["transaction_id"], rest, strict=True)
        ]
    )
    explored = rest.to_numpy() & (draws < rate.to_numpy())
    frame.loc[explored, "route"] = "exploration"
    frame.loc[explored, "propensity"] = rate[explored]

    alerts = frame[frame["route"] != ""].copy()
    alerts["route"] = pd.Categorical(alerts["route"], categories=list(ROUTES), ordered=True)
    alerts = alerts.sort_values(
        ["alert_day", "route", "score", "tiebreak", "transaction_id"],
        ascending=[True, True, False, False, True],
        kind="stable",
    )
    alerts["route_rank"] = alerts.groupby(["alert_day", "route"], observed=True).cumcount() + 1
    alerts["route"] = alerts["route"].astype(str)
    if explain is not None:
        alerts["reasons"] = list(explain(alerts)) if len(alerts) else []
    return _attach_reasons(alerts, hits, cfg).reset_index(drop=True)


def _attach_reasons(alerts: pd.DataFrame, hits: pd.DataFrame, cfg: PolicyConfig) -> pd.DataFrame:
    # Each alert's hits, most severe first (rule id, then their order in ``hits``, breaking ties):
    # one stable sort of the alerts' hits instead of one sort per alerted transaction.
    ordered = hits[isin(hits["transaction_id"], alerts["transaction_id"])].sort_values(
        ["severity", "rule_id"], ascending=[False, True], kind="stable"
    )
    by_tx: dict[Any, list[tuple[Any, Any, Any]]] = {}
    for tx, rule_id, severity, text in zip(
        ordered["transaction_id"], ordered["rule_id"], ordered["severity"], ordered["reason"], strict=True
    ):
        by_tx.setdefault(tx, []).append((rule_id, severity, text))
    model_reasons = (
        alerts["reasons"] if "reasons" in alerts else pd.Series([[]] * len(alerts), index=alerts.index)
    )
    reasons_col, text_en, text_ko, rule_ids = [], [], [], []
    for tx, route, model in zip(alerts["transaction_id"], alerts["route"], model_reasons, strict=True):
        rows = by_tx.get(tx)
        reasons = []
        if rows is not None:
            for rule_id, severity, text in rows:
                reasons.append(
                    rule_reason(str(rule_id), int(severity), None if pd.isna(text) else str(text)).to_dict()
                )
        reasons.extend(_as_reason_dicts(model, cfg.top_n_model_reasons))
        if route == "exploration":
            reasons.append(
                Reason(
                    "exploration",
                    "random_sample",
                    None,
                    0.0,
                    "picked by the daily random exploration sample",
                    "일일 무작위 표본 점검 대상",
                ).to_dict()
            )
        reasons_col.append(reasons)
        text_en.append("; ".join(r["text_en"] for r in reasons))
        text_ko.append("; ".join(r["text_ko"] for r in reasons))
        rule_ids.append(",".join(sorted(str(rule_id) for rule_id, _, _ in rows)) if rows is not None else "")
    alerts["rule_ids"] = rule_ids
    alerts["reasons"] = reasons_col
    alerts["reason_text"] = text_en
    alerts["reason_text_ko"] = text_ko
    columns = [
        "transaction_id",
        "alert_day",
        "route",
        "route_rank",
        "score",
        "probability",
        "expected_value",
        "amount",
        "propensity",
        "rule_ids",
        "reasons",
        "reason_text",
        "reason_text_ko",
    ]
    extra = [c for c in ("employee_id", "score_mode") if c in alerts]
    return alerts[columns[:2] + extra + columns[2:]]


def alert_summary(alerts: pd.DataFrame) -> pd.DataFrame:
    """Alerts per day and route (columns hard, ranked, exploration, total)."""
    table = alerts.pivot_table(index="alert_day", columns="route", values="transaction_id", aggfunc="count")
    table = table.reindex(columns=list(ROUTES)).fillna(0).astype(int)
    table["total"] = table.sum(axis=1)
    return table
