"""The identity check: counts the rows the planner held back for an identity collision
(``sync/plan/collisions.py`` finds them, ``sync/plan/quarantine.py`` holds them back) and blocks the
send past the sync's tolerance."""

import dagster as dg

from iterable_sync.metadata import markdown_table
from iterable_sync.sync.config import SyncConfig
from iterable_sync.sync.plan import verdicts
from iterable_sync.sync.plan.collisions import (
    CHANGED_EMAIL,
    IDENTITIES_UNAMBIGUOUS,
    KINDS,
    SHARED_EMAIL,
    SHARED_USER_ID,
    TWO_USERS,
    collisions_by_kind,
    collisions_found,
    collisions_sample,
)
from iterable_sync.warehouse import WarehouseSession

SAMPLE_ROWS = 20
#: Each kind's row count in the check's metadata (plotted by Dagster over runs).
METADATA_KEYS = {
    SHARED_EMAIL: "shared_email_rows",
    SHARED_USER_ID: "shared_user_id_rows",
    CHANGED_EMAIL: "changed_email_rows",
    TWO_USERS: "two_users_rows",
}


def check_spec(sync: SyncConfig, asset_key: dg.AssetKey) -> dg.AssetCheckSpec:
    tolerance = sync.tolerances.identity_collisions
    return dg.AssetCheckSpec(
        IDENTITIES_UNAMBIGUOUS,
        asset=asset_key,
        blocking=True,
        description=(
            "No two keys share one email or userId, no userId changes email (a split "
            "profile, matched by email) and no row's email and userId name two known "
            "Iterable users; colliding rows are held back. "
            f"Blocks above {tolerance:.0%}."
        ),
    )


def check_result(session: WarehouseSession, sync: SyncConfig) -> dg.AssetCheckResult:
    """Rows held back for a collision, by kind, with the colliding rows side by side."""
    total = verdicts.records(session, sync)
    by_kind = {kind: 0 for kind in KINDS}
    sample: list[dict[str, object]] = []
    failing = 0
    if collisions_found(session, sync):
        by_kind.update(collisions_by_kind(session, sync))
        failing = verdicts.held_back(session, sync, IDENTITIES_UNAMBIGUOUS)
        sample = collisions_sample(session, sync, SAMPLE_ROWS)
    tolerance = sync.tolerances.identity_collisions
    share = failing / total if total else 0.0
    blocked = share > tolerance
    if failing == 0:
        passed, severity = True, dg.AssetCheckSeverity.WARN
    else:
        passed = False
        severity = dg.AssetCheckSeverity.ERROR if blocked else dg.AssetCheckSeverity.WARN
    outcome = "" if failing == 0 else " — BLOCKED" if blocked else " — held back"
    return dg.AssetCheckResult(
        check_name=IDENTITIES_UNAMBIGUOUS,
        passed=passed,
        severity=severity,
        description=f"{failing} of {total} rows ({share:.2%}) collide; "
        f"tolerance {tolerance:.0%}{outcome}",
        metadata={
            "failing_rows": failing,
            "failing_share": round(share, 6),
            "tolerance": tolerance,
            **{METADATA_KEYS[kind]: n for kind, n in by_kind.items()},
            "rule": "one key per email and per userId; no userId changing email; "
            "email and userId of one known user",
            "sample": dg.MetadataValue.md(markdown_table(sample)),
        },
    )
