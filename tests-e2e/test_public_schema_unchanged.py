"""The whole suite ran against a database holding the application's tables: `public`'s schema
is as it was before the stack started (the token service migrated its own schema only)."""

import pytest
from app_reads import AppDatabase

from devstack.app_database import public_schema
from devstack.stack import Stack


@pytest.mark.last
def test_public_schema_unchanged(stack: Stack, app_database: AppDatabase) -> None:
    after = public_schema(app_database.pg)
    assert "CREATE TABLE public.transcript_turns" in after  # the dump is the application's
    assert after == app_database.public_schema_before
