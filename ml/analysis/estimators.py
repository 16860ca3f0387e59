"""Estimates that survive partial labels: missed misuse, recall, IPW precision, below-the-line samples.

Missed misuse is invisible without sampling (DOMAIN.md, section 3.4). A random, stratified sample of
*non-alerted* transactions is reviewed; in stratum ``h`` with population ``N_h``, sample ``n_h`` and
``x_h`` misuse found, the estimate is ``sum_h x_h * N_h / n_h``.

Interval (count). Each stratum's rate gets a Wilson score interval whose half-widths are shrunk by
the finite population correction ``sqrt(1 - n_h / N_h)``; the strata are combined with the MOVER
method (Zou and Donner, 2008): ``L = T - sqrt(sum (N_h (p_h - l_h))^2)``,
``U = T + sqrt(sum (N_h (u_h - p_h))^2)``. Unlike the normal stratified variance this stays
informative when a stratum finds nothing: the Wilson upper bound at ``x = 0`` is ``z^2 / (n + z^2)``,
close to the rule of three (``3 / n`` at 95 %), which is reported per stratum as well.

Interval (amount). The missed amount uses the stratified variance of the per-row misuse amount with
the finite population correction (normal approximation); strata that found nothing add their rule of
three bound times their mean transaction amount to the upper end.

Reviewer error. Labels are reviewers' decisions, and reviewers err: with sensitivity ``Se`` (misuse
confirmed) and specificity ``Sp`` (clean use cleared), the apparent rate of confirmations is
``a = Se * p + (1 - Sp) * (1 - p)``. When the true rate ``p`` is small, false confirmations at
``1 - Sp`` can outnumber the true ones. `correct_for_reviewer_error` inverts this (Rogan and
Gladen, 1978): ``p = (a + Sp - 1) / (Se + Sp - 1)``, clipped to [0, 1]; the map is increasing, so
the interval is the map of the apparent interval's endpoints. Amounts use the same map with the
population's total amount in place of its count (exact in expectation: a false confirmation adds
a clean transaction's amount). ``Se`` and ``Sp`` are assumptions (measured by a QA double review);
their own uncertainty is not in the interval. The same stratified estimator, fed the reviewed
alerts as a sample of all alerts (strata = what set the review priority), estimates the misuse
the alerts *detected*, and so precision.

Recall. ``D / (D + M)`` with both the detected ``D`` and the missed ``M`` estimated from
independent samples; the interval of ``M / D`` is the MOVER-R interval of a ratio (Donner and
Zou, 2012), mapped through the decreasing ``1 / (1 + M / D)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats


@lru_cache(maxsize=32)
def z_value(confidence: float) -> float:
    """Two-sided standard-normal quantile for ``confidence`` (1.96 at 0.95)."""
    if not 0 < confidence < 1:
        raise ValueError("confidence must be in (0, 1)")
    return float(stats.norm.ppf(0.5 + confidence / 2))


def rule_of_three(n: int, confidence: float = 0.95) -> float:
    """Upper bound on a rate when ``n`` draws found nothing: ``-ln(1 - confidence) / n`` (3/n at 95 %).

    Returns 1.0 for ``n = 0`` (nothing is known).
    """
    if n <= 0:
        return 1.0
    return float(min(1.0, -np.log(1 - confidence) / n))


def wilson_interval(x: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion ``x / n``; ``(0, 1)`` when ``n = 0``."""
    if n <= 0:
        return 0.0, 1.0
    z = z_value(confidence)
    p = x / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def clopper_pearson_interval(x: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval of a binomial proportion; ``(0, 1)`` when ``n = 0``."""
    if n <= 0:
        return 0.0, 1.0
    alpha = 1 - confidence
    lower = 0.0 if x <= 0 else float(stats.beta.ppf(alpha / 2, x, n - x + 1))
    upper = 1.0 if x >= n else float(stats.beta.ppf(1 - alpha / 2, x + 1, n - x))
    return lower, upper


@dataclass(frozen=True)
class ReviewerAccuracy:
    """How often a review route's decisions are right, as a QA double review measures it.

    Attributes
    ----------
    sensitivity : float
        Share of real misuse the route confirms (confirmed or partly recovered).
    specificity : float
        Share of clean transactions the route clears; ``1 - specificity`` is its false
        confirmation rate (reviewer error, and clean cases confirmed because nobody answered).
    """

    sensitivity: float = 1.0
    specificity: float = 1.0

    def __post_init__(self) -> None:
        if not (0 <= self.sensitivity <= 1 and 0 <= self.specificity <= 1):
            raise ValueError("sensitivity and specificity must be in [0, 1]")
        if self.sensitivity + self.specificity <= 1:
            raise ValueError("sensitivity + specificity must exceed 1 (decisions better than chance)")

    @classmethod
    def from_mapping(cls, values: Mapping[str, float] | None) -> ReviewerAccuracy:
        """From ``{sensitivity, specificity}`` (a missing key is 1.0; ``None`` is perfect accuracy)."""
        values = dict(values or {})
        return cls(float(values.get("sensitivity", 1.0)), float(values.get("specificity", 1.0)))

    @property
    def false_positive_rate(self) -> float:
        return 1.0 - self.specificity

    @property
    def youden(self) -> float:
        """``Se + Sp - 1``: how far the decisions are from coin flips (1 = perfect)."""
        return self.sensitivity + self.specificity - 1.0

    @property
    def is_perfect(self) -> bool:
        return self.sensitivity == 1.0 and self.specificity == 1.0


def rogan_gladen(apparent: float, sensitivity: float, specificity: float) -> float:
    """True rate from an apparent (decision-based) rate: ``(a + Sp - 1) / (Se + Sp - 1)`` in [0, 1]."""
    accuracy = ReviewerAccuracy(sensitivity, specificity)
    if not np.isfinite(apparent):
        return float("nan")
    return float(np.clip((apparent - accuracy.false_positive_rate) / accuracy.youden, 0.0, 1.0))


@dataclass(frozen=True)
class MissEstimate:
    """Estimated misuse among non-alerted transactions.

    Attributes
    ----------
    count, count_lower, count_upper : float
        Estimated missed transactions and their interval.
    amount, amount_lower, amount_upper : float
        Estimated missed misuse amount (KRW) and its interval.
    rate, rate_lower, rate_upper : float
        ``count`` and its interval over the sampled population.
    population : int
        Non-alerted transactions in the sampled strata.
    sampled, found : int
        Reviewed sample size and misuse found in it.
    unsampled_population : int
        Non-alerted transactions in strata without any sample (not in the estimate).
    confidence : float
    strata : DataFrame
        Per stratum: population, sampled, found, found_amount, rate, rate_lower, rate_upper,
        rule_of_three (upper rate bound where nothing was found, else NaN), misses, misses_lower,
        misses_upper, missed_amount. Always the apparent (decision-based) figures.
    population_amount : float
        Total amount (KRW) of the sampled strata's population; NaN without per-stratum means.
    apparent : MissEstimate or None
        The uncorrected estimate when this one is corrected for reviewer error.
    accuracy : ReviewerAccuracy or None
        The reviewer accuracy assumed by the correction.
    consistent : bool
        False when the apparent interval lies wholly outside what the assumed accuracy allows
        (below its false confirmation rate or above its sensitivity): the assumption is wrong.
    """

    count: float
    count_lower: float
    count_upper: float
    amount: float
    amount_lower: float
    amount_upper: float
    rate: float
    rate_lower: float
    rate_upper: float
    population: int
    sampled: int
    found: int
    unsampled_population: int
    confidence: float
    strata: pd.DataFrame = field(repr=False, compare=False)
    population_amount: float = float("nan")
    apparent: MissEstimate | None = field(default=None, repr=False)
    accuracy: ReviewerAccuracy | None = None
    consistent: bool = True

    @property
    def is_corrected(self) -> bool:
        return self.apparent is not None


def correct_for_reviewer_error(estimate: MissEstimate, accuracy: ReviewerAccuracy) -> MissEstimate:
    """The estimate corrected for the reviewers' sensitivity and specificity (Rogan-Gladen).

    Counts: the apparent rate and its interval endpoints go through ``rogan_gladen``, times the
    population. Amounts: ``(A - (1 - Sp) * population_amount) / (Se + Sp - 1)`` clipped to
    ``[0, population_amount]``, endpoints alike; without ``population_amount`` the amounts are
    scaled by the count's correction (false confirmations assumed as large as true ones). Perfect
    accuracy returns the estimate unchanged.
    """
    if accuracy.is_perfect:
        return estimate
    base = estimate.apparent if estimate.apparent is not None else estimate
    fpr, youden = accuracy.false_positive_rate, accuracy.youden
    big_n = float(base.population)

    def rate(value: float) -> float:
        return rogan_gladen(value, accuracy.sensitivity, accuracy.specificity)

    corrected = [rate(v) for v in (base.rate, base.rate_lower, base.rate_upper)]
    counts = [r * big_n for r in corrected]
    pop_amount = base.population_amount
    if np.isfinite(pop_amount):
        amounts = [
            float(np.clip((a - fpr * pop_amount) / youden, 0.0, pop_amount))
            for a in (base.amount, base.amount_lower, base.amount_upper)
        ]
    else:
        scale = counts[0] / base.count if base.count > 0 else 0.0
        amounts = [base.amount * scale, base.amount_lower * scale, base.amount_upper * scale]
    consistent = bool(base.rate_upper >= fpr and base.rate_lower <= accuracy.sensitivity)
    return replace(
        base,
        count=counts[0],
        count_lower=counts[1],
        count_upper=counts[2],
        amount=amounts[0],
        amount_lower=amounts[1],
        amount_upper=amounts[2],
        rate=corrected[0],
        rate_lower=corrected[1],
        rate_upper=corrected[2],
        apparent=base,
        accuracy=accuracy,
        consistent=consistent,
    )


def estimate_misses(
    sample: pd.DataFrame,
    population: Mapping[Any, int] | pd.Series,
    confidence: float = 0.95,
    population_mean_amount: Mapping[Any, float] | pd.Series | None = None,
    stratum_column: str = "stratum",
    label_column: str = "is_misuse",
    amount_column: str | None = "misuse_amount",
    accuracy: ReviewerAccuracy | None = None,
) -> MissEstimate:
    """Stratified estimate of misuse the filters did not alert, from a reviewed random sample.

    The same estimator gives the misuse among the alerts from the reviewed alerts (`estimate_detected`).

    Parameters
    ----------
    sample : DataFrame
        One row per reviewed sampled non-alerted transaction: its stratum, whether misuse was found
        (``label_column``, 0/1) and optionally the misuse amount found (``amount_column``, KRW).
    population : mapping or Series
        Non-alerted transactions per stratum (``N_h``), sampled or not.
    confidence : float, default=0.95
    population_mean_amount : mapping or Series, optional
        Mean transaction amount per stratum; widens the amount interval of zero-finding strata
        by their rule of three bound, and lets the reviewer-error correction handle amounts exactly.
    stratum_column, label_column, amount_column : str
    accuracy : ReviewerAccuracy, optional
        Sensitivity and specificity of the reviews that produced the labels; the estimate is then
        corrected (`correct_for_reviewer_error`) and the uncorrected one kept as ``apparent``.

    Returns
    -------
    MissEstimate
    """
    pop = {key: float(value) for key, value in dict(population).items()}
    means_in = dict(population_mean_amount) if population_mean_amount is not None else {}
    means = {key: float(value) for key, value in means_in.items()}
    labels = np.clip(
        np.nan_to_num(pd.to_numeric(sample[label_column], errors="coerce").to_numpy(float)), 0, 1
    )
    if amount_column is not None and amount_column in sample:
        found_amounts = np.nan_to_num(pd.to_numeric(sample[amount_column], errors="coerce").to_numpy(float))
    else:
        found_amounts = np.zeros(len(sample))
    found_amounts = found_amounts * labels
    keys, index = np.unique(sample[stratum_column].to_numpy().astype(str), return_inverse=True)
    by_key = {key: i for i, key in enumerate(keys)}
    strata = sorted(set(by_key) | {str(k) for k in pop}, key=str)
    pop = {str(k): v for k, v in pop.items()}
    means = {str(k): v for k, v in means.items()}

    z = z_value(confidence)
    records = []
    for stratum in strata:
        i = by_key.get(stratum)
        rows = index == i if i is not None else np.zeros(len(sample), dtype=bool)
        n = int(rows.sum())
        x = float(labels[rows].sum())
        amounts = found_amounts[rows]
        big_n = max(pop.get(stratum, 0.0), float(n))
        record = {
            "stratum": stratum,
            "population": big_n,
            "sampled": n,
            "found": x,
            "found_amount": float(amounts.sum()),
            "mean_amount": means.get(stratum, np.nan),
        }
        if n == 0:
            nan_keys = ("rate", "rate_lower", "rate_upper", "rule_of_three", "misses", "misses_lower")
            record.update(dict.fromkeys((*nan_keys, "misses_upper", "missed_amount"), np.nan))
            record["amount_var"] = 0.0
            records.append(record)
            continue
        p = x / n
        low, high = wilson_interval(x, n, confidence)
        fpc = np.sqrt(max(0.0, 1 - n / big_n)) if big_n > 0 else 0.0
        low, high = p - (p - low) * fpc, p + (high - p) * fpc
        var = float(amounts.var(ddof=1)) if n > 1 else 0.0
        record.update(
            rate=p,
            rate_lower=low,
            rate_upper=high,
            rule_of_three=rule_of_three(n, confidence) * fpc if x == 0 else np.nan,
            misses=p * big_n,
            misses_lower=low * big_n,
            misses_upper=high * big_n,
            missed_amount=float(amounts.sum()) * big_n / n,
            amount_var=big_n**2 * (1 - n / big_n) * var / n if big_n > 0 else 0.0,
        )
        records.append(record)
    table = pd.DataFrame.from_records(records)

    sampled = table[table["sampled"] > 0]
    total = float(sampled["misses"].sum())
    lower = total - float(np.sqrt(((sampled["misses"] - sampled["misses_lower"]) ** 2).sum()))
    upper = total + float(np.sqrt(((sampled["misses_upper"] - sampled["misses"]) ** 2).sum()))
    amount = float(sampled["missed_amount"].sum())
    half = z * float(np.sqrt(sampled["amount_var"].sum()))
    zero = sampled[sampled["found"] == 0]
    extra = float((zero["rule_of_three"] * zero["population"] * zero["mean_amount"].fillna(0.0)).sum())
    big_n = float(sampled["population"].sum())
    pop_amount = float((sampled["population"] * sampled["mean_amount"]).sum(min_count=1))
    if sampled["mean_amount"].isna().any():
        pop_amount = float("nan")
    table = table.drop(columns=["amount_var"])
    estimate = MissEstimate(
        count=total,
        count_lower=max(0.0, lower),
        count_upper=upper,
        amount=amount,
        amount_lower=max(0.0, amount - half),
        amount_upper=amount + half + extra,
        rate=total / big_n if big_n else float("nan"),
        rate_lower=max(0.0, lower) / big_n if big_n else float("nan"),
        rate_upper=upper / big_n if big_n else float("nan"),
        population=int(big_n),
        sampled=int(sampled["sampled"].sum()),
        found=int(sampled["found"].sum()),
        unsampled_population=int(table.loc[table["sampled"] == 0, "population"].sum()),
        confidence=confidence,
        strata=table,
        population_amount=pop_amount,
    )
    return correct_for_reviewer_error(estimate, accuracy) if accuracy is not None else estimate


def estimate_detected(
    reviewed: pd.DataFrame,
    alerts: Mapping[Any, int] | pd.Series,
    confidence: float = 0.95,
    alert_mean_amount: Mapping[Any, float] | pd.Series | None = None,
    accuracy: ReviewerAccuracy | None = None,
    stratum_column: str = "stratum",
    label_column: str = "is_misuse",
    amount_column: str | None = "misuse_amount",
) -> MissEstimate:
    """Misuse among all alerts, from the reviewed ones: `estimate_misses` with alerts as the population.

    Strata must be what decided which alerts were reviewed (the alert reason that set the review
    priority), so that within a stratum the reviewed alerts are a random sample of its alerts;
    ``N_h / n_h`` is then the inverse review propensity. ``rate`` is the precision of the alerts.
    """
    return estimate_misses(
        reviewed,
        alerts,
        confidence,
        population_mean_amount=alert_mean_amount,
        stratum_column=stratum_column,
        label_column=label_column,
        amount_column=amount_column,
        accuracy=accuracy,
    )


@dataclass(frozen=True)
class RecallEstimate:
    """Recall of the alerts: detected / (detected + estimated misses), with an interval.

    Attributes
    ----------
    recall, lower, upper : float
    detected : float
        Misuse among the alerts (confirmed, or its stratified / IPW extrapolation).
    misses, misses_lower, misses_upper : float
    detected_lower, detected_upper : float
        Interval of ``detected`` (equal to it when it was given as a number).
    """

    recall: float
    lower: float
    upper: float
    detected: float
    misses: float
    misses_lower: float
    misses_upper: float
    detected_lower: float = float("nan")
    detected_upper: float = float("nan")


def _triple(
    value: MissEstimate | tuple[float, float, float] | float, amount: bool
) -> tuple[float, float, float]:
    if isinstance(value, MissEstimate):
        if amount:
            return value.amount, value.amount_lower, value.amount_upper
        return value.count, value.count_lower, value.count_upper
    if np.ndim(value) == 0:
        v = float(value)  # type: ignore[arg-type]
        return v, v, v
    a, b, c = (float(v) for v in value)  # type: ignore[union-attr]
    return a, b, c


def ratio_interval(
    numerator: tuple[float, float, float], denominator: tuple[float, float, float]
) -> tuple[float, float]:
    """MOVER-R interval of ``n / d`` from the estimates and intervals of independent ``n >= 0`` and
    ``d > 0`` (Donner and Zou, 2012). Where the closed form does not apply (the denominator's
    interval reaches 0 or twice its estimate), the endpoint ratios ``l_n / u_d`` and ``u_n / l_d``
    are used instead, which are wider.
    """
    n, ln, un = numerator
    d, ld, ud = denominator
    nd = n * d
    lower = ln / ud if ud > 0 else 0.0
    disc = nd * nd - ln * ud * (2 * n - ln) * (2 * d - ud)
    if d > 0 and 0 < ud < 2 * d and disc >= 0:
        lower = max(0.0, (nd - np.sqrt(disc)) / (ud * (2 * d - ud)))
    upper = un / ld if ld > 0 else float("inf")
    disc = nd * nd - un * ld * (2 * n - un) * (2 * d - ld)
    if d > 0 and 0 < ld < 2 * d and disc >= 0:
        upper = (nd + np.sqrt(disc)) / (ld * (2 * d - ld))
    return float(lower), float(upper)


def estimate_recall(
    detected: MissEstimate | tuple[float, float, float] | float,
    misses: MissEstimate | tuple[float, float, float],
    amount: bool = False,
) -> RecallEstimate:
    """Recall ≈ detected / (detected + estimated misses).

    With ``detected`` a number, the interval maps the misses' interval through the (decreasing)
    recall formula: the upper recall uses the lower miss bound and the other way round. With an
    interval on ``detected`` as well (a `MissEstimate` of the alerts or a triple), the interval of
    ``misses / detected`` is MOVER-R (`ratio_interval`), which reduces to the former when the
    detected interval is a point. Works for counts and amounts alike (``amount=True`` reads the
    amounts of `MissEstimate` arguments).

    Parameters
    ----------
    detected : float, (estimate, lower, upper) or MissEstimate
        Misuse among the alerts (count or KRW).
    misses : MissEstimate or (estimate, lower, upper)
    amount : bool, default=False
    """
    d, d_low, d_high = _triple(detected, amount)
    m, low, high = _triple(misses, amount)

    def ratio(det: float, miss: float) -> float:
        total = det + miss
        return float(det / total) if total > 0 else float("nan")

    if d > 0 and m >= 0:
        theta_low, theta_high = ratio_interval((m, low, high), (d, d_low, d_high))
        lower = 1.0 / (1.0 + theta_high) if np.isfinite(theta_high) else 0.0
        upper = 1.0 / (1.0 + theta_low)
    else:
        lower, upper = ratio(d_low, high), ratio(d_high, low)
    return RecallEstimate(
        ratio(d, m), float(lower), float(upper), float(d), float(m), float(low), float(high), d_low, d_high
    )


def amount_recall(
    detected_amount: MissEstimate | tuple[float, float, float] | float, misses: MissEstimate
) -> RecallEstimate:
    """Recall by amount: confirmed amount / (confirmed amount + estimated missed amount)."""
    return estimate_recall(detected_amount, misses, amount=True)


@dataclass(frozen=True)
class WeightedMetrics:
    """Precision and recall on reviewed rows, naive and inverse-propensity weighted.

    Attributes
    ----------
    naive_precision, ipw_precision : float
        Misuse share among reviewed alerted rows, unweighted and weighted by 1 / propensity.
    naive_recall, ipw_recall : float
        Alerted share of the misuse among reviewed rows, unweighted and weighted.
    labelled_alerts, labelled_total : int
    """

    naive_precision: float
    ipw_precision: float
    naive_recall: float
    ipw_recall: float
    labelled_alerts: int
    labelled_total: int


def _safe_ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator > 0 else float("nan")


def ipw_precision_recall(
    alerted: Any, label: Any, propensity: Any, min_propensity: float = 0.005
) -> WeightedMetrics:
    """Precision and recall that correct for who was reviewed (DOMAIN.md, section 3.5).

    Parameters
    ----------
    alerted : array-like of bool
        The detector under study alerted the row.
    label : array-like
        1 misuse, 0 clean, NaN unreviewed (never treated as clean).
    propensity : array-like
        Probability the row was reviewed (its label observed); clipped below at ``min_propensity``.
    min_propensity : float
    """
    flag = np.asarray(alerted, dtype=bool)
    y = pd.to_numeric(pd.Series(np.asarray(label, dtype=float)), errors="coerce").to_numpy()
    known = ~np.isnan(y)
    weight = 1.0 / np.clip(np.asarray(propensity, dtype=float), min_propensity, 1.0)
    weight = np.where(np.isfinite(weight), weight, 0.0)
    ya = np.where(known, y, 0.0)
    a_known = flag & known
    return WeightedMetrics(
        naive_precision=_safe_ratio(ya[a_known].sum(), a_known.sum()),
        ipw_precision=_safe_ratio((weight * ya)[a_known].sum(), weight[a_known].sum()),
        naive_recall=_safe_ratio(ya[a_known].sum(), ya[known].sum()),
        ipw_recall=_safe_ratio((weight * ya)[a_known].sum(), (weight * ya)[known].sum()),
        labelled_alerts=int(a_known.sum()),
        labelled_total=int(known.sum()),
    )


def below_the_line(values: Any, threshold: float, band: float = 0.1) -> np.ndarray:
    """Mask of values just under a rule's line: ``threshold * (1 - band) <= value < threshold``."""
    v = np.asarray(values, dtype=float)
    return (v >= threshold * (1 - band)) & (v < threshold)


def below_the_line_sample(
    frame: pd.DataFrame,
    value_column: str,
    threshold: float,
    band: float = 0.1,
    n: int = 20,
    seed: int = 0,
) -> pd.DataFrame:
    """A seeded random sample of up to ``n`` rows just under the line, for review.

    The sample's propensity (``n / rows in the band``) is attached as ``propensity``.
    """
    pool = frame[below_the_line(frame[value_column], threshold, band)]
    take = min(n, len(pool))
    picked = pool.sample(n=take, random_state=seed) if take else pool.iloc[:0]
    return picked.assign(propensity=take / len(pool) if len(pool) else np.nan)


def below_the_line_samples(
    frame: pd.DataFrame,
    lines: Mapping[str, float],
    value_column: str = "amount",
    band: float = 0.1,
    n: int = 20,
    seed: int = 0,
) -> pd.DataFrame:
    """`below_the_line_sample` for every rule's line, with a ``rule_id`` column (one row per pick).

    Parameters
    ----------
    lines : mapping
        Rule id -> the rule's line (e.g. from seed ``rule_parameters``).
    """
    picks = [
        below_the_line_sample(frame, value_column, float(line), band, n, seed + i).assign(
            rule_id=rule_id, line=line
        )
        for i, (rule_id, line) in enumerate(sorted(lines.items()))
    ]
    return pd.concat(picks, ignore_index=True) if picks else frame.iloc[:0].assign(rule_id=[], line=[])


def line_comparison(
    frame: pd.DataFrame,
    value_column: str,
    threshold: float,
    label_column: str,
    band: float = 0.1,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Misuse rate just below and at-or-above a line, with Wilson intervals.

    A rate below the line close to the rate above it says the line is set too high (or is being
    gamed, e.g. split payments); labels of ``NaN`` are left out.

    Returns
    -------
    DataFrame indexed by side (``below``, ``above``) with rows, labelled, found, rate, lower, upper.
    """
    values = pd.to_numeric(frame[value_column], errors="coerce").to_numpy(dtype=float)
    labels = pd.to_numeric(frame[label_column], errors="coerce").to_numpy(dtype=float)
    sides = {
        "below": below_the_line(values, threshold, band),
        "above": (values >= threshold) & (values < threshold * (1 + band)),
    }
    records = []
    for side, mask in sides.items():
        known = mask & ~np.isnan(labels)
        found = float(np.nansum(labels[known]))
        low, high = wilson_interval(found, int(known.sum()), confidence)
        rate = _safe_ratio(found, known.sum())
        records.append((side, int(mask.sum()), int(known.sum()), int(found), rate, low, high))
    columns = ["side", "rows", "labelled", "found", "rate", "lower", "upper"]
    return pd.DataFrame(records, columns=columns).set_index("side")


def sample_size_for_upper_bound(target_rate: float, confidence: float = 0.95) -> int:
    """Sample size whose zero-finding upper bound (rule of three) is ``target_rate``."""
    if not 0 < target_rate < 1:
        raise ValueError("target_rate must be in (0, 1)")
    return int(np.ceil(-np.log(1 - confidence) / target_rate))
