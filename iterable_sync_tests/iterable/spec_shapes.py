"""Request shapes from Iterable's official API spec, to check what the client sends.

Copied from the `definitions` of Iterable's Swagger 2.0 spec ("Iterable API" v1.8,
`api-docs.json` in the Iterable/api-client repository; the project keeps a copy at
`shared/iterable-openapi.json`). Each property is `(json type, referenced definition)`.
"""

from typing import Any

SPEC: dict[str, dict[str, Any]] = {
    "ApiUserUpdateRequest": {
        "properties": {
            "createNewFields": ("boolean", None),
            "dataFields": ("object", None),
            "email": ("string", None),
            "mergeNestedObjects": ("boolean", None),
            "preferUserId": ("boolean", None),
            "userId": ("string", None),
        },
        "required": [],
    },
    "BulkTrackRequest": {
        "properties": {"events": ("array", "TrackRequest")},
        "required": ["events"],
    },
    "BulkUpdateUsersRequest": {
        "properties": {"createNewFields": ("boolean", None), "users": ("array", "OptionalApiUser")},
        "required": ["users"],
    },
    "CatalogBulkDeleteRequest": {
        "properties": {"itemIds": ("array", None)},
        "required": ["itemIds"],
    },
    "CatalogBulkUploadRequest": {
        "properties": {
            "documents": ("object", None),
            "replaceUploadedFieldsOnly": ("boolean", None),
        },
        "required": ["documents", "replaceUploadedFieldsOnly"],
    },
    "CommerceItem": {
        "properties": {
            "categories": ("array", None),
            "dataFields": ("object", None),
            "description": ("string", None),
            "id": ("string", None),
            "imageUrl": ("string", None),
            "name": ("string", None),
            "price": ("number", None),
            "quantity": ("integer", None),
            "sku": ("string", None),
            "url": ("string", None),
        },
        "required": ["id", "name", "price", "quantity"],
    },
    "CreateListRequest": {
        "properties": {"description": ("string", None), "name": ("string", None)},
        "required": ["name"],
    },
    "OptionalApiUser": {
        "properties": {
            "dataFields": ("object", None),
            "email": ("string", None),
            "mergeNestedObjects": ("boolean", None),
            "preferUserId": ("boolean", None),
            "userId": ("string", None),
        },
        "required": [],
    },
    "SubscribeRequest": {
        "properties": {
            "listId": ("integer", None),
            "subscribers": ("array", "OptionalApiUser"),
            "updateExistingUsersOnly": ("boolean", None),
        },
        "required": ["listId", "subscribers"],
    },
    "TrackPurchaseRequest": {
        "properties": {
            "campaignId": ("integer", None),
            "createdAt": ("integer", None),
            "dataFields": ("object", None),
            "id": ("string", None),
            "items": ("array", "CommerceItem"),
            "templateId": ("integer", None),
            "total": ("number", None),
            "user": ("object", "ApiUserUpdateRequest"),
        },
        "required": ["items", "total", "user"],
    },
    "TrackRequest": {
        "properties": {
            "campaignId": ("integer", None),
            "createNewFields": ("boolean", None),
            "createdAt": ("integer", None),
            "dataFields": ("object", None),
            "email": ("string", None),
            "eventName": ("string", None),
            "id": ("string", None),
            "templateId": ("integer", None),
            "userId": ("string", None),
        },
        "required": ["eventName"],
    },
    "UnsubscribeRequest": {
        "properties": {
            "campaignId": ("integer", None),
            "channelUnsubscribe": ("boolean", None),
            "listId": ("integer", None),
            "subscribers": ("array", "Unsubscriber"),
        },
        "required": ["listId", "subscribers"],
    },
    "Unsubscriber": {
        "properties": {"email": ("string", None), "userId": ("string", None)},
        "required": [],
    },
    "UpdateCartRequest": {
        "properties": {
            "items": ("array", "CommerceItem"),
            "user": ("object", "ApiUserUpdateRequest"),
        },
        "required": ["items", "user"],
    },
    "UpdateEmailRequest": {
        "properties": {
            "currentEmail": ("string", None),
            "currentUserId": ("string", None),
            "newEmail": ("string", None),
        },
        "required": ["newEmail"],
    },
    "UserRequest": {
        "properties": {"email": ("string", None), "userId": ("string", None)},
        "required": [],
    },
    "UpdateSubscriptionsRequest": {
        "properties": {
            "campaignId": ("integer", None),
            "email": ("string", None),
            "emailListIds": ("array", None),
            "subscribedMessageTypeIds": ("array", None),
            "templateId": ("integer", None),
            "unsubscribedChannelIds": ("array", None),
            "unsubscribedMessageTypeIds": ("array", None),
            "userId": ("string", None),
            "validateChannelAlignment": ("boolean", None),
        },
        "required": [],
    },
    "BulkUpdateSubscriptionsRequest": {
        "properties": {"updateSubscriptionsRequests": ("array", "UpdateSubscriptionsRequest")},
        "required": ["updateSubscriptionsRequests"],
    },
    "BulkSubscriptionActionRequest": {
        "properties": {"users": ("array", None), "usersByUserId": ("array", None)},
        "required": [],
    },
    "CatalogMappingsUpdateRequest": {
        "properties": {"mappingsUpdates": ("array", "CatalogFieldDefinitionSerializedModel")},
        "required": ["mappingsUpdates"],
    },
    "CatalogFieldDefinitionSerializedModel": {
        "properties": {
            "children": ("array", "CatalogFieldDefinitionSerializedModel"),
            "fieldName": ("string", None),
            "fieldType": ("string", None),
        },
        "required": ["fieldName", "fieldType"],
    },
}

_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
    "object": (dict,),
    "array": (list,),
}


def spec_problems(body: Any, definition: str, path: str = "body") -> list[str]:
    """Every way `body` departs from the spec definition (empty list: it conforms)."""
    spec = SPEC[definition]
    if not isinstance(body, dict):
        return [f"{path}: expected an object for {definition}"]
    problems = [f"{path}.{k}: required by {definition}" for k in spec["required"] if k not in body]
    for key, value in body.items():
        if key not in spec["properties"]:
            problems.append(f"{path}.{key}: not a property of {definition}")
            continue
        json_type, ref = spec["properties"][key]
        ok = isinstance(value, _PY_TYPES[json_type]) and not (
            json_type in ("integer", "number") and isinstance(value, bool)
        )
        if not ok:
            problems.append(f"{path}.{key}: {type(value).__name__} is not {json_type}")
        elif ref and json_type == "array":
            for i, item in enumerate(value):
                problems += spec_problems(item, ref, f"{path}.{key}[{i}]")
        elif ref:
            problems += spec_problems(value, ref, f"{path}.{key}")
    return problems
