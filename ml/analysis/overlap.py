"""How detectors overlap, and which set of them is worth its alerts (DOMAIN.md, section 3.6)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def alert_sets(alerts: pd.DataFrame, by: str = "detector") -> dict[str, set]:
    """Transaction ids alerted by each ``by`` value."""
    return {str(key): set(rows["transaction_id"]) for key, rows in alerts.groupby(by, sort=True)}


def jaccard_matrix(alerts: pd.DataFrame, by: str = "detector") -> pd.DataFrame:
    """Pairwise Jaccard index |A ∩ B| / |A ∪ B| of the detectors' alert sets (1 on the diagonal)."""
    sets = alert_sets(alerts, by)
    names = list(sets)
    matrix = np.eye(len(names))
    for i, a in enumerate(names):
        for j in range(i + 1, len(names)):
            b = names[j]
            union = len(sets[a] | sets[b])
            matrix[i, j] = matrix[j, i] = len(sets[a] & sets[b]) / union if union else 0.0
    return pd.DataFrame(matrix, index=names, columns=names)


def greedy_marginal_order(
    alerts: pd.DataFrame,
    confirmed_amount: pd.Series,
    by: str = "detector",
    review_cost: float = 0.0,
) -> pd.DataFrame:
    """Order detectors by what each adds to those already chosen.

    At each step the detector with the highest confirmed amount per *new* alert (transactions
    none of the chosen detectors alerted) is added; ties go to more new confirmed amount, then
    fewer new alerts, then name. Detectors that add no new alert come last in name order.

    Parameters
    ----------
    alerts : DataFrame
        transaction_id and the ``by`` column.
    confirmed_amount : Series
        Confirmed misuse amount by transaction id (0 or missing = not confirmed).
    by : str
    review_cost : float
        Cost of reviewing one alert (KRW), for the marginal net value.

    Returns
    -------
    DataFrame, one row per detector in the chosen order: step, detector, alerts (its own),
    added_alerts, added_confirmed, added_confirmed_amount, value_per_added_alert,
    added_net_value (added amount - review_cost x added alerts), cumulative_alerts,
    cumulative_confirmed, cumulative_confirmed_amount, cumulative_net_value.
    """
    sets = alert_sets(alerts, by)
    totals = confirmed_amount.groupby(level=0).sum()
    value = {key: float(v) for key, v in totals[totals > 0].items()}
    chosen: set = set()
    remaining = dict(sets)
    rows = []
    cum_value = cum_confirmed = cum_net = 0.0
    while remaining:
        best = None
        for name, ids in remaining.items():
            new = ids - chosen
            amount = sum(value.get(tx, 0.0) for tx in new)
            per_alert = amount / len(new) if new else -np.inf
            key = (per_alert, amount, -len(new), [-ord(c) for c in name])
            if best is None or key > best[0]:
                best = (key, name, new, amount)
        _, name, new, amount = best
        confirmed = sum(1 for tx in new if tx in value)
        chosen |= new
        cum_value += amount
        cum_confirmed += confirmed
        net = amount - review_cost * len(new)
        cum_net += net
        rows.append(
            {
                "step": len(rows) + 1,
                "detector": name,
                "alerts": len(remaining[name]),
                "added_alerts": len(new),
                "added_confirmed": confirmed,
                "added_confirmed_amount": amount,
                "value_per_added_alert": amount / len(new) if new else float("nan"),
                "added_net_value": net,
                "cumulative_alerts": len(chosen),
                "cumulative_confirmed": int(cum_confirmed),
                "cumulative_confirmed_amount": cum_value,
                "cumulative_net_value": cum_net,
            }
        )
        del remaining[name]
    return pd.DataFrame(rows)
