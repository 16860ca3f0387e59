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
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ml.benchmarks.markdown import fmt, table
from ml.evaluation import average_precision, card_precision_at_k, roc_auc, top_k_per_day

SYSTEMS = ("legacy_rules", "legacy_tree", "rules", "unsupervised", "supervised", "hybrid")
LEGACY = ("legacy_rules", "legacy_tree")
PERFECT = "perfect_ranking"
PERFECT_LABEL = "perfect ranking (ceiling)"

# The issue's target for the hybrid against the two legacy filters together: at the filters' own
# daily volume, at least TARGET_AMOUNT_RATIO times the misuse amount they catch, at
# TARGET_PRECISION_RATIO times their precision; at their (count) recall, at most
# TARGET_ALERTS_SHARE of their alerts.
TARGET_AMOUNT_RATIO = 2
TARGET_PRECISION_RATIO = 3
TARGET_ALERTS_SHARE = Fraction(1, 3)


def read_truth(path: Path) -> pd.DataFrame:
    """Ground truth: transaction_id, is_misuse, amount_at_stake and typology when the file has them.

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
    if "typology" in truth:
        out["typology"] = truth["typology"].astype("string").fillna("").to_numpy()
    return out.drop_duplicates("transaction_id")


def ranking_key(score: pd.Series, tiebreak: pd.Series | None = None) -> np.ndarray:
    """Dense rank of (score, tiebreak), missing values lowest: the order reviewers see."""
    frame = pd.DataFrame(
        {
            "score": np.nan_to_num(score.to_numpy(dtype=float), nan=-np.inf),
            "tie": 0.0 if tiebreak is None else np.nan_to_num(tiebreak.to_numpy(dtype=float), nan=-np.inf),
        }
    )
    return frame.groupby(["score", "tie"], sort=True).ngroup().to_numpy(dtype=float)


def _num(value: Any) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value


def _ratio(numerator: Any, denominator: Any) -> float | None:
    """numerator / denominator, None when either is missing or the denominator is zero."""
    return float(numerator / denominator) if numerator is not None and denominator else None


def alert_set_metrics(frame: pd.DataFrame, alerted: np.ndarray) -> dict[str, Any]:
    """Precision and recall (count and amount) of the ``alerted`` rows of ``frame``.

    ``frame`` has the columns ``day``, ``y`` (1 misuse), ``amount`` and ``stake`` (misuse amount
    at stake), as `evaluate` builds them.
    """
    y = frame["y"].to_numpy()
    stake = frame["stake"].to_numpy(dtype=float)
    alerts = int(alerted.sum())
    hits = int(y[alerted].sum())
    caught = float(stake[alerted].sum())
    return {
        "alerts": alerts,
        "alerts_per_day": _ratio(alerts, frame["day"].nunique()),
        "hits": hits,
        "precision": _ratio(hits, alerts),
        "recall": _ratio(hits, y.sum()),
        "misuse_amount_caught": caught,
        "amount_precision": _ratio(caught, frame["amount"].abs().to_numpy()[alerted].sum()),
        "amount_recall": _ratio(caught, stake.sum()),
    }


def at_k(frame: pd.DataFrame, key: np.ndarray, k: int) -> dict[str, Any]:
    """`alert_set_metrics` of the top ``k`` rows of each day by ``key``, with ``k``."""
    return {"k": k, **alert_set_metrics(frame, top_k_per_day(frame["day"], key, k))}


def ranking_metrics(frame: pd.DataFrame, key: np.ndarray, k: int) -> dict[str, Any]:
    """ROC-AUC, average precision, `at_k` and employee (card) precision@k of one ranking."""
    y = frame["y"].to_numpy()
    return {
        "roc_auc": _num(roc_auc(y, key)),
        "average_precision": _num(average_precision(y, key)),
        **{f"{m}_at_k": v for m, v in at_k(frame, key, k).items() if m != "k"},
        "employee_precision_at_k": _num(
            card_precision_at_k(frame["day"], frame["employee_id"], key, y, k).mean
        ),
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


def with_truth(scores: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """``scores`` (transaction_id, transacted_at, amount, ...) in their order, joined to ``truth``
    (`read_truth`), with ``y`` (1 = misuse; a transaction missing from the truth counts as not
    misuse), ``stake`` (the misuse amount at stake; a misuse's whole amount when the truth has no
    such column) and ``day``."""
    frame = scores.merge(truth, on="transaction_id", how="left", validate="one_to_one")
    frame["y"] = frame["is_misuse"].fillna(False).astype(int)
    frame["stake"] = (
        frame["amount_at_stake"].fillna(0.0).astype(float)
        if "amount_at_stake" in frame
        else frame["amount"].abs() * frame["y"]
    )
    frame["day"] = frame["transacted_at"].dt.normalize()
    return frame


def evaluate(
    scores: pd.DataFrame,
    ties: pd.DataFrame,
    truth: pd.DataFrame,
    budget: int,
    evaluated: np.ndarray | None = None,
) -> dict[str, Any]:
    """Per-system metrics at ``budget`` alerts a day and, with legacy alerts, at their own volume."""
    frame = with_truth(scores, truth)
    for name in ties.columns:
        frame[f"_tie_{name}"] = ties[name].to_numpy()
    unmatched = int(frame["is_misuse"].isna().sum())
    keep = np.ones(len(frame), dtype=bool) if evaluated is None else np.asarray(evaluated, dtype=bool)
    # rows in transaction-id order: ties at the daily cut fall as the alert policy breaks them
    frame = frame[keep].sort_values("transaction_id", kind="stable").reset_index(drop=True)
    keys = {
        name: ranking_key(frame[name], frame.get(f"_tie_{name}"))
        for name in SYSTEMS
        if frame[name].notna().any()
    }
    perfect = perfect_key(frame)
    metrics: dict[str, Any] = {
        "transactions": len(frame),
        "days": int(frame["day"].nunique()),
        "excluded_known_positive": int((~keep).sum()),
        "not_in_truth": unmatched,
        "misuse": int(frame["y"].sum()),
        "misuse_amount": float(frame["stake"].sum()),
        "budget": budget,
        "systems": {
            name: {"available": True, **ranking_metrics(frame, keys[name], budget)}
            if name in keys
            else {"available": False}
            for name in SYSTEMS
        },
        PERFECT: ranking_metrics(frame, perfect, budget),
    }
    if all(name in keys for name in LEGACY):
        metrics["legacy"] = legacy_comparison(frame, keys, perfect)
    if "typology" in frame and "hybrid" in keys:
        volume = metrics["legacy"]["volume_k"] if "legacy" in metrics else None
        metrics["by_typology"] = typology_recall(frame, keys, budget, volume)
    return metrics


def typology_recall(
    frame: pd.DataFrame, keys: dict[str, np.ndarray], budget: int, legacy_volume: int | None
) -> dict[str, dict[str, Any]]:
    """Misuse found per typology: by the legacy filters as they alerted, by the hybrid at ``budget``
    a day and at the legacy filters' daily volume (where they failed, and whether Cardwatch does)."""
    misuse = frame["y"].to_numpy() == 1
    typology = frame["typology"].fillna("").astype(str).to_numpy()
    caught = {"hybrid_at_k": top_k_per_day(frame["day"], keys["hybrid"], budget)}
    if legacy_volume is not None:
        caught["hybrid_at_legacy_volume"] = top_k_per_day(frame["day"], keys["hybrid"], legacy_volume)
    if all(name in keys for name in LEGACY):
        caught["legacy_as_alerted"] = np.logical_or(*(frame[name].to_numpy() > 0 for name in LEGACY))
    stake = frame["stake"].to_numpy(dtype=float)
    out: dict[str, dict[str, Any]] = {}
    for name in sorted(set(typology[misuse])):
        rows = misuse & (typology == name)
        entry: dict[str, Any] = {"misuse": int(rows.sum()), "amount": float(stake[rows].sum())}
        for system, mask in caught.items():
            entry[system] = int((rows & mask).sum())
            entry[f"{system}_amount"] = float(stake[rows & mask].sum())
        out[name or "(none)"] = entry
    return out


def typology_table(evaluation: dict[str, Any]) -> str:
    """An evaluation's `typology_recall` as a Markdown table, the typologies the hybrid misses most first."""
    by_typology, budget = evaluation["by_typology"], evaluation["budget"]
    legacy_volume = evaluation["legacy"]["volume_k"] if "legacy" in evaluation else None
    columns = [
        ("legacy_as_alerted", "legacy filters (as alerted)"),
        ("hybrid_at_k", f"hybrid, top {budget}/day"),
    ]
    if legacy_volume is not None:
        columns.append(("hybrid_at_legacy_volume", f"hybrid, top {legacy_volume}/day"))
    columns = [(key, label) for key, label in columns if any(key in e for e in by_typology.values())]
    last = columns[-1][0]
    order = sorted(
        by_typology, key=lambda name: (by_typology[name][last] - by_typology[name]["misuse"], name)
    )
    headers = ["typology", "misuse", "amount at stake", *(f"found by {label}" for _, label in columns)]
    headers.append(f"amount missed, {columns[-1][1]}")
    rows = []
    for name in order:
        e = by_typology[name]
        rows.append(
            [
                name,
                f"{e['misuse']:,}",
                _fmt(e["amount"], 0),
                *(f"{e[key]:,} ({e[key] / e['misuse']:.0%})" for key, _ in columns),
                _fmt(e["amount"] - e[f"{last}_amount"], 0),
            ]
        )
    return table(headers, rows)


def perfect_key(frame: pd.DataFrame) -> np.ndarray:
    """A ranking that knows the truth: misuse first, larger amounts at stake first (the ceiling)."""
    stake = frame["stake"].to_numpy(dtype=float)
    return frame["y"].to_numpy() * (1.0 + stake / (np.abs(stake).max(initial=0.0) + 1.0))


def legacy_comparison(
    frame: pd.DataFrame, keys: dict[str, np.ndarray], perfect: np.ndarray
) -> dict[str, Any]:
    """The legacy filters as they alerted, and the other rankings at the filters' daily volume."""
    alerted = {name: frame[name].to_numpy() > 0 for name in LEGACY}
    as_alerted = {name: alert_set_metrics(frame, alerted[name]) for name in LEGACY}
    combined = as_alerted["legacy_combined"] = alert_set_metrics(frame, np.logical_or(*alerted.values()))
    k = max(1, round(combined["alerts_per_day"] or 0))
    rankings = {**{name: key for name, key in keys.items() if name not in LEGACY}, PERFECT: perfect}
    at_volume = {name: at_k(frame, key, k) for name, key in rankings.items()}
    result: dict[str, Any] = {"as_alerted": as_alerted, "volume_k": k, "at_legacy_volume": at_volume}
    if "hybrid" not in keys or not combined["alerts"]:
        return result
    needed = {
        metric: k_for_recall(frame, keys["hybrid"], combined[metric] or 0.0, metric)
        for metric in ("recall", "amount_recall")
    }
    result["hybrid_at_legacy_recall"] = needed
    result["target"] = target_ratios(at_volume["hybrid"], at_volume[PERFECT], combined, needed)
    return result


def target_ratios(
    hybrid: dict[str, Any],
    best: dict[str, Any],
    legacy: dict[str, Any],
    needed: dict[str, dict[str, Any] | None],
) -> dict[str, Any]:
    """The hybrid's ratios to the legacy filters (see ``TARGET_*``), and a perfect ranking's ceiling."""
    amount_ratio = _ratio(hybrid["misuse_amount_caught"], legacy["misuse_amount_caught"])
    precision_ratio = _ratio(hybrid["precision"], legacy["precision"])
    alerts_ratio = {
        metric: _ratio(found["alerts"] if found else None, legacy["alerts"])
        for metric, found in needed.items()
    }
    parts = {
        "amount": amount_ratio is not None and amount_ratio >= TARGET_AMOUNT_RATIO,
        "precision": precision_ratio is not None and precision_ratio >= TARGET_PRECISION_RATIO,
        "alerts": alerts_ratio["recall"] is not None and alerts_ratio["recall"] <= TARGET_ALERTS_SHARE,
    }
    return {
        "amount_caught_ratio": amount_ratio,
        "precision_ratio": precision_ratio,
        "amount_precision_ratio": _ratio(hybrid["amount_precision"], legacy["amount_precision"]),
        "alerts_ratio_at_legacy_recall": alerts_ratio["recall"],
        "alerts_ratio_at_legacy_amount_recall": alerts_ratio["amount_recall"],
        # the most any ranking could reach at the legacy volume
        "amount_caught_ratio_ceiling": _ratio(best["misuse_amount_caught"], legacy["misuse_amount_caught"]),
        "precision_ratio_ceiling": _ratio(best["precision"], legacy["precision"]),
        # each part of the target, and the target: every part
        "parts_held": parts,
        "holds": all(parts.values()),
    }


def daily_use_alerts(approval: pd.DataFrame, claimed: pd.DataFrame, k: int) -> pd.DataFrame:
    """The alerts of daily runs that see an expense claim only from the day it is filed.

    Parameters
    ----------
    approval : DataFrame
        ``transaction_id``, ``day``, ``score``, ``tiebreak``: each transaction scored on its own
        day, without its claims.
    claimed : DataFrame
        ``transaction_id``, ``claim_day``, ``score``, ``tiebreak``: a transaction scored with its
        claims, on the day the last of them was filed (the daily pipeline's claim-day scoring,
        ``orchestration.scoring.score_and_alert``).
    k : int
        Alerts per day.

    Each day takes its top ``k`` (by score, tie-break, then transaction id, as the alert policy
    orders them) of that day's transactions and of
    the earlier ones whose claim is filed that day and that no earlier day alerted. A claim filed
    on the payment's own day gives that day's score; one filed after the last day of ``approval``
    is not seen (those days' own transactions are not there to compete with it).

    Returns
    -------
    DataFrame, one row per alert: transaction_id, day, on_claim.
    """
    claimed = claimed[
        claimed["transaction_id"].isin(set(approval["transaction_id"]))
        & (claimed["claim_day"] <= approval["day"].max())
    ]
    paid_on = dict(zip(approval["transaction_id"], approval["day"], strict=True))
    same_day = claimed["claim_day"].to_numpy() <= claimed["transaction_id"].map(paid_on).to_numpy()
    columns = ["transaction_id", "day", "score", "tiebreak", "on_claim"]
    with_claim = claimed[same_day].set_index("transaction_id")
    own_day = approval.assign(on_claim=False)
    for column in ("score", "tiebreak"):
        own_day[column] = own_day["transaction_id"].map(with_claim[column]).fillna(own_day[column])
    later = claimed[~same_day].rename(columns={"claim_day": "day"}).assign(on_claim=True)
    candidates = pd.concat([own_day[columns], later[columns]], ignore_index=True)
    order = ["score", "tiebreak", "transaction_id"]
    alerted: set[Any] = set()
    chosen: list[pd.DataFrame] = []
    for _, rows in candidates.groupby("day", sort=True):
        open_rows = rows[~(rows["on_claim"] & rows["transaction_id"].isin(alerted))]
        top = open_rows.sort_values(order, ascending=[False, False, True], kind="stable").head(k)
        alerted.update(top["transaction_id"])
        chosen.append(top)
    if not chosen:
        return pd.DataFrame(columns=["transaction_id", "day", "on_claim"])
    return pd.concat(chosen, ignore_index=True)[["transaction_id", "day", "on_claim"]]


def daily_use_metrics(
    alerts: pd.DataFrame, frame: pd.DataFrame, legacy: dict[str, Any] | None = None
) -> dict[str, Any]:
    """`alert_set_metrics` of `daily_use_alerts` over ``frame`` (every test transaction,
    `with_truth`), how many were raised on a claim's day, and with ``legacy`` (the legacy filters'
    `alert_set_metrics`) the target's two ratios to them."""
    alerted = frame["transaction_id"].isin(set(alerts["transaction_id"])).to_numpy()
    metrics = {**alert_set_metrics(frame, alerted), "on_claim_day": int(alerts["on_claim"].sum())}
    if legacy is not None:
        metrics["amount_caught_ratio"] = _ratio(
            metrics["misuse_amount_caught"], legacy["misuse_amount_caught"]
        )
        metrics["precision_ratio"] = _ratio(metrics["precision"], legacy["precision"])
    return metrics


def daily_use_table(daily: dict[str, Any]) -> str:
    """The daily-use replay (``daily_use`` of `orchestration.backtest`) at each of its budgets."""
    with_legacy = any("amount_caught_ratio" in m for m in daily["at"].values())
    headers = [
        "alerts a day",
        "alerts",
        "raised on a claim's day",
        "precision",
        "recall",
        "misuse amount caught",
    ]
    if with_legacy:
        headers += ["amount x legacy", "precision x legacy"]
    rows = []
    for m in daily["at"].values():
        row = [
            str(m["k"]),
            f"{m['alerts']:,}",
            f"{m['on_claim_day']:,}",
            fmt(m["precision"]),
            fmt(m["recall"]),
            f"{m['misuse_amount_caught']:,.0f}",
        ]
        if with_legacy:
            row += [f"x{fmt(m.get('amount_caught_ratio'), 2)}", f"x{fmt(m.get('precision_ratio'), 2)}"]
        rows.append(row)
    return table(headers, rows)


def render_daily_use(daily: dict[str, Any]) -> str:
    """The metrics.md section of the daily-use replay."""
    return "\n".join(
        [
            "## In daily use",
            "",
            "The tables above score every test transaction with all its expense claims, as if each claim were "
            "filed with the payment. A daily run sees a claim only from the day it is filed: it scores the "
            "payment on its own day without it, and again on the day its last claim is filed (within "
            f"`claim_rescore_days` = {daily['claim_rescore_days']}) unless an earlier day alerted it. The "
            "hybrid replayed so: its scores on the warehouse as known at the cut-off for the payment's day, "
            f"with the claims for the claim's day ({daily['claimed_transactions']:,} test transactions have "
            "a claim); each day takes its top k of both.",
            "",
            daily_use_table(daily),
            "",
        ]
    )


def _fmt(value: Any, digits: int = 3) -> str:
    """`fmt`, with thousands separators for whole amounts (``digits=0``)."""
    if digits == 0 and isinstance(value, float):
        return f"{value:,.0f}"
    return fmt(value, digits)


def _ranking_cells(m: dict[str, Any]) -> list[str]:
    """The budget table's cells of one `ranking_metrics` result."""
    rates = (
        "roc_auc",
        "average_precision",
        "precision_at_k",
        "recall_at_k",
        "amount_precision_at_k",
        "amount_recall_at_k",
        "employee_precision_at_k",
    )
    return [
        *(_fmt(m[name]) for name in rates),
        _fmt(m["alerts_per_day_at_k"], 1),
        f"{m['hits_at_k']:,}",
        _fmt(m["misuse_amount_caught_at_k"], 0),
    ]


def _alert_cells(m: dict[str, Any]) -> list[str]:
    """The legacy table's cells of one `alert_set_metrics` result."""
    return [
        f"{m['alerts']:,}",
        _fmt(m["alerts_per_day"], 1),
        *(_fmt(m[name]) for name in ("precision", "recall", "amount_precision", "amount_recall")),
        _fmt(m["misuse_amount_caught"], 0),
    ]


def ranking_table(evaluation: dict[str, Any]) -> str:
    """Every system's ranking at the budget k per day, and a perfect ranking's, as a Markdown table."""
    k = evaluation["budget"]
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
    systems = evaluation["systems"]
    rows = [
        [name, *(_ranking_cells(systems[name]) if systems[name]["available"] else ["–"] * (len(headers) - 1))]
        for name in SYSTEMS
    ]
    rows.append([PERFECT_LABEL, *_ranking_cells(evaluation[PERFECT])])
    return table(headers, rows)


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
    lines += [f"## At {k} alerts a day", "", ranking_table(evaluation), ""]
    systems = evaluation["systems"]
    unavailable = [name for name in SYSTEMS if not systems[name]["available"]]
    notes = metrics.get("notes", {})
    lines += [f"- `{name}`: {notes.get(name, 'not available')}." for name in unavailable]
    if unavailable:
        lines.append("")
    if "legacy" in evaluation:
        lines += [render_legacy(evaluation["legacy"]), ""]
    if evaluation.get("by_typology"):
        lines += ["## By typology", "", typology_table(evaluation), ""]
    if metrics.get("daily_use"):
        lines += [render_daily_use(metrics["daily_use"])]
    return "\n".join(lines)


def legacy_table(legacy: dict[str, Any]) -> str:
    """The legacy filters as alerted and every ranking at their volume (`legacy_comparison`)."""
    k = legacy["volume_k"]
    rows = [[f"{name} (as alerted)", *_alert_cells(m)] for name, m in legacy["as_alerted"].items()]
    for name, m in legacy["at_legacy_volume"].items():
        label = PERFECT_LABEL if name == PERFECT else name
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
    return table(headers, rows)


def target_sentence(target: dict[str, Any]) -> str:
    """The target's verdict (`target_ratios`) in one sentence."""
    return (
        f"Target (hybrid at the legacy volume: at least {TARGET_AMOUNT_RATIO}x the misuse amount the "
        f"two legacy filters catch together, at {TARGET_PRECISION_RATIO}x their precision; at the legacy "
        f"recall at most {TARGET_ALERTS_SHARE} of their alerts): "
        f"amount caught x{_fmt(target['amount_caught_ratio'], 2)}, precision "
        f"x{_fmt(target['precision_ratio'], 2)}, alerts at the legacy count recall "
        f"x{_fmt(target['alerts_ratio_at_legacy_recall'], 2)} (amount recall: "
        f"x{_fmt(target['alerts_ratio_at_legacy_amount_recall'], 2)}): "
        f"**{'holds' if target['holds'] else 'does not hold'}**. A perfect ranking at this volume would "
        f"reach amount caught x{_fmt(target['amount_caught_ratio_ceiling'], 2)} and precision "
        f"x{_fmt(target['precision_ratio_ceiling'], 2)}."
    )


def render_legacy(legacy: dict[str, Any]) -> str:
    """The legacy comparison (`legacy_comparison`) as a Markdown table and the target's verdict."""
    k = legacy["volume_k"]
    text = [f"## At the legacy filters' own volume ({k} alerts a day)", "", legacy_table(legacy)]
    target = legacy.get("target")
    if target:
        text += ["", target_sentence(target)]
    return "\n".join(text)
