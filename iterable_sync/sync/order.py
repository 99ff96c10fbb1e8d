"""Which sends run before which within one run: syncs that create users go first.

A sync that only acts on users Iterable already has (users in update mode, events, email
changes, deletions) answers "not found" for a user that a creating sync of the same tick
would have made, had it run first. So every such sync runs after every sync that creates
users, and a sync may name more (``after: [new_signups]``). The order becomes asset deps
between the send assets: the lineage shows it and every job that selects both sends keeps
it (Dagster runs a step after the steps it depends on).

Which endpoints create a missing user, per Iterable's "Identifying users" article (quoted
in ../shared/iterable-api-research.md): in email-based projects "If email passed and no
such user → user CREATED by: ... /api/users/bulkUpdate, ... /api/lists/subscribe,
/api/commerce/trackPurchase, /api/commerce/updateCart"; the same list names
/api/users/updateSubscriptions, /api/users/bulkUpdateSubscriptions and the "subscriptions
PATCH/DELETE/PUT endpoints" (research §14), so a subscriptions sync creates users. The
spec says the same of the two commerce calls ("User profile is also updated if it already
exists (created otherwise)").
``events/trackBulk`` is not on that list, so events are taken to need an existing user and
run after the creators. Users in update mode never create (``preferUserId`` / lookups).
"""

from collections.abc import Sequence

from iterable_sync.sync.config_base import Mode, SyncConfig, SyncType

#: Types whose calls create a user Iterable does not have yet (users: upsert mode only).
CREATING_TYPES = frozenset(
    {SyncType.LIST, SyncType.PURCHASES, SyncType.CARTS, SyncType.SUBSCRIPTIONS}
)
#: Types whose calls need the user to exist already (users: update mode).
EXISTING_ONLY_TYPES = frozenset({SyncType.EVENTS, SyncType.EMAIL_UPDATES, SyncType.DELETIONS})


def creates_users(sync: SyncConfig) -> bool:
    if sync.type is SyncType.USERS:
        return getattr(sync, "mode", None) is Mode.UPSERT
    if getattr(sync, "update_existing_users_only", False):
        return False  # a list sync that skips unknown users (SubscribeRequest)
    return sync.type in CREATING_TYPES


def needs_existing_users(sync: SyncConfig) -> bool:
    if sync.type is SyncType.USERS:
        return getattr(sync, "mode", None) is Mode.UPDATE
    if getattr(sync, "update_existing_users_only", False):
        return True
    return sync.type in EXISTING_ONLY_TYPES


def runs_after(syncs: Sequence[SyncConfig]) -> dict[str, list[str]]:
    """Sync name → the syncs whose sends run before its own: its ``after`` and, when it
    needs existing users, every sync that creates users (sorted, no repeats)."""
    creators = [s.name for s in syncs if creates_users(s)]
    order: dict[str, list[str]] = {}
    for sync in syncs:
        before = set(sync.after)
        if needs_existing_users(sync):
            before.update(creators)
        before.discard(sync.name)
        order[sync.name] = sorted(before)
    return order


def order_errors(syncs: Sequence[SyncConfig]) -> list[str]:
    """``after`` entries that name no sync, and cycles, each naming the sync and the key."""
    names = {s.name for s in syncs}
    errors = [
        f"sync {s.name!r}: after: names no sync in syncs.yaml: {unknown}"
        for s in syncs
        if (unknown := sorted(set(s.after) - names))
    ]
    errors += [f"sync {s.name!r}: after: names the sync itself" for s in syncs if s.name in s.after]
    if errors:
        return errors
    cycle = _find_cycle(runs_after(syncs))
    if cycle:
        path = " → ".join([*cycle, cycle[0]])
        errors.append(
            f"sync {cycle[0]!r}: after: makes a cycle ({path}; a sync that needs existing "
            "users runs after every sync that creates users)"
        )
    return errors


def _find_cycle(order: dict[str, list[str]]) -> list[str]:
    """One cycle of the graph "runs after", as the names along it, or []."""
    done: set[str] = set()
    for start in sorted(order):
        path: list[str] = []
        on_path: set[str] = set()
        stack: list[tuple[str, int]] = [(start, 0)]
        while stack:
            node, index = stack.pop()
            if index == 0:
                if node in on_path:
                    return path[path.index(node) :]
                if node in done:
                    continue
                path.append(node)
                on_path.add(node)
            befores = order.get(node, [])
            if index < len(befores):
                stack.append((node, index + 1))
                stack.append((befores[index], 0))
            else:
                done.add(node)
                on_path.discard(path.pop())
    return []
