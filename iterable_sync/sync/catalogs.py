"""The catalog sync type: changed items upserted 1,000 a request; items that left the
model deleted when ``delete_removed``. The primary key is the item id."""

import contextlib
from dataclasses import dataclass

from iterable_sync.iterable import BadRequestError, IterableClient, NotFoundError, PayloadError
from iterable_sync.sync import delivery
from iterable_sync.sync.config import CatalogSync
from iterable_sync.sync.outcomes import BatchOutcome, DiffRow

BULK_LIMIT = 1_000
OPERATION = "catalogs/items"


@dataclass
class CatalogDestination:
    client: IterableClient
    sync: CatalogSync
    batch_size: int = BULK_LIMIT

    def send(self, rows: list[DiffRow]) -> BatchOutcome:
        documents = {row.pk: delivery.data_fields(row) for row in rows}
        try:
            # Iterable answers 202 and indexes later: there are no per-item failures.
            self.client.catalogs.bulk_upsert_items(
                self.sync.catalog,
                documents,
                replace_uploaded_fields_only=self.sync.merge_fields,
            )
        except (BadRequestError, PayloadError) as exc:
            # A refused item (a dotted field name, over 30 KB) is pinned down and set aside.
            return delivery.bisect(rows, exc, self.send, OPERATION)
        return BatchOutcome(accepted=list(rows))

    def remove(self, rows: list[DiffRow]) -> BatchOutcome:
        if not self.sync.delete_removed:
            return BatchOutcome(released=list(rows))
        # No catalog, no items: what a delete wanted.
        with contextlib.suppress(NotFoundError):
            self.client.catalogs.bulk_delete_items(self.sync.catalog, [row.pk for row in rows])
        return BatchOutcome(accepted=list(rows))
