"""Describe the asset graph as plain data, for the lineage snapshot test."""

from typing import Any

import dagster as dg


def _fail_window(policy: dg.FreshnessPolicy | None) -> str | None:
    if policy is None:
        return None
    window = getattr(policy, "fail_window", None)
    return str(window.to_timedelta()) if window is not None else repr(policy)


def describe(defs: dg.Definitions) -> dict[str, Any]:
    graph = defs.resolve_asset_graph()
    assets: dict[str, Any] = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "deps": sorted(p.to_user_string() for p in node.parent_keys),
            "group": node.group_name,
            "kinds": sorted(node.kinds),
            "materializable": node.is_materializable,
            # Concurrency pools: sends to one Iterable endpoint take turns (sync/pools.py).
            "pools": sorted(node.pools or ()),
            "owners": list(node.owners),
            # A send is late past its schedule's longest gap + 2 h (sync_assets.py).
            "freshness_fail_window": _fail_window(node.freshness_policy),
            "checks": sorted(
                f"{c.name}{' (blocking)' if graph.get_check_spec(c).blocking else ''}"
                for c in node.check_keys
            ),
        }
    jobs = sorted(job.name for job in defs.jobs or [])
    schedules = sorted(
        f"{s.name}: {s.cron_schedule}"
        for s in defs.schedules or []  # type: ignore[union-attr]
    )
    sensors = sorted(s.name for s in defs.sensors or [])  # type: ignore[union-attr]
    return {"assets": assets, "jobs": jobs, "schedules": schedules, "sensors": sensors}
