"""Response bodies recorded from the real Iterable API, as quoted in the project's research
notes (shared/iterable-api-research.md). The section and the original source of each is
noted; emails in recordings are kept as they were captured.
"""

from typing import Any

_EMPTY_USER_FAILURES: dict[str, list[str]] = {
    "invalidEmails": [],
    "invalidUserIds": [],
    "notFoundEmails": [],
    "notFoundUserIds": [],
    "invalidDataEmails": [],
    "invalidDataUserIds": [],
    "conflictEmails": [],
    "conflictUserIds": [],
    "forgottenEmails": [],
    "forgottenUserIds": [],
}

# §19, rudder-transformer iterable dataDelivery fixtures: POST /api/users/bulkUpdate.
BULK_UPDATE_OK: dict[str, Any] = {
    "successCount": 2,
    "failCount": 0,
    "invalidEmails": [],
    "invalidUserIds": [],
    "filteredOutFields": [],
    "createdFields": [],
    "noOpEmails": [],
    "noOpUserIds": [],
    "failedUpdates": _EMPTY_USER_FAILURES,
}

# §19: the same endpoint with one invalid email in the batch — still HTTP 200.
BULK_UPDATE_PARTIAL: dict[str, Any] = {
    **BULK_UPDATE_OK,
    "successCount": 1,
    "failCount": 1,
    "invalidEmails": ["shrouti"],
    "failedUpdates": {**_EMPTY_USER_FAILURES, "invalidEmails": ["shrouti"]},
}

# §19: POST /api/events/trackBulk, one event with an invalid email.
TRACK_BULK_PARTIAL: dict[str, Any] = {
    "successCount": 1,
    "failCount": 1,
    "invalidEmails": ["sayan"],
    "invalidUserIds": [],
    "disallowedEventNames": [],
    "filteredOutFields": [],
    "createdFields": [],
    "failedUpdates": {
        "invalidEmails": ["sayan"],
        "invalidUserIds": [],
        "notFoundEmails": [],
        "notFoundUserIds": [],
        "forgottenEmails": [],
        "forgottenUserIds": [],
    },
}

# §19: POST /api/events/track.
TRACK_OK = {"msg": "Event with id: 1234 tracked.", "code": "Success", "params": {"id": "1234"}}

# §18, grouparoo nock recording: GET /api/users/{email} for an existing user.
GET_USER: dict[str, Any] = {
    "user": {
        "email": "caio@mailinator.com",
        "userId": "testuser123",
        "dataFields": {
            "name": "Caio",
            "email": "caio@mailinator.com",
            "signupDate": "2021-06-30 20:04:57 +00:00",
            "profileUpdatedAt": "2021-06-30 20:04:51 +00:00",
            "signupSource": "API",
            "emailListIds": [1068682, 1068683],
            "userId": "testuser123",
        },
    }
}

# §17, grouparoo nock recording (excerpt): GET /api/users/getFields.
GET_FIELDS = {
    "fields": {
        "name": "string",
        "phoneNumberDetails.updatedAt": "date",
        "Lifetime Value": "double",
        "defaultAddress.number": "long",
        "devices.endpointEnabled": "boolean",
        "emailListIds": "long",
        "signupDate": "date",
        "foo": "object",
    }
}

# §18: GET /api/lists.
GET_LISTS = {
    "lists": [
        {"id": 1056557, "name": "5 people", "createdAt": 1624575876355, "listType": "Standard"},
        {"id": 982885, "name": "Engaged", "createdAt": 1619000000000, "listType": "Dynamic"},
    ]
}

# §18 (2021 shape: no failedUpdates) and §21: POST /api/lists/subscribe.
SUBSCRIBE_OK = {"successCount": 1, "failCount": 0, "invalidEmails": [], "invalidUserIds": []}
SUBSCRIBE_INVALID = {"successCount": 0, "failCount": 1, "invalidEmails": ["user@"]}

# §18: POST /api/lists.
CREATE_LIST = {"listId": 1068682}
DELETE_LIST = {
    "msg": "List 1068682 in Project 10216 was successfully deleted.",
    "code": "Success",
    "params": None,
}

# §21, VCR cassettes (2019): catalogs.
CREATE_CATALOG = {
    "msg": "",
    "code": "Success",
    "params": {"id": 1194, "name": "example-catalog", "url": "/api/catalogs/example-catalog"},
}
BULK_UPLOAD_ACCEPTED = {
    "msg": "Request to bulk-upload documents into example-catalog processed successfully",
    "code": "Success",
    "params": None,
}
BULK_DELETE_ACCEPTED = {
    "msg": "Successfully received request to delete 1 items from catalog example-catalog",
    "code": "Success",
    "params": None,
}
GET_CATALOG_ITEM = {
    "msg": "",
    "code": "Success",
    "params": {
        "catalogName": "example-catalog",
        "itemId": "1",
        "size": 35,
        "lastModified": 1560965412000,
        "value": {"orange": "julius", "lemon": "wedge"},
    },
}

# §21 / §19: error bodies.
BAD_API_KEY = {
    "msg": "Invalid API key",
    "code": "BadApiKey",
    "params": {"ip": "152.58.182.124", "endpoint": "/api/events/trackBulk"},
}
# §19: a 401 whose body claims success — the status must win.
BAD_KEY_CLAIMING_SUCCESS = {"msg": "Invalid API key", "code": "Success"}
BAD_JSON_BODY = {
    "msg": "[/api/events/trackBulk] Invalid JSON body",
    "code": "BadJsonBody",
    "params": {"obj.events[1].createdAt": "Number value expected"},
}
CATALOG_NOT_FOUND = {
    "msg": "You are trying to access catalog example-catalog, but it does not yet exist. "
    "Please see our API docs to explicitly create the catalog.",
    "code": "NotFound",
    "params": None,
}
GENERIC_500 = {
    "msg": "An error occured. Please try again later. If problem persists, please contact your CSM",
    "code": "GenericError",
    "params": None,
}
# The seed's failed batch: a string that is not a date sent to a date field.
FIELD_TYPES_MISMATCHED = {
    "msg": "Project 13691: The request does not have the same data types as the data "
    "previously submitted.",
    "code": "RequestFieldsTypesMismatched",
    "params": {
        "validationErrors": {
            "date_field": {
                "incomingTypes": ["string", "keyword"],
                "expectedType": "date",
                "category": "user",
                "offendingValue": ["2023-04-19 12:15:30", "0000-00-00 00:00:00"],
                "_type": "UnexpectedType",
            }
        }
    },
}
