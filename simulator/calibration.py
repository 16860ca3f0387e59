"""The simulator measures itself: misuse by typology, and how the legacy filters and reviewers fare."""

from __future__ import annotations

from typing import Any

import numpy as np

from simulator.generate import Simulation
from simulator.legacy import reviewer_capacity


def _share(part: float, whole: float) -> float:
    return float(part / whole) if whole else 0.0


def review_accuracy(cases: Any, misuse: np.ndarray) -> dict[str, Any]:
    """Decision accuracy per review route against the truth: ``alert_review`` (the queue of legacy
    alerts) and ``random_audit``. Sensitivity = misuse confirmed or partly recovered, specificity =
    legitimate use cleared, over decided cases."""
    decided = cases[cases["decision"] != ""]
    routes = {
        "alert_review": decided[decided["alerted_by"] != "random_audit"],
        "random_audit": decided[decided["alerted_by"] == "random_audit"],
    }
    result: dict[str, Any] = {}
    for route, rows in routes.items():
        real = misuse[rows["tx"].to_numpy()]
        positive = rows["decision"].isin(["confirmed", "partial"]).to_numpy()
        result[route] = {
            "decided": len(rows),
            "misuse": int(real.sum()),
            "sensitivity": _share((positive & real).sum(), real.sum()),
            "specificity": _share((~positive & ~real).sum(), (~real).sum()),
        }
    return result


def calibrate(sim: Simulation) -> dict[str, Any]:
    """Calibration figures (JSON-ready, deterministic for a given run)."""
    tx = sim.txns
    lg = sim.legacy
    n = len(tx)
    typology = tx["typology"].to_numpy()
    misuse = typology != ""
    stake = tx["at_stake"].to_numpy().astype(float)
    amount = tx["amount"].to_numpy().astype(float)
    approved_amount = amount[amount > 0].sum()
    alerted = lg.rule_hit | lg.tree_hit
    tree_period = tx["ts"].to_numpy() >= lg.tree_active_from
    r, t = lg.rule_hit & tree_period, lg.tree_hit
    union = (r | t).sum()

    typologies: dict[str, Any] = {}
    for name, rate in sim.rates.items():
        mine = typology == name
        typologies[name] = {
            "rate": _share(mine.sum(), n),
            "configured_rate": rate,
            "events": int(sim.misuse.events.get(name, 0)),
            "transactions": int(mine.sum()),
            "misusers": int(sim.misuse.misusers.get(name, 0)),
            "amount_at_stake": int(stake[mine].sum()),
            "amount_rate": _share(stake[mine].sum(), approved_amount),
            "legacy_recall": _share((mine & alerted).sum(), mine.sum()),
            "legacy_recall_amount": _share(stake[mine & alerted].sum(), stake[mine].sum()),
        }
    employees_misusing = len(np.unique(tx.loc[misuse, "emp"].to_numpy()))
    cases = lg.cases
    legacy_cases = cases[cases["alerted_by"] != "random_audit"]
    decided = legacy_cases[legacy_cases["decision"] != ""]
    incoming = lg.incoming_per_workday
    capacity = lg.capacity_per_workday
    cal = sim.cal
    return {
        "seed": sim.options.seed,
        "start": str(cal.dates[0]),
        "end": str(cal.dates[-1]),
        "transactions": int(n),
        "employees": int(sim.company.n),
        "cards": len(sim.company.card_ids),
        "merchants": len(sim.merchants.frame),
        "expense_claims": len(sim.claims),
        "misuse_transactions": int(misuse.sum()),
        "misuse_rate_count": _share(misuse.sum(), n),
        "misuse_rate_amount": _share(stake[misuse].sum(), approved_amount),
        "misusing_employee_share": _share(employees_misusing, sim.company.n),
        "legacy_rule_alerts": int(lg.rule_hit.sum()),
        "legacy_tree_alerts": int(lg.tree_hit.sum()),
        "legacy_rule_precision": _share((lg.rule_hit & misuse).sum(), lg.rule_hit.sum()),
        "legacy_tree_precision": _share((lg.tree_hit & misuse).sum(), lg.tree_hit.sum()),
        "legacy_overlap_jaccard": _share((r & t).sum(), union),
        "legacy_tree_alerts_also_rule": _share((r & t).sum(), t.sum()),
        "legacy_recall_count": _share((misuse & alerted).sum(), misuse.sum()),
        "legacy_recall_amount": _share(stake[misuse & alerted].sum(), stake[misuse].sum()),
        "alerts_per_day_mean": _share(alerted.sum(), cal.n_days),
        "alerts_per_workday_mean": float(incoming.mean()) if len(incoming) else 0.0,
        "reviewer_capacity_per_day": round(reviewer_capacity(sim.params, sim.company.n), 1),
        "overflow_workday_share": float((incoming > capacity).mean()) if len(incoming) else 0.0,
        "unreviewed_share": _share((alerted & ~lg.reviewed).sum(), alerted.sum()),
        "reviewed_cases": int(lg.reviewed.sum()),
        "reviewed_confirmed_share": _share(
            decided["decision"].isin(["confirmed", "partial"]).sum(), len(decided)
        ),
        "random_audit_cases": int((cases["alerted_by"] == "random_audit").sum()),
        "review_accuracy": review_accuracy(cases, misuse),
        "typologies_legacy_recall_under_20pct": sorted(
            k for k, v in typologies.items() if v["legacy_recall"] < 0.2
        ),
        "typologies": typologies,
    }


def render(calibration: dict[str, Any]) -> Any:
    """A rich renderable of the calibration (two tables)."""
    from rich.console import Group
    from rich.table import Table

    c = calibration
    head = Table(title="Company A: calibration", show_header=False)
    head.add_column("measure")
    head.add_column("value", justify="right")
    rows = [
        ("period", f"{c['start']} .. {c['end']}"),
        ("transactions", f"{c['transactions']:,}"),
        ("employees", f"{c['employees']:,}"),
        ("misuse rate (count / amount)", f"{c['misuse_rate_count']:.2%} / {c['misuse_rate_amount']:.2%}"),
        ("employees with misuse", f"{c['misusing_employee_share']:.1%}"),
        ("legacy rule alerts / precision", f"{c['legacy_rule_alerts']:,} / {c['legacy_rule_precision']:.1%}"),
        ("legacy tree alerts / precision", f"{c['legacy_tree_alerts']:,} / {c['legacy_tree_precision']:.1%}"),
        ("rule-tree overlap (Jaccard)", f"{c['legacy_overlap_jaccard']:.1%}"),
        (
            "legacy recall (count / amount)",
            f"{c['legacy_recall_count']:.1%} / {c['legacy_recall_amount']:.1%}",
        ),
        (
            "alerts per day / per workday",
            f"{c['alerts_per_day_mean']:.1f} / {c['alerts_per_workday_mean']:.1f}",
        ),
        ("reviewer capacity per workday", f"{c['reviewer_capacity_per_day']}"),
        ("workdays over capacity", f"{c['overflow_workday_share']:.1%}"),
        ("alerts never reviewed", f"{c['unreviewed_share']:.1%}"),
        ("reviewed cases confirmed", f"{c['reviewed_confirmed_share']:.1%}"),
        ("random-audit cases", f"{c['random_audit_cases']:,}"),
    ]
    for route, name in (("alert_review", "alert review"), ("random_audit", "random audit")):
        entry = c.get("review_accuracy", {}).get(route)
        if entry:
            rows.append(
                (
                    f"{name} sensitivity / specificity",
                    f"{entry['sensitivity']:.1%} / {entry['specificity']:.1%}",
                )
            )
    for row in rows:
        head.add_row(*row)
    by_type = Table(title="misuse by typology")
    for col in (
        "typology",
        "rate",
        "configured",
        "txns",
        "misusers",
        "at stake (KRW)",
        "legacy recall",
        "recall amt",
    ):
        by_type.add_column(col, justify="left" if col == "typology" else "right")
    for name, v in c["typologies"].items():
        by_type.add_row(
            name,
            f"{v['rate']:.3%}",
            f"{v['configured_rate']:.3%}",
            f"{v['transactions']:,}",
            f"{v['misusers']:,}",
            f"{v['amount_at_stake']:,}",
            f"{v['legacy_recall']:.1%}",
            f"{v['legacy_recall_amount']:.1%}",
        )
    return Group(head, by_type)
