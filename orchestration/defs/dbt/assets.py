"""The dbt project (staging, intermediate, features, rules, marts) as Dagster assets.

dbt tests surface as asset checks. The manifest is prepared ahead (``make setup`` runs
``dbt parse``; ``dagster dev`` re-prepares it), never parsed at import.
"""

import importlib
import importlib.metadata
import threading
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from orchestration.defs.resources import CardwatchResource
from orchestration.locking import warehouse_lock
from orchestration.settings import DBT_PIPELINE_BUILD, DBT_PROJECT_DIR, PROFILES_DIR
from orchestration.warehouse import dbt_threads

if TYPE_CHECKING:
    from dbt.adapters.base import BaseAdapter
    from packaging.version import Version

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=PROFILES_DIR)
dbt_project.prepare_if_dev()


# What the steps after dbt import: scikit-learn, SciPy, PyOD and MLflow take about 3 s to load. The asset
# modules import them inside their functions, and a background thread loads them while dbt runs in its
# own process, so the run does not wait for them at start nor after dbt.
MODEL_STACK = ("orchestration.scoring", "orchestration.monitoring", "ml.system", "ml.registry", "mlflow")


def _load_model_stack() -> None:
    for name in MODEL_STACK:
        importlib.import_module(name)


class CardwatchDbtCliResource(DbtCliResource):
    """The dbt CLI resource without two start-up steps Cardwatch does not use (about 8 s per run).

    Before it starts dbt, dagster-dbt runs ``dbt --version`` in a subprocess to learn which engine it
    drives, and loads the dbt project and profile in-process to open an adapter that only its
    ``fetch_row_counts()`` and ``fetch_column_metadata()`` use. Cardwatch calls neither, and the dbt it
    runs is the pinned dbt-core of this environment, so the version comes from the package metadata.
    """

    @cached_property
    def _cli_version(self) -> "Version":
        from packaging.version import parse

        return parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> "BaseAdapter | None":  # type: ignore[override]
        return None


class CardwatchDbtTranslator(DagsterDbtTranslator):
    """dbt sources are the raw tables that ingest writes: key them as raw/<table>."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey(["raw", dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        parts = dbt_resource_props.get("fqn", [])
        return f"dbt_{parts[1]}" if len(parts) > 2 else "dbt"


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=CardwatchDbtTranslator(
        settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)
    ),
)
def cardwatch_dbt(
    context: dg.AssetExecutionContext, dbt: CardwatchDbtCliResource, cardwatch: CardwatchResource
):
    """Rebuild every model and run every data test (a full rebuild, unpartitioned: the warehouse is local)."""
    paths = cardwatch.paths()
    with warehouse_lock(paths.home, wait_seconds=600):
        threading.Thread(target=_load_model_stack, name="load-model-stack", daemon=True).start()
        threads = dbt_threads(paths.warehouse)
        invocation = dbt.cli(
            [*DBT_PIPELINE_BUILD, "--threads", str(threads)],
            context=context,
            target_path=paths.home / "dbt" / "target",
        )
        yield from invocation.stream()
