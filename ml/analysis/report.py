"""The detection review: how the current filters perform, where they fail, recommended thresholds and
the operating plan, as a self-contained HTML page (figures embedded) and a Markdown file.

`build_report` is the entry point; `review_blocks` turns a computed `Review` into language-specific
blocks that both renderers share, so the two files always say the same thing.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd

from ml.analysis import plots
from ml.analysis.compute import Review, analysis_parameters, compute_review
from ml.analysis.loaders import load_review_data, load_truth
from ml.analysis.texts import action, column, fmt_int, fmt_krw, fmt_num, fmt_pct, text
from ml.explain import load_parameters

TEMPLATES = Path(__file__).resolve().parent / "templates"
HTML_NAME = "detection_review.html"
MD_NAME = "detection_review.md"


@dataclass
class Block:
    """One element of the report: heading, paragraph, list, table or figure."""

    kind: str
    text: str = ""
    items: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[dict[str, Any]]] = field(default_factory=list)
    png: bytes = b""
    name: str = ""
    alt: str = ""

    @property
    def b64(self) -> str:
        return base64.b64encode(self.png).decode("ascii")


def _cell(value: Any, kind: str, lang: str) -> dict[str, Any]:
    formatters = {
        "int": fmt_int,
        "pct": fmt_pct,
        "num": fmt_num,
        "krw": lambda v: fmt_int(v),
        "action": lambda v: action(str(v), lang),
    }
    if kind in formatters:
        return {"text": formatters[kind](value), "num": kind not in ("action",)}
    return {
        "text": "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value),
        "num": False,
    }


def table_block(frame: pd.DataFrame, spec: list[tuple[str, str]], lang: str) -> Block:
    """A table of ``frame``'s columns in ``spec`` order: (column, kind) with kind in str, int, pct,
    num, krw, action."""
    present = [(name, kind) for name, kind in spec if name in frame]
    header = [column(name, lang) for name, _ in present]
    rows = [[_cell(row[name], kind, lang) for name, kind in present] for _, row in frame.iterrows()]
    return Block("table", header=header, rows=rows)


def _join(items: list[str], lang: str) -> str:
    return text("and", lang).join(items) if items else text("none", lang)


CARD_SPEC = [
    ("system", "str"),
    ("detector", "str"),
    ("alerts", "int"),
    ("reviewed", "int"),
    ("review_rate", "pct"),
    ("confirmed", "int"),
    ("precision", "pct"),
    ("confirmed_amount", "krw"),
    ("recovered_amount", "krw"),
    ("unique_confirmed", "int"),
    ("explanation_acceptance_rate", "pct"),
    ("median_days_to_decision", "num"),
]


def _section_one(review: Review, lang: str) -> list[Block]:
    blocks = [Block("h2", text("s1", lang))]
    card = review.system_card
    legacy = card[card["system"] == "legacy"]
    if len(legacy):
        row = legacy.iloc[0]
        blocks.append(
            Block(
                "p",
                text(
                    "s1_summary",
                    lang,
                    alerts=fmt_int(row["alerts"]),
                    per_day=fmt_num(review.workload_summary["mean_alerts_per_active_day"]),
                    reviewed=fmt_int(row["reviewed"]),
                    review_rate=fmt_pct(row["review_rate"]),
                    confirmed=fmt_int(row["confirmed"]),
                    precision=fmt_pct(row["precision"]),
                    false_share=fmt_pct(1 - row["precision"]),
                    confirmed_amount=fmt_krw(row["confirmed_amount"], lang),
                    recovered=fmt_krw(row["recovered_amount"], lang),
                ),
            )
        )
    blocks.append(Block("h3", text("s1_systems", lang)))
    blocks.append(table_block(card.drop(columns=["detector"], errors="ignore"), CARD_SPEC, lang))
    blocks.extend(_precision_blocks(review, lang))

    blocks.append(Block("h3", text("s1_recall", lang)))
    recall_rows = []
    miss, recall = review.legacy_miss, review.legacy_recall
    if miss is None or recall is None:
        blocks.append(Block("p", text("recall_none", lang)))
    else:
        amount_recall = review.legacy_amount_recall
        blocks.append(
            Block(
                "p",
                text(
                    "recall_sample",
                    lang,
                    sampled=fmt_int(miss.sampled),
                    found=fmt_int(miss.found),
                    population=fmt_int(miss.population),
                    misses=fmt_num(miss.count),
                    misses_lower=fmt_num(miss.count_lower),
                    misses_upper=fmt_num(miss.count_upper),
                    amount=fmt_krw(miss.amount, lang),
                    amount_lower=fmt_krw(miss.amount_lower, lang),
                    amount_upper=fmt_krw(miss.amount_upper, lang),
                    recall=fmt_pct(recall.recall),
                    recall_lower=fmt_pct(recall.lower),
                    recall_upper=fmt_pct(recall.upper),
                    amount_recall=fmt_pct(amount_recall.recall),
                    amount_recall_lower=fmt_pct(amount_recall.lower),
                    amount_recall_upper=fmt_pct(amount_recall.upper),
                    detected=fmt_num(recall.detected),
                ),
            )
        )
        blocks.extend(_sample_assumption_blocks(review, lang))
        if miss.found == 0:
            blocks.append(
                Block(
                    "p",
                    text(
                        "recall_zero",
                        lang,
                        bound=fmt_pct(miss.rate_upper, 2),
                        bound_count=fmt_int(miss.count_upper),
                    ),
                )
            )
        recall_rows.append(
            {
                "name": text("recall_row_audit", plots.plot_language(lang)),
                "recall": recall.recall,
                "lower": recall.lower,
                "upper": recall.upper,
            }
        )
        raw = review.legacy_recall_apparent
        if raw is not None and miss.is_corrected:
            recall_rows.append(
                {
                    "name": text("recall_row_raw", plots.plot_language(lang)),
                    "recall": raw.recall,
                    "lower": raw.lower,
                    "upper": raw.upper,
                }
            )
    truth = review.truth
    if truth is not None and "legacy" in truth:
        legacy_truth = truth["legacy"]
        observed = legacy.iloc[0]["precision"] if len(legacy) else float("nan")
        blocks.append(
            Block(
                "p",
                text(
                    "recall_truth",
                    lang,
                    precision=fmt_pct(legacy_truth["precision"]),
                    observed=fmt_pct(observed),
                    recall=fmt_pct(legacy_truth["recall"]),
                    amount_recall=fmt_pct(legacy_truth["amount_recall"]),
                    missed=fmt_int(legacy_truth["missed"]),
                    missed_amount=fmt_krw(legacy_truth["missed_amount"], lang),
                ),
            )
        )
        for row in recall_rows:
            row["true"] = legacy_truth["recall"]
        measured = truth.get("accuracy", {})
        alert_acc, sample_acc = measured.get("alert_review"), measured.get("random_sample")
        if alert_acc and sample_acc:
            blocks.append(
                Block(
                    "p",
                    text(
                        "accuracy_truth",
                        lang,
                        alert_se=fmt_pct(alert_acc["sensitivity"]),
                        alert_sp=fmt_pct(alert_acc["specificity"]),
                        alert_n=fmt_int(alert_acc["decided"]),
                        sample_se=fmt_pct(sample_acc["sensitivity"]),
                        sample_sp=fmt_pct(sample_acc["specificity"]),
                        sample_misuse=fmt_int(sample_acc["misuse"]),
                        sample_clean=fmt_int(sample_acc["clean"]),
                    ),
                )
            )
        sim = review.simulated_sample
        if sim is not None:
            blocks.append(
                Block(
                    "p",
                    text(
                        "recall_simulated",
                        lang,
                        rate=fmt_pct(review.exploration["rate"]),
                        sampled=fmt_int(sim["sampled"]),
                        found=fmt_int(sim["miss"].found),
                        misses=fmt_num(sim["miss"].count),
                        misses_lower=fmt_num(sim["miss"].count_lower),
                        misses_upper=fmt_num(sim["miss"].count_upper),
                        true_missed=fmt_int(sim["true_missed"]),
                        recall=fmt_pct(sim["recall"].recall),
                        recall_lower=fmt_pct(sim["recall"].lower),
                        recall_upper=fmt_pct(sim["recall"].upper),
                        true_recall=fmt_pct(legacy_truth["recall"]),
                    ),
                )
            )
            recall_rows.append(
                {
                    "name": text("recall_row_explore", plots.plot_language(lang)),
                    "recall": sim["recall"].recall,
                    "lower": sim["recall"].lower,
                    "upper": sim["recall"].upper,
                    "true": legacy_truth["recall"],
                }
            )
        decisions = truth.get("decisions", {})
        if decisions.get("false_confirmed") or decisions.get("false_cleared"):
            blocks.append(
                Block(
                    "p",
                    text(
                        "recall_gap",
                        lang,
                        false_confirmed=fmt_int(decisions["false_confirmed"]),
                        confirmed=fmt_int(decisions["confirmed"]),
                        false_cleared=fmt_int(decisions["false_cleared"]),
                        cleared=fmt_int(decisions["cleared"]),
                    ),
                )
            )
    if recall_rows:
        blocks.append(
            _figure("recall", plots.recall_plot(pd.DataFrame(recall_rows), lang), text("s1_recall", lang))
        )

    detectors = review.detector_card
    legacy_rules = (
        detectors[detectors["system"].isin(["legacy_rule", "legacy_tree"])] if len(detectors) else detectors
    )
    if len(legacy_rules):
        blocks.append(Block("h3", text("s1_rules", lang)))
        blocks.append(table_block(legacy_rules.drop(columns=["system"]), CARD_SPEC, lang))
        blocks.append(_figure("legacy_rules", plots.rule_plot(legacy_rules, lang), text("s1_rules", lang)))
    if len(review.trend):
        blocks.append(Block("h3", text("s1_trend", lang)))
        spec = [("system", "str"), ("period", "str"), ("alerts", "int"), ("reviewed", "int")]
        spec += [("confirmed", "int"), ("precision", "pct")]
        blocks.append(table_block(review.trend, spec, lang))
    return blocks


PRECISION_SPEC = [
    ("system", "str"),
    ("alerts", "int"),
    ("reviewed", "int"),
    ("confirmed", "int"),
    ("reviewed_precision", "pct"),
    ("weighted_precision", "pct"),
    ("corrected_precision", "pct"),
    ("corrected_lower", "pct"),
    ("corrected_upper", "pct"),
    ("true_precision", "pct"),
]


def _precision_blocks(review: Review, lang: str) -> list[Block]:
    """Precision of the legacy systems corrected for the alert queue's reviewer error."""
    table, found = review.legacy_precision, review.legacy_detected_estimate
    if found is None or table is None or table.empty:
        return []
    accuracy = review.accuracy["alert_review"]
    overall = table[table["system"] == "legacy"].iloc[0]
    detected = found.apparent or found
    blocks = [Block("h3", text("s1_precision", lang))]
    blocks.append(
        Block(
            "p",
            text(
                "precision_corrected",
                lang,
                sensitivity=fmt_pct(accuracy.sensitivity),
                specificity=fmt_pct(accuracy.specificity),
                source=text("accuracy_source", lang),
                precision=fmt_pct(overall["corrected_precision"]),
                lower=fmt_pct(overall["corrected_lower"]),
                upper=fmt_pct(overall["corrected_upper"]),
                detected=fmt_num(found.count, 0),
                detected_lower=fmt_num(found.count_lower, 0),
                detected_upper=fmt_num(found.count_upper, 0),
                reviewed=fmt_pct(overall["reviewed_precision"]),
                weighted=fmt_pct(detected.rate),
            ),
        )
    )
    bad = table.loc[~table["consistent"].astype(bool), "system"].tolist()
    if bad:
        blocks.append(Block("p", text("precision_inconsistent", lang, systems=_join(bad, lang))))
    shown = table.copy()
    if review.truth is not None:
        shown["true_precision"] = [review.truth.get(name, {}).get("precision") for name in shown["system"]]
    blocks.append(table_block(shown, PRECISION_SPEC, lang))
    return blocks


def _sample_assumption_blocks(review: Review, lang: str) -> list[Block]:
    """The random-sample route's assumed accuracy, the uncorrected figures and any warning."""
    miss, raw = review.legacy_miss, review.legacy_recall_apparent
    if miss is None or not miss.is_corrected or miss.accuracy is None:
        return []
    apparent = miss.apparent
    accuracy = miss.accuracy
    values = {
        "sensitivity": fmt_pct(accuracy.sensitivity),
        "specificity": fmt_pct(accuracy.specificity),
        "source": text("accuracy_source", lang),
        "found": fmt_int(apparent.found),
        "misses": fmt_num(apparent.count),
        "misses_lower": fmt_num(apparent.count_lower),
        "misses_upper": fmt_num(apparent.count_upper),
        "recall": fmt_pct(raw.recall if raw else np.nan),
        "recall_lower": fmt_pct(raw.lower if raw else np.nan),
        "recall_upper": fmt_pct(raw.upper if raw else np.nan),
    }
    fpr = accuracy.false_positive_rate
    # expected share of the confirmations that are clean: (1 - Sp)(1 - p) / apparent rate
    share = min(1.0, fpr * (1 - miss.rate) / apparent.rate) if apparent.rate > 0 else np.nan
    values["false_share"] = fmt_pct(share, 0)
    blocks = [Block("p", text("recall_assumption", lang, **values))]
    if not miss.consistent:
        blocks.append(Block("p", text("recall_inconsistent", lang, fpr=fmt_pct(fpr, 2))))
    elif share > 0.5:
        blocks.append(Block("p", text("recall_fragile", lang, fpr=fmt_pct(fpr, 2))))
    return blocks


def _figure(name: str, png: bytes, alt: str) -> Block:
    return Block("img", png=png, name=f"{name}.png", alt=alt)


def _section_two(review: Review, lang: str) -> list[Block]:
    params = review.params
    blocks = [Block("h2", text("s2", lang)), Block("h3", text("s2_typ", lang))]
    if review.typologies is not None and len(review.typologies):
        typ = review.typologies
        never = typ.loc[typ["recall_legacy"] == 0, "typology"].tolist()
        truth = review.truth or {}
        blocks.append(
            Block(
                "p",
                text(
                    "typ_text",
                    lang,
                    never=_join(never, lang),
                    cw_recall=fmt_pct(truth.get("cardwatch_rule", {}).get("recall")),
                    legacy_recall=fmt_pct(truth.get("legacy", {}).get("recall")),
                ),
            )
        )
        spec = [("typology", "str"), ("transactions", "int"), ("amount_at_stake", "krw")]
        spec += [(c, "pct") for c in typ.columns if c.startswith("recall_")]
        blocks.append(table_block(typ, spec, lang))
        blocks.append(_figure("typologies", plots.typology_plot(typ, lang), text("s2_typ", lang)))
    else:
        blocks.append(Block("p", text("typ_none", lang)))

    blocks.append(Block("h3", text("s2_noisy", lang)))
    noisy = review.noisy
    card = review.detector_card
    legacy_total = int(
        review.alerts.loc[
            review.alerts["system"].isin(["legacy_rule", "legacy_tree"]), "transaction_id"
        ].nunique()
    )
    legacy_noisy = noisy[noisy["system"].isin(["legacy_rule", "legacy_tree"])] if len(noisy) else noisy
    noisy_ids = set(
        review.alerts.loc[
            review.alerts["detector"].isin(set(legacy_noisy.get("detector", []))), "transaction_id"
        ]
    )
    explanations = card["explanations"].sum() if len(card) else 0
    legacy_card = review.system_card[review.system_card["system"] == "legacy"]
    acceptance = legacy_card["explanation_acceptance_rate"].iloc[0] if len(legacy_card) else float("nan")
    blocks.append(
        Block(
            "p",
            text(
                "noisy_text",
                lang,
                n=fmt_int(len(noisy)),
                min_reviewed=fmt_int(params["noisy_rule_min_reviewed"]),
                max_precision=fmt_pct(params["noisy_rule_max_precision"], 0),
                legacy_alerts=fmt_int(len(noisy_ids)),
                legacy_total=fmt_int(legacy_total),
                share=fmt_pct(len(noisy_ids) / legacy_total if legacy_total else float("nan")),
                acceptance=fmt_pct(acceptance if explanations else float("nan")),
            ),
        )
    )
    if len(noisy):
        blocks.append(table_block(noisy, [*CARD_SPEC[:7], ("explanation_acceptance_rate", "pct")], lang))

    blocks.append(Block("h3", text("s2_bias", lang)))
    weighted = review.legacy_weighted
    summary = review.workload_summary
    if weighted is not None:
        blocks.append(
            Block(
                "p",
                text(
                    "bias_text",
                    lang,
                    unreviewed=fmt_pct(summary.get("unreviewed_share")),
                    labelled=fmt_int(weighted.labelled_total),
                    purchases=fmt_int(review.purchases),
                    labelled_share=fmt_pct(
                        weighted.labelled_total / review.purchases if review.purchases else np.nan
                    ),
                    audit=fmt_int(review.random_sample_size),
                    naive_precision=fmt_pct(weighted.naive_precision),
                    ipw_precision=fmt_pct(weighted.ipw_precision),
                    naive_recall=fmt_pct(weighted.naive_recall),
                    ipw_recall=fmt_pct(weighted.ipw_recall),
                ),
            )
        )

    blocks.append(Block("h3", text("s2_overflow", lang)))
    steps = review.turnaround
    blocks.append(
        Block(
            "p",
            text(
                "overflow_text",
                lang,
                mean=fmt_num(summary["mean_alerts_per_active_day"]),
                peak=fmt_int(summary["peak_alerts_per_day"]),
                capacity=fmt_int(params["daily_capacity"]),
                over=fmt_int(summary["days_over_capacity"]),
                throughput=fmt_num(summary.get("observed_throughput")),
                over_throughput=fmt_int(summary.get("days_over_throughput")),
                max_backlog=fmt_int(summary["max_backlog"]),
                explanation=fmt_num(steps["median_days"].get("days_to_explanation", np.nan)),
                explanation_p90=fmt_num(steps["p90_days"].get("days_to_explanation", np.nan)),
                decision=fmt_num(steps["median_days"].get("days_to_decision", np.nan)),
                decision_p90=fmt_num(steps["p90_days"].get("days_to_decision", np.nan)),
            ),
        )
    )
    if len(review.workload):
        blocks.append(
            _figure(
                "workload",
                plots.workload_plot(review.workload, lang, summary.get("observed_throughput")),
                text("s2_overflow", lang),
            )
        )

    blocks.append(Block("h3", text("s2_overlap", lang)))
    pairs = [f"{r.a} / {r.b} ({r.jaccard:.2f})" for r in review.cardwatch_pairs.head(3).itertuples()]
    blocks.append(Block("p", text("overlap_text", lang, pairs=_join(pairs, lang))))
    if len(review.jaccard) > 1:
        blocks.append(_figure("overlap", plots.jaccard_plot(review.jaccard, lang), text("s2_overlap", lang)))

    if review.lines:
        blocks.append(Block("h3", text("s2_line", lang)))
        blocks.append(Block("p", text("line_text", lang, band=fmt_pct(params["below_line_band"], 0))))
        rows = []
        for entry in review.lines:
            observed, true = entry["observed"], entry["true"]
            row = {
                "rule_id": entry["rule_id"],
                "line": entry["line"],
                "below_rows": observed.loc["below", "rows"],
                "below_rate": observed.loc["below", "rate"],
                "above_rows": observed.loc["above", "rows"],
                "above_rate": observed.loc["above", "rate"],
            }
            if true is not None:
                row["true_below_rate"] = true.loc["below", "rate"]
                row["true_above_rate"] = true.loc["above", "rate"]
            rows.append(row)
        spec = [("rule_id", "str"), ("line", "krw"), ("below_rows", "int"), ("below_rate", "pct")]
        spec += [
            ("above_rows", "int"),
            ("above_rate", "pct"),
            ("true_below_rate", "pct"),
            ("true_above_rate", "pct"),
        ]
        blocks.append(table_block(pd.DataFrame(rows), spec, lang))
    return blocks


def _point_text(kind: str, point: pd.Series, lang: str, **values: Any) -> str:
    return text(
        "curve_point",
        lang,
        kind=text(kind, lang, **values),
        threshold=fmt_num(point["threshold"], 0 if float(point["threshold"]).is_integer() else 3),
        per_day=fmt_num(point["alerts_per_day"]),
        busy=fmt_num(point["alerts_per_day_q"]),
        precision=fmt_pct(point["precision"]),
        recall=fmt_pct(point["recall"]),
        net=fmt_krw(point["net_value"], lang),
    )


def _section_three(review: Review, lang: str) -> list[Block]:
    params = review.params
    blocks = [Block("h2", text("s3", lang))]
    greedy = review.greedy
    if len(greedy):
        blocks.append(Block("h3", text("s3_rules", lang)))
        worth = greedy.loc[greedy["value_per_added_alert"] > params["review_cost_krw"], "detector"].tolist()
        coverage_floor = 0.5
        thin = greedy.loc[greedy["label_coverage"] < coverage_floor, "detector"].tolist()
        blocks.append(
            Block(
                "p",
                text(
                    "greedy_text",
                    lang,
                    cost=fmt_krw(params["review_cost_krw"], lang),
                    worth=_join(worth, lang),
                    coverage=fmt_pct(coverage_floor, 0),
                    thin=_join(thin, lang),
                ),
            )
        )
        if "true_step" in greedy:
            first = greedy.sort_values("true_step")["detector"].head(5).tolist()
            blocks.append(Block("p", text("greedy_truth", lang, true_first=_join(first, lang))))
        spec = [
            ("step", "int"),
            ("detector", "str"),
            ("alerts", "int"),
            ("added_alerts", "int"),
            ("added_confirmed_amount", "krw"),
            ("value_per_added_alert", "krw"),
            ("added_net_value", "krw"),
            ("cumulative_alerts_per_day", "num"),
            ("label_coverage", "pct"),
            ("true_step", "int"),
        ]
        blocks.append(table_block(greedy.head(params["top_rules_shown"] * 2), spec, lang))

    blocks.append(Block("h3", text("s3_scores", lang)))
    if review.scores_pending:
        blocks.append(Block("p", text("pending", lang)))
    for curve in review.curves:
        blocks.append(Block("p", text("curve_name", lang, name=curve.name)))
        points = {}
        candidates = [("capacity_kind", curve.capacity_point), ("cost_kind", curve.cost_point)]
        throughput = review.workload_summary.get("observed_throughput", np.nan)
        if curve.throughput_point is not None and throughput < 0.8 * params["daily_capacity"]:
            candidates.insert(1, ("throughput_kind", curve.throughput_point))
        for kind, point in candidates:
            if point is None:
                if kind == "capacity_kind":
                    blocks.append(Block("p", text("no_capacity_fit", lang)))
                continue
            if kind != "throughput_kind":
                points["capacity_point" if kind == "capacity_kind" else "cost_point"] = float(
                    point["threshold"]
                )
            blocks.append(Block("p", _point_text(kind, point, lang, throughput=fmt_num(throughput))))
            if curve.true_curve is not None:
                true_row = curve.true_curve[np.isclose(curve.true_curve["threshold"], point["threshold"])]
                if len(true_row):
                    t = true_row.iloc[0]
                    blocks.append(
                        Block(
                            "p",
                            text(
                                "curve_true",
                                lang,
                                precision=fmt_pct(t["precision"]),
                                recall=fmt_pct(t["recall"]),
                                net=fmt_krw(t["net_value"], lang),
                            ),
                        )
                    )
        if curve.budget is not None:
            budget = curve.budget
            blocks.append(
                Block(
                    "p",
                    text(
                        "curve_budget",
                        lang,
                        k=fmt_int(budget["k"]),
                        precision=fmt_pct(budget["precision"]),
                        recall=fmt_pct(budget["recall"]),
                        amount_recall=fmt_pct(budget["amount_recall"]),
                        card_precision=fmt_pct(budget["card_precision"]),
                    ),
                )
            )
        spec = [("threshold", "num"), ("alerts_per_day", "num"), ("alerts_per_day_q", "num")]
        spec += [("precision", "pct"), ("recall", "pct"), ("net_value", "krw")]
        blocks.append(table_block(curve.curve, spec, lang))
        png = plots.curve_plot(curve.curve, lang, curve.true_curve, params["daily_capacity"], points)
        blocks.append(_figure(f"curve_{curve.name}", png, text("curve_name", lang, name=curve.name)))
    return blocks


def _section_four(review: Review, lang: str) -> list[Block]:
    params = review.params
    policy = _policy()
    blocks = [Block("h2", text("s4", lang)), Block("h3", text("s4_combine", lang))]
    tree = review.system_card[review.system_card["system"] == "legacy_tree"]
    blocks.append(
        Block(
            "ul",
            items=text(
                "combine",
                lang,
                hard=_join(list(policy.get("hard_rule_ids", [])), lang),
                capacity=fmt_int(params["daily_capacity"]),
                tree_precision=fmt_pct(tree["precision"].iloc[0] if len(tree) else np.nan),
                tree_unique=fmt_int(tree["unique_confirmed"].iloc[0] if len(tree) else np.nan),
            ),
        )
    )
    blocks.append(Block("h3", text("s4_life", lang)))
    blocks.append(
        Block(
            "ul",
            items=text(
                "life",
                lang,
                shadow=fmt_int(params["shadow_min_days"]),
                min_reviewed=fmt_int(params["promote_min_reviewed"]),
                min_precision=fmt_pct(params["promote_min_precision"], 0),
                max_precision=fmt_pct(params["retire_max_precision"], 0),
            ),
        )
    )
    counts = [f"{key} {value}" for key, value in sorted(review.rule_status_counts.items())]
    blocks.append(Block("p", text("life_status", lang, counts=_join(counts, lang))))
    if len(review.lifecycle):
        spec = [("detector", "str"), ("rule_status", "str"), ("alerts", "int"), ("reviewed", "int")]
        spec += [
            ("confirmed", "int"),
            ("precision", "pct"),
            ("unique_confirmed", "int"),
            ("action", "action"),
        ]
        blocks.append(table_block(review.lifecycle, spec, lang))
    blocks.append(Block("h3", text("s4_retrain", lang)))
    blocks.append(
        Block(
            "ul",
            items=text(
                "retrain",
                lang,
                cadence=fmt_int(params["retrain_cadence_days"]),
                delay=fmt_int(params["label_delay_days"]),
            ),
        )
    )
    blocks.append(Block("h3", text("s4_explore", lang)))
    explore = review.exploration
    blocks.append(
        Block(
            "p",
            text(
                "explore",
                lang,
                rate=fmt_pct(explore["rate"], 2),
                per_day=fmt_num(explore["per_day"]),
                share=fmt_pct(explore["capacity_share"]),
                cost=fmt_krw(explore["cost_per_window"], lang),
                window=fmt_int(params["exploration_window_days"]),
                n=fmt_int(explore["sample_per_window"]),
                target=fmt_pct(params["target_miss_rate_upper"], 2),
                strata=params["strata_column"],
            ),
        )
    )
    blocks.append(Block("h3", text("s4_monthly", lang)))
    blocks.append(Block("ul", items=text("monthly", lang)))
    blocks.append(Block("h2", text("s5", lang)))
    entries = []
    for key, value in params.items():
        if isinstance(value, dict) and all(not isinstance(v, list | dict) for v in value.values()):
            entries.extend({"parameter": f"{key}.{k}", "value": v} for k, v in value.items())
        elif not isinstance(value, list | dict):
            entries.append({"parameter": key, "value": value})
    rows = pd.DataFrame(entries)
    blocks.append(table_block(rows, [("parameter", "str"), ("value", "str")], lang))
    return blocks


def _policy() -> dict[str, Any]:
    return load_parameters("policy")


def review_blocks(review: Review, lang: str = "ko", warehouse: str = "") -> list[Block]:
    """The report's content in ``lang``: meta line, then sections 1-4 and the parameters."""
    params = review.params
    meta = text(
        "meta",
        lang,
        warehouse=warehouse,
        start=review.period_start.date().isoformat(),
        end=review.period_end.date().isoformat(),
        days=fmt_int(review.days),
        purchases=fmt_int(review.purchases),
        amount=fmt_krw(review.purchase_amount, lang),
        cost=fmt_krw(params["review_cost_krw"], lang),
        capacity=fmt_int(params["daily_capacity"]),
        confidence=fmt_pct(params["confidence"], 0),
    )
    blocks = [Block("meta", meta)]
    if review.truth is not None:
        blocks.append(Block("meta", text("truth_note", lang)))
    for section in (_section_one, _section_two, _section_three, _section_four):
        blocks.extend(section(review, lang))
    return blocks


def render_html(blocks: list[Block], lang: str) -> str:
    """Self-contained HTML: inline CSS, figures as base64 PNG, no external resource."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=jinja2.select_autoescape(["html", "j2"])
    )
    template = environment.get_template("detection_review.html.j2")
    return template.render(blocks=blocks, lang=lang, title=text("title", lang))


def _md_escape(value: str) -> str:
    return value.replace("|", "\\|")


def render_markdown(blocks: list[Block], lang: str, figure_dir: str = "figures") -> str:
    """Markdown with the figures referenced from ``figure_dir`` (written beside the file)."""
    lines = [f"# {text('title', lang)}", ""]
    for block in blocks:
        if block.kind == "h2":
            lines += [f"## {block.text}", ""]
        elif block.kind == "h3":
            lines += [f"### {block.text}", ""]
        elif block.kind in ("p", "meta"):
            lines += [block.text, ""]
        elif block.kind == "ul":
            lines += [f"- {item}" for item in block.items] + [""]
        elif block.kind == "table":
            lines.append("| " + " | ".join(_md_escape(h) for h in block.header) + " |")
            lines.append(
                "|" + "|".join("---:" if c["num"] else "---" for c in block.rows[0]) + "|"
                if block.rows
                else "|"
            )
            lines += ["| " + " | ".join(_md_escape(c["text"]) for c in row) + " |" for row in block.rows]
            lines.append("")
        elif block.kind == "img":
            lines += [f"![{block.alt}]({figure_dir}/{block.name})", ""]
    return "\n".join(lines)


def build_report(
    warehouse_path: str | Path,
    out_dir: str | Path,
    lang: str = "ko",
    truth_path: str | Path | None = None,
    params: dict[str, Any] | None = None,
) -> dict[str, Path]:
    """Compute the detection review from a warehouse and write it.

    Parameters
    ----------
    warehouse_path : path
        DuckDB warehouse built by the dbt project; opened read-only.
    out_dir : path
        Receives ``detection_review.html`` (self-contained), ``detection_review.md`` and the
        Markdown's figures under ``figures/``.
    lang : {'ko', 'en'}
    truth_path : path, optional
        Simulation ground truth (``truth/`` folder or its ``transactions.parquet``).
    params : dict, optional
        Overrides of ``ml/config/analysis.yml``.

    Returns
    -------
    dict with the ``html`` and ``md`` paths.
    """
    if lang not in ("ko", "en"):
        raise ValueError("lang must be 'ko' or 'en'")
    data = load_review_data(warehouse_path)
    truth = load_truth(truth_path) if truth_path is not None else None
    review = compute_review(data, truth, analysis_parameters(params))
    blocks = review_blocks(review, lang, warehouse=Path(warehouse_path).name)
    out = Path(out_dir)
    figures = out / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    for block in blocks:
        if block.kind == "img":
            (figures / block.name).write_bytes(block.png)
    html_path, md_path = out / HTML_NAME, out / MD_NAME
    html_path.write_text(render_html(blocks, lang), encoding="utf-8")
    md_path.write_text(render_markdown(blocks, lang), encoding="utf-8")
    return {"html": html_path, "md": md_path}
