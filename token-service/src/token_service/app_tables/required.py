"""The start-up check: every table and column of the application's that the service reads or
writes exists with a type it can use; otherwise one line says what is missing.

`serve` and `migrate` refuse to run on a database that fails it, and `/readyz` answers 503 with
the same line (health.py). The check reads the catalog, so it sees columns whatever privileges
the service's role has on them.
"""

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final

APP_SCHEMA: Final = "public"

# Each kind of column, and the Postgres types (pg_type.typname) the service's SQL works with.
_TEXT: Final = frozenset({"text", "varchar"})
_INTEGER: Final = frozenset({"int4", "int8"})
_BOOLEAN: Final = frozenset({"bool"})
_TIMESTAMP: Final = frozenset({"timestamp", "timestamptz"})
_KIND_NAMES: Final = {
    _TEXT: "text",
    _INTEGER: "integer",
    _BOOLEAN: "boolean",
    _TIMESTAMP: "timestamp",
}

REQUIRED: Final[Mapping[str, Mapping[str, frozenset[str]]]] = MappingProxyType(
    {
        "users": {"id": _TEXT},
        "scenarios": {"id": _TEXT, "title": _TEXT, "prompt": _TEXT, "mode": _TEXT},
        "assignments": {
            "id": _TEXT,
            "scenario_id": _TEXT,
            "counselor_id": _TEXT,
            "status": _TEXT,
            "created_at": _TIMESTAMP,
            "started_at": _TIMESTAMP,
            "require_recording": _BOOLEAN,
        },
        "sessions": {
            "id": _TEXT,
            "assignment_id": _TEXT,
            "user_id": _TEXT,
            "scenario_id": _TEXT,
            "model_type": _TEXT,
            "status": _TEXT,
            "started_at": _TIMESTAMP,
            "current_attempt": _INTEGER,
        },
        "transcript_turns": {
            "id": _TEXT,
            "session_id": _TEXT,
            "role": _TEXT,
            "content": _TEXT,
            "turn_order": _INTEGER,
            "attempt_number": _INTEGER,
        },
    }
)
"""Table -> column -> the types it may have: what the service's statements use."""

COLUMNS_QUERY: Final = """
SELECT c.relname, a.attname, t.typname
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_catalog.pg_type AS t ON t.oid = a.atttypid
WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p') AND c.relname = ANY(%(tables)s)
"""
"""Rows (table, column, type name) of the required tables; its parameters are `query_params()`."""


def query_params() -> dict[str, object]:
    return {"schema": APP_SCHEMA, "tables": list(REQUIRED)}


class AppTablesError(Exception):
    """The database does not hold the application's tables as the service needs them; the
    message is one line naming everything missing."""


def problems(rows: Iterable[tuple[str, str, str]]) -> list[str]:
    """What is missing or of another type, given COLUMNS_QUERY's rows; empty when all is well."""
    found: dict[str, dict[str, str]] = {}
    for table, column, type_name in rows:
        found.setdefault(table, {})[column] = type_name
    missing: list[str] = []
    for table, columns in REQUIRED.items():
        if table not in found:
            missing.append(f"table {APP_SCHEMA}.{table}")
            continue
        for column, types in columns.items():
            name = f"{APP_SCHEMA}.{table}.{column}"
            actual = found[table].get(column)
            if actual is None:
                missing.append(f"column {name}")
            elif actual not in types:
                missing.append(f"column {name} of type {_KIND_NAMES[types]} (it is {actual})")
    return missing


def describe(missing: list[str]) -> str:
    """The one line an operator reads."""
    return (
        "the database lacks what voice training needs of the Next.js application's tables: "
        + "; ".join(missing)
    )
