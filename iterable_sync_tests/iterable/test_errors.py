"""Non-2xx responses become the right exception, carrying what the caller needs."""

from __future__ import annotations

import traceback
from collections.abc import Callable

import httpx
import pytest

from iterable_sync.iterable import (
    APIError,
    AuthError,
    BadJsonBodyError,
    BadRequestError,
    BatchTooLargeError,
    CallRecord,
    ConflictError,
    Event,
    FieldTypeError,
    FieldTypeMismatchError,
    IterableClient,
    IterableError,
    NotFoundError,
    RetryPolicy,
    TransportError,
    UnexpectedResponseError,
    UserUpdate,
)

from . import recorded
from .conftest import API_KEY, FakeIterable, reply

USER = UserUpdate(email="a@example.com", data_fields={"date_field": "0000-00-00 00:00:00"})


def test_401_raises_auth_error_and_is_not_retried(
    client: IterableClient, fake: FakeIterable, sleeps: list[float]
) -> None:
    fake.then(reply(401, recorded.BAD_API_KEY))

    with pytest.raises(AuthError) as caught:
        client.users.bulk_update([USER])

    assert (caught.value.status, caught.value.code) == (401, "BadApiKey")
    assert len(fake.requests) == 1 and sleeps == []


def test_http_status_wins_over_a_body_claiming_success(
    client: IterableClient, fake: FakeIterable
) -> None:
    fake.then(reply(401, recorded.BAD_KEY_CLAIMING_SUCCESS))

    with pytest.raises(AuthError, match="Invalid API key"):
        client.users.delete_by_user_id("u1")


def test_type_mismatch_is_parsed_into_field_errors(
    client: IterableClient, fake: FakeIterable
) -> None:
    fake.then(reply(400, recorded.FIELD_TYPES_MISMATCHED))

    with pytest.raises(FieldTypeMismatchError) as caught:
        client.users.bulk_update([USER])

    assert caught.value.validation_errors == {
        "date_field": FieldTypeError(
            field="date_field",
            incoming_types=("string", "keyword"),
            expected_type="date",
            category="user",
            offending_value=["2023-04-19 12:15:30", "0000-00-00 00:00:00"],
        )
    }
    assert caught.value.validation_errors["date_field"].offending_values[-1] == (
        "0000-00-00 00:00:00"
    )
    assert isinstance(caught.value, BadRequestError)


def test_type_mismatch_keys_with_an_index_prefix_name_the_bare_field(
    client: IterableClient, fake: FakeIterable
) -> None:
    body = {
        "msg": "Project 3549: ...",
        "code": "RequestFieldsTypesMismatched",
        "params": {
            "validationErrors": {
                "my_project_etl:::soc_signup_at": {
                    "incomingTypes": ["string", "keyword"],
                    "expectedType": "date",
                    "category": "user",
                    "offendingValue": "2020-04-13 14:04:09.000",
                    "_type": "UnexpectedType",
                }
            }
        },
    }
    fake.then(reply(400, body))

    with pytest.raises(FieldTypeMismatchError) as caught:
        client.users.update(USER)

    error = caught.value.validation_errors["soc_signup_at"]
    assert error.offending_values == ["2020-04-13 14:04:09.000"]


def test_bad_json_body_names_the_offending_path(client: IterableClient, fake: FakeIterable) -> None:
    fake.then(reply(400, recorded.BAD_JSON_BODY))

    with pytest.raises(BadJsonBodyError) as caught:
        client.events.track_bulk([Event(email="a@x.io", event_name="e")])

    assert caught.value.problems == {"obj.events[1].createdAt": "Number value expected"}


def test_bad_json_body_in_the_older_list_shape_is_read_too(
    client: IterableClient, fake: FakeIterable
) -> None:
    body = {
        "msg": "[/api/lists] Invalid JSON body",
        "code": "BadJsonBody",
        "params": {"obj.name": [{"msg": "error.path.missing", "args": []}]},
    }
    fake.then(reply(400, body))

    with pytest.raises(BadJsonBodyError) as caught:
        client.lists.create("x")

    assert caught.value.problems == {"obj.name": "error.path.missing"}


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (400, {"msg": "too many", "code": "BatchTooLarge", "params": None}, BatchTooLargeError),
        (413, "Request Entity Too Large", BatchTooLargeError),
        (404, recorded.CATALOG_NOT_FOUND, NotFoundError),
        (409, {"msg": "forgotten", "code": "ForgottenUserError", "params": None}, ConflictError),
        (400, {"msg": "dup", "code": "BadParams", "params": None}, BadRequestError),
        (403, {"msg": "no", "code": "Forbidden", "params": None}, APIError),
    ],
    ids=["BatchTooLarge", "413", "404", "409", "BadParams", "403"],
)
def test_status_and_code_choose_the_exception(
    client: IterableClient, fake: FakeIterable, status: int, body: object, expected: type
) -> None:
    fake.then(reply(status, body))

    with pytest.raises(expected) as caught:
        client.catalogs.bulk_upsert_items("c", {"1": {"a": 1}}, replace_uploaded_fields_only=True)

    assert type(caught.value) is expected
    assert caught.value.status == status


def test_a_non_json_error_body_is_quoted_as_the_message(
    client: IterableClient, fake: FakeIterable
) -> None:
    text = 'Json error: {"obj.mappingsUpdates[0].fieldName":[{"msg":["error.path.missing"]}]}'
    fake.then(reply(400, text))

    with pytest.raises(BadRequestError) as caught:
        client.users.get_fields()

    assert caught.value.code is None
    assert caught.value.msg == text


def test_catalog_service_envelope_is_read(client: IterableClient, fake: FakeIterable) -> None:
    body = {
        "error": "NotFound",
        "message": "Catalog not found: rudder-test",
        "code": "error.catalogs.notFound",
        "data": {"args": ["rudder-test"]},
    }
    fake.then(reply(404, body))

    with pytest.raises(NotFoundError) as caught:
        client.catalogs.get_item("rudder-test", "1")

    assert (caught.value.code, caught.value.msg) == (
        "error.catalogs.notFound",
        "Catalog not found: rudder-test",
    )


def test_a_success_status_with_an_unreadable_body_is_an_unexpected_response(
    client: IterableClient, fake: FakeIterable
) -> None:
    fake.then(reply(200, "<html>maintenance</html>"))

    with pytest.raises(UnexpectedResponseError):
        client.users.bulk_update([USER])


def test_a_bulk_response_missing_its_counts_is_an_unexpected_response(
    client: IterableClient, fake: FakeIterable
) -> None:
    fake.then(reply(200, {"msg": "", "code": "Success"}))

    with pytest.raises(UnexpectedResponseError, match="BulkUpdateResult"):
        client.users.bulk_update([USER])


def test_the_key_appears_in_no_exception_text_repr_or_traceback(
    client: IterableClient, fake: FakeIterable
) -> None:
    # A misbehaving proxy echoing the key back must not leak it either.
    fake.then(
        reply(401, {"msg": f"bad key {API_KEY}", "code": "BadApiKey", "params": {"k": API_KEY}})
    )

    with pytest.raises(AuthError) as caught:
        client.users.get_fields()

    error = caught.value
    rendered = [str(error), repr(error), error.msg, repr(error.params)]
    rendered += traceback.format_exception(error)
    assert all(API_KEY not in text for text in rendered)


def test_the_key_is_absent_from_transport_errors(
    make_client: Callable[..., IterableClient], fake: FakeIterable, records: list[CallRecord]
) -> None:
    client = make_client(retry=RetryPolicy.never())
    fake.then(httpx.ConnectError("connection refused"))

    with pytest.raises(TransportError) as caught:
        client.users.get_fields()

    assert API_KEY not in "".join(traceback.format_exception(caught.value))
    assert all(API_KEY not in repr(r) for r in records)


def test_every_error_is_an_iterable_error(client: IterableClient, fake: FakeIterable) -> None:
    fake.then(reply(400, recorded.FIELD_TYPES_MISMATCHED))

    with pytest.raises(IterableError):
        client.users.update(USER)
