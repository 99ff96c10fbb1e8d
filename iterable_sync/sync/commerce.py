"""Purchases (`commerce/trackPurchase`) and carts (`commerce/updateCart`): one call per
row, several in flight (the client paces the endpoint).

Items are checked per row before sending — each must be an object with an id, a name, a
price and a quantity; keys Iterable does not define for an item travel in its dataFields —
so one malformed cart line quarantines its row, never the batch.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from iterable_sync.iterable import (
    CartUpdate,
    IterableClient,
    Purchase,
    PurchaseItem,
    UserUpdate,
)
from iterable_sync.sync import delivery
from iterable_sync.sync.config import SyncConfig
from iterable_sync.sync.outcomes import BatchOutcome, DiffRow

T = TypeVar("T")

_ITEM_KEYS = {
    "id": "id",
    "name": "name",
    "price": "price",
    "quantity": "quantity",
    "sku": "sku",
    "description": "description",
    "categories": "categories",
    "imageUrl": "image_url",
    "url": "url",
}


def purchase_items(raw: Any) -> list[PurchaseItem]:
    """The items column's JSON as Iterable's CommerceItem list (raises if malformed)."""
    if not isinstance(raw, list) or not raw:
        raise ValueError("items must be a non-empty JSON array")
    items = []
    for position, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise ValueError(f"item {position} is not an object")
        known = {_ITEM_KEYS[k]: v for k, v in entry.items() if k in _ITEM_KEYS}
        extra = {k: v for k, v in entry.items() if k not in _ITEM_KEYS and k != "dataFields"}
        extra.update(entry.get("dataFields") or {})
        for key in ("id", "sku"):  # ids are often numbers in a warehouse
            if isinstance(known.get(key), int | float) and not isinstance(known[key], bool):
                known[key] = str(known[key])
        missing = [k for k in ("id", "name", "price", "quantity") if known.get(k) is None]
        if missing:
            raise ValueError(f"item {position} has no {', '.join(missing)}")
        items.append(PurchaseItem(**known, data_fields=extra or None))
    return items


@dataclass
class _Commerce:
    client: IterableClient
    sync: SyncConfig
    project_type: str
    batch_size: int = 100
    identity: delivery.Identity = field(init=False)

    def __post_init__(self) -> None:
        self.identity = delivery.Identity(self.sync, self.project_type)

    def user(self, row: DiffRow, fields: dict[str, Any] | None = None) -> UserUpdate:
        """The purchase's or cart's user. Both endpoints update the profile "if it already
        exists (created otherwise)" (spec, commerce/trackPurchase and updateCart); no
        preferUserId, so a userId unknown to an email-based project is an error (the row is
        not found), never a placeholder user (see ``delivery.Identity``)."""
        return UserUpdate(
            **self.identity.of(row),
            data_fields=fields or {},
        )

    operation: str = field(init=False, default="")

    def send_each(
        self, rows: list[DiffRow], build: Callable[[DiffRow], T], call: Callable[[T], object]
    ) -> BatchOutcome:
        """Build each row's payload (a row that cannot be built is quarantined), then make
        one call per row."""
        ok, payloads, outcome = delivery.build_each(rows, build)
        by_pk = dict(zip((row.pk for row in ok), payloads, strict=True))
        outcome.extend(
            delivery.each_row(
                ok, lambda row: delivery.one_row(row, lambda r: call(by_pk[r.pk]), self.operation)
            )
        )
        return outcome

    def remove(self, rows: list[DiffRow]) -> BatchOutcome:
        # Purchases happened and carts were seen: a row leaving the model undoes neither.
        return BatchOutcome(released=list(rows))


@dataclass
class PurchasesDestination(_Commerce):
    operation: str = "commerce/trackPurchase"

    def purchase(self, row: DiffRow) -> Purchase:
        payload = row.payload
        return Purchase(
            user=self.user(row),
            items=purchase_items(payload.get("items")),
            total=payload["total"],
            id=payload["id"],
            created_at=payload.get("createdAt"),
            data_fields=delivery.data_fields(row) or None,
        )

    def send(self, rows: list[DiffRow]) -> BatchOutcome:
        return self.send_each(rows, self.purchase, self.client.commerce.track_purchase)


@dataclass
class CartsDestination(_Commerce):
    operation: str = "commerce/updateCart"

    def cart(self, row: DiffRow) -> CartUpdate:
        return CartUpdate(
            user=self.user(row, delivery.data_fields(row)),
            items=purchase_items(row.payload.get("items")),
        )

    def send(self, rows: list[DiffRow]) -> BatchOutcome:
        return self.send_each(rows, self.cart, self.client.commerce.update_cart)
