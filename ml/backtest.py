"""Backtest metrics: every system's ranking against ground truth at a daily review budget.

Pure functions over a frame of scored transactions (one score column per system, see
`orchestration.backtest`). A system's ranking is its score with its tie-break (the order the
alert policy uses); at a budget of ``k`` the top ``k`` of each day are alerted
(`ml.evaluation.top_k_per_day`), ties at the cut falling by transaction id as in the policy.
With the legacy filters' alerts, each Cardwatch system is also measured at the legacy filters'
own daily volume, and the hybrid at the legacy recall.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ml.benchmarks.markdown import fmt, table
from ml.evaluation import (
    average_precision,
    card_precision_at_k,
    precision_recall_at_k_per_day,
    roc_auc,
    top_k_per_day,
)

SYSTEMS = ("legacy_rules", "legacy_tree", "rules", "unsupervised", "supervised", "hybrid")
LEGACY = ("legacy_rules", "legacy_tree")


def read_truth(path: Path) -> pd.DataFrame:
    """Ground truth: transaction_id, is_misuse and amount_at_stake (simulator or adapter shape).

    ``path`` is a parquet/CSV file or a folder; in a folder every parquet file with
    ``transaction_id`` and ``is_misuse`` columns is read (the simulator's ``transactions.parquet``,
    the FDH adapter's ``fdh_transactions.parquet``).
    """
    if path.is_dir():
        frames = []
        for file in sorted(path.glob("*.parquet")):
            frame = pd.read_parquet(file)
            if {"transaction_id", "is_misuse"} <= set(frame.columns):
                frames.append(frame)
        if not frames:
            raise ValueError(f"{path}: no parquet file with transaction_id and is_misuse columns")
        truth = pd.concat(frames, ignore_index=True)
    elif path.suffix.lower() == ".csv":
        truth = pd.read_csv(path)
    else:
        truth = pd.read_parquet(path)
    missing = {"transaction_id", "is_misuse"} - set(truth.columns)
    if missing:
        raise ValueError(f"{path}: truth lacks columns {sorted(missing)}")
    out = pd.DataFrame(
        {
            "transaction_id": truth["transaction_id"].astype(str),
            "is_misuse": truth["is_misuse"].astype(bool),
        }
    )
    if "amount_at_stake" in truth:
        out["amount_at_stake"] = pd.to_numeric(truth["amount_at_stake"], errors="coerce").fillna(0.0)
    return out.drop_duplicates("transaction_id")


def ranking_key(score: pd.Series, tiebreak: pd.Series | None = None) -> np.ndarray:
    """Dense rank of (score, tiebreak): the order reviewers see, equal only when both are equal."""
    frame = pd.DataFrame(
        {
            "score": np.nan_to_num(score.to_numpy(dtype=float), nan=-np.inf),
            "tie": 0.0 if tiebreak is None else np.nan_to_num(tiebreak.to_numpy(dtype=float), nan=-np.inf),
        }
    )
    order = frame.sort_values(["score", "tie"], kind="stable")
    changed = (order[["score", "tie"]].diff().abs().sum(axis=1) > 0).to_numpy().copy()
    changed[0] = True
    key = np.empty(len(frame))
    key[order.index.to_numpy()] = np.cumsum(changed)
    return key


def _num(value: Any) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value


def alert_set_metrics(
    alerted: np.ndarray, y: np.ndarray, amount: np.ndarray, stake: np.ndarray, days: int
) -> dict[str, Any]:
    """Precision and recall (count and amount) of a fixed set of alerts."""
    alerts = int(alerted.sum())
    hits = int(y[alerted].sum())
    caught = float(stake[alerted].sum())
    return {
        "alerts": alerts,
        "alerts_per_day": alerts / days if days else None,
        "hits": hits,
        "precision": hits / alerts if alerts else None,
        "recall": hits / y.sum() if y.sum() else None,
        "misuse_amount_caught": caught,
        "amount_precision": caught / float(amount[alerted].sum()) if alerts else None,
        "amount_recall": caught / float(stake.sum()) if stake.sum() else None,
    }


def at_k(frame: pd.DataFrame, key: np.ndarray, k: int) -> dict[str, Any]:
    """Top ``k`` per day by ``key``: precision, recall (count and amount), amount caught."""
    y = frame["y"].to_numpy()
    stake = frame["stake"].to_numpy()
    budget = precision_recall_at_k_per_day(frame["day"], key, y, k, frame["amount"], stake)
    alerted = top_k_per_day(frame["day"], key, k)
    return {
        "k": k,
        "alerts": budget.alerts,
        "alerts_per_day": _num(budget.alerts_per_day),
        "hits": budget.hits,
        "precision": _num(budget.precision),
        "recall": _num(budget.recall),
        "misuse_amount_caught": float(stake[alerted].sum()),
        "amount_precision": _num(budget.amount_precision),
        "amount_recall": _num(budget.amount_recall),
    }


def k_for_recall(frame: pd.DataFrame, key: np.ndarray, target: float, metric: str) -> dict[str, Any] | None:
    """Smallest daily budget whose top-k reaches ``target`` recall (``recall`` or ``amount_recall``)."""
    high = int(frame.groupby("day").size().max())
    if (at_k(frame, key, high)[metric] or 0.0) < target:
        return None
    low = 0
    while high - low > 1:  # recall never falls as k grows: the top-k sets are nested
        middle = (low + high) // 2
        if (at_k(frame, key, middle)[metric] or 0.0) >= target:
            high = middle
        else:
            low = middle
    return at_k(frame, key, high)


def evaluate(
    scores: pd.DataFrame,
    ties: pd.DataFrame,
    truth: pd.DataFrame,
    budget: int,
    evaluated: np.ndarray | None = None,
) -> dict[str, Any]:
    """Per-system metrics at ``budget`` alerts a day and, with legacy alerts, at their own volume."""
    frame = scores.merge(truth, on="transaction_id", how="left", validate="one_to_one")
    for name in ties.columns:
        frame[f"_tie_{name}"] = ties[name].to_numpy()
    unmatched = int(frame["is_misuse"].isna().sum())
    frame["y"] = frame["is_misuse"].fillna(False).astype(int)
    frame["stake"] = (
        frame["amount_at_stake"].fillna(0.0).astype(float)
        if "amount_at_stake" in frame
        else frame["amount"].abs() * frame["y"]
    )
    frame["day"] = frame["transacted_at"].dt.date
    keep = np.ones(len(frame), dtype=bool) if evaluated is None else np.asarray(evaluated, dtype=bool)
    # rows in transaction-id order: ties at the daily cut fall as the alert policy breaks them
    frame = frame[keep].sort_values("transaction_id", kind="stable").reset_index(drop=True)
    days = int(frame["day"].nunique())
    y = frame["y"].to_numpy()
    metrics: dict[str, Any] = {
        "transactions": len(frame),
        "days": days,
        "excluded_known_positive": int((~keep).sum()),
        "not_in_truth": unmatched,
        "misuse": int(y.sum()),
        "misuse_amount": float(frame["stake"].sum()),
        "budget": budget,
        "systems": {},
    }
    keys: dict[str, np.ndarray] = {}
    for name in SYSTEMS:
        if frame[name].isna().all():
            metrics["systems"][name] = {"available": False}
            continue
        key = ranking_key(frame[name], frame.get(f"_tie_{name}"))
        keys[name] = key
        cards = card_precision_at_k(frame["day"], frame["employee_id"], key, y, budget)
        metrics["systems"][name] = {
            "available": True,
            "roc_auc": _num(roc_auc(y, key)),
            "average_precision": _num(average_precision(y, key)),
            **{f"{m}_at_k": v for m, v in at_k(frame, key, budget).items() if m != "k"},
            "employee_precision_at_k": _num(cards.mean),
        }
    perfect = perfect_key(frame)
    metrics["perfect_ranking"] = {
        **{f"{m}_at_k": v for m, v in at_k(frame, perfect, budget).items() if m != "k"},
        "employee_precision_at_k": _num(
            card_precision_at_k(frame["day"], frame["employee_id"], perfect, y, budget).mean
        ),
    }
    if all(name in keys for name in LEGACY):
        metrics["legacy"] = legacy_comparison(frame, keys, days)
    return metrics


def perfect_key(frame: pd.DataFrame) -> np.ndarray:
    """A ranking that knows the truth: misuse first, larger amounts at stake first (the ceiling)."""
    stake = frame["stake"].to_numpy(dtype=float)
    return frame["y"].to_numpy() * (1.0 + stake / (np.abs(stake).max(initial=0.0) + 1.0))


def legacy_comparison(frame: pd.DataFrame, keys: dict[str, np.ndarray], days: int) -> dict[str, Any]:
    """The legacy filters as they alerted, and each Cardwatch system at their daily volume."""
    y = frame["y"].to_numpy()
    amount = frame["amount"].abs().to_numpy()
    stake = frame["stake"].to_numpy()
    ruled = frame["legacy_rules"].to_numpy() > 0
    treed = frame["legacy_tree"].to_numpy() > 0
    both = ruled | treed
    combined = alert_set_metrics(both, y, amount, stake, days)
    k = max(1, round(combined["alerts"] / days)) if days else 1
    at_volume = {name: at_k(frame, keys[name], k) for name in keys if name not in LEGACY}
    at_volume["perfect_ranking"] = at_k(frame, perfect_key(frame), k)
    result: dict[str, Any] = {
        "as_alerted": {
            "legacy_rules": alert_set_metrics(ruled, y, amount, stake, days),
            "legacy_tree": alert_set_metrics(treed, y, amount, stake, days),
            "legacy_combined": combined,
        },
        "volume_k": k,
        "at_legacy_volume": at_volume,
    }
    hybrid = at_volume.get("hybrid")
    if hybrid is None or not combined["alerts"]:
        return result
    needed = {
        metric: k_for_recall(frame, keys["hybrid"], combined[metric] or 0.0, metric)
        for metric in ("recall", "amount_recall")
    }
    result["hybrid_at_legacy_recall"] = needed

    def ratio(a: float | None, b: float | None) -> float | None:
        return a / b if a is not None and b else None

    amount_ratio = ratio(hybrid["misuse_amount_caught"], combined["misuse_amount_caught"])
    precision_ratio = ratio(hybrid["precision"], combined["precision"])
    best = at_volume["perfect_ranking"]
    alerts_ratio = {
        metric: ratio(found["alerts"], combined["alerts"]) if found else None
        for metric, found in needed.items()
    }
    result["target"] = {
        "amount_caught_ratio": amount_ratio,
        "precision_ratio": precision_ratio,
        "amount_precision_ratio": ratio(hybrid["amount_precision"], combined["amount_precision"]),
        "alerts_ratio_at_legacy_recall": alerts_ratio["recall"],
        "alerts_ratio_at_legacy_amount_recall": alerts_ratio["amount_recall"],
        # the most any ranking could reach at the legacy volume
        "amount_caught_ratio_ceiling": ratio(best["misuse_amount_caught"], combined["misuse_amount_caught"]),
        "precision_ratio_ceiling": ratio(best["precision"], combined["precision"]),
        "holds": bool(
            amount_ratio is not None
            and amount_ratio >= 2
            and precision_ratio is not None
            and precision_ratio >= 3
            and alerts_ratio["recall"] is not None
            and alerts_ratio["recall"] <= 1 / 3
        ),
    }
    return result


def _fmt(value: Any, digits: int = 3) -> str:
    if isinstance(value, float) and digits == 0:
        return f"{value:,.0f}"
    return fmt(value, digits) if value is not None else "–"


def render_markdown(metrics: dict[str, Any]) -> str:
    """The metrics as Markdown tables (one row per system)."""
    window = metrics["window"]
    evaluation = metrics["evaluation"]
    k = evaluation["budget"]
    lines = [
        "# Backtest",
        "",
        f"Training up to {window['train_end']} (cut-off {window['cutoff']}, labels matured "
        f"{window['label_delay_days']:g} days), test {window['test_start']} .. {window['test_end']}: "
        f"{evaluation['transactions']:,} transactions over {evaluation['days']} days, "
        f"{evaluation['misuse']:,} misuse ({_fmt(evaluation['misuse_amount'], 0)} at stake).",
        "",
    ]
    if evaluation["excluded_known_positive"]:
        lines += [
            f"{evaluation['excluded_known_positive']:,} transactions of cardholders already known to "
            "have misused (a confirmed outcome matured before the day) are left out, as in the handbook.",
            "",
        ]
    rows = []
    for name in SYSTEMS:
        m = evaluation["systems"][name]
        if not m["available"]:
            rows.append([name, *(["–"] * 10)])
            continue
        rows.append(
            [
                name,
                _fmt(m["roc_auc"]),
                _fmt(m["average_precision"]),
                _fmt(m["precision_at_k"]),
                _fmt(m["recall_at_k"]),
                _fmt(m["amount_precision_at_k"]),
                _fmt(m["amount_recall_at_k"]),
                _fmt(m["employee_precision_at_k"]),
                _fmt(m["alerts_per_day_at_k"], 1),
                f"{m['hits_at_k']:,}",
                _fmt(m["misuse_amount_caught_at_k"], 0),
            ]
        )
    best = evaluation.get("perfect_ranking")
    if best:
        rows.append(
            [
                "perfect ranking (ceiling)",
                "1.000",
                "1.000",
                _fmt(best["precision_at_k"]),
                _fmt(best["recall_at_k"]),
                _fmt(best["amount_precision_at_k"]),
                _fmt(best["amount_recall_at_k"]),
                _fmt(best["employee_precision_at_k"]),
                _fmt(best["alerts_per_day_at_k"], 1),
                f"{best['hits_at_k']:,}",
                _fmt(best["misuse_amount_caught_at_k"], 0),
            ]
        )
    headers = [
        "system",
        "ROC-AUC",
        "AP",
        f"precision@{k}/day",
        f"recall@{k}/day",
        "amount precision",
        "amount recall",
        f"employee precision@{k}",
        "alerts/day",
        "misuse caught",
        "amount caught",
    ]
    lines += [f"## At {k} alerts a day", "", table(headers, rows), ""]
    unavailable = [n for n in SYSTEMS if not evaluation["systems"][n]["available"]]
    notes = metrics.get("notes", {})
    for name in unavailable:
        lines.append(f"- `{name}`: {notes.get(name, 'not available')}.")
    if unavailable:
        lines.append("")
    legacy = evaluation.get("legacy")
    if legacy:
        lines += [render_legacy(legacy), ""]
    return "\n".join(lines)


def render_legacy(legacy: dict[str, Any]) -> str:
    k = legacy["volume_k"]
    rows = []
    for name, m in legacy["as_alerted"].items():
        rows.append([f"{name} (as alerted)", *_alert_cells(m)])
    for name, m in legacy["at_legacy_volume"].items():
        label = "perfect ranking (ceiling)" if name == "perfect_ranking" else name
        rows.append([f"{label} (top {k}/day)", *_alert_cells(m)])
    for metric, found in legacy.get("hybrid_at_legacy_recall", {}).items():
        if found:
            label = "count" if metric == "recall" else "amount"
            rows.append([f"hybrid at the legacy {label} recall (top {found['k']}/day)", *_alert_cells(found)])
    headers = [
        "system",
        "alerts",
        "alerts/day",
        "precision",
        "recall",
        "amount precision",
        "amount recall",
        "amount caught",
    ]
    text = [f"## At the legacy filters' own volume ({k} alerts a day)", "", table(headers, rows)]
    target = legacy.get("target")
    if target:
        text += [
            "",
            f"Target (hybrid at the legacy volume: at least 2x the misuse amount the two legacy filters "
            f"catch together, at 3x their precision; at the legacy recall at most a third of their alerts): "
            f"amount caught x{_fmt(target['amount_caught_ratio'], 2)}, precision "
            f"x{_fmt(target['precision_ratio'], 2)}, alerts at the legacy count recall "
            f"x{_fmt(target['alerts_ratio_at_legacy_recall'], 2)} (amount recall: "
            f"x{_fmt(target['alerts_ratio_at_legacy_amount_recall'], 2)}): "
            f"**{'holds' if target['holds'] else 'does not hold'}**. A perfect ranking at this volume would "
            f"reach amount caught x{_fmt(target['amount_caught_ratio_ceiling'], 2)} and precision "
            f"x{_fmt(target['precision_ratio_ceiling'], 2)}.",
        ]
    return "\n".join(text)


def _alert_cells(m: dict[str, Any]) -> list[str]:
    return [
        f"{m['alerts']:,}",
        _fmt(m["alerts_per_day"], 1),
        _fmt(m["precision"]),
        _fmt(m["recall"]),
        _fmt(m["amount_precision"]),
        _fmt(m["amount_recall"]),
        _fmt(m["misuse_amount_caught"], 0),
    ]
