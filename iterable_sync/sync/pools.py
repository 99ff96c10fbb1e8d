"""One pace per Iterable project: each send asset belongs to the Dagster concurrency pool of
the endpoint family it writes to.

Iterable's rate limits are per project, e.g. ``users/bulkUpdate``: "Rate limit: 5
requests/second, per project" (official spec, its description), while the client paces each
sync on its own at that full limit (``iterable/_limits.py``). Two syncs writing to the same
endpoint at once would together send twice the limit. With every pool limited to one slot
(``concurrency: pools: default_limit: 1`` in dagster.yaml), two sends of one family never
run at once — in one run under the multiprocess executor, or across runs — and each keeps
the whole limit while it runs. Sends of different families still run side by side.

Why a pool rather than a pace shared through the warehouse or a file: Dagster enforces pools
in every executor it ships (in-process, multiprocess, step-delegating claim slots through
the instance's storage) and shows waiting steps in the UI; a shared pace would need a
cross-process token bucket in SQL with clock skew and crashed holders to handle. Pools are
per Dagster instance: one instance serving two Iterable projects would serialise their
sends needlessly, never overrun either.
"""

from iterable_sync.sync.config_base import SyncConfig, SyncType

POOL_PREFIX = "iterable_"

#: Pool per sync type, named after the endpoint (family) its sends call.
_POOLS: dict[SyncType, str] = {
    SyncType.USERS: "users_bulk_update",  # POST /api/users/bulkUpdate (+ lookups)
    SyncType.EVENTS: "events_track_bulk",  # POST /api/events/trackBulk
    SyncType.PURCHASES: "commerce",  # POST /api/commerce/trackPurchase
    SyncType.CARTS: "commerce",  # POST /api/commerce/updateCart
    SyncType.CATALOG: "catalog_items",  # POST/DELETE /api/catalogs/{name}/items
    SyncType.LIST: "lists",  # POST /api/lists/subscribe, unsubscribe
    SyncType.EMAIL_UPDATES: "users_update_email",  # POST /api/users/updateEmail
    SyncType.SUBSCRIPTIONS: "subscriptions",  # PUT /api/subscriptions/{group}/{id}
}


def send_pool(sync: SyncConfig) -> str:
    """The concurrency pool of the sync's send, e.g. ``iterable_users_bulk_update``."""
    if sync.type is SyncType.DELETIONS:
        # users/delete, users/forget, users/unforget: each its own limit (and daily cap).
        return f"{POOL_PREFIX}users_{sync.operation.split('/')[-1]}"
    return POOL_PREFIX + _POOLS[sync.type]
