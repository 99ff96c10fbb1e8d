"""`client.commerce`: purchases and shopping carts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._base import Area, coerce_all, envelope
from .models import CartUpdate, IterableEnvelope, Purchase

__all__ = ["CommerceAPI"]


class CommerceAPI(Area):
    """Commerce endpoints (`/api/commerce/...`); both create the user if missing."""

    def track_purchase(self, purchase: Purchase | Mapping[str, Any]) -> IterableEnvelope:
        """Record a purchase and empty the user's cart. `POST /api/commerce/trackPurchase`.
        A purchase sent again with the same `id` updates the first one."""
        (payload,) = coerce_all(Purchase, [purchase])
        reply = self._t.call(
            "POST",
            "/api/commerce/trackPurchase",
            body=payload.to_body(),
            batch_size=1,
        )
        return envelope(reply)

    def update_cart(self, cart: CartUpdate | Mapping[str, Any]) -> IterableEnvelope:
        """Replace the user's shoppingCartItems. `POST /api/commerce/updateCart`."""
        (payload,) = coerce_all(CartUpdate, [cart])
        reply = self._t.call(
            "POST", "/api/commerce/updateCart", body=payload.to_body(), batch_size=1
        )
        return envelope(reply)
