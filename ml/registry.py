"""Champion / challenger model registry on MLflow with a local SQLite backend.

The tracking and registry store is ``sqlite:///<root>/mlflow.db`` and artifacts live in
``<root>/artifacts``; the URIs are set on a private `MlflowClient`, never read from the
environment and never set globally. A model is stored as a pickle with the library versions it
was made with (checked on load), next to its parameters, metrics, training window and data
fingerprint. The registered model (``cardwatch-hybrid``) carries two aliases, ``champion`` and
``challenger``; each new champion records the version it replaced, which `rollback` restores.

Every action returns a `RegistryDecision` the orchestration stores as the audit trail.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import pickle
import platform
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import numpy as np
import pandas as pd

from ml.evaluation import ratio, top_k_per_day
from ml.explain import load_parameters

logger = logging.getLogger(__name__)

CHAMPION = "champion"
CHALLENGER = "challenger"
MODEL_FILE = "model.pkl"
VERSIONS_FILE = "versions.json"
TRACKED_LIBRARIES = ("lightgbm", "scikit-learn", "numpy", "pandas", "pyod", "mlflow")


def library_versions() -> dict[str, str]:
    """Versions of Python and the libraries a stored model depends on."""
    versions = {"python": platform.python_version()}
    for name in TRACKED_LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def data_fingerprint(train_ids: Iterable[Any], feature_names: Iterable[str]) -> str:
    """SHA-256 of the sorted training ids and the feature names in order."""
    digest = hashlib.sha256()
    for value in sorted(str(i) for i in train_ids):
        digest.update(value.encode())
        digest.update(b"\n")
    digest.update(b"--features--\n")
    for name in feature_names:
        digest.update(str(name).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _metric_key(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z_\-. /]", "_", name)


@dataclass(frozen=True)
class ModelEvaluation:
    """A model's results on recent matured outcomes at the capacity budget.

    Attributes
    ----------
    metrics : dict
        ``precision_at_k``, ``recall_at_k``, ``recovered_at_k``, ``alerts``, ``hits`` ...
    group_recall : dict
        Recall at the budget per typology / rule group.
    n_outcomes : int
        Matured outcomes evaluated.
    """

    metrics: dict[str, float]
    group_recall: dict[str, float] = field(default_factory=dict)
    n_outcomes: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain mapping."""
        return asdict(self)


def _groups_of(value: Any) -> list[str]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, str):
        return [g.strip() for g in value.split(",") if g.strip()]
    return [str(g) for g in value]


def capacity_evaluation(
    day: Any,
    score: Any,
    y_true: Any,
    k: int,
    amount: Any | None = None,
    recovered: Any | None = None,
    groups: Sequence[Any] | None = None,
) -> ModelEvaluation:
    """Evaluate a score on matured outcomes when reviewers clear ``k`` rows a day.

    Every transaction of a day competes for the ``k`` places; only reviewed ones have a label.
    Ranking only the reviewed rows would be wrong: when about ``k`` rows a day were reviewed (the
    old filters filled the capacity), every model "alerts" all of them and all models tie.

    Parameters
    ----------
    day, score : array-like of shape (n,)
        Day and score of every transaction of the evaluation window.
    y_true : array-like of shape (n,)
        Matured label: 1 misuse, 0 cleared, NaN unreviewed (unknown, never counted as clean).
    k : int
        Daily review budget.
    amount : array-like, optional
        Transaction amounts (for the amount recall of known misuse).
    recovered : array-like, optional
        Recovered (or recoverable) amount per row; ``recovered_at_k`` sums it over the alerts.
    groups : sequence, optional
        Per row, the typologies / rule groups it belongs to (a comma-separated string or a list).

    Notes
    -----
    ``precision_at_k`` is the confirmed share of the alerts that were reviewed; ``recall_at_k`` the
    share of known (matured, confirmed) misuse that falls within the daily top ``k``.
    """
    y = np.asarray(y_true, dtype=float)
    labeled = ~np.isnan(y)
    positive = labeled & (y == 1)
    alerted = top_k_per_day(day, score, k)
    amt = np.ones(len(y)) if amount is None else np.abs(np.asarray(amount, dtype=float))
    stake = np.zeros(len(y)) if recovered is None else np.nan_to_num(np.asarray(recovered, dtype=float))
    hits = int((alerted & positive).sum())
    reviewed_alerts = int((alerted & labeled).sum())
    days = len(pd.unique(np.asarray(day)))
    metrics = {
        "precision_at_k": ratio(hits, reviewed_alerts),
        "recall_at_k": ratio(hits, positive.sum()),
        "amount_recall_at_k": ratio(amt[alerted & positive].sum(), amt[positive].sum()),
        "recovered_at_k": float(stake[alerted].sum()),
        "alerts": float(alerted.sum()),
        "reviewed_alerts": float(reviewed_alerts),
        "hits": float(hits),
        "alerts_per_day": ratio(alerted.sum(), days),
        "k": float(k),
    }
    group_recall: dict[str, float] = {}
    if groups is not None:
        members: dict[str, list[int]] = {}
        for i, value in enumerate(groups):
            for group in _groups_of(value):
                members.setdefault(group, []).append(i)
        for group, rows in sorted(members.items()):
            idx = np.asarray(rows)
            known_misuse = positive[idx]
            if known_misuse.any():
                group_recall[group] = float(alerted[idx][known_misuse].mean())
    return ModelEvaluation(metrics=metrics, group_recall=group_recall, n_outcomes=int(labeled.sum()))


@dataclass(frozen=True)
class GateConfig:
    """Promotion gate parameters (``ml/config/registry.yml``)."""

    metric: str = "precision_at_k"
    min_improvement: float = 0.0
    recall_tolerance: float = 0.0
    min_outcomes: int = 30
    high_severity_groups: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, **overrides: Any) -> GateConfig:
        values = load_parameters("registry")
        gate = cls(
            metric=values["gate_metric"],
            min_improvement=float(values["min_improvement"]),
            recall_tolerance=float(values["recall_tolerance"]),
            min_outcomes=int(values["min_outcomes"]),
            high_severity_groups=tuple(values["high_severity_groups"] or ()),
        )
        if "high_severity_groups" in overrides and overrides["high_severity_groups"] is not None:
            overrides["high_severity_groups"] = tuple(overrides["high_severity_groups"])
        return cls(**{**asdict(gate), **{k: v for k, v in overrides.items() if v is not None}})


def promotion_gate(
    challenger: ModelEvaluation, champion: ModelEvaluation | None, gate: GateConfig
) -> tuple[bool, list[str]]:
    """Whether the challenger may replace the champion, with the reasons either way.

    The challenger must have at least ``min_outcomes`` evaluated outcomes, beat the champion on
    ``gate.metric`` by more than ``min_improvement``, and lose no more than ``recall_tolerance``
    recall on any high-severity group the champion catches.
    """
    reasons: list[str] = []
    if challenger.n_outcomes < gate.min_outcomes:
        return False, [f"only {challenger.n_outcomes} matured outcomes evaluated (< {gate.min_outcomes})"]
    value = challenger.metrics.get(gate.metric, float("nan"))
    if champion is None and not np.isfinite(value) and gate.min_outcomes == 0:
        # the first model: nothing to beat, nothing matured to measure, and something must score
        return True, [f"no champion yet and no {gate.metric} to measure: the first model scores until beaten"]
    if not np.isfinite(value):
        return False, [f"challenger has no {gate.metric}"]
    if champion is None:
        return True, [f"no champion yet; challenger {gate.metric} = {value:.4f}"]
    incumbent = champion.metrics.get(gate.metric, float("nan"))
    accepted = True
    if np.isfinite(incumbent) and not value > incumbent + gate.min_improvement:
        accepted = False
        reasons.append(f"{gate.metric} {value:.4f} does not beat the champion's {incumbent:.4f}")
    else:
        reasons.append(f"{gate.metric} {value:.4f} beats the champion's {incumbent:.4f}")
    for group in gate.high_severity_groups:
        if group not in champion.group_recall:
            continue
        before = champion.group_recall[group]
        after = challenger.group_recall.get(group, 0.0)
        if before - after > gate.recall_tolerance:
            accepted = False
            reasons.append(f"recall on high-severity group {group} falls from {before:.3f} to {after:.3f}")
    return accepted, reasons


@dataclass(frozen=True)
class RegistryDecision:
    """One registry action, for the audit trail.

    Attributes
    ----------
    action : str
        ``register``, ``promote`` or ``rollback``.
    accepted : bool
    model_name : str
    version : str or None
        The version acted on (registered, promoted, or restored by a rollback).
    champion_before, champion_after : str or None
        Champion version before and after the action.
    metrics : dict
        Gate metric values and the evaluations behind the decision.
    reasons : list of str
    decided_at : str
        UTC timestamp (ISO 8601).
    run_id : str or None
    """

    action: str
    accepted: bool
    model_name: str
    version: str | None
    champion_before: str | None
    champion_after: str | None
    metrics: dict[str, Any]
    reasons: list[str]
    decided_at: str
    run_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain mapping (JSON-ready)."""
        return asdict(self)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _local_path(uri: str) -> Path | None:
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        return Path(unquote(parsed.path))
    return None


class ModelRegistry:
    """Cardwatch's MLflow registry under one folder.

    Parameters
    ----------
    root : str or Path
        Registry folder (``Paths.registry``); created when missing.
    model_name, experiment_name : str, optional
        Default from ``ml/config/registry.yml``.
    """

    def __init__(
        self, root: str | Path, model_name: str | None = None, experiment_name: str | None = None
    ) -> None:
        values = load_parameters("registry")
        self.root = Path(root).expanduser().resolve()
        self.model_name = model_name or values["model_name"]
        self.experiment_name = experiment_name or values["experiment_name"]
        self._client_: Any = None
        self._experiment_id: str | None = None

    @property
    def tracking_uri(self) -> str:
        return f"sqlite:///{self.root / 'mlflow.db'}"

    @property
    def artifact_root(self) -> Path:
        return self.root / "artifacts"

    @property
    def client(self) -> Any:
        """The private `MlflowClient` (made on first use)."""
        if self._client_ is None:
            from mlflow import MlflowClient

            for name in ("mlflow", "alembic"):
                logging.getLogger(name).setLevel(logging.WARNING)
            self.root.mkdir(parents=True, exist_ok=True)
            self.artifact_root.mkdir(parents=True, exist_ok=True)
            self._client_ = MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)
        return self._client_

    def _experiment(self) -> str:
        if self._experiment_id is None:
            found = self.client.get_experiment_by_name(self.experiment_name)
            self._experiment_id = (
                found.experiment_id
                if found is not None
                else self.client.create_experiment(
                    self.experiment_name, artifact_location=self.artifact_root.as_uri()
                )
            )
        return self._experiment_id

    def _ensure_registered_model(self) -> None:
        from mlflow.exceptions import MlflowException

        try:
            self.client.get_registered_model(self.model_name)
        except MlflowException:
            self.client.create_registered_model(
                self.model_name, description="Cardwatch hybrid misuse score (rules + anomaly + supervised)."
            )

    def alias_version(self, alias: str) -> str | None:
        """Version behind ``alias``, or None."""
        from mlflow.exceptions import MlflowException

        try:
            return str(self.client.get_model_version_by_alias(self.model_name, alias).version)
        except MlflowException:
            return None

    def register(
        self,
        model: Any,
        *,
        params: Mapping[str, Any] | None = None,
        metrics: Mapping[str, float] | None = None,
        training_window: tuple[Any, Any] | None = None,
        train_ids: Iterable[Any] = (),
        feature_names: Iterable[str] = (),
        evaluation: ModelEvaluation | None = None,
        tags: Mapping[str, str] | None = None,
        alias: str | None = CHALLENGER,
    ) -> RegistryDecision:
        """Log a trained model as a new version and point ``alias`` at it.

        Parameters
        ----------
        model : estimator
            A fitted model (pickled; its library versions are stored alongside).
        params : mapping, optional
            Training parameters; defaults to ``model.get_params()`` when available.
        metrics : mapping, optional
            Scalar metrics (e.g. validation ROC-AUC).
        training_window : (start, end), optional
            Time span of the training rows.
        train_ids, feature_names : iterable
            Hashed into the data fingerprint.
        evaluation : ModelEvaluation, optional
            Capacity evaluation, stored as metrics and as ``evaluation.json``.
        tags : mapping, optional
        alias : str or None, default "challenger"
        """
        from mlflow.entities import Metric, Param

        client = self.client
        feature_list = [str(f) for f in feature_names]
        ids = list(train_ids)
        fingerprint = data_fingerprint(ids, feature_list)
        versions = library_versions()
        if params is None and hasattr(model, "get_params"):
            params = model.get_params(deep=False)
        now = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
        all_tags = {
            "data_fingerprint": fingerprint,
            "model_class": f"{type(model).__module__}.{type(model).__qualname__}",
            "n_train_rows": str(len(ids)),
            "n_features": str(len(feature_list)),
            **{f"version.{name}": value for name, value in versions.items()},
            **(dict(tags) if tags else {}),
        }
        if training_window is not None:
            all_tags["training_window_start"] = pd.Timestamp(training_window[0]).isoformat()
            all_tags["training_window_end"] = pd.Timestamp(training_window[1]).isoformat()
        for attr in ("mode_", "n_positive_labels_", "n_negative_labels_"):
            if hasattr(model, attr):
                all_tags[attr.rstrip("_")] = str(getattr(model, attr))
        metric_values = {k: float(v) for k, v in (metrics or {}).items()}
        if evaluation is not None:
            metric_values.update({f"eval_{k}": float(v) for k, v in evaluation.metrics.items()})
            metric_values.update(
                {f"eval_recall_group_{g}": float(v) for g, v in evaluation.group_recall.items()}
            )
            metric_values["eval_n_outcomes"] = float(evaluation.n_outcomes)

        run = client.create_run(
            self._experiment(), run_name=f"{self.model_name}-{fingerprint[:8]}", tags=all_tags
        )
        run_id = run.info.run_id
        client.log_batch(
            run_id,
            metrics=[Metric(_metric_key(k), v, now, 0) for k, v in metric_values.items() if np.isfinite(v)],
            params=[Param(_metric_key(str(k)), str(v)[:500]) for k, v in (params or {}).items()],
        )
        with tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / "model"
            target.mkdir()
            with open(target / MODEL_FILE, "wb") as handle:
                pickle.dump(model, handle, protocol=pickle.HIGHEST_PROTOCOL)
            document = {"libraries": versions, "data_fingerprint": fingerprint, "feature_names": feature_list}
            (target / VERSIONS_FILE).write_text(json.dumps(document, indent=2), encoding="utf-8")
            if evaluation is not None:
                (target / "evaluation.json").write_text(
                    json.dumps(evaluation.to_dict(), indent=2), encoding="utf-8"
                )
            client.log_artifacts(run_id, str(target), "model")
        client.set_terminated(run_id)

        self._ensure_registered_model()
        version = client.create_model_version(
            self.model_name,
            source=f"{run.info.artifact_uri}/model",
            run_id=run_id,
            tags={"data_fingerprint": fingerprint},
        )
        champion = self.alias_version(CHAMPION)
        if alias:
            client.set_registered_model_alias(self.model_name, alias, str(version.version))
        return RegistryDecision(
            action="register",
            accepted=True,
            model_name=self.model_name,
            version=str(version.version),
            champion_before=champion,
            champion_after=champion,
            metrics={"logged": metric_values, "data_fingerprint": fingerprint, "alias": alias},
            reasons=[f"registered version {version.version} as {alias or 'no alias'}"],
            decided_at=_now(),
            run_id=run_id,
        )

    def load(self, version: str | int) -> Any:
        """Unpickle a model version, warning when library versions differ from the running ones."""
        mv = self.client.get_model_version(self.model_name, str(version))
        local = _local_path(mv.source)
        if local is None or not local.exists():
            folder = tempfile.mkdtemp(prefix="cardwatch-model-")
            local = Path(self.client.download_artifacts(mv.run_id, "model", folder))
        stored = json.loads((local / VERSIONS_FILE).read_text(encoding="utf-8"))["libraries"]
        running = library_versions()
        differ = {k: (v, running.get(k)) for k, v in stored.items() if running.get(k) != v}
        if differ:
            logger.warning(
                "model %s v%s was saved with other library versions: %s", self.model_name, version, differ
            )
        with open(local / MODEL_FILE, "rb") as handle:
            return pickle.load(handle)

    def load_alias(self, alias: str) -> Any:
        """The model behind ``alias``; fails with a clear message when the alias is unset."""
        version = self.alias_version(alias)
        if version is None:
            raise LookupError(f"registered model {self.model_name!r} has no {alias!r} version")
        return self.load(version)

    def load_champion(self) -> Any:
        """The current champion model."""
        return self.load_alias(CHAMPION)

    def promote(
        self,
        challenger_evaluation: ModelEvaluation,
        champion_evaluation: ModelEvaluation | None = None,
        version: str | int | None = None,
        gate: GateConfig | None = None,
        high_severity_groups: Sequence[str] | None = None,
    ) -> RegistryDecision:
        """Make the challenger champion if it passes the gate.

        Parameters
        ----------
        challenger_evaluation, champion_evaluation : ModelEvaluation
            Both models on the same recent matured outcomes at the capacity budget. Without a
            champion evaluation the gate accepts only when no champion exists.
        version : str or int, optional
            Version to promote; default the ``challenger`` alias.
        gate : GateConfig, optional
            Default ``ml/config/registry.yml``.
        high_severity_groups : sequence of str, optional
            Overrides the gate's groups.
        """
        cfg = gate or GateConfig.from_config()
        if high_severity_groups is not None:
            cfg = GateConfig(**{**asdict(cfg), "high_severity_groups": tuple(high_severity_groups)})
        candidate = str(version) if version is not None else self.alias_version(CHALLENGER)
        champion = self.alias_version(CHAMPION)
        record_metrics = {
            "gate": {**asdict(cfg), "high_severity_groups": list(cfg.high_severity_groups)},
            "challenger": challenger_evaluation.to_dict(),
            "champion": champion_evaluation.to_dict() if champion_evaluation else None,
        }
        if candidate is None:
            return RegistryDecision(
                "promote", False, self.model_name, None, champion, champion, record_metrics,
                ["no challenger version to promote"], _now(),
            )  # fmt: skip
        if champion is not None and champion_evaluation is None:
            accepted, reasons = False, [f"champion v{champion} has no evaluation to compare with"]
        elif candidate == champion:
            accepted, reasons = False, [f"version {candidate} is already the champion"]
        else:
            accepted, reasons = promotion_gate(
                challenger_evaluation, champion_evaluation if champion is not None else None, cfg
            )
        if accepted:
            client = self.client
            client.set_registered_model_alias(self.model_name, CHAMPION, candidate)
            client.set_model_version_tag(self.model_name, candidate, "previous_champion", champion or "")
            client.set_model_version_tag(self.model_name, candidate, "promoted_at", _now())
            if self.alias_version(CHALLENGER) == candidate:
                client.delete_registered_model_alias(self.model_name, CHALLENGER)
        decision = RegistryDecision(
            action="promote",
            accepted=accepted,
            model_name=self.model_name,
            version=candidate,
            champion_before=champion,
            champion_after=candidate if accepted else champion,
            metrics=record_metrics,
            reasons=reasons,
            decided_at=_now(),
        )
        self.client.set_model_version_tag(
            self.model_name,
            candidate,
            "last_promotion_decision",
            json.dumps({"accepted": accepted, "reasons": reasons})[:5000],
        )
        return decision

    def rollback(self, reason: str = "") -> RegistryDecision:
        """Point ``champion`` back at the version the current champion replaced."""
        champion = self.alias_version(CHAMPION)
        previous = None
        if champion is not None:
            mv = self.client.get_model_version(self.model_name, champion)
            previous = mv.tags.get("previous_champion") or None
        if previous is None:
            return RegistryDecision(
                "rollback", False, self.model_name, None, champion, champion, {},
                [f"champion {champion or '(none)'} has no previous champion to restore"], _now(),
            )  # fmt: skip
        self.client.set_registered_model_alias(self.model_name, CHAMPION, previous)
        self.client.set_model_version_tag(self.model_name, champion, "rolled_back_at", _now())
        reasons = [f"champion restored from v{champion} to v{previous}"] + ([reason] if reason else [])
        return RegistryDecision(
            "rollback", True, self.model_name, previous, champion, previous, {}, reasons, _now()
        )
