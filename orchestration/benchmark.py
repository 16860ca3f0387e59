"""`cardwatch benchmark build` and `pipeline`: time the build and the daily job on simulated companies.

Both record their figures in their own section of docs/benchmarks.md, with the machine and its load.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import click
import psutil

from ml.benchmarks.markdown import machine, replace_heading
from orchestration.settings import DBT_PIPELINE_BUILD, REPO_ROOT

BENCHMARKS_MD = REPO_ROOT / "docs" / "benchmarks.md"
SECTION = "## Build: ingest + dbt build"


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run_measured(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run a command; return wall seconds, peak resident memory (GB, the process tree) and its output.

    The output goes to a temporary file, not a pipe: a pipe read only at the end fills up and blocks
    a talkative command (a Dagster backfill logs far more than a pipe holds).
    """
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as log:
        started = time.perf_counter()
        proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
        peak = 0
        parent = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                tree = [parent, *parent.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.2)
        wall = time.perf_counter() - started
        log.seek(0)
        output = log.read()
    if proc.returncode != 0:
        raise click.ClickException(f"{' '.join(args[:2])} failed (exit {proc.returncode}):\n{output[-2000:]}")
    return wall, peak / 2**30, output


def model_group_times(target: Path) -> dict[str, float]:
    """Seconds per model folder (staging, intermediate, features, rules, marts, tests) from run_results.json."""
    results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))
    groups: dict[str, float] = {}
    for item in results["results"]:
        unique_id = item["unique_id"]
        kind = unique_id.split(".")[0]
        if kind == "model":
            name = unique_id.split(".")[-1]
            group = name.split("_")[0]
            group = {
                "stg": "staging",
                "int": "intermediate",
                "feat": "features",
                "fct": "marts",
                "dim": "marts",
            }.get(group, group)
            if name.startswith("rule_"):
                group = "rules"
        elif kind in ("test", "unit_test"):
            group = "tests"
        else:
            group = kind
        groups[group] = groups.get(group, 0.0) + float(item.get("execution_time") or 0.0)
    return dict(sorted(groups.items()))


def bench_size(employees: int, months: int, workdir: Path) -> dict[str, object]:
    from orchestration.commands import dbt_command
    from orchestration.settings import Paths

    home = workdir / f"company_{employees}"
    paths = Paths.from_env(home)
    env = dict(os.environ, CARDWATCH_HOME=str(home), CARDWATCH_WAREHOUSE=str(home / "warehouse.duckdb"))
    cardwatch = str(Path(sys.executable).with_name("cardwatch"))
    load = os.getloadavg()[0]
    simulate_s, _, _ = _run_measured(
        [cardwatch, "simulate", "--employees", str(employees), "--months", str(months), "--out", str(home)],
        env,
    )
    cpu = _children_cpu()
    ingest_s, ingest_gb, _ = _run_measured([cardwatch, "ingest", "--landing", str(home / "landing")], env)
    env = paths.dbt_env()  # after ingest: the dbt threads follow the company's size
    build_s, build_gb, out = _run_measured(dbt_command(paths, DBT_PIPELINE_BUILD), env)
    cpu_s = _children_cpu() - cpu
    import duckdb

    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        transactions = con.execute("SELECT count(*) FROM raw.card_transactions").fetchall()[0][0]
    finally:
        con.close()
    summary = re.search(r"PASS=(\d+).*ERROR=(\d+)", out)
    return {
        "employees": employees,
        "months": months,
        "load_before": load,
        "transactions": transactions,
        "simulate_s": simulate_s,
        "ingest_s": ingest_s,
        "ingest_peak_gb": ingest_gb,
        "dbt_build_s": build_s,
        "dbt_peak_gb": build_gb,
        "cpu_s": cpu_s,
        "rows_per_s": transactions / (ingest_s + build_s),
        "dbt_pass": int(summary.group(1)) if summary else None,
        "dbt_error": int(summary.group(2)) if summary else None,
        "groups": model_group_times(home / "dbt" / "target"),
    }


def render(results: list[dict[str, object]]) -> str:
    lines = [
        f"Measured by `cardwatch benchmark build` on {datetime.now():%Y-%m-%d}; machine: {machine()}.",
        "Targets: 2,000 × 12 ingest + dbt build under 60 s; 20,000 × 12 (about 3 million transactions) under "
        "6 minutes and 8 GB.",
        "",
        "| employees × months | transactions | ingest s | dbt build s | ingest + build s | CPU s | peak GB | rows/s | dbt PASS / ERROR | load before |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        total = float(r["ingest_s"]) + float(r["dbt_build_s"])  # type: ignore[arg-type]
        peak = max(float(r["ingest_peak_gb"]), float(r["dbt_peak_gb"]))  # type: ignore[arg-type]
        lines.append(
            f"| {r['employees']:,} × {r['months']} | {r['transactions']:,} | {r['ingest_s']:.1f} | "
            f"{r['dbt_build_s']:.1f} | {total:.1f} | {r['cpu_s']:.1f} | {peak:.2f} | {r['rows_per_s']:,.0f} | {r['dbt_pass']} / {r['dbt_error']} | {r['load_before']:.1f} |"
        )
    lines += [
        "",
        "dbt execution time per model group (seconds, summed over models; threads run in parallel):",
        "",
    ]
    groups = sorted({g for r in results for g in r["groups"]})  # type: ignore[union-attr]
    lines.append("| employees | " + " | ".join(groups) + " |")
    lines.append("|---|" + "---|" * len(groups))
    for r in results:
        lines.append(
            f"| {r['employees']:,} | " + " | ".join(f"{r['groups'].get(g, 0.0):.1f}" for g in groups) + " |"  # type: ignore[union-attr]
        )
    return "\n".join(lines) + "\n"


@click.command("build")
@click.option(
    "--sizes", default="2000,20000", show_default=True, help="Company sizes (employees), comma-separated."
)
@click.option("--months", default=12, show_default=True)
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option(
    "--write/--no-write", default=True, show_default=True, help="Record the figures in docs/benchmarks.md."
)
def build(sizes: str, months: int, workdir: Path | None, write: bool) -> None:
    """Time ingest + dbt build on simulated companies; figures go to docs/benchmarks.md."""
    results = []
    with tempfile.TemporaryDirectory(prefix="cardwatch-bench-") as scratch:
        base = workdir or Path(scratch)
        for size in (int(s) for s in sizes.split(",") if s.strip()):
            click.echo(f"benchmarking {size:,} employees × {months} months …")
            result = bench_size(size, months, base)
            click.echo(json.dumps(result, indent=1, default=str))
            results.append(result)
    text = render(results)
    click.echo(text)
    if write:
        replace_heading(BENCHMARKS_MD, SECTION, text)
        click.echo(f"written to {BENCHMARKS_MD}")


PIPELINE_SECTION = "## Pipeline: the year's backfill and a daily run through Dagster"


def bench_pipeline(home: Path, employees: int, months: int, warmup_days: int) -> dict[str, object]:
    """Simulate (unless landed), ingest, backfill all but the last day as one run, then run the last day."""
    from datetime import date, timedelta

    import duckdb

    env = dict(os.environ, CARDWATCH_HOME=str(home))
    env.pop("CARDWATCH_WAREHOUSE", None)
    cardwatch = str(Path(sys.executable).with_name("cardwatch"))
    steps: dict[str, dict[str, float]] = {}

    def measured(name: str, args: list[str]) -> None:
        cpu = _children_cpu()
        load = os.getloadavg()[0]
        wall, peak, _ = _run_measured(args, env)
        steps[name] = {"wall_s": wall, "cpu_s": _children_cpu() - cpu, "peak_gb": peak, "load_before": load}
        click.echo(f"{name}: {wall:.1f} s wall, {steps[name]['cpu_s']:.1f} s CPU, {peak:.2f} GB peak")

    if not any((home / "landing" / "card_transactions").glob("*")):
        measured("simulate", [cardwatch, "simulate", "--employees", str(employees), "--months", str(months),
                              "--out", str(home)])  # fmt: skip
    measured("ingest", [cardwatch, "ingest", "--landing", str(home / "landing")])
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        first, last, transactions = con.execute(
            "SELECT min(transacted_at)::DATE, max(transacted_at)::DATE, count(*) FROM raw.card_transactions"
        ).fetchall()[0]
    finally:
        con.close()
    start: date = first + timedelta(days=warmup_days)
    end: date = last - timedelta(days=1)
    measured("backfill", [cardwatch, "run", "--backfill", "--start", str(start), "--end", str(end)])
    measured("daily", [cardwatch, "run", "--date", str(last)])
    return {"employees": employees, "transactions": transactions, "backfill_days": (end - start).days + 1,
            "first": str(start), "last": str(last), "steps": steps}  # fmt: skip


def render_pipeline(result: dict[str, object]) -> str:
    steps: dict[str, dict[str, float]] = result["steps"]  # type: ignore[assignment]
    lines = [
        f"Measured by `cardwatch benchmark pipeline` on {datetime.now():%Y-%m-%d}; machine: {machine()}. "
        "CPU is the user + system time of the step's processes; the load average (1 min, before the step) "
        "says how busy the machine was with other work.",
        f"Company: {result['employees']:,} employees, {result['transactions']:,} card transactions; the backfill "
        f"covers {result['backfill_days']} days ({result['first']} onwards) as one Dagster run, the daily run the "
        f"last day ({result['last']}). Targets: backfill under 5 minutes, daily run under 60 s.",
        "",
        "| step | wall s | CPU s | peak GB | load before |",
        "|---|---|---|---|---|",
    ]
    for name, figures in steps.items():
        lines.append(
            f"| {name} | {figures['wall_s']:.1f} | {figures['cpu_s']:.1f} | {figures['peak_gb']:.2f} | "
            f"{figures['load_before']:.1f} |"
        )
    return "\n".join(lines) + "\n"


@click.command("pipeline")
@click.option("--employees", default=2000, show_default=True, help="Company size when it must be simulated.")
@click.option("--months", default=12, show_default=True)
@click.option(
    "--warmup-days", default=14, show_default=True, help="Days of history before the first scored day."
)
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="A state directory to use (its landing files are reused); default a scratch one.",
)
@click.option(
    "--write/--no-write", default=True, show_default=True, help="Record the figures in docs/benchmarks.md."
)
def pipeline(employees: int, months: int, warmup_days: int, home: Path | None, write: bool) -> None:
    """Time the year's backfill and one daily run through Dagster; figures go to docs/benchmarks.md."""
    with tempfile.TemporaryDirectory(prefix="cardwatch-bench-") as scratch:
        result = bench_pipeline(home or Path(scratch) / "company", employees, months, warmup_days)
    text = render_pipeline(result)
    click.echo(text)
    if write:
        replace_heading(BENCHMARKS_MD, PIPELINE_SECTION, text)
        click.echo(f"written to {BENCHMARKS_MD}")


SCORING_SECTION = "## Training and scoring at scale"


def bench_scoring(home: Path, chunk_rows: int | None = None) -> dict[str, object]:
    """Train the detection system on everything a warehouse knows, then score every transaction.

    Scoring reads and scores the warehouse a chunk at a time (`orchestration.scoring.score_window`);
    the time spent fetching the chunks and their rule hits is reported as read time, the rest as
    scoring time. The warehouse is opened read-only: nothing is written into ``home``.
    """
    import resource

    import duckdb

    from ml.system import score_chunk_rows
    from orchestration.scoring import read_feature_chunks, read_rule_hits_of, train
    from orchestration.settings import Paths

    paths = Paths.from_env(home)
    size = score_chunk_rows(chunk_rows)
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        last = con.execute("SELECT max(transacted_at) FROM features.fct_transaction_features").fetchall()[0][
            0
        ]
        cutoff = last + timedelta(seconds=1)
        started = time.perf_counter()
        system = train(con, cutoff)
        trained = time.perf_counter()
        peak_train = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
        reading = 0.0
        chunks = 0

        def batches():  # the chunks of `score_window`, with the time spent reading them
            nonlocal reading, chunks
            features = read_feature_chunks(con, None, cutoff, size)
            while True:
                began = time.perf_counter()
                chunk = next(features, None)
                if chunk is None:
                    return
                hits = read_rule_hits_of(con, chunk["transaction_id"], None, cutoff)
                reading += time.perf_counter() - began
                chunks += 1
                yield chunk, hits, None

        scored = system.score_batches(batches(), explain=False)
        done = time.perf_counter()
    finally:
        con.close()
    return {
        "transactions": len(scored),
        "train_s": trained - started,
        "read_s": reading,
        "score_s": done - trained - reading,
        "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
        "train_peak_gb": peak_train,
        "chunk_rows": size,
        "chunks": chunks,
        "summary": {k: system.summary.get(k) for k in ("mode", "n_rows", "reference_rows", "stacked_rows")},
        "load_before": os.getloadavg()[0],
    }


def render_scoring(result: dict[str, object]) -> str:
    total = float(result["train_s"]) + float(result["read_s"]) + float(result["score_s"])  # type: ignore[arg-type]
    return (
        "\n".join(
            [
                f"Measured by `cardwatch benchmark scoring` on {datetime.now():%Y-%m-%d}; machine: {machine()}; "
                f"load average {result['load_before']:.1f} at the end. Target: training and scoring 3 million "
                "transactions under 5 minutes and 8 GB.",
                "",
                "| transactions | train s | read s | score s | total s | peak GB | training peak GB |",
                "|---|---|---|---|---|---|---|",
                f"| {result['transactions']:,} | {result['train_s']:.1f} | {result['read_s']:.1f} | "
                f"{result['score_s']:.1f} | {total:.1f} | {result['peak_gb']:.2f} | {result['train_peak_gb']:.2f} |",
                "",
                f"Training: `orchestration.scoring.train` at the day after the last transaction ({result['summary']}); "
                f"scoring: every transaction of the warehouse through the detectors and the hybrid, without reasons, "
                f"read and scored {result['chunk_rows']:,} rows at a time ({result['chunks']} chunks, "
                "`orchestration.scoring.score_window`). Read is the time spent fetching the chunks and their rule "
                "hits from DuckDB; peak is the process's maximum resident memory.",
            ]
        )
        + "\n"
    )


@click.command("scoring")
@click.option(
    "--home",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    required=True,
    help="A state directory whose warehouse has been built (e.g. by `cardwatch run`).",
)
@click.option(
    "--chunk-rows",
    type=click.IntRange(min=1),
    default=None,
    help="Rows read and scored at a time (default score_chunk_rows in ml/config/system.yml).",
)
@click.option(
    "--write/--no-write", default=True, show_default=True, help="Record the figures in docs/benchmarks.md."
)
def scoring(home: Path, chunk_rows: int | None, write: bool) -> None:
    """Time training on a whole warehouse and scoring every transaction in it."""
    result = bench_scoring(home, chunk_rows)
    text = render_scoring(result)
    click.echo(text)
    if write:
        replace_heading(BENCHMARKS_MD, SCORING_SECTION, text)
        click.echo(f"written to {BENCHMARKS_MD}")
