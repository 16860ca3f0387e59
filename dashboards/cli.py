"""`cardwatch dashboard`: serve the Streamlit dashboard on localhost against $CARDWATCH_HOME."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click

APP = Path(__file__).resolve().parent / "streamlit_app.py"


def streamlit_command(address: str, port: int) -> list[str]:
    """The `streamlit run` command line, with the settings a private, offline dashboard needs."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address",
        address,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--theme.base",
        "light",
        "--client.toolbarMode",
        "viewer",
    ]


@click.command("dashboard")
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="State directory (default $CARDWATCH_HOME or ./.cardwatch).",
)
@click.option("--address", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8501, show_default=True, type=int, help="Port to listen on.")
def dashboard(home: Path | None, address: str, port: int) -> None:
    """Open the monitoring dashboard (reads the published snapshot and the case store)."""
    from orchestration.settings import Paths

    launch(Paths.from_env(home), address, port)


def launch(paths, address: str = "127.0.0.1", port: int = 8501) -> None:
    """Serve the dashboard for ``paths`` (an orchestration.settings.Paths) until interrupted."""
    env = dict(os.environ, CARDWATCH_HOME=str(paths.home))
    if not paths.snapshot.exists():
        click.echo(
            f"no published snapshot yet at {paths.snapshot}; run `cardwatch run` first (pages will say so)",
            err=True,
        )
    click.echo(f"Cardwatch dashboard: http://{address}:{port}  (CARDWATCH_HOME={paths.home}; Ctrl+C to stop)")
    try:
        completed = subprocess.run(streamlit_command(address, port), env=env, check=False)
    except KeyboardInterrupt:
        return
    if completed.returncode not in (0, -2, 130):
        raise click.ClickException(f"streamlit exited with status {completed.returncode}")
