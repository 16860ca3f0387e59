"""`cardwatch rules`: work with the rule library. `cardwatch rules backtest RULE_ID` measures a draft or
shadow rule on history (alerts added, precision, overlap, reviewer load) before it is activated.

The figures come from `ml.analysis.rule_backtest.backtest_rule`, the same function the dashboard's
Rules page calls; this module only opens the warehouse read-only and prints.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.table import Table

from ml.analysis.texts import fmt_int, fmt_krw, fmt_num, fmt_pct
from orchestration.commands import console
from orchestration.settings import Paths

if TYPE_CHECKING:
    from ml.analysis.rule_backtest import RuleBacktest

SHOWN_OVERLAPS = 10


def _interval(low: float | None, high: float | None) -> str:
    if low is None or high is None or low != low or high != high:
        return "-"
    return f"{low * 100:.1f}-{high * 100:.1f}%"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def rules() -> None:
    """Work with the rule library (dbt_project/models/rules)."""


@rules.command()
@click.argument("rule_id")
@click.option(
    "--warehouse",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="DuckDB file to read (default: $CARDWATCH_HOME/warehouse.duckdb; the published snapshot "
    "$CARDWATCH_HOME/published/snapshot.duckdb works too, and is not locked while the pipeline runs).",
)
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First transaction date.")
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last transaction date.")
@click.option(
    "--capacity",
    type=click.FloatRange(min=0),
    default=None,
    help="Reviews per day to compare the load with (default: policy.daily_capacity in ml/config/policy.yml).",
)
@click.option(
    "--confidence", type=click.FloatRange(0.5, 0.999), default=0.95, show_default=True, help="Interval level."
)
@click.option(
    "--any-status",
    is_flag=True,
    help="Also backtest an active or retired rule: what it adds to the other alerting rules.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON instead of tables.")
def backtest(
    rule_id: str,
    warehouse: Path | None,
    start: datetime | None,
    end: datetime | None,
    capacity: float | None,
    confidence: float,
    any_status: bool,
    as_json: bool,
) -> None:
    """Backtest a draft or shadow rule on history before activating it.

    Reads the rule's hits (every dbt build computes draft and shadow rules too) and reports the
    alerts it would add to the active rules', its precision on reviewed cases (naive and
    inverse-propensity weighted, with intervals), its overlap with each alerting rule, and the
    added reviewer load against the daily capacity. After changing the rule's SQL or parameters,
    rebuild it first: `dbt build --select rule_<id>+` (or `cardwatch run`).
    """
    import duckdb

    from ml.analysis.rule_backtest import BACKTEST_STATUSES, RuleBacktestError, RuleStatusError, backtest_rule

    paths = Paths.from_env()
    path = warehouse or paths.warehouse
    if not path.exists():
        raise click.ClickException(
            f"{path}: no warehouse there; run `cardwatch run` first or pass --warehouse"
        )
    if start and end and start > end:
        raise click.ClickException(f"--start {start:%Y-%m-%d} is after --end {end:%Y-%m-%d}")
    try:
        connection = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise click.ClickException(
            f"{path}: cannot open it read-only ({first_line}); if the pipeline is running, "
            f"try --warehouse {paths.snapshot}"
        ) from exc
    try:
        result = backtest_rule(
            connection,
            rule_id,
            start=start.date() if start else None,
            end=end.date() if end else None,
            capacity=capacity,
            confidence=confidence,
            statuses=None if any_status else BACKTEST_STATUSES,
        )
    except RuleBacktestError as exc:
        hint = (
            " (add --any-status to measure what it adds anyway)" if isinstance(exc, RuleStatusError) else ""
        )
        raise click.ClickException(f"{exc}{hint}") from exc
    finally:
        connection.close()

    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    _print(result, path)


def _print(result: RuleBacktest, path: Path) -> None:
    rule = result.rule
    level = f"{result.confidence * 100:.0f}%"
    console.print(
        f"[bold]Backtest of {rule['rule_id']}[/] · {rule['name_en']} ({rule['name_ko']}): "
        f"{rule['rule_status']}, version {rule['rule_version']}, severity {rule['severity']}, "
        f"rule set {rule['rule_set']}"
    )
    window = f"{result.start} to {result.end} ({result.days} days)" if result.days else "no data"
    console.print(f"History: {window}, read from {path}")
    if not rule.get("is_active", True):
        console.print(
            f"[yellow]note:[/] sources {rule.get('missing_sources') or '?'} are not loaded, "
            "so this rule cannot fire on this data"
        )

    alerts = Table(title="Alerts", title_justify="left")
    alerts.add_column("measure")
    alerts.add_column("value", justify="right")
    for label, value in (
        ("hits (unsuppressed): alerts it would raise", fmt_int(result.hits)),
        ("suppressed by the allowlist (would not alert)", fmt_int(result.suppressed_hits)),
        ("already alerted by an active rule", fmt_int(result.overlapping)),
        ("added alerts (new work for reviewers)", fmt_int(result.added_alerts)),
        ("amount of the added alerts", fmt_krw(result.added_amount, "en")),
        ("confirmed misuse among the added alerts", fmt_int(result.added_confirmed)),
        ("confirmed amount among the added alerts", fmt_krw(result.added_confirmed_amount, "en")),
        ("recovered among the added alerts", fmt_krw(result.added_recovered_amount, "en")),
    ):
        alerts.add_row(label, value)
    console.print(alerts)

    precision = Table(
        title=f"Precision on reviewed (decided) hits only; {level} intervals; unreviewed hits are unknown",
        title_justify="left",
    )
    precision.add_column("hits of")
    for column in (
        "hits",
        "reviewed",
        "confirmed",
        "precision",
        "interval",
        "IPW precision",
        "IPW interval",
        "unrepresented",
    ):
        precision.add_column(column, justify="right")
    names = {"all": "all hits", "added": "added alerts", "overlapping": "already alerted"}
    for subset, row in result.precision.iterrows():
        precision.add_row(
            names.get(str(subset), str(subset)),
            fmt_int(row["hits"]),
            fmt_int(row["reviewed"]),
            fmt_int(row["confirmed"]),
            fmt_pct(row["precision"]),
            _interval(row["lower"], row["upper"]),
            fmt_pct(row["ipw_precision"]),
            _interval(row["ipw_lower"], row["ipw_upper"]),
            fmt_int(row["unrepresented"]),
        )
    console.print(precision)
    console.print(
        "IPW: weighted by 1 / review propensity of the hit's alert stratum (which filters alerted it). "
        "Unrepresented: hits in strata where nothing was reviewed; no estimate covers them."
    )

    overlap = Table(title="Overlap with the alerting rules (most shared first)", title_justify="left")
    for column in (
        "rule",
        "name",
        "its alerts",
        "shared",
        "Jaccard",
        "share of these hits",
        "share of its alerts",
    ):
        overlap.add_column(column, justify="left" if column in ("rule", "name") else "right")
    shown = result.overlap[result.overlap["shared"] > 0].head(SHOWN_OVERLAPS)
    for row in shown.itertuples():
        overlap.add_row(
            row.rule_id,
            row.name_en or "",
            fmt_int(row.rule_alerts),
            fmt_int(row.shared),
            f"{row.jaccard:.3f}",
            fmt_pct(row.share_of_hits),
            fmt_pct(row.share_of_rule),
        )
    if len(shown):
        console.print(overlap)
        hidden = int((result.overlap["shared"] > 0).sum()) - len(shown)
        if hidden > 0:
            console.print(f"… and {hidden} more rules share hits (--json lists all)")
    else:
        console.print("Overlap: no alerting rule shares a hit with this rule.")

    load = result.load
    workload = Table(title="Reviewer load", title_justify="left")
    workload.add_column("measure")
    workload.add_column("value", justify="right")
    for label, value in (
        ("daily review capacity", fmt_int(load["capacity"])),
        ("added alerts per day (mean)", fmt_num(load["added_per_day"])),
        ("added alerts on the busiest day", fmt_int(load["added_peak_per_day"])),
        ("added alerts per day as a share of capacity", fmt_pct(load["added_share_of_capacity"])),
        ("existing rule alerts per day (mean)", fmt_num(load["existing_per_day"])),
        (
            "days over capacity: before -> after",
            f"{load['days_over_capacity_before']:,} -> {load['days_over_capacity_after']:,} of {result.days:,}",
        ),
    ):
        workload.add_row(label, value)
    console.print(workload)
