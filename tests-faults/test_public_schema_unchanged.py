"""After every fault (Postgres restarted and down, token services stopped and redeployed,
workers killed), `public`'s schema is still the one the application's tables had before the
token service ran: the service migrated, retried and recovered in its own schema only."""

import pytest

from devstack.app_database import public_schema, seeded_public_schema
from devstack.stack import Stack


@pytest.mark.last
def test_public_schema_unchanged(stack: Stack) -> None:
    after = public_schema(stack.postgres)
    assert "CREATE TABLE public.transcript_turns" in after
    assert after == seeded_public_schema(stack.postgres)
