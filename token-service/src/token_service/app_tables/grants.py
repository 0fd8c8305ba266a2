"""The privileges the token service needs, as SQL an administrator runs for its role.

`token-service grants ROLE` prints them; docs/app-database.md shows them (a test keeps the two
alike) and the end-to-end suite runs the whole stack as a role given exactly these. What the
service reads and writes in the application's tables and nothing else: no DELETE, no TRUNCATE,
no REFERENCES (the voice schema refers to the application's rows by id, without foreign keys),
no TRIGGER, no CREATE in `public`. Its own schema it owns, so `token-service migrate` can
create and alter the tables in it.
"""

from psycopg import sql

from .required import APP_SCHEMA

_GRANTS = """\
GRANT USAGE ON SCHEMA {app} TO {role};
GRANT SELECT ON {app}.users, {app}.accounts, {app}.scenarios, {app}.assignments TO {role};
GRANT UPDATE (status, started_at) ON {app}.assignments TO {role};
GRANT SELECT, INSERT, UPDATE ON {app}.sessions, {app}.transcript_turns TO {role};
CREATE SCHEMA {voice} AUTHORIZATION {role};
"""


def grant_statements(role: str, voice_schema: str) -> sql.Composed:
    """The statements for `role`, whose own schema is `voice_schema`; run them as the owner of
    the application's tables (CREATE SCHEMA needs CREATE on the database too)."""
    return sql.SQL(_GRANTS).format(
        app=sql.Identifier(APP_SCHEMA),
        role=sql.Identifier(role),
        voice=sql.Identifier(voice_schema),
    )


def grants_text(role: str, voice_schema: str) -> str:
    """The statements as text (identifiers quoted as Postgres needs them)."""
    return grant_statements(role, voice_schema).as_string(None)
