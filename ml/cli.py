"""`cardwatch benchmark`: measure the detectors and models, write the figures into docs/."""

from __future__ import annotations

import datetime as dt
import logging
import shlex
from pathlib import Path

import click

from ml.benchmarks.fdh_protocol import LAST_TRAIN_START

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
ALGORITHMS_TITLE = "# Algorithms: the detector zoo and the default detector"
SECTIONS = ("odds", "default", "typology")


def _int_list(text: str) -> list[int]:
    """``"0-9"`` or ``"0,3,7"`` to a list of ints."""
    values: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            low, high = part.split("-", 1)
            values.extend(range(int(low), int(high) + 1))
        elif part:
            values.append(int(part))
    return values


def _names(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def _command_line() -> str:
    """The current command as a user would type it, with the options given on the command line."""
    ctx = click.get_current_context()
    parts = ["cardwatch", "benchmark", str(ctx.info_name)]
    for param in ctx.command.params:
        source = ctx.get_parameter_source(param.name)
        if source is not click.core.ParameterSource.COMMANDLINE or not isinstance(param, click.Option):
            continue
        if param.name in {
            "raw",
            "jobs",
        }:  # where results are cached and how many processes: not what was measured
            continue
        value = ctx.params[param.name]
        if param.is_flag and not param.secondary_opts:
            parts.append(param.opts[0])
        elif param.is_flag:
            parts.append(param.opts[0] if value else param.secondary_opts[0])
        else:
            parts += [param.opts[0], shlex.quote(str(value))]
    return " ".join(parts)


def _stamp() -> str:
    from ml.benchmarks.markdown import machine

    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"_Generated {now} on {machine()}._"


def _versions() -> str:
    import pyod
    import sklearn

    return f"pyod {pyod.__version__}, scikit-learn {sklearn.__version__}"


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log progress.")
def benchmark(verbose: bool) -> None:
    """Measure speed and detection quality; figures go to docs/."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")


@benchmark.command()
@click.option(
    "--odds-dir",
    type=click.Path(path_type=Path),
    default=SHARED_DATA / "odds",
    show_default=True,
    help="ODDS folder with mat/ and published_tables/.",
)
@click.option("--datasets", help="Comma-separated ODDS sets (default: all 17).")
@click.option("--detectors", "detector_list", help="Comma-separated registry keys (default: the whole zoo).")
@click.option("--seeds", help="Split seeds, e.g. 0-9 or 0,1,2 (default: 0..splits-1).")
@click.option(
    "--splits", default=10, show_default=True, help="Random 60/40 splits when --seeds is not given."
)
@click.option("--published-year", type=click.Choice(["2019", "2024"]), default="2024", show_default=True)
@click.option("--jobs", default=2, show_default=True, help="Parallel processes.")
@click.option(
    "--timing/--no-timing", default=True, show_default=True, help="Time fit and score on 100k x 20."
)
@click.option("--odds/--no-odds", default=True, show_default=True, help="Run the ODDS comparison.")
@click.option(
    "--raw",
    type=click.Path(path_type=Path),
    help="Folder to keep raw ODDS results in (parquet); reused when present, to re-render without rerunning.",
)
@click.option(
    "--features",
    type=click.Path(exists=True, path_type=Path),
    help="Features parquet, or a built warehouse (.duckdb): its features mart as the detectors see it.",
)
@click.option("--truth", type=click.Path(exists=True, path_type=Path), help="Ground-truth parquet.")
@click.option("--out", type=click.Path(path_type=Path), default=REPO_ROOT / "docs", show_default=True)
def detectors(
    odds_dir: Path,
    datasets: str | None,
    detector_list: str | None,
    seeds: str | None,
    splits: int,
    published_year: str,
    jobs: int,
    timing: bool,
    odds: bool,
    raw: Path | None,
    features: Path | None,
    truth: Path | None,
    out: Path,
) -> None:
    """The detector zoo on ODDS (PyOD's protocol) and, with --features/--truth, per typology."""
    from rich.console import Console

    from ml.benchmarks.markdown import merge_sections
    from ml.benchmarks.typology import TYPOLOGY_PLACEHOLDER
    from ml.detectors import DETECTORS

    console = Console()
    names = _names(detector_list) or list(DETECTORS)
    if (features is None) != (truth is None):
        raise click.UsageError("--features and --truth go together")
    sections: dict[str, str] = {}
    if odds:
        if not (odds_dir / "mat").is_dir():
            raise click.ClickException(f"no ODDS data under {odds_dir} (expected {odds_dir / 'mat'})")
        sections.update(
            _odds_sections(
                console, odds_dir, datasets, names, seeds, splits, int(published_year), jobs, timing, out, raw
            )
        )
    if features is not None and truth is not None:
        sections["typology"] = _typology_section(console, features, truth, names)
    path = out / "algorithms.md"
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    if "typology" not in sections and "section:typology:start" not in existing:
        sections["typology"] = "## Simulated Company A, by typology\n\n" + TYPOLOGY_PLACEHOLDER
    header = (
        f"{ALGORITHMS_TITLE}\n\n> Generated by `cardwatch benchmark detectors` (`ml/cli.py`); rerun the "
        "command instead of editing this file. Each section names the command line that produced it."
    )
    merge_sections(path, header, SECTIONS, sections)
    console.print(f"wrote {path}")


def _odds_sections(
    console,
    odds_dir: Path,
    datasets: str | None,
    names: list[str],
    seeds: str | None,
    splits: int,
    published_year: int,
    jobs: int,
    timing: bool,
    out: Path,
    raw: Path | None = None,
) -> dict[str, str]:
    import pandas as pd
    from rich.table import Table

    from ml.benchmarks import odds as odds_bench
    from ml.benchmarks.markdown import fmt, replace_heading, table
    from ml.benchmarks.odds_report import choose_default, render_default, render_odds, summarize
    from ml.detectors import get_spec

    sets = _names(datasets) or list(odds_bench.ODDS_DATASETS)
    seed_list = _int_list(seeds) if seeds else list(range(splits))
    if raw is not None and (raw / "odds_runs.parquet").exists():
        console.print(f"re-using raw results from {raw}")
        result = odds_bench.OddsResult(
            runs=pd.read_parquet(raw / "odds_runs.parquet"),
            seed_spread=pd.read_parquet(raw / "odds_seed_spread.parquet"),
            shapes=pd.read_parquet(raw / "odds_shapes.parquet"),
        )
        sets = list(result.shapes["dataset"])
        names = list(dict.fromkeys(result.runs["detector"]))
        seed_list = sorted(result.runs["seed"].unique().tolist())
    else:
        with console.status(f"ODDS: {len(sets)} sets x {len(seed_list)} splits x {len(names)} detectors"):
            result = odds_bench.run_odds(odds_dir, sets, names, seed_list, n_jobs=jobs)
    published = odds_bench.load_published(odds_dir, year=published_year)
    comparison = odds_bench.compare_with_published(result.runs, published)
    if raw is not None and (raw / "odds_timing.parquet").exists():
        times = pd.read_parquet(raw / "odds_timing.parquet")
    elif timing:
        with console.status("timing on 100k x 20"):
            times = odds_bench.time_per_100k(names)
    else:
        times = pd.DataFrame(
            {
                "detector": names,
                "fit_seconds": float("nan"),
                "score_seconds": float("nan"),
                "extrapolated": False,
            }
        )

    if raw is not None:
        raw.mkdir(parents=True, exist_ok=True)
        result.runs.to_parquet(raw / "odds_runs.parquet")
        result.seed_spread.to_parquet(raw / "odds_seed_spread.parquet")
        result.shapes.to_parquet(raw / "odds_shapes.parquet")
        if timing:
            times.to_parquet(raw / "odds_timing.parquet")

    view = Table(title=f"ODDS ROC-AUC: ours / PyOD {published_year} / gap")
    view.add_column("dataset")
    for name in names:
        view.add_column(get_spec(name).label, justify="right")
    wide = comparison.set_index(["dataset", "detector"])
    for dataset in sets:
        cells = []
        for name in names:
            r = wide.loc[(dataset, name)]
            gap = "" if pd.isna(r["gap"]) else f" {r['gap']:+.3f}"
            style = "red" if abs(r["gap"]) > 0.05 else ""
            text = f"{fmt(r['ours'])} / {fmt(r['published'])}{gap}"
            cells.append(f"[{style}]{text}[/{style}]" if style else text)
        view.add_row(dataset, *cells)
    console.print(view)

    summary = choose_default(summarize(comparison, result.seed_spread, times))
    s = summary.table
    agg = Table(title="Per detector")
    for col in (
        "detector",
        "mean ours",
        "mean published",
        "mean |gap|",
        "fit CPU s/100k",
        "score CPU s/100k",
    ):
        agg.add_column(col, justify="right")
    for name in s.index:
        agg.add_row(
            get_spec(name).label,
            fmt(s.loc[name, "mean_ours"]),
            fmt(s.loc[name, "mean_published"]),
            fmt(s.loc[name, "mean_abs_gap"]),
            fmt(s.loc[name, "fit_s"], 2),
            fmt(s.loc[name, "score_s"], 2),
        )
    console.print(agg)
    console.print(f"default detector: {get_spec(summary.default).label}")

    command = _command_line()
    stamp = f"{_stamp()} {_versions()}."
    odds_text = render_odds(comparison, result.shapes, summary, published_year, len(seed_list), command)
    bench_rows = [
        (
            get_spec(n).label,
            fmt(s.loc[n, "mean_ours"]),
            fmt(s.loc[n, "mean_published"]),
            fmt(s.loc[n, "mean_abs_gap"]),
            fmt(s.loc[n, "fit_s"] + s.loc[n, "score_s"], 2),
        )
        for n in s.index
    ]
    replace_heading(
        out / "benchmarks.md",
        "## Detectors (ODDS)",
        "\n\n".join(
            [
                f"{stamp} Command: `{command}`.",
                f"Mean ROC-AUC over {len(sets)} ODDS sets, {len(seed_list)} random 60/40 splits, beside "
                f"PyOD's {published_year} table (means over the sets both cover). Full per-set table, "
                "gaps and the default-detector rationale: [algorithms.md](algorithms.md).",
                table(
                    [
                        "detector",
                        "ROC-AUC (ours)",
                        f"PyOD {published_year}",
                        "mean abs gap",
                        "fit + score CPU s / 100k",
                    ],
                    bench_rows,
                ),
                f"Default detector: **{get_spec(summary.default).label}**.",
            ]
        ),
    )
    return {"odds": f"{stamp}\n\n{odds_text}", "default": render_default(summary)}


def _typology_section(console, features: Path, truth: Path, names: list[str]) -> str:
    from ml.benchmarks.typology import load_features_truth, render_typology, run_typology

    X, joined = load_features_truth(features, truth)
    with console.status(f"detectors on {len(X):,} rows x {X.shape[1]} features"):
        result = run_typology(X, joined, names)
    body = render_typology(result, len(X), X.shape[1], _command_line())
    console.print(body)
    return f"## Simulated Company A, by typology\n\n{_stamp()}\n\n{body}"


@benchmark.command()
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    default=SHARED_DATA / "fdh-simulated" / "transactions_2018-04-01_2018-07-31.parquet",
    show_default=True,
    help="The Fraud Detection Handbook's transactions (parquet).",
)
@click.option("--chapter3-train-start", default="2018-07-11", show_default=True)
@click.option(
    "--last-train-start", default=LAST_TRAIN_START, show_default=True, help="Latest prequential fold."
)
@click.option(
    "--long-train-days", default=21, show_default=True, help="Extra run with a longer window; 0 skips."
)
@click.option("--jobs", default=2, show_default=True, help="Threads for the tree models.")
@click.option(
    "--raw",
    type=click.Path(path_type=Path),
    help="File to keep the raw results in (pickle); reused when present, to re-render without rerunning.",
)
@click.option("--out", type=click.Path(path_type=Path), default=REPO_ROOT / "docs", show_default=True)
def fdh(
    data: Path,
    chapter3_train_start: str,
    last_train_start: str,
    long_train_days: int,
    jobs: int,
    raw: Path | None,
    out: Path,
) -> None:
    """The Fraud Detection Handbook's protocol (chapters 3 and 5) and attempts to beat it."""
    import pandas as pd
    from rich.console import Console

    from ml.benchmarks.fdh_report import render_fdh, run_fdh
    from ml.benchmarks.markdown import replace_heading

    if not data.exists():
        raise click.ClickException(f"no Fraud Detection Handbook data at {data}")
    console = Console()
    if raw is not None and raw.exists():
        run = pd.read_pickle(raw)
    else:
        with console.status("Fraud Detection Handbook: features, chapter 3, chapter 5 (takes minutes)"):
            run = run_fdh(
                data,
                chapter3_train_start,
                last_train_start,
                long_train_days=long_train_days or None,
                n_jobs=jobs,
            )
        if raw is not None:
            raw.parent.mkdir(parents=True, exist_ok=True)
            pd.to_pickle(run, raw)
    body = render_fdh(run, f"{_stamp()} {_versions()}.", _command_line())
    console.print(body)
    replace_heading(out / "benchmarks.md", "## Fraud Detection Handbook", body)
    console.print(f"wrote {out / 'benchmarks.md'}")


@benchmark.command("fdh-landing")
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    default=SHARED_DATA / "fdh-simulated" / "transactions_2018-04-01_2018-07-31.parquet",
    show_default=True,
)
@click.option(
    "--landing", type=click.Path(path_type=Path), help="Landing folder (default $CARDWATCH_HOME/landing)."
)
@click.option(
    "--truth",
    "truth_dir",
    type=click.Path(path_type=Path),
    help="Truth folder (default $CARDWATCH_HOME/truth).",
)
@click.option(
    "--delay-days", default=7, show_default=True, help="Days from a transaction to its decided case."
)
@click.option("--frauds-only", is_flag=True, help="Write cases for frauds only (others stay unlabelled).")
def fdh_landing(
    data: Path, landing: Path | None, truth_dir: Path | None, delay_days: int, frauds_only: bool
) -> None:
    """Write the handbook's transactions into the landing contract, labels as case outcomes."""
    import os

    from ml.adapters.fdh import write_landing

    home = Path(os.environ.get("CARDWATCH_HOME") or ".cardwatch").expanduser()
    report = write_landing(
        data,
        landing or home / "landing",
        truth_dir or home / "truth",
        delay_days=delay_days,
        frauds_only=frauds_only,
    )
    click.echo(
        f"{report.transactions:,} transactions, {report.outcomes:,} case outcomes "
        f"({report.confirmed:,} confirmed, decided {delay_days} days after the transaction); "
        f"{report.zero_amounts} zero amounts will be quarantined by ingest."
    )
    for path in report.files:
        click.echo(f"wrote {path}")
