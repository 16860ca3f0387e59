"""The client's legacy history: a static rule filter, a decision tree trained once, and reviewers.

Both filters run independently over card approvals. Reviewers open at most their daily capacity of
cases, highest priority first; an alert not picked up within ``max_queue_days`` is never reviewed.
Reviewed cases get an explanation request, the explanation arrives days to weeks later, and the
decision carries reviewer error. A small monthly random audit of non-alerted approvals also exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.tree import DecisionTreeClassifier

from simulator.company import Calendar
from simulator.merchants import Categories

DAY = 86400
HOUR = 3600
GROUPS = [
    "entertainment", "hygiene", "leisure", "gambling", "restricted_other", "extended_block", "bar",
    "restaurant", "cafe", "cash_equivalent", "personal_use", "retail", "office", "transport", "lodging",
]  # fmt: skip


@dataclass
class LegacyResult:
    """Alerts of both filters, review cases, and per-transaction flags for calibration."""

    alerts: pd.DataFrame  # tx, alerted_by, alerted_at, score
    cases: pd.DataFrame  # tx, alerted_by, opened_at, explanation_requested_at, ..., recovered_amount
    rule_hit: np.ndarray  # per transaction
    tree_hit: np.ndarray
    tree_active_from: int  # timestamp
    reviewed: np.ndarray
    incoming_per_workday: np.ndarray
    capacity_per_workday: np.ndarray


def rule_filter(txns: pd.DataFrame, cats: Categories, cal: Calendar, params: dict[str, Any]) -> np.ndarray:
    """Name of the first legacy rule each transaction trips, or '' (object array)."""
    lp = params["legacy"]
    ts = txns["ts"].to_numpy()
    amount = txns["amount"].to_numpy()
    approved = (txns["status"] == "approved").to_numpy() & (amount > 0)
    group = np.array(cats.group, dtype=object)[txns["category"].to_numpy()]
    hour = (ts % DAY) // HOUR
    day = (ts - cal_start(cal)) // DAY
    offday = cal.is_offday[np.clip(day, 0, cal.n_days - 1)]
    lo, hi = lp["night_hours"]
    line = lp["large_amount"]
    key = pd.DataFrame({"card": txns["card"].to_numpy(), "merchant": txns["merchant"].to_numpy(), "day": day})
    key["amount"] = np.where(approved, amount, 0)
    grouped = key.groupby(["card", "merchant", "day"], sort=False)["amount"]
    total = grouped.transform("sum").to_numpy()
    count = (
        key.assign(one=approved.astype(int))
        .groupby(["card", "merchant", "day"], sort=False)["one"]
        .transform("sum")
    )
    hits = {
        "restricted_category": np.isin(group, lp["restricted_groups"]),
        "split_same_day": (count.to_numpy() >= 2) & (amount < line) & (total >= line),
        "large_amount": amount >= line,
        "night": (hour >= lo) | (hour < hi),
        "weekend_holiday": offday,
    }
    out = np.full(len(txns), "", dtype=object)
    for name in reversed(lp["rules"]):
        out[hits[name] & approved] = name
    return out


def reviewer_capacity(params: dict[str, Any], employees: int) -> float:
    """Cases per workday for a company of this size."""
    lp = params["legacy"]
    return lp["reviewer_capacity"] * employees / lp["capacity_reference_employees"]


def cal_start(cal: Calendar) -> int:
    return int(cal.dates[0].astype("datetime64[s]").astype(np.int64))


def tree_features(
    txns: pd.DataFrame, cats: Categories, cal: Calendar, params: dict[str, Any], rule: np.ndarray
) -> np.ndarray:
    """What the old tree saw: amount band, time, calendar, merchant type and the old rules' flags."""
    ts = txns["ts"].to_numpy()
    amount = txns["amount"].to_numpy().astype(float)
    day = np.clip((ts - cal_start(cal)) // DAY, 0, cal.n_days - 1)
    group_code = {g: i for i, g in enumerate(GROUPS)}
    group = np.array([group_code.get(g, len(GROUPS)) for g in cats.group])[txns["category"].to_numpy()]
    return np.column_stack(
        [
            np.searchsorted(params["legacy"]["tree_amount_bands"], np.abs(amount), side="right"),
            (ts % DAY) / HOUR,
            cal.weekday[day],
            cal.is_offday[day].astype(float),
            group,
            ((amount % 10000 == 0) & (amount >= 100000)).astype(float),
            *[(rule == name).astype(float) for name in params["legacy"]["rules"]],
        ]
    )


class Reviewers:
    """The review team's queue, explanation cycle and decisions; random draws are fixed per transaction."""

    def __init__(
        self,
        rng: np.random.Generator,
        txns: pd.DataFrame,
        cal: Calendar,
        params: dict[str, Any],
        now_ts: int,
        employees: int,
    ) -> None:
        self.lp = params["legacy"]
        self.cal = cal
        self.now_ts = now_ts
        n = len(txns)
        self.amount = txns["amount"].to_numpy()
        self.at_stake = txns["at_stake"].to_numpy()
        self.is_misuse = (txns["typology"] != "").to_numpy()
        self.noise = rng.standard_normal(n)
        self.u_open = rng.random(n)
        self.u_request = rng.random(n)
        self.u_silent = rng.random(n)
        self.u_explain = rng.standard_normal(n)
        self.u_decide = rng.random(n)
        self.u_decision = rng.random(n)
        self.u_partial = rng.random(n)
        self.u_hour = rng.random(n)
        extra = 60
        self.capacity_mean = reviewer_capacity(params, employees)
        self.capacity = np.round(self.capacity_mean * rng.uniform(0.85, 1.1, cal.n_days + extra)).astype(
            np.int64
        )
        self.workday = cal.workdays(cal.n_days + extra)
        self.start = cal_start(cal)

    def queue(
        self, tx: np.ndarray, avail_day: np.ndarray, reason: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Day each case is opened (-1 never) given the day it becomes available and its reason."""
        prio = np.array([self.lp["priority"][r] for r in reason], dtype=float) + self.noise[tx]
        order = np.argsort(avail_day, kind="stable")
        avail_sorted = avail_day[order]
        opened = np.full(len(tx), -1, dtype=np.int64)
        max_q = self.lp["max_queue_days"]
        last = int(avail_day.max()) + max_q + 1 if len(tx) else 0
        for d in range(0, min(last, len(self.workday))):
            if not self.workday[d]:
                continue
            lo = np.searchsorted(avail_sorted, d - max_q, side="left")
            hi = np.searchsorted(avail_sorted, d, side="right")
            window = order[lo:hi]
            window = window[opened[window] < 0]
            cap = self.capacity[d]
            if len(window) > cap:
                window = window[np.argsort(-prio[window], kind="stable")[:cap]]
            opened[window] = d
        return opened, avail_day

    def outcomes(
        self, tx: np.ndarray, opened_day: np.ndarray, alerted_by: np.ndarray, audit: bool = False
    ) -> pd.DataFrame:
        """Case rows for opened cases, with fields after ``now`` left empty.

        ``audit`` cases (the internal audit's random sample) are decided with the audit's own
        decision tables, and a case nobody answers is decided on the documents at the deadline
        instead of being confirmed.
        """
        lp = self.lp
        keep = opened_day >= 0
        tx, opened_day, alerted_by = tx[keep], opened_day[keep], alerted_by[keep]
        opened = self.start + opened_day * DAY + (9 * HOUR + self.u_open[tx] * 9 * HOUR).astype(np.int64)
        r_lo, r_hi = lp["explanation_request_hours"]
        requested = opened + ((r_lo + self.u_request[tx] * (r_hi - r_lo)) * HOUR).astype(np.int64)
        silent = self.u_silent[tx] < lp["no_explanation_share"]
        med, sig = lp["explanation_delay_days"]
        received = requested + (med * np.exp(sig * self.u_explain[tx]) * DAY).astype(np.int64)
        d_lo, d_hi = lp["decision_delay_days"]
        decided = np.where(
            silent,
            requested + lp["no_explanation_deadline_days"] * DAY,
            received + ((d_lo + self.u_decide[tx] * (d_hi - d_lo)) * DAY).astype(np.int64),
        )
        # decisions are made in office hours (09:00-18:00), never before the explanation
        in_day = (decided - self.start) % DAY
        office = decided - in_day + 9 * HOUR + (self.u_hour[tx] * 9 * HOUR).astype(np.int64)
        office = np.where(office <= np.where(silent, requested, received), office + DAY, office)
        decided = np.where((in_day < 9 * HOUR) | (in_day >= 18 * HOUR), office, decided)
        misuse = self.is_misuse[tx]
        if audit:
            table_m, table_l = lp["audit_misuse_decisions"], lp["audit_legit_decisions"]
        else:
            table_m, table_l = lp["misuse_decisions"], lp["legit_decisions"]
        labels = np.array(["confirmed", "partial", "cleared"], dtype=object)
        cum_m = np.cumsum([table_m[k] for k in labels])
        cum_l = np.cumsum([table_l[k] for k in labels])
        u = self.u_decision[tx]
        idx = np.where(misuse, np.searchsorted(cum_m / cum_m[-1], u), np.searchsorted(cum_l / cum_l[-1], u))
        decision = labels[np.minimum(idx, 2)]
        if not audit:
            decision = np.where(silent, "confirmed", decision)
        basis = np.where(misuse, np.maximum(self.at_stake[tx], 0), self.amount[tx])
        p_lo, p_hi = lp["partial_recovery"]
        partial = np.round(basis * (p_lo + self.u_partial[tx] * (p_hi - p_lo)) / 1000) * 1000
        recovered = np.select([decision == "confirmed", decision == "partial"], [basis, partial], 0).astype(
            np.int64
        )
        now = self.now_ts
        asked = requested < now
        received = np.where(silent | ~asked | (received >= now), -1, received)
        decided = np.where(~asked | (decided >= now) | (~silent & (received < 0)), -1, decided)
        is_open = decided < 0
        cases = pd.DataFrame(
            {
                "tx": tx,
                "alerted_by": alerted_by,
                "opened_at": opened,
                "explanation_requested_at": np.where(asked, requested, -1),
                "explanation_received_at": received,
                "decided_at": decided,
                "decision": np.where(is_open, "", decision),
                "recovered_amount": np.where(is_open, -1, recovered),
            }
        )
        cases = cases[cases["opened_at"] < now].reset_index(drop=True)
        return cases


def run_legacy(
    rng: np.random.Generator,
    txns: pd.DataFrame,
    cats: Categories,
    cal: Calendar,
    params: dict[str, Any],
    now_ts: int,
    employees: int,
) -> LegacyResult:
    """Both legacy filters, the review queue and the random audit over the whole period."""
    lp = params["legacy"]
    n = len(txns)
    start = cal_start(cal)
    ts = txns["ts"].to_numpy()
    approved = (txns["status"] == "approved").to_numpy() & (txns["amount"] > 0).to_numpy()
    batch = ts - (ts - start) % DAY + DAY + lp["alert_batch_hour"] * HOUR
    alerted_at = batch + (rng.random(n) * 40 * 60).astype(np.int64)
    reviewers = Reviewers(rng, txns, cal, params, now_ts, employees)

    rule = rule_filter(txns, cats, cal, params)
    rule_hit = rule != ""
    rule_tx = np.flatnonzero(rule_hit)
    rule_avail = (alerted_at[rule_tx] - start) // DAY

    # phase 1: the months the tree learns from (rule alerts only)
    months = int(cal.month.max()) + 1
    train_months = min(lp["tree_training_months"], months - 1)
    cutoff_day = int(np.searchsorted(cal.month, train_months)) if train_months > 0 else cal.n_days
    cutoff = start + cutoff_day * DAY
    opened1, _ = reviewers.queue(rule_tx, rule_avail, rule[rule_tx])
    first = reviewers.outcomes(rule_tx, opened1, rule[rule_tx])
    matured = first[(first["decided_at"] >= 0) & (first["decided_at"] < cutoff)]
    features = tree_features(txns, cats, cal, params, rule)
    tree_hit = np.zeros(n, dtype=bool)
    score = np.zeros(n)
    y = matured["decision"].isin(["confirmed", "partial"]).to_numpy()
    if train_months > 0 and len(matured) and 0 < y.sum() < len(y):
        tree = DecisionTreeClassifier(
            max_depth=lp["tree_max_depth"],
            min_samples_leaf=max(5, round(lp["tree_min_leaf_share"] * len(matured))),
            class_weight="balanced",
            random_state=0,
        )
        tree.fit(features[matured["tx"].to_numpy()], y)
        score = tree.predict_proba(features)[:, 1]
        # alert the top share of the training months' approvals, ties at the cut broken at random
        in_train = approved & (ts < cutoff)
        tie = rng.random(n)
        key = score + tie * 1e-6
        threshold = np.quantile(key[in_train], 1 - lp["tree_alert_share"]) if in_train.any() else np.inf
        tree_hit = approved & (ts >= cutoff) & (score > 0) & (key >= threshold)

    # phase 2: the whole period with both filters
    any_hit = rule_hit | tree_hit
    case_tx = np.flatnonzero(any_hit)
    reason = np.where(rule_hit[case_tx], rule[case_tx], "legacy_tree")
    avail = (alerted_at[case_tx] - start) // DAY
    opened, _ = reviewers.queue(case_tx, avail, reason)
    alerted_by = np.where(reason == "legacy_tree", "legacy_tree", "legacy_rule:" + reason.astype(str))
    cases = reviewers.outcomes(case_tx, opened, alerted_by)

    # random audit of each month's non-alerted approvals, opened early the next month
    month_of_tx = cal.month[np.clip((ts - start) // DAY, 0, cal.n_days - 1)]
    audit_tx, audit_day = [], []
    workdays = np.flatnonzero(reviewers.workday)
    for m in range(months):
        pool = np.flatnonzero(approved & ~any_hit & (month_of_tx == m))
        k = round(lp["audit_share"] * len(pool))
        if k == 0:
            continue
        pick = np.sort(rng.choice(pool, size=k, replace=False))
        month_end = int(np.searchsorted(cal.month, m + 1))
        first_days = workdays[workdays >= month_end][:5]
        audit_tx.append(pick)
        audit_day.append(first_days[rng.integers(0, len(first_days), k)])
    if audit_tx:
        a_tx = np.concatenate(audit_tx)
        audit = reviewers.outcomes(
            a_tx, np.concatenate(audit_day), np.full(len(a_tx), "random_audit", dtype=object), audit=True
        )
        cases = pd.concat([cases, audit], ignore_index=True)

    alerts = pd.concat(
        [
            pd.DataFrame(
                {"tx": rule_tx, "alerted_by": "legacy_rule:" + rule[rule_tx].astype(str), "score": np.nan}
            ),
            pd.DataFrame(
                {
                    "tx": np.flatnonzero(tree_hit),
                    "alerted_by": "legacy_tree",
                    "score": score[tree_hit].round(4),
                }
            ),
        ],
        ignore_index=True,
    )
    alerts["alerted_at"] = alerted_at[alerts["tx"].to_numpy()]
    alerts = alerts[alerts["alerted_at"] < now_ts]

    reviewed = np.zeros(n, dtype=bool)
    reviewed[case_tx[opened >= 0]] = True
    n_work = len(reviewers.workday)
    incoming = np.bincount(np.clip(avail, 0, n_work - 1), minlength=n_work).astype(np.int64)
    # alerts arriving on an off day wait for the next workday
    carried = np.zeros(n_work, dtype=np.int64)
    backlog = 0
    for d in range(n_work):
        backlog += incoming[d]
        if reviewers.workday[d]:
            carried[d] = backlog
            backlog = 0
    in_period = np.flatnonzero(reviewers.workday[: cal.n_days])
    return LegacyResult(
        alerts=alerts,
        cases=cases,
        rule_hit=rule_hit,
        tree_hit=tree_hit,
        tree_active_from=cutoff,
        reviewed=reviewed,
        incoming_per_workday=carried[in_period],
        capacity_per_workday=reviewers.capacity[in_period],
    )
