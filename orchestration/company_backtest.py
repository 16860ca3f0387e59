"""`cardwatch benchmark company-backtest`: the prequential backtest on simulated Company A.

Simulates the default company (or takes a landing and its truth), runs `cardwatch backtest` on the
detection issue's protocol (train on months 1-9, labels matured 14 days, test months 10-12) once per
seed, again on the same landing without expense claims (a bound on the claims' look-ahead, see
docs/models.md, Limits), replays the first seed's hybrid as daily runs would alert with it (each
claim seen from the day it is filed), and writes the figures to their section of docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import pandas as pd

from ml.backtest import (
    TARGET_ALERTS_SHARE,
    TARGET_AMOUNT_RATIO,
    TARGET_PRECISION_RATIO,
    daily_use_table,
    legacy_table,
    ranking_table,
    target_sentence,
    typology_table,
)
from ml.benchmarks.markdown import fmt, machine, replace_heading, table
from orchestration.settings import REPO_ROOT

if TYPE_CHECKING:
    from orchestration.backtest import Window

BENCHMARKS_MD = REPO_ROOT / "docs" / "benchmarks.md"
SECTION = "## Backtest: simulated Company A (prequential)"
#: The landing source left out of the look-ahead bound.
CLAIMS_SOURCE = "expense_claims"


def protocol_window(first_day: date, train_months: int, test_months: int, label_delay_days: float) -> Window:
    """Train on the first ``train_months`` calendar months, test on the next ``test_months``."""
    from orchestration.backtest import Window

    test_start = (pd.Timestamp(first_day) + pd.DateOffset(months=train_months)).date()
    after = (pd.Timestamp(first_day) + pd.DateOffset(months=train_months + test_months)).date()
    return Window(
        train_start=first_day,
        train_end=test_start - timedelta(days=1),
        test_start=test_start,
        test_end=after - timedelta(days=1),
        label_delay_days=label_delay_days,
    )


def landing_without(landing: Path, source: str, into: Path) -> Path:
    """A landing folder linking every source of ``landing`` but ``source`` (nothing is copied)."""
    if into.exists():
        shutil.rmtree(into)
    into.mkdir(parents=True)
    for folder in sorted(landing.iterdir()):
        if folder.name != source:
            (into / folder.name).symlink_to(folder.resolve(), target_is_directory=folder.is_dir())
    return into


def run(
    landing: Path, truth: Path, work: Path, window: Window, seeds: list[int], without_claims: bool
) -> dict[str, Any]:
    """One backtest per seed on one warehouse, and the first seed's again without claims."""
    from orchestration.backtest import run_backtest

    def once(name: str, source: Path, warehouse: str, seed: int) -> dict[str, Any]:
        click.echo(f"{name}: seed {seed}")
        started = time.perf_counter()
        result = run_backtest(
            source, window, work / name, truth=truth, work=work / warehouse, seed=seed, progress=click.echo
        )
        return {
            "name": name,
            "seed": seed,
            "metrics": result.metrics,
            "wall_s": time.perf_counter() - started,
        }

    runs = [once(f"seed{seed}", landing, "warehouse", seed) for seed in seeds]
    bound = None
    if without_claims and (landing / CLAIMS_SOURCE).exists():
        source = landing_without(landing, CLAIMS_SOURCE, work / "landing-without-claims")
        bound = once("without-claims", source, "warehouse-without-claims", seeds[0])
    # the first seed's daily-use replay (`orchestration.backtest.daily_use`)
    daily = runs[0]["metrics"].get("daily_use")
    return {"runs": runs, "without_claims": bound, "daily_use": daily, "load_after": os.getloadavg()[0]}


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _millions(value: float) -> str:
    return f"{value / 1e6:.1f} M"


def _seed_row(run: dict[str, Any]) -> list[str]:
    evaluation = run["metrics"]["evaluation"]
    hybrid = evaluation["systems"]["hybrid"]
    target = evaluation.get("legacy", {}).get("target") or {}
    return [
        str(run["seed"]),
        fmt(hybrid["average_precision"]),
        fmt(hybrid["recall_at_k"]),
        _millions(hybrid["misuse_amount_caught_at_k"]),
        f"x{fmt(target.get('amount_caught_ratio'), 2)}",
        f"x{fmt(target.get('precision_ratio'), 2)}",
        f"x{fmt(target.get('alerts_ratio_at_legacy_recall'), 2)}",
    ]


def verdict(evaluation: dict[str, Any]) -> str:
    """The target, part by part, and what a perfect ranking could reach at the legacy volume."""
    legacy = evaluation["legacy"]
    target, k = legacy["target"], legacy["volume_k"]
    combined = legacy["as_alerted"]["legacy_combined"]
    hybrid = legacy["at_legacy_volume"]["hybrid"]
    perfect = legacy["at_legacy_volume"]["perfect_ranking"]
    needed = legacy["hybrid_at_legacy_recall"]["recall"]
    held = (
        "**Target: holds**"
        if target["holds"]
        else f"**Target: does not hold** ({sum(not ok for ok in target['parts_held'].values())} of its "
        "three parts miss)"
    )
    text = [
        f"{held}. At the legacy volume the hybrid catches {_millions(hybrid['misuse_amount_caught'])} "
        f"KRW against the two legacy filters' {_millions(combined['misuse_amount_caught'])} together: "
        f"**x{fmt(target['amount_caught_ratio'], 2)}** (target x{TARGET_AMOUNT_RATIO}); its precision is "
        f"{fmt(hybrid['precision'])} against {fmt(combined['precision'])}: **x{fmt(target['precision_ratio'], 2)}** "
        f"(target x{TARGET_PRECISION_RATIO}). At the legacy count recall ({_pct(combined['recall'])}) it needs "
        + (
            f"**{needed['alerts']:,} alerts, {_pct(target['alerts_ratio_at_legacy_recall'])} of the legacy filters' "
            f"{combined['alerts']:,}** (target at most {TARGET_ALERTS_SHARE}): "
            f"{'holds' if target['parts_held']['alerts'] else 'misses'}."
            if needed
            else "more alerts than a day holds: misses."
        )
    ]
    misuse_per_day = evaluation["misuse"] / evaluation["days"]
    text.append(
        f"The ceiling: at {k} alerts a day the test window holds {misuse_per_day:.1f} misuse transactions a "
        f"day, so a perfect ranking reaches x{fmt(target['amount_caught_ratio_ceiling'], 2)} by amount and "
        f"x{fmt(target['precision_ratio_ceiling'], 2)} by precision. The legacy filters catch "
        f"{_pct(combined['amount_recall'])} of the misuse amount, so x{TARGET_AMOUNT_RATIO} means catching "
        f"{_pct(min(1.0, TARGET_AMOUNT_RATIO * combined['amount_recall']))} of all of it, and x"
        f"{TARGET_PRECISION_RATIO} their precision means finding "
        f"{_pct(min(1.0, TARGET_PRECISION_RATIO * combined['precision'] / perfect['precision']))} of the misuse "
        f"transactions in the top {k} of each day. The hybrid gets {_pct(hybrid['amount_recall'])} of the amount "
        f"and {_pct(hybrid['recall'])} of the transactions."
        + (" What it still misses is in the typology table below." if evaluation.get("by_typology") else "")
    )
    return "\n\n".join(text)


def render(result: dict[str, Any], command: str, simulated: str | None) -> str:
    runs = result["runs"]
    first = runs[0]["metrics"]
    window, training, evaluation = first["window"], first["training"], first["evaluation"]
    late = first.get("known_at_cutoff", {}).get("claims_filed_after_cutoff", 0)
    k = evaluation["budget"]
    propensity = training.get("propensity_by_stratum", {})
    strata = ", ".join(f"{name} {value:.3g}" for name, value in sorted(propensity.items()))
    source = f"Data: {simulated}." if simulated else f"Data: the landing `{first['landing']}` with its truth."
    lines = [
        f"_Generated {datetime.now():%Y-%m-%d %H:%M} on {machine()}; load average "
        f"{result['load_after']:.1f} at the end._ Command: `{command}`.",
        f"{source} Each run is `cardwatch backtest --train-start {window['train_start']} --train-end "
        f"{window['train_end']} --label-delay-days {window['label_delay_days']:g} --test-start "
        f"{window['test_start']} --test-end {window['test_end']} --truth ... --seed N` on one scratch "
        f"warehouse: budget k = {k} a day (the policy's `daily_capacity`), every setting at its default, "
        "nothing tuned on the test window. How the backtest works: [models.md](models.md#backtest).",
        f"Training (cut-off {window['cutoff']}): {training['training_transactions']:,} transactions, "
        f"{training['reviewed']:,} reviewed, {training['labeled']:,} matured labels ({training['positives']:,} "
        f"confirmed or partly recovered; {training['random_audit_labeled']:,} from the random audit); hybrid "
        f"in {training['mode']} mode; review propensities by stratum: {strata}; trained on the warehouse as "
        f"known at the cut-off, without the {late:,} expense claims filed on or after it. Test: "
        f"{evaluation['transactions']:,} transactions over {evaluation['days']} days, {evaluation['misuse']:,} of "
        f"them misuse ({evaluation['misuse'] / evaluation['transactions']:.2%}), "
        f"{evaluation['misuse_amount']:,.0f} KRW at stake.",
        f"Seed {runs[0]['seed']}, at the reviewers' capacity, {k} alerts a day (employee precision@{k} is the "
        "handbook's card precision@k per employee and day):",
        ranking_table(evaluation),
    ]
    if "legacy" in evaluation:
        legacy = evaluation["legacy"]
        lines += [
            f"At the legacy filters' own volume (their alerts on the test transactions, "
            f"{legacy['as_alerted']['legacy_combined']['alerts_per_day']:.1f} a day; every Cardwatch system "
            f"takes its top {legacy['volume_k']} of each day):",
            legacy_table(legacy),
            target_sentence(legacy["target"]),
            verdict(evaluation),
        ]
    if evaluation.get("by_typology"):
        lines += [
            "Misuse found per typology (the simulator's ground truth; the product never reads it):",
            typology_table(evaluation),
        ]
    if len(runs) > 1:
        headers = [
            "seed",
            "hybrid AP",
            f"recall@{k}/day",
            f"amount caught at {k}/day",
            "amount x at the legacy volume",
            "precision x",
            "alerts x at the legacy recall",
        ]
        aps = [r["metrics"]["evaluation"]["systems"]["hybrid"]["average_precision"] for r in runs]
        lines += [
            "How much the figures move with the seed (of the training samples, the detectors and the trees; "
            f"hybrid AP {fmt(statistics.mean(aps))} ± {fmt(statistics.stdev(aps))}):",
            table(headers, [_seed_row(r) for r in runs]),
        ]
    bound = result.get("without_claims")
    if bound is not None:
        b = bound["metrics"]["evaluation"]
        hybrid, with_claims = b["systems"]["hybrid"], evaluation["systems"]["hybrid"]
        target = b.get("legacy", {}).get("target") or {}
        lines.append(
            "Bound on the claims look-ahead ([models.md](models.md), Limits): training sees only the "
            "claims filed before the cut-off, but the test window is scored from the warehouse with every "
            "expense claim joined to its transaction whatever its filing date, so a claim-based rule or "
            "feature (a receipt claimed twice, the attendee count) is seen on the transaction's day in a "
            "backtest but only once the claim is filed in daily use. The same backtest on the landing without "
            f"`{CLAIMS_SOURCE}` (seed {bound['seed']}): hybrid AP {fmt(hybrid['average_precision'])} "
            f"(with claims {fmt(with_claims['average_precision'])}), "
            f"{_millions(hybrid['misuse_amount_caught_at_k'])} KRW caught at {k} a day "
            f"(with claims {_millions(with_claims['misuse_amount_caught_at_k'])}), and at the legacy volume "
            f"x{fmt(target.get('amount_caught_ratio'), 2)} by amount and x{fmt(target.get('precision_ratio'), 2)} "
            "by precision."
        )
    daily = result.get("daily_use")
    if daily is not None:
        lines += daily_use_lines(daily, runs[0]["seed"])
    timings = first["timings"]
    steps = ", ".join(f"{name.split()[0]} {v['wall_seconds']:.0f} s" for name, v in timings.items())
    total = sum(r["wall_s"] for r in runs) + (bound["wall_s"] if bound else 0.0)
    lines.append(
        f"Time: {total:.0f} s wall for the {len(runs) + (1 if bound else 0)} backtests; the first: "
        f"{runs[0]['wall_s']:.0f} s ({steps}; a warehouse already built from the same landing is reused). "
        "Reruns give identical figures."
    )
    return "\n\n".join(lines)


def daily_use_lines(daily: dict[str, Any], seed: int) -> list[str]:
    """The daily-use replay: its table and its ratios to the legacy filters at their volume."""
    at_volume = daily["at"]["legacy_volume"]
    return [
        "Daily use ([models.md](models.md#alert-policy)): a daily run sees an expense claim only from the day "
        "it is filed. It scores each transaction on its own day without its claims, and again on the day the "
        f"last of them is filed (within `claim_rescore_days` = {daily['claim_rescore_days']}) unless an "
        f"earlier day alerted it. The seed-{seed} model replayed so on the test window: its scores on the "
        "warehouse as known at the cut-off (no claim of a test transaction) for the payment's day, and with "
        "the claims for the claim's day "
        f"({daily['claimed_transactions']:,} test transactions have a claim). Each day takes its top k of "
        "both; the ratios are to the legacy filters as they alerted:",
        daily_use_table(daily),
        f"In daily use, at the legacy volume, the hybrid catches x{fmt(at_volume['amount_caught_ratio'], 2)} "
        f"the legacy filters' misuse amount at x{fmt(at_volume['precision_ratio'], 2)} their precision. This "
        "replay is the estimate of the target in daily use; the tables above see every claim on the "
        "payment's day.",
    ]


def _seeds(value: str) -> list[int]:
    try:
        seeds = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(f"{value!r}: a comma list of integers, e.g. 0,1,2") from None
    if not seeds:
        raise click.BadParameter("at least one seed")
    return seeds


@click.command("company-backtest")
@click.option(
    "--landing",
    type=click.Path(file_okay=False, path_type=Path),
    help="A simulated company's landing (default: `cardwatch simulate` with its defaults, under --work).",
)
@click.option("--truth", type=click.Path(path_type=Path), help="Its truth folder (with --landing).")
@click.option(
    "--first-day",
    default="2025-01-01",
    show_default=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="First day of the data (the simulator's --start).",
)
@click.option("--train-months", default=9, show_default=True, type=click.IntRange(min=1))
@click.option("--test-months", default=3, show_default=True, type=click.IntRange(min=1))
@click.option("--label-delay-days", default=14.0, show_default=True, type=float)
@click.option("--seeds", default="0,1,2", show_default=True, help="Comma list of seeds, one backtest each.")
@click.option(
    "--without-claims/--with-claims-only",
    default=True,
    show_default=True,
    help="Also run the first seed on the landing without expense claims (the look-ahead bound).",
)
@click.option(
    "--work",
    type=click.Path(file_okay=False, path_type=Path),
    help="Scratch folder, kept (default: a temporary one).",
)
@click.option(
    "--write/--no-write", default=True, show_default=True, help="Record the figures in docs/benchmarks.md."
)
def company_backtest(
    landing: Path | None,
    truth: Path | None,
    first_day: datetime,
    train_months: int,
    test_months: int,
    label_delay_days: float,
    seeds: str,
    without_claims: bool,
    work: Path | None,
    write: bool,
) -> None:
    """The prequential backtest on simulated Company A, per seed; figures go to docs/benchmarks.md."""
    if (landing is None) != (truth is None):
        raise click.UsageError("--landing and --truth go together")
    seed_list = _seeds(seeds)
    window = protocol_window(first_day.date(), train_months, test_months, label_delay_days)
    with tempfile.TemporaryDirectory(prefix="cardwatch-company-") as scratch:
        base = (work or Path(scratch)).resolve()
        simulated = None
        if landing is None:
            from simulator.calibration import calibrate
            from simulator.config import SimOptions
            from simulator.generate import simulate_company
            from simulator.writer import build_frames, write_landing, write_truth

            options = SimOptions(start=first_day.date())
            click.echo(f"simulating the default company into {base / 'company'}")
            sim = simulate_company(options)
            landing, truth = base / "company" / "landing", base / "company" / "truth"
            write_landing(build_frames(sim), landing)
            write_truth(sim, calibrate(sim), truth)
            simulated = (
                f"`cardwatch simulate` with its defaults ({options.employees:,} employees, {options.months} "
                f"months from {options.start}, seed {options.seed})"
            )
        result = run(landing, truth, base, window, seed_list, without_claims)
        if work is not None:
            (base / "company_backtest.json").write_text(json.dumps(result, indent=1, default=str), "utf-8")
    command = "cardwatch benchmark company-backtest " + " ".join(sys.argv[3:])
    text = render(result, command.strip(), simulated)
    click.echo(text)
    if write:
        replace_heading(BENCHMARKS_MD, SECTION, text)
        click.echo(f"written to {BENCHMARKS_MD}")
