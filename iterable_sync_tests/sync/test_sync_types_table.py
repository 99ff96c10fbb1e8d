"""README's sync-types table lists every syncs.yaml key of every type, in that type's row
(the shared keys in the row "every type"), beside what Iterable's endpoint offers."""

import re
from pathlib import Path

from iterable_sync.sync.config import TYPES, SyncConfig

README = Path(__file__).resolve().parents[2] / "README.md"
TABLE = re.compile(r"<!-- sync-types-table:start -->\n(.*?)<!-- sync-types-table:end -->", re.S)


def rows() -> dict[str, str]:
    """The table's rows by their first cell (a type's name, without backticks)."""
    found = TABLE.search(README.read_text())
    assert found, "README.md lacks the sync-types-table markers"
    table = {}
    for line in found.group(1).splitlines()[2:]:
        first = line.split(" | ")[0].lstrip("| ").strip("`")
        table[first] = line
    return table


def keys_in(row: str) -> set[str]:
    return set(re.findall(r"`([a-z_]+)`", row))


def test_every_type_has_a_row_with_five_cells():
    table = rows()
    assert set(table) == {"every type", *(t.value for t in TYPES)}
    for line in table.values():
        # Five cells; a `\|` inside a cell is not a separator.
        assert len(re.split(r"(?<!\\)\|", line.strip().strip("|"))) == 5, line[:60]


def test_each_key_is_in_its_types_row():
    table = rows()
    shared = set(SyncConfig.model_fields)
    assert shared - keys_in(table["every type"]) == set()
    for kind, model in TYPES.items():
        own = set(model.model_fields) - shared
        assert own - keys_in(table[kind.value]) == set(), kind.value
