"""Subcommands that drive ingest and the dbt build: ingest, run, status, demo."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from orchestration.settings import DBT_PIPELINE_BUILD, DBT_PROJECT_DIR, PROFILES_DIR, Paths

console = Console(highlight=False, soft_wrap=True)
if not console.is_terminal:
    console.width = 160  # logs and CI: keep tables readable


def fail(message: str) -> None:
    """Print one clear line and exit non-zero."""
    console.print(f"[bold red]error:[/] {message}")
    sys.exit(1)


@contextmanager
def step(name: str, timings: list[tuple[str, float]]) -> Iterator[None]:
    started = time.perf_counter()
    console.print(f"[bold]▶ {name}[/]")
    yield
    elapsed = time.perf_counter() - started
    timings.append((name, elapsed))
    console.print(f"  done in {elapsed:.1f} s")


def print_reconciliation(report) -> None:
    table = Table(title="Reconciliation (rows read = accepted + quarantined + set aside)")
    for column in ("source", "file", "status", "read", "accepted", "quarantined", "set aside", "note"):
        table.add_column(
            column, justify="right" if column in {"read", "accepted", "quarantined", "set aside"} else "left"
        )
    for item in report.files:
        table.add_row(
            item.source,
            Path(item.file).name,
            item.status,
            f"{item.rows_read:,}",
            f"{item.rows_accepted:,}",
            f"{item.rows_quarantined:,}",
            f"{item.rows_set_aside:,}",
            item.message,
        )
    console.print(table)
    if report.missing_sources:
        console.print(f"Sources not supplied (their rules are inactive): {', '.join(report.missing_sources)}")


def run_ingest(paths: Paths, landing: Path, mapping: Path | None, quiet: bool = False):
    from orchestration.ingest.load import ingest as do_ingest
    from orchestration.ingest.mapping import MappingError
    from orchestration.ingest.reader import FileError

    paths.ensure()
    try:
        with console.status("ingesting…") as status:
            report = do_ingest(
                landing, paths.warehouse, mapping, progress=lambda m: status.update(f"ingesting {m}")
            )
    except (FileError, MappingError) as exc:
        fail(str(exc))
    if not quiet:
        print_reconciliation(report)
    for item in report.errors:
        console.print(f"[bold red]error:[/] {item.message}")
    return report


def dbt_command(paths: Paths, args: list[str]) -> list[str]:
    """The dbt command line for ``args`` against this state directory's target and log folders."""
    dbt = Path(sys.executable).with_name("dbt")
    return [
        str(dbt), *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(PROFILES_DIR),
        "--target-path", str(paths.home / "dbt" / "target"), "--log-path", str(paths.home / "dbt" / "logs"),
    ]  # fmt: skip


def run_dbt(paths: Paths, args: list[str] | None = None) -> None:
    """Run dbt (default: the pipeline's build) and stop with one line when it fails."""
    args = list(args or DBT_PIPELINE_BUILD)
    command = args[0]
    args = dbt_command(paths, args)
    env = paths.dbt_env()
    proc = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        lines = [
            line for line in proc.stdout.splitlines() if "ERROR" in line or "FAIL" in line or "Error" in line
        ]
        console.print("\n".join(lines[-20:]) or proc.stdout[-3000:] or proc.stderr[-3000:])
        fail(
            f"dbt {command} failed (exit {proc.returncode}); full log: {paths.home / 'dbt' / 'logs' / 'dbt.log'}"
        )
    summary = [line for line in proc.stdout.splitlines() if "Done." in line or "Completed" in line]
    for line in summary[-1:]:
        console.print("  " + line.split("  ", 1)[-1].strip())


landing_option = click.option(
    "--landing",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Landing directory with one folder per source (default: $CARDWATCH_HOME/landing).",
)
mapping_option = click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Column-mapping YAML for a foreign export (see docs/mappings.md).",
)
home_option = click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    envvar="CARDWATCH_HOME",
    help="State directory (default: $CARDWATCH_HOME or ./.cardwatch).",
)


@click.command()
@landing_option
@mapping_option
@home_option
def ingest(landing: Path | None, mapping: Path | None, home: Path | None) -> None:
    """Validate landing files and load them into the warehouse.

    Bad rows go to raw._quarantine with file, line, raw row and reason; every file is
    reconciled; a file already loaded (same content) is skipped.
    """
    paths = Paths.from_env(home)
    report = run_ingest(paths, landing or paths.landing, mapping)
    sys.exit(0 if report.ok else 1)


@click.command()
@landing_option
@mapping_option
@home_option
@click.option("--skip-ingest", is_flag=True, help="Only rebuild the dbt project.")
@click.option(
    "--date",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Run the daily Dagster job for this day (score, alert, hand off cases, publish).",
)
@click.option("--backfill", is_flag=True, help="Run the daily job over --start..--end as one run.")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First day of a backfill.")
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last day of a backfill.")
def run(
    landing: Path | None,
    mapping: Path | None,
    home: Path | None,
    skip_ingest: bool,
    day,
    backfill: bool,
    start,
    end,
) -> None:
    """Ingest, then build the dbt project (staging, features, rules, marts) with its tests.

    With --date or --backfill the whole daily job runs through Dagster instead.
    """
    paths = Paths.from_env(home)
    if day or backfill:
        if backfill and not (start and end):
            fail("--backfill needs --start and --end")
        if landing or mapping:
            fail(
                "--landing and --mapping apply to plain `cardwatch run`; the daily job reads $CARDWATCH_HOME/landing"
            )
        run_daily(paths, (start or day).date(), (end or day).date())
        return
    timings: list[tuple[str, float]] = []
    ok = True
    if not skip_ingest:
        with step("ingest", timings):
            ok = run_ingest(paths, landing or paths.landing, mapping).ok
    with step("dbt build", timings):
        run_dbt(paths)
    print_timings(timings)
    sys.exit(0 if ok else 1)


def run_daily(paths: Paths, first, last) -> None:
    from orchestration.runner import run_days

    started = time.perf_counter()
    label = first.isoformat() if first == last else f"{first}..{last}"
    with console.status(f"running the daily job for {label} through Dagster…"):
        outcome = run_days(paths.ensure(), first, last)
    seconds = time.perf_counter() - started
    if not outcome.success:
        fail(
            f"daily run {outcome.run_id} for {label} failed at {', '.join(outcome.failed_steps) or 'a step'}; "
            f"see `cardwatch dagster` for its logs"
        )
    console.print(f"daily run {outcome.run_id} for {label} succeeded in {seconds:.1f} s")


def print_timings(timings: list[tuple[str, float]]) -> None:
    table = Table(title="Time per step")
    table.add_column("step")
    table.add_column("seconds", justify="right")
    for name, seconds in timings:
        table.add_row(name, f"{seconds:.1f}")
    table.add_row("total", f"{sum(s for _, s in timings):.1f}")
    console.print(table)


@click.command()
@home_option
def status(home: Path | None) -> None:
    """What is in the warehouse: rows per table, quarantined rows by reason, last loads."""
    import duckdb

    paths = Paths.from_env(home)
    if not paths.warehouse.exists():
        fail(f"{paths.warehouse}: no warehouse yet; run `cardwatch ingest` first")
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('information_schema', 'pg_catalog') ORDER BY 1, 2"
        ).fetchall()
        table = Table(title=f"Warehouse {paths.warehouse}")
        table.add_column("table")
        table.add_column("rows", justify="right")
        for schema, name in tables:
            count = con.execute(f'SELECT count(*) FROM "{schema}"."{name}"').fetchall()[0][0]
            table.add_row(f"{schema}.{name}", f"{count:,}")
        console.print(table)
        reasons = con.execute(
            "SELECT source, kind, regexp_replace(reason, ' \\(.*$', '') AS reason, count(*) AS n "
            "FROM raw._quarantine GROUP BY ALL ORDER BY n DESC LIMIT 20"
        ).fetchall()
        table = Table(title="Quarantined and set-aside rows by reason")
        for column in ("source", "kind", "reason", "rows"):
            table.add_column(column, justify="right" if column == "rows" else "left")
        for source, kind, reason, count in reasons:
            table.add_row(source, kind, reason, f"{count:,}")
        console.print(table)
        last = con.execute(
            "SELECT max(finished_at), count(*) FILTER (status = 'rejected') FROM raw._load_log"
        ).fetchall()[0]
        console.print(f"Last load: {last[0] or 'never'}; rejected files: {last[1]}")
        sources = con.execute(
            "SELECT source, is_present, row_count FROM raw._sources ORDER BY source"
        ).fetchall()
        present = [s for s, p, _ in sources if p]
        console.print(f"Sources present: {', '.join(present) or 'none'}")
    finally:
        con.close()


@click.command()
@home_option
@click.option("--employees", default=2000, show_default=True, help="Size of the simulated company.")
@click.option("--months", default=12, show_default=True, help="Months of card use to simulate.")
@click.option("--seed", default=7, show_default=True)
@click.option(
    "--warmup-days", default=14, show_default=True, help="Days of history before the first scored day."
)
@click.option(
    "--no-dashboard", is_flag=True, help="Stop after the pipeline instead of starting the dashboard."
)
def demo(
    home: Path | None, employees: int, months: int, seed: int, warmup_days: int, no_dashboard: bool
) -> None:
    """Simulate Company A, backfill the year through Dagster, run one daily run, open the dashboard."""
    from datetime import timedelta

    import duckdb

    paths = Paths.from_env(home).ensure()
    timings: list[tuple[str, float]] = []
    cardwatch = Path(sys.executable).with_name("cardwatch")
    env = dict(os.environ, CARDWATCH_HOME=str(paths.home))
    if not any(paths.landing.glob("card_transactions/*")):
        with step(f"simulate Company A ({employees:,} employees × {months} months)", timings):
            proc = subprocess.run(
                [str(cardwatch), "simulate", "--employees", str(employees), "--months", str(months),
                 "--seed", str(seed), "--out", str(paths.home)],
                env=env, check=False,
            )  # fmt: skip
            if proc.returncode != 0:
                fail("simulate failed")
    else:
        console.print(f"Landing files already present under {paths.landing}; not simulating again.")
    with step("ingest (validate, quarantine, reconcile)", timings):
        run_ingest(paths, paths.landing, None, quiet=True)
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        first, last = con.execute(
            "SELECT min(transacted_at)::DATE, max(transacted_at)::DATE FROM raw.card_transactions"
        ).fetchall()[0]
    finally:
        con.close()
    start = first + timedelta(days=warmup_days)
    with step(f"backfill {start} .. {last - timedelta(days=1)} through Dagster (one run)", timings):
        run_daily(paths, start, last - timedelta(days=1))
    with step(f"daily run for {last} through Dagster", timings):
        run_daily(paths, last, last)
    print_timings(timings)
    print_demo_summary(paths)
    if not no_dashboard:
        from dashboards.cli import launch

        launch(paths)


def print_demo_summary(paths: Paths) -> None:
    import duckdb

    con = duckdb.connect(str(paths.snapshot), read_only=True)
    try:
        rows = con.execute(
            "SELECT route, count(*), round(avg(score), 3) FROM marts.fct_alerts GROUP BY route ORDER BY route"
        ).fetchall()
        volume = con.execute(
            "SELECT round(avg(alerts), 1), max(capacity), count(*) FILTER (ranked + hard > capacity) "
            "FROM monitoring.alert_volume_daily"
        ).fetchall()[0]
        decisions = con.execute(
            "SELECT action, count(*) FILTER (accepted), count(*) FROM monitoring.model_decisions GROUP BY action"
        ).fetchall()
    finally:
        con.close()
    table = Table(title="Cardwatch on the simulated year")
    table.add_column("what")
    table.add_column("value", justify="right")
    for route, count, score in rows:
        table.add_row(f"alerts routed {route}", f"{count:,} (mean score {score})")
    table.add_row("alerts per day / capacity", f"{volume[0]} / {volume[1]}")
    table.add_row("days over capacity (outside hard violations)", f"{volume[2]}")
    for action, accepted, total in decisions:
        table.add_row(f"model {action}", f"{accepted} accepted of {total}")
    console.print(table)
    console.print(f"Published snapshot: {paths.snapshot}")


@click.command()
@home_option
@click.option("--port", default=3000, show_default=True)
def dagster(home: Path | None, port: int) -> None:
    """Start the Dagster UI on localhost with Cardwatch's definitions."""
    from orchestration.runner import prepare_dagster_home

    paths = Paths.from_env(home).ensure()
    prepare_dagster_home(paths)
    exe = Path(sys.executable).with_name("dagster")
    # the code server and dagster-dbt's project preparation look for `dbt` on PATH: this environment's
    os.environ["PATH"] = os.pathsep.join([str(exe.parent), os.environ.get("PATH", "")])
    console.print(f"Dagster UI on http://127.0.0.1:{port} (state in {paths.dagster_home})")
    os.execv(
        str(exe), [str(exe), "dev", "-m", "orchestration.definitions", "-h", "127.0.0.1", "-p", str(port)]
    )


@click.command()
@home_option
@click.option("--lang", type=click.Choice(["ko", "en"]), default="ko", show_default=True)
@click.option(
    "--truth",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Simulation ground truth (truth/ folder) to show true values beside the estimates; "
    "default: $CARDWATCH_HOME/truth when present.",
)
def report(home: Path | None, lang: str, truth: Path | None) -> None:
    """Write reports/detection_review.html and .md: how the filters perform, where they fail, what to change."""
    from ml.analysis.report import build_report

    paths = Paths.from_env(home)
    source = paths.snapshot if paths.snapshot.exists() else paths.warehouse
    if not source.exists():
        fail(f"{source}: no warehouse yet; run `cardwatch run` first")
    truth = truth or (paths.truth if (paths.truth / "transactions.parquet").exists() else None)
    out = paths.reports if lang == "ko" else paths.reports / "en"
    with console.status("computing the detection review…"):
        written = build_report(source, out, lang=lang, truth_path=truth)
    console.print(f"report: {written['html']}\nmarkdown: {written['md']}")
