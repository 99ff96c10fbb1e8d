"""Iterable's own Swagger spec against the emulator, with schemathesis.

Generated requests (valid and invalid) for every implemented operation must never get a 5xx,
and where the spec defines a success schema the answer must conform. The spec lives in the
``shared/`` folder beside the repository (CI clones it there).

Not conformance-checked, on purpose: the catalog reads (``GET /api/catalogs``,
``.../items``, ``.../items/{itemId}``, ``.../fieldMappings``): the live API wraps them in the
``{msg, code, params}`` envelope with ``lastModified`` in epoch ms (recorded answers), while
the spec shows them bare with an ISO date.

One correction to the spec before use: ``IterableApiResponse.params`` is typed ``object``,
but the live API answers plain successes with ``"params": null`` (recorded), so it is made
nullable (Swagger 2.0's ``x-nullable``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SPEC = Path(__file__).parents[3] / "shared" / "iterable-openapi.json"
if not SPEC.exists():
    pytest.skip(f"Iterable's OpenAPI spec is not at {SPEC}", allow_module_level=True)

import schemathesis  # noqa: E402 - only once the spec is known to exist
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

from iterable_sync.emulator import EmulatorProcess  # noqa: E402

IMPLEMENTED = {
    ("POST", "/api/users/update"), ("POST", "/api/users/bulkUpdate"),
    ("POST", "/api/users/updateEmail"), ("POST", "/api/users/forget"),
    ("POST", "/api/users/unforget"), ("GET", "/api/users/getFields"),
    ("GET", "/api/users/getByEmail"), ("GET", "/api/users/byUserId"),
    ("GET", "/api/users/byUserId/{userId}"), ("DELETE", "/api/users/byUserId/{userId}"),
    ("GET", "/api/users/{email}"), ("DELETE", "/api/users/{email}"),
    ("POST", "/api/events/track"), ("POST", "/api/events/trackBulk"),
    ("GET", "/api/events/{email}"), ("GET", "/api/events/byUserId/{userId}"),
    ("POST", "/api/commerce/trackPurchase"), ("POST", "/api/commerce/updateCart"),
    ("GET", "/api/lists"), ("POST", "/api/lists"), ("DELETE", "/api/lists/{listId}"),
    ("GET", "/api/lists/getUsers"), ("GET", "/api/lists/{listId}/size"),
    ("POST", "/api/lists/subscribe"), ("POST", "/api/lists/unsubscribe"),
    ("GET", "/api/catalogs"), ("POST", "/api/catalogs/{catalogName}"),
    ("DELETE", "/api/catalogs/{catalogName}"),
    ("GET", "/api/catalogs/{catalogName}/items"), ("POST", "/api/catalogs/{catalogName}/items"),
    ("DELETE", "/api/catalogs/{catalogName}/items"),
    ("GET", "/api/catalogs/{catalogName}/items/{itemId}"),
    ("PUT", "/api/catalogs/{catalogName}/items/{itemId}"),
    ("PATCH", "/api/catalogs/{catalogName}/items/{itemId}"),
    ("DELETE", "/api/catalogs/{catalogName}/items/{itemId}"),
    ("GET", "/api/catalogs/{catalogName}/fieldMappings"),
    ("PUT", "/api/catalogs/{catalogName}/fieldMappings"),
    ("POST", "/api/users/updateSubscriptions"), ("POST", "/api/users/bulkUpdateSubscriptions"),
    ("PUT", "/api/subscriptions/{subscriptionGroup}/{subscriptionGroupId}"),
    ("PATCH", "/api/subscriptions/{subscriptionGroup}/{subscriptionGroupId}/user/{userEmail}"),
    ("DELETE", "/api/subscriptions/{subscriptionGroup}/{subscriptionGroupId}/user/{userEmail}"),
    ("PATCH", "/api/subscriptions/{subscriptionGroup}/{subscriptionGroupId}/byUserId/{userId}"),
    ("DELETE", "/api/subscriptions/{subscriptionGroup}/{subscriptionGroupId}/byUserId/{userId}"),
    ("GET", "/api/channels"), ("GET", "/api/messageTypes"),
}
WRAPPED = {
    ("GET", "/api/catalogs"), ("GET", "/api/catalogs/{catalogName}/items"),
    ("GET", "/api/catalogs/{catalogName}/items/{itemId}"),
    ("GET", "/api/catalogs/{catalogName}/fieldMappings"),
}


def _implemented(ctx: schemathesis.filters.HasAPIOperation) -> bool:
    return (ctx.operation.method.upper(), ctx.operation.path) in IMPLEMENTED


def _load_spec() -> dict:
    spec = json.loads(SPEC.read_text())
    spec["definitions"]["IterableApiResponse"]["properties"]["params"]["x-nullable"] = True
    return spec


schema = schemathesis.openapi.from_dict(_load_spec()).include(_implemented)


# One plain pytest parameter per operation, named by it (schemathesis' own parametrize gives
# every operation the same test id, and pytest-xdist then runs only one of them).
@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("method", "path"), sorted(IMPLEMENTED), ids=[f"{m} {p}" for m, p in sorted(IMPLEMENTED)]
)
@settings(max_examples=5, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_never_5xx_and_matches_the_spec(
    method: str, path: str, data: st.DataObject, emulator_session: EmulatorProcess
) -> None:
    case = data.draw(schema[path][method].as_strategy())
    checks = [not_a_server_error]
    if (method, path) not in WRAPPED:
        checks.append(response_schema_conformance)
    case.call_and_validate(
        base_url=emulator_session.base_url,
        headers={"Api-Key": emulator_session.api_key},
        checks=checks,
        timeout=10,
    )


def test_every_implemented_operation_is_in_the_spec() -> None:
    # A path spelled differently from the spec would be filtered out silently, and the
    # property test above would then check nothing for it.
    spec = _load_spec()
    in_spec = {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method.lower() in {"get", "post", "put", "patch", "delete"}
    }
    assert sorted(IMPLEMENTED - in_spec) == []
    assert WRAPPED <= IMPLEMENTED
