"""Values plain JSON lacks are sent the way Iterable's type inference expects."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from iterable_sync.iterable import IterableClient, PayloadError, RawJSON, UserUpdate
from iterable_sync.iterable._encoding import dumps

from . import recorded
from .conftest import FakeIterable, reply


def _sent(value: object) -> object:
    return json.loads(dumps({"v": value}))["v"]


def test_aware_datetime_becomes_iterables_own_utc_date_format() -> None:
    oslo = timezone(timedelta(hours=2))

    assert _sent(datetime(2023, 4, 19, 14, 15, 30, tzinfo=oslo)) == "2023-04-19 12:15:30 +00:00"


def test_naive_datetime_becomes_a_date_string_iterable_reads_as_a_date() -> None:
    assert _sent(datetime(2023, 4, 19, 12, 15, 30)) == "2023-04-19 12:15:30"


def test_date_becomes_yyyy_mm_dd() -> None:
    assert _sent(date(2023, 4, 19)) == "2023-04-19"


def test_decimal_becomes_a_json_number_not_a_string() -> None:
    assert _sent(Decimal("12.50")) == 12.5
    assert _sent(Decimal("3")) == 3
    assert isinstance(_sent(Decimal("3")), int)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), Decimal("NaN")])
def test_non_finite_numbers_are_refused_before_sending(value: object) -> None:
    with pytest.raises(PayloadError):
        dumps({"v": value})


def test_an_object_json_cannot_carry_is_refused_with_its_type() -> None:
    with pytest.raises(PayloadError, match="object"):
        dumps({"v": object()})


def test_a_refused_value_sends_nothing(client: IterableClient, fake: FakeIterable) -> None:
    with pytest.raises(PayloadError):
        client.users.update(UserUpdate(email="a@example.com", data_fields={"score": float("nan")}))

    assert fake.requests == []


def test_bodies_are_compact_utf8() -> None:
    assert dumps({"name": "Zoë", "when": datetime(2024, 1, 1, tzinfo=UTC)}) == (
        '{"name":"Zoë","when":"2024-01-01 00:00:00 +00:00"}'.encode()
    )


# --------------------------------------------------------------------------- JSON text as is


def test_raw_json_is_spliced_in_not_quoted() -> None:
    body = dumps({"users": [{"email": "a@example.com", "dataFields": RawJSON('{"n": 1}')}]})

    assert json.loads(body) == {"users": [{"email": "a@example.com", "dataFields": {"n": 1}}]}


def test_a_plain_string_is_never_taken_for_json() -> None:
    assert _sent('{"n": 1}') == '{"n": 1}'


@pytest.mark.parametrize("text", ['{"n": NaN}', '{"n": Infinity}', '{"n": [1, -Infinity]}'])
def test_raw_json_holding_a_non_finite_number_is_refused(text: str) -> None:
    with pytest.raises(PayloadError, match="NaN or an infinity"):
        RawJSON(text)


def test_raw_json_mentioning_nan_in_a_string_is_accepted() -> None:
    text = '{"name": "NaN Infinity"}'

    assert json.loads(dumps({"v": RawJSON(text)})) == {"v": {"name": "NaN Infinity"}}


def test_an_encoded_user_is_the_json_of_the_same_user_model() -> None:
    fields = {"firstName": "Zoë", "score": 3, "tags": ["a", "b"]}
    encoded = UserUpdate.encode(json.dumps(fields), email="a@example.com", prefer_user_id=True)
    model = UserUpdate(email="a@example.com", data_fields=fields, prefer_user_id=True)

    assert json.loads(encoded) == json.loads(dumps(model.to_body()))


@pytest.mark.parametrize(
    "identifier", ['o\'brien"quote"@example.com', "zoë@exämple.com", "tab\tand\\slash", "\u2028"]
)
def test_an_encoded_users_identifiers_are_encoded_as_the_encoder_encodes_strings(
    identifier: str,
) -> None:
    encoded = UserUpdate.encode("{}", email=identifier, user_id=identifier)

    quoted = json.dumps(identifier, ensure_ascii=False)
    assert encoded == f'{{"dataFields":{{}},"email":{quoted},"userId":{quoted}}}'


def test_a_bulk_body_holds_its_encoded_users_texts_as_they_are() -> None:
    users = [UserUpdate.encode(f'{{"n": {i}}}', email=f"u{i}@example.com") for i in range(3)]

    assert dumps({"users": users}) == ('{"users":[' + ",".join(users) + "]}").encode()


def test_an_encoded_user_needs_an_identifier() -> None:
    with pytest.raises(ValueError, match="email or userId"):
        UserUpdate.encode("{}")


def test_encoded_and_model_users_share_one_bulk_request(
    client: IterableClient, fake: FakeIterable
) -> None:
    fake.then(reply(200, {**recorded.BULK_UPDATE_OK, "successCount": 2}))
    client.users.bulk_update(
        [
            UserUpdate.encode('{"plan": "free"}', user_id="u1"),
            UserUpdate(email="b@example.com", data_fields={"plan": "premium"}),
        ]
    )

    assert fake.body()["users"] == [
        {"userId": "u1", "dataFields": {"plan": "free"}},
        {"email": "b@example.com", "dataFields": {"plan": "premium"}},
    ]
