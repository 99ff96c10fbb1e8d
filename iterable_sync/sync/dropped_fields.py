"""Fields Iterable dropped: the rows that lost them, and what state keeps of those rows.

A project may be set to drop the fields it does not know (Iterable's spec, ``createNewFields``:
"Defaults to project's setting to allow or drop unrecognized fields"); the bulk answers then
name the dropped fields in ``filteredOutFields``. Nothing dropped counts as delivered: each
row that carried such a field gets a row error naming it, and its state records only what
Iterable holds.
"""

import json
from dataclasses import replace
from typing import Any

from iterable_sync.iterable import BulkTrackResult, BulkUpdateResult, SubscribeResult
from iterable_sync.sync.delivery import FieldsOf, data_fields, text
from iterable_sync.sync.delivery import _walk as walk
from iterable_sync.sync.outcomes import BatchOutcome, DiffRow, RowError

# ``walk``: the sync's one reading of a field path Iterable names (a key, or a dotted path
# into objects, also through arrays of objects), shared with the type-mismatch isolation.

#: Appended to the hash state keeps for a row Iterable took without some fields: no record
#: hashes to it, so the next diff compares the row with the payload state kept (which lacks
#: those fields) and finds them "field added" — the row goes again, and once the project
#: accepts the fields they are delivered. The tag at the hash's start is kept.
HELD_HASH_SUFFIX = "+dropped"
#: The code of the row error for a field Iterable dropped: the answer's key that named it.
FILTERED_CODE = "filteredOutFields"


def settle(
    outcome: BatchOutcome,
    result: BulkUpdateResult | BulkTrackResult | SubscribeResult,
    operation: str,
    fields_of: FieldsOf = data_fields,
    under: str | None = "dataFields",
) -> BatchOutcome:
    """Move the accepted rows holding a field Iterable dropped to ``outcome.partial``.

    Iterable's spec (UserBulkUpdateListResponse, BulkTrackResponse): ``filteredOutFields``
    are "Fields that were dropped because createNewFields was false or createNewFields was
    not set and the project is configured to drop unrecognized ... fields";
    ``createdFields`` "Fields that were created because ...". Both name fields for the whole
    request, not per record: a row is taken to have lost a field when it sent that field (a
    name, or a dotted path into an object) with a value — an assumption, the only one the
    answer allows. A null sent for a field Iterable does not know deletes nothing, so it is
    no loss. ``under``: where the row's fields sit in its payload (``None``: at its top, as
    users send them).
    """
    outcome.created_fields |= set(result.created_fields)
    dropped = list(dict.fromkeys(result.filtered_out_fields))
    if not dropped:
        return outcome
    outcome.filtered_fields |= set(dropped)
    kept: list[DiffRow] = []
    for row in outcome.accepted:
        fields = fields_of(row)
        errors = []
        for path in dropped:
            found, value = walk(fields, path)
            if found and value is not None:
                errors.append(
                    RowError(
                        row.pk,
                        operation,
                        FILTERED_CODE,
                        f"Iterable dropped field {path!r}: the project does not create fields "
                        "it does not know (createNewFields); it is sent again next run",
                        field=path,
                        value=text(value),
                    )
                )
        if errors:
            outcome.partial.append((held(row, [e.field or "" for e in errors], under), errors))
        else:
            kept.append(row)
    outcome.accepted = kept
    return outcome


def held(row: DiffRow, paths: list[str], under: str | None) -> DiffRow:
    """The row as state keeps it once Iterable dropped these fields: what state records of
    it (``state_payload``) without them, its hash marked (``HELD_HASH_SUFFIX``) and its fast
    hash unknown, so the next diff compares it field by field.

    Rather than keeping the row out of state: the fields Iterable did take are recorded, so
    only the dropped ones make the row differ (a later change of another field is told
    apart, ``nulls: clear`` clears from what Iterable holds, an update-mode row needs no
    lookup again).
    """
    state = json.loads(row.state_payload_text)
    fields = state.get(under) if under is not None and isinstance(state, dict) else state
    for path in paths:
        _drop(fields, path)
    return replace(
        row,
        state_payload=json.dumps(state, ensure_ascii=False, separators=(",", ":")),
        hash=f"{row.hash}{HELD_HASH_SUFFIX}",
        fast=None,
    )


def _drop(value: Any, path: str) -> None:
    """Remove the field ``path`` names, as ``walk`` finds it (a key, or a dotted path into
    objects, through arrays of objects)."""
    if isinstance(value, list):
        for item in value:
            _drop(item, path)
        return
    if not isinstance(value, dict):
        return
    if path in value:
        del value[path]
        return
    for key, inner in value.items():
        if isinstance(key, str) and path.startswith(f"{key}."):
            _drop(inner, path[len(key) + 1 :])
