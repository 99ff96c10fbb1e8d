"""Jobs: what a run materializes."""

import dagster as dg

#: The whole daily flow: model snapshots, their checks, every sync's diff and send.
daily_sync_job = dg.define_asset_job(
    "daily_sync_job",
    selection=dg.AssetSelection.all(),
    description="Snapshot the models, check them, diff and send every sync to Iterable.",
)
