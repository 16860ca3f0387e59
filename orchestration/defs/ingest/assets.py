"""Landing files into raw tables: one asset per landing source, checks from the reconciliation."""

import dagster as dg

from orchestration.config import pipeline_config
from orchestration.contract import load_contract
from orchestration.defs.resources import CardwatchResource
from orchestration.ingest.load import ingest
from orchestration.locking import warehouse_lock

SOURCES = list(load_contract())
BOOKKEEPING = {
    "_load_log": "One row per landing file load: status, rows read, accepted, quarantined, set aside.",
    "_quarantine": "Every row not accepted, with file, line, raw row and reason.",
    "_sources": "Which landing sources are present (rules needing an absent source are inactive).",
}


def raw_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", source])


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            raw_key(name),
            group_name="ingest",
            description=source.description,
            skippable=True,
            kinds={"duckdb"},
        )
        for name, source in load_contract().items()
    ]
    + [
        dg.AssetSpec(raw_key(name), group_name="ingest", description=text, skippable=True, kinds={"duckdb"})
        for name, text in BOOKKEEPING.items()
    ],
    check_specs=[
        dg.AssetCheckSpec(
            "reconciles", asset=raw_key(name), description="rows read = accepted + quarantined + set aside"
        )
        for name in SOURCES
    ]
    + [
        dg.AssetCheckSpec(
            "expectations_pass_mostly",
            asset=raw_key(name),
            description="Great Expectations suite: the share of quarantined rows stays under the configured maximum",
        )
        for name in SOURCES
    ],
    can_subset=True,
)
def landing_sources(context: dg.AssetExecutionContext, cardwatch: CardwatchResource):
    """Validate and load new landing files (already-loaded files are skipped by content hash)."""
    paths = cardwatch.paths()
    max_share = pipeline_config()["ingest"]["max_quarantine_share"]
    with warehouse_lock(paths.home, wait_seconds=600):
        report = ingest(paths.landing, paths.warehouse, progress=context.log.debug)
    for name in BOOKKEEPING:
        if raw_key(name) in context.selected_asset_keys:
            yield dg.MaterializeResult(asset_key=raw_key(name), metadata={"files_seen": len(report.files)})
    for name in SOURCES:
        key = raw_key(name)
        if key not in context.selected_asset_keys:
            continue
        files = [f for f in report.files if f.source == name]
        read = sum(f.rows_read for f in files)
        quarantined = sum(f.rows_quarantined for f in files)
        rejected = [f.message for f in files if f.status == "rejected"]
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={
                "files_seen": len(files),
                "files_loaded": sum(f.status == "loaded" for f in files),
                "rows_read": read,
                "rows_accepted": sum(f.rows_accepted for f in files),
                "rows_quarantined": quarantined,
                "rows_set_aside": sum(f.rows_set_aside for f in files),
                "rejected_files": "\n".join(rejected) or "none",
                "source_present": bool(files) or name not in report.missing_sources,
            },
        )
        yield dg.AssetCheckResult(
            asset_key=key,
            check_name="reconciles",
            passed=all(f.reconciles for f in files) and not rejected,
            metadata={"rejected_files": len(rejected)},
        )
        share = quarantined / read if read else 0.0
        yield dg.AssetCheckResult(
            asset_key=key,
            check_name="expectations_pass_mostly",
            passed=share <= max_share,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"quarantined_share": share, "max_share": max_share},
        )
