"""Pick the destination of a sync's type, ready to send: its list or catalog exists (created
once, remembered in the warehouse) and a capped action knows what is left of its day."""

from iterable_sync.iterable import IterableClient
from iterable_sync.sync import catalog_fields, dynamic_lists, objects, subscriptions, user_actions
from iterable_sync.sync.catalogs import CatalogDestination
from iterable_sync.sync.commerce import CartsDestination, PurchasesDestination
from iterable_sync.sync.config import (
    CartsSync,
    CatalogSync,
    DeletionsSync,
    EmailUpdatesSync,
    EventsSync,
    ListSync,
    PurchasesSync,
    SubscriptionsSync,
    SyncConfig,
    UsersSync,
)
from iterable_sync.sync.engine import Destination
from iterable_sync.sync.events import EventsDestination
from iterable_sync.sync.lists import ListDestination
from iterable_sync.sync.users import UsersDestination
from iterable_sync.warehouse import WarehouseSession


def build_destination(
    client: IterableClient, sync: SyncConfig, project_type: str, session: WarehouseSession
) -> Destination:
    """The destination for ``sync``; may create its list or catalog (the first run only)."""
    if isinstance(sync, UsersSync):
        return UsersDestination(client=client, sync=sync, project_type=project_type)
    if isinstance(sync, EventsSync):
        return EventsDestination(client=client, sync=sync, project_type=project_type)
    if isinstance(sync, PurchasesSync):
        return PurchasesDestination(client=client, sync=sync, project_type=project_type)
    if isinstance(sync, CartsSync):
        return CartsDestination(client=client, sync=sync, project_type=project_type)
    if isinstance(sync, CatalogSync):
        objects.ensure_catalog(session, client, sync)
        # Before any item is uploaded: the first item must not fix the fields' types.
        catalog_fields.ensure_field_types(session, client, sync)
        return CatalogDestination(client=client, sync=sync)
    if isinstance(sync, ListSync) and sync.list_per_value_of:
        return dynamic_lists.build(session, client, sync, project_type)
    if isinstance(sync, ListSync):
        list_id = objects.ensure_list(session, client, sync)
        return ListDestination(client=client, sync=sync, project_type=project_type, list_id=list_id)
    if isinstance(sync, SubscriptionsSync):
        ids = subscriptions.resolve_ids(session, client, sync)
        return subscriptions.SubscriptionsDestination(
            client=client, sync=sync, project_type=project_type, ids=ids
        )
    if isinstance(sync, EmailUpdatesSync):
        return user_actions.EmailUpdatesDestination(
            client=client, sync=sync, project_type=project_type
        )
    if isinstance(sync, DeletionsSync):
        budget = None
        if sync.capped:
            used = user_actions.calls_in_last_day(
                session, "POST", f"/api/users/{sync.action.value}"
            )
            budget = user_actions.DailyBudget(sync.daily_limit - used)
        return user_actions.DeletionsDestination(
            client=client, sync=sync, project_type=project_type, budget=budget
        )
    raise ValueError(f"sync {sync.name!r}: no destination for type {sync.type.value!r}")
