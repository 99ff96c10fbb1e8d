"""SQL text (Snowflake dialect): quoting, literals, JSON text and paths, column-type tests.

Every identifier that reaches the planner was validated by the config models against a
strict pattern, and is quoted here as well. The ground floor of the planner: it imports
nothing of ours.
"""

DATE_FORMAT = "YYYY-MM-DD HH24:MI:SS"


def q(identifier: str) -> str:
    """Quote a model column named in the config (validated: no quotes can occur in it) as
    Snowflake resolves the name unquoted: upper case. Quoted, a reserved word is a column;
    upper-cased, ``column: first_name`` still finds FIRST_NAME on Snowflake, where a quoted
    identifier is case-sensitive (DuckDB, and fakesnow, match either case)."""
    if '"' in identifier:
        raise ValueError(f"refusing identifier with a quote: {identifier!r}")
    return f'"{identifier.upper()}"'


def literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def is_temporal(column_type: str) -> bool:
    upper = column_type.upper()
    return upper.startswith(("TIMESTAMP", "DATE", "DATETIME"))


def is_json(column_type: str) -> bool:
    upper = column_type.upper()
    return upper.startswith(("JSON", "VARIANT", "OBJECT", "ARRAY"))


def as_text(column: str) -> str:
    return f"CAST({column} AS VARCHAR)"


def json_text(value: str) -> str:
    """A value as the JSON text sent for it; NULL for NULL (and for JSON null)."""
    return f"NULLIF(TO_JSON({value}), 'null')"


def any_of(predicates: list[str]) -> str:
    return "(" + " OR ".join(predicates) + ")" if predicates else "FALSE"


def json_path(*keys: str) -> str:
    """A GET_PATH path of literal keys (quoted, so a field name with a dot is one key)."""
    return literal(".".join(f'"{key}"' for key in keys))
