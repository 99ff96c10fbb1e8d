"""One record of a model row: its key, identifiers, values, hash and fast hash."""

import hashlib
import json
from dataclasses import dataclass

from iterable_sync.sync.config import SyncConfig
from iterable_sync.sync.plan import shapes
from iterable_sync.sync.plan.text import as_text, literal, q
from iterable_sync.sync.plan.values import json_kind, value_sql

#: The record hash starts with a tag of the sync's target (``target_tag``) and this colon;
#: a state hash without it was written before field-by-field comparison (an older version).
TAG_LENGTH = 9


def target_tag(sync: SyncConfig) -> str:
    """8 hex characters naming the sync's type and the object its rows go to (a catalog, a
    list). A new target has none of the rows, so a record whose state carries another tag is
    sent again whatever its values."""
    shape = json.dumps(sync.target_shape(), sort_keys=True)
    return hashlib.md5(shape.encode()).hexdigest()[:8]


def field_tags(kinds: dict[str, str]) -> dict[str, str]:
    """A short fixed-width tag per field (its Iterable name and JSON kind digested), which
    the record hash puts before the field's value. Spelling out each name cost as many bytes
    as the values themselves, and MD5 time goes with the bytes (at 10M rows of the shipped
    sync: 616 bytes a row, 330 with tags). Widened until no two fields of the sync share one.
    """
    for width in (4, 8, 32):
        tags = {f: hashlib.md5(f"{f}:{k}".encode()).hexdigest()[:width] for f, k in kinds.items()}
        if len(set(tags.values())) == len(tags):
            return tags
    raise AssertionError("two fields share one MD5")  # pragma: no cover


@dataclass(frozen=True)
class RecordSQL:
    """The expressions that make one record of a model row (Snowflake dialect)."""

    pk: str
    email: str
    user_id: str
    #: field → (value, invalid-value predicate), fields in sorted order.
    values: dict[str, tuple[str, str]]
    #: Payload key beside ``dataFields`` → its value (event name, id, items...), sorted.
    typed: dict[str, str]
    hash: str
    #: A 63-bit hash of the columns the record is made of (``fast_hash_sql``).
    fast: str


def record_sql(
    sync: SyncConfig, column_types: dict[str, str], table: str | None = None
) -> RecordSQL:
    """Primary key, identifiers, values and hash of a row of the model snapshot.

    The hash is the MD5 of what would be sent, as text: the identifiers and the type's own
    keys, then each mapped field *that has a value* by a tag of its Iterable name and JSON
    kind (``field_tags``; the text of 12 and "12" is one). So renaming a model column, or
    adding a field that is null, leaves the hash alone, and a field's new cast changes it.
    Only rows whose fast hash moved (``fast_hash_sql``) get it computed; only those whose
    hash moved are compared field by field; only rows that are sent get a payload (the diff).
    """
    used: set[str] = set()

    def column(name: str) -> str:
        used.add(name.upper())
        return f"{table}.{q(name)}" if table else q(name)

    def identifier(name: str | None) -> str:
        if not name:
            return "CAST(NULL AS VARCHAR)"
        return f"NULLIF(TRIM({as_text(column(name))}), '')"

    mappings = sorted(sync.mapping, key=lambda m: m.field)
    values = {m.field: value_sql(m, column_types[m.column.upper()], table) for m in mappings}
    email, user_id = identifier(sync.identifiers.email), identifier(sync.identifiers.userId)
    # Event names and ids, items and totals, new emails: what each type sends beside fields.
    typed = shapes.payload_parts(sync, column_types, column)
    texts = [email, user_id, *(text for _, text in typed.values())]
    # CONCAT of arguments that cannot be NULL (the warehouse module relies on this shape to
    # translate it to DuckDB's CONCAT without a NULL guard).
    parts = [f"CHR(31), COALESCE({text}, CHR(30))" for text in texts]
    kinds = {m.field: json_kind(m, column_types[m.column.upper()]) for m in mappings}
    tags = field_tags(kinds)
    for mapping in mappings:
        text = as_text(values[mapping.field][0])
        tag = literal(f"\x1f{tags[mapping.field]}")
        parts.append(
            f"COALESCE(CASE WHEN {text} IS NOT NULL THEN {tag} END, ''), COALESCE({text}, '')"
        )
    digest = f"MD5(CONCAT({', '.join(parts)}))"
    record_hash = f"CONCAT({literal(target_tag(sync) + ':')}, {digest})"
    used.update(m.column.upper() for m in mappings)
    # The salt names the hash's recipe unqualified, so records and the diff (which reads the
    # snapshot as ``m``) agree on it.
    recipe = record_hash if table is None else record_sql(sync, column_types).hash
    return RecordSQL(
        pk=as_text(column(sync.primary_key)),
        email=email,
        user_id=user_id,
        values=values,
        typed={key: value for key, (value, _) in typed.items()},
        hash=record_hash,
        fast=fast_hash_sql({name: column(name) for name in sorted(used)}, recipe, column_types),
    )


#: Bumped when what goes into the fast hash changes: every stored one then misses once.
FAST_HASH_VERSION = 1


def fast_hash_sql(columns: dict[str, str], recipe: str, column_types: dict[str, str]) -> str:
    """The warehouse's own hash (``HASH``) of the raw columns a record is made of, salted
    with the record hash's recipe and the columns' types, as a 63-bit integer.

    It is about a tenth of the MD5's cost (no value is turned into text): every row of the
    model gets it, only rows whose fast hash moved get the MD5. It is not stable across
    warehouse versions (DuckDB's ``hash`` is not), and need not be: a fast hash that no
    longer matches costs one MD5, which is the stable hash state is judged by; and a mapping,
    cast or column-type change changes the salt, so raw values that stay alike cannot hide a
    payload that changed.
    """
    types = [(name, column_types.get(name, "")) for name in sorted(columns)]
    shape = json.dumps([FAST_HASH_VERSION, recipe, types])
    salt = int(hashlib.md5(shape.encode()).hexdigest()[:15], 16)
    hashed = ", ".join(columns[name] for name in sorted(columns))
    return f"CAST(BITAND(BITXOR(HASH({hashed}), {salt}), {2**63 - 1}) AS BIGINT)"
