"""Detectors on a features table with ground truth: ROC-AUC per misuse typology.

Features parquet: ``transaction_id`` plus numeric feature columns. Truth parquet:
``transaction_id, is_misuse, typology, amount_at_stake``. Each typology is scored as its misuse
rows against all normal rows, so a typology the detectors cannot see shows up near 0.5.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ml.benchmarks.markdown import fmt, table
from ml.detectors import DETECTORS, AnomalyDetector, get_spec
from ml.evaluation import average_precision, roc_auc

logger = logging.getLogger(__name__)

#: Rows used to fit the slow neighbour and boundary detectors; every row is still scored.
FIT_ROWS = {"knn": 50_000, "lof": 50_000, "ocsvm": 10_000}


def read_warehouse_features(warehouse: Path) -> pd.DataFrame:
    """The features mart of a built warehouse as the product's detectors see it.

    ``transaction_id`` plus the columns `ml.system.detector_columns` keeps: numeric features,
    booleans as 0/1, no identifiers, rule outputs or features computed from review outcomes.
    """
    import duckdb

    from ml.system import detector_columns, model_inputs

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        frame = con.execute(
            "SELECT * FROM features.fct_transaction_features ORDER BY transaction_id"
        ).fetchdf()
    finally:
        con.close()
    inputs = model_inputs(frame)
    return pd.concat([frame[["transaction_id"]], inputs[detector_columns(inputs)]], axis=1)


def load_features_truth(features: Path, truth: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Join features and truth on ``transaction_id``; rows without truth count as normal.

    ``features`` is a Parquet file (``transaction_id`` + numeric columns) or a built DuckDB
    warehouse (``.duckdb``), read with `read_warehouse_features`.
    """
    feats = read_warehouse_features(features) if features.suffix == ".duckdb" else pd.read_parquet(features)
    if "transaction_id" not in feats.columns:
        raise ValueError(f"{features}: no transaction_id column")
    feats["transaction_id"] = feats["transaction_id"].astype(str)
    numeric = [c for c in feats.columns if c != "transaction_id" and pd.api.types.is_numeric_dtype(feats[c])]
    dropped = sorted(set(feats.columns) - set(numeric) - {"transaction_id"})
    if dropped:
        logger.info("ignoring non-numeric feature columns: %s", dropped)
    truth_frame = pd.read_parquet(truth)
    missing = {"transaction_id", "is_misuse", "typology"} - set(truth_frame.columns)
    if missing:
        raise ValueError(f"{truth}: missing columns {sorted(missing)}")
    truth_frame["transaction_id"] = truth_frame["transaction_id"].astype(str)
    truth_frame = truth_frame.drop_duplicates("transaction_id")
    joined = feats[["transaction_id"]].merge(truth_frame, on="transaction_id", how="left")
    joined["is_misuse"] = joined["is_misuse"].fillna(False).astype(bool)
    joined["typology"] = joined["typology"].where(joined["is_misuse"], "normal")
    if "amount_at_stake" not in joined.columns:
        joined["amount_at_stake"] = 0.0
    joined["amount_at_stake"] = joined["amount_at_stake"].fillna(0.0)
    return feats[numeric].astype(float), joined


def run_typology(
    X: pd.DataFrame,
    truth: pd.DataFrame,
    detectors: Sequence[str] = tuple(DETECTORS),
    seed: int = 0,
) -> pd.DataFrame:
    """ROC-AUC per (detector, typology) plus ``all`` (every misuse row) and its AP."""
    y = truth["is_misuse"].to_numpy().astype(int)
    contamination = float(np.clip(y.mean(), 0.001, 0.5))
    normal = ~truth["is_misuse"].to_numpy()
    typologies = sorted(t for t in truth.loc[truth["is_misuse"], "typology"].dropna().unique())
    rng = np.random.default_rng(seed)
    rows = []
    for name in detectors:
        get_spec(name)
        fit_rows = min(FIT_ROWS.get(name, len(X)), len(X))
        idx = np.sort(rng.choice(len(X), size=fit_rows, replace=False)) if fit_rows < len(X) else slice(None)
        start = time.perf_counter()
        model = AnomalyDetector(name, contamination=contamination, scaling="robust", random_state=seed)
        model.fit(X.iloc[idx])
        score = model.decision_function(X)
        seconds = time.perf_counter() - start
        logger.info("%s scored %d rows in %.1f s", name, len(X), seconds)
        rows.append(
            {
                "detector": name,
                "typology": "all",
                "n": int(y.sum()),
                "roc_auc": roc_auc(y, score),
                "average_precision": average_precision(y, score),
                "seconds": seconds,
            }
        )
        for typ in typologies:
            mask = normal | (truth["typology"].to_numpy() == typ)
            rows.append(
                {
                    "detector": name,
                    "typology": typ,
                    "n": int((truth["typology"] == typ).sum()),
                    "roc_auc": roc_auc(y[mask], score[mask]),
                    "average_precision": np.nan,
                    "seconds": np.nan,
                }
            )
    return pd.DataFrame(rows)


def render_typology(result: pd.DataFrame, n_rows: int, n_features: int, command: str) -> str:
    """Markdown: typologies as rows, detectors as columns, best per row in bold."""
    wide = result.pivot(index="typology", columns="detector", values="roc_auc")
    detectors = [d for d in DETECTORS if d in wide.columns]
    counts = result.drop_duplicates("typology").set_index("typology")["n"]
    order = ["all"] + [t for t in wide.index if t != "all"]
    rows = []
    for typ in order:
        best = wide.loc[typ, detectors].max()
        cells = [typ, int(counts[typ])]
        for d in detectors:
            v = wide.loc[typ, d]
            cells.append(f"**{fmt(v)}**" if v == best else fmt(v))
        rows.append(cells)
    ap = result[result["typology"] == "all"].set_index("detector")
    rows.append(
        [
            "all, average precision",
            int(counts["all"]),
            *[fmt(ap.loc[d, "average_precision"]) for d in detectors],
        ]
    )
    rows.append(["seconds (fit + score)", "", *[fmt(ap.loc[d, "seconds"], 1) for d in detectors]])
    blind = [t for t in order[1:] if wide.loc[t, detectors].max() < 0.6]
    blind_text = (
        "Typologies no detector separates (best ROC-AUC below 0.6): " + ", ".join(blind) + ". These need "
        "rules or the supervised model."
        if blind
        else "Every typology is separated by at least one detector (best ROC-AUC of 0.6 or more)."
    )
    return "\n\n".join(
        [
            f"{n_rows:,} transactions, {n_features} numeric features; each typology's misuse rows "
            "against all normal rows (ROC-AUC; robust scaling, median imputation; kNN and LOF fitted "
            f"on {FIT_ROWS['knn']:,} sampled rows, One-Class SVM on {FIT_ROWS['ocsvm']:,}, all rows "
            f"scored). Command: `{command}`.",
            table(["typology", "misuse rows", *[get_spec(d).label for d in detectors]], rows),
            blind_text,
            _in_use_text(wide.loc["all", detectors]),
        ]
    )


def _in_use_text(all_auc: pd.Series) -> str:
    """Where the detectors the system runs (``ml/config/system.yml``) rank on this data."""
    from ml.explain import load_parameters

    in_use = [d for d in load_parameters("system")["detectors"] if d in all_auc.index]
    if not in_use:
        return ""
    order = all_auc.sort_values(ascending=False).index.tolist()
    ranked = ", ".join(
        f"{get_spec(d).label} {order.index(d) + 1} of {len(order)} ({fmt(all_auc[d])})" for d in in_use
    )
    best = order[0]
    return (
        f"The detectors the system runs (`detectors` in `ml/config/system.yml`) rank, by ROC-AUC over all "
        f"misuse: {ranked}; the best here is {get_spec(best).label} ({fmt(all_auc[best])}). Their scores are "
        "features of the supervised trees, so the hybrid's backtest, not this table alone, decides a change."
    )


TYPOLOGY_PLACEHOLDER = (
    "_Not measured yet._ Run `cardwatch benchmark detectors --no-odds --features WAREHOUSE.duckdb "
    "--truth PATH` with a built warehouse (or the features mart exported to Parquet: `transaction_id` + "
    "numeric feature columns) and the simulator's ground truth (`transaction_id, is_misuse, typology, amount_at_stake`) to fill "
    "this section with ROC-AUC per typology."
)
