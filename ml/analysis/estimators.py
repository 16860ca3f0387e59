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
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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
        misses_upper, missed_amount.
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
    strata: pd.DataFrame = field(repr=False)


def estimate_misses(
    sample: pd.DataFrame,
    population: Mapping[Any, int] | pd.Series,
    confidence: float = 0.95,
    population_mean_amount: Mapping[Any, float] | pd.Series | None = None,
    stratum_column: str = "stratum",
    label_column: str = "is_misuse",
    amount_column: str | None = "misuse_amount",
) -> MissEstimate:
    """Stratified estimate of misuse the filters did not alert, from a reviewed random sample.

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
        by their rule of three bound.
    stratum_column, label_column, amount_column : str

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
    table = table.drop(columns=["amount_var"])
    return MissEstimate(
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
    )


@dataclass(frozen=True)
class RecallEstimate:
    """Recall of the alerts: detected / (detected + estimated misses), with an interval.

    Attributes
    ----------
    recall, lower, upper : float
    detected : float
        Misuse among the alerts (confirmed, or its IPW extrapolation).
    misses, misses_lower, misses_upper : float
    """

    recall: float
    lower: float
    upper: float
    detected: float
    misses: float
    misses_lower: float
    misses_upper: float


def estimate_recall(detected: float, misses: MissEstimate | tuple[float, float, float]) -> RecallEstimate:
    """Recall ≈ detected / (detected + estimated misses).

    The interval maps the misses' interval through the (decreasing) recall formula: the upper
    recall uses the lower miss bound and the other way round. Works for counts and amounts alike.

    Parameters
    ----------
    detected : float
        Confirmed misuse among the alerts (count or KRW).
    misses : MissEstimate or (estimate, lower, upper)
        Count interval when a `MissEstimate` is given.
    """
    if isinstance(misses, MissEstimate):
        m, low, high = misses.count, misses.count_lower, misses.count_upper
    else:
        m, low, high = (float(v) for v in misses)

    def ratio(miss: float) -> float:
        total = detected + miss
        return float(detected / total) if total > 0 else float("nan")

    return RecallEstimate(
        ratio(m), ratio(high), ratio(low), float(detected), float(m), float(low), float(high)
    )


def amount_recall(detected_amount: float, misses: MissEstimate) -> RecallEstimate:
    """Recall by amount: confirmed amount / (confirmed amount + estimated missed amount)."""
    return estimate_recall(detected_amount, (misses.amount, misses.amount_lower, misses.amount_upper))


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
