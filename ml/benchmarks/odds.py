"""The detector zoo on the 17 ODDS sets, with PyOD's published protocol.

Protocol: 60/40 random split, standardise on the training part, default parameters with
contamination equal to the outlier share, ROC-AUC on the test part, mean over splits. Split
``i`` uses seed ``i`` for both the split and the detector, as PyOD's benchmark script does.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy.io import loadmat
from sklearn.model_selection import train_test_split

from ml.detectors import DETECTORS, AnomalyDetector, get_spec
from ml.evaluation import roc_auc

logger = logging.getLogger(__name__)

ODDS_DATASETS: tuple[str, ...] = (
    "arrhythmia",
    "cardio",
    "glass",
    "ionosphere",
    "letter",
    "lympho",
    "mnist",
    "musk",
    "optdigits",
    "pendigits",
    "pima",
    "satellite",
    "satimage-2",
    "shuttle",
    "vertebral",
    "vowels",
    "wbc",
)


def default_odds_dir() -> Path:
    """``../shared/data/odds`` beside the repository."""
    return Path(__file__).resolve().parents[2].parent / "shared" / "data" / "odds"


def load_mat(odds_dir: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    """``X`` and ``y`` (1 = outlier) of one ODDS set."""
    mat = loadmat(odds_dir / "mat" / f"{name}.mat")
    return np.asarray(mat["X"], dtype=float), np.asarray(mat["y"]).ravel().astype(int)


def load_published(odds_dir: Path, year: int = 2024, metric: str = "roc") -> pd.DataFrame:
    """PyOD's published table (datasets x detectors), columns renamed to registry keys."""
    table = pd.read_csv(odds_dir / "published_tables" / f"pyod_{year}_{metric}.csv")
    table.columns = [str(c).strip() for c in table.columns]
    table = table.set_index("Data")
    by_column = {spec.published_column: spec.name for spec in DETECTORS.values()}
    kept = [c for c in table.columns if c in by_column]
    out = table[kept].rename(columns=by_column).astype(float)
    return out.replace(0.0, np.nan)


def run_split(
    X: np.ndarray, y: np.ndarray, detector: str, seed: int, detector_seed: int | None = None
) -> dict[str, float]:
    """One 60/40 split: fit on train, ROC-AUC on test, wall-clock seconds."""
    X_train, X_test, _, y_test = train_test_split(X, y, test_size=0.4, random_state=seed)
    model = AnomalyDetector(
        detector,
        contamination=float(np.mean(y)),
        scaling="standard",
        random_state=seed if detector_seed is None else detector_seed,
    )
    start = time.perf_counter()
    model.fit(X_train)
    fitted = time.perf_counter()
    scores = model.decision_function(X_test)
    done = time.perf_counter()
    return {
        "roc_auc": roc_auc(y_test, scores),
        "fit_seconds": fitted - start,
        "score_seconds": done - fitted,
    }


def _run_dataset_seed(odds_dir: Path, name: str, detectors: Sequence[str], seed: int) -> list[dict]:
    X, y = load_mat(odds_dir, name)
    rows = []
    for detector in detectors:
        result = run_split(X, y, detector, seed)
        rows.append({"dataset": name, "detector": detector, "seed": seed, **result})
    return rows


def _seed_stability(odds_dir: Path, name: str, detector: str, detector_seeds: Sequence[int]) -> dict:
    X, y = load_mat(odds_dir, name)
    aucs = [run_split(X, y, detector, seed=0, detector_seed=s)["roc_auc"] for s in detector_seeds]
    return {"dataset": name, "detector": detector, "seed_std": float(np.std(aucs))}


@dataclass
class OddsResult:
    """Raw per-split results, the seed-only spread of stochastic detectors, dataset shapes."""

    runs: pd.DataFrame
    seed_spread: pd.DataFrame
    shapes: pd.DataFrame


def run_odds(
    odds_dir: Path,
    datasets: Sequence[str] = ODDS_DATASETS,
    detectors: Sequence[str] = tuple(DETECTORS),
    seeds: Sequence[int] = tuple(range(10)),
    stability_seeds: Sequence[int] = tuple(range(5)),
    n_jobs: int = 2,
) -> OddsResult:
    """Run every (dataset, seed) pair in parallel; see the module docstring for the protocol.

    ``stability_seeds`` refits each stochastic detector on the first split with several
    detector seeds, separating model randomness from split randomness.
    """
    for name in detectors:
        get_spec(name)
    tasks = [(name, seed) for name in datasets for seed in seeds]
    logger.info("ODDS: %d datasets x %d splits x %d detectors", len(datasets), len(seeds), len(detectors))
    chunks = Parallel(n_jobs=n_jobs)(
        delayed(_run_dataset_seed)(odds_dir, name, detectors, seed) for name, seed in tasks
    )
    runs = pd.DataFrame([row for chunk in chunks for row in chunk])
    stochastic = [d for d in detectors if get_spec(d).stochastic]
    spread_rows = Parallel(n_jobs=n_jobs)(
        delayed(_seed_stability)(odds_dir, name, det, stability_seeds)
        for name in datasets
        for det in stochastic
    )
    seed_spread = pd.DataFrame(spread_rows, columns=["dataset", "detector", "seed_std"])
    shapes = []
    for name in datasets:
        X, y = load_mat(odds_dir, name)
        shapes.append({"dataset": name, "n": X.shape[0], "d": X.shape[1], "outlier_share": float(y.mean())})
    return OddsResult(runs=runs, seed_spread=seed_spread, shapes=pd.DataFrame(shapes))


def compare_with_published(runs: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """Long table: dataset, detector, ours (mean, std over splits), published, gap = ours - published."""
    ours = runs.groupby(["dataset", "detector"])["roc_auc"].agg(ours="mean", split_std="std").reset_index()
    pub = published.stack().rename("published").reset_index()
    pub.columns = ["dataset", "detector", "published"]
    table = ours.merge(pub, on=["dataset", "detector"], how="left")
    table["gap"] = table["ours"] - table["published"]
    return table


def time_per_100k(
    detectors: Sequence[str] = tuple(DETECTORS),
    n_rows: int = 100_000,
    n_features: int = 20,
    seed: int = 0,
) -> pd.DataFrame:
    """Fit and score CPU seconds per 100k rows on a synthetic Gaussian matrix with 1% shifted rows.

    CPU time of this process, not wall-clock time, so a busy shared machine does not inflate the
    figures; the detectors run single-threaded by default, where the two agree. Detectors whose
    cost grows faster than linearly are timed on ``timing_rows`` rows (fit and score the same
    rows) and extrapolated with the registry's ``time_exponent``.
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, n_features))
    shifted = rng.random(n_rows) < 0.01
    X[shifted] += rng.normal(4.0, 1.0, size=(int(shifted.sum()), n_features))
    rows = []
    for name in detectors:
        spec = get_spec(name)
        m = min(spec.timing_rows, n_rows)
        model = AnomalyDetector(name, contamination=0.01, random_state=seed)
        start = time.process_time()
        model.fit(X[:m])
        fitted = time.process_time()
        model.decision_function(X[:m])
        done = time.process_time()
        factor = (100_000 / m) ** spec.time_exponent
        rows.append(
            {
                "detector": name,
                "measured_rows": m,
                "fit_seconds": (fitted - start) * factor,
                "score_seconds": (done - fitted) * factor,
                "extrapolated": m < 100_000,
                "exponent": spec.time_exponent,
            }
        )
        logger.info("timed %s on %d rows", name, m)
    return pd.DataFrame(rows)
