"""`cardwatch backtest`: train on what was known at a cut-off, score a later window, compare every system.

The landing folder is ingested into a scratch warehouse and built with dbt (features are
point-in-time, rules causal). Everything is then trained on what was known at the cut-off, the
midnight after ``--train-end``: transactions before it, alerts raised before it, and cases as
they stood then (opened before it; a decision counts only when taken before it, and becomes a
label only ``--label-delay-days`` after, as in `ml.labels`), and expense claims submitted before
it: the systems train on a copy of the warehouse rebuilt without the claims filed since
(`training_warehouse`). Every transaction of the test window is scored by six systems:

``legacy_rules``, ``legacy_tree``
    What the old filters alerted (landing source ``legacy_alerts``): the tree's own score, and for
    the rule filter 1 plus a tenth of the highest severity among the warehouse's legacy rule hits
    (so a top-k takes the old filter's severe alerts first). Empty when the source is absent.
``rules``
    Cardwatch's alerting rules: highest unsuppressed severity, hit count breaking ties.
``unsupervised``
    Mean percentile rank of the detectors' anomaly scores.
``supervised``
    The gradient-boosted trees on the features mart alone (no rule or anomaly inputs), on the
    same matured labels and weights; empty while labels are below the hybrid's switch-over.
``hybrid``
    The production system (`ml.system`): stacked model, or rank fusion in cold start.

With ground truth, each is measured at a daily budget (`ml.evaluation`), and, when the legacy
alerts exist, every Cardwatch system is also measured at the legacy filters' own daily volume.
When expense claims were filed after the cut-off, the hybrid is also replayed as daily runs would
have alerted with it, each claim seen only from the day it was filed (`daily_use`).
"""

from __future__ import annotations

import hashlib
import json
import resource
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import duckdb
import numpy as np
import pandas as pd

from ml.backtest import LEGACY, SYSTEMS, evaluate, read_truth, render_markdown
from orchestration.settings import DBT_PROJECT_DIR, Paths

ID_COLUMNS = ("transaction_id", "card_id", "employee_id", "transacted_at", "amount")
# Features-mart columns that are rule outputs: the supervised-only model leaves them out.
RULE_COLUMNS = ("rule_hit_count", "legacy_rule_hit_count", "rule_max_severity")
STAMP_FILE = "backtest_stamp.json"

Progress = Callable[[str], None]


class BacktestError(Exception):
    """A backtest that cannot run, with one line saying why."""


@dataclass(frozen=True)
class Window:
    """Training and test days (inclusive) and the label delay.

    The cut-off is the midnight after ``train_end``: training sees transactions, alerts and cases
    before it; a decision becomes a label when ``decided_at + label_delay_days <= cutoff``.
    """

    train_end: date
    test_start: date
    test_end: date
    label_delay_days: float
    train_start: date | None = None

    def __post_init__(self) -> None:
        if self.label_delay_days < 0:
            raise BacktestError("--label-delay-days must not be negative")
        if self.train_start is not None and self.train_start > self.train_end:
            raise BacktestError(f"--train-start {self.train_start} is after --train-end {self.train_end}")
        if self.test_start <= self.train_end:
            raise BacktestError(
                f"--test-start {self.test_start} must be after --train-end {self.train_end} "
                "(the test window may not overlap training)"
            )
        if self.test_end < self.test_start:
            raise BacktestError(f"--test-end {self.test_end} is before --test-start {self.test_start}")

    @property
    def cutoff(self) -> datetime:
        return datetime.combine(self.train_end + timedelta(days=1), datetime.min.time())

    @property
    def train_from(self) -> datetime | None:
        return datetime.combine(self.train_start, datetime.min.time()) if self.train_start else None

    @property
    def test_from(self) -> datetime:
        return datetime.combine(self.test_start, datetime.min.time())

    @property
    def test_until(self) -> datetime:
        return datetime.combine(self.test_end + timedelta(days=1), datetime.min.time())

    def to_dict(self) -> dict[str, Any]:
        return {
            "train_start": self.train_start.isoformat() if self.train_start else None,
            "train_end": self.train_end.isoformat(),
            "cutoff": self.cutoff.isoformat(),
            "label_delay_days": self.label_delay_days,
            "test_start": self.test_start.isoformat(),
            "test_end": self.test_end.isoformat(),
        }


@dataclass
class TrainedSystems:
    """What the backtest trained at the cut-off."""

    detection: Any  # ml.system.DetectionSystem
    supervised: Any | None  # ml.fusion.TrainedHybrid on the features alone, or None
    training: dict[str, Any]
    supervised_note: str = ""


@dataclass
class BacktestResult:
    """Paths written and the figures."""

    out: Path
    scores: Path
    metrics: dict[str, Any]
    metrics_json: Path | None = None
    markdown: Path | None = None
    work: Path | None = None
    systems: TrainedSystems | None = field(default=None, repr=False)


# --------------------------------------------------------------------------------------------- warehouse


@dataclass(frozen=True)
class ScratchPaths(Paths):
    """A state directory whose warehouse and landing never come from the environment."""

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def landing(self) -> Path:
        return self.home / "landing"


def landing_fingerprint(
    landing: Path, mapping: Path | None, label_delay_days: float, project: Path = DBT_PROJECT_DIR
) -> str:
    """Names, sizes and modification times of the landing files, the mapping and the delay, and the
    content of the dbt project's models, macros, seeds and settings: a warehouse built by other
    rules or features is rebuilt, not reused."""
    digest = hashlib.sha256(f"delay={label_delay_days}".encode())
    files = sorted(p for p in landing.rglob("*") if p.is_file())
    for path in [*files, *([mapping] if mapping else [])]:
        stat = path.stat()
        digest.update(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    sources = [project / "dbt_project.yml"]
    for folder in ("models", "macros", "seeds"):
        sources += sorted(p for p in (project / folder).rglob("*") if p.is_file())
    for path in sources:
        digest.update(f"{path.relative_to(project)}|".encode() + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def build_warehouse(
    landing: Path, paths: ScratchPaths, label_delay_days: float, mapping: Path | None, progress: Progress
) -> dict[str, Any]:
    """Ingest ``landing`` into the scratch warehouse and build the dbt project (models and seeds).

    A warehouse already built from the same landing files and delay is reused.
    """
    from orchestration.commands import run_dbt
    from orchestration.ingest.load import ingest
    from orchestration.ingest.mapping import MappingError
    from orchestration.ingest.reader import FileError

    stamp_path = paths.home / STAMP_FILE
    fingerprint = landing_fingerprint(landing, mapping, label_delay_days)
    if stamp_path.exists() and paths.warehouse.exists():
        stamp = json.loads(stamp_path.read_text(encoding="utf-8"))
        if stamp.get("fingerprint") == fingerprint:
            progress(f"  re-using the warehouse built from the same landing files: {paths.warehouse}")
            return stamp["ingest"]
    if paths.warehouse.exists() and not stamp_path.exists():
        raise BacktestError(
            f"{paths.home} holds a warehouse the backtest did not build; give --work an empty folder"
        )
    for stale in (paths.warehouse, stamp_path, paths.warehouse.with_suffix(".duckdb.wal")):
        stale.unlink(missing_ok=True)
    paths.ensure()
    # marks the folder as the backtest's own, so a build that fails half-way is rebuilt next time
    stamp_path.write_text(json.dumps({"fingerprint": None}), encoding="utf-8")
    with timed("ingest", progress):
        try:
            report = ingest(landing, paths.warehouse, mapping, progress=lambda m: None)
        except (FileError, MappingError) as exc:
            raise BacktestError(str(exc)) from exc
        if report.errors:
            raise BacktestError("; ".join(f"{Path(f.file).name}: {f.message}" for f in report.errors))
        summary = {
            "files": len(report.files),
            "rows_accepted": sum(f.rows_accepted for f in report.files),
            "rows_quarantined": sum(f.rows_quarantined for f in report.files),
            "missing_sources": list(report.missing_sources),
        }
        progress(
            f"  {summary['files']} files, {summary['rows_accepted']:,} rows accepted, "
            f"{summary['rows_quarantined']:,} quarantined; absent sources: "
            f"{', '.join(summary['missing_sources']) or 'none'}"
        )
    with timed("dbt build (seeds and models, no tests)", progress):
        extra = ["--vars", json.dumps({"label_delay_days": label_delay_days})]
        extra += ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]
        try:
            run_dbt(paths, ["build", *extra])
        except SystemExit as exc:  # run_dbt prints the failing lines and exits
            raise BacktestError(f"dbt build failed; log: {paths.home / 'dbt' / 'logs' / 'dbt.log'}") from exc
    stamp_path.write_text(json.dumps({"fingerprint": fingerprint, "ingest": summary}), encoding="utf-8")
    return summary


def claims_filed_since(con: duckdb.DuckDBPyConnection, cutoff: datetime) -> int:
    """Expense claims landed in the warehouse submitted at or after ``cutoff`` (none without the source)."""
    if not source_present(con, "expense_claims"):
        return 0
    query = "SELECT count(DISTINCT claim_id) FROM raw.expense_claims WHERE submitted_at >= ?"
    return int(con.execute(query, [pd.Timestamp(cutoff).to_pydatetime()]).fetchone()[0])


def training_warehouse(
    paths: ScratchPaths, window: Window, progress: Progress
) -> tuple[Path, dict[str, Any]]:
    """The warehouse as known at the cut-off, to train on: the built one without the expense claims
    submitted at or after the cut-off (dbt var ``claims_submitted_before``).

    The landing holds every claim, also those filed after the cut-off for the transactions before it
    (a claim arrives days to weeks after the payment); the features and rules built on a claim
    (attendees, per-person cap, duplicate claims) must not see it at the cut-off. When no claim was
    filed since, it is the built warehouse itself; otherwise a copy rebuilt from the claims staging
    model on, in a sub-folder named by the cut-off and re-used while the built warehouse is the same.
    """
    from orchestration.commands import run_dbt

    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        later = claims_filed_since(con, window.cutoff)
    if later == 0:
        return paths.warehouse, {"claims_filed_after_cutoff": 0, "warehouse": str(paths.warehouse)}
    built = json.loads((paths.home / STAMP_FILE).read_text(encoding="utf-8"))["fingerprint"]
    known = ScratchPaths((paths.home / f"known-at-{window.cutoff:%Y%m%dT%H%M}").resolve())
    stamp_path = known.home / STAMP_FILE
    info = {"claims_filed_after_cutoff": later, "warehouse": str(known.warehouse)}
    reusable = stamp_path.exists() and known.warehouse.exists()
    if reusable and json.loads(stamp_path.read_text(encoding="utf-8")).get("fingerprint") == built:
        progress(f"  re-using the warehouse as known at the cut-off: {known.warehouse}")
        return known.warehouse, info
    for stale in (known.warehouse, stamp_path, known.warehouse.with_suffix(".duckdb.wal")):
        stale.unlink(missing_ok=True)
    known.ensure()
    stamp_path.write_text(json.dumps({"fingerprint": None}), encoding="utf-8")
    shutil.copyfile(paths.warehouse, known.warehouse)
    settings = {
        "label_delay_days": window.label_delay_days,
        "claims_submitted_before": f"{window.cutoff:%Y-%m-%d %H:%M:%S}",
    }
    args = ["build", "--select", "stg_expense__claims+", "--vars", json.dumps(settings)]
    args += ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]
    progress(f"  {later:,} expense claims were filed at or after the cut-off: rebuilding without them")
    try:
        run_dbt(known, args)
    except SystemExit as exc:
        raise BacktestError(f"dbt build failed; log: {known.home / 'dbt' / 'logs' / 'dbt.log'}") from exc
    stamp_path.write_text(json.dumps({"fingerprint": built}), encoding="utf-8")
    return known.warehouse, info


# --------------------------------------------------------------------------------------------- training


def outcomes_known_at(outcomes: pd.DataFrame, cutoff: datetime) -> pd.DataFrame:
    """The case table as it stood at ``cutoff``: cases opened later are absent, later steps blank.

    A case decided after the cut-off was still open then: its decision, recovered amount and
    decision time are removed (and so is an explanation received after it).
    """
    cut = pd.Timestamp(cutoff)
    opened = pd.to_datetime(outcomes["opened_at"], errors="coerce")
    known = outcomes[(opened < cut).to_numpy()].copy()
    decided = pd.to_datetime(known["decided_at"], errors="coerce")
    later = (decided >= cut).to_numpy()
    for column in ("decided_at", "decision", "recovered_amount"):
        if column in known:
            known.loc[later, column] = None
    for column in ("is_confirmed_misuse", "is_decided"):
        if column in known:
            known[column] = known[column].astype(object)
            known.loc[later, column] = False if column == "is_decided" else None
    if "explanation_received_at" in known:
        received = pd.to_datetime(known["explanation_received_at"], errors="coerce")
        known.loc[(received >= cut).to_numpy(), "explanation_received_at"] = None
    return known.reset_index(drop=True)


def train_systems(con: duckdb.DuckDBPyConnection, window: Window, seed: int | None = None) -> TrainedSystems:
    """Fit the detection system (detectors + hybrid) and the supervised-only model at the cut-off.

    ``seed`` replaces the seeds of the samples, the detectors and the trees (default: those of
    `ml.system.train_system` and ``ml/config/supervised.yml``).
    """
    from ml.fusion import STACKED, train_hybrid
    from ml.labels import build_training_set
    from ml.system import model_inputs, train_system
    from orchestration.scoring import read_alerts, read_features, read_outcomes, read_rule_hits

    cutoff = window.cutoff
    features = read_features(con, window.train_from, cutoff)
    if features.empty:
        raise BacktestError(f"no transactions in the training window (before the cut-off {cutoff:%Y-%m-%d})")
    hits = read_rule_hits(con, window.train_from, cutoff)
    outcomes = outcomes_known_at(read_outcomes(con), cutoff)
    alerts = read_alerts(con, cutoff)
    delay = window.label_delay_days
    trees = None if seed is None else {"random_state": int(seed)}
    seeded = {} if seed is None else {"random_state": int(seed), "supervised_overrides": trees}
    detection = train_system(features, hits, outcomes, alerts, cutoff, label_delay_days=delay, **seeded)

    training = build_training_set(
        features[["transaction_id", "transacted_at"]], outcomes, cutoff, alerts, label_delay_days=delay
    )
    inputs = model_inputs(features, detection.categories)
    inputs = inputs.drop(columns=[c for c in RULE_COLUMNS if c in inputs])
    trained = train_hybrid(inputs, training, supervised_overrides=trees)
    supervised, note = trained, ""
    if trained.model.mode_ != STACKED:
        supervised = None
        note = (
            f"not trained: {trained.model.n_positive_labels_} positive and "
            f"{trained.model.n_negative_labels_} negative matured labels, below the switch-over "
            f"({trained.model.min_positive_labels} / {trained.model.min_negative_labels})"
        )
    summary = {
        **detection.summary,
        "training_transactions": len(features),
        "first_training_transaction": str(features["transacted_at"].min()),
    }
    return TrainedSystems(detection, supervised, summary, note)


# --------------------------------------------------------------------------------------------- scoring


def source_present(con: duckdb.DuckDBPyConnection, source: str) -> bool:
    rows = con.execute("SELECT is_present FROM raw._sources WHERE source = ?", [source]).fetchall()
    return bool(rows and rows[0][0])


def legacy_scores(con: duckdb.DuckDBPyConnection, ids: pd.Series, hits: pd.DataFrame) -> pd.DataFrame | None:
    """``legacy_rules`` and ``legacy_tree`` per transaction (0 = not alerted), None without the source.

    ``hits`` are the rule hits of the transactions ``ids`` (`orchestration.scoring.read_rule_hits`).
    """
    if not source_present(con, "legacy_alerts"):
        return None
    alerts = con.execute(
        "SELECT transaction_id, legacy_filter, max(coalesce(legacy_score, 1.0)) AS score "
        "FROM staging.stg_casework__legacy_alerts GROUP BY ALL"
    ).fetchdf()
    severity = hits[hits["rule_set"] == "legacy"].groupby("transaction_id")["severity"].max()
    ruled = set(alerts.loc[alerts["legacy_filter"] == "rule", "transaction_id"])
    tree = alerts[alerts["legacy_filter"] == "tree"].set_index("transaction_id")["score"]
    legacy_severity = ids.map(severity).fillna(0).astype(float)
    return pd.DataFrame(
        {
            "legacy_rules": np.where(ids.isin(ruled), 1.0 + legacy_severity / 10.0, 0.0),
            "legacy_tree": ids.map(tree).fillna(0.0).astype(float).to_numpy(),
        }
    )


def score_window(
    con: duckdb.DuckDBPyConnection, systems: TrainedSystems, window: Window
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every test-window transaction with one score per system, and the tie-breaks used in ranking."""
    from ml.system import model_inputs
    from orchestration.scoring import read_features, read_rule_hits

    features = read_features(con, window.test_from, window.test_until)
    if features.empty:
        raise BacktestError(f"no transactions in the test window {window.test_start} .. {window.test_end}")
    hits = read_rule_hits(con, window.test_from, window.test_until)
    scored = systems.detection.score(features, hits, explain=False)  # the ranking is enough here
    ids = features["transaction_id"]
    out = features[list(ID_COLUMNS)].copy().reset_index(drop=True)
    ties = pd.DataFrame(index=out.index)

    legacy = legacy_scores(con, ids, hits)
    for column in LEGACY:
        out[column] = np.nan if legacy is None else legacy[column].to_numpy()
    counted = hits[hits["is_alert_candidate"].fillna(False) & ~hits["is_suppressed"].fillna(False)]
    count = ids.map(counted.groupby("transaction_id").size()).fillna(0).to_numpy(dtype=float)
    out["rules"] = scored["score_rules"].to_numpy(dtype=float) + count / (count + 1.0)
    out["unsupervised"] = scored["score_unsupervised"].to_numpy(dtype=float)
    if systems.supervised is not None:
        inputs = model_inputs(features, systems.detection.categories)[systems.supervised.feature_names]
        out["supervised"] = systems.supervised.model.score(inputs)
        ties["supervised"] = systems.supervised.model.tiebreak(inputs)
    else:
        out["supervised"] = np.nan
    out["hybrid"] = scored["score"].to_numpy(dtype=float)
    ties["hybrid"] = scored["tiebreak"].to_numpy(dtype=float)
    out["transacted_at"] = pd.to_datetime(out["transacted_at"])
    out["amount"] = out["amount"].astype(float)
    return out, ties


# --------------------------------------------------------------------------------------------- evaluation


def claim_days(con: duckdb.DuckDBPyConnection, window: Window, within_days: int) -> pd.DataFrame:
    """``transaction_id``, ``claim_day``: for each test transaction with an expense claim filed within
    ``within_days`` of it, the day its last such claim was filed (when a daily run scores it again)."""
    if not source_present(con, "expense_claims"):
        return pd.DataFrame(
            {"transaction_id": pd.Series(dtype=str), "claim_day": pd.Series(dtype="datetime64[ns]")}
        )
    from orchestration.scoring import latest_claim_days

    filed = latest_claim_days(
        con,
        within_days,
        "f.transacted_at >= ? AND f.transacted_at < ?",
        [window.test_from, window.test_until],
    )
    filed["claim_day"] = pd.to_datetime(filed["claim_day"])
    return filed


def daily_use(
    built: Path,
    known: Path,
    scores: pd.DataFrame,
    ties: pd.DataFrame,
    systems: TrainedSystems,
    window: Window,
    truth: pd.DataFrame,
    evaluation: dict[str, Any],
    evaluated: np.ndarray | None = None,
) -> dict[str, Any]:
    """The hybrid as daily runs would have alerted with it, seeing each expense claim only from the
    day it was filed (`ml.backtest.daily_use_alerts`): each test transaction is scored on its own day
    from ``known`` (the warehouse as known at the cut-off: no claim of a test transaction), and again
    with its claims (``scores``, ``ties``: the test window scored from ``built``, the warehouse with
    every claim) on the day its last claim was filed within the policy's ``claim_rescore_days``
    (`claim_days`). At the budget and, with legacy alerts, at their volume, with the target's ratios.
    """
    from ml.backtest import daily_use_alerts, daily_use_metrics, with_truth
    from ml.policy import load_policy

    within = load_policy().claim_rescore_days
    with duckdb.connect(str(built), read_only=True) as con:
        claims = claim_days(con, window, within)
    with duckdb.connect(str(known), read_only=True) as con:
        approval, approval_ties = score_window(con, systems, window)
    kept = None if evaluated is None else set(scores.loc[evaluated, "transaction_id"])

    def ranked(frame: pd.DataFrame, tiebreak: pd.DataFrame) -> pd.DataFrame:
        out = frame.assign(
            day=frame["transacted_at"].dt.normalize(), score=frame["hybrid"], tiebreak=tiebreak["hybrid"]
        )
        return out if kept is None else out[out["transaction_id"].isin(kept)]  # the rows evaluated

    approval, with_claims = ranked(approval, approval_ties), ranked(scores, ties)
    claimed = claims.merge(with_claims[["transaction_id", "score", "tiebreak"]], on="transaction_id")
    frame = with_truth(approval[["transaction_id", "transacted_at", "amount"]], truth)
    budgets = {"budget": evaluation["budget"]}
    legacy = evaluation.get("legacy")
    combined = None
    if legacy is not None:
        budgets["legacy_volume"] = legacy["volume_k"]
        combined = legacy["as_alerted"]["legacy_combined"]
    return {
        "claimed_transactions": len(claimed),
        "claim_rescore_days": within,
        "at": {
            name: {"k": k, **daily_use_metrics(daily_use_alerts(approval, claimed, k), frame, combined)}
            for name, k in budgets.items()
        },
    }


def known_positive_mask(con: duckdb.DuckDBPyConnection, scores: pd.DataFrame, window: Window) -> np.ndarray:
    """Rows of employees (cards) already known to have misused when the row's day starts.

    Known: a confirmed outcome, matured (``decided_at + label_delay_days``) before the day, on a
    transaction from the training window on. The Fraud Detection Handbook removes such cards
    (a fraud in the training window or up to the day before the delay) before scoring a test day.
    """
    known = con.execute(
        "SELECT features.employee_id, min(outcomes.decided_at) AS decided_at "
        "FROM staging.stg_casework__case_outcomes AS outcomes "
        "INNER JOIN features.fct_transaction_features AS features USING (transaction_id) "
        "WHERE outcomes.is_confirmed_misuse AND outcomes.decided_at IS NOT NULL "
        "AND features.transacted_at >= ? GROUP BY ALL",
        [window.train_from or datetime.min],
    ).fetchdf()
    known_from = scores["employee_id"].map(
        known.set_index("employee_id")["decided_at"] + pd.Timedelta(days=window.label_delay_days)
    )
    day_start = scores["transacted_at"].dt.normalize()
    return (pd.to_datetime(known_from) <= day_start).fillna(False).to_numpy(dtype=bool)


# --------------------------------------------------------------------------------------------- the run


@contextmanager
def timed(
    name: str, progress: Progress, timings: dict[str, dict[str, float]] | None = None
) -> Iterator[None]:
    """Print the step, then its wall and CPU time (this process and its finished children)."""

    def cpu() -> float:
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    progress(f"▶ {name}")
    wall, used = time.perf_counter(), cpu()
    yield
    wall, used = time.perf_counter() - wall, cpu() - used
    if timings is not None:
        timings[name] = {"wall_seconds": round(wall, 1), "cpu_seconds": round(used, 1)}
    progress(f"  done in {wall:.1f} s (CPU {used:.1f} s)")


def default_budget() -> int:
    from ml.policy import load_policy

    return int(load_policy().daily_capacity)


def run_backtest(
    landing: Path,
    window: Window,
    out: Path,
    *,
    budget: int | None = None,
    truth: Path | None = None,
    mapping: Path | None = None,
    work: Path | None = None,
    exclude_known_positives: bool = False,
    progress: Progress | None = None,
    seed: int | None = None,
) -> BacktestResult:
    """Ingest ``landing`` into a scratch warehouse, train at the cut-off, score and measure the test window.

    Parameters
    ----------
    landing : Path
        Landing folder (one folder per source; only ``card_transactions`` is required).
    window : Window
    out : Path
        Where ``scores.parquet`` and, with ``truth``, ``metrics.json`` and ``metrics.md`` go.
    budget : int, optional
        Alerts reviewed per day (default: the policy's ``daily_capacity``).
    truth : Path, optional
        Ground truth (file or folder, see `read_truth`).
    mapping : Path, optional
        Column-mapping file for a foreign export.
    work : Path, optional
        Scratch state directory to keep (and re-use when built from the same landing); default a
        temporary one under ``out``, removed at the end.
    exclude_known_positives : bool
        Leave out of the metrics the rows of cardholders with a confirmed outcome matured before
        their day (the handbook's removal of known compromised cards).
    seed : int, optional
        Seed of the training samples, the detectors and the trees (see `train_systems`), to
        measure how much the figures move with it.
    """
    say = progress or (lambda message: None)
    landing = Path(landing)
    if not (landing / "card_transactions").is_dir():
        raise BacktestError(f"{landing}: no card_transactions folder (is this a landing directory?)")
    if truth is not None and not Path(truth).exists():
        raise BacktestError(f"{truth}: truth not found")
    budget = default_budget() if budget is None else int(budget)
    if budget <= 0:
        raise BacktestError("--budget must be positive")
    out.mkdir(parents=True, exist_ok=True)
    try:
        truth_frame = read_truth(Path(truth)) if truth is not None else None
    except ValueError as exc:
        raise BacktestError(str(exc)) from exc
    keep = work is not None
    home = Path(work) if keep else Path(tempfile.mkdtemp(prefix=".backtest-", dir=out))
    paths = ScratchPaths(home.resolve())
    timings: dict[str, dict[str, float]] = {}
    try:
        with timed("warehouse (ingest + dbt build)", say, timings):
            ingest_summary = build_warehouse(landing, paths, window.label_delay_days, mapping, say)
        with timed("rebuild as known at the cut-off (claims filed since left out)", say, timings):
            known_path, known = training_warehouse(paths, window, say)
        con = duckdb.connect(str(paths.warehouse), read_only=True)
        try:
            with timed(f"train at the cut-off {window.cutoff:%Y-%m-%d %H:%M}", say, timings):
                if known_path == paths.warehouse:
                    systems = train_systems(con, window, seed)
                else:
                    with duckdb.connect(str(known_path), read_only=True) as known_con:
                        systems = train_systems(known_con, window, seed)
                t = systems.training
                say(
                    f"  {t['training_transactions']:,} training transactions, {t['labeled']:,} matured labels "
                    f"({t['positives']:,} positive), hybrid mode {t['mode']}"
                )
            with timed(f"score {window.test_start} .. {window.test_end}", say, timings):
                scores, ties = score_window(con, systems, window)
                say(f"  {len(scores):,} transactions scored")
            measured = truth_frame is not None and exclude_known_positives
            evaluated = ~known_positive_mask(con, scores, window) if measured else None
        finally:
            con.close()
        scores_path = out / "scores.parquet"
        scores[[*ID_COLUMNS, *SYSTEMS]].to_parquet(scores_path, index=False)
        say(f"wrote {scores_path}")
        notes = {}
        if scores["legacy_rules"].isna().all():
            notes["legacy_rules"] = notes["legacy_tree"] = "no legacy_alerts source in the landing"
        if systems.supervised is None:
            notes["supervised"] = systems.supervised_note
        metrics: dict[str, Any] = {
            "window": window.to_dict(),
            "landing": str(landing.resolve()),
            "ingest": ingest_summary,
            "training": systems.training,
            "known_at_cutoff": known,
            "scored": len(scores),
            "seed": seed,
            "notes": notes,
            "timings": timings,  # the same dict, filled as the steps run
        }
        result = BacktestResult(out, scores_path, metrics, work=paths.home if keep else None, systems=systems)
        if truth_frame is None:
            return result
        with timed("evaluate against the truth", say, timings):
            metrics["evaluation"] = evaluate(scores, ties, truth_frame, budget, evaluated)
        if known_path != paths.warehouse:
            with timed("daily use: each claim seen from the day it was filed", say, timings):
                metrics["daily_use"] = daily_use(
                    paths.warehouse,
                    known_path,
                    scores,
                    ties,
                    systems,
                    window,
                    truth_frame,
                    metrics["evaluation"],
                    evaluated,
                )
        result.metrics_json = out / "metrics.json"
        result.markdown = out / "metrics.md"
        result.markdown.write_text(render_markdown(metrics), encoding="utf-8")
        result.metrics_json.write_text(
            json.dumps(metrics, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
        )
        say(f"wrote {result.metrics_json} and {result.markdown}")
        return result
    finally:
        if not keep:
            shutil.rmtree(home, ignore_errors=True)


# --------------------------------------------------------------------------------------------- command


def _date(option: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.ClickException(f"{option}: {value!r} is not a date (YYYY-MM-DD)") from None


@click.command()
@click.option("--landing", required=True, type=click.Path(path_type=Path), help="Landing directory.")
@click.option(
    "--train-start", metavar="DATE", help="First day of training (default: all history before the cut-off)."
)
@click.option(
    "--train-end",
    required=True,
    metavar="DATE",
    help="Last day of training; the cut-off is the next midnight.",
)
@click.option(
    "--label-delay-days",
    required=True,
    type=float,
    help="Days a decision must be old at the cut-off to count as a label.",
)
@click.option("--test-start", required=True, metavar="DATE", help="First day scored.")
@click.option("--test-end", required=True, metavar="DATE", help="Last day scored (inclusive).")
@click.option("--budget", type=int, default=None, help="Alerts reviewed per day, k (default: the policy's).")
@click.option(
    "--truth",
    type=click.Path(path_type=Path),
    help="Ground truth (parquet/CSV file or folder) for metrics.json and metrics.md.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where scores.parquet, metrics.json and metrics.md go.",
)
@click.option("--mapping", type=click.Path(path_type=Path), help="Column-mapping YAML for a foreign export.")
@click.option(
    "--work",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep the scratch warehouse here (re-used when built from the same landing and delay).",
)
@click.option(
    "--exclude-known-positives",
    is_flag=True,
    help="Leave cardholders with an already matured confirmed outcome out of the metrics (handbook protocol).",
)
@click.option(
    "--seed",
    type=int,
    default=None,
    help="Seed of the training samples, detectors and trees (default: the configured ones), "
    "to see how much the figures move with it.",
)
def backtest(
    landing: Path,
    train_start: str | None,
    train_end: str,
    label_delay_days: float,
    test_start: str,
    test_end: str,
    budget: int | None,
    truth: Path | None,
    out: Path,
    mapping: Path | None,
    work: Path | None,
    exclude_known_positives: bool,
    seed: int | None,
) -> None:
    """Train on what was known at a cut-off, score a later window, compare every system.

    Writes OUT/scores.parquet (one score column per system: legacy_rules, legacy_tree, rules,
    unsupervised, supervised, hybrid) and, with --truth, OUT/metrics.json and OUT/metrics.md.
    """
    started = time.perf_counter()
    try:
        window = Window(
            train_start=_date("--train-start", train_start),
            train_end=_date("--train-end", train_end),  # type: ignore[arg-type]
            test_start=_date("--test-start", test_start),  # type: ignore[arg-type]
            test_end=_date("--test-end", test_end),  # type: ignore[arg-type]
            label_delay_days=label_delay_days,
        )
        result = run_backtest(
            landing,
            window,
            out,
            budget=budget,
            truth=truth,
            mapping=mapping,
            work=work,
            exclude_known_positives=exclude_known_positives,
            progress=click.echo,
            seed=seed,
        )
    except BacktestError as exc:
        raise click.ClickException(str(exc)) from exc
    if result.markdown is not None:
        click.echo(result.markdown.read_text(encoding="utf-8"))
    click.echo(f"backtest done in {time.perf_counter() - started:.1f} s")
