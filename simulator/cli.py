"""`cardwatch simulate`: write a simulated Company A into the landing contract."""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

import click

from simulator.config import SimOptions, load_params, typology_names


def _names(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


@click.command("simulate")
@click.option(
    "--employees", default=2000, show_default=True, type=click.IntRange(min=10), help="Cardholders."
)
@click.option(
    "--start",
    default="2025-01-01",
    show_default=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="First day simulated.",
)
@click.option(
    "--months", default=12, show_default=True, type=click.IntRange(min=1, max=60), help="Months simulated."
)
@click.option(
    "--seed", default=7, show_default=True, type=int, help="Random seed; same options give identical files."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output root: landing files go to OUT/landing/<source>/, truth to OUT/truth/. "
    "Default: the landing and truth folders of $CARDWATCH_HOME.",
)
@click.option(
    "--misuse-rate",
    type=click.FloatRange(min=0.0, max=0.5),
    default=None,
    help="Share of transactions that are misuse with every typology on (default from params.yml).",
)
@click.option(
    "--typologies", default=None, help="Comma list of the misuse typologies to enable (default: all)."
)
@click.option("--disable", default=None, help="Comma list of misuse typologies to switch off.")
@click.option("--list-typologies", is_flag=True, help="Print the typology names and exit.")
@click.option(
    "--params",
    "params_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="A parameter file to use instead of simulator/params.yml.",
)
@click.option("--quiet", is_flag=True, help="Print only the output location.")
def simulate(
    employees: int,
    start: dt.datetime,
    months: int,
    seed: int,
    out: Path | None,
    misuse_rate: float | None,
    typologies: str | None,
    disable: str | None,
    list_typologies: bool,
    params_file: Path | None,
    quiet: bool,
) -> None:
    """Write a simulated Company A: landing sources, and ground truth kept apart.

    Prints a calibration table (also written to truth/calibration.json) comparing the legacy
    filters with the ground truth.
    """
    from rich.console import Console

    from simulator.calibration import calibrate, render
    from simulator.generate import simulate_company
    from simulator.writer import build_frames, write_landing, write_truth

    console = Console(width=None if sys.stdout.isatty() else 120)
    if list_typologies:
        for name in typology_names():
            console.print(name)
        return
    options = SimOptions(
        employees=employees,
        start=start.date(),
        months=months,
        seed=seed,
        misuse_rate=misuse_rate,
        typologies=_names(typologies),
        disabled=_names(disable) or [],
        params_file=params_file,
    )
    if out is None:
        from orchestration.settings import Paths

        paths = Paths.from_env()
        landing, truth = paths.landing, paths.truth
    else:
        landing, truth = out / "landing", out / "truth"

    began = time.perf_counter()

    def say(message: str) -> None:
        if not quiet:
            console.print(f"[dim]{time.perf_counter() - began:6.1f}s[/dim] {message}")

    try:
        options.enabled_typologies(load_params(params_file))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--typologies/--disable") from exc
    try:
        sim = simulate_company(options, progress=say)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    say("calibration")
    calibration = calibrate(sim)
    say(f"writing landing files to {landing}")
    frames = build_frames(sim)
    written = write_landing(frames, landing)
    write_truth(sim, calibration, truth)
    files = sum(len(paths) for paths in written.values())
    say(f"done: {files} landing files, truth in {truth}")
    if not quiet:
        console.print(render(calibration))
    console.print(f"landing: {landing}  truth: {truth}  ({time.perf_counter() - began:.1f}s)")
