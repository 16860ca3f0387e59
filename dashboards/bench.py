"""Time each page's render against a snapshot: `python -m dashboards.bench --snapshot PATH`.

Renders every page with Streamlit's AppTest (as the monitoring lead, so that every page and widget is
shown; the audit trail as the auditor) once cold (snapshot query caches empty) and then warm, and prints the
seconds of one rerun of the page, with the machine's load average before and after (timings on a
shared machine mean little without it).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import streamlit as st
from streamlit import config, logger
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parent / "streamlit_app.py"
PAGES = {
    "overview": "app_pages/overview.py",
    "rules": "app_pages/rules.py",
    "thresholds": "app_pages/thresholds.py",
    "cases": "app_pages/cases.py",
    "audit": "app_pages/audit.py",
    "models": "app_pages/models.py",
    "data_quality": "app_pages/data_quality.py",
}


def render(page: str, role: str, timeout: float, *, cold: bool) -> float:
    """Seconds for one rerun of `page`; cold = with the snapshot query caches emptied first."""
    app = AppTest.from_file(str(APP), default_timeout=timeout)
    app.session_state["role"] = role
    app.session_state["lang"] = "en"
    app.run()
    app.switch_page(page)
    if cold:
        st.cache_data.clear()
    started = time.perf_counter()
    app.run()
    elapsed = time.perf_counter() - started
    if app.exception:
        raise RuntimeError(f"{page}: {app.exception[0].message}")
    return elapsed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshot", required=True, type=Path, help="A published snapshot.duckdb")
    parser.add_argument(
        "--cases",
        type=Path,
        default=None,
        help="Case store SQLite file (default: beside the snapshot's home)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="Warm renders per page")
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args(argv)

    # AppTest runs pages without a server, and Streamlit warns about that on every run.
    config.set_option("logger.level", "error")
    logger.set_log_level("error")
    with tempfile.TemporaryDirectory(prefix="cardwatch-bench-") as scratch:
        home = Path(scratch)
        (home / "published").mkdir()
        os.symlink(args.snapshot.resolve(), home / "published" / "snapshot.duckdb")
        source_cases = args.cases or args.snapshot.resolve().parent.parent / "cases.sqlite"
        if source_cases.exists():
            shutil.copyfile(source_cases, home / "cases.sqlite")
        os.environ["CARDWATCH_HOME"] = str(home)
        os.environ.pop("CARDWATCH_CASE_STORE_URL", None)
        print(f"snapshot {args.snapshot} ({args.snapshot.stat().st_size / 1e6:,.1f} MB)")
        print(f"load average {_load()} (1, 5, 15 min)")
        print(f"{'page':<14}{'cold s':>9}{'warm s (median)':>18}")
        for name, page in PAGES.items():
            role = "auditor" if name == "audit" else "lead"
            cold = render(page, role, args.timeout, cold=True)
            warm = [render(page, role, args.timeout, cold=False) for _ in range(args.repeat)]
            print(f"{name:<14}{cold:>9.2f}{statistics.median(warm):>18.2f}")
        print(f"load average {_load()} (1, 5, 15 min)")


def _load() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


if __name__ == "__main__":
    main()
