"""Where Cardwatch keeps its state.

Everything lives under one directory, ``$CARDWATCH_HOME`` (default ``./.cardwatch``):
landing files, the build warehouse, the published snapshot, the case store, the model
registry, Dagster's home and reports. Environment variables are read when a
``Paths`` object is made, never at import.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
PROFILES_DIR = REPO_ROOT
# What a pipeline run builds: every model, seed and data test, not the dbt unit tests. Those check the
# SQL on mock rows, not the day's data, and run in `make test` (tests/dbt) whenever the SQL changes.
DBT_PIPELINE_BUILD = ["build", "--exclude-resource-type", "unit_test"]


@dataclass(frozen=True)
class Paths:
    """The state directory and the files in it."""

    home: Path

    @classmethod
    def from_env(cls, home: str | os.PathLike[str] | None = None) -> Paths:
        root = home or os.environ.get("CARDWATCH_HOME") or ".cardwatch"
        return cls(Path(root).expanduser().resolve())

    @property
    def landing(self) -> Path:
        return Path(os.environ.get("CARDWATCH_LANDING") or self.home / "landing")

    @property
    def warehouse(self) -> Path:
        return Path(os.environ.get("CARDWATCH_WAREHOUSE") or self.home / "warehouse.duckdb")

    @property
    def snapshot(self) -> Path:
        return self.home / "published" / "snapshot.duckdb"

    @property
    def case_store_url(self) -> str:
        return os.environ.get("CARDWATCH_CASE_STORE_URL") or f"sqlite:///{self.home / 'cases.sqlite'}"

    @property
    def registry(self) -> Path:
        return self.home / "registry"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def reports(self) -> Path:
        return self.home / "reports"

    @property
    def truth(self) -> Path:
        """Simulator ground truth; only evaluation reads it, never the product."""
        return self.home / "truth"

    def ensure(self) -> Paths:
        for path in (self.home, self.landing, self.warehouse.parent, self.reports):
            path.mkdir(parents=True, exist_ok=True)
        return self

    def dbt_env(self) -> dict[str, str]:
        """Environment for a dbt subprocess so that profiles.yml finds this warehouse."""
        env = dict(os.environ)
        env["CARDWATCH_HOME"] = str(self.home)
        env["CARDWATCH_WAREHOUSE"] = str(self.warehouse)
        from orchestration.warehouse import dbt_threads

        env["CARDWATCH_DBT_THREADS"] = str(dbt_threads(self.warehouse))
        env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        return env
