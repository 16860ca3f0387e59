"""The detection review's numbers, computed from warehouse tables (and ground truth when given)."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd

from ml.analysis.estimators import (
    MissEstimate,
    RecallEstimate,
    ReviewerAccuracy,
    WeightedMetrics,
    amount_recall,
    estimate_detected,
    estimate_misses,
    estimate_recall,
    ipw_precision_recall,
    line_comparison,
    sample_size_for_upper_bound,
)
from ml.analysis.loaders import ReviewData
from ml.analysis.overlap import greedy_marginal_order, jaccard_matrix
from ml.analysis.scorecard import scorecard, scorecard_trend, transaction_outcomes
from ml.analysis.thresholds import capacity_optimal, cost_optimal, threshold_curve
from ml.analysis.workload import daily_workload, turnaround, workload_summary
from ml.evaluation import card_precision_at_k, top_k_per_day
from ml.explain import load_parameters
from ml.labels import build_training_set

LEGACY_SYSTEMS = ("legacy_rule", "legacy_tree")
SCORE_COLUMNS = (
    "score",
    "probability",
    "hybrid_score",
    "supervised_score",
    "unsupervised_score",
    "score_unsupervised",
    "anomaly_score",
)


def analysis_parameters(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """``ml/config/analysis.yml`` with ``overrides``; empty capacity and label delay are filled in
    from ``policy.yml`` and ``labels.yml``."""
    params = load_parameters("analysis", overrides=overrides)
    if params["daily_capacity"] is None:
        params["daily_capacity"] = load_parameters("policy")["daily_capacity"]
    if params["label_delay_days"] is None:
        params["label_delay_days"] = load_parameters("labels")["label_delay_days"]
    return params


def review_accuracy(params: dict[str, Any]) -> dict[str, ReviewerAccuracy]:
    """Assumed reviewer accuracy per review route: ``alert_review`` and ``random_sample``."""
    return {
        "alert_review": ReviewerAccuracy.from_mapping(params.get("alert_review_accuracy")),
        "random_sample": ReviewerAccuracy.from_mapping(params.get("random_sample_review_accuracy")),
    }


def amount_band(amount: pd.Series, edges: list[float]) -> pd.Series:
    """Label of the amount band (``30,000-100,000``; the last ``1,000,000+``)."""
    edges = sorted(float(e) for e in edges)
    labels = [f"{int(lo):,}-{int(hi):,}" for lo, hi in pairwise(edges)]
    labels.append(f"{int(edges[-1]):,}+")
    bins = [*edges, np.inf]
    return pd.cut(amount.clip(lower=edges[0]), bins=bins, labels=labels, right=False).astype(str)


def _cardwatch_hits(rule_hits: pd.DataFrame) -> pd.DataFrame:
    """Unsuppressed hits of the Cardwatch rule set (every hit when the columns are absent)."""
    keep = pd.Series(True, index=rule_hits.index)
    if "rule_set" in rule_hits:
        keep &= rule_hits["rule_set"].astype(str) == "cardwatch"
    if "is_suppressed" in rule_hits:
        keep &= ~rule_hits["is_suppressed"].astype("boolean").fillna(False).astype(bool)
    return rule_hits[keep]


def collect_alerts(data: ReviewData) -> pd.DataFrame:
    """Every alert in long form: transaction_id, system, detector, alerted_at, amount.

    Legacy alerts come from ``stg_casework__legacy_alerts``; Cardwatch rules from unsuppressed
    ``fct_rule_hits`` of the cardwatch rule set (all statuses, a backtest); the hybrid system from
    ``fct_alerts`` when present.
    """
    parts = []
    if data.legacy_alerts is not None and len(data.legacy_alerts):
        legacy = data.legacy_alerts
        system = np.where(legacy["legacy_filter"] == "tree", "legacy_tree", "legacy_rule")
        parts.append(
            pd.DataFrame(
                {
                    "transaction_id": legacy["transaction_id"],
                    "system": system,
                    "detector": legacy["alerted_by"].astype(str),
                    "alerted_at": pd.to_datetime(legacy["alerted_at"]),
                }
            )
        )
    if data.rule_hits is not None and len(data.rule_hits):
        hits = _cardwatch_hits(data.rule_hits)
        parts.append(
            pd.DataFrame(
                {
                    "transaction_id": hits["transaction_id"],
                    "system": "cardwatch_rule",
                    "detector": hits["rule_id"].astype(str),
                    "alerted_at": pd.to_datetime(hits["transacted_at"]),
                }
            )
        )
    if data.alerts is not None and len(data.alerts):
        alerts = data.alerts
        day_column = next((c for c in ("alert_date", "alert_day", "alerted_at") if c in alerts), None)
        day = alerts[day_column] if day_column else None
        route = alerts["route"].astype(str) if "route" in alerts else pd.Series("alert", index=alerts.index)
        parts.append(
            pd.DataFrame(
                {
                    "transaction_id": alerts["transaction_id"],
                    "system": "hybrid",
                    "detector": "hybrid:" + route,
                    "alerted_at": pd.to_datetime(day),
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=["transaction_id", "system", "detector", "alerted_at", "amount"])
    frame = pd.concat(parts, ignore_index=True)
    amounts = data.transactions.set_index("transaction_id")["amount"]
    frame["amount"] = frame["transaction_id"].map(amounts)
    return frame


@dataclass
class Curve:
    """A threshold curve with its recommended operating points."""

    name: str
    curve: pd.DataFrame
    capacity_point: pd.Series | None
    cost_point: pd.Series | None
    true_curve: pd.DataFrame | None = None
    throughput_point: pd.Series | None = None
    budget: dict[str, float] | None = None


@dataclass
class Review:
    """Everything the report states, computed. See `compute_review`."""

    params: dict[str, Any]
    period_start: pd.Timestamp
    period_end: pd.Timestamp
    days: int
    purchases: int
    purchase_amount: float
    alerts: pd.DataFrame
    system_card: pd.DataFrame
    detector_card: pd.DataFrame
    trend: pd.DataFrame
    workload: pd.DataFrame
    workload_summary: dict[str, Any]
    turnaround: pd.DataFrame
    legacy_miss: MissEstimate | None
    legacy_recall: RecallEstimate | None
    legacy_amount_recall: RecallEstimate | None
    legacy_detected: dict[str, float]
    legacy_weighted: WeightedMetrics | None
    legacy_detected_estimate: MissEstimate | None
    legacy_recall_apparent: RecallEstimate | None
    legacy_precision: pd.DataFrame
    accuracy: dict[str, ReviewerAccuracy]
    random_sample_size: int
    jaccard: pd.DataFrame
    cardwatch_pairs: pd.DataFrame
    noisy: pd.DataFrame
    greedy: pd.DataFrame
    lines: list[dict[str, Any]]
    curves: list[Curve]
    scores_pending: bool
    exploration: dict[str, Any]
    lifecycle: pd.DataFrame
    rule_status_counts: dict[str, int]
    truth: dict[str, Any] | None = None
    typologies: pd.DataFrame | None = None
    simulated_sample: dict[str, Any] | None = field(default=None)


def _reason_level(alerted_by: pd.Series, random_sources: list[str]) -> pd.Series:
    """``legacy_rule:night`` -> ``legacy_rule.night``: `ml.labels` strata by the part before ``:``,
    and the reviewers' priority is set by the alert reason, so the reason must name the stratum."""
    text = alerted_by.astype("string")
    keep = text.str.lower().isin([s.lower() for s in random_sources]) | text.isna()
    return text.where(keep, text.str.replace(":", ".", regex=False)).astype(object)


def _training_frame(data: ReviewData, legacy: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """Labels, review strata and IPW weights of the purchases (`ml.labels.build_training_set`), with
    the alerted strata at the level of the alert reason (each reason has its own review priority, so
    its own review propensity; a stratum per source would mix them and bias the weights)."""
    cutoff = max(data.transactions["transacted_at"].max(), data.cases["decided_at"].max())
    alerts = legacy.rename(columns={"detector": "alerted_by"})[["transaction_id", "alerted_by", "alerted_at"]]
    alerts = alerts.assign(alerted_by=_reason_level(alerts["alerted_by"], params["random_sources"]))
    cases = data.cases.assign(alerted_by=_reason_level(data.cases["alerted_by"], params["random_sources"]))
    training = build_training_set(
        data.transactions[data.transactions["is_purchase"]][["transaction_id", "transacted_at"]],
        cases,
        cutoff,
        alerts=alerts if len(alerts) else None,
        label_delay_days=0,
        min_propensity=params["min_propensity"],
        random_sources=params["random_sources"],
    )
    return training.frame


def _stratum(purchases: pd.DataFrame, params: dict[str, Any]) -> pd.Series:
    column = params["strata_column"]
    if column == "amount_band" or column not in purchases:
        return amount_band(purchases["amount"], params["amount_band_edges_krw"])
    return purchases[column].astype(str).fillna("unknown")


def _miss_estimate(
    purchases: pd.DataFrame,
    alerted: set,
    sample_rows: pd.DataFrame,
    params: dict[str, Any],
    accuracy: ReviewerAccuracy | None = None,
) -> MissEstimate | None:
    pool = purchases[~purchases["transaction_id"].isin(alerted)]
    if pool.empty or sample_rows.empty:
        return None
    population = pool.groupby("stratum").size()
    means = pool.groupby("stratum")["amount"].mean()
    return estimate_misses(
        sample_rows, population, params["confidence"], population_mean_amount=means, accuracy=accuracy
    )


def _detected_estimate(
    frame: pd.DataFrame, ids: set, amounts: pd.Series, params: dict[str, Any], accuracy: ReviewerAccuracy
) -> MissEstimate | None:
    """Misuse among the alerts ``ids`` from their reviewed share, stratified by alert reason."""
    rows = frame[frame["transaction_id"].isin(ids) & (frame["alert_stratum"] != "unalerted")]
    if rows.empty or not rows["is_labeled"].any():
        return None
    amount = rows["transaction_id"].map(amounts).fillna(0.0)
    population = rows.groupby("alert_stratum").size()
    means = amount.groupby(rows["alert_stratum"]).mean()
    labelled = rows["is_labeled"]
    label = rows.loc[labelled, "label"].astype(float)
    sample = pd.DataFrame(
        {
            "stratum": rows.loc[labelled, "alert_stratum"],
            "is_misuse": label,
            "misuse_amount": amount[labelled] * label,
        }
    )
    return estimate_detected(sample, population, params["confidence"], means, accuracy)


def _precision_table(
    data: ReviewData,
    frame: pd.DataFrame,
    legacy: pd.DataFrame,
    amounts: pd.Series,
    params: dict[str, Any],
    accuracy: ReviewerAccuracy,
) -> tuple[pd.DataFrame, MissEstimate | None]:
    """Precision per legacy system: reviewed, weighted by review propensity (apparent) and corrected
    for reviewer error, with its interval. Returns the table and the estimate for all legacy alerts."""
    outcomes = transaction_outcomes(data.cases).set_index("transaction_id")
    systems = [("legacy", set(legacy["transaction_id"]))]
    for name in LEGACY_SYSTEMS:
        ids = set(legacy.loc[legacy["system"] == name, "transaction_id"])
        if ids:
            systems.append((name, ids))
    records, overall = [], None
    for name, ids in systems:
        estimate = _detected_estimate(frame, ids, amounts, params, accuracy)
        if estimate is None:
            continue
        if name == "legacy":
            overall = estimate
        reviewed = outcomes.reindex(list(ids))
        n_reviewed = int(reviewed["is_reviewed"].fillna(False).astype(bool).sum())
        n_confirmed = int(reviewed["is_confirmed"].fillna(False).astype(bool).sum())
        apparent = estimate.apparent if estimate.apparent is not None else estimate
        records.append(
            {
                "system": name,
                "alerts": len(ids),
                "reviewed": n_reviewed,
                "confirmed": n_confirmed,
                "reviewed_precision": n_confirmed / n_reviewed if n_reviewed else float("nan"),
                "weighted_precision": apparent.rate,
                "corrected_precision": estimate.rate,
                "corrected_lower": estimate.rate_lower,
                "corrected_upper": estimate.rate_upper,
                "estimated_misuse": estimate.count,
                "consistent": estimate.consistent,
            }
        )
    return pd.DataFrame.from_records(records), overall


def _legacy_estimates(
    data: ReviewData, purchases: pd.DataFrame, legacy: pd.DataFrame, params: dict[str, Any]
) -> tuple[MissEstimate | None, dict[str, float], pd.DataFrame, int, pd.DataFrame, MissEstimate | None]:
    accuracy = review_accuracy(params)
    outcomes = transaction_outcomes(data.cases)
    random = data.cases[data.cases["alerted_by"].astype(str).str.lower().isin(params["random_sources"])]
    alerted = set(legacy["transaction_id"])
    sampled = outcomes[
        outcomes["transaction_id"].isin(set(random["transaction_id"])) & outcomes["is_reviewed"]
    ].merge(purchases[["transaction_id", "stratum", "amount"]], on="transaction_id")
    sampled = sampled[~sampled["transaction_id"].isin(alerted)]
    sample_rows = pd.DataFrame(
        {
            "stratum": sampled["stratum"],
            "is_misuse": sampled["is_confirmed"].astype(int),
            "misuse_amount": np.where(sampled["is_confirmed"], sampled["amount"], 0.0),
        }
    )
    miss = _miss_estimate(purchases, alerted, sample_rows, params, accuracy["random_sample"])
    frame = _training_frame(data, legacy, params)
    is_alerted = frame["alert_stratum"] != "unalerted"
    labelled = frame["is_labeled"] & is_alerted
    amounts = purchases.set_index("transaction_id")["amount"]
    row_amounts = frame["transaction_id"].map(amounts).fillna(0.0)
    positive = labelled & (frame["label"] == 1)
    precision, found = _precision_table(data, frame, legacy, amounts, params, accuracy["alert_review"])
    detected = {
        "confirmed": float(positive.sum()),
        "confirmed_amount": float(row_amounts[positive].sum()),
        "ipw": float(frame.loc[positive, "ipw_weight"].sum()),
        "ipw_amount": float((frame.loc[positive, "ipw_weight"] * row_amounts[positive]).sum()),
    }
    if found is not None:
        apparent = found.apparent if found.apparent is not None else found
        detected.update(
            estimated=found.count,
            estimated_amount=found.amount,
            apparent=apparent.count,
            apparent_amount=apparent.amount,
        )
    return miss, detected, frame, len(sample_rows), precision, found


def _route_accuracy(cases: pd.DataFrame, truth: pd.DataFrame, random_sources: list[str]) -> dict[str, Any]:
    """Reviewer sensitivity and specificity per review route, measured against the truth."""
    decision = cases["decision"].astype("string").str.strip().str.lower()
    decided = cases[cases["decided_at"].notna() & decision.notna()].assign(
        positive=decision.isin(["confirmed", "partial"]),
        route=np.where(
            cases["alerted_by"].astype(str).str.lower().isin([s.lower() for s in random_sources]),
            "random_sample",
            "alert_review",
        ),
    )
    decided = decided.merge(truth[["transaction_id", "is_misuse"]], on="transaction_id")
    result: dict[str, Any] = {}
    for route, rows in decided.groupby("route"):
        misuse, clean = rows[rows["is_misuse"]], rows[~rows["is_misuse"]]
        result[str(route)] = {
            "decided": len(rows),
            "misuse": len(misuse),
            "clean": len(clean),
            "sensitivity": float(misuse["positive"].mean()) if len(misuse) else float("nan"),
            "specificity": float(1 - clean["positive"].mean()) if len(clean) else float("nan"),
            "false_confirmed": int(clean["positive"].sum()),
            "prevalence": float(rows["is_misuse"].mean()),
            "apparent": float(rows["positive"].mean()),
        }
    return result


def _truth_summary(
    truth: pd.DataFrame,
    purchases: pd.DataFrame,
    alerts: pd.DataFrame,
    outcomes: pd.DataFrame,
    cases: pd.DataFrame | None = None,
    random_sources: list[str] | None = None,
) -> dict[str, Any]:
    misuse = truth[truth["is_misuse"] & truth["transaction_id"].isin(set(purchases["transaction_id"]))]
    result: dict[str, Any] = {"misuse": len(misuse), "misuse_amount": float(misuse["amount_at_stake"].sum())}
    decided = outcomes[outcomes["is_reviewed"]].merge(
        truth[["transaction_id", "is_misuse"]], on="transaction_id"
    )
    result["decisions"] = {
        "confirmed": int(decided["is_confirmed"].sum()),
        "false_confirmed": int((decided["is_confirmed"] & ~decided["is_misuse"]).sum()),
        "cleared": int((~decided["is_confirmed"]).sum()),
        "false_cleared": int((~decided["is_confirmed"] & decided["is_misuse"]).sum()),
    }
    if cases is not None:
        result["accuracy"] = _route_accuracy(cases, truth, list(random_sources or []))
    systems = {"legacy": alerts[alerts["system"].isin(LEGACY_SYSTEMS)]}
    for system in sorted(set(alerts["system"])):
        systems[system] = alerts[alerts["system"] == system]
    for name, rows in systems.items():
        ids = set(rows["transaction_id"])
        caught = misuse["transaction_id"].isin(ids)
        flagged = truth[truth["transaction_id"].isin(ids)]
        result[name] = {
            "alerts": len(ids),
            "recall": float(caught.mean()) if len(misuse) else float("nan"),
            "amount_recall": (
                float(misuse.loc[caught, "amount_at_stake"].sum() / misuse["amount_at_stake"].sum())
                if misuse["amount_at_stake"].sum() > 0
                else float("nan")
            ),
            "precision": float(flagged["is_misuse"].mean()) if len(flagged) else float("nan"),
            "missed": int((~caught).sum()),
            "missed_amount": float(misuse.loc[~caught, "amount_at_stake"].sum()),
        }
    return result


def _typologies(truth: pd.DataFrame, purchases: pd.DataFrame, alerts: pd.DataFrame) -> pd.DataFrame:
    misuse = truth[truth["is_misuse"] & truth["transaction_id"].isin(set(purchases["transaction_id"]))].copy()
    groups = {"legacy": alerts[alerts["system"].isin(LEGACY_SYSTEMS)]}
    for system in sorted(set(alerts["system"]) - set(LEGACY_SYSTEMS)):
        groups[system] = alerts[alerts["system"] == system]
    for name, rows in groups.items():
        misuse[f"caught_{name}"] = misuse["transaction_id"].isin(set(rows["transaction_id"]))
    grouped = misuse.groupby(misuse["typology"].fillna("unknown").astype(str))
    table = pd.DataFrame(
        {"transactions": grouped.size(), "amount_at_stake": grouped["amount_at_stake"].sum()}
    )
    for name in groups:
        table[f"recall_{name}"] = grouped[f"caught_{name}"].mean()
    return table.sort_values(["recall_legacy", "amount_at_stake"], ascending=[True, False]).reset_index()


def _lines(
    data: ReviewData,
    purchases: pd.DataFrame,
    frame: pd.DataFrame,
    truth: pd.DataFrame | None,
    params: dict[str, Any],
) -> list[dict[str, Any]]:
    if data.rule_parameters is None:
        return []
    table = data.rule_parameters
    out = []
    labels = frame.set_index("transaction_id")["label"]
    for spec in params["amount_lines"]:
        match = table[(table["rule_id"] == spec["rule_id"]) & (table["parameter"] == spec["parameter"])]
        if match.empty:
            continue
        line = float(pd.to_numeric(match["value"], errors="coerce").dropna().iloc[-1])
        rows = purchases.assign(label=purchases["transaction_id"].map(labels))
        observed = line_comparison(
            rows, "amount", line, "label", params["below_line_band"], params["confidence"]
        )
        entry = {"rule_id": spec["rule_id"], "line": line, "observed": observed, "true": None}
        if truth is not None:
            truth_label = truth.set_index("transaction_id")["is_misuse"].astype(float)
            rows = purchases.assign(label=purchases["transaction_id"].map(truth_label))
            entry["true"] = line_comparison(
                rows, "amount", line, "label", params["below_line_band"], params["confidence"]
            )
        out.append(entry)
    return out


def _curve(
    name: str,
    score: pd.Series,
    purchases: pd.DataFrame,
    frame: pd.DataFrame,
    truth: pd.DataFrame | None,
    params: dict[str, Any],
    throughput: float | None = None,
) -> Curve:
    rows = purchases[["transaction_id", "transacted_date", "amount"]].copy()
    rows["score"] = rows["transaction_id"].map(score).fillna(0.0).astype(float)
    lab = frame.set_index("transaction_id")
    rows["label"] = rows["transaction_id"].map(lab["label"])
    rows["weight"] = rows["transaction_id"].map(lab["ipw_weight"])
    thresholds = np.unique(rows["score"])
    thresholds = thresholds[thresholds > 0] if (thresholds > 0).any() else thresholds
    common = {
        "review_cost": params["review_cost_krw"],
        "recoverable_share": params["recoverable_share"],
        "daily_quantile": params["daily_quantile"],
    }
    if len(thresholds) > 200:
        thresholds = np.unique(np.quantile(thresholds, np.linspace(0, 1, 200)))
    curve = threshold_curve(
        rows["score"],
        rows["transacted_date"],
        rows["label"],
        rows["amount"],
        rows["weight"],
        thresholds=thresholds,
        **common,
    )
    capacity = params["daily_capacity"]
    cap = capacity_optimal(curve, capacity) if (curve["alerts_per_day"] <= capacity).any() else None
    cost = cost_optimal(curve) if len(curve) else None
    true_curve = None
    if truth is not None:
        t = truth.set_index("transaction_id")
        true_curve = threshold_curve(
            rows["score"],
            rows["transacted_date"],
            rows["transaction_id"].map(t["is_misuse"]).astype(float).fillna(0.0),
            rows["transaction_id"].map(t["amount_at_stake"]).fillna(0.0),
            thresholds=thresholds,
            **common,
        )
    through = None
    if throughput is not None and np.isfinite(throughput) and (curve["alerts_per_day"] <= throughput).any():
        through = capacity_optimal(curve, throughput)
    budget = _budget_metrics(rows, purchases, truth, int(capacity)) if truth is not None else None
    return Curve(name, curve, cap, cost, true_curve, through, budget)


def _budget_metrics(
    rows: pd.DataFrame, purchases: pd.DataFrame, truth: pd.DataFrame, k: int
) -> dict[str, float]:
    """True precision and recall when the top ``k`` scored rows of each day are reviewed, and the
    card (employee) precision@k, with the shared metrics of `ml.evaluation`."""
    t = truth.set_index("transaction_id")
    y = rows["transaction_id"].map(t["is_misuse"]).fillna(False).astype(int).to_numpy()
    stake = rows["transaction_id"].map(t["amount_at_stake"]).fillna(0.0).to_numpy()
    score = rows["score"].to_numpy()
    chosen = top_k_per_day(rows["transacted_date"], score, k) & (score > 0)
    employees = rows["transaction_id"].map(purchases.set_index("transaction_id")["employee_id"]).astype(str)
    cards = card_precision_at_k(rows["transacted_date"], employees, score, y, k)
    return {
        "k": k,
        "precision": float(y[chosen].mean()) if chosen.any() else float("nan"),
        "recall": float(y[chosen].sum() / y.sum()) if y.sum() else float("nan"),
        "amount_recall": float(stake[chosen].sum() / stake.sum()) if stake.sum() else float("nan"),
        "card_precision": cards.mean,
    }


def _rule_score(data: ReviewData, purchases: pd.DataFrame) -> pd.Series:
    if data.rule_hits is None or data.rule_hits.empty:
        return pd.Series(dtype=float)
    hits = _cardwatch_hits(data.rule_hits)
    return hits.groupby("transaction_id")["severity"].sum().astype(float)


def _lifecycle(card: pd.DataFrame, rules: pd.DataFrame | None, params: dict[str, Any]) -> pd.DataFrame:
    rows = card[card["system"] == "cardwatch_rule"].copy()
    if rules is not None:
        status = rules.set_index("rule_id")["rule_status"]
        rows["rule_status"] = rows["detector"].map(status).fillna("unknown")
    else:
        rows["rule_status"] = "unknown"
    enough = rows["reviewed"] >= params["promote_min_reviewed"]
    good = (rows["precision"] >= params["promote_min_precision"]) | (rows["unique_confirmed"] > 0)
    poor = (rows["precision"] < params["retire_max_precision"]) & (rows["unique_confirmed"] == 0)
    action = np.select(
        [~enough, enough & good, enough & poor],
        ["collect_labels", "keep_or_promote", "retire_or_retune"],
        default="retune",
    )
    rows["action"] = action
    return rows[
        [
            "detector",
            "rule_status",
            "alerts",
            "reviewed",
            "confirmed",
            "precision",
            "unique_confirmed",
            "action",
        ]
    ].sort_values(["action", "detector"])


def _exploration(purchases: pd.DataFrame, alerted: set, days: int, params: dict[str, Any]) -> dict[str, Any]:
    window = params["exploration_window_days"]
    non_alerted = int((~purchases["transaction_id"].isin(alerted)).sum())
    per_window = non_alerted * window / max(days, 1)
    n_needed = sample_size_for_upper_bound(params["target_miss_rate_upper"], params["confidence"])
    rate = min(1.0, n_needed / per_window) if per_window else float("nan")
    per_day = n_needed / window
    return {
        "non_alerted_per_window": per_window,
        "sample_per_window": n_needed,
        "rate": rate,
        "per_day": per_day,
        "capacity_share": per_day / params["daily_capacity"] if params["daily_capacity"] else float("nan"),
        "cost_per_window": n_needed * params["review_cost_krw"],
    }


def _simulated_sample(
    purchases: pd.DataFrame,
    alerted: set,
    truth: pd.DataFrame,
    detected: MissEstimate | float,
    exploration: dict[str, Any],
    params: dict[str, Any],
) -> dict[str, Any] | None:
    """The recommended exploration sample drawn from the truth and decided with the assumed accuracy
    of the random-sample route (seeded), then estimated like the real one."""
    pool = purchases[~purchases["transaction_id"].isin(alerted)]
    if pool.empty:
        return None
    rate = exploration["rate"]
    rng = np.random.default_rng(20240101)
    picked = pool[rng.random(len(pool)) < rate]
    t = truth.set_index("transaction_id")
    accuracy = review_accuracy(params)["random_sample"]
    misuse = picked["transaction_id"].map(t["is_misuse"]).fillna(False).astype(bool).to_numpy()
    draw = rng.random(len(picked))
    decided = np.where(misuse, draw < accuracy.sensitivity, draw < accuracy.false_positive_rate)
    rows = pd.DataFrame(
        {
            "stratum": picked["stratum"],
            "is_misuse": decided.astype(int),
            "misuse_amount": np.where(decided, picked["amount"], 0.0),
        }
    )
    miss = _miss_estimate(purchases, alerted, rows, params, accuracy)
    if miss is None:
        return None
    true_missed = int(pool["transaction_id"].map(t["is_misuse"]).fillna(False).sum())
    return {
        "sampled": len(rows),
        "miss": miss,
        "recall": estimate_recall(detected, miss),
        "true_missed": true_missed,
    }


def compute_review(
    data: ReviewData, truth: pd.DataFrame | None = None, params: dict[str, Any] | None = None
) -> Review:
    """Compute every number of the detection review.

    Parameters
    ----------
    data : ReviewData
    truth : DataFrame, optional
        Ground truth (simulated data): true precision and recall are put beside the estimates.
    params : dict, optional
        Default: `analysis_parameters()`.
    """
    params = params or analysis_parameters()
    tx = data.transactions
    purchases = tx[tx["is_purchase"]].copy()
    purchases["stratum"] = _stratum(purchases, params)
    alerts = collect_alerts(data)
    cases = data.cases
    legacy = alerts[alerts["system"].isin(LEGACY_SYSTEMS)]

    card_systems = scorecard(alerts, cases, by="system") if len(alerts) else pd.DataFrame()
    if len(legacy):
        merged = pd.concat(
            [
                legacy.assign(system="legacy", detector="legacy"),
                alerts[~alerts["system"].isin(LEGACY_SYSTEMS)],
            ]
        )
        combined = scorecard(merged, cases, by="system")
        card_systems = pd.concat([combined[combined["system"] == "legacy"], card_systems], ignore_index=True)
    detector_card = scorecard(alerts, cases, by="detector") if len(alerts) else pd.DataFrame()
    trend = scorecard_trend(alerts, cases, by="system") if len(alerts) else pd.DataFrame()

    capacity = params["daily_capacity"]
    legacy_once = legacy.sort_values("alerted_at").drop_duplicates("transaction_id")
    work = daily_workload(
        cases,
        capacity,
        alerts=legacy_once if len(legacy_once) else None,
        start=purchases["transacted_date"].min(),
        end=max(purchases["transacted_date"].max(), cases["decided_at"].max().normalize()),
    )
    reviewed_legacy = int(
        transaction_outcomes(cases)
        .query("is_reviewed")["transaction_id"]
        .isin(set(legacy["transaction_id"]))
        .sum()
    )
    summary = workload_summary(work, alerted=legacy["transaction_id"].nunique(), reviewed=reviewed_legacy)
    opened = work.loc[work["opened"] > 0, "opened"]
    summary["observed_throughput"] = float(opened.quantile(0.95)) if len(opened) else float("nan")
    demand = work["alerts"]
    summary["days_over_throughput"] = (
        int((demand > summary["observed_throughput"]).sum()) if len(opened) else 0
    )

    miss, detected, frame, n_sample, precision, found = _legacy_estimates(data, purchases, legacy, params)
    recall = recall_amount = recall_apparent = None
    if miss is not None:
        if found is not None:
            recall = estimate_recall(found, miss)
            recall_amount = amount_recall(found, miss)
            recall_apparent = estimate_recall(found.apparent or found, miss.apparent or miss)
        else:
            recall = estimate_recall(detected["ipw"], miss)
            recall_amount = amount_recall(detected["ipw_amount"], miss)
    is_alerted = (frame["alert_stratum"] != "unalerted").to_numpy()
    weighted = ipw_precision_recall(is_alerted, frame["label"], frame["propensity"], params["min_propensity"])

    legacy_detectors = legacy[["transaction_id", "detector"]]
    jac = jaccard_matrix(legacy_detectors) if len(legacy_detectors) else pd.DataFrame()
    cw = alerts[alerts["system"] == "cardwatch_rule"]
    pairs = pd.DataFrame(columns=["a", "b", "jaccard"])
    if len(cw):
        matrix = jaccard_matrix(cw)
        upper = matrix.where(np.triu(np.ones(matrix.shape, dtype=bool), k=1)).stack()
        pairs = upper[upper > 0].sort_values(ascending=False).head(8).rename("jaccard").reset_index()
        pairs.columns = ["a", "b", "jaccard"]

    card = detector_card
    noisy = (
        card[
            (card["reviewed"] >= params["noisy_rule_min_reviewed"])
            & (card["precision"] < params["noisy_rule_max_precision"])
        ].sort_values("alerts", ascending=False)
        if len(card)
        else card
    )

    outcomes = transaction_outcomes(cases)
    amounts = purchases.set_index("transaction_id")["amount"]
    confirmed_ids = outcomes.loc[outcomes["is_confirmed"], "transaction_id"]
    confirmed_amount = confirmed_ids.map(amounts).fillna(0.0)
    confirmed_amount.index = confirmed_ids.to_numpy()
    greedy = (
        greedy_marginal_order(cw, confirmed_amount, review_cost=params["review_cost_krw"])
        if len(cw)
        else pd.DataFrame()
    )
    days = int((purchases["transacted_date"].max() - purchases["transacted_date"].min()).days) + 1
    if len(greedy):
        greedy["cumulative_alerts_per_day"] = greedy["cumulative_alerts"] / days
        labelled = cw.assign(
            reviewed=cw["transaction_id"].isin(set(outcomes.loc[outcomes["is_reviewed"], "transaction_id"]))
        )
        coverage = labelled.groupby("detector")["reviewed"].mean()
        greedy["label_coverage"] = greedy["detector"].map(coverage)
        if truth is not None:
            stake = truth.set_index("transaction_id")["amount_at_stake"]
            stake = stake[truth.set_index("transaction_id")["is_misuse"]]
            true_order = greedy_marginal_order(cw, stake, review_cost=params["review_cost_krw"])
            true_by = true_order.set_index("detector")
            greedy["true_step"] = greedy["detector"].map(true_by["step"])
            greedy["true_value_per_added_alert"] = greedy["detector"].map(true_by["value_per_added_alert"])

    curves = []
    rule_score = _rule_score(data, purchases)
    if len(rule_score):
        curves.append(
            _curve(
                "rule_severity", rule_score, purchases, frame, truth, params, summary["observed_throughput"]
            )
        )
    scores_pending = data.scores is None or data.scores.empty
    if not scores_pending:
        scores = data.scores
        for column in [c for c in SCORE_COLUMNS if c in scores]:
            series = scores.groupby("transaction_id")[column].max()
            curves.append(
                _curve(column, series, purchases, frame, truth, params, summary["observed_throughput"])
            )

    alerted_now = set(legacy["transaction_id"])
    exploration = _exploration(purchases, alerted_now, days, params)
    lifecycle = _lifecycle(detector_card, data.rules, params) if len(detector_card) else pd.DataFrame()
    status_counts = (
        data.rules.groupby(["rule_set", "rule_status"]).size().rename("n").reset_index()
        if data.rules is not None
        else pd.DataFrame()
    )
    status = (
        {f"{r.rule_set}:{r.rule_status}": int(r.n) for r in status_counts.itertuples()}
        if len(status_counts)
        else {}
    )

    review = Review(
        params=params,
        period_start=purchases["transacted_date"].min(),
        period_end=purchases["transacted_date"].max(),
        days=days,
        purchases=len(purchases),
        purchase_amount=float(purchases["amount"].sum()),
        alerts=alerts,
        system_card=card_systems,
        detector_card=detector_card,
        trend=trend,
        workload=work,
        workload_summary=summary,
        turnaround=turnaround(cases),
        legacy_miss=miss,
        legacy_recall=recall,
        legacy_amount_recall=recall_amount,
        legacy_detected=detected,
        legacy_weighted=weighted,
        legacy_detected_estimate=found,
        legacy_recall_apparent=recall_apparent,
        legacy_precision=precision,
        accuracy=review_accuracy(params),
        random_sample_size=n_sample,
        jaccard=jac,
        cardwatch_pairs=pairs,
        noisy=noisy,
        greedy=greedy,
        lines=_lines(data, purchases, frame, truth, params),
        curves=curves,
        scores_pending=scores_pending,
        exploration=exploration,
        lifecycle=lifecycle,
        rule_status_counts=status,
    )
    if truth is not None:
        review.truth = _truth_summary(truth, purchases, alerts, outcomes, cases, params["random_sources"])
        review.typologies = _typologies(truth, purchases, alerts)
        review.simulated_sample = _simulated_sample(
            purchases,
            alerted_now,
            truth,
            found if found is not None else detected["ipw"],
            exploration,
            params,
        )
    return review
