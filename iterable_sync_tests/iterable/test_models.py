"""Payload serialisation and response parsing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from iterable_sync.iterable import (
    BulkTrackResult,
    BulkUpdateResult,
    CartUpdate,
    Event,
    IterableClient,
    IterableEnvelope,
    ListSubscriber,
    Purchase,
    PurchaseItem,
    SubscribeResult,
    UserUpdate,
)

from . import recorded
from .conftest import FakeIterable, reply


def test_none_inside_data_fields_is_kept_while_unset_top_level_fields_are_omitted() -> None:
    user = UserUpdate(email="a@example.com", data_fields={"phone": None, "plan": "pro"})

    assert user.model_dump(exclude_none=True, by_alias=True) == {
        "email": "a@example.com",
        "dataFields": {"phone": None, "plan": "pro"},
    }


def test_none_nested_inside_a_data_field_object_is_kept() -> None:
    user = UserUpdate(user_id="u1", data_fields={"address": {"street": None, "city": "Oslo"}})

    assert user.to_body()["dataFields"] == {"address": {"street": None, "city": "Oslo"}}


def test_user_update_body_is_what_model_dump_gives() -> None:
    user = UserUpdate(
        email="a@example.com",
        user_id="u1",
        data_fields={"plan": None, "seen": datetime(2026, 3, 1, 12, 0), "tags": ["a"]},
        prefer_user_id=True,
    )

    body = user.to_body()

    assert body == user.model_dump(exclude_none=True, by_alias=True)
    assert list(body) == ["email", "userId", "dataFields", "preferUserId"]


def test_null_in_data_fields_goes_on_the_wire_as_json_null(
    client: IterableClient, fake: FakeIterable
) -> None:
    fake.then(reply(200, recorded.BULK_UPDATE_OK))

    client.users.bulk_update([UserUpdate(email="a@example.com", data_fields={"phone": None})])

    assert fake.last.content == b'{"users":[{"email":"a@example.com","dataFields":{"phone":null}}]}'


def test_none_survives_in_nested_payloads_of_purchases() -> None:
    purchase = Purchase(
        user=UserUpdate(email="a@example.com", data_fields={"coupon": None}),
        items=[PurchaseItem(id="1", name="Mug", price=1.0, quantity=1, data_fields={"x": None})],
        total=1.0,
    )

    body = purchase.to_body()

    assert body["user"] == {"email": "a@example.com", "dataFields": {"coupon": None}}
    assert body["items"][0]["dataFields"] == {"x": None}
    assert "id" not in body and "createdAt" not in body


def test_payloads_accept_api_spelling_and_snake_case_alike() -> None:
    assert UserUpdate(userId="u1", preferUserId=True) == UserUpdate(
        user_id="u1", prefer_user_id=True
    )


def test_a_misspelt_payload_field_is_refused_rather_than_dropped() -> None:
    with pytest.raises(ValidationError, match="dataField"):
        UserUpdate(email="a@example.com", dataField={"x": 1})


@pytest.mark.parametrize(
    "build",
    [
        lambda: UserUpdate(data_fields={"x": 1}),
        lambda: Event(event_name="signup"),
        lambda: ListSubscriber(),
        lambda: CartUpdate(user={"dataFields": {}}, items=[]),
    ],
    ids=["user", "event", "subscriber", "cart user"],
)
def test_a_payload_without_email_or_user_id_is_refused(build: object) -> None:
    with pytest.raises(ValidationError, match="email or userId"):
        build()  # type: ignore[operator]


def test_event_created_at_accepts_an_aware_datetime_as_unix_seconds() -> None:
    when = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)

    assert Event(email="a@x.io", event_name="e", created_at=when).created_at == 1_700_000_000


def test_event_created_at_in_milliseconds_is_refused() -> None:
    with pytest.raises(ValidationError, match="milliseconds"):
        Event(email="a@x.io", event_name="e", created_at=1_700_000_000_000)


def test_event_created_at_naive_datetime_is_refused() -> None:
    with pytest.raises(ValidationError, match="timezone-aware"):
        Event(email="a@x.io", event_name="e", created_at=datetime(2023, 1, 1))


def test_event_id_longer_than_512_bytes_is_refused() -> None:
    with pytest.raises(ValidationError, match="512 bytes"):
        Event(email="a@x.io", event_name="e", id="é" * 257)


def _purchase(**fields: object) -> Purchase:
    item = PurchaseItem(id="1", name="Mug", price=1.0, quantity=1)
    return Purchase(user=UserUpdate(email="a@x.io"), items=[item], total=1.0, **fields)


def test_purchase_id_longer_than_512_bytes_is_refused() -> None:
    """TrackPurchaseRequest.id: "Note that this ID cannot be longer than 512 bytes." """
    assert _purchase(id="x" * 512).id == "x" * 512
    with pytest.raises(ValidationError, match="512 bytes"):
        _purchase(id="é" * 257)


def test_purchase_campaign_and_template_ids_are_int32() -> None:
    """TrackPurchaseRequest.campaignId and templateId: "format": "int32"."""
    assert _purchase(campaign_id=2**31 - 1).campaign_id == 2**31 - 1
    with pytest.raises(ValidationError, match=r"campaign_id|campaignId"):
        _purchase(campaign_id=2**31)
    with pytest.raises(ValidationError, match=r"template_id|templateId"):
        _purchase(template_id=-(2**31) - 1)


def test_bulk_update_result_reads_per_record_failures_from_a_real_response() -> None:
    result = BulkUpdateResult.model_validate(recorded.BULK_UPDATE_PARTIAL)

    assert (result.success_count, result.fail_count) == (1, 1)
    assert result.failed_updates.invalid_emails == ["shrouti"]
    assert result.failed_emails == {"shrouti"}
    assert result.failed_user_ids == set()


def test_old_bulk_shape_without_failed_updates_still_reports_failures() -> None:
    result = SubscribeResult.model_validate(recorded.SUBSCRIBE_INVALID)

    assert result.failed_updates.invalid_emails == []
    assert result.failed_emails == {"user@"}


def test_failures_from_every_reason_are_collected() -> None:
    body = {
        "successCount": 0,
        "failCount": 4,
        "failedUpdates": {
            "conflictEmails": ["c@x.io"],
            "forgottenUserIds": ["f1"],
            "invalidDataEmails": ["d@x.io"],
            "notFoundUserIds": ["n1"],
        },
    }

    result = BulkUpdateResult.model_validate(body)

    assert result.failed_emails == {"c@x.io", "d@x.io"}
    assert result.failed_user_ids == {"f1", "n1"}


def test_responses_ignore_fields_iterable_adds_later() -> None:
    body = {**recorded.BULK_UPDATE_OK, "brandNewCounter": 7}

    assert BulkUpdateResult.model_validate(body).success_count == 2
    assert IterableEnvelope.model_validate({"msg": "", "code": "Success", "extra": 1}).code == (
        "Success"
    )


def test_an_unknown_user_reads_as_none(client: IterableClient, fake: FakeIterable) -> None:
    fake.then(reply(200, {}))

    assert client.users.get_by_email("nobody@example.com") is None


def test_what_iterable_ignored_is_read_from_bulk_answers() -> None:
    # BulkTrackResponse and UserBulkUpdateListResponse in Iterable's spec.
    tracked = BulkTrackResult.model_validate(
        {
            **recorded.TRACK_BULK_PARTIAL,
            "disallowedEventNames": ["blocked"],
            "filteredOutFields": ["novel"],
            "createdFields": ["fresh"],
        }
    )
    updated = BulkUpdateResult.model_validate(
        {**recorded.BULK_UPDATE_OK, "filteredOutFields": ["doc.b"], "createdFields": ["seats"]}
    )

    assert tracked.disallowed_event_names == ["blocked"]
    assert (tracked.filtered_out_fields, tracked.created_fields) == (["novel"], ["fresh"])
    assert (updated.filtered_out_fields, updated.created_fields) == (["doc.b"], ["seats"])
