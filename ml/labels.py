"""Training labels from case outcomes known at a cut-off, with review propensities.

Labels exist only where someone looked (DOMAIN.md, section 3.5). A transaction is labelled only
when a review outcome was decided at least ``label_delay_days`` before the cut-off: confirmed or
partial misuse is 1, cleared is 0. Unreviewed, undecided and not-yet-matured transactions stay
unlabelled (``label`` is NaN), never negative.

Each transaction belongs to a stratum named by the alert sources that flagged it (for example
``legacy_rule+legacy_tree``), or ``unalerted``. The review propensity of an alerted stratum is
its reviewed share (reviewers' capacity lets overflow go unreviewed); the propensity of a
transaction picked by a random sample is the sample's rate. Training and evaluation weigh each
label by ``1 / propensity`` (clipped), and the random-sample rows are kept apart as the unbiased
validation set.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ml.explain import load_parameters

UNALERTED = "unalerted"


def alert_source(alerted_by: Any) -> str:
    """Source group of an ``alerted_by`` value: the part before ``:`` (``legacy_rule:night`` ->
    ``legacy_rule``), lower-cased; empty values give ``unknown``.

    A case raised by several things lists them with commas, the rules that fired and the system
    that routed it (``late_night,cardwatch:ranked``): its source is that system (``cardwatch``),
    the same group as the alert itself (``cardwatch:ranked``) in the alerts table.
    """
    if alerted_by is None or (isinstance(alerted_by, float) and np.isnan(alerted_by)):
        return "unknown"
    tokens = [token.strip() for token in str(alerted_by).lower().split(",") if token.strip()]
    if not tokens:
        return "unknown"
    routed = [token for token in tokens if ":" in token]
    return (routed[-1] if routed else tokens[0]).split(":", 1)[0]


def isin(values: Any, members: Iterable[Any]) -> np.ndarray:
    """``values.isin(members)`` as a boolean array, fast for identifiers of any size.

    Pandas' Arrow-backed strings (the default ``str`` dtype) convert every member to an Arrow
    scalar one by one, seconds for the few hundred thousand ids known at a late cut-off; Arrow's
    own ``is_in`` takes milliseconds. Values and members of different types fall back to pandas.
    """
    keys = list(members) if isinstance(members, set | frozenset | dict) else members
    try:
        return pc.is_in(pa.array(values), value_set=pa.array(keys)).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        frame = pd.Series(np.asarray(values, dtype=object), dtype=object)
        return frame.isin(np.asarray(keys, dtype=object)).to_numpy()


def _sources(alerted_by: pd.Series) -> np.ndarray:
    """`alert_source` of each value, computed once per distinct value (an object array)."""
    codes, uniques = pd.factorize(alerted_by, use_na_sentinel=True)
    groups = np.array([alert_source(u) for u in uniques] + [alert_source(None)], dtype=object)
    return groups[codes]  # code -1 (missing) picks the last entry


def _timestamps(values: Any) -> pd.Series:
    return pd.to_datetime(pd.Series(values), errors="coerce")


def matured_labels(
    outcomes: pd.DataFrame,
    cutoff: Any,
    label_delay_days: float = 14,
    positive_decisions: Iterable[str] = ("confirmed", "partial"),
    negative_decisions: Iterable[str] = ("cleared",),
) -> pd.DataFrame:
    """One row per transaction with a matured decision at ``cutoff``.

    A decision is matured when ``decided_at + label_delay_days <= cutoff``. A transaction with
    both a positive and a negative matured decision (two cases) is labelled 1.

    Returns
    -------
    DataFrame with columns transaction_id, label (0/1), decided_at (latest matured decision),
    recovered_amount (sum over matured cases).
    """
    cut = pd.Timestamp(cutoff)
    positive = {d.lower() for d in positive_decisions}
    negative = {d.lower() for d in negative_decisions}
    decided_at = _timestamps(outcomes["decided_at"]).to_numpy()
    decision = outcomes["decision"].astype("string").str.strip().str.lower().fillna("")
    delay = pd.Timedelta(days=label_delay_days)
    mature = (
        (~pd.isna(decided_at)) & (decided_at + delay <= cut) & decision.isin(positive | negative).to_numpy()
    )
    rows = pd.DataFrame(
        {
            "transaction_id": outcomes["transaction_id"].to_numpy()[mature],
            "label": decision.to_numpy()[mature],
            "decided_at": decided_at[mature],
            "recovered_amount": (
                pd.to_numeric(outcomes["recovered_amount"], errors="coerce").to_numpy()[mature]
                if "recovered_amount" in outcomes
                else np.zeros(int(mature.sum()))
            ),
        }
    )
    rows["label"] = rows["label"].isin(positive).astype(int)
    grouped = rows.groupby("transaction_id", sort=True).agg(
        label=("label", "max"), decided_at=("decided_at", "max"), recovered_amount=("recovered_amount", "sum")
    )
    return grouped.reset_index()


@dataclass
class TrainingSet:
    """Every transaction known at the cut-off, labelled or not, with its weight.

    Attributes
    ----------
    frame : DataFrame
        The input transaction columns plus ``label`` (1, 0 or NaN), ``is_labeled``,
        ``is_reviewed``, ``is_random_audit``, ``alert_stratum``, ``propensity``, ``ipw_weight``
        (NaN where unlabelled), ``decided_at`` and ``recovered_amount``.
    cutoff : Timestamp
    label_delay_days : float
    propensity_by_stratum : dict
        Estimated review propensity of each stratum (``unalerted`` = the audit rate).
    audit_rate : float
        Rate of the random sample used for its rows' propensity.
    """

    frame: pd.DataFrame
    cutoff: pd.Timestamp
    label_delay_days: float
    propensity_by_stratum: dict[str, float] = field(default_factory=dict)
    audit_rate: float = float("nan")

    def labeled(self) -> pd.DataFrame:
        """Rows with a matured label."""
        return self.frame[self.frame["is_labeled"]]

    def validation(self) -> pd.DataFrame:
        """Labelled rows picked by a random sample (the unbiased validation set)."""
        return self.frame[self.frame["is_labeled"] & self.frame["is_random_audit"]]

    def summary(self) -> dict[str, Any]:
        """Counts for logging and the run record."""
        labeled = self.labeled()
        return {
            "cutoff": self.cutoff.isoformat(),
            "label_delay_days": self.label_delay_days,
            "transactions": len(self.frame),
            "reviewed": int(self.frame["is_reviewed"].sum()),
            "labeled": len(labeled),
            "positives": int((labeled["label"] == 1).sum()),
            "negatives": int((labeled["label"] == 0).sum()),
            "random_audit_labeled": int(labeled["is_random_audit"].sum()),
            "audit_rate": self.audit_rate,
            "propensity_by_stratum": dict(self.propensity_by_stratum),
        }


def build_training_set(
    transactions: pd.DataFrame,
    outcomes: pd.DataFrame,
    cutoff: Any,
    alerts: pd.DataFrame | None = None,
    *,
    label_delay_days: float | None = None,
    audit_rate: float | None = None,
    min_propensity: float | None = None,
    random_sources: Iterable[str] | None = None,
    positive_decisions: Iterable[str] | None = None,
    negative_decisions: Iterable[str] | None = None,
) -> TrainingSet:
    """Labels, strata, propensities and weights for the transactions known at ``cutoff``.

    Parameters
    ----------
    transactions : DataFrame
        At least ``transaction_id`` and ``transacted_at``; other columns (features) are kept.
    outcomes : DataFrame
        Case outcomes (``stg_casework__case_outcomes``): transaction_id, alerted_by, opened_at,
        decided_at, decision and optionally recovered_amount. One transaction may have several.
    cutoff : datetime-like
        What is known: transactions and cases up to it, labels matured by it.
    alerts : DataFrame, optional
        Every alert raised, reviewed or not (transaction_id, alerted_by, optionally alerted_at):
        the legacy filters' alerts and Cardwatch's. Without it the strata come from the cases
        alone and every alerted stratum looks fully reviewed.
    label_delay_days, audit_rate, min_propensity, random_sources, positive_decisions, negative_decisions
        Override ``ml/config/labels.yml``.

    Notes
    -----
    Propensities of alerted strata are estimated on transactions at least ``label_delay_days``
    old, whose review queue has had time to drain; younger ones would look unreviewed only
    because the queue has not reached them yet.
    """
    params = load_parameters("labels")
    delay = float(params["label_delay_days"] if label_delay_days is None else label_delay_days)
    floor = float(params["min_propensity"] if min_propensity is None else min_propensity)
    randoms = {s.lower() for s in (params["random_sources"] if random_sources is None else random_sources)}
    positives = params["positive_decisions"] if positive_decisions is None else positive_decisions
    negatives = params["negative_decisions"] if negative_decisions is None else negative_decisions
    rate = params["audit_rate"] if audit_rate is None else audit_rate
    cut = pd.Timestamp(cutoff)

    frame = transactions.copy()
    frame["transacted_at"] = pd.to_datetime(frame["transacted_at"])
    frame = frame[frame["transacted_at"] <= cut].reset_index(drop=True)
    # plain object arrays: iterating pandas' Arrow-backed strings costs microseconds per value
    ids = frame["transaction_id"].to_numpy(dtype=object)

    opened = _timestamps(outcomes["opened_at"] if "opened_at" in outcomes else outcomes["decided_at"])
    cases = outcomes[(opened <= cut).to_numpy() & isin(outcomes["transaction_id"], ids)]
    case_ids = cases["transaction_id"].to_numpy(dtype=object)
    case_source = _sources(cases["alerted_by"])
    random_case = np.isin(case_source, list(randoms))

    sources: dict[Any, set[str]] = {}
    for tx, source in zip(case_ids[~random_case], case_source[~random_case], strict=True):
        sources.setdefault(tx, set()).add(source)
    if alerts is not None and len(alerts):
        raised = alerts[isin(alerts["transaction_id"], ids)]
        if "alerted_at" in raised:
            raised = raised[(_timestamps(raised["alerted_at"]) <= cut).to_numpy()]
        raised_ids = raised["transaction_id"].to_numpy(dtype=object)
        raised_source = _sources(raised["alerted_by"])
        for tx, source in zip(raised_ids, raised_source, strict=True):
            if source not in randoms:
                sources.setdefault(tx, set()).add(source)

    strata = {tx: "+".join(sorted(names)) for tx, names in sources.items()}
    frame["alert_stratum"] = [strata.get(tx, UNALERTED) for tx in ids]
    reviewed_by_alert = set(case_ids[~random_case])
    sampled = set(case_ids[random_case])
    by_alert = isin(ids, reviewed_by_alert)
    frame["is_random_audit"] = isin(ids, sampled) & ~by_alert
    frame["is_reviewed"] = by_alert | frame["is_random_audit"].to_numpy()

    settled = frame["transacted_at"] <= cut - pd.Timedelta(days=delay)
    basis = frame[settled] if settled.any() else frame
    propensity_by_stratum: dict[str, float] = {}
    reviewed = pd.Series(by_alert, index=frame.index)
    for stratum, rows in basis.groupby("alert_stratum", sort=True):
        if stratum == UNALERTED:
            continue
        propensity_by_stratum[str(stratum)] = float(reviewed[rows.index].mean())
    for stratum in set(frame["alert_stratum"].unique()) - set(propensity_by_stratum) - {UNALERTED}:
        rows = frame[frame["alert_stratum"] == stratum]
        propensity_by_stratum[stratum] = float(reviewed[rows.index].mean())
    if rate is None:
        pool = basis[basis["alert_stratum"] == UNALERTED]
        rate = float(pool["is_random_audit"].mean()) if len(pool) else float("nan")
    propensity_by_stratum[UNALERTED] = float(rate)

    propensity = frame["alert_stratum"].map(propensity_by_stratum).astype(float)
    propensity = propensity.where(~frame["is_random_audit"], float(rate))
    frame["propensity"] = propensity.to_numpy()

    labels = matured_labels(cases, cut, delay, positives, negatives)
    frame = frame.drop(columns=[c for c in labels.columns if c != "transaction_id" and c in frame])
    frame = frame.merge(labels, on="transaction_id", how="left")
    frame["is_labeled"] = frame["label"].notna()
    clipped = np.clip(frame["propensity"].to_numpy(dtype=float), floor, 1.0)
    frame["ipw_weight"] = np.where(frame["is_labeled"], 1.0 / clipped, np.nan)
    return TrainingSet(
        frame=frame,
        cutoff=cut,
        label_delay_days=delay,
        propensity_by_stratum=propensity_by_stratum,
        audit_rate=float(rate),
    )
