"""Render the ODDS benchmark and the default-detector rationale from measured numbers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.benchmarks.markdown import fmt, table
from ml.detectors import DETECTORS, get_spec

#: A detector qualifies as the default only if it fits and scores 100k rows within this budget.
#: Ten seconds per 100k rows rescore the planned 3 million transactions a year in about five minutes.
SPEED_BUDGET_SECONDS = 10.0
#: Detectors within this much mean ROC-AUC of the best count as equally accurate.
ACCURACY_TIE = 0.01
DEFAULT_RULE = (
    f"among detectors that fit and score 100k rows within {SPEED_BUDGET_SECONDS:.0f} s, take the highest "
    f"mean ROC-AUC over the ODDS sets; among those within {ACCURACY_TIE} of it, prefer a deterministic "
    "detector with additive per-feature explanations (ECOD, COPOD), then the better mean rank."
)


FAMILY_FINDS = {
    "isolation": "isolation finds rows that a few random splits separate from the rest: values rare "
    "on one or a few features (an amount far above the card's history, a purchase at 3 a.m.), "
    "including some combinations, since each tree splits several features in turn.",
    "empirical CDF": "tail probabilities find values rare on their own feature (global anomalies) "
    "and miss combinations of individually ordinary values.",
    "empirical CDF (copula)": "tail probabilities find values rare on their own feature (global "
    "anomalies) and miss combinations of individually ordinary values.",
    "histogram": "histograms find values in sparse bins of one feature at a time and miss combinations.",
    "distance": "distance to neighbours finds global anomalies and odd combinations, if scaled well.",
    "density": "local density finds rows in sparse pockets next to dense clusters (local anomalies).",
    "boundary": "a kernel boundary finds rows outside the bulk, including clustered anomalies.",
    "reconstruction": "distance from the principal subspace finds rows that break linear "
    "correlations between features.",
}


@dataclass
class DetectorSummary:
    """Per-detector aggregates over the ODDS sets."""

    table: pd.DataFrame
    default: str
    reasons: list[str]


def summarize(comparison: pd.DataFrame, seed_spread: pd.DataFrame, timing: pd.DataFrame) -> pd.DataFrame:
    """One row per detector: mean ROC-AUC (ours, published), gaps, rank, spreads, speed."""
    wide = comparison.pivot(index="dataset", columns="detector", values="ours")
    ranks = wide.rank(axis=1, ascending=False).mean()
    rows = []
    for name, group in comparison.groupby("detector"):
        paired = group.dropna(subset=["published"])
        worst = paired.loc[paired["gap"].abs().idxmax()] if len(paired) else None
        spread = seed_spread.loc[seed_spread["detector"] == name, "seed_std"]
        timed = timing.set_index("detector").loc[name] if name in set(timing["detector"]) else None
        rows.append(
            {
                "detector": name,
                "mean_ours": group["ours"].mean(),
                "mean_published": paired["published"].mean() if len(paired) else np.nan,
                "mean_ours_paired": paired["ours"].mean() if len(paired) else np.nan,
                "mean_abs_gap": paired["gap"].abs().mean() if len(paired) else np.nan,
                "max_abs_gap": abs(worst["gap"]) if worst is not None else np.nan,
                "max_gap_dataset": worst["dataset"] if worst is not None else "",
                "within_005": int((paired["gap"].abs() <= 0.05).sum()),
                "paired": len(paired),
                "mean_rank": float(ranks.get(name, np.nan)),
                "split_std": group["split_std"].mean(),
                "seed_std": spread.mean() if len(spread) else 0.0,
                "worst_set": group.loc[group["ours"].idxmin(), "dataset"],
                "worst_auc": group["ours"].min(),
                "fit_s": timed["fit_seconds"] if timed is not None else np.nan,
                "score_s": timed["score_seconds"] if timed is not None else np.nan,
                "extrapolated": bool(timed["extrapolated"]) if timed is not None else False,
            }
        )
    order = [d for d in DETECTORS if d in {r["detector"] for r in rows}]
    return pd.DataFrame(rows).set_index("detector").loc[order]


def choose_default(summary: pd.DataFrame) -> DetectorSummary:
    """Pick the default detector by `DEFAULT_RULE` applied to the measured summary."""
    total = summary["fit_s"] + summary["score_s"]
    fast = summary[total <= SPEED_BUDGET_SECONDS]
    if fast.empty:
        fast = summary
    best = fast["mean_ours"].max()
    tied = fast[fast["mean_ours"] >= best - ACCURACY_TIE].copy()
    tied["native"] = [get_spec(d).explanation == "tail" and not get_spec(d).stochastic for d in tied.index]
    tied = tied.sort_values(["native", "mean_ours", "mean_rank"], ascending=[False, False, True])
    default = str(tied.index[0])
    reasons = [
        f"{len(fast)} of {len(summary)} detectors fit and score 100k rows within {SPEED_BUDGET_SECONDS:.0f} s",
        f"best mean ROC-AUC among them {best:.3f}; within {ACCURACY_TIE}: "
        + ", ".join(f"{get_spec(d).label} {tied.loc[d, 'mean_ours']:.3f}" for d in tied.index),
    ]
    return DetectorSummary(table=summary, default=default, reasons=reasons)


def _zoo_table() -> str:
    rows = [
        (
            f"`{s.name}`",
            s.label,
            s.family,
            "tail scores" if s.explanation == "tail" else "median delta",
            s.description,
        )
        for s in DETECTORS.values()
    ]
    return table(["key", "detector", "family", "explanation", "what it finds"], rows, "lllll")


def render_odds(
    comparison: pd.DataFrame,
    shapes: pd.DataFrame,
    summary: DetectorSummary,
    published_year: int,
    n_splits: int,
    command: str,
) -> str:
    """The ODDS part of docs/algorithms.md."""
    s = summary.table
    detectors = list(s.index)
    wide_ours = comparison.pivot(index="dataset", columns="detector", values="ours")
    wide_pub = comparison.pivot(index="dataset", columns="detector", values="published")
    shapes = shapes.set_index("dataset")
    rows = []
    for dataset in shapes.index:
        cells = [dataset, int(shapes.loc[dataset, "n"]), int(shapes.loc[dataset, "d"])]
        cells.append(f"{100 * shapes.loc[dataset, 'outlier_share']:.1f}%")
        for d in detectors:
            ours, pub = wide_ours.loc[dataset, d], wide_pub.loc[dataset, d]
            cells.append(f"{fmt(ours)} ({fmt(pub)})")
        rows.append(cells)
    labels = [get_spec(d).label for d in detectors]
    main = table(["dataset", "n", "d", "outliers", *labels], rows)

    agg_rows = [
        (
            get_spec(d).label,
            fmt(s.loc[d, "mean_ours"]),
            fmt(s.loc[d, "mean_published"]),
            fmt(s.loc[d, "mean_ours_paired"] - s.loc[d, "mean_published"]),
            fmt(s.loc[d, "mean_abs_gap"]),
            f"{fmt(s.loc[d, 'max_abs_gap'])} ({s.loc[d, 'max_gap_dataset']})",
            f"{s.loc[d, 'within_005']}/{s.loc[d, 'paired']}",
            fmt(s.loc[d, "mean_rank"], 1),
            fmt(s.loc[d, "split_std"]),
            fmt(s.loc[d, "seed_std"], 4) if get_spec(d).stochastic else "0 (deterministic)",
        )
        for d in detectors
    ]
    agg = table(
        [
            "detector",
            "mean ROC-AUC",
            f"published {published_year}",
            "mean gap",
            "mean abs gap",
            "max abs gap",
            "sets within 0.05",
            "mean rank",
            "std over splits",
            "std over detector seeds",
        ],
        agg_rows,
    )
    time_rows = [
        (
            get_spec(d).label,
            fmt(s.loc[d, "fit_s"], 2),
            fmt(s.loc[d, "score_s"], 2),
            fmt(s.loc[d, "fit_s"] + s.loc[d, "score_s"], 2),
            f"extrapolated from {get_spec(d).timing_rows:,} rows (cost ~ n^{get_spec(d).time_exponent:g})"
            if s.loc[d, "extrapolated"]
            else "measured",
        )
        for d in detectors
    ]
    timing = table(
        ["detector", "fit CPU s / 100k", "score CPU s / 100k", "total CPU s / 100k", "how"], time_rows
    )

    big_gaps = comparison[comparison["gap"].abs() > 0.05].sort_values("gap", key=np.abs, ascending=False)
    gap_lines = [
        f"- {r.dataset} / {get_spec(r.detector).label}: ours {r.ours:.3f} vs published {r.published:.3f} "
        f"(gap {r.gap:+.3f}, our std over splits {r.split_std:.3f})"
        for r in big_gaps.itertuples()
    ]
    test_sizes = (0.4 * shapes["n"] * shapes["outlier_share"]).round().astype(int)
    small = ", ".join(f"{name} ({n})" for name, n in test_sizes.sort_values().items() if n < 20)
    within = int((comparison["gap"].abs() <= 0.05).sum())
    paired = int(comparison["published"].notna().sum())
    overall_abs = comparison["gap"].abs().mean()

    return "\n\n".join(
        [
            "## The zoo",
            "All detectors are PyOD's, wrapped by `ml.detectors.AnomalyDetector` (median imputation, "
            "scaling, higher score = more anomalous, `explain(X, top_n)`). ECOD and COPOD explain a "
            "score by their per-feature tail scores, which add up to the score. The others use the "
            "*median delta*: a feature's contribution is the drop in score when that feature alone is "
            "set to its training median, all else unchanged (exactly additive for HBOS, a local "
            "sensitivity for the rest); `method='robust_z'` gives a model-free alternative. PyOD's "
            "ECOD and COPOD rebuild their empirical distributions from the training rows plus the "
            "rows being scored, so a score depends a little on its batch: score in daily batches "
            "against a fixed training window.",
            _zoo_table(),
            "## ODDS: ROC-AUC beside PyOD's published numbers",
            f"Protocol (PyOD's): 60/40 random split, standardise on the training part, default "
            f"parameters, contamination = outlier share, ROC-AUC on the test part, mean over "
            f"{n_splits} splits (split i uses seed i for the split and the detector). Cells: ours "
            f"(PyOD {published_year}). Command: `{command}`.",
            main,
            agg,
            f"{within} of {paired} dataset-detector pairs agree within 0.05; the mean absolute gap "
            f"is {overall_abs:.3f}.",
            "### Where we differ, and why",
            "\n".join(gap_lines) if gap_lines else "No pair differs by more than 0.05.",
            _gap_reasons(s, small),
            "## Speed",
            "CPU seconds to fit and to score 100,000 rows on a synthetic 100,000 x 20 Gaussian matrix "
            "(1% shifted rows), one process, default parameters. CPU time rather than wall-clock time, "
            "because the machine was shared while measuring; single-threaded, the two agree.",
            timing,
        ]
    )


def _gap_reasons(s: pd.DataFrame, small: str) -> str:
    """Why the measured gaps are what they are, from the per-detector summary."""
    exact = [get_spec(d).label for d in s.index if s.loc[d, "max_abs_gap"] < 0.0005]
    lines = []
    if exact:
        lines.append(
            f"{', '.join(exact)} reproduce PyOD's table to the third decimal on every set: the splits "
            "use the same seeds as PyOD's script and these detectors are deterministic."
        )
    if "iforest" in s.index:
        r = s.loc["iforest"]
        lines.append(
            f"Isolation Forest differs by {r['mean_abs_gap']:.3f} on average (at most "
            f"{r['max_abs_gap']:.3f}, {r['max_gap_dataset']}): PyOD's script hands the forest the random "
            "generator left over after the split, we pass the seed, so the trees differ. The gap is of "
            f"the order of the forest's own spread across seeds ({r['seed_std']:.3f})."
        )
    if "pca" in s.index and s.loc["pca", "max_abs_gap"] >= 0.0005:
        r = s.loc["pca"]
        lines.append(
            f"PCA differs by at most {r['max_abs_gap']:.3f} ({r['max_gap_dataset']}). PyOD's PCA score is "
            "the distance from a row to each eigenvector taken as a point, which depends on the "
            "eigenvector's sign, and scikit-learn's sign convention for PCA components changed after "
            "the table was computed. On cardio, exactly collinear features give a zero eigenvalue that "
            "PyOD divides by; the wrapper floors it at machine epsilon to keep the scores finite."
        )
    lines.append(
        f"Sets with few test outliers (outliers in the 40% test part: {small or 'none below 20'}) move by "
        "several points when one outlier changes rank, so with fewer splits (`--splits`) expect larger "
        "gaps there; compare them with the std over splits."
    )
    return " ".join(lines)


def render_default(summary: DetectorSummary) -> str:
    """The rationale for the default detector, every number from the measured summary."""
    s = summary.table
    d = summary.default
    spec = get_spec(d)
    row = s.loc[d]
    best_acc = s["mean_ours"].idxmax()
    totals = (s["fit_s"] + s["score_s"]).dropna()
    local = [x for x in ("knn", "lof") if x in s.index]
    local_text = ", ".join(
        f"{get_spec(x).label} {s.loc[x, 'mean_ours']:.3f} (mean rank {s.loc[x, 'mean_rank']:.1f})"
        for x in local
    )
    runner = s.drop(index=d)["mean_ours"].idxmax()
    stability = (
        "It is deterministic: the same data give the same scores, so an alert list can be "
        "reproduced for an auditor."
        if not spec.stochastic
        else f"Its ROC-AUC moves by {row['seed_std']:.4f} (std) across detector seeds on a fixed "
        "split; fix `random_state` so an alert list can be reproduced for an auditor."
    )
    explain = (
        "Its explanation is native: per-feature tail scores that add up to the score, so a "
        "reviewer reads exactly why a transaction ranks high."
        if spec.explanation == "tail"
        else "Its explanation is the median delta (see above), a faithful local sensitivity but "
        "not an exact decomposition."
    )
    return "\n\n".join(
        [
            "## Choosing the default detector",
            f"**Default: {spec.label} (`{d}`).** Rule, applied to the tables above: {DEFAULT_RULE}",
            "Measured: " + "; ".join(summary.reasons) + ".",
            f"Accuracy: {spec.label} averages {row['mean_ours']:.3f} ROC-AUC over the ODDS sets "
            f"(mean rank {row['mean_rank']:.1f} of {len(s)}); the most accurate on average is "
            f"{get_spec(best_acc).label} at {s.loc[best_acc, 'mean_ours']:.3f}, the runner-up to the "
            f"default is {get_spec(runner).label} at {s.loc[runner, 'mean_ours']:.3f}. Its weakest "
            f"set is {row['worst_set']} ({row['worst_auc']:.3f}).",
            f"Anomaly types: {FAMILY_FINDS.get(spec.family, 'see the zoo table')} The neighbour "
            f"detectors, which find local anomalies and odd combinations, average {local_text} here "
            "and cost far more; they stay in the zoo for comparison, and the supervised model "
            "carries combinations once confirmed cases exist (DOMAIN.md, section 3.8).",
            (
                f"Speed: {row['fit_s']:.2f} s to fit and {row['score_s']:.2f} s to score 100k rows; the "
                f"fastest is {get_spec(totals.idxmin()).label} at {totals.min():.2f} s. Under the budget, "
                "rescoring the planned 3 million transactions a year every night takes minutes."
                if len(totals) and d in totals.index
                else "Speed: not measured in this run (`--no-timing`)."
            ),
            f"Stability: {stability} Its ROC-AUC varies by {row['split_std']:.3f} (std) across "
            "random splits, which is data variance, not model variance.",
            f"Explainability: {explain}",
        ]
    )
